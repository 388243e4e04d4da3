"""Routing benchmark: boto3 through ``local_dynamodb()`` against botocore's own floor.

Run ``python bench/routing_bench.py`` (about a minute) or ``--quick``. Not a
test: it prints numbers and checks them against issue 19's target, routed <=
1.25x the floor on every workload.

Ways, each a boto3 client calling the same workload:

* ``routed``  -- inside ``singletable.testing.local_dynamodb()``: the request is
  answered in process by the engine (``call_json``), unsigned;
* ``floor``   -- the send short-circuited by a ``before-send`` handler returning
  the body the engine returned for that call, prebuilt: the request is still
  built, serialized and signed and the response still parsed, so nothing
  reached through boto3 costs less;
* ``floor-unsigned`` -- the same, unsigned (a ``choose-signer`` handler
  returning UNSIGNED), as routed requests are.

``engine`` is the engine's own ``call_json`` on the same requests (bodies
serialized beforehand, not timed): routed minus floor minus engine is what the
routing itself costs.

Workloads (items of about 1 KB): put (a new item), get, update (conditional,
``UPDATED_NEW``), query (``begins_with``, ``Limit`` 25 of a 100-item partition),
scan (a 100-item table, a filter keeping a quarter), batch (BatchWriteItem of 25
new items) and transact (TransactWriteItems: 2 conditional Puts + 1
ConditionCheck).

Latencies are the benchmark thread's CPU time (``time.thread_time``): on a shared
machine, wall time measures the neighbours. The ways run interleaved in short
rounds whose order alternates, so that load from elsewhere lands on all of them
alike; the ratio is the median over rounds of each round's routed median over
its floor median (paired by round).
"""

from __future__ import annotations

import argparse
import gc
import itertools
import json
import os
import platform
import statistics
import sys
from collections.abc import Iterator
from typing import Any

import boto3
from _common import (
    REGION,
    WIRE_PUT_TABLE,
    WIRE_SCAN_TABLE,
    WIRE_TABLE,
    WIRE_WORKLOADS,
    Call,
    aws_environment,
    boto3_call,
    clock_overhead,
    floor_client,
    table_request,
    time_calls,
    wire_item,
    wire_requests,
)

from singletable.backends.local import LocalEngine
from singletable.testing import local_dynamodb

TABLE, PUT_TABLE, SCAN_TABLE = WIRE_TABLE, WIRE_PUT_TABLE, WIRE_SCAN_TABLE
TABLE_ITEMS = 1000
SCAN_ITEMS = 100
WORKLOADS = WIRE_WORKLOADS
WAYS = ("routed", "floor", "floor-unsigned", "engine")
TARGET = 1.25

Request = tuple[str, dict[str, Any]]


# -- the workloads, as wire requests (bench/_common.py) ---------------------------------


def requests(workload: str, fresh: Iterator[int]) -> Iterator[Request]:
    """An endless stream of (operation, request); ``fresh`` numbers new items."""
    return wire_requests(workload, fresh, TABLE_ITEMS)


def load(call: Call) -> None:
    """Create the three tables and fill the two that are read."""
    for name in (TABLE, PUT_TABLE, SCAN_TABLE):
        call("CreateTable", table_request(name))
    for table, count in ((TABLE, TABLE_ITEMS), (SCAN_TABLE, SCAN_ITEMS)):
        for first in range(0, count, 25):
            puts = [{"PutRequest": {"Item": wire_item(i)}} for i in range(first, first + 25)]
            call("BatchWriteItem", {"RequestItems": {table: puts}})


def canned_bodies(engine: LocalEngine, fresh: Iterator[int]) -> dict[str, bytes]:
    """The body the engine answers each workload's operation with (the floor's answers)."""
    bodies = {}
    for workload in WORKLOADS:
        operation, request = next(requests(workload, fresh))
        status, body = engine.call_json(operation, json.dumps(request))
        if status != 200:
            raise RuntimeError(f"{operation}: {body!r}")
        bodies[operation] = body
    return bodies


