"""Transactions of the modelling layer, each a sans-I/O flow (see :mod:`._flows`).

Write transactions are built action by action (:class:`TxAction`: ``tx_put``,
``tx_delete``, ``tx_update``, ``tx_check``) from the request bodies of
:mod:`._requests`, completed for entities with unique fields (:mod:`._unique`),
sent as one TransactWriteItems, and a cancellation is turned into the error of
the action that caused it. ``transact_get`` reads a consistent snapshot.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any, Literal

from singletable import _unique as unique
from singletable._flows import Flow
from singletable.conditions import expression_parameters
from singletable.entity import table_key
from singletable.errors import (
    DynamoDBServiceError,
    InvalidValueError,
    TransactionCanceledError,
)

if TYPE_CHECKING:
    from singletable.conditions import Condition
    from singletable.entity import Entity
    from singletable.updates import Update

from singletable._requests import (
    PutMode,
    _delete_body,
    _key,
    _name,
    _put_body,
    _shown,
    _to_store,
    update_body,
)


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
