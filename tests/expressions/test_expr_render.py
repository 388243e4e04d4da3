"""Rendering: AST -> text round trips (hypothesis) and placeholder generation."""

from __future__ import annotations

from typing import Any

from expr_strategies import FAST, conditions, paths, updates
from hypothesis import given
from hypothesis import strategies as st

from singletable.expressions import (
    ExpressionContext,
    parse_condition,
    parse_projection,
    parse_update,
    render,
    to_text,
)
from singletable.expressions.nodes import (
    And,
    Arithmetic,
    Call,
    Compare,
    ConditionNode,
    Index,
    Literal,
    Name,
    NameRef,
    Not,
    Or,
    Path,
    ProjectionExpression,
    RemoveAction,
    Section,
    SetAction,
    UpdateExpression,
    ValueRef,
)


@FAST
@given(conditions)
def test_condition_round_trip(node: ConditionNode) -> None:
    text = to_text(node)
    parsed = parse_condition(text)
    assert parsed == node
    assert to_text(parsed) == text


@FAST
@given(updates)
def test_update_round_trip(node: UpdateExpression) -> None:
    text = to_text(node)
    assert parse_update(text) == node
    assert to_text(parse_update(text)) == text


@FAST
@given(st.lists(paths, min_size=1, max_size=4))
def test_projection_round_trip(items: list[Path]) -> None:
    node = ProjectionExpression(tuple(items))
    assert parse_projection(to_text(node)) == node


# --------------------------------------------------------------------------- render

any_names = st.text(min_size=1, max_size=8).map(Name)
orderable_values = st.one_of(
    st.text(max_size=5).map(lambda s: Literal({"S": s})),
    st.integers(-100, 100).map(lambda n: Literal({"N": str(n)})),
)
literal_values = st.one_of(orderable_values, st.booleans().map(lambda b: Literal({"BOOL": b})))
dsl_paths = st.builds(
    lambda h, rest: Path((h, *rest)),
    any_names,
    st.lists(st.one_of(any_names, st.integers(0, 5).map(Index)), max_size=2),
)
dsl_conditions = st.recursive(
    st.one_of(
        st.builds(Compare, st.sampled_from(["=", "<>"]), dsl_paths, literal_values),
        # DynamoDB refuses a BOOL (or any unordered) constant in "<"
        st.builds(Compare, st.just("<"), dsl_paths, orderable_values),
        st.builds(lambda p: Call("attribute_exists", (p,)), dsl_paths),
        st.builds(lambda p, v: Call("contains", (p, v)), dsl_paths, literal_values),
    ),
    lambda inner: st.one_of(
        st.lists(inner, min_size=2, max_size=3).map(lambda c: And(tuple(c))),
        st.lists(inner, min_size=2, max_size=3).map(lambda c: Or(tuple(c))),
        inner.map(Not),
    ),
    max_leaves=6,
)


def _substitute(node: Any, names: dict[str, str], values: dict[str, Any]) -> Any:
    """Replace placeholders by what they stand for (to compare with the DSL tree)."""
    if isinstance(node, NameRef):
        return Name(names[node.ref])
    if isinstance(node, ValueRef):
        return Literal(values[node.ref])
    if isinstance(node, tuple):
        return tuple(_substitute(n, names, values) for n in node)
    if hasattr(node, "__dataclass_fields__"):
        fields = {
            f: _substitute(getattr(node, f), names, values) for f in node.__dataclass_fields__
        }
        return type(node)(**fields)
    return node


@FAST
@given(dsl_conditions)
def test_render_round_trip(node: ConditionNode) -> None:
    rendered = render(node)
    parsed = parse_condition(rendered.text)
    assert _substitute(parsed, rendered.names, rendered.values) == node
    assert render(parsed).text == rendered.text  # stable
    # Every generated placeholder is used exactly as the engine requires.
    ctx = ExpressionContext(rendered.names or None, rendered.values or None)
    ctx.condition(rendered.text, "ConditionExpression")
    ctx.check_unused()


def test_render_example() -> None:
    node = And(
        (
            Compare("=", Path((Name("status"),)), Literal({"S": "open"})),
            Or(
                (
                    Compare("<", Path((Name("total"), Index(0))), Literal({"N": "5"})),
                    Compare(">", Path((Name("total"), Index(1))), Literal({"N": "5"})),
                )
            ),
        )
    )
    rendered = render(node)
    assert rendered.text == "#n0 = :v0 AND (#n1[0] < :v1 OR #n1[1] > :v1)"
    assert rendered.names == {"#n0": "status", "#n1": "total"}
    assert rendered.values == {":v0": {"S": "open"}, ":v1": {"N": "5"}}


def test_render_update() -> None:
    node = UpdateExpression(
        (
            Section(
                "SET",
                (
                    SetAction(
                        Path((Name("count"),)),
                        Arithmetic("+", Path((Name("count"),)), Literal({"N": "1"})),
                    ),
                ),
            ),
            Section("REMOVE", (RemoveAction(Path((Name("old"),))),)),
        )
    )
    rendered = render(node)
    assert rendered.text == "SET #n0 = #n0 + :v0 REMOVE #n1"
    ctx = ExpressionContext(rendered.names, rendered.values)
    update = ctx.update(rendered.text)
    assert update.apply({"count": {"N": "1"}, "old": {"S": "x"}}) == {"count": {"N": "2"}}
