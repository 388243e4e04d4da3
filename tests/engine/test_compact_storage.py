"""Compact item storage (issue 19, "Speed and scale"): each stored item is one
immutable record (._records), decoded when read.

Pinned here: items read back equal to what was written and independent of the
store (no way through ``call`` to change stored data by changing a response);
an index projecting ALL holds the table's very record; snapshots and backups
share records; a stored item adds no object for the cyclic garbage collector;
the cache of shared decoded items stays within its budget.
"""

from __future__ import annotations

import copy
import gc
import json
from collections.abc import Iterator
from typing import Any

import pytest
from gsi_table import gsi_table_request

from singletable.backends.local import LocalEngine
from singletable.backends.local._backups import _store_name
from singletable.backends.local._records import READS, SHARED, SharedItems, encode, record_size
from singletable.backends.local.errors import DynamoDBError
from singletable.backends.local.storage import MemoryTableStore


def _item(n: int, **extra: Any) -> dict[str, Any]:
    return {
        "PK": {"S": f"P#{n % 3}"},
        "SK": {"S": f"S#{n:04d}"},
        "G": {"S": f"G#{n % 2}"},
        "n": {"N": str(n)},
        "doc": {"M": {"tags": {"L": [{"S": "a"}, {"N": "1"}]}, "flag": {"BOOL": True}}},
        "set": {"SS": ["x", "y"]},
        "bin": {"B": "AAE="},
        **extra,
    }


@pytest.fixture
def engine() -> Iterator[LocalEngine]:
    # The decoded-item cache is the process's: emptied, so that what earlier tests
    # left in it (a full cache keeps only some misses) cannot change what is shared.
    SHARED.clear()
    engine = LocalEngine(ttl_sweep_interval=None)
    engine.call("CreateTable", gsi_table_request("tbl"))
    for n in range(12):
        engine.call("PutItem", {"TableName": "tbl", "Item": _item(n)})
    yield engine
    engine.close()


def _key(n: int) -> dict[str, Any]:
    return {"PK": {"S": f"P#{n % 3}"}, "SK": {"S": f"S#{n:04d}"}}


def _scramble(value: Any) -> None:
    """Change every container of a response in place, as careless callers would."""
    if isinstance(value, dict):
        for key in list(value):
            _scramble(value[key])
        value["scrambled"] = {"S": "!"}
    elif isinstance(value, list):
        for member in value:
            _scramble(member)
        value.append({"S": "!"})


def _everything(engine: LocalEngine) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = engine.call("Scan", {"TableName": "tbl"})["Items"]
    return sorted(items, key=lambda item: item["SK"]["S"])


READS_OF_ITEMS = [
    ("GetItem", {"TableName": "tbl", "Key": _key(4)}),
    ("GetItem", {"TableName": "tbl", "Key": _key(4), "ProjectionExpression": "doc.tags, n"}),
    ("Query", {"TableName": "tbl", "KeyConditionExpression": "PK = :p",
               "ExpressionAttributeValues": {":p": {"S": "P#1"}}}),
    ("Query", {"TableName": "tbl", "IndexName": "gsi", "KeyConditionExpression": "G = :g",
               "ExpressionAttributeValues": {":g": {"S": "G#0"}}, "Limit": 3}),
    ("Query", {"TableName": "tbl", "KeyConditionExpression": "PK = :p", "FilterExpression": "n > :n",
               "ExpressionAttributeValues": {":p": {"S": "P#1"}, ":n": {"N": "3"}}}),
    ("Scan", {"TableName": "tbl"}),
    ("Scan", {"TableName": "tbl", "FilterExpression": "n < :n",
              "ExpressionAttributeValues": {":n": {"N": "6"}}}),
    ("Scan", {"TableName": "tbl", "ProjectionExpression": "doc", "Limit": 5}),
    ("BatchGetItem", {"RequestItems": {"tbl": {"Keys": [_key(1), _key(2)]}}}),
    ("TransactGetItems", {"TransactItems": [{"Get": {"TableName": "tbl", "Key": _key(3)}}]}),
    ("ExecuteStatement", {"Statement": "SELECT * FROM tbl WHERE PK = 'P#2'"}),
]  # fmt: skip


