"""Index maintenance follows what a write changed (issue 19, "Write path").

An update that touches no attribute an index entry holds leaves a KEYS_ONLY or
INCLUDE entry as it is (the same stored object), one that changes an included
attribute refreshes it, an ALL entry always shows the new item, and a changed
index key moves the entry. The stateful fuzz (test_index_fuzz.py) checks the
entries against the table after every write; this checks the work skipped.
"""

from __future__ import annotations

from typing import Any

from singletable.backends.local import LocalEngine
from singletable.backends.local.storage import MemoryTableStore


def _index(name: str, projection: dict[str, Any]) -> dict[str, Any]:
    return {
        "IndexName": name,
        "KeySchema": [{"AttributeName": "G", "KeyType": "HASH"}],
        "Projection": projection,
    }


def _engine() -> LocalEngine:
    engine = LocalEngine(ttl_sweep_interval=None)
    engine.call(
        "CreateTable",
        {
            "TableName": "tbl",
            "KeySchema": [{"AttributeName": "PK", "KeyType": "HASH"}],
            "AttributeDefinitions": [
                {"AttributeName": "PK", "AttributeType": "S"},
                {"AttributeName": "G", "AttributeType": "S"},
            ],
            "GlobalSecondaryIndexes": [
                _index("keys", {"ProjectionType": "KEYS_ONLY"}),
                _index("incl", {"ProjectionType": "INCLUDE", "NonKeyAttributes": ["x"]}),
                _index("all", {"ProjectionType": "ALL"}),
            ],
            "BillingMode": "PAY_PER_REQUEST",
        },
    )
    engine.call(
        "PutItem",
        {"TableName": "tbl", "Item": {"PK": {"S": "p"}, "G": {"S": "g1"}, "x": {"N": "1"}, "y": {"N": "1"}}},
    )
    return engine


def _entries(engine: LocalEngine, index: str) -> list[tuple[bytes, bytes, dict[str, Any]]]:
    found = engine.tables["tbl"].index(index)
    assert found is not None
    return list(found.store.scan())


def _records(engine: LocalEngine, index: str) -> list[bytes | None]:
    """The stored records of the entries (the same object: the entry was left alone)."""
    found = engine.tables["tbl"].index(index)
    assert found is not None and isinstance(found.store, MemoryTableStore)
    store = found.store
    return [store.record(pk, sk) for pk, sk, _ in store.scan()]


def _set(engine: LocalEngine, expression: str, value: dict[str, Any]) -> None:
    engine.call(
        "UpdateItem",
        {
            "TableName": "tbl",
            "Key": {"PK": {"S": "p"}},
            "UpdateExpression": expression,
            "ExpressionAttributeValues": {":v": value},
        },
    )


def _query(engine: LocalEngine, index: str, g: str) -> list[dict[str, Any]]:
    response = engine.call(
        "Query",
        {
            "TableName": "tbl",
            "IndexName": index,
            "KeyConditionExpression": "G = :g",
            "ExpressionAttributeValues": {":g": {"S": g}},
        },
    )
    items: list[dict[str, Any]] = response["Items"]
    return items


def test_an_update_of_an_unprojected_attribute_leaves_the_entries_alone() -> None:
    engine = _engine()
    keys_before, incl_before = _records(engine, "keys"), _records(engine, "incl")
    _set(engine, "SET y = :v", {"N": "2"})
    keys_after, incl_after = _records(engine, "keys"), _records(engine, "incl")
    assert keys_after[0] is keys_before[0] is not None
    assert incl_after[0] is incl_before[0] is not None
    # The ALL entry is the new item.
    assert _query(engine, "all", "g1") == [
        {"PK": {"S": "p"}, "G": {"S": "g1"}, "x": {"N": "1"}, "y": {"N": "2"}}
    ]


def test_an_update_of_an_included_attribute_refreshes_the_entry() -> None:
    engine = _engine()
    keys_before = _records(engine, "keys")
    _set(engine, "SET x = :v", {"N": "5"})
    assert _records(engine, "keys")[0] is keys_before[0] is not None
    assert _query(engine, "incl", "g1") == [{"PK": {"S": "p"}, "G": {"S": "g1"}, "x": {"N": "5"}}]
    assert _query(engine, "keys", "g1") == [{"PK": {"S": "p"}, "G": {"S": "g1"}}]


def test_a_changed_index_key_moves_every_entry_and_removing_it_drops_them() -> None:
    engine = _engine()
    _set(engine, "SET G = :v", {"S": "g2"})
    for index in ("keys", "incl", "all"):
        assert _query(engine, index, "g1") == []
        assert [item["G"] for item in _query(engine, index, "g2")] == [{"S": "g2"}]
        assert len(_entries(engine, index)) == 1
    engine.call(
        "UpdateItem", {"TableName": "tbl", "Key": {"PK": {"S": "p"}}, "UpdateExpression": "REMOVE G"}
    )
    for index in ("keys", "incl", "all"):
        assert _entries(engine, index) == []


def test_a_put_of_equal_values_rewrites_the_entries() -> None:
    """A PutItem brings new value objects: the entries are rebuilt (and stay equal)."""
    engine = _engine()
    before = _entries(engine, "keys")
    engine.call(
        "PutItem",
        {"TableName": "tbl", "Item": {"PK": {"S": "p"}, "G": {"S": "g1"}, "x": {"N": "1"}}},
    )
    after = _entries(engine, "keys")
    assert after[0][2] == before[0][2]
    assert _query(engine, "all", "g1") == [{"PK": {"S": "p"}, "G": {"S": "g1"}, "x": {"N": "1"}}]
