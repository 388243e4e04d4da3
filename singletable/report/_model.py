"""The report's data model, computed from the compiled model (no hand-kept metadata)."""

from __future__ import annotations

import enum
import json
import re
import types
import typing
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from singletable._unique import GUARD_TYPE, OWNER, owner_text
from singletable.errors import SingletableError
from singletable.keys import KeyTemplate, base_type
from singletable.patterns import BoundPattern, Collection, Query

if TYPE_CHECKING:
    from singletable.entity import Entity
    from singletable.table import IndexSpec, Table

__all__ = [
    "EntityReport",
    "FieldReport",
    "GuardReport",
    "IndexReport",
    "KeyReport",
    "PatternReport",
    "Report",
    "TableReport",
    "Warning_",
    "build_report",
]

_PAGE_RCU = "up to 128 RCU per 1 MB page (eventually consistent; 256 strongly consistent)"
_GSI_RCU = "up to 128 RCU per 1 MB page (global indexes are eventually consistent only)"


@dataclass(frozen=True)
class IndexReport:
    """The table's keys (``name`` None) or an index's."""

    name: str | None
    kind: str  # "table", "global", "local"
    pk: str
    pk_type: str
    sk: str | None
    sk_type: str | None
    projection: str
    used_by: tuple[str, ...]


@dataclass(frozen=True)
class FieldReport:
    """One field of an entity."""

    name: str
    attribute: str
    type: str
    role: str  # "key", "version", "ttl", "created_at", "updated_at" or ""


@dataclass(frozen=True)
class KeyReport:
    """An entity's key templates on one index and the example item's keys there."""

    index: str | None
    pk_attribute: str
    pk_template: str
    pk_example: str
    sk_attribute: str | None
    sk_template: str | None
    sk_example: str | None


@dataclass(frozen=True)
class GuardReport:
    """The guard items of one unique field: one item per value, in a partition of its
    own, written in the same transaction as the entity (see ``singletable._unique``)."""

    field: str
    pk_attribute: str
    template: str
    """The guard's key template (partition and sort key alike)."""
    example_key: str
    example_item: dict[str, Any]
    """The example entity's guard item in wire shape."""


@dataclass(frozen=True)
class EntityReport:
    """One entity: fields, keys per index, guards of its unique fields, and an example item."""

    name: str
    type_name: str
    fields: tuple[FieldReport, ...]
    keys: tuple[KeyReport, ...]
    example_item: dict[str, Any]
    """The example item in wire shape (AttributeValues)."""
    example_problem: str | None = None
    """Why the example item holds only the keys: the entity's own validators rejected
    the synthesized values (their message), or None."""
    guards: tuple[GuardReport, ...] = ()
    """One per field declared ``Unique``."""


@dataclass(frozen=True)
class PatternReport:
    """One access pattern (an entity's Query or a Collection)."""

    name: str
    target: str  # the entity, or the entities of a collection
    index: str | None
    key_condition: str
    sort: str
    order: str  # "ascending" / "descending"
    example_values: dict[str, str]
    request: dict[str, Any]
    operation: str
    read_cost: str


@dataclass(frozen=True)
class Warning_:
    """A design warning: what it is about, and why it matters."""

    kind: str
    subject: str
    reason: str


@dataclass(frozen=True)
class CollectionRow:
    """One example item in the item-collection view."""

    entity: str
    sk: str
    attributes: dict[str, str]


@dataclass(frozen=True)
class Partition:
    """The example items sharing one partition key value."""

    pk: str
    items: tuple[CollectionRow, ...]


@dataclass(frozen=True)
class TableReport:
    """One table: keys, indexes, settings, entities, patterns, warnings."""

    name: str
    pk: str
    sk: str | None
    type_attribute: str
    ttl_attribute: str | None
    stream: str | None
    indexes: tuple[IndexReport, ...]
    entities: tuple[EntityReport, ...]
    patterns: tuple[PatternReport, ...]
    partitions: tuple[Partition, ...]
    warnings: tuple[Warning_, ...]


@dataclass(frozen=True)
class Report:
    """The access-pattern report of one or more tables."""

    tables: tuple[TableReport, ...] = field(default_factory=tuple)