@pytest.mark.parametrize(("operation", "request_"), READS_OF_ITEMS)
def test_a_response_changed_in_place_never_changes_the_stored_items(
    engine: LocalEngine, operation: str, request_: dict[str, Any]
) -> None:
    before = _everything(engine)
    for _ in range(2):  # the second read finds the items decoded and cached, if they are
        response = engine.call(operation, copy.deepcopy(request_))
        again = engine.call(operation, copy.deepcopy(request_))
        assert response == again
        _scramble(response)
        assert engine.call(operation, copy.deepcopy(request_)) == again
        assert _everything(engine) == before


@pytest.mark.parametrize(
    ("operation", "request_"),
    [
        ("PutItem", {"TableName": "tbl", "Item": _item(4, extra={"S": "new"}),
                     "ReturnValues": "ALL_OLD"}),
        ("UpdateItem", {"TableName": "tbl", "Key": _key(4), "UpdateExpression": "SET m = :m",
                        "ExpressionAttributeValues": {":m": {"M": {"a": {"S": "b"}}}},
                        "ReturnValues": "ALL_NEW"}),
        ("UpdateItem", {"TableName": "tbl", "Key": _key(4), "UpdateExpression": "SET n = :n",
                        "ExpressionAttributeValues": {":n": {"N": "99"}},
                        "ReturnValues": "ALL_OLD"}),
        ("DeleteItem", {"TableName": "tbl", "Key": _key(4), "ReturnValues": "ALL_OLD"}),
    ],
)  # fmt: skip
def test_returned_attributes_and_the_request_are_not_shared_with_the_stored_item(
    engine: LocalEngine, operation: str, request_: dict[str, Any]
) -> None:
    response = engine.call(operation, request_)
    after = _everything(engine)
    _scramble(response)
    _scramble(request_)
    assert _everything(engine) == after


def test_items_read_back_equal_what_was_written_through_every_path(engine: LocalEngine) -> None:
    written = _item(7, big={"S": "é" * 300}, num={"N": "-1.5E+3"}, null={"NULL": True})
    engine.call("PutItem", {"TableName": "tbl", "Item": written})
    key = {"TableName": "tbl", "Key": _key(7)}
    expected = {**written, "num": {"N": "-1500"}}  # numbers are stored canonical
    assert engine.call("GetItem", key)["Item"] == expected
    assert engine.call("GetItem", key, copy=False)["Item"] == expected
    status, body = engine.call_json("GetItem", json.dumps({**key, "Key": _key(7)}, default=str))
    assert status == 200
    assert json.loads(body)["Item"]["big"] == {"S": "é" * 300}
    # Twice over call_json (the second from the kept text), and against call.
    scan = json.dumps({"TableName": "tbl"})
    first, second = engine.call_json("Scan", scan), engine.call_json("Scan", scan)
    assert first == second
    direct = engine.call("Scan", {"TableName": "tbl"})
    assert json.loads(first[1])["Items"] == json.loads(json.dumps(direct["Items"], default=list))


def test_read_only_responses_share_hot_items_and_copies_do_not(engine: LocalEngine) -> None:
    request = {"TableName": "tbl", "Key": _key(5)}
    shared = engine.call("GetItem", request, copy=False)["Item"]
    assert engine.call("GetItem", request, copy=False)["Item"] is shared  # decoded once
    own = engine.call("GetItem", request)["Item"]
    assert own == shared and own is not shared
    assert engine.call("GetItem", request)["Item"] is not own


