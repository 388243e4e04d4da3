"""The DynamoDB Streams API of the local engine: ListStreams, DescribeStream,
GetShardIterator, GetRecords.

Request shapes are checked as DynamoDB Streams checks them (its model's length
and enum constraints, reported in the "N validation errors detected" form);
the streams themselves, their records and iterators live in :mod:`._streams`.
Texts not confirmed against the live service are marked where they are raised.
"""

from __future__ import annotations

import re
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
_FILTER_TYPES = ("CHILD_SHARDS",)

# A stream ARN: <table ARN>/stream/<label>, the label the stream's creation time to the
# millisecond. Anything else is refused as malformed before any stream is looked up.
_STREAM_ARN = re.compile(
    r"arn:aws[a-z-]*:dynamodb:[a-z0-9-]+:\d{12}:table/[a-zA-Z0-9_.-]{3,255}"
    r"/stream/\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}"
)


def _check_arn(arn: str) -> None:
    """A malformed stream ARN is a ValidationException, not ResourceNotFoundException.

    ScyllaDB's Alternator suite, run against DynamoDB Streams, gets a ValidationException
    for a malformed StreamArn in DescribeStream, GetShardIterator and ListStreams'
    ExclusiveStartStreamArn; the text "Invalid StreamArn" is DynamoDB Streams' (as
    reported by its Java SDK users).
    """
    if _STREAM_ARN.fullmatch(arn) is None:
        raise validation_error("Invalid StreamArn")


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
    if start is not None:
        _check_arn(start)
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
    """DescribeStream: the stream and its one shard (``Limit``, ``ExclusiveStartShardId``,
    ``ShardFilter``)."""
    checks = Checks(request)
    arn = _length(checks, "StreamArn", 37, 1024)
    checks.integer("Limit", 1, 100)
    start = _length(checks, "ExclusiveStartShardId", 28, 65, required=False)
    parent = _shard_filter(checks, request.get("ShardFilter"))
    checks.raise_if_any()
    assert arn is not None
    _check_arn(arn)
    with engine.lock:
        stream = engine.streams.stream(arn, engine.clock())
        description = stream.describe()
    if parent is not None:
        # CHILD_SHARDS: the shards whose parent is the given one. A stream here has one
        # shard, which has no parent and never splits: its children are none.
        if parent != stream.shard_id:
            # Not confirmed against DynamoDB Streams (its answer for an unknown shard).
            raise DynamoDBError(
                "ResourceNotFoundException",
                f"Requested resource not found: Shard: {parent} in Stream: {arn} not found",
            )
        shards = description["Shards"]
        description["Shards"] = [s for s in shards if s.get("ParentShardId") == parent]
    if start is not None:
        description["Shards"] = [s for s in description["Shards"] if s["ShardId"] > start]
    return {"StreamDescription": description}


def _shard_filter(checks: Checks, raw: Any) -> str | None:
    """Check a DescribeStream ShardFilter (API Reference, ShardFilter); the parent shard id.

    ``Type`` must be CHILD_SHARDS (the one type there is) and ``ShardId`` a shard id;
    the model makes neither required, but a filter without them selects nothing, and
    DynamoDB Streams refuses it with a ValidationException (ScyllaDB's Alternator suite);
    that text is not confirmed.
    """
    if raw is None:
        return None
    if not isinstance(raw, dict):
        raise DynamoDBError(
            "SerializationException", "Unexpected value type in payload for ShardFilter"
        )
    kind, shard_id = raw.get("Type"), raw.get("ShardId")
    for name, value in (("Type", kind), ("ShardId", shard_id)):
        if value is not None and not isinstance(value, str):
            raise DynamoDBError(
                "SerializationException", f"Unexpected value type in payload for {name}"
            )
    if kind is not None and kind not in _FILTER_TYPES:
        checks.fail(
            "shardFilter.type",
            kind,
            f"Member must satisfy enum value set: [{', '.join(_FILTER_TYPES)}]",
        )
    if shard_id is not None and not 28 <= len(shard_id) <= 65:
        bound = (
            "greater than or equal to 28" if len(shard_id) < 28 else "less than or equal to 65"
        )
        checks.fail("shardFilter.shardId", shard_id, f"Member must have length {bound}")
    if checks.errors:
        return None
    if kind is None:
        raise validation_error("ShardFilter.Type is required when a ShardFilter is given")
    if shard_id is None:
        raise validation_error("ShardFilter.ShardId is required for ShardFilter type CHILD_SHARDS")
    return str(shard_id)


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
    if number is not None and kind in ("TRIM_HORIZON", "LATEST"):
        # A position and a sequence number are two starting points: refused (ScyllaDB's
        # Alternator suite, run against DynamoDB Streams). The text is not confirmed.
        raise validation_error(
            f"SequenceNumber cannot be specified with ShardIteratorType {kind}; it is only "
            "used with AT_SEQUENCE_NUMBER and AFTER_SEQUENCE_NUMBER"
        )
    _check_arn(arn)
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
