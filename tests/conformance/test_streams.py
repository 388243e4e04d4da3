"""DynamoDB Streams: StreamSpecification on CreateTable/UpdateTable, the records, the Streams API.

Developer Guide, "Change data capture for DynamoDB Streams"; DynamoDB Streams API
Reference (ListStreams, DescribeStream, GetShardIterator, GetRecords). The
StreamSpecification messages were captured from the live service (a catalogue of
UpdateTable/CreateTable answers per request shape, 2026); "Requested resource not
found: Stream: <arn> not found" from a test run against the live service.
Retention, trimming and iterator expiry need the engine's clock: tests/engine/test_subscribe.py.
"""

from __future__ import annotations

import re
from typing import Any

import boto3
import pytest
from botocore.config import Config
from ddbtest import REGION, Backend, raises

MOTO_DIFFERENCES = {
    "stream-validation": "moto accepts StreamSpecification shapes DynamoDB rejects (enabled "
    "without a view type, disabled with one, enabling an enabled stream, disabling a disabled "
    "one) or answers with other texts.",
    "stream-disable": "moto drops LatestStreamArn/LatestStreamLabel when a stream is disabled "
    "and forgets the old stream; DynamoDB keeps them and the old stream stays readable "
    "(DISABLED) for 24 hours.",
    "no-change-record": "moto writes a MODIFY record for a PutItem/UpdateItem that changes "
    "nothing; DynamoDB writes none ('If you perform a PutItem or UpdateItem operation that does "
    "not change any data in an item, DynamoDB Streams does not write a stream record').",
    "record-shape": "moto's records differ in details (SizeBytes, StreamViewType and images of "
    "some view types, eventVersion, sequence number width).",
    "list-streams-paging": "moto ignores ListStreams' Limit and ExclusiveStartStreamArn.",
    "get-records-limit": "moto accepts a GetRecords Limit above 1000.",
    "streams-errors": "moto raises Python errors (500) for unknown stream ARNs and shards; "
    "DynamoDB answers ResourceNotFoundException.",
    "stream-label": "moto's stream labels carry microseconds; DynamoDB's milliseconds "
    "('2015-05-11T21:21:33.291', DescribeTable LatestStreamLabel).",
    "table-deleted": "moto forgets a deleted table's stream; DynamoDB keeps it readable, "
    "DISABLED, for 24 hours.",
}

LABEL = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}")
KEYS = {"PK": {"S": "a"}, "SK": {"S": "1"}}


@pytest.fixture
def streams(db: Backend) -> Any:
    """A DynamoDB Streams client on the same backend.

    On moto the classic endpoint is given explicitly: botocore 1.44 resolves
    account-based endpoints (``<account>.streams-ddb.<region>.amazonaws.com``) that
    moto 5.2.5 does not intercept. The local routing does not depend on the host.
    """
    if db.name == "moto":
        return boto3.client(
            "dynamodbstreams",
            region_name=REGION,
            endpoint_url=f"https://streams.dynamodb.{REGION}.amazonaws.com",
        )
    return boto3.client("dynamodbstreams", region_name=REGION)


@pytest.fixture
def raw(db: Backend) -> Any:
    """A DynamoDB client without client-side parameter validation."""
    return boto3.client("dynamodb", region_name=REGION, config=Config(parameter_validation=False))


def _stream_table(db: Backend, view: str = "NEW_AND_OLD_IMAGES", name: str = "tbl") -> str:
    db.create_table(name, StreamSpecification={"StreamEnabled": True, "StreamViewType": view})
    arn: str = db.client.describe_table(TableName=name)["Table"]["LatestStreamArn"]
    return arn


def _read_all(streams: Any, arn: str, kind: str = "TRIM_HORIZON", **extra: Any) -> list[Any]:
    shard = streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"][0]["ShardId"]
    iterator = streams.get_shard_iterator(
        StreamArn=arn, ShardId=shard, ShardIteratorType=kind, **extra
    )["ShardIterator"]
    records: list[Any] = []
    for _ in range(100):
        page = streams.get_records(ShardIterator=iterator)
        records.extend(page["Records"])
        iterator = page.get("NextShardIterator")
        if not page["Records"] or iterator is None:
            break
    return records


# --------------------------------------------------------------------------- StreamSpecification


