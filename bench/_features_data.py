"""The data and requests of ``features_bench.py`` (private; not a benchmark).

The table (two GSIs, ALL and KEYS_ONLY) and its twin with a multi-attribute GSI,
their ~1 KB items and how they are loaded, and the request streams each table
of the benchmark sends. ``features_bench.py`` describes the method.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterator
from typing import Any

from _common import (
    STATUSES,
    STEP,
    Call,
    key,
    key_schema,
    spread,
    table_request,
    transfer_request,
    update_request,
)

TABLE = "features"  # two GSIs (ALL and KEYS_ONLY), like moto's table
MULTI_TABLE = "features_multi"  # the same items, with the multi-attribute GSI only
PAYLOAD = "x" * 790  # with the other attributes an item is about 1 KB
Stream = Iterator[tuple[str, dict[str, Any]]]

# -- data: the table, its indexes, its items ----------------------------------------

GSI_ALL = "by_group"  # GSI1PK / GSI1SK, projection ALL
GSI_KEYS = "by_group_keys"  # the same keys, projection KEYS_ONLY
GSI_MULTI = "by_place"  # (tenant, region) / (status, total): multi-attribute keys


def _gsi(name: str, projection: str, *keys: tuple[str, str]) -> dict[str, Any]:
    return {
        "IndexName": name,
        "KeySchema": key_schema(*keys),
        "Projection": {"ProjectionType": projection},
    }


def features_table(multi: bool = False) -> dict[str, Any]:
    """CreateTable for :data:`TABLE` (two GSIs), or :data:`MULTI_TABLE` if ``multi``."""
    group = (("GSI1PK", "HASH"), ("GSI1SK", "RANGE"))
    types = {"PK": "S", "SK": "S", "GSI1PK": "S", "GSI1SK": "S"}
    gsis = [_gsi(GSI_ALL, "ALL", *group), _gsi(GSI_KEYS, "KEYS_ONLY", *group)]
    if multi:
        types = {"PK": "S", "SK": "S", "tenant": "S", "region": "S", "status": "S", "total": "N"}
        place = (("tenant", "HASH"), ("region", "HASH"), ("status", "RANGE"), ("total", "RANGE"))
        gsis = [_gsi(GSI_MULTI, "ALL", *place)]
    return table_request(MULTI_TABLE if multi else TABLE, types, gsis)


def item(i: int) -> dict[str, Any]:
    """Item ``i``: base partitions of 100 items; GSI partitions of 100 items too.

    Within each block of 2,000 items (20 base partitions) the GSI groups are
    ``i % 20``: a GSI partition holds 5 items of each of 20 base partitions.
    The multi-attribute partition ``(tenant, region)`` holds about 100 items.
    """
    block = i // 2000
    return {
        **key(i),
        "GSI1PK": {"S": f"G#{block * 20 + i % 20:06d}"},
        "GSI1SK": {"S": f"D#{i:08d}"},
        "tenant": {"S": f"T#{block}"},
        "region": {"S": f"R#{(i // 7) % 20}"},
        "status": {"S": STATUSES[i % 4]},
        "total": {"N": str(i * 7 % 1000)},
        "count": {"N": "0"},
        "balance": {"N": "100"},
        # A string of its own, as an item read from the wire would have: with one
        # shared string, marshal (the engine's response copy) writes it once per
        # response, and copies would measure a quarter of their real cost.
        "payload": {"S": f"{i:010d}{PAYLOAD}"},
    }


def grow(call: Call, start: int, stop: int, table: str = TABLE) -> None:
    """Add items ``start..stop`` to ``table`` with BatchWriteItem (25 a call), scattered.

    The items go in a scattered order, as a table filled over time would get
    them: loaded partition by partition, a base-table partition's items would be
    neighbours in memory while a GSI partition's are not, and CPU caches alone
    would then make the GSI query look ~1.3x dearer at 100k items (measured).
    """
    count = stop - start
    assert math.gcd(count, STEP) == 1
    order = [start + k * STEP % count for k in range(count)]
    for first in range(0, count, 25):
        puts = [{"PutRequest": {"Item": item(i)}} for i in order[first : first + 25]]
        response = call("BatchWriteItem", {"RequestItems": {table: puts}})
        if response.get("UnprocessedItems"):
            raise RuntimeError("BatchWriteItem left items unprocessed")


# -- request streams -----------------------------------------------------------------


def queries(kind: str, size: int) -> Stream:
    """Query streams over 100-item partitions of a ``size``-item table (``Limit`` 25).

    ``kind``: ``base`` (the table), ``gsi-all``, ``gsi-keys``, ``gsi-multi`` (on
    :data:`MULTI_TABLE`). Every call reads another partition.
    """
    for n in itertools.count():
        table = TABLE
        part = spread(n, size // 100)
        if kind == "base":
            request = {
                "KeyConditionExpression": "PK = :pk AND begins_with(SK, :p)",
                "ExpressionAttributeValues": {
                    ":pk": {"S": f"P#{part:06d}"},
                    ":p": {"S": "ORDER#"},
                },
            }
        elif kind in ("gsi-all", "gsi-keys"):
            request = {
                "IndexName": GSI_ALL if kind == "gsi-all" else GSI_KEYS,
                "KeyConditionExpression": "GSI1PK = :pk AND begins_with(GSI1SK, :p)",
                "ExpressionAttributeValues": {":pk": {"S": f"G#{part:06d}"}, ":p": {"S": "D#"}},
            }
        elif kind == "gsi-multi":
            # status = one of four, total in a range: about 25 of the ~100 items
            table = MULTI_TABLE
            request = {
                "IndexName": GSI_MULTI,
                "KeyConditionExpression": (
                    "tenant = :t AND #r = :r AND #s = :s AND #t BETWEEN :lo AND :hi"
                ),
                "ExpressionAttributeNames": {"#r": "region", "#s": "status", "#t": "total"},
                "ExpressionAttributeValues": {
                    ":t": {"S": f"T#{part // 20}"},
                    ":r": {"S": f"R#{part % 20}"},
                    ":s": {"S": STATUSES[n % 4]},
                    ":lo": {"N": "0"},
                    ":hi": {"N": "999"},
                },
            }
        else:
            raise ValueError(kind)
        yield "Query", {"TableName": table, "Limit": 25, **request}


def operations(workload: str, size: int, fresh: Iterator[int]) -> Stream:
    """Item and query streams on a ``size``-item table; ``fresh`` numbers new items."""
    if workload in ("query", "gsi-query"):
        yield from queries("base" if workload == "query" else "gsi-all", size)
    for n in itertools.count():
        if workload == "put":
            yield "PutItem", {"TableName": TABLE, "Item": item(next(fresh))}
        elif workload == "batch-write":
            puts = [{"PutRequest": {"Item": item(next(fresh))}} for _ in range(25)]
            yield "BatchWriteItem", {"RequestItems": {TABLE: puts}}
        elif workload == "get":
            yield "GetItem", {"TableName": TABLE, "Key": key(spread(n, size))}
        elif workload == "update":
            yield "UpdateItem", update_request(TABLE, key(spread(n, size)), STATUSES[n % 4])
        else:
            raise ValueError(workload)


def transfers(size: int) -> Stream:
    """TransactWriteItems, the bank-transfer shape: 2 conditional Puts + 1 ConditionCheck."""
    for n in itertools.count():
        a, b, c = (spread(n * 3 + k, size) for k in range(3))
        yield "TransactWriteItems", transfer_request(TABLE, n, item(a), item(b), key(c))


def snapshots(size: int) -> Stream:
    """TransactGetItems of 4 items."""
    for n in itertools.count():
        gets = [
            {"Get": {"TableName": TABLE, "Key": key(spread(n * 4 + k, size))}} for k in range(4)
        ]
        yield "TransactGetItems", {"TransactItems": gets}
