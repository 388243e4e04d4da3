"""KeyConditionExpression: a condition restricted to key attributes.

After the condition grammar and its checks, a key condition must be an AND of
simple terms, one per key attribute: ``=`` on every hash key attribute, and on
range key attributes ``= < <= > >= BETWEEN begins_with``, equality on leading range
attributes and a range operator only on the last one used. The rules are written
for multi-attribute keys (up to four hash and four range attributes per index), so
a table's single ``PK``/``SK`` is the one-element case.

Messages follow DynamoDB; they carry no ``Invalid KeyConditionExpression:`` prefix
(only grammar errors do). Cross-checked with dynalite and moto; the exact message
for a condition on a non-key attribute of a hash-only table ("Query key condition
not supported") is moto's choice, not confirmed against DynamoDB.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal as TypingLiteral

from singletable._values import AttributeValue
from singletable.expressions.errors import ExpressionError
from singletable.expressions.nodes import (
    And,
    Between,
    Call,
    Compare,
    ConditionNode,
    In,
    Not,
    Operand,
    Or,
    Path,
)
from singletable.expressions.validate import Binder

__all__ = ["KeyCondition", "KeyOp", "KeyTerm", "analyze_key_condition"]

KeyOp = TypingLiteral["=", "<", "<=", ">", ">=", "BETWEEN", "begins_with"]

_FLIPPED: dict[str, KeyOp] = {"=": "=", "<": ">", "<=": ">=", ">": "<", ">=": "<="}
_NOT_KEY_FUNCTIONS = ("attribute_exists", "attribute_not_exists", "attribute_type", "contains")


@dataclass(frozen=True, slots=True)
class KeyTerm:
    """One key attribute's condition: ``name op values``."""

    name: str
    op: KeyOp
    values: tuple[AttributeValue, ...]


@dataclass(frozen=True, slots=True)
class KeyCondition:
    """A validated key condition: hash key values and range terms in key order."""

    hash_values: dict[str, AttributeValue]
    range_terms: list[KeyTerm]


def _fail(message: str) -> ExpressionError:
    return ExpressionError(message)


def _leaves(node: ConditionNode) -> list[ConditionNode]:
    if isinstance(node, And):
        return [leaf for child in node.conditions for leaf in _leaves(child)]
    if isinstance(node, Or | Not | In):
        word = {Or: "OR", Not: "NOT", In: "IN"}[type(node)]
        raise _fail(f"Invalid operator used in KeyConditionExpression: {word}")
    if isinstance(node, Compare) and node.op == "<>":
        raise _fail("Invalid operator used in KeyConditionExpression: <>")
    if isinstance(node, Call) and node.name in _NOT_KEY_FUNCTIONS:
        raise _fail(f"Invalid operator used in KeyConditionExpression: {node.name}")
    return [node]


def _operands(node: ConditionNode) -> tuple[Operand, ...]:
    if isinstance(node, Compare):
        return (node.left, node.right)
    if isinstance(node, Between):
        return (node.operand, node.low, node.high)
    assert isinstance(node, Call)
    return node.args


def _term(node: ConditionNode, binder: Binder) -> KeyTerm:
    operands = _operands(node)
    if any(isinstance(o, Call) for o in operands):
        raise _fail("KeyConditionExpressions cannot contain nested operations")
    paths = [i for i, o in enumerate(operands) if isinstance(o, Path)]
    if isinstance(node, Between | Call) and 0 not in paths:
        name = "BETWEEN" if isinstance(node, Between) else "begins_with"
        raise _fail(
            f"Invalid condition in KeyConditionExpression: {name} operator must have the "
            "key attribute as its first operand"
        )
    if len(paths) > 1:
        raise _fail(
            "Invalid condition in KeyConditionExpression: Multiple attribute names used in "
            "one condition"
        )
    if not paths:
        raise _fail("Invalid condition in KeyConditionExpression: No key attribute specified")
    path = operands[paths[0]]
    assert isinstance(path, Path)
    resolved = binder.path(path)
    if len(resolved) > 1:
        raise _fail("KeyConditionExpressions cannot have conditions on nested attributes")
    values = tuple(
        v for i, o in enumerate(operands) if i != paths[0] and (v := binder.constant(o)) is not None
    )
    if isinstance(node, Compare):
        compare_op = _FLIPPED[node.op] if paths[0] == 1 else node.op
        return KeyTerm(str(resolved[0]), compare_op, values)  # type: ignore[arg-type]
    op = "BETWEEN" if isinstance(node, Between) else "begins_with"
    return KeyTerm(str(resolved[0]), op, values)  # type: ignore[arg-type]


def analyze_key_condition(
    node: ConditionNode,
    binder: Binder,
    hash_keys: Sequence[str],
    range_keys: Sequence[str],
) -> KeyCondition:
    """Check a (grammatically valid) key condition against the key schema."""
    terms: dict[str, KeyTerm] = {}
    for leaf in _leaves(node):
        term = _term(leaf, binder)
        if term.name in terms:
            raise _fail("KeyConditionExpressions must only contain one condition per key")
        terms[term.name] = term
    hash_values: dict[str, AttributeValue] = {}
    for name in hash_keys:
        if name not in terms:
            raise _fail(f"Query condition missed key schema element: {name}")
        if terms[name].op != "=":
            if len(hash_keys) > 1:
                # A multi-attribute partition key names the part (text as DynamoDB
                # answered a user, quoted in a public Java project; the single-key
                # form stays "Query key condition not supported").
                raise _fail(f"HASH key attributes {name} must have equality conditions")
            raise _fail("Query key condition not supported")
        hash_values[name] = terms[name].values[0]
    if set(terms) - set(hash_keys) - set(range_keys):
        missing = [name for name in range_keys if name not in terms]
        if missing:
            raise _fail(f"Query condition missed key schema element: {missing[0]}")
        raise _fail("Query key condition not supported")
    return KeyCondition(hash_values, _range_terms(terms, range_keys))


def _range_terms(terms: dict[str, KeyTerm], range_keys: Sequence[str]) -> list[KeyTerm]:
    used = [name for name in range_keys if name in terms]
    out: list[KeyTerm] = []
    for position, name in enumerate(range_keys):
        if name not in terms:
            later = [k for k in range_keys[position + 1 :] if k in terms]
            if later:
                raise _fail(
                    f"RANGE key attributes {name} must have equality conditions specified in "
                    f"the query because a condition is present on key attribute {later[0]}"
                )
            break
        term = terms[name]
        if name != used[-1] and term.op != "=":
            # Live DynamoDB names the next attribute used, as for a gap (multi-attribute
            # GSI conformance suite verified in eu-west-2 and us-east-1).
            later = [k for k in range_keys[position + 1 :] if k in terms]
            raise _fail(
                f"RANGE key attributes {name} must have equality conditions specified in "
                f"the query because a condition is present on key attribute {later[0]}"
            )
        out.append(term)
    return out
