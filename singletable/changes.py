"""Change events as typed entities: a stream record becomes a :class:`Change` of an entity.

A DynamoDB stream record (what GetRecords returns, what a Lambda trigger gets in
``event["Records"]``, what the embedded engine's subscriptions deliver) carries
wire-shaped item images. :class:`ChangeParser` turns one into a typed change::

    parser = ChangeParser(Order, Customer)          # or ChangeParser(app): every entity
    change = parser.parse(record)
    if isinstance(change, Change) and change.entity is Order:
        ...                                          # change.new: Order | None

The entity is found by the table's type attribute (``_type``) in the record's
images; a record without one (an item written by other code, or a KEYS_ONLY
record, whose keys carry no type) is matched by key shape: the one entity whose
table key templates parse the record's keys. A record that no entity claims is
an :class:`UnknownChange`, never an exception. An image that does not validate as
its entity raises :class:`~singletable.errors.ItemValidationError`, naming the
entity and the item's key. Images older than the entity's schema version are
upgraded on the way (:mod:`singletable.migrations`).

Sources, each yielding the same changes:

* the embedded engine: ``db.subscribe(handler, entities=[Order])`` (:meth:`DB.subscribe
  <singletable.db.DB.subscribe>`), called before the write that made the change returns;
* the DynamoDB Streams API, through a boto3 or aioboto3 ``dynamodbstreams`` client:
  :func:`read_stream` / :func:`aread_stream` follow every shard of a table's stream
  (parents before children) and yield its records;
* an AWS Lambda event: :meth:`ChangeParser.parse_event`, or a :class:`ChangeHandler`
  called as the function's handler, which dispatches each change to the handler of
  its entity and answers Lambda's partial batch response.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any, Generic, Literal, TypeVar

from singletable._change_stream import StreamPosition, drive, drive_async, follow_stream
from singletable._identify import identify, type_name_of
from singletable._unique import GUARD_TYPE
from singletable._values import encode_binary
from singletable.codec import from_attribute
from singletable.errors import InvalidValueError, ModelError
from singletable.table import Table

if TYPE_CHECKING:
    from singletable.entity import Entity

__all__ = [
    "Change",
    "ChangeHandler",
    "ChangeParser",
    "EventName",
    "StreamPosition",
    "UnknownChange",
    "aread_stream",
    "read_stream",
    "subscribe",
]

_log = logging.getLogger("singletable.changes")

E = TypeVar("E", bound="Entity")
EventName = Literal["INSERT", "MODIFY", "REMOVE"]
Record = Mapping[str, Any]


@dataclass(frozen=True)
class Change(Generic[E]):
    """One change of one entity, from a stream record.

    ``new`` is the entity after the change and ``old`` before it, each None where
    the change has none (an INSERT has no old image, a REMOVE no new one) or the
    stream's view type leaves it out (KEYS_ONLY has neither: ``key`` then holds the
    entity's key fields as the key templates give them back, as text).
    """

    entity: type[E]
    event: EventName
    new: E | None
    old: E | None
    keys: dict[str, Any]
    """The item's table key, wire shape (``{"PK": {"S": "..."}, ...}``)."""
    key: dict[str, Any]
    """The entity's table key fields parsed from ``keys`` (rendered values, as text
    for templated keys; the value itself for a key attribute that is a field)."""
    sequence_number: str
    created_at: datetime | None
    """The record's approximate creation time (UTC, to the second), if it has one."""
    view: str | None
    """The stream view type (``NEW_AND_OLD_IMAGES``, ``KEYS_ONLY``...), if the record says."""
    record: Record = field(repr=False, compare=False)
    """The raw record."""


@dataclass(frozen=True)
class UnknownChange:
    """A record no entity of the parser claims: an unknown type name, or keys of no
    entity's shape. Reported, never raised."""

    event: EventName
    type_name: str | None
    """The item's type attribute, if its images carry one."""
    keys: dict[str, Any]
    sequence_number: str
    created_at: datetime | None
    reason: str
    record: Record = field(repr=False, compare=False)

    entity: None = None
    """Always None (so ``change.entity is None`` tells an unknown change apart)."""

    @property
    def is_guard(self) -> bool:
        """Whether the record is of a unique value's guard item (``Annotated[str, Unique]``
        fields; see :mod:`singletable._unique`): handlers and subscriptions skip those
        silently, as they belong to the entity change written in the same transaction."""
        return self.type_name == GUARD_TYPE


