"""The size behind ItemCollectionMetrics (._collections): what it counts, and that a
durable engine measures it after a reopen from the partition alone.

The conformance suite (tests/conformance/test_item_collections.py) checks the
responses; here the byte count itself is checked, which DynamoDB only reports
rounded to whole GB.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from singletable._values import item_size
from singletable.backends.local import LocalEngine
from singletable.backends.local._collections import (
    ENTRY_OVERHEAD,
    GB,
    collection_size,
    size_estimate,
)


def _create(engine: LocalEngine) -> None:
    engine.call(
        "CreateTable",
        {
            "TableName": "coll",
            "BillingMode": "PAY_PER_REQUEST",
            "AttributeDefinitions": [
                {"AttributeName": name, "AttributeType": "S"} for name in ("PK", "SK", "L", "G")
            ],
            "KeySchema": [
                {"AttributeName": "PK", "KeyType": "HASH"},
                {"AttributeName": "SK", "KeyType": "RANGE"},
            ],
            "LocalSecondaryIndexes": [
                {
                    "IndexName": "byL",
                    "KeySchema": [
                        {"AttributeName": "PK", "KeyType": "HASH"},
                        {"AttributeName": "L", "KeyType": "RANGE"},
                    ],
                    "Projection": {"ProjectionType": "KEYS_ONLY"},
                }
            ],
            "GlobalSecondaryIndexes": [
                {
                    "IndexName": "byG",
                    "KeySchema": [{"AttributeName": "G", "KeyType": "HASH"}],
                    "Projection": {"ProjectionType": "ALL"},
                }
            ],
        },
    )


ITEMS: list[dict[str, Any]] = [
    {"PK": {"S": "a"}, "SK": {"S": "1"}, "L": {"S": "x"}, "G": {"S": "g"}, "p": {"S": "y" * 50}},
    {"PK": {"S": "a"}, "SK": {"S": "2"}, "p": {"S": "z" * 70}},  # no L: no LSI entry
    {"PK": {"S": "b"}, "SK": {"S": "1"}, "L": {"S": "w"}},  # another collection
]


def _expected_a() -> int:
    """Collection "a": both items, plus the one LSI entry (its keys) and its overhead;
    the GSI's entry does not count."""
    first, second = ITEMS[0], ITEMS[1]
    entry = {name: first[name] for name in ("PK", "SK", "L")}
    return item_size(first) + item_size(second) + item_size(entry) + ENTRY_OVERHEAD


def _pk(engine: LocalEngine, value: str) -> bytes:
    return engine.tables["coll"].key_from_item({"PK": {"S": value}, "SK": {"S": "1"}})[0]


def test_size_counts_items_and_lsi_entries_of_the_partition_only() -> None:
    engine = LocalEngine(ttl_sweep_interval=None)
    _create(engine)
    for item in ITEMS:
        engine.call("PutItem", {"TableName": "coll", "Item": item})
    table = engine.tables["coll"]
    assert collection_size(table, _pk(engine, "a")) == _expected_a()
    engine.call("DeleteItem", {"TableName": "coll", "Key": {"PK": {"S": "a"}, "SK": {"S": "1"}}})
    assert collection_size(table, _pk(engine, "a")) == item_size(ITEMS[1])
    assert collection_size(table, _pk(engine, "nobody")) == 0


def test_durable_engine_measures_after_reopen(tmp_path: Path) -> None:
    path = tmp_path / "data.db"
    engine = LocalEngine(path=path, ttl_sweep_interval=None)
    _create(engine)
    for item in ITEMS:
        engine.call("PutItem", {"TableName": "coll", "Item": item})
    before = collection_size(engine.tables["coll"], _pk(engine, "a"))
    engine.close()
    engine = LocalEngine(path=path, ttl_sweep_interval=None)
    try:
        assert collection_size(engine.tables["coll"], _pk(engine, "a")) == before == _expected_a()
        response = engine.call(
            "UpdateItem",
            {
                "TableName": "coll",
                "Key": {"PK": {"S": "a"}, "SK": {"S": "2"}},
                "UpdateExpression": "SET L = :l",
                "ExpressionAttributeValues": {":l": {"S": "q"}},
                "ReturnItemCollectionMetrics": "SIZE",
            },
        )
        assert response["ItemCollectionMetrics"] == {
            "ItemCollectionKey": {"PK": {"S": "a"}},
            "SizeEstimateRangeGB": [0.0, 1.0],
        }
        # The second item grew by L (2 bytes) and now has an LSI entry too.
        grown = collection_size(engine.tables["coll"], _pk(engine, "a"))
        assert grown == before + 2 + item_size(
            {"PK": {"S": "a"}, "SK": {"S": "2"}, "L": {"S": "q"}}
        ) + ENTRY_OVERHEAD
    finally:
        engine.close()


@pytest.mark.parametrize(
    ("size", "estimate"),
    [(0, [0.0, 1.0]), (GB - 1, [0.0, 1.0]), (GB, [1.0, 2.0]), (10 * GB + 5, [10.0, 11.0])],
)
def test_estimate_is_the_whole_gb_the_size_falls_in(size: int, estimate: list[float]) -> None:
    assert size_estimate(size) == estimate


def test_unprocessed_batch_writes_report_no_collection() -> None:
    # API Reference, BatchWriteItem: the metrics are of the collections "affected by
    # individual DeleteItem or PutItem operations": an unprocessed write affected none.
    engine = LocalEngine(ttl_sweep_interval=None)
    _create(engine)
    puts = [
        {"PutRequest": {"Item": {"PK": {"S": pk}, "SK": {"S": "1"}}}} for pk in ("a", "b", "c")
    ]
    with engine.faults.inject(operation="BatchWriteItem", unprocessed=1, times=1):
        response = engine.call(
            "BatchWriteItem",
            {"RequestItems": {"coll": puts}, "ReturnItemCollectionMetrics": "SIZE"},
        )
    (held,) = response["UnprocessedItems"]["coll"]
    reported = {m["ItemCollectionKey"]["PK"]["S"] for m in response["ItemCollectionMetrics"]["coll"]}
    assert reported == {"a", "b", "c"} - {held["PutRequest"]["Item"]["PK"]["S"]}
    assert all(
        m["SizeEstimateRangeGB"] == [0.0, 1.0] for m in response["ItemCollectionMetrics"]["coll"]
    )
