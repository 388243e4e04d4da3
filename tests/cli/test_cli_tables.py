"""``singletable tables create|describe|delete|export`` (singletable.cli._tables)."""

from __future__ import annotations

import argparse
import json
import re
import textwrap
from pathlib import Path
from typing import Any

import boto3
import pytest

from singletable.backends.engine import LocalBackend
from singletable.cli import UsageError, _tables
from singletable.server import Server

MODEL = """
from singletable.table import GlobalIndex, LocalIndex, Table

app = Table(
    "app-table",
    indexes=[
        GlobalIndex("GSI1", pk="GSI1PK", sk="GSI1SK"),
        GlobalIndex("ByScore", pk="kind", sk="score", sk_type="N", projection=["title"]),
        LocalIndex("ByCreated", sk="created", projection="KEYS_ONLY"),
    ],
    ttl_attribute="expires",
    stream="NEW_AND_OLD_IMAGES",
)
audit = Table("audit", sk=None)
same_as_app = app
"""


@pytest.fixture
def model(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """A model module (two tables) importable under a name unique to the test."""
    name = f"cli_model_{abs(hash(str(tmp_path)))}"
    (tmp_path / f"{name}.py").write_text(textwrap.dedent(MODEL))
    monkeypatch.syspath_prepend(str(tmp_path))
    return name


def _run(*argv: str) -> int:
    parser = argparse.ArgumentParser(prog="singletable")
    commands = parser.add_subparsers(dest="command", required=True)
    _tables.register(commands)
    args = parser.parse_args(argv)
    assert args.command == "tables"
    return _tables.run(args)


@pytest.fixture
def server(dynamodb_server: Server) -> Server:
    """The pytest plugin's running endpoint."""
    return dynamodb_server


def _endpoint(server: Server) -> list[str]:
    return ["--endpoint-url", server.url, "--region", "us-east-1"]


# ----------------------------------------------------------------- create/describe/delete


def test_create_describe_delete_on_an_endpoint(
    model: str, server: Server, capsys: pytest.CaptureFixture[str]
) -> None:
    assert _run("tables", "create", model, *_endpoint(server)) == 0
    assert capsys.readouterr().out.splitlines() == ["app-table: created", "audit: created"]

    client = boto3.client("dynamodb", endpoint_url=server.url, region_name="us-east-1")
    table = client.describe_table(TableName="app-table")["Table"]
    assert {index["IndexName"] for index in table["GlobalSecondaryIndexes"]} == {"GSI1", "ByScore"}
    assert [index["IndexName"] for index in table["LocalSecondaryIndexes"]] == ["ByCreated"]
    assert table["StreamSpecification"] == {
        "StreamEnabled": True,
        "StreamViewType": "NEW_AND_OLD_IMAGES",
    }
    ttl = client.describe_time_to_live(TableName="app-table")["TimeToLiveDescription"]
    assert ttl == {"TimeToLiveStatus": "ENABLED", "AttributeName": "expires"}
    audit = client.describe_table(TableName="audit")["Table"]
    assert audit["KeySchema"] == [{"AttributeName": "PK", "KeyType": "HASH"}]

    assert _run("tables", "describe", "app-table", *_endpoint(server)) == 0
    described = json.loads(capsys.readouterr().out)
    assert described["Table"]["TableName"] == "app-table"
    assert len(described["Table"]["GlobalSecondaryIndexes"]) == 2

    assert _run("tables", "delete", "app-table", "audit", *_endpoint(server)) == 0
    assert capsys.readouterr().out.splitlines() == ["app-table: deleted", "audit: deleted"]
    assert client.list_tables()["TableNames"] == []


def test_create_twice_needs_exist_ok(
    model: str, server: Server, capsys: pytest.CaptureFixture[str]
) -> None:
    assert _run("tables", "create", f"{model}:audit", *_endpoint(server)) == 0
    with pytest.raises(UsageError, match="audit"):
        _run("tables", "create", f"{model}:audit", *_endpoint(server))
    capsys.readouterr()
    assert _run("tables", "create", f"{model}:app", "--exist-ok", *_endpoint(server)) == 0
    assert _run("tables", "create", f"{model}:app", "--exist-ok", *_endpoint(server)) == 0
    assert capsys.readouterr().out.splitlines() == [
        "app-table: created",
        "app-table: already exists",
    ]


def test_create_describe_delete_on_a_data_file(
    model: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = str(tmp_path / "tables.db")
    assert _run("tables", "create", f"{model}:app-table", "--data", data) == 0
    capsys.readouterr()

    # The table is durable: a new engine over the file sees it, TTL included.
    with LocalBackend(path=data) as backend:
        names = backend.call("ListTables", {})["TableNames"]
        ttl = backend.call("DescribeTimeToLive", {"TableName": "app-table"})
    assert names == ["app-table"]
    assert ttl["TimeToLiveDescription"]["AttributeName"] == "expires"

    assert _run("tables", "describe", "app-table", "--data", data) == 0
    described = json.loads(capsys.readouterr().out)
    assert described["Table"]["KeySchema"] == [
        {"AttributeName": "PK", "KeyType": "HASH"},
        {"AttributeName": "SK", "KeyType": "RANGE"},
    ]
    assert _run("tables", "delete", "app-table", "--data", data) == 0
    with LocalBackend(path=data) as backend:
        assert backend.call("ListTables", {})["TableNames"] == []


def test_describe_a_missing_table_is_a_one_line_error(server: Server) -> None:
    with pytest.raises(UsageError, match="nope") as raised:
        _run("tables", "describe", "nope", *_endpoint(server))
    assert "\n" not in str(raised.value)


def test_data_with_endpoint_is_refused(model: str, server: Server, tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="--data"):
        _run("tables", "create", model, "--data", str(tmp_path / "x.db"), *_endpoint(server))


@pytest.mark.parametrize("action", ["describe", "delete"])
def test_describe_or_delete_on_a_missing_data_file_creates_none(
    action: str, tmp_path: Path
) -> None:
    missing = tmp_path / "typo.db"
    with pytest.raises(UsageError, match=f"^no data file at {re.escape(str(missing))}$"):
        _run("tables", action, "app-table", "--data", str(missing))
    assert list(tmp_path.iterdir()) == []


# ----------------------------------------------------------------------------- export


def _export(model: str, fmt: str, tmp_path: Path) -> str:
    out = tmp_path / f"out.{fmt}"
    assert _run("tables", "export", model, "--format", fmt, "-o", str(out)) == 0
    return out.read_text()


def test_export_cloudformation(model: str, tmp_path: Path) -> None:
    template = json.loads(_export(model, "cloudformation", tmp_path))
    resources = template["Resources"]
    assert set(resources) == {"AppTableTable", "AuditTable"}  # `same_as_app` is not repeated
    app = resources["AppTableTable"]
    assert app["Type"] == "AWS::DynamoDB::Table"
    props = app["Properties"]
    assert props["TableName"] == "app-table"
    assert props["BillingMode"] == "PAY_PER_REQUEST"
    assert props["KeySchema"] == [
        {"AttributeName": "PK", "KeyType": "HASH"},
        {"AttributeName": "SK", "KeyType": "RANGE"},
    ]
    defined = {d["AttributeName"]: d["AttributeType"] for d in props["AttributeDefinitions"]}
    assert defined == {
        "PK": "S",
        "SK": "S",
        "GSI1PK": "S",
        "GSI1SK": "S",
        "kind": "S",
        "score": "N",
        "created": "S",
    }
    by_score = {i["IndexName"]: i for i in props["GlobalSecondaryIndexes"]}["ByScore"]
    assert by_score["KeySchema"] == [
        {"AttributeName": "kind", "KeyType": "HASH"},
        {"AttributeName": "score", "KeyType": "RANGE"},
    ]
    assert by_score["Projection"] == {"ProjectionType": "INCLUDE", "NonKeyAttributes": ["title"]}
    assert props["LocalSecondaryIndexes"] == [
        {
            "IndexName": "ByCreated",
            "KeySchema": [
                {"AttributeName": "PK", "KeyType": "HASH"},
                {"AttributeName": "created", "KeyType": "RANGE"},
            ],
            "Projection": {"ProjectionType": "KEYS_ONLY"},
        }
    ]
    assert props["TimeToLiveSpecification"] == {"AttributeName": "expires", "Enabled": True}
    assert props["StreamSpecification"] == {"StreamViewType": "NEW_AND_OLD_IMAGES"}
    audit = resources["AuditTable"]["Properties"]
    assert "GlobalSecondaryIndexes" not in audit
    assert "TimeToLiveSpecification" not in audit
    assert "StreamSpecification" not in audit


def _block(text: str, header: str) -> str:
    """The body of the first ``header {...}`` block (blocks here nest one level)."""
    start = text.index(header)
    depth, i = 0, text.index("{", start)
    for j in range(i, len(text)):
        depth += {"{": 1, "}": -1}.get(text[j], 0)
        if depth == 0:
            return text[i + 1 : j]
    raise AssertionError(f"unclosed block {header}")


def test_export_terraform(model: str, tmp_path: Path) -> None:
    hcl = _export(model, "terraform", tmp_path)
    assert hcl.count('resource "aws_dynamodb_table"') == 2
    app = _block(hcl, 'resource "aws_dynamodb_table" "app_table"')
    assert re.search(r'^\s*name\s*=\s*"app-table"$', app, re.M)
    assert re.search(r'^\s*billing_mode\s*=\s*"PAY_PER_REQUEST"$', app, re.M)
    assert re.search(r'^\s*hash_key\s*=\s*"PK"$', app, re.M)
    assert re.search(r'^\s*range_key\s*=\s*"SK"$', app, re.M)
    attributes = re.findall(r'attribute \{\s*name = "([^"]+)"\s*type = "([SNB])"\s*\}', app)
    assert dict(attributes) == {
        "PK": "S",
        "SK": "S",
        "GSI1PK": "S",
        "GSI1SK": "S",
        "kind": "S",
        "score": "N",
        "created": "S",
    }
    assert app.count("global_secondary_index {") == 2
    by_score = _block(app, 'global_secondary_index {\n    name            = "ByScore"')
    assert 'hash_key        = "kind"' in by_score
    assert 'range_key       = "score"' in by_score
    assert 'projection_type = "INCLUDE"' in by_score
    assert 'non_key_attributes = ["title"]' in by_score
    lsi = _block(app, "local_secondary_index {")
    assert 'name            = "ByCreated"' in lsi
    assert 'range_key       = "created"' in lsi
    assert "hash_key" not in lsi
    assert 'projection_type = "KEYS_ONLY"' in lsi
    ttl = _block(app, "ttl {")
    assert 'attribute_name = "expires"' in ttl and "enabled        = true" in ttl
    assert re.search(r"^\s*stream_enabled\s*=\s*true$", app, re.M)
    assert re.search(r'^\s*stream_view_type\s*=\s*"NEW_AND_OLD_IMAGES"$', app, re.M)
    audit = _block(hcl, 'resource "aws_dynamodb_table" "audit"')
    assert "range_key" not in audit and "ttl" not in audit and "stream" not in audit


def test_export_cdk_json(model: str, tmp_path: Path) -> None:
    document = json.loads(_export(model, "cdk-json", tmp_path))
    tables = {entry["props"]["tableName"]: entry for entry in document["tables"]}
    assert set(tables) == {"app-table", "audit"}
    app = tables["app-table"]
    assert app["id"] == "App"
    assert app["props"] == {
        "tableName": "app-table",
        "partitionKey": {"name": "PK", "type": "S"},
        "sortKey": {"name": "SK", "type": "S"},
        "billingMode": "PAY_PER_REQUEST",
        "timeToLiveAttribute": "expires",
        "stream": "NEW_AND_OLD_IMAGES",
    }
    assert app["globalSecondaryIndexes"] == [
        {
            "indexName": "GSI1",
            "partitionKey": {"name": "GSI1PK", "type": "S"},
            "sortKey": {"name": "GSI1SK", "type": "S"},
            "projectionType": "ALL",
        },
        {
            "indexName": "ByScore",
            "partitionKey": {"name": "kind", "type": "S"},
            "sortKey": {"name": "score", "type": "N"},
            "projectionType": "INCLUDE",
            "nonKeyAttributes": ["title"],
        },
    ]
    assert app["localSecondaryIndexes"] == [
        {
            "indexName": "ByCreated",
            "sortKey": {"name": "created", "type": "S"},
            "projectionType": "KEYS_ONLY",
        }
    ]
    assert tables["audit"]["props"] == {
        "tableName": "audit",
        "partitionKey": {"name": "PK", "type": "S"},
        "billingMode": "PAY_PER_REQUEST",
    }


def test_export_one_table_to_stdout(model: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert _run("tables", "export", f"{model}:audit", "--format", "cloudformation") == 0
    template: dict[str, Any] = json.loads(capsys.readouterr().out)
    assert list(template["Resources"]) == ["AuditTable"]


# ----------------------------------------------------------------------------- errors


def test_unknown_module(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="no module named 'no_such_model_mod'"):
        _run("tables", "export", "no_such_model_mod", "--format", "terraform")


def test_unknown_table(model: str) -> None:
    with pytest.raises(UsageError, match=r"has no table 'orders' \(tables: app, audit\)"):
        _run("tables", "export", f"{model}:orders", "--format", "terraform")


def test_module_without_tables(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "cli_empty_model.py").write_text("X = 1\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    with pytest.raises(UsageError, match=r"defines no singletable\.Table"):
        _run("tables", "export", "cli_empty_model", "--format", "cdk-json")


def test_module_that_fails_to_import(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "cli_broken_model.py").write_text("import not_a_real_dependency_xyz\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    with pytest.raises(UsageError, match="importing 'cli_broken_model' failed"):
        _run("tables", "export", "cli_broken_model", "--format", "cdk-json")


def test_the_singletable_command_runs_tables_and_data(tmp_path: Path) -> None:
    """The subcommands are reachable from the installed command's entry point."""
    import subprocess
    import sys

    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "singletable.cli",
            "tables",
            "describe",
            "nope",
            "--data",
            str(tmp_path / "x.db"),
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2
    assert result.stderr.startswith("singletable: error: ")
    assert "Traceback" not in result.stderr
    listed = subprocess.run(
        [sys.executable, "-m", "singletable.cli", "data", "--help"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert listed.returncode == 0 and "export" in listed.stdout and "import" in listed.stdout


class _SlowTables:
    """A backend over the engine whose DescribeTable answers as DynamoDB does while a
    table is being created (CREATING, then a global index still CREATING) or deleted
    (DELETING), for the first calls."""

    def __init__(self, states: list[tuple[str, str | None]]) -> None:
        self.inner = LocalBackend()
        self.states = states  # (table status, first GSI's status) per DescribeTable
        self.described = 0

    def call(self, operation: str, request: dict[str, Any]) -> dict[str, Any]:
        response = self.inner.call(operation, request)
        if operation == "DescribeTable" and self.states:
            self.described += 1
            status, index = self.states.pop(0)
            table = {**response["Table"], "TableStatus": status}
            if index is not None:
                first, *rest = table["GlobalSecondaryIndexes"]
                table["GlobalSecondaryIndexes"] = [{**first, "IndexStatus": index}, *rest]
            return {"Table": table}
        return response

    def close(self) -> None:
        self.inner.close()


def _args(model: str, **options: Any) -> argparse.Namespace:
    settings = {"exist_ok": False, "wait": True, "wait_timeout": 600.0, **options}
    return argparse.Namespace(model=model, **settings)


def test_create_waits_for_the_table_and_its_indexes_with_progress(
    model: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(_tables, "_POLL_SECONDS", 0)
    backend = _SlowTables(
        # DescribeTable #1 is the TTL flow's; then the wait's: CREATING twice, an
        # index still CREATING twice, then ACTIVE.
        [("ACTIVE", None), ("CREATING", "CREATING"), ("CREATING", "CREATING"),
         ("ACTIVE", "CREATING"), ("ACTIVE", "CREATING")]
    )  # fmt: skip
    assert _tables._create(_args(f"{model}:app"), backend) == 0
    out, err = capsys.readouterr()
    assert out == "app-table: created\n"
    assert err.splitlines() == [
        "app-table: creating (table 1 of 1)",
        "app-table: CREATING; GSI1 CREATING (0 s)",
        "app-table: ACTIVE; GSI1 CREATING (0 s)",
    ]
    assert backend.states == [] and backend.described == 5


def test_waiting_gives_up_after_the_timeout(
    model: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(_tables, "_POLL_SECONDS", 0)
    backend = _SlowTables([("CREATING", None)] * 1000)
    with pytest.raises(
        UsageError, match=r"^audit: still CREATING after 0 s \(raise --wait-timeout"
    ):
        _tables._create(_args(f"{model}:audit", wait_timeout=0.0), backend)


def test_delete_waits_until_the_table_is_gone(
    model: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(_tables, "_POLL_SECONDS", 0)
    backend = _SlowTables([])
    _tables._create(_args(f"{model}:audit"), backend)
    capsys.readouterr()
    # DeleteTable has happened on the engine; DescribeTable still says DELETING twice.
    backend.states = [("DELETING", None), ("DELETING", None)]
    real_call = backend.inner.call

    def call(operation: str, request: dict[str, Any]) -> dict[str, Any]:
        if operation == "DescribeTable" and backend.states:
            backend.states.pop(0)
            return {"Table": {"TableName": "audit", "TableStatus": "DELETING"}}
        return real_call(operation, request)

    backend.call = call  # type: ignore[method-assign]
    names = argparse.Namespace(names=["audit"], wait=True, wait_timeout=600.0)
    assert _tables._delete(names, backend) == 0
    out, err = capsys.readouterr()
    assert out == "audit: deleted\n"
    assert err.splitlines() == ["audit: deleting (table 1 of 1)", "audit: DELETING (0 s)"]
    assert backend.states == []