AnyChange = Change[Any] | UnknownChange


class ChangeParser:
    """Parses stream records into :class:`Change` objects of the given entities.

    Args:
        *sources: entity classes, or tables (every entity registered on the table).
            All must be of one table: a stream is a table's.

    Raises:
        ModelError: no source, or entities of more than one table.
    """

    def __init__(self, *sources: type[Entity] | Table) -> None:
        entities: list[type[Entity]] = []
        for source in sources:
            if isinstance(source, Table):
                entities.extend(source.entities.values())
            else:
                entities.append(source)
        if not entities:
            raise ModelError("ChangeParser needs at least one entity or table")
        tables = {e.__singletable__.table for e in entities}
        if len(tables) > 1:
            names = ", ".join(sorted(t.name for t in tables))
            raise ModelError(f"ChangeParser: the entities are of several tables ({names})")
        self.table: Table = tables.pop()
        self.entities: dict[str, type[Entity]] = {
            e.__singletable__.type_name: e for e in dict.fromkeys(entities)
        }

    def parse(self, record: Record) -> AnyChange:
        """The change ``record`` describes (a GetRecords record, a Lambda event's record,
        or one an engine subscription delivered).

        Raises:
            ItemValidationError: an image does not validate as its entity.
            InvalidValueError: ``record`` is not a DynamoDB stream record.
        """
        body = record.get("dynamodb")
        event = record.get("eventName")
        if not isinstance(body, Mapping) or event not in ("INSERT", "MODIFY", "REMOVE"):
            raise InvalidValueError(
                "not a DynamoDB stream record (needs eventName INSERT, MODIFY or REMOVE "
                "and a dynamodb member)"
            )
        new_image = _image(body.get("NewImage"))
        old_image = _image(body.get("OldImage"))
        keys = _image(body.get("Keys")) or {}
        sequence = str(body.get("SequenceNumber", ""))
        created = _moment(body.get("ApproximateCreationDateTime"))
        type_name = type_name_of(new_image or old_image or {}, self.table.type_attribute)
        entity, reason = self._entity(type_name, keys or new_image or old_image or {})
        if entity is None:
            return UnknownChange(event, type_name, keys, sequence, created, reason, record)
        new = entity.from_item(new_image) if new_image is not None else None
        old = entity.from_item(old_image) if old_image is not None else None
        return Change(
            entity,
            event,
            new,
            old,
            keys,
            _key_fields(entity, keys),
            sequence,
            created,
            body.get("StreamViewType"),
            record,
        )

    def parse_event(self, event: Mapping[str, Any]) -> list[AnyChange]:
        """The changes of an AWS Lambda event from a DynamoDB stream (``event["Records"]``)."""
        return [self.parse(record) for record in event.get("Records", [])]

    def parse_all(self, records: Iterable[Record]) -> Iterator[AnyChange]:
        """Parse records one by one (a stream reader's, say)."""
        for record in records:
            yield self.parse(record)

    def _entity(
        self, type_name: str | None, keys: Mapping[str, Any]
    ) -> tuple[type[Entity] | None, str]:
        """The rule of :mod:`singletable._identify`, among the parser's entities; a type
        name none of them has is said more precisely."""
        entity, reason = identify(type_name, keys, self.entities)
        if entity is None and type_name is not None:
            if type_name == GUARD_TYPE:
                return None, "the guard item of a unique value"
            if type_name in self.table.entities:
                return None, f"entity type {type_name!r} is not one of the parser's"
            return None, f"unknown entity type {type_name!r} on table {self.table.name!r}"
        return entity, reason


def _warn_unknown(change: UnknownChange) -> None:
    _log.warning(
        "stream record %s (%s) skipped: %s", change.sequence_number, change.event, change.reason
    )


