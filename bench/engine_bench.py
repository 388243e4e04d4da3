"""Engine benchmark: the same DynamoDB workload run several ways, printed as tables.

Run ``python bench/engine_bench.py`` (or ``--quick`` for a shorter run). Not a
test: it prints numbers and compares them with the project's targets.

Ways (table 1), each on a fresh, identically loaded database:

* ``moto``   -- boto3 on moto's ``mock_aws`` (what users would otherwise pick);
* ``routed`` -- boto3 through ``singletable.testing.local_dynamodb()``;
* ``direct`` -- the engine's wire API, ``LocalEngine().call(operation, request)``;
* ``floor``  -- boto3 with the send short-circuited by a ``before-send`` handler
  returning a canned response (the body the engine returned for that call):
  nothing reached through boto3 can be cheaper, except that routed requests
  are unsigned, so ``floor-unsigned`` (same, plus a ``choose-signer`` handler
  returning UNSIGNED) is printed too, to show the routing's own overhead.

Workloads (items of about 1 KB; the item tables have one GSI projecting ALL):
put (new items), get, update with a condition, query of a 100-item partition
with ``begins_with`` and ``Limit`` 25, scan of a 100-item table with a filter
matching a quarter of it, transact: TransactWriteItems of two new items
and one ConditionCheck, and batch: BatchWriteItem of 25 new items.

Table 1b: the direct engine against the *Python floor* of put, update and
transact: what the same change costs in plain Python (a dict of dicts plus a
sorted list of keys for the table, the same for the GSI; no validation, no
expressions, no copies beyond the item itself). The issue's target is at most
6x that floor.

Latencies are the benchmark thread's CPU time (``time.thread_time``, minus
the clock's own cost), and the engine and boto3 ways run interleaved in
rounds: on a shared machine, wall time and back-to-back runs mostly measure
the neighbours. ops/s is 1 / mean CPU time per call.

Table 2: direct engine cost of get and query as the table grows from 1k to 1M
items (``--quick`` stops at 100k); moto is measured at small sizes only, since
its Query and Scan walk the whole table.

Table 3: the write path (put, update, transact, batch) and the reads (get,
query, scan) with the written table (one GSI) holding 2,000 and 100,000 items,
the direct engine against the Python floor at both sizes and against moto at
2,000 items only (loading moto costs about a millisecond an item).

``--ab TREE`` runs Table 3's engine part alternately with TREE's ``singletable``
and this tree's on PYTHONPATH (``--ab-rounds`` runs each, same script) and
prints the medians: the before/after of a change, measured in one run.
"""

from __future__ import annotations

import argparse
import bisect
import gc
import itertools
import json
import os
import platform
import sys
import time
from collections.abc import Callable, Iterator
from functools import partial
from typing import Any

import boto3
from _common import (
    CLOCK,
    REGION,
    ROUNDS,
    STATUSES,
    Call,
    Result,
    aws_environment,
    boto3_call,
    clock_overhead,
    floor_client,
    query_request,
    scan_request,
    spread,
    table_request,
    time_calls,
    update_request,
)

from singletable.backends.local import LocalEngine
from singletable.testing import local_dynamodb

TABLE = "bench"
PUT_TABLE = "bench_put"
SCAN_TABLE = "bench_scan"
PAYLOAD = "x" * 900  # with the other attributes an item is about 1 KB
WORKLOADS = ("put", "get", "update", "query", "scan", "transact", "batch")
FLOOR_WORKLOADS = ("put", "update", "transact", "batch")
BATCH = 25  # items per BatchWriteItem
GSI = [
    {
        "IndexName": "gsi",
        "KeySchema": [
            {"AttributeName": "GPK", "KeyType": "HASH"},
            {"AttributeName": "GSK", "KeyType": "RANGE"},
        ],
        "Projection": {"ProjectionType": "ALL"},
    }
]
GSI_TYPES = {"PK": "S", "SK": "S", "GPK": "S", "GSK": "S"}
WAYS = ("moto", "direct", "routed", "floor", "floor-unsigned")


# -- the workload, as wire requests ------------------------------------------------


def _item(pk: str, sk: str, n: int) -> dict[str, Any]:
    return {
        "PK": {"S": pk},
        "SK": {"S": sk},
        "GPK": {"S": f"STATUS#{STATUSES[n % 4]}"},
        "GSK": {"S": f"D#{n:08d}"},
        "status": {"S": STATUSES[n % 4]},
        "total": {"N": f"{n * 7 % 1000}.25"},
        "count": {"N": "0"},
        "tags": {"SS": ["a", "b", "c"]},
        "payload": {"S": PAYLOAD},
    }


