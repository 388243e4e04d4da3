"""The modelling layer's operations, each one sans-I/O flow (see :mod:`._flows`).

Every function here builds DynamoDB wire requests from entities and patterns,
yields them, and turns the responses back into entities. Nothing here knows
which backend runs it, or whether it runs sync or async.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import TYPE_CHECKING, Any, Literal, TypeVar

from singletable._flows import SLEEP, Flow, now
from singletable._keyargs import key_arguments
from singletable._values import Item
from singletable.codec import from_attribute
from singletable.conditions import attribute, expression_parameters
from singletable.entity import key_item, table_key, validated
from singletable.errors import (
    ConditionFailedError,
    InvalidValueError,
    ItemNotFoundError,
    RequestError,
    TableInUseError,
    ThrottledError,
    TransactionCanceledError,
    VersionConflictError,
)

if TYPE_CHECKING:
    from singletable.conditions import Condition
    from singletable.entity import Entity, EntityModel
    from singletable.table import Table
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


def _write_condition(
    model: EntityModel, mode: PutMode, version: int | None, condition: Condition | None
) -> Condition | None:
    """The condition of a write: its mode, its version check and the caller's."""
    pk = attribute(model.table.primary.pk)
    parts: list[Condition] = []
    if mode == "create" or (mode == "upsert" and version == 0):
        parts.append(pk.not_exists())
    elif mode == "replace":
        parts.append(pk.exists())
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


def put_request(
    entity: E, mode: PutMode, condition: Condition | None = None
) -> tuple[E, dict[str, Any]]:
    """The entity as it will be stored (version bumped, timestamps set) and the body
    of its PutItem (also a TransactWriteItems ``Put``)."""
    entity = validated(entity)
    cls = type(entity)
    model = cls.__singletable__
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
    stored = entity.model_copy(update=changes) if changes else entity
    request: dict[str, Any] = {"TableName": model.table.name, "Item": stored.to_item()}
    combined = _write_condition(model, mode, version, condition)
    if combined is not None:
        request.update(expression_parameters(condition=combined))
    return stored, request


def put(entity: E, *, mode: PutMode = "upsert", condition: Condition | None = None) -> Flow[E]:
    """PutItem of ``entity``; returns what was stored (version and timestamps set).

    ``mode``: ``"create"`` fails if the item exists, ``"replace"`` if it does not,
    ``"upsert"`` writes either way. With a version field, the write also requires
    the stored version to be the entity's (a new entity has version 0), and stores
    the next one; ``condition`` must hold too. The error of a failed check is
    :class:`ConditionFailedError` (with the stored item, if any).
    """
    stored, request = put_request(entity, mode, condition)
    request["ReturnValuesOnConditionCheckFailure"] = "ALL_OLD"
    try:
        yield "PutItem", request
    except ConditionFailedError as error:
        cls = type(stored)
        version_field = cls.__singletable__.version
        before = getattr(entity, version_field) if version_field is not None else None
        if version_field is not None and before and mode != "create":
            conflict = _version_conflict(cls, before, error, f"{_name(stored)}: ")
            if conflict is not None:
                raise conflict from None
        reason = _put_failure(mode, version_field, before, condition, error)
        raise ConditionFailedError(
            error.code,
            f"{_name(stored)}: {reason}",
            operation=error.operation,
            details=error.details,
        ) from None
    return stored


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
    given = key_arguments(cls, key, "update", _UPDATE_OPTIONS, extra=sorted(model.key_fields))
    key = {name: given[name] for name in model.table_key_fields}
    table_pk, table_sk = model.index_keys(None)
    table_fields = set(table_pk.fields) | set(table_sk.fields if table_sk is not None else ())
    touched = changes.fields
    changed_keys = sorted(touched & table_fields)
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
    parts = [attribute(model.table.primary.pk).exists()]
    if expected_version is not None and model.version is not None:
        parts.append(getattr(cls, model.version) == expected_version)
    if condition is not None:
        parts.append(condition)
    combined = parts[0]
    for part in parts[1:]:
        combined = combined & part
    body: dict[str, Any] = {"TableName": model.table.name, "Key": table_key(cls, key)}
    body.update(expression_parameters(update=changes, condition=combined))
    return body


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
    request = update_body(cls, key, changes, condition, expected_version=expected_version)
    request["ReturnValues"] = "ALL_NEW"
    request["ReturnValuesOnConditionCheckFailure"] = "ALL_OLD"
    try:
        response = yield "UpdateItem", request
    except ConditionFailedError as error:
        if expected_version is not None and cls.__singletable__.version is not None:
            conflict = _version_conflict(
                cls, expected_version, error, f"{cls.__name__} {_shown(key)}: "
            )
            if conflict is not None:
                raise conflict from None
        found = "does not exist" if error.item is None else "did not meet the condition"
        raise ConditionFailedError(
            error.code,
            f"{cls.__name__} {_shown(key)}: {found}",
            operation=error.operation,
            details=error.details,
        ) from None
    return cls.from_item(response["Attributes"])


