"""``singletable data export|import``: DynamoDB JSON lines in and out of a table."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

import pytest

from singletable.backends.engine import LocalBackend
from singletable.backends.local import LocalEngine
from singletable.cli import UsageError, _data
from singletable.cli._interrupt import Interrupted
from singletable.server import Server


def _run(*argv: str) -> int:
    parser = argparse.ArgumentParser(prog="singletable")
    _data.register(parser.add_subparsers(dest="command", required=True))
    return _data.run(parser.parse_args(["data", *argv]))


def _create(backend: Any, name: str) -> None:
    backend.call(
        "CreateTable",
        {
            "TableName": name,
            "BillingMode": "PAY_PER_REQUEST",
            "KeySchema": [
                {"AttributeName": "pk", "KeyType": "HASH"},
                {"AttributeName": "sk", "KeyType": "RANGE"},
            ],
            "AttributeDefinitions": [
                {"AttributeName": "pk", "AttributeType": "S"},
                {"AttributeName": "sk", "AttributeType": "N"},
                {"AttributeName": "gpk", "AttributeType": "B"},
            ],
            "GlobalSecondaryIndexes": [
                {
                    "IndexName": "byGpk",
                    "KeySchema": [{"AttributeName": "gpk", "KeyType": "HASH"}],
                    "Projection": {"ProjectionType": "ALL"},
                }
            ],
        },
    )


def _items(count: int) -> list[dict[str, Any]]:
    items = []
    for n in range(count):
        item: dict[str, Any] = {
            "pk": {"S": f"user#{n % 7}"},
            "sk": {"N": str(n)},
            "name": {"S": f"näme {n}"},
            "tags": {"SS": ["a", f"t{n}"]},
            "doc": {"M": {"list": {"L": [{"N": "1.5"}, {"NULL": True}, {"BOOL": False}]}}},
        }
        if n % 3 == 0:
            item["gpk"] = {"B": "AAEC/w=="}
            item["blobs"] = {"BS": ["AQ==", "Ag=="]}
        items.append(item)
    return items


def _fill(backend: Any, table: str, items: list[dict[str, Any]]) -> None:
    for item in items:
        backend.call("PutItem", {"TableName": table, "Item": item})


def _scan(backend: Any, table: str) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    request: dict[str, Any] = {"TableName": table}
    while True:
        page = backend.call("Scan", request)
        found.extend(page["Items"])
        if "LastEvaluatedKey" not in page:
            break
        request["ExclusiveStartKey"] = page["LastEvaluatedKey"]
    return sorted(found, key=lambda item: (item["pk"]["S"], int(item["sk"]["N"])))


def _sorted(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return sorted(items, key=lambda item: (item["pk"]["S"], int(item["sk"]["N"])))


def _file_items(path: Path) -> list[dict[str, Any]]:
    lines = path.read_text(encoding="utf-8").splitlines()
    assert all(set(json.loads(line)) == {"Item"} for line in lines)
    return [json.loads(line)["Item"] for line in lines]


@pytest.fixture
def data_file(tmp_path: Path) -> Path:
    path = tmp_path / "app.db"
    with LocalBackend(path=path) as backend:
        _create(backend, "Source")
        _create(backend, "Target")
        _fill(backend, "Source", _items(60))
    return path


def test_round_trip_on_a_durable_file(
    data_file: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "source.jsonl"
    assert (
        _run("export", "--data", str(data_file), "Source", "-o", str(out), "--page-size", "7") == 0
    )
    assert "Source: 60 of ~60 items exported (done)" in capsys.readouterr().err
    assert _sorted(_file_items(out)) == _sorted(_items(60))
    assert not Path(str(out) + ".state").exists()

    assert _run("import", "--data", str(data_file), "Target", "-i", str(out)) == 0
    assert "Target: 60 of 60 items imported (done)" in capsys.readouterr().err
    with LocalBackend(path=data_file) as backend:
        assert _scan(backend, "Target") == _sorted(_items(60))


def test_round_trip_through_an_http_endpoint(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], dynamodb_server: Server
) -> None:
    out = tmp_path / "source.jsonl"
    server = dynamodb_server
    backend = LocalBackend(server.engine)
    _create(backend, "Source")
    _create(backend, "Target")
    _fill(backend, "Source", _items(40))
    where = ["--endpoint-url", server.url, "--region", "us-east-1"]
    assert _run("export", *where, "Source", "-o", str(out)) == 0
    # Binary comes back from botocore as bytes: the file holds base64 text again.
    assert _sorted(_file_items(out)) == _sorted(_items(40))
    assert _run("import", *where, "Target", "-i", str(out)) == 0
    assert _scan(backend, "Target") == _sorted(_items(40))
    assert "Target: 40 of 40 items imported (done)" in capsys.readouterr().err


def test_import_of_many_items_with_repeated_keys_keeps_the_last_line(
    data_file: Path, tmp_path: Path
) -> None:
    items = _items(80)
    later = dict(items[3], name={"S": "later"})
    source = tmp_path / "in.jsonl"
    lines = [json.dumps({"Item": item}) for item in [*items[:10], later, *items[10:]]]
    source.write_text("\n".join(lines) + "\n", encoding="utf-8")
    assert _run("import", "--data", str(data_file), "Target", "-i", str(source)) == 0
    with LocalBackend(path=data_file) as backend:
        stored = _scan(backend, "Target")
    assert len(stored) == 80
    assert [item["name"] for item in stored if item["sk"] == {"N": "3"}] == [{"S": "later"}]


BAD_LINES = [
    ("{not json", "not JSON"),
    ('{"pk": {"S": "a"}, "sk": {"N": "1"}}', '{"Item"'),
    ('{"Item": {"sk": {"N": "1"}}}', "missing the key attribute 'pk'"),
    ('{"Item": {"pk": {"S": "a"}, "sk": {"S": "1"}}}', "'sk' is of type S, the table says N"),
    ('{"Item": {"pk": {"S": ""}, "sk": {"N": "1"}}}', "'pk' is empty"),
    ('{"Item": {"pk": {"S": "a"}, "sk": {"N": "x1"}}}', "numeric"),
    ('{"Item": {"pk": {"S": "a"}, "sk": {"N": "1"}, "gpk": {"S": "x"}}}', "index key"),
    ('{"Item": {"pk": {"S": "a"}, "sk": {"N": "1"}, "s": {"SS": []}}}', "empty"),
]


@pytest.mark.parametrize(("bad", "expected"), BAD_LINES)
def test_a_bad_line_is_reported_by_number_and_nothing_is_written(
    data_file: Path, tmp_path: Path, bad: str, expected: str
) -> None:
    good = [json.dumps({"Item": item}) for item in _items(30)]
    source = tmp_path / "in.jsonl"
    source.write_text("\n".join([*good[:26], bad, *good[26:]]) + "\n", encoding="utf-8")
    with pytest.raises(UsageError) as raised:
        _run("import", "--data", str(data_file), "Target", "-i", str(source))
    message = str(raised.value)
    assert message.startswith(f"{source}:27: ")
    assert expected.lower() in message.lower()
    with LocalBackend(path=data_file) as backend:
        assert _scan(backend, "Target") == []


def test_import_into_a_missing_table_is_a_usage_error(data_file: Path, tmp_path: Path) -> None:
    source = tmp_path / "in.jsonl"
    source.write_text("", encoding="utf-8")
    with pytest.raises(UsageError, match="table Nope not found"):
        _run("import", "--data", str(data_file), "Nope", "-i", str(source))


def test_an_interrupted_export_resumes_after_the_last_complete_line(
    data_file: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = tmp_path / "source.jsonl"
    state = Path(str(out) + ".state")
    original = LocalBackend.call
    scans = 0

    def interrupted(self: LocalBackend, operation: str, request: dict[str, Any]) -> Any:
        nonlocal scans
        if operation == "Scan":
            scans += 1
            if scans == 4:
                raise KeyboardInterrupt
        return original(self, operation, request)

    monkeypatch.setattr(LocalBackend, "call", interrupted)
    args = ("export", "--data", str(data_file), "Source", "-o", str(out), "--page-size", "9")
    with pytest.raises(Interrupted, match="to resume run: singletable data"):
        _run(*args)
    monkeypatch.setattr(LocalBackend, "call", original)
    assert len(_file_items(out)) == 27
    assert json.loads(state.read_text())["Lines"] == 27
    with pytest.raises(UsageError, match="--resume"):
        _run(*args)  # an interrupted export is not overwritten by accident

    # The crash also left half a line behind.
    with out.open("ab") as partial:
        partial.write(b'{"Item":{"pk":{"S":"us')
    assert _run(*args, "--resume") == 0
    exported = _file_items(out)
    assert len(exported) == 60
    assert _sorted(exported) == _sorted(_items(60))
    assert not state.exists()
    with pytest.raises(UsageError, match="nothing to resume"):
        _run(*args, "--resume")


def test_resume_continues_after_lines_written_past_the_last_state(
    data_file: Path, tmp_path: Path
) -> None:
    out = tmp_path / "source.jsonl"
    assert _run("export", "--data", str(data_file), "Source", "-o", str(out)) == 0
    full = out.read_bytes().splitlines(keepends=True)
    # As if the process died mid-page: 11 lines written, the state still at the start.
    out.write_bytes(b"".join(full[:11]) + full[11][:5])
    state = {"TableName": "Source", "LastEvaluatedKey": None, "Lines": 0, "Bytes": 0}
    Path(str(out) + ".state").write_text(json.dumps(state))
    assert _run("export", "--data", str(data_file), "Source", "-o", str(out), "--resume") == 0
    assert out.read_bytes().splitlines(keepends=True) == full


def test_a_data_file_excludes_the_dynamodb_options(tmp_path: Path) -> None:
    for option in (["--endpoint-url", "http://127.0.0.1:1"], ["--region", "eu-west-1"],
                   ["--profile", "dev"]):  # fmt: skip
        with pytest.raises(UsageError, match=f"not with {option[0]}"):
            _run("export", "--data", "a", *option, "S", "-o", "x")
    with pytest.raises(UsageError, match="no data file"):
        _run("export", "--data", str(tmp_path / "missing.db"), "S", "-o", str(tmp_path / "x"))


def test_an_interrupted_import_resumes_after_the_lines_written(
    data_file: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    items = _items(100)
    source = tmp_path / "in.jsonl"
    source.write_text("".join(json.dumps({"Item": i}) + "\n" for i in items), encoding="utf-8")
    state = Path(str(source) + ".import.state")
    # Into a local file the import commits chunks through the engine's bulk load.
    monkeypatch.setattr(_data, "_LOCAL_BATCH", 25)
    original = LocalEngine.load
    batches: list[int] = []

    def interrupted(self: LocalEngine, table: str, chunk: Any) -> int:
        if len(batches) == 2:
            raise KeyboardInterrupt  # the third chunk never reaches the table
        batches.append(len(chunk))
        return original(self, table, chunk)

    monkeypatch.setattr(LocalEngine, "load", interrupted)
    args = ("import", "--data", str(data_file), "Target", "-i", str(source))
    with pytest.raises(Interrupted, match="to resume run: singletable data"):
        _run(*args)
    monkeypatch.setattr(LocalEngine, "load", original)
    assert batches == [25, 25]
    assert json.loads(state.read_text()) == {"TableName": "Target", "Line": 50, "Items": 50}
    with pytest.raises(UsageError, match="interrupted; continue it with --resume"):
        _run(*args)
    with pytest.raises(UsageError, match="state of an import of another table"):
        _run("import", "--data", str(data_file), "Source", "-i", str(source), "--resume")
    capsys.readouterr()

    writes: list[int] = []

    def counted(self: LocalEngine, table: str, chunk: Any) -> int:
        writes.append(len(chunk))
        return original(self, table, chunk)

    monkeypatch.setattr(LocalEngine, "load", counted)
    assert _run(*args, "--resume") == 0
    monkeypatch.setattr(LocalEngine, "load", original)
    assert writes == [25, 25]  # only the 50 lines not yet written
    assert not state.exists()
    err = capsys.readouterr().err.splitlines()
    assert err[0] == "Target: 50 of 100 items imported before; resuming after line 50"
    assert err[-1] == "Target: 100 of 100 items imported (done)"
    with LocalBackend(path=data_file) as backend:
        assert _scan(backend, "Target") == _sorted(items)
    with pytest.raises(UsageError, match=r"nothing to resume: .* \(the import finished"):
        _run(*args, "--resume")