def setup(call: Call) -> None:
    """Create the three tables and load the items the reads need."""
    for name in (TABLE, PUT_TABLE):
        call("CreateTable", table_request(name, GSI_TYPES, GSI))
    call("CreateTable", table_request(SCAN_TABLE))
    for i in range(100):  # the queried partition
        call("PutItem", {"TableName": TABLE, "Item": _item("CUSTOMER#q", f"ORDER#{i:05d}", i)})
    for i in range(100):  # items for get and update, one partition each
        call("PutItem", {"TableName": TABLE, "Item": _item(f"CUSTOMER#{i}", "PROFILE", i)})
    for i in range(100):
        item = _item(f"CUSTOMER#{i}", "PROFILE", i)
        call("PutItem", {"TableName": SCAN_TABLE, "Item": item})


def requests(workload: str) -> Iterator[tuple[str, dict[str, Any]]]:
    """An endless stream of (operation, request) for one workload."""
    for n in itertools.count():
        key = {"PK": {"S": f"CUSTOMER#{n % 100}"}, "SK": {"S": "PROFILE"}}
        if workload == "put":
            item = _item(f"CUSTOMER#p{n}", "PROFILE", n)
            yield "PutItem", {"TableName": PUT_TABLE, "Item": item}
        elif workload == "get":
            yield "GetItem", {"TableName": TABLE, "Key": key}
        elif workload == "update":
            yield "UpdateItem", update_request(TABLE, key, "shipped")
        elif workload == "query":
            yield "Query", query_request(TABLE, "CUSTOMER#q", "ORDER#")
        elif workload == "scan":
            yield "Scan", scan_request(SCAN_TABLE)
        elif workload == "transact":
            yield "TransactWriteItems", _transact_request(n, key)
        elif workload == "batch":
            yield "BatchWriteItem", _batch_request(PUT_TABLE, n)
        else:
            raise ValueError(workload)


def _batch_request(table: str, n: int) -> dict[str, Any]:
    """BatchWriteItem of 25 new items (one partition, 25 sort keys)."""
    puts = [
        {"PutRequest": {"Item": _item(f"CUSTOMER#b{n}", f"ORDER#{k:02d}", n)}}
        for k in range(BATCH)
    ]
    return {"RequestItems": {table: puts}}


def _transact_request(n: int, key: dict[str, Any]) -> dict[str, Any]:
    """Two new items and a check that a customer exists, in one transaction."""
    puts = [
        {"Put": {"TableName": PUT_TABLE, "Item": _item(f"CUSTOMER#t{n}", f"ORDER#{k}", n)}}
        for k in range(2)
    ]
    check = {
        "ConditionCheck": {
            "TableName": TABLE,
            "Key": key,
            "ConditionExpression": "attribute_exists(PK)",
        }
    }
    return {"TransactItems": [*puts, check]}


# -- the Python floor -------------------------------------------------------------


class _FloorTable:
    """A table as plain Python keeps it at the least: items by key, keys sorted, one GSI."""

    def __init__(self) -> None:
        self.items: dict[tuple[str, str], dict[str, Any]] = {}
        self.keys: list[tuple[str, str]] = []
        self.gsi: dict[tuple[str, str, str, str], dict[str, Any]] = {}
        self.gsi_keys: list[tuple[str, str, str, str]] = []

    def put(self, item: dict[str, Any]) -> None:
        key = (item["PK"]["S"], item["SK"]["S"])
        if self.items.get(key) is None:
            bisect.insort(self.keys, key)
        self.items[key] = item
        entry = (item["GPK"]["S"], item["GSK"]["S"], *key)
        if entry not in self.gsi:
            bisect.insort(self.gsi_keys, entry)
        self.gsi[entry] = item


def _floor_ops(workload: str) -> Iterator[Callable[[], None]]:
    """An endless stream of the floor's version of ``workload``'s calls."""
    tables = {TABLE: _FloorTable(), PUT_TABLE: _FloorTable()}
    for i in range(100):
        tables[TABLE].put(_item(f"CUSTOMER#{i}", "PROFILE", i))
    for _, request in requests(workload):
        if workload == "put":
            yield partial(tables[PUT_TABLE].put, dict(request["Item"]))
        elif workload == "update":
            yield partial(_floor_update, tables[TABLE], request)
        elif workload == "batch":
            yield partial(_floor_batch, tables[PUT_TABLE], request)
        else:
            yield partial(_floor_transact, tables, request)


