"""Wire benchmark: the modelling layer on the wire backends against boto3 and aioboto3.

Run ``python bench/wire_bench.py`` (about a minute and a half) or ``--quick``. Not a
test: it prints a table and checks issue 20's target (the wire backend at least
twice the boto3 backend's throughput on every workload).

One ``singletable serve`` (in memory, a subprocess on a free 127.0.0.1 port) serves
every way, so the server's cost is the same for all and the differences are the
clients'. Ways:

* ``wire`` / ``wire_async``: ``DB(WireBackend(...))`` / ``AsyncDB(AsyncWireBackend(...))``;
* ``boto3`` / ``aioboto3``: ``DB(Boto3Backend.connect(...))`` /
  ``AsyncDB(AioBoto3Backend.connect(...))``;
* ``pydynox`` (when importable; it is not a dependency): pydynox's client
  (``DynamoDBClient(endpoint_url=...).sync_*``, plain dicts, no model: the least a
  pydynox user can do per call), its HTTP stack in Rust. dynamoxy, the other
  Rust-core ORM the issue names, is included the same way when importable (it was
  not installable here: pip finds no distribution for this Python).

Workloads, the same entity (a 10-field order, as in ``orm_bench.py``) for all:
``put`` (a new entity), ``get`` (by key, into an entity), ``query`` (the first page
of 25 of a 100-item partition, as entities), ``batch`` (``write_many`` of 25 new
entities: one BatchWriteItem) and ``transact`` (a transaction of 2 puts and a
condition check: one TransactWriteItems).

Each round runs a batch of calls of one workload per way, the ways in an order
that alternates between rounds (round 0 warms up and is dropped), so load from
other processes lands on all alike. Per way and workload: the median wall-clock
latency of every timed call (``time.perf_counter`` around each; calls/s = its
inverse; a median, because on a shared machine a few calls are preempted for tens
of milliseconds), and the median over rounds of the client process's CPU time per
call (``time.process_time`` around each batch: every thread of this process, the
server being another process). Async ways run the calls one after another in one
coroutine.

Read the CPU column first. On a loaded machine (more runnable processes than
cores) the wall-clock column also measures the scheduler: each call wakes the
server and then the client, and a process that has just spent CPU (building and
validating 25 entities, say) waits longer to be scheduled than one that has not,
so a workload that does more client work per call loses wall time out of
proportion to its CPU. Measured here at load ~8 on 2 cores: the wire backend's raw
Query of 25 (no entities built) took a median 0.36 ms against pydynox's 0.70 ms,
while the modelling layer's query on it, 0.5 ms of CPU, took 2.3 ms of wall time.
"""

from __future__ import annotations

import argparse
import asyncio
import importlib.util
import os
import re
import statistics
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from _common import REGION, Address, aws_environment
from _common import order_values as values

from singletable.backends.aioboto3 import AioBoto3Backend
from singletable.backends.boto3 import Boto3Backend
from singletable.backends.wire import AsyncWireBackend, WireBackend
from singletable.db import DB, AsyncDB
from singletable.entity import Entity, Keys
from singletable.patterns import Query
from singletable.table import Table

WORKLOADS = ("put", "get", "query", "batch", "transact")
CALLS = {"put": 200, "get": 200, "query": 60, "batch": 30, "transact": 100}
SERVING = re.compile(r"serving DynamoDB on (http://127\.0\.0\.1:\d+)")

app = Table("wire_bench")




class Order(Entity, table=app):
    """The 10-field entity (orm_bench.py's, without the index)."""

    customer_id: str
    order_id: str
    created_at: datetime
    status: str
    total: Decimal
    quantity: int
    gift: bool
    tags: set[str]
    address: Address
    note: str

    keys = Keys(pk="CUSTOMER#{customer_id}", sk="ORDER#{order_id}")
    for_customer = Query()




def plain_item(customer: str, n: int) -> dict[str, Any]:
    """The same order as plain values for pydynox (it converts them to attribute values)."""
    v = values(customer, n)
    return {
        "PK": f"CUSTOMER#{customer}",
        "SK": f"ORDER#{v['order_id']}",
        **{k: v[k] for k in ("customer_id", "order_id", "status", "quantity", "gift", "note")},
        "created_at": v["created_at"].isoformat(),
        "total": v["total"],
        "tags": v["tags"],
        "address": v["address"],
    }


