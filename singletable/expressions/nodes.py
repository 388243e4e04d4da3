"""AST nodes of DynamoDB's expression language.

One set of frozen, slotted dataclasses serves both directions: the parser builds
them from expression text (names and values appear as ``#name`` / ``:value``
placeholders or bare identifiers), and the ORM builds them in Python (bare names and
:class:`Literal` values) to render them into text plus placeholder maps.

Grammar shape::

    condition  := Or | And | Not | Compare | Between | In | Call
    operand    := Path | ValueRef | Literal | Call | Arithmetic
    path       := (Name | NameRef) (Name | NameRef | Index)*
    update     := UpdateExpression(sections: Section(kind, actions)...)
    projection := ProjectionExpression(paths)

``And``/``Or`` are n-ary: ``a AND b AND c`` is one ``And`` with three members; a
parenthesised ``a AND (b AND c)`` keeps its nested ``And``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal as TypingLiteral
from typing import TypeAlias

from singletable._values import AttributeValue

__all__ = [
    "COMPARATORS",
    "AddAction",
    "And",
    "Arithmetic",
    "Between",
    "Call",
    "Compare",
    "ConditionNode",
    "DeleteAction",
    "In",
    "Index",
    "Literal",
    "Name",
    "NameRef",
    "Not",
    "Operand",
    "Or",
    "Path",
    "PathElement",
    "ProjectionExpression",
    "RemoveAction",
    "Section",
    "SetAction",
    "UpdateAction",
    "UpdateExpression",
    "ValueRef",
]

COMPARATORS = ("=", "<>", "<", "<=", ">", ">=")


@dataclass(frozen=True, slots=True)
class Name:
    """A bare attribute name in a document path (``status`` in ``status = :s``)."""

    name: str


@dataclass(frozen=True, slots=True)
class NameRef:
    """An ``ExpressionAttributeNames`` placeholder such as ``#n``."""

    ref: str


@dataclass(frozen=True, slots=True)
class Index:
    """A list index in a document path (``[3]``)."""

    index: int


PathElement: TypeAlias = Name | NameRef | Index


@dataclass(frozen=True, slots=True)
class Path:
    """A document path: ``a.b[3].#c``. The first element is a name, never an index."""

    elements: tuple[PathElement, ...]


@dataclass(frozen=True, slots=True)
class ValueRef:
    """An ``ExpressionAttributeValues`` placeholder such as ``:v``."""

    ref: str


@dataclass(frozen=True, slots=True)
class Literal:
    """A value given directly (built in Python, rendered as a generated ``:v`` placeholder)."""

    value: AttributeValue


@dataclass(frozen=True, slots=True)
class Call:
    """A function call: ``size(a)``, ``begins_with(a, :p)``, ``if_not_exists(a, :z)``."""

    name: str
    args: tuple[Operand, ...]


@dataclass(frozen=True, slots=True)
class Arithmetic:
    """``left + right`` or ``left - right`` (only as the value of a SET action)."""

    op: TypingLiteral["+", "-"]
    left: Operand
    right: Operand


Operand: TypeAlias = Path | ValueRef | Literal | Call | Arithmetic


@dataclass(frozen=True, slots=True)
class Compare:
    """``left <op> right`` with op one of ``= <> < <= > >=``."""

    op: str
    left: Operand
    right: Operand


@dataclass(frozen=True, slots=True)
class Between:
    """``operand BETWEEN low AND high``."""

    operand: Operand
    low: Operand
    high: Operand


@dataclass(frozen=True, slots=True)
class In:
    """``operand IN (choice, ...)``."""

    operand: Operand
    choices: tuple[Operand, ...]


@dataclass(frozen=True, slots=True)
class And:
    """Conjunction of two or more conditions."""

    conditions: tuple[ConditionNode, ...]


@dataclass(frozen=True, slots=True)
class Or:
    """Disjunction of two or more conditions."""

    conditions: tuple[ConditionNode, ...]


@dataclass(frozen=True, slots=True)
class Not:
    """``NOT condition``."""

    condition: ConditionNode


ConditionNode: TypeAlias = Compare | Between | In | And | Or | Not | Call


@dataclass(frozen=True, slots=True)
class SetAction:
    """``path = value`` in a SET section."""

    path: Path
    value: Operand


@dataclass(frozen=True, slots=True)
class RemoveAction:
    """``path`` in a REMOVE section."""

    path: Path


@dataclass(frozen=True, slots=True)
class AddAction:
    """``path value`` in an ADD section."""

    path: Path
    value: Operand


@dataclass(frozen=True, slots=True)
class DeleteAction:
    """``path value`` in a DELETE section."""

    path: Path
    value: Operand


UpdateAction: TypeAlias = SetAction | RemoveAction | AddAction | DeleteAction


@dataclass(frozen=True, slots=True)
class Section:
    """One clause of an update expression: ``SET a = :v, b = :w``."""

    kind: TypingLiteral["SET", "REMOVE", "ADD", "DELETE"]
    actions: tuple[UpdateAction, ...]


@dataclass(frozen=True, slots=True)
class UpdateExpression:
    """A whole update expression: its sections in text order."""

    sections: tuple[Section, ...]


@dataclass(frozen=True, slots=True)
class ProjectionExpression:
    """A projection expression: comma-separated document paths."""

    paths: tuple[Path, ...]
