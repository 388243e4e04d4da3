"""Time to Live: UpdateTimeToLive, DescribeTimeToLive, and the deletion of expired items.

What DynamoDB does (API Reference UpdateTimeToLive/DescribeTimeToLive; Developer
Guide "Time to Live (TTL)"), and what this module does about it:

* A table's TTL names one top-level attribute. An item expires when that
  attribute is a Number of epoch seconds *less than* the current time; any other
  type (a string, a number set...) is ignored, and so is a time more than five
  years in the past ("To be considered for expiry and deletion, the TTL can't be
  more than five years in the past", Developer Guide, "Formatting an item's TTL
  attribute"). Until it is deleted an expired item is read, queried and scanned
  as usual.
* Expired items are deleted by the service, through the one commit step
  (:func:`._write.commit`) with ``identity=SERVICE_IDENTITY``: indexes stay
  consistent and the stream shows a REMOVE record whose ``userIdentity`` names
  the service. DynamoDB takes up to a few days; here a daemon thread sweeps
  about once a second while any table has TTL enabled (started when TTL is
  first enabled, stopped by ``engine.close()``), and :meth:`TimeToLive.sweep`
  (``engine.sweep_ttl()``) deletes every currently expired item at once, for
  tests driven by an injected clock. ``LocalEngine(ttl_sweep_interval=None)``
  turns the thread off.
* A sweep costs O(expired items · log n), not O(table): each TTL-enabled table
  keeps its items' expiries in order, maintained by a change listener. In memory
  that is a heap of ``(expiry, key)`` (lazily: an entry whose item changed since
  is recognised by the per-key map of current expiries and skipped). A storage
  that keeps index stores (a durable file) keeps them in a store of its own,
  ``<table>#~ttl``, written in the same atomic group as the change: reopening a
  file reads no item and holds nothing per item in memory, so a table bigger
  than memory can have TTL on. Enabling TTL fills either from the table once.
* UpdateTimeToLive messages were captured from the live service: "TimeToLive is
  already enabled", "TimeToLive is already disabled", and "TimeToLive is active
  on a different AttributeName: current AttributeName is <name>" (enabling with
  another name, or disabling with another name). The status goes straight to
  ENABLED/DISABLED (DynamoDB passes through ENABLING/DISABLING), and the
  one-hour limit DynamoDB puts on changing TTL again ("Time to live has been
  modified multiple times within a fixed interval") is *not* enforced: tests
  toggle TTL freely.
"""

from __future__ import annotations

import heapq
import logging
import struct
import threading
import weakref
from collections.abc import Sequence
from functools import partial
from typing import TYPE_CHECKING, Any

from singletable._values import Item
from singletable.backends.local._params import Checks
from singletable.backends.local._write import (
    SERVICE_IDENTITY,
    Change,
    commit,
    register_listener,
    set_listening,
)
from singletable.backends.local.errors import DynamoDBError, validation_error

if TYPE_CHECKING:
    from singletable.backends.local._schema import TableDef
    from singletable.backends.local.engine import LocalEngine
    from singletable.backends.local.storage import Storage, TableStore

__all__ = ["TimeToLive", "describe_time_to_live", "update_time_to_live"]

log = logging.getLogger("singletable.ttl")
"""Where background sweep failures are reported (``singletable serve`` shows them)."""

FIVE_YEARS_SECONDS = 5 * 365 * 24 * 3600
# Deletions per commit (and per hold of the engine lock) during a sweep.
SWEEP_BATCH = 1000


def _expiry(item: Item | None, attribute: str) -> float | None:
    """The expiry time an item's TTL attribute sets (None: the item never expires)."""
    if item is None:
        return None
    value = item.get(attribute)
    if value is None:
        return None
    number = value.get("N")
    if number is None:
        return None
    try:
        return float(number)
    except OverflowError:  # pragma: no cover - canonical numbers stay below 1E+126
        return None


