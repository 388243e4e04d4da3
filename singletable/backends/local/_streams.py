"""DynamoDB Streams for the local engine, and in-process subscriptions to a table's changes.

What DynamoDB does (Developer Guide, "Change data capture for DynamoDB Streams";
DynamoDB Streams API Reference), and what this module does about it:

* A table's ``StreamSpecification`` (CreateTable/UpdateTable) enables a stream
  with a view type (KEYS_ONLY, NEW_IMAGE, OLD_IMAGE, NEW_AND_OLD_IMAGES). Each
  enabling creates a *new* stream, with a new label (the ISO time of creation)
  and ARN ``<table arn>/stream/<label>``; the table reports it as
  ``LatestStreamArn``/``LatestStreamLabel``, even after the stream is disabled.
  A disabled stream (UpdateTable, or DeleteTable) stays readable, with status
  DISABLED, for the 24 hours of retention.
* Every committed change of an item (one :class:`._write.Change`) becomes one
  record, INSERT, MODIFY or REMOVE, with an increasing sequence number (decimal
  digits, like DynamoDB's), the creation time rounded down to the second, the
  keys, the images the view type asks for, and its size. A PutItem or UpdateItem
  that changes nothing writes no record ("If you perform a PutItem or UpdateItem
  operation that does not change any data in an item, DynamoDB Streams does not
  write a stream record for that operation", Developer Guide, Streams). TTL
  deletions carry ``userIdentity`` ``{"Type": "Service", "PrincipalId":
  "dynamodb.amazonaws.com"}`` (the Streams API ``Identity`` shape; Lambda's event
  format spells the same members in lower case).
* The Streams API: ListStreams, DescribeStream (one shard per stream here),
  GetShardIterator and GetRecords. Iterators are opaque, signed with a key of
  this engine, and expire after 15 minutes; records older than 24 hours are
  trimmed (both measured with ``engine.clock()``). Trimming pops the oldest
  records only, so it costs O(records trimmed).

Stream *records are kept in memory only*: a durable engine keeps each table's
stream settings (``table.settings["stream"]``), and a reopened engine starts
its enabled streams again, empty. Sequence numbers start from the clock on each
start, so they keep increasing across restarts.

In-process subscriptions (:meth:`Streams.subscribe`, and the iterator form
:class:`RecordStream`) receive the same record dicts GetRecords returns (each
subscriber gets its own copy). Records are *queued* by the change listener,
under the engine lock and therefore in commit order, and *delivered* after the
operation, outside the lock, by the thread that made the change (the engine
calls :meth:`Streams.deliver` at the end of every operation; the TTL sweeper
calls it after its deletions). Why outside the lock: a Lambda-style handler
usually writes back to the engine, and may block or take long; under the lock
it would stall every other thread, and a nested write would deliver its own
record in the middle of the outer one. One delivery lock keeps delivery in
order across threads and exactly once; a handler's writes queue their records
behind the current one. So when a write returns, its records have been handed
to every subscriber: tests never wait or poll. A handler's exception is raised
to the caller of the operation whose delivery ran it (after the remaining
records were delivered).

Cost when no stream is enabled and nobody subscribes: the change listener
returns after two dictionary truth tests.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import marshal
import secrets
import threading
from bisect import bisect_right
from collections import deque
from collections.abc import Sequence
from datetime import UTC, datetime
from functools import partial
from typing import TYPE_CHECKING, Any

from singletable._values import Item, item_size, values_equal
from singletable.backends.local._params import Checks
from singletable.backends.local._subscriptions import Callback, Record, RecordStream, Subscription
from singletable.backends.local._write import register_listener, set_listening
from singletable.backends.local.errors import DynamoDBError, validation_error

if TYPE_CHECKING:
    from singletable.backends.local._schema import TableDef
    from singletable.backends.local._write import Change
    from singletable.backends.local.engine import LocalEngine

__all__ = [
    "ITERATOR_LIFETIME_SECONDS",
    "MAX_GET_RECORDS",
    "VIEW_TYPES",
    "RecordStream",
    "StreamSpec",
    "Streams",
    "Subscription",
    "check_specification",
    "check_update",
    "creation_view",
    "describe_settings",
    "stream_not_found",
    "trimmed",
]

VIEW_TYPES = ("NEW_IMAGE", "OLD_IMAGE", "NEW_AND_OLD_IMAGES", "KEYS_ONLY")
# The order DynamoDB lists them in its enum message (captured from the live service).
_VIEW_ENUM = "[OLD_IMAGE, KEYS_ONLY, NEW_AND_OLD_IMAGES, NEW_IMAGE]"
_WITH_NEW = frozenset({"NEW_IMAGE", "NEW_AND_OLD_IMAGES"})
_WITH_OLD = frozenset({"OLD_IMAGE", "NEW_AND_OLD_IMAGES"})

RETENTION_SECONDS = 24 * 3600
ITERATOR_LIFETIME_SECONDS = 15 * 60
MAX_GET_RECORDS = 1000
MAX_GET_RECORDS_BYTES = 1024 * 1024
# Sequence numbers: 21+ decimal digits, like DynamoDB's (SequenceNumber: length 21..40).
_SEQUENCE_BASE = 10**20

StreamSpec = tuple[bool, "str | None"]
"""A request's StreamSpecification: (StreamEnabled, StreamViewType or None)."""


