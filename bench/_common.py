"""What the benchmark scripts share (private; not a benchmark itself).

Each script imports it as a sibling (``from _common import ...``): a script's own
directory is on ``sys.path`` when it runs. Only what is the same logic lives here;
what differs between the scripts on purpose (item layouts and sizes, key shapes,
table sizes) stays in each script or comes in as an argument, so that every
script sends exactly the requests it sent before this module existed.
"""

from __future__ import annotations

import functools
import gc
import itertools
import os
import time
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import boto3
import botocore
from botocore.awsrequest import AWSResponse
from pydantic import BaseModel

REGION = "us-east-1"

Call = Callable[[str, dict[str, Any]], dict[str, Any]]
"""Send one wire request: (operation, request) -> response."""


def aws_environment() -> None:
    """Fake credentials and a region unless set, and no EC2 metadata lookups.

    Nothing here reaches AWS; without credentials boto3 would refuse to sign, and
    without ``AWS_EC2_METADATA_DISABLED`` it may spend seconds probing for them.
    """
    os.environ.setdefault("AWS_ACCESS_KEY_ID", "bench")
    os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "bench")
    os.environ.setdefault("AWS_DEFAULT_REGION", REGION)
    os.environ["AWS_EC2_METADATA_DISABLED"] = "true"


# -- CPU-time latencies ----------------------------------------------------------------

# Latencies are this thread's CPU time, not wall time: on a shared machine other
# processes preempt us, and a preemption inside a 2 ms call would count 10 ms.
CLOCK = time.thread_time


