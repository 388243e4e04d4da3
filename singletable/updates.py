"""Update expressions built on field paths: set, remove, add, delete, append, prepend.

::

    Update()
        .set(Order.status, "shipped")
        .set(Order.stock, Order.stock - 1)
        .set(Order.views, if_not_exists(Order.views, 0) + 1)
        .set(Order.address.city, "Bergen")      # one member of a nested model
        .remove(Order.note)
        .add(Order.tags, {"gift"})
        .delete(Order.flags, {"new"})
        .append(Order.history, ["shipped"])

builds an :class:`~singletable.expressions.nodes.UpdateExpression` AST, rendered
with placeholders (:meth:`Update.render`, or
:func:`~singletable.conditions.expression_parameters` together with a condition).
An ``Update`` is immutable: every method returns a new one.

Values are validated against the field's type and stored as the item stores them
(see :mod:`singletable.conditions`): ``set(Order.status, "shipped")`` writes the
enum's value, the TTL field is written as epoch seconds, ``"x"`` for a ``Decimal``
field is refused naming ``Order.total``.

**Nested models: the partial-update rule.** A path says exactly what is written:

- ``set(Order.address, Address(...))`` replaces the whole map: members the new
  value does not have (None members are left out, like in ``to_item``) are gone.
- ``set(Order.address.city, "Bergen")`` writes one member and leaves the others as
  stored. The map itself must already exist (DynamoDB refuses a path through a
  missing map: "The document path provided in the update expression is invalid for
  update"); set the whole model when it may be missing.
- Both in one update is refused here (DynamoDB refuses overlapping paths too), with
  both paths named.
- ``set(path, None)`` is ``remove(path)``, because a None field is not stored at all.
  Removing a field (or nested member) the model requires is refused, since the item
  could not be read back.

``append``/``prepend`` work on a missing list too: they render
``list_append(if_not_exists(path, []), items)``. ``add`` takes a number (added to a
number, 0 if missing) or a set (merged into a set); ``delete`` takes a set of
members to take out of a stored set.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from collections.abc import Set as AbstractSet
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Generic, Literal, TypeVar, overload

from singletable.codec import to_attribute
from singletable.conditions import Expr, FieldPath, Number
from singletable.errors import InvalidValueError
from singletable.expressions import nodes
from singletable.expressions.render import Rendered, render

__all__ = ["Update", "UpdateValue", "arithmetic", "if_not_exists"]

T = TypeVar("T")
U = TypeVar("U")

_SECTIONS: tuple[Literal["SET", "REMOVE", "ADD", "DELETE"], ...] = (
    "SET",
    "REMOVE",
    "ADD",
    "DELETE",
)
_SET_TYPES = frozenset({"SS", "NS", "BS"})


class UpdateValue(Generic[T]):
    """The value of a SET action computed by DynamoDB: ``path - 1``,
    ``if_not_exists(path, 0)``, and sums of those."""

    __slots__ = ("_governing", "label", "node")

    def __init__(self, node: nodes.Operand, label: str, governing: FieldPath[Any] | None) -> None:
        self.node = node
        self.label = label
        self._governing = governing

    def __add__(self, other: T | Number | FieldPath[Any] | UpdateValue[Any]) -> UpdateValue[T]:
        return arithmetic(self, "+", other)

    def __sub__(self, other: T | Number | FieldPath[Any] | UpdateValue[Any]) -> UpdateValue[T]:
        return arithmetic(self, "-", other)

    def __radd__(self, other: T | Number) -> UpdateValue[T]:
        return arithmetic(other, "+", self)

    def __rsub__(self, other: T | Number) -> UpdateValue[T]:
        return arithmetic(other, "-", self)

    def __repr__(self) -> str:
        return f"UpdateValue({self.label})"


def _number_operand(value: Any, governing: FieldPath[Any] | None, label: str) -> nodes.Operand:
    if isinstance(value, FieldPath):
        return value.path
    if isinstance(value, UpdateValue):
        return value.node
    if isinstance(value, Expr):
        raise InvalidValueError(f"{label}: {value.label} cannot be used in an update")
    encoded = governing.encode(value) if governing is not None else to_attribute(value, label)
    if "N" not in encoded:
        raise InvalidValueError(f"{label}: arithmetic takes numbers, not {value!r}")
    return nodes.Literal(encoded)


def arithmetic(left: Any, op: Literal["+", "-"], right: Any) -> UpdateValue[Any]:
    """``left + right`` / ``left - right`` for a SET action; at least one side is a field
    path or an :class:`UpdateValue`, and plain values are numbers of that path's type."""
    governing: FieldPath[Any] | None = None
    for side in (left, right):
        if isinstance(side, FieldPath):
            governing = side
            break
        if isinstance(side, UpdateValue) and side._governing is not None:
            governing = side._governing
            break
    if not any(isinstance(side, FieldPath | UpdateValue) for side in (left, right)):
        raise InvalidValueError("arithmetic needs a field path on one side")
    label = governing.label if governing is not None else "update"
    node = nodes.Arithmetic(
        op, _number_operand(left, governing, label), _number_operand(right, governing, label)
    )
    left_label = left.label if isinstance(left, FieldPath | UpdateValue) else repr(left)
    right_label = right.label if isinstance(right, FieldPath | UpdateValue) else repr(right)
    return UpdateValue(node, f"{left_label} {op} {right_label}", governing)