class _TableExpiries:
    """The expiry heap of one TTL-enabled table (in memory)."""

    __slots__ = ("attribute", "current", "heap", "table")

    def __init__(self, table: TableDef, attribute: str) -> None:
        self.table = table
        self.attribute = attribute
        self.heap: list[tuple[float, bytes, bytes]] = []
        self.current: dict[tuple[bytes, bytes], float] = {}
        for pk, sk, item in table.store.scan():
            expiry = _expiry(item, attribute)
            if expiry is not None:
                self.current[(pk, sk)] = expiry
                self.heap.append((expiry, pk, sk))
        heapq.heapify(self.heap)

    def track(self, pk: bytes, sk: bytes, old: Item | None, item: Item | None) -> None:
        """Follow one committed change of the item at ``(pk, sk)`` (``old`` became ``item``)."""
        expiry = _expiry(item, self.attribute)
        key = (pk, sk)
        if self.current.get(key) == expiry:
            return
        if expiry is None:
            del self.current[key]  # its heap entry is now stale, skipped when popped
            return
        self.current[key] = expiry
        heapq.heappush(self.heap, (expiry, pk, sk))
        if len(self.heap) > 2 * len(self.current) + 1024:  # mostly stale: rebuild
            self.heap = [(when, p, s) for (p, s), when in self.current.items()]
            heapq.heapify(self.heap)

    def expired(self, now: float, limit: int) -> list[Change]:
        """Deletions of up to ``limit`` items expired at ``now`` (nothing is changed yet)."""
        changes: list[Change] = []
        heap, current, store = self.heap, self.current, self.table.store
        too_old = now - FIVE_YEARS_SECONDS
        taken: set[tuple[bytes, bytes]] = set()
        while heap and heap[0][0] < now and len(changes) < limit:
            expiry, pk, sk = heapq.heappop(heap)
            if current.get((pk, sk)) != expiry or (pk, sk) in taken:
                continue  # stale (the item changed since), or a twin entry (rolled back)
            taken.add((pk, sk))
            item = store.get(pk, sk)
            if item is None or expiry < too_old:
                del current[(pk, sk)]  # never deleted by TTL (unless written again)
                continue
            changes.append(Change(self.table, pk, sk, item, None))
        return changes


# The store of a table's expiries in a storage that keeps index stores. ``~`` never
# appears in a table or index name, so no index store can take this name, and the
# storage drops it with the table (as it drops ``<table>#<index>``).
TTL_STORE_SUFFIX = "#~ttl"
_FLOAT = struct.Struct(">d")
_SIGN = 1 << 63
_ALL_BITS = (1 << 64) - 1


def _ordered(expiry: float) -> bytes:
    """8 bytes whose byte order is ``expiry``'s numeric order (IEEE 754 bits, with the
    sign bit flipped for positives and every bit flipped for negatives)."""
    bits = int.from_bytes(_FLOAT.pack(expiry), "big")
    return (bits ^ _ALL_BITS if bits & _SIGN else bits | _SIGN).to_bytes(8, "big")


def _entry(expiry: float, pk: bytes, sk: bytes) -> bytes:
    """The sort key of an item's entry: its expiry in order, then its key."""
    return _ordered(expiry) + len(pk).to_bytes(4, "big") + pk + sk


def _key_of(entry: bytes) -> tuple[bytes, bytes]:
    length = int.from_bytes(entry[8:12], "big")
    return entry[12 : 12 + length], entry[12 + length :]


