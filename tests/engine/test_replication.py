"""Global-table replication on the engine: manual and background delivery, partitions,
last-writer-wins conflicts (tombstones included), streams, TTL, snapshots, durability."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest

from singletable.backends.local import DynamoDBError, LocalEngine

EU = "eu-west-1"
CLOCK = [1_000_000.0]


def _engine(**options: Any) -> LocalEngine:
    options.setdefault("replication", "manual")
    return LocalEngine(ttl_sweep_interval=None, clock=lambda: CLOCK[0], **options)


def _global(engine: LocalEngine, *, ttl: bool = False) -> None:
    engine.call(
        "CreateTable",
        {
            "TableName": "tbl",
            "KeySchema": [{"AttributeName": "PK", "KeyType": "HASH"}],
            "AttributeDefinitions": [{"AttributeName": "PK", "AttributeType": "S"}],
            "BillingMode": "PAY_PER_REQUEST",
        },
    )
    if ttl:
        engine.call(
            "UpdateTimeToLive",
            {
                "TableName": "tbl",
                "TimeToLiveSpecification": {"Enabled": True, "AttributeName": "exp"},
            },
        )
    engine.call(
        "UpdateTable", {"TableName": "tbl", "ReplicaUpdates": [{"Create": {"RegionName": EU}}]}
    )
    assert engine.replicate() == 1  # the replica's creation
    replicas = engine.call("DescribeTable", {"TableName": "tbl"})["Table"]["Replicas"]
    assert replicas == [{"RegionName": EU, "ReplicaStatus": "ACTIVE"}]


def _put(
    engine: LocalEngine, value: str, region: str | None = None, at: float | None = None
) -> None:
    if at is not None:
        CLOCK[0] = at
    item = {"PK": {"S": "p"}, "v": {"S": value}}
    engine.call("PutItem", {"TableName": "tbl", "Item": item}, region=region)


def _value(engine: LocalEngine, region: str | None = None) -> str | None:
    key = {"PK": {"S": "p"}}
    item = engine.call("GetItem", {"TableName": "tbl", "Key": key}, region=region).get("Item")
    return None if item is None else str(item["v"]["S"])


def test_a_replica_is_creating_until_replication_makes_it() -> None:
    with _engine() as engine:
        engine.call(
            "CreateTable",
            {
                "TableName": "tbl",
                "KeySchema": [{"AttributeName": "PK", "KeyType": "HASH"}],
                "AttributeDefinitions": [{"AttributeName": "PK", "AttributeType": "S"}],
                "BillingMode": "PAY_PER_REQUEST",
            },
        )
        _put(engine, "before")
        engine.call(
            "UpdateTable", {"TableName": "tbl", "ReplicaUpdates": [{"Create": {"RegionName": EU}}]}
        )
        table = engine.call("DescribeTable", {"TableName": "tbl"})["Table"]
        assert table["Replicas"] == [{"RegionName": EU, "ReplicaStatus": "CREATING"}]
        assert engine.call("ListTables", {}, region=EU)["TableNames"] == []
        with pytest.raises(DynamoDBError) as caught:  # one replica action at a time
            engine.call(
                "UpdateTable",
                {"TableName": "tbl", "ReplicaUpdates": [{"Create": {"RegionName": "ap-south-1"}}]},
            )
        assert caught.value.code == "ResourceInUseException"
        with pytest.raises(DynamoDBError) as caught:
            engine.call("DeleteTable", {"TableName": "tbl"})
        assert caught.value.code == "ResourceInUseException"
        _put(engine, "during")  # written while the replica is being made: it arrives too
        assert engine.pending_replication(EU) == 2
        assert engine.replicate() == 2
        assert _value(engine, EU) == "during"


def test_a_later_write_wins_in_every_region() -> None:
    with _engine() as engine:
        _global(engine)
        _put(engine, "us", at=1_000_010)
        _put(engine, "eu", region=EU, at=1_000_011)  # both written before either replicated
        assert engine.replicate() == 2
        assert _value(engine) == _value(engine, EU) == "eu"


def test_an_older_write_arriving_late_is_dropped() -> None:
    with _engine() as engine:
        _global(engine)
        engine.pause_replication("us-east-1")  # a partition: nothing reaches us-east-1
        _put(engine, "old", at=1_000_020)
        _put(engine, "new", region=EU, at=1_000_021)
        assert engine.replicate() == 1  # us-east-1's write reaches eu-west-1 and loses there
        assert _value(engine, EU) == "new"
        assert _value(engine) == "old"  # us-east-1 still reads its own write
        assert engine.pending_replication("us-east-1") == 1
        engine.resume_replication("us-east-1")
        assert engine.replicate() == 1
        assert _value(engine) == _value(engine, EU) == "new"


def test_a_delete_keeps_its_time_against_an_older_write() -> None:
    with _engine() as engine:
        _global(engine)
        _put(engine, "v1", at=1_000_030)
        engine.replicate()
        engine.call("DeleteItem", {"TableName": "tbl", "Key": {"PK": {"S": "p"}}}, region=EU)
        CLOCK[0] = 1_000_040
        engine.call("DeleteItem", {"TableName": "tbl", "Key": {"PK": {"S": "p"}}})
        _put(engine, "stale", region=EU, at=1_000_039)  # eu's clock is behind: an older write
        engine.replicate()
        assert _value(engine) is None  # the tombstone (1_000_040) beats the write (1_000_039)
        assert _value(engine, EU) is None


def test_replicated_writes_appear_in_the_replica_stream() -> None:
    with _engine() as engine:
        _global(engine)
        eu = engine.in_region(EU)
        with eu.stream_records("tbl") as records:
            engine.call(
                "TransactWriteItems",
                {
                    "TransactItems": [
                        {"Put": {"TableName": "tbl", "Item": {"PK": {"S": "a"}}}},
                        {"Put": {"TableName": "tbl", "Item": {"PK": {"S": "b"}}}},
                    ]
                },
            )
            # A transaction is atomic in its region only: its writes replicate one by one.
            assert engine.pending_replication(EU) == 2
            engine.replicate()
            got = records.drain()
        assert [r["eventName"] for r in got] == ["INSERT", "INSERT"]
        assert [r["dynamodb"]["Keys"]["PK"]["S"] for r in got] == ["a", "b"]
        assert all(r["awsRegion"] == EU and "userIdentity" not in r for r in got)


def test_ttl_deletes_replicate() -> None:
    with _engine() as engine:
        _global(engine, ttl=True)
        CLOCK[0] = 1_000_050
        item = {"PK": {"S": "p"}, "v": {"S": "x"}, "exp": {"N": "1000060"}}
        engine.call("PutItem", {"TableName": "tbl", "Item": item})
        engine.replicate()
        assert _value(engine, EU) == "x"
        CLOCK[0] = 1_000_070
        assert engine.sweep_ttl() == 1  # the home region's sweep
        assert engine.pending_replication(EU) == 1
        engine.replicate()
        assert _value(engine, EU) is None


def test_a_snapshot_keeps_the_replication_queue() -> None:
    with _engine() as engine:
        _global(engine)
        _put(engine, "queued", at=1_000_080)
        snapshot = engine.snapshot()
        engine.replicate()
        assert _value(engine, EU) == "queued"
        engine.restore(snapshot)
        assert _value(engine, EU) is None
        assert engine.pending_replication(EU) == 1
        engine.replicate()
        assert _value(engine, EU) == "queued"


def test_background_replication_waits_its_delay() -> None:
    with _engine(replication="background", replication_delay=0.3) as engine:
        engine.call(
            "CreateTable",
            {
                "TableName": "tbl",
                "KeySchema": [{"AttributeName": "PK", "KeyType": "HASH"}],
                "AttributeDefinitions": [{"AttributeName": "PK", "AttributeType": "S"}],
                "BillingMode": "PAY_PER_REQUEST",
            },
        )
        engine.call(
            "UpdateTable", {"TableName": "tbl", "ReplicaUpdates": [{"Create": {"RegionName": EU}}]}
        )
        started = time.monotonic()
        _put(engine, "later")
        assert engine.call("ListTables", {}, region=EU)["TableNames"] == []  # not yet
        deadline = started + 10
        while time.monotonic() < deadline and engine.pending_replication():
            time.sleep(0.02)
        assert time.monotonic() - started >= 0.29
        assert _value(engine, EU) == "later"
        assert engine.replication_error is None
        thread = engine.regions.replication._thread
        assert thread is not None and thread.is_alive()
    assert not thread.is_alive()  # close() stops it


def test_a_durable_global_table_reopens_global(tmp_path: Path) -> None:
    path = tmp_path / "data.db"
    with _engine(path=path) as engine:
        _global(engine)
    with _engine(path=path) as engine:
        assert engine.call("DescribeTable", {"TableName": "tbl"}, region=EU)["Table"][
            "Replicas"
        ] == [{"RegionName": "us-east-1", "ReplicaStatus": "ACTIVE"}]
        _put(engine, "after-reopen", region=EU)
        assert engine.replicate() == 1
        assert _value(engine) == "after-reopen"


def test_with_shared_regions_a_replica_would_be_the_table_itself() -> None:
    with _engine(shared_regions=True) as engine:
        engine.call(
            "CreateTable",
            {
                "TableName": "tbl",
                "KeySchema": [{"AttributeName": "PK", "KeyType": "HASH"}],
                "AttributeDefinitions": [{"AttributeName": "PK", "AttributeType": "S"}],
                "BillingMode": "PAY_PER_REQUEST",
            },
        )
        with pytest.raises(DynamoDBError, match="already existed as tables"):
            engine.call(
                "UpdateTable",
                {"TableName": "tbl", "ReplicaUpdates": [{"Create": {"RegionName": EU}}]},
            )


def test_bad_replication_options_are_refused() -> None:
    with pytest.raises(ValueError, match="replication must be"):
        LocalEngine(replication="sometimes")
    with pytest.raises(ValueError, match="must not be negative"):
        LocalEngine(replication_delay=-1)


def test_deleting_a_failed_replica_leaves_the_table_that_was_there() -> None:
    with _engine() as engine:
        engine.call(
            "CreateTable",
            {
                "TableName": "tbl",
                "KeySchema": [{"AttributeName": "PK", "KeyType": "HASH"}],
                "AttributeDefinitions": [{"AttributeName": "PK", "AttributeType": "S"}],
                "BillingMode": "PAY_PER_REQUEST",
            },
        )
        engine.call(
            "UpdateTable", {"TableName": "tbl", "ReplicaUpdates": [{"Create": {"RegionName": EU}}]}
        )
        # Before the replica is made, someone creates an unrelated table of that name there.
        engine.call(
            "CreateTable",
            {
                "TableName": "tbl",
                "KeySchema": [{"AttributeName": "other", "KeyType": "HASH"}],
                "AttributeDefinitions": [{"AttributeName": "other", "AttributeType": "S"}],
                "BillingMode": "PAY_PER_REQUEST",
            },
            region=EU,
        )
        engine.replicate()
        replicas = engine.call("DescribeTable", {"TableName": "tbl"})["Table"]["Replicas"]
        assert replicas == [{"RegionName": EU, "ReplicaStatus": "CREATION_FAILED"}]
        engine.call(
            "UpdateTable", {"TableName": "tbl", "ReplicaUpdates": [{"Delete": {"RegionName": EU}}]}
        )
        assert "Replicas" not in engine.call("DescribeTable", {"TableName": "tbl"})["Table"]
        other = engine.call("DescribeTable", {"TableName": "tbl"}, region=EU)["Table"]
        assert other["KeySchema"] == [{"AttributeName": "other", "KeyType": "HASH"}]


def test_bad_options_leave_no_file_open(tmp_path: Path) -> None:
    path = tmp_path / "data.db"
    with pytest.raises(ValueError):
        LocalEngine(path=path, replication="sometimes")
    LocalEngine(path=path).close()  # the file is not held by the failed constructor