@functools.cache
def clock_overhead() -> float:
    """Median cost of one back-to-back pair of clock reads (subtracted from each sample).

    Measured on the first call, then remembered: call it before any timing.
    """
    pairs = []
    for _ in range(2000):
        start = CLOCK()
        pairs.append(CLOCK() - start)
    return sorted(pairs)[len(pairs) // 2]


def time_calls(batch: list[tuple[str, Any]], call: Callable[[str, Any], Any]) -> list[float]:
    """The CPU time of each call of ``batch`` (after a full collection), overhead removed."""
    overhead = clock_overhead()
    clock = CLOCK
    timings = []
    gc.collect()
    for operation, request in batch:
        start = clock()
        call(operation, request)
        timings.append(max(clock() - start - overhead, 1e-9))
    return timings


ROUNDS = 5
"""Ways being compared alternate in this many rounds per workload (after a warm-up
round), so that a burst of load from other processes lands on all of them alike."""


@dataclass
class Result:
    """Timings of one workload run one way."""

    way: str
    workload: str
    seconds: list[float]

    @property
    def ops(self) -> float:
        """Operations per second."""
        return len(self.seconds) / sum(self.seconds)

    def percentile(self, p: float) -> float:
        """The ``p`` percentile latency, in microseconds."""
        ordered = sorted(self.seconds)
        return ordered[min(len(ordered) - 1, int(p / 100 * len(ordered)))] * 1e6


# -- boto3 ----------------------------------------------------------------------------


class _Methods(dict[str, Callable[..., Any]]):
    """A client's methods by wire operation name, each looked up on first use."""

    def __init__(self, client: Any) -> None:
        super().__init__()
        self._client = client

    def __missing__(self, operation: str) -> Callable[..., Any]:
        method: Callable[..., Any] = getattr(self._client, botocore.xform_name(operation))
        self[operation] = method
        return method


def boto3_call(client: Any) -> Call:
    """A :data:`Call` through a boto3 low-level client (wire shapes == client shapes here)."""
    methods = _Methods(client)

    def call(operation: str, request: dict[str, Any]) -> dict[str, Any]:
        response: dict[str, Any] = methods[operation](**request)
        return response

    return call


class _Canned:
    """A canned raw body botocore streams (one chunk, no copy)."""

    __slots__ = ("_data",)

    def __init__(self, data: bytes) -> None:
        self._data = data

    def stream(self, **_: Any) -> Iterator[bytes]:
        return iter((self._data,))


def answer_with(client: Any, canned: dict[str, bytes], *, checksums: bool = False) -> None:
    """Short-circuit ``client``'s send: each call is answered with ``canned[operation]``.

    The request is still built, serialized and signed and the response still
    parsed: what is left is botocore's own cost. ``checksums`` adds the
    ``Content-Length`` and ``x-amz-crc32`` headers a server sends, which botocore
    then checks.
    """
    headers: dict[str, Any] = {}
    for operation, body in canned.items():
        headers[operation] = {
            "x-amzn-RequestId": "FLOOR",
            "Content-Type": "application/x-amz-json-1.0",
        }
        if checksums:
            headers[operation]["Content-Length"] = str(len(body))
            headers[operation]["x-amz-crc32"] = str(zlib.crc32(body))

    def send(request: Any, event_name: str, **_: Any) -> AWSResponse:
        operation = event_name[event_name.rfind(".") + 1 :]
        fresh: Any = dict(headers[operation])  # a copy a call, as a real send makes
        return AWSResponse(request.url, 200, fresh, _Canned(canned[operation]))

    client.meta.events.register("before-send.dynamodb", send)


def floor_client(canned: dict[str, bytes], unsigned: bool) -> Any:
    """A boto3 client whose send returns ``canned[operation]`` (botocore's floor)."""
    session = boto3.Session(region_name=REGION)
    client = session.client("dynamodb", aws_access_key_id="k", aws_secret_access_key="s")
    answer_with(client, canned)
    if unsigned:
        client.meta.events.register("choose-signer.dynamodb", lambda **_: botocore.UNSIGNED)
    return client


# -- tables, items, requests ----------------------------------------------------------


def key_schema(*pairs: tuple[str, str]) -> list[dict[str, str]]:
    """``KeySchema`` from (attribute, ``HASH`` or ``RANGE``) pairs."""
    return [{"AttributeName": name, "KeyType": kind} for name, kind in pairs]


def table_request(
    name: str,
    types: dict[str, str] | None = None,
    indexes: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    """CreateTable, on demand, keyed by ``PK`` (hash) and ``SK`` (range).

    ``types``: the attribute definitions (default: ``PK`` and ``SK``, strings);
    ``indexes``: its global secondary indexes, if any.
    """
    request: dict[str, Any] = {
        "TableName": name,
        "AttributeDefinitions": [
            {"AttributeName": n, "AttributeType": t}
            for n, t in (types or {"PK": "S", "SK": "S"}).items()
        ],
        "KeySchema": key_schema(("PK", "HASH"), ("SK", "RANGE")),
    }
    if indexes is not None:
        request["GlobalSecondaryIndexes"] = indexes
    request["BillingMode"] = "PAY_PER_REQUEST"
    return request


STATUSES = ("pending", "shipped", "delivered", "returned")

# -- the modelling layer's 10-field order (orm_bench.py and wire_bench.py) -----------------

T0 = datetime(2026, 1, 1, tzinfo=UTC)


class Address(BaseModel):
    """The order's nested model."""

    street: str
    city: str
    postcode: str


def order_values(customer: str, n: int) -> dict[str, Any]:
    """Plain Python values of order ``n`` of ``customer`` (the input every way gets)."""
    return {
        "customer_id": customer,
        "order_id": f"o{n:05d}",
        "created_at": T0 + timedelta(minutes=n),
        "status": STATUSES[n % 4],
        "total": Decimal(f"{n * 7 % 1000}.25"),
        "quantity": n % 9 + 1,
        "gift": n % 3 == 0,
        "tags": {"new", f"t{n % 5}"},
        "address": {"street": f"{n} Long Road", "city": "Oslo", "postcode": f"{n % 10000:04d}"},
        "note": "leave at the door, ring twice",
    }

STEP = 7919  # a prime: n * STEP % count visits 0..count-1 unless count is a multiple


def spread(n: int, count: int) -> int:
    """The ``n``-th of a sequence visiting ``0..count-1`` in a scattered order."""
    return (n * STEP) % count


def key(i: int) -> dict[str, Any]:
    """The key of item ``i`` in the tables of 100-item partitions (``P#``, ``ORDER#``)."""
    return {"PK": {"S": f"P#{i // 100:06d}"}, "SK": {"S": f"ORDER#{i:08d}"}}


def update_request(table: str, item_key: dict[str, Any], status: str) -> dict[str, Any]:
    """UpdateItem: add one to ``count`` and set ``status``, if the item exists; UPDATED_NEW."""
    return {
        "TableName": table,
        "Key": item_key,
        "UpdateExpression": "SET #c = #c + :one, #s = :s",
        "ConditionExpression": "attribute_exists(PK) AND #c < :max",
        "ExpressionAttributeNames": {"#c": "count", "#s": "status"},
        "ExpressionAttributeValues": {
            ":one": {"N": "1"},
            ":max": {"N": "1000000000"},
            ":s": {"S": status},
        },
        "ReturnValues": "UPDATED_NEW",
    }


def query_request(table: str, pk: str, prefix: str) -> dict[str, Any]:
    """Query: partition ``pk``, sort keys beginning with ``prefix``, ``Limit`` 25."""
    return {
        "TableName": table,
        "KeyConditionExpression": "PK = :pk AND begins_with(SK, :p)",
        "ExpressionAttributeValues": {":pk": {"S": pk}, ":p": {"S": prefix}},
        "Limit": 25,
    }


def scan_request(table: str) -> dict[str, Any]:
    """Scan with a filter keeping the ``shipped`` items (a quarter of them)."""
    return {
        "TableName": table,
        "FilterExpression": "#s = :s",
        "ExpressionAttributeNames": {"#s": "status"},
        "ExpressionAttributeValues": {":s": {"S": "shipped"}},
    }


def transfer_request(
    table: str, n: int, debit: dict[str, Any], credit: dict[str, Any], check: dict[str, Any]
) -> dict[str, Any]:
    """TransactWriteItems, the bank-transfer shape: 2 conditional Puts + 1 ConditionCheck.

    ``debit`` and ``credit`` are items of their own (their ``balance`` is set here,
    from the ``n``-th transfer); ``check`` is the key of the item checked.
    """
    debit["balance"] = {"N": str(100 - n % 50)}
    credit["balance"] = {"N": str(100 + n % 50)}
    exists = "attribute_exists(PK)"
    return {
        "TransactItems": [
            {"Put": {"TableName": table, "Item": debit, "ConditionExpression": exists}},
            {"Put": {"TableName": table, "Item": credit, "ConditionExpression": exists}},
            {
                "ConditionCheck": {
                    "TableName": table,
                    "Key": check,
                    "ConditionExpression": "attribute_exists(PK) AND #s <> :frozen",
                    "ExpressionAttributeNames": {"#s": "status"},
                    "ExpressionAttributeValues": {":frozen": {"S": "frozen"}},
                }
            },
        ]
    }


# -- the wire workload of http_bench.py and routing_bench.py ----------------------------

WIRE_TABLE = "bench"
WIRE_PUT_TABLE = "bench_put"
WIRE_SCAN_TABLE = "bench_scan"
WIRE_PAYLOAD = "x" * 850  # with the other attributes an item is about 1 KB
WIRE_WORKLOADS = ("put", "get", "update", "query", "scan", "batch", "transact")


def wire_item(i: int) -> dict[str, Any]:
    """Item ``i``, about 1 KB, in partition ``i // 100``, with a string of its own."""
    return {
        **key(i),
        "status": {"S": STATUSES[i % 4]},
        "total": {"N": f"{i * 7 % 1000}.25"},
        "count": {"N": "0"},
        "balance": {"N": "100"},
        "tags": {"SS": ["a", "b", "c"]},
        "payload": {"S": f"{i:010d}{WIRE_PAYLOAD}"},
    }


def wire_requests(
    workload: str, fresh: Iterator[int], table_items: int
) -> Iterator[tuple[str, dict[str, Any]]]:
    """An endless stream of (operation, request) of ``workload`` on the wire tables
    (``table_items`` items in WIRE_TABLE); ``fresh`` numbers new items."""
    for n in itertools.count():
        if workload == "put":
            yield "PutItem", {"TableName": WIRE_PUT_TABLE, "Item": wire_item(next(fresh))}
        elif workload == "get":
            yield "GetItem", {"TableName": WIRE_TABLE, "Key": key(spread(n, table_items))}
        elif workload == "update":
            item_key = key(spread(n, table_items))
            yield "UpdateItem", update_request(WIRE_TABLE, item_key, STATUSES[n % 4])
        elif workload == "query":
            partition = spread(n, table_items // 100)
            yield "Query", query_request(WIRE_TABLE, f"P#{partition:06d}", "ORDER#")
        elif workload == "scan":
            yield "Scan", scan_request(WIRE_SCAN_TABLE)
        elif workload == "batch":
            puts = [{"PutRequest": {"Item": wire_item(next(fresh))}} for _ in range(25)]
            yield "BatchWriteItem", {"RequestItems": {WIRE_PUT_TABLE: puts}}
        elif workload == "transact":
            a, b, c = (spread(n * 3 + k, table_items) for k in range(3))
            yield "TransactWriteItems", transfer_request(
                WIRE_TABLE, n, wire_item(a), wire_item(b), key(c)
            )
        else:
            raise ValueError(workload)
