"""Unique fields: a guard item per value, written in the same transaction as the entity.

DynamoDB enforces no uniqueness but the primary key's, so single-table designs
make a value unique with a *guard item* whose key is the value itself::

    class User(Entity, table=app):
        user_id: str
        email: Annotated[str, Unique]

    # db.put(User(user_id="u1", email="ada@example.com")) writes, in one transaction:
    #   the user                      PK "USER#u1", SK "PROFILE"
    #   its guard, if none exists     PK = SK = "UNIQUE#User#email#ada@example.com"
    #                                 _type "_unique", _owner '{"PK":{"S":"USER#u1"},...}'

Each guard lives in a partition of its own (the value is in its partition key),
so it never lands in an entity's item collection, and carries the entity type
``_unique`` so that scans and collections of entities never mistake it for one.
A guard is claimed with the condition ``attribute_not_exists(PK) OR _owner = :me``:
another item's guard cancels the transaction, and the error is
:class:`~singletable.errors.UniqueConstraintError` naming the entity, the field,
the value and the item holding it.

Moving or removing a guard needs the value the item holds now, so a write that
may change a unique value (a put over an existing item, an update that sets a
unique field, a delete) first reads the item (strongly consistent), then sends
the entity's action conditioned on the unique values it read, with the guard
actions: ``Delete`` of the old guard, ``Put`` of the new one. An update does
nothing for a value that does not change; a put, which writes the whole item,
claims its values again (a no-op on its own guards, which restores a guard that
is missing: putting every item once gives existing data its guards, and shows
values that are already duplicated). If the item changed in between, the condition fails, the
item is read again and the write retried (:data:`ATTEMPTS` times in all). A
create (``mode="create"``, or a version of 0) knows there is no item, and reads
nothing.

This module builds the guard actions and reads; :mod:`._operations` sends them.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

from pydantic import TypeAdapter, ValidationError

from singletable._flows import Flow
from singletable._values import Item
from singletable.codec import from_attribute
from singletable.conditions import Condition, attribute, expression_parameters
from singletable.errors import ModelError, UniqueConstraintError
from singletable.expressions import nodes
from singletable.keys import KeyTemplate, compile_template

if TYPE_CHECKING:
    from singletable.entity import Entity, EntityModel

__all__ = [
    "ATTEMPTS",
    "GUARD_TYPE",
    "OWNER",
    "GuardAction",
    "Guarded",
    "clash_error",
    "complete",
    "guard_template",
    "raced",
    "read",
]

GUARD_TYPE = "_unique"
"""The entity type attribute's value on guard items."""
OWNER = "_owner"
"""The guard item's attribute naming the table key of the item holding the value."""
ATTEMPTS = 3
"""How many times a write is tried when its item changes between the read and the write."""

_adapters: dict[tuple[type[Any], str], TypeAdapter[Any]] = {}


def guard_template(
    owner: str, model: EntityModel, field: str, field_types: Mapping[str, Any]
) -> KeyTemplate:
    """The key template of ``field``'s guard items: ``UNIQUE#{type}#{field}#{value}``.

    Raises:
        ModelError: the table's key attributes are not strings (a guard key is one),
            or the field's type cannot be rendered into a key.
    """
    table = model.table
    for attribute_name in (table.primary.pk, table.primary.sk):
        if attribute_name is None:
            continue
        kind = model.key_types.get(attribute_name, (table.key_type(attribute_name) or "S", ""))[0]
        if kind != "S" or table.key_type(attribute_name) not in (None, "S"):
            raise ModelError(
                f"{owner}.{field} is Unique, but the key attribute {attribute_name!r} of "
                f"table {table.name!r} is {kind}: guard items need string table keys"
            )
    source = f"UNIQUE#{model.type_name}#{field}#{{{field}}}"
    return compile_template(source, field_types, owner)


@dataclass(frozen=True)
class GuardAction:
    """A transaction action on a guard item."""

    kind: Literal["Put", "Delete"]
    body: dict[str, Any]
    description: str
    key: Item
    claim: tuple[str, str, Any] | None = None
    """(entity, field, value) of a ``Put``: what a failed condition means."""


@dataclass
class Guarded:
    """A write of an entity with unique fields, completed once its item is read.

    ``build(extra)`` renders the entity's action with ``extra`` added to its
    condition (the unique values the write expects the item to hold).
    """

    cls: type[Entity]
    key: Item
    """The entity's table key (wire shape)."""
    fields: tuple[str, ...]
    """The unique fields the write sets or removes (all of them for a put or a delete)."""
    new: Mapping[str, Any]
    """Their new values (None or absent: no value, so no guard)."""
    build: Callable[[Condition | None], dict[str, Any]]
    absent: bool = False
    """The write requires that no item exists (a create): nothing to read first."""
    whole: bool = False
    """The write puts the whole item: it claims its values again even when they do not
    change (a no-op on its own guard; it restores a missing one)."""


def owner_text(key: Item) -> str:
    """The ``_owner`` of a guard: the holder's table key as compact, sorted JSON."""
    return json.dumps(key, sort_keys=True, separators=(",", ":"))


