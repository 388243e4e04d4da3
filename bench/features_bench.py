"""Feature benchmark (issue 3): secondary indexes, transactions, batches, durable mode.

Run ``python bench/features_bench.py`` (about 3 minutes), ``--quick`` (under a
minute) or ``--million`` (adds a 1M-item table to tables 1 and 3; loading it
through the engine's API takes a few minutes on its own). Not a test: it prints
numbers and compares them with issue 3's targets, then a summary.

Method: the one of ``bench/engine_bench.py``, whose helpers (``bench/_common.py``) it
shares. Code: the table, its items and the request streams are in
``_features_data.py``, the ways of calling and timing them (and moto's turns) in
``_features_ways.py``; this script runs and prints the four tables.
Latencies are the benchmark thread's CPU time (``time.thread_time``, minus the
clock's own cost); the ways being compared run interleaved in rounds (round 0
warms up), so a burst of load from other processes lands on all of them alike;
ops/s is 1 / mean latency, and ratios are of p50 latencies. Durable-mode
writes are also timed in wall time (``time.perf_counter``): an SQLite commit's
``write(2)``/``fsync`` waits are not CPU time. Items are about 1 KB, each
with strings of its own (as items that came over the wire have; see ``item``).

Tables:

1. GSI query vs base-table query, direct engine (``LocalEngine().call``): one
   100-item partition, ``begins_with``, ``Limit`` 25, on the table, on a GSI
   with projection ALL and on one with KEYS_ONLY (same keys), plus a query on a
   multi-attribute GSI (2 partition, 2 sort attributes; on a second table with
   the same items), at 2k and 100k items (and 1M with ``--million``).
   Target: GSI (ALL) query within 1.5x of the base-table query.
2. Moto ratios on a table with two GSIs (2k items): put / get / update / query
   / GSI query, boto3 on moto vs boto3 routed to the engine
   (``singletable.testing.local_dynamodb()``) vs direct engine. Targets (the
   core issue's, direct vs moto): put 80x, get 100x, update 80x, query 300x
   (the GSI query is held to the query target).
3. Transactions: TransactWriteItems of 2 Puts + 1 ConditionCheck (a bank
   transfer) and TransactGetItems of 4 items, direct and routed at 2k and 100k
   items, moto at 2k (and 10k in a full run, within a time budget: moto copies
   the whole table per transaction). Target: at least 1,000x moto (same size).
4. Memory vs durable mode (``LocalEngine(path=...)``, SQLite ``synchronous``
   NORMAL; FULL shown for information), direct engine, 2k-item table with two
   GSIs: BatchWriteItem of 25 puts, single PutItem, GetItem, Query. Targets:
   durable within 3x of memory for batched writes (wall-time p50) and within
   1.5x for reads (CPU-time p50).
"""

from __future__ import annotations

import argparse
import contextlib
import itertools
import os
import platform
import sqlite3
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

_HERE = Path(__file__).resolve().parent
if str(_HERE) not in sys.path:
    sys.path.insert(0, str(_HERE))  # _common, _features_data, _features_ways
sys.path.append(str(_HERE.parent))  # singletable, if it is not installed

import boto3  # noqa: E402
from _common import CLOCK, REGION, Result, aws_environment, boto3_call, clock_overhead  # noqa: E402
from _features_data import (  # noqa: E402
    MULTI_TABLE,
    Stream,
    features_table,
    grow,
    operations,
    queries,
    snapshots,
    transfers,
)
from _features_ways import (  # noqa: E402
    Moto,
    Way,
    floor_call,
    interleave,
    make_engine,
    settle,
    time_budgeted,
)

from singletable.testing import local_dynamodb  # noqa: E402

# -- printing helpers ----------------------------------------------------------------


@dataclass
class Summary:
    """The targets, as measured."""

    rows: list[tuple[str, str, bool, str]] = field(default_factory=list)

    def add(self, target: str, measured: str, met: bool, note: str = "") -> str:
        """Record one target (``note``: said after the verdict); return the verdict word."""
        self.rows.append((target, measured, met, note))
        return "met" if met else "MISSED"


def _row(label: str, r: Result, extra: str = "") -> None:
    print(
        f"  {label:<30} {len(r.seconds):>6} {r.ops:>11,.0f} {r.percentile(50):>9.1f} "
        f"{r.percentile(99):>9.1f}{extra}"
    )


def _header(title: str) -> None:
    print(f"\n{title}")
    print(f"  {'':<30} {'n':>6} {'ops/s':>11} {'p50 us':>9} {'p99 us':>9}")


