"""Global tables, version 2019.11.21: replicas made and removed with UpdateTable
``ReplicaUpdates``, asynchronous replication between them, their streams, and the
legacy (2017.11.29) API.

Behaviour and texts as the live service shows them: ack-api-quirks' lab findings
("Table replicas", DDB-TABLE-203/222/224/231) and ScyllaDB's Alternator suite run
against DynamoDB (``test/alternator/test_global_tables.py``). Replication is
asynchronous: a test polls the other region until the write arrives (the local
engine's default delay is 20 ms).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any, TypeVar

import boto3
import pytest
from ddbtest import REGION, Backend, raises

OTHER = "eu-west-1"
THIRD = "ap-south-1"
KEY = {"PK": {"S": "p"}, "SK": {"S": "a"}}
T = TypeVar("T")

MOTO_DIFFERENCES = {
    "replication": "moto reports no GlobalTableVersion and does not replicate writes "
    "between regions.",
    "replica-errors": "moto does not refuse replica updates as DynamoDB does.",
    "legacy": "moto does not implement CreateGlobalTable (NotImplementedError).",
    "auto-scaling": "moto does not implement DescribeTableReplicaAutoScaling.",
}


def eventually(probe: Callable[[], T | None], timeout: float = 5.0) -> T:
    """Call ``probe`` until it returns something other than None (or fail)."""
    deadline = time.monotonic() + timeout
    while True:
        value = probe()
        if value is not None:
            return value
        if time.monotonic() > deadline:
            raise AssertionError("replication did not happen in time")
        time.sleep(0.01)


@pytest.fixture
def eu(db: Backend) -> Any:
    return boto3.client("dynamodb", region_name=OTHER)


def _global_table(db: Backend, eu: Any, **extra: Any) -> None:
    """Table ``tbl`` in the home region with a replica in OTHER, ACTIVE."""
    db.create_table(**extra)
    db.client.update_table(TableName="tbl", ReplicaUpdates=[{"Create": {"RegionName": OTHER}}])
    eventually(lambda: _status(db.client, OTHER) == "ACTIVE" or None)


def _status(client: Any, region: str) -> str | None:
    table = client.describe_table(TableName="tbl")["Table"]
    for replica in table.get("Replicas", []):
        if replica["RegionName"] == region:
            return str(replica["ReplicaStatus"])
    return None


def _get(client: Any, key: dict[str, Any] = KEY) -> dict[str, Any] | None:
    item: dict[str, Any] | None = client.get_item(TableName="tbl", Key=key).get("Item")
    return item


def test_a_regional_table_has_no_global_fields(db: Backend) -> None:
    db.create_table()
    table = db.client.describe_table(TableName="tbl")["Table"]
    assert "Replicas" not in table
    assert "GlobalTableVersion" not in table


@pytest.mark.moto_differs("replication")
def test_a_replica_has_the_tables_schema_indexes_stream_and_items(db: Backend, eu: Any) -> None:
    gsi = {
        "IndexName": "byG",
        "KeySchema": [{"AttributeName": "G", "KeyType": "HASH"}],
        "Projection": {"ProjectionType": "ALL"},
    }
    db.client.create_table(
        TableName="tbl",
        KeySchema=[
            {"AttributeName": "PK", "KeyType": "HASH"},
            {"AttributeName": "SK", "KeyType": "RANGE"},
        ],
        AttributeDefinitions=[
            {"AttributeName": n, "AttributeType": "S"} for n in ("PK", "SK", "G")
        ],
        GlobalSecondaryIndexes=[gsi],
        BillingMode="PAY_PER_REQUEST",
    )
    db.put({**KEY, "G": {"S": "g1"}})
    response = db.client.update_table(
        TableName="tbl", ReplicaUpdates=[{"Create": {"RegionName": OTHER}}]
    )["TableDescription"]
    assert response["GlobalTableVersion"] == "2019.11.21"
    assert [r["RegionName"] for r in response["Replicas"]] == [OTHER]
    eventually(lambda: _status(db.client, OTHER) == "ACTIVE" or None)

    home = db.client.describe_table(TableName="tbl")["Table"]
    replica = eu.describe_table(TableName="tbl")["Table"]
    # No stream was asked for: DynamoDB enables NEW_AND_OLD_IMAGES itself, in each region.
    for table in (home, replica):
        assert table["StreamSpecification"] == {
            "StreamEnabled": True,
            "StreamViewType": "NEW_AND_OLD_IMAGES",
        }
        assert table["GlobalTableVersion"] == "2019.11.21"
    assert home["Replicas"] == [{"RegionName": OTHER, "ReplicaStatus": "ACTIVE"}]
    assert replica["Replicas"] == [{"RegionName": REGION, "ReplicaStatus": "ACTIVE"}]
    assert replica["TableArn"] == home["TableArn"].replace(f":{REGION}:", f":{OTHER}:")
    assert replica["LatestStreamArn"] != home["LatestStreamArn"]
    assert replica["KeySchema"] == home["KeySchema"]
    assert [i["IndexName"] for i in replica["GlobalSecondaryIndexes"]] == ["byG"]
    assert _get(eu) == {**KEY, "G": {"S": "g1"}}  # the items the table held
    found = eu.query(
        TableName="tbl",
        IndexName="byG",
        KeyConditionExpression="G = :g",
        ExpressionAttributeValues={":g": {"S": "g1"}},
    )
    assert found["Count"] == 1


@pytest.mark.moto_differs("replication")
def test_writes_replicate_both_ways(db: Backend, eu: Any) -> None:
    _global_table(db, eu)
    db.put({**KEY, "v": {"S": "from-us"}})
    eventually(lambda: _get(eu))
    assert _get(eu) == {**KEY, "v": {"S": "from-us"}}
    eu.update_item(
        TableName="tbl",
        Key=KEY,
        UpdateExpression="SET v = :v",
        ExpressionAttributeValues={":v": {"S": "from-eu"}},
    )
    eventually(lambda: (_get(db.client) or {}).get("v") == {"S": "from-eu"} or None)
    db.client.delete_item(TableName="tbl", Key=KEY)
    eventually(lambda: _get(eu) is None or None)


@pytest.mark.moto_differs("replication")
def test_replicated_writes_appear_in_the_replica_stream(db: Backend, eu: Any) -> None:
    _global_table(db, eu)
    arn = eu.describe_table(TableName="tbl")["Table"]["LatestStreamArn"]
    streams = boto3.client("dynamodbstreams", region_name=OTHER)
    shard = streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"][0]["ShardId"]
    iterator = streams.get_shard_iterator(
        StreamArn=arn, ShardId=shard, ShardIteratorType="TRIM_HORIZON"
    )["ShardIterator"]
    db.put({**KEY, "v": {"S": "1"}})
    records = eventually(lambda: streams.get_records(ShardIterator=iterator)["Records"] or None)
    assert [r["eventName"] for r in records] == ["INSERT"]
    assert records[0]["dynamodb"]["NewImage"] == {**KEY, "v": {"S": "1"}}
    assert records[0]["awsRegion"] == OTHER
    assert "userIdentity" not in records[0]


@pytest.mark.moto_differs("replica-errors")
def test_replica_updates_refused_as_dynamodb_refuses_them(db: Backend, eu: Any) -> None:
    db.create_table()
    update = db.client.update_table
    with raises(
        "ValidationException",
        "Cannot add or delete the local region through ReplicaUpdates. Use CreateTable, "
        "DeleteTable, or UpdateTable as required.",
    ):
        update(TableName="tbl", ReplicaUpdates=[{"Create": {"RegionName": REGION}}])
    with raises(
        "ValidationException",
        "Update table operation with more than one create or delete replica actions not allowed",
    ):
        update(
            TableName="tbl",
            ReplicaUpdates=[
                {"Create": {"RegionName": OTHER}},
                {"Create": {"RegionName": THIRD}},
            ],
        )
    with raises(
        "ValidationException",
        "Update table operation with more than one type of replica actions not allowed.",
    ):
        update(
            TableName="tbl",
            ReplicaUpdates=[
                {"Create": {"RegionName": OTHER}},
                {"Delete": {"RegionName": THIRD}},
            ],
        )
    with raises(
        "ValidationException",
        "Update global table operation failed because one or more replicas were not part of "
        f"the global table. Please retry the request without these replicas: [{THIRD}].",
    ):
        update(TableName="tbl", ReplicaUpdates=[{"Delete": {"RegionName": THIRD}}])
    with raises(
        "ValidationException",
        "There are no actions specified in the Replica Update Action of the request.",
    ):
        update(TableName="tbl", ReplicaUpdates=[{"Update": {"RegionName": OTHER}}])
    # A table of that name in the target region is not adopted.
    eu.create_table(
        TableName="tbl",
        KeySchema=[{"AttributeName": "PK", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "PK", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    with raises(
        "ValidationException",
        "Failed to create a the new replica of table with name: 'tbl' because one or more "
        "replicas already existed as tables.",
    ):
        update(TableName="tbl", ReplicaUpdates=[{"Create": {"RegionName": OTHER}}])
    assert "Replicas" not in db.client.describe_table(TableName="tbl")["Table"]


@pytest.mark.moto_differs("replica-errors")
def test_a_replica_added_twice_already_exists(db: Backend, eu: Any) -> None:
    _global_table(db, eu)
    with raises(
        "ValidationException",
        "Failed to create a the new replica of table with name: 'tbl' because one or more "
        "replicas already existed as tables.",
    ):
        db.client.update_table(TableName="tbl", ReplicaUpdates=[{"Create": {"RegionName": OTHER}}])


@pytest.mark.moto_differs("replication")
def test_a_global_tables_stream_cannot_be_disabled(db: Backend, eu: Any) -> None:
    _global_table(db, eu)
    for client in (db.client, eu):
        with raises(
            "ValidationException",
            "One or more parameter values were invalid: Disabling Stream is not allowed for a "
            "Global Table replica.",
        ):
            client.update_table(TableName="tbl", StreamSpecification={"StreamEnabled": False})
    with raises("ValidationException", "Table already has an enabled stream: TableName: tbl"):
        db.client.update_table(
            TableName="tbl",
            StreamSpecification={"StreamEnabled": True, "StreamViewType": "KEYS_ONLY"},
        )


@pytest.mark.moto_differs("replication")
def test_deleting_the_replica_makes_the_table_regional_again(db: Backend, eu: Any) -> None:
    _global_table(db, eu)
    db.client.update_table(TableName="tbl", ReplicaUpdates=[{"Delete": {"RegionName": OTHER}}])
    with raises("ResourceNotFoundException", "Requested resource not found: Table: tbl not found"):
        eu.describe_table(TableName="tbl")
    table = db.client.describe_table(TableName="tbl")["Table"]
    assert "Replicas" not in table and "GlobalTableVersion" not in table
    # The stream DynamoDB enabled stays, and may now be disabled.
    assert table["StreamSpecification"]["StreamViewType"] == "NEW_AND_OLD_IMAGES"
    db.client.update_table(TableName="tbl", StreamSpecification={"StreamEnabled": False})
    db.put({**KEY, "v": {"S": "after"}})
    assert db.engine is None or db.engine.pending_replication() == 0


@pytest.mark.moto_differs("replication")
def test_delete_table_in_a_replica_region_leaves_the_others(db: Backend, eu: Any) -> None:
    _global_table(db, eu)
    db.client.update_table(TableName="tbl", ReplicaUpdates=[{"Create": {"RegionName": THIRD}}])
    eventually(lambda: _status(db.client, THIRD) == "ACTIVE" or None)
    third = boto3.client("dynamodb", region_name=THIRD)
    eu.delete_table(TableName="tbl")
    home = db.client.describe_table(TableName="tbl")["Table"]
    assert home["Replicas"] == [{"RegionName": THIRD, "ReplicaStatus": "ACTIVE"}]
    db.put({**KEY, "v": {"S": "still"}})
    eventually(lambda: _get(third))


@pytest.mark.moto_differs("legacy")
def test_the_legacy_global_tables_api_is_refused(db: Backend) -> None:
    db.create_table()
    with raises(
        "ValidationException",
        "DynamoDB global tables version 2017.11.29 is not supported. We recommend using "
        "DynamoDB global tables version 2019.11.21, instead of version 2017.11.29 (Legacy).",
    ):
        db.client.create_global_table(
            GlobalTableName="tbl", ReplicationGroup=[{"RegionName": OTHER}]
        )
    with raises("GlobalTableNotFoundException", "Global table with name 'tbl' does not exist."):
        db.client.describe_global_table(GlobalTableName="tbl")
    assert db.client.list_global_tables()["GlobalTables"] == []


@pytest.mark.moto_differs("auto-scaling")
def test_replica_auto_scaling_of_a_regional_table_is_not_found(db: Backend) -> None:
    db.create_table()
    with raises("ResourceNotFoundException", "Global table with name: tbl does not exist."):
        db.client.describe_table_replica_auto_scaling(TableName="tbl")
