"""A durable commit that fails leaves the engine exactly as before the request (issue 13, item 7).

SQLite's COMMIT is made to fail (as on a full disk or an I/O error) by a wrapper
around the storage's connection. The caller gets DurableStorageError; every read
(items, indexes, table descriptions, TTL settings, stream records) then answers
exactly what it answered before the request, the engine keeps accepting writes,
and a reopened engine holds what memory held: all or nothing, as after a crash.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from gsi_table import gsi_table_request

from singletable.backends.local import DynamoDBError, LocalEngine
from singletable.backends.local.durable import DurableStorage, DurableStorageError


class FailingConnection:
    """An sqlite3 connection whose next COMMIT fails while ``armed``."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self._conn = conn
        self.armed = False
        self.failures = 0

    def execute(self, sql: str, *args: Any) -> Any:
        if self.armed and sql.strip().upper() == "COMMIT":
            self.failures += 1
            raise sqlite3.OperationalError("database or disk is full")
        return self._conn.execute(sql, *args)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._conn, name)


CLOCK = [1_700_000_000.0]


def _table_request(name: str) -> dict[str, Any]:
    return gsi_table_request(name, stream=True)


def _item(pk: str, sk: str, **extra: Any) -> dict[str, Any]:
    item = {"PK": {"S": pk}, "SK": {"S": sk}, "G": {"S": f"g-{pk}"}}
    item.update({name: {"N": str(value)} for name, value in extra.items()})
    return item


def _open(path: Path) -> tuple[LocalEngine, FailingConnection]:
    engine = LocalEngine(path=path, ttl_sweep_interval=None, clock=lambda: CLOCK[0])
    storage = engine.regions.base  # the file under every region's view (._regions)
    assert isinstance(storage, DurableStorage)
    conn = FailingConnection(storage._conn)
    storage._conn = conn  # type: ignore[assignment]
    return engine, conn


@pytest.fixture
def setup(tmp_path: Path) -> Iterator[tuple[LocalEngine, FailingConnection, Path]]:
    path = tmp_path / "data.db"
    engine, conn = _open(path)
    engine.call("CreateTable", _table_request("tbl"))
    for i in range(4):
        engine.call("PutItem", {"TableName": "tbl", "Item": _item("p", f"s{i}", n=i, exp=int(CLOCK[0]) - 100)})
    engine.call("PutItem", {"TableName": "tbl", "Item": _item("q", "s0", n=9)})
    yield engine, conn, path
    engine.close()


def _records(engine: LocalEngine) -> list[Any]:
    streams = engine.call("ListStreams", {})["Streams"]
    out = []
    for stream in streams:
        arn = stream["StreamArn"]
        shards = engine.call("DescribeStream", {"StreamArn": arn})["StreamDescription"]["Shards"]
        for shard in shards:
            iterator = engine.call(
                "GetShardIterator",
                {"StreamArn": arn, "ShardId": shard["ShardId"], "ShardIteratorType": "TRIM_HORIZON"},
            )["ShardIterator"]
            records = engine.call("GetRecords", {"ShardIterator": iterator})["Records"]
            out.append([(r["eventName"], r["dynamodb"]["SequenceNumber"]) for r in records])
    return out


def state(engine: LocalEngine) -> dict[str, Any]:
    """Everything a client can read, for every table."""
    out: dict[str, Any] = {"tables": engine.call("ListTables", {})["TableNames"]}
    for name in out["tables"]:
        table = engine.call("DescribeTable", {"TableName": name})["Table"]
        out[name] = {
            "description": table,
            "items": sorted(engine.call("Scan", {"TableName": name})["Items"], key=repr),
            "ttl": engine.call("DescribeTimeToLive", {"TableName": name}),
        }
        for index in table.get("GlobalSecondaryIndexes", []):
            out[name][index["IndexName"]] = sorted(
                engine.call("Scan", {"TableName": name, "IndexName": index["IndexName"]})["Items"],
                key=repr,
            )
    out["records"] = _records(engine)
    out["backups"] = engine.call("ListBackups", {})["BackupSummaries"]
    return out


