"""Reading a table's stream through the DynamoDB Streams API, every shard followed.

One sans-I/O flow (:func:`follow_stream`) yields the steps: a call to make
(``ListStreams``, ``DescribeStream``, ``GetShardIterator``, ``GetRecords``), a
pause, or a record to hand out; :func:`drive` runs it on a boto3
``dynamodbstreams`` client, :func:`drive_async` on an aioboto3 one.

How a stream is read (DynamoDB Streams API Reference; Developer Guide,
"DynamoDB Streams: reading and processing a stream"):

* the stream's shards come from DescribeStream, page by page
  (``LastEvaluatedShardId`` -> ``ExclusiveStartShardId``);
* a shard's records are read only once its parent (``ParentShardId``) has been
  read to its end, so a key's changes come out in order across a shard split;
  a parent that is no longer listed (trimmed) does not hold its children back;
* a shard is read with a fresh iterator on every pass (TRIM_HORIZON, or
  AFTER_SEQUENCE_NUMBER past the last record handed out), then GetRecords until
  it returns no records (the present end of an open shard) or no
  ``NextShardIterator`` (the end of a closed shard: it is finished);
* without ``follow``, reading ends after a pass that found nothing new.

A :class:`StreamPosition` records, per shard, the last record handed out and
taken (a record counts as taken when the consumer asks for the next one), and
which shards are finished; it serializes to JSON for a checkpoint.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator, Generator, Iterator
from dataclasses import dataclass, field
from typing import Any

from singletable.errors import InvalidValueError, TableNotFoundError

__all__ = ["StreamPosition", "drive", "drive_async", "follow_stream"]

_log = logging.getLogger("singletable.changes")

Step = tuple[str, Any, Any]
"""("call", operation, request) | ("sleep", seconds, None) | ("record", shard id, record)."""
Flow = Generator[Step, Any, None]

_METHODS = {
    "ListStreams": "list_streams",
    "DescribeStream": "describe_stream",
    "GetShardIterator": "get_shard_iterator",
    "GetRecords": "get_records",
}


@dataclass
class StreamPosition:
    """How far a reader got in a stream: per shard, the last sequence number taken,
    and the shards read to their end. ``to_json()``/``from_json()`` checkpoint it."""

    stream_arn: str | None = None
    sequences: dict[str, str] = field(default_factory=dict)
    finished: set[str] = field(default_factory=set)

    def to_json(self) -> dict[str, Any]:
        """A JSON-serializable form."""
        return {
            "StreamArn": self.stream_arn,
            "Shards": dict(self.sequences),
            "Finished": sorted(self.finished),
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> StreamPosition:
        """The position ``to_json`` gave."""
        shards = dict(data.get("Shards", {}))
        return cls(data.get("StreamArn"), shards, set(data.get("Finished", [])))


def follow_stream(
    table_name: str | None,
    stream_arn: str | None,
    position: StreamPosition | None,
    follow: bool,
    poll_interval: float,
    limit: int | None,
) -> Flow:
    """The steps of reading a stream (see the module docstring)."""
    if position is None:
        position = StreamPosition()
    arn = stream_arn or position.stream_arn
    if arn is None:
        if table_name is None:
            raise InvalidValueError("read_stream: give table_name or stream_arn")
        listed = yield "call", "ListStreams", {"TableName": table_name}
        streams = listed.get("Streams", [])
        if not streams:
            raise TableNotFoundError(
                "ResourceNotFoundException",
                f"table {table_name!r} has no stream (ListStreams lists none)",
                operation="ListStreams",
            )
        arn = max(streams, key=lambda s: s.get("StreamLabel", ""))["StreamArn"]
    position.stream_arn = arn
    while True:
        shards = yield from _shards(arn)
        progressed = False
        known = {shard["ShardId"] for shard in shards}
        for shard in shards:
            shard_id = shard["ShardId"]
            parent = shard.get("ParentShardId")
            if shard_id in position.finished:
                continue
            if parent is not None and parent in known and parent not in position.finished:
                continue  # its parent first (a later pass, or later in this one)
            progressed |= yield from _read_shard(arn, shard_id, position, limit)
        if not progressed:
            if not follow:
                return
            yield "sleep", poll_interval, None


def _shards(arn: str) -> Generator[Step, Any, list[dict[str, Any]]]:
    shards: list[dict[str, Any]] = []
    request: dict[str, Any] = {"StreamArn": arn}
    while True:
        response = yield "call", "DescribeStream", request
        description = response["StreamDescription"]
        shards.extend(description.get("Shards", []))
        last = description.get("LastEvaluatedShardId")
        if not last:
            break
        request = {"StreamArn": arn, "ExclusiveStartShardId": last}
    # Parents before children, whatever order the pages gave.
    done: set[str] = set()
    ordered: list[dict[str, Any]] = []
    by_id = {shard["ShardId"]: shard for shard in shards}

    def visit(shard: dict[str, Any]) -> None:
        if shard["ShardId"] in done:
            return
        done.add(shard["ShardId"])
        parent = by_id.get(shard.get("ParentShardId") or "")
        if parent is not None:
            visit(parent)
        ordered.append(shard)

    for shard in shards:
        visit(shard)
    return ordered


def _read_shard(
    arn: str, shard_id: str, position: StreamPosition, limit: int | None
) -> Generator[Step, Any, bool]:
    """Read one shard to its present end; whether anything new was seen.

    An iterator that expired while the consumer was busy (ExpiredIteratorException:
    iterators live 15 minutes) is replaced by a new one after the last record taken.
    A position whose record has been trimmed (TrimmedDataAccessException: records
    live 24 hours) restarts the shard at its oldest record, with a warning: the
    records in between are gone.
    """
    progressed = False
    horizon = False
    while True:
        request: dict[str, Any] = {"StreamArn": arn, "ShardId": shard_id}
        after = None if horizon else position.sequences.get(shard_id)
        if after is None:
            request["ShardIteratorType"] = "TRIM_HORIZON"
        else:
            request["ShardIteratorType"] = "AFTER_SEQUENCE_NUMBER"
            request["SequenceNumber"] = after
        try:
            response = yield "call", "GetShardIterator", request
        except Exception as error:
            if _code(error) != "TrimmedDataAccessException" or after is None:
                raise
            _log.warning(
                "stream %s shard %s: records after %s were trimmed; reading from its oldest",
                arn, shard_id, after,
            )  # fmt: skip
            horizon = True
            continue
        horizon = False
        iterator = response.get("ShardIterator")
        while iterator:
            get: dict[str, Any] = {"ShardIterator": iterator}
            if limit is not None:
                get["Limit"] = limit
            try:
                page = yield "call", "GetRecords", get
            except Exception as error:
                if _code(error) != "ExpiredIteratorException":
                    raise
                break  # a new iterator, after the last record taken
            records = page.get("Records", [])
            for record in records:
                yield "record", shard_id, record
                position.sequences[shard_id] = str(record["dynamodb"]["SequenceNumber"])
                progressed = True
            iterator = page.get("NextShardIterator")
            if iterator is None:
                position.finished.add(shard_id)
                return True
            if not records:
                return progressed
        else:
            return progressed


def _code(error: BaseException) -> str | None:
    """The DynamoDB error code of a client's exception (botocore's ClientError, or ours)."""
    code = getattr(error, "code", None)
    if isinstance(code, str):
        return code
    response = getattr(error, "response", None)
    if isinstance(response, dict):
        found = response.get("Error", {}).get("Code")
        return found if isinstance(found, str) else None
    return None


class _Thrown:
    """A client call's exception, to be thrown into the flow."""

    def __init__(self, error: Exception) -> None:
        self.error = error