def _p50(r: Result) -> float:
    return r.percentile(50)


def _median(values: list[float]) -> float:
    return _p50(Result("", "", values))


# -- table 1: GSI query vs base-table query -------------------------------------------

QUERY_KINDS = ("base", "gsi-all", "gsi-keys", "gsi-multi")


def run_indexes_and_transactions(
    sizes: list[int], n_query: int, n_tx: int, moto: Moto, moto_tx: int
) -> tuple[dict[tuple[int, str], Result], dict[tuple[int, str, str], Result]]:
    """Tables 1 and 3: one engine grown through ``sizes``; ``moto`` takes turns at its size.

    Returns query results by ``(size, kind)`` and transaction results by
    ``(size, operation, way)``, ways ``direct``, ``routed`` (same engine),
    ``floor`` and, at ``moto.size``, ``moto`` (``moto_tx`` transactions,
    ten times as many TransactGetItems).
    """
    engine = make_engine()
    engine.call("CreateTable", features_table())
    engine.call("CreateTable", features_table(multi=True))
    routing = local_dynamodb(engine=engine)
    with routing:
        routed = boto3_call(boto3.client("dynamodb", region_name=REGION))
    query_results: dict[tuple[int, str], Result] = {}
    tx_results: dict[tuple[int, str, str], Result] = {}
    have = 0
    for size in sizes:
        began = time.perf_counter()
        grow(engine.call, have, size)
        grow(engine.call, have, size, MULTI_TABLE)
        have = size
        print(
            f"  built 2 x {size:>9,} items in {time.perf_counter() - began:6.1f} s", file=sys.stderr
        )
        settle()
        ways = {kind: Way(queries(kind, size), engine.call) for kind in QUERY_KINDS}
        interleave(ways, n_query)
        query_results |= {(size, k): Result("direct", k, w.cpu) for k, w in ways.items()}
        for name, make in (("TransactWriteItems", transfers), ("TransactGetItems", snapshots)):
            tx_ways = {
                "direct": Way(make(size), engine.call),
                "routed": Way(make(size), routed, routing),
                "floor": Way(make(size), floor_call(engine.call, make(size))),
            }
            if size == moto.size:
                count = moto_tx * (1 if name == "TransactWriteItems" else 10)
                tx_ways["moto"] = Way(make(size), moto.call, moto, count=count)
            interleave(tx_ways, n_tx)
            tx_results |= {(size, name, w): Result(w, name, tx_ways[w].cpu) for w in tx_ways}
    engine.close()
    return query_results, tx_results


def print_indexes(results: dict[tuple[int, str], Result], summary: Summary) -> None:
    """Table 1."""
    _header(
        "Table 1 -- GSI query vs base-table query, direct engine "
        "(100-item partition, begins_with, Limit 25, ~1 KB items)"
    )
    labels = {
        "base": "table",
        "gsi-all": "GSI, projection ALL",
        "gsi-keys": "GSI, projection KEYS_ONLY",
        "gsi-multi": "multi-attribute GSI (2+2) *",
    }
    for size in sorted({s for s, _ in results}):
        print(f"  {size:,} items")
        base = _p50(results[(size, "base")])
        for kind in QUERY_KINDS:
            r = results[(size, kind)]
            extra = "" if kind == "base" else f"   {_p50(r) / base:.2f}x table"
            _row("  " + labels[kind], r, extra)
        ratio = _p50(results[(size, "gsi-all")]) / base
        verdict = summary.add(
            f"GSI (ALL) query <= 1.5x table query, {size:,} items", f"{ratio:.2f}x", ratio <= 1.5
        )
        print(f"    GSI (ALL) / table query, p50: {ratio:.2f}x (target <= 1.5x): {verdict}")
    print(
        "  * on a second table holding the same items, whose only GSI has partition key "
        "(tenant, region) and sort key (status, total); Query: tenant = AND region = AND "
        "status = AND total BETWEEN, about 25 of the partition's ~100 items"
    )


# -- table 2: moto ratios on a table with two GSIs ------------------------------------

MOTO_WORKLOADS = ("put", "get", "update", "query", "gsi-query")
MOTO_TARGETS = {"put": 80, "get": 100, "update": 80, "query": 300, "gsi-query": 300}
MOTO_SIZE = 2000