def trimmed() -> DynamoDBError:
    """TrimmedDataAccessException, with the message the Streams API model documents."""
    return DynamoDBError(
        "TrimmedDataAccessException", "The data you are trying to access has been trimmed."
    )


def _invalid(message: str) -> DynamoDBError:
    return validation_error("One or more parameter values were invalid: " + message)


def stream_not_found(arn: str) -> DynamoDBError:
    # The text DynamoDB Streams answers for an unknown stream ARN (seen in a test
    # against the live service: "Requested resource not found: Stream: <arn> not found").
    return DynamoDBError(
        "ResourceNotFoundException", f"Requested resource not found: Stream: {arn} not found"
    )


def _items_equal(old: Item, new: Item) -> bool:
    """Whether a write left the item as it was (sets compare unordered)."""
    if old is new or old == new:
        return True
    if old.keys() != new.keys():
        return False
    for name, value in old.items():
        other = new[name]
        if value != other and not values_equal(value, other):
            return False
    return True


def _copy(value: Any) -> Any:
    return marshal.loads(marshal.dumps(value))


# --------------------------------------------------------------------------- StreamSpecification


def check_specification(checks: Checks, spec: Any) -> StreamSpec | None:
    """Shape-check a request's StreamSpecification; violations go to ``checks``."""
    if spec is None:
        return None
    if not isinstance(spec, dict):
        raise DynamoDBError(
            "SerializationException",
            "Start of list found where not expected"
            if isinstance(spec, list)
            else "Unexpected value type in payload for StreamSpecification",
        )
    enabled = spec.get("StreamEnabled")
    view = spec.get("StreamViewType")
    if enabled is None:
        checks.fail("streamSpecification.streamEnabled", None, "Member must not be null")
    elif not isinstance(enabled, bool):
        raise DynamoDBError(
            "SerializationException", "Unexpected value type in payload for StreamEnabled"
        )
    if view is not None and view not in VIEW_TYPES:
        checks.fail(
            "streamSpecification.streamViewType",
            view,
            f"Member must satisfy enum value set: {_VIEW_ENUM}",
        )
    return bool(enabled), view if isinstance(view, str) else None


def creation_view(spec: StreamSpec | None) -> str | None:
    """The view type of the stream a CreateTable request enables (None: no stream).

    Messages captured from the live service (CreateTable with each shape).
    """
    if spec is None:
        return None
    enabled, view = spec
    if enabled and view is None:
        raise _invalid("Table is being created with a stream enabled, UpdateViewType is required")
    if not enabled and view is not None:
        raise _invalid(
            "Table is being created with a stream disabled, UpdateViewType should not be specified"
        )
    return view if enabled else None