class _StoredExpiries:
    """The expiries of one TTL-enabled table, kept by the storage (a durable file).

    One partition (``b""``) of entries sorted by :func:`_entry`; each committed
    change moves its item's entry inside the change's atomic group, so the storage's
    own rollback takes a failed group's moves back too.
    """

    __slots__ = ("attribute", "store", "table")

    def __init__(self, table: TableDef, attribute: str, storage: Storage) -> None:
        self.table = table
        self.attribute = attribute
        name = table.name + TTL_STORE_SUFFIX
        placement = {"kind": "ttl", "table_id": table.table_id, "attribute": attribute}
        with storage.atomic():
            if name in storage:
                if storage.get_meta(name) == placement:
                    self.store: TableStore = storage.table(name)
                    return  # a reopen: nothing to read
                storage.drop_table(name)  # another table's, or another attribute's
            self.store = storage.create_table(name, placement)
            for pk, sk, item in table.store.scan():
                self.track(pk, sk, None, item)

    def track(self, pk: bytes, sk: bytes, old: Item | None, item: Item | None) -> None:
        """Follow one committed change of the item at ``(pk, sk)`` (``old`` became ``item``)."""
        before, after = _expiry(old, self.attribute), _expiry(item, self.attribute)
        gone = None if before is None else _entry(before, pk, sk)
        entry = None if after is None else _entry(after, pk, sk)
        if gone == entry:
            return
        if gone is not None:
            self.store.delete(b"", gone)
        if entry is not None:
            self.store.put(b"", entry, {}, 0)

    def expired(self, now: float, limit: int) -> list[Change]:
        """Deletions of up to ``limit`` items expired at ``now`` (nothing is changed yet).

        Entries more than five years old are below the range read, never deleted.
        """
        changes: list[Change] = []
        store = self.table.store
        entries = self.store.query(
            b"", lo=_ordered(now - FIVE_YEARS_SECONDS), hi=_ordered(now), hi_inclusive=False
        )
        for entry, _ in entries:
            pk, sk = _key_of(entry)
            item = store.get(pk, sk)
            expiry = _expiry(item, self.attribute)
            # (each write moves its item's entry in its own commit: an entry that does
            # not match its item would be a bug; it is skipped, never obeyed)
            if expiry is not None and _ordered(expiry) == entry[:8]:
                changes.append(Change(self.table, pk, sk, item, None))
                if len(changes) >= limit:
                    break
        return changes

    def drop(self, storage: Storage) -> None:
        """Forget the expiries (TTL was disabled)."""
        name = self.table.name + TTL_STORE_SUFFIX
        if name in storage:
            storage.drop_table(name)


_Expiries = _TableExpiries | _StoredExpiries
_HeapState = tuple[
    str, _TableExpiries, list[tuple[float, bytes, bytes]], dict[tuple[bytes, bytes], float]
]


def _untrack(tracked: list[tuple[_TableExpiries, Change]]) -> None:
    """Track the old items again: their changes were rolled back."""
    for expiries, change in reversed(tracked):
        expiries.track(change.pk, change.sk, change.new, change.old)


