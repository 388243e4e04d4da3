"""Regions: each region has its own tables, streams, backups and ARNs.

DynamoDB is a regional service (Developer Guide, "Global tables": "tables are
regional resources"): a table made in us-east-1 is not seen from eu-west-1, and the
same name can be used in both for two unrelated tables. Under ``local_dynamodb()``
the region is the client's; over HTTP, the region of the request's SigV4
credential scope.
"""

from __future__ import annotations

from typing import Any

import boto3
import pytest
from ddbtest import REGION, Backend, raises

OTHER = "eu-west-1"

MOTO_DIFFERENCES = {
    "index-arn": "moto's DescribeTable has no IndexArn on global secondary indexes.",
    "tag-errors": "moto answers ResourceNotFoundException without DynamoDB's message.",
}


@pytest.fixture
def eu(db: Backend) -> Any:
    """A client of the same backend in another region."""
    return boto3.client("dynamodb", region_name=OTHER)


def _item(pk: str, value: str) -> dict[str, Any]:
    return {"PK": {"S": pk}, "SK": {"S": "a"}, "v": {"S": value}}


def test_a_table_is_seen_only_in_its_region(db: Backend, eu: Any) -> None:
    db.create_table("orders")
    assert db.client.list_tables()["TableNames"] == ["orders"]
    assert eu.list_tables()["TableNames"] == []
    with raises(
        "ResourceNotFoundException", "Requested resource not found: Table: orders not found"
    ):
        eu.describe_table(TableName="orders")
    with raises("ResourceNotFoundException", "Requested resource not found"):
        eu.get_item(TableName="orders", Key={"PK": {"S": "p"}, "SK": {"S": "a"}})


def test_the_same_name_in_two_regions_is_two_tables(db: Backend, eu: Any) -> None:
    db.create_table("orders")
    eu.create_table(
        TableName="orders",
        KeySchema=[
            {"AttributeName": "PK", "KeyType": "HASH"},
            {"AttributeName": "SK", "KeyType": "RANGE"},
        ],
        AttributeDefinitions=[
            {"AttributeName": "PK", "AttributeType": "S"},
            {"AttributeName": "SK", "AttributeType": "S"},
        ],
        BillingMode="PAY_PER_REQUEST",
    )
    db.put(_item("p", "us"), table="orders")
    eu.put_item(TableName="orders", Item=_item("p", "eu"))
    key = {"PK": {"S": "p"}, "SK": {"S": "a"}}
    assert db.get(key, table="orders") == _item("p", "us")
    assert eu.get_item(TableName="orders", Key=key, ConsistentRead=True)["Item"] == _item("p", "eu")
    eu.delete_table(TableName="orders")
    assert db.get(key, table="orders") == _item("p", "us")  # the other region's table stays


@pytest.mark.moto_differs("index-arn")
def test_arns_carry_the_region(db: Backend, eu: Any) -> None:
    eu.create_table(
        TableName="orders",
        KeySchema=[{"AttributeName": "PK", "KeyType": "HASH"}],
        AttributeDefinitions=[
            {"AttributeName": "PK", "AttributeType": "S"},
            {"AttributeName": "G", "AttributeType": "S"},
        ],
        GlobalSecondaryIndexes=[
            {
                "IndexName": "byG",
                "KeySchema": [{"AttributeName": "G", "KeyType": "HASH"}],
                "Projection": {"ProjectionType": "ALL"},
            }
        ],
        StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_IMAGE"},
        BillingMode="PAY_PER_REQUEST",
    )
    table = eu.describe_table(TableName="orders")["Table"]
    prefix = f"arn:aws:dynamodb:{OTHER}:"
    assert table["TableArn"].startswith(prefix)
    assert table["TableArn"].endswith(":table/orders")
    assert table["LatestStreamArn"].startswith(prefix + table["TableArn"].split(":")[4])
    assert table["GlobalSecondaryIndexes"][0]["IndexArn"] == table["TableArn"] + "/index/byG"
    streams = boto3.client("dynamodbstreams", region_name=OTHER).list_streams()["Streams"]
    assert [s["StreamArn"] for s in streams] == [table["LatestStreamArn"]]
    home = boto3.client("dynamodbstreams", region_name=REGION).list_streams()["Streams"]
    assert home == []


@pytest.mark.moto_differs("tag-errors")
def test_a_table_arn_of_another_region_is_not_found(db: Backend, eu: Any) -> None:
    db.create_table("orders")
    arn = db.client.describe_table(TableName="orders")["Table"]["TableArn"]
    db.client.tag_resource(ResourceArn=arn, Tags=[{"Key": "team", "Value": "a"}])
    eu_arn = arn.replace(f":{REGION}:", f":{OTHER}:")
    with raises(
        "ResourceNotFoundException", f"Requested resource not found: ResourcArn: {eu_arn} not found"
    ):
        eu.list_tags_of_resource(ResourceArn=eu_arn)
    assert db.client.list_tags_of_resource(ResourceArn=arn)["Tags"] == [
        {"Key": "team", "Value": "a"}
    ]


def test_backups_belong_to_their_region(db: Backend, eu: Any) -> None:
    db.create_table("orders")
    backup = db.client.create_backup(TableName="orders", BackupName="first")["BackupDetails"]
    assert f":{REGION}:" in backup["BackupArn"]
    assert [b["BackupName"] for b in db.client.list_backups()["BackupSummaries"]] == ["first"]
    assert eu.list_backups()["BackupSummaries"] == []
