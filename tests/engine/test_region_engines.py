"""Regions on the engine itself: routing by ``region=``, the shared catalog option,
durable files holding several regions, snapshots of every region."""

from __future__ import annotations

import sqlite3
import urllib.request
from pathlib import Path
from typing import Any

import pytest

from singletable.backends.local import DynamoDBError, LocalEngine
from singletable.server import Server

KEY = {"PK": {"S": "p"}}


def _create(engine: LocalEngine, name: str = "tbl", region: str | None = None) -> None:
    engine.call(
        "CreateTable",
        {
            "TableName": name,
            "KeySchema": [{"AttributeName": "PK", "KeyType": "HASH"}],
            "AttributeDefinitions": [{"AttributeName": "PK", "AttributeType": "S"}],
            "BillingMode": "PAY_PER_REQUEST",
        },
        region=region,
    )


def _names(engine: LocalEngine, region: str | None = None) -> list[str]:
    names: list[str] = engine.call("ListTables", {}, region=region)["TableNames"]
    return names


def _put(engine: LocalEngine, value: str, region: str | None = None) -> None:
    item = {"PK": {"S": "p"}, "v": {"S": value}}
    engine.call("PutItem", {"TableName": "tbl", "Item": item}, region=region)


def _value(engine: LocalEngine, region: str | None = None) -> str | None:
    item = engine.call("GetItem", {"TableName": "tbl", "Key": KEY}, region=region).get("Item")
    return None if item is None else str(item["v"]["S"])


def test_direct_calls_run_in_the_home_region_unless_told() -> None:
    with LocalEngine(region="eu-west-1", ttl_sweep_interval=None) as engine:
        _create(engine)
        assert _names(engine) == ["tbl"]
        assert _names(engine, "eu-west-1") == ["tbl"]
        assert _names(engine, "us-east-1") == []
        arn = engine.call("DescribeTable", {"TableName": "tbl"})["Table"]["TableArn"]
        assert arn == "arn:aws:dynamodb:eu-west-1:000000000000:table/tbl"
        assert engine.in_region("eu-west-1") is engine
        other = engine.in_region("ap-south-1")
        assert other.region == "ap-south-1" and _names(other) == []
        assert engine.in_region("ap-south-1") is other


def test_call_json_takes_the_region() -> None:
    with LocalEngine(ttl_sweep_interval=None) as engine:
        _create(engine, region="eu-west-1")
        status, body = engine.call_json("ListTables", b"{}", region="eu-west-1")
        assert (status, body) == (200, b'{"TableNames":["tbl"]}')
        status, body = engine.call_json("ListTables", b"{}")
        assert (status, body) == (200, b'{"TableNames":[]}')


def test_a_malformed_region_is_refused() -> None:
    with LocalEngine(ttl_sweep_interval=None) as engine:
        status, body = engine.call_json("ListTables", b"{}", region="eu:west")
        assert status == 400 and b"UnrecognizedClientException" in body
        with pytest.raises(DynamoDBError) as caught:
            engine.call("ListTables", {}, region="")
        assert caught.value.code == "UnrecognizedClientException"
        with pytest.raises(ValueError, match="not a region name"):
            engine.in_region("a/b")
    with pytest.raises(ValueError, match="not a region name"):
        LocalEngine(region="us east")


def test_shared_regions_keeps_one_catalog() -> None:
    with LocalEngine(shared_regions=True, ttl_sweep_interval=None) as engine:
        _create(engine, region="eu-west-1")
        assert _names(engine) == ["tbl"]
        assert _names(engine, "ap-south-1") == ["tbl"]
        _put(engine, "x", region="ap-south-1")
        assert _value(engine, "eu-west-1") == "x"
        assert engine.in_region("eu-west-1") is engine


def test_writes_stay_in_their_region() -> None:
    with LocalEngine(ttl_sweep_interval=None) as engine:
        _create(engine)
        _create(engine, region="eu-west-1")
        _put(engine, "us")
        _put(engine, "eu", region="eu-west-1")
        assert _value(engine) == "us"
        assert _value(engine, "eu-west-1") == "eu"
        engine.call("DeleteTable", {"TableName": "tbl"}, region="eu-west-1")
        assert _value(engine) == "us"


