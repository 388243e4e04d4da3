"""The modelling layer's operations, each one sans-I/O flow (see :mod:`._flows`).

Every function here builds DynamoDB wire requests from entities and patterns,
yields them, and turns the responses back into entities. Nothing here knows
which backend runs it, or whether it runs sync or async.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime
from typing import TYPE_CHECKING, Any, Literal, TypeVar

from singletable import _unique as unique
from singletable._canonical import CanonicalItem
from singletable._flows import Flow, now
from singletable._keyargs import key_arguments
from singletable._values import Item
from singletable._writer import writer
from singletable.codec import from_attribute
from singletable.conditions import attribute, expression_parameters
from singletable.entity import key_item, table_key, validated
from singletable.errors import (
    ConditionFailedError,
    DynamoDBServiceError,
    InvalidValueError,
    ItemNotFoundError,
    TransactionCanceledError,
    VersionConflictError,
)

if TYPE_CHECKING:
    from singletable.conditions import Condition
    from singletable.entity import Entity, EntityModel
    from singletable.updates import Update

__all__ = ["PutMode"]

E = TypeVar("E", bound="Entity")
PutMode = Literal["upsert", "create", "replace"]


_GET_OPTIONS = ("consistent",)
_DELETE_OPTIONS = ("must_exist", "condition")
_UPDATE_OPTIONS = ("condition", "expected_version")


def _key(cls: type[Entity], key: Mapping[str, Any], operation: str, options: Sequence[str]) -> Item:
    """The wire table key of ``key`` (field values), checked (see :mod:`._keyargs`)."""
    return table_key(cls, key_arguments(cls, key, operation, options))


def key_of(cls: type[Entity], key: Mapping[str, Any], operation: str) -> Item:
    """The wire table key of ``key`` (field values only), checked."""
    return _key(cls, key, operation, ())


def get(cls: type[E], key: Mapping[str, Any], *, consistent: bool = False) -> Flow[E | None]:
    """GetItem of the ``cls`` item that ``key`` (field values) identifies."""
    model = cls.__singletable__
    request: dict[str, Any] = {
        "TableName": model.table.name,
        "Key": _key(cls, key, "get", _GET_OPTIONS),
    }
    if consistent:
        request["ConsistentRead"] = True
    response = yield "GetItem", request
    item = response.get("Item")
    return None if item is None else cls.from_item(item)


def get_required(cls: type[E], key: Mapping[str, Any], *, consistent: bool = False) -> Flow[E]:
    """Like :func:`get`, but an absent item is :class:`ItemNotFoundError`."""
    found = yield from get(cls, key, consistent=consistent)
    if found is None:
        raise ItemNotFoundError(f"no {cls.__name__} with {_shown(key)[1:-1]}")
    return found


def refresh(entity: E, *, consistent: bool = True) -> Flow[E]:
    """GetItem of ``entity``'s item (strongly consistent unless told otherwise): a new
    instance as stored now; :class:`ItemNotFoundError` if the item is gone."""
    cls = type(entity)
    request: dict[str, Any] = {
        "TableName": cls.__singletable__.table.name,
        "Key": table_key(cls, entity.__dict__),
    }
    if consistent:
        request["ConsistentRead"] = True
    response = yield "GetItem", request
    item = response.get("Item")
    if item is None:
        raise ItemNotFoundError(f"{_name(entity)} no longer exists (refresh)")
    return cls.from_item(item)


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


_GENERAL: dict[str, Any] = {}  # (a marker: render the condition the general way)
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


def put(entity: E, *, mode: PutMode = "upsert", condition: Condition | None = None) -> Flow[E]:
    """PutItem of ``entity``; returns what was stored (version and timestamps set).

    ``mode``: ``"create"`` fails if the item exists, ``"replace"`` if it does not,
    ``"upsert"`` writes either way. With a version field, the write also requires
    the stored version to be the entity's (a new entity has version 0), and stores
    the next one; ``condition`` must hold too. The error of a failed check is
    :class:`ConditionFailedError` (with the stored item, if any). An entity with
    unique fields is written in a transaction with its guard items (:mod:`._unique`).
    """
    if type(entity).__singletable__.unique:
        action = tx_put(entity, mode, condition)
        try:
            yield from _transact([action])
        except TransactionCanceledError as error:
            failure = _entity_failure(error)
            raise _put_error(entity, action.stored, mode, condition, failure) from None
        assert action.stored is not None
        stored_entity: E = action.stored  # type: ignore[assignment]
        return stored_entity
    stored, version = _to_store(entity)
    # The item goes out marked as the codec's: the local engine measures it instead
    # of rebuilding it (singletable._canonical); other backends see a dict.
    request = _put_body(stored, mode, version, condition, CanonicalItem())
    request["ReturnValuesOnConditionCheckFailure"] = "ALL_OLD"
    try:
        yield "PutItem", request
    except ConditionFailedError as error:
        raise _put_error(entity, stored, mode, condition, error) from None
    return stored


def _put_error(
    entity: Entity,
    stored: Entity | None,
    mode: PutMode,
    condition: Condition | None,
    error: ConditionFailedError | TransactionCanceledError,
) -> DynamoDBServiceError:
    """The error of a put whose condition failed: which check failed, and why."""
    if not isinstance(error, ConditionFailedError):
        return error
    cls = type(entity)
    name = _name(stored or entity)
    version_field = cls.__singletable__.version
    before = getattr(entity, version_field) if version_field is not None else None
    if version_field is not None and before and mode != "create":
        conflict = _version_conflict(cls, before, error, f"{name}: ")
        if conflict is not None:
            return conflict
    reason = _put_failure(mode, version_field, before, condition, error)
    return ConditionFailedError(
        error.code, f"{name}: {reason}", operation=error.operation, details=error.details
    )


def _entity_failure(
    error: TransactionCanceledError,
) -> ConditionFailedError | TransactionCanceledError:
    """A one-write transaction's cancellation as the write's own error: the condition
    of its first action (the entity's) failed, with the item read after the failure."""
    reasons = error.reasons
    if not reasons or reasons[0].get("Code") != "ConditionalCheckFailed":
        return error
    details = {**error.details}
    if reasons[0].get("Item") is not None:
        details["Item"] = reasons[0]["Item"]
    return ConditionFailedError(
        "ConditionalCheckFailedException",
        reasons[0].get("Message") or "The conditional request failed",
        operation=error.operation,
        details=details,
    )


def _version_conflict(
    cls: type[Entity], expected: int, error: ConditionFailedError, prefix: str
) -> VersionConflictError | None:
    """The error of a write whose version check failed (None: the item is absent,
    or its version is the one expected, so something else failed)."""
    stored = error.item
    if stored is None:
        return None
    model = cls.__singletable__
    raw = stored.get(model.attributes[model.version or ""], {}).get("N")
    found = int(raw) if raw is not None and raw.lstrip("-").isdigit() else None
    if found == expected:
        return None
    now_at = f", stored {found}" if found is not None else ""
    return VersionConflictError(
        error.code,
        f"{prefix}its version changed since it was read (optimistic locking: expected "
        f"{expected}{now_at})",
        operation=error.operation,
        details={**error.details, "ExpectedVersion": expected, "StoredVersion": found},
    )


# --------------------------------------------------------------------------- updates


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


def update(
    cls: type[E],
    key: Mapping[str, Any],
    changes: Update,
    *,
    condition: Condition | None = None,
    expected_version: int | None = None,
) -> Flow[E]:
    """UpdateItem of an existing item; returns the entity as updated (ALL_NEW).

    The item must exist (:class:`ConditionFailedError` otherwise, as when
    ``condition`` or ``expected_version`` does not hold).
    """
    model = cls.__singletable__
    if model.unique and not changes.fields.isdisjoint(model.unique):
        action = tx_update(cls, key, changes, condition, expected_version)
        assert action.guarded is not None  # a unique field changes: its guard moves
        try:
            yield from _transact([action])
        except TransactionCanceledError as error:
            raise _update_error(cls, key, expected_version, _entity_failure(error)) from None
        response = yield "GetItem", {
            "TableName": action.body["TableName"],
            "Key": action.key,
            "ConsistentRead": True,
        }
        if "Item" not in response:  # deleted right after the update
            raise ItemNotFoundError(f"{cls.__name__} {_shown(key)} was deleted after the update")
        return cls.from_item(response["Item"])
    request = update_body(cls, key, changes, condition, expected_version=expected_version)
    request["ReturnValues"] = "ALL_NEW"
    request["ReturnValuesOnConditionCheckFailure"] = "ALL_OLD"
    try:
        response = yield "UpdateItem", request
    except ConditionFailedError as error:
        raise _update_error(cls, key, expected_version, error) from None
    return cls.from_item(response["Attributes"])


def _update_error(
    cls: type[Entity],
    key: Mapping[str, Any],
    expected_version: int | None,
    error: ConditionFailedError | TransactionCanceledError,
) -> DynamoDBServiceError:
    """The error of an update whose condition failed: a version conflict, an absent
    item, or the caller's condition."""
    if not isinstance(error, ConditionFailedError):
        return error
    if expected_version is not None and cls.__singletable__.version is not None:
        prefix = f"{cls.__name__} {_shown(key)}: "
        conflict = _version_conflict(cls, expected_version, error, prefix)
        if conflict is not None:
            return conflict
    found = "does not exist" if error.item is None else "did not meet the condition"
    return ConditionFailedError(
        error.code,
        f"{cls.__name__} {_shown(key)}: {found}",
        operation=error.operation,
        details=error.details,
    )


# --------------------------------------------------------------------------- transactions


@dataclass
class TxAction:
    """One action of a write transaction, in wire form, with what it is about."""

    kind: Literal["Put", "Delete", "ConditionCheck", "Update"]
    body: dict[str, Any]
    about: str | Callable[[], str]
    """What the action is about, for messages (or what makes that text: it is only
    needed when the transaction fails, so it is not built for every action)."""
    key: dict[str, Any]
    """The item's table key (wire shape): one action per item in a transaction."""
    stored: Entity | None = None
    guarded: unique.Guarded | None = None
    """For an entity with unique fields: how to complete the action once its item is read."""
    claim: tuple[str, str, Any] | None = None
    """For a guard ``Put``: the (entity, field, value) it claims."""
    guard: bool = False
    """An action on a guard item of a unique value."""

    @property
    def description(self) -> str:
        """What the action is about (``put Order (customer_id='c', order_id='1')``)."""
        about = self.about
        return about if isinstance(about, str) else about()


def tx_put(
    entity: Entity, mode: PutMode = "upsert", condition: Condition | None = None
) -> TxAction:
    """A transaction ``Put`` (with the version and mode conditions of :func:`put`)."""
    stored, version = _to_store(entity)
    cls = type(entity)
    model = cls.__singletable__
    body = _put_body(stored, mode, version, condition)
    if model.stamped_key or model.unique:
        # (a version or timestamp the write sets is a key field: the key is the one
        # of the entity as given, as ever)
        key = table_key(cls, entity.__dict__)
    else:  # the item's key attributes are the key, rendered once by to_item
        item = body["Item"]
        key = {attribute: item[attribute] for attribute in model.table_key_attributes}
    action = TxAction("Put", body, lambda: f"put {_name(stored)}", key, stored)
    if model.unique:

        def build(extra: Condition | None) -> dict[str, Any]:
            built = _put_body(stored, mode, version, _both(condition, extra))
            built["ReturnValuesOnConditionCheckFailure"] = "ALL_OLD"
            return built

        fields = tuple(model.unique)
        new = {field: getattr(stored, field) for field in fields}
        absent = mode == "create" or (mode == "upsert" and version == 0)
        action.guarded = unique.Guarded(cls, key, fields, new, build, absent, whole=True)
    return action


def tx_delete(
    cls: type[Entity],
    key: Mapping[str, Any],
    *,
    must_exist: bool = False,
    condition: Condition | None = None,
) -> TxAction:
    """A transaction ``Delete`` (with its guard items, if the entity has unique fields)."""
    body = _delete_body(cls, key, must_exist, condition)
    action = TxAction("Delete", body, f"delete {cls.__name__} {_shown(key)}", body["Key"])
    model = cls.__singletable__
    if model.unique:

        def build(extra: Condition | None) -> dict[str, Any]:
            return _delete_body(cls, key, must_exist, _both(condition, extra))

        action.guarded = unique.Guarded(cls, body["Key"], tuple(model.unique), {}, build)
    return action


def _both(first: Condition | None, second: Condition | None) -> Condition | None:
    if first is None or second is None:
        return first if second is None else second
    return first & second


def tx_check(cls: type[Entity], key: Mapping[str, Any], condition: Condition) -> TxAction:
    """A transaction ``ConditionCheck``: ``condition`` must hold on the item."""
    model = cls.__singletable__
    body: dict[str, Any] = {"TableName": model.table.name, "Key": _key(cls, key, "check", ())}
    body.update(expression_parameters(condition=condition))
    return TxAction(
        "ConditionCheck", body, lambda: f"check {cls.__name__} {_shown(key)}", body["Key"]
    )


def tx_update(
    cls: type[Entity],
    key: Mapping[str, Any],
    changes: Update,
    condition: Condition | None = None,
    expected_version: int | None = None,
) -> TxAction:
    """A transaction ``Update`` (index keys recomputed and the version checked as
    :func:`update` does; the guard of a unique field it sets moved)."""
    body = update_body(cls, key, changes, condition, expected_version=expected_version)
    action = TxAction("Update", body, f"update {cls.__name__} {_shown(key)}", body["Key"])
    model = cls.__singletable__
    touched = tuple(f for f in model.unique if f in changes.fields)
    if touched:
        assigned = changes.assigned
        unknown = [f for f in touched if f not in assigned]
        if unknown:
            raise InvalidValueError(
                f"{cls.__name__}: {', '.join(unknown)} is unique, so an update can only set "
                "it to a value or remove it (its guard item is keyed on the value)"
            )

        def build(extra: Condition | None) -> dict[str, Any]:
            both = _both(condition, extra)
            return update_body(cls, key, changes, both, expected_version=expected_version)

        new = {f: assigned[f] for f in touched}
        action.guarded = unique.Guarded(cls, body["Key"], touched, new, build)
    return action


def transact_write(actions: Sequence[TxAction], token: str | None = None) -> Flow[list[Any]]:
    """TransactWriteItems; returns what each Put stored (None for other actions).

    A canceled transaction raises :class:`TransactionCanceledError` whose message
    names each action that failed and why (``reasons`` keeps DynamoDB's list), or
    :class:`UniqueConstraintError` when only guards of unique values failed.
    """
    yield from _transact(actions, token)
    return [action.stored for action in actions]


def _transact(actions: Sequence[TxAction], token: str | None = None) -> Flow[list[Any]]:
    """TransactWriteItems of ``actions`` with the guard items of their unique fields;
    returns the items of the guarded actions as read before the write (else None).
    An item that changed between the read and the write is read again and the
    transaction retried (see :mod:`._unique`), unless it has a ``token``: the same
    token with other parameters is refused (IdempotentParameterMismatchException)."""
    if not actions:
        return []
    _check_actions(actions)  # before reading: the reads take the same items
    plans = [a.guarded for a in actions if a.guarded is not None]
    fresh: list[Any] | None = None  # the items read after a failed attempt
    attempts = unique.ATTEMPTS if token is None else 1
    for attempt in range(1, attempts + 1):
        if fresh is not None:
            olds = [None if plan.absent else item for plan, item in zip(plans, fresh, strict=True)]
        else:
            olds = (yield from unique.read(plans)) if plans else []
        sent = _with_guards(actions, olds) if plans else list(actions)
        if plans:
            _check_actions(sent)
        request: dict[str, Any] = {"TransactItems": [{a.kind: a.body} for a in sent]}
        if token is not None:
            request["ClientRequestToken"] = token
        try:
            yield "TransactWriteItems", request
        except TransactionCanceledError as error:
            reasons = [dict(r) for r in error.reasons]
            failed = [
                i
                for i, a in enumerate(sent)
                if a.guarded is not None and _code(reasons, i) == "ConditionalCheckFailed"
            ]
            if failed:
                now_items = yield from unique.read(plans, everything=True)
                if attempt < attempts and any(
                    unique.raced(plan, before, after)
                    for plan, before, after in zip(plans, olds, now_items, strict=True)
                ):
                    fresh = now_items
                    continue
                by_plan = dict(zip(map(id, plans), now_items, strict=True))
                for i in failed:
                    guarded = sent[i].guarded
                    if guarded is not None and reasons[i].get("Item") is None:
                        found = by_plan.get(id(guarded))
                        if found is not None:
                            reasons[i]["Item"] = found
            details = {**error.details, "CancellationReasons": reasons}
            raise _canceled(sent, reasons, error, details) from None
        out: list[Any] = []
        olds_by_plan = dict(zip(map(id, plans), olds, strict=True))
        for action in actions:
            out.append(None if action.guarded is None else olds_by_plan[id(action.guarded)])
        return out
    raise AssertionError("unreachable: the last attempt returns or raises")  # pragma: no cover


def _code(reasons: Sequence[Mapping[str, Any]], index: int) -> Any:
    return reasons[index].get("Code") if index < len(reasons) else None


def _with_guards(actions: Sequence[TxAction], olds: Sequence[Any]) -> list[TxAction]:
    """The actions with each guarded one completed (its condition on the item as read)
    and followed by the actions on its guard items."""
    by_plan = iter(olds)
    out: list[TxAction] = []
    guards: list[TxAction] = []
    for action in actions:
        if action.guarded is None:
            out.append(action)
            continue
        body, moves = unique.complete(action.guarded, next(by_plan))
        out.append(replace(action, body=body))
        guards.extend(
            TxAction(g.kind, g.body, g.description, g.key, claim=g.claim, guard=True)
            for g in moves
        )
    return out + guards


def _check_actions(actions: Sequence[TxAction]) -> None:
    """At most 100 actions, at most one per item (DynamoDB's limits), checked before sending."""
    if len(actions) > 100:
        guards = sum(1 for a in actions if a.guard)
        extra = f" ({guards} of them on guard items of unique values)" if guards else ""
        raise InvalidValueError(
            f"a transaction takes at most 100 actions, not {len(actions)}{extra}"
        )
    seen: dict[tuple[str, ...], TxAction] = {}
    for action in actions:
        key = action.key
        parts = [action.body["TableName"]]
        for name in sorted(key):
            ((kind, raw),) = key[name].items()  # (a key attribute: S, N or B text)
            parts += (name, kind, raw)
        identity = tuple(parts)
        if identity in seen:
            first = seen[identity]
            if first.claim is not None and action.claim is not None:
                entity, field, value = action.claim
                raise InvalidValueError(
                    f"transaction: two writes claim {entity}.{field} {value!r}, which is unique"
                )
            raise InvalidValueError(
                f"transaction: {first.description} and {action.description} are "
                "on the same item (DynamoDB allows one action per item)"
            )
        seen[identity] = action


def _canceled(
    sent: Sequence[TxAction],
    reasons: Sequence[Mapping[str, Any]],
    error: TransactionCanceledError,
    details: dict[str, Any],
) -> DynamoDBServiceError:
    """The error of a canceled transaction: :class:`UniqueConstraintError` when the only
    actions that failed claimed unique values, else :class:`TransactionCanceledError`
    naming each action that failed."""
    failed = [
        (action, reason)
        for action, reason in zip(sent, reasons, strict=False)
        if reason.get("Code") not in (None, "None")
    ]
    if failed and all(
        a.claim is not None and r.get("Code") == "ConditionalCheckFailed" for a, r in failed
    ):
        action, reason = failed[0]
        assert action.claim is not None
        return unique.clash_error(action.claim, reason, error.code, error.operation, details)
    text = [
        f"{action.description}: {reason.get('Code')}"
        + (f" ({reason['Message']})" if reason.get("Message") else "")
        for action, reason in failed
    ]
    return TransactionCanceledError(
        error.code,
        "transaction canceled: " + ("; ".join(text) or error.message),
        operation=error.operation,
        details=details,
    )


def transact_get(requests: Sequence[tuple[type[Entity], Mapping[str, Any]]]) -> Flow[list[Any]]:
    """TransactGetItems: a consistent snapshot of up to 100 items of any entities;
    the entities in order (None where absent)."""
    items = [
        {"Get": {"TableName": cls.__singletable__.table.name, "Key": _key(cls, key, "get", ())}}
        for cls, key in requests
    ]
    response = yield "TransactGetItems", {"TransactItems": items}
    out: list[Any] = []
    for (cls, _), answer in zip(requests, response.get("Responses", ()), strict=False):
        item = answer.get("Item")
        out.append(None if item is None else cls.from_item(item))
    return out


def _name(entity: Entity) -> str:
    return f"{type(entity).__name__} {_describe(type(entity).__singletable__, entity)}"


def _shown(key: Mapping[str, Any]) -> str:
    return "(" + ", ".join(f"{k}={_value_text(v)}" for k, v in key.items()) + ")"


def _value_text(value: Any) -> str:
    """A key value for messages: datetimes and dates in ISO form, others as repr."""
    if isinstance(value, datetime | date):
        return value.isoformat()
    return repr(value)


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


def delete(
    cls: type[E],
    key: Mapping[str, Any],
    *,
    must_exist: bool = False,
    condition: Condition | None = None,
) -> Flow[E | None]:
    """DeleteItem; returns the deleted entity (None if there was none).

    ``must_exist`` and ``condition`` make it conditional (:class:`ConditionFailedError`).
    """
    if cls.__singletable__.unique:  # with its guard items, in a transaction
        action = tx_delete(cls, key, must_exist=must_exist, condition=condition)
        try:
            (old,) = yield from _transact([action])
        except TransactionCanceledError as error:
            raise _entity_failure(error) from None
        return None if old is None else cls.from_item(old)
    request = _delete_body(cls, key, must_exist, condition)
    request["ReturnValues"] = "ALL_OLD"
    response = yield "DeleteItem", request
    old = response.get("Attributes")
    return None if old is None else cls.from_item(old)


def json_key(value: Mapping[str, Any]) -> str:
    """A key attribute's identity text (its type and value)."""
    ((kind, raw),) = value.items()
    return f"{kind}:{raw}"


def _describe(model: Any, entity: Entity) -> str:
    pk, sk = model.index_keys(None)
    values = entity.__dict__
    fields = list(pk.fields) + (list(sk.fields) if sk is not None else [])
    return "(" + ", ".join(f"{name}={_value_text(values.get(name))}" for name in fields) + ")"


def _put_failure(
    mode: PutMode,
    version: str | None,
    version_value: int | None,
    condition: Condition | None,
    error: ConditionFailedError,
) -> str:
    stored = error.item
    if mode == "create" and stored is not None:
        return "already exists"
    if mode == "replace" and stored is None:
        return "does not exist"
    if version is not None and stored is not None and condition is None and version_value == 0:
        return "already exists (a version of 0 means a new entity)"
    if version is not None and stored is None and mode != "create":
        return "does not exist (a version above 0 means it was read from the table)"
    return "the condition did not hold"
