"""Condition and filter expressions: comparators, BETWEEN, IN, logic, functions, paths.

Developer Guide, "Condition and filter expressions, operators, and functions":
https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/Expressions.OperatorsAndFunctions.html
Each case is checked twice: as a Scan FilterExpression on a one-item table, and as the
ConditionExpression of a DeleteItem (which fails with ConditionalCheckFailedException
exactly when the condition is false).
"""

from __future__ import annotations

import re
from typing import Any

import pytest
from ddbtest import Backend, raises

MOTO_DIFFERENCES = {
    "expression-messages": "moto raises Python errors (500) for unknown functions, wrong operand "
    "counts and a bare size(); accepts an empty ConditionExpression and placeholder keys "
    "without ':'/'#'. DynamoDB answers with the ValidationException texts asserted here.",
    "between-bounds": "moto accepts BETWEEN with lower > upper (false); DynamoDB rejects it.",
    "cross-type": "moto crashes (TypeError -> 500) comparing a number with a string using <; "
    "DynamoDB evaluates a comparison of different types to false.",
    "double-not": "moto rejects 'NOT NOT s = :v' ('Bad NOT expression'); DynamoDB accepts it.",
    "binary-begins-with": "moto's begins_with is false for a binary attribute; DynamoDB "
    "supports begins_with on B (as the legacy BEGINS_WITH operator does).",
    "size-missing": "moto raises 'Invalid attribute name' for size() of a missing attribute; "
    "DynamoDB evaluates the comparison to false.",
    "syntax-messages": "moto's parser raises Python errors (500) or its own messages for syntax "
    "errors and undefined placeholders; DynamoDB answers with the messages asserted here.",
    "unused-placeholders": "moto accepts unused ExpressionAttributeValues/Names in a "
    "ConditionExpression; DynamoDB rejects them.",
    "empty-values-envelope": "moto 5.2.5 answers '1 validation error detected: "
    "ExpressionAttributeValues must not be empty' on DeleteItem (and every operation); "
    "DeleteItem does not use the envelope, and dynoxide's capture-based matrix "
    "(nubo-db/dynoxide PR #152) reports this family bare on every operation.",
    "filter-prefix": "moto says 'Invalid ConditionExpression' for errors in a FilterExpression; "
    "DynamoDB names the parameter ('Invalid FilterExpression').",
}

CASE_DIFFERENCES = {
    "n < :hello": "cross-type",
    "NOT NOT s = :hello": "double-not",
    "begins_with(b, :b1)": "binary-begins-with",
    "size(not_there) >= :zero": "size-missing",
}

KEY = {"PK": {"S": "p"}, "SK": {"S": "s"}}
ITEM: dict[str, Any] = {
    **KEY,
    "s": {"S": "hello"},
    "n": {"N": "5"},
    "n2": {"N": "5.0"},
    "b": {"B": b"\x01\x02"},
    "t": {"BOOL": True},
    "nul": {"NULL": True},
    "ss": {"SS": ["a", "b"]},
    "ns": {"NS": ["1", "2"]},
    "bs": {"BS": [b"\x01"]},
    "l": {"L": [{"S": "x"}, {"N": "2"}, {"L": [{"S": "y"}]}]},
    "m": {"M": {"a": {"M": {"b": {"S": "deep"}}}, "nums": {"L": [{"N": "1"}, {"N": "2"}]}}},
    "blank": {"S": ""},
    "dotted.attr": {"S": "dot"},
}

VALUES: dict[str, Any] = {
    ":hello": {"S": "hello"},
    ":world": {"S": "world"},
    ":he": {"S": "he"},
    ":ell": {"S": "ell"},
    ":x": {"S": "x"},
    ":y": {"S": "y"},
    ":a": {"S": "a"},
    ":z": {"S": "z"},
    ":deep": {"S": "deep"},
    ":dot": {"S": "dot"},
    ":estr": {"S": ""},
    ":five_str": {"S": "5"},
    ":zero": {"N": "0"},
    ":one": {"N": "1"},
    ":two": {"N": "2"},
    ":three": {"N": "3"},
    ":five": {"N": "5"},
    ":five_dec": {"N": "5.00"},
    ":ten": {"N": "10"},
    ":b3": {"B": b"\x01\x03"},
    ":b1": {"B": b"\x01"},
    ":true": {"BOOL": True},
    ":null": {"NULL": True},
    ":ss_ba": {"SS": ["b", "a"]},
    ":m_copy": {"M": {"nums": {"L": [{"N": "1"}, {"N": "2"}]}, "a": {"M": {"b": {"S": "deep"}}}}},
    ":S": {"S": "S"},
    ":N": {"S": "N"},
    ":NS": {"S": "NS"},
    ":NULL": {"S": "NULL"},
    ":M": {"S": "M"},
    ":L": {"S": "L"},
    ":BOOL": {"S": "BOOL"},
    ":B": {"S": "B"},
}

