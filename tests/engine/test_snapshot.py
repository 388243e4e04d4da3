"""``engine.snapshot()`` / ``engine.restore()``: the whole engine state goes back.

Every test changes the engine after the snapshot in the ways a test suite does
(writes of every kind, tables created and deleted, settings changed) and checks
that a restore gives back exactly what DynamoDB's API showed before, as often as
it is restored.
"""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any

import pytest

from singletable.backends.local import LocalEngine
from singletable.backends.local.errors import DynamoDBError


def create(engine: LocalEngine, name: str) -> None:
    engine.call(
        "CreateTable",
        {
            "TableName": name,
            "KeySchema": [
                {"AttributeName": "pk", "KeyType": "HASH"},
                {"AttributeName": "sk", "KeyType": "RANGE"},
            ],
            "AttributeDefinitions": [
                {"AttributeName": "pk", "AttributeType": "S"},
                {"AttributeName": "sk", "AttributeType": "N"},
                {"AttributeName": "g", "AttributeType": "S"},
            ],
            "GlobalSecondaryIndexes": [
                {
                    "IndexName": "by_g",
                    "KeySchema": [
                        {"AttributeName": "g", "KeyType": "HASH"},
                        {"AttributeName": "sk", "KeyType": "RANGE"},
                    ],
                    "Projection": {"ProjectionType": "ALL"},
                }
            ],
            "LocalSecondaryIndexes": [
                {
                    "IndexName": "by_g_local",
                    "KeySchema": [
                        {"AttributeName": "pk", "KeyType": "HASH"},
                        {"AttributeName": "g", "KeyType": "RANGE"},
                    ],
                    "Projection": {"ProjectionType": "KEYS_ONLY"},
                }
            ],
            "BillingMode": "PAY_PER_REQUEST",
        },
    )


def item(pk: str, sk: int, g: str | None = None, **extra: Any) -> dict[str, Any]:
    result: dict[str, Any] = {"pk": {"S": pk}, "sk": {"N": str(sk)}}
    if g is not None:
        result["g"] = {"S": g}
    result.update(extra)
    return result


def dump(engine: LocalEngine) -> dict[str, Any]:
    """What the API shows of every table: descriptions, items, index entries, TTL."""
    state: dict[str, Any] = {}
    for name in engine.call("ListTables", {})["TableNames"]:
        description = engine.call("DescribeTable", {"TableName": name})["Table"]
        scans = {
            index: sorted(map(repr, engine.call("Scan", {"TableName": name, **extra})["Items"]))
            for index, extra in [
                ("", {}),
                ("by_g", {"IndexName": "by_g"}),
                ("by_g_local", {"IndexName": "by_g_local"}),
            ]
        }
        ttl = engine.call("DescribeTimeToLive", {"TableName": name})
        state[name] = (description, scans, ttl)
    return state


@pytest.fixture
def engine() -> Any:
    with LocalEngine(ttl_sweep_interval=None, clock=lambda: 1_000_000.0) as engine:
        create(engine, "orders")
        create(engine, "users")
        for n in range(50):
            engine.call(
                "PutItem", {"TableName": "orders", "Item": item(f"p{n % 7}", n, f"g{n % 3}")}
            )
            engine.call("PutItem", {"TableName": "users", "Item": item(f"u{n}", 0)})
        yield engine


def test_restore_undoes_every_kind_of_change(engine: LocalEngine) -> None:
    before = dump(engine)
    snapshot = engine.snapshot()
    for round_ in range(3):  # restored again and again: the snapshot never changes
        engine.call("PutItem", {"TableName": "orders", "Item": item("p1", 1000, "g9")})
        engine.call("PutItem", {"TableName": "orders", "Item": item("p1", 1, "changed")})
        engine.call("DeleteItem", {"TableName": "orders", "Key": item("p2", 2)})
        engine.call(
            "UpdateItem",
            {
                "TableName": "orders",
                "Key": item("p3", 3),
                "UpdateExpression": "SET g = :g, n = :n",
                "ExpressionAttributeValues": {":g": {"S": "moved"}, ":n": {"N": "1"}},
            },
        )
        engine.call(
            "BatchWriteItem",
            {
                "RequestItems": {
                    "users": [{"DeleteRequest": {"Key": item(f"u{n}", 0)}} for n in range(20)]
                }
            },
        )
        engine.call("DeleteTable", {"TableName": "users"})
        create(engine, f"new{round_}")
        engine.call(
            "UpdateTimeToLive",
            {
                "TableName": "orders",
                "TimeToLiveSpecification": {"Enabled": True, "AttributeName": "exp"},
            },
        )
        assert dump(engine) != before
        engine.restore(snapshot)
        assert dump(engine) == before


