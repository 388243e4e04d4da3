"""Snapshots of an in-memory engine: a point the whole engine state goes back to.

``snapshot = engine.snapshot()`` records every table (definition, items, indexes,
settings such as TTL and streams), the stream records, the TTL tracking, the
backups and PITR history, and the idempotency tokens of recent transactions;
``engine.restore(snapshot)`` puts all of it back, as often as wanted (a test suite
loads its data once, then each test starts from the snapshot).

Cheap because stored items are never modified in place (an update stores a new
item dict): a snapshot shares the item dicts with the live tables and copies only
the structure that holds them (:meth:`MemoryTableStore.clone`: one small dict per
partition and the chunks of the sorted key lists). Restoring copies that structure
again, so the snapshot itself is never changed by the writes that follow.

A snapshot covers every region of the engine (see ._regions): each region engine's
state is taken as above, and a region first used after the snapshot is dropped on
restore (it is made again, empty, when next used).

Only for an in-memory storage: a durable engine's state is its file.
"""

from __future__ import annotations

import copy
from dataclasses import fields
from typing import TYPE_CHECKING, Any

from singletable.backends.local._transactions import _token_store
from singletable.backends.local.storage import MemoryStorage, MemoryTableStore

if TYPE_CHECKING:
    from singletable.backends.local.engine import LocalEngine

__all__ = ["Snapshot"]


class Snapshot:
    """The state of one in-memory engine, every region of it, at one point
    (made by ``engine.snapshot()``)."""

    def __init__(self, engine: LocalEngine) -> None:
        self._engine = engine
        self._regions = engine.regions
        with engine.lock:
            self._states = {
                region.region: _RegionState(region) for region in self._regions.engines()
            }
            self._extra = [capture() for capture in self._regions.snapshot_hooks]

    def restore(self) -> None:
        """Put the engine back as it was when the snapshot was taken."""
        regions = self._regions
        with regions.home.lock:
            for name in regions.names():
                if name not in self._states:
                    regions.forget(name)
            for state in self._states.values():
                regions.adopt(state._engine)
                state.restore()
            for restore in self._extra:
                restore()


def _fields(obj: Any) -> dict[str, Any]:
    """A dataclass's field values but its store, containers copied (dicts deeply)."""
    return {
        field.name: _copied(getattr(obj, field.name))
        for field in fields(obj)
        if field.name != "store"
    }


def _copied(value: Any) -> Any:
    if isinstance(value, list):
        return list(value)
    if isinstance(value, dict):
        return copy.deepcopy(value)
    return value


class _RegionState:
    """The state of one region engine."""

    def __init__(self, engine: LocalEngine) -> None:
        storage = engine.storage
        if not isinstance(storage, MemoryStorage):
            raise TypeError("snapshots need an in-memory engine (not a durable one)")
        self._engine = engine
        with engine.lock:
            self._storage = storage.state()
            self._tables = dict(engine.tables)
            self._definitions = [(table, _fields(table)) for table in self._tables.values()]
            self._indexes: list[tuple[Any, dict[str, Any], MemoryTableStore]] = []
            for table in self._tables.values():
                for index in table.indexes:
                    store = index.store
                    assert isinstance(store, MemoryTableStore)
                    self._indexes.append((index, _fields(index), store.clone()))
            streams = engine.streams
            self._streams = streams.catalog_state()
            self._records = [
                (
                    stream,
                    (
                        stream._sequences.copy(),
                        stream._records.copy(),
                        stream._times.copy(),
                        stream._start,
                        stream.trimmed_through,
                        stream.last_sequence,
                    ),
                )
                for stream in streams._by_arn.values()
            ]
            self._ttl = engine.ttl.memory_state()
            self._backups = engine.backups.catalog_state()
            self._tokens = _token_store(engine)._entries.copy()

    def restore(self) -> None:
        """Put the engine back as it was when the snapshot was taken."""
        engine = self._engine
        storage = engine.storage
        assert isinstance(storage, MemoryStorage)
        with engine.lock:
            storage.set_state(self._storage)
            engine.tables.clear()
            engine.tables.update(self._tables)
            for table, values in self._definitions:
                for name, value in values.items():
                    setattr(table, name, _copied(value))
                table.store = storage.table(table.name)
            for index, values, store in self._indexes:
                for name, value in values.items():
                    setattr(index, name, _copied(value))
                index.store = store.clone()
            engine.streams.restore_catalog_state(self._streams)
            for stream, (sequences, records, times, start, trimmed, last) in self._records:
                stream._sequences = sequences.copy()
                stream._records = records.copy()
                stream._times = times.copy()
                stream._start = start
                stream.trimmed_through = trimmed
                stream.last_sequence = last
            engine.ttl.restore_memory_state(self._ttl)
            engine.backups.restore_catalog_state(self._backups)
            tokens = _token_store(engine)
            tokens._entries = self._tokens.copy()
