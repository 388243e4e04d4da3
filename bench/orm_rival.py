"""orm_bench.py's Table 6: our ORM on the embedded engine against dynamoxy's, side by side.

``python bench/orm_bench.py --dynamoxy-python PATH`` (or ``DYNAMOXY_PYTHON``) names a
Python (>= 3.12, dynamoxy's wheels need it) where ``pip install dynamoxy`` worked;
dynamoxy is not a dependency of this project. ``orm_bench_dynamoxy.py`` runs there
with dynamoxy's in-memory store (``dynamoxy.testing.memory_client()``, its Rust
core) and its model API; the ways here are:

* ``ours``  -- ``DB()`` (the sync API) on the embedded engine (LocalBackend);
* ``ours async`` -- ``AsyncDB`` on the same engine, through a four-line async adapter
  of LocalBackend (the library has no async local backend: the engine runs in
  process, so awaiting it only adds the coroutines), each batch in one event loop
  as dynamoxy's are;
* ``dynamoxy`` -- its repository calls, awaited in its own process's event loop.

Every way has its own 2,000-item table (20 partitions of 100 orders, a GSI), puts
go to a second, empty table, and the workloads are orm_bench's: build the entity
from plain values and put it, get one by key, query the first 25 of a partition.

Latencies are CPU time per call: ``time.process_time`` on both sides (every thread
of the process: dynamoxy's Rust core may work on threads of its own), clock overhead
subtracted. The ways alternate in rounds, each round a batch of calls per way, so load
from other processes lands on all of them alike. Each way's batch CPU per call (the
batch's process CPU over its calls, including anything run between calls) is shown
too: it catches work a per-call window would miss. dynamoxy's wall-clock median is
shown for reference (on a shared machine it includes waiting for a core).
"""

from __future__ import annotations

import asyncio
import gc
import json
import os
import statistics
import subprocess
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from singletable.backends.engine import LocalBackend
from singletable.db import DB, AsyncDB

WORKLOADS = ("put", "get", "query")
WAYS = ("ours", "ours async", "dynamoxy")
PARTITIONS = 20
PER_PARTITION = 100
QUERY_LIMIT = 25
TARGET = 2.0  # issue 19: at least 2x dynamoxy's speed on each workload


def skipped_reason(python: str | None) -> str | None:
    """Why Table 6 is skipped (None: it runs)."""
    if python is None:
        return (
            "dynamoxy: skipped (its wheels need Python >= 3.12; pass --dynamoxy-python "
            "with a Python that has it, or set DYNAMOXY_PYTHON)"
        )
    if not os.path.exists(python):
        return f"dynamoxy: skipped (no Python at {python})"
    return None


