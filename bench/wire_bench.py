"""Wire benchmark: the modelling layer on the wire backends against boto3, aioboto3,
pydynox and dynamoxy.

Run ``python bench/wire_bench.py`` (about a minute) or ``--quick`` (seconds). Not a
test: it prints a table and checks issue 20's target, on every workload: the wire
backend at least twice the boto3 backend, and at least level with the Rust-core
clients (pydynox, dynamoxy), in client CPU per call. The exit status is 0 when met.

One ``singletable serve`` (in memory, a subprocess on a free 127.0.0.1 port) serves
every way, so the server's cost is the same for all and the differences are the
clients'. Ways:

* ``wire`` / ``wire_async``: ``DB(WireBackend(...))`` / ``AsyncDB(AsyncWireBackend(...))``;
* ``boto3`` / ``aioboto3``: ``DB(Boto3Backend.connect(...))`` /
  ``AsyncDB(AioBoto3Backend.connect(...))``;
* ``pydynox`` (when importable; it is not a dependency): pydynox's client
  (``DynamoDBClient(endpoint_url=...).sync_*``, plain dicts, no model: the least a
  pydynox user can do per call), its HTTP stack in Rust;
* ``dynamoxy`` (not a dependency either): its dict-level calls (``client.table(...)``,
  ``client.transaction()``, plain values, no model, no telemetry, no consumed
  capacity), its HTTP stack in Rust. Its wheels need Python 3.12 or later, so it runs
  in a Python of its own: ``--dynamoxy-python PATH`` (or ``DYNAMOXY_PYTHON``) names
  one where ``pip install dynamoxy`` worked, and ``wire_bench_dynamoxy.py`` runs there,
  one batch of calls per request, reporting its own process's CPU time. Skipped,
  with the reason, when there is none.

Workloads, the same entity (a 10-field order, as in ``orm_bench.py``) for all:
``put`` (a new entity), ``get`` (by key, into an entity), ``query`` (the first page
of 25 of a 100-item partition, as entities), ``batch`` (``write_many`` of 25 new
entities: one BatchWriteItem) and ``transact`` (a transaction of 2 puts and a
condition check: one TransactWriteItems). Every way builds its input in the timed
call (entities for the modelling layer, plain dicts for the others).

Each round runs a batch of calls of one workload per way, the ways in an order
that alternates between rounds (round 0 warms up and is dropped), so load from
other processes lands on all alike. Per way and workload: the median over rounds
of the client process's CPU time per call (``time.process_time`` around each
batch: every thread of the process, the Rust clients' runtime threads included,
the server being another process), with the lowest and highest round; the ratios
to boto3, pydynox and dynamoxy as the median (and range) of each round's ratio of
CPU per call (two ways of one round ran back to back, under the same load); and
the median wall-clock latency of every timed call (``time.perf_counter`` around
each; calls/s = its inverse; a median, because on a shared machine a few calls are
preempted for tens of milliseconds). Async ways run the calls one after another in
one coroutine.

Read the CPU columns first. On a loaded machine (more runnable processes than
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
import json
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

    def run(self, workload: str, start: int, count: int, latencies: Latencies) -> float:
        """Calls ``start`` .. ``start + count - 1``; returns this process's CPU seconds."""
        one, clock = self.one, time.perf_counter
        cpu0 = time.process_time()
        for n in range(start, start + count):
            began = clock()
            one(workload, n)
            latencies.append(clock() - began)
        return time.process_time() - cpu0

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

    def run(self, workload: str, start: int, count: int, latencies: Latencies) -> float:
        cpu0 = time.process_time()
        self.loop.run_until_complete(self._run(workload, start, count, latencies))
        return time.process_time() - cpu0

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


class DynamoxyWay:
    """dynamoxy in a Python of its own (wire_bench_dynamoxy.py), one batch of calls per
    request on its stdin; the CPU time is that process's, measured there."""

    def __init__(self, python: str, url: str) -> None:
        worker = Path(__file__).resolve().parent / "wire_bench_dynamoxy.py"
        self.process = subprocess.Popen(
            [python, str(worker), url, REGION],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            env={k: v for k, v in os.environ.items() if k != "PYTHONPATH"},
        )

    def run(self, workload: str, start: int, count: int, latencies: Latencies) -> float:
        stdin, stdout = self.process.stdin, self.process.stdout
        assert stdin is not None and stdout is not None
        stdin.write(json.dumps({"workload": workload, "start": start, "count": count}) + "\n")
        stdin.flush()
        line = stdout.readline()
        if not line:
            raise SystemExit(f"the dynamoxy worker stopped (exit status {self.process.wait(10)})")
        answer = json.loads(line)
        latencies.extend(answer["latencies"])
        return float(answer["cpu"])

    def close(self) -> None:
        if self.process.stdin is not None:
            self.process.stdin.close()
        try:
            self.process.wait(10)
        except subprocess.TimeoutExpired:
            self.process.kill()


