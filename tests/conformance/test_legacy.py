"""The legacy (pre-expression) parameters, and mixing them with expressions.

API Reference, "Legacy conditional parameters":
https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/LegacyConditionalParameters.html
The local engine supports Expected, AttributeUpdates, KeyConditions, QueryFilter,
ScanFilter, AttributesToGet and ConditionalOperator, and rejects them mixed with
expression parameters with DynamoDB's message (text from dynalite, which records real
DynamoDB answers).
"""

from __future__ import annotations

from typing import Any

import pytest
from ddbtest import Backend, enveloped, raises

MOTO_DIFFERENCES = {
    "legacy-mixing": "moto accepts some legacy parameters mixed with expressions (or words the "
    "error differently); DynamoDB rejects them: 'Can not use both expression and "
    "non-expression parameters in the same request: ...'.",
    "mixing-envelope": "moto 5.2.5 reports the mix of AttributeUpdates and UpdateExpression "
    "bare; DynamoDB wraps it in the '1 validation error detected: ' envelope on UpdateItem "
    "(nubo-db/dynoxide PR #152, captured in eu-west-2).",
    "legacy-results": "moto ignores AttributesToGet, evaluates ConditionalOperator=OR as AND, "
    "ignores QueryFilter with KeyConditions and passes a BETWEEN Expected that does not hold; "
    "DynamoDB applies them as asserted here.",
}

KEY = {"PK": {"S": "p"}, "SK": {"S": "s"}}
MIX = pytest.mark.moto_differs("legacy-mixing")


def _mixed(non_expression: str, expression: str) -> str:
    return (
        "Can not use both expression and non-expression parameters in the same request: "
        f"Non-expression parameters: {{{non_expression}}} "
        f"Expression parameters: {{{expression}}}"
    )


@pytest.fixture
def filled(db: Backend, table: str) -> None:
    for i in range(6):
        db.put(
            {
                "PK": {"S": "p"},
                "SK": {"S": f"s{i}"},
                "n": {"N": str(i)},
                "tag": {"S": "even" if i % 2 == 0 else "odd"},
            }
        )


def test_expected_exists_and_value(db: Backend, ddb: Any, table: str) -> None:
    item = {**KEY, "v": {"N": "1"}}
    ddb.put_item(TableName="tbl", Item=item, Expected={"PK": {"Exists": False}})
    with raises("ConditionalCheckFailedException", "The conditional request failed"):
        ddb.put_item(TableName="tbl", Item=item, Expected={"PK": {"Exists": False}})
    ddb.put_item(
        TableName="tbl", Item={**KEY, "v": {"N": "2"}}, Expected={"v": {"Value": {"N": "1"}}}
    )
    with raises("ConditionalCheckFailedException", "The conditional request failed"):
        ddb.put_item(
            TableName="tbl", Item={**KEY, "v": {"N": "3"}}, Expected={"v": {"Value": {"N": "1"}}}
        )
    assert db.get(KEY) == {**KEY, "v": {"N": "2"}}


def test_expected_comparison_operators_and_or(db: Backend, ddb: Any, table: str) -> None:
    db.put({**KEY, "v": {"N": "5"}, "s": {"S": "hello"}})
    ddb.delete_item(
        TableName="tbl",
        Key=KEY,
        Expected={
            "v": {"ComparisonOperator": "GT", "AttributeValueList": [{"N": "10"}]},
            "s": {"ComparisonOperator": "BEGINS_WITH", "AttributeValueList": [{"S": "he"}]},
        },
        ConditionalOperator="OR",
    )
    assert db.get(KEY) is None


