"""Compile condition ASTs into Python closures and evaluate them against items.

A compiled condition is ``fn(item, env) -> bool``; ``env`` carries the request's
``ExpressionAttributeNames`` / ``ExpressionAttributeValues`` so that one compiled
closure (cached by expression text) serves every request using that text.

DynamoDB's rules live in the small helpers below: an operand that names a missing
attribute evaluates to "nothing", and every comparison or function involving nothing,
or values of mismatched types, is false -- except ``<>``, which is the negation of
``=`` and therefore true when an attribute is missing (Developer Guide, "Comparison
operator and function reference").
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from singletable._values import (
    AttributeValue,
    Item,
    compare_values,
    decode_binary,
    value_type,
    values_equal,
)
from singletable.expressions.nodes import (
    And,
    Arithmetic,
    Between,
    Call,
    Compare,
    ConditionNode,
    In,
    Literal,
    Name,
    NameRef,
    Not,
    Operand,
    Or,
    Path,
    ValueRef,
)

__all__ = [
    "Env",
    "OperandFn",
    "PredicateFn",
    "begins_with",
    "compile_condition",
    "compile_operand",
    "compile_path",
    "contains",
    "get_path",
    "size_of",
]


@dataclass(slots=True)
class Env:
    """The placeholder maps of one request (never changed once made).

    Not a frozen dataclass: one is made per request, and a frozen one's ``__init__``
    (``object.__setattr__`` per field) costs three times a plain one's.
    """

    names: Mapping[str, str]
    values: Mapping[str, AttributeValue]


OperandFn = Callable[[Item, Env], AttributeValue | None]
PredicateFn = Callable[[Item, Env], bool]
PathFn = Callable[[Env], tuple[str | int, ...]]


# --------------------------------------------------------------------------- value helpers


def get_path(item: Mapping[str, AttributeValue], path: tuple[str | int, ...]) -> Any:
    """The value at a resolved document path, or None when it does not exist."""
    head = path[0]
    assert isinstance(head, str)
    current: AttributeValue | None = item.get(head)
    for element in path[1:]:
        if current is None:
            return None
        if isinstance(element, int):
            members = current.get("L")
            if members is None or element >= len(members):
                return None
            current = members[element]
        else:
            fields = current.get("M")
            if fields is None:
                return None
            current = fields.get(element)
    return current


def size_of(value: AttributeValue) -> AttributeValue | None:
    """``size()`` of a value: string/binary length, set/list/map member count.

    Strings count in UTF-8 bytes: the PartiQL ``size`` page says the function "returns
    a number that represents the size of an attribute in bytes" and DynamoDB measures
    every string in UTF-8 bytes (not confirmed for non-ASCII text on DynamoDB itself).
    """
    kind, raw = next(iter(value.items()))
    if kind == "S":
        count = len(raw.encode("utf-8"))
    elif kind == "B":
        count = len(decode_binary(raw))
    elif kind in ("SS", "NS", "BS", "L", "M"):
        count = len(raw)
    else:
        return None
    return {"N": str(count)}


def begins_with(value: AttributeValue, prefix: AttributeValue) -> bool:
    """``begins_with``: a string or binary value starts with a prefix of its type."""
    kind, raw = next(iter(value.items()))
    prefix_kind, prefix_raw = next(iter(prefix.items()))
    if kind != prefix_kind:
        return False
    if kind == "S":
        return bool(raw.startswith(prefix_raw))
    if kind == "B":
        return decode_binary(raw).startswith(decode_binary(prefix_raw))
    return False


_SET_MEMBER = {"SS": "S", "NS": "N", "BS": "B"}


def contains(value: AttributeValue, operand: AttributeValue) -> bool:
    """``contains``: substring of a string or binary, member of a set, element of a list.

    On a Binary attribute it is a byte-substring test (API Reference, Condition:
    CONTAINS "looks for a subsequence of the target that matches the input").
    """
    kind, raw = next(iter(value.items()))
    operand_kind, operand_raw = next(iter(operand.items()))
    if kind == "S":
        return operand_kind == "S" and operand_raw in raw
    if kind == "B":
        return operand_kind == "B" and decode_binary(operand_raw) in decode_binary(raw)
    if kind in _SET_MEMBER:
        if operand_kind != _SET_MEMBER[kind]:
            return False
        return any(values_equal({operand_kind: member}, operand) for member in raw)
    if kind == "L":
        return any(values_equal(member, operand) for member in raw)
    return False


def _ordered(left: AttributeValue | None, right: AttributeValue | None) -> int | None:
    if left is None or right is None:
        return None
    a, b = left.get("N"), right.get("N")
    if a is not None and b is not None:
        small = _small_int(a)
        if small is not None:
            other = _small_int(b)
            if other is not None:
                return (small > other) - (small < other)
    return compare_values(left, right)


def _small_int(text: str) -> int | None:
    """The value of a canonical number that is an integer of at most 18 digits (exact
    as an ``int``, and compared as one: no Decimal needed), else None."""
    if len(text) < 19 and "." not in text:
        try:
            return int(text)
        except ValueError:  # (not canonical: compare_values decides)
            return None
    return None


def _equal(left: AttributeValue | None, right: AttributeValue | None) -> bool:
    return left is not None and right is not None and values_equal(left, right)


_COMPARISONS: dict[str, Callable[[AttributeValue | None, AttributeValue | None], bool]] = {
    "=": _equal,
    "<>": lambda a, b: not _equal(a, b),
    "<": lambda a, b: (c := _ordered(a, b)) is not None and c < 0,
    "<=": lambda a, b: (c := _ordered(a, b)) is not None and c <= 0,
    ">": lambda a, b: (c := _ordered(a, b)) is not None and c > 0,
    ">=": lambda a, b: (c := _ordered(a, b)) is not None and c >= 0,
}


# --------------------------------------------------------------------------- compilation


def compile_path(path: Path) -> PathFn:
    """``fn(env) -> resolved path`` (placeholders looked up in the request's names)."""
    parts: list[tuple[bool, str | int]] = []
    for element in path.elements:
        if isinstance(element, NameRef):
            parts.append((True, element.ref))
        elif isinstance(element, Name):
            parts.append((False, element.name))
        else:
            parts.append((False, element.index))
    if not any(is_ref for is_ref, _ in parts):
        fixed = tuple(part for _, part in parts)
        return lambda env: fixed

    # A filter resolves the same path for every item a Scan reads: remember the
    # last (env, path) pair. One tuple is read and written whole, so threads
    # sharing this cached closure never see a path of another request's env
    # (and holding the env keeps its id from being reused).
    last: list[tuple[Env | None, tuple[str | int, ...]]] = [(None, ())]

    def resolve(env: Env) -> tuple[str | int, ...]:
        seen_env, resolved = last[0]
        if seen_env is env:
            return resolved
        resolved = tuple(env.names[str(p)] if is_ref else p for is_ref, p in parts)
        last[0] = (env, resolved)
        return resolved

    return resolve


def compile_operand(operand: Operand) -> OperandFn:
    """``fn(item, env) -> value | None`` for a condition operand."""
    if isinstance(operand, Path):
        if len(operand.elements) == 1:  # a top-level attribute: one lookup
            (element,) = operand.elements
            if isinstance(element, NameRef):
                ref = element.ref
                return lambda item, env: item.get(env.names[ref])
            if isinstance(element, Name):
                name = element.name
                return lambda item, env: item.get(name)
        resolve = compile_path(operand)
        return lambda item, env: get_path(item, resolve(env))
    if isinstance(operand, ValueRef):
        ref = operand.ref
        return lambda item, env: env.values[ref]
    if isinstance(operand, Literal):
        constant = operand.value
        return lambda item, env: constant
    if isinstance(operand, Call) and operand.name == "size":
        inner = compile_operand(operand.args[0])

        def size(item: Item, env: Env) -> AttributeValue | None:
            value = inner(item, env)
            return None if value is None else size_of(value)

        return size
    raise TypeError(f"not a condition operand: {operand!r}")  # validation excludes it


def compile_condition(node: ConditionNode) -> PredicateFn:
    """Compile a (validated) condition AST into ``fn(item, env) -> bool``."""
    if isinstance(node, And):
        parts = [compile_condition(c) for c in node.conditions]
        if len(parts) == 2:  # the common case, without a generator
            first, second = parts
            return lambda item, env: first(item, env) and second(item, env)
        return lambda item, env: all(part(item, env) for part in parts)
    if isinstance(node, Or):
        parts = [compile_condition(c) for c in node.conditions]
        if len(parts) == 2:
            first, second = parts
            return lambda item, env: first(item, env) or second(item, env)
        return lambda item, env: any(part(item, env) for part in parts)
    if isinstance(node, Not):
        inner = compile_condition(node.condition)
        return lambda item, env: not inner(item, env)
    if isinstance(node, Compare):
        return _compile_compare(node)
    if isinstance(node, Between):
        return _compile_between(node)
    if isinstance(node, In):
        operand = compile_operand(node.operand)
        choices = [compile_operand(c) for c in node.choices]
        return lambda item, env: any(_equal(operand(item, env), c(item, env)) for c in choices)
    return _compile_function(node)


def _compile_compare(node: Compare) -> PredicateFn:
    test = _COMPARISONS[node.op]
    left, right = compile_operand(node.left), compile_operand(node.right)

    def general(item: Item, env: Env) -> bool:
        return test(left(item, env), right(item, env))

    if node.op in ("=", "<>"):
        if _top_level(node.left) and isinstance(node.right, ValueRef):
            return _scalar_equality(node.op, left, node.right.ref, general)
        if _top_level(node.right) and isinstance(node.left, ValueRef):
            return _scalar_equality(node.op, right, node.left.ref, general)
    elif _top_level(node.left) and isinstance(node.right, ValueRef):
        return _ordered_to_value(_HOLDS[node.op], left, node.right.ref, False)
    elif _top_level(node.right) and isinstance(node.left, ValueRef):
        return _ordered_to_value(_HOLDS[node.op], right, node.left.ref, True)
    return general


def _top_level(operand: Operand) -> bool:
    return isinstance(operand, Path) and len(operand.elements) == 1


def _scalar_equality(op: str, attribute: OperandFn, ref: str, general: PredicateFn) -> PredicateFn:
    """``attribute = :value`` or ``<>`` (either way round) on a top-level attribute: the
    filter most Scans and Queries carry. When the value is a String or a Number, the
    stored value equals it exactly when the two one-member dicts are equal (stored and
    request values are both canonical: a number has one text), so the test is one dict
    comparison (``attribute`` is one lookup: see :func:`compile_operand`) instead of
    the general walk; any other value takes the general test."""
    equal = op == "="

    def compare(item: Item, env: Env) -> bool:
        value = env.values[ref]
        if "S" in value or "N" in value:
            return (attribute(item, env) == value) is equal
        return general(item, env)

    return compare


_HOLDS: dict[str, Callable[[int, int], bool]] = {
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
}


def _ordered_to_value(
    holds: Callable[[int, int], bool], attribute: OperandFn, ref: str, swapped: bool
) -> PredicateFn:
    """``attribute < :value`` (or ``<=``, ``>``, ``>=``; ``swapped``: the value on the
    left) on a top-level attribute, a counter's usual guard: the general test
    (:func:`_ordered`) with its small-integer case inline, one call instead of four."""

    def compare(item: Item, env: Env) -> bool:
        stored = attribute(item, env)
        if stored is None:
            return False
        value = env.values[ref]
        a, b = stored.get("N"), value.get("N")
        if (
            a is not None
            and b is not None
            and len(a) < 19
            and len(b) < 19
            and "." not in a
            and "." not in b
        ):  # (_small_int of both, inlined)
            try:
                x, y = int(a), int(b)
            except ValueError:  # (not canonical: compare_values decides)
                pass
            else:
                return holds(y, x) if swapped else holds(x, y)
        order = _ordered(value, stored) if swapped else _ordered(stored, value)
        return order is not None and holds(order, 0)

    return compare


def _compile_between(node: Between) -> PredicateFn:
    operand, low, high = (compile_operand(o) for o in (node.operand, node.low, node.high))

    def between(item: Item, env: Env) -> bool:
        value = operand(item, env)
        above = _ordered(value, low(item, env))
        below = _ordered(value, high(item, env))
        return above is not None and below is not None and above >= 0 and below <= 0

    return between


def _compile_function(node: Call | Arithmetic) -> PredicateFn:
    assert isinstance(node, Call)
    args = [compile_operand(a) for a in node.args]
    if node.name == "attribute_exists":
        path = node.args[0]
        if isinstance(path, Path) and len(path.elements) == 1:
            (element,) = path.elements
            if isinstance(element, Name):  # (compile_operand's lookup, inlined)
                name = element.name
                return lambda item, env: item.get(name) is not None
        return lambda item, env: args[0](item, env) is not None
    if node.name == "attribute_not_exists":
        return lambda item, env: args[0](item, env) is None
    binary = _BINARY_FUNCTIONS[node.name]
    first, second = args

    def call(item: Item, env: Env) -> bool:
        a, b = first(item, env), second(item, env)
        return a is not None and b is not None and binary(a, b)

    return call


def _attribute_type(value: AttributeValue, type_name: AttributeValue) -> bool:
    return value_type(value) == type_name.get("S")


_BINARY_FUNCTIONS: dict[str, Callable[[AttributeValue, AttributeValue], bool]] = {
    "attribute_type": _attribute_type,
    "begins_with": begins_with,
    "contains": contains,
}
