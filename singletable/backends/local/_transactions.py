"""TransactWriteItems and TransactGetItems: all-or-nothing writes, consistent reads.

A write transaction goes through three checking phases before it runs, in the
order DynamoDB reports problems (captured against DynamoDB by
paritysuite/dynamodb-conformance, tests/tier3/validation-ordering/transactions.test.ts):

1. member constraints of the whole request (TransactItems length, the token's
   length, the enums, missing members), all in one "N validation errors detected";
2. each action in request order, without looking at any table: its values (the
   Put item, its size, the Key values) and its expressions (syntax, unused
   names and values);
3. with the tables: an unknown table (ResourceNotFoundException), an empty key
   value, an update of a key attribute, two actions on one item, the 4 MB total.

Every failure so far rejects the whole request with a plain exception. Then,
under ``engine.lock``, each action is evaluated against the current items;
what fails here becomes that action's *cancellation reason* (a failed condition,
a key that does not match the schema, an update that fails on the item's data
or makes it too large, a bad index key) and the request fails with
TransactionCanceledException, its CancellationReasons in request order and
``{"Code": "None"}`` for the actions that would have succeeded. Otherwise all
the changes are applied by one :func:`._write.commit`, still under the lock:
no reader (they read under the lock too) ever sees half a transaction.

The split between plain errors and cancellation reasons follows what DynamoDB
answers (same capture, tests/tier3/error-messages/transactWriteItems.test.ts and
tests/tier3/limits/itemSizeBySurface.test.ts): an empty key value or an
oversized Put item is refused up front, a wrong-typed key or an Update that
outgrows 400 KB is a ValidationError reason. Transactions are serialized by the
engine lock, so the TransactionConflict reason never arises here: concurrent
transactions on one item simply run one after the other (a valid linearization).

A request of a shape seen before (the same members, tables, expressions and
value types) runs the shape's compiled program instead (:mod:`._tx_programs`),
which does only the checks that depend on the values, and hands anything unusual
back to the general path above before anything is written. The request checks of
:mod:`._request_check` (lone surrogates, depth) are run here, first thing on the
general path, not by the engine's dispatch: a program's requests need none.

ClientRequestToken (API Reference, TransactWriteItems): the same token with the
same TransactItems within 10 minutes of a success returns success again without
applying anything (capacity then reports the reads of the items, as DynamoDB
documents); the same token with other items is IdempotentParameterMismatchException.
boto3 sends a fresh token with every call (the member is an idempotency token in
the service model), so the store is bounded: entries expire after 10 minutes by
``engine.clock()`` and the oldest go first beyond :data:`MAX_TOKENS`.
"""

from __future__ import annotations

import hashlib
import json
import weakref
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from singletable._values import (
    InvalidValue,
    Item,
    check_nesting,
    item_size,
    validate_value,
)
from singletable.backends.local._capacity import read_units, write_units
from singletable.backends.local._collections import has_local_indexes, table_metrics
from singletable.backends.local._exprs import RequestExpressions, invalid_value
from singletable.backends.local._items import find_table, validated_item
from singletable.backends.local._params import Checks
from singletable.backends.local._request_check import check_request
from singletable.backends.local._schema import TableDef
from singletable.backends.local._tx_programs import (
    MAX_TRANSACTION_BYTES,
    Program,
    Step,
    program_for,
    remember,
)
from singletable.backends.local._update import MAX_ITEM_BYTES
from singletable.backends.local._write import Change, commit
from singletable.backends.local.errors import (
    DynamoDBError,
    transaction_cancelled,
    validation_error,
)
from singletable.expressions import Condition, ExpressionError, Projection, Update

if TYPE_CHECKING:
    from singletable.backends.local.engine import LocalEngine

__all__ = [
    "MAX_ACTIONS",
    "MAX_TOKENS",
    "TOKEN_LIFETIME",
    "transact_get_items",
    "transact_write_items",
]

MAX_ACTIONS = 100
TOKEN_LIFETIME = 600.0
"""Seconds a ClientRequestToken stays valid after the request that used it succeeded."""
MAX_TOKENS = 100_000
"""At most this many tokens are remembered (the oldest are forgotten first)."""