def test_a_durable_file_keeps_regions_apart(tmp_path: Path) -> None:
    path = tmp_path / "data.db"
    with LocalEngine(path=path, ttl_sweep_interval=None) as engine:
        _create(engine)
        _create(engine, region="eu-west-1")
        _create(engine, "only-eu", region="eu-west-1")
        _put(engine, "us")
        _put(engine, "eu", region="eu-west-1")
        engine.call(
            "CreateBackup", {"TableName": "tbl", "BackupName": "eu-backup"}, region="eu-west-1"
        )
    with LocalEngine(path=path, ttl_sweep_interval=None) as engine:
        assert engine.regions.names() == ["us-east-1", "eu-west-1"]  # reopened at once
        assert _names(engine) == ["tbl"]
        assert _names(engine, "eu-west-1") == ["only-eu", "tbl"]
        assert _value(engine) == "us"
        assert _value(engine, "eu-west-1") == "eu"
        assert engine.call("ListBackups", {})["BackupSummaries"] == []
        backups = engine.call("ListBackups", {}, region="eu-west-1")["BackupSummaries"]
        assert [b["BackupName"] for b in backups] == ["eu-backup"]
        assert ":eu-west-1:" in backups[0]["BackupArn"]
    # Opened with another home region, the file's regions keep their tables.
    with LocalEngine(path=path, region="eu-west-1", ttl_sweep_interval=None) as engine:
        assert _names(engine) == ["only-eu", "tbl"]
        assert _value(engine) == "eu"
        assert _value(engine, "us-east-1") == "us"


def test_a_file_from_before_regions_opens_in_the_home_region(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    with LocalEngine(path=path, ttl_sweep_interval=None) as engine:
        _create(engine)
        _put(engine, "old")
    with sqlite3.connect(path) as conn:  # what an earlier version left: no region record
        conn.execute("DELETE FROM extras WHERE kind = 'regions'")
    conn.close()
    with LocalEngine(path=path, ttl_sweep_interval=None) as engine:
        assert _names(engine) == ["tbl"]
        assert _value(engine) == "old"
        assert _names(engine, "eu-west-1") == []


def test_a_snapshot_covers_every_region() -> None:
    with LocalEngine(ttl_sweep_interval=None) as engine:
        _create(engine)
        _create(engine, region="eu-west-1")
        _put(engine, "us-1")
        _put(engine, "eu-1", region="eu-west-1")
        snapshot = engine.snapshot()
        _put(engine, "us-2")
        _put(engine, "eu-2", region="eu-west-1")
        _create(engine, region="ap-south-1")
        engine.restore(snapshot)
        assert _value(engine) == "us-1"
        assert _value(engine, "eu-west-1") == "eu-1"
        assert _names(engine, "ap-south-1") == []  # a region first used later is empty again
        _create(engine, "again", region="ap-south-1")
        later = engine.snapshot()
        engine.restore(snapshot)
        engine.in_region("eu-west-1").restore(later)  # any region engine restores it
        assert _names(engine, "ap-south-1") == ["again"]


def test_faults_apply_in_every_region() -> None:
    with LocalEngine(ttl_sweep_interval=None) as engine:
        _create(engine, region="eu-west-1")
        engine.faults.inject("ProvisionedThroughputExceededException", operation="GetItem")
        with pytest.raises(DynamoDBError) as caught:
            _value(engine, "eu-west-1")
        assert caught.value.code == "ProvisionedThroughputExceededException"
        engine.faults.clear()
        assert _value(engine, "eu-west-1") is None


def _post(url: str, operation: str, authorization: str | None) -> Any:
    headers = {
        "Content-Type": "application/x-amz-json-1.0",
        "X-Amz-Target": f"DynamoDB_20120810.{operation}",
    }
    if authorization is not None:
        headers["Authorization"] = authorization
    request = urllib.request.Request(url, data=b"{}", headers=headers, method="POST")
    with urllib.request.urlopen(request, timeout=10) as response:
        return response.read()


def test_the_server_runs_a_request_in_its_credential_scope_region() -> None:
    with LocalEngine(ttl_sweep_interval=None) as engine, Server(engine) as server:
        _create(engine, region="eu-west-1")
        scope = (
            "AWS4-HMAC-SHA256 Credential=AKID/20260101/eu-west-1/dynamodb/aws4_request, "
            "SignedHeaders=host, Signature=00"
        )
        assert _post(server.url, "ListTables", scope) == b'{"TableNames":["tbl"]}'
        assert _post(server.url, "ListTables", None) == b'{"TableNames":[]}'  # the home region
        # Endpoint discovery in any region answers the server's address, not AWS's.
        address = server.url.removeprefix("http://").encode()
        assert address in _post(server.url, "DescribeEndpoints", scope.replace("eu-west-1", "sa-east-1"))
