"""Time to Live on a durable file: expiries kept by the storage (``<table>#~ttl``).

A durable table may be bigger than memory, so its expiries cannot be a heap built by
reading every item at open (what an in-memory engine keeps). These tests check that
the kept expiries delete exactly what the in-memory heap deletes, follow every kind
of write, survive a reopen without any item being read, go with a disabled TTL or a
deleted table, and take a failed commit back.
"""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any

import pytest
from durable_files import FailingConnection, reads_items, traced

from singletable.backends.local import LocalEngine
from singletable.backends.local.durable import DurableStorage, DurableStorageError

TABLE = "Sessions"
FIVE_YEARS = 5 * 365 * 24 * 3600


class Clock:
    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def _engine(clock: Clock, path: Path | None) -> LocalEngine:
    return LocalEngine(path=path, clock=clock, ttl_sweep_interval=None)


def _create(engine: LocalEngine, *, enable: bool = True) -> None:
    engine.call(
        "CreateTable",
        {
            "TableName": TABLE,
            "BillingMode": "PAY_PER_REQUEST",
            "AttributeDefinitions": [
                {"AttributeName": "pk", "AttributeType": "S"},
                {"AttributeName": "sk", "AttributeType": "S"},
            ],
            "KeySchema": [
                {"AttributeName": "pk", "KeyType": "HASH"},
                {"AttributeName": "sk", "KeyType": "RANGE"},
            ],
        },
    )
    if enable:
        _ttl(engine, True)


def _ttl(engine: LocalEngine, enabled: bool) -> None:
    engine.call(
        "UpdateTimeToLive",
        {
            "TableName": TABLE,
            "TimeToLiveSpecification": {"Enabled": enabled, "AttributeName": "expires"},
        },
    )


def _put(engine: LocalEngine, name: str, expires: Any) -> None:
    item: dict[str, Any] = {"pk": {"S": name}, "sk": {"S": "s"}}
    if expires is not None:
        item["expires"] = expires
    engine.call("PutItem", {"TableName": TABLE, "Item": item})


def _names(engine: LocalEngine) -> list[str]:
    items = engine.call("Scan", {"TableName": TABLE})["Items"]
    return sorted(item["pk"]["S"] for item in items)


def _storage(engine: LocalEngine) -> DurableStorage:
    storage = engine.regions.base
    assert isinstance(storage, DurableStorage)
    return storage


@pytest.fixture
def path(tmp_path: Path) -> Path:
    return tmp_path / "ttl.db"


def test_kept_expiries_delete_what_the_in_memory_heap_deletes(path: Path) -> None:
    """Random writes (puts, updates that move or drop the expiry, deletes, values of
    other types, negative and five-years-old times) then sweeps at growing times: the
    durable engine, reopened half-way, deletes exactly what the memory engine does."""
    rng = random.Random(7)
    now = 2_000_000_000.0
    clocks = [Clock(now), Clock(now)]
    memory, durable = _engine(clocks[0], None), _engine(clocks[1], path)
    for engine in (memory, durable):
        _create(engine)

    def expiry() -> Any:
        choice = rng.random()
        if choice < 0.1:
            return None
        if choice < 0.2:
            return {"S": str(now)}  # not a Number: never expires
        if choice < 0.3:
            return {"N": str(rng.choice([-5, 0, -0.0, now - FIVE_YEARS - 10]))}
        return {"N": str(int(now) + rng.randint(-100, 1000)) + rng.choice(["", ".5"])}

    for step in range(600):
        name = f"u{rng.randrange(80)}"
        action = rng.random()
        value = expiry()
        for engine in (memory, durable):
            if action < 0.6:
                _put(engine, name, value)
            elif action < 0.8:
                request: dict[str, Any] = {
                    "TableName": TABLE,
                    "Key": {"pk": {"S": name}, "sk": {"S": "s"}},
                }
                if value is None:
                    request["UpdateExpression"] = "REMOVE expires"
                else:
                    request["UpdateExpression"] = "SET expires = :e"
                    request["ExpressionAttributeValues"] = {":e": value}
                engine.call("UpdateItem", request)
            else:
                engine.call(
                    "DeleteItem", {"TableName": TABLE, "Key": {"pk": {"S": name}, "sk": {"S": "s"}}}
                )
        if step == 300:
            durable.close()
            durable = _engine(clocks[1], path)
    assert _names(memory) == _names(durable)
    for later in (-200, 0, 1, 100, 500, 2_000):
        for clock in clocks:
            clock.now = now + later
        deleted = memory.sweep_ttl(), durable.sweep_ttl()
        assert deleted[0] == deleted[1]
        assert _names(memory) == _names(durable)
    assert _names(durable)  # something never expires (strings, none, too old)
    memory.close()
    durable.close()