_WRITE_KINDS = ("ConditionCheck", "Put", "Delete", "Update")
# What each action requires besides TableName (the service model's required members).
_REQUIRED = {
    "ConditionCheck": ("Key", "ConditionExpression"),
    "Put": ("Item",),
    "Delete": ("Key",),
    "Update": ("Key", "UpdateExpression"),
    "Get": ("Key",),  # (TransactGetItems)
}
# The expression members an action may carry; anything else in it is ignored.
_EXPRESSION_MEMBERS = (
    "ConditionExpression",
    "UpdateExpression",
    "ProjectionExpression",
    "ExpressionAttributeNames",
    "ExpressionAttributeValues",
)
_CAPACITY_MODES = ("INDEXES", "TOTAL", "NONE")

_DUPLICATE = "Transaction request cannot include multiple operations on one item"
# moto's text; DynamoDB's answer to an action with none or several of Put/Update/... is
# not captured anywhere we could find.
_ONE_KIND = "TransactItems can only contain one of Check, Put, Update or Delete"
# dynoxide's text (nubo-db/dynoxide, src/actions/transact_write_items.rs); not confirmed.
_TOO_BIG = (
    "Collection size of items exceeded, which can also be caused by the aggregate size of "
    "the items in the transaction exceeding the 4MB limit"
)
_FAILED_CONDITION = "The conditional request failed"
_LENGTH = "Member must have length "


# --------------------------------------------------------------------------- request shape


def _transact_items(checks: Checks) -> list[Any]:
    """TransactItems: a list of 1 to 100 entries (violations recorded in ``checks``)."""
    raw = checks.required("TransactItems")
    if raw is None:
        return []
    if not isinstance(raw, list):
        raise DynamoDBError(
            "SerializationException",
            "Start of structure or map found where not expected."
            if isinstance(raw, dict)
            else "Unexpected value type in payload for TransactItems",
        )
    if not raw:
        # The text 30 of 33 regions give (paritysuite/dynamodb-conformance, 2026-10).
        checks.fail("transactItems", "[]", "Member must have length greater than or equal to 1")
    elif len(raw) > MAX_ACTIONS:
        # The older cohort echoes the whole list in Java's toString form (not reproducible
        # byte for byte); this is the newer cohort's text, which names the member.
        checks.errors.append(
            "Value at 'TransactItems' failed to satisfy constraint: "
            f"Member must have length less than or equal to {MAX_ACTIONS}"
        )
    return raw


def _serialization(member: str) -> DynamoDBError:
    return DynamoDBError("SerializationException", f"Unexpected value type in payload for {member}")


def _body(raw: Any, kind: str) -> dict[str, Any]:
    if not isinstance(raw, dict):
        raise _serialization(kind)
    return raw


def _require(checks: Checks, body: dict[str, Any], position: int, kind: str) -> None:
    for name in ("TableName", *_REQUIRED[kind]):
        if body.get(name) is None:
            member = f"{_path(position, kind)}.{name[:1].lower()}{name[1:]}"
            checks.fail(member, None, "Member must not be null")
    table_name = body.get("TableName")
    if table_name is not None and not isinstance(table_name, str):
        raise _serialization("TableName")


def _path(position: int, kind: str) -> str:
    """The member path of action ``position`` (from 1) of ``kind``, for messages."""
    return f"transactItems.{position}.member.{kind[:1].lower()}{kind[1:]}"


def _key_values(raw_key: Any) -> Item:
    """The Key's values, checked as DynamoDB checks any value (before any table)."""
    if not isinstance(raw_key, dict):
        raise _serialization("Key")
    try:
        return {name: validate_value(value, name) for name, value in raw_key.items()}
    except InvalidValue as error:
        raise invalid_value(error) from None


def _key_size(raw_key: Any) -> int:
    """The size of a Key (for the 4 MB total), its values checked (:func:`_key_values`):
    ASCII names and strings, the common key, are measured as they are."""
    if type(raw_key) is dict:
        size = 0
        for name, value in raw_key.items():
            if type(value) is dict and len(value) == 1 and type(name) is str and name.isascii():
                raw = value.get("S")
                if type(raw) is str and raw.isascii():
                    size += len(name) + len(raw)
                    continue
            break
        else:
            return size
    return item_size(_key_values(raw_key))


def _expressions(body: dict[str, Any]) -> RequestExpressions:
    return RequestExpressions({name: body[name] for name in _EXPRESSION_MEMBERS if name in body})


