"""The modelling layer's operations, each one sans-I/O flow (see :mod:`._flows`).

Every function here builds DynamoDB wire requests from entities and patterns,
yields them, and turns the responses back into entities. Nothing here knows
which backend runs it, or whether it runs sync or async.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar

from singletable._canonical import CanonicalItem
from singletable._flows import Flow
from singletable._requests import (
    _GET_OPTIONS,
    PutMode,
    _delete_body,
    _key,
    _name,
    _put_body,
    _shown,
    _to_store,
    update_body,
)
from singletable._transact import _transact, tx_delete, tx_put, tx_update
from singletable.entity import table_key
from singletable.errors import (
    ConditionFailedError,
    DynamoDBServiceError,
    ItemNotFoundError,
    TransactionCanceledError,
    VersionConflictError,
)

if TYPE_CHECKING:
    from singletable.conditions import Condition
    from singletable.entity import Entity
    from singletable.updates import Update

__all__ = ["PutMode"]

E = TypeVar("E", bound="Entity")


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
    if "ConditionExpression" in request:  # (the stored item, for the error's message)
        request["ReturnValuesOnConditionCheckFailure"] = "ALL_OLD"
    # else a plain upsert, which cannot fail a check: the request is TableName and Item
    # alone, a shape the local engine takes without reading any other member
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