def test_a_reopen_with_ttl_on_reads_no_item(path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    clock = Clock(1_000_000.0)
    engine = _engine(clock, path)
    _create(engine)
    engine.load(
        TABLE,
        [
            {"pk": {"S": f"u{n}"}, "sk": {"S": "s"}, "expires": {"N": str(999_000 + n)}}
            for n in range(2000)
        ],
    )
    engine.close()
    statements = traced(monkeypatch)
    engine = _engine(clock, path)
    try:
        assert reads_items(statements) == []
        assert engine.sweep_ttl() == 1000  # u0..u999 expired before 1,000,000
        assert len(_names(engine)) == 1000
    finally:
        engine.close()


def test_disabling_ttl_or_deleting_the_table_drops_the_kept_expiries(path: Path) -> None:
    clock = Clock(1_000.0)
    engine = _engine(clock, path)
    _create(engine)
    _put(engine, "old", {"N": "10"})
    storage = _storage(engine)
    assert storage.table(TABLE + "#~ttl").item_count == 1
    _ttl(engine, False)
    assert TABLE + "#~ttl" not in storage
    _put(engine, "older", {"N": "5"})  # written while TTL is off
    assert engine.sweep_ttl() == 0
    _ttl(engine, True)  # filled from the items again
    engine.close()
    engine = _engine(clock, path)
    assert engine.sweep_ttl() == 2
    _put(engine, "again", {"N": "10"})
    engine.call("DeleteTable", {"TableName": TABLE})
    assert _storage(engine).table_names() == []
    engine.close()


def test_a_failed_commit_takes_its_expiry_moves_back(path: Path) -> None:
    clock = Clock(1_000.0)
    engine = _engine(clock, path)
    _create(engine)
    _put(engine, "a", {"N": "500"})
    _put(engine, "b", {"N": "5000"})
    storage = _storage(engine)
    conn = FailingConnection(storage._conn)
    storage._conn = conn  # type: ignore[assignment]
    conn.armed = True
    with pytest.raises(DurableStorageError, match="commit failed"):
        _put(engine, "a", {"N": "9000"})  # would keep "a"
    with pytest.raises(DurableStorageError, match="commit failed"):
        _put(engine, "b", {"N": "50"})  # would expire "b"
    conn.armed = False
    assert engine.sweep_ttl() == 1
    assert _names(engine) == ["b"]
    engine.close()


def test_an_entry_that_does_not_match_its_item_is_never_obeyed(path: Path) -> None:
    # Each write moves its item's entry in its own commit, so entries always match;
    # were one ever left behind (a bug), the sweep must not delete the item for it.
    from singletable.backends.local import _ttl

    clock = Clock(1_000.0)
    engine = _engine(clock, path)
    _create(engine)
    _put(engine, "kept", {"N": "5000"})
    table = engine.tables[TABLE]
    pk, sk = table.key_from_item({"pk": {"S": "kept"}, "sk": {"S": "s"}})
    stale = _ttl._entry(50.0, pk, sk)
    _storage(engine).table(TABLE + "#~ttl").put(b"", stale, {}, 0)
    assert engine.sweep_ttl() == 0
    assert _names(engine) == ["kept"]
    engine.close()
