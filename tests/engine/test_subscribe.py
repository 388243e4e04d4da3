"""In-process stream subscriptions, stream retention and iterators, and TTL expiry.

Everything time-dependent runs on an injected clock with explicit TTL sweeps
(``LocalEngine(clock=..., ttl_sweep_interval=None)``); one test checks that the
background sweeper deletes an expired item within a few seconds.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from singletable.backends.local import LocalEngine
from singletable.backends.local.errors import DynamoDBError

Record = dict[str, Any]
NOW = 1_700_000_000.0
DAY = 24 * 3600


class Clock:
    """A settable clock."""

    def __init__(self, now: float = NOW) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def engine(clock: Clock) -> Iterator[LocalEngine]:
    with LocalEngine(clock=clock, ttl_sweep_interval=None) as engine:
        yield engine


def create(
    engine: LocalEngine, name: str = "orders", view: str | None = None, **extra: Any
) -> None:
    request: dict[str, Any] = {
        "TableName": name,
        "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}],
        "AttributeDefinitions": [{"AttributeName": "pk", "AttributeType": "S"}],
        "BillingMode": "PAY_PER_REQUEST",
    }
    if view is not None:
        request["StreamSpecification"] = {"StreamEnabled": True, "StreamViewType": view}
    request.update(extra)
    engine.call("CreateTable", request)


def put(engine: LocalEngine, pk: str, table: str = "orders", **attributes: Any) -> None:
    item: dict[str, Any] = {"pk": {"S": pk}}
    item.update(attributes)
    engine.call("PutItem", {"TableName": table, "Item": item})


def get(engine: LocalEngine, pk: str, table: str = "orders") -> Any:
    return engine.call("GetItem", {"TableName": table, "Key": {"pk": {"S": pk}}}).get("Item")


def delete(engine: LocalEngine, pk: str, table: str = "orders") -> None:
    engine.call("DeleteItem", {"TableName": table, "Key": {"pk": {"S": pk}}})


def names(records: list[Record]) -> list[tuple[str, str]]:
    return [(r["eventName"], r["dynamodb"]["Keys"]["pk"]["S"]) for r in records]


def enable_ttl(engine: LocalEngine, table: str = "orders", attribute: str = "expires") -> None:
    engine.call(
        "UpdateTimeToLive",
        {
            "TableName": table,
            "TimeToLiveSpecification": {"Enabled": True, "AttributeName": attribute},
        },
    )


# --------------------------------------------------------------------------- subscriptions


def test_callback_sees_each_record_before_the_write_returns(engine: LocalEngine) -> None:
    create(engine, view="NEW_AND_OLD_IMAGES")
    seen: list[Record] = []
    engine.subscribe("orders", seen.append)
    put(engine, "a", v={"N": "1"})
    assert names(seen) == [("INSERT", "a")]
    put(engine, "a", v={"N": "2"})
    delete(engine, "a")
    assert names(seen) == [("INSERT", "a"), ("MODIFY", "a"), ("REMOVE", "a")]
    assert seen[1]["dynamodb"]["OldImage"]["v"] == {"N": "1"}
    assert seen[1]["dynamodb"]["NewImage"]["v"] == {"N": "2"}


def test_subscribers_get_the_records_get_records_returns(engine: LocalEngine) -> None:
    create(engine, view="NEW_IMAGE")
    seen: list[Record] = []
    engine.subscribe("orders", seen.append)
    put(engine, "a")
    arn = engine.call("DescribeTable", {"TableName": "orders"})["Table"]["LatestStreamArn"]
    shard = engine.call("DescribeStream", {"StreamArn": arn})["StreamDescription"]["Shards"][0]
    iterator = engine.call(
        "GetShardIterator",
        {"StreamArn": arn, "ShardId": shard["ShardId"], "ShardIteratorType": "TRIM_HORIZON"},
    )["ShardIterator"]
    assert engine.call("GetRecords", {"ShardIterator": iterator})["Records"] == seen


def test_subscriber_copies_are_its_own(engine: LocalEngine) -> None:
    create(engine, view="NEW_IMAGE")
    seen: list[Record] = []
    engine.subscribe("orders", lambda record: record["dynamodb"]["NewImage"].clear())
    engine.subscribe("orders", seen.append)
    put(engine, "a", v={"N": "1"})
    assert seen[0]["dynamodb"]["NewImage"] == {"pk": {"S": "a"}, "v": {"N": "1"}}
    assert get(engine, "a") == {"pk": {"S": "a"}, "v": {"N": "1"}}


def test_default_view_follows_the_table_stream(engine: LocalEngine) -> None:
    create(engine)
    seen: list[Record] = []
    engine.subscribe("orders", seen.append)
    put(engine, "a")
    assert seen == []  # no stream: nothing, as a Lambda trigger would see nothing
    engine.call(
        "UpdateTable",
        {
            "TableName": "orders",
            "StreamSpecification": {"StreamEnabled": True, "StreamViewType": "KEYS_ONLY"},
        },
    )
    put(engine, "b")
    assert names(seen) == [("INSERT", "b")]
    assert "NewImage" not in seen[0]["dynamodb"]


def test_an_explicit_view_needs_no_stream(engine: LocalEngine) -> None:
    create(engine, view="KEYS_ONLY")
    create(engine, "plain")
    images: list[Record] = []
    plain: list[Record] = []
    engine.subscribe("orders", images.append, view="NEW_AND_OLD_IMAGES")
    engine.subscribe("plain", plain.append, view="OLD_IMAGE")
    put(engine, "a", v={"N": "1"})
    put(engine, "p", table="plain")
    put(engine, "p", table="plain", v={"N": "1"})
    assert images[0]["dynamodb"]["NewImage"] == {"pk": {"S": "a"}, "v": {"N": "1"}}
    assert images[0]["dynamodb"]["StreamViewType"] == "NEW_AND_OLD_IMAGES"
    assert names(plain) == [("INSERT", "p"), ("MODIFY", "p")]
    assert plain[1]["dynamodb"]["OldImage"] == {"pk": {"S": "p"}}
    assert "NewImage" not in plain[1]["dynamodb"]


def test_close_ends_a_subscription(engine: LocalEngine) -> None:
    create(engine, view="KEYS_ONLY")
    seen: list[Record] = []
    with engine.subscribe("orders", seen.append):
        put(engine, "a")
    put(engine, "b")
    assert names(seen) == [("INSERT", "a")]


def test_subscribing_to_a_missing_table_fails(engine: LocalEngine) -> None:
    with pytest.raises(DynamoDBError) as caught:
        engine.subscribe("nope", print)
    assert caught.value.code == "ResourceNotFoundException"
    with pytest.raises(ValueError, match="view must be one of"):
        create(engine)
        engine.subscribe("orders", print, view="EVERYTHING")


def test_a_handler_writing_back_sees_its_own_records_after_the_current_one(
    engine: LocalEngine,
) -> None:
    """The Lambda-trigger pattern: a handler that writes to the engine, no polling."""
    create(engine, view="NEW_IMAGE")
    create(engine, "audit", view="NEW_IMAGE")
    order: list[str] = []

    def handler(record: Record) -> None:
        key = record["dynamodb"]["Keys"]["pk"]["S"]
        order.append(f"start {key}")
        if record["eventName"] == "INSERT" and not key.startswith("copy"):
            put(engine, f"copy-{key}")  # a record of the same table, delivered later
            put(engine, key, table="audit", seen={"BOOL": True})
        order.append(f"end {key}")

    engine.subscribe("orders", handler)
    put(engine, "a")
    assert order == ["start a", "end a", "start copy-a", "end copy-a"]
    assert get(engine, "a", table="audit") == {"pk": {"S": "a"}, "seen": {"BOOL": True}}


def test_a_handler_error_reaches_the_writer_after_the_write(engine: LocalEngine) -> None:
    create(engine, view="KEYS_ONLY")
    seen: list[Record] = []

    def failing(record: Record) -> None:
        raise RuntimeError("handler failed")

    engine.subscribe("orders", failing)
    engine.subscribe("orders", seen.append)
    with pytest.raises(RuntimeError, match="handler failed"):
        put(engine, "a")
    assert get(engine, "a") == {"pk": {"S": "a"}}  # the write was committed
    assert names(seen) == [("INSERT", "a")]  # and the other subscriber still got it


def test_records_arrive_once_and_in_commit_order_across_threads(engine: LocalEngine) -> None:
    create(engine, view="KEYS_ONLY")
    seen: list[Record] = []
    engine.subscribe("orders", seen.append)

    def writer(n: int) -> None:
        for i in range(50):
            put(engine, f"{n}-{i}")

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(seen) == 200
    numbers = [int(r["dynamodb"]["SequenceNumber"]) for r in seen]
    assert numbers == sorted(numbers) and len(set(numbers)) == 200


def test_record_stream_iterator_form(engine: LocalEngine) -> None:
    create(engine, view="NEW_IMAGE")
    with engine.stream_records("orders") as records:
        put(engine, "a")
        put(engine, "b")
        assert names(list(records)) == [("INSERT", "a"), ("INSERT", "b")]
        assert list(records) == []
        delete(engine, "a")
        assert names(records.drain()) == [("REMOVE", "a")]
        with pytest.raises(TimeoutError):
            records.wait(1, timeout=0.01)
    put(engine, "c")
    assert records.drain() == []


def test_lambda_event_for_a_handler(engine: LocalEngine) -> None:
    create(engine, view="NEW_IMAGE")
    enable_ttl(engine)
    arn = engine.call("DescribeTable", {"TableName": "orders"})["Table"]["LatestStreamArn"]
    handled: list[str] = []

    def handler(event: dict[str, Any], context: Any) -> None:
        for record in event["Records"]:
            handled.append(f"{record['eventName']} {record['eventSourceARN'] == arn}")
            if "userIdentity" in record:
                handled.append(record["userIdentity"]["principalId"])

    with engine.stream_records("orders") as records:
        put(engine, "a", expires={"N": str(int(NOW) - 1)})
        engine.sweep_ttl()
        handler(records.lambda_event(), None)
    assert handled == ["INSERT True", "REMOVE True", "dynamodb.amazonaws.com"]


# --------------------------------------------------------------------------- retention, iterators


def _iterator(engine: LocalEngine, kind: str = "TRIM_HORIZON", **extra: Any) -> str:
    arn = engine.call("DescribeTable", {"TableName": "orders"})["Table"]["LatestStreamArn"]
    shard = engine.call("DescribeStream", {"StreamArn": arn})["StreamDescription"]["Shards"][0]
    request = {"StreamArn": arn, "ShardId": shard["ShardId"], "ShardIteratorType": kind}
    request.update(extra)
    iterator: str = engine.call("GetShardIterator", request)["ShardIterator"]
    return iterator


def _error(engine: LocalEngine, operation: str, request: dict[str, Any]) -> DynamoDBError:
    with pytest.raises(DynamoDBError) as caught:
        engine.call(operation, request)
    return caught.value


def test_records_older_than_24_hours_are_trimmed(engine: LocalEngine, clock: Clock) -> None:
    create(engine, view="KEYS_ONLY")
    put(engine, "old")
    clock.now += DAY / 2
    put(engine, "new")
    clock.now += DAY / 2 - 1
    stale = _iterator(engine)  # at the oldest record, still retained
    clock.now += 2
    records = engine.call("GetRecords", {"ShardIterator": _iterator(engine)})["Records"]
    assert names(records) == [("INSERT", "new")]
    error = _error(engine, "GetRecords", {"ShardIterator": stale})
    assert (error.code, error.message) == (
        "TrimmedDataAccessException",
        "The data you are trying to access has been trimmed.",
    )


def test_an_old_sequence_number_is_trimmed(engine: LocalEngine, clock: Clock) -> None:
    create(engine, view="KEYS_ONLY")
    put(engine, "old")
    number = engine.call("GetRecords", {"ShardIterator": _iterator(engine)})["Records"][0][
        "dynamodb"
    ]["SequenceNumber"]
    clock.now += DAY + 1
    with pytest.raises(DynamoDBError) as caught:
        _iterator(engine, "AT_SEQUENCE_NUMBER", SequenceNumber=number)
    assert caught.value.code == "TrimmedDataAccessException"


def test_iterators_expire_after_15_minutes(engine: LocalEngine, clock: Clock) -> None:
    create(engine, view="KEYS_ONLY")
    iterator = _iterator(engine)
    clock.now += 15 * 60
    page = engine.call("GetRecords", {"ShardIterator": iterator})  # still valid
    clock.now += 15 * 60 - 1
    engine.call("GetRecords", {"ShardIterator": page["NextShardIterator"]})  # renewed
    clock.now += 1
    error = _error(engine, "GetRecords", {"ShardIterator": iterator})
    assert (error.code, error.message) == (
        "ExpiredIteratorException",
        "The provided iterator exceeds the maximum age allowed.",
    )


def test_a_forged_iterator_is_refused(engine: LocalEngine) -> None:
    create(engine, view="KEYS_ONLY")
    iterator = _iterator(engine)
    forged = iterator[:-6] + ("AAAAAA" if not iterator.endswith("AAAAAA") else "BBBBBB")
    assert _error(engine, "GetRecords", {"ShardIterator": forged}).code == "ValidationException"
    other = LocalEngine(clock=Clock(), ttl_sweep_interval=None)
    create(other, view="KEYS_ONLY")
    error = _error(other, "GetRecords", {"ShardIterator": iterator})
    assert error.code in ("ValidationException", "ResourceNotFoundException")


def test_a_disabled_stream_is_gone_after_the_retention_period(
    engine: LocalEngine, clock: Clock
) -> None:
    create(engine, view="KEYS_ONLY")
    arn = engine.call("DescribeTable", {"TableName": "orders"})["Table"]["LatestStreamArn"]
    put(engine, "a")
    engine.call("DeleteTable", {"TableName": "orders"})
    clock.now += DAY - 1
    described = engine.call("DescribeStream", {"StreamArn": arn})["StreamDescription"]
    assert described["StreamStatus"] == "DISABLED"
    clock.now += 1
    error = _error(engine, "DescribeStream", {"StreamArn": arn})
    assert error.code == "ResourceNotFoundException"
    assert engine.call("ListStreams", {})["Streams"] == []


def test_a_closed_shard_ends_the_iteration(engine: LocalEngine) -> None:
    create(engine, view="KEYS_ONLY")
    put(engine, "a")
    iterator = _iterator(engine)
    engine.call(
        "UpdateTable", {"TableName": "orders", "StreamSpecification": {"StreamEnabled": False}}
    )
    page = engine.call("GetRecords", {"ShardIterator": iterator})
    assert names(page["Records"]) == [("INSERT", "a")]
    assert "NextShardIterator" not in page


def test_stream_settings_survive_a_reopen(tmp_path: Path, clock: Clock) -> None:
    path = tmp_path / "db.sqlite"
    with LocalEngine(path=path, clock=clock, ttl_sweep_interval=None) as engine:
        create(engine, view="NEW_IMAGE")
        enable_ttl(engine)
        put(engine, "a", expires={"N": str(int(NOW) + 10)})
        before = engine.call("DescribeTable", {"TableName": "orders"})["Table"]
    clock.now += 60
    with LocalEngine(path=path, clock=clock, ttl_sweep_interval=None) as engine:
        table = engine.call("DescribeTable", {"TableName": "orders"})["Table"]
        assert table["StreamSpecification"] == before["StreamSpecification"]
        assert table["LatestStreamArn"] == before["LatestStreamArn"]
        ttl = engine.call("DescribeTimeToLive", {"TableName": "orders"})
        assert ttl["TimeToLiveDescription"]["TimeToLiveStatus"] == "ENABLED"
        with engine.stream_records("orders") as records:
            put(engine, "b")
            assert engine.sweep_ttl() == 1  # the item written before the reopen
            assert names(records.drain()) == [("INSERT", "b"), ("REMOVE", "a")]
        assert engine.call("GetRecords", {"ShardIterator": _iterator(engine)})["Records"]


# --------------------------------------------------------------------------- TTL


def test_sweep_deletes_exactly_the_expired_items(engine: LocalEngine, clock: Clock) -> None:
    create(engine)
    enable_ttl(engine)
    now = int(NOW)
    put(engine, "past", expires={"N": str(now - 10)})
    put(engine, "fraction", expires={"N": f"{now - 1}.5"})
    put(engine, "now", expires={"N": str(now)})  # not less than the current time
    put(engine, "future", expires={"N": str(now + 10)})
    put(engine, "ancient", expires={"N": str(now - 6 * 365 * DAY)})  # > 5 years: ignored
    put(engine, "string", expires={"S": str(now - 10)})  # not a Number: ignored
    put(engine, "set", expires={"NS": [str(now - 10)]})
    put(engine, "none")
    assert get(engine, "past") is not None  # expired, still returned until the sweep
    assert engine.sweep_ttl() == 2
    remaining = {i["pk"]["S"] for i in engine.call("Scan", {"TableName": "orders"})["Items"]}
    assert remaining == {"now", "future", "ancient", "string", "set", "none"}
    clock.now += 11
    assert engine.sweep_ttl() == 2
    assert get(engine, "now") is None and get(engine, "future") is None
    assert engine.sweep_ttl() == 0


def test_an_item_written_again_follows_its_new_ttl(engine: LocalEngine, clock: Clock) -> None:
    create(engine)
    enable_ttl(engine)
    put(engine, "moved", expires={"N": str(int(NOW) - 1)})
    put(engine, "moved", expires={"N": str(int(NOW) + 100)})
    put(engine, "cleared", expires={"N": str(int(NOW) - 1)})
    engine.call(
        "UpdateItem",
        {
            "TableName": "orders",
            "Key": {"pk": {"S": "cleared"}},
            "UpdateExpression": "REMOVE expires",
        },
    )
    put(engine, "gone", expires={"N": str(int(NOW) - 1)})
    delete(engine, "gone")
    put(engine, "gone", expires={"N": str(int(NOW) + 50)})
    assert engine.sweep_ttl() == 0
    clock.now += 60
    assert engine.sweep_ttl() == 1
    assert get(engine, "gone") is None and get(engine, "moved") is not None


def test_items_written_before_ttl_was_enabled_expire(engine: LocalEngine) -> None:
    create(engine)
    put(engine, "early", expires={"N": str(int(NOW) - 5)})
    assert engine.sweep_ttl() == 0
    enable_ttl(engine)
    assert engine.sweep_ttl() == 1


def test_disabling_ttl_stops_deletions(engine: LocalEngine) -> None:
    create(engine)
    enable_ttl(engine)
    put(engine, "a", expires={"N": str(int(NOW) - 5)})
    engine.call(
        "UpdateTimeToLive",
        {
            "TableName": "orders",
            "TimeToLiveSpecification": {"Enabled": False, "AttributeName": "expires"},
        },
    )
    assert engine.sweep_ttl() == 0
    assert get(engine, "a") is not None


def test_ttl_deletions_are_service_removes_in_the_stream(engine: LocalEngine) -> None:
    create(engine, view="NEW_AND_OLD_IMAGES")
    enable_ttl(engine)
    with engine.stream_records("orders") as records:
        put(engine, "a", expires={"N": str(int(NOW) - 5)})
        delete(engine, "a")
        put(engine, "b", expires={"N": str(int(NOW) - 5)})
        engine.sweep_ttl()
        got = records.drain()
    assert names(got) == [("INSERT", "a"), ("REMOVE", "a"), ("INSERT", "b"), ("REMOVE", "b")]
    assert "userIdentity" not in got[1]  # a user's delete
    assert got[3]["userIdentity"] == {"Type": "Service", "PrincipalId": "dynamodb.amazonaws.com"}
    assert got[3]["dynamodb"]["OldImage"]["pk"] == {"S": "b"}


def test_ttl_deletions_keep_indexes_consistent(engine: LocalEngine) -> None:
    create(
        engine,
        AttributeDefinitions=[
            {"AttributeName": "pk", "AttributeType": "S"},
            {"AttributeName": "status", "AttributeType": "S"},
        ],
        GlobalSecondaryIndexes=[
            {
                "IndexName": "by-status",
                "KeySchema": [{"AttributeName": "status", "KeyType": "HASH"}],
                "Projection": {"ProjectionType": "ALL"},
            }
        ],
    )
    enable_ttl(engine)
    put(engine, "a", status={"S": "open"}, expires={"N": str(int(NOW) - 5)})
    put(engine, "b", status={"S": "open"})
    assert engine.sweep_ttl() == 1
    query = {
        "TableName": "orders",
        "IndexName": "by-status",
        "KeyConditionExpression": "#s = :s",
        "ExpressionAttributeNames": {"#s": "status"},
        "ExpressionAttributeValues": {":s": {"S": "open"}},
    }
    assert [i["pk"]["S"] for i in engine.call("Query", query)["Items"]] == ["b"]


def test_a_sweep_reads_only_expired_items(engine: LocalEngine, clock: Clock) -> None:
    """Not O(table): after TTL is enabled, sweeps never scan the table."""
    create(engine)
    for n in range(200):
        put(engine, f"item{n}", expires={"N": str(int(NOW) + n)})
    enable_ttl(engine)
    store = engine.tables["orders"].store

    def no_scan(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("a sweep scanned the table")

    store.scan = no_scan  # type: ignore[method-assign]
    clock.now += 10.5
    assert engine.sweep_ttl() == 11


def test_the_background_sweeper_deletes_expired_items(clock: Clock) -> None:
    with LocalEngine(ttl_sweep_interval=0.02) as engine:
        create(engine, view="KEYS_ONLY")
        with engine.stream_records("orders") as records:
            enable_ttl(engine)
            put(engine, "a", expires={"N": str(int(time.time()) - 5)})
            got = records.wait(2, timeout=5)  # INSERT, then the sweeper's REMOVE
        assert names(got) == [("INSERT", "a"), ("REMOVE", "a")]
        assert got[1]["userIdentity"]["Type"] == "Service"
        assert get(engine, "a") is None
        thread = engine.ttl._thread
        assert thread is not None and thread.is_alive()
    thread.join(timeout=5)
    assert not thread.is_alive()  # close() stopped it


def test_no_sweeper_thread_without_ttl(engine: LocalEngine) -> None:
    with LocalEngine() as other:
        create(other)
        assert other.ttl._thread is None