# ------------------------------------------------------------------------- examples


_EXAMPLE_TIME = datetime(2024, 5, 17, 9, 30, tzinfo=UTC)


def example_value(name: str, annotation: Any, second: bool = False) -> Any:
    """A deterministic example value of a field's type (``second``: a larger one)."""
    base = base_type(annotation)
    origin = typing.get_origin(base)
    if origin is typing.Literal:
        choices = typing.get_args(base)
        return choices[min(1, len(choices) - 1)] if second else choices[0]
    if isinstance(base, type) and issubclass(base, enum.Enum):
        members = list(base)
        return members[min(1, len(members) - 1)] if second else members[0]
    if base is bool:
        return not second
    if isinstance(base, type) and issubclass(base, int):
        return 42 if second else 7
    if base is float:
        return 2.5 if second else 1.5
    if base is Decimal:
        return Decimal("99.50") if second else Decimal("19.99")
    if isinstance(base, type) and issubclass(base, datetime):
        return _EXAMPLE_TIME + timedelta(days=7) if second else _EXAMPLE_TIME
    if isinstance(base, type) and issubclass(base, date):
        return date(2024, 5, 24) if second else date(2024, 5, 17)
    if base is uuid.UUID:
        return uuid.UUID(int=2 if second else 1)
    if base is bytes:
        return b"\x00\x01"
    if origin in (list, set, frozenset, tuple) or base in (list, set, frozenset, tuple):
        return [] if origin in (list, tuple) or base in (list, tuple) else set()
    if origin is dict or base is dict:
        return {}
    stem = name.removesuffix("_id").replace("_", "-")
    return f"{stem}-{'2' if second else '1'}"


def type_name(annotation: Any) -> str:
    """A short, readable name of a field's type."""
    origin = typing.get_origin(annotation)
    if origin is typing.Annotated:
        return type_name(typing.get_args(annotation)[0])
    if origin in (typing.Union, types.UnionType):
        args = typing.get_args(annotation)
        return " | ".join(type_name(a) for a in args)
    if origin is typing.Literal:
        return "Literal[" + ", ".join(repr(a) for a in typing.get_args(annotation)) + "]"
    if origin is not None:
        inner = ", ".join(type_name(a) for a in typing.get_args(annotation))
        return f"{getattr(origin, '__name__', str(origin))}[{inner}]"
    if annotation is type(None):
        return "None"
    return getattr(annotation, "__name__", str(annotation).replace("typing.", ""))


def _text(value: dict[str, Any]) -> str:
    """An AttributeValue as a reader writes it: scalars bare, the rest as JSON."""
    ((kind, raw),) = value.items()
    return str(raw) if kind in ("S", "N", "B") else _json_text(value)


def _json_text(value: dict[str, Any]) -> str:
    """JSON text of an AttributeValue's plain value (numbers exactly as stored)."""
    ((kind, raw),) = value.items()
    if kind in ("S", "B"):
        return json.dumps(raw, ensure_ascii=False)
    if kind == "N":
        return str(raw)
    if kind == "BOOL":
        return "true" if raw else "false"
    if kind == "NULL":
        return "null"
    if kind == "L":
        return "[" + ", ".join(_json_text(v) for v in raw) + "]"
    if kind == "M":
        fields = (f"{json.dumps(k, ensure_ascii=False)}: {_json_text(v)}" for k, v in raw.items())
        return "{" + ", ".join(fields) + "}"
    element = kind[0]  # SS, NS, BS: a list of S, N or B
    return "[" + ", ".join(_json_text({element: v}) for v in raw) + "]"


# ------------------------------------------------------------------------- building


def _entity_values(entity: type[Entity]) -> dict[str, Any]:
    return {
        name: example_value(name, info.annotation) for name, info in entity.model_fields.items()
    }


def _example_item(
    entity: type[Entity], values: dict[str, Any]
) -> tuple[dict[str, Any], str | None]:
    """The example item, and None; or its keys alone, and why the whole item could not be made.

    The synthesized values follow the field types, not the entity's own constraints
    and validators; when those reject them, the example keeps the keys only and the
    report says so (see :func:`_example_warnings`), never silently.
    """
    from singletable.entity import key_item

    try:
        return entity.model_validate(values).to_item(), None
    except Exception as error:  # constraints the synthesized values miss: keys only
        model = entity.__singletable__
        item = key_item(model, values, entity.__name__, plain=True)
        item[model.table.type_attribute] = {"S": model.type_name}
        return item, _problem(error)