def _fails_cleanly(
    engine: LocalEngine, conn: FailingConnection, path: Path, operation: str, request: Any
) -> None:
    before = state(engine)
    conn.armed = True
    with pytest.raises(DurableStorageError, match="commit failed"):
        if callable(request):
            request()
        else:
            engine.call(operation, request)
    conn.armed = False
    assert conn.failures == 1
    assert state(engine) == before
    # The engine still writes; and memory is what the disk holds.
    engine.call("PutItem", {"TableName": "tbl", "Item": _item("after", "x", n=1)})
    after = state(engine)
    engine.close()
    reopened = LocalEngine(path=path, ttl_sweep_interval=None, clock=lambda: CLOCK[0])
    try:
        reloaded = state(reopened)
        for name in after["tables"]:  # stream records live in memory only
            assert reloaded[name]["items"] == after[name]["items"]
            assert reloaded[name]["gsi"] == after[name]["gsi"]
        assert reloaded["tables"] == after["tables"]
    finally:
        reopened.close()


WRITES: list[tuple[str, str, dict[str, Any]]] = [
    ("new item", "PutItem", {"TableName": "tbl", "Item": _item("new", "s", n=1)}),
    ("replace", "PutItem", {"TableName": "tbl", "Item": _item("p", "s1", n=100)}),
    ("update", "UpdateItem",
     {"TableName": "tbl", "Key": {"PK": {"S": "p"}, "SK": {"S": "s2"}},
      "UpdateExpression": "SET n = n + :one, G = :g",
      "ExpressionAttributeValues": {":one": {"N": "1"}, ":g": {"S": "moved"}}}),
    ("delete", "DeleteItem", {"TableName": "tbl", "Key": {"PK": {"S": "p"}, "SK": {"S": "s0"}}}),
    ("batch", "BatchWriteItem",
     {"RequestItems": {"tbl": [
         {"PutRequest": {"Item": _item("b", "1", n=1)}},
         {"PutRequest": {"Item": _item("p", "s3", n=33)}},
         {"DeleteRequest": {"Key": {"PK": {"S": "q"}, "SK": {"S": "s0"}}}},
     ]}}),
    ("transaction", "TransactWriteItems",
     {"TransactItems": [
         {"Put": {"TableName": "tbl", "Item": _item("t", "1", n=1)}},
         {"Update": {"TableName": "tbl", "Key": {"PK": {"S": "p"}, "SK": {"S": "s1"}},
                     "UpdateExpression": "REMOVE G"}},
         {"Delete": {"TableName": "tbl", "Key": {"PK": {"S": "p"}, "SK": {"S": "s2"}}}},
     ], "ClientRequestToken": "token-1"}),
]


@pytest.mark.parametrize(
    ("operation", "request_"), [pytest.param(op, req, id=label) for label, op, req in WRITES]
)
def test_a_failed_commit_of_a_write_leaves_nothing(
    setup: tuple[LocalEngine, FailingConnection, Path], operation: str, request_: dict[str, Any]
) -> None:
    engine, conn, path = setup
    _fails_cleanly(engine, conn, path, operation, request_)


def test_a_failed_commit_is_not_delivered_to_subscribers(
    setup: tuple[LocalEngine, FailingConnection, Path],
) -> None:
    engine, conn, _ = setup
    seen: list[Any] = []
    engine.subscribe("tbl", seen.append)
    conn.armed = True
    with pytest.raises(DurableStorageError):
        engine.call("PutItem", {"TableName": "tbl", "Item": _item("new", "s", n=1)})
    conn.armed = False
    assert seen == []
    engine.call("PutItem", {"TableName": "tbl", "Item": _item("new", "s", n=2)})
    assert [r["eventName"] for r in seen] == ["INSERT"]


def test_a_failed_transaction_can_be_retried_with_its_token(
    setup: tuple[LocalEngine, FailingConnection, Path],
) -> None:
    engine, conn, _ = setup
    request = dict(WRITES[-1][2])
    conn.armed = True
    with pytest.raises(DurableStorageError):
        engine.call("TransactWriteItems", request)
    conn.armed = False
    engine.call("TransactWriteItems", request)  # not a replay of a failure: applied now
    got = engine.call("GetItem", {"TableName": "tbl", "Key": {"PK": {"S": "t"}, "SK": {"S": "1"}}})
    assert got["Item"]["n"] == {"N": "1"}