def _check_key_values(table: TableDef, source: dict[str, Any]) -> None:
    """Reject an empty key value up front, as DynamoDB does in a transaction.

    A key value of the wrong type is not rejected here: it becomes the action's
    cancellation reason (see the module docstring), and so does an oversized one
    (not captured: which way DynamoDB reports that one is unconfirmed).
    """
    for attr in (table.hash, table.range):
        if attr is None or attr.type == "N":
            continue
        value = source.get(attr.name)
        if isinstance(value, dict) and len(value) == 1 and value.get(attr.type) == "":
            table.encode_value(attr, value)  # raises DynamoDB's empty-key-value error


def _check_index_key_values(table: TableDef, item: Item) -> None:
    """Reject a Put item with an empty index key value up front (a wrong type is a reason).

    The same split as for table keys (nubo-db/dynoxide PR #99, captured in eu-west-2).
    """
    for index in sorted(table.indexes, key=lambda index: index.name):
        index.check_not_empty(item)  # raises DynamoDB's empty-index-key error


# --------------------------------------------------------------------------- write actions


@dataclass(slots=True)
class _Action:
    """One TransactWriteItems action, as it moves through the checking phases."""

    kind: str
    body: dict[str, Any]
    on_failure: str | None = None
    item: Item | None = None  # Put: the canonical item
    size: int = 0  # Put: the item's size; others: the key's (for the 4 MB total)
    condition: Condition | None = None
    update: Update | None = None
    table: TableDef | None = None
    pk: bytes = b""
    sk: bytes = b""
    key_problem: str | None = None  # a key that does not match the schema: a cancellation
    # Put: whether the item's index keys surely pass the checks (TableDef.index_keys_plain)
    plain_indexes: bool | None = None
    # Whether every check of its expressions depends on their shape alone (._tx_programs)
    planned: bool = True


def _parse_write(checks: Checks, position: int, raw: Any) -> _Action | None:
    """Phase 1 for one action; None when it names none or several action kinds."""
    if not isinstance(raw, dict):
        raise DynamoDBError("SerializationException", "Unexpected value type in payload")
    kind = None
    for name in _WRITE_KINDS:
        if raw.get(name) is not None:
            if kind is not None:
                return None
            kind = name
    if kind is None:
        return None
    body = _body(raw[kind], kind)
    _require(checks, body, position, kind)
    on_failure = body.get("ReturnValuesOnConditionCheckFailure")
    if on_failure is not None and on_failure not in ("ALL_OLD", "NONE"):
        checks.fail(
            f"{_path(position, kind)}.returnValuesOnConditionCheckFailure",
            on_failure,
            "Member must satisfy enum value set: [ALL_OLD, NONE]",
        )
    return _Action(kind, body, on_failure)


def _compile(action: _Action) -> None:
    """Phase 2: the action's values and expressions, without any table."""
    body = action.body
    if action.kind == "Put":
        action.item, action.size = validated_item(body["Item"])  # (as PutItem's)
        if action.size > MAX_ITEM_BYTES:
            raise validation_error("Item size has exceeded the maximum allowed size")
    else:
        action.size = _key_size(body["Key"])
    if body.keys().isdisjoint(_EXPRESSION_MEMBERS):
        return  # (a Put or Delete without expressions: nothing to bind or check)
    expressions = _expressions(body)
    if action.kind == "Update":
        action.update = expressions.update()
    action.condition = expressions.condition()
    expressions.finish()
    action.planned = expressions.planned


def _bind(engine: LocalEngine, action: _Action) -> None:
    """Phase 3: the table, the encoded key, the checks that need the table."""
    table = action.table = find_table(engine, action.body["TableName"])
    source = action.item if action.item is not None else action.body["Key"]
    _check_key_values(table, source)
    if action.item is not None and table.indexes:
        action.plain_indexes = table.index_keys_plain(action.item)
        if not action.plain_indexes:
            _check_index_key_values(table, action.item)
    try:
        if action.item is not None:
            action.pk, action.sk = table.key_from_item(action.item)
        else:
            action.pk, action.sk = table.key_from_request(source)
    except DynamoDBError as error:
        action.key_problem = error.message
    if action.update is not None:
        for name in table.key_names:
            if name in action.update.top_level_names:
                raise validation_error(
                    "One or more parameter values were invalid: Cannot update attribute "
                    f"{name}. This attribute is part of the key"
                )