def read(plans: Sequence[Guarded], *, everything: bool = False) -> Flow[list[Item | None]]:
    """The items the writes are about, strongly consistent (None: absent, or not read
    because the write is a create, unless ``everything``): one GetItem, or one
    TransactGetItems (a snapshot) for several."""
    wanted = [i for i, plan in enumerate(plans) if everything or not plan.absent]
    out: list[Item | None] = [None] * len(plans)
    if not wanted:
        return out
    gets = [
        {"TableName": plans[i].cls.__singletable__.table.name, "Key": plans[i].key}
        for i in wanted
    ]
    if len(gets) == 1:
        response = yield "GetItem", {**gets[0], "ConsistentRead": True}
        out[wanted[0]] = response.get("Item")
        return out
    response = yield "TransactGetItems", {"TransactItems": [{"Get": g} for g in gets]}
    for i, answer in zip(wanted, response.get("Responses", ()), strict=False):
        out[i] = answer.get("Item")
    return out


def _same(model: EntityModel, fields: Sequence[str], old: Item) -> Condition:
    """The item still holds the unique values of ``old`` (as stored)."""
    parts: list[Condition] = []
    for field in fields:
        name = model.attributes[field]
        value = old.get(name)
        path = attribute(name)
        if value is None:
            parts.append(path.not_exists())
        else:
            parts.append(Condition(nodes.Compare("=", path.node, nodes.Literal(value))))
    combined = parts[0]
    for part in parts[1:]:
        combined = combined & part
    return combined


def _stored_value(cls: type[Entity], field: str, old: Item | None) -> Any:
    """The value ``old`` holds for ``field``, validated as the field (None: none).
    A stored value the field no longer accepts has no guard this code could have
    written, so there is none to release."""
    if old is None:
        return None
    raw = old.get(cls.__singletable__.attributes[field])
    if raw is None or "NULL" in raw:
        return None
    adapter = _adapters.get((cls, field))
    if adapter is None:
        adapter = _adapters[(cls, field)] = TypeAdapter(cls.model_fields[field].annotation)
    try:
        return adapter.validate_python(from_attribute(raw))
    except ValidationError:
        return None


def _guard_key(
    model: EntityModel, template: KeyTemplate, field: str, value: Any, owner: str
) -> Item:
    text = template.render({field: value}, owner)
    primary = model.table.primary
    key: Item = {primary.pk: {"S": text}}
    if primary.sk is not None:
        key[primary.sk] = {"S": text}
    return key


def complete(plan: Guarded, old: Item | None) -> tuple[dict[str, Any], list[GuardAction]]:
    """The entity's action (conditioned on the unique values of ``old``, the item as
    read) and the guard actions that move its values to the new ones."""
    cls = plan.cls
    model = cls.__singletable__
    name = cls.__name__
    table = model.table
    if plan.absent:
        extra = None
    elif old is None:
        extra = attribute(table.primary.pk).not_exists()
    else:
        extra = _same(model, plan.fields, old)
    mine = owner_text(plan.key)
    free = attribute(table.primary.pk).not_exists() | (attribute(OWNER) == mine)
    guards: list[GuardAction] = []
    for field in plan.fields:
        template = model.unique[field]
        before = _stored_value(cls, field, old)
        after = plan.new.get(field)
        old_key = None if before is None else _guard_key(model, template, field, before, name)
        new_key = None if after is None else _guard_key(model, template, field, after, name)
        if old_key == new_key and not (plan.whole and new_key is not None):
            continue  # the value does not change: its guard stays
        if old_key is not None and old_key != new_key:
            body = {"TableName": table.name, "Key": old_key}
            body.update(expression_parameters(condition=free))
            what = f"release {name}.{field} {before!r}"
            guards.append(GuardAction("Delete", body, what, old_key))
        if new_key is not None:
            item = {**new_key, table.type_attribute: {"S": GUARD_TYPE}, OWNER: {"S": mine}}
            body = {"TableName": table.name, "Item": item}
            body.update(expression_parameters(condition=free))
            body["ReturnValuesOnConditionCheckFailure"] = "ALL_OLD"
            what = f"claim {name}.{field} {after!r}"
            guards.append(GuardAction("Put", body, what, new_key, (name, field, after)))
    return plan.build(extra), guards


def raced(plan: Guarded, before: Item | None, after: Item | None) -> bool:
    """Whether the item changed, between the read and the write, in a way that made
    the write's own condition on it fail (so the write is retried on a new read)."""
    if plan.absent:
        return False  # a create's condition is the caller's: the item must not exist
    if (before is None) != (after is None):
        return True
    if before is None or after is None:
        return False
    attributes = plan.cls.__singletable__.attributes
    return any(before.get(attributes[f]) != after.get(attributes[f]) for f in plan.fields)


def clash_error(
    claim: tuple[str, str, Any],
    reason: Mapping[str, Any],
    error_code: str,
    operation: str,
    details: Mapping[str, Any],
) -> UniqueConstraintError:
    """The error of a guard ``Put`` whose condition failed: the value is taken."""
    entity, field, value = claim
    holder: dict[str, Any] | None = None
    stored = (reason.get("Item") or {}).get(OWNER, {}).get("S")
    if isinstance(stored, str):
        try:
            holder = json.loads(stored)
        except ValueError:  # not written by this module: say nothing of the holder
            holder = None
    by = ""
    if isinstance(holder, dict):
        shown = ", ".join(f"{k}={from_attribute(v)!r}" for k, v in sorted(holder.items()))
        by = f" (by the item {shown})"
    return UniqueConstraintError(
        error_code,
        f"{entity}.{field} {value!r} is already taken{by}; {entity}.{field} is unique",
        operation=operation,
        details={**details, "Entity": entity, "Field": field, "Value": value, "Holder": holder},
    )