def _image(value: Any) -> dict[str, Any] | None:
    """A record's image in the wire shape (boto3 gives binary values as bytes)."""
    if value is None:
        return None
    return {name: _wire(member) for name, member in value.items()}


def _wire(value: Mapping[str, Any]) -> dict[str, Any]:
    ((kind, raw),) = value.items()
    if kind == "B" and isinstance(raw, bytes | bytearray):
        return {"B": encode_binary(bytes(raw))}
    if kind == "BS" and raw and isinstance(raw[0], bytes | bytearray):
        return {"BS": [encode_binary(bytes(member)) for member in raw]}
    if kind == "M":
        return {"M": {name: _wire(member) for name, member in raw.items()}}
    if kind == "L":
        return {"L": [_wire(member) for member in raw]}
    return {kind: raw}


def _moment(value: Any) -> datetime | None:
    """ApproximateCreationDateTime: epoch seconds (the wire, Lambda) or a datetime (boto3)."""
    if isinstance(value, datetime):
        return value.astimezone(UTC) if value.tzinfo is not None else value.replace(tzinfo=UTC)
    if isinstance(value, int | float | Decimal) and not isinstance(value, bool):
        return datetime.fromtimestamp(float(value), tz=UTC)
    return None


def _key_fields(entity: type[Entity], keys: Mapping[str, Any]) -> dict[str, Any]:
    model = entity.__singletable__
    spec = model.table.primary
    fields: dict[str, Any] = {}
    for attribute, template in zip((spec.pk, spec.sk), model.keys[None], strict=True):
        if attribute is None or template is None or attribute not in keys:
            continue
        if template.typed:
            fields[template.fields[0]] = from_attribute(keys[attribute])
        else:
            parsed = template.parse(keys[attribute].get("S", ""))
            fields.update(parsed or {})
    return fields


# --------------------------------------------------------------------------- dispatch


Handler = Callable[[Change[E]], object]


class ChangeHandler:
    """Dispatches changes to a handler per entity type; callable as a Lambda handler.

    ::

        handler = ChangeHandler(app)

        @handler.on(Order)
        def order_changed(change: Change[Order]) -> None: ...

        def lambda_handler(event, context):
            return handler(event, context)        # {"batchItemFailures": [...]}

    A change of an entity without a handler is skipped; an :class:`UnknownChange`
    goes to ``on_unknown`` (default: a warning on the ``singletable.changes`` logger;
    ``unknown`` keeps the last batch's).

    When a handler raises, the batch stops at that record and the response names
    its sequence number: ``{"batchItemFailures": [{"itemIdentifier": "<seq>"}]}``,
    Lambda's partial batch response for DynamoDB streams (Lambda Developer Guide,
    "Configuring partial batch response with DynamoDB and Lambda"; it needs
    ``ReportBatchItemFailures`` on the event source mapping). Lambda checkpoints
    before the lowest sequence number reported and retries every record from it,
    so the records after a failure are not handled now: they would be handled
    twice. A record that does not parse (an image that fails validation) is a
    failure the same way.
    """

    def __init__(
        self,
        *sources: type[Entity] | Table,
        on_unknown: Callable[[UnknownChange], object] | None = None,
    ) -> None:
        self.parser = ChangeParser(*sources)
        self._handlers: dict[type[Entity], list[Callable[[Change[Any]], object]]] = {}
        self._on_unknown = on_unknown
        self.unknown: list[UnknownChange] = []
        self.errors: list[tuple[str, BaseException]] = []
        """(sequence number, exception) of the failures of the last batch."""

    def on(self, entity: type[E]) -> Callable[[Handler[E]], Handler[E]]:
        """Decorator: call the function with every :class:`Change` of ``entity``."""
        if entity.__singletable__.type_name not in self.parser.entities:
            raise ModelError(f"ChangeHandler: {entity.__name__} is not one of its entities")

        def register(function: Handler[E]) -> Handler[E]:
            self._handlers.setdefault(entity, []).append(function)
            return function

        return register

    def add(self, entity: type[E], function: Handler[E]) -> None:
        """Call ``function`` with every change of ``entity`` (the decorator's plain form)."""
        self.on(entity)(function)

    def handle(self, change: AnyChange) -> None:
        """Run the handlers of one parsed change (exceptions propagate)."""
        if isinstance(change, UnknownChange):
            if change.is_guard:
                return
            self.unknown.append(change)
            if self._on_unknown is not None:
                self._on_unknown(change)
            else:
                _warn_unknown(change)
            return
        for function in self._handlers.get(change.entity, ()):
            function(change)

    def handle_records(self, records: Iterable[Record]) -> dict[str, list[dict[str, str]]]:
        """Handle records in order; the partial batch response (see the class)."""
        self.unknown = []
        self.errors = []
        for record in records:
            try:
                self.handle(self.parser.parse(record))
            except Exception as error:  # reported to Lambda, which retries from here
                sequence = str(record.get("dynamodb", {}).get("SequenceNumber", ""))
                self.errors.append((sequence, error))
                return {"batchItemFailures": [{"itemIdentifier": sequence}]}
        return {"batchItemFailures": []}

    def __call__(self, event: Mapping[str, Any], context: object = None) -> dict[str, Any]:
        """Handle a Lambda event (``event["Records"]``); the partial batch response."""
        return self.handle_records(event.get("Records", []))


