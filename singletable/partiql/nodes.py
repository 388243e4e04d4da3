"""The PartiQL AST: statements, conditions, operands and literal values.

Nodes are frozen dataclasses. Literal values keep parameters (``?``) unresolved
(:class:`Param`), so one parsed statement serves every set of ``Parameters``;
the engine resolves them to AttributeValues when it runs the statement.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

__all__ = [
    "And",
    "Arithmetic",
    "Between",
    "Call",
    "Compare",
    "Condition",
    "Delete",
    "Exists",
    "In",
    "Insert",
    "IsMissing",
    "IsNull",
    "ListValue",
    "Literal",
    "MapValue",
    "Not",
    "Operand",
    "Or",
    "Param",
    "Path",
    "Select",
    "SetAssign",
    "SetFunction",
    "SetValue",
    "Statement",
    "Target",
    "Update",
    "Value",
]


@dataclass(frozen=True, slots=True)
class Path:
    """A document path: an attribute name, then names (``.b``) and list indexes (``[0]``)."""

    parts: tuple[str | int, ...]

    @property
    def root(self) -> str:
        """The top-level attribute the path starts at."""
        first = self.parts[0]
        assert isinstance(first, str)
        return first


@dataclass(frozen=True, slots=True)
class Literal:
    """A literal AttributeValue (``'a'``, ``1``, ``TRUE``, ``NULL``...)."""

    value: dict[str, Any]


@dataclass(frozen=True, slots=True)
class Param:
    """A ``?`` placeholder: the ``index``-th (0-based) member of ``Parameters``."""

    index: int


@dataclass(frozen=True, slots=True)
class MapValue:
    """A ``{'k': v, ...}`` literal (members may hold parameters)."""

    members: tuple[tuple[str, Value], ...]


@dataclass(frozen=True, slots=True)
class ListValue:
    """A ``[a, b]`` list or a ``<<a, b>>`` set literal."""

    members: tuple[Value, ...]
    is_set: bool = False


Value = Literal | Param | MapValue | ListValue
"""A value written in the statement."""


@dataclass(frozen=True, slots=True)
class Call:
    """A function call in a condition: ``begins_with(a, 'x')``, ``size(a)``..."""

    name: str  # lower case
    args: tuple[Operand, ...]


Operand = Path | Literal | Param | MapValue | ListValue | Call


@dataclass(frozen=True, slots=True)
class Compare:
    """``left op right``; ``op`` one of ``= <> < <= > >=``."""

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
    """``operand IN [a, b, ...]``."""

    operand: Operand
    options: tuple[Operand, ...]


@dataclass(frozen=True, slots=True)
class IsMissing:
    """``path IS [NOT] MISSING``."""

    path: Path
    negated: bool


@dataclass(frozen=True, slots=True)
class IsNull:
    """``path IS [NOT] NULL`` (PartiQL: true for NULL and for a missing attribute)."""

    path: Path
    negated: bool


@dataclass(frozen=True, slots=True)
class And:
    left: Condition
    right: Condition


@dataclass(frozen=True, slots=True)
class Or:
    left: Condition
    right: Condition


@dataclass(frozen=True, slots=True)
class Not:
    operand: Condition


Condition = Compare | Between | In | IsMissing | IsNull | And | Or | Not | Call


@dataclass(frozen=True, slots=True)
class Target:
    """``"table"`` or ``"table"."index"``."""

    table: str
    index: str | None = None


@dataclass(frozen=True, slots=True)
class Arithmetic:
    """``a + b`` or ``a - b`` on the right of a SET."""

    op: str
    left: Path | Value
    right: Path | Value


@dataclass(frozen=True, slots=True)
class SetFunction:
    """``list_append(a, b)``, ``set_add(a, v)`` or ``set_delete(a, v)`` on the right of a SET."""

    name: str  # lower case
    args: tuple[Path | Value, ...]


SetValue = Path | Literal | Param | MapValue | ListValue | Arithmetic | SetFunction


@dataclass(frozen=True, slots=True)
class SetAssign:
    """``path = value`` in an UPDATE."""

    path: Path
    value: SetValue


@dataclass(frozen=True, slots=True)
class Select:
    """``SELECT projection FROM target [WHERE ...] [ORDER BY ...]``."""

    projection: tuple[Path, ...] | None  # None: ``*``
    target: Target
    where: Condition | None
    order_by: tuple[tuple[Path, bool], ...]  # (path, descending)


@dataclass(frozen=True, slots=True)
class Insert:
    """``INSERT INTO target VALUE {...}``."""

    target: Target
    value: Value


@dataclass(frozen=True, slots=True)
class Update:
    """``UPDATE target SET ... REMOVE ... WHERE ... [RETURNING ...]``."""

    target: Target
    sets: tuple[SetAssign, ...]
    removes: tuple[Path, ...]
    where: Condition | None
    returning: str | None  # "ALL OLD", "MODIFIED NEW"...


@dataclass(frozen=True, slots=True)
class Delete:
    """``DELETE FROM target WHERE ... [RETURNING ALL OLD *]``."""

    target: Target
    where: Condition | None
    returning: str | None


@dataclass(frozen=True, slots=True)
class Exists:
    """``EXISTS(SELECT ... WHERE <full key> ...)``: a condition check in a transaction."""

    select: Select

    @property
    def target(self) -> Target:
        return self.select.target

    @property
    def returning(self) -> None:
        return None


Statement = Select | Insert | Update | Delete | Exists