@pytest.mark.moto_differs("legacy-results")
def test_expected_between_and_and(db: Backend, ddb: Any, table: str) -> None:
    db.put({**KEY, "v": {"N": "5"}})
    with raises("ConditionalCheckFailedException", "The conditional request failed"):
        ddb.delete_item(
            TableName="tbl",
            Key=KEY,
            Expected={
                "v": {
                    "ComparisonOperator": "BETWEEN",
                    "AttributeValueList": [{"N": "6"}, {"N": "9"}],
                },
            },
        )
    ddb.delete_item(
        TableName="tbl",
        Key=KEY,
        Expected={
            "v": {"ComparisonOperator": "BETWEEN", "AttributeValueList": [{"N": "1"}, {"N": "5"}]},
            "missing": {"ComparisonOperator": "NULL"},
        },
    )
    assert db.get(KEY) is None


def test_attribute_updates(db: Backend, ddb: Any, table: str) -> None:
    db.put({**KEY, "gone": {"S": "x"}, "n": {"N": "1"}, "ss": {"SS": ["a", "b"]}})
    response = ddb.update_item(
        TableName="tbl",
        Key=KEY,
        AttributeUpdates={
            "put": {"Action": "PUT", "Value": {"S": "v"}},
            "gone": {"Action": "DELETE"},
            "n": {"Action": "ADD", "Value": {"N": "2"}},
            "ss": {"Action": "DELETE", "Value": {"SS": ["a"]}},
        },
        ReturnValues="ALL_NEW",
    )
    assert response["Attributes"] == {
        **KEY,
        "put": {"S": "v"},
        "n": {"N": "3"},
        "ss": {"SS": ["b"]},
    }


@pytest.mark.moto_differs("legacy-results")
def test_key_conditions_query_filter_attributes_to_get(ddb: Any, filled: None) -> None:
    response = ddb.query(
        TableName="tbl",
        KeyConditions={
            "PK": {"ComparisonOperator": "EQ", "AttributeValueList": [{"S": "p"}]},
            "SK": {
                "ComparisonOperator": "BETWEEN",
                "AttributeValueList": [{"S": "s1"}, {"S": "s4"}],
            },
        },
        QueryFilter={"tag": {"ComparisonOperator": "EQ", "AttributeValueList": [{"S": "even"}]}},
        AttributesToGet=["SK", "n"],
    )
    assert response["Items"] == [
        {"SK": {"S": "s2"}, "n": {"N": "2"}},
        {"SK": {"S": "s4"}, "n": {"N": "4"}},
    ]
    assert (response["Count"], response["ScannedCount"]) == (2, 4)


def test_key_conditions_begins_with(ddb: Any, filled: None) -> None:
    response = ddb.query(
        TableName="tbl",
        KeyConditions={
            "PK": {"ComparisonOperator": "EQ", "AttributeValueList": [{"S": "p"}]},
            "SK": {"ComparisonOperator": "BEGINS_WITH", "AttributeValueList": [{"S": "s3"}]},
        },
    )
    assert [i["SK"]["S"] for i in response["Items"]] == ["s3"]


@pytest.mark.moto_differs("legacy-results")
def test_scan_filter_with_conditional_operator(ddb: Any, filled: None) -> None:
    response = ddb.scan(
        TableName="tbl",
        ScanFilter={
            "n": {"ComparisonOperator": "LT", "AttributeValueList": [{"N": "2"}]},
            "tag": {"ComparisonOperator": "EQ", "AttributeValueList": [{"S": "odd"}]},
        },
        ConditionalOperator="OR",
    )
    assert sorted(int(i["n"]["N"]) for i in response["Items"]) == [0, 1, 3, 5]


