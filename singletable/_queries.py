"""The modelling layer's reads by key condition, each one sans-I/O flow (see :mod:`._flows`).

Queries by access pattern (a page, every page, projected fields, a count) and
collections (one partition split into typed lists). Like :mod:`._operations`,
nothing here knows which backend runs it, or whether it runs sync or async.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from json.encoder import encode_basestring_ascii
from typing import TYPE_CHECKING, Any, Generic, Protocol, TypeVar

from pydantic import ValidationError

from singletable._flows import Flow, decode_cursor, encode_cursor
from singletable._identify import identify, type_name_of
from singletable.codec import from_item
from singletable.conditions import attribute, expression_parameters
from singletable.entity import direct_decoding
from singletable.errors import InvalidValueError

if TYPE_CHECKING:
    from singletable.conditions import Condition, FieldPath
    from singletable.entity import Entity
    from singletable.patterns import BoundPattern, Collection, KeyCondition

__all__ = [
    "CollectionResult",
    "Page",
    "QuerySpec",
    "check_positive",
    "count_all",
    "replaced_spec",
    "request_size",
    "scope",
]

E = TypeVar("E", bound="Entity")


@dataclass
class QuerySpec:
    """What a query asks for (patterns and collections share it)."""

    table: str
    condition: KeyCondition
    scope: str
    """Identifies the query for its cursors: pattern name and key values."""
    reverse: bool = False
    limit: int | None = None
    page_size: int | None = None
    consistent: bool = False
    cursor: str | None = None
    secret: bytes = b""
    filter: Condition | None = None

    def request(self, start: dict[str, Any] | None, page_size: int | None) -> dict[str, Any]:
        """The Query request for one page starting after ``start``."""
        text, names, values = self.condition.expression()
        request: dict[str, Any] = {
            "TableName": self.table,
            "KeyConditionExpression": text,
            "ExpressionAttributeNames": names,
            "ExpressionAttributeValues": values,
        }
        if self.condition.index is not None:
            request["IndexName"] = self.condition.index
        if self.reverse:
            request["ScanIndexForward"] = False
        if self.consistent:
            request["ConsistentRead"] = True
        if page_size is not None:
            request["Limit"] = page_size
        if start is not None:
            request["ExclusiveStartKey"] = start
        if self.filter is not None:  # its placeholders (#f0, :f0) never clash with the key's
            extra = expression_parameters(filter=self.filter)
            request["FilterExpression"] = extra["FilterExpression"]
            names.update(extra.get("ExpressionAttributeNames", {}))
            values.update(extra.get("ExpressionAttributeValues", {}))
        return request


def replaced_spec(spec: QuerySpec, changes: dict[str, Any]) -> QuerySpec:
    """``dataclasses.replace(spec, **changes)`` for the options of a query (fields of
    :class:`QuerySpec`, which has no ``__post_init__``): a copy of its fields with
    ``changes``, without ``replace``'s look-up of every field on each call."""
    clone = object.__new__(type(spec))
    clone.__dict__.update(spec.__dict__)
    clone.__dict__.update(changes)
    return clone


def scope(name: str, values: dict[str, Any], index: str | None) -> str:
    """What a cursor is bound to: the pattern, its index and the key values given
    (cursors carry a digest of it, made by :mod:`._flows`)."""
    return f"{name}|{index}|{_scope_json(values)}"


# json.dumps(values, sort_keys=True, default=str) with its encoder made once (dumps
# makes a new one on every call when given options)
_SCOPE_JSON = json.JSONEncoder(sort_keys=True, default=str).encode
_JSON_STRING = encode_basestring_ascii  # (what that encoder writes a str with)


def _scope_json(values: dict[str, Any]) -> str:
    """``_SCOPE_JSON(values)``; key values that are all plain strings (most queries:
    one partition field) are written here, with the encoder's own string function,
    separators and key order, instead of through its general machinery
    (tests/orm/test_query_build.py checks both give the same text)."""
    for value in values.values():
        if type(value) is not str:
            return _SCOPE_JSON(values)
    if len(values) == 1:
        for key, value in values.items():
            return "{" + _JSON_STRING(key) + ": " + _JSON_STRING(value) + "}"
    pairs = sorted(values.items())
    return "{" + ", ".join(_JSON_STRING(k) + ": " + _JSON_STRING(v) for k, v in pairs) + "}"


@dataclass
class Page(Generic[E]):
    """One page of a query: the entities, and the cursor of the next page (None: done)."""

    items: list[E]
    cursor: str | None
    skipped: list[dict[str, Any]] = field(default_factory=list)
    """Items of other entity types the index returned (an overloaded index)."""


def _read_page(
    pattern: BoundPattern[E],
    spec: QuerySpec,
    start: dict[str, Any] | None,
    page_size: int | None,
) -> Flow[tuple[list[E], list[dict[str, Any]], dict[str, Any] | None]]:
    """One Query request: the entities, the skipped items and the raw LastEvaluatedKey."""
    response = yield "Query", spec.request(start, page_size)
    entity = pattern.entity
    type_name = entity.__singletable__.type_name
    type_attribute = entity.__singletable__.table.type_attribute
    items: list[E] = []
    skipped: list[dict[str, Any]] = []
    model = entity.__singletable__
    from_item, keep = entity.from_item, items.append
    direct = direct_decoding(entity)  # from_item's own steps, looked up once a page
    read, validate = direct if direct is not None else (None, None)
    for item in response.get("Items", ()):
        marker = item.get(type_attribute)
        if (
            (marker.__class__ is not dict or marker.get("S") != type_name)
            if marker is not None
            else not model.owns(item)
        ):
            skipped.append(copy.deepcopy(item))  # responses may share the stored data
            continue
        if read is not None:
            try:
                data = read(item)
            except Exception:  # not in the wire shape: from_item says what is wrong
                data = None
            if data is not None:
                try:
                    keep(validate(data))  # type: ignore[misc]
                    continue
                except ValidationError:
                    pass  # from_item raises its own error for it
        keep(from_item(item))
    return items, skipped, response.get("LastEvaluatedKey")