def _problem(error: Exception) -> str:
    """A one-paragraph account of a validation failure (pydantic's, or any exception)."""
    errors = getattr(error, "errors", None)
    if callable(errors):
        try:
            parts = [
                f"{'.'.join(str(p) for p in e.get('loc', ())) or 'the model'}: {e.get('msg')}"
                for e in errors()
            ]
        except Exception:  # not pydantic's errors() after all
            parts = []
        if parts:
            return "; ".join(parts)
    return f"{type(error).__name__}: {error}".strip()


def _entity_report(entity: type[Entity]) -> EntityReport:
    model = entity.__singletable__
    values = _entity_values(entity)
    roles = {
        model.version: "version",
        model.ttl: "ttl",
        model.created_at: "created_at",
        model.updated_at: "updated_at",
    }
    fields = tuple(
        FieldReport(
            name,
            model.attributes.get(name, name),
            type_name(info.annotation),
            roles.get(name)
            or ("key" if name in model.key_fields else "")
            or ("unique" if name in model.unique else ""),
        )
        for name, info in entity.model_fields.items()
    )
    item, problem = _example_item(entity, values)
    keys = []
    for index, (pk, sk) in model.keys.items():
        spec = model.table.spec(index)
        pk_attr = model.table.primary.pk if spec.local else spec.pk
        sk_attr = spec.sk if sk is not None else None
        keys.append(
            KeyReport(
                index,
                pk_attr,
                pk.source,
                _text(item[pk_attr]) if pk_attr in item else "(not written)",
                sk_attr,
                sk.source if sk is not None else None,
                (_text(item[sk_attr]) if sk_attr in item else "(not written)")
                if sk_attr is not None
                else None,
            )
        )
    guards = _guard_reports(entity, values, item)
    return EntityReport(
        entity.__name__, model.type_name, fields, tuple(keys), item, problem, guards
    )


def _guard_reports(
    entity: type[Entity], values: dict[str, Any], item: dict[str, Any]
) -> tuple[GuardReport, ...]:
    model = entity.__singletable__
    primary = model.table.primary
    owner = {a: item[a] for a in (primary.pk, primary.sk) if a is not None and a in item}
    out = []
    for name, template in model.unique.items():
        try:
            text = template.render({name: values[name]}, entity.__name__)
        except SingletableError:
            text = template.source
        guard: dict[str, Any] = {primary.pk: {"S": text}}
        if primary.sk is not None:
            guard[primary.sk] = {"S": text}
        guard[model.table.type_attribute] = {"S": GUARD_TYPE}
        guard[OWNER] = {"S": owner_text(owner)}
        out.append(GuardReport(name, primary.pk, template.source, text, guard))
    return tuple(out)


def _pattern_values(bound: BoundPattern[Any]) -> dict[str, Any]:
    annotations = {n: i.annotation for n, i in bound.entity.model_fields.items()}
    values = {f: example_value(f, annotations[f]) for f in bound.pk_template.fields}
    sk = bound.sk_template
    op = bound.pattern.sort
    if sk is None or not sk.fields or op == "begins_with":
        return values
    if op == "eq":
        values.update({f: example_value(f, annotations[f]) for f in sk.fields})
        return values
    first = sk.fields[0]
    if op == "between":
        values[first] = (
            example_value(first, annotations[first]),
            example_value(first, annotations[first], second=True),
        )
    else:
        values[first] = example_value(first, annotations[first])
    return values


def _shown(value: Any) -> str:
    if isinstance(value, tuple):
        return "(" + ", ".join(_shown(v) for v in value) + ")"
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, enum.Enum):
        return str(value.value)
    return str(value)


def _read_cost(spec: IndexSpec) -> str:
    return _GSI_RCU if spec.name is not None and not spec.local else _PAGE_RCU


