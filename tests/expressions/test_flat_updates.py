"""``UpdatePlan.apply_flat`` (every path a top-level attribute) equals ``apply``.

The engine's compiled UpdateItem runs ``apply_flat`` for flat plans
(backends/local/_update.py); it must give the same new item and the same error as
``apply`` for any flat update, on items with attributes of every type, missing or
present, and it must leave its input (shared with storage) untouched.
"""

from __future__ import annotations

from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from singletable._values import copy_item
from singletable.expressions import ExpressionContext, ExpressionError

ACTIONS = [
    "SET c = c + :one",
    "SET c = :one - c",
    "SET s = :s",
    "SET x = m",
    "SET y = if_not_exists(y, :one)",
    "SET l = list_append(l, :list)",
    "SET z = list_append(:list, l)",
    "SET t = :ss",
    "REMOVE m",
    "REMOVE missing",
    "ADD c :one",
    "ADD ss :ss",
    "ADD n :one",
    "DELETE ss :ss",
    "DELETE u :ss",
]
VALUES = {
    ":s": {"S": "new"},
    ":ss": {"SS": ["b", "z"]},
    ":one": {"N": "1"},
    ":list": {"L": [{"S": "tail"}]},
}
ATTRIBUTES: dict[str, list[Any]] = {
    "c": [{"N": "5"}, {"N": "-99999999999999999"}, {"N": "1.5"}, {"S": "text"}],
    "m": [{"M": {"k": {"L": [{"S": "v"}]}}}, {"N": "1"}],
    "l": [{"L": [{"N": "1"}, {"M": {}}]}, {"S": "not a list"}],
    "ss": [{"SS": ["a", "b"]}, {"NS": ["1"]}],
    "y": [{"S": "kept"}],
    "u": [{"SS": ["z"]}],
}


@st.composite
def _items(draw: st.DrawFn) -> dict[str, Any]:
    item: dict[str, Any] = {"PK": {"S": "k"}}
    for name, choices in ATTRIBUTES.items():
        if draw(st.booleans()):
            item[name] = draw(st.sampled_from(choices))
    return item


def _outcome(run: Any) -> Any:
    try:
        return ("ok", run())
    except ExpressionError as error:
        return ("error", error.message)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(ACTIONS), min_size=1, max_size=4, unique=True), _items())
def test_apply_flat_is_apply(actions: list[str], item: dict[str, Any]) -> None:
    clauses: dict[str, list[str]] = {}
    for action in actions:
        verb, _, rest = action.partition(" ")
        clauses.setdefault(verb, []).append(rest)
    text = " ".join(f"{verb} {', '.join(parts)}" for verb, parts in clauses.items())
    values = {k: v for k, v in VALUES.items() if k in text}
    try:
        plan = ExpressionContext(None, values or None).update(text).plan
    except ExpressionError:
        return  # overlapping paths and the like: rejected before anything runs
    assert plan.flat
    original = copy_item(item)
    expected = _outcome(lambda: plan.apply(copy_item(item), values))
    assert _outcome(lambda: plan.apply_flat(item, values)) == expected
    assert item == original


def test_nested_paths_are_not_flat() -> None:
    context = ExpressionContext(None, {":s": {"S": "x"}})
    assert not context.update("SET m.k = :s").plan.flat
    assert not ExpressionContext(None, {":s": {"S": "x"}}).update("SET l[0] = :s").plan.flat
    assert ExpressionContext(None, {":s": {"S": "x"}}).update("SET a = :s REMOVE b").plan.flat
