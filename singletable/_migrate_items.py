"""Rewriting one stored item into the current model: what changes, and the conditional write.

The rewrite of an item (:func:`rewrite_of`) is what the new model makes of it:
the entity is found by the type attribute (or by key shape, with the old model's
templates, for items without one), read with the new entity (which applies the
upgrades of its schema version) and rendered again (new key templates, new index
membership, the current schema version). Attributes that are no field of the
entity, old or new, nor a key or the type or schema attribute (written by other
code) are kept as they are.

The write (:func:`migrate_item`, a sans-I/O flow) never overwrites a concurrent
change: it is conditioned on every attribute of the item being as read.

* Same table key: an UpdateItem that SETs the attributes that change and REMOVEs
  those that go, so an attribute another writer adds meanwhile survives too.
* New table key (a table key template changed): a TransactWriteItems that puts
  the new item, if its key is free, and deletes the old one, if unchanged: the
  item is never lost nor doubled.

If the condition fails, the item is read again (strongly consistent) and its
rewrite computed afresh, up to :data:`MAX_ATTEMPTS` times; an item deleted
meanwhile needs nothing more.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from singletable._flows import SLEEP, Flow
from singletable._identify import key_owner, type_name_of
from singletable._values import values_equal
from singletable.codec import from_attribute
from singletable.errors import (
    ConditionFailedError,
    InvalidValueError,
    ItemValidationError,
    TransactionCanceledError,
    TransactionConflictError,
)

if TYPE_CHECKING:
    from singletable.entity import Entity
    from singletable.table import Table

__all__ = [
    "MAX_ATTEMPTS",
    "Models",
    "Outcome",
    "Rewrite",
    "count_entities",
    "migrate_item",
    "rewrite_of",
]

MAX_ATTEMPTS = 5
Item = dict[str, Any]


@dataclass(frozen=True)
class Models:
    """The old model of a table (None: not known) and the new one."""

    old: Table | None
    new: Table

    def identify(self, item: Mapping[str, Any]) -> tuple[type[Entity] | None, str]:
        """The new model's entity of ``item``, or None and why not.

        The rule of :mod:`singletable._identify`, across two models: the type name is
        read from the new model's type attribute, else the old one's (renamed); an item
        without one is matched by the old model's key templates (its items were written
        with them), and the entity is then the new model's of that name.
        """
        name = type_name_of(item, self.new.type_attribute)
        if name is None and self.old is not None:
            name = type_name_of(item, self.old.type_attribute)
        if name is None:
            source = self.old if self.old is not None else self.new
            owner, reason = key_owner(source.entities.values(), item)
            if owner is None:
                return None, reason
            name = owner.__singletable__.type_name
        entity = self.new.entities.get(name)
        if entity is None:
            return None, f"entity type {name!r} is not in the new model"
        return entity, ""

    def known_attributes(self, entity: type[Entity]) -> set[str]:
        """Attributes the models own on an item of ``entity`` (everything else is kept)."""
        known = set(self.new.key_attributes) | {
            self.new.type_attribute,
            self.new.schema_attribute,
        }
        model = entity.__singletable__
        known.update(model.attributes.values())
        for step in model.upgrades.values():
            known.update(step.rename)
        if self.old is not None:
            known.update(self.old.key_attributes)
            known.update((self.old.type_attribute, self.old.schema_attribute))
            before = self.old.entities.get(model.type_name)
            if before is not None:
                known.update(before.__singletable__.attributes.values())
        return known


@dataclass(frozen=True)
class Rewrite:
    """What the new model makes of one item."""

    kind: str
    """``unchanged``, ``rewrite`` (same table key), ``move`` (new table key),
    ``skipped`` (no entity of the new model) or ``failed`` (it does not validate)."""
    old: Item
    new: Item | None = None
    entity: type[Entity] | None = None
    reason: str = ""


@dataclass(frozen=True)
class Outcome:
    """What migrating one item did."""

    kind: str
    """``unchanged``, ``rewritten``, ``moved``, ``skipped``, ``failed``, ``gone``
    (deleted meanwhile), ``conflict`` (changed on every attempt), or with a dry
    run ``rewritten``/``moved`` for what would be written."""
    key: Item
    attempts: int = 1
    reason: str = ""
    entity: str = ""


def rewrite_of(models: Models, item: Mapping[str, Any]) -> Rewrite:
    """The rewrite of ``item`` under the new model (see the module docstring)."""
    old = dict(item)
    entity, reason = models.identify(old)
    if entity is None:
        return Rewrite("skipped", old, reason=reason)
    try:
        new = entity.from_item(old).to_item()
    except (ItemValidationError, InvalidValueError) as error:
        return Rewrite("failed", old, entity=entity, reason=str(error))
    known = models.known_attributes(entity)
    for name, value in old.items():
        if name not in known and name not in new:
            new[name] = value  # written by other code: kept
    if _same(old, new):
        return Rewrite("unchanged", old, new, entity)
    spec = models.new.primary
    moved = any(
        not _equal(old.get(name), new.get(name)) for name in (spec.pk, spec.sk) if name is not None
    )
    return Rewrite("move" if moved else "rewrite", old, new, entity)


def _equal(a: Any, b: Any) -> bool:
    if a is None or b is None:
        return a is b
    return values_equal(a, b)


def _same(old: Item, new: Item) -> bool:
    return old.keys() == new.keys() and all(values_equal(v, new[k]) for k, v in old.items())


def _key(table: Table, item: Mapping[str, Any]) -> Item:
    spec = table.primary
    return {name: item[name] for name in (spec.pk, spec.sk) if name is not None and name in item}


class _Placeholders:
    def __init__(self) -> None:
        self.names: dict[str, str] = {}
        self.values: dict[str, Any] = {}

    def name(self, attribute: str) -> str:
        for placeholder, known in self.names.items():
            if known == attribute:
                return placeholder
        placeholder = f"#m{len(self.names)}"
        self.names[placeholder] = attribute
        return placeholder

    def value(self, value: Any) -> str:
        placeholder = f":m{len(self.values)}"
        self.values[placeholder] = value
        return placeholder

    def parameters(self) -> dict[str, Any]:
        out: dict[str, Any] = {"ExpressionAttributeNames": dict(self.names)}
        if self.values:
            out["ExpressionAttributeValues"] = dict(self.values)
        return out


def _unchanged_condition(table: Table, old: Item, marks: _Placeholders) -> str:
    """The item exists and every attribute is as read (keys are implied by the key)."""
    keys = {table.primary.pk, table.primary.sk}
    parts = [f"attribute_exists({marks.name(table.primary.pk)})"]
    for name in sorted(old):
        if name not in keys:
            parts.append(f"{marks.name(name)} = {marks.value(old[name])}")
    return " AND ".join(parts)


def _update_request(table: Table, rewrite: Rewrite) -> dict[str, Any]:
    assert rewrite.new is not None
    old, new = rewrite.old, rewrite.new
    marks = _Placeholders()
    sets = [
        f"{marks.name(name)} = {marks.value(value)}"
        for name, value in new.items()
        if name not in old or not values_equal(old[name], value)
    ]
    removes = [marks.name(name) for name in old if name not in new]
    clauses = []
    if sets:
        clauses.append("SET " + ", ".join(sets))
    if removes:
        clauses.append("REMOVE " + ", ".join(removes))
    condition = _unchanged_condition(table, old, marks)
    return {
        "TableName": table.name,
        "Key": _key(table, old),
        "UpdateExpression": " ".join(clauses),
        "ConditionExpression": condition,
        **marks.parameters(),
    }


def _move_request(table: Table, rewrite: Rewrite) -> dict[str, Any]:
    assert rewrite.new is not None
    marks = _Placeholders()
    condition = _unchanged_condition(table, rewrite.old, marks)
    return {
        "TransactItems": [
            {
                "Put": {
                    "TableName": table.name,
                    "Item": rewrite.new,
                    "ConditionExpression": "attribute_not_exists(#k)",
                    "ExpressionAttributeNames": {"#k": table.primary.pk},
                }
            },
            {
                "Delete": {
                    "TableName": table.name,
                    "Key": _key(table, rewrite.old),
                    "ConditionExpression": condition,
                    **marks.parameters(),
                }
            },
        ]
    }


def migrate_item(
    models: Models, item: Mapping[str, Any], *, dry_run: bool = False
) -> Flow[Outcome]:
    """Rewrite one item under the new model, conditionally, retrying on a concurrent change."""
    table = models.new
    key = _key(table, item)
    current: Mapping[str, Any] = item
    for attempt in range(1, MAX_ATTEMPTS + 1):
        rewrite = rewrite_of(models, current)
        name = rewrite.entity.__name__ if rewrite.entity is not None else ""
        if rewrite.kind in ("unchanged", "skipped", "failed"):
            return Outcome(rewrite.kind, key, attempt, rewrite.reason, name)
        done = "moved" if rewrite.kind == "move" else "rewritten"
        if dry_run:
            return Outcome(done, key, attempt, "", name)
        try:
            if rewrite.kind == "move":
                yield "TransactWriteItems", _move_request(table, rewrite)
            else:
                yield "UpdateItem", _update_request(table, rewrite)
            return Outcome(done, key, attempt, "", name)
        except TransactionCanceledError as error:
            reasons = [r.get("Code") for r in error.reasons]
            if reasons[:1] == ["ConditionalCheckFailed"] and reasons[1:2] != [
                "ConditionalCheckFailed"
            ]:
                new_key = _key(table, rewrite.new or {})
                return Outcome(
                    "failed",
                    key,
                    attempt,
                    f"its new key {_shown(new_key)} is taken by another item",
                    name,
                )
            if "TransactionConflict" in reasons:
                yield SLEEP, {"seconds": 0.02 * 2**attempt}
        except TransactionConflictError:
            yield SLEEP, {"seconds": 0.02 * 2**attempt}
        except ConditionFailedError:
            pass  # changed since it was read: read it again
        response = yield "GetItem", {"TableName": table.name, "Key": key, "ConsistentRead": True}
        fresh = response.get("Item")
        if fresh is None:
            return Outcome("gone", key, attempt, "", name)
        current = fresh
    return Outcome(
        "conflict",
        key,
        MAX_ATTEMPTS,
        f"changed by another writer on each of {MAX_ATTEMPTS} attempts",
    )


def count_entities(models: Models) -> Flow[dict[str, int]]:
    """How many items of each entity type the table holds (a Scan of the type and key
    attributes only); items no entity of the new model claims count under ``""``."""
    table = models.new
    names = [table.type_attribute, table.primary.pk]
    if table.primary.sk is not None:
        names.append(table.primary.sk)
    if models.old is not None:
        names.append(models.old.type_attribute)
    marks = _Placeholders()
    projection = ", ".join(marks.name(name) for name in dict.fromkeys(names))
    request: dict[str, Any] = {
        "TableName": table.name,
        "ProjectionExpression": projection,
        **marks.parameters(),
    }
    counts: dict[str, int] = {}
    while True:
        page = yield "Scan", request
        for item in page.get("Items", []):
            entity, _ = models.identify(item)
            name = entity.__singletable__.type_name if entity is not None else ""
            counts[name] = counts.get(name, 0) + 1
        start = page.get("LastEvaluatedKey")
        if start is None:
            return counts
        request = {**request, "ExclusiveStartKey": start}


def _shown(key: Mapping[str, Any]) -> str:
    return ", ".join(f"{name}={from_attribute(value)!r}" for name, value in key.items())


def shown_key(key: Mapping[str, Any]) -> str:
    """A key for messages: ``PK='CUSTOMER#c1', SK='PROFILE'``."""
    return _shown(key)