def check_update(table: TableDef, spec: StreamSpec, request: dict[str, Any]) -> None:
    """Reject an UpdateTable StreamSpecification DynamoDB would reject (nothing changes).

    A stream change cannot come with a throughput change or an index creation
    or deletion; then the view-type rules, then the state rules: a stream cannot
    be enabled twice (not even to change its view type: disable it, then enable
    a new one) nor disabled when there is none. Messages captured from the live
    service (each pair of UpdateTable members, and each StreamSpecification shape).
    """
    if request.get("ProvisionedThroughput") is not None:
        raise _invalid("You cannot modify stream status while updating table IOPS")
    updates = request.get("GlobalSecondaryIndexUpdates")
    if isinstance(updates, list) and any(
        isinstance(update, dict) and (update.get("Create") or update.get("Delete"))
        for update in updates
    ):
        raise _invalid("You cannot create or delete index while changing stream status")
    enabled, view = spec
    if enabled and view is None:
        raise _invalid("If stream is being enabled then UpdateViewType is required")
    if not enabled and view is not None:
        raise _invalid("If stream is being disabled, then UpdateViewType must not be specified")
    active = bool(table.settings.get("stream", {}).get("StreamEnabled"))
    if enabled and active:
        raise validation_error(f"Table already has an enabled stream: TableName: {table.name}")
    if not enabled and not active:
        raise validation_error(f"Table has no stream to disable: TableName: {table.name}")


def describe_settings(settings: dict[str, Any]) -> dict[str, Any]:
    """The members a table's description gets from its stream settings."""
    stream = settings.get("stream")
    if not stream:
        return {}
    members: dict[str, Any] = {}
    if stream.get("StreamEnabled"):
        members["StreamSpecification"] = {
            "StreamEnabled": True,
            "StreamViewType": stream["StreamViewType"],
        }
    label = stream.get("LatestStreamLabel")
    if label:
        members["LatestStreamArn"] = stream["LatestStreamArn"]
        members["LatestStreamLabel"] = label
    return members


# --------------------------------------------------------------------------- one stream