def run_moto_ratios(n: int, moto_n: dict[str, int], moto: Moto) -> dict[tuple[str, str], Result]:
    """Table 2: results by ``(way, workload)``, ways ``moto``, ``routed``, ``direct`` in turns."""
    direct = make_engine()
    direct.call("CreateTable", features_table())
    grow(direct.call, 0, moto.size)
    routed_engine = make_engine()
    routing = local_dynamodb(engine=routed_engine)
    with routing:
        routed = boto3_call(boto3.client("dynamodb", region_name=REGION))
        routed("CreateTable", features_table())
        grow(routed, 0, moto.size)
    settle()
    results: dict[tuple[str, str], Result] = {}
    for workload in MOTO_WORKLOADS:

        def stream(workload: str = workload) -> Stream:
            return operations(workload, moto.size, itertools.count(10_000_000))

        ways = {
            "moto": Way(stream(), moto.call, moto, count=moto_n[workload]),
            "direct": Way(stream(), direct.call),
            "routed": Way(stream(), routed, routing),
        }
        interleave(ways, n)
        results |= {(w, workload): Result(w, workload, ways[w].cpu) for w in ways}
    direct.close()
    routed_engine.close()
    return results


def print_moto_ratios(results: dict[tuple[str, str], Result], summary: Summary) -> None:
    """Table 2."""
    _header(
        f"Table 2 -- moto ratios on a table with two GSIs ({MOTO_SIZE:,} items, ~1 KB; "
        "boto3 on moto / boto3 routed / direct engine)"
    )
    for workload in MOTO_WORKLOADS:
        for way in ("moto", "routed", "direct"):
            _row(f"{workload:<10} {way}", results[(way, workload)])
    print(
        f"\n  {'p50 ratios':<12} {'direct vs moto':>15} {'routed vs moto':>15} "
        f"{'target (direct)':>16}"
    )
    for workload in MOTO_WORKLOADS:
        moto = _p50(results[("moto", workload)])
        direct = moto / _p50(results[("direct", workload)])
        routed = moto / _p50(results[("routed", workload)])
        target = MOTO_TARGETS[workload]
        verdict = summary.add(
            f"{workload} direct >= {target}x moto (two GSIs)", f"{direct:,.0f}x", direct >= target
        )
        print(f"  {workload:<12} {direct:>14,.0f}x {routed:>14,.0f}x {target:>9}x: {verdict}")


# -- table 3: transactions --------------------------------------------------------------

TX_TARGET = 1000


def run_moto_transactions(
    moto: Moto, size: int, n: int, budget: float
) -> dict[tuple[int, str], Result]:
    """Moto's transaction costs at ``size`` items, each operation within ``budget`` CPU seconds."""
    moto.grow(size)
    results: dict[tuple[int, str], Result] = {}
    with moto:
        for name, make in (("TransactWriteItems", transfers), ("TransactGetItems", snapshots)):
            count = n if name == "TransactWriteItems" else 10 * n
            results[(size, name)] = time_budgeted(make(size), moto.call, count, budget, warm=0)
    return results


def print_transactions(results: dict[tuple[int, str, str], Result], summary: Summary) -> None:
    """Table 3, from results by ``(size, operation, way)``."""
    _header(
        "Table 3 -- transactions (TransactWriteItems: 2 Puts + 1 ConditionCheck; "
        "TransactGetItems: 4 Gets)"
    )
    print(
        "  (the table has two GSIs, ALL and KEYS_ONLY, in moto as in the engine; "
        "floor: boto3 with the send answered by a canned response, unsigned)"
    )
    sizes = sorted({s for s, _, _ in results})
    moto_sizes = sorted({s for s, _, w in results if w == "moto"})
    engine_sizes = sorted({s for s, _, w in results if w == "direct"})
    for name in ("TransactWriteItems", "TransactGetItems"):
        print(f"  {name}")
        for size in sizes:
            for way in ("moto", "floor", "routed", "direct"):
                r = results.get((size, name, way))
                if r is not None:
                    _row(f"  {way:<7} {size:>9,} items", r)
        for moto_size in moto_sizes:
            _print_tx_ratios(results, name, moto_size, engine_sizes, summary)
        for size in engine_sizes:
            over = _p50(results[(size, name, "routed")]) / _p50(results[(size, name, "floor")]) - 1
            print(f"    routed over boto3's floor, {size:,} items, p50: {over * 100:+.0f}%")
    print(
        f"  moto measured at {', '.join(f'{s:,}' for s in moto_sizes)} items only: its "
        "TransactWriteItems deep-copies all its tables, so its cost grows with the data."
    )


