"""DynamoDB Streams request checks: DescribeStream's ShardFilter, malformed stream ARNs,
and GetShardIterator's SequenceNumber (issue 14 item 8).

API Reference (DynamoDB Streams): DescribeStream, ShardFilter (Type CHILD_SHARDS,
ShardId 28-65 characters), GetShardIterator. Which cases are ValidationException comes
from ScyllaDB's Alternator suite, run against DynamoDB Streams; "Invalid StreamArn" is
DynamoDB Streams' text. Texts the service does not document are matched loosely.
"""

from __future__ import annotations

import re
from typing import Any

import boto3
import pytest
from botocore.config import Config
from ddbtest import REGION, Backend, raises

MOTO_DIFFERENCES = {
    "shard-filter": "moto ignores DescribeStream's ShardFilter (and does not check it).",
    "stream-arn": "moto answers ResourceNotFoundException (or a Python error) for a malformed "
    "stream ARN; DynamoDB Streams answers ValidationException 'Invalid StreamArn'.",
    "sequence-number": "moto accepts a SequenceNumber with TRIM_HORIZON/LATEST; DynamoDB "
    "Streams refuses it.",
}

MALFORMED = [
    "sdfadfsdfnlfkajakfgjalksfgklasjklasdjfklasdfasdfgasf",
    "arn:aws:dynamodb:us-east-1:000000000000:table/tbl/stream/yesterday-afternoon",
    "arn:aws:dynamodb:us-east-1:000000000000:table/tbl",
]


def _client(db: Backend, *, validate: bool = True) -> Any:
    endpoint = f"https://streams.dynamodb.{REGION}.amazonaws.com" if db.name == "moto" else None
    config = Config(parameter_validation=validate)
    return boto3.client("dynamodbstreams", region_name=REGION, endpoint_url=endpoint, config=config)


@pytest.fixture
def streams(db: Backend) -> Any:
    return _client(db)


@pytest.fixture
def raw(db: Backend) -> Any:
    """A Streams client without client-side parameter validation."""
    return _client(db, validate=False)


@pytest.fixture
def stream(db: Backend) -> tuple[str, str]:
    """A table with a stream: (stream ARN, its shard id)."""
    db.create_table(
        StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"}
    )
    arn: str = db.client.describe_table(TableName="tbl")["Table"]["LatestStreamArn"]
    description = _client(db).describe_stream(StreamArn=arn)["StreamDescription"]
    return arn, description["Shards"][0]["ShardId"]


# --------------------------------------------------------------------------- ShardFilter


@pytest.mark.moto_differs("shard-filter")
def test_child_shards_of_the_only_shard_are_none(streams: Any, stream: tuple[str, str]) -> None:
    arn, shard = stream
    description = streams.describe_stream(
        StreamArn=arn, ShardFilter={"Type": "CHILD_SHARDS", "ShardId": shard}
    )["StreamDescription"]
    assert description["Shards"] == []
    assert description["StreamArn"] == arn
    # Without the filter the shard is there, as before.
    assert [s["ShardId"] for s in streams.describe_stream(StreamArn=arn)["StreamDescription"][
        "Shards"
    ]] == [shard]


@pytest.mark.moto_differs("shard-filter")
def test_shard_filter_type_must_be_child_shards(raw: Any, stream: tuple[str, str]) -> None:
    arn, shard = stream
    with raises(
        "ValidationException",
        "1 validation error detected: Value 'PARENT_SHARDS' at 'shardFilter.type' failed to "
        "satisfy constraint: Member must satisfy enum value set: [CHILD_SHARDS]",
    ):
        raw.describe_stream(StreamArn=arn, ShardFilter={"Type": "PARENT_SHARDS", "ShardId": shard})


@pytest.mark.moto_differs("shard-filter")
def test_shard_filter_shard_id_length(raw: Any, stream: tuple[str, str]) -> None:
    arn, _ = stream
    with raises(
        "ValidationException",
        "1 validation error detected: Value 'shardId-1' at 'shardFilter.shardId' failed to "
        "satisfy constraint: Member must have length greater than or equal to 28",
    ):
        raw.describe_stream(
            StreamArn=arn, ShardFilter={"Type": "CHILD_SHARDS", "ShardId": "shardId-1"}
        )