class Stream:
    """One stream of a table: one shard, its records (in memory) and their times."""

    def __init__(
        self, table: TableDef, view: str, label: str, created: float, first_sequence: int
    ) -> None:
        self.table_name = table.name
        self.table = table
        self.arn = f"{table.arn}/stream/{label}"
        self.label = label
        self.view = view
        self.created = created
        self.key_schema = [{"AttributeName": table.hash.name, "KeyType": "HASH"}]
        if table.range is not None:
            self.key_schema.append({"AttributeName": table.range.name, "KeyType": "RANGE"})
        self.shard_id = f"shardId-{int(created * 1000):020d}-{secrets.token_hex(4)}"
        self.starting_sequence = first_sequence
        self.disabled_at: float | None = None
        # Records in sequence order; _start is the first one not trimmed (the list
        # is compacted when half of it is trimmed, so trimming stays O(trimmed)).
        self._sequences: list[int] = []
        self._records: list[Record] = []
        self._times: list[float] = []
        self._start = 0
        self.trimmed_through = first_sequence - 1
        self.last_sequence: int | None = None

    @property
    def status(self) -> str:
        """ENABLED, or DISABLED once the table's stream was turned off (or the table deleted)."""
        return "ENABLED" if self.disabled_at is None else "DISABLED"

    def append(self, sequence: int, record: Record, now: float) -> None:
        """Add the newest record."""
        self._sequences.append(sequence)
        self._records.append(record)
        self._times.append(now)
        self.last_sequence = sequence
        self.trim(now)

    def forget_after(self, sequence: int) -> None:
        """Drop the records newer than ``sequence`` (a rolled-back commit's)."""
        while len(self._sequences) > self._start and self._sequences[-1] > sequence:
            self._sequences.pop()
            self._records.pop()
            self._times.pop()
        if self.last_sequence is not None and self.last_sequence > sequence:
            self.last_sequence = (
                self._sequences[-1] if len(self._sequences) > self._start else None
            )

    def trim(self, now: float) -> None:
        """Drop the records older than the retention period (oldest first)."""
        cutoff = now - RETENTION_SECONDS
        start, times = self._start, self._times
        while start < len(times) and times[start] < cutoff:
            start += 1
        if start == self._start:
            return
        self.trimmed_through = self._sequences[start - 1]
        if start * 2 >= len(times):
            del self._sequences[:start], self._records[:start], self._times[:start]
            start = 0
        self._start = start

    def read(self, after: int, limit: int) -> tuple[list[Record], int]:
        """Up to ``limit`` records (and at most 1 MB) after sequence ``after``; the new position."""
        position = max(bisect_right(self._sequences, after, self._start), self._start)
        end = min(position + limit, len(self._records))
        records: list[Record] = []
        total = 0
        for index in range(position, end):
            record = self._records[index]
            total += record["dynamodb"]["SizeBytes"]
            if records and total > MAX_GET_RECORDS_BYTES:
                break
            records.append(record)
            after = self._sequences[index]
        return records, after

    def exhausted(self, after: int) -> bool:
        """Whether a reader at ``after`` of this closed shard has seen every record."""
        return self.disabled_at is not None and (
            self.last_sequence is None or after >= self.last_sequence
        )

    def describe(self) -> dict[str, Any]:
        """The StreamDescription of DescribeStream."""
        numbers: dict[str, str] = {"StartingSequenceNumber": str(self.starting_sequence)}
        if self.disabled_at is not None:
            numbers["EndingSequenceNumber"] = str(self.last_sequence or self.starting_sequence)
        return {
            "StreamArn": self.arn,
            "StreamLabel": self.label,
            "StreamStatus": self.status,
            "StreamViewType": self.view,
            "CreationRequestDateTime": self.created,
            "TableName": self.table_name,
            "KeySchema": [dict(element) for element in self.key_schema],
            "Shards": [{"ShardId": self.shard_id, "SequenceNumberRange": numbers}],
        }


# --------------------------------------------------------------------------- subscriptions


# --------------------------------------------------------------------------- the engine's streams