@overload
def if_not_exists(
    path: FieldPath[Decimal], default: Number | FieldPath[Any]
) -> UpdateValue[Decimal]: ...
@overload
def if_not_exists(
    path: FieldPath[float], default: Number | FieldPath[Any]
) -> UpdateValue[float]: ...
@overload
def if_not_exists(path: FieldPath[T], default: T | FieldPath[Any]) -> UpdateValue[T]: ...
def if_not_exists(path: FieldPath[Any], default: Any) -> UpdateValue[Any]:
    """``if_not_exists(path, default)``: the stored value, or ``default`` if there is none."""
    value = default.path if isinstance(default, FieldPath) else nodes.Literal(path.encode(default))
    return UpdateValue(
        nodes.Call("if_not_exists", (path.path, value)),
        f"if_not_exists({path.label}, {default!r})",
        path,
    )


@dataclass(frozen=True, slots=True)
class _Action:
    kind: Literal["SET", "REMOVE", "ADD", "DELETE"]
    target: FieldPath[Any]
    node: nodes.UpdateAction
    value: Any  # the validated Python value of a plain SET; None for REMOVE
    known: bool  # value is known (a plain SET or a REMOVE)


def _overlaps(a: nodes.Path, b: nodes.Path) -> bool:
    n = min(len(a.elements), len(b.elements))
    return a.elements[:n] == b.elements[:n]