def _condition_text(request: dict[str, Any]) -> str:
    text = str(request.get("KeyConditionExpression", ""))
    for name, attribute in request.get("ExpressionAttributeNames", {}).items():
        text = text.replace(name, attribute)
    return text


def _pattern_report(bound: BoundPattern[Any]) -> PatternReport:
    from singletable.db import DB

    values = _pattern_values(bound)
    operation, request = DB().explain.query(bound, **values)
    sk = bound.sk_template
    return PatternReport(
        bound.name,
        bound.entity.__name__,
        bound.spec.name,
        _condition_text(request),
        bound.pattern.sort if sk is not None else "(none)",
        "descending" if bound.pattern.reverse else "ascending",
        {k: _shown(v) for k, v in values.items()},
        request,
        operation,
        _read_cost(bound.spec),
    )


def _collection_report(collection: Collection) -> PatternReport:
    from singletable.db import DB

    entity = collection.entities[0]
    annotations = {n: i.annotation for n, i in entity.model_fields.items()}
    values = {f: example_value(f, annotations[f]) for f in collection.pk_template.fields}
    operation, request = DB().explain.collection(collection, **values)
    return PatternReport(
        collection.name,
        ", ".join(e.__name__ for e in collection.entities),
        collection.spec.name,
        _condition_text(request),
        "(whole partition)",
        "ascending",
        {k: _shown(v) for k, v in values.items()},
        request,
        operation,
        _read_cost(collection.spec),
    )


def _bound_patterns(entity: type[Entity]) -> list[BoundPattern[Any]]:
    found = []
    for klass in reversed(entity.__mro__):
        for value in vars(klass).values():
            if isinstance(value, Query):
                bound = value.bind(entity)
                if bound not in found:
                    found.append(bound)
    return found


def _projection(projection: Any) -> str:
    if isinstance(projection, str):
        return projection
    return "INCLUDE " + ", ".join(projection)


def _warnings(
    table: Table,
    patterns: list[PatternReport],
    entity_patterns: dict[str, int],
) -> list[Warning_]:
    out: list[Warning_] = []
    used = {p.index for p in patterns}
    for name in table.indexes:
        if name not in used:
            out.append(
                Warning_(
                    "unused index",
                    f"index {name}",
                    "no access pattern queries it; it costs a write per item it holds "
                    "and storage, for no read (add a Query(index=...) or drop it)",
                )
            )
    entities = list(table.entities.values())
    for entity in entities:
        model = entity.__singletable__
        annotations = {n: i.annotation for n, i in entity.model_fields.items()}
        if entity_patterns.get(entity.__name__, 0) == 0:
            out.append(
                Warning_(
                    "needs a scan",
                    entity.__name__,
                    "no access pattern reads it: listing its items can only be done with "
                    "a Scan of the whole table (declare a Query, or a Collection with it)",
                )
            )
        for index, (pk, sk) in model.keys.items():
            where = "the table" if index is None else f"index {index}"
            _partition_warnings(out, entity.__name__, where, pk, annotations)
            if sk is not None and not sk.numeric:
                _sort_warnings(out, entity.__name__, where, sk, annotations)
        _size_warnings(out, entity)
    for i, entity in enumerate(entities):
        for other in entities[i + 1 :]:
            _overlap_warnings(out, entity, other)
    return out


def _partition_warnings(
    out: list[Warning_], owner: str, where: str, pk: KeyTemplate, annotations: dict[str, Any]
) -> None:
    subject = f"{owner} on {where}: partition key {pk.source!r}"
    if pk.is_constant:
        out.append(
            Warning_(
                "hot partition",
                subject,
                "the template has no fields, so every item shares one partition, "
                "limited to 1,000 writes and 3,000 reads per second; shard writes with a "
                "suffix such as '#{shard}' (shard = hash(id) % N) and query the N shards",
            )
        )
        return
    low = []
    for name in pk.fields:
        base = base_type(annotations[name])
        is_enum = isinstance(base, type) and issubclass(base, enum.Enum)
        if base is bool or is_enum or typing.get_origin(base) is typing.Literal:
            low.append(name)
    if len(low) == len(pk.fields):
        out.append(
            Warning_(
                "hot partition",
                subject,
                f"it is made only of {', '.join(low)}, which takes a few values: few, "
                "large partitions that take every write; add a shard suffix "
                "('#{shard}', shard = hash(id) % N) and query the N shards",
            )
        )