def make_ways(url: str, dynamoxy_python: str | None) -> tuple[dict[str, Any], list[str]]:
    """The ways to run, and a line for each one skipped (why)."""
    ways: dict[str, Any] = {
        "wire": SyncWay(DB(WireBackend(endpoint_url=url, region_name=REGION))),
        "boto3": SyncWay(DB(Boto3Backend.connect(endpoint_url=url, region_name=REGION))),
        "wire_async": AsyncWay(
            lambda: _ready(AsyncWireBackend(endpoint_url=url, region_name=REGION))
        ),
        "aioboto3": AsyncWay(lambda: AioBoto3Backend.connect(endpoint_url=url, region_name=REGION)),
    }
    skipped = []
    if importlib.util.find_spec("pydynox") is not None:
        ways["pydynox"] = PydynoxWay(url)
    else:
        skipped.append("pydynox: not importable here (pip install pydynox)")
    if dynamoxy_python is None and importlib.util.find_spec("dynamoxy") is not None:
        dynamoxy_python = sys.executable
    if dynamoxy_python is not None:
        ways["dynamoxy"] = DynamoxyWay(dynamoxy_python, url)
    else:
        skipped.append(
            "dynamoxy: not importable here (its wheels need Python >= 3.12): pass "
            "--dynamoxy-python with a Python that has it (or set DYNAMOXY_PYTHON)"
        )
    return ways, skipped


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
    parser.add_argument("--rounds", type=int, default=5, help="timed rounds per workload")
    parser.add_argument(
        "--dynamoxy-python",
        default=os.environ.get("DYNAMOXY_PYTHON"),
        help="a Python (>= 3.12) with dynamoxy installed, for the dynamoxy way",
    )
    args = parser.parse_args()
    aws_environment()
    scale = 0.2 if args.quick else 1.0
    rounds = 2 if args.quick else args.rounds
    process, url = start_server()
    try:
        return run(url, scale, rounds, args.dynamoxy_python)
    finally:
        process.kill()
        process.wait(10)


def run(url: str, scale: float, rounds: int, dynamoxy_python: str | None) -> int:
    setup = DB(WireBackend(endpoint_url=url, region_name=REGION))
    setup.create_table(app)
    setup.write_many([Order(**values("q", n)) for n in range(100)])
    setup.close()
    ways, skipped = make_ways(url, dynamoxy_python)
    names = list(ways)
    wall: dict[tuple[str, str], list[float]] = {}  # every call's latency, all rounds
    cpu: dict[tuple[str, str], list[float]] = {}  # each round's CPU per call, in round order
    counter = 0
    try:
        for workload in WORKLOADS:
            count = max(3, int(CALLS[workload] * scale))
            for round_ in range(rounds + 1):
                order = names if round_ % 2 == 0 else names[::-1]
                for name in order:
                    counter += count
                    latencies: list[float] = []
                    spent = ways[name].run(workload, counter, count, latencies)
                    if round_ == 0:
                        continue  # warm-up
                    wall.setdefault((name, workload), []).extend(latencies)
                    cpu.setdefault((name, workload), []).append(spent / count)
    finally:
        for way in ways.values():
            way.close()
    return report(names, skipped, wall, cpu, rounds)


def _ratios(base: list[float], way: list[float]) -> list[float]:
    """Per round: how many times less CPU per call ``way`` took than ``base`` (the
    same round: the two ran back to back, under the same load)."""
    return [b / w for b, w in zip(base, way, strict=True)]


def report(
    names: list[str],
    skipped: list[str],
    wall: dict[tuple[str, str], list[float]],
    cpu: dict[tuple[str, str], list[float]],
    rounds: int,
) -> int:
    print(
        f"Python {sys.version.split()[0]}; one `singletable serve` subprocess; "
        f"{rounds} timed rounds per workload, interleaved"
    )
    for line in skipped:
        print(f"skipped: {line}")
    print()
    print(
        "client CPU: median over rounds of this process's CPU time per call [lowest-highest "
        "round]; x boto3 / x pydynox: median over rounds of that round's CPU ratio [range]; "
        "calls/s: 1 / median wall-clock latency of every call"
    )
    print()
    bases = [b for b in ("boto3", "pydynox", "dynamoxy") if b in names]
    header = f"{'workload':<9} {'way':<11} {'client CPU ms/call':>22}"
    header += "".join(f"{'x ' + b + ' (CPU)':>22}" for b in bases)
    header += f" {'calls/s':>8}" + "".join(f"{'x ' + b:>11}" for b in bases)
    print(header)
    verdicts: list[tuple[str, str, bool]] = []
    for workload in WORKLOADS:
        for name in names:
            rounds_cpu = cpu[(name, workload)]
            c = statistics.median(rounds_cpu)
            w = statistics.median(wall[(name, workload)])
            cell = f"{c * 1e3:.3f} [{min(rounds_cpu) * 1e3:.3f}-{max(rounds_cpu) * 1e3:.3f}]"
            line = f"{workload:<9} {name:<11} {cell:>22}"
            for base in bases:
                ratios = _ratios(cpu[(base, workload)], rounds_cpu)
                cell = f"{statistics.median(ratios):.2f} [{min(ratios):.2f}-{max(ratios):.2f}]"
                line += f"{cell:>22}"
            line += f" {1 / w:>8.0f}"
            for base in bases:
                line += f"{statistics.median(wall[(base, workload)]) / w:>11.2f}"
            print(line)
        print()
        for base, need in (("boto3", 2.0), ("pydynox", 1.0), ("dynamoxy", 1.0)):
            if base in names:
                ratio = statistics.median(_ratios(cpu[(base, workload)], cpu[("wire", workload)]))
                met = ratio >= need
                verdicts.append((workload, f"{ratio:.2f}x {base} (need {need:g}x)", met))
    print("target (issue 20), on the client CPU per call of the wire backend (sync):")
    for workload, text, met in verdicts:
        print(f"  {workload:<9} {text:<28} {'met' if met else 'NOT met'}")
    return 0 if all(met for _, _, met in verdicts) else 1


if __name__ == "__main__":
    raise SystemExit(main())
