"""The request-validation envelope ("1 validation error detected: ") per operation and family.

Family matrix captured against DynamoDB (eu-west-2) in nubo-db/dynoxide PR #152; the
BatchGetItem/BatchWriteItem split from PR #198.
"""

from __future__ import annotations

from typing import Any

import pytest

from singletable.backends.local import LocalEngine
from singletable.backends.local.errors import ENVELOPE, DynamoDBError

KEY = {"PK": {"S": "p"}}


@pytest.fixture
def engine(dynamodb_engine: LocalEngine) -> LocalEngine:
    """The plugin's fresh engine (closed after the test) with the table these tests use."""
    engine = dynamodb_engine
    engine.call(
        "CreateTable",
        {
            "TableName": "tbl",
            "KeySchema": [{"AttributeName": "PK", "KeyType": "HASH"}],
            "AttributeDefinitions": [{"AttributeName": "PK", "AttributeType": "S"}],
            "BillingMode": "PAY_PER_REQUEST",
        },
    )
    return engine


def _message(engine: LocalEngine, operation: str, request: dict[str, Any]) -> str:
    with pytest.raises(DynamoDBError) as caught:
        engine.call(operation, {"TableName": "tbl", **request})
    assert caught.value.code == "ValidationException"
    return caught.value.message


ENVELOPED = [
    ("PutItem", {"Item": {**KEY, "s": {"SS": []}}}),
    ("PutItem", {"Item": {**KEY, "s": {"SS": ["a", "a"]}}}),
    ("PutItem", {"Item": {**KEY, "n": {"NULL": False}}}),
    ("PutItem", {"Item": KEY, "ConditionExpression": "a ="}),
    ("PutItem", {"Item": KEY, "ExpressionAttributeValues": {":v": {"S": "v"}}}),
    (
        "PutItem",
        {
            "Item": KEY,
            "Expected": {"a": {"Exists": False}},
            "ConditionExpression": "attribute_not_exists(a)",
        },
    ),
    ("UpdateItem", {"Key": KEY, "UpdateExpression": "SET"}),
    (
        "UpdateItem",
        {
            "Key": KEY,
            "UpdateExpression": "SET a = :v REMOVE a",
            "ExpressionAttributeValues": {":v": {"S": "v"}},
        },
    ),
    (
        "UpdateItem",
        {
            "Key": KEY,
            "UpdateExpression": "SET #n = :v",
            "ExpressionAttributeValues": {":v": {"S": "v"}},
        },
    ),
    (
        "UpdateItem",
        {
            "Key": KEY,
            "UpdateExpression": "SET a = :v",
            "ExpressionAttributeValues": {":v": {"SS": []}},
        },
    ),
    (
        "UpdateItem",
        {
            "Key": {"PK": {"NULL": False}},
            "UpdateExpression": "SET a = :v",
            "ExpressionAttributeValues": {":v": {"S": "v"}},
        },
    ),
]

BARE = [
    ("PutItem", {"Item": {"PK": {"N": "1"}}}),  # key type mismatch
    ("PutItem", {"Item": {"PK": {"S": ""}}}),  # empty key
    ("PutItem", {"Item": {**KEY, "big": {"S": "x" * 410_000}}}),  # item size
    ("PutItem", {"Item": {**KEY, "n": {"N": "1E+200"}}}),  # number limits
    ("PutItem", {"Item": KEY, "ExpressionAttributeNames": {"#a": "a"}}),
    (
        "UpdateItem",
        {
            "Key": KEY,
            "UpdateExpression": "SET PK = :v",
            "ExpressionAttributeValues": {":v": {"S": "v"}},
        },
    ),
    (
        "UpdateItem",
        {
            "Key": KEY,
            "UpdateExpression": "SET a = :v",
            "ExpressionAttributeValues": {":v": {"S": "v"}, ":x": {"S": "x"}},
        },
    ),
    ("UpdateItem", {"Key": KEY, "UpdateExpression": "SET a = :v", "ExpressionAttributeValues": {}}),
    ("UpdateItem", {"Key": KEY, "UpdateExpression": ""}),
    (
        "UpdateItem",
        {
            "Key": KEY,
            "UpdateExpression": "SET a = nothere + :v",
            "ExpressionAttributeValues": {":v": {"N": "1"}},
        },
    ),
    (
        "UpdateItem",
        {
            "Key": {"PK": {"SS": []}},
            "UpdateExpression": "SET a = :v",
            "ExpressionAttributeValues": {":v": {"S": "v"}},
        },
    ),
    # The same request-validation families on operations without the envelope.
    ("DeleteItem", {"Key": KEY, "ConditionExpression": "a ="}),
    ("DeleteItem", {"Key": {"PK": {"NULL": False}}}),
    ("GetItem", {"Key": KEY, "ProjectionExpression": "a,"}),
    ("Query", {"KeyConditionExpression": "PK ="}),
    ("Scan", {"FilterExpression": "a ="}),
]


@pytest.mark.parametrize(("operation", "request_"), ENVELOPED)
def test_request_validation_errors_are_enveloped(
    engine: LocalEngine, operation: str, request_: dict[str, Any]
) -> None:
    message = _message(engine, operation, request_)
    assert message.startswith(ENVELOPE)
    assert ENVELOPE not in message[len(ENVELOPE) :]


@pytest.mark.parametrize(("operation", "request_"), BARE)
def test_other_errors_stay_bare(
    engine: LocalEngine, operation: str, request_: dict[str, Any]
) -> None:
    assert "validation error" not in _message(engine, operation, request_)


def test_envelope_is_not_matched_on_text(engine: LocalEngine) -> None:
    # A set whose members echo an envelope: classified by family, wrapped exactly once.
    members = [ENVELOPE, ENVELOPE]
    message = _message(engine, "PutItem", {"Item": {**KEY, "s": {"SS": members}}})
    assert message == (
        ENVELOPE + "One or more parameter values were invalid: Input collection "
        f"[{ENVELOPE}, {ENVELOPE}] contains duplicates."
    )


def test_constraint_errors_are_not_wrapped_twice(engine: LocalEngine) -> None:
    message = _message(engine, "UpdateItem", {"Key": KEY, "ReturnValues": "BOGUS"})
    assert message == (
        "1 validation error detected: Value 'BOGUS' at 'returnValues' failed to satisfy "
        "constraint: Member must satisfy enum value set: "
        "[NONE, ALL_OLD, UPDATED_OLD, ALL_NEW, UPDATED_NEW]"
    )


def test_empty_batches(engine: LocalEngine) -> None:
    assert _message(engine, "BatchGetItem", {"RequestItems": {}}) == (
        "1 validation error detected: Value at 'RequestItems' failed to satisfy constraint: "
        "Member must have length greater than or equal to 1"
    )
    assert _message(engine, "BatchWriteItem", {"RequestItems": {}}) == (
        "The requestItems parameter is required for BatchWriteItem"
    )
