"""Expression -> exact DynamoDB error message (validation at parse and bind time)."""

from __future__ import annotations

from typing import Any

import pytest

from singletable.expressions import ExpressionContext, ExpressionError

VALUES: dict[str, Any] = {
    ":s": {"S": "x"},
    ":s2": {"S": "y"},
    ":n": {"N": "1"},
    ":n2": {"N": "2"},
    ":l": {"L": []},
    ":ss": {"SS": ["a"]},
    ":bool": {"BOOL": True},
    ":tX": {"S": "X"},
}
NAMES = {"#a": "a", "#b": "b"}

COND = "Invalid ConditionExpression: "

CONDITION_ERRORS = [
    ("status = :s", COND + "Attribute name is a reserved keyword; reserved keyword: status"),
    ("a.Size = :s", COND + "Attribute name is a reserved keyword; reserved keyword: Size"),
    (
        "#zz = :s",
        COND + "An expression attribute name used in the document path is not defined; "
        "attribute name: #zz",
    ),
    (
        "a = :zz",
        COND
        + "An expression attribute value used in expression is not defined; attribute value: :zz",
    ),
    ("foo(a)", COND + "Invalid function name; function: foo"),
    (
        "size(a)",
        COND + "The function is not allowed to be used this way in an expression; function: size",
    ),
    (
        "contains(a, :s) = :bool",
        COND
        + "The function is not allowed to be used this way in an expression; function: contains",
    ),
    (
        "begins_with(attribute_type(a, :s), :s)",
        COND + "The function is not allowed to be used this way in an expression; "
        "function: attribute_type",
    ),
    (
        "begins_with(a)",
        COND + "Incorrect number of operands for operator or function; operator or function: "
        "begins_with, number of operands: 1",
    ),
    (
        "begins_with(a, :n)",
        COND
        + "Incorrect operand type for operator or function; operator or function: begins_with, "
        "operand type: N",
    ),
    (
        "begins_with(a, size(b))",
        COND
        + "Incorrect operand type for operator or function; operator or function: begins_with, "
        "operand type: N",
    ),
    (
        "attribute_exists(:s)",
        COND
        + "Operator or function requires a document path; operator or function: attribute_exists",
    ),
    (
        "attribute_type(a, :n)",
        COND
        + "Incorrect operand type for operator or function; operator or function: attribute_type, "
        "operand type: N",
    ),
    (
        "attribute_type(a, :tX)",
        COND
        + "Invalid attribute type name found; type: X, valid types: {B,NULL,SS,BOOL,L,BS,N,NS,S,M}",
    ),
    (
        "size(:n) = :n",
        COND + "Incorrect operand type for operator or function; operator or function: size, "
        "operand type: N",
    ),
    (
        "a = #a",
        COND
        + "The first operand must be distinct from the remaining operands for this operator or "
        "function; operator: =, first operand: [a]",
    ),
    (
        "contains(a.b[1], #a.b[1])",
        COND
        + "The first operand must be distinct from the remaining operands for this operator or "
        "function; operator: contains, first operand: [a, b, [1]]",
    ),
    (
        "a BETWEEN :n2 AND :n",
        COND
        + "The BETWEEN operator requires upper bound to be greater than or equal to lower bound; "
        "lower bound operand: AttributeValue: {N:2}, upper bound operand: AttributeValue: {N:1}",
    ),
    (
        "a BETWEEN :s AND :n",
        COND + "The BETWEEN operator requires same data type for lower and upper bounds; "
        "lower bound operand: AttributeValue: {S:x}, upper bound operand: AttributeValue: {N:1}",
    ),
    (
        "if_not_exists(a, :s) = :s",
        COND + "The function is not allowed in a condition expression; function: if_not_exists",
    ),
    ("", COND + "The expression can not be empty;"),
    (
        "a = :s AND " * 400 + "a = :s",
        COND + "Expression size has exceeded the maximum allowed size; expression size: 4406",
    ),
    (
        "a IN (" + ", ".join([":s"] * 101) + ")",
        COND + "The IN operator is provided with too many operands; number of operands: 101",
    ),
    (
        "a" + ".b" * 32 + " = :s",
        COND + "The document path has too many nesting levels; nesting levels: 33",
    ),
    (
        " OR ".join(["a < :n"] * 151),
        COND + "The expression contains too many operators; operator count: 301",
    ),
]


@pytest.mark.parametrize(("text", "message"), CONDITION_ERRORS)
def test_condition_errors(text: str, message: str) -> None:
    ctx = ExpressionContext(NAMES, VALUES)
    with pytest.raises(ExpressionError) as info:
        ctx.condition(text, "ConditionExpression")
    assert info.value.message == message


def test_limits_are_inclusive() -> None:
    ctx = ExpressionContext(None, VALUES)
    ctx.condition("a IN (" + ", ".join([":s"] * 100) + ")", "FilterExpression")
    ctx.condition("a" + ".b" * 31 + " = :s", "FilterExpression")
    ctx.condition(" OR ".join(["a < :n"] * 150), "FilterExpression")
    text = "a = :s AND " * 400
    text = text[: 4096 - len("a = :s")] + " " * 0
    assert len(text) <= 4096


UPD = "Invalid UpdateExpression: "