def _reject_duplicates(targets: list[tuple[TableDef | None, bytes, bytes, str | None]]) -> None:
    seen: set[tuple[str, bytes, bytes]] = set()
    for table, pk, sk, problem in targets:
        if table is None or problem is not None:
            continue
        target = (table.name, pk, sk)
        if target in seen:
            raise validation_error(_DUPLICATE)
        seen.add(target)


def _new_state(action: _Action, old: Item | None, old_size: int) -> tuple[Item | None, int]:
    """The item after ``action`` (and its size); raises DynamoDBError for a bad result."""
    table = action.table
    assert table is not None
    if action.kind == "Delete":
        return None, 0
    if action.kind == "ConditionCheck":
        return old, old_size
    if action.kind == "Put":
        assert action.item is not None
        if table.indexes and not action.plain_indexes:
            table.check_index_keys(action.item)
        return action.item, action.size
    assert action.update is not None
    if old is None and action.update.only_removes:
        return None, 0  # removing from a missing item creates nothing (see _items)
    base = old if old is not None else {
        name: validate_value(action.body["Key"][name], name) for name in table.key_names
    }
    try:
        new = action.update.apply(base, new_item=old is None)
        check_nesting(new.get(name) for name in action.update.top_level_names)
    except InvalidValue as error:
        raise DynamoDBError(error.code, error.message) from None
    except ExpressionError as error:
        raise validation_error(error.message) from None
    size = item_size(new)
    # A transacted Update is measured on the whole finished item (the same capture).
    if size > MAX_ITEM_BYTES:
        raise validation_error("Item size to update has exceeded the maximum allowed size")
    table.check_index_keys(new, updating=True)
    return new, size


def _evaluate(action: _Action) -> tuple[dict[str, Any] | None, Change | None, float]:
    """Run one action against the current items: (reason or None, change, write units)."""
    if action.key_problem is not None:
        return {"Code": "ValidationError", "Message": action.key_problem}, None, 0.0
    table = action.table
    assert table is not None
    store = table.store
    old = store.get(action.pk, action.sk)
    old_size = store.size_of(action.pk, action.sk) if old is not None else 0
    if action.condition is not None and not action.condition.matches(old or {}):
        reason: dict[str, Any] = {"Code": "ConditionalCheckFailed", "Message": _FAILED_CONDITION}
        if action.on_failure == "ALL_OLD" and old is not None:
            reason["Item"] = old
        return reason, None, 0.0
    try:
        new, size = _new_state(action, old, old_size)
    except DynamoDBError as error:
        return {"Code": "ValidationError", "Message": error.message}, None, 0.0
    # Transactional writes cost twice the units of the same writes outside a transaction.
    units = 2 * write_units(max(old_size, size))
    if action.kind == "ConditionCheck":
        return None, None, units
    return None, Change(table, action.pk, action.sk, old, new, size), units


# Units spent in each table's indexes: {table: {index: (units, is_local)}}.
_IndexUnits = dict[str, dict[str, tuple[float, bool]]]


def _consumed(
    mode: str | None, units: dict[str, float], kind: str, index_units: _IndexUnits | None = None
) -> list[dict[str, Any]]:
    """ConsumedCapacity entries, one per table, with ``{kind}CapacityUnits`` (Read/Write).

    Index writes count in the table's total; INDEXES mode itemizes them (as the
    single-item writes do, see :func:`._capacity.consumed`).
    """
    entries = []
    for name, value in units.items():
        spent = {
            index: cost for index, cost in (index_units or {}).get(name, {}).items() if cost[0]
        }
        total = value + sum(cost for cost, _ in spent.values())
        entry: dict[str, Any] = {
            "TableName": name,
            "CapacityUnits": total,
            f"{kind}CapacityUnits": total,
        }
        if mode == "INDEXES":
            entry["Table"] = {"CapacityUnits": value, f"{kind}CapacityUnits": value}
            for index, (cost, is_local) in spent.items():
                group = "LocalSecondaryIndexes" if is_local else "GlobalSecondaryIndexes"
                entry.setdefault(group, {})[index] = {
                    "CapacityUnits": cost,
                    f"{kind}CapacityUnits": cost,
                }
        entries.append(entry)
    return entries