def _print_tx_ratios(
    results: dict[tuple[int, str, str], Result],
    name: str,
    moto_size: int,
    engine_sizes: list[int],
    summary: Summary,
) -> None:
    """Engine vs moto at moto's size, else at the next larger engine size (a lower bound)."""
    larger = [s for s in engine_sizes if s >= moto_size]
    if not larger:
        return
    size = larger[0]
    base = _p50(results[(moto_size, name, "moto")])
    where = f"{size:,} items"
    if size != moto_size:
        where += f" vs moto's {moto_size:,} (a lower bound)"
    floor = base / _p50(results[(size, name, "floor")])
    for way in ("direct", "routed", "floor"):
        ratio = base / _p50(results[(size, name, way)])
        line = f"    {way} vs moto, {where}, p50: {ratio:,.0f}x"
        if name == "TransactWriteItems" and way != "floor" and size == moto_size:
            verdict = summary.add(
                f"transaction {way} >= {TX_TARGET:,}x moto, {size:,} items",
                f"{ratio:,.0f}x",
                ratio >= TX_TARGET,
                f"boto3's floor alone is {floor:,.0f}x" if way == "routed" else "",
            )
            line += f" (target >= {TX_TARGET:,}x): {verdict}"
        elif way == "floor":
            line += " (boto3's own cost: no boto3 way can do better)"
        print(line)


# -- table 4: memory vs durable ---------------------------------------------------------

DURABLE_WORKLOADS = ("batch-write", "put", "get", "query")
DURABLE_SIZE = 2000
WRITES = ("batch-write", "put")


def run_durable(counts: dict[str, int], directory: str) -> dict[tuple[str, str], Way]:
    """Table 4: timings by ``(mode, workload)``, modes memory / durable / durable-full."""
    engines = {
        "memory": make_engine(),
        "durable": make_engine(os.path.join(directory, "normal.db")),
        "durable-full": make_engine(os.path.join(directory, "full.db"), sync="full"),
    }
    for engine in engines.values():
        engine.call("CreateTable", features_table())
        grow(engine.call, 0, DURABLE_SIZE)
    settle()
    results: dict[tuple[str, str], Way] = {}
    for workload in DURABLE_WORKLOADS:
        modes = engines if workload in WRITES else {k: engines[k] for k in ("memory", "durable")}
        ways = {
            mode: Way(
                operations(workload, DURABLE_SIZE, itertools.count(10_000_000)),
                engine.call,
                wall=workload in WRITES,
            )
            for mode, engine in modes.items()
        }
        interleave(ways, counts[workload])
        results |= {(mode, workload): way for mode, way in ways.items()}
    for engine in engines.values():
        engine.close()
    return results


def print_durable(results: dict[tuple[str, str], Way], summary: Summary) -> None:
    """Table 4."""
    print(
        f"\nTable 4 -- memory vs durable mode, direct engine ({DURABLE_SIZE:,}-item table "
        "with two GSIs; durable = SQLite WAL synchronous=NORMAL, durable-full = FULL)"
    )
    print(
        f"  {'':<27} {'n':>6} {'ops/s cpu':>10} {'p50 cpu us':>11} {'p99 cpu us':>11} "
        f"{'ops/s wall':>11} {'p50 wall us':>12} {'p99 wall us':>12}"
    )
    for workload in DURABLE_WORKLOADS:
        for mode in ("memory", "durable", "durable-full"):
            way = results.get((mode, workload))
            if way is None:
                continue
            cpu = Result(mode, workload, way.cpu)
            line = (
                f"  {workload:<12} {mode:<14} {len(cpu.seconds):>6} {cpu.ops:>10,.0f} "
                f"{cpu.percentile(50):>11.1f} {cpu.percentile(99):>11.1f}"
            )
            if way.walls:
                wall = Result(mode, workload, way.walls)
                line += (
                    f" {wall.ops:>11,.0f} {wall.percentile(50):>12.1f} {wall.percentile(99):>12.1f}"
                )
            print(line)
    print_durable_ratios(results, summary)


def print_durable_ratios(results: dict[tuple[str, str], Way], summary: Summary) -> None:
    """Table 4's ratios: writes compared in wall time, reads in CPU time."""
    print(f"\n  {'durable / memory, p50':<26} {'cpu':>7} {'wall':>8}  target")
    for workload in DURABLE_WORKLOADS:
        memory = results[("memory", workload)]
        for mode in ("durable", "durable-full"):
            way = results.get((mode, workload))
            if way is None:
                continue
            cpu = _median(way.cpu) / _median(memory.cpu)
            wall = _median(way.walls) / _median(memory.walls) if way.walls else None
            line = f"  {workload + ' ' + mode:<26} {cpu:>6.2f}x"
            line += f" {wall:>7.2f}x" if wall is not None else f" {'':>8}"
            if mode == "durable" and workload == "batch-write" and wall is not None:
                verdict = summary.add(
                    "durable batch write <= 3x memory (wall p50)",
                    f"{wall:.2f}x (cpu {cpu:.2f}x)",
                    wall <= 3,
                )
                line += f"  <= 3x (wall): {verdict}"
            elif mode == "durable" and workload in ("get", "query"):
                verdict = summary.add(
                    f"durable {workload} <= 1.5x memory (cpu p50)", f"{cpu:.2f}x", cpu <= 1.5
                )
                line += f"  <= 1.5x (cpu): {verdict}"
            else:
                line += "  (information)"
            print(line)


