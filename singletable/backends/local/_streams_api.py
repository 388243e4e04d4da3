"""The DynamoDB Streams API of the local engine: ListStreams, DescribeStream,
GetShardIterator, GetRecords.

Request shapes are checked as DynamoDB Streams checks them (its model's length
and enum constraints, reported in the "N validation errors detected" form);
the streams themselves, their records and iterators live in :mod:`._streams`.
Texts not confirmed against the live service are marked where they are raised.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from singletable.backends.local._params import Checks
from singletable.backends.local._streams import (
    ITERATOR_LIFETIME_SECONDS,
    MAX_GET_RECORDS,
    Stream,
    trimmed,
)
from singletable.backends.local.errors import DynamoDBError, validation_error

if TYPE_CHECKING:
    from singletable.backends.local.engine import LocalEngine

__all__ = ["describe_stream", "get_records", "get_shard_iterator", "list_streams"]

_ITERATOR_TYPES = ("TRIM_HORIZON", "LATEST", "AT_SEQUENCE_NUMBER", "AFTER_SEQUENCE_NUMBER")


def _length(checks: Checks, name: str, low: int, high: int, *, required: bool = True) -> str | None:
    """A string member with DynamoDB Streams' length constraints."""
    value = checks.required(name) if required else checks.request.get(name)
    if value is None:
        return None
    if not isinstance(value, str):
        raise DynamoDBError(
            "SerializationException", f"Unexpected value type in payload for {name}"
        )
    member = name[:1].lower() + name[1:]
    if len(value) < low:
        checks.fail(member, value, f"Member must have length greater than or equal to {low}")
    elif len(value) > high:
        checks.fail(member, value, f"Member must have length less than or equal to {high}")
    return value


def list_streams(engine: LocalEngine, request: dict[str, Any]) -> dict[str, Any]:
    """ListStreams: the readable streams (of a table); ``Limit``, ``ExclusiveStartStreamArn``."""
    checks = Checks(request)
    table_name = checks.table_name(required=False)
    limit = checks.integer("Limit", 1, 100) or 100
    start = _length(checks, "ExclusiveStartStreamArn", 37, 1024, required=False)
    checks.raise_if_any()
    with engine.lock:
        streams = engine.streams.all(engine.clock())
        if table_name is not None:
            streams = [stream for stream in streams if stream.table_name == table_name]
            if not streams and table_name not in engine.tables:
                # Not confirmed against DynamoDB Streams (its text for an unknown table).
                raise DynamoDBError(
                    "ResourceNotFoundException",
                    f"Requested resource not found: Table: {table_name} not found",
                )
    if start is not None:
        streams = [stream for stream in streams if stream.arn > start]
    response: dict[str, Any] = {
        "Streams": [
            {"StreamArn": s.arn, "TableName": s.table_name, "StreamLabel": s.label}
            for s in streams[:limit]
        ]
    }
    if len(streams) > limit:
        response["LastEvaluatedStreamArn"] = streams[limit - 1].arn
    return response


def describe_stream(engine: LocalEngine, request: dict[str, Any]) -> dict[str, Any]:
    """DescribeStream: the stream and its one shard (``Limit``, ``ExclusiveStartShardId``)."""
    checks = Checks(request)
    arn = _length(checks, "StreamArn", 37, 1024)
    checks.integer("Limit", 1, 100)
    start = _length(checks, "ExclusiveStartShardId", 28, 65, required=False)
    checks.raise_if_any()
    assert arn is not None
    with engine.lock:
        description = engine.streams.stream(arn, engine.clock()).describe()
    if start is not None:
        description["Shards"] = [s for s in description["Shards"] if s["ShardId"] > start]
    return {"StreamDescription": description}


def get_shard_iterator(engine: LocalEngine, request: dict[str, Any]) -> dict[str, Any]:
    """GetShardIterator: TRIM_HORIZON, LATEST, AT_SEQUENCE_NUMBER or AFTER_SEQUENCE_NUMBER."""
    checks = Checks(request)
    arn = _length(checks, "StreamArn", 37, 1024)
    shard_id = _length(checks, "ShardId", 28, 65)
    kind = checks.required("ShardIteratorType")
    if kind is not None:
        kind = checks.enum("ShardIteratorType", _ITERATOR_TYPES)
    number = _length(checks, "SequenceNumber", 21, 40, required=False)
    checks.raise_if_any()
    assert arn is not None and shard_id is not None and kind is not None
    streams = engine.streams
    with engine.lock:
        now = engine.clock()
        stream = streams.stream(arn, now)
        if shard_id != stream.shard_id:
            # Not confirmed against DynamoDB Streams (its text for an unknown shard).
            raise DynamoDBError(
                "ResourceNotFoundException",
                f"Requested resource not found: Shard: {shard_id} in Stream: {arn} not found",
            )
        if kind == "TRIM_HORIZON":
            after = stream.trimmed_through
        elif kind == "LATEST":
            after = streams.latest_sequence()
        else:
            after = _sequence_position(stream, kind, number)
        return {"ShardIterator": streams.iterator(stream, after, now)}


def _sequence_position(stream: Stream, kind: str, number: str | None) -> int:
    """The reading position of an AT_/AFTER_SEQUENCE_NUMBER iterator."""
    if number is None:
        # Not confirmed against DynamoDB Streams (its text when the number is missing).
        raise validation_error(f"SequenceNumber is required for ShardIteratorType {kind}")
    if not (number.isascii() and number.isdigit()):  # int() would take any Unicode digit
        raise validation_error(f"Invalid SequenceNumber: {number}")  # not confirmed either
    sequence = int(number)
    if sequence < stream.starting_sequence:
        raise validation_error(  # not confirmed: DynamoDB's text for another shard's number
            f"Invalid SequenceNumber {number} for shard {stream.shard_id}"
        )
    position = sequence - 1 if kind == "AT_SEQUENCE_NUMBER" else sequence
    if position < stream.trimmed_through:
        raise trimmed()
    return position


def get_records(engine: LocalEngine, request: dict[str, Any]) -> dict[str, Any]:
    """GetRecords: up to ``Limit`` (1..1000) records and 1 MB, and the next iterator."""
    checks = Checks(request)
    iterator = _length(checks, "ShardIterator", 1, 2048)
    limit = checks.integer("Limit", 1, MAX_GET_RECORDS) or MAX_GET_RECORDS
    checks.raise_if_any()
    assert iterator is not None
    streams = engine.streams
    arn, _shard, after, issued = streams.parse_iterator(iterator)
    with engine.lock:
        now = engine.clock()
        if now - issued > ITERATOR_LIFETIME_SECONDS:
            # The message documented for the exception (DynamoDB Streams API model).
            raise DynamoDBError(
                "ExpiredIteratorException", "The provided iterator exceeds the maximum age allowed."
            )
        stream = streams.stream(arn, now)
        if after < stream.trimmed_through:
            raise trimmed()
        records, after = stream.read(after, limit)
        response: dict[str, Any] = {"Records": records}
        if not stream.exhausted(after):
            response["NextShardIterator"] = streams.iterator(stream, after, now)
    return response
