"""A durable engine whose item cache is much smaller than its data (issue 19).

Items come from SQLite through a bounded cache: every read below goes to the file
for most items. Checked against a plain dict model: GetItem, Query both ways with
paging, parallel Scan with paging, updates, deletes, transactions, GSI queries and
counts after a reopen; a reopen that reads no item; a failed commit that leaves
nothing behind (cache included); damage found when a row is read; a file of the
previous format (1) opened and migrated.
"""

from __future__ import annotations

import json
import random
import sqlite3
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from durable_files import FailingConnection, reads_items, traced

from singletable.backends.local import DynamoDBError, LocalEngine, _durable_file
from singletable.backends.local.durable import (
    FORMAT_VERSION,
    DurableStorage,
    DurableStorageError,
)

TABLE = "Tbl"
SMALL_CACHE = 30_000  # estimated bytes: a dozen of these items, of several hundred


def _request() -> dict[str, Any]:
    return {
        "TableName": TABLE,
        "BillingMode": "PAY_PER_REQUEST",
        "AttributeDefinitions": [
            {"AttributeName": "pk", "AttributeType": "S"},
            {"AttributeName": "sk", "AttributeType": "N"},
            {"AttributeName": "g", "AttributeType": "S"},
        ],
        "KeySchema": [
            {"AttributeName": "pk", "KeyType": "HASH"},
            {"AttributeName": "sk", "KeyType": "RANGE"},
        ],
        "GlobalSecondaryIndexes": [
            {
                "IndexName": "byG",
                "KeySchema": [
                    {"AttributeName": "g", "KeyType": "HASH"},
                    {"AttributeName": "sk", "KeyType": "RANGE"},
                ],
                "Projection": {"ProjectionType": "ALL"},
            }
        ],
    }


def _item(p: int, s: int, version: int = 0) -> dict[str, Any]:
    return {
        "pk": {"S": f"p{p}"},
        "sk": {"N": str(s)},
        "g": {"S": f"g{(p + s) % 4}"},
        "v": {"N": str(version)},
        "text": {"S": f"{p}-{s}-" + "x" * 200},
    }


def _key(p: int, s: int) -> dict[str, Any]:
    return {"pk": {"S": f"p{p}"}, "sk": {"N": str(s)}}


def _open(path: Path, cache: int = SMALL_CACHE) -> LocalEngine:
    return LocalEngine(path=path, ttl_sweep_interval=None, cache_bytes=cache)


def _storage(engine: LocalEngine) -> DurableStorage:
    storage = engine.regions.base  # the file under every region's view (._regions)
    assert isinstance(storage, DurableStorage)
    return storage


@pytest.fixture
def path(tmp_path: Path) -> Path:
    return tmp_path / "data.db"


@pytest.fixture
def loaded(path: Path) -> Iterator[tuple[LocalEngine, dict[tuple[int, int], dict[str, Any]]]]:
    """An engine on a file of 30 partitions of 12 items, and the model of its items."""
    engine = _open(path)
    engine.call("CreateTable", _request())
    model = {(p, s): _item(p, s) for p in range(30) for s in range(12)}
    engine.load(TABLE, list(model.values()))
    yield engine, model
    engine.close()


def _all_pages(
    call: Callable[[dict[str, Any]], dict[str, Any]], request: dict[str, Any]
) -> list[Any]:
    items: list[Any] = []
    start = None
    while True:
        page = call({**request, **({"ExclusiveStartKey": start} if start else {})})
        items.extend(page["Items"])
        start = page.get("LastEvaluatedKey")
        if start is None:
            return items