def test_a_failed_ttl_deletion_keeps_the_items(
    setup: tuple[LocalEngine, FailingConnection, Path],
) -> None:
    engine, conn, path = setup
    engine.call(
        "UpdateTimeToLive",
        {"TableName": "tbl", "TimeToLiveSpecification": {"AttributeName": "exp", "Enabled": True}},
    )
    _fails_cleanly(engine, conn, path, "sweep", engine.sweep_ttl)


def test_ttl_still_deletes_after_a_failed_sweep(
    setup: tuple[LocalEngine, FailingConnection, Path],
) -> None:
    engine, conn, _ = setup
    engine.call(
        "UpdateTimeToLive",
        {"TableName": "tbl", "TimeToLiveSpecification": {"AttributeName": "exp", "Enabled": True}},
    )
    conn.armed = True
    with pytest.raises(DurableStorageError):
        engine.sweep_ttl()
    conn.armed = False
    assert engine.sweep_ttl() == 4  # the four expired items are tracked still


TABLE_OPERATIONS: list[tuple[str, str, dict[str, Any]]] = [
    ("create", "CreateTable", _table_request("other")),
    ("delete", "DeleteTable", {"TableName": "tbl"}),
    ("ttl", "UpdateTimeToLive",
     {"TableName": "tbl", "TimeToLiveSpecification": {"AttributeName": "exp", "Enabled": True}}),
    ("add index", "UpdateTable",
     {"TableName": "tbl",
      "AttributeDefinitions": [{"AttributeName": "n", "AttributeType": "N"}],
      "GlobalSecondaryIndexUpdates": [{"Create": {
          "IndexName": "by_n", "KeySchema": [{"AttributeName": "n", "KeyType": "HASH"}],
          "Projection": {"ProjectionType": "KEYS_ONLY"}}}]}),
    ("drop index", "UpdateTable",
     {"TableName": "tbl", "GlobalSecondaryIndexUpdates": [{"Delete": {"IndexName": "gsi"}}]}),
    ("stream off", "UpdateTable",
     {"TableName": "tbl", "StreamSpecification": {"StreamEnabled": False}}),
    ("billing", "UpdateTable",
     {"TableName": "tbl", "BillingMode": "PROVISIONED",
      "ProvisionedThroughput": {"ReadCapacityUnits": 5, "WriteCapacityUnits": 5},
      "GlobalSecondaryIndexUpdates": []} ),
    ("backup", "CreateBackup", {"TableName": "tbl", "BackupName": "backup-1"}),
    ("pitr", "UpdateContinuousBackups",
     {"TableName": "tbl",
      "PointInTimeRecoverySpecification": {"PointInTimeRecoveryEnabled": True}}),
]


@pytest.mark.parametrize(
    ("operation", "request_"),
    [pytest.param(op, req, id=label) for label, op, req in TABLE_OPERATIONS],
)
def test_a_failed_commit_of_a_table_operation_leaves_nothing(
    setup: tuple[LocalEngine, FailingConnection, Path], operation: str, request_: dict[str, Any]
) -> None:
    engine, conn, path = setup
    request_ = dict(request_)
    if request_.get("GlobalSecondaryIndexUpdates") == []:
        del request_["GlobalSecondaryIndexUpdates"]
    try:
        _fails_cleanly(engine, conn, path, operation, request_)
    except DynamoDBError as error:  # pragma: no cover - the request itself must be valid
        pytest.fail(f"{operation} was refused: {error}")


def test_a_failed_write_leaves_no_recovery_history(
    setup: tuple[LocalEngine, FailingConnection, Path],
) -> None:
    engine, conn, path = setup
    engine.call(
        "UpdateContinuousBackups",
        {"TableName": "tbl",
         "PointInTimeRecoverySpecification": {"PointInTimeRecoveryEnabled": True}},
    )
    history = engine.backups.history(engine.tables["tbl"])
    assert history is not None
    count = history.item_count
    _fails_cleanly(engine, conn, path, "PutItem",
                   {"TableName": "tbl", "Item": _item("p", "s1", n=100)})
    assert history.item_count == count + 1  # only the write made after the failure
