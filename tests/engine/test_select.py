"""Select and projections on Query/Scan: what DynamoDB accepts and how it refuses."""

from __future__ import annotations

from typing import Any

import pytest

from singletable.backends.local import DynamoDBError, LocalEngine

TABLE = "sel"
QUERY: dict[str, Any] = {
    "TableName": TABLE,
    "KeyConditionExpression": "PK = :p",
    "ExpressionAttributeValues": {":p": {"S": "p"}},
}


@pytest.fixture
def engine(dynamodb_engine: LocalEngine) -> LocalEngine:
    """The plugin's fresh engine (closed after the test) with the table these tests use."""
    engine = dynamodb_engine
    engine.call(
        "CreateTable",
        {
            "TableName": TABLE,
            "KeySchema": [
                {"AttributeName": "PK", "KeyType": "HASH"},
                {"AttributeName": "SK", "KeyType": "RANGE"},
            ],
            "AttributeDefinitions": [
                {"AttributeName": "PK", "AttributeType": "S"},
                {"AttributeName": "SK", "AttributeType": "S"},
            ],
            "BillingMode": "PAY_PER_REQUEST",
        },
    )
    for sk in "abc":
        engine.call(
            "PutItem",
            {
                "TableName": TABLE,
                "Item": {"PK": {"S": "p"}, "SK": {"S": sk}, "x": {"N": "1"}, "y": {"S": sk}},
            },
        )
    return engine


def _error(engine: LocalEngine, operation: str, request: dict[str, Any]) -> str:
    with pytest.raises(DynamoDBError) as caught:
        engine.call(operation, request)
    assert caught.value.code == "ValidationException"
    return caught.value.message


@pytest.mark.parametrize(
    ("select", "what"),
    [
        ("ALL_ATTRIBUTES", "ALL_ATTRIBUTES"),
        ("COUNT", "only the Count"),
        ("ALL_PROJECTED_ATTRIBUTES", "ALL_PROJECTED_ATTRIBUTES"),
    ],
)
def test_select_that_excludes_a_projection_names_both(
    engine: LocalEngine, select: str, what: str
) -> None:
    message = _error(engine, "Query", {**QUERY, "Select": select, "ProjectionExpression": "y"})
    assert message == f"Cannot specify the ProjectionExpression when choosing to get {what}"
    legacy = {
        "TableName": TABLE,
        "Select": select,
        "AttributesToGet": ["y"],
        "KeyConditions": {"PK": {"ComparisonOperator": "EQ", "AttributeValueList": [{"S": "p"}]}},
    }
    message = _error(engine, "Query", legacy)
    assert message == f"Cannot specify the AttributesToGet when choosing to get {what}"


def test_specific_attributes_needs_a_projection(engine: LocalEngine) -> None:
    assert _error(engine, "Scan", {"TableName": TABLE, "Select": "SPECIFIC_ATTRIBUTES"}) == (
        "Must specify the AttributesToGet or ProjectionExpression when choosing to get "
        "SPECIFIC_ATTRIBUTES"
    )


def test_count_and_projection_results(engine: LocalEngine) -> None:
    counted = engine.call("Query", {**QUERY, "Select": "COUNT"})
    assert counted == {"Count": 3, "ScannedCount": 3}
    projected = engine.call(
        "Query", {**QUERY, "Select": "SPECIFIC_ATTRIBUTES", "ProjectionExpression": "y"}
    )
    assert projected["Items"] == [{"y": {"S": "a"}}, {"y": {"S": "b"}}, {"y": {"S": "c"}}]