@pytest.mark.moto_differs("shard-filter")
@pytest.mark.parametrize(
    "shard_filter",
    [
        pytest.param({"Type": "CHILD_SHARDS"}, id="no-shard-id"),
        pytest.param({"ShardId": "shardId-00000000000000000000-00000000"}, id="no-type"),
    ],
)
def test_shard_filter_needs_type_and_shard_id(
    raw: Any, stream: tuple[str, str], shard_filter: dict[str, str]
) -> None:
    arn, _ = stream
    with raises("ValidationException", re.compile(r".*ShardFilter.*")):
        raw.describe_stream(StreamArn=arn, ShardFilter=shard_filter)


@pytest.mark.moto_differs("shard-filter")
def test_shard_filter_of_an_unknown_shard(streams: Any, stream: tuple[str, str]) -> None:
    arn, _ = stream
    with raises("ResourceNotFoundException", re.compile(r"Requested resource not found.*")):
        streams.describe_stream(
            StreamArn=arn,
            ShardFilter={"Type": "CHILD_SHARDS", "ShardId": "shardId-00000000000000000000-0000"},
        )


# --------------------------------------------------------------------------- malformed ARNs


@pytest.mark.moto_differs("stream-arn")
@pytest.mark.parametrize("bad", MALFORMED)
def test_a_malformed_stream_arn_is_a_validation_error(
    streams: Any, stream: tuple[str, str], bad: str
) -> None:
    _, shard = stream
    with raises("ValidationException", "Invalid StreamArn"):
        streams.describe_stream(StreamArn=bad)
    with raises("ValidationException", "Invalid StreamArn"):
        streams.get_shard_iterator(StreamArn=bad, ShardId=shard, ShardIteratorType="LATEST")
    with raises("ValidationException", "Invalid StreamArn"):
        streams.list_streams(ExclusiveStartStreamArn=bad)


@pytest.mark.moto_differs("stream-arn")
def test_a_well_formed_unknown_stream_arn_is_still_not_found(
    streams: Any, stream: tuple[str, str]
) -> None:
    arn, _ = stream
    other = arn.rsplit("/", 1)[0] + "/2001-01-01T00:00:00.000"
    with raises(
        "ResourceNotFoundException", f"Requested resource not found: Stream: {other} not found"
    ):
        streams.describe_stream(StreamArn=other)
    # As ExclusiveStartStreamArn a well-formed ARN is a position, not a lookup.
    assert streams.list_streams(ExclusiveStartStreamArn=other)["Streams"] != []


# --------------------------------------------------------------------------- SequenceNumber


@pytest.mark.moto_differs("sequence-number")
@pytest.mark.parametrize("kind", ["TRIM_HORIZON", "LATEST"])
def test_sequence_number_with_a_position_is_refused(
    db: Backend, streams: Any, stream: tuple[str, str], kind: str
) -> None:
    arn, shard = stream
    db.put({"PK": {"S": "a"}, "SK": {"S": "1"}})
    iterator = streams.get_shard_iterator(
        StreamArn=arn, ShardId=shard, ShardIteratorType="TRIM_HORIZON"
    )["ShardIterator"]
    number = streams.get_records(ShardIterator=iterator)["Records"][0]["dynamodb"]["SequenceNumber"]
    with raises("ValidationException", re.compile(rf".*SequenceNumber.*{kind}.*")):
        streams.get_shard_iterator(
            StreamArn=arn, ShardId=shard, ShardIteratorType=kind, SequenceNumber=number
        )
    # The same number is fine where a sequence number belongs.
    assert streams.get_shard_iterator(
        StreamArn=arn, ShardId=shard, ShardIteratorType="AT_SEQUENCE_NUMBER", SequenceNumber=number
    )["ShardIterator"]
