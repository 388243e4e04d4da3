"""``attribute = :value`` on a top-level attribute: the one-comparison fast path.

A filter or condition comparing a top-level attribute with a String or Number value
is compiled to one dict comparison (``evaluate._scalar_equality``); every other value
takes the general test. Its verdict must be the general test's on any stored value.
"""

from __future__ import annotations

from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from singletable._values import canonical_number
from singletable.expressions.evaluate import _COMPARISONS, Env, compile_condition
from singletable.expressions.nodes import Compare, Name, NameRef, Path, ValueRef

numbers = st.sampled_from(["0", "1", "1.0", "-1", "10", "1e1", "100", "0.001", "1E-3", "-0"])
strings = st.sampled_from(["", "a", "b", "A", "ab", "1", "é"])
scalars = st.one_of(
    strings.map(lambda s: {"S": s}),
    numbers.map(lambda n: {"N": canonical_number(n)}),
)
values = st.one_of(
    scalars,
    st.sampled_from(
        [
            {"B": "AAE="},
            {"BOOL": True},
            {"NULL": True},
            {"SS": ["a", "b"]},
            {"SS": ["b", "a"]},
            {"NS": ["1", "10"]},
            {"L": [{"S": "a"}]},
            {"M": {"S": {"S": "a"}}},
        ]
    ),
)


def _general(node: Compare, item: dict[str, Any], env: Env) -> bool:
    """The general test, written out from the comparison table."""
    operands = []
    for operand in (node.left, node.right):
        if isinstance(operand, ValueRef):
            operands.append(env.values[operand.ref])
        else:
            assert isinstance(operand, Path)
            (element,) = operand.elements
            name = element.name if isinstance(element, Name) else env.names[element.ref]  # type: ignore[union-attr]
            operands.append(item.get(name))
    return _COMPARISONS[node.op](operands[0], operands[1])


@settings(deadline=None, max_examples=400)
@given(
    op=st.sampled_from(["=", "<>"]),
    by_ref=st.booleans(),
    reversed_=st.booleans(),
    stored=st.one_of(st.none(), values),
    constant=values,
)
def test_the_fast_path_agrees_with_the_general_test(
    op: str, by_ref: bool, reversed_: bool, stored: Any, constant: Any
) -> None:
    path = Path((NameRef("#a"),)) if by_ref else Path((Name("a"),))
    value = ValueRef(":v")
    node = Compare(op, value, path) if reversed_ else Compare(op, path, value)  # type: ignore[arg-type]
    env = Env({"#a": "a"}, {":v": constant})
    item = {"other": {"S": "x"}} if stored is None else {"a": stored, "other": {"S": "x"}}
    assert compile_condition(node)(item, env) is _general(node, item, env)


ordered_numbers = st.sampled_from(
    [
        "0", "1", "-1", "10", "1.5", "-2.25", "1E+5", "999999999999999999",
        "-999999999999999999", "1000000000000000000", "12345678901234567890",
        "1E-130", "9.9999999999999999999999999999999999999E+125",
    ]
)  # fmt: skip
ordered_values = st.one_of(
    ordered_numbers.map(lambda n: {"N": canonical_number(n)}),
    strings.map(lambda s: {"S": s}),
    st.sampled_from([{"B": "AAE="}, {"B": "AQ=="}, {"BOOL": True}, {"SS": ["a"]}]),
)


@settings(deadline=None, max_examples=600)
@given(
    op=st.sampled_from(["<", "<=", ">", ">="]),
    by_ref=st.booleans(),
    reversed_=st.booleans(),
    stored=st.one_of(st.none(), ordered_values),
    constant=ordered_values,
)
def test_the_ordered_fast_path_agrees_with_the_general_test(
    op: str, by_ref: bool, reversed_: bool, stored: Any, constant: Any
) -> None:
    """``attribute < :value`` and the like (evaluate._ordered_to_value), either way round."""
    path = Path((NameRef("#a"),)) if by_ref else Path((Name("a"),))
    value = ValueRef(":v")
    node = Compare(op, value, path) if reversed_ else Compare(op, path, value)  # type: ignore[arg-type]
    env = Env({"#a": "a"}, {":v": constant})
    item = {"other": {"S": "x"}} if stored is None else {"a": stored, "other": {"S": "x"}}
    assert compile_condition(node)(item, env) is _general(node, item, env)
