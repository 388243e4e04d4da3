"""Table operations: attribute-name limits, definitions, GSI updates, DeleteTable's answer.

- Key, attribute-definition and projected attribute names are 1 to 255 bytes,
  checked with the other member constraints, before any rule on how the key
  schema, definitions and indexes fit together (Developer Guide, "Naming rules";
  scylladb's alternator test_limits.py, run against DynamoDB, shows the length is
  reported even when the names are also incoherent).
- An attribute defined twice: "Attribute Name is duplicated: x" (scylladb#13870).
- GlobalSecondaryIndexUpdates: an empty list asks for nothing; an entry with no
  action, or two actions on one index, are refused (texts recorded by dynalite).
- DeleteTable describes the table without its schema, creation time or indexes
  (API Reference, DeleteTable, "Examples").
"""

from __future__ import annotations

from typing import Any

import boto3
import pytest
from botocore.config import Config
from ddbtest import REGION, Backend, raises

MOTO_DIFFERENCES = {
    "name-limits": "moto accepts key and projected attribute names over 255 bytes (or words "
    "the error differently); DynamoDB refuses them with the member-constraint message.",
    "definitions": "moto accepts an attribute defined twice, or a null AttributeName, or words "
    "the error differently; DynamoDB refuses them as asserted here.",
    "gsi-updates": "moto accepts GlobalSecondaryIndexUpdates=[] and [{}] (or answers other "
    "texts); DynamoDB treats [] as no update and refuses an entry without an action.",
    "delete-description": "moto's DeleteTable answers the whole TableDescription; DynamoDB "
    "leaves out the schema, creation time and indexes.",
}

PPR = {"BillingMode": "PAY_PER_REQUEST"}
LONG = "n" * 256
TOO_LONG = "Member must have length less than or equal to 255"


def _constraint(member: str, value: str, constraint: str) -> str:
    return (
        f"1 validation error detected: Value '{value}' at '{member}' failed to satisfy "
        f"constraint: {constraint}"
    )


@pytest.fixture
def raw(db: Backend) -> Any:
    """A client that sends what boto3 would refuse on the client side."""
    return boto3.client("dynamodb", region_name=REGION, config=Config(parameter_validation=False))


@pytest.mark.moto_differs("name-limits")
def test_a_key_name_over_255_bytes_is_refused(ddb: Any) -> None:
    with raises(
        "ValidationException", _constraint("keySchema.1.member.attributeName", LONG, TOO_LONG)
    ):
        ddb.create_table(
            TableName="tbl2",
            KeySchema=[{"AttributeName": LONG, "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": "short", "AttributeType": "S"}],
            **PPR,
        )


@pytest.mark.moto_differs("name-limits")
def test_a_definition_name_over_255_bytes_is_refused(ddb: Any) -> None:
    # The KeySchema names an attribute with no definition: the length is reported first.
    with raises(
        "ValidationException",
        _constraint("attributeDefinitions.1.member.attributeName", LONG, TOO_LONG),
    ):
        ddb.create_table(
            TableName="tbl2",
            KeySchema=[{"AttributeName": "short", "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": LONG, "AttributeType": "S"}],
            **PPR,
        )


def test_names_of_255_bytes_are_fine(db: Backend, ddb: Any) -> None:
    name = "é" * 127 + "x"  # 255 bytes in UTF-8
    db.create_table("tbl2", pk=(name, "S"), sk=None)
    ddb.put_item(TableName="tbl2", Item={name: {"S": "v"}})
    assert ddb.get_item(TableName="tbl2", Key={name: {"S": "v"}})["Item"] == {name: {"S": "v"}}


@pytest.mark.moto_differs("name-limits")
def test_an_index_key_name_over_255_bytes_is_refused(ddb: Any) -> None:
    with raises(
        "ValidationException",
        _constraint(
            "globalSecondaryIndexes.1.member.keySchema.1.member.attributeName", LONG, TOO_LONG
        ),
    ):
        ddb.create_table(
            TableName="tbl2",
            KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
            AttributeDefinitions=[
                {"AttributeName": "pk", "AttributeType": "S"},
                {"AttributeName": "g", "AttributeType": "S"},
            ],
            GlobalSecondaryIndexes=[
                {
                    "IndexName": "gsi",
                    "KeySchema": [{"AttributeName": LONG, "KeyType": "HASH"}],
                    "Projection": {"ProjectionType": "ALL"},
                }
            ],
            **PPR,
        )


@pytest.mark.moto_differs("name-limits")
def test_a_projected_name_over_255_bytes_is_refused(ddb: Any) -> None:
    with raises(
        "ValidationException",
        _constraint(
            "globalSecondaryIndexes.1.member.projection.nonKeyAttributes.2.member", LONG, TOO_LONG
        ),
    ):
        ddb.create_table(
            TableName="tbl2",
            KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
            AttributeDefinitions=[
                {"AttributeName": "pk", "AttributeType": "S"},
                {"AttributeName": "g", "AttributeType": "S"},
            ],
            GlobalSecondaryIndexes=[
                {
                    "IndexName": "gsi",
                    "KeySchema": [{"AttributeName": "g", "KeyType": "HASH"}],
                    "Projection": {"ProjectionType": "INCLUDE", "NonKeyAttributes": ["a", LONG]},
                }
            ],
            **PPR,
        )