@pytest.mark.parametrize(
    ("condition", "expected"),
    [
        ({"ComparisonOperator": "NE", "AttributeValueList": [{"S": "even"}]}, [1, 3, 5]),
        ({"ComparisonOperator": "IN", "AttributeValueList": [{"S": "odd"}, {"S": "x"}]}, [1, 3, 5]),
        ({"ComparisonOperator": "NOT_NULL"}, [0, 1, 2, 3, 4, 5]),
        ({"ComparisonOperator": "CONTAINS", "AttributeValueList": [{"S": "dd"}]}, [1, 3, 5]),
        ({"ComparisonOperator": "NOT_CONTAINS", "AttributeValueList": [{"S": "dd"}]}, [0, 2, 4]),
        ({"ComparisonOperator": "GE", "AttributeValueList": [{"S": "odd"}]}, [1, 3, 5]),
    ],
)
def test_scan_filter_operators(
    ddb: Any, filled: None, condition: dict[str, Any], expected: list[int]
) -> None:
    response = ddb.scan(TableName="tbl", ScanFilter={"tag": condition})
    assert sorted(int(i["n"]["N"]) for i in response["Items"]) == expected


@pytest.mark.moto_differs("legacy-results")
def test_get_item_attributes_to_get(db: Backend, ddb: Any, table: str) -> None:
    db.put({**KEY, "a": {"S": "1"}, "b": {"S": "2"}})
    response = ddb.get_item(TableName="tbl", Key=KEY, AttributesToGet=["a", "nothere"])
    assert response["Item"] == {"a": {"S": "1"}}


@pytest.mark.parametrize(
    ("operation", "request_", "non_expression", "expression"),
    [
        pytest.param(
            "get_item",
            {"Key": KEY, "AttributesToGet": ["a"], "ProjectionExpression": "a"},
            "AttributesToGet",
            "ProjectionExpression",
        ),
        pytest.param(
            "put_item",
            {
                "Item": KEY,
                "Expected": {"a": {"Exists": False}},
                "ConditionExpression": "attribute_not_exists(a)",
            },
            "Expected",
            "ConditionExpression",
            marks=MIX,
        ),
        pytest.param(
            "delete_item",
            {
                "Key": KEY,
                "Expected": {"a": {"Exists": False}},
                "ConditionExpression": "attribute_not_exists(a)",
            },
            "Expected",
            "ConditionExpression",
            marks=MIX,
        ),
        pytest.param(
            "update_item",
            {
                "Key": KEY,
                "AttributeUpdates": {"a": {"Action": "DELETE"}},
                "UpdateExpression": "REMOVE b",
            },
            "AttributeUpdates",
            "UpdateExpression",
            marks=pytest.mark.moto_differs("mixing-envelope"),
        ),
        pytest.param(
            "scan",
            {
                "ScanFilter": {"a": {"ComparisonOperator": "NULL"}},
                "FilterExpression": "attribute_not_exists(a)",
            },
            "ScanFilter",
            "FilterExpression",
            marks=MIX,
        ),
        pytest.param(
            "query",
            {
                "KeyConditions": {
                    "PK": {"ComparisonOperator": "EQ", "AttributeValueList": [{"S": "p"}]}
                },
                "FilterExpression": "attribute_not_exists(a)",
            },
            "KeyConditions",
            "FilterExpression",
            marks=MIX,
        ),
        pytest.param(
            "query",
            {
                "KeyConditionExpression": "PK = :p",
                "ExpressionAttributeValues": {":p": {"S": "p"}},
                "QueryFilter": {"a": {"ComparisonOperator": "NULL"}},
                "AttributesToGet": ["a"],
            },
            "AttributesToGet, QueryFilter",
            "KeyConditionExpression",
            marks=MIX,
        ),
    ],
)
def test_mixing_legacy_and_expression_parameters_is_rejected(
    db: Backend,
    ddb: Any,
    table: str,
    operation: str,
    request_: dict[str, Any],
    non_expression: str,
    expression: str,
) -> None:
    message = _mixed(non_expression, expression)
    if operation in ("put_item", "update_item"):
        # A request-validation error: enveloped on PutItem/UpdateItem (dynoxide PR #152).
        message = str(enveloped(message))
    with raises("ValidationException", message):
        getattr(ddb, operation)(TableName="tbl", **request_)
    assert db.scan_all() == []