NAMES = {"#dot": "dotted.attr", "#s": "s", "#status": "status"}

CASES = [
    # comparators
    ("s = :hello", True),
    ("s <> :hello", False),
    ("s < :world", True),
    ("s > :world", False),
    ("n < :ten", True),
    ("n <= :five", True),
    ("n > :five", False),
    ("n >= :five", True),
    ("n = :five_dec", True),
    ("b < :b3", True),
    ("n = n2", True),
    ("s = blank", False),
    ("blank = :estr", True),
    ("t = :true", True),
    ("nul = :null", True),
    ("ss = :ss_ba", True),
    ("m = :m_copy", True),
    # different types never compare (false, not an error)
    ("n = :five_str", False),
    ("n < :hello", False),
    ("not_there = :x", False),
    ("not_there < :x", False),
    # BETWEEN, IN
    ("n BETWEEN :three AND :ten", True),
    ("n BETWEEN :five AND :five", True),
    ("s BETWEEN :a AND :z", True),
    ("s BETWEEN :x AND :z", False),
    ("n IN (:three, :five)", True),
    ("s IN (:a, :x)", False),
    ("n IN (:five_str)", False),
    # logic and precedence (NOT > AND > OR)
    ("NOT s = :hello", False),
    ("NOT n = :three AND s = :x", False),
    ("NOT (n = :three AND s = :x)", True),
    ("s = :hello OR n = :three AND s = :x", True),
    ("(s = :hello OR n = :three) AND s = :x", False),
    ("s = :x OR s = :hello", True),
    ("NOT NOT s = :hello", True),
    # functions
    ("attribute_exists(s)", True),
    ("attribute_exists(not_there)", False),
    ("attribute_not_exists(not_there)", True),
    ("attribute_not_exists(s)", False),
    ("attribute_exists(nul)", True),
    ("attribute_exists(m.a.b)", True),
    ("attribute_exists(m.a.c)", False),
    ("attribute_exists(l[2][0])", True),
    ("attribute_exists(l[5])", False),
    ("attribute_exists(s.child)", False),
    ("attribute_type(s, :S)", True),
    ("attribute_type(n, :N)", True),
    ("attribute_type(n, :S)", False),
    ("attribute_type(ns, :NS)", True),
    ("attribute_type(nul, :NULL)", True),
    ("attribute_type(m, :M)", True),
    ("attribute_type(l, :L)", True),
    ("attribute_type(t, :BOOL)", True),
    ("attribute_type(b, :B)", True),
    ("begins_with(s, :he)", True),
    ("begins_with(s, :x)", False),
    ("begins_with(b, :b1)", True),
    ("begins_with(n, :five_str)", False),
    ("contains(s, :ell)", True),
    ("contains(s, :x)", False),
    ("contains(ss, :a)", True),
    ("contains(ss, :z)", False),
    ("contains(ns, :one)", True),
    ("contains(ns, :three)", False),
    ("contains(bs, :b1)", True),
    ("contains(l, :x)", True),
    ("contains(l, :two)", True),
    ("contains(l, :y)", False),
    ("size(s) = :five", True),
    ("size(ss) = :two", True),
    ("size(l) = :three", True),
    ("size(m) = :two", True),
    ("size(b) = :two", True),
    ("size(blank) = :zero", True),
    ("size(not_there) >= :zero", False),
    ("size(m.nums) BETWEEN :one AND :two", True),
    ("size(s) > size(ss)", True),
    # paths
    ("m.a.b = :deep", True),
    ("m.nums[1] = :two", True),
    ("m.nums[1] = m.nums[0]", False),
    ("l[0] = :x", True),
    ("l[2][0] = :y", True),
    ("#dot = :dot", True),
    ("dotted.attr = :dot", False),
    ("#s = :hello AND #s <> :x", True),
]


def _params(cases: list[tuple[str, bool]]) -> list[Any]:
    params = []
    for expression, expected in cases:
        key = CASE_DIFFERENCES.get(expression)
        marks = [pytest.mark.moto_differs(key)] if key else []
        params.append(pytest.param(expression, expected, marks=marks, id=expression))
    return params


def _used(expression: str) -> dict[str, Any]:
    request: dict[str, Any] = {}
    values = {k: VALUES[k] for k in re.findall(r":\w+", expression)}
    names = {k: NAMES[k] for k in re.findall(r"#\w+", expression)}
    if values:
        request["ExpressionAttributeValues"] = values
    if names:
        request["ExpressionAttributeNames"] = names
    return request