# Field names that suggest a date or time (created_at, posted_on, ship_date, ts).
_DATE_NAME = re.compile(r"(^|_)(at|on|date|day|time|timestamp|ts|when)$")


def _sort_warnings(
    out: list[Warning_], owner: str, where: str, sk: KeyTemplate, annotations: dict[str, Any]
) -> None:
    for slot in sk.slots:
        base = base_type(annotations[slot.field])
        if base is bool or (isinstance(base, type) and issubclass(base, enum.Enum)):
            continue
        if isinstance(base, type) and issubclass(base, int) and slot.width is None:
            reason = (
                f"{{{slot.field}}} is an int without padding: keys sort as text, so 10 "
                f"comes before 9 (write {{{slot.field}:010}})"
            )
        elif base is Decimal or base is float:
            reason = (
                f"{{{slot.field}}} is a {base.__name__}: its text does not sort as its value "
                "(store a scaled, zero-padded int instead)"
            )
        elif base is str and _DATE_NAME.search(slot.field):
            reason = (
                f"{{{slot.field}}} looks like a date or time but is a str: keys sort as text, "
                "so they sort in time order only if every value is ISO 8601 in one zone and "
                "precision (declare it datetime or date: the key then holds fixed-width UTC "
                "ISO 8601)"
            )
        else:
            continue
        out.append(Warning_("sort order", f"{owner} on {where}: sort key {sk.source!r}", reason))


def _overlap_warnings(out: list[Warning_], entity: type[Entity], other: type[Entity]) -> None:
    mine, theirs = entity.__singletable__, other.__singletable__
    for index, (pk, sk) in mine.keys.items():
        other_keys = theirs.keys.get(index)
        if other_keys is None or sk is None or other_keys[1] is None:
            continue
        other_pk, other_sk = other_keys
        if other_sk is None:
            continue
        if pk.shape() != other_pk.shape() and not (pk.is_constant and other_pk.is_constant):
            continue
        a, b = sk.static_prefix, other_sk.static_prefix
        if not (a.startswith(b) or b.startswith(a)):
            continue
        where = "the table" if index is None else f"index {index}"
        shorter, longer = (entity, other) if len(a) <= len(b) else (other, entity)
        prefix = min(a, b, key=len)
        out.append(
            Warning_(
                "overlapping keys",
                f"{entity.__name__} and {other.__name__} on {where}",
                f"their sort keys start alike ({sk.source!r}, {other_sk.source!r}): "
                f"begins_with({prefix!r}) for {shorter.__name__} also reads "
                f"{longer.__name__} items in a shared partition (give each a distinct "
                "literal start)",
            )
        )


# Item size: DynamoDB refuses an item over 400 KB, counted as the UTF-8 length of
# each attribute name plus its value's size. The sizes below are upper bounds, per
# https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/CapacityUnitCalculations.html
_ITEM_LIMIT = 400 * 1024
_NUMBER_SIZE = 21  # up to 38 significant digits: 1 byte per 2 digits, plus 1
_NESTED_OVERHEAD = 3  # a list or map value costs 3 bytes plus 1 per element
_KEY_LIMITS = (2048, 1024)  # partition and sort key values


@dataclass
class _Bound:
    """An upper bound on a value's size, and the parts that have none.

    A ``str`` without ``max_length`` counts 0 and is not listed: names, ids and
    short text are the norm, and flagging every one would bury the warnings that
    matter (collections and blobs that grow without bound).
    """

    size: int = 0
    unbounded: list[str] = field(default_factory=list)


def _max_length(metadata: Sequence[Any]) -> int | None:
    for item in metadata:
        limit = getattr(item, "max_length", None)
        if isinstance(limit, int):
            return limit
        nested = getattr(item, "metadata", None)  # a FieldInfo inside Annotated
        if isinstance(nested, list) and (found := _max_length(nested)) is not None:
            return found
    return None