@pytest.mark.moto_differs("name-limits")
def test_an_empty_key_name_is_refused(raw: Any) -> None:
    with raises(
        "ValidationException",
        _constraint(
            "keySchema.1.member.attributeName",
            "",
            "Member must have length greater than or equal to 1",
        ),
    ):
        raw.create_table(
            TableName="tbl2",
            KeySchema=[{"AttributeName": "", "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
            **PPR,
        )


@pytest.mark.moto_differs("name-limits")
def test_non_string_non_key_attributes_are_a_serialization_error(raw: Any) -> None:
    with pytest.raises(Exception) as caught:
        raw.create_table(
            TableName="tbl2",
            KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
            AttributeDefinitions=[
                {"AttributeName": "pk", "AttributeType": "S"},
                {"AttributeName": "g", "AttributeType": "S"},
            ],
            GlobalSecondaryIndexes=[
                {
                    "IndexName": "gsi",
                    "KeySchema": [{"AttributeName": "g", "KeyType": "HASH"}],
                    "Projection": {"ProjectionType": "INCLUDE", "NonKeyAttributes": [5]},
                }
            ],
            **PPR,
        )
    assert getattr(caught.value, "response", {}).get("Error", {}).get("Code") == (
        "SerializationException"
    )


@pytest.mark.moto_differs("definitions")
def test_an_attribute_defined_twice_is_refused(ddb: Any) -> None:
    with raises("ValidationException", "Attribute Name is duplicated: pk"):
        ddb.create_table(
            TableName="tbl2",
            KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
            AttributeDefinitions=[
                {"AttributeName": "pk", "AttributeType": "S"},
                {"AttributeName": "pk", "AttributeType": "N"},
            ],
            **PPR,
        )


@pytest.mark.moto_differs("definitions")
def test_a_null_attribute_name_is_refused(raw: Any) -> None:
    with raises(
        "ValidationException",
        "1 validation error detected: Value null at 'attributeDefinitions.1.member.attributeName' "
        "failed to satisfy constraint: Member must not be null",
    ):
        raw.create_table(
            TableName="tbl2",
            KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeType": "S"}],
            **PPR,
        )


# ----------------------------------------------------------------------------- UpdateTable


@pytest.mark.moto_differs("gsi-updates")
def test_empty_gsi_updates_ask_for_nothing(raw: Any, db: Backend) -> None:
    db.create_table("tbl2", sk=None)
    with raises(
        "ValidationException",
        "At least one of ProvisionedThroughput, BillingMode, UpdateStreamEnabled, "
        "GlobalSecondaryIndexUpdates or SSESpecification or ReplicaUpdates is required",
    ):
        raw.update_table(TableName="tbl2", GlobalSecondaryIndexUpdates=[])


@pytest.mark.moto_differs("gsi-updates")
def test_a_gsi_update_without_an_action_is_refused(raw: Any, db: Backend) -> None:
    db.create_table("tbl2", sk=None)
    with raises(
        "ValidationException",
        "One or more parameter values were invalid: One of GlobalSecondaryIndexUpdate.Update, "
        "GlobalSecondaryIndexUpdate.Create, GlobalSecondaryIndexUpdate.Delete must not be null",
    ):
        raw.update_table(TableName="tbl2", GlobalSecondaryIndexUpdates=[{}])


@pytest.mark.moto_differs("gsi-updates")
def test_two_updates_of_one_index_are_refused(ddb: Any, db: Backend) -> None:
    db.create_table(
        "tbl2",
        sk=None,
        AttributeDefinitions=[
            {"AttributeName": "PK", "AttributeType": "S"},
            {"AttributeName": "g", "AttributeType": "S"},
        ],
        GlobalSecondaryIndexes=[
            {
                "IndexName": "gsi",
                "KeySchema": [{"AttributeName": "g", "KeyType": "HASH"}],
                "Projection": {"ProjectionType": "ALL"},
            }
        ],
    )
    with raises(
        "ValidationException",
        "One or more parameter values were invalid: Only one global secondary index update per "
        "index is allowed simultaneously. Index: gsi",
    ):
        ddb.update_table(
            TableName="tbl2",
            GlobalSecondaryIndexUpdates=[{"Delete": {"IndexName": "gsi"}}] * 2,
        )


# ----------------------------------------------------------------------------- DeleteTable


@pytest.mark.moto_differs("delete-description")
def test_delete_table_describes_only_what_dynamodb_does(db: Backend, ddb: Any) -> None:
    db.create_table(
        "tbl2",
        AttributeDefinitions=[
            {"AttributeName": "PK", "AttributeType": "S"},
            {"AttributeName": "SK", "AttributeType": "S"},
            {"AttributeName": "g", "AttributeType": "S"},
        ],
        GlobalSecondaryIndexes=[
            {
                "IndexName": "gsi",
                "KeySchema": [{"AttributeName": "g", "KeyType": "HASH"}],
                "Projection": {"ProjectionType": "ALL"},
            }
        ],
    )
    db.put({"PK": {"S": "p"}, "SK": {"S": "s"}}, table="tbl2")
    description = ddb.delete_table(TableName="tbl2")["TableDescription"]
    for absent in (
        "KeySchema",
        "AttributeDefinitions",
        "CreationDateTime",
        "GlobalSecondaryIndexes",
        "LocalSecondaryIndexes",
    ):
        assert absent not in description
    assert description["TableName"] == "tbl2"
    assert description["TableStatus"] == "DELETING"
    assert description["ItemCount"] >= 0 and description["TableSizeBytes"] >= 0
    assert description["TableArn"].endswith(":table/tbl2")
    assert description["ProvisionedThroughput"]["ReadCapacityUnits"] == 0
    assert description["BillingModeSummary"]["BillingMode"] == "PAY_PER_REQUEST"