# -- main -------------------------------------------------------------------------------


@contextlib.contextmanager
def section(name: str) -> Iterator[None]:
    """Report a part's wall and process CPU time on stderr (the run's budget)."""
    wall, cpu = time.perf_counter(), time.process_time()
    yield
    print(
        f"  [{name}: {time.perf_counter() - wall:.1f} s wall, "
        f"{time.process_time() - cpu:.1f} s CPU]",
        file=sys.stderr,
    )


def print_summary(summary: Summary) -> None:
    """Every target, its measured value, met or missed."""
    print("\nSummary -- issue 3 targets")
    for target, measured, met, note in summary.rows:
        line = f"  {target:<50} {measured:>18}  {'met' if met else 'MISSED'}"
        print(line + (f"  ({note})" if note else ""))
    missed = sum(not met for _, _, met, _ in summary.rows)
    print(f"  {len(summary.rows) - missed} of {len(summary.rows)} targets met")


def machine_line(quick: bool) -> str:
    """The versions and machine the numbers come from."""
    import moto

    return (
        f"singletable features benchmark -- Python {platform.python_version()}, "
        f"boto3 {boto3.__version__}, moto {moto.__version__}, SQLite {sqlite3.sqlite_version}, "
        f"{platform.machine()} {platform.system()} {platform.release()}, "
        f"{os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f}, "
        f"{'quick' if quick else 'full'}"
    )


def main(argv: list[str] | None = None) -> None:
    """Parse the options, run the four tables, print them and the summary."""
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer calls, under a minute")
    parser.add_argument("--million", action="store_true", help="add a 1M-item table (slow)")
    args = parser.parse_args(argv)
    aws_environment()
    overhead = clock_overhead()
    quick = args.quick
    began = time.perf_counter()
    print(machine_line(quick))
    print(
        f"latencies: thread CPU time ({CLOCK.__name__}), clock overhead "
        f"{overhead * 1e9:,.0f} ns subtracted; ops/s = 1 / mean; ratios of p50"
    )
    summary = Summary()

    sizes = [2_000, 100_000] + ([1_000_000] if args.million else [])
    with section("moto: load"):
        moto = Moto()
        moto.grow(MOTO_SIZE)
    with section("tables 1 and 3"):
        queries_, tx = run_indexes_and_transactions(
            sizes,
            n_query=1000 if quick else 3000,
            n_tx=300 if quick else 1000,
            moto=moto,
            moto_tx=5 if quick else 10,
        )
    print_indexes(queries_, summary)

    moto_counts = {**dict.fromkeys(MOTO_WORKLOADS, 60 if quick else 200)}
    moto_counts |= {"query": 20, "gsi-query": 20} if quick else {"query": 60, "gsi-query": 60}
    with section("table 2"):
        ratios = run_moto_ratios(1000 if quick else 3000, moto_counts, moto)
    print_moto_ratios(ratios, summary)

    if not quick:  # moto at 10k items: within a time budget
        with section("table 3, moto at 10k"):
            for (size, name), r in run_moto_transactions(moto, 10_000, 3, 2.0).items():
                tx[(size, name, "moto")] = Result("moto", name, r.seconds)
    moto.close()
    print_transactions(tx, summary)

    counts = {"batch-write": 100, "put": 500, "get": 1000, "query": 1000}
    if not quick:
        counts = {"batch-write": 400, "put": 2000, "get": 4000, "query": 4000}
    with section("table 4"), tempfile.TemporaryDirectory(prefix="features_bench") as directory:
        durable = run_durable(counts, directory)
    print_durable(durable, summary)

    print_summary(summary)
    print(
        f"\n(run took {time.perf_counter() - began:.0f} s wall, "
        f"{time.process_time():.0f} s CPU; load average now {os.getloadavg()[0]:.1f})"
    )


if __name__ == "__main__":
    main()