# --------------------------------------------------------------------------- transactions


@dataclass
class TxAction:
    """One action of a write transaction, in wire form, with what it is about."""

    kind: Literal["Put", "Delete", "ConditionCheck", "Update"]
    body: dict[str, Any]
    description: str
    key: dict[str, Any]
    """The item's table key (wire shape): one action per item in a transaction."""
    stored: Entity | None = None


def tx_put(
    entity: Entity, mode: PutMode = "upsert", condition: Condition | None = None
) -> TxAction:
    """A transaction ``Put`` (with the version and mode conditions of :func:`put`)."""
    stored, body = put_request(entity, mode, condition)
    key = table_key(type(entity), entity.__dict__)
    return TxAction("Put", body, f"put {_name(stored)}", key, stored)


def tx_delete(
    cls: type[Entity],
    key: Mapping[str, Any],
    *,
    must_exist: bool = False,
    condition: Condition | None = None,
) -> TxAction:
    """A transaction ``Delete``."""
    body = _delete_body(cls, key, must_exist, condition)
    return TxAction("Delete", body, f"delete {cls.__name__} {_shown(key)}", body["Key"])


def tx_check(cls: type[Entity], key: Mapping[str, Any], condition: Condition) -> TxAction:
    """A transaction ``ConditionCheck``: ``condition`` must hold on the item."""
    model = cls.__singletable__
    body: dict[str, Any] = {"TableName": model.table.name, "Key": _key(cls, key, "check", ())}
    body.update(expression_parameters(condition=condition))
    return TxAction("ConditionCheck", body, f"check {cls.__name__} {_shown(key)}", body["Key"])


def tx_update(
    cls: type[Entity],
    key: Mapping[str, Any],
    changes: Update,
    condition: Condition | None = None,
    expected_version: int | None = None,
) -> TxAction:
    """A transaction ``Update`` (index keys recomputed and the version checked as
    :func:`update` does)."""
    body = update_body(cls, key, changes, condition, expected_version=expected_version)
    return TxAction("Update", body, f"update {cls.__name__} {_shown(key)}", body["Key"])


