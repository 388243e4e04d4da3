"""Fuzz: arbitrary text never raises anything but ExpressionError."""

from __future__ import annotations

from typing import Any

from expr_strategies import conditions, updates
from hypothesis import given, settings
from hypothesis import strategies as st

from singletable.expressions import ExpressionContext, ExpressionError, to_text

NAMES = {"#a": "a", "#b": "b"}
VALUES: dict[str, Any] = {
    ":s": {"S": "x"},
    ":n": {"N": "1"},
    ":l": {"L": [{"S": "x"}]},
    ":ss": {"SS": ["x"]},
    ":t": {"S": "S"},
}
ITEMS: list[dict[str, Any]] = [
    {},
    {"a": {"S": "xy"}, "b": {"N": "2"}, "c": {"L": [{"S": "x"}, {"M": {"d": {"N": "1"}}}]}},
    {"a": {"M": {"b": {"SS": ["x"]}}}, "b": {"L": []}, "size": {"B": "AQ=="}},
]

TOKENS = [
    " ",
    "a",
    "b",
    "c",
    "d",
    "#a",
    "#b",
    "#zz",
    ":s",
    ":n",
    ":l",
    ":ss",
    ":t",
    ":zz",
    "(",
    ")",
    "[",
    "]",
    "[0]",
    "[1]",
    ".",
    ",",
    "=",
    "<>",
    "<",
    "<=",
    ">",
    ">=",
    "+",
    "-",
    "AND",
    "OR",
    "NOT",
    "BETWEEN",
    "IN",
    "SET",
    "REMOVE",
    "ADD",
    "DELETE",
    "size",
    "attribute_exists",
    "attribute_not_exists",
    "attribute_type",
    "begins_with",
    "contains",
    "if_not_exists",
    "list_append",
    "status",
    "1",
    "#",
    ":",
    ";",
    "é",
]
token_text = st.lists(st.sampled_from(TOKENS), max_size=14).map(" ".join)
raw_text = st.text(max_size=30)
texts = st.one_of(token_text, raw_text, token_text.map(lambda t: t.replace(" ", "")))

FUZZ = settings(deadline=None, max_examples=250)


def _try(action: Any) -> Any:
    try:
        return action()
    except ExpressionError as error:
        assert error.message
        return None


@FUZZ
@given(texts)
def test_condition_never_crashes(text: str) -> None:
    ctx = ExpressionContext(NAMES, VALUES)
    condition = _try(lambda: ctx.condition(text, "FilterExpression"))
    if condition is not None:
        for item in ITEMS:
            assert condition.matches(item) in (True, False)
    _try(lambda: ExpressionContext(NAMES, VALUES).key_condition(text, ("a",), ("b",)))


@FUZZ
@given(token_text.map(lambda t: "SET " + t))
def test_update_never_crashes(text: str) -> None:
    update = _try(lambda: ExpressionContext(NAMES, VALUES).update(text))
    if update is not None:
        for item in ITEMS:
            _try(lambda item=item: update.apply(item))


@FUZZ
@given(texts)
def test_update_and_projection_never_crash(text: str) -> None:
    update = _try(lambda: ExpressionContext(NAMES, VALUES).update(text))
    if update is not None:
        for item in ITEMS:
            _try(lambda item=item: update.apply(item))
    projection = _try(lambda: ExpressionContext(NAMES, VALUES).projection(text))
    if projection is not None:
        for item in ITEMS:
            assert isinstance(projection.apply(item), dict)


# Structured fuzz: well-formed trees (from the round-trip strategies) bound to values
# of random types, evaluated against random items.
scalar_values = st.one_of(
    st.text(max_size=3).map(lambda s: {"S": s}),
    st.integers(-5, 5).map(lambda n: {"N": str(n)}),
    st.sampled_from([{"BOOL": True}, {"NULL": True}, {"B": "AQ=="}]),
    st.sampled_from([{"SS": ["a"]}, {"NS": ["1"]}, {"L": [{"S": "a"}]}, {"M": {}}]),
    st.sampled_from(["S", "N", "L", "M", "X"]).map(lambda t: {"S": t}),
)
item_values = st.recursive(
    scalar_values,
    lambda inner: st.one_of(
        st.lists(inner, max_size=3).map(lambda m: {"L": m}),
        st.dictionaries(st.sampled_from(["a", "b", "c1", "d_x", "Foo"]), inner, max_size=3).map(
            lambda m: {"M": m}
        ),
    ),
    max_leaves=6,
)
items = st.dictionaries(st.sampled_from(["a", "b", "c1", "d_x", "Foo"]), item_values, max_size=4)
bindings = st.fixed_dictionaries({":v": scalar_values, ":w1": scalar_values, ":x_": scalar_values})
PLACEHOLDER_NAMES = {"#a": "a", "#b1": "b", "#c_": "Foo"}


@settings(deadline=None, max_examples=150)
@given(st.data())
def test_structured_conditions_and_updates(data: st.DataObject) -> None:
    values: dict[str, Any] = data.draw(bindings)
    item = data.draw(items)
    condition_text = to_text(data.draw(conditions))
    condition = _try(
        lambda: ExpressionContext(PLACEHOLDER_NAMES, values).condition(
            condition_text, "ConditionExpression"
        )
    )
    if condition is not None:
        assert condition.matches(item) in (True, False)
    update_text = to_text(data.draw(updates))
    update = _try(lambda: ExpressionContext(PLACEHOLDER_NAMES, values).update(update_text))
    if update is not None:
        before = repr(item)
        _try(lambda: update.apply(item))
        assert repr(item) == before