def _floor_update(table: _FloorTable, request: dict[str, Any]) -> None:
    key = request["Key"]
    old = table.items.get((key["PK"]["S"], key["SK"]["S"]))
    if old is None or not int(old["count"]["N"]) < 1_000_000_000:
        raise RuntimeError("condition failed")
    new = dict(old)
    new["count"] = {"N": str(int(old["count"]["N"]) + 1)}
    new["status"] = dict(request["ExpressionAttributeValues"][":s"])
    table.put(new)


def _floor_transact(tables: dict[str, _FloorTable], request: dict[str, Any]) -> None:
    actions = request["TransactItems"]
    key = actions[2]["ConditionCheck"]["Key"]
    if (key["PK"]["S"], key["SK"]["S"]) not in tables[TABLE].items:
        raise RuntimeError("condition failed")
    for action in actions[:2]:
        tables[PUT_TABLE].put(dict(action["Put"]["Item"]))


def _floor_batch(table: _FloorTable, request: dict[str, Any]) -> None:
    for writes in request["RequestItems"].values():
        for write in writes:
            table.put(dict(write["PutRequest"]["Item"]))


def time_floor(batch: list[Callable[[], None]]) -> list[float]:
    """The CPU time of each floor operation of ``batch`` (built beforehand, not timed)."""
    overhead = clock_overhead()
    timings = []
    gc.collect()
    for operation in batch:
        start = CLOCK()
        operation()
        timings.append(max(CLOCK() - start - overhead, 1e-9))
    return timings


# -- measuring ---------------------------------------------------------------------


def measure(way: str, workload: str, call: Call, n: int) -> Result:  # moto's way
    """Time ``n`` calls of ``workload`` (after a short warm-up)."""
    stream = requests(workload)
    for _ in range(min(20, n)):
        call(*next(stream))
    batch = [next(stream) for _ in range(n)]
    return Result(way, workload, time_calls(batch, call))


def sample_responses(call: Call) -> dict[str, bytes]:
    """One response body per operation, for the floor's canned answers."""
    canned = {}
    for workload in WORKLOADS:
        operation, request = next(requests(workload))
        response = dict(call(operation, request))
        response.pop("ResponseMetadata", None)
        canned[operation] = json.dumps(response).encode()
    return canned


def run_ways(counts: dict[str, int], moto_counts: dict[str, int]) -> list[Result]:
    """Table 1: every workload, every way."""
    from moto import mock_aws

    results: list[Result] = []
    with mock_aws():
        call = boto3_call(boto3.client("dynamodb", region_name=REGION))
        setup(call)
        results += [measure("moto", w, call, moto_counts[w]) for w in WORKLOADS]

    direct = LocalEngine()
    setup(direct.call)
    canned = sample_responses(direct.call)
    routing = local_dynamodb(engine=LocalEngine())  # re-entered every round
    with routing:  # the floor clients are made outside it: routing must not answer them
        routed = boto3_call(boto3.client("dynamodb", region_name=REGION))
        setup(routed)
    # routed calls need the context; the others must run outside it
    ways: dict[str, tuple[Call, bool]] = {
        "direct": (direct.call, False),
        "routed": (routed, True),
        "floor": (boto3_call(floor_client(canned, unsigned=False)), False),
        "floor-unsigned": (boto3_call(floor_client(canned, unsigned=True)), False),
    }
    for workload in WORKLOADS:
        streams = {way: requests(workload) for way in ways}
        timings: dict[str, list[float]] = {way: [] for way in ways}
        floor_stream = _floor_ops(workload) if workload in FLOOR_WORKLOADS else None
        floor_timings: list[float] = []
        for round_ in range(ROUNDS + 1):  # round 0 warms up and is not counted
            if floor_stream is not None:
                size = 20 if round_ == 0 else counts[workload] // ROUNDS
                taken = time_floor([next(floor_stream) for _ in range(size)])
                if round_:
                    floor_timings += taken
            for way, (call, routed_way) in ways.items():
                size = 20 if round_ == 0 else counts[workload] // ROUNDS
                batch = [next(streams[way]) for _ in range(size)]
                if routed_way:
                    with routing:
                        taken = time_calls(batch, call)
                else:
                    taken = time_calls(batch, call)
                if round_:
                    timings[way] += taken
        results += [Result(way, workload, timings[way]) for way in ways]
        if workload in FLOOR_WORKLOADS:
            results.append(Result("python-floor", workload, floor_timings))
    return results