def _advance(flow: Flow, response: Any) -> Step:
    if isinstance(response, _Thrown):
        return flow.throw(response.error)
    return flow.send(response)


def drive(client: Any, flow: Flow) -> Iterator[dict[str, Any]]:
    """Run a stream flow on a boto3 ``dynamodbstreams`` client; yields its records."""
    response: Any = None
    while True:
        try:
            kind, what, payload = _advance(flow, response)
        except StopIteration:
            return
        response = None
        if kind == "call":
            try:
                response = getattr(client, _METHODS[what])(**payload)
            except Exception as error:  # the flow decides (expired iterators, trimmed data)
                response = _Thrown(error)
        elif kind == "sleep":
            time.sleep(what)
        else:
            yield payload


async def drive_async(client: Any, flow: Flow) -> AsyncIterator[dict[str, Any]]:
    """Run a stream flow on an aioboto3 ``dynamodbstreams`` client; yields its records."""
    response: Any = None
    while True:
        try:
            kind, what, payload = _advance(flow, response)
        except StopIteration:
            return
        response = None
        if kind == "call":
            try:
                response = await getattr(client, _METHODS[what])(**payload)
            except Exception as error:  # the flow decides (expired iterators, trimmed data)
                response = _Thrown(error)
        elif kind == "sleep":
            await asyncio.sleep(what)
        else:
            yield payload
