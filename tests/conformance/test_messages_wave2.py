"""Item-level limits and messages: GSI key sizes, attribute-name sizes, batch and
transaction shapes, update type errors, item nesting, parallel-scan start keys.

Each test cites where DynamoDB's text comes from; the engine's modules say the same.
"""

from __future__ import annotations

import re
from typing import Any

import boto3
import pytest
from botocore.config import Config
from ddbtest import REGION, Backend, enveloped, raises

MOTO_DIFFERENCES = {
    "gsi-key-size": "moto refuses an oversized GSI key with the table-key message (or not at "
    "all); DynamoDB names the index key, its size and the index.",
    "name-size": "moto accepts attribute names over 65535 bytes; DynamoDB refuses them.",
    "batch-shape": "moto answers 'Too many items requested for the BatchWriteItem call' for "
    "26 writes on one table, and accepts 26 spread over two tables; DynamoDB reports the "
    "list-length constraint of the table, and the count for a spread batch.",
    "legacy-type-mismatch": "moto words a legacy ADD/DELETE of another type differently; "
    "DynamoDB says 'Type mismatch for attribute to update'.",
    "number-overflow": "moto reports the digit count (or a Python error) for a sum that is "
    "both too large and too long; DynamoDB reports the overflow.",
    "transaction-reasons": "moto evaluates every action of a cancelled transaction; "
    "DynamoDB reports the actions after a ValidationError as None.",
    "nesting": "moto accepts items nested deeper than 32 levels (or words it differently).",
    "segment-start-key": "moto ignores an ExclusiveStartKey outside the scan segment; "
    "DynamoDB refuses it.",
}

KEY = {"PK": {"S": "p"}, "SK": {"S": "s"}}


@pytest.fixture
def raw(db: Backend) -> Any:
    """A client that sends what boto3 would refuse on the client side."""
    return boto3.client("dynamodb", region_name=REGION, config=Config(parameter_validation=False))


@pytest.fixture
def indexed(db: Backend) -> str:
    """A table with a GSI keyed on g (S) / r (S) and an LSI on l (B)."""
    return db.create_table(
        "idx",
        AttributeDefinitions=[
            {"AttributeName": "PK", "AttributeType": "S"},
            {"AttributeName": "SK", "AttributeType": "S"},
            {"AttributeName": "g", "AttributeType": "S"},
            {"AttributeName": "r", "AttributeType": "S"},
            {"AttributeName": "l", "AttributeType": "B"},
        ],
        GlobalSecondaryIndexes=[
            {
                "IndexName": "gsi",
                "KeySchema": [
                    {"AttributeName": "g", "KeyType": "HASH"},
                    {"AttributeName": "r", "KeyType": "RANGE"},
                ],
                "Projection": {"ProjectionType": "ALL"},
            }
        ],
        LocalSecondaryIndexes=[
            {
                "IndexName": "lsi",
                "KeySchema": [
                    {"AttributeName": "PK", "KeyType": "HASH"},
                    {"AttributeName": "l", "KeyType": "RANGE"},
                ],
                "Projection": {"ProjectionType": "KEYS_ONLY"},
            }
        ],
    )


def _index_key_size(name: str, size: int, limit: int, index: str) -> str:
    return (
        "One or more parameter values were invalid: Size limit exceeded for Index Key "
        f"{name} Actual Size: {size} bytes Max Size: {limit} bytes IndexName: {index}"
    )


# ----------------------------------------------------------------------------- GSI key sizes


@pytest.mark.moto_differs("gsi-key-size")
def test_an_index_partition_key_over_2048_bytes_is_refused(
    db: Backend, ddb: Any, indexed: str
) -> None:
    # Developer Guide, "Detecting and correcting index key violations": the table's
    # key-size limits apply to index keys; the message names the index.
    with raises("ValidationException", _index_key_size("g", 2049, 2048, "gsi")):
        ddb.put_item(TableName="idx", Item={**KEY, "g": {"S": "é" * 1024 + "x"}, "r": {"S": "r"}})
    with raises("ValidationException", _index_key_size("g", 2049, 2048, "gsi")):
        ddb.update_item(
            TableName="idx",
            Key=KEY,
            UpdateExpression="SET g = :g",
            ExpressionAttributeValues={":g": {"S": "g" * 2049}},
        )
    assert db.get(KEY, table="idx") is None


@pytest.mark.moto_differs("gsi-key-size")
def test_an_index_sort_key_over_1024_bytes_is_refused(ddb: Any, indexed: str) -> None:
    with raises("ValidationException", _index_key_size("r", 1025, 1024, "gsi")):
        ddb.put_item(TableName="idx", Item={**KEY, "g": {"S": "g"}, "r": {"S": "r" * 1025}})
    with raises("ValidationException", _index_key_size("l", 1025, 1024, "lsi")):
        ddb.put_item(TableName="idx", Item={**KEY, "l": {"B": b"\x01" * 1025}})


