"""Updates copy on write: the input item (shared with storage) is never modified."""

from __future__ import annotations

from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from singletable._values import copy_item
from singletable.expressions import ExpressionContext, ExpressionError

ITEM: dict[str, Any] = {
    "m": {"M": {"a": {"L": [{"S": "x"}, {"M": {"deep": {"SS": ["p", "q"]}}}]}, "n": {"N": "1"}}},
    "l": {"L": [{"N": "1"}, {"L": [{"S": "inner"}]}, {"M": {"k": {"S": "v"}}}]},
    "s": {"SS": ["a", "b"]},
    "c": {"N": "5"},
}

ACTIONS = [
    "SET m.a[0] = :s",
    "SET m.a[1].deep = :ss",
    "SET m.n = m.n + :one",
    "SET l[1][0] = :s",
    "SET l[2].k = :s",
    "SET l[9] = :s",
    "SET c = c - :one",
    "SET x = m.a",
    "REMOVE m.a[0]",
    "REMOVE l[1][0]",
    "REMOVE l[2].k",
    "REMOVE m.missing.path",
    "ADD s :ss",
    "ADD m.a[1].deep :ss",
    "ADD c :one",
    "DELETE s :ss",
    "DELETE m.a[1].deep :ss",
    "SET l = list_append(l, :list)",
]
VALUES = {
    ":s": {"S": "new"},
    ":ss": {"SS": ["b", "z"]},
    ":one": {"N": "1"},
    ":list": {"L": [{"S": "tail"}]},
}


@settings(max_examples=200, deadline=None)
@given(st.lists(st.sampled_from(ACTIONS), min_size=1, max_size=3, unique=True))
def test_apply_leaves_its_input_untouched(actions: list[str]) -> None:
    clauses: dict[str, list[str]] = {}
    for action in actions:
        verb, _, rest = action.partition(" ")
        clauses.setdefault(verb, []).append(rest)
    text = " ".join(f"{verb} {', '.join(parts)}" for verb, parts in clauses.items())
    used = {k: v for k, v in VALUES.items() if k in text}
    try:
        update = ExpressionContext(None, used or None).update(text)
    except ExpressionError:
        return  # overlapping paths and the like: rejected before anything runs
    original = copy_item(ITEM)
    shared = copy_item(ITEM)
    try:
        result = update.apply(shared)
    except ExpressionError:
        assert shared == original
        return
    assert shared == original  # the input, as storage would share it, is unchanged
    assert update.apply(copy_item(ITEM)) == result  # and the result is deterministic