class Streams:
    """Every stream of one engine, the record writer (a change listener) and the subscribers.

    State is guarded by ``engine.lock``; delivery to subscribers by a lock of its own.
    """

    def __init__(self, engine: LocalEngine) -> None:
        self._engine = engine
        self._by_arn: dict[str, Stream] = {}
        self._active: dict[str, Stream] = {}  # table name -> its enabled stream
        self._subscriptions: dict[str, list[Subscription]] = {}
        # Sequence numbers start from the clock, so they keep growing across restarts.
        self._last_sequence = _SEQUENCE_BASE + int(engine.clock() * 1_000_000)
        self._key = secrets.token_bytes(16)
        # eventIDs: 32 hex digits, like DynamoDB's; unique within the engine.
        self._event_ids = (engine.region, secrets.token_hex(8))
        self._pending: deque[tuple[Subscription, Record]] = deque()
        self._delivery_lock = threading.Lock()
        self._delivering = threading.local()
        self._discovered = False
        self._listener = self._on_commit
        register_listener(engine, self._listener, live=False)  # (live: _sync_listening)
        self._discover()

    # ----------------------------------------------------------------- settings

    def _discover(self) -> None:
        """Start the enabled streams of tables the storage reopened (their records are gone)."""
        with self._engine.lock:
            for table in self._engine.tables.values():
                stream = table.settings.get("stream") or {}
                if stream.get("StreamEnabled") and table.name not in self._active:
                    self._start(
                        table,
                        stream["StreamViewType"],
                        stream["LatestStreamLabel"],
                        stream.get("CreationRequestDateTime", table.created),
                    )
            self._discovered = True
            self._sync_listening()

    def _sync_listening(self) -> None:
        """The record writer is called by commits only while a stream or a subscriber
        may want records (._write.set_listening)."""
        live = bool(self._active or self._subscriptions)
        set_listening(self._engine, self._listener, live)

    def _start(self, table: TableDef, view: str, label: str, created: float) -> Stream:
        stream = Stream(table, view, label, created, self._last_sequence + 1)
        self._by_arn[stream.arn] = stream
        self._active[table.name] = stream
        self._sync_listening()
        return stream

    def enable(self, table: TableDef, view: str) -> None:
        """Give ``table`` a new stream (the caller checked it has none enabled)."""
        now = self._engine.clock()
        label = _label(now)
        while f"{table.arn}/stream/{label}" in self._by_arn:  # same millisecond: next one
            now += 0.001
            label = _label(now)
        stream = self._start(table, view, label, now)
        table.settings["stream"] = {
            "StreamEnabled": True,
            "StreamViewType": view,
            "LatestStreamLabel": label,
            "LatestStreamArn": stream.arn,
            "CreationRequestDateTime": now,
        }

    def disable(self, table: TableDef) -> None:
        """Turn ``table``'s stream off; it stays readable (DISABLED) for the retention period."""
        stream = self._active.pop(table.name, None)
        if stream is not None:
            stream.disabled_at = self._engine.clock()
            self._sync_listening()
        settings = dict(table.settings.get("stream") or {})
        settings["StreamEnabled"] = False
        settings.pop("StreamViewType", None)
        table.settings["stream"] = settings

    def apply_update(self, table: TableDef, spec: StreamSpec) -> None:
        """Enable or disable ``table``'s stream as an UpdateTable asked (already checked)."""
        enabled, view = spec
        if enabled:
            assert view is not None
            self.enable(table, view)
        else:
            self.disable(table)

    def table_deleted(self, table: TableDef) -> None:
        """DeleteTable: the table's stream is disabled (and readable for 24 hours)."""
        stream = self._active.get(table.name)
        if stream is not None and stream.table is table:
            self._active.pop(table.name)
            stream.disabled_at = self._engine.clock()
            self._sync_listening()

    # ----------------------------------------------------------------- records

    def _on_commit(self, changes: Sequence[Change], identity: dict[str, Any] | None) -> None:
        """The change listener: one record per effective change, for streams and subscribers."""
        if not self._active and not self._subscriptions:
            return
        now = self._engine.clock()
        storage = self._engine.storage
        if storage.can_fail_commit:  # take the records back if the group fails
            storage.on_rollback(
                partial(self._forget, self._last_sequence, len(self._pending), dict(self._active))
            )
        for change in changes:
            name = change.table.name
            stream = self._active.get(name)
            subscriptions = self._subscriptions.get(name)
            if stream is None and not subscriptions:
                continue
            old, new = change.old, change.new
            if old is not None and new is not None and _items_equal(old, new):
                continue  # nothing changed: DynamoDB writes no record
            self._last_sequence += 1
            writer = _RecordWriter(self._event_ids, change, self._last_sequence, now, identity)
            if stream is not None:
                stream.append(self._last_sequence, writer.record(stream.view), now)
            for subscription in subscriptions or ():
                view = subscription.view or (stream.view if stream is not None else None)
                if view is not None:
                    self._pending.append((subscription, writer.record(view)))

    def catalog_state(self) -> tuple[Any, ...]:
        """What a table operation may change here (see ._rollback)."""
        return (
            dict(self._by_arn),
            dict(self._active),
            self._last_sequence,
            [(stream, stream.disabled_at) for stream in self._by_arn.values()],
        )

    def restore_catalog_state(self, state: tuple[Any, ...]) -> None:
        """Go back to a :meth:`catalog_state` (the table operation was rolled back)."""
        by_arn, active, self._last_sequence, disabled = state
        self._by_arn.clear()
        self._by_arn.update(by_arn)
        self._active.clear()
        self._active.update(active)
        self._sync_listening()
        for stream, disabled_at in disabled:
            stream.disabled_at = disabled_at

    def _forget(self, last_sequence: int, pending: int, streams: dict[str, Stream]) -> None:
        """Drop the records made after ``last_sequence`` (their changes were rolled back)."""
        for stream in streams.values():
            stream.forget_after(last_sequence)
        while len(self._pending) > pending:
            self._pending.pop()
        self._last_sequence = last_sequence

    @property
    def pending(self) -> bool:
        """Whether records wait for delivery to subscribers."""
        return bool(self._pending)

    def deliver(self) -> None:
        """Hand the queued records to their subscribers, in commit order, outside the engine lock.

        Called by the engine after every operation (and by the TTL sweeper). A
        thread already delivering (a subscriber writing to the engine) leaves its
        new records to the loop it is in. The first exception a subscriber raised
        is re-raised once the queue is empty.
        """
        if getattr(self._delivering, "active", False):
            return
        failure: BaseException | None = None
        with self._delivery_lock:
            self._delivering.active = True
            try:
                while self._pending:
                    subscription, record = self._pending.popleft()
                    if subscription.closed:
                        continue
                    try:
                        subscription.callback(_copy(record))
                    except Exception as error:  # re-raised below
                        failure = failure or error
            finally:
                self._delivering.active = False
        if failure is not None:
            raise failure

    def subscribe(self, table_name: str, callback: Callback, view: str | None) -> Subscription:
        """Call ``callback`` with each new record of ``table_name`` (see :class:`Subscription`)."""
        if view is not None and view not in VIEW_TYPES:
            raise ValueError(f"view must be one of {', '.join(VIEW_TYPES)}, not {view!r}")
        with self._engine.lock:
            if table_name not in self._engine.tables:
                raise DynamoDBError(
                    "ResourceNotFoundException",
                    f"Requested resource not found: Table: {table_name} not found",
                )
            subscription = Subscription(self, table_name, callback, view)
            self._subscriptions.setdefault(table_name, []).append(subscription)
            self._sync_listening()
        return subscription

    def record_stream(self, table_name: str, view: str | None) -> RecordStream:
        """A :class:`RecordStream` subscribed to ``table_name`` (close it, or use ``with``)."""
        records = RecordStream()
        records.subscription = self.subscribe(table_name, records.push, view)
        return records

    def table(self, name: str) -> TableDef | None:
        """The engine's table ``name``, if it exists."""
        return self._engine.tables.get(name)

    def unsubscribe(self, subscription: Subscription) -> None:
        """Remove ``subscription`` (see :meth:`Subscription.close`)."""
        with self._engine.lock:
            subscriptions = self._subscriptions.get(subscription.table_name, [])
            if subscription in subscriptions:
                subscriptions.remove(subscription)
            if not subscriptions:
                self._subscriptions.pop(subscription.table_name, None)
                self._sync_listening()

    # ----------------------------------------------------------------- lookups (under the lock)

    def _purge(self, now: float) -> None:
        """Forget disabled streams whose retention period has ended."""
        gone = [
            arn
            for arn, stream in self._by_arn.items()
            if stream.disabled_at is not None and stream.disabled_at + RETENTION_SECONDS <= now
        ]
        for arn in gone:
            del self._by_arn[arn]

    def stream(self, arn: str, now: float) -> Stream:
        """The stream ``arn`` (trimmed to now), or DynamoDB's ResourceNotFoundException."""
        self._purge(now)
        stream = self._by_arn.get(arn)
        if stream is None:
            raise stream_not_found(arn)
        stream.trim(now)
        return stream

    def all(self, now: float) -> list[Stream]:
        """Every stream still readable, by ARN."""
        self._purge(now)
        return [self._by_arn[arn] for arn in sorted(self._by_arn)]

    def latest_sequence(self) -> int:
        """The last sequence number given to a record (of any stream)."""
        return self._last_sequence

    # ----------------------------------------------------------------- shard iterators

    def iterator(self, stream: Stream, after: int, now: float) -> str:
        """An opaque iterator reading ``stream`` after sequence ``after``, issued at ``now``.

        Shaped like DynamoDB's (``<stream arn>|1|<token>``); the token is signed
        with this engine's key so a forged or foreign one is refused.
        """
        payload = f"{stream.shard_id}:{after}:{int(now * 1000)}"
        mac = hmac.new(self._key, f"{stream.arn}|{payload}".encode(), hashlib.sha256)
        token = base64.urlsafe_b64encode(f"{payload}:{mac.hexdigest()[:32]}".encode()).decode()
        return f"{stream.arn}|1|{token}"

    def parse_iterator(self, iterator: str) -> tuple[str, str, int, float]:
        """``(stream arn, shard id, after, issued)`` of an iterator this engine made."""
        try:
            arn, version, token = iterator.rsplit("|", 2)
            shard_id, after, issued, mac = (
                base64.urlsafe_b64decode(token.encode()).decode().split(":")
            )
            payload = f"{shard_id}:{after}:{issued}"
            expected = hmac.new(self._key, f"{arn}|{payload}".encode(), hashlib.sha256)
            if version != "1" or not hmac.compare_digest(mac, expected.hexdigest()[:32]):
                raise ValueError("bad signature")
            return arn, shard_id, int(after), int(issued) / 1000
        except (ValueError, UnicodeError):
            # Not confirmed against DynamoDB Streams: the text it gives a malformed iterator.
            raise validation_error("Invalid ShardIterator") from None