def test_queries_use_the_restored_structures(engine: LocalEngine) -> None:
    snapshot = engine.snapshot()
    for n in range(200):  # new partitions and new sort keys in existing ones
        engine.call("PutItem", {"TableName": "orders", "Item": item(f"p{n % 11}", 100 + n, "g0")})
    engine.restore(snapshot)
    query = engine.call(
        "Query",
        {
            "TableName": "orders",
            "KeyConditionExpression": "pk = :p AND sk BETWEEN :a AND :b",
            "ExpressionAttributeValues": {":p": {"S": "p0"}, ":a": {"N": "0"}, ":b": {"N": "200"}},
        },
    )
    assert [i["sk"]["N"] for i in query["Items"]] == [str(n) for n in range(0, 50, 7)]
    by_g = engine.call(
        "Query",
        {
            "TableName": "orders",
            "IndexName": "by_g",
            "KeyConditionExpression": "g = :g",
            "ExpressionAttributeValues": {":g": {"S": "g0"}},
        },
    )
    assert by_g["Count"] == 17
    pages, start = 0, None
    while True:  # a paged, segmented scan sees exactly the restored items
        request: dict[str, Any] = {"TableName": "orders", "Limit": 7}
        if start:
            request["ExclusiveStartKey"] = start
        page = engine.call("Scan", request)
        pages += page["Count"]
        start = page.get("LastEvaluatedKey")
        if not start:
            break
    assert pages == 50


def test_stream_records_and_ttl_go_back(engine: LocalEngine) -> None:
    engine.call(
        "UpdateTable",
        {
            "TableName": "users",
            "StreamSpecification": {"StreamEnabled": True, "StreamViewType": "KEYS_ONLY"},
        },
    )
    engine.call(
        "UpdateTimeToLive",
        {
            "TableName": "users",
            "TimeToLiveSpecification": {"Enabled": True, "AttributeName": "exp"},
        },
    )
    engine.call("PutItem", {"TableName": "users", "Item": item("old", 0, exp={"N": "10"})})
    snapshot = engine.snapshot()
    arn = engine.call("DescribeTable", {"TableName": "users"})["Table"]["LatestStreamArn"]

    def records() -> int:
        shard = engine.call("DescribeStream", {"StreamArn": arn})["StreamDescription"]["Shards"][0]
        iterator = engine.call(
            "GetShardIterator",
            {"StreamArn": arn, "ShardId": shard["ShardId"], "ShardIteratorType": "TRIM_HORIZON"},
        )["ShardIterator"]
        return len(engine.call("GetRecords", {"ShardIterator": iterator})["Records"])

    assert records() == 1
    assert engine.sweep_ttl() == 1  # the expired item goes, with a REMOVE record
    engine.call("PutItem", {"TableName": "users", "Item": item("more", 0, exp={"N": "20"})})
    assert records() == 3
    engine.restore(snapshot)
    assert records() == 1
    # The TTL tracking came back: the restored "old" item expires again, only it.
    assert engine.sweep_ttl() == 1
    assert records() == 2


def test_a_restored_engine_forgets_transaction_tokens(engine: LocalEngine) -> None:
    snapshot = engine.snapshot()
    request = {
        "ClientRequestToken": "tok",
        "TransactItems": [{"Put": {"TableName": "users", "Item": item("t", 1)}}],
    }
    engine.call("TransactWriteItems", request)
    engine.restore(snapshot)
    engine.call(
        "TransactWriteItems",
        {**request, "TransactItems": [{"Put": {"TableName": "users", "Item": item("t", 2)}}]},
    )


def test_random_changes_always_restore(engine: LocalEngine) -> None:
    before = dump(engine)
    snapshot = engine.snapshot()
    rng = random.Random(16)
    for _ in range(5):
        for _ in range(300):
            pk, sk = f"p{rng.randrange(12)}", rng.randrange(80)
            if rng.random() < 0.6:
                g = {"g": {"S": f"g{rng.randrange(4)}"}} if rng.random() < 0.8 else {}
                engine.call("PutItem", {"TableName": "orders", "Item": {**item(pk, sk), **g}})
            else:
                engine.call("DeleteItem", {"TableName": "orders", "Key": item(pk, sk)})
        engine.restore(snapshot)
        assert dump(engine) == before


def test_refused_on_a_durable_engine_and_across_engines(
    tmp_path: Path, engine: LocalEngine
) -> None:
    durable = LocalEngine(path=tmp_path / "data.db", ttl_sweep_interval=None)
    with durable, pytest.raises(TypeError, match="in-memory engine"):
        durable.snapshot()
    other = LocalEngine(ttl_sweep_interval=None)
    with other, pytest.raises(ValueError, match="another engine"):
        other.restore(engine.snapshot())


def test_a_snapshot_does_not_see_later_writes(engine: LocalEngine) -> None:
    snapshot = engine.snapshot()
    engine.call("DeleteTable", {"TableName": "orders"})
    create(engine, "new0")
    engine.restore(snapshot)
    with pytest.raises(DynamoDBError) as raised:
        engine.call("DescribeTable", {"TableName": "new0"})
    assert raised.value.code == "ResourceNotFoundException"
    assert engine.call("Scan", {"TableName": "orders", "Select": "COUNT"})["Count"] == 50