# -- table 2: cost against table size ----------------------------------------------


def _grow(call: Call, start: int, stop: int) -> None:
    """Add items ``start..stop``: 90% in 100-item partitions, 10% in one big partition."""
    for i in range(start, stop):
        if i % 10 == 0:
            item = _item("BIG", f"ORDER#{i:08d}", i)
        else:
            item = _item(f"F#{i // 100}", f"ORDER#{i:08d}", i)
        call("PutItem", {"TableName": TABLE, "Item": item})


def _scale_requests(size: int) -> dict[str, Iterator[tuple[str, dict[str, Any]]]]:
    middle = f"ORDER#{size // 2:08d}"[:-2]  # a prefix in the middle of the big partition

    def gets() -> Iterator[tuple[str, dict[str, Any]]]:
        for n in itertools.count():
            i = spread(n, size)
            pk = "BIG" if i % 10 == 0 else f"F#{i // 100}"
            key = {"PK": {"S": pk}, "SK": {"S": f"ORDER#{i:08d}"}}
            yield "GetItem", {"TableName": TABLE, "Key": key}

    def queries(pk: str, prefix: str) -> Iterator[tuple[str, dict[str, Any]]]:
        request = query_request(TABLE, pk, prefix)
        while True:
            yield "Query", request

    return {
        "get": gets(),
        "query": queries("CUSTOMER#q", "ORDER#"),
        "query-big": queries("BIG", middle),
    }


def _time_stream(stream: Iterator[tuple[str, dict[str, Any]]], call: Call, n: int) -> Result:
    """Time ``n`` calls, three times over; keep the repetition with the lowest median.

    On a shared two-core machine one repetition's median can move by half when a
    neighbour runs; the quietest of three is the engine's own cost.
    """
    for _ in range(min(20, n)):
        call(*next(stream))
    best: Result | None = None
    for _ in range(3):
        batch = [next(stream) for _ in range(n)]
        result = Result("", "", time_calls(batch, call))
        if best is None or result.percentile(50) < best.percentile(50):
            best = result
    assert best is not None
    return best


def run_scaling(
    sizes: list[int], moto_sizes: list[int], n: int, moto_n: int
) -> list[tuple[str, int, str, Result]]:
    """Table 2: get and query cost as the table grows (direct engine; moto at small sizes)."""
    rows: list[tuple[str, int, str, Result]] = []
    engine = LocalEngine()
    setup(engine.call)
    have = 0
    for size in sizes:
        began = time.perf_counter()
        _grow(engine.call, have, size)
        have = size
        print(f"  built {size:>9,} items in {time.perf_counter() - began:6.1f} s", file=sys.stderr)
        for name, stream in _scale_requests(size).items():
            rows.append(("direct", size, name, _time_stream(stream, engine.call, n)))
    if moto_sizes:
        from moto import mock_aws

        with mock_aws():
            call = boto3_call(boto3.client("dynamodb", region_name=REGION))
            setup(call)
            have = 0
            for size in moto_sizes:
                _grow(call, have, size)
                have = size
                for name, stream in _scale_requests(size).items():
                    rows.append(("moto", size, name, _time_stream(stream, call, moto_n)))
    return rows


# -- printing ----------------------------------------------------------------------


def _by(results: list[Result]) -> dict[tuple[str, str], Result]:
    return {(r.way, r.workload): r for r in results}