class _RecordWriter:
    """Builds the records of one change, once per view type asked for."""

    __slots__ = ("_base", "_change", "_keys", "_records")

    def __init__(
        self,
        event_ids: tuple[str, str],
        change: Change,
        sequence: int,
        now: float,
        identity: dict[str, Any] | None,
    ) -> None:
        old, new = change.old, change.new
        name = "INSERT" if old is None else "REMOVE" if new is None else "MODIFY"
        self._change = change
        self._keys = change.table.key_of(new if new is not None else old)  # type: ignore[arg-type]
        self._base: Record = {
            "eventID": f"{event_ids[1]}{sequence & 0xFFFFFFFFFFFFFFFF:016x}",
            "eventName": name,
            "eventVersion": "1.1",
            "eventSource": "aws:dynamodb",
            "awsRegion": event_ids[0],
            # Streams API: "rounded down to the closest second".
            "dynamodb": {"ApproximateCreationDateTime": int(now), "SequenceNumber": str(sequence)},
        }
        if identity is not None:
            self._base["userIdentity"] = dict(identity)
        self._records: dict[str, Record] = {}

    def record(self, view: str) -> Record:
        """The record in ``view`` (built once; subscribers get copies)."""
        record = self._records.get(view)
        if record is not None:
            return record
        old, new = self._change.old, self._change.new
        body = dict(self._base["dynamodb"])
        body["Keys"] = self._keys
        size = item_size(self._keys)
        if view in _WITH_NEW and new is not None:
            body["NewImage"] = new
            size += self._change.size or item_size(new)
        if view in _WITH_OLD and old is not None:
            body["OldImage"] = old
            size += item_size(old)
        body["SizeBytes"] = size
        body["StreamViewType"] = view
        record = dict(self._base)
        record["dynamodb"] = body
        self._records[view] = record
        return record


def _label(now: float) -> str:
    """A stream label: the ISO time of its creation, to the millisecond (UTC)."""
    moment = datetime.fromtimestamp(now, tz=UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}"
