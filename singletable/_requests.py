"""The wire requests of the modelling layer's single-item operations.

Keys, PutItem/UpdateItem/DeleteItem bodies (with the conditions a put mode, a
version field or an update's "the item exists" needs, compiled once per class
where they do not depend on values), and the texts that name an entity or a key
in messages. :mod:`._operations` sends them one at a time, :mod:`._transact` as
the actions of a transaction.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date, datetime
from typing import TYPE_CHECKING, Any, Literal, TypeVar

from singletable._flows import now
from singletable._keyargs import key_arguments
from singletable._values import Item
from singletable._writer import writer
from singletable.codec import from_attribute
from singletable.conditions import attribute, expression_parameters
from singletable.entity import key_item, table_key, validated
from singletable.errors import (
    InvalidValueError,
)

if TYPE_CHECKING:
    from singletable.conditions import Condition
    from singletable.entity import Entity, EntityModel
    from singletable.updates import Update

E = TypeVar("E", bound="Entity")
PutMode = Literal["upsert", "create", "replace"]

_GENERAL: dict[str, Any] = {}  # (a marker: render the condition the general way)


_GET_OPTIONS = ("consistent",)


_DELETE_OPTIONS = ("must_exist", "condition")


_UPDATE_OPTIONS = ("condition", "expected_version")


def _key(cls: type[Entity], key: Mapping[str, Any], operation: str, options: Sequence[str]) -> Item:
    """The wire table key of ``key`` (field values), checked (see :mod:`._keyargs`)."""
    return table_key(cls, key_arguments(cls, key, operation, options))


def key_of(cls: type[Entity], key: Mapping[str, Any], operation: str) -> Item:
    """The wire table key of ``key`` (field values only), checked."""
    return _key(cls, key, operation, ())


def _write_condition(
    model: EntityModel, mode: PutMode, version: int | None, condition: Condition | None
) -> Condition | None:
    """The condition of a write: its mode, its version check and the caller's."""
    if mode == "upsert" and version is None and condition is None:
        return None  # (the common put: nothing to check)
    parts: list[Condition] = []
    if mode == "create" or (mode == "upsert" and version == 0):
        parts.append(attribute(model.table.primary.pk).not_exists())
    elif mode == "replace":
        parts.append(attribute(model.table.primary.pk).exists())
    if version:
        parts.append(attribute(model.attributes[model.version or ""]) == version)
    if condition is not None:
        parts.append(condition)
    if not parts:
        return None
    combined = parts[0]
    for part in parts[1:]:
        combined = combined & part
    return combined


def _to_store(entity: E) -> tuple[E, int | None]:
    """``entity`` validated, as it will be stored (version bumped, timestamps set), and
    the version it was read at (None: the entity has no version field)."""
    entity = validated(entity)
    model = type(entity).__singletable__
    changes: dict[str, Any] = {}
    moment = None
    if model.created_at is not None and getattr(entity, model.created_at) is None:
        moment = now()
        changes[model.created_at] = moment
    if model.updated_at is not None:
        changes[model.updated_at] = moment or now()
    version: int | None = None
    if model.version is not None:
        version = getattr(entity, model.version)
        changes[model.version] = (version or 0) + 1
    return (entity.model_copy(update=changes) if changes else entity), version


def _put_body(
    stored: Entity,
    mode: PutMode,
    version: int | None,
    condition: Condition | None,
    item: Item | None = None,
) -> dict[str, Any]:
    """The PutItem body (``item``: the empty dict to build the item in, if not a new one)."""
    cls = type(stored)
    model = cls.__singletable__
    write = model.writer or writer(cls)  # (what stored.to_item() runs)
    request: dict[str, Any] = {
        "TableName": model.table.name,
        "Item": write(stored.__dict__, {} if item is None else item),
    }
    own = _own_condition(model, mode, version) if condition is None else _GENERAL
    if own is _GENERAL:
        combined = _write_condition(model, mode, version, condition)
        if combined is not None:
            request.update(expression_parameters(condition=combined))
    elif own is not None:
        request.update(own)
    return request