def query_page(pattern: BoundPattern[E], spec: QuerySpec) -> Flow[Page[E]]:
    """One page of a pattern's query (up to ``spec.page_size`` items)."""
    start = decode_cursor(spec.cursor, spec.scope, spec.secret) if spec.cursor else None
    items, skipped, last = yield from _read_page(pattern, spec, start, spec.page_size or spec.limit)
    cursor = encode_cursor(last, spec.scope, spec.secret) if last is not None else None
    return Page(items, cursor, skipped)


def query_all(pattern: BoundPattern[E], spec: QuerySpec) -> Flow[list[E]]:
    """Every item of a pattern's query (all pages, up to ``spec.limit``); pages are
    chained by their raw keys (a cursor is only made for :func:`query_page`)."""
    items: list[E] = []
    start = decode_cursor(spec.cursor, spec.scope, spec.secret) if spec.cursor else None
    while True:
        remaining = None if spec.limit is None else spec.limit - len(items)
        page, _, start = yield from _read_page(
            pattern, spec, start, request_size(spec.page_size, remaining)
        )
        items.extend(page)
        if start is None or (spec.limit is not None and len(items) >= spec.limit):
            return items[: spec.limit] if spec.limit is not None else items


def query_select(
    pattern: BoundPattern[E], spec: QuerySpec, paths: Sequence[FieldPath[Any]]
) -> Flow[list[dict[str, Any]]]:
    """The projected fields of every matching item (all pages, up to ``spec.limit``):
    one dict per item, keyed by field name (nested paths come back nested)."""
    model = pattern.entity.__singletable__
    type_attribute = model.table.type_attribute
    by_attribute = {attr: name for name, attr in model.attributes.items()}
    wanted = expression_parameters(projection=[*paths, attribute(type_attribute)])
    out: list[dict[str, Any]] = []
    start = decode_cursor(spec.cursor, spec.scope, spec.secret) if spec.cursor else None
    while True:
        request = spec.request(start, spec.page_size)
        request["ProjectionExpression"] = wanted["ProjectionExpression"]
        request["ExpressionAttributeNames"].update(wanted["ExpressionAttributeNames"])
        response = yield "Query", request
        for item in response.get("Items", ()):
            marker = item.get(type_attribute)
            if marker is not None and marker.get("S") != model.type_name:
                continue  # untyped items: the pattern's key condition chose them
            values = from_item(item)
            values.pop(type_attribute, None)
            out.append({by_attribute.get(k, k): v for k, v in values.items()})
            if spec.limit is not None and len(out) >= spec.limit:
                return out
        start = response.get("LastEvaluatedKey")
        if start is None:
            return out


def query_count(spec: QuerySpec) -> Flow[int]:
    """How many items a query matches (Select=COUNT over every page)."""
    return (yield from count_all("Query", spec, None))


class _Paged(Protocol):
    @property
    def page_size(self) -> int | None: ...

    def request(self, start: dict[str, Any] | None, size: int | None) -> dict[str, Any]: ...


def count_all(operation: str, spec: _Paged, start: dict[str, Any] | None) -> Flow[int]:
    """Count with Select=COUNT over every page of a Query or Scan from ``start``."""
    total = 0
    while True:
        request = spec.request(start, spec.page_size)
        request["Select"] = "COUNT"
        response = yield operation, request
        total += int(response.get("Count", 0))
        start = response.get("LastEvaluatedKey")
        if start is None:
            return total


def check_positive(name: str, value: int | None) -> None:
    """Refuse a limit, page size or segment count that is not a positive int (None: unset)."""
    if value is not None and (not isinstance(value, int) or isinstance(value, bool) or value < 1):
        raise InvalidValueError(f"{name} must be a positive int, not {value!r}")


@dataclass
class CollectionResult:
    """A collection's items, split by entity type: ``result[Order]`` is a ``list[Order]``."""

    by_type: dict[type[Entity], list[Any]]
    unknown: list[dict[str, Any]] = field(default_factory=list)
    """Items whose entity type is not in the collection (reported, not parsed)."""

    def __getitem__(self, entity: type[E]) -> list[E]:
        items: list[E] = self.by_type.get(entity, [])
        return items


def collection(coll: Collection, spec: QuerySpec) -> Flow[CollectionResult]:
    """Every item of a collection's partition, split into typed lists."""
    result = CollectionResult({entity: [] for entity in coll.entities})
    type_attribute = coll.table.type_attribute
    start: dict[str, Any] | None = None
    while True:
        response = yield "Query", spec.request(start, spec.page_size)
        for item in response.get("Items", ()):
            # By its type name; one written by other code: the entity whose key shape
            # it has, if exactly one (the rule changes and migrations share).
            entity, _ = identify(type_name_of(item, type_attribute), item, coll.by_type)
            if entity is None:
                result.unknown.append(copy.deepcopy(item))  # responses are read-only
            else:
                result.by_type[entity].append(entity.from_item(item))
        start = response.get("LastEvaluatedKey")
        if start is None:
            return result


def request_size(page_size: int | None, remaining: int | None) -> int | None:
    """The Limit of the next request: the page size, cut to the items still wanted."""
    if remaining is None:
        return page_size
    return remaining if page_size is None else min(page_size, remaining)