# -- the ways: each does call ``n`` of a workload; ``run`` times each call --------------------

Latencies = list[float]


class SyncWay:
    def __init__(self, db: DB) -> None:
        self.db = db

    def run(self, workload: str, start: int, count: int, latencies: Latencies) -> None:
        one, clock = self.one, time.perf_counter
        for n in range(start, start + count):
            began = clock()
            one(workload, n)
            latencies.append(clock() - began)

    def one(self, workload: str, n: int) -> None:
        db = self.db
        if workload == "put":
            db.put(Order(**values("w", n)))
        elif workload == "get":
            assert db.get(Order, customer_id="q", order_id=f"o{n % 100:05d}") is not None
        elif workload == "query":
            page = db.query(Order.for_customer, customer_id="q").page_size(25).page()
            assert len(page.items) == 25
        elif workload == "batch":
            db.write_many([Order(**values("b", n * 25 + i)) for i in range(25)])
        else:
            with db.transaction() as tx:
                tx.put(Order(**values("t", 2 * n)))
                tx.put(Order(**values("t", 2 * n + 1)))
                tx.check(Order, Order.quantity >= 1, customer_id="q", order_id="o00001")

    def close(self) -> None:
        self.db.close()


class AsyncWay:
    def __init__(self, make: Callable[[], Awaitable[Any]]) -> None:
        self.loop = asyncio.new_event_loop()
        self.db = AsyncDB(self.loop.run_until_complete(make()))

    def run(self, workload: str, start: int, count: int, latencies: Latencies) -> None:
        self.loop.run_until_complete(self._run(workload, start, count, latencies))

    async def _run(self, workload: str, start: int, count: int, latencies: Latencies) -> None:
        one, clock = self.one, time.perf_counter
        for n in range(start, start + count):
            began = clock()
            await one(workload, n)
            latencies.append(clock() - began)

    async def one(self, workload: str, n: int) -> None:
        db = self.db
        if workload == "put":
            await db.put(Order(**values("w", n)))
        elif workload == "get":
            assert await db.get(Order, customer_id="q", order_id=f"o{n % 100:05d}") is not None
        elif workload == "query":
            page = await db.query(Order.for_customer, customer_id="q").page_size(25).page()
            assert len(page.items) == 25
        elif workload == "batch":
            await db.write_many([Order(**values("b", n * 25 + i)) for i in range(25)])
        else:
            async with db.transaction() as tx:
                tx.put(Order(**values("t", 2 * n)))
                tx.put(Order(**values("t", 2 * n + 1)))
                tx.check(Order, Order.quantity >= 1, customer_id="q", order_id="o00001")

    def close(self) -> None:
        self.loop.run_until_complete(self.db.close())
        self.loop.close()


class PydynoxWay(SyncWay):
    def __init__(self, url: str) -> None:
        from pydynox import DynamoDBClient

        self.client = DynamoDBClient(region=REGION, endpoint_url=url)

    def one(self, workload: str, n: int) -> None:
        client, table = self.client, app.name
        if workload == "put":
            client.sync_put_item(table, plain_item("pw", n))
        elif workload == "get":
            key = {"PK": "CUSTOMER#q", "SK": f"ORDER#o{n % 100:05d}"}
            assert client.sync_get_item(table, key) is not None
        elif workload == "query":
            result = client.sync_query(
                table,
                "PK = :pk",
                expression_attribute_values={":pk": "CUSTOMER#q"},
                limit=25,
                page_size=25,
            )
            assert len(list(result)) == 25
        elif workload == "batch":
            items = [plain_item("pb", n * 25 + i) for i in range(25)]
            client.sync_batch_write(table, put_items=items)
        else:
            client.sync_transact_write(
                [
                    {"type": "put", "table": table, "item": plain_item("pt", 2 * n)},
                    {"type": "put", "table": table, "item": plain_item("pt", 2 * n + 1)},
                    {
                        "type": "condition_check",
                        "table": table,
                        "key": {"PK": "CUSTOMER#q", "SK": "ORDER#o00001"},
                        "condition_expression": "quantity >= :one",
                        "expression_attribute_values": {":one": 1},
                    },
                ]
            )

    def close(self) -> None:
        pass


