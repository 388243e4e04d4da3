"""Global tables (version 2019.11.21): replicas in other regions, asynchronous
replication, last-writer-wins conflicts.

A table becomes global when ``UpdateTable`` adds a replica (``ReplicaUpdates`` in
:mod:`._replica_updates`); every member table then carries the group in its
settings (``settings["replicas"]``: region -> replica status, in the order the
replicas were added), which DescribeTable shows as ``Replicas`` (the other regions,
never the table's own, as the live service shows them) and ``GlobalTableVersion``.

Replication is a queue per target region (:class:`Replication`). A committed write
to a member table (a change listener, see ._write) is stamped with its write time
and a sequence number, kept per item *outside* the item (so deletes leave a stamp
too: a tombstone), and queued for every other member, due ``delay`` seconds later.
Applying a queued change in a region compares stamps: an older write than the one
the region already holds is dropped, so every replica converges on the last writer
by write time (Developer Guide, "Global tables: How it works": "last writer wins").
The applied change is a normal commit in the target region: its indexes, its
stream (one record per change, as in the source region; no userIdentity), its TTL
tracking. Transactions are atomic only in the region they ran in: their changes
replicate one by one.

Queued changes are applied by a background thread ``delay`` seconds after the
write (``replication="background"``, the default), or only when the test calls
``engine.replicate()`` (``replication="manual"``). ``pause_replication(region)``
holds a region's inbound changes (a network partition) until
``resume_replication(region)``.

Not kept on disk: the queue and the write stamps live in memory, so a durable
engine closed with changes still queued does not deliver them after reopening.
"""

from __future__ import annotations

import contextlib
import itertools
import logging
import threading
import time
import uuid
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import partial
from typing import TYPE_CHECKING, Any

from singletable._values import Item, item_size
from singletable.backends.local._schema import TableDef
from singletable.backends.local._write import Change, commit, register_listener

if TYPE_CHECKING:
    from singletable.backends.local._regions import Regions
    from singletable.backends.local.engine import LocalEngine

__all__ = ["GLOBAL_TABLE_VERSION", "Replication", "check_options", "group_of"]

GLOBAL_TABLE_VERSION = "2019.11.21"
MODES = ("background", "manual")

log = logging.getLogger("singletable.replication")

Stamp = tuple[float, int]
"""When an item was last written: (clock time, sequence) - the sequence orders writes
made at the same clock time in the order they committed."""


def group_of(table: TableDef) -> dict[str, str] | None:
    """The replication group of ``table`` (region -> replica status), None if regional."""
    group: dict[str, str] | None = table.settings.get("replicas")
    return group


def check_options(mode: str, delay: float) -> None:
    """ValueError for a replication mode or delay LocalEngine does not take."""
    if mode not in MODES:
        raise ValueError(f"replication must be 'background' or 'manual', not {mode!r}")
    if not delay >= 0:
        raise ValueError("replication_delay must not be negative")


@dataclass(slots=True)
class _Event:
    """One thing queued for a target region: a replica to create, or an item change."""

    due: float  # time.monotonic() when it may be applied
    kind: str  # "create" or "change"
    table: str
    source: str  # the region it comes from
    pk: bytes = b""
    sk: bytes = b""
    item: Item | None = None
    stamp: Stamp = (0.0, 0)