def print_ways(results: list[Result]) -> None:
    """Table 1 and the ratios against the targets."""
    print("\nTable 1 -- same workload, every way (~1 KB items; ops/s = 1 / mean CPU time)")
    print(f"{'workload':<8} {'way':<15} {'n':>6} {'ops/s':>10} {'p50 us':>9} {'p99 us':>9}")
    for workload in WORKLOADS:
        for r in results:
            if r.workload == workload and r.way != "python-floor":
                print(
                    f"{workload:<8} {r.way:<15} {len(r.seconds):>6} {r.ops:>10,.0f} "
                    f"{r.percentile(50):>9.1f} {r.percentile(99):>9.1f}"
                )
    table = _by(results)
    print("\nRatios of p50 latencies")
    print(
        "targets: routed <= +25% over floor; direct >= 80x moto on put/get/update, >= 300x on query"
    )
    print(f"{'workload':<8} {'routed/floor':>13} {'routed/unsigned':>16} {'direct vs moto':>15}")
    for workload in WORKLOADS:
        p50 = {way: table[(way, workload)].percentile(50) for way in WAYS}
        over = (p50["routed"] / p50["floor"] - 1) * 100
        over_unsigned = (p50["routed"] / p50["floor-unsigned"] - 1) * 100
        speedup = p50["moto"] / p50["direct"]
        target = {"query": 300, "scan": None, "transact": None, "batch": None}.get(workload, 80)
        verdict = "" if target is None else ("  ok" if speedup >= target else "  speed-up MISSED")
        verdict += "" if over <= 25 else "  routed MISSED +25%"
        print(f"{workload:<8} {over:>+12.1f}% {over_unsigned:>+15.1f}% {speedup:>14,.0f}x{verdict}")
    print("\nTable 1b -- direct engine against the Python floor (p50; target <= 6x the floor)")
    print(f"{'workload':<8} {'direct us':>10} {'floor us':>9} {'ratio':>7}")
    for workload in FLOOR_WORKLOADS:
        direct = table[("direct", workload)].percentile(50)
        floor = table[("python-floor", workload)].percentile(50)
        ratio = direct / floor
        verdict = "  ok" if ratio <= 6 else "  MISSED"
        print(f"{workload:<8} {direct:>10.1f} {floor:>9.2f} {ratio:>6.1f}x{verdict}")


def print_scaling(rows: list[tuple[str, int, str, Result]], moto_note: str) -> None:
    """Table 2: p50 per size, and the growth from the smallest to the largest size."""
    print("\nTable 2 -- cost against table size (p50 / p99 in microseconds)")
    print(f"{'way':<7} {'items':>10} {'get':>17} {'query':>17} {'query-big':>17}")
    sizes = sorted({(way, size) for way, size, _, _ in rows})
    cell = {(way, size, name): r for way, size, name, r in rows}
    for way, size in sizes:
        parts = []
        for name in ("get", "query", "query-big"):
            r = cell[(way, size, name)]
            parts.append(f"{r.percentile(50):>8.1f}/{r.percentile(99):<8.1f}")
        print(f"{way:<7} {size:>10,} " + " ".join(parts))
    direct = sorted(size for way, size in sizes if way == "direct")
    if len(direct) > 1:
        lo, hi = direct[0], direct[-1]
        print(f"growth {lo:,} -> {hi:,} items (p50; target <= 1.5x):", end="")
        for name in ("get", "query", "query-big"):
            ratio = cell[("direct", hi, name)].percentile(50) / cell[
                ("direct", lo, name)
            ].percentile(50)
            print(f"  {name} {ratio:.2f}x", end="")
        print()
    print(moto_note)


# -- table 3: the write path at table size ----------------------------------------

SIZES = (2_000, 100_000)
SIZED_WORKLOADS = ("put", "update", "transact", "batch", "get", "query", "scan")
SIZED_FLOOR = ("put", "update", "transact", "batch")


def _profile(i: int) -> dict[str, Any]:
    return _item(f"CUSTOMER#{i}", "PROFILE", i)


def _sized_requests(workload: str, size: int) -> Iterator[tuple[str, dict[str, Any]]]:
    """Like :func:`requests`, on TABLE holding ``size`` profiles: writes add new items
    to it (and so to its GSI), updates and checks hit profiles spread over all of it."""
    for n in itertools.count():
        key = {"PK": {"S": f"CUSTOMER#{spread(n, size)}"}, "SK": {"S": "PROFILE"}}
        if workload == "put":
            yield "PutItem", {"TableName": TABLE, "Item": _item(f"CUSTOMER#p{n}", "PROFILE", n)}
        elif workload == "update":
            yield "UpdateItem", update_request(TABLE, key, "shipped")
        elif workload == "transact":
            request = _transact_request(n, key)
            for action in request["TransactItems"][:2]:
                action["Put"]["TableName"] = TABLE
            yield "TransactWriteItems", request
        elif workload == "batch":
            yield "BatchWriteItem", _batch_request(TABLE, n)
        elif workload == "get":
            yield "GetItem", {"TableName": TABLE, "Key": key}
        elif workload == "query":
            yield "Query", query_request(TABLE, "CUSTOMER#q", "ORDER#")
        else:
            yield "Scan", scan_request(SCAN_TABLE)


