"""AST -> expression text.

:func:`to_text` prints an AST as it is: bare names bare, placeholders as written;
``parse_*(to_text(node)) == node`` for any AST the parser can produce.
:func:`render` is what the ORM uses: every bare name and every :class:`Literal`
value becomes a generated placeholder (``#n0``, ``:v0``, numbered in order of first
appearance, repeated names/values sharing one), so reserved words and any
characters are safe, and the result carries the ``ExpressionAttributeNames`` /
``ExpressionAttributeValues`` maps to send with the text.

Parentheses are printed only where precedence needs them (and around a nested
AND/OR of the same kind, so that the tree shape survives a round trip).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from singletable._values import AttributeValue, values_equal
from singletable.expressions.nodes import (
    AddAction,
    And,
    Arithmetic,
    Between,
    Call,
    Compare,
    ConditionNode,
    DeleteAction,
    In,
    Index,
    Literal,
    Name,
    NameRef,
    Not,
    Operand,
    Or,
    Path,
    ProjectionExpression,
    RemoveAction,
    Section,
    SetAction,
    UpdateAction,
    UpdateExpression,
    ValueRef,
)

__all__ = ["Node", "Rendered", "render", "to_text"]

Node = ConditionNode | UpdateExpression | ProjectionExpression


@dataclass(frozen=True, slots=True)
class Rendered:
    """Expression text plus the placeholder maps it needs."""

    text: str
    names: dict[str, str] = field(default_factory=dict)
    values: dict[str, AttributeValue] = field(default_factory=dict)


# --------------------------------------------------------------------------- to_text


def _path(path: Path) -> str:
    out = ""
    for i, element in enumerate(path.elements):
        if isinstance(element, Index):
            out += f"[{element.index}]"
        else:
            text = element.name if isinstance(element, Name) else element.ref
            out += text if i == 0 else "." + text
    return out


def _operand(operand: Operand) -> str:
    if isinstance(operand, Path):
        return _path(operand)
    if isinstance(operand, ValueRef):
        return operand.ref
    if isinstance(operand, Call):
        return f"{operand.name}({', '.join(_operand(a) for a in operand.args)})"
    if isinstance(operand, Arithmetic):
        return f"{_operand(operand.left)} {operand.op} {_operand(operand.right)}"
    raise ValueError("a Literal has no text form; use render() to get a placeholder")


def _level(node: ConditionNode) -> int:
    return 1 if isinstance(node, Or) else 2 if isinstance(node, And) else 3


def _child(node: ConditionNode, parent_level: int) -> str:
    text = _condition(node)
    return f"({text})" if _level(node) <= parent_level and _level(node) < 3 else text


def _condition(node: ConditionNode) -> str:
    if isinstance(node, Or):
        return " OR ".join(_child(c, 1) for c in node.conditions)
    if isinstance(node, And):
        return " AND ".join(_child(c, 2) for c in node.conditions)
    if isinstance(node, Not):
        return "NOT " + _child(node.condition, 2)
    if isinstance(node, Compare):
        return f"{_operand(node.left)} {node.op} {_operand(node.right)}"
    if isinstance(node, Between):
        low, high = _operand(node.low), _operand(node.high)
        return f"{_operand(node.operand)} BETWEEN {low} AND {high}"
    if isinstance(node, In):
        choices = ", ".join(_operand(c) for c in node.choices)
        return f"{_operand(node.operand)} IN ({choices})"
    return _operand(node)


def _action(action: UpdateAction) -> str:
    if isinstance(action, SetAction):
        return f"{_path(action.path)} = {_operand(action.value)}"
    if isinstance(action, RemoveAction):
        return _path(action.path)
    return f"{_path(action.path)} {_operand(action.value)}"


def to_text(node: Node) -> str:
    """The expression text of an AST, placeholders and bare names as they are."""
    if isinstance(node, UpdateExpression):
        return " ".join(
            f"{s.kind} {', '.join(_action(a) for a in s.actions)}" for s in node.sections
        )
    if isinstance(node, ProjectionExpression):
        return ", ".join(_path(p) for p in node.paths)
    return _condition(node)


# --------------------------------------------------------------------------- render


class _Placeholders:
    """Generates ``#nK`` / ``:vK`` placeholders, one per distinct name or value."""

    def __init__(self, name_prefix: str, value_prefix: str) -> None:
        self.name_prefix = name_prefix
        self.value_prefix = value_prefix
        self.names: dict[str, str] = {}
        self.by_name: dict[str, str] = {}
        self.values: dict[str, AttributeValue] = {}

    def name(self, name: str) -> NameRef:
        if name not in self.by_name:
            ref = f"{self.name_prefix}{len(self.by_name)}"
            self.by_name[name] = ref
            self.names[ref] = name
        return NameRef(self.by_name[name])

    def value(self, value: AttributeValue) -> ValueRef:
        for ref, known in self.values.items():
            if values_equal(known, value) and known.keys() == value.keys():
                return ValueRef(ref)
        ref = f"{self.value_prefix}{len(self.values)}"
        self.values[ref] = value
        return ValueRef(ref)

    def path(self, path: Path) -> Path:
        return Path(tuple(self.name(e.name) if isinstance(e, Name) else e for e in path.elements))

    def operand(self, operand: Operand) -> Operand:
        if isinstance(operand, Path):
            return self.path(operand)
        if isinstance(operand, Literal):
            return self.value(operand.value)
        if isinstance(operand, Call):
            return Call(operand.name, tuple(self.operand(a) for a in operand.args))
        if isinstance(operand, Arithmetic):
            return Arithmetic(operand.op, self.operand(operand.left), self.operand(operand.right))
        return operand

    def condition(self, node: ConditionNode) -> ConditionNode:
        if isinstance(node, Or | And):
            return type(node)(tuple(self.condition(c) for c in node.conditions))
        if isinstance(node, Not):
            return Not(self.condition(node.condition))
        if isinstance(node, Compare):
            return Compare(node.op, self.operand(node.left), self.operand(node.right))
        if isinstance(node, Between):
            operand, low, high = (self.operand(o) for o in (node.operand, node.low, node.high))
            return Between(operand, low, high)
        if isinstance(node, In):
            choices = tuple(self.operand(c) for c in node.choices)
            return In(self.operand(node.operand), choices)
        return Call(node.name, tuple(self.operand(a) for a in node.args))

    def action(self, action: UpdateAction) -> UpdateAction:
        path = self.path(action.path)
        if isinstance(action, RemoveAction):
            return RemoveAction(path)
        if isinstance(action, SetAction):
            return SetAction(path, self.operand(action.value))
        if isinstance(action, AddAction):
            return AddAction(path, self.operand(action.value))
        return DeleteAction(path, self.operand(action.value))

    def node(self, node: Node) -> Node:
        if isinstance(node, UpdateExpression):
            return UpdateExpression(
                tuple(
                    Section(s.kind, tuple(self.action(a) for a in s.actions)) for s in node.sections
                )
            )
        if isinstance(node, ProjectionExpression):
            return ProjectionExpression(tuple(self.path(p) for p in node.paths))
        return self.condition(node)


def render(node: Node, name_prefix: str = "#n", value_prefix: str = ":v") -> Rendered:
    """Text plus generated placeholder maps for an AST built in Python.

    Bare names and literal values get placeholders; placeholders already in the
    AST are kept (their maps are the caller's to supply).
    """
    placeholders = _Placeholders(name_prefix, value_prefix)
    text = to_text(placeholders.node(node))
    return Rendered(text, placeholders.names, placeholders.values)