def test_an_index_projecting_all_holds_the_tables_very_record(engine: LocalEngine) -> None:
    table = engine.tables["tbl"]
    index = table.index("gsi")
    assert index is not None and isinstance(index.store, MemoryTableStore)

    def records(n: int) -> tuple[bytes | None, bytes | None]:
        pk, sk = table.key_from_request(_key(n))
        item = table.store.get(pk, sk)
        assert item is not None and isinstance(table.store, MemoryTableStore)
        position = index.entry_key(item, pk, sk)
        assert position is not None and isinstance(index.store, MemoryTableStore)
        return table.store.record(pk, sk), index.store.record(*position)

    for n in range(12):
        in_table, in_index = records(n)
        assert in_table is not None and in_table is in_index
    engine.call(
        "UpdateItem",
        {"TableName": "tbl", "Key": _key(3), "UpdateExpression": "SET G = :g, x = :x",
         "ExpressionAttributeValues": {":g": {"S": "G#9"}, ":x": {"S": "y"}}},
    )  # fmt: skip
    in_table, in_index = records(3)
    assert in_table is in_index
    # An index added later is backfilled from the table's items: the same records.
    engine.call(
        "UpdateTable",
        {
            "TableName": "tbl",
            "AttributeDefinitions": [{"AttributeName": "n", "AttributeType": "N"}],
            "GlobalSecondaryIndexUpdates": [
                {"Create": {"IndexName": "by_n",
                            "KeySchema": [{"AttributeName": "n", "KeyType": "HASH"}],
                            "Projection": {"ProjectionType": "ALL"}}},
            ],
        },
    )  # fmt: skip
    added = table.index("by_n")
    assert added is not None and isinstance(added.store, MemoryTableStore)
    for n in range(12):
        pk, sk = table.key_from_request(_key(n))
        item = table.store.get(pk, sk)
        assert item is not None
        position = added.entry_key(item, pk, sk)
        assert position is not None
        assert added.store.record(*position) is table.store.record(pk, sk)  # type: ignore[attr-defined]


def test_a_store_reuses_a_record_only_for_the_shared_item_it_holds() -> None:
    table, index = MemoryTableStore(), MemoryTableStore()
    first = {"a": {"S": "1"}}
    table.put(b"k", b"", first, 5)
    index.put(b"k", b"", first, 5)  # the item stored last (an ALL entry): its record
    assert index.record(b"k", b"") is table.record(b"k", b"")
    index.put(b"i", b"", {"a": {"S": "1"}}, 5)  # equal, but not the item stored
    assert index.get(b"i", b"") == first
    assert index.record(b"i", b"") is not table.record(b"k", b"")
    index.put(b"m", b"", first, 5)  # no longer the item stored last: a record of its own
    assert index.get(b"m", b"") == first
    assert index.record(b"m", b"") is not table.record(b"k", b"")
    table.put(b"k", b"", first, 5)
    index.put(b"j", b"", first, 6)  # the stored item, but another size
    assert index.size_of(b"j", b"") == 6
    assert index.record(b"j", b"") is not table.record(b"k", b"")
    fresh = table.get(b"k", b"")
    assert fresh is not None
    READS.fresh = True
    try:
        own = table.get(b"k", b"")  # decoded for its reader alone: not a shared item
    finally:
        READS.fresh = False
    assert own == first and own is not fresh
    index.put(b"n", b"", own, 5)
    assert index.record(b"n", b"") is not table.record(b"k", b"")


def test_snapshots_and_backups_share_records_with_the_table(engine: LocalEngine) -> None:
    table = engine.tables["tbl"]
    store = table.store
    assert isinstance(store, MemoryTableStore)
    pk, sk = table.key_from_request(_key(2))
    record = store.record(pk, sk)
    arn = engine.call("CreateBackup", {"TableName": "tbl", "BackupName": "bak"})["BackupDetails"][
        "BackupArn"
    ]
    snapshot = engine.snapshot()
    name = _store_name(arn)
    assert name is not None
    backup = engine.storage.table(name)
    assert isinstance(backup, MemoryTableStore)
    assert backup.record(pk, sk) is record
    before = _everything(engine)
    engine.call("PutItem", {"TableName": "tbl", "Item": _item(2, changed={"S": "yes"})})
    engine.call("DeleteItem", {"TableName": "tbl", "Key": _key(5)})
    assert backup.record(pk, sk) is record  # the backup is not changed by later writes
    engine.restore(snapshot)
    assert _everything(engine) == before
    restored = engine.tables["tbl"].store
    assert isinstance(restored, MemoryTableStore)
    assert restored.record(pk, sk) is record
    engine.call("PutItem", {"TableName": "tbl", "Item": _item(2, changed={"S": "again"})})
    engine.restore(snapshot)  # as often as wanted
    assert _everything(engine) == before
    restored_backup = engine.call(
        "RestoreTableFromBackup", {"TargetTableName": "restored", "BackupArn": arn}
    )
    assert restored_backup["TableDescription"]["ItemCount"] == 12
    new_table = engine.tables["restored"].store
    assert isinstance(new_table, MemoryTableStore)
    assert new_table.record(pk, sk) is record  # restored from the backup's very records