def _index_units(changes: list[Change]) -> _IndexUnits:
    """What the changes cost in the tables' indexes.

    Charged at the ordinary rate, not doubled: index entries are maintained
    outside the transaction protocol (GSIs asynchronously). Not confirmed against
    DynamoDB.
    """
    spent: _IndexUnits = {}
    for change in changes:
        table = change.table
        if not table.indexes:
            continue
        per_index = spent.setdefault(table.name, {})
        costs = table.index_write_costs(change.pk, change.sk, change.old, change.new)
        for index, (cost, is_local) in costs.items():
            before = per_index.get(index, (0.0, is_local))[0]
            per_index[index] = (before + cost, is_local)
    return spent


def transact_write_items(engine: LocalEngine, request: dict[str, Any]) -> dict[str, Any]:
    """TransactWriteItems: up to 100 actions across tables, applied all or none."""
    program = program_for(engine, request)
    if program is not None:
        response = _by_program(engine, program, request)
        if response is not None:
            return response
    return _transact_write(
        engine, request, known=program is not None and program.bound_to(engine)
    )


def _by_program(
    engine: LocalEngine, program: Program, request: dict[str, Any]
) -> dict[str, Any] | None:
    """Run a request of a known shape by its program (._tx_programs); None: nothing
    was written, the general path answers."""
    prepared = program.prepare(engine, request)
    if prepared is None:
        return None
    token = request.get("ClientRequestToken") if program.has_token else None
    capacity_mode = program.capacity
    digest = _fingerprint(request["TransactItems"]) if token is not None else b""
    with engine.lock:
        if token is not None:
            replayed = _token_store(engine).replay(token, digest, engine.clock())
            if replayed is not None:
                return _replay_response(replayed, capacity_mode)
        outcome = program.evaluate(engine, prepared)
        if outcome is None:
            return None
        changes, units = outcome
        index_units = _index_units(changes) if capacity_mode in ("TOTAL", "INDEXES") else None
        commit(engine, changes)
        if token is not None:
            targets = [(table, pk, sk) for _, table, pk, sk, *_ in prepared]
            _token_store(engine).remember(token, digest, engine.clock(), targets)
    if capacity_mode in ("TOTAL", "INDEXES"):
        return {"ConsumedCapacity": _consumed(capacity_mode, units, "Write", index_units)}
    return {}


def _transact_write(engine: LocalEngine, request: dict[str, Any], *, known: bool) -> dict[str, Any]:
    """The general path: every check, in DynamoDB's order (see the module docstring).
    ``known``: a program of the request's shape exists already, for these tables."""
    # The engine leaves these checks to this operation (a program needs none of them).
    check_request("TransactWriteItems", request)
    checks = Checks(request)
    raw_actions = _transact_items(checks)
    token = _token(checks)
    capacity_mode = checks.enum("ReturnConsumedCapacity", _CAPACITY_MODES, "NONE")
    metrics_mode = checks.enum("ReturnItemCollectionMetrics", ("SIZE", "NONE"), "NONE")
    parsed = [_parse_write(checks, i, raw) for i, raw in enumerate(raw_actions, 1)]
    checks.raise_if_any()
    actions = [action for action in parsed if action is not None]
    if len(actions) != len(parsed):
        raise validation_error(_ONE_KIND)
    for action in actions:
        _compile(action)
    digest = _fingerprint(raw_actions) if token is not None else b""
    with engine.lock:
        if token is not None:
            tokens = _token_store(engine)
            replayed = tokens.replay(token, digest, engine.clock())
            if replayed is not None:
                return _replay_response(replayed, capacity_mode)
        total = 0
        for action in actions:
            _bind(engine, action)
            total += action.size
        _reject_duplicates([(a.table, a.pk, a.sk, a.key_problem) for a in actions])
        if total > MAX_TRANSACTION_BYTES:
            raise validation_error(_TOO_BIG)
        # (a request asking for the collections of a table with an LSI is never
        # compiled: this path measures them)
        measured = metrics_mode == "SIZE" and any(
            a.table is not None and has_local_indexes(a.table) for a in actions
        )
        if not known and not measured and all(action.planned for action in actions):
            # Every check that depends on the request's shape alone passed.
            remember(engine, request, [_step(action) for action in actions])
        reasons: list[dict[str, Any]] = []
        changes: list[Change] = []
        units: dict[str, float] = {}
        cancelled = False
        for action in actions:
            if cancelled and reasons[-1]["Code"] == "ValidationError":
                # DynamoDB stops at an action that fails validation: the actions after
                # it are not evaluated and report "None" (paritysuite's capture,
                # tests/tier3/error-messages/transactWriteItems.test.ts).
                reasons.append({"Code": "None"})
                continue
            reason, change, cost = _evaluate(action)
            if reason is None:
                reasons.append({"Code": "None"})
            else:
                reasons.append(reason)
                cancelled = True
            if change is not None:
                changes.append(change)
            assert action.table is not None
            units[action.table.name] = units.get(action.table.name, 0.0) + cost
        if cancelled:
            raise transaction_cancelled(reasons)
        index_units = _index_units(changes) if capacity_mode in ("TOTAL", "INDEXES") else None
        commit(engine, changes)
        if token is not None:
            targets = [(a.table, a.pk, a.sk) for a in actions if a.table is not None]
            _token_store(engine).remember(token, digest, engine.clock(), targets)
        collections = _collections(actions) if measured else {}
    response: dict[str, Any] = {}
    if capacity_mode in ("TOTAL", "INDEXES"):
        response["ConsumedCapacity"] = _consumed(capacity_mode, units, "Write", index_units)
    if collections:
        response["ItemCollectionMetrics"] = collections
    return response


