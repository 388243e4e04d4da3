"""The report's data model, computed from the compiled model (no hand-kept metadata)."""

from __future__ import annotations

import enum
import re
import typing
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from singletable._unique import GUARD_TYPE, OWNER, owner_text
from singletable.errors import SingletableError
from singletable.keys import KeyTemplate, base_type
from singletable.patterns import BoundPattern, Collection, declared_patterns
from singletable.report._examples import entity_values, example_item, example_value, type_name
from singletable.report._examples import text as _text
from singletable.report._samples import SampleItem, guard_label, model_items
from singletable.report._size import size_problem
from singletable.report._views import IndexView, MatrixRow, anchor, index_views, matrix

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
    "example_value",
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
    entities: tuple[str, ...] = ()
    """The entities it concerns (the report links to them)."""
    indexes: tuple[str | None, ...] = ()
    """The indexes it concerns (None: the table's own keys)."""
    links: tuple[tuple[str, str], ...] = ()
    """(label, anchor) of the report's sections on what it concerns."""


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
    views: tuple[IndexView, ...] = ()
    """The item-collection view of the table, then of each index."""
    matrix: tuple[MatrixRow, ...] = ()
    """The access-pattern matrix (pattern x index)."""
    sampled: bool = False
    """Whether the views show items read from data (else synthesized from the model)."""


@dataclass(frozen=True)
class Report:
    """The access-pattern report of one or more tables."""

    tables: tuple[TableReport, ...] = field(default_factory=tuple)



def _entity_report(entity: type[Entity]) -> EntityReport:
    model = entity.__singletable__
    values = entity_values(entity)
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
    item, problem = example_item(entity, values)
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
                    indexes=(name,),
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
                    entities=(entity.__name__,),
                )
            )
        for index, (pk, sk) in model.keys.items():
            where = "the table" if index is None else f"index {index}"
            start = len(out)
            _partition_warnings(out, entity.__name__, where, pk, annotations)
            if sk is not None and not sk.numeric:
                _sort_warnings(out, entity.__name__, where, sk, annotations)
            out[start:] = [
                replace(w, entities=(entity.__name__,), indexes=(index,)) for w in out[start:]
            ]
        if (problem := size_problem(entity)) is not None:
            out.append(Warning_("item size", entity.__name__, problem, (entity.__name__,)))
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
                (entity.__name__, other.__name__),
                (index,),
            )
        )

def _partitions(items: Sequence[SampleItem], table: Table) -> tuple[Partition, ...]:
    groups: dict[str, list[CollectionRow]] = {}
    pk, sk = table.primary.pk, table.primary.sk
    keys = table.key_attributes | {table.type_attribute}
    for sample in items:
        item = sample.item
        if pk not in item:
            continue
        attributes = {k: _text(v) for k, v in item.items() if k not in keys}
        row = CollectionRow(
            sample.entity, _text(item[sk]) if sk is not None and sk in item else "", attributes
        )
        groups.setdefault(_text(item[pk]), []).append(row)
    return tuple(
        Partition(key, tuple(sorted(rows, key=lambda r: r.sk)))
        for key, rows in sorted(groups.items())
    )


def build_table(
    table: Table,
    collections: Sequence[Collection] = (),
    sample: Sequence[SampleItem] | None = None,
) -> TableReport:
    """The report of one table (``collections``: the collections over its entities;
    ``sample``: items read from data, drawn instead of the synthesized ones)."""
    entities = list(table.entities.values())
    entity_reports = [_entity_report(e) for e in entities]
    patterns: list[PatternReport] = []
    entity_patterns: dict[str, int] = {}
    for entity in entities:
        for bound in declared_patterns(entity):
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
    warnings = _warnings(table, patterns, entity_patterns) + _example_warnings(entity_reports)
    items = model_items(table) if sample is None else list(sample)
    examples = [SampleItem(e.name, e.example_item) for e in entity_reports]
    if sample is None:  # each unique value's guard item, in a partition of its own
        guards = [
            SampleItem(guard_label(e.name, g.field), g.example_item)
            for e in entity_reports
            for g in e.guards
        ]
        examples += guards
        items += guards
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
        _partitions(examples if sample is None else items, table),
        tuple(_linked(table, w) for w in warnings),
        index_views(table, items, patterns),
        matrix(table, patterns),
        sample is not None,
    )


def _linked(table: Table, warning: Warning_) -> Warning_:
    links = [(e, anchor(table.name, "entity", e)) for e in warning.entities]
    links += [
        ("table" if i is None else i, anchor(table.name, "view", i)) for i in warning.indexes
    ]
    return replace(warning, links=tuple(links))


def _example_warnings(entities: Sequence[EntityReport]) -> list[Warning_]:
    """One warning per entity whose example item had to be cut down to its keys."""
    return [
        Warning_(
            "example values",
            entity.name,
            f"its validators reject the example values the report synthesizes from the "
            f"field types ({entity.example_problem}), so its example item shows the keys "
            "only; the item's other attributes are not shown",
            (entity.name,),
        )
        for entity in entities
        if entity.example_problem is not None
    ]


def build_report(
    tables: Sequence[Table],
    collections: Sequence[Collection] = (),
    samples: Mapping[str, Sequence[SampleItem]] | None = None,
) -> Report:
    """The access-pattern report of ``tables``, computed from their compiled model.

    Args:
        tables: the tables to describe (with the entities registered on them).
        collections: collections to list as access patterns (they live outside entities).
        samples: items read from data, by table name (see :func:`sample_file` and
            :func:`sample_table`): the item collections show them instead of items
            synthesized from the model.
    """
    samples = samples or {}
    return Report(tuple(build_table(t, collections, samples.get(t.name)) for t in tables))