def test_stored_items_add_no_object_for_the_garbage_collector() -> None:
    engine = LocalEngine(ttl_sweep_interval=None)
    engine.call("CreateTable", gsi_table_request("tbl"))
    store = engine.tables["tbl"].store
    assert isinstance(store, MemoryTableStore)
    count = 3000
    SHARED.clear()
    gc.collect()
    tracked = len(gc.get_objects())
    for n in range(count):
        item = {"PK": {"S": f"P#{n}"}, "SK": {"S": "x"}, "G": {"S": f"G#{n % 7}"}}
        for field in range(20):
            item[f"f{field}"] = {"S": f"value {n} {field}"}
        engine.call("PutItem", {"TableName": "tbl", "Item": item})
    SHARED.clear()  # the bounded cache of hot decoded items (not per stored item)
    gc.collect()
    # Each item was 23 dicts (and more) for the collector to walk; now the stores'
    # structure adds a few objects per thousand items.
    assert len(gc.get_objects()) - tracked < count // 20
    for partition in store._partitions.values():
        assert not gc.is_tracked(partition)
        assert all(type(record) is bytes for record in partition.values())
    engine.close()


def test_a_record_carries_its_size_and_decodes_to_an_equal_item() -> None:
    item = {"a": {"L": [{"N": "1"}, {"M": {"b": {"NULL": True}}}]}, "c": {"BS": [b"\x00"]}}
    for size in (0, 1, 400 * 1024, 2**32 - 1):
        record = encode(item, size)
        assert type(record) is bytes and record_size(record) == size
    store = MemoryTableStore()
    assert store.put(b"p", b"s", item, 17) is None
    assert store.put(b"p", b"s", {"x": {"S": "y"}}, 3) == item  # the replaced item
    assert (store.size_of(b"p", b"s"), store.size_bytes, store.item_count) == (3, 3, 1)
    assert store.delete(b"p", b"s") == {"x": {"S": "y"}}
    assert (store.size_bytes, store.item_count, store.partition_count) == (0, 0, 0)


def test_the_shared_cache_stays_within_its_budget() -> None:
    cache = SharedItems()
    cache.budget = 64 * 1024
    records = [encode({"v": {"S": f"{n:04d}" + "x" * 1000}}, 1000) for n in range(300)]
    for record in records:
        item = cache.item(record)
        assert item["v"]["S"].startswith(f"{records.index(record):04d}")
        cache.text(item, json.dumps)
        assert cache.used <= cache.budget + 4096
    assert 0 < len(cache) < 64
    hot = records[-1]
    assert cache.item(hot) is cache.item(hot)
    cache.clear()
    assert (len(cache), cache.used) == (0, 0)


def test_reads_cycling_over_more_items_than_the_cache_holds_still_hit() -> None:
    # Kept first in, first out, every item of a cycle longer than the cache would be
    # evicted just before its next read; a full cache keeps only some misses, so a
    # part of the cycle stays cached. A set that fits is kept whole.
    cache = SharedItems()
    cache.budget = 64 * 1024
    records = [encode({"v": {"S": f"{n:04d}" + "x" * 1000}}, 1000) for n in range(120)]
    hits = 0
    for _ in range(10):
        for record in records:
            entry = cache.items.get(id(record))
            hits += entry is not None and entry[0] is record
            cache.item(record)
            assert cache.used <= cache.budget
    assert hits > len(records) * 10 // 4  # FIFO with every miss kept: no hit at all
    cache.clear()
    few = records[:20]
    for record in few:
        cache.item(record)
    assert all(cache.item(record) is cache.item(record) for record in few)
    assert len(cache) == 20