class TimeToLive:
    """The TTL of one engine: per-table expiry heaps, sweeps, and the sweeper thread.

    Args:
        engine: the engine (its ``change_listeners`` and ``close_hooks`` get entries).
        interval: seconds between automatic sweeps; None: no sweeper thread.
    """

    def __init__(self, engine: LocalEngine, interval: float | None = 1.0) -> None:
        self._engine = engine
        self.interval = interval
        self._tables: dict[str, _Expiries] = {}
        self._thread: threading.Thread | None = None
        self._stop = threading.Event()
        self.last_error: Exception | None = None
        """The last exception a background sweep raised (a stream subscriber's, a failed
        commit...), None while none has; see :meth:`LocalEngine.ttl_sweep_error`."""
        self.failures = 0
        """How many background sweeps have failed."""
        self._listener = self._on_commit
        register_listener(engine, self._listener, live=False)  # (live: _sync_listening)
        engine.close_hooks.append(self.stop)
        with engine.lock:  # tables a durable storage reopened with TTL on
            for table in engine.tables.values():
                if (table.settings.get("ttl") or {}).get("Enabled"):
                    self._track(table)

    # ----------------------------------------------------------------- state

    def attribute(self, table: TableDef) -> str | None:
        """The TTL attribute of ``table``, or None if TTL is disabled."""
        ttl = table.settings.get("ttl") or {}
        return str(ttl["AttributeName"]) if ttl.get("Enabled") else None

    def catalog_state(self) -> dict[str, _Expiries]:
        """What a table operation may change here (see ._rollback)."""
        return dict(self._tables)

    def restore_catalog_state(self, state: dict[str, _Expiries]) -> None:
        """Go back to a :meth:`catalog_state` (the table operation was rolled back)."""
        self._tables.clear()
        self._tables.update(state)
        self._sync_listening()

    def _sync_listening(self) -> None:
        """Commits call the expiry tracker only while a table has TTL on (._write.set_listening)."""
        set_listening(self._engine, self._listener, bool(self._tables))

    def memory_state(self) -> list[_HeapState]:
        """A copy of every table's expiry heap (for a snapshot of an in-memory engine)."""
        state = []
        for name, expiries in self._tables.items():
            assert type(expiries) is _TableExpiries  # (only a memory engine is snapshotted)
            state.append((name, expiries, expiries.heap.copy(), expiries.current.copy()))
        return state

    def restore_memory_state(self, state: list[_HeapState]) -> None:
        """Go back to a :meth:`memory_state` (the state stays reusable)."""
        tracked: dict[str, _Expiries] = {}
        for name, expiries, heap, current in state:
            expiries.heap = heap.copy()
            expiries.current = current.copy()
            tracked[name] = expiries
        self.restore_catalog_state(tracked)

    def _track(self, table: TableDef) -> None:
        attribute = self.attribute(table)
        assert attribute is not None
        storage = self._engine.storage
        if getattr(storage, "keeps_indexes", False):
            self._tables[table.name] = _StoredExpiries(table, attribute, storage)
        else:
            self._tables[table.name] = _TableExpiries(table, attribute)
        self._sync_listening()
        self._start_sweeper()

    def enable(self, table: TableDef, attribute: str) -> None:
        """Turn TTL on for ``table`` (caller holds the lock and checked the request)."""
        table.settings["ttl"] = {"Enabled": True, "AttributeName": attribute}
        with self._engine.storage.atomic():  # the setting and a kept expiry store together
            self._engine.save_table(table)
            self._track(table)

    def disable(self, table: TableDef) -> None:
        """Turn TTL off for ``table`` (caller holds the lock and checked the request)."""
        table.settings.pop("ttl", None)
        storage = self._engine.storage
        with storage.atomic():
            self._engine.save_table(table)
            expiries = self._tables.pop(table.name, None)
            if isinstance(expiries, _StoredExpiries):
                expiries.drop(storage)
            self._sync_listening()

    def _on_commit(self, changes: Sequence[Change], identity: dict[str, Any] | None) -> None:
        """The change listener: keep the expiries of TTL-enabled tables current."""
        if not self._tables:
            return
        tracked = []
        for change in changes:
            expiries = self._tables.get(change.table.name)
            if expiries is not None and expiries.table is change.table:
                expiries.track(change.pk, change.sk, change.old, change.new)
                if type(expiries) is _TableExpiries:  # (a kept store undoes its own writes)
                    tracked.append((expiries, change))
        storage = self._engine.storage
        if tracked and storage.can_fail_commit:  # the old expiries, if the group fails
            storage.on_rollback(partial(_untrack, tracked))

    # ----------------------------------------------------------------- sweeping

    def sweep(self) -> int:
        """Delete every item expired at ``engine.clock()``; returns how many were deleted.

        Deletions are committed in batches (the lock is released between them) as
        the service, then delivered to stream subscribers.
        """
        engine = self._engine
        deleted = 0
        changes: list[Change] = []
        while not self._stop.is_set():
            if not engine.lock.acquire(timeout=0.1):
                continue  # so that close() (which holds the lock) can stop a sweep
            try:
                if self._stop.is_set():
                    break
                changes = self._next_batch(engine.clock())
                if changes:
                    commit(engine, changes, identity=SERVICE_IDENTITY)
            finally:
                engine.lock.release()
            if not changes:
                break
            deleted += len(changes)
            engine.streams.deliver()
        return deleted

    def _next_batch(self, now: float) -> list[Change]:
        for name, expiries in list(self._tables.items()):
            if self._engine.tables.get(name) is not expiries.table:
                del self._tables[name]  # the table was deleted (or replaced)
                self._sync_listening()
                continue
            changes = expiries.expired(now, SWEEP_BATCH)
            if changes:
                return changes
        return []

    def _start_sweeper(self) -> None:
        if self.interval is None or self._thread is not None or self._stop.is_set():
            return
        self._thread = threading.Thread(
            target=_sweep_forever,
            args=(weakref.ref(self), self._stop, self.interval),
            name="singletable-ttl-sweeper",
            daemon=True,
        )
        self._thread.start()

    def failed(self, error: Exception) -> None:
        """Record and log a background sweep's failure (the thread carries on).

        The first failure, and every one whose text differs from the previous, is
        logged as an error with its traceback; a repeat (a failure every second)
        only at DEBUG, so that a lasting problem does not flood the log.
        """
        previous = self.last_error
        self.last_error = error
        self.failures += 1
        repeated = previous is not None and repr(previous) == repr(error)
        log.log(
            logging.DEBUG if repeated else logging.ERROR,
            "background TTL sweep failed (%d so far): %s: %s",
            self.failures,
            type(error).__name__,
            error,
            exc_info=None if repeated else error,
        )

    def stop(self) -> None:
        """Stop the sweeper thread (a close hook; runs under the engine lock)."""
        self._stop.set()
        thread, self._thread = self._thread, None
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout=5)