def _value_bound(path: str, annotation: Any, metadata: Sequence[Any], depth: int = 0) -> _Bound:
    """The largest size a value of ``annotation`` can take (``metadata``: its constraints)."""
    from pydantic import BaseModel

    if typing.get_origin(annotation) is typing.Annotated:
        inner, *extra = typing.get_args(annotation)
        return _value_bound(path, inner, [*metadata, *extra], depth)
    origin = typing.get_origin(annotation)
    args = typing.get_args(annotation)
    limit = _max_length(metadata)
    if origin in (typing.Union, types.UnionType):
        bounds = [_value_bound(path, a, metadata, depth) for a in args if a is not type(None)]
        return _Bound(
            max((b.size for b in bounds), default=1),
            [name for b in bounds for name in b.unbounded],
        )
    if origin is typing.Literal:
        return _Bound(max(len(str(a).encode()) for a in args) if args else 1)
    if annotation is bool or annotation is type(None):
        return _Bound(1)
    if isinstance(annotation, type) and issubclass(annotation, enum.Enum):
        return _Bound(max((len(str(m.value).encode()) for m in annotation), default=1))
    if annotation in (int, float, Decimal):
        return _Bound(_NUMBER_SIZE)
    if isinstance(annotation, type) and issubclass(annotation, datetime):
        return _Bound(27)  # 2024-05-17T09:30:00.000000Z
    if isinstance(annotation, type) and issubclass(annotation, date):
        return _Bound(10)
    if annotation is uuid.UUID:
        return _Bound(36)
    if annotation is str:  # max_length counts characters: up to 4 UTF-8 bytes each
        return _Bound(4 * limit if limit is not None else 0)
    if annotation is bytes:
        return _Bound(limit) if limit is not None else _Bound(0, [path])
    if isinstance(annotation, type) and issubclass(annotation, BaseModel) and depth < 8:
        total = _Bound(_NESTED_OVERHEAD)
        for name, info in annotation.model_fields.items():
            inner = _value_bound(f"{path}.{name}", info.annotation, info.metadata, depth + 1)
            total.size += len(name.encode()) + inner.size + 1
            total.unbounded += inner.unbounded
        return total
    if origin is tuple and args and args[-1] is not Ellipsis:
        parts = [_value_bound(f"{path}[]", a, (), depth + 1) for a in args]
        return _Bound(
            _NESTED_OVERHEAD + sum(p.size + 1 for p in parts),
            [name for p in parts for name in p.unbounded],
        )
    if origin in (list, set, frozenset, tuple, dict) or annotation in (list, set, dict, tuple):
        if origin is dict and len(args) == 2:
            key = _value_bound(f"{path}{{}}", args[0], (), depth + 1)
            value = _value_bound(f"{path}{{}}", args[1], (), depth + 1)
            element = _Bound(key.size + value.size, key.unbounded + value.unbounded)
        elif args:
            element = _value_bound(f"{path}[]", args[0], (), depth + 1)
        else:
            element = _Bound(0, [f"{path}[]"])
        if limit is None:
            return _Bound(0, [path])
        return _Bound(_NESTED_OVERHEAD + limit * (element.size + 1), element.unbounded)
    return _Bound(0, [path])  # Any, or a type the codec stores as it finds it


def _size_warnings(out: list[Warning_], entity: type[Entity]) -> None:
    """Warn when an item of ``entity`` can pass DynamoDB's 400 KB item limit."""
    model = entity.__singletable__
    total = _Bound(len(model.table.type_attribute) + len(model.type_name.encode()))
    sizes: dict[str, int] = {}
    for name, info in entity.model_fields.items():
        bound = _value_bound(name, info.annotation, info.metadata)
        sizes[name] = bound.size
        total.size += len(model.attributes.get(name, name).encode()) + bound.size
        total.unbounded += bound.unbounded
    for index, templates in model.keys.items():
        spec = model.table.spec(index)
        names = (model.table.primary.pk if spec.local else spec.pk, spec.sk)
        for template, attribute, limit in zip(templates, names, _KEY_LIMITS, strict=True):
            if template is None or attribute is None:
                continue
            literal = sum(len(p.encode()) for p in template.parts if isinstance(p, str))
            value = literal + sum(sizes.get(f, limit) or limit for f in template.fields)
            total.size += len(attribute.encode()) + min(limit, value)
    if total.unbounded:
        fields = ", ".join(total.unbounded)
        out.append(
            Warning_(
                "item size",
                entity.__name__,
                f"{fields} can grow without limit, and DynamoDB refuses items over 400 KB; "
                "bound it (Field(max_length=...)) or store the elements as items of their "
                "own in the entity's partition",
            )
        )
    elif total.size > _ITEM_LIMIT:
        out.append(
            Warning_(
                "item size",
                entity.__name__,
                f"its declared limits allow items of up to {total.size:,} bytes, over "
                "DynamoDB's 400 KB (409,600 bytes) item limit; lower the max_length of its "
                "largest fields or move them to items of their own (or to S3)",
            )
        )