@pytest.fixture
def one_item(db: Backend, table: str) -> None:
    db.put(ITEM)


@pytest.mark.parametrize(("expression", "expected"), _params(CASES))
def test_filter_expression(ddb: Any, one_item: None, expression: str, expected: bool) -> None:
    response = ddb.scan(TableName="tbl", FilterExpression=expression, **_used(expression))
    assert response["Count"] == int(expected)
    assert response["ScannedCount"] == 1


@pytest.mark.parametrize(("expression", "expected"), _params(CASES[::3]))
def test_condition_expression(
    db: Backend, ddb: Any, one_item: None, expression: str, expected: bool
) -> None:
    request = {"TableName": "tbl", "Key": KEY, "ConditionExpression": expression}
    request.update(_used(expression))
    if expected:
        ddb.delete_item(**request)
        assert db.get(KEY) is None
    else:
        with raises("ConditionalCheckFailedException", "The conditional request failed"):
            ddb.delete_item(**request)
        assert db.get(KEY) == db.get(KEY) is not None


def test_condition_on_missing_item(db: Backend, ddb: Any, table: str) -> None:
    with raises("ConditionalCheckFailedException", "The conditional request failed"):
        ddb.put_item(
            TableName="tbl",
            Item={**KEY, "v": {"N": "1"}},
            ConditionExpression="attribute_exists(PK)",
        )
    assert db.scan_all() == []
    ddb.put_item(
        TableName="tbl",
        Item={**KEY, "v": {"N": "1"}},
        ConditionExpression="attribute_not_exists(PK)",
    )
    with raises("ConditionalCheckFailedException", "The conditional request failed"):
        ddb.put_item(
            TableName="tbl",
            Item={**KEY, "v": {"N": "2"}},
            ConditionExpression="attribute_not_exists(PK)",
        )
    assert db.get(KEY) == {**KEY, "v": {"N": "1"}}


def test_return_values_on_condition_check_failure(db: Backend, ddb: Any, one_item: None) -> None:
    with raises("ConditionalCheckFailedException", "The conditional request failed") as info:
        ddb.put_item(
            TableName="tbl",
            Item={**KEY, "new": {"S": "x"}},
            ConditionExpression="attribute_not_exists(PK)",
            ReturnValuesOnConditionCheckFailure="ALL_OLD",
        )
    old = info.response["Item"]
    assert old["s"] == {"S": "hello"}
    assert set(old) == set(ITEM)
    with raises("ConditionalCheckFailedException", "The conditional request failed") as info:
        ddb.update_item(
            TableName="tbl",
            Key=KEY,
            UpdateExpression="SET s = :x",
            ConditionExpression="s = :x",
            ExpressionAttributeValues={":x": {"S": "x"}},
            ReturnValuesOnConditionCheckFailure="ALL_OLD",
        )
    assert info.response["Item"]["s"] == {"S": "hello"}
    with raises("ConditionalCheckFailedException", "The conditional request failed") as info:
        ddb.delete_item(TableName="tbl", Key=KEY, ConditionExpression="attribute_not_exists(s)")
    assert "Item" not in info.response
    assert db.get(KEY) is not None


def _condition_error(ddb: Any, message: str | re.Pattern[str], **request: Any) -> None:
    with raises("ValidationException", message):
        ddb.delete_item(TableName="tbl", Key=KEY, **request)


@pytest.mark.moto_differs("syntax-messages")
def test_syntax_error_names_the_token(ddb: Any, one_item: None) -> None:
    _condition_error(
        ddb,
        'Invalid ConditionExpression: Syntax error; token: "<EOF>", near: "="',
        ConditionExpression="s =",
    )
    _condition_error(
        ddb,
        'Invalid ConditionExpression: Syntax error; token: "=", near: "= = :x"',
        ConditionExpression="s = = :x",
        ExpressionAttributeValues={":x": {"S": "x"}},
    )


@pytest.mark.moto_differs("syntax-messages")
def test_undefined_value_and_name(ddb: Any, one_item: None) -> None:
    _condition_error(
        ddb,
        "Invalid ConditionExpression: An expression attribute value used in expression is not "
        "defined; attribute value: :nope",
        ConditionExpression="s = :nope",
        ExpressionAttributeValues={":x": {"S": "x"}},
    )
    _condition_error(
        ddb,
        "Invalid ConditionExpression: An expression attribute name used in the document path "
        "is not defined; attribute name: #nope",
        ConditionExpression="#nope = :x",
        ExpressionAttributeValues={":x": {"S": "x"}},
    )


