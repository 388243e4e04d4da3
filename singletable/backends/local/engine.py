"""The local engine: one object that answers DynamoDB API requests in wire shape.

``LocalEngine.call(operation, request)`` dispatches to one module per concern:
table operations in :mod:`._tables`, single-item operations in :mod:`._items`,
Query and Scan in :mod:`._reads`. Every request is validated completely before
it changes anything; writes run under one re-entrant lock, which makes every
conditional write and ADD linearizable and lets any thread use the engine.

Stored items are compact immutable records (see ._records), decoded when read:
:meth:`LocalEngine.call` hands out a GetItem's item decoded for the caller alone,
otherwise a deep copy of the response (or, with ``copy=False``, shared read-only
data); :meth:`LocalEngine.call_json` serializes them directly.

Items live in a :class:`~singletable.backends.local.storage.Storage` (in memory
by default) keyed by the order-preserving bytes of :mod:`.keycodec`, so GetItem
costs O(1) and Query O(log n + page), independent of the table's size.
"""

from __future__ import annotations

import marshal
import os
import threading
import time
from collections.abc import Callable, Iterable
from typing import Any

from singletable.backends.local import (
    _backups,
    _batch,
    _bulk,
    _global_tables,
    _items,
    _partiql,
    _reads,
    _service,
    _streams_api,
    _tables,
    _tags,
    _transactions,
    _ttl,
)
from singletable.backends.local._bulk import Seed
from singletable.backends.local._capacity_meter import CapacityMeter, metered
from singletable.backends.local._encoding import dumps, encode_response, loads
from singletable.backends.local._faults import Faults
from singletable.backends.local._records import READS
from singletable.backends.local._regions import Regions, check_region
from singletable.backends.local._replication import check_options
from singletable.backends.local._request_check import check_request
from singletable.backends.local._rollback import CATALOG_OPERATIONS, guard_catalog
from singletable.backends.local._schema import TableDef
from singletable.backends.local._snapshot import Snapshot
from singletable.backends.local._streams import RecordStream, Streams, Subscription
from singletable.backends.local._throttle import CapacityEnforcement, Throttle
from singletable.backends.local._ttl import TimeToLive
from singletable.backends.local._update import OWNED
from singletable.backends.local._write import ChangeListener
from singletable.backends.local.durable import DurableStorage
from singletable.backends.local.errors import DynamoDBError, in_envelope
from singletable.backends.local.storage import MemoryStorage, Storage

__all__ = ["LocalEngine"]

_Handler = Callable[["LocalEngine", dict[str, Any]], dict[str, Any]]

_OPERATIONS: dict[str, _Handler] = {
    "CreateTable": _tables.create_table,
    "DescribeTable": _tables.describe_table,
    "DeleteTable": _tables.delete_table,
    "ListTables": _tables.list_tables,
    "UpdateTable": _tables.update_table,
    "PutItem": _items.put_item,
    "GetItem": _items.get_item,
    "UpdateItem": _items.update_item,
    "DeleteItem": _items.delete_item,
    "Query": _reads.query,
    "Scan": _reads.scan,
    "BatchGetItem": _batch.batch_get_item,
    "BatchWriteItem": _batch.batch_write_item,
    "UpdateTimeToLive": _ttl.update_time_to_live,
    "DescribeTimeToLive": _ttl.describe_time_to_live,
    "ListStreams": _streams_api.list_streams,
    "DescribeStream": _streams_api.describe_stream,
    "GetShardIterator": _streams_api.get_shard_iterator,
    "GetRecords": _streams_api.get_records,
    "TransactWriteItems": _transactions.transact_write_items,
    "TransactGetItems": _transactions.transact_get_items,
    "CreateBackup": _backups.create_backup,
    "DescribeBackup": _backups.describe_backup,
    "ListBackups": _backups.list_backups,
    "DeleteBackup": _backups.delete_backup,
    "RestoreTableFromBackup": _backups.restore_table_from_backup,
    "UpdateContinuousBackups": _backups.update_continuous_backups,
    "DescribeContinuousBackups": _backups.describe_continuous_backups,
    "RestoreTableToPointInTime": _backups.restore_table_to_point_in_time,
    "TagResource": _tags.tag_resource,
    "UntagResource": _tags.untag_resource,
    "ListTagsOfResource": _tags.list_tags_of_resource,
    "DescribeEndpoints": _service.describe_endpoints,
    "DescribeLimits": _service.describe_limits,
    "ExecuteStatement": _partiql.execute_statement,
    "BatchExecuteStatement": _partiql.batch_execute_statement,
    "ExecuteTransaction": _partiql.execute_transaction,
    "DescribeTableReplicaAutoScaling": _global_tables.describe_table_replica_auto_scaling,
    "UpdateTableReplicaAutoScaling": _global_tables.update_table_replica_auto_scaling,
    "CreateGlobalTable": _global_tables.create_global_table,
    "DescribeGlobalTable": _global_tables.describe_global_table,
    "UpdateGlobalTable": _global_tables.describe_global_table,
    "DescribeGlobalTableSettings": _global_tables.describe_global_table,
    "UpdateGlobalTableSettings": _global_tables.describe_global_table,
    "ListGlobalTables": _global_tables.list_global_tables,
}