def make_ways(url: str) -> dict[str, Any]:
    ways: dict[str, Any] = {
        "wire": SyncWay(DB(WireBackend(endpoint_url=url, region_name=REGION))),
        "boto3": SyncWay(DB(Boto3Backend.connect(endpoint_url=url, region_name=REGION))),
        "wire_async": AsyncWay(
            lambda: _ready(AsyncWireBackend(endpoint_url=url, region_name=REGION))
        ),
        "aioboto3": AsyncWay(
            lambda: AioBoto3Backend.connect(endpoint_url=url, region_name=REGION)
        ),
    }
    if importlib.util.find_spec("pydynox") is not None:
        ways["pydynox"] = PydynoxWay(url)
    return ways


async def _ready(backend: Any) -> Any:
    return backend


# -- the server, the rounds, the table ------------------------------------------------------


def start_server() -> tuple[subprocess.Popen[str], str]:
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parent.parent)}
    process = subprocess.Popen(
        [sys.executable, "-m", "singletable.cli", "serve", "--port", "0"],
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    assert process.stderr is not None
    line = process.stderr.readline()
    match = SERVING.search(line)
    if not match:
        process.kill()
        raise SystemExit(f"the server did not start: {line!r}")
    return process, match.group(1)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="a smoke run (fewer calls)")
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    aws_environment()
    scale = 0.2 if args.quick else 1.0
    rounds = 2 if args.quick else args.rounds
    process, url = start_server()
    try:
        return run(url, scale, rounds)
    finally:
        process.kill()
        process.wait(10)


def run(url: str, scale: float, rounds: int) -> int:
    setup = DB(WireBackend(endpoint_url=url, region_name=REGION))
    setup.create_table(app)
    setup.write_many([Order(**values("q", n)) for n in range(100)])
    setup.close()
    ways = make_ways(url)
    names = list(ways)
    wall: dict[tuple[str, str], list[float]] = {}  # every call's latency, all rounds
    cpu: dict[tuple[str, str], list[float]] = {}  # each round's CPU per call
    counter = 0
    try:
        for workload in WORKLOADS:
            count = max(3, int(CALLS[workload] * scale))
            for round_ in range(rounds + 1):
                order = names if round_ % 2 == 0 else names[::-1]
                for name in order:
                    counter += count
                    latencies: list[float] = []
                    cpu0 = time.process_time()
                    ways[name].run(workload, counter, count, latencies)
                    cpu1 = time.process_time()
                    if round_ == 0:
                        continue  # warm-up
                    wall.setdefault((name, workload), []).extend(latencies)
                    cpu.setdefault((name, workload), []).append((cpu1 - cpu0) / count)
    finally:
        for way in ways.values():
            way.close()
    return report(names, wall, cpu)


def report(
    names: list[str],
    wall: dict[tuple[str, str], list[float]],
    cpu: dict[tuple[str, str], list[float]],
) -> int:
    print(f"Python {sys.version.split()[0]}; one `singletable serve` subprocess")
    print()
    header = f"{'workload':<9} {'way':<11} {'calls/s':>9} {'ms/call':>8} "
    print(header + f"{'client CPU ms/call':>19} {'x boto3 (calls/s)':>18} {'x boto3 (CPU)':>14}")
    ok = True
    for workload in WORKLOADS:
        base_wall = statistics.median(wall[("boto3", workload)])
        base_cpu = statistics.median(cpu[("boto3", workload)])
        for name in names:
            w = statistics.median(wall[(name, workload)])
            c = statistics.median(cpu[(name, workload)])
            print(
                f"{workload:<9} {name:<11} {1 / w:>9.0f} {w * 1e3:>8.3f} {c * 1e3:>19.3f} "
                f"{base_wall / w:>18.2f} {base_cpu / c:>14.2f}"
            )
            if name == "wire" and base_wall / w < 2.0:
                ok = False
        print()
    verdict = "met" if ok else "NOT met"
    print(f"target (issue 20): wire >= 2x boto3's calls/s on every workload: {verdict}")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