def _sized_engine(size: int) -> LocalEngine:
    engine = LocalEngine()
    setup(engine.call)  # (profiles 0-99 among them)
    engine.load(TABLE, [_profile(i) for i in range(100, size)])
    return engine


def _sized_floor(workload: str, size: int) -> Iterator[Callable[[], None]]:
    table = _FloorTable()
    for i in range(size):
        table.put(_profile(i))
    for _, request in _sized_requests(workload, size):
        if workload == "put":
            yield partial(table.put, dict(request["Item"]))
        elif workload == "update":
            yield partial(_floor_update, table, request)
        elif workload == "batch":
            yield partial(_floor_batch, table, request)
        else:
            yield partial(_floor_transact, {TABLE: table, PUT_TABLE: table}, request)


def run_sized(sizes: tuple[int, ...], n: int) -> dict[tuple[str, int, str], Result]:
    """Table 3, engine and floor: each workload at each size, interleaved in rounds."""
    results: dict[tuple[str, int, str], Result] = {}
    for size in sizes:
        engine = _sized_engine(size)
        for workload in SIZED_WORKLOADS:
            count = n // 10 if workload == "batch" else n
            stream = _sized_requests(workload, size)
            floor = _sized_floor(workload, size) if workload in SIZED_FLOOR else None
            timings: list[float] = []
            floor_timings: list[float] = []
            for round_ in range(ROUNDS + 1):  # round 0 warms up
                take = 20 if round_ == 0 else max(1, count // ROUNDS)
                if floor is not None:
                    taken = time_floor([next(floor) for _ in range(take)])
                    floor_timings += taken if round_ else []
                taken = time_calls([next(stream) for _ in range(take)], engine.call)
                timings += taken if round_ else []
            results[("direct", size, workload)] = Result("direct", workload, timings)
            if floor_timings:
                results[("floor", size, workload)] = Result("floor", workload, floor_timings)
        del engine
    return results


def run_sized_moto(size: int, n: int) -> dict[tuple[str, int, str], Result]:
    """Table 3, moto: the write workloads at ``size`` items (loaded through moto)."""
    from moto import mock_aws

    results: dict[tuple[str, int, str], Result] = {}
    with mock_aws():
        call = boto3_call(boto3.client("dynamodb", region_name=REGION))
        setup(call)
        for i in range(100, size):
            call("PutItem", {"TableName": TABLE, "Item": _profile(i)})
        for workload in SIZED_FLOOR:
            stream = _sized_requests(workload, size)
            count = max(5, n // 10) if workload == "batch" else n
            for _ in range(5):
                call(*next(stream))
            timings = time_calls([next(stream) for _ in range(count)], call)
            results[("moto", size, workload)] = Result("moto", workload, timings)
    return results


def print_sized(results: dict[tuple[str, int, str], Result], moto_size: int | None) -> None:
    """Table 3: p50 per size; ratios to the floor (target <= 6x) and moto (>= 80x)."""
    print(
        "\nTable 3 -- the write path at table size (TABLE with one GSI holds the items; "
        "p50 us, thread CPU time)"
    )
    print(
        f"{'items':>8} {'workload':<9} {'direct':>9} {'floor':>8} {'x floor':>8} "
        f"{'':<6} {'moto':>9} {'x moto':>8}"
    )
    for key in sorted(results, key=lambda k: (k[1], SIZED_WORKLOADS.index(k[2]))):
        way, size, workload = key
        if way != "direct":
            continue
        direct = results[key].percentile(50)
        line = f"{size:>8,} {workload:<9} {direct:>9.1f}"
        floor = results.get(("floor", size, workload))
        if floor is not None:
            ratio = direct / floor.percentile(50)
            verdict = "" if workload == "batch" else ("ok" if ratio <= 6 else "MISSED")
            line += f" {floor.percentile(50):>8.2f} {ratio:>7.1f}x {verdict:<6}"
        moto = results.get(("moto", size, workload))
        if moto is not None:
            line += f" {moto.percentile(50):>9.0f} {moto.percentile(50) / direct:>7.0f}x"
        print(line)
    if moto_size is not None:
        print(
            f"moto is measured at {moto_size:,} items only: loading it costs about a "
            "millisecond an item, so 100,000 items would take minutes."
        )
    print(
        "The floor's sorted lists take bisect.insort: a memmove of the whole list per new "
        "key, which dominates its writes at 100,000 items."
    )


# -- A/B: this tree's engine against another tree's, same script, same run ---------


def run_ab(base: str, rounds: int, quick: bool) -> None:
    """Run Table 3's engine part alternately with ``base`` and this tree on PYTHONPATH;
    print the medians of the per-run p50s."""
    import statistics
    import subprocess

    here = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    trees = {"base": os.path.abspath(base), "this": here}
    runs: dict[str, list[dict[str, dict[str, float]]]] = {name: [] for name in trees}
    for round_ in range(rounds):
        order = list(trees) if round_ % 2 == 0 else list(reversed(trees))
        for name in order:
            env = dict(os.environ, PYTHONPATH=trees[name])
            command = [sys.executable, os.path.abspath(__file__), "--engine-json"]
            command += ["--quick"] if quick else []
            output = subprocess.run(command, env=env, capture_output=True, text=True, check=True)
            runs[name].append(json.loads(output.stdout.strip().splitlines()[-1]))
            print(f"  round {round_ + 1}/{rounds}: {name} done", file=sys.stderr)
    print(f"\nA/B -- median over {rounds} alternating runs of each run's p50 (us)")
    print(f"base: {trees['base']}\nthis: {trees['this']}")
    print(f"{'items':>8} {'workload':<9} {'base':>9} {'this':>9} {'this/base':>10}")
    for size in SIZES:
        for workload in SIZED_WORKLOADS:
            cell = f"{size}/{workload}"
            base_p50 = statistics.median(run[cell] for run in runs["base"])
            this_p50 = statistics.median(run[cell] for run in runs["this"])
            print(
                f"{size:>8,} {workload:<9} {base_p50:>9.1f} {this_p50:>9.1f} "
                f"{this_p50 / base_p50:>9.2f}x"
            )




def main(argv: list[str] | None = None) -> None:
    """Parse the options, run the tables, print them."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer calls; sizes up to 100k")
    parser.add_argument("--ab", metavar="TREE", help="A/B Table 3 against TREE's engine")
    parser.add_argument("--ab-rounds", type=int, default=3, help="alternating runs per tree")
    parser.add_argument("--engine-json", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    aws_environment()
    overhead = clock_overhead()
    n = 1000 if args.quick else 5000
    sized_n = 1000 if args.quick else 3000
    if args.engine_json:  # one A/B run: Table 3's engine part, as JSON on the last line
        sized = run_sized(SIZES, sized_n)
        cells = {
            f"{size}/{workload}": r.percentile(50)
            for (way, size, workload), r in sized.items()
            if way == "direct"
        }
        print(json.dumps(cells))
        return
    if args.ab:
        run_ab(args.ab, args.ab_rounds, args.quick)
        return
    counts = dict.fromkeys(WORKLOADS, n)
    counts["batch"] = n // 10
    moto_n = 100 if args.quick else 300
    moto_counts = {
        **dict.fromkeys(WORKLOADS, moto_n),
        "query": moto_n // 2,
        "scan": moto_n // 2,
        "transact": moto_n // 2,
        "batch": moto_n // 4,
    }
    sizes = [1_000, 10_000, 100_000] + ([] if args.quick else [1_000_000])
    moto_sizes = [1_000] if args.quick else [1_000, 10_000]

    print(
        f"singletable engine benchmark -- Python {platform.python_version()}, "
        f"boto3 {boto3.__version__}, {os.cpu_count()} CPUs, {'quick' if args.quick else 'full'}"
    )
    print(
        f"latencies: thread CPU time ({CLOCK.__name__}), clock overhead "
        f"{overhead * 1e9:,.0f} ns subtracted per sample; load average "
        f"{os.getloadavg()[0]:.1f}"
    )
    print_ways(run_ways(counts, moto_counts))
    sized = run_sized(SIZES, sized_n)
    sized.update(run_sized_moto(SIZES[0], moto_n))
    print_sized(sized, SIZES[0])
    rows = run_scaling(sizes, moto_sizes, n=2000 if args.quick else 5000, moto_n=50)
    note = (
        f"moto is measured at {', '.join(f'{s:,}' for s in moto_sizes)} items only: its Query "
        "walks the whole table, and loading it through moto costs about a millisecond an item."
    )
    print_scaling(rows, note)


if __name__ == "__main__":
    main()
