"""TransactWriteItems compiled per request shape: the fast path of a repeated transaction.

A transaction's *shape* is everything the checks of the request depend on except
the values it carries (see :func:`shape_of`): its top-level members (the token's
presence, not its value), and for each action its kind, its members, the values
of its string members (the table name, the expression texts, the options), what
each ``#name`` stands for and each ``:value``'s type. The first request of a shape
takes the general path (:func:`._transactions.transact_write_items`), which checks
all of it; once such a request has passed every check that depends on its shape
alone (the member checks, the tables, its expressions bound from the plan cache:
``RequestExpressions.planned``, no update of a key attribute), a :class:`Program`
for the shape is remembered here, for that engine and tied to its very tables
(by ``table_id``: a table recreated under the same name gets a program of its own).

A later request of that shape runs the program in two steps, on the same item
sizes, keys, conditions and updates as the general path:

* :meth:`Program.prepare` (outside the lock): what may differ from one request of
  the shape to the next, i.e. the token's length, the Put items' values, the
  keys, the ``:values``, the sizes (400 KB, 4 MB), two actions on one item;
* :meth:`Program.evaluate` (under ``engine.lock``): each action against the
  current items (conditions, updates, index keys): the changes to commit.

Anything out of the ordinary sends the request to the general path *before
anything is written*: a value, key, item or token that fails a check, a size
over a limit, an index key that needs its checks, a condition that does not
hold, an update that cannot be applied. The general path then runs the whole
request and answers what it always answers (its ValidationException, its
TransactionCanceledException with every reason, ...). So a program only ever
ends in an outcome the general path reaches for the same request, by the same
code for the token (``_transactions._by_program``): the committed changes with
the same consumed capacity, a replayed token's success, or the token mismatch.
tests/engine/test_transaction_programs.py compares the two paths request by
request, good and bad.

A ConditionCheck whose condition reads key attributes only (``attribute_exists(PK)``)
is judged, on a memory store, on the key the request names: the stored item holds
the same key values, so the condition has the same outcome without the item being
decoded (:attr:`Step.key_check`).

A program also stands for the request checks of :mod:`._request_check` (valid
Unicode, bounded nesting), which the engine leaves to this operation (see
:func:`._transactions.transact_write_items`): the strings of a shape are the
recorded request's, which passed them; the items, keys and values are validated
here, as those checks skip them on every operation; and the token is a plain
ASCII string of at most 36 characters, or the general path checks the request.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from singletable._values import (
    AttributeValue,
    InvalidValue,
    Item,
    check_nesting,
    item_size,
    validate_item_sized,
    validate_value,
)
from singletable.backends.local._capacity import write_units
from singletable.backends.local._params import MAX_ATTRIBUTE_NAME_BYTES
from singletable.backends.local._update import MAX_ITEM_BYTES, validated_values
from singletable.backends.local._write import Change
from singletable.backends.local.errors import DynamoDBError
from singletable.backends.local.storage import MemoryTableStore
from singletable.expressions import ExpressionError
from singletable.expressions.evaluate import Env, PredicateFn

if TYPE_CHECKING:
    from singletable.backends.local._schema import TableDef
    from singletable.backends.local.engine import LocalEngine
    from singletable.expressions.update import UpdatePlan

__all__ = ["MAX_TRANSACTION_BYTES", "Program", "Step", "program_for", "remember", "shape_of"]

MAX_TRANSACTION_BYTES = 4 * 1024 * 1024
TOKEN = "ClientRequestToken"

_PUT, _CHECK, _DELETE, _UPDATE = "Put", "ConditionCheck", "Delete", "Update"
_KINDS = frozenset((_PUT, _CHECK, _DELETE, _UPDATE))
_NAMES = "ExpressionAttributeNames"
_VALUES = "ExpressionAttributeValues"
# Marks, in a shape, a member whose content the program checks on every request.
_CHECKED = ("checked",)

_EMPTY: Item = {}


# --------------------------------------------------------------------------- shapes


def shape_of(engine: LocalEngine, request: dict[str, Any]) -> tuple[object, ...] | None:
    """The shape of a TransactWriteItems request to ``engine`` (see the module
    docstring), or None for one no program is made for (members of unexpected types,
    an action with several kinds or members that only some kinds take...: the
    general path). Each engine has its own programs (they hold its tables' ids)."""
    raw_actions = request.get("TransactItems")
    if type(raw_actions) is not list:
        return None
    key: list[object] = [id(engine)]
    append = key.append
    for member, value in request.items():
        if member == "TransactItems":
            append(len(raw_actions))
        elif type(value) is str:
            append((member, _CHECKED) if member == TOKEN else (member, value))
        elif value is None:
            append((member, None))
        else:
            return None
    for raw in raw_actions:
        if type(raw) is not dict or len(raw) != 1:
            return None
        for kind, body in raw.items():
            if type(body) is not dict or kind not in _KINDS:
                return None
            append(kind)
            append(len(body))  # (member names and their values follow, in pairs)
            # The member a program validates: Put's Item, the others' Key.
            checked = "Item" if kind == _PUT else "Key"
            for member, value in body.items():
                append(member)
                kind_of = type(value)
                if kind_of is str or value is None:
                    append(value)
                elif kind_of is not dict:
                    return None
                elif member == checked:
                    append(_CHECKED)
                elif member == _NAMES:
                    append(tuple(value.items()))
                elif member == _VALUES:
                    tags: list[object] = []
                    for ref, raw_value in value.items():
                        if type(raw_value) is not dict or len(raw_value) != 1:
                            return None
                        tags.append(ref)
                        tags.extend(raw_value)
                    append(tuple(tags))
                else:
                    return None
    return tuple(key)


# Programs by shape. Bounded: cleared when full (a shape is compiled again from its
# next request).
_PROGRAMS: dict[tuple[object, ...], Program] = {}
_PROGRAMS_MAX = 512
# The most text (expressions, names, table names) a kept shape may hold. Programs are
# bounded by count; this bounds each one, so a client cannot pin memory with shapes of
# 100 actions each carrying 4 KB expressions and 64 KB attribute names. Real
# transactions stay far below it.
_SHAPE_TEXT_MAX = 16 * 1024


def _text_size(shape: object) -> int:
    """The characters of the strings in a shape (nested tuples)."""
    if type(shape) is str:
        return len(shape)
    if type(shape) is tuple:
        return sum(_text_size(part) for part in shape)
    return 0


def program_for(engine: LocalEngine, request: dict[str, Any]) -> Program | None:
    """The program of ``request``'s shape, if one was remembered."""
    shape = shape_of(engine, request)
    if shape is None:
        return None
    try:
        return _PROGRAMS.get(shape)
    except TypeError:  # (an unhashable name: the general path reports it)
        return None


def remember(engine: LocalEngine, request: dict[str, Any], steps: list[Step]) -> None:
    """Remember a program for ``request``'s shape.

    Only for a request that passed every check depending on its shape (see the
    module docstring); ``steps``: its actions, in order.
    """
    shape = shape_of(engine, request)
    if shape is None or _text_size(shape) > _SHAPE_TEXT_MAX:
        return  # (long names or expressions: checked on every request, never kept)
    capacity = request.get("ReturnConsumedCapacity")
    program = Program(steps, request.get(TOKEN) is not None, capacity)
    try:
        if len(_PROGRAMS) >= _PROGRAMS_MAX:
            _PROGRAMS.clear()
        _PROGRAMS[shape] = program
    except TypeError:  # pragma: no cover - a checked request's names are strings
        return


# --------------------------------------------------------------------------- programs


class Step:
    """One action of a program: what the general path found for its shape."""

    __slots__ = (
        "env",
        "has_values",
        "key_check",
        "key_names",
        "kind",
        "only_removes",
        "plan",
        "predicate",
        "specs",
        "table_id",
        "table_name",
        "top_level_names",
    )

    def __init__(
        self,
        kind: str,
        table: TableDef,
        body: dict[str, Any],
        predicate: PredicateFn | None,
        plan: UpdatePlan | None,
        condition_names: frozenset[str] = frozenset(),
    ) -> None:
        self.kind = kind
        self.table_name = table.name
        self.table_id = table.table_id
        self.key_names = table.key_names
        self.predicate = predicate
        # A ConditionCheck whose condition reads key attributes only: it holds for the
        # stored item as for the key alone, which the request gives (no item to decode).
        self.key_check = (
            predicate if kind == _CHECK and condition_names <= set(table.key_names) else None
        )
        self.plan = plan
        self.only_removes = plan is not None and not plan.sets and not plan.adds
        self.top_level_names = tuple(plan.top_level_names) if plan is not None else ()
        values = body.get(_VALUES)
        self.has_values = values is not None
        # The placeholder maps of a request without :values: its #names are the shape's.
        self.env = Env(dict(body.get(_NAMES) or {}), {})
        self.specs: tuple[tuple[str, str], ...] = ()
        if values is not None:
            self.specs = tuple((ref, next(iter(value))) for ref, value in values.items())

    def values(self, body: dict[str, Any]) -> dict[str, AttributeValue] | None:
        """The action's ExpressionAttributeValues validated, if they all are valid
        (their types are the shape's); None otherwise."""
        if not self.has_values:
            return {}
        return validated_values(self.specs, body[_VALUES])


# What prepare hands to evaluate for each action: its step, table, encoded key,
# Key member, Put item and size, and placeholder maps (None: no expression).
_Prepared = tuple[Step, "TableDef", bytes, bytes, Any, "Item | None", int, Env]


class Program:
    """What one transaction shape compiles to (see the module docstring)."""

    __slots__ = ("capacity", "has_token", "steps")

    def __init__(self, steps: list[Step], has_token: bool, capacity: str | None) -> None:
        self.steps = steps
        self.has_token = has_token
        self.capacity = capacity

    def bound_to(self, engine: LocalEngine) -> bool:
        """Whether the program's tables are ``engine``'s (none recreated since)."""
        tables = engine.tables
        for step in self.steps:
            table = tables.get(step.table_name)
            if table is None or table.table_id != step.table_id:
                return False
        return True

    def prepare(self, engine: LocalEngine, request: dict[str, Any]) -> list[_Prepared] | None:
        """The value checks of ``request`` (outside the lock); None: the general path."""
        if self.has_token:
            token = request[TOKEN]
            if not token or len(token) > 36 or not token.isascii():
                return None
        tables = engine.tables
        prepared: list[_Prepared] = []
        targets: set[tuple[str, bytes, bytes]] = set()
        total = 0
        for step, raw in zip(self.steps, request["TransactItems"], strict=True):
            body = raw[step.kind]
            table = tables.get(step.table_name)
            if table is None or table.table_id != step.table_id:
                return None
            key = None
            item = None
            try:
                if step.kind == _PUT:
                    item, size = validate_item_sized(body["Item"])
                    if size > MAX_ATTRIBUTE_NAME_BYTES:
                        return None  # (names to measure; maybe too large: checked there)
                    pk, sk = table.key_from_item(item)
                    if table.indexes and not table.index_keys_plain(item):
                        return None
                else:
                    key = body["Key"]
                    pk, sk = table.key_from_request(key)
                    size = _key_size(key)
            except (InvalidValue, DynamoDBError):
                return None
            total += size
            target = (table.name, pk, sk)
            if target in targets:
                return None
            targets.add(target)
            env = step.env
            if step.has_values and (step.predicate is not None or step.plan is not None):
                values = step.values(body)
                if values is None:
                    return None
                env = Env(env.names, values)
            prepared.append((step, table, pk, sk, key, item, size, env))
        if total > MAX_TRANSACTION_BYTES:
            return None
        return prepared

    def evaluate(
        self, engine: LocalEngine, prepared: list[_Prepared]
    ) -> tuple[list[Change], dict[str, float]] | None:
        """Run the prepared actions against the current items (under ``engine.lock``):
        the changes and each table's write units, or None (nothing written): the
        general path."""
        tables = engine.tables
        changes: list[Change] = []
        units: dict[str, float] = {}
        for step, table, pk, sk, key, item, size, env in prepared:
            if tables.get(step.table_name) is not table:
                return None  # (dropped since prepare)
            store = table.store
            kind = step.kind
            key_check = step.key_check
            if key_check is not None and type(store) is MemoryTableStore:
                old_size = store.size_of(pk, sk)  # (0: no item)
                if not key_check(_key_item(key) if old_size else _EMPTY, env):
                    return None  # (a cancellation: the general path reports it)
                name = table.name
                units[name] = units.get(name, 0.0) + 2 * write_units(old_size)
                continue
            old = store.get(pk, sk)
            old_size = store.size_of(pk, sk) if old is not None else 0
            predicate = step.predicate
            if predicate is not None and not predicate(_EMPTY if old is None else old, env):
                return None  # (a cancellation: the general path reports it)
            new = None
            if kind == _PUT:
                new = item
            elif kind == _CHECK:
                size = old_size
            elif kind == _DELETE:
                size = 0
            elif old is None and step.only_removes:
                size = 0  # (removing from a missing item creates nothing)
            else:
                new = _updated(step, old, key, env)
                if new is None:
                    return None
                size = item_size(new)
                if size > MAX_ITEM_BYTES or (table.indexes and not table.index_keys_plain(new)):
                    return None
            name = table.name
            units[name] = units.get(name, 0.0) + 2 * write_units(max(old_size, size))
            if kind != _CHECK:
                changes.append(Change(table, pk, sk, old, new, size))
        return changes, units


def _updated(step: Step, old: Item | None, key: Any, env: Env) -> Item | None:
    """The item after an Update action; None for an error (the general path's to report)."""
    plan = step.plan
    assert plan is not None
    try:
        if old is None:
            base = {name: validate_value(key[name], name) for name in step.key_names}
            new = plan.apply(base, env.values, new_item=True)
        else:
            new = plan.apply(old, env.values, new_item=False)
        check_nesting(new.get(name) for name in step.top_level_names)
    except (InvalidValue, ExpressionError):
        return None
    return new


def _key_item(raw_key: dict[str, Any]) -> Item:
    """The key attributes of the item a Key (that passed ``TableDef.key_from_request``)
    names, as the stored item holds them (canonical)."""
    for value in raw_key.values():
        raw = value.get("S")
        if type(raw) is not str or len(value) != 1:
            return {name: validate_value(value, name) for name, value in raw_key.items()}
    return raw_key  # (strings are canonical as they are)


def _key_size(raw_key: dict[str, Any]) -> int:
    """The size of a Key that passed ``TableDef.key_from_request`` (for the 4 MB total)."""
    size = 0
    for name, value in raw_key.items():
        raw = value.get("S")
        if type(raw) is str and raw.isascii() and name.isascii():
            size += len(name) + len(raw)
        else:
            return item_size({name: validate_value(value, name) for name, value in raw_key.items()})
    return size