_INT_LIMIT = 10**38


def _own_condition(model: EntityModel, mode: PutMode, version: int | None) -> dict[str, Any] | None:
    """The expression members of a write's own condition (its mode and version check,
    no caller's condition), rendered once per class and shape and reused with the
    version's value: what ``expression_parameters(condition=_write_condition(...))``
    gives (tests/orm/test_put_conditions.py). :data:`_GENERAL` when the version is
    not an int the codec writes as its ``str`` (it is then rendered in full)."""
    if version is None:
        if mode == "upsert":
            return None
        shape: tuple[Any, ...] = (mode, None)
    elif type(version) is not int or not -_INT_LIMIT < version < _INT_LIMIT:
        return _GENERAL
    else:
        shape = (mode, bool(version))
    cached = model.write_conditions.get(shape)
    if cached is None:
        combined = _write_condition(model, mode, version, None)
        cached = expression_parameters(condition=combined) if combined is not None else {}
        model.write_conditions[shape] = cached
    if not cached:
        return None
    out = {**cached, "ExpressionAttributeNames": dict(cached["ExpressionAttributeNames"])}
    values = cached.get("ExpressionAttributeValues")
    if values is not None:  # only the version's value (``version == n``): this one's
        ((placeholder, _),) = values.items()
        out["ExpressionAttributeValues"] = {placeholder: {"N": str(version)}}
    return out


def put_request(
    entity: E, mode: PutMode, condition: Condition | None = None
) -> tuple[E, dict[str, Any]]:
    """The entity as it will be stored (version bumped, timestamps set) and the body
    of its PutItem (also a TransactWriteItems ``Put``)."""
    stored, version = _to_store(entity)
    return stored, _put_body(stored, mode, version, condition)


def update_body(
    cls: type[Entity],
    key: Mapping[str, Any],
    changes: Update,
    condition: Condition | None,
    *,
    expected_version: int | None = None,
) -> dict[str, Any]:
    """The body of an UpdateItem (also a transaction ``Update``).

    Index keys never go stale: when the update gives a field that an index key is
    built from, that key is rewritten from the update's values and the key fields
    given (or removed, if the update removes a field of it, leaving the item out
    of the index); if the key cannot be rendered because a field of it is neither
    given nor changed to a known value, the update is refused, naming the index
    and the missing fields. Table key fields cannot change (delete and put).
    The update sets the updated-at field and bumps the version field, if any.
    """
    model = cls.__singletable__
    owner = cls.__name__
    given = key_arguments(cls, key, "update", _UPDATE_OPTIONS, extra=model.key_fields_sorted)
    key = {name: given[name] for name in model.table_key_fields}
    touched = changes.fields
    changed_keys = sorted(touched & model.table_key_set)
    if changed_keys:
        raise InvalidValueError(
            f"{owner}: an update cannot change {', '.join(changed_keys)}, part of the "
            "table key (put the entity under its new key and delete the old one)"
        )
    if model.updated_at is not None and model.updated_at not in touched:
        changes = changes.set(getattr(cls, model.updated_at), now())
    if model.version is not None and model.version not in touched:
        changes = changes.add(getattr(cls, model.version), 1)
    known: dict[str, Any] = {**given, **changes.assigned}
    for index, (pk, sk) in model.keys.items():
        if index is None:
            continue
        spec = model.table.spec(index)
        templates = [(spec.pk, pk)] if not spec.local else []
        if sk is not None and spec.sk is not None:
            templates.append((spec.sk, sk))
        # A plain key attribute is the field itself: the update writes it directly.
        templates = [(name, t) for name, t in templates if not t.plain]
        fields = {f for _, t in templates for f in t.fields}
        if not fields & touched:
            continue
        removed = [f for f in fields if f in changes.assigned and changes.assigned[f] is None]
        if removed:
            for attribute_name, _ in templates:
                changes = changes.remove(attribute(attribute_name))
            continue
        missing = sorted(f for f in fields if known.get(f) is None)
        if missing:
            raise InvalidValueError(
                f"{owner}: the update changes {', '.join(sorted(fields & touched))}, which "
                f"index {index} is keyed on, but {', '.join(missing)} "
                f"{'is' if len(missing) == 1 else 'are'} not known: pass "
                f"{'it' if len(missing) == 1 else 'them'} with the key or set "
                f"{'it' if len(missing) == 1 else 'them'} in the update, so the index key "
                "can be rewritten"
            )
        rendered = key_item(model, known, owner, indexes=(index,))
        for attribute_name, value in rendered.items():
            changes = changes.set(attribute(attribute_name), from_attribute(value))
    body: dict[str, Any] = {"TableName": model.table.name, "Key": table_key(cls, key)}
    checked = expected_version is not None and model.version is not None
    if condition is None and not checked:
        body.update(_with_exists(model, expression_parameters(update=changes)))
        return body
    parts = [attribute(model.table.primary.pk).exists()]
    if checked:
        parts.append(getattr(cls, model.version or "") == expected_version)
    if condition is not None:
        parts.append(condition)
    combined = parts[0]
    for part in parts[1:]:
        combined = combined & part
    body.update(expression_parameters(update=changes, condition=combined))
    return body