class Update:
    """An update expression under construction (immutable; methods return new ones)."""

    __slots__ = ("_actions",)

    def __init__(self, actions: Iterable[_Action] = ()) -> None:
        self._actions: tuple[_Action, ...] = tuple(actions)

    def _with(self, action: _Action) -> Update:
        for known in self._actions:
            if _overlaps(known.target.path, action.target.path):
                same = known.target.path == action.target.path
                raise InvalidValueError(
                    f"{action.target.label}: "
                    + (
                        "updated twice in one update"
                        if same
                        else f"overlaps {known.target.label} in the same update (DynamoDB "
                        "refuses two paths where one is inside the other; set the whole "
                        "value or only its members)"
                    )
                )
        return Update((*self._actions, action))

    # ------------------------------------------------------------------ actions

    @overload
    def set(
        self,
        path: FieldPath[Decimal],
        value: Number | FieldPath[Any] | UpdateValue[Any] | None,
    ) -> Update: ...
    @overload
    def set(
        self,
        path: FieldPath[float],
        value: Number | FieldPath[Any] | UpdateValue[Any] | None,
    ) -> Update: ...
    @overload
    def set(
        self, path: FieldPath[T], value: T | FieldPath[Any] | UpdateValue[Any] | None
    ) -> Update: ...
    def set(self, path: FieldPath[Any], value: Any) -> Update:
        """``SET path = value``: a value (validated, stored as the item stores it),
        another path, or an :class:`UpdateValue`; None removes the attribute."""
        _check_path(path, "set")
        if value is None:
            return self.remove(path)
        if isinstance(value, UpdateValue):
            return self._with(
                _Action("SET", path, nodes.SetAction(path.path, value.node), None, False)
            )
        if isinstance(value, FieldPath):
            return self._with(
                _Action("SET", path, nodes.SetAction(path.path, value.path), None, False)
            )
        if isinstance(value, Expr):
            raise InvalidValueError(f"{path.label}: {value.label} cannot be the value of a SET")
        validated = path.validate(value)
        literal = nodes.Literal(path.encode(validated))
        return self._with(
            _Action("SET", path, nodes.SetAction(path.path, literal), validated, True)
        )

    def remove(self, *paths: FieldPath[Any]) -> Update:
        """``REMOVE path, ...``: the attributes (or members, list elements) are deleted.

        Raises:
            InvalidValueError: the model requires a value at a path.
        """
        update = self
        for path in paths:
            _check_path(path, "remove")
            if path.required:
                raise InvalidValueError(
                    f"{path.label} is required: removing it would leave an item that "
                    "cannot be read back"
                )
            update = update._with(
                _Action("REMOVE", path, nodes.RemoveAction(path.path), None, True)
            )
        return update

    @overload
    def add(self, path: FieldPath[Decimal], value: Number) -> Update: ...
    @overload
    def add(self, path: FieldPath[float], value: Number) -> Update: ...
    @overload
    def add(self, path: FieldPath[T], value: T) -> Update: ...
    def add(self, path: FieldPath[Any], value: Any) -> Update:
        """``ADD path value``: add a number to a number (missing counts as 0) or merge
        members into a set (created if missing)."""
        _check_path(path, "add")
        encoded = path.encode(value)
        if "N" not in encoded and not _SET_TYPES & encoded.keys():
            raise InvalidValueError(
                f"{path.label}: add() takes a number or a set, not {value!r} "
                "(use set() for other values)"
            )
        node = nodes.AddAction(path.path, nodes.Literal(encoded))
        return self._with(_Action("ADD", path, node, None, False))

    def delete(self, path: FieldPath[Any], members: AbstractSet[Any]) -> Update:
        """``DELETE path members``: take members out of a stored set."""
        _check_path(path, "delete")
        encoded = path.encode(members)
        if not _SET_TYPES & encoded.keys():
            raise InvalidValueError(
                f"{path.label}: delete() takes a set of members, not {members!r}"
            )
        node = nodes.DeleteAction(path.path, nodes.Literal(encoded))
        return self._with(_Action("DELETE", path, node, None, False))

    def append(self, path: FieldPath[Any], items: Sequence[Any]) -> Update:
        """``SET path = list_append(if_not_exists(path, []), items)``."""
        return self._list_append(path, items, at_end=True)

    def prepend(self, path: FieldPath[Any], items: Sequence[Any]) -> Update:
        """``SET path = list_append(items, if_not_exists(path, []))``."""
        return self._list_append(path, items, at_end=False)

    def _list_append(self, path: FieldPath[Any], items: Sequence[Any], *, at_end: bool) -> Update:
        what = "append" if at_end else "prepend"
        _check_path(path, what)
        if isinstance(items, str | bytes) or not isinstance(items, Sequence):
            raise InvalidValueError(f"{path.label}: {what}() takes a list of items, not {items!r}")
        encoded = path.encode(list(items))
        if "L" not in encoded:
            raise InvalidValueError(f"{path.label} is not a list: {what}() works on lists")
        current = nodes.Call("if_not_exists", (path.path, nodes.Literal({"L": []})))
        new = nodes.Literal(encoded)
        args: tuple[nodes.Operand, nodes.Operand] = (current, new) if at_end else (new, current)
        node = nodes.SetAction(path.path, nodes.Call("list_append", args))
        return self._with(_Action("SET", path, node, None, False))

    def merge(self, other: Update) -> Update:
        """This update's actions followed by ``other``'s (overlaps are refused)."""
        update = self
        for action in other._actions:
            update = update._with(action)
        return update

    # ------------------------------------------------------------------ results

    def __bool__(self) -> bool:
        return bool(self._actions)

    def __len__(self) -> int:
        return len(self._actions)

    @property
    def fields(self) -> frozenset[str]:
        """The top-level fields (or raw attributes) any action touches."""
        return frozenset(a.target.top_field for a in self._actions)

    @property
    def assigned(self) -> dict[str, Any]:
        """Top-level fields given a known value: ``set(field, value)`` (the validated
        value) and ``remove(field)`` (None). Fields changed otherwise (nested members,
        arithmetic, add, append) are in :attr:`fields` but not here."""
        return {
            a.target.top_field: a.value
            for a in self._actions
            if a.known and len(a.target.path.elements) == 1
        }

    def expression(self) -> nodes.UpdateExpression:
        """The update expression AST (sections SET, REMOVE, ADD, DELETE, actions in order).

        Raises:
            InvalidValueError: the update is empty.
        """
        if not self._actions:
            raise InvalidValueError("an update needs at least one action")
        sections = []
        for kind in _SECTIONS:
            actions = tuple(a.node for a in self._actions if a.kind == kind)
            if actions:
                sections.append(nodes.Section(kind, actions))
        return nodes.UpdateExpression(tuple(sections))

    def render(self, name_prefix: str = "#n", value_prefix: str = ":v") -> Rendered:
        """The expression text with its placeholder maps."""
        return render(self.expression(), name_prefix, value_prefix)

    def __repr__(self) -> str:
        rendered = self.render() if self._actions else Rendered("")
        text = rendered.text
        for ref, name in sorted(rendered.names.items(), key=lambda kv: -len(kv[0])):
            text = text.replace(ref, name)
        return f"Update({text!r})"


def _check_path(path: Any, what: str) -> None:
    if not isinstance(path, FieldPath):
        raise InvalidValueError(
            f"{what}() takes a field path such as Order.total as its target, not {path!r}"
        )