def test_index_keys_at_the_limits_are_fine(db: Backend, ddb: Any, indexed: str) -> None:
    item = {**KEY, "g": {"S": "g" * 2048}, "r": {"S": "r" * 1024}, "l": {"B": b"\x01" * 1024}}
    ddb.put_item(TableName="idx", Item=item)
    page = ddb.query(
        TableName="idx",
        IndexName="gsi",
        KeyConditionExpression="g = :g",
        ExpressionAttributeValues={":g": {"S": "g" * 2048}},
    )
    assert page["Count"] == 1


# ----------------------------------------------------------------------------- names


@pytest.mark.moto_differs("name-size")
def test_attribute_names_over_65535_bytes_are_refused(db: Backend, ddb: Any, table: str) -> None:
    # Developer Guide, "Naming rules": names up to 64 KB; 65535 bytes is the longest
    # DynamoDB takes (scylladb's alternator test_limits.py). Text measured against the
    # service for PutItem and UpdateItem (ExtendDB/extenddb#365).
    long = "n" * 65535
    ddb.put_item(TableName="tbl", Item={**KEY, long: {"S": "v"}})
    assert long in (db.get(KEY) or {})
    message = enveloped("Attribute name is too large, must be less than 65536 bytes")
    with raises("ValidationException", message):
        ddb.put_item(TableName="tbl", Item={**KEY, long + "n": {"S": "v"}})
    with raises("ValidationException", message):
        ddb.update_item(
            TableName="tbl",
            Key=KEY,
            UpdateExpression="SET #n = :v",
            ExpressionAttributeNames={"#n": long + "n"},
            ExpressionAttributeValues={":v": {"S": "v"}},
        )
    with raises("ValidationException", message):
        ddb.update_item(
            TableName="tbl", Key=KEY, AttributeUpdates={long + "n": {"Value": {"S": "v"}}}
        )
    # At every depth: a map key inside a list inside a map.
    nested = {"M": {"a": {"L": [{"M": {long + "n": {"S": "v"}}}]}}}
    with raises("ValidationException", message):
        ddb.put_item(TableName="tbl", Item={**KEY, "doc": nested})
    with raises("ValidationException", message):
        ddb.update_item(
            TableName="tbl",
            Key=KEY,
            UpdateExpression="SET doc = :v",
            ExpressionAttributeValues={":v": nested},
        )
    assert "doc" not in (db.get(KEY) or {})


# ----------------------------------------------------------------------------- batches


@pytest.mark.moto_differs("batch-shape")
def test_26_writes_on_one_table_break_the_list_constraint(ddb: Any, table: str) -> None:
    writes = [{"PutRequest": {"Item": {"PK": {"S": f"p{i}"}, "SK": {"S": "s"}}}} for i in range(26)]
    pattern = re.compile(
        re.escape("1 validation error detected: Value '{tbl=[")
        + r"(com\.amazonaws\.dynamodb\.v20120810\.WriteRequest@[0-9a-f]{8}, ){25}"
        + r"com\.amazonaws\.dynamodb\.v20120810\.WriteRequest@[0-9a-f]{8}"
        + re.escape(
            "]}' at 'requestItems' failed to satisfy constraint: Map value must satisfy "
            "constraint: [Member must have length less than or equal to 25, Member must have "
            "length greater than or equal to 1]"
        )
    )
    with raises("ValidationException", pattern):
        ddb.batch_write_item(RequestItems={"tbl": writes})


@pytest.mark.moto_differs("batch-shape")
def test_26_writes_over_two_tables_are_too_many(db: Backend, ddb: Any, table: str) -> None:
    db.create_table("other")

    def writes(prefix: str) -> list[Any]:
        return [
            {"PutRequest": {"Item": {"PK": {"S": f"{prefix}{i}"}, "SK": {"S": "s"}}}}
            for i in range(13)
        ]

    with raises("ValidationException", "Too many items requested for the BatchWriteItem call"):
        ddb.batch_write_item(RequestItems={"tbl": writes("a"), "other": writes("b")})


# ----------------------------------------------------------------------------- updates


@pytest.mark.moto_differs("legacy-type-mismatch")
@pytest.mark.parametrize(
    ("action", "value"),
    [("ADD", {"N": "1"}), ("DELETE", {"NS": ["1"]}), ("ADD", {"SS": ["a"]})],
)
def test_legacy_add_or_delete_of_another_type(
    db: Backend, ddb: Any, table: str, action: str, value: Any
) -> None:
    # dynalite's tests, recorded against DynamoDB ("should return ValidationException if
    # trying to delete NS from SS").
    db.put({**KEY, "a": {"S": "x"}, "s": {"SS": ["x"]}})
    attribute = "s" if action == "DELETE" or "N" in value else "a"
    with raises("ValidationException", "Type mismatch for attribute to update"):
        ddb.update_item(
            TableName="tbl",
            Key=KEY,
            AttributeUpdates={attribute: {"Action": action, "Value": value}},
        )