def _with_exists(model: EntityModel, update: dict[str, Any]) -> dict[str, Any]:
    """``update`` (the rendered update) with the condition every update has, that its
    item exists, rendered once per class: what ``expression_parameters(update=...,
    condition=attribute(pk).exists())`` gives (each expression has its own
    placeholders, so the two render apart; tests/orm/test_put_conditions.py)."""
    exists = model.write_conditions.get("update")
    if exists is None:
        pk = attribute(model.table.primary.pk)
        exists = model.write_conditions["update"] = expression_parameters(condition=pk.exists())
    out = {
        "ConditionExpression": exists["ConditionExpression"],
        "UpdateExpression": update["UpdateExpression"],
        "ExpressionAttributeNames": {
            **exists["ExpressionAttributeNames"],
            **update.get("ExpressionAttributeNames", {}),
        },
    }
    if "ExpressionAttributeValues" in update:
        out["ExpressionAttributeValues"] = update["ExpressionAttributeValues"]
    return out


def _delete_body(
    cls: type[Entity], key: Mapping[str, Any], must_exist: bool, condition: Condition | None
) -> dict[str, Any]:
    model = cls.__singletable__
    body: dict[str, Any] = {
        "TableName": model.table.name,
        "Key": _key(cls, key, "delete", _DELETE_OPTIONS),
    }
    parts = [attribute(model.table.primary.pk).exists()] if must_exist else []
    if condition is not None:
        parts.append(condition)
    if parts:
        combined = parts[0] if len(parts) == 1 else parts[0] & parts[1]
        body.update(expression_parameters(condition=combined))
    return body


def _name(entity: Entity) -> str:
    return f"{type(entity).__name__} {_describe(type(entity).__singletable__, entity)}"


def _shown(key: Mapping[str, Any]) -> str:
    return "(" + ", ".join(f"{k}={_value_text(v)}" for k, v in key.items()) + ")"


def _value_text(value: Any) -> str:
    """A key value for messages: datetimes and dates in ISO form, others as repr."""
    if isinstance(value, datetime | date):
        return value.isoformat()
    return repr(value)


def json_key(value: Mapping[str, Any]) -> str:
    """A key attribute's identity text (its type and value)."""
    ((kind, raw),) = value.items()
    return f"{kind}:{raw}"


def _describe(model: Any, entity: Entity) -> str:
    pk, sk = model.index_keys(None)
    values = entity.__dict__
    fields = list(pk.fields) + (list(sk.fields) if sk is not None else [])
    return "(" + ", ".join(f"{name}={_value_text(values.get(name))}" for name in fields) + ")"