# --------------------------------------------------------------------------- the Streams API


def read_stream(
    client: Any,
    *,
    table_name: str | None = None,
    stream_arn: str | None = None,
    position: StreamPosition | None = None,
    follow: bool = False,
    poll_interval: float = 1.0,
    limit: int | None = None,
) -> Iterator[dict[str, Any]]:
    """The records of a table's stream through a boto3 ``dynamodbstreams`` client.

    Every shard is read from its oldest record (TRIM_HORIZON), parents before their
    children, each shard to its end. ``position`` (a :class:`StreamPosition`, updated
    as records are yielded) resumes after the records already seen. Without
    ``follow`` the iterator ends when every shard is read to its present end; with
    it, it keeps polling (``poll_interval`` seconds apart) for new records and shards.
    ``limit`` is GetRecords' ``Limit``. Parse the records with :class:`ChangeParser`.

    Raises:
        TableNotFoundError: the table has no stream.
        botocore.exceptions.ClientError: as the client raises it (an unknown stream ARN
            is ``ResourceNotFoundException``).
    """
    flow = follow_stream(table_name, stream_arn, position, follow, poll_interval, limit)
    return drive(client, flow)


def aread_stream(
    client: Any,
    *,
    table_name: str | None = None,
    stream_arn: str | None = None,
    position: StreamPosition | None = None,
    follow: bool = False,
    poll_interval: float = 1.0,
    limit: int | None = None,
) -> AsyncIterator[dict[str, Any]]:
    """:func:`read_stream` for an aioboto3 ``dynamodbstreams`` client (``async for``)."""
    flow = follow_stream(table_name, stream_arn, position, follow, poll_interval, limit)
    return drive_async(client, flow)


# --------------------------------------------------------------------------- the embedded engine


def subscribe(
    engine: Any,
    handler: Callable[[Change[E]], object],
    entities: Sequence[type[E]],
    *,
    view: str | None = None,
    on_unknown: Callable[[UnknownChange], object] | None = None,
) -> Any:
    """Call ``handler`` with every :class:`Change` of ``entities`` on ``engine`` (a
    :class:`~singletable.backends.local.LocalEngine`); see :meth:`DB.subscribe
    <singletable.db.DB.subscribe>`. Returns the engine's subscription (``close()``)."""
    if not entities:
        raise ModelError("subscribe needs at least one entity (entities=[...])")
    parser = ChangeParser(*entities)
    table = parser.table
    everything = ChangeParser(table) if table.entities else parser
    wanted = frozenset(entities)

    def deliver(record: dict[str, Any]) -> None:
        change = everything.parse(record)
        if isinstance(change, UnknownChange):
            if change.is_guard:
                return
            if on_unknown is not None:
                on_unknown(change)
            else:
                _warn_unknown(change)
        elif change.entity in wanted:
            handler(change)

    return engine.subscribe(table.name, deliver, view=view)