def _check_reads(engine: LocalEngine, model: dict[tuple[int, int], dict[str, Any]]) -> None:
    for (p, s), item in model.items():
        assert engine.call("GetItem", {"TableName": TABLE, "Key": _key(p, s)})["Item"] == item
    assert "Item" not in engine.call("GetItem", {"TableName": TABLE, "Key": _key(99, 0)})
    query = lambda request: engine.call("Query", request)  # noqa: E731
    for p in {p for p, _ in model}:
        expected = sorted((item for (q, _), item in model.items() if q == p), key=_sort_key)
        for forward in (True, False):
            got = _all_pages(
                query,
                {
                    "TableName": TABLE,
                    "KeyConditionExpression": "pk = :p AND sk >= :lo",
                    "ExpressionAttributeValues": {":p": {"S": f"p{p}"}, ":lo": {"N": "2"}},
                    "ScanIndexForward": forward,
                    "Limit": 5,
                },
            )
            want = [i for i in expected if int(i["sk"]["N"]) >= 2]
            assert got == (want if forward else want[::-1])
    for g in range(4):
        got = _all_pages(
            query,
            {
                "TableName": TABLE,
                "IndexName": "byG",
                "KeyConditionExpression": "g = :g",
                "ExpressionAttributeValues": {":g": {"S": f"g{g}"}},
                "ScanIndexForward": False,
                "Limit": 7,
            },
        )
        want = [i for i in model.values() if i["g"]["S"] == f"g{g}"]
        assert sorted(got, key=_sort_key) == sorted(want, key=_sort_key)
        assert [int(i["sk"]["N"]) for i in got] == sorted(
            (int(i["sk"]["N"]) for i in got), reverse=True
        )
    scan = lambda request: engine.call("Scan", request)  # noqa: E731
    everything = []
    for segment in range(3):
        everything += _all_pages(
            scan, {"TableName": TABLE, "Segment": segment, "TotalSegments": 3, "Limit": 11}
        )
    assert len(everything) == len(model)
    assert sorted(everything, key=_sort_key) == sorted(model.values(), key=_sort_key)
    # The same order as one unsegmented Scan: segments are slices of the scan order.
    assert everything == _all_pages(scan, {"TableName": TABLE, "Limit": 50})
    description = engine.call("DescribeTable", {"TableName": TABLE})["Table"]
    assert description["ItemCount"] == len(model)
    assert description["GlobalSecondaryIndexes"][0]["ItemCount"] == len(model)
    assert _storage(engine).cache.used <= SMALL_CACHE


def _sort_key(item: dict[str, Any]) -> tuple[str, int]:
    return item["pk"]["S"], int(item["sk"]["N"])


def test_reads_writes_and_reopen_with_a_cache_far_smaller_than_the_data(
    path: Path, loaded: tuple[LocalEngine, dict[tuple[int, int], dict[str, Any]]]
) -> None:
    engine, model = loaded
    _check_reads(engine, model)
    rng = random.Random(5)
    for _ in range(60):
        p, s = rng.randrange(32), rng.randrange(14)
        choice = rng.random()
        if choice < 0.4:
            model[p, s] = _item(p, s, rng.randrange(100))
            engine.call("PutItem", {"TableName": TABLE, "Item": model[p, s]})
        elif choice < 0.7:
            engine.call("DeleteItem", {"TableName": TABLE, "Key": _key(p, s)})
            model.pop((p, s), None)
        elif (p, s) in model:
            engine.call(
                "UpdateItem",
                {
                    "TableName": TABLE,
                    "Key": _key(p, s),
                    "UpdateExpression": "SET v = v + :one, g = :g",
                    "ExpressionAttributeValues": {":one": {"N": "1"}, ":g": {"S": "g1"}},
                },
            )
            old = model[p, s]
            model[p, s] = {**old, "v": {"N": str(int(old["v"]["N"]) + 1)}, "g": {"S": "g1"}}
    # A transaction that fails its condition changes nothing; one that passes, everything.
    with pytest.raises(DynamoDBError) as caught:
        engine.call(
            "TransactWriteItems",
            {
                "TransactItems": [
                    {"Put": {"TableName": TABLE, "Item": _item(40, 1)}},
                    {
                        "ConditionCheck": {
                            "TableName": TABLE,
                            "Key": _key(99, 9),
                            "ConditionExpression": "attribute_exists(pk)",
                        }
                    },
                ]
            },
        )
    assert caught.value.code == "TransactionCanceledException"
    engine.call(
        "TransactWriteItems",
        {
            "TransactItems": [
                {"Put": {"TableName": TABLE, "Item": _item(40, 1)}},
                {"Delete": {"TableName": TABLE, "Key": _key(0, 0)}},
            ]
        },
    )
    model[40, 1] = _item(40, 1)
    model.pop((0, 0), None)
    _check_reads(engine, model)
    size = engine.call("DescribeTable", {"TableName": TABLE})["Table"]["TableSizeBytes"]
    engine.close()

    again = _open(path)
    try:
        assert again.call("DescribeTable", {"TableName": TABLE})["Table"]["TableSizeBytes"] == size
        _check_reads(again, model)
    finally:
        again.close()