def _collections(actions: list[_Action]) -> dict[str, list[dict[str, Any]]]:
    """The ItemCollectionMetrics of a committed transaction (._collections): per table
    with an LSI, the collections its Put, Update and Delete actions wrote (API
    Reference, TransactWriteItems: "item collections ... affected by individual
    UpdateItem, PutItem, or DeleteItem operations"; a ConditionCheck writes none).
    A replayed ClientRequestToken's answer carries none (nothing is written)."""
    written = [
        (a.table, a.pk, a.item if a.kind == "Put" else a.body.get("Key"))
        for a in actions
        if a.table is not None and a.kind != "ConditionCheck"
    ]
    return table_metrics("SIZE", written)


def _step(action: _Action) -> Step:
    """The program step of a checked action."""
    assert action.table is not None
    condition = action.condition
    return Step(
        action.kind,
        action.table,
        action.body,
        condition.predicate if condition is not None else None,
        action.update.plan if action.update is not None else None,
        condition.top_level_names if condition is not None else frozenset(),
    )


# --------------------------------------------------------------------------- idempotency


def _token(checks: Checks) -> str | None:
    token = checks.string("ClientRequestToken")
    if token is None:
        return None
    if not token:
        checks.fail("clientRequestToken", token, _LENGTH + "greater than or equal to 1")
    elif len(token) > 36:
        checks.fail("clientRequestToken", token, _LENGTH + "less than or equal to 36")
    return token


