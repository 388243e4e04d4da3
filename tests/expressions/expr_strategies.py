"""Hypothesis strategies for expression ASTs, shared by the round-trip and fuzz tests."""

from __future__ import annotations

from hypothesis import settings
from hypothesis import strategies as st

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
    Name,
    NameRef,
    Not,
    Operand,
    Or,
    Path,
    PathElement,
    RemoveAction,
    Section,
    SetAction,
    UpdateExpression,
    ValueRef,
)

FAST = settings(deadline=None, max_examples=100)

names = st.sampled_from(["a", "b", "c1", "d_x", "Foo"]).map(Name)
name_refs = st.sampled_from(["#a", "#b1", "#c_"]).map(NameRef)
value_refs = st.sampled_from([":v", ":w1", ":x_"]).map(ValueRef)
heads = st.one_of(names, name_refs)
elements: st.SearchStrategy[PathElement] = st.one_of(
    names, name_refs, st.integers(0, 30).map(Index)
)
paths = st.builds(lambda h, rest: Path((h, *rest)), heads, st.lists(elements, max_size=3))
operands: st.SearchStrategy[Operand] = st.one_of(
    paths, value_refs, paths.map(lambda p: Call("size", (p,)))
)
comparisons = st.builds(
    Compare, st.sampled_from(["=", "<>", "<", "<=", ">", ">="]), operands, operands
)
leaves: st.SearchStrategy[ConditionNode] = st.one_of(
    comparisons,
    st.builds(Between, operands, operands, operands),
    st.builds(lambda o, c: In(o, tuple(c)), operands, st.lists(operands, min_size=1, max_size=4)),
    st.builds(lambda p: Call("attribute_exists", (p,)), paths),
    st.builds(lambda p: Call("attribute_not_exists", (p,)), paths),
    st.builds(
        lambda f, p, o: Call(f, (p, o)),
        st.sampled_from(["begins_with", "contains", "attribute_type"]),
        paths,
        operands,
    ),
)
conditions: st.SearchStrategy[ConditionNode] = st.recursive(
    leaves,
    lambda inner: st.one_of(
        st.lists(inner, min_size=2, max_size=3).map(lambda c: And(tuple(c))),
        st.lists(inner, min_size=2, max_size=3).map(lambda c: Or(tuple(c))),
        inner.map(Not),
    ),
    max_leaves=8,
)


set_values: st.SearchStrategy[Operand] = st.one_of(
    operands.filter(lambda o: not isinstance(o, Call)),
    st.builds(lambda p, v: Call("if_not_exists", (p, v)), paths, value_refs),
    st.builds(lambda a, b: Call("list_append", (a, b)), paths, value_refs),
)
arith = st.builds(Arithmetic, st.sampled_from(["+", "-"]), set_values, set_values)
actions = {
    "SET": st.builds(SetAction, paths, st.one_of(set_values, arith)),
    "REMOVE": st.builds(RemoveAction, paths),
    "ADD": st.builds(AddAction, paths, value_refs),
    "DELETE": st.builds(DeleteAction, paths, value_refs),
}
sections = st.sampled_from(list(actions)).flatmap(
    lambda kind: st.lists(actions[kind], min_size=1, max_size=3).map(
        lambda acts: Section(kind, tuple(acts))  # type: ignore[arg-type]
    )
)
updates = st.lists(sections, min_size=1, max_size=4, unique_by=lambda s: s.kind).map(
    lambda s: UpdateExpression(tuple(s))
)
