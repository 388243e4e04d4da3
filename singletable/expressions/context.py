"""The engine-facing API: one request's expressions over shared placeholder maps.

:class:`ExpressionContext` takes a request's ``ExpressionAttributeNames`` and
``ExpressionAttributeValues``; each expression of the request is added through
:meth:`~ExpressionContext.condition`, :meth:`~ExpressionContext.key_condition`,
:meth:`~ExpressionContext.update` or :meth:`~ExpressionContext.projection`, and
:meth:`~ExpressionContext.check_unused` finally rejects placeholders no expression
used.

Parsing, the text-only checks and the compilation of conditions into closures
are cached by expression text (:func:`functools.lru_cache`). The binding checks
that passed are cached too, by text, what its ``#names`` stand for and its
``:values``' types (see :func:`_signature`), with an update's compiled
:class:`~singletable.expressions.update.UpdatePlan`: a request repeating an
expression with the same shape only supplies its values. A context made with
``record=True`` lists what it bound (:attr:`ExpressionContext.steps`), which the
engine replays for a later request of the same shape (:func:`replay_step`).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Generic, TypeVar

from singletable._values import AttributeValue, Item, copy_value
from singletable.expressions.errors import DetailError, ExpressionError, invalid
from singletable.expressions.evaluate import Env, PredicateFn, compile_condition
from singletable.expressions.keycondition import (
    KeyCondition,
    KeyOp,
    KeyTerm,
    analyze_key_condition,
)
from singletable.expressions.nodes import ConditionNode, ProjectionExpression, UpdateExpression
from singletable.expressions.parser import parse_condition, parse_projection, parse_update
from singletable.expressions.update import INCORRECT_DATA_TYPE, UpdatePlan, compile_update
from singletable.expressions.validate import (
    Binder,
    BindingRefs,
    ResolvedPath,
    binding_refs,
    check_condition,
    check_paths_disjoint,
    check_update,
    condition_paths,
    deep_expression_detail,
    static_condition,
    static_projection,
    static_update,
)

__all__ = [
    "MAX_EXPRESSION_BYTES",
    "Condition",
    "ExpressionContext",
    "Projection",
    "Step",
    "Update",
    "replay_step",
]

MAX_EXPRESSION_BYTES = 4096
_NAME_KEY = re.compile(r"#[A-Za-z0-9_]+")
_VALUE_KEY = re.compile(r":[A-Za-z0-9_]+")

N = TypeVar("N")


@dataclass(frozen=True, slots=True)
class _Entry(Generic[N]):
    """A cached parse: the AST or the text-only error."""

    node: N | None
    error: str | None


def _prepare(text: str, parse: Callable[[str], N], check: Callable[[N], None]) -> _Entry[N]:
    if text == "":
        return _Entry(None, "The expression can not be empty;")
    try:
        size = len(text.encode("utf-8"))
    except UnicodeEncodeError:  # a lone surrogate (the engine refuses it before this)
        return _Entry(None, "The expression contains an unpaired surrogate; not valid UTF-8")
    if size > MAX_EXPRESSION_BYTES:
        return _Entry(
            None,
            f"Expression size has exceeded the maximum allowed size; expression size: {size}",
        )
    try:
        node = parse(text)
        check(node)
    except DetailError as error:
        return _Entry(None, error.detail)
    except RecursionError:  # nested deeper than the parser recurses: see the helper
        return _Entry(None, deep_expression_detail(text))
    return _Entry(node, None)


@lru_cache(maxsize=1024)
def _condition_entry(text: str) -> _Entry[ConditionNode]:
    return _prepare(text, parse_condition, static_condition)


@lru_cache(maxsize=1024)
def _compiled_condition(text: str) -> PredicateFn:
    """The closure of a condition text (only called once a binding has validated it)."""
    node = _condition_entry(text).node
    assert node is not None
    return compile_condition(node)


@lru_cache(maxsize=1024)
def _update_entry(text: str) -> _Entry[UpdateExpression]:
    return _prepare(text, parse_update, static_update)


@lru_cache(maxsize=1024)
def _projection_entry(text: str) -> _Entry[ProjectionExpression]:
    return _prepare(text, parse_projection, static_projection)


@lru_cache(maxsize=1024)
def _condition_refs(text: str) -> BindingRefs:
    node = _condition_entry(text).node
    assert node is not None
    return binding_refs(node)


@lru_cache(maxsize=1024)
def _update_refs(text: str) -> BindingRefs:
    node = _update_entry(text).node
    assert node is not None
    return binding_refs(node)


# The longest total of attribute names (characters of the #names and what they stand
# for) a cached shape may hold. Shape caches are bounded by count; this bounds what
# each entry keeps, so a client cannot pin memory by sending many shapes whose names
# are 64 KB each (attribute names may be, and a request may carry 2 MB of them). Names
# that long are rare: such a request takes the checking path every time.
SHAPE_NAMES_MAX = 4096


def small_names(names: object) -> bool:
    """Whether a request's ExpressionAttributeNames are short enough for a shape
    cache (None, or a dict whose keys and string values total <= SHAPE_NAMES_MAX)."""
    if names is None:
        return True
    if type(names) is not dict:
        return False
    total = 0
    for ref, name in names.items():
        total += len(ref) + (len(name) if type(name) is str else 0)
    return total <= SHAPE_NAMES_MAX


# Binding checks that passed, by (kind, text, what the names stand for, the values'
# types): a request that repeats a checked expression with the same names and value
# types only marks its placeholders used. Updates keep their resolved paths here.
_CHECKED: dict[tuple[object, ...], _UpdateShape | None] = {}
_CHECKED_MAX = 4096


def _signature(
    kind: str,
    text: str,
    refs: BindingRefs,
    names: Mapping[str, str],
    values: Mapping[str, AttributeValue],
) -> tuple[object, ...] | None:
    """The cache key of a binding, None when it cannot be cached (a placeholder is
    undefined, so the checks must run to report it, or values' content matters)."""
    if refs.value_dependent:
        return None
    key: list[object] = [kind, text]
    spelled = 0
    for ref in refs.names:
        name = names.get(ref)
        if name is None:
            return None
        spelled += len(name)
        key.append(name)
    if spelled > SHAPE_NAMES_MAX:
        return None  # (long names: checked every time rather than kept)
    for ref in refs.values:
        value = values.get(ref)
        if value is None:
            return None
        for tag in value:
            key.append(tag)
            break
    return tuple(key)


# One expression bound for a request, as ExpressionContext records it:
# ("C", text, parameter, None) for a condition or filter, ("U", text, type_mismatch,
# shape) for an update. Only bindings the binding cache could answer are recorded.
Step = tuple[str, str, "str | None", "_UpdateShape | None"]


def replay_step(step: Step, env: Env) -> Condition | Update:
    """The bound expression of ``step`` for a request whose placeholder maps are ``env``.

    Only valid for a request of the recorded one's shape: the same expression texts,
    the same ``#names`` standing for the same names, the same ``:values`` of the same
    types (so every binding check has the same outcome).
    """
    kind, text, extra, shape = step
    if kind == "U":
        assert shape is not None
        return Update(shape, env.values, extra)
    node = _condition_entry(text).node
    assert node is not None
    return Condition(
        _compiled_condition(text),
        env,
        lambda: condition_paths(node, Binder(env.names, env.values, set(), set())),
    )


# Key conditions that passed every check, by _signature plus the key attribute names:
# for each hash key attribute the :value giving it, then each range term's name,
# operator and :values. A Query of a checked shape only takes its values.
_KeyShape = tuple[tuple[tuple[str, str], ...], tuple[tuple[str, KeyOp, tuple[str, ...]], ...]]
_KEY_SHAPES: dict[tuple[object, ...], _KeyShape] = {}


def _key_shape(condition: KeyCondition, values: Mapping[str, AttributeValue]) -> _KeyShape | None:
    """The :values behind ``condition``'s values (found by identity: the binder hands
    the request's own value objects over), or None if one is not a placeholder's."""
    refs = {id(value): ref for ref, value in values.items()}
    if len(refs) != len(values):
        return None  # one value object under two placeholders: which one is ambiguous
    hashes = []
    for name, value in condition.hash_values.items():
        ref = refs.get(id(value))
        if ref is None:
            return None
        hashes.append((name, ref))
    terms = []
    for term in condition.range_terms:
        term_refs = []
        for value in term.values:
            ref = refs.get(id(value))
            if ref is None:
                return None
            term_refs.append(ref)
        terms.append((term.name, term.op, tuple(term_refs)))
    return tuple(hashes), tuple(terms)


def _remember(key: tuple[object, ...], shape: _UpdateShape | None) -> None:
    if len(_CHECKED) >= _CHECKED_MAX:
        _CHECKED.clear()
    _CHECKED[key] = shape


# Placeholder keys (``#name``, ``:value``) already found well formed: requests reuse a
# handful, so most are checked with one set lookup instead of a regular expression.
_GOOD_NAME_KEYS: set[str] = set()
_GOOD_VALUE_KEYS: set[str] = set()
_GOOD_KEYS_MAX = 4096


def _good_key(pattern: re.Pattern[str], good: set[str], key: str) -> bool:
    if not pattern.fullmatch(key):
        return False
    if len(good) >= _GOOD_KEYS_MAX:
        good.clear()
    good.add(key)
    return True


def _node(entry: _Entry[N], parameter: str) -> N:
    if entry.error is not None:
        raise invalid(parameter, entry.error)
    assert entry.node is not None
    return entry.node


class Condition:
    """A bound condition or filter expression."""

    __slots__ = ("_env", "_paths", "_predicate")

    def __init__(
        self, predicate: PredicateFn, env: Env, paths: Callable[[], list[ResolvedPath]]
    ) -> None:
        self._predicate = predicate
        self._env = env
        self._paths = paths

    @property
    def top_level_names(self) -> frozenset[str]:
        """The top-level attributes the condition reads (Query rejects key attributes
        in a filter)."""
        return frozenset(str(path[0]) for path in self._paths())

    def matches(self, item: Item) -> bool:
        """Whether ``item`` (``{}`` for "no item") satisfies the condition."""
        return self._predicate(item, self._env)

    @property
    def predicate(self) -> PredicateFn:
        """The compiled condition, ``fn(item, env)``: what :meth:`matches` runs, for any
        request's placeholder maps (it depends on the expression text alone)."""
        return self._predicate


class _UpdateShape:
    """A checked update expression compiled for what its ``#names`` stand for, whatever
    its values: kept with the binding cache, so that a request repeating the
    expression only supplies its values."""

    __slots__ = ("plan", "top_level_names", "updated")

    def __init__(self, plan: UpdatePlan) -> None:
        self.plan = plan
        self.top_level_names = plan.top_level_names
        self.updated = Projection(plan.written)  # (ReturnValues UPDATED_*)


class Update:
    """A bound update expression: a compiled plan and the request's values."""

    __slots__ = ("_plan", "_shape", "_type_mismatch", "_values", "top_level_names")

    def __init__(
        self,
        shape: _UpdateShape,
        values: Mapping[str, AttributeValue],
        type_mismatch: str | None = None,
    ) -> None:
        self._shape = shape
        self._plan = shape.plan
        self._values = values
        self._type_mismatch = type_mismatch
        self.top_level_names: frozenset[str] = shape.top_level_names

    def apply(self, item: Item, *, new_item: bool = False) -> Item:
        """The updated copy of ``item``; raises :class:`ExpressionError` at runtime errors.

        ``new_item``: the item does not exist yet and ``item`` holds only its key.
        """
        if self._type_mismatch is None:
            return self._plan.apply(item, self._values, new_item=new_item)
        try:
            return self._plan.apply(item, self._values, new_item=new_item)
        except ExpressionError as error:
            if error.message != INCORRECT_DATA_TYPE:
                raise
            raise ExpressionError(self._type_mismatch) from None

    @property
    def only_removes(self) -> bool:
        """Whether every action takes something away (REMOVE, DELETE): such an update
        of a missing item creates nothing."""
        plan = self._plan
        return not plan.sets and not plan.adds

    def updated_attributes(self, item: Item) -> Item:
        """The parts of ``item`` at the paths this update writes (ReturnValues UPDATED_*)."""
        return self._shape.updated.apply(item)

    @property
    def plan(self) -> UpdatePlan:
        """The compiled plan, applied with any request's values (see :class:`UpdatePlan`)."""
        return self._plan

    @property
    def updated(self) -> Projection:
        """The projection of the paths this update writes (ReturnValues UPDATED_*)."""
        return self._shape.updated

    @property
    def type_mismatch(self) -> str | None:
        """The replacement text of the incorrect-data-type error (legacy AttributeUpdates)."""
        return self._type_mismatch


_Tree = dict[str | int, "_Tree | None"]


class Projection:
    """A bound projection expression."""

    __slots__ = ("_tree", "top_level_names")

    def __init__(self, paths: list[ResolvedPath]) -> None:
        tree: _Tree = {}
        for path in paths:
            node = tree
            for element in path[:-1]:
                child = node.setdefault(element, {})
                assert child is not None  # paths are disjoint
                node = child
            node[path[-1]] = None
        self._tree = tree
        self.top_level_names: frozenset[str] = frozenset(str(p[0]) for p in paths)

    def apply(self, item: Item) -> Item:
        """The projected copy of ``item`` (nested paths and list elements kept in place)."""
        out: Item = {}
        for name, subtree in self._tree.items():
            value = item.get(str(name))
            projected = None if value is None else _project(value, subtree)
            if projected is not None:
                out[str(name)] = projected
        return out


def _project(value: AttributeValue, tree: _Tree | None) -> AttributeValue | None:
    if tree is None:
        return copy_value(value)
    if "M" in value:
        fields = value["M"]
        kept = {}
        for key, subtree in tree.items():
            if isinstance(key, str) and key in fields:
                projected = _project(fields[key], subtree)
                if projected is not None:
                    kept[key] = projected
        return {"M": kept} if kept else None
    if "L" in value:
        members = value["L"]
        indexes = sorted(k for k in tree if isinstance(k, int) and k < len(members))
        kept_list = [p for i in indexes if (p := _project(members[i], tree[i])) is not None]
        return {"L": kept_list} if kept_list else None
    return None


class ExpressionContext:
    """One request's expressions sharing ExpressionAttributeNames/Values."""

    def __init__(
        self,
        names: Mapping[str, str] | None,
        values: Mapping[str, AttributeValue] | None,
        *,
        record: bool = False,
    ) -> None:
        """``record``: keep the :attr:`steps` a request of the same shape can replay."""
        if names is not None and not names:
            raise ExpressionError("ExpressionAttributeNames must not be empty")
        if values is not None and not values:
            raise ExpressionError("ExpressionAttributeValues must not be empty")
        for key in names or {}:
            if key not in _GOOD_NAME_KEYS and not _good_key(_NAME_KEY, _GOOD_NAME_KEYS, key):
                raise ExpressionError(
                    f'ExpressionAttributeNames contains invalid key: Syntax error; key: "{key}"'
                )
        for key in values or {}:
            if key not in _GOOD_VALUE_KEYS and not _good_key(_VALUE_KEY, _GOOD_VALUE_KEYS, key):
                raise ExpressionError(
                    f'ExpressionAttributeValues contains invalid key: Syntax error; key: "{key}"'
                )
        self._names: Mapping[str, str] = names or {}
        self._values: Mapping[str, AttributeValue] = values or {}
        self._used_names: set[str] = set()
        self._used_values: set[str] = set()
        self._env = Env(self._names, self._values)
        # What was bound, for replay_step (None: something that cannot be replayed).
        self.steps: list[Step] | None = [] if record else None

    def _record(self, step: Step | None) -> None:
        if self.steps is not None:
            if step is None:
                self.steps = None
            else:
                self.steps.append(step)

    def mark_replayed(self, steps: Sequence[Step]) -> None:
        """Count the placeholders of steps replayed for this request as used."""
        for kind, text, _, _ in steps:
            refs = _condition_refs(text) if kind == "C" else _update_refs(text)
            self._used_names.update(refs.names)
            self._used_values.update(refs.values)

    def _binder(self) -> Binder:
        return Binder(self._names, self._values, self._used_names, self._used_values)

    def condition(self, text: str, parameter: str) -> Condition:
        """Bind a ConditionExpression or FilterExpression (``parameter`` names which)."""
        entry = _condition_entry(text)
        node = _node(entry, parameter)
        binder = self._binder()
        refs = _condition_refs(text)
        key = _signature("C", text, refs, self._names, self._values)
        if key is not None and key in _CHECKED:
            self._used_names.update(refs.names)
            self._used_values.update(refs.values)
        else:
            try:
                check_condition(node, binder)
            except DetailError as error:
                raise invalid(parameter, error.detail) from None
            if key is not None:
                _remember(key, None)
        self._record(None if key is None else ("C", text, parameter, None))
        return Condition(
            _compiled_condition(text), self._env, lambda: condition_paths(node, binder)
        )

    def condition_node(self, node: ConditionNode, parameter: str) -> Condition:
        """Bind a condition built as an AST (no text, no cache)."""
        self._record(None)
        try:
            static_condition(node)
            check_condition(node, binder := self._binder())
        except DetailError as error:
            raise invalid(parameter, error.detail) from None
        return Condition(compile_condition(node), self._env, lambda: condition_paths(node, binder))

    def key_condition(
        self, text: str, hash_keys: Sequence[str], range_keys: Sequence[str]
    ) -> KeyCondition:
        """Bind a KeyConditionExpression against the key attribute names."""
        self._record(None)
        parameter = "KeyConditionExpression"
        node = _node(_condition_entry(text), parameter)
        refs = _condition_refs(text)
        key = _signature("K", text, refs, self._names, self._values)
        if key is not None:
            key = (*key, tuple(hash_keys), tuple(range_keys))
            shape = _KEY_SHAPES.get(key)
            if shape is not None:  # checked before, for the same names and value types
                self._used_names.update(refs.names)
                self._used_values.update(refs.values)
                values = self._values
                hashes, terms = shape
                return KeyCondition(
                    {name: values[ref] for name, ref in hashes},
                    [KeyTerm(name, op, tuple(values[r] for r in rs)) for name, op, rs in terms],
                )
        binder = self._binder()
        try:
            check_condition(node, binder)
        except DetailError as error:
            raise invalid(parameter, error.detail) from None
        condition = analyze_key_condition(node, binder, hash_keys, range_keys)
        if key is not None:
            found = _key_shape(condition, self._values)
            if found is not None:
                if len(_KEY_SHAPES) >= _CHECKED_MAX:
                    _KEY_SHAPES.clear()
                _KEY_SHAPES[key] = found
        return condition

    def update(self, text: str, *, type_mismatch: str | None = None) -> Update:
        """Bind an UpdateExpression.

        ``type_mismatch``: the message that replaces "An operand in the update
        expression has an incorrect data type" when the update is applied (legacy
        AttributeUpdates words it differently).
        """
        node = _node(_update_entry(text), "UpdateExpression")
        refs = _update_refs(text)
        key = _signature("U", text, refs, self._names, self._values)
        shape = None if key is None else _CHECKED.get(key)
        if shape is None:
            steps = self.steps
            update = self.update_node(node, checked=True, type_mismatch=type_mismatch)
            self.steps = steps  # (update_node stops the recording)
            if key is not None:
                _remember(key, update._shape)
            shape = update._shape
        else:
            self._used_names.update(refs.names)
            self._used_values.update(refs.values)
            update = Update(shape, self._values, type_mismatch)
        self._record(None if key is None else ("U", text, type_mismatch, shape))
        return update

    def update_node(
        self, node: UpdateExpression, checked: bool = False, type_mismatch: str | None = None
    ) -> Update:
        """Bind an update expression built as an AST."""
        self._record(None)
        binder = self._binder()
        try:
            if not checked:
                static_update(node)
            paths = check_update(node, binder)
        except DetailError as error:
            raise invalid("UpdateExpression", error.detail) from None
        shape = _UpdateShape(compile_update(node, paths, binder))
        return Update(shape, self._values, type_mismatch)

    def projection(self, text: str) -> Projection:
        """Bind a ProjectionExpression."""
        return self.projection_node(
            _node(_projection_entry(text), "ProjectionExpression"), checked=True
        )

    def projection_node(self, node: ProjectionExpression, checked: bool = False) -> Projection:
        """Bind a projection expression built as an AST."""
        self._record(None)
        binder = self._binder()
        try:
            if not checked:
                static_projection(node)
            binder.check_refs(iter(node.paths))
            paths = [binder.path(path) for path in node.paths]
            check_paths_disjoint(paths)
        except DetailError as error:
            raise invalid("ProjectionExpression", error.detail) from None
        return Projection(paths)

    def check_unused(self) -> None:
        """Reject names or values that no expression of the request used."""
        unused_names = [key for key in self._names if key not in self._used_names]
        if unused_names:
            raise ExpressionError(
                "Value provided in ExpressionAttributeNames unused in expressions: "
                "keys: {" + ", ".join(unused_names) + "}"
            )
        unused_values = [key for key in self._values if key not in self._used_values]
        if unused_values:
            raise ExpressionError(
                "Value provided in ExpressionAttributeValues unused in expressions: "
                "keys: {" + ", ".join(unused_values) + "}"
            )