def _fingerprint(raw_actions: list[Any]) -> bytes:
    """A digest of TransactItems that ignores the order of JSON object members."""
    text = json.dumps(raw_actions, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(text.encode("utf-8")).digest()


_Target = tuple[TableDef, bytes, bytes]


@dataclass(slots=True)
class _Remembered:
    expires: float
    digest: bytes
    targets: list[_Target] = field(default_factory=list)


class _TokenStore:
    """The ClientRequestTokens of successful transactions, oldest first."""

    def __init__(self) -> None:
        self._entries: OrderedDict[str, _Remembered] = OrderedDict()

    def __len__(self) -> int:
        return len(self._entries)

    def _expire(self, now: float) -> None:
        entries = self._entries
        while entries:
            oldest = next(iter(entries.values()))
            if oldest.expires > now and len(entries) <= MAX_TOKENS:
                break
            entries.popitem(last=False)

    def replay(self, token: str, digest: bytes, now: float) -> _Remembered | None:
        """The remembered success for ``token``; mismatching parameters raise."""
        self._expire(now)
        entry = self._entries.get(token)
        if entry is None:
            return None
        if entry.digest != digest:
            # DynamoDB's message text is not confirmed (DynamoDB Local sends none).
            raise DynamoDBError(
                "IdempotentParameterMismatchException",
                "Request token was used with different parameters",
            )
        return entry

    def remember(self, token: str, digest: bytes, now: float, targets: list[_Target]) -> None:
        """Record a success: valid for :data:`TOKEN_LIFETIME` seconds from ``now``."""
        self._entries.pop(token, None)
        self._entries[token] = _Remembered(now + TOKEN_LIFETIME, digest, targets)
        self._expire(now)


_TOKEN_STORES: weakref.WeakKeyDictionary[LocalEngine, _TokenStore] = weakref.WeakKeyDictionary()


def _token_store(engine: LocalEngine) -> _TokenStore:
    """The engine's token store (call with ``engine.lock`` held)."""
    store = _TOKEN_STORES.get(engine)
    if store is None:
        store = _TOKEN_STORES[engine] = _TokenStore()
    return store


def _replay_response(entry: _Remembered, capacity_mode: str | None) -> dict[str, Any]:
    """A repeated success: DynamoDB reports the capacity of reading the items."""
    response: dict[str, Any] = {}
    if capacity_mode in ("TOTAL", "INDEXES"):
        units: dict[str, float] = {}
        for table, pk, sk in entry.targets:
            size = table.store.size_of(pk, sk) if table.store.get(pk, sk) is not None else 0
            units[table.name] = units.get(table.name, 0.0) + 2 * read_units(size, True)
        response["ConsumedCapacity"] = _consumed(capacity_mode, units, "Read")
    return response


# --------------------------------------------------------------------------- gets


@dataclass(slots=True)
class _Get:
    body: dict[str, Any]
    projection: Projection | None = None
    table: TableDef | None = None
    pk: bytes = b""
    sk: bytes = b""
    key_problem: str | None = None


def _parse_get(checks: Checks, position: int, raw: Any) -> _Get:
    if not isinstance(raw, dict):
        raise DynamoDBError("SerializationException", "Unexpected value type in payload")
    path = f"transactItems.{position}.member.get"
    if raw.get("Get") is None:
        checks.fail(path, None, "Member must not be null")
        return _Get({})
    body = _body(raw["Get"], "Get")
    _require(checks, body, position, "Get")
    return _Get(body)


def _compile_get(get: _Get) -> None:
    _key_values(get.body["Key"])
    expressions = _expressions(get.body)
    get.projection = expressions.projection()
    expressions.finish()


def _bind_get(engine: LocalEngine, get: _Get) -> None:
    table = get.table = find_table(engine, get.body["TableName"])
    _check_key_values(table, get.body["Key"])
    try:
        get.pk, get.sk = table.key_from_request(get.body["Key"])
    except DynamoDBError as error:
        get.key_problem = error.message


def transact_get_items(engine: LocalEngine, request: dict[str, Any]) -> dict[str, Any]:
    """TransactGetItems: up to 100 items read at one point in time."""
    checks = Checks(request)
    raw_gets = _transact_items(checks)
    capacity_mode = checks.enum("ReturnConsumedCapacity", _CAPACITY_MODES, "NONE")
    gets = [_parse_get(checks, i, raw) for i, raw in enumerate(raw_gets, 1)]
    checks.raise_if_any()
    for get in gets:
        _compile_get(get)
    with engine.lock:
        for get in gets:
            _bind_get(engine, get)
        _reject_duplicates([(g.table, g.pk, g.sk, g.key_problem) for g in gets])
        if any(get.key_problem is not None for get in gets):
            raise transaction_cancelled([
                {"Code": "ValidationError", "Message": get.key_problem}
                if get.key_problem is not None
                else {"Code": "None"}
                for get in gets
            ])
        # Every item is read under the lock: one snapshot, never half a transaction.
        found = [get.table.store.get(get.pk, get.sk) if get.table else None for get in gets]
        sizes = [
            get.table.store.size_of(get.pk, get.sk) if get.table and item is not None else 0
            for get, item in zip(gets, found, strict=True)
        ]
    responses: list[dict[str, Any]] = []
    units: dict[str, float] = {}
    for get, item, size in zip(gets, found, sizes, strict=True):
        assert get.table is not None
        if item is None:
            responses.append({})
        else:
            responses.append({"Item": get.projection.apply(item) if get.projection else item})
        name = get.table.name
        # Transactional reads cost twice a strongly consistent read.
        units[name] = units.get(name, 0.0) + 2 * read_units(size, True)
    response: dict[str, Any] = {"Responses": responses}
    if capacity_mode in ("TOTAL", "INDEXES"):
        response["ConsumedCapacity"] = _consumed(capacity_mode, units, "Read")
    return response