def transact_write(actions: Sequence[TxAction], token: str | None = None) -> Flow[list[Any]]:
    """TransactWriteItems; returns what each Put stored (None for other actions).

    A canceled transaction raises :class:`TransactionCanceledError` whose message
    names each action that failed and why (``reasons`` keeps DynamoDB's list).
    """
    if not actions:
        return []
    if len(actions) > 100:
        raise InvalidValueError(f"a transaction takes at most 100 actions, not {len(actions)}")
    seen: dict[str, TxAction] = {}
    for action in actions:
        identity = (
            action.body["TableName"]
            + "|"
            + "|".join(f"{name}={json_key(value)}" for name, value in sorted(action.key.items()))
        )
        if identity in seen:
            raise InvalidValueError(
                f"transaction: {seen[identity].description} and {action.description} are "
                "on the same item (DynamoDB allows one action per item)"
            )
        seen[identity] = action
    request: dict[str, Any] = {"TransactItems": [{a.kind: a.body} for a in actions]}
    if token is not None:
        request["ClientRequestToken"] = token
    try:
        yield "TransactWriteItems", request
    except TransactionCanceledError as error:
        failed = [
            f"{action.description}: {reason.get('Code')}"
            + (f" ({reason['Message']})" if reason.get("Message") else "")
            for action, reason in zip(actions, error.reasons, strict=False)
            if reason.get("Code") not in (None, "None")
        ]
        raise TransactionCanceledError(
            error.code,
            "transaction canceled: " + ("; ".join(failed) or error.message),
            operation=error.operation,
            details=error.details,
        ) from None
    return [action.stored for action in actions]


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
    request = _delete_body(cls, key, must_exist, condition)
    request["ReturnValues"] = "ALL_OLD"
    response = yield "DeleteItem", request
    old = response.get("Attributes")
    return None if old is None else cls.from_item(old)


# --------------------------------------------------------------------------- batches

BATCH_GET_SIZE = 100
BATCH_WRITE_SIZE = 25
MAX_BATCH_ATTEMPTS = 8


def _backoff(attempt: int) -> float:
    """Seconds to wait before retry ``attempt`` (1, 2, ...): exponential, capped at 2 s."""
    return float(min(2.0, 0.025 * 2 ** (attempt - 1)))


def get_many(
    cls: type[E], keys: Sequence[Mapping[str, Any]], *, consistent: bool = False
) -> Flow[list[E | None]]:
    """BatchGetItem in chunks of 100, retrying unprocessed keys with backoff; the
    entities in the order of ``keys`` (None where there is no item)."""
    model = cls.__singletable__
    table = model.table.name
    wire_keys = [_key(cls, key, "get_many", ()) for key in keys]
    primary = model.table.primary
    names = [primary.pk] + ([primary.sk] if primary.sk is not None else [])

    def identity(key: Mapping[str, Any]) -> str:
        return "\x00".join(json_key(key[name]) for name in names)

    found: dict[str, E] = {}
    unique = list({identity(k): k for k in wire_keys}.values())
    for start in range(0, len(unique), BATCH_GET_SIZE):
        pending: list[dict[str, Any]] = unique[start : start + BATCH_GET_SIZE]
        attempt = 0
        while pending:
            request: dict[str, Any] = {"Keys": pending}
            if consistent:
                request["ConsistentRead"] = True
            try:
                response = yield "BatchGetItem", {"RequestItems": {table: request}}
            except ThrottledError:
                # None of the batch could be read (API Reference, BatchGetItem): retried
                # with the same backoff, as the AWS SDKs retry it.
                response = {"UnprocessedKeys": {table: request}}
            for item in response.get("Responses", {}).get(table, ()):
                found[identity(item)] = cls.from_item(item)
            pending = response.get("UnprocessedKeys", {}).get(table, {}).get("Keys", [])
            if pending:
                attempt += 1
                if attempt >= MAX_BATCH_ATTEMPTS:
                    raise ThrottledError(
                        "ProvisionedThroughputExceededException",
                        f"{len(pending)} keys still unprocessed after {attempt} attempts",
                        operation="BatchGetItem",
                    )
                yield SLEEP, {"seconds": _backoff(attempt)}
    return [found.get(identity(k)) for k in wire_keys]