# The operations on which DynamoDB wraps request-validation errors in the
# "1 validation error detected: " envelope (2026 behaviour); data-plane, structural
# and limit errors stay bare, and every other operation reports the same families
# bare. Each error is classified where it is raised (DynamoDBError.request_validation),
# never by its text; the envelope is applied once, here, at the operation boundary.
# Evidence, captured against real DynamoDB (eu-west-2):
#   https://github.com/nubo-db/dynoxide/pull/152 (PutItem/UpdateItem family matrix)
#   https://github.com/ministackorg/ministack/issues/1038 (UpdateItem, empty SS)
# moto 5.2.5 also envelopes DeleteItem and the unused/empty ExpressionAttribute*
# errors; that is not in the capture (see tests/conformance MOTO_DIFFERENCES).
_ENVELOPED_OPERATIONS = frozenset({"PutItem", "UpdateItem"})

# Operations whose handler runs the request checks (._request_check) itself, unless a
# fast path answers first (a compiled program of the request's shape, ._update and
# ._tx_programs, or a plain PutItem), for a request that would pass them.
_UNCHECKED: dict[str, _Handler] = {
    "PutItem": _items.put_item_unchecked,
    "UpdateItem": _items.update_item_unchecked,
    "DeleteItem": _items.delete_item_unchecked,
    "TransactWriteItems": _transactions.transact_write_items,
}