def test_a_reopen_reads_no_item_and_no_index_is_rebuilt(
    path: Path,
    loaded: tuple[LocalEngine, dict[tuple[int, int], dict[str, Any]]],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    engine, model = loaded
    engine.close()
    statements = traced(monkeypatch)
    again = _open(path)
    try:
        assert reads_items(statements) == []
        assert not any(sql.startswith("INSERT") for sql in statements)
        assert not any("quick_check" in sql for sql in statements) or path.stat().st_size < 64 << 20
        description = again.call("DescribeTable", {"TableName": TABLE})["Table"]
        assert description["ItemCount"] == len(model)
        assert description["GlobalSecondaryIndexes"][0]["IndexSizeBytes"] > 0
        assert len(_storage(again).cache) == 0
    finally:
        again.close()


def test_index_stores_follow_their_index_and_table(path: Path) -> None:
    engine = _open(path)
    engine.call("CreateTable", _request())
    engine.load(TABLE, [_item(1, s) for s in range(5)])
    storage = _storage(engine)
    assert "Tbl#byG" in storage.table_names()
    engine.call(
        "UpdateTable",
        {"TableName": TABLE, "GlobalSecondaryIndexUpdates": [{"Delete": {"IndexName": "byG"}}]},
    )
    assert "Tbl#byG" not in storage.table_names()
    engine.call(
        "UpdateTable",
        {
            "TableName": TABLE,
            "AttributeDefinitions": [{"AttributeName": "g", "AttributeType": "S"}],
            "GlobalSecondaryIndexUpdates": [
                {
                    "Create": {
                        "IndexName": "byG",
                        "KeySchema": [{"AttributeName": "g", "KeyType": "HASH"}],
                        "Projection": {"ProjectionType": "KEYS_ONLY"},
                    }
                }
            ],
        },
    )
    assert storage.table("Tbl#byG").item_count == 5  # backfilled from the items
    engine.close()
    engine = _open(path)
    got = engine.call(
        "Query",
        {
            "TableName": TABLE,
            "IndexName": "byG",
            "KeyConditionExpression": "g = :g",
            "ExpressionAttributeValues": {":g": {"S": "g2"}},
        },
    )["Items"]
    assert got == [{"pk": {"S": "p1"}, "sk": {"N": "1"}, "g": {"S": "g2"}}]
    engine.call("DeleteTable", {"TableName": TABLE})
    assert _storage(engine).table_names() == []  # the index store went with its table
    engine.close()


# --------------------------------------------------------------------------- failed commits


def test_a_failed_commit_leaves_no_trace_in_the_cache_counts_or_file(
    path: Path, loaded: tuple[LocalEngine, dict[tuple[int, int], dict[str, Any]]]
) -> None:
    engine, model = loaded
    storage = _storage(engine)
    conn = FailingConnection(storage._conn)
    storage._conn = conn  # type: ignore[assignment]
    key = {"TableName": TABLE, "Key": _key(3, 3)}
    assert engine.call("GetItem", key)["Item"] == model[3, 3]  # cached now
    before = engine.call("DescribeTable", {"TableName": TABLE})["Table"]
    conn.armed = True
    with pytest.raises(DurableStorageError, match="commit failed"):
        engine.call("PutItem", {"TableName": TABLE, "Item": {**model[3, 3], "g": {"S": "new"}}})
    # A group larger than the rows kept in memory (written into the transaction early).
    with pytest.raises(DurableStorageError, match="commit failed"):
        engine.load(TABLE, [_item(1000 + n, 0) for n in range(5000)])
    with pytest.raises(DurableStorageError, match="commit failed"):
        engine.call("DeleteItem", {"TableName": TABLE, "Key": _key(4, 4)})
    conn.armed = False
    assert engine.call("GetItem", key)["Item"] == model[3, 3]
    assert "Item" not in engine.call("GetItem", {"TableName": TABLE, "Key": _key(1000, 0)})
    new = engine.call(
        "Query",
        {
            "TableName": TABLE,
            "IndexName": "byG",
            "KeyConditionExpression": "g = :g",
            "ExpressionAttributeValues": {":g": {"S": "new"}},
        },
    )
    assert new["Items"] == []
    after = engine.call("DescribeTable", {"TableName": TABLE})["Table"]
    assert after == before
    _check_reads(engine, model)
    engine.close()
    again = _open(path)
    try:
        _check_reads(again, model)
    finally:
        again.close()


# --------------------------------------------------------------------------- damage


def test_a_damaged_row_is_reported_when_read(
    path: Path, loaded: tuple[LocalEngine, dict[tuple[int, int], dict[str, Any]]]
) -> None:
    engine, model = loaded
    engine.close()
    data = bytearray(path.read_bytes())
    at = data.find(b"7-5-xxxx")  # the body of item (7, 5), and of its index entry
    while at != -1:
        data[at + 6] = ord("y")  # still JSON, still SQLite: only the row's CRC sees it
        at = data.find(b"7-5-xxxx", at + 1)
    path.write_bytes(bytes(data))
    again = _open(path)  # opening reads no item: it succeeds
    try:
        assert again.call("GetItem", {"TableName": TABLE, "Key": _key(7, 4)})["Item"] == model[7, 4]
        with pytest.raises(DurableStorageError, match="fails its checksum") as caught:
            again.call("GetItem", {"TableName": TABLE, "Key": _key(7, 5)})
        assert str(path) in str(caught.value)
        with pytest.raises(DurableStorageError, match="fails its checksum"):
            _all_pages(lambda r: again.call("Scan", r), {"TableName": TABLE})
    finally:
        again.close()


# --------------------------------------------------------------------------- format 1


_FORMAT_1 = (
    "CREATE TABLE stores (id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE, meta TEXT NOT NULL)",
    "CREATE TABLE items (store INTEGER NOT NULL, pk BLOB NOT NULL, sk BLOB NOT NULL,"
    " size INTEGER NOT NULL, item BLOB NOT NULL, crc INTEGER NOT NULL,"
    " PRIMARY KEY (store, pk, sk)) WITHOUT ROWID",
    "CREATE TABLE extras (kind TEXT NOT NULL, name TEXT NOT NULL, value BLOB NOT NULL,"
    " PRIMARY KEY (kind, name)) WITHOUT ROWID",
)


def _write_format_1(source: Path, target: Path, *, damage: tuple[int, int] | None = None) -> None:
    """Rewrite the table stores of a current file as a format-1 file (what the previous
    version wrote: items keyed (store, pk, sk), no counts, no index stores)."""
    storage = DurableStorage(source)
    old = sqlite3.connect(target)
    for statement in _FORMAT_1:
        old.execute(statement)
    for number, name in enumerate(storage.table_names(), 1):
        if "#" in name:
            continue  # format 1 kept no index entries
        old.execute(
            "INSERT INTO stores VALUES (?, ?, ?)",
            (number, name, json.dumps(storage.get_meta(name))),
        )
        store = storage.table(name)
        for pk, sk, item in store.scan():
            size = store.size_of(pk, sk)
            blob = json.dumps(item, separators=(",", ":")).encode()
            crc = _durable_file.row_crc(pk, sk, size, blob)
            if (
                damage is not None
                and item["pk"] == {"S": f"p{damage[0]}"}
                and item["sk"] == {"N": str(damage[1])}
            ):
                crc ^= 1
            old.execute(
                "INSERT INTO items VALUES (?, ?, ?, ?, ?, ?)", (number, pk, sk, size, blob, crc)
            )
    old.execute(f"PRAGMA application_id={_durable_file.APPLICATION_ID}")
    old.execute("PRAGMA user_version=1")
    old.commit()
    old.close()
    storage.close()


def test_a_format_1_file_is_migrated_on_open(
    tmp_path: Path,
    path: Path,
    loaded: tuple[LocalEngine, dict[tuple[int, int], dict[str, Any]]],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    engine, model = loaded
    engine.call("DeleteItem", {"TableName": TABLE, "Key": _key(2, 2)})
    del model[2, 2]
    engine.close()
    old = tmp_path / "old.db"
    _write_format_1(path, old)
    engine = _open(old)  # migrated, and the index filled from the items (once)
    try:
        _check_reads(engine, model)
        engine.call("PutItem", {"TableName": TABLE, "Item": _item(2, 2)})
        model[2, 2] = _item(2, 2)
    finally:
        engine.close()
    conn = sqlite3.connect(old)
    assert conn.execute("PRAGMA user_version").fetchone()[0] == FORMAT_VERSION
    conn.close()
    statements = traced(monkeypatch)
    engine = _open(old)
    try:
        assert reads_items(statements) == []  # the index entries were kept this time
        _check_reads(engine, model)
    finally:
        engine.close()


def test_a_damaged_row_of_a_format_1_file_is_reported(
    tmp_path: Path, path: Path, loaded: tuple[LocalEngine, dict[tuple[int, int], dict[str, Any]]]
) -> None:
    engine, _ = loaded
    engine.close()
    old = tmp_path / "old.db"
    _write_format_1(path, old, damage=(2, 2))
    # The rows keep their CRCs through the migration: filling the index reads them all.
    with pytest.raises(DurableStorageError, match="fails its checksum") as caught:
        _open(old)
    assert str(old) in str(caught.value)
    with pytest.raises(DurableStorageError, match="fails its checksum"):
        _open(old)  # the same answer again, never a half-made index


def test_cache_bytes_needs_a_file() -> None:
    with pytest.raises(ValueError, match="cache_bytes"):
        LocalEngine(cache_bytes=1000)
    with pytest.raises(ValueError, match="cache_bytes"):
        DurableStorage("unused.db", cache_bytes=-1)


def test_a_partition_too_big_to_keep_its_keys_in_memory_reads_in_chunks(path: Path) -> None:
    """Past MAX_PARTITION_KEYS items a Query walks the keys b-tree in growing chunks."""
    engine = _open(path)
    try:
        engine.call("CreateTable", _request())
        count = 700  # more than MAX_PARTITION_KEYS, several chunks of 32, 128, 512
        engine.load(TABLE, [_item(5, s) for s in range(count)])
        query = lambda request: engine.call("Query", request)  # noqa: E731
        for forward in (True, False):
            for limit in (None, 1, 45, 300):
                request: dict[str, Any] = {
                    "TableName": TABLE,
                    "KeyConditionExpression": "pk = :p AND sk BETWEEN :lo AND :hi",
                    "ExpressionAttributeValues": {
                        ":p": {"S": "p5"},
                        ":lo": {"N": "3"},
                        ":hi": {"N": "650"},
                    },
                    "ScanIndexForward": forward,
                }
                if limit is not None:
                    request["Limit"] = limit
                got = [int(i["sk"]["N"]) for i in _all_pages(query, request)]
                want = list(range(3, 651))
                assert got == (want if forward else want[::-1])
        # Writes between pages: the pages still come in order, without repeats.
        seen: list[int] = []
        start = None
        while True:
            page = engine.call(
                "Query",
                {
                    "TableName": TABLE,
                    "KeyConditionExpression": "pk = :p",
                    "ExpressionAttributeValues": {":p": {"S": "p5"}},
                    "Limit": 100,
                    **({"ExclusiveStartKey": start} if start else {}),
                },
            )
            seen += [int(i["sk"]["N"]) for i in page["Items"]]
            if len(seen) == 100:
                engine.call("DeleteItem", {"TableName": TABLE, "Key": _key(5, 400)})
                engine.call("PutItem", {"TableName": TABLE, "Item": _item(5, 10_000)})
            start = page.get("LastEvaluatedKey")
            if start is None:
                break
        assert seen == [s for s in range(count) if s != 400] + [10_000]
    finally:
        engine.close()


def test_the_sort_keys_of_a_small_partition_follow_its_writes(path: Path) -> None:
    engine = _open(path, cache=1 << 20)
    try:
        engine.call("CreateTable", _request())
        engine.load(TABLE, [_item(1, s) for s in range(5)])

        def keys() -> list[int]:
            page = engine.call(
                "Query",
                {
                    "TableName": TABLE,
                    "KeyConditionExpression": "pk = :p",
                    "ExpressionAttributeValues": {":p": {"S": "p1"}},
                },
            )
            return [int(i["sk"]["N"]) for i in page["Items"]]

        assert keys() == [0, 1, 2, 3, 4]  # the partition's keys are cached now
        engine.call("PutItem", {"TableName": TABLE, "Item": _item(1, 9)})
        engine.call("DeleteItem", {"TableName": TABLE, "Key": _key(1, 2)})
        engine.call("PutItem", {"TableName": TABLE, "Item": _item(1, 3, version=7)})
        assert keys() == [0, 1, 3, 4, 9]
        storage = _storage(engine)
        conn = FailingConnection(storage._conn)
        storage._conn = conn  # type: ignore[assignment]
        conn.armed = True
        with pytest.raises(DurableStorageError):
            engine.call("PutItem", {"TableName": TABLE, "Item": _item(1, 5)})
        with pytest.raises(DurableStorageError):
            engine.call("DeleteItem", {"TableName": TABLE, "Key": _key(1, 0)})
        conn.armed = False
        assert keys() == [0, 1, 3, 4, 9]
    finally:
        engine.close()


def _read_one(engine: LocalEngine, how: str, projection: str | None) -> dict[str, Any]:
    """Item (1, 1) as ``how`` reads it through ``call`` (a GetItem, a Query of the table
    or of the index): the caller's own copy."""
    request: dict[str, Any] = {"TableName": TABLE}
    if how == "get":
        request["Key"] = _key(1, 1)
    elif how == "query":
        request["KeyConditionExpression"] = "pk = :p AND sk = :s"
        request["ExpressionAttributeValues"] = {":p": {"S": "p1"}, ":s": {"N": "1"}}
    else:
        request["IndexName"] = "byG"
        request["KeyConditionExpression"] = "g = :g"
        request["ExpressionAttributeValues"] = {":g": _item(1, 1)["g"]}
    if projection is not None:
        request["ProjectionExpression"] = projection
    if how == "get":
        item: dict[str, Any] = engine.call("GetItem", request)["Item"]
        return item
    (item,) = engine.call("Query", request)["Items"]
    return item


@pytest.mark.parametrize("how", ["get", "query", "index query"])
@pytest.mark.parametrize("projection", [None, "g, v"])
def test_a_read_response_changed_by_its_caller_changes_nothing_stored(
    path: Path, projection: str | None, how: str
) -> None:
    # call() hands a GetItem's and a Query's response over without copying it; the
    # durable cache's item must not be what the caller receives (found in review: the
    # change reached later reads and, after a write, the file).
    engine = _open(path)
    engine.call("CreateTable", _request())
    engine.call("PutItem", {"TableName": TABLE, "Item": _item(1, 1)})
    for _ in range(2):  # once from the pending/just-written item, once from the cache
        got = _read_one(engine, how, projection)
        for value in got.values():
            value.clear()
            value["S"] = "MUTATED"
        got["extra"] = {"S": "x"}
        assert engine.call("GetItem", {"TableName": TABLE, "Key": _key(1, 1)})["Item"] == _item(
            1, 1
        )
        assert _read_one(engine, how, None) == _item(1, 1)
        assert engine.call("Scan", {"TableName": TABLE})["Items"] == [_item(1, 1)]
    engine.call(
        "UpdateItem",
        {
            "TableName": TABLE,
            "Key": _key(1, 1),
            "UpdateExpression": "SET v = :v",
            "ExpressionAttributeValues": {":v": {"N": "5"}},
        },
    )
    engine.close()
    engine = _open(path)
    assert engine.call("GetItem", {"TableName": TABLE, "Key": _key(1, 1)})["Item"] == _item(1, 1, 5)
    engine.close()