def test_update_expression_add_of_another_type_keeps_its_wording(
    db: Backend, ddb: Any, table: str
) -> None:
    db.put({**KEY, "a": {"S": "x"}})
    with raises(
        "ValidationException", "An operand in the update expression has an incorrect data type"
    ):
        ddb.update_item(
            TableName="tbl",
            Key=KEY,
            UpdateExpression="ADD a :n",
            ExpressionAttributeValues={":n": {"N": "1"}},
        )


@pytest.mark.moto_differs("number-overflow")
@pytest.mark.parametrize("update", ["SET n = n + :v", "ADD n :v"])
def test_arithmetic_overflow_is_reported_as_overflow(
    db: Backend, ddb: Any, table: str, update: str
) -> None:
    db.put({**KEY, "n": {"N": "9.9999999999999999999999999999999999999E+125"}})
    with raises(
        "ValidationException",
        "Number overflow. Attempting to store a number with magnitude larger than supported range",
    ):
        ddb.update_item(
            TableName="tbl",
            Key=KEY,
            UpdateExpression=update,
            ExpressionAttributeValues={":v": {"N": "9E+125"}},
        )


# ----------------------------------------------------------------------------- transactions


@pytest.mark.moto_differs("transaction-reasons")
def test_actions_after_a_validation_error_are_reported_none(
    db: Backend, ddb: Any, table: str
) -> None:
    db.put({**KEY, "n": {"N": "1"}})
    other = {"PK": {"S": "q"}, "SK": {"S": "s"}}
    with raises(
        "TransactionCanceledException",
        "Transaction cancelled, please refer cancellation reasons for specific reasons "
        "[ConditionalCheckFailed, ValidationError, None]",
    ) as info:
        ddb.transact_write_items(
            TransactItems=[
                {
                    "ConditionCheck": {
                        "TableName": "tbl",
                        "Key": KEY,
                        "ConditionExpression": "attribute_not_exists(PK)",
                    }
                },
                {"Put": {"TableName": "tbl", "Item": {"PK": {"N": "1"}, "SK": {"S": "s"}}}},
                {
                    "Update": {
                        "TableName": "tbl",
                        "Key": other,
                        "UpdateExpression": "SET m = m + :one",
                        "ExpressionAttributeValues": {":one": {"N": "1"}},
                    }
                },
            ]
        )
    reasons = info.response["CancellationReasons"]
    assert [reason["Code"] for reason in reasons] == [
        "ConditionalCheckFailed",
        "ValidationError",
        "None",
    ]
    assert "Message" not in reasons[2]


# ----------------------------------------------------------------------------- nesting


@pytest.mark.moto_differs("nesting")
def test_an_item_nested_too_deep_gets_the_full_message(ddb: Any, table: str) -> None:
    value: dict[str, Any] = {"S": "leaf"}
    for _ in range(33):
        value = {"L": [value]}
    with raises(
        "ValidationException",
        "Nesting Levels have exceeded supported limits: Attributes in the item have nested "
        "levels beyond supported limit",
    ):
        ddb.put_item(TableName="tbl", Item={**KEY, "deep": value})


# ----------------------------------------------------------------------------- parallel scan


@pytest.mark.moto_differs("segment-start-key")
def test_a_start_key_outside_the_segment_is_refused(db: Backend, ddb: Any, table: str) -> None:
    db.put(*({"PK": {"S": f"p{i}"}, "SK": {"S": "s"}} for i in range(20)))
    second = ddb.scan(TableName="tbl", Segment=1, TotalSegments=2)["Items"]
    assert second
    with raises(
        "ValidationException",
        "The provided starting key is invalid: Invalid ExclusiveStartKey. Please use "
        "ExclusiveStartKey with correct Segment. TotalSegments: 2 Segment: 0",
    ):
        ddb.scan(
            TableName="tbl",
            Segment=0,
            TotalSegments=2,
            ExclusiveStartKey={"PK": second[0]["PK"], "SK": second[0]["SK"]},
        )
    # A start key of the segment itself resumes it.
    page = ddb.scan(TableName="tbl", Segment=1, TotalSegments=2, Limit=1)
    rest = ddb.scan(
        TableName="tbl", Segment=1, TotalSegments=2, ExclusiveStartKey=page["LastEvaluatedKey"]
    )
    assert page["Count"] + rest["Count"] == len(second)