def _sweep_forever(
    ref: weakref.ReferenceType[TimeToLive], stop: threading.Event, interval: float
) -> None:
    """The sweeper thread: holds its TimeToLive weakly, so an unclosed engine can be freed."""
    while not stop.wait(interval):
        ttl = ref()
        if ttl is None:
            return
        try:
            ttl.sweep()
        except Exception as error:  # a subscriber's error must not stop the sweeper
            ttl.failed(error)
        del ttl


# --------------------------------------------------------------------------- operations


def _table(engine: LocalEngine, name: str) -> TableDef:
    table = engine.tables.get(name)
    if table is None:
        raise DynamoDBError(
            "ResourceNotFoundException", f"Requested resource not found: Table: {name} not found"
        )
    return table


def update_time_to_live(engine: LocalEngine, request: dict[str, Any]) -> dict[str, Any]:
    """UpdateTimeToLive: enable or disable TTL on one attribute."""
    checks = Checks(request)
    name = checks.table_name()
    spec = checks.required("TimeToLiveSpecification")
    attribute: Any = None
    enabled: Any = None
    if spec is not None:
        if not isinstance(spec, dict):
            raise DynamoDBError("SerializationException", "Start of list found where not expected")
        attribute, enabled = spec.get("AttributeName"), spec.get("Enabled")
        member = "timeToLiveSpecification"
        if attribute is None:
            checks.fail(f"{member}.attributeName", None, "Member must not be null")
        elif not isinstance(attribute, str):
            raise DynamoDBError(
                "SerializationException", "Unexpected value type in payload for AttributeName"
            )
        elif len(attribute) < 1:
            checks.fail(
                f"{member}.attributeName",
                attribute,
                "Member must have length greater than or equal to 1",
            )
        elif len(attribute) > 255:
            checks.fail(
                f"{member}.attributeName",
                attribute,
                "Member must have length less than or equal to 255",
            )
        if enabled is None:
            checks.fail(f"{member}.enabled", None, "Member must not be null")
        elif not isinstance(enabled, bool):
            raise DynamoDBError(
                "SerializationException", "Unexpected value type in payload for Enabled"
            )
    checks.raise_if_any()
    assert name is not None
    with engine.lock:
        table = _table(engine, name)
        current = engine.ttl.attribute(table)
        if current is not None and current != attribute:
            raise validation_error(
                "TimeToLive is active on a different AttributeName: current AttributeName is "
                + current
            )
        if enabled and current is not None:
            raise validation_error("TimeToLive is already enabled")
        if not enabled and current is None:
            raise validation_error("TimeToLive is already disabled")
        if enabled:
            engine.ttl.enable(table, attribute)
        else:
            engine.ttl.disable(table)
    return {"TimeToLiveSpecification": {"Enabled": enabled, "AttributeName": attribute}}


def describe_time_to_live(engine: LocalEngine, request: dict[str, Any]) -> dict[str, Any]:
    """DescribeTimeToLive: ENABLED with the attribute name, or DISABLED."""
    checks = Checks(request)
    name = checks.table_name()
    checks.raise_if_any()
    assert name is not None
    with engine.lock:
        attribute = engine.ttl.attribute(_table(engine, name))
    if attribute is None:
        return {"TimeToLiveDescription": {"TimeToLiveStatus": "DISABLED"}}
    return {"TimeToLiveDescription": {"TimeToLiveStatus": "ENABLED", "AttributeName": attribute}}