class Replication:
    """The replication queues of one engine's regions (``engine.regions.replication``)."""

    def __init__(self, regions: Regions, mode: str, delay: float) -> None:
        check_options(mode, delay)
        self._regions = regions
        self.mode = mode
        self.delay = delay
        self._queues: dict[str, deque[_Event]] = {}
        self._paused: set[str] = set()
        # Per (region, table name): the stamp of each item written there, by key.
        self._stamps: dict[tuple[str, str], dict[tuple[bytes, bytes], Stamp]] = {}
        self._sequence = itertools.count(1)
        self._attached: set[int] = set()  # ids of the engines whose commits are watched
        self._applying = False  # a replicated change is being committed (not queued again)
        self._thread: threading.Thread | None = None
        self._kick = threading.Event()
        self._stop = threading.Event()
        self.last_error: Exception | None = None
        regions.snapshot_hooks.append(self._snapshot)

    # ----------------------------------------------------------------- watching writes

    def attach(self, engine: LocalEngine) -> None:
        """Watch ``engine``'s commits (once it holds a member table)."""
        if id(engine) in self._attached:
            return
        self._attached.add(id(engine))
        register_listener(engine, partial(self._on_commit, engine))

    def _on_commit(
        self, engine: LocalEngine, changes: Sequence[Change], identity: dict[str, Any] | None
    ) -> None:
        """Stamp each change to a member table and queue it for the other members."""
        region = engine.region
        queued: list[tuple[str, _Event]] = []
        stamped: list[tuple[dict[tuple[bytes, bytes], Stamp], tuple[bytes, bytes], Any]] = []
        for change in changes:
            group = group_of(change.table)
            if group is None:
                continue
            stamps = self._stamps.setdefault((region, change.table.name), {})
            key = (change.pk, change.sk)
            stamped.append((stamps, key, stamps.get(key)))
            if self._applying:
                continue  # a replicated change: _apply stamps it with its origin's stamp
            stamp = (engine.clock(), next(self._sequence))
            stamps[key] = stamp
            due = time.monotonic() + self.delay
            for target in group:
                if target != region:
                    event = _Event(
                        due, "change", change.table.name, region, change.pk, change.sk,
                        change.new, stamp,
                    )  # fmt: skip
                    self._queue(target).append(event)
                    queued.append((target, event))
        if queued:
            self._kick.set()
        if (queued or stamped) and engine.storage.can_fail_commit:
            engine.storage.on_rollback(partial(self._take_back, queued, stamped))

    def _take_back(
        self,
        queued: list[tuple[str, _Event]],
        stamped: list[tuple[dict[tuple[bytes, bytes], Stamp], tuple[bytes, bytes], Any]],
    ) -> None:
        """The commit failed: forget what it queued and stamped."""
        for target, event in queued:
            with contextlib.suppress(ValueError):
                self._queue(target).remove(event)
        for stamps, key, previous in reversed(stamped):
            if previous is None:
                stamps.pop(key, None)
            else:
                stamps[key] = previous

    def _queue(self, region: str) -> deque[_Event]:
        queue = self._queues.get(region)
        if queue is None:
            queue = self._queues[region] = deque()
        return queue

    # ----------------------------------------------------------------- group changes

    def queue_create(self, source: LocalEngine, table: TableDef, target: str) -> None:
        """Queue the creation of ``table``'s replica in ``target`` (caller holds the lock)."""
        self.attach(source)
        event = _Event(time.monotonic() + self.delay, "create", table.name, source.region)
        self._queue(target).append(event)
        self._kick.set()
        self._start()

    def forget(self, region: str, name: str) -> None:
        """A member table left its group (deleted, or its replica removed): drop its state."""
        self._stamps.pop((region, name), None)
        queue = self._queues.get(region)
        if queue:
            kept = [event for event in queue if event.table != name]
            queue.clear()
            queue.extend(kept)

    # ----------------------------------------------------------------- applying

    def pending(self, region: str | None = None) -> int:
        """How many queued changes (and replica creations) wait, for one region or all."""
        with self._regions.home.lock:
            if region is not None:
                return len(self._queues.get(region, ()))
            return sum(len(queue) for queue in self._queues.values())

    def pause(self, region: str) -> None:
        """Hold every change bound for ``region`` until :meth:`resume`."""
        with self._regions.home.lock:
            self._paused.add(region)

    def resume(self, region: str) -> None:
        """Deliver ``region``'s held changes again (the background thread sends them now)."""
        with self._regions.home.lock:
            self._paused.discard(region)
        self._kick.set()

    def replicate(self, *, due_only: bool = False) -> int:
        """Apply the queued changes of every region not paused; returns how many.

        ``due_only``: only those whose delay has passed (the background thread's pass).
        """
        regions = self._regions
        applied = 0
        touched: list[LocalEngine] = []
        with regions.home.lock:
            now = time.monotonic()
            for region, queue in list(self._queues.items()):
                if region in self._paused or not queue:
                    continue
                engine = regions.engine(region)
                while queue and (not due_only or queue[0].due <= now):
                    event = queue.popleft()
                    if event.kind == "create":
                        self._create_replica(engine, event)
                    else:
                        self._apply(engine, event)
                    applied += 1
                if engine.streams.pending:
                    touched.append(engine)
        for engine in touched:  # stream subscribers run after the changes, unlocked
            engine.streams.deliver()
        return applied

    def _apply(self, engine: LocalEngine, event: _Event) -> None:
        """Apply one replicated change in ``engine``'s region, unless a newer write is there."""
        table = engine.tables.get(event.table)
        if table is None:
            return
        group = group_of(table)
        if group is None or event.source not in group:
            return  # the replica left the group since
        stamps = self._stamps.setdefault((engine.region, table.name), {})
        key = (event.pk, event.sk)
        current = stamps.get(key)
        if current is not None and current >= event.stamp:
            return  # last writer wins: this region holds a later write
        old = table.store.get(event.pk, event.sk)
        new = event.item
        self._applying = True
        try:
            size = item_size(new) if new is not None else 0
            commit(engine, [Change(table, event.pk, event.sk, old, new, size)])
        finally:
            self._applying = False
        stamps[key] = event.stamp

    def _create_replica(self, engine: LocalEngine, event: _Event) -> None:
        """Make the replica table in ``engine``'s region: the source's definition and items."""
        source_engine = self._regions.engine(event.source)
        source = source_engine.tables.get(event.table)
        group = group_of(source) if source is not None else None
        region = engine.region
        if source is None or group is None or group.get(region) != "CREATING":
            return  # the source table or the replica went away meanwhile
        if event.table in engine.tables:  # a table of that name appeared there meanwhile
            self._set_status(event.table, group, region, "CREATION_FAILED")
            return
        meta = source.to_meta()
        meta.update(
            region=region,
            table_id=str(uuid.uuid4()),
            created=engine.clock(),
            last_increase=None,
            last_decrease=None,
            decreases_today=0,
            deletion_protection=False,
            tags={},  # tags are regional
            settings={"replicas": dict(group)},
        )
        storage = engine.storage
        with storage.atomic():
            table = TableDef.from_meta(meta, storage.create_table(event.table))
            table.open_indexes(storage)
            engine.tables[table.name] = table
            self.attach(engine)
            rows = list(source.store.scan())
            self._applying = True
            try:
                commit(
                    engine,
                    [Change(table, pk, sk, None, item, item_size(item)) for pk, sk, item in rows],
                )
            finally:
                self._applying = False
            source_stamps = self._stamps.get((event.source, source.name), {})
            self._stamps[(region, table.name)] = dict(source_stamps)
            view = (source.settings.get("stream") or {}).get("StreamViewType")
            if view is not None:
                engine.streams.enable(table, view)
            ttl = source.settings.get("ttl") or {}
            if ttl.get("Enabled"):
                engine.ttl.enable(table, str(ttl["AttributeName"]))
            self._set_status(event.table, group, region, "ACTIVE")

    def _set_status(self, name: str, group: dict[str, str], region: str, status: str) -> None:
        """Set ``region``'s status in table ``name``'s group, on every member table."""
        updated = dict(group)
        updated[region] = status
        self.set_group(name, set(group), updated)

    def set_group(
        self,
        name: str,
        members: set[str],
        group: dict[str, str] | None,
        adopt: str | None = None,
    ) -> None:
        """Give table ``name`` in every region of ``members`` and of ``group`` the group
        ``group``; the tables of ``members`` not in it become regional again.

        Only tables already in a group change, and the table of region ``adopt`` (the
        regional table a first replica is added to): a table of the same name that is
        not a replica (it made a replica's creation fail) is left alone.
        """
        for region in sorted(members | set(group or ())):
            engine = self._regions.engine(region)
            table = engine.tables.get(name)
            if table is None or (group_of(table) is None and region != adopt):
                continue  # a replica not created yet, gone, or not a replica
            if group is not None and region in group:
                table.settings["replicas"] = dict(group)
                self.attach(engine)
            else:
                table.settings.pop("replicas", None)
                self.forget(region, name)
            engine.save_table(table)

    # ----------------------------------------------------------------- background

    def _start(self) -> None:
        if self.mode != "background" or self._thread is not None:
            return
        self._thread = threading.Thread(
            target=self._run, name="singletable-replication", daemon=True
        )
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.is_set():
            wait = self._next_due()
            self._kick.wait(wait)
            self._kick.clear()
            if self._stop.is_set():
                return
            try:
                self.replicate(due_only=True)
            except Exception as error:  # kept for the user (replication_error); the thread goes on
                self.last_error = error
                log.exception("replication failed")

    def _next_due(self) -> float | None:
        """Seconds until the first queued change is due (None: nothing queued)."""
        with self._regions.home.lock:
            dues = [
                queue[0].due
                for region, queue in self._queues.items()
                if queue and region not in self._paused
            ]
        if not dues:
            return None
        return max(0.0, min(dues) - time.monotonic())

    def stop(self) -> None:
        """Stop the background thread (the engine is closing)."""
        self._stop.set()
        self._kick.set()
        thread = self._thread
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout=5)

    # ----------------------------------------------------------------- snapshots

    def _snapshot(self) -> Callable[[], None]:
        queues = {region: list(queue) for region, queue in self._queues.items()}
        stamps = {key: dict(value) for key, value in self._stamps.items()}
        paused = set(self._paused)

        def restore() -> None:
            self._queues = {region: deque(events) for region, events in queues.items()}
            self._stamps = {key: dict(value) for key, value in stamps.items()}
            self._paused = set(paused)
            self._kick.set()

        return restore
