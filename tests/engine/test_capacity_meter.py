"""``engine.capacity()``: consumed capacity counted per table and index, whether or
not the requests asked for it, and without changing any response."""

from __future__ import annotations

from typing import Any

import pytest

from singletable.backends.local import DynamoDBError, LocalEngine


def make(engine: LocalEngine) -> None:
    engine.call(
        "CreateTable",
        {
            "TableName": "tbl",
            "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}],
            "AttributeDefinitions": [
                {"AttributeName": "pk", "AttributeType": "S"},
                {"AttributeName": "g", "AttributeType": "S"},
            ],
            "GlobalSecondaryIndexes": [
                {
                    "IndexName": "by_g",
                    "KeySchema": [{"AttributeName": "g", "KeyType": "HASH"}],
                    "Projection": {"ProjectionType": "ALL"},
                }
            ],
            "BillingMode": "PAY_PER_REQUEST",
        },
    )


def item(pk: str, g: str | None = None, size: int = 0) -> dict[str, Any]:
    result: dict[str, Any] = {"pk": {"S": pk}}
    if g is not None:
        result["g"] = {"S": g}
    if size:
        result["data"] = {"S": "x" * size}
    return result


@pytest.fixture
def engine() -> Any:
    with LocalEngine(ttl_sweep_interval=None, clock=lambda: 1_000_000.0) as engine:
        make(engine)
        yield engine


def requests() -> list[tuple[str, dict[str, Any]]]:
    return [
        ("PutItem", {"TableName": "tbl", "Item": item("a", "x", 3000)}),
        ("PutItem", {"TableName": "tbl", "Item": item("b")}),
        ("GetItem", {"TableName": "tbl", "Key": {"pk": {"S": "a"}}}),
        ("GetItem", {"TableName": "tbl", "Key": {"pk": {"S": "a"}}, "ConsistentRead": True}),
        (
            "UpdateItem",
            {
                "TableName": "tbl",
                "Key": {"pk": {"S": "b"}},
                "UpdateExpression": "SET g = :g",
                "ExpressionAttributeValues": {":g": {"S": "y"}},
            },
        ),
        (
            "Query",
            {
                "TableName": "tbl",
                "IndexName": "by_g",
                "KeyConditionExpression": "g = :g",
                "ExpressionAttributeValues": {":g": {"S": "x"}},
            },
        ),
        ("Scan", {"TableName": "tbl"}),
        (
            "BatchWriteItem",
            {
                "RequestItems": {
                    "tbl": [{"PutRequest": {"Item": item(f"c{n}", "z")}} for n in range(3)]
                }
            },
        ),
        (
            "BatchGetItem",
            {"RequestItems": {"tbl": {"Keys": [{"pk": {"S": "a"}}, {"pk": {"S": "c0"}}]}}},
        ),
        (
            "TransactWriteItems",
            {"TransactItems": [{"Put": {"TableName": "tbl", "Item": item("d")}}]},
        ),
        (
            "TransactGetItems",
            {"TransactItems": [{"Get": {"TableName": "tbl", "Key": {"pk": {"S": "d"}}}}]},
        ),
        ("DeleteItem", {"TableName": "tbl", "Key": {"pk": {"S": "a"}}}),
    ]


@pytest.mark.parametrize("mode", [None, "NONE", "TOTAL", "INDEXES"])
def test_responses_are_those_of_an_unmetered_engine(engine: LocalEngine, mode: str | None) -> None:
    with LocalEngine(ttl_sweep_interval=None, clock=lambda: 1_000_000.0) as plain:
        make(plain)
        with engine.capacity() as used:
            for operation, request in requests():
                if mode is not None:
                    request["ReturnConsumedCapacity"] = mode
                assert engine.call(operation, request) == plain.call(operation, request)
                body = '{"TableName":"tbl","Key":{"pk":{"S":"b"}}}'
                assert engine.call_json("GetItem", body) == plain.call_json("GetItem", body)
    assert used.requests == len(requests()) * 2


def test_units_per_table_and_index(engine: LocalEngine) -> None:
    with engine.capacity() as used:
        # 3,000+ bytes: 3 write units in the table, 3 in the GSI it is projected into.
        engine.call("PutItem", {"TableName": "tbl", "Item": item("a", "x", 3000)})
    assert (used.write_units, used.read_units) == (6.0, 0.0)
    assert used.table("tbl").write_units == 6.0
    assert used.index("tbl", "by_g").write_units == 3.0

    with engine.capacity() as reads:
        engine.call("GetItem", {"TableName": "tbl", "Key": {"pk": {"S": "a"}}})  # 0.5
        engine.call(
            "GetItem", {"TableName": "tbl", "Key": {"pk": {"S": "a"}}, "ConsistentRead": True}
        )  # 1
        engine.call(
            "Query",
            {
                "TableName": "tbl",
                "IndexName": "by_g",
                "KeyConditionExpression": "g = :g",
                "ExpressionAttributeValues": {":g": {"S": "x"}},
            },
        )  # 0.5, on the index
    assert reads.read_units == 2.0
    assert reads.index("tbl", "by_g").read_units == 0.5
    assert reads.requests == 3
    assert reads.table("other").read_units == 0.0


def test_transactions_cost_double(engine: LocalEngine) -> None:
    with engine.capacity() as used:
        engine.call(
            "TransactWriteItems",
            {"TransactItems": [{"Put": {"TableName": "tbl", "Item": item("t")}}]},
        )
    assert used.write_units == 2.0


def test_meters_nest_and_stop_counting_when_closed(engine: LocalEngine) -> None:
    with engine.capacity() as outer:
        engine.call("PutItem", {"TableName": "tbl", "Item": item("a")})
        with engine.capacity() as inner:
            engine.call("PutItem", {"TableName": "tbl", "Item": item("b")})
        engine.call("PutItem", {"TableName": "tbl", "Item": item("c")})
    engine.call("PutItem", {"TableName": "tbl", "Item": item("d")})
    assert (outer.write_units, inner.write_units) == (3.0, 1.0)
    assert engine._intercept is None  # the hot path is back to one attribute check


def test_a_partial_batch_counts_what_it_wrote(engine: LocalEngine) -> None:
    writes = [{"PutRequest": {"Item": item(f"i{n}")}} for n in range(5)]
    fault = engine.faults.inject(unprocessed=2, operation="BatchWriteItem")
    with fault, engine.capacity() as used:
        engine.call("BatchWriteItem", {"RequestItems": {"tbl": writes}})
    assert used.write_units == 3.0


def test_failed_requests_are_not_counted(engine: LocalEngine) -> None:
    with engine.capacity() as used, pytest.raises(DynamoDBError):
        engine.call("GetItem", {"TableName": "missing", "Key": {"pk": {"S": "a"}}})
    assert used.requests == 0
