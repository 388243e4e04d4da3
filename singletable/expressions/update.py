"""Update-expression semantics: SET, REMOVE, ADD and DELETE applied to an item.

Rules (Developer Guide, "Using update expressions in DynamoDB"):

* Every SET value is computed from the item as it was *before* the update, so
  ``SET a = b, b = a`` swaps. Reading a missing attribute is an error, except as
  the first operand of ``if_not_exists``.
* ``+``/``-`` need two numbers, ``list_append`` two lists; otherwise "An operand in
  the update expression has an incorrect data type". Results go through the number
  limits (38 digits, magnitude range).
* Setting a nested path needs its parent to exist with the right type; a list
  index past the end appends (several such elements of one list in index order).
* REMOVE of a nested path needs its parent to exist with the right type, as SET
  does (unless the whole item is new). REMOVE of list elements shifts later
  elements down; several indexes of one list are all taken against the original
  list (they are applied highest first). Removing something that does not exist
  (under an existing parent) does nothing.
* ADD creates a missing number (starting from 0) or set; DELETE removes members of
  a set and removes the attribute when the set becomes empty.

Runtime errors have no ``Invalid UpdateExpression:`` prefix, as in DynamoDB.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from decimal import Decimal, localcontext

from singletable._values import (
    MAX_ADJUSTED_EXPONENT,
    MIN_ADJUSTED_EXPONENT,
    AttributeValue,
    InvalidValue,
    Item,
    add_numbers,
    copy_value,
    subtract_numbers,
    value_type,
)
from singletable.expressions.errors import ExpressionError
from singletable.expressions.evaluate import get_path
from singletable.expressions.nodes import (
    AddAction,
    Arithmetic,
    Call,
    DeleteAction,
    Literal,
    Operand,
    Path,
    SetAction,
    UpdateExpression,
    ValueRef,
)
from singletable.expressions.validate import Binder, ResolvedPath

__all__ = [
    "INCORRECT_DATA_TYPE",
    "INVALID_PATH",
    "MISSING_ATTRIBUTE",
    "UpdatePlan",
    "compile_update",
]

MISSING_ATTRIBUTE = "The provided expression refers to an attribute that does not exist in the item"
INCORRECT_DATA_TYPE = "An operand in the update expression has an incorrect data type"
INVALID_PATH = "The document path provided in the update expression is invalid for update"
OVERFLOW = (
    "Number overflow. Attempting to store a number with magnitude larger than supported range"
)
UNDERFLOW = (
    "Number underflow. Attempting to store a number with magnitude smaller than supported range"
)

# A compiled operand: its value for an item and the request's ExpressionAttributeValues.
ValueFn = Callable[[Item, Mapping[str, AttributeValue]], AttributeValue]
_SETS = ("SS", "NS", "BS")
_CONTAINERS = frozenset(("L", "M", *_SETS))


@dataclass(frozen=True, slots=True)
class UpdatePlan:
    """An update expression compiled once: its ``#names`` resolved into paths, its
    operands into functions of the item and the request's values.

    A plan depends on the expression text and on what its ``#names`` stand for, never
    on the ``:values``: a request applies it with its own values
    (:meth:`apply`), so a repeated expression costs no binding.
    """

    sets: tuple[tuple[ResolvedPath, ValueFn], ...]
    removes: tuple[ResolvedPath, ...]
    adds: tuple[tuple[ResolvedPath, ValueFn], ...]
    deletes: tuple[tuple[ResolvedPath, ValueFn], ...]
    # REMOVE paths in the order they are applied: highest list index first.
    removes_applied: tuple[ResolvedPath, ...]
    # Every path is a top-level attribute (``SET a = ..., REMOVE b``): see apply_flat.
    flat: bool = False
    # ``sets`` by the name of their top-level attribute (what apply_flat stores), with
    # the placeholder of a value set as it is (``SET a = :v``: read without a call).
    named_sets: tuple[tuple[str, ValueFn, str | None], ...] = ()

    @property
    def top_level_names(self) -> frozenset[str]:
        """The top-level attributes this update touches."""
        return frozenset(str(path[0]) for path in self.written)

    @property
    def written(self) -> list[ResolvedPath]:
        """Every path the update writes (SET, REMOVE, ADD, DELETE, in that order)."""
        paths = [p for p, _ in self.sets] + list(self.removes)
        return paths + [p for p, _ in self.adds] + [p for p, _ in self.deletes]

    def apply(
        self, item: Item, values: Mapping[str, AttributeValue], *, new_item: bool = False
    ) -> Item:
        """The updated copy of ``item`` (which is left untouched).

        ``values``: the request's ExpressionAttributeValues (the binding checks passed).
        ``new_item``: the item does not exist yet (``item`` holds just its key);
        REMOVE of a nested path then does nothing instead of requiring its parent.
        """
        if not new_item:
            for path in self.removes:
                _check_remove_path(item, path)
        computed = [(path, copy_value(fn(item, values))) for path, fn in self.sets]
        # Copy on write: the new item shares every value the update does not touch;
        # containers on a modified path are copied first (see _own).
        new = dict(item)
        for path, value in computed:
            _set_at(new, path, value)
        for path in self.removes_applied:
            _remove_at(new, path)
        for path, fn in self.adds:
            _add_at(new, path, fn(item, values))
        for path, fn in self.deletes:
            _delete_at(new, path, fn(item, values))
        return new

    def apply_flat(self, item: Item, values: Mapping[str, AttributeValue]) -> Item:
        """:meth:`apply` for a :attr:`flat` plan: the same new item, the same errors.

        Every path is a top-level attribute, so no parent has to exist and nothing is
        walked: a SET stores its value, a REMOVE pops the attribute. A value SET from
        the request or from another attribute is shared rather than copied (stored
        values are never modified in place: every change copies on write, see _own);
        lists, maps and sets are still copied, as :meth:`apply` copies them.
        """
        new = dict(item)
        for name, fn, ref in self.named_sets:  # (each reads ``item``, as it was before)
            value = fn(item, values) if ref is None else values[ref]
            new[name] = value if _CONTAINERS.isdisjoint(value) else copy_value(value)
        for path in self.removes:
            new.pop(str(path[0]), None)
        for path, fn in self.adds:
            _add_at(new, path, fn(item, values))
        for path, fn in self.deletes:
            _delete_at(new, path, fn(item, values))
        return new


def _descending_key(path: ResolvedPath) -> tuple[tuple[int, str, int], ...]:
    return tuple((1, "", p) if isinstance(p, int) else (0, p, 0) for p in path)


# --------------------------------------------------------------------------- compiling


def compile_update(
    node: UpdateExpression, paths: list[ResolvedPath], binder: Binder
) -> UpdatePlan:
    """Compile a checked update expression (``paths`` from ``check_update``).

    ``binder`` resolves the ``#names`` of the operands; ``:values`` are looked up
    when the plan is applied.
    """
    sets: list[tuple[ResolvedPath, ValueFn]] = []
    removes: list[ResolvedPath] = []
    adds: list[tuple[ResolvedPath, ValueFn]] = []
    deletes: list[tuple[ResolvedPath, ValueFn]] = []
    refs: dict[ResolvedPath, str] = {}  # the SETs of a :value as it is, by path
    position = iter(paths)
    for section in node.sections:
        for action in section.actions:
            path = next(position)
            if isinstance(action, SetAction):
                sets.append((path, _value_fn(action.value, binder)))
                if isinstance(action.value, ValueRef):  # (paths never overlap: one each)
                    refs[path] = action.value.ref
            elif isinstance(action, AddAction | DeleteAction):
                (adds if isinstance(action, AddAction) else deletes).append(
                    (path, _value_fn(action.value, binder))
                )
            else:
                removes.append(path)
    applied = tuple(sorted(removes, key=_descending_key, reverse=True))
    flat = all(len(path) == 1 for path in paths)
    ordered = _index_order(sets)
    named = tuple((str(path[0]), fn, refs.get(path)) for path, fn in ordered)
    return UpdatePlan(
        ordered, tuple(removes), tuple(adds), tuple(deletes), applied, flat, named
    )


def _index_order(
    sets: list[tuple[ResolvedPath, ValueFn]],
) -> tuple[tuple[ResolvedPath, ValueFn], ...]:
    """``sets`` with the element assignments of each list put in ascending index order.

    ``SET l[5] = :a, l[3] = :b`` on a two-element list appends ``:b`` then ``:a``:
    DynamoDB applies the elements of one list in index order, whatever the order in
    the expression (issue 14 item 4). Other actions keep their places (they cannot
    overlap, so their order does not matter).
    """
    slots: dict[ResolvedPath, list[int]] = {}
    for position, (path, _) in enumerate(sets):
        if isinstance(path[-1], int):
            slots.setdefault(path[:-1], []).append(position)
    ordered = list(sets)
    for positions in slots.values():
        if len(positions) > 1:
            by_index = sorted((sets[p] for p in positions), key=lambda entry: entry[0][-1])
            for position, entry in zip(positions, by_index, strict=True):
                ordered[position] = entry
    return tuple(ordered)


def _value_fn(operand: Operand, binder: Binder) -> ValueFn:
    if isinstance(operand, ValueRef):
        ref = operand.ref
        return lambda item, values: values[ref]
    if isinstance(operand, Literal):
        constant = operand.value
        return lambda item, values: constant
    if isinstance(operand, Path):
        path = binder.path(operand)
        if len(path) == 1:  # a top-level attribute: one lookup
            name = str(path[0])
            return lambda item, values: _read_top(item, name)
        return lambda item, values: _read(item, path)
    if isinstance(operand, Arithmetic):
        left, right = _value_fn(operand.left, binder), _value_fn(operand.right, binder)
        combine = add_numbers if operand.op == "+" else subtract_numbers
        counted = operand.left
        if isinstance(counted, Path) and isinstance(operand.right, ValueRef):
            counter = binder.path(counted)
            if len(counter) == 1:  # ``#c + :n``, a counter: its operands' lookups inlined
                name, ref = str(counter[0]), operand.right.ref

                def count(item: Item, values: Mapping[str, AttributeValue]) -> AttributeValue:
                    current = item.get(name)
                    if current is None:
                        raise ExpressionError(MISSING_ATTRIBUTE)
                    return _arithmetic(combine, current, values[ref])

                return count
        return lambda item, values: _arithmetic(combine, left(item, values), right(item, values))
    assert isinstance(operand, Call)
    if operand.name == "if_not_exists":
        first = operand.args[0]
        assert isinstance(first, Path)
        path = binder.path(first)
        fallback = _value_fn(operand.args[1], binder)
        return lambda item, values: _if_not_exists(item, values, path, fallback)
    left, right = (_value_fn(arg, binder) for arg in operand.args)
    return lambda item, values: _list_append(left(item, values), right(item, values))


def _read(item: Item, path: ResolvedPath) -> AttributeValue:
    value: AttributeValue | None = get_path(item, path)
    if value is None:
        raise ExpressionError(MISSING_ATTRIBUTE)
    return value


def _read_top(item: Item, name: str) -> AttributeValue:
    value = item.get(name)
    if value is None:
        raise ExpressionError(MISSING_ATTRIBUTE)
    return value


def _if_not_exists(
    item: Item, values: Mapping[str, AttributeValue], path: ResolvedPath, fallback: ValueFn
) -> AttributeValue:
    value: AttributeValue | None = get_path(item, path)
    return fallback(item, values) if value is None else value


def _arithmetic(
    combine: Callable[[str, str], str], left: AttributeValue, right: AttributeValue
) -> AttributeValue:
    if "N" not in left or "N" not in right:
        raise ExpressionError(INCORRECT_DATA_TYPE)
    try:
        return {"N": combine(left["N"], right["N"])}
    except InvalidValue as error:
        raise ExpressionError(_range_message(combine, left["N"], right["N"], error)) from None


def _range_message(
    combine: Callable[[str, str], str], left: str, right: str, error: InvalidValue
) -> str:
    """The error of a result out of DynamoDB's number limits, magnitude first.

    A result both too large and too long (``9.99..9E+125 + 9E+125``) is reported as
    the overflow it is, as DynamoDB checks a number's magnitude before its digits
    (dynalite's recorded order, ``checkNum``).
    """
    with localcontext() as context:
        context.prec = 400  # exact for any two numbers within DynamoDB's limits
        a, b = Decimal(left), Decimal(right)
        result = a + b if combine is add_numbers else a - b
    if result != 0 and result.adjusted() > MAX_ADJUSTED_EXPONENT:
        return OVERFLOW
    if result != 0 and result.adjusted() < MIN_ADJUSTED_EXPONENT:
        return UNDERFLOW
    return error.message


def _list_append(left: AttributeValue, right: AttributeValue) -> AttributeValue:
    if "L" not in left or "L" not in right:
        raise ExpressionError(INCORRECT_DATA_TYPE)
    return {"L": [*left["L"], *right["L"]]}


# --------------------------------------------------------------------------- mutation


def _shallow(value: AttributeValue) -> AttributeValue:
    """A copy of ``value`` whose own list or map (or set members) may be modified."""
    ((kind, raw),) = value.items()
    if kind == "M":
        return {"M": dict(raw)}
    if kind in ("L", "SS", "NS", "BS"):
        return {kind: list(raw)}
    return {kind: raw}


def _own(item: Item, path: ResolvedPath) -> AttributeValue | None:
    """The value at ``path`` (None if absent), made safe to modify in place.

    Stored items are shared, never modified: every container from the top-level
    attribute down to the value is replaced by a shallow copy on the way.
    """
    head = str(path[0])
    value = item.get(head)
    if value is None:
        return None
    value = _shallow(value)
    item[head] = value
    for step in path[1:]:
        if isinstance(step, int):
            members = value.get("L")
            if members is None or step >= len(members):
                return None
            child = _shallow(members[step])
            members[step] = child
        else:
            fields = value.get("M")
            if fields is None or step not in fields:
                return None
            child = _shallow(fields[step])
            fields[step] = child
        value = child
    return value


def _set_at(item: Item, path: ResolvedPath, value: AttributeValue) -> None:
    if len(path) == 1:
        item[str(path[0])] = value
        return
    parent = _own(item, path[:-1])
    last = path[-1]
    if parent is None:
        raise ExpressionError(INVALID_PATH)
    if isinstance(last, int):
        members = parent.get("L")
        if members is None:
            raise ExpressionError(INVALID_PATH)
        if last < len(members):
            members[last] = value
        else:
            members.append(value)
        return
    fields = parent.get("M")
    if fields is None:
        raise ExpressionError(INVALID_PATH)
    fields[last] = value


def _check_remove_path(item: Item, path: ResolvedPath) -> None:
    """REMOVE of a nested path needs its parent, a map (``.name``) or a list (``[i]``).

    As SET does; the element itself may be missing (``REMOVE a[17]`` past the end
    does nothing). DynamoDB skips the check only when the whole item is missing
    (scylladb's alternator suite, test_update_expression.py, run against DynamoDB:
    test_nested_attribute_update_bad_path_dot/_array).
    """
    value: AttributeValue | None = item.get(str(path[0]))
    for step in path[1:]:
        container = None if value is None else value.get("L" if isinstance(step, int) else "M")
        if container is None:
            raise ExpressionError(INVALID_PATH)
        if isinstance(step, int):
            value = container[step] if step < len(container) else None
        else:
            value = container.get(step)


def _remove_at(item: Item, path: ResolvedPath) -> None:
    if len(path) == 1:
        item.pop(str(path[0]), None)
        return
    if get_path(item, path) is None:
        return  # nothing to remove: leave the shared containers alone
    parent = _own(item, path[:-1])
    if parent is None:
        return
    last = path[-1]
    if isinstance(last, int):
        members = parent.get("L")
        if members is not None and last < len(members):
            del members[last]
    else:
        fields = parent.get("M")
        if fields is not None:
            fields.pop(last, None)


def _add_at(item: Item, path: ResolvedPath, value: AttributeValue) -> None:
    existing: AttributeValue | None = get_path(item, path)
    kind = value_type(value)
    if existing is None:
        _set_at(item, path, copy_value(value))
        return
    if value_type(existing) != kind:
        raise ExpressionError(INCORRECT_DATA_TYPE)
    if kind == "N":
        _set_at(item, path, _arithmetic(add_numbers, existing, value))
        return
    owned = _own(item, path)
    assert owned is not None
    members = owned[kind]
    present = set(members)
    for member in value[kind]:
        if member not in present:
            present.add(member)
            members.append(member)


def _delete_at(item: Item, path: ResolvedPath, value: AttributeValue) -> None:
    existing: AttributeValue | None = get_path(item, path)
    if existing is None:
        return
    kind = value_type(value)
    if value_type(existing) != kind:
        raise ExpressionError(INCORRECT_DATA_TYPE)
    drop = set(value[kind])
    remaining = [m for m in existing[kind] if m not in drop]
    if remaining:
        _set_at(item, path, {kind: remaining})
    else:
        _remove_at(item, path)
