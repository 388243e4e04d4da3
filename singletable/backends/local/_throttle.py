"""Capacity enforcement: requests beyond a table's throughput are throttled.

Off by default; ``engine.enforce_capacity()`` turns it on. Each limit is a token
bucket, refilled at its rate by the engine's clock (injectable, so tests decide
when time passes):

* a provisioned table, and each provisioned GSI, at its ReadCapacityUnits and
  WriteCapacityUnits per second, keeping up to ``burst_seconds`` (300 by default)
  of unused capacity: DynamoDB "currently retains up to five minutes (300 seconds)
  of unused read and write capacity" (Developer Guide, "Burst capacity"). A new
  limit starts with one second of capacity: burst is what unused time accrues.
  An LSI spends its table's capacity.
* an on-demand table, and each of its GSIs, at the per-table account quota
  (Developer Guide, "Service quotas": 40,000 read and 40,000 write request units
  per table by default; ``table_quota``), one second deep. The engine does not
  model on-demand's "double the previous peak" scaling nor store
  OnDemandThroughput maxima.
* each partition key value, of the table, of a queried GSI and of the GSIs a put
  writes to, at 3,000 read and 1,000 write units per second, one second deep:
  burst capacity "can't alleviate partition-level throttling" (re:Post, "DynamoDB
  spiky workloads"), so a hot key is revealed on an on-demand table too.
  (DynamoDB's limit is per physical partition; a key is the smallest one can be,
  which is what a hot key hits: adaptive capacity isolates a hot item in a
  partition of its own, still capped at 3,000 / 1,000 units.)

A request is admitted while every bucket it draws on holds capacity; it then runs,
and the units it consumed, computed as ``ReturnConsumedCapacity=INDEXES`` reports
them (see :mod:`._capacity`), are taken from the buckets, which may go below zero
(a large item or a long Query is not refused for lack of a unit, but the next
request waits until the debt is repaid). A table write draws on every GSI of its
table as well: DynamoDB throttles writes to a table whose GSI lacks write capacity.

Refusals are DynamoDB's (API Reference, "Common Errors", and the Developer Guide's
"Diagnosing throttling" reasons, sent as ``ThrottlingReasons``):

* provisioned: ProvisionedThroughputExceededException, with the table's or the
  GSI's message;
* on-demand: ThrottlingException ("Throughput exceeds the current capacity of your
  table or index...");
* BatchWriteItem/BatchGetItem: the entries whose buckets are empty come back in
  UnprocessedItems/UnprocessedKeys; only when none can be processed does the batch
  fail with the exception (API Reference, BatchWriteItem);
* TransactWriteItems/TransactGetItems: TransactionCanceledException whose
  CancellationReasons say ProvisionedThroughputExceeded or ThrottlingError for the
  throttled actions (API Reference, TransactWriteItems, "Cancellation reasons").

A throttled request changes nothing and consumes nothing. The units of a
partial batch or transaction are shared equally among its items of a table for
the per-key buckets (the engine reports a batch's units per table, not per item).
PartiQL statements and Scan's per-key use are not throttled.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from singletable._values import item_size
from singletable.backends.local._capacity import write_units
from singletable.backends.local._capacity_meter import answer_as_asked
from singletable.backends.local._exprs import RequestExpressions
from singletable.backends.local._faults import (
    ERRORS,
    INDEX_THROUGHPUT,
    request_entries,
    run_partial,
    well_formed_batch,
)
from singletable.backends.local.errors import DynamoDBError, transaction_cancelled

if TYPE_CHECKING:
    from singletable.backends.local._schema import TableDef
    from singletable.backends.local.engine import LocalEngine

__all__ = ["CapacityEnforcement", "Throttle"]

Run = Callable[[str, dict[str, Any]], dict[str, Any]]

PARTITION_READ_UNITS = 3000.0
PARTITION_WRITE_UNITS = 1000.0
TABLE_QUOTA = 40_000.0
BURST_SECONDS = 300.0

_TABLE_THROUGHPUT = ERRORS["ProvisionedThroughputExceededException"]

# The text DynamoDB sends with ThrottlingException on on-demand tables, and as the
# ThrottlingError cancellation reason (API Reference, TransactWriteItems).
_ON_DEMAND = (
    "Throughput exceeds the current capacity of your table or index. DynamoDB is "
    "automatically scaling your table or index so please try again shortly. If exceptions "
    "persist, check if you have a hot key: "
    "https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/bp-partition-key-design.html"
)

_READS = frozenset({"GetItem", "Query", "Scan", "BatchGetItem", "TransactGetItems"})
_WRITES = frozenset({"PutItem", "UpdateItem", "DeleteItem", "BatchWriteItem", "TransactWriteItems"})
_ENFORCED = _READS | _WRITES
_BATCHES = frozenset({"BatchGetItem", "BatchWriteItem"})
_TRANSACTIONS = frozenset({"TransactGetItems", "TransactWriteItems"})
_PRUNE_AT = 4096  # per-key buckets kept before the full ones are dropped
_EPSILON = 1e-9  # capacity left below this is none (refills are float sums)


@dataclass(frozen=True, slots=True)
class _Limit:
    """One throughput limit a request draws on."""

    key: tuple[Any, ...]
    rate: float  # units per second
    depth: float  # seconds of unused capacity kept
    reason: str  # DynamoDB's ThrottlingReason, e.g. "TableWriteKeyRangeThroughputExceeded"
    resource: str  # the ARN of the table or index
    provisioned: bool
    scope: str  # "table", "index" (a GSI) or "key"
    index: str | None = None
    since: float = 0.0  # when unused capacity started to accrue

    def error(self) -> DynamoDBError:
        if self.provisioned:
            message = _TABLE_THROUGHPUT if self.index is None else INDEX_THROUGHPUT
            code = "ProvisionedThroughputExceededException"
        else:
            message, code = _ON_DEMAND, "ThrottlingException"
        return DynamoDBError(
            code, message, ThrottlingReasons=[{"reason": self.reason, "resource": self.resource}]
        )

    def cancellation_reason(self) -> dict[str, str]:
        if self.provisioned:
            message = _TABLE_THROUGHPUT if self.index is None else INDEX_THROUGHPUT
            return {"Code": "ProvisionedThroughputExceeded", "Message": message}
        return {"Code": "ThrottlingError", "Message": _ON_DEMAND}


class _Bucket:
    __slots__ = ("at", "tokens")

    def __init__(self, tokens: float, at: float) -> None:
        self.tokens = tokens
        self.at = at

    def level(self, limit: _Limit, now: float) -> float:
        """The capacity left at ``now`` (refilled at the limit's current rate)."""
        if now > self.at:
            self.tokens += (now - self.at) * limit.rate
            self.at = now
        cap = limit.rate * limit.depth
        if self.tokens > cap:
            self.tokens = cap
        return self.tokens


@dataclass(slots=True)
class _Entry:
    """One item of a request (or the whole of a Query/Scan) and the limits it draws on."""

    position: int
    table: str
    index: str | None  # the GSI a Query/Scan reads
    limits: list[_Limit]
    least: float = 1.0  # the fewest units the item can cost


class Throttle:
    """The buckets of one engine while enforcement is on (``engine.enforce_capacity()``)."""

    def __init__(
        self,
        engine: LocalEngine,
        *,
        burst_seconds: float = BURST_SECONDS,
        table_quota: float = TABLE_QUOTA,
        partition_limits: bool = True,
    ) -> None:
        if burst_seconds < 1:
            raise ValueError("burst_seconds must be at least 1")
        if table_quota <= 0:
            raise ValueError("table_quota must be positive")
        self._engine = engine
        self.burst_seconds = float(burst_seconds)
        self.table_quota = float(table_quota)
        self.partition_limits = partition_limits
        self._buckets: dict[tuple[Any, ...], _Bucket] = {}
        self._keys = 0
        self._lock = threading.Lock()
        self.started = engine.clock()
        self.throttled = 0  # requests (or batch entries) refused so far

    # ----------------------------------------------------------------- running

    def wrap(self, run: Run) -> Run:
        """``run`` with enforcement in front of it."""
        return lambda operation, request: self.apply(operation, request, run)

    def apply(self, operation: str, request: Any, run: Run) -> dict[str, Any]:
        """Admit, throttle or cut down ``request``; run it; take the units it consumed."""
        if operation not in _ENFORCED or not isinstance(request, dict):
            return run(operation, request)
        asked = request.get("ReturnConsumedCapacity")
        if asked not in (None, "NONE", "TOTAL", "INDEXES"):
            return run(operation, request)  # the engine refuses it
        entries = self._entries(operation, request)
        if not entries:
            return run(operation, request)  # malformed, or no such table: the engine says
        is_read = operation in _READS
        with self._lock:
            now = self._engine.clock()
            admitted, refused = self._admit(entries, now, is_read)
            if refused:
                self.throttled += len(refused)
            if refused and (operation not in _BATCHES or not admitted):
                if operation in _TRANSACTIONS:
                    raise _cancelled(request, refused)
                raise refused[0][1].error()
        indexed = {**request, "ReturnConsumedCapacity": "INDEXES"}
        try:
            if refused:
                response = run_partial(
                    operation, indexed, {entry.position for entry, _ in refused}, run
                )
            else:
                response = run(operation, indexed)
        except DynamoDBError as error:
            if not is_read and error.code == "ConditionalCheckFailedException":
                self._debit_minimum(admitted)  # DynamoDB bills a failed condition
            raise
        self._debit(admitted, response.get("ConsumedCapacity"))
        return answer_as_asked(response, asked)

    def _admit(
        self, entries: list[_Entry], now: float, is_read: bool
    ) -> tuple[list[_Entry], list[tuple[_Entry, _Limit]]]:
        """Split the entries into those admitted and those refused (with the limit)."""
        pending: dict[tuple[Any, ...], float] = {}
        admitted: list[_Entry] = []
        refused: list[tuple[_Entry, _Limit]] = []
        for entry in entries:
            empty = next(
                (
                    limit
                    for limit in entry.limits
                    if self._bucket(limit, now).level(limit, now) - pending.get(limit.key, 0.0)
                    <= _EPSILON
                ),
                None,
            )
            if empty is not None:
                refused.append((entry, empty))
                continue
            admitted.append(entry)
            for limit in entry.limits:
                pending[limit.key] = pending.get(limit.key, 0.0) + entry.least
        return admitted, refused

    def _bucket(self, limit: _Limit, now: float) -> _Bucket:
        bucket = self._buckets.get(limit.key)
        if bucket is None:
            if limit.scope == "key":
                self._keys += 1
                if self._keys > _PRUNE_AT:
                    self._prune(now)
            # One second of capacity to begin with, and what accrued unused since.
            since = min(max(limit.since, self.started), now)
            bucket = self._buckets[limit.key] = _Bucket(limit.rate, since)
        return bucket

    def _prune(self, now: float) -> None:
        """Drop the per-key buckets that are full again (they would start full anyway)."""
        full = [
            key
            for key, bucket in self._buckets.items()
            if key[0] == "key"
            and bucket.tokens + (now - bucket.at) * _key_rate(key) >= _key_rate(key)
        ]
        for key in full:
            del self._buckets[key]
        self._keys -= len(full)

    def _debit(self, admitted: list[_Entry], consumed: Any) -> None:
        if consumed is None:
            return
        spent: dict[str, tuple[float, dict[str, float]]] = {}
        for entry in consumed if isinstance(consumed, list) else [consumed]:
            if not isinstance(entry, dict):
                continue
            gsis = {
                name: float(value.get("CapacityUnits", 0.0))
                for name, value in (entry.get("GlobalSecondaryIndexes") or {}).items()
            }
            total = float(entry.get("CapacityUnits", 0.0))
            spent[str(entry.get("TableName"))] = (total - sum(gsis.values()), gsis)
        # How many admitted items share each (table, index) part of the units: the
        # items of a table, of a queried GSI, or of a write that has a GSI partition.
        items: dict[tuple[str, str | None], int] = {}
        for entry in admitted:
            for part in _parts(entry):
                items[entry.table, part] = items.get((entry.table, part), 0) + 1
        taken: dict[tuple[Any, ...], float] = {}
        for entry in admitted:
            table_units, gsis = spent.get(entry.table, (0.0, {}))
            for limit in entry.limits:
                if limit.scope == "key":
                    part = entry.index if entry.index is not None else limit.index
                    units = table_units if part is None else gsis.get(part, 0.0)
                    share = units / items[entry.table, part]
                    taken[limit.key] = taken.get(limit.key, 0.0) + share
                elif limit.scope == "index":
                    taken[limit.key] = gsis.get(limit.index or "", 0.0)
                else:
                    taken[limit.key] = table_units
        self._take(taken)

    def _debit_minimum(self, admitted: list[_Entry]) -> None:
        self._take({limit.key: 1.0 for entry in admitted for limit in entry.limits})

    def _take(self, taken: Mapping[tuple[Any, ...], float]) -> None:
        with self._lock:
            for key, units in taken.items():
                bucket = self._buckets.get(key)
                if bucket is not None:
                    bucket.tokens -= units

    # ----------------------------------------------------------------- limits

    def _entries(self, operation: str, request: dict[str, Any]) -> list[_Entry]:
        is_read = operation in _READS
        tables = self._engine.tables
        if operation in ("Query", "Scan"):
            name = request.get("TableName")
            table = tables.get(name) if isinstance(name, str) else None
            if table is None:
                return []
            index_name = request.get("IndexName")
            index = table.index(index_name) if isinstance(index_name, str) else None
            if isinstance(index_name, str) and index is None:
                return []
            gsi = index.name if index is not None and index.is_global else None
            limits = [self._scope_limit(table, gsi, is_read)]
            pk = _query_partition(table, index, request) if operation == "Query" else None
            if pk is not None and self.partition_limits:
                limits.append(self._key_limit(table, gsi, pk, is_read))
            least = 1.0 if request.get("ConsistentRead") is True else 0.5
            return [_Entry(0, table.name, gsi, limits, least)]
        if operation in _BATCHES and not (
            isinstance(request.get("RequestItems"), dict)
            and well_formed_batch(operation, request["RequestItems"])
        ):
            return []
        entries: list[_Entry] = []
        for position, (name, key) in enumerate(request_entries(operation, request)):
            table = tables.get(name) if name is not None else None
            if table is None:
                return []
            limits = [self._scope_limit(table, None, is_read)]
            if not is_read:
                limits += [
                    self._scope_limit(table, index.name, False)
                    for index in table.indexes
                    if index.is_global
                ]
            if self.partition_limits:
                pk = _partition(table, key)
                if pk is not None:
                    limits.append(self._key_limit(table, None, pk, is_read))
                if not is_read:  # the GSI partitions a put writes to (hot GSI keys)
                    for index in table.indexes:
                        ipk = _index_partition(index, key) if index.is_global else None
                        if ipk is not None:
                            limits.append(self._key_limit(table, index.name, ipk, False))
            least = _least(operation, request, table.name, key)
            entries.append(_Entry(position, table.name, None, limits, least))
        return entries

    def _scope_limit(self, table: TableDef, gsi: str | None, is_read: bool) -> _Limit:
        """The limit of the table (``gsi`` None) or of one of its GSIs."""
        provisioned = table.billing_mode == "PROVISIONED"
        kind = "Read" if is_read else "Write"
        if gsi is None:
            units: float = table.read_units if is_read else table.write_units
            resource, scope = table.arn, "table"
        else:
            index = table.index(gsi)
            assert index is not None
            units = index.read_units if is_read else index.write_units
            resource, scope = f"{table.arn}/index/{gsi}", "index"
        if provisioned and units > 0:
            limit_type = "ProvisionedThroughputExceeded"
            rate, depth = float(units), self.burst_seconds
        else:
            provisioned = False
            limit_type, rate, depth = "AccountLimitExceeded", self.table_quota, 1.0
        reason = f"{'Table' if gsi is None else 'Index'}{kind}{limit_type}"
        return _Limit(
            ("scope", table.table_id, gsi, kind),
            rate,
            depth,
            reason,
            resource,
            provisioned,
            scope,
            gsi,
            table.created,
        )

    def _key_limit(self, table: TableDef, gsi: str | None, pk: bytes, is_read: bool) -> _Limit:
        kind = "Read" if is_read else "Write"
        return _Limit(
            ("key", table.table_id, gsi, kind, pk),
            PARTITION_READ_UNITS if is_read else PARTITION_WRITE_UNITS,
            1.0,
            f"{'Table' if gsi is None else 'Index'}{kind}KeyRangeThroughputExceeded",
            table.arn if gsi is None else f"{table.arn}/index/{gsi}",
            table.billing_mode == "PROVISIONED",
            "key",
            gsi,
        )


class CapacityEnforcement:
    """What ``engine.enforce_capacity()`` returns: the throttle in force (None when
    turned off); as a ``with`` block, the setting before it is put back at the end."""

    def __init__(self, engine: LocalEngine, throttle: Throttle | None, previous: Throttle | None):
        self._engine = engine
        self.throttle = throttle
        self._previous = previous

    @property
    def throttled(self) -> int:
        """Requests (or batch entries) refused since enforcement was turned on."""
        return self.throttle.throttled if self.throttle is not None else 0

    def __enter__(self) -> CapacityEnforcement:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._engine._set_throttle(self._previous)


def _least(
    operation: str, request: dict[str, Any], table: str, key: Mapping[str, Any]
) -> float:
    """What one item of ``request`` is expected to cost, at least (Developer Guide,
    "Read/write capacity mode": half a unit for an eventually consistent read, a
    write unit per KB written, double in a transaction); reserved while a batch is
    admitted, so that a batch of large items is cut where its units run out."""
    if operation in _WRITES:
        try:  # a put's item (a delete's or update's key: the least it can cost)
            units = write_units(item_size(key))
        except Exception:  # an invalid value: the engine refuses the request
            units = 1.0
        return units * 2 if operation in _TRANSACTIONS else units
    if operation in _TRANSACTIONS:
        return 2.0
    if operation == "GetItem":
        return 1.0 if request.get("ConsistentRead") is True else 0.5
    if operation == "BatchGetItem":
        body = request["RequestItems"][table]
        return 1.0 if body.get("ConsistentRead") is True else 0.5
    return 1.0


def _parts(entry: _Entry) -> set[str | None]:
    """The parts of the units (None: the table's own) an entry's per-key limits take."""
    if entry.index is not None:
        return {entry.index}
    return {limit.index for limit in entry.limits if limit.scope == "key"}


def _index_partition(index: Any, item: Mapping[str, Any]) -> bytes | None:
    """The encoded GSI partition ``item`` (a put's item) belongs to; None if it has
    none (sparse, or not a whole item) or the values are invalid."""
    try:
        return bytes(index.partition_key({a.name: item[a.name] for a in index.hash}))
    except Exception:  # a key without the attribute, or a value the engine refuses
        return None


def _key_rate(key: tuple[Any, ...]) -> float:
    return PARTITION_READ_UNITS if key[3] == "Read" else PARTITION_WRITE_UNITS


def _partition(table: TableDef, key: Mapping[str, Any]) -> bytes | None:
    """The encoded partition key value an item or key names (None if it is invalid:
    the engine refuses the request with its own message)."""
    value = key.get(table.hash.name)
    if not isinstance(value, dict):
        return None
    try:
        return table.encode_value(table.hash, value)
    except Exception:  # whatever is wrong, the engine reports it when it runs the request
        return None


def _query_partition(table: TableDef, index: Any, request: dict[str, Any]) -> bytes | None:
    """The partition a Query reads (None if its key condition is invalid)."""
    try:
        if index is None:
            hash_keys: tuple[str, ...] = (table.hash.name,)
            range_keys: tuple[str, ...] = (table.range.name,) if table.range is not None else ()
        else:
            hash_keys, range_keys = index.hash_names, index.range_names
        condition = RequestExpressions(request).key_condition(hash_keys, range_keys)
        if index is None:
            return table.encode_value(table.hash, condition.hash_values[table.hash.name])
        return bytes(index.partition_key(condition.hash_values))
    except Exception:  # whatever is wrong, the engine reports it when it runs the request
        return None


def _cancelled(request: dict[str, Any], refused: list[tuple[_Entry, _Limit]]) -> DynamoDBError:
    actions = request.get("TransactItems")
    count = len(actions) if isinstance(actions, list) else 0
    hit = {entry.position: limit for entry, limit in refused}
    reasons = [
        hit[position].cancellation_reason() if position in hit else {"Code": "None"}
        for position in range(count)
    ]
    return transaction_cancelled(reasons)
