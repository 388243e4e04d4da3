"""Expression messages DynamoDB gives that the first wave did not cover.

Operand types of ordering comparisons, names starting with an underscore,
list_append nested in list_append, and expressions nested deeper than the
parser recurses (which DynamoDB reports as syntax, redundant parentheses, an
unknown function or too many operators -- never as item nesting).
"""

from __future__ import annotations

from typing import Any

import pytest

from singletable.expressions import ExpressionContext, ExpressionError

COND = "Invalid ConditionExpression: "
UPDATE = "Invalid UpdateExpression: "

VALUES: dict[str, Any] = {
    ":s": {"S": "x"},
    ":n": {"N": "1"},
    ":b": {"B": "AQ=="},
    ":m": {"M": {}},
    ":l": {"L": []},
    ":ss": {"SS": ["a"]},
    ":ns": {"NS": ["1"]},
    ":bool": {"BOOL": True},
    ":null": {"NULL": True},
}


def _type_error(operator: str, kind: str) -> str:
    return (
        COND + "Incorrect operand type for operator or function; "
        f"operator or function: {operator}, operand type: {kind}"
    )


# Developer Guide, "Comparison operator and function reference": only S, N and B
# are ordered; a request constant of another type is refused before any item is read.
ORDERING_ERRORS = [
    ("a < :m", _type_error("<", "M")),
    ("a <= :l", _type_error("<=", "L")),
    ("a > :ss", _type_error(">", "SS")),
    ("a >= :bool", _type_error(">=", "BOOL")),
    (":null < a", _type_error("<", "NULL")),
    ("a BETWEEN :ns AND :ns", _type_error("BETWEEN", "NS")),
    ("a BETWEEN :n AND :l", _type_error("BETWEEN", "L")),
    ("a IN (:s, :m)", _type_error("IN", "M")),
    ("a IN (:bool)", _type_error("IN", "BOOL")),
    ("a = :s AND b < :m", _type_error("<", "M")),
    ("NOT a > :l", _type_error(">", "L")),
]


def _condition(text: str) -> None:
    used = {k: v for k, v in VALUES.items() if k in text}
    ExpressionContext(None, used or None).condition(text, "ConditionExpression")


@pytest.mark.parametrize(("text", "message"), ORDERING_ERRORS)
def test_ordering_needs_orderable_constants(text: str, message: str) -> None:
    with pytest.raises(ExpressionError) as caught:
        _condition(text)
    assert caught.value.message == message


@pytest.mark.parametrize(
    "text",
    ["a < :s", "a >= :n", "a > :b", "a BETWEEN :n AND :n", "a IN (:s, :n)", "a = :m", "a <> :l"],
)
def test_orderable_and_equality_constants_are_accepted(text: str) -> None:
    _condition(text)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("_a = :s", COND + 'Syntax error; token: "_", near: "_a"'),
        ("a._b = :s", COND + 'Syntax error; token: "_", near: "._b"'),
        ("_f(a)", COND + 'Syntax error; token: "_", near: "_f"'),
    ],
)
def test_names_cannot_start_with_underscore(text: str, message: str) -> None:
    with pytest.raises(ExpressionError) as caught:
        _condition(text)
    assert caught.value.message == message


def test_underscore_inside_names_and_placeholders_is_fine() -> None:
    ctx = ExpressionContext({"#_x": "x"}, {":_v": {"S": "v"}})
    ctx.condition("a_b = :_v AND #_x = :_v", "ConditionExpression")
    ctx.check_unused()


def test_underscore_function_in_update_is_a_syntax_error() -> None:
    with pytest.raises(ExpressionError) as caught:
        ExpressionContext(None, None).update("SET a = _f(b)")
    assert caught.value.message == UPDATE + 'Syntax error; token: "_", near: "= _f"'


@pytest.mark.parametrize(
    "text",
    ["SET a = list_append(list_append(:l, :l), :l)", "SET a = list_append(:l, list_append(a, :l))"],
)
def test_list_append_inside_list_append_is_refused(text: str) -> None:
    with pytest.raises(ExpressionError) as caught:
        ExpressionContext(None, {":l": {"L": []}}).update(text)
    assert caught.value.message == (
        UPDATE
        + "The function is not allowed to be used this way in an expression; function: list_append"
    )


def test_list_append_of_if_not_exists_is_fine() -> None:
    ExpressionContext(None, {":l": {"L": []}}).update(
        "SET a = list_append(if_not_exists(a, :l), :l)"
    )


# Nested deeper than Python's recursion limit, still under 4 KB: what DynamoDB says
# (scylladb's alternator test_limits.py, run against DynamoDB, for the first three).
DEEP = [
    ("(" * 1500 + "a < :n" + ")" * 1500, COND + "The expression has redundant parentheses;"),
    (
        "not " * 1000 + "a < :n",
        COND + "The expression contains too many operators; operator count: 301",
    ),
    (
        "a<:n " + "or (a<:n " * 400 + ")" * 400,
        COND + "The expression contains too many operators; operator count: 301",
    ),
    (
        "NOT (" * 600 + "a < :n" + ")" * 600,
        COND + "The expression contains too many operators; operator count: 301",
    ),
    ("a < " + "f(" * 1000 + "b" + ")" * 1000, COND + "Invalid function name; function: f"),
    ("(" * 4096, COND + 'Syntax error; token: "<EOF>", near: "("'),
]


@pytest.mark.parametrize(
    ("text", "message"),
    DEEP,
    ids=["parentheses", "not", "or-groups", "not-groups", "unknown-function", "unclosed"],
)
def test_too_deep_expressions_get_expression_messages(text: str, message: str) -> None:
    assert len(text.encode()) <= 4096
    with pytest.raises(ExpressionError) as caught:
        _condition(text)
    assert caught.value.message == message


def test_operator_count_is_reported_as_the_first_one_over_the_limit() -> None:
    text = " OR ".join(["a < :n"] * 200)  # 399 operators, parsed without recursion
    with pytest.raises(ExpressionError) as caught:
        _condition(text)
    assert caught.value.message == COND + (
        "The expression contains too many operators; operator count: 301"
    )


def test_deep_but_valid_expression_still_works() -> None:
    _condition("NOT (" * 100 + "a < :n" + ")" * 100)


# The largest list index DynamoDB parses is 4294967294 (floci-io/floci#3073 measured
# a[4294967295] refused, a[2000000000] taken; scylladb/scylladb#25947 the message).
@pytest.mark.parametrize(
    ("kind", "text"),
    [
        ("projection", "a[4294967295]"),
        ("projection", "a.b[99999999999999]"),
        ("condition", "a[4294967295] = :s"),
        ("update", "SET a[4294967295] = :s"),
    ],
)
def test_list_index_beyond_the_allowed_range(kind: str, text: str) -> None:
    ctx = ExpressionContext(None, {":s": {"S": "x"}} if ":s" in text else None)
    parameter = {
        "projection": "ProjectionExpression",
        "condition": "ConditionExpression",
        "update": "UpdateExpression",
    }[kind]
    index = text[text.index("[") + 1 : text.index("]")]
    with pytest.raises(ExpressionError) as caught:
        if kind == "projection":
            ctx.projection(text)
        elif kind == "condition":
            ctx.condition(text, parameter)
        else:
            ctx.update(text)
    assert caught.value.message == (
        f"Invalid {parameter}: List index is not within the allowable range; index: [{index}]"
    )


def test_the_largest_list_index_is_accepted() -> None:
    ExpressionContext(None, None).projection("a[4294967294]")
    ExpressionContext(None, {":s": {"S": "x"}}).update("SET a[2000000000] = :s")