class LocalEngine:
    """An in-process DynamoDB.

    Args:
        storage: where items live; a fresh in-memory storage by default.
        path: keep the data on disk in this file instead (a
            :class:`~singletable.backends.local.durable.DurableStorage`, reopened
            with its tables if it exists); not together with ``storage``.
        region: the home region: the one direct calls run in (unless they name
            another) and ARNs show. Every other region has its own tables (see ._regions).
        shared_regions: one catalog for every region (DynamoDB Local's ``-sharedDb``):
            requests for any region see the home region's tables.
        replication: how global tables replicate (see ._replication): ``"background"``
            (a thread applies each write to the other replicas ``replication_delay``
            seconds after it) or ``"manual"`` (only :meth:`replicate` applies them).
        replication_delay: seconds between a write and its replication (background).
        cache_bytes: with ``path``, the bound of the durable storage's cache of decoded
            items (estimated bytes of memory); None: an eighth of the machine's memory
            (:func:`~singletable.backends.local.durable.default_cache_bytes`).
        clock: seconds since the epoch (injectable for tests; ``time.time`` by default).
        ttl_sweep_interval: seconds between the background sweeps that delete items
            whose TTL expired; None: no background sweeps (call :meth:`sweep_ttl`).

    Attributes:
        endpoint_address: the address DescribeEndpoints answers with;
            ``dynamodb.<region>.amazonaws.com`` until an HTTP server serving the engine
            sets its own ``host:port``.
        faults: the fault rules (``engine.faults.inject(...)``, see ._faults): chosen
            requests fail with DynamoDB's errors, come back partial or slow.
    """

    def __init__(
        self,
        storage: Storage | None = None,
        *,
        region: str = "us-east-1",
        clock: Callable[[], float] = time.time,
        ttl_sweep_interval: float | None = 1.0,
        path: str | os.PathLike[str] | None = None,
        shared_regions: bool = False,
        replication: str = "background",
        replication_delay: float = 0.02,
        cache_bytes: int | None = None,
    ) -> None:
        check_region(region)
        check_options(replication, replication_delay)  # before a file is opened
        if path is not None:
            if storage is not None:
                raise ValueError("give storage or path, not both")
            storage = DurableStorage(path, cache_bytes=cache_bytes)
        elif cache_bytes is not None:
            raise ValueError("cache_bytes is for a durable engine (with path)")
        base: Storage = storage if storage is not None else MemoryStorage()
        self.region = region
        self.clock = clock
        self.lock = threading.RLock()
        self.regions = Regions(
            self,
            base,
            shared=shared_regions,
            ttl_sweep_interval=ttl_sweep_interval,
            factory=LocalEngine._region_engine,
            replication=replication,
            replication_delay=replication_delay,
        )
        # Testing hooks (._faults): consulted only while some rule is installed, when
        # _intercept is set; otherwise a request pays one attribute check for them.
        self._intercept: Callable[[str, Any], dict[str, Any]] | None = None
        self.faults = Faults(self)
        self._meters: list[CapacityMeter] = []
        self._throttle: Throttle | None = None  # capacity enforcement (._throttle), off
        try:
            self._setup(self.regions.storage_for(region), ttl_sweep_interval)
            self.regions.open_stored()
        except BaseException:
            if path is not None:  # a file this engine opened: not left locked by a failed open
                self.close()
            raise

    @classmethod
    def _region_engine(cls, regions: Regions, region: str) -> LocalEngine:
        """The engine of another region than the home one (see ._regions): its own
        catalog and storage; the lock, clock, fault rules and meters of the home engine."""
        home = regions.home
        engine = cls.__new__(cls)
        engine.region = region
        engine.clock = home.clock
        engine.lock = home.lock
        engine.regions = regions
        engine.faults = home.faults
        engine._meters = home._meters
        engine._throttle = None  # enforced per region: engine.in_region(r).enforce_capacity()
        engine._intercept = engine._intercepted if (home.faults or home._meters) else None
        engine._setup(regions.storage_for(region), regions.ttl_sweep_interval)
        if home.endpoint_address != f"dynamodb.{home.region}.amazonaws.com":
            engine.endpoint_address = home.endpoint_address  # an HTTP server's host:port
        return engine

    def _setup(self, storage: Storage, ttl_sweep_interval: float | None) -> None:
        """The state of one region: its catalog, storage, streams, TTL and backups."""
        self.storage = storage
        # The address DescribeEndpoints answers (the HTTP server sets its own; see ._service).
        self.endpoint_address = f"dynamodb.{self.region}.amazonaws.com"
        self.tables: dict[str, TableDef] = {}
        # Called with every committed group of changes, under the lock (see ._write).
        self.change_listeners: list[ChangeListener] = []
        # Every listener registered (._write.register_listener); the live ones are above.
        self.listener_order: list[ChangeListener] = []
        # Run once by close() (background threads stop here).
        self.close_hooks: list[Callable[[], None]] = []
        self._load_catalog()
        self.streams = Streams(self)  # stream records and in-process subscribers (._streams)
        self.ttl = TimeToLive(self, ttl_sweep_interval)  # expiry heaps and sweeper (._ttl)
        self.backups = _backups.Backups(self)  # PITR history (._backups)
        if any("replicas" in table.settings for table in self.tables.values()):
            self.regions.replication.attach(self)  # reopened global tables (._replication)

    def in_region(self, region: str) -> LocalEngine:
        """The engine of ``region``, sharing this engine's lock, clock and storage file.

        ``engine.in_region("eu-west-1").call(...)`` is ``engine.call(..., region=
        "eu-west-1")``; the region engine also takes :meth:`subscribe`,
        :meth:`stream_records`, :meth:`sweep_ttl`... With ``shared_regions=True`` every
        region is the home engine. Closing any region engine closes them all.

        Raises:
            ValueError: ``region`` is not a region name.
        """
        check_region(region)
        return self.regions.engine(region)

    def _load_catalog(self) -> None:
        """Reopen the tables a (durable) storage already holds, with their indexes (kept
        by the storage, or rebuilt: :meth:`TableDef.open_indexes`)."""
        storage = self.storage
        with storage.atomic():
            for name in storage.table_names():
                meta = storage.get_meta(name)
                if meta.get("kind") != "table":
                    continue  # a store that is not a table (a backup, say)
                table = TableDef.from_meta(meta, storage.table(name))
                table.open_indexes(storage)
                self.tables[table.name] = table
            kept = {index.store for table in self.tables.values() for index in table.indexes}
            for name in storage.table_names():  # the entries of indexes that are gone
                kind = storage.get_meta(name).get("kind")
                if kind == "index" and storage.table(name) not in kept:
                    storage.drop_table(name)

    def save_table(self, table: TableDef) -> None:
        """Persist ``table``'s catalog entry after a change to its definition or settings."""
        self.storage.set_meta(table.name, table.to_meta())

    def replicate(self) -> int:
        """Apply every queued global-table change (and pending replica creation) now, in
        every region whose replication is not paused; returns how many were applied.

        A change an older write than the one its target already holds is applied as
        nothing (last writer wins) but counts.
        """
        return self.regions.replication.replicate()

    def pending_replication(self, region: str | None = None) -> int:
        """How many global-table changes wait to be applied (in ``region``, or anywhere)."""
        return self.regions.replication.pending(region)

    def pause_replication(self, region: str) -> None:
        """Hold the changes replicated into ``region`` (a network partition) until
        :meth:`resume_replication`; writes made in ``region`` still go out."""
        self.regions.replication.pause(check_region(region))

    def resume_replication(self, region: str) -> None:
        """Let the changes held for ``region`` through again."""
        self.regions.replication.resume(check_region(region))

    @property
    def replication_error(self) -> Exception | None:
        """The last exception the background replication raised (logged on the
        ``singletable.replication`` logger too), None if none has."""
        return self.regions.replication.last_error

    def close(self) -> None:
        """Stop background work and release the storage (flushing a durable one), in
        every region."""
        self.regions.close()

    def __enter__(self) -> LocalEngine:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def subscribe(
        self,
        table_name: str,
        callback: Callable[[dict[str, Any]], None],
        *,
        view: str | None = None,
    ) -> Subscription:
        """Call ``callback`` with every new stream record of ``table_name``, in order.

        Records are the dicts GetRecords returns, delivered after each write
        (outside the engine lock, before the write returns). ``view`` None follows
        the table's stream; a view type (``"NEW_AND_OLD_IMAGES"``...) receives every
        change, stream or not. ``subscription.close()`` ends it.
        """
        return self.streams.subscribe(table_name, callback, view)

    def stream_records(self, table_name: str, *, view: str | None = None) -> RecordStream:
        """The iterator form of :meth:`subscribe`: ``with engine.stream_records("t") as records:``.

        ``records.drain()`` takes the records delivered so far; ``records.wait(n)``
        blocks until ``n`` arrived (for changes made by other threads);
        ``records.lambda_event()`` takes them as a Lambda trigger's event.
        """
        return self.streams.record_stream(table_name, view)

    def snapshot(self) -> Snapshot:
        """Record the whole state of this (in-memory) engine: tables, items, indexes,
        streams and their records, TTL, backups; :meth:`restore` goes back to it.

        Cheap: items are shared with the live tables, never copied (see ._snapshot).

        Raises:
            TypeError: the engine keeps its data on disk.
        """
        return Snapshot(self)

    def restore(self, snapshot: Snapshot) -> None:
        """Put the engine back to ``snapshot`` (taken from this engine); it can be
        restored again later."""
        if snapshot._regions is not self.regions:
            raise ValueError("the snapshot was taken from another engine")
        snapshot.restore()

    def capacity(self) -> CapacityMeter:
        """Count the capacity units the requests consume: ``with engine.capacity() as used:``.

        ``used.read_units``, ``used.write_units`` (tables and indexes together),
        ``used.table(name)`` and ``used.index(table, name)``; computed as
        ``ReturnConsumedCapacity=INDEXES`` reports them, whether or not the requests
        asked for it (their responses are unchanged). Meters may nest.
        """
        return CapacityMeter(self._meters, self._refresh_intercept)

    def load(self, table: str, items: Iterable[dict[str, Any]] | Seed) -> int:
        """Store ``items`` (DynamoDB JSON) in ``table`` at once: seed data for tests.

        Every item is checked as PutItem checks it, all before any is stored (one
        refused item, named by its position, and nothing is loaded); streams, TTL
        and backups see them as PutItems. Much faster than BatchWriteItem: no request
        to check, no capacity, no batches of 25. A :class:`Seed` is checked only the
        first time it is loaded (per key schema): for data loaded in every test.
        See ._bulk. Returns the count.
        """
        return _bulk.load(self, table, items)

    def enforce_capacity(
        self,
        enabled: bool = True,
        *,
        burst_seconds: float = 300.0,
        table_quota: float = 40_000.0,
        partition_limits: bool = True,
    ) -> CapacityEnforcement:
        """Throttle requests beyond the tables' throughput, as DynamoDB does (off by default).

        Provisioned tables and GSIs get token buckets at their capacity units, keeping
        ``burst_seconds`` of unused capacity; on-demand tables and their GSIs the
        per-table quota (``table_quota`` request units a second); every partition key
        3,000 read and 1,000 write units a second (``partition_limits``). Time is the
        engine's ``clock``. Turning it on again starts with fresh buckets; as a ``with``
        block, the previous setting comes back at the end. See ._throttle.

        It applies to this engine's region; another region's tables are enforced by
        ``engine.in_region(name).enforce_capacity()``.
        """
        previous = self._throttle
        throttle = (
            Throttle(
                self,
                burst_seconds=burst_seconds,
                table_quota=table_quota,
                partition_limits=partition_limits,
            )
            if enabled
            else None
        )
        self._set_throttle(throttle)
        return CapacityEnforcement(self, throttle, previous)

    def _set_throttle(self, throttle: Throttle | None) -> None:
        self._throttle = throttle
        self._refresh_intercept()

    def sweep_ttl(self) -> int:
        """Delete every item whose TTL has expired at ``clock()`` now; returns how many."""
        return self.ttl.sweep()

    @property
    def ttl_sweep_error(self) -> Exception | None:
        """The last exception a background TTL sweep raised, None if none has.

        The sweeper thread keeps running after a failure (a stream subscriber that
        raised, a durable commit that failed); each failure is also logged on the
        ``singletable.ttl`` logger. A sweep run by :meth:`sweep_ttl` raises instead.
        """
        return self.ttl.last_error

    @property
    def operations(self) -> frozenset[str]:
        """The names of the operations this engine answers."""
        return frozenset(_OPERATIONS)

    def call(
        self,
        operation: str,
        request: dict[str, Any],
        *,
        copy: bool = True,
        region: str | None = None,
    ) -> dict[str, Any]:
        """Run one DynamoDB operation on a wire-shaped request; returns the wire response.

        The response is the caller's own: nothing in it is shared with the stored data.
        With ``copy=False`` the response is returned without that deep copy: it may
        share dicts and lists with the stored items, so the caller must treat it as
        read-only (changing it would change the data). The modelling layer's local
        backend reads responses this way. The extra members of an error
        (:attr:`DynamoDBError.extra`) are copied either way. ``region`` runs the
        request in that region (None: this engine's own).

        Raises:
            DynamoDBError: with DynamoDB's error code and message.
        """
        try:
            engine = self if region is None else self.regions.engine(region)
            if not copy:
                return engine._dispatch(operation, request)
            if operation in _FRESH_READS:  # items decoded for the caller alone: no copy
                return engine._fresh(operation, request)
            # A Scan's page of hot items is cheaper to copy whole (one marshal round
            # trip, attribute names shared between its items) than to decode item by
            # item, and its filter reads items it does not return.
            response: dict[str, Any] = engine._dispatch(operation, request)
            if not response:
                return {}  # (most writes)
            if response is OWNED.response:  # an UpdateItem's, made for its caller
                OWNED.response = None
                return response
            copied: dict[str, Any] = _copy(response)
            return copied
        except DynamoDBError as error:
            if error.extra:
                error.extra = _copy(error.extra)
            raise

    def call_json(
        self, operation: str, body: bytes | str, *, region: str | None = None
    ) -> tuple[int, bytes]:
        """Run one operation on a JSON request body; returns the HTTP status and JSON body.

        This is the path of the HTTP server and of the boto3 routing: the response
        is serialized straight from the engine's (read-only) data, without the copy
        :meth:`call` makes, and errors come back as DynamoDB's JSON error body.
        ``region`` runs the request in that region (None: this engine's own).
        """
        engine = self
        try:
            if region is not None and region != self.region:  # (every SDK request names one)
                engine = self.regions.engine(region)
            try:
                request = loads(body) if body else {}
            except (ValueError, UnicodeDecodeError, RecursionError):  # (deep nesting too)
                raise DynamoDBError(
                    "SerializationException", "Start of structure or map found where not expected."
                ) from None
            response = engine._dispatch(operation, request)
        except DynamoDBError as error:
            return error.status_code, dumps(error.to_response())
        return 200, encode_response(operation, request, response)

    def _fresh(self, operation: str, request: Any) -> dict[str, Any]:
        """Dispatch with the stores decoding every item anew (see ._records): the
        response is then the caller's own, no copy needed."""
        reads = READS
        previous = reads.fresh
        reads.fresh = True
        try:
            return self._dispatch(operation, request)
        finally:
            reads.fresh = previous

    def _refresh_intercept(self) -> None:
        """Route requests through the testing hooks while any is installed (every region;
        capacity enforcement is per region)."""
        shared = bool(self.faults or self._meters)
        for engine in self.regions:
            hooked = shared or engine._throttle is not None
            engine._intercept = engine._intercepted if hooked else None

    def _intercepted(self, operation: str, request: Any) -> dict[str, Any]:
        # Faults first: a failed or cut-down request is counted as DynamoDB bills it;
        # then capacity enforcement (a throttled request is not counted).
        run: Callable[[str, Any], dict[str, Any]] = self._metered if self._meters else self._run
        if self._throttle is not None:
            run = self._throttle.wrap(run)
        if self.faults:
            return self.faults.apply(operation, request, run)
        return run(operation, request)

    def _metered(self, operation: str, request: Any) -> dict[str, Any]:
        return metered(self._meters, operation, request, self._run)

    def _run(self, operation: str, request: Any) -> dict[str, Any]:
        return self._dispatch(operation, request, hooked=False)

    def _dispatch(self, operation: str, request: Any, hooked: bool = True) -> dict[str, Any]:
        if hooked and self._intercept is not None:
            return self._intercept(operation, request)
        handler = _OPERATIONS.get(operation)
        if handler is None:
            raise DynamoDBError("UnknownOperationException", f"Unknown operation: {operation}")
        if not isinstance(request, dict):
            raise DynamoDBError("SerializationException", "Start of list found where not expected")
        try:
            unchecked = _UNCHECKED.get(operation)
            if unchecked is not None:  # (a program answers before the request checks)
                response = unchecked(self, request)
            # Lone surrogates and excessive depth, before anything else (._request_check):
            # past this point nothing recurses more than about a hundred levels.
            elif operation in CATALOG_OPERATIONS and self.storage.can_fail_commit:
                check_request(operation, request)
                # One group, taken back whole (engine state included) if it fails.
                with self.lock, self.storage.atomic():
                    guard_catalog(self)
                    response = handler(self, request)
            else:
                check_request(operation, request)
                response = handler(self, request)
        except DynamoDBError as error:
            if error.request_validation and operation in _ENVELOPED_OPERATIONS:
                raise in_envelope(error) from None
            raise
        if self.streams.pending:  # stream subscribers run now: after the write, unlocked
            self.streams.deliver()
        return response


# The reads whose items ``call`` has the stores decode anew for the caller (._records
# READS.fresh) instead of copying a response built from shared decoded items. A Query
# page costs about the same either way when its items are cached, and far less when
# they are not (a shared miss is decoded, kept, evicted later, then copied).
_FRESH_READS = frozenset(("GetItem", "Query"))


def _copy(value: Any) -> Any:
    """A deep copy of JSON-shaped data (dicts, lists, strings, numbers, booleans).

    marshal round-trips exactly these types, in C: about 3x faster than a recursive copy.
    """
    return marshal.loads(marshal.dumps(value))