@pytest.mark.moto_differs("unused-placeholders")
def test_unused_values_and_names(ddb: Any, one_item: None) -> None:
    _condition_error(
        ddb,
        "Value provided in ExpressionAttributeValues unused in expressions: keys: {:unused}",
        ConditionExpression="s = :x",
        ExpressionAttributeValues={":x": {"S": "x"}, ":unused": {"S": "u"}},
    )
    _condition_error(
        ddb,
        "Value provided in ExpressionAttributeNames unused in expressions: keys: {#unused}",
        ConditionExpression="s = :x",
        ExpressionAttributeNames={"#unused": "u"},
        ExpressionAttributeValues={":x": {"S": "x"}},
    )


@pytest.mark.parametrize("word", ["status", "name", "location", "total", "Status", "DATA"])
def test_reserved_words_rejected_bare(ddb: Any, one_item: None, word: str) -> None:
    _condition_error(
        ddb,
        "Invalid ConditionExpression: Attribute name is a reserved keyword; reserved keyword: "
        + word,
        ConditionExpression=f"attribute_not_exists({word})",
    )


def test_reserved_word_allowed_through_a_name_placeholder(ddb: Any, one_item: None) -> None:
    ddb.delete_item(
        TableName="tbl",
        Key=KEY,
        ConditionExpression="attribute_not_exists(#status)",
        ExpressionAttributeNames={"#status": "status"},
    )


@pytest.mark.moto_differs("expression-messages")
def test_unknown_function(ddb: Any, one_item: None) -> None:
    _condition_error(
        ddb,
        "Invalid ConditionExpression: Invalid function name; function: nofunc",
        ConditionExpression="nofunc(s)",
    )


@pytest.mark.moto_differs("expression-messages")
def test_wrong_number_of_function_operands(ddb: Any, one_item: None) -> None:
    _condition_error(
        ddb,
        "Invalid ConditionExpression: Incorrect number of operands for operator or function; "
        "operator or function: begins_with, number of operands: 1",
        ConditionExpression="begins_with(s)",
    )


@pytest.mark.moto_differs("between-bounds")
def test_between_bounds_out_of_order(ddb: Any, one_item: None) -> None:
    _condition_error(
        ddb,
        "Invalid ConditionExpression: The BETWEEN operator requires upper bound to be greater "
        "than or equal to lower bound; lower bound operand: AttributeValue: {N:10}, upper bound "
        "operand: AttributeValue: {N:3}",
        ConditionExpression="n BETWEEN :ten AND :three",
        ExpressionAttributeValues={":ten": {"N": "10"}, ":three": {"N": "3"}},
    )


@pytest.mark.moto_differs("empty-values-envelope")
def test_empty_expression_attribute_values(ddb: Any, one_item: None) -> None:
    _condition_error(
        ddb,
        "ExpressionAttributeValues must not be empty",
        ConditionExpression="attribute_exists(s)",
        ExpressionAttributeValues={},
    )


@pytest.mark.moto_differs("expression-messages")
def test_invalid_placeholder_keys(ddb: Any, one_item: None) -> None:
    _condition_error(
        ddb,
        'ExpressionAttributeValues contains invalid key: Syntax error; key: "x"',
        ConditionExpression="s = :x",
        ExpressionAttributeValues={"x": {"S": "x"}},
    )
    _condition_error(
        ddb,
        'ExpressionAttributeNames contains invalid key: Syntax error; key: "s"',
        ConditionExpression="attribute_exists(s)",
        ExpressionAttributeNames={"s": "s"},
    )


@pytest.mark.moto_differs("expression-messages")
def test_empty_condition_expression(ddb: Any, one_item: None) -> None:
    _condition_error(
        ddb,
        "Invalid ConditionExpression: The expression can not be empty;",
        ConditionExpression="",
    )


@pytest.mark.moto_differs("expression-messages")
def test_comparison_on_a_function_without_operator(ddb: Any, one_item: None) -> None:
    # size() is a value, not a condition: DynamoDB rejects it used alone.
    _condition_error(
        ddb,
        re.compile(r"Invalid ConditionExpression: .*size.*"),
        ConditionExpression="size(s)",
    )


@pytest.mark.moto_differs("filter-prefix")
def test_filter_errors_name_the_filter_expression(ddb: Any, one_item: None) -> None:
    with raises(
        "ValidationException",
        "Invalid FilterExpression: Attribute name is a reserved keyword; reserved keyword: name",
    ):
        ddb.scan(TableName="tbl", FilterExpression="attribute_exists(name)")