def write_many(
    puts: Sequence[Entity], deletes: Sequence[tuple[type[Entity], Mapping[str, Any]]]
) -> Flow[int]:
    """BatchWriteItem in chunks of 25 writes (on one table or several), retrying
    unprocessed items with backoff; returns how many writes were made. No
    conditions, no versions: a batch write is unconditional in DynamoDB. Every
    entity and key is checked before the first request is sent."""
    requests: list[tuple[str, dict[str, Any]]] = []
    for entity in puts:
        table = type(entity).__singletable__.table.name
        requests.append((table, {"PutRequest": {"Item": validated(entity).to_item()}}))
    for cls, key in deletes:
        table = cls.__singletable__.table.name
        requests.append((table, {"DeleteRequest": {"Key": _key(cls, key, "write_many", ())}}))
    for start in range(0, len(requests), BATCH_WRITE_SIZE):
        pending: dict[str, list[dict[str, Any]]] = {}
        for table, request in requests[start : start + BATCH_WRITE_SIZE]:
            pending.setdefault(table, []).append(request)
        attempt = 0
        while pending:
            try:
                response = yield "BatchWriteItem", {"RequestItems": pending}
            except ThrottledError:
                # None of the batch could be written (API Reference, BatchWriteItem):
                # retried with the same backoff, as the AWS SDKs retry it.
                response = {"UnprocessedItems": pending}
            pending = {
                table: list(left)
                for table, left in response.get("UnprocessedItems", {}).items()
                if left
            }
            if pending:
                attempt += 1
                if attempt >= MAX_BATCH_ATTEMPTS:
                    count = sum(len(left) for left in pending.values())
                    raise ThrottledError(
                        "ProvisionedThroughputExceededException",
                        f"{count} writes still unprocessed after {attempt} attempts",
                        operation="BatchWriteItem",
                    )
                yield SLEEP, {"seconds": _backoff(attempt)}
    return len(requests)


def json_key(value: Mapping[str, Any]) -> str:
    """A key attribute's identity text (its type and value)."""
    ((kind, raw),) = value.items()
    return f"{kind}:{raw}"


def scan(cls: type[E], *, page_size: int | None = None) -> Flow[list[E]]:
    """Every item of ``cls`` in the table: a Scan filtered on the entity-type
    attribute, plus items without one whose table key has this entity's shape
    (written by other code). It reads, and is billed for, the whole table."""
    model = cls.__singletable__
    request: dict[str, Any] = {
        "TableName": model.table.name,
        "FilterExpression": "#type = :type OR attribute_not_exists(#type)",
        "ExpressionAttributeNames": {"#type": model.table.type_attribute},
        "ExpressionAttributeValues": {":type": {"S": model.type_name}},
    }
    if page_size is not None:
        request["Limit"] = page_size
    items: list[E] = []
    while True:
        response = yield "Scan", request
        items.extend(
            cls.from_item(item)
            for item in response.get("Items", ())
            if model.table.type_attribute in item or model.owns(item)
        )
        last = response.get("LastEvaluatedKey")
        if last is None:
            return items
        request = {**request, "ExclusiveStartKey": last}


def create_table(table: Table, *, exist_ok: bool = False) -> Flow[bool]:
    """CreateTable with every index the model needs, then TTL on the table's TTL
    attribute if it has one; False if the table existed (``exist_ok``)."""
    created = True
    try:
        yield "CreateTable", table.create_table_request()
    except TableInUseError:
        if not exist_ok:
            raise
        created = False
    if table.ttl_attribute is not None:
        # DynamoDB refuses UpdateTimeToLive while the table is CREATING: wait for ACTIVE
        # (the local engine creates tables ACTIVE, so this costs one DescribeTable there).
        for attempt in range(1, 121):
            described = yield "DescribeTable", {"TableName": table.name}
            if described.get("Table", {}).get("TableStatus") == "ACTIVE":
                break
            yield SLEEP, {"seconds": min(2.0, 0.1 * attempt)}
        request = {
            "TableName": table.name,
            "TimeToLiveSpecification": {"Enabled": True, "AttributeName": table.ttl_attribute},
        }
        try:
            yield "UpdateTimeToLive", request
        except RequestError as error:
            if created or "already enabled" not in error.message:
                raise  # an existing table with TTL already on is fine
    return created


def delete_table(table: Table) -> Flow[None]:
    """DeleteTable."""
    yield "DeleteTable", {"TableName": table.name}


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


def check_positive(name: str, value: int | None) -> None:
    """Refuse a limit or page size that is not a positive int."""
    if value is not None and (not isinstance(value, int) or value < 1):
        raise InvalidValueError(f"{name} must be a positive int, not {value!r}")