def _overhead(clock: Callable[[], float]) -> float:
    pairs = []
    for _ in range(2000):
        start = clock()
        pairs.append(clock() - start)
    return sorted(pairs)[len(pairs) // 2]


class _AsyncLocal:
    """LocalBackend as an AsyncBackend (the bench's adapter; see the module docstring)."""

    def __init__(self, backend: LocalBackend) -> None:
        self.backend = backend

    async def call(self, operation: str, request: dict[str, Any]) -> dict[str, Any]:
        return self.backend.call(operation, request)

    async def close(self) -> None:
        self.backend.close()


class Worker:
    """orm_bench_dynamoxy.py in the Python at ``python``: one batch of calls per line."""

    def __init__(self, python: str) -> None:
        script = Path(__file__).resolve().parent / "orm_bench_dynamoxy.py"
        self.process = subprocess.Popen(
            [python, str(script)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            env={k: v for k, v in os.environ.items() if k != "PYTHONPATH"},
        )
        self.version = str(self._answer()["ready"])

    def _answer(self) -> dict[str, Any]:
        assert self.process.stdout is not None
        line = self.process.stdout.readline()
        if not line:
            raise SystemExit(f"the dynamoxy worker stopped (exit status {self.process.wait(10)})")
        answer: dict[str, Any] = json.loads(line)
        return answer

    def run(self, workload: str, start: int, count: int) -> tuple[list[float], list[float], float]:
        """Per-call CPU and wall times, and the batch's CPU time (seconds)."""
        assert self.process.stdin is not None
        order = {"workload": workload, "start": start, "count": count}
        self.process.stdin.write(json.dumps(order) + "\n")
        self.process.stdin.flush()
        answer = self._answer()
        return answer["cpu"], answer["wall"], float(answer["batch"])

    def close(self) -> None:
        if self.process.stdin is not None:
            self.process.stdin.close()
        try:
            self.process.wait(10)
        except subprocess.TimeoutExpired:
            self.process.kill()


class Ours:
    """Our two ways, each with its own loaded table, and the calls orm_bench times."""

    def __init__(
        self,
        entity: Any,
        table: Any,
        pattern: Any,
        values: Callable[[str, int], dict[str, Any]],
        read_key: Callable[[int], tuple[str, int]],
    ) -> None:
        self.entity, self.pattern, self.values, self.read_key = entity, pattern, values, read_key
        self.dbs: list[DB] = []
        self.loop = asyncio.new_event_loop()
        self.sync = self._calls(table, asynchronous=False)
        self.asynchronous = self._calls(table, asynchronous=True)

    def _db(self, table: Any) -> DB:
        db = DB()
        db.create_table(table)
        self.dbs.append(db)
        return db

    def _calls(self, table: Any, asynchronous: bool) -> dict[str, Callable[[int], Any]]:
        entity, pattern, values, read_key = self.entity, self.pattern, self.values, self.read_key
        db, put_db = self._db(table), self._db(table)
        loaded = [
            entity(**values(f"c{p:02d}", n))
            for p in range(PARTITIONS)
            for n in range(PER_PARTITION)
        ]
        for start in range(0, len(loaded), 25):
            db.write_many(loaded[start : start + 25])
        found = db.query(pattern, customer_id="c03").limit(QUERY_LIMIT).all()
        assert [o.order_id for o in found] == [f"o{n:05d}" for n in range(QUERY_LIMIT)]
        if not asynchronous:

            def put(n: int) -> Any:
                return put_db.put(entity(**values(f"p{n}", n)))

            def get(n: int) -> Any:
                customer, order = read_key(n)
                return db.get(entity, customer_id=customer, order_id=f"o{order:05d}")

            def query(n: int) -> Any:
                customer = f"c{n % PARTITIONS:02d}"
                return db.query(pattern, customer_id=customer).limit(QUERY_LIMIT).all()

            return {"put": put, "get": get, "query": query}
        assert isinstance(db.backend, LocalBackend) and isinstance(put_db.backend, LocalBackend)
        adb = AsyncDB(_AsyncLocal(db.backend))
        put_adb = AsyncDB(_AsyncLocal(put_db.backend))

        async def aput(n: int) -> Any:
            return await put_adb.put(entity(**values(f"p{n}", n)))

        async def aget(n: int) -> Any:
            customer, order = read_key(n)
            return await adb.get(entity, customer_id=customer, order_id=f"o{order:05d}")

        async def aquery(n: int) -> Any:
            customer = f"c{n % PARTITIONS:02d}"
            return await adb.query(pattern, customer_id=customer).limit(QUERY_LIMIT).all()

        return {"put": aput, "get": aget, "query": aquery}  # type: ignore[dict-item]

    def run_sync(self, workload: str, start: int, count: int) -> tuple[list[float], float]:
        op, clock, overhead = self.sync[workload], time.process_time, _overhead(time.process_time)
        out = []
        gc.collect()
        batch0 = clock()
        for n in range(start, start + count):
            began = clock()
            op(n)
            out.append(max(clock() - began - overhead, 1e-9))
        return out, clock() - batch0

    def run_async(self, workload: str, start: int, count: int) -> tuple[list[float], float]:
        op, clock = self.asynchronous[workload], time.process_time
        overhead = _overhead(clock)

        async def batch() -> list[float]:
            out = []
            for n in range(start, start + count):
                began = clock()
                await op(n)
                out.append(max(clock() - began - overhead, 1e-9))
            return out

        gc.collect()
        batch0 = clock()
        out = self.loop.run_until_complete(batch())
        return out, clock() - batch0

    def close(self) -> None:
        for db in self.dbs:
            db.close()
        self.loop.close()


class Samples:
    """One way's samples of one workload, by round."""

    def __init__(self) -> None:
        self.cpu: list[list[float]] = []
        self.wall: list[float] = []
        self.batch: list[float] = []  # per round: the batch's CPU per call

    @property
    def median(self) -> float:
        return statistics.median(s for r in self.cpu for s in r)

    def p(self, q: float) -> float:
        ordered = sorted(s for r in self.cpu for s in r)
        return ordered[min(len(ordered) - 1, int(q / 100 * len(ordered)))]


def measure(
    python: str,
    entity: Any,
    table: Any,
    pattern: Any,
    values: Callable[[str, int], dict[str, Any]],
    read_key: Callable[[int], tuple[str, int]],
    quick: bool,
) -> tuple[str, dict[tuple[str, str], Samples]]:
    """Table 6's samples: (dynamoxy's version, samples by (way, workload))."""
    rounds = 3 if quick else 9
    counts = (
        {"put": 200, "get": 300, "query": 60} if quick else {"put": 600, "get": 900, "query": 150}
    )
    worker = Worker(python)
    ours = Ours(entity, table, pattern, values, read_key)
    gc.collect()
    gc.freeze()
    results: dict[tuple[str, str], Samples] = {}
    try:
        for workload in WORKLOADS:
            next_n = dict.fromkeys(WAYS, 0)
            for way in WAYS:
                results[(way, workload)] = Samples()
            for round_ in range(rounds + 1):  # round 0 warms up
                order = WAYS if round_ % 2 else tuple(reversed(WAYS))
                for way in order:
                    count = counts[workload] if round_ else 10
                    start = next_n[way]
                    next_n[way] += count
                    if way == "dynamoxy":
                        cpu, wall, batch = worker.run(workload, start, count)
                    elif way == "ours":
                        (cpu, batch), wall = ours.run_sync(workload, start, count), []
                    else:
                        (cpu, batch), wall = ours.run_async(workload, start, count), []
                    if round_:
                        samples = results[(way, workload)]
                        samples.cpu.append(cpu)
                        samples.wall.extend(wall)
                        samples.batch.append(batch / count)
    finally:
        worker.close()
        ours.close()
    return worker.version, results


def summary(results: dict[tuple[str, str], Samples]) -> dict[str, float]:
    """What ``--ab`` compares: our speed over dynamoxy's (median CPU per call) per workload."""
    out: dict[str, float] = {}
    for workload in WORKLOADS:
        rival = results[("dynamoxy", workload)].median
        out[f"{workload} x dynamoxy"] = rival / results[("ours", workload)].median
        out[f"{workload} async x dynamoxy"] = rival / results[("ours async", workload)].median
    return out


def print_table(version: str, results: dict[tuple[str, str], Samples]) -> None:
    print(
        f"\nTable 6 -- our ORM on the embedded engine vs dynamoxy {version}'s in-memory store "
        "(Rust core), each through its ORM; process CPU per call"
    )
    print(
        f"{'workload':<8} {'way':<11} {'n':>6} {'p50 us':>9} {'p90 us':>9} "
        f"{'batch us':>9} {'wall p50':>9} {'x dynamoxy':>11}"
    )
    for workload in WORKLOADS:
        rival = results[("dynamoxy", workload)].median
        for way in WAYS:
            s = results[(way, workload)]
            n = sum(len(r) for r in s.cpu)
            wall = f"{statistics.median(s.wall) * 1e6:9.1f}" if s.wall else f"{'':>9}"
            print(
                f"{workload:<8} {way:<11} {n:>6} {s.median * 1e6:>9.1f} {s.p(90) * 1e6:>9.1f} "
                f"{statistics.median(s.batch) * 1e6:>9.1f} {wall} {rival / s.median:>10.2f}x"
            )
    print("  targets (issue 19: our ORM on the embedded engine >= 2x dynamoxy's on each):")
    for workload in WORKLOADS:
        ratio = results[("dynamoxy", workload)].median / results[("ours", workload)].median
        ok = ratio >= TARGET
        name = f"ours {workload} >= {TARGET:.0f}x dynamoxy"
        print(f"  {'PASS' if ok else 'MISS'}  {name:<44} {ratio:>9.2f}x")