def test_an_updated_item_takes_its_old_versions_place_in_the_cache() -> None:
    cache = SharedItems()
    old_record = encode({"v": {"N": "1"}}, 2)
    old = cache.item(old_record)
    cache.text(old, json.dumps)
    new_record = encode({"v": {"N": "2"}}, 2)
    new = {"v": {"N": "2"}}
    cache.replace(old, new_record, new)
    assert cache.item(new_record) is new
    assert cache.record_of(old) is None and len(cache) == 1
    assert cache.used == len(new_record) + 240  # the old entry and its text are gone
    # An item that was not cached leaves the cache alone.
    other = {"v": {"N": "3"}}
    cache.replace({"v": {"N": "9"}}, encode(other, 2), other)
    assert len(cache) == 1


def test_a_full_cache_keeps_one_miss_in_eight() -> None:
    # Reading once each of ten times more items than the cache holds (a scan of a big
    # table) keeps about an eighth of them: far less churn than keeping every one.
    cache = SharedItems()
    cache.budget = 64 * 1024
    records = [encode({"v": {"S": f"{n:04d}" + "x" * 2000}}, 2000) for n in range(240)]
    kept = 0
    for record in records:
        cache.item(record)
        entry = cache.items.get(id(record))
        kept += entry is not None and entry[0] is record
        assert cache.used <= cache.budget
    full = cache.budget // (len(records[0]) + 240)  # what fits before the cache is full
    assert full - 5 <= kept <= full + (len(records) - full) // 8 + 1


def test_a_small_table_scanned_again_and_again_ends_up_cached(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(SHARED, "budget", 64 * 1024)
    SHARED.clear()
    engine = LocalEngine(ttl_sweep_interval=None)
    try:
        engine.call("CreateTable", gsi_table_request("tbl"))
        pad = {"pad": {"S": "x" * 2000}}
        for n in range(100):  # fills the cache with other items
            engine.call("PutItem", {"TableName": "tbl", "Item": _item(n, **pad)})
            engine.call("GetItem", {"TableName": "tbl", "Key": _key(n)}, copy=False)
        engine.call("CreateTable", gsi_table_request("small"))
        for n in range(6):
            engine.call("PutItem", {"TableName": "small", "Item": _item(n)})
        for _ in range(60):
            engine.call("Scan", {"TableName": "small"}, copy=False)
        first = engine.call("Scan", {"TableName": "small"}, copy=False)["Items"]
        second = engine.call("Scan", {"TableName": "small"}, copy=False)["Items"]
        assert all(a is b for a, b in zip(first, second, strict=True))
    finally:
        engine.close()
        SHARED.clear()


def test_fresh_reads_end_with_the_call_even_when_it_fails(engine: LocalEngine) -> None:
    with pytest.raises(DynamoDBError):
        engine.call("GetItem", {"TableName": "missing", "Key": _key(1)})
    with pytest.raises(DynamoDBError):
        engine.call("GetItem", {"TableName": "tbl", "Key": {"PK": {"S": "x"}}})
    assert READS.fresh is False


def test_size_of_follows_writes_after_a_query_handed_the_item_out() -> None:
    # size_of answers the item a Query just handed out from memory; a write of that
    # very key (same key objects) must be seen, not the remembered size.
    store = MemoryTableStore()
    pk = b"p"
    store.put(pk, b"a", {"x": {"S": "1"}}, 10)
    for _ in range(2):  # the second read comes from the shared cache
        ((sk, _item),) = list(store.query(pk))
        assert store.size_of(pk, sk) == 10
    store.put(pk, sk, {"x": {"S": "22"}}, 11)
    assert store.size_of(pk, sk) == 11
    ((sk, _item),) = list(store.query(pk))
    ((sk, _item),) = list(store.query(pk))
    assert store.size_of(pk, sk) == 11
    assert store.delete(pk, sk) is not None
    assert store.size_of(pk, sk) == 0
    store.put(b"q", b"", {"y": {"S": "1"}}, 7)
    for _ in range(2):
        rows = list(store.scan())
    assert [(p, s) for p, s, _ in rows] == [(b"q", b"")]
    assert store.size_of(rows[0][0], rows[0][1]) == 7
    assert store.size_of(b"r", b"") == 0  # another partition, the same (empty) sort key