def run(rounds: int, size: int) -> dict[tuple[str, str], list[list[float]]]:
    """Per-call CPU times of each (way, workload), round by round."""
    fresh = itertools.count(10_000_000)
    routing = local_dynamodb(engine=LocalEngine())
    with routing as routed_engine:
        routed = boto3_call(boto3.client("dynamodb", region_name=REGION))
        load(routed)
    direct = LocalEngine()  # the engine way, on its own engine
    load(direct.call)
    canned = canned_bodies(direct, fresh)
    floor = boto3_call(floor_client(canned, unsigned=False))
    unsigned = boto3_call(floor_client(canned, unsigned=True))
    assert routed_engine is not None

    def engine_call(operation: str, body: Any) -> Any:
        return direct.call_json(operation, body)

    timings: dict[tuple[str, str], list[list[float]]] = {}
    gc.collect()
    gc.freeze()  # each batch's collection then walks only what the run made
    for workload in WORKLOADS:
        streams = {way: requests(workload, fresh) for way in WAYS}
        for round_ in range(rounds + 1):  # round 0 warms up
            order = list(WAYS) if round_ % 2 else list(reversed(WAYS))
            for way in order:
                batch = [next(streams[way]) for _ in range(size if round_ else 10)]
                if way == "routed":
                    with routing:
                        taken = time_calls(batch, routed)
                elif way == "engine":
                    serialized = [(op, json.dumps(request)) for op, request in batch]
                    taken = time_calls(serialized, engine_call)
                else:
                    taken = time_calls(batch, floor if way == "floor" else unsigned)
                if round_:
                    timings.setdefault((way, workload), []).append(taken)
        print(f"  {workload} done", file=sys.stderr)
    return timings


def report(timings: dict[tuple[str, str], list[list[float]]]) -> bool:
    """Print the table and the check; True if routed <= TARGET x floor everywhere."""
    print(
        "\nCPU time per call, us: median of all calls (median of the rounds' medians, "
        "lowest-highest round)"
    )
    print(f"{'workload':<9}" + "".join(f"{way:>26}" for way in WAYS) + f"{'routed/floor':>22}")
    passed = True
    for workload in WORKLOADS:
        row = f"{workload:<9}"
        medians = {}
        for way in WAYS:
            rounds = timings[(way, workload)]
            medians[way] = [statistics.median(r) * 1e6 for r in rounds]
            every = statistics.median(t for r in rounds for t in r) * 1e6
            cell = f"{every:.1f} ({min(medians[way]):.0f}-{max(medians[way]):.0f})"
            row += f"{cell:>26}"
        ratios = [r / f for r, f in zip(medians["routed"], medians["floor"], strict=True)]
        ratio = statistics.median(ratios)
        passed &= ratio <= TARGET
        verdict = "PASS" if ratio <= TARGET else "MISS"
        row += f"{ratio:>9.3f}x ({min(ratios):.2f}-{max(ratios):.2f}) {verdict}"
        print(row)
    print(f"\ntarget: routed <= {TARGET}x floor on every workload: {'PASS' if passed else 'MISS'}")
    return passed


def main(argv: list[str] | None = None) -> int:
    """Measure, print; exit status 0 if the target is met."""
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer rounds, smaller batches")
    parser.add_argument("--rounds", type=int, help="rounds per workload (default 12, quick 4)")
    args = parser.parse_args(argv)
    aws_environment()
    rounds = args.rounds or (4 if args.quick else 12)
    size = 50 if args.quick else 100
    clock_overhead()
    print(
        f"singletable routing benchmark -- Python {platform.python_version()}, boto3 "
        f"{boto3.__version__}, {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f}, "
        f"{rounds} rounds of {size} calls per way and workload"
    )
    passed = report(run(rounds, size))
    return 0 if passed else 1


if __name__ == "__main__":
    sys.exit(main())
