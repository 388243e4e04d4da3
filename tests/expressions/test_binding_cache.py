"""The binding checks of a repeated expression are cached: the cache never changes a verdict.

A request repeating an expression text with the same names and value types skips
the binding walks (see ``singletable.expressions.context._signature``); these tests
pin that every verdict that depends on something else still comes out right when
the same text was checked (and passed) just before.
"""

from __future__ import annotations

from typing import Any

import pytest

from singletable.expressions import ExpressionContext, ExpressionError

ITEM = {"a": {"N": "1"}, "b": {"S": "xy"}, "t": {"S": "N"}}


def _condition(text: str, names: dict[str, str] | None, values: dict[str, Any] | None) -> Any:
    context = ExpressionContext(names, values)
    condition = context.condition(text, "ConditionExpression")
    context.check_unused()
    return condition


def _error(action: Any) -> str:
    with pytest.raises(ExpressionError) as caught:
        action()
    return caught.value.message


def test_a_value_of_another_type_is_checked_again() -> None:
    text = "begins_with(#b, :p)"
    assert _condition(text, {"#b": "b"}, {":p": {"S": "x"}}).matches(ITEM)
    assert "operand type: N" in _error(lambda: _condition(text, {"#b": "b"}, {":p": {"N": "1"}}))
    # and the passing form still passes after the failure
    assert not _condition(text, {"#b": "b"}, {":p": {"S": "z"}}).matches(ITEM)


def test_names_standing_for_other_attributes_are_checked_again() -> None:
    text = "#x = #y"
    assert not _condition(text, {"#x": "a", "#y": "b"}, None).matches(ITEM)
    message = _error(lambda: _condition(text, {"#x": "a", "#y": "a"}, None))
    assert "must be distinct" in message


def test_undefined_and_unused_placeholders_after_a_cached_pass() -> None:
    text = "#b = :v"
    _condition(text, {"#b": "b"}, {":v": {"S": "xy"}})
    assert "not defined; attribute value: :v" in _error(
        lambda: _condition(text, {"#b": "b"}, {":w": {"S": "xy"}})
    )
    assert "not defined; attribute name: #b" in _error(
        lambda: _condition(text, None, {":v": {"S": "q"}})
    )
    assert "unused in expressions: keys: {:extra}" in _error(
        lambda: _condition(text, {"#b": "b"}, {":v": {"S": "xy"}, ":extra": {"S": "1"}})
    )
    assert "unused in expressions: keys: {#c}" in _error(
        lambda: _condition(text, {"#b": "b", "#c": "c"}, {":v": {"S": "xy"}})
    )


@pytest.mark.parametrize(
    ("text", "good", "bad", "expected"),
    [
        (
            "a BETWEEN :lo AND :hi",
            {":lo": {"N": "0"}, ":hi": {"N": "5"}},
            {":lo": {"N": "5"}, ":hi": {"N": "0"}},
            "requires upper bound to be greater than or equal to lower bound",
        ),
        (
            "attribute_type(t, :type)",
            {":type": {"S": "S"}},
            {":type": {"S": "STRING"}},
            "Invalid attribute type name found; type: STRING",
        ),
    ],
)
def test_checks_of_value_content_run_on_every_request(
    text: str, good: dict[str, Any], bad: dict[str, Any], expected: str
) -> None:
    _condition(text, None, good)
    assert expected in _error(lambda: _condition(text, None, bad))


def test_update_with_cached_checks_binds_each_request_values() -> None:
    text = "SET #c = #c + :one, #s = :s"
    names = {"#c": "count", "#s": "status"}
    item = {"count": {"N": "1"}}
    for step in ("2", "5"):
        context = ExpressionContext(names, {":one": {"N": step}, ":s": {"S": step}})
        new = context.update(text).apply(item)
        context.check_unused()
        assert new == {"count": {"N": str(1 + int(step))}, "status": {"S": step}}
    bad = ExpressionContext(names, {":one": {"S": "1"}, ":s": {"S": "x"}})
    assert "operand type: S" in _error(lambda: bad.update(text))
    overlapping = ExpressionContext(
        {"#c": "count", "#s": "count"}, {":one": {"N": "1"}, ":s": {"S": "x"}}
    )
    assert "Two document paths overlap" in _error(lambda: overlapping.update(text))