UPDATE_ERRORS = [
    (
        "SET a = :s SET b = :s",
        UPD + 'The "SET" section can only be used once in an update expression;',
    ),
    (
        "REMOVE a REMOVE b",
        UPD + 'The "REMOVE" section can only be used once in an update expression;',
    ),
    ("SET name = :s", UPD + "Attribute name is a reserved keyword; reserved keyword: name"),
    (
        "SET a = :s, a.b = :s",
        UPD
        + "Two document paths overlap with each other; must remove or rewrite one of these paths; "
        "path one: [a], path two: [a, b]",
    ),
    (
        "SET a = :s REMOVE #a",
        UPD
        + "Two document paths overlap with each other; must remove or rewrite one of these paths; "
        "path one: [a], path two: [a]",
    ),
    (
        "SET a[1] = :s REMOVE a.b",
        UPD
        + "Two document paths conflict with each other; must remove or rewrite one of these paths; "
        "path one: [a, [1]], path two: [a, b]",
    ),
    (
        "ADD a :s",
        UPD
        + "Incorrect operand type for operator or function; operator: ADD, operand type: STRING",
    ),
    (
        "ADD a :l",
        UPD + "Incorrect operand type for operator or function; operator: ADD, operand type: LIST",
    ),
    (
        "DELETE a :n",
        UPD
        + "Incorrect operand type for operator or function; operator: DELETE, operand type: NUMBER",
    ),
    (
        "SET a = b + :s",
        UPD + "Incorrect operand type for operator or function; operator or function: +, "
        "operand type: S",
    ),
    (
        "SET a = list_append(b, :n)",
        UPD + "Incorrect operand type for operator or function; operator or function: list_append, "
        "operand type: N",
    ),
    (
        "SET a = if_not_exists(:s, :s)",
        UPD + "Operator or function requires a document path; operator or function: if_not_exists",
    ),
    (
        "SET a = if_not_exists(b)",
        UPD + "Incorrect number of operands for operator or function; operator or function: "
        "if_not_exists, number of operands: 1",
    ),
    ("SET a = foo(b)", UPD + "Invalid function name; function: foo"),
    (
        "SET a = size(b)",
        UPD + "The function is not allowed in an update expression; function: size",
    ),
    (
        "SET #zz = :s",
        UPD + "An expression attribute name used in the document path is not defined; "
        "attribute name: #zz",
    ),
    (
        "SET a = :zz",
        UPD
        + "An expression attribute value used in expression is not defined; attribute value: :zz",
    ),
    ("", UPD + "The expression can not be empty;"),
]


@pytest.mark.parametrize(("text", "message"), UPDATE_ERRORS)
def test_update_errors(text: str, message: str) -> None:
    with pytest.raises(ExpressionError) as info:
        ExpressionContext(NAMES, VALUES).update(text)
    assert info.value.message == message


PROJ = "Invalid ProjectionExpression: "


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "a, b, a",
            PROJ + "Two document paths overlap with each other; must remove or rewrite "
            "one of these paths; path one: [a], path two: [a]",
        ),
        (
            "a.b, #a",
            PROJ + "Two document paths overlap with each other; must remove or rewrite "
            "one of these paths; path one: [a, b], path two: [a]",
        ),
        (
            "a[0], a.b",
            PROJ + "Two document paths conflict with each other; must remove or "
            "rewrite one of these paths; path one: [a, [0]], path two: [a, b]",
        ),
        ("year", PROJ + "Attribute name is a reserved keyword; reserved keyword: year"),
        (
            "#c",
            PROJ + "An expression attribute name used in the document path is not defined; "
            "attribute name: #c",
        ),
    ],
)
def test_projection_errors(text: str, message: str) -> None:
    with pytest.raises(ExpressionError) as info:
        ExpressionContext(NAMES, None).projection(text)
    assert info.value.message == message


def test_placeholder_maps() -> None:
    with pytest.raises(ExpressionError) as info:
        ExpressionContext({}, None)
    assert info.value.message == "ExpressionAttributeNames must not be empty"
    with pytest.raises(ExpressionError) as info:
        ExpressionContext(None, {})
    assert info.value.message == "ExpressionAttributeValues must not be empty"
    with pytest.raises(ExpressionError) as info:
        ExpressionContext({"#a-b": "x"}, None)
    assert info.value.message == (
        'ExpressionAttributeNames contains invalid key: Syntax error; key: "#a-b"'
    )
    with pytest.raises(ExpressionError) as info:
        ExpressionContext(None, {"v": {"S": "x"}})
    assert info.value.message == (
        'ExpressionAttributeValues contains invalid key: Syntax error; key: "v"'
    )


def test_unused_placeholders_across_expressions() -> None:
    ctx = ExpressionContext({"#a": "a", "#b": "b", "#c": "c"}, {":v": {"S": "x"}, ":w": {"S": "y"}})
    ctx.condition("#a = :v", "ConditionExpression")
    ctx.projection("#b")
    with pytest.raises(ExpressionError) as info:
        ctx.check_unused()
    assert info.value.message == (
        "Value provided in ExpressionAttributeNames unused in expressions: keys: {#c}"
    )
    ctx.update("SET #c = :v")
    with pytest.raises(ExpressionError) as info:
        ctx.check_unused()
    assert info.value.message == (
        "Value provided in ExpressionAttributeValues unused in expressions: keys: {:w}"
    )
    ctx.condition("attribute_exists(x) OR x = :w", "ConditionExpression")
    ctx.check_unused()


def test_unused_lists_every_key() -> None:
    ctx = ExpressionContext({"#a": "a", "#b": "b"}, None)
    with pytest.raises(ExpressionError) as info:
        ctx.check_unused()
    assert info.value.message == (
        "Value provided in ExpressionAttributeNames unused in expressions: keys: {#a, #b}"
    )


def test_reserved_word_list() -> None:
    from singletable.expressions import RESERVED_WORDS, is_reserved

    # The Developer Guide's "Reserved words in DynamoDB" page lists 573 words.
    assert len(RESERVED_WORDS) == 573
    assert is_reserved("Status") and is_reserved("size") and is_reserved("TTL")
    assert not is_reserved("pk") and not is_reserved("statuses")