@pytest.mark.moto_differs("stream-label")
def test_create_table_with_stream_describes_it(db: Backend, ddb: Any) -> None:
    created = ddb.create_table(
        TableName="tbl",
        KeySchema=[{"AttributeName": "PK", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "PK", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
        StreamSpecification={"StreamEnabled": True, "StreamViewType": "KEYS_ONLY"},
    )["TableDescription"]
    table = ddb.describe_table(TableName="tbl")["Table"]
    for description in (created, table):
        assert description["StreamSpecification"] == {
            "StreamEnabled": True,
            "StreamViewType": "KEYS_ONLY",
        }
        assert LABEL.fullmatch(description["LatestStreamLabel"])
        assert description["LatestStreamArn"] == (
            f"{description['TableArn']}/stream/{description['LatestStreamLabel']}"
        )


def test_table_without_stream_has_no_stream_members(db: Backend, ddb: Any) -> None:
    db.create_table()
    table = ddb.describe_table(TableName="tbl")["Table"]
    assert "StreamSpecification" not in table
    assert "LatestStreamArn" not in table


def test_create_table_with_disabled_stream_has_none(db: Backend, ddb: Any) -> None:
    db.create_table(StreamSpecification={"StreamEnabled": False})
    table = ddb.describe_table(TableName="tbl")["Table"]
    assert "LatestStreamArn" not in table
    assert table.get("StreamSpecification", {}).get("StreamEnabled") in (None, False)


@pytest.mark.moto_differs("stream-validation")
@pytest.mark.parametrize(
    ("spec", "message"),
    [
        (
            {"StreamEnabled": True},
            "One or more parameter values were invalid: Table is being created with a stream "
            "enabled, UpdateViewType is required",
        ),
        (
            {"StreamEnabled": False, "StreamViewType": "NEW_IMAGE"},
            "One or more parameter values were invalid: Table is being created with a stream "
            "disabled, UpdateViewType should not be specified",
        ),
        (
            {"StreamViewType": "NEW_IMAGE"},
            "1 validation error detected: Value null at 'streamSpecification.streamEnabled' "
            "failed to satisfy constraint: Member must not be null",
        ),
        (
            {"StreamEnabled": True, "StreamViewType": "new_image"},
            "1 validation error detected: Value 'new_image' at "
            "'streamSpecification.streamViewType' failed to satisfy constraint: Member must "
            "satisfy enum value set: [OLD_IMAGE, KEYS_ONLY, NEW_AND_OLD_IMAGES, NEW_IMAGE]",
        ),
    ],
)
def test_create_table_stream_validation(
    db: Backend, raw: Any, spec: dict[str, Any], message: str
) -> None:
    with raises("ValidationException", message):
        raw.create_table(
            TableName="tbl",
            KeySchema=[{"AttributeName": "PK", "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": "PK", "AttributeType": "S"}],
            BillingMode="PAY_PER_REQUEST",
            StreamSpecification=spec,
        )
    assert raw.list_tables()["TableNames"] == []


def test_update_table_enables_a_stream(db: Backend, ddb: Any) -> None:
    db.create_table()
    updated = ddb.update_table(
        TableName="tbl",
        StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_IMAGE"},
    )["TableDescription"]
    assert updated["StreamSpecification"] == {"StreamEnabled": True, "StreamViewType": "NEW_IMAGE"}
    assert updated["LatestStreamArn"].startswith(updated["TableArn"] + "/stream/")


@pytest.mark.moto_differs("stream-validation")
@pytest.mark.parametrize(
    ("enabled_first", "spec", "message"),
    [
        (
            True,
            {"StreamEnabled": True, "StreamViewType": "NEW_IMAGE"},
            "Table already has an enabled stream: TableName: tbl",
        ),
        (
            True,
            {"StreamEnabled": True, "StreamViewType": "KEYS_ONLY"},
            "Table already has an enabled stream: TableName: tbl",
        ),
        (
            True,
            {"StreamEnabled": True},
            "One or more parameter values were invalid: If stream is being enabled then "
            "UpdateViewType is required",
        ),
        (
            True,
            {"StreamEnabled": False, "StreamViewType": "KEYS_ONLY"},
            "One or more parameter values were invalid: If stream is being disabled, then "
            "UpdateViewType must not be specified",
        ),
        (False, {"StreamEnabled": False}, "Table has no stream to disable: TableName: tbl"),
    ],
)
def test_update_table_stream_validation(
    db: Backend, raw: Any, enabled_first: bool, spec: dict[str, Any], message: str
) -> None:
    extra = {"StreamSpecification": {"StreamEnabled": True, "StreamViewType": "NEW_IMAGE"}}
    db.create_table(**(extra if enabled_first else {}))
    before = raw.describe_table(TableName="tbl")["Table"]
    with raises("ValidationException", message):
        raw.update_table(TableName="tbl", StreamSpecification=spec)
    after = raw.describe_table(TableName="tbl")["Table"]
    assert after.get("LatestStreamArn") == before.get("LatestStreamArn")
    assert after.get("StreamSpecification") == before.get("StreamSpecification")


@pytest.mark.moto_differs("stream-validation")
def test_stream_change_cannot_come_with_a_throughput_change(db: Backend, raw: Any) -> None:
    raw.create_table(
        TableName="tbl",
        KeySchema=[{"AttributeName": "PK", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "PK", "AttributeType": "S"}],
        ProvisionedThroughput={"ReadCapacityUnits": 10, "WriteCapacityUnits": 10},
    )
    with raises(
        "ValidationException",
        "One or more parameter values were invalid: You cannot modify stream status while "
        "updating table IOPS",
    ):
        raw.update_table(
            TableName="tbl",
            ProvisionedThroughput={"ReadCapacityUnits": 11, "WriteCapacityUnits": 11},
            StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_IMAGE"},
        )
    table = raw.describe_table(TableName="tbl")["Table"]
    assert table["ProvisionedThroughput"]["ReadCapacityUnits"] == 10
    assert "LatestStreamArn" not in table


@pytest.mark.moto_differs("stream-disable")
def test_disable_keeps_latest_arn_and_reenable_makes_a_new_stream(
    db: Backend, ddb: Any, streams: Any
) -> None:
    first = _stream_table(db, "NEW_IMAGE")
    db.put({**KEYS, "v": {"N": "1"}})
    ddb.update_table(TableName="tbl", StreamSpecification={"StreamEnabled": False})
    table = ddb.describe_table(TableName="tbl")["Table"]
    assert "StreamSpecification" not in table
    assert table["LatestStreamArn"] == first
    old = streams.describe_stream(StreamArn=first)["StreamDescription"]
    assert old["StreamStatus"] == "DISABLED"
    assert "EndingSequenceNumber" in old["Shards"][0]["SequenceNumberRange"]
    assert [r["eventName"] for r in _read_all(streams, first)] == ["INSERT"]

    ddb.update_table(
        TableName="tbl",
        StreamSpecification={"StreamEnabled": True, "StreamViewType": "KEYS_ONLY"},
    )
    second = ddb.describe_table(TableName="tbl")["Table"]["LatestStreamArn"]
    assert second != first
    db.put({**KEYS, "v": {"N": "2"}})
    assert [r["eventName"] for r in _read_all(streams, second)] == ["MODIFY"]
    assert len(_read_all(streams, first)) == 1  # the old stream got nothing new
    assert {s["StreamArn"] for s in streams.list_streams(TableName="tbl")["Streams"]} == {
        first,
        second,
    }


# --------------------------------------------------------------------------- records


@pytest.mark.moto_differs("record-shape")
@pytest.mark.parametrize("view", ["KEYS_ONLY", "NEW_IMAGE", "OLD_IMAGE", "NEW_AND_OLD_IMAGES"])
def test_records_of_each_view_type(db: Backend, ddb: Any, streams: Any, view: str) -> None:
    arn = _stream_table(db, view)
    first = {**KEYS, "v": {"N": "1"}}
    second = {**KEYS, "v": {"N": "2"}, "w": {"SS": ["x"]}}
    db.put(first)
    db.put(second)
    ddb.delete_item(TableName="tbl", Key=KEYS)
    records = _read_all(streams, arn)
    assert [r["eventName"] for r in records] == ["INSERT", "MODIFY", "REMOVE"]
    images = {"NEW_IMAGE": "new", "OLD_IMAGE": "old", "NEW_AND_OLD_IMAGES": "both"}.get(view)
    expected_new = [first, second, None] if images in ("new", "both") else [None] * 3
    expected_old = [None, first, second] if images in ("old", "both") else [None] * 3
    for record, new, old in zip(records, expected_new, expected_old, strict=True):
        assert record["eventVersion"] == "1.1"
        assert record["eventSource"] == "aws:dynamodb"
        assert record["awsRegion"] == REGION
        assert "userIdentity" not in record
        body = record["dynamodb"]
        assert body["Keys"] == KEYS
        assert body.get("NewImage") == new
        assert body.get("OldImage") == old
        assert body["StreamViewType"] == view
        assert body["SizeBytes"] > 0
        assert re.fullmatch(r"\d{21,40}", body["SequenceNumber"])
        assert body["ApproximateCreationDateTime"].microsecond == 0  # whole seconds
    numbers = [int(r["dynamodb"]["SequenceNumber"]) for r in records]
    assert numbers == sorted(numbers) and len(set(numbers)) == 3
    assert len({r["eventID"] for r in records}) == 3


@pytest.mark.moto_differs("no-change-record")
def test_a_write_that_changes_nothing_writes_no_record(db: Backend, ddb: Any, streams: Any) -> None:
    arn = _stream_table(db)
    item = {**KEYS, "v": {"N": "1"}, "s": {"SS": ["a", "b"]}}
    db.put(item)
    db.put({**KEYS, "v": {"N": "1.0"}, "s": {"SS": ["b", "a"]}})  # the same item
    ddb.update_item(
        TableName="tbl",
        Key=KEYS,
        UpdateExpression="SET v = :v",
        ExpressionAttributeValues={":v": {"N": "1"}},
    )
    ddb.delete_item(TableName="tbl", Key={"PK": {"S": "missing"}, "SK": {"S": "1"}})
    assert [r["eventName"] for r in _read_all(streams, arn)] == ["INSERT"]


def test_batch_and_transaction_writes_write_one_record_per_item(
    db: Backend, ddb: Any, streams: Any
) -> None:
    arn = _stream_table(db, "KEYS_ONLY")
    ddb.batch_write_item(
        RequestItems={
            "tbl": [
                {"PutRequest": {"Item": {"PK": {"S": "b"}, "SK": {"S": str(n)}}}} for n in range(3)
            ]
        }
    )
    ddb.transact_write_items(
        TransactItems=[
            {"Put": {"TableName": "tbl", "Item": {"PK": {"S": "t"}, "SK": {"S": "1"}}}},
            {"Delete": {"TableName": "tbl", "Key": {"PK": {"S": "b"}, "SK": {"S": "0"}}}},
        ]
    )
    records = _read_all(streams, arn)
    assert [r["eventName"] for r in records] == ["INSERT"] * 4 + ["REMOVE"]
    assert [r["dynamodb"]["Keys"]["PK"]["S"] for r in records] == ["b", "b", "b", "t", "b"]


def test_changes_of_a_table_without_stream_are_not_recorded(db: Backend, streams: Any) -> None:
    db.create_table()
    db.put({**KEYS})
    assert streams.list_streams()["Streams"] == []


# --------------------------------------------------------------------------- Streams API


def test_shard_iterator_types(db: Backend, streams: Any) -> None:
    arn = _stream_table(db, "KEYS_ONLY")
    for n in range(3):
        db.put({"PK": {"S": "a"}, "SK": {"S": str(n)}})
    records = _read_all(streams, arn)
    numbers = [r["dynamodb"]["SequenceNumber"] for r in records]
    at = _read_all(streams, arn, "AT_SEQUENCE_NUMBER", SequenceNumber=numbers[1])
    after = _read_all(streams, arn, "AFTER_SEQUENCE_NUMBER", SequenceNumber=numbers[1])
    assert [r["dynamodb"]["SequenceNumber"] for r in at] == numbers[1:]
    assert [r["dynamodb"]["SequenceNumber"] for r in after] == numbers[2:]

    shard = streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"][0]["ShardId"]
    latest = streams.get_shard_iterator(StreamArn=arn, ShardId=shard, ShardIteratorType="LATEST")[
        "ShardIterator"
    ]
    assert streams.get_records(ShardIterator=latest)["Records"] == []
    db.put({"PK": {"S": "a"}, "SK": {"S": "new"}})
    page = streams.get_records(ShardIterator=latest)
    assert [r["dynamodb"]["Keys"]["SK"]["S"] for r in page["Records"]] == ["new"]
    assert streams.get_records(ShardIterator=page["NextShardIterator"])["Records"] == []


def test_get_records_limit_pages_with_next_iterator(db: Backend, streams: Any) -> None:
    arn = _stream_table(db, "KEYS_ONLY")
    for n in range(5):
        db.put({"PK": {"S": "a"}, "SK": {"S": str(n)}})
    shard = streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"][0]["ShardId"]
    iterator = streams.get_shard_iterator(
        StreamArn=arn, ShardId=shard, ShardIteratorType="TRIM_HORIZON"
    )["ShardIterator"]
    seen: list[str] = []
    for _ in range(3):
        page = streams.get_records(ShardIterator=iterator, Limit=2)
        assert len(page["Records"]) <= 2
        seen.extend(r["dynamodb"]["Keys"]["SK"]["S"] for r in page["Records"])
        iterator = page["NextShardIterator"]
    assert seen == ["0", "1", "2", "3", "4"]


def test_describe_stream(db: Backend, streams: Any) -> None:
    arn = _stream_table(db, "NEW_IMAGE")
    description = streams.describe_stream(StreamArn=arn)["StreamDescription"]
    assert description["StreamArn"] == arn
    assert description["StreamStatus"] == "ENABLED"
    assert description["StreamViewType"] == "NEW_IMAGE"
    assert description["TableName"] == "tbl"
    assert description["StreamLabel"] == arn.rsplit("/", 1)[1]
    assert description["KeySchema"] == [
        {"AttributeName": "PK", "KeyType": "HASH"},
        {"AttributeName": "SK", "KeyType": "RANGE"},
    ]
    (shard,) = description["Shards"]
    assert len(shard["ShardId"]) >= 28
    assert "StartingSequenceNumber" in shard["SequenceNumberRange"]
    assert "EndingSequenceNumber" not in shard["SequenceNumberRange"]


def test_list_streams_filters_by_table(db: Backend, streams: Any) -> None:
    first = _stream_table(db, "KEYS_ONLY", "one")
    second = _stream_table(db, "KEYS_ONLY", "two")
    db.create_table("three")
    assert {s["StreamArn"] for s in streams.list_streams()["Streams"]} == {first, second}
    (only,) = streams.list_streams(TableName="two")["Streams"]
    assert only == {
        "StreamArn": second,
        "TableName": "two",
        "StreamLabel": second.rsplit("/", 1)[1],
    }
    assert streams.list_streams(TableName="three")["Streams"] == []


@pytest.mark.moto_differs("list-streams-paging")
def test_list_streams_pages(db: Backend, streams: Any) -> None:
    arns = sorted(_stream_table(db, "KEYS_ONLY", f"t{n}x") for n in range(3))
    page = streams.list_streams(Limit=2)
    assert [s["StreamArn"] for s in page["Streams"]] == arns[:2]
    assert page["LastEvaluatedStreamArn"] == arns[1]
    rest = streams.list_streams(Limit=2, ExclusiveStartStreamArn=page["LastEvaluatedStreamArn"])
    assert [s["StreamArn"] for s in rest["Streams"]] == arns[2:]
    assert "LastEvaluatedStreamArn" not in rest


@pytest.mark.moto_differs("streams-errors")
def test_unknown_stream_is_not_found(db: Backend, streams: Any) -> None:
    arn = "arn:aws:dynamodb:us-east-1:000000000000:table/nope/stream/2024-01-01T00:00:00.000"
    with raises(
        "ResourceNotFoundException", f"Requested resource not found: Stream: {arn} not found"
    ):
        streams.describe_stream(StreamArn=arn)
    with raises(
        "ResourceNotFoundException", f"Requested resource not found: Stream: {arn} not found"
    ):
        streams.get_shard_iterator(
            StreamArn=arn,
            ShardId="shardId-00000000000000000000-00000000",
            ShardIteratorType="LATEST",
        )


@pytest.mark.moto_differs("get-records-limit")
def test_get_records_limit_is_checked(db: Backend, streams: Any) -> None:
    arn = _stream_table(db, "KEYS_ONLY")
    shard = streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"][0]["ShardId"]
    iterator = streams.get_shard_iterator(
        StreamArn=arn, ShardId=shard, ShardIteratorType="TRIM_HORIZON"
    )["ShardIterator"]
    # The API Reference: "The upper limit is 1000" (the exact text is not confirmed).
    with raises(
        "ValidationException",
        "1 validation error detected: Value '1001' at 'limit' failed to satisfy constraint: "
        "Member must have value less than or equal to 1000",
    ):
        streams.get_records(ShardIterator=iterator, Limit=1001)


@pytest.mark.moto_differs("table-deleted")
def test_deleting_the_table_disables_its_stream(db: Backend, ddb: Any, streams: Any) -> None:
    arn = _stream_table(db, "KEYS_ONLY")
    db.put({**KEYS})
    ddb.delete_table(TableName="tbl")
    description = streams.describe_stream(StreamArn=arn)["StreamDescription"]
    assert description["StreamStatus"] == "DISABLED"
    records = _read_all(streams, arn)
    assert [r["eventName"] for r in records] == ["INSERT"]