def _partitions(entities: Sequence[EntityReport], table: Table) -> tuple[Partition, ...]:
    groups: dict[str, list[CollectionRow]] = {}
    pk, sk = table.primary.pk, table.primary.sk
    keys = table.key_attributes | {table.type_attribute}
    for entity in entities:
        item = entity.example_item
        if pk not in item:
            continue
        attributes = {k: _text(v) for k, v in item.items() if k not in keys}
        row = CollectionRow(
            entity.name, _text(item[sk]) if sk is not None and sk in item else "", attributes
        )
        groups.setdefault(_text(item[pk]), []).append(row)
        for guard in entity.guards:  # each unique value's guard, in its own partition
            shown = {k: _text(v) for k, v in guard.example_item.items() if k not in keys}
            text = guard.example_key
            groups.setdefault(text, []).append(
                CollectionRow(f"{entity.name}.{guard.field} guard", text if sk else "", shown)
            )
    return tuple(
        Partition(key, tuple(sorted(rows, key=lambda r: r.sk)))
        for key, rows in sorted(groups.items())
    )


def build_table(table: Table, collections: Sequence[Collection] = ()) -> TableReport:
    """The report of one table (``collections``: the collections over its entities)."""
    entities = list(table.entities.values())
    entity_reports = [_entity_report(e) for e in entities]
    patterns: list[PatternReport] = []
    entity_patterns: dict[str, int] = {}
    for entity in entities:
        for bound in _bound_patterns(entity):
            patterns.append(_pattern_report(bound))
            entity_patterns[entity.__name__] = entity_patterns.get(entity.__name__, 0) + 1
    for collection in collections:
        if collection.table is not table:
            continue
        patterns.append(_collection_report(collection))
        for entity in collection.entities:
            entity_patterns[entity.__name__] = entity_patterns.get(entity.__name__, 0) + 1
    specs = [table.primary, *table.indexes.values()]
    indexes = tuple(
        IndexReport(
            spec.name,
            "table" if spec.name is None else ("local" if spec.local else "global"),
            spec.pk,
            spec.pk_type,
            spec.sk,
            spec.sk_type if spec.sk is not None else None,
            _projection(spec.projection),
            tuple(p.name for p in patterns if p.index == spec.name),
        )
        for spec in specs
    )
    return TableReport(
        table.name,
        table.primary.pk,
        table.primary.sk,
        table.type_attribute,
        table.ttl_attribute,
        table.stream,
        indexes,
        tuple(entity_reports),
        tuple(patterns),
        _partitions(entity_reports, table),
        tuple(_warnings(table, patterns, entity_patterns) + _example_warnings(entity_reports)),
    )


def _example_warnings(entities: Sequence[EntityReport]) -> list[Warning_]:
    """One warning per entity whose example item had to be cut down to its keys."""
    return [
        Warning_(
            "example values",
            entity.name,
            f"its validators reject the example values the report synthesizes from the "
            f"field types ({entity.example_problem}), so its example item shows the keys "
            "only; the item's other attributes are not shown",
        )
        for entity in entities
        if entity.example_problem is not None
    ]


def build_report(tables: Sequence[Table], collections: Sequence[Collection] = ()) -> Report:
    """The access-pattern report of ``tables``, computed from their compiled model.

    Args:
        tables: the tables to describe (with the entities registered on them).
        collections: collections to list as access patterns (they live outside entities).
    """
    return Report(tuple(build_table(t, collections) for t in tables))
