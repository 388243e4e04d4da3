"""HTTP benchmark: boto3 over HTTP against ``singletable serve``, moto_server and dynalite.

Run ``python bench/http_bench.py`` (about three minutes) or ``--quick`` (a smoke
run, about half a minute). Not a test: it prints numbers and checks them against
issue 4's targets.

Targets, each started by this script on 127.0.0.1 on a free port, in memory, and
stopped when it ends (also on errors or Ctrl-C):

* ``singletable`` -- ``python -m singletable.cli serve --port N``;
* ``moto``        -- ``python -m moto.server -H 127.0.0.1 -p N`` (moto_server);
* ``dynalite``    -- ``node <DIR>/node_modules/dynalite/cli.js --port N``, if Node.js
  is on the PATH and dynalite is installed in ``$DYNALITE_DIR`` (default
  ``~/.cache/singletable-bench/node``). Nothing is downloaded: when it is missing
  the script says how to install it (``npm install --prefix DIR dynalite``) and
  goes on without it.

Workloads (items of about 1 KB, in a 2,000-item table of 100-item partitions):
``put`` (a new item), ``get``, ``update`` (conditional, ``UPDATED_NEW``),
``query`` (``begins_with``, ``Limit`` 25 of a 100-item partition), ``scan`` (a
100-item table, a filter keeping a quarter), ``batch`` (BatchWriteItem of 25 new
items) and ``transact`` (TransactWriteItems: 2 conditional Puts + 1
ConditionCheck; dynalite has no transactions: n/a). Every target's answer to each
workload is checked once before timing (25 items queried, nothing unprocessed...).

Table 1, one client: per-call wall-clock latency (``time.perf_counter``) in the
benchmark's own process; the targets, the floor and the canned server are
interleaved in short rounds (round 0 warms up; the order alternates) so that load
from other processes lands on all alike; medians.

* ``floor``: the same boto3 call with the send short-circuited: a
  ``before-send.dynamodb`` handler returns a prebuilt ``AWSResponse`` holding the
  body ``singletable serve`` sent for that call (with its ``x-amz-crc32``), so the
  request is still built, serialized and signed and the response still checked
  and parsed. Latency minus floor is what the network and the server cost.
* ``canned``: a minimal Python server (this file, ``--canned-server``) that reads
  each request and sends singletable's answer prebuilt. Its latency minus the floor
  is the client's own HTTP stack (urllib3, http.client) plus loopback: a part of
  every target's remainder that no server can remove.

Table 1b, the server's own CPU time per call during table 1 (one client, the
server idle between calls as with any real client): each round reads the
server process's CPU time before and after its calls, to the nanosecond from
its threads' run times (``/proc/PID/task/TID/schedstat``; the process total,
in 10 ms ticks, when a thread came or went during the round); medians of the
rounds. The ``canned`` server's figure is about the least a Python server can
spend reading a request and writing an answer.

Table 2, throughput with 1 and 8 concurrent clients, each with its own boto3
client. By default each client is a separate process: botocore spends about a
millisecond of CPU per call under the GIL, so 8 threads of one process would
measure that one interpreter rather than the server (``--client-threads`` does
that instead, for comparison). The clients start together and call for a fixed
time; calls/s = calls / (end of the last call - start). Rounds interleave the
targets; medians of the rounds. Table 3: CPU time per call during table 2, of
the server process (``/proc/PID/stat``, all threads) and of the clients
(``time.process_time``): when the clients' CPU per call times the calls/s reaches
the machine's CPU count, the clients, not the server, set the 8-client figure.

Checks (issue 4): with one client, for every workload, singletable's time per
call minus the floor <= 1/2 of dynalite's and <= 1/4 of moto_server's;
singletable's 8-client throughput >= its 1-client throughput. The remainders are
paired by round (a round's median minus the floor's median in that round) and the
figures are medians over the rounds: load from elsewhere comes in bursts of
seconds, which then land on both sides of each difference. Check (issue 19):
singletable's server CPU per call (table 1b) <= 1/4 of dynalite's, paired by
round likewise. Exit status 0 if every check passes, 1 if not.

Options: ``--targets singletable,dynalite`` runs only those targets;
``--baseline DIR`` also runs ``singletable serve`` from another checkout (a git
worktree of an earlier commit) as the target ``baseline``, so that a change is
measured before and after in the same run; ``--latency-only`` skips tables 2
and 3.

Code: this script parses the options and prints the tables; the targets, the
workloads and the canned server are in ``_http_targets.py``, the timed runs
(tables 1 to 3) in ``_http_runs.py``, what it shares with the other benchmarks in
``_common.py``.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import math
import os
import platform
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import boto3
from _common import aws_environment
from _http_runs import (
    Cell,
    ClientPool,
    Rounds,
    ServerCpu,
    Throughput,
    run_latency,
    run_throughput,
)
from _http_targets import (
    CANNED,
    CLIENTS,
    FLOOR,
    TARGETS,
    WORKLOADS,
    Target,
    canned_server,
    find_targets,
    load,
    progress,
    start,
)

# -- printing ------------------------------------------------------------------------------


def _ms(seconds: float | None, width: int = 8) -> str:
    return f"{'n/a':>{width}}" if seconds is None else f"{seconds * 1000:>{width}.3f}"


def _p90(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[int(0.9 * (len(ordered) - 1))]


def _print_grid(names: list[str], cell: Callable[[Cell], str]) -> None:
    """A row per workload, a column per (target, clients): ``cell``'s text, right-aligned."""
    print(f"{'workload':<9}" + "".join(f"{f'{n} x{c}':>16}" for n in names for c in CLIENTS))
    for workload in WORKLOADS:
        cells = (cell((name, workload, clients)).rjust(16) for name in names for clients in CLIENTS)
        print(f"{workload:<9}" + "".join(cells))


def _print_throughput(
    names: list[str], throughput: dict[Cell, Throughput], errors: dict[Cell, str], threads: bool
) -> None:
    """Tables 2 and 3, and the ratios of calls/s."""
    kind = "threads of one process" if threads else "processes"
    print(
        "\nTable 2 -- throughput, calls/s (batch: 25 items a call), "
        f"{' and '.join(map(str, CLIENTS))} concurrent clients ({kind}, one boto3 client "
        "each), median of rounds"
    )

    def calls(cell: Cell) -> str:
        if cell in throughput:
            return f"{throughput[cell].ops:,.0f}"
        return "error" if cell in errors else "n/a"

    _print_grid(names, calls)

    print(
        "\nTable 3 -- CPU time per call during table 2, ms: the server process's "
        "(all its threads) / the clients' (all together)"
    )

    def cpu(cell: Cell) -> str:
        r = throughput.get(cell)
        return "n/a" if r is None else f"{_ms(r.server_cpu, 0)}/{_ms(r.client_cpu, 0)}"

    _print_grid(names, cpu)

    others = [n for n in names if n != "singletable"]
    print("\nRatios -- singletable's calls/s over each other target's (same number of clients)")
    print(
        f"{'workload':<9}"
        + "".join(f"{f'vs {n} x{c}':>16}" for n in others for c in CLIENTS)
        + f"{'singletable x8/x1':>19}"
    )
    for workload in WORKLOADS:
        row = f"{workload:<9}"
        for name in others:
            for clients in CLIENTS:
                mine = throughput.get(("singletable", workload, clients))
                theirs = throughput.get((name, workload, clients))
                row += f"{mine.ops / theirs.ops:>15.1f}x" if mine and theirs else f"{'n/a':>16}"
        one = throughput.get(("singletable", workload, 1))
        eight = throughput.get(("singletable", workload, 8))
        row += f"{eight.ops / one.ops:>18.2f}x" if one and eight else f"{'n/a':>19}"
        print(row)


def print_tables(
    targets: list[Target],
    rounds: Rounds,
    server_cpu: ServerCpu,
    throughput: dict[Cell, Throughput],
    errors: dict[Cell, str],
    threads: bool,
) -> bool:
    """Print the tables and the checks; True if every check passed."""
    names = [t.name for t in targets if t.name != CANNED]
    ways = [*names, CANNED, FLOOR]
    unsupported = {(t.name, w): why for t in targets for w, why in t.unsupported.items()}
    timings = {cell: [t for round_ in runs for t in round_] for cell, runs in rounds.items()}
    p50 = {cell: statistics.median(v) for cell, v in timings.items()}

    print(
        "\nTable 1 -- one client: wall time per call, ms, median (p90) and calls timed;\n"
        f"  {CANNED} = a Python server sending prebuilt answers (the client's HTTP stack + "
        f"loopback);\n  {FLOOR} = the same call with the send short-circuited (botocore's floor)"
    )
    print(f"{'workload':<9}" + "".join(f"{w:>25}" for w in ways))
    for workload in WORKLOADS:
        row = f"{workload:<9}"
        for way in ways:
            values = timings.get((way, workload))
            if values is None:
                row += f"{'n/a':>25}"
            else:
                row += f"{_ms(p50[way, workload])} ({_ms(_p90(values), 0)}) n={len(values):<5}"
        print(row)

    print(
        "\nTable 1b -- one client (during table 1): the server process's own CPU time per "
        "call, us,\n  median of the rounds (lowest-highest round); "
        f"{CANNED} = the cheapest a Python server can answer"
    )
    servers = [*names, CANNED]
    print(f"{'workload':<9}" + "".join(f"{w:>24}" for w in servers))
    for workload in WORKLOADS:
        row = f"{workload:<9}"
        for way in servers:
            values = server_cpu.get((way, workload))
            if not values:
                row += f"{'n/a':>24}"
            else:
                low, high = min(values) * 1e6, max(values) * 1e6
                middle = statistics.median(values) * 1e6
                row += f"{middle:>10.0f} ({low:.0f}-{high:.0f})".ljust(10).rjust(24)
        print(row)

    if throughput or errors:  # not with --latency-only
        _print_throughput(names, throughput, errors, threads)

    print(
        "\nChecks -- one client, time per call minus botocore's floor, ms (the network and the "
        "server):\n  singletable's <= 1/2 of dynalite's and <= 1/4 of moto's; and singletable's "
        "calls/s with 8 clients >= with 1;\n  and (issue 19) singletable's server CPU per call "
        "(table 1b) <= 1/4 of dynalite's.\n  Paired by round: each round's median minus the "
        "floor's median in the same round;\n  remainders and ratios are the medians of the "
        "rounds' (a burst of load elsewhere lands on both sides)"
    )
    print(
        f"{'workload':<9}{'floor':>8}{'single':>9}{'moto':>9}{'dynalite':>9}{f'({CANNED})':>10}"
        f"{'st/dyn <= 0.5':>16}{'st/moto <= 0.25':>17}{'x8/x1 >= 1':>13}{'cpu st/dyn <= 0.25':>20}"
    )
    passed = True
    for workload in WORKLOADS:
        floor = p50.get((FLOOR, workload))
        per_round: dict[str, list[float]] = {}  # way -> remainder of each round
        for name in (*TARGETS, CANNED):
            if (name, workload) in rounds and (FLOOR, workload) in rounds:
                pairs = zip(rounds[name, workload], rounds[FLOOR, workload], strict=True)
                per_round[name] = [statistics.median(a) - statistics.median(b) for a, b in pairs]
        rest = {name: statistics.median(values) for name, values in per_round.items()}
        row = f"{workload:<9}{_ms(floor)}"
        row += "".join(_ms(rest.get(name), 9) for name in TARGETS) + _ms(rest.get(CANNED), 10)
        verdicts = []
        for other, limit in (("dynalite", 0.5), ("moto", 0.25)):
            if "singletable" not in per_round or other not in per_round:
                verdicts.append("n/a")
                if (other, workload) not in unsupported and other in names:
                    passed = False
                continue
            ratios = [
                mine / theirs
                for mine, theirs in zip(per_round["singletable"], per_round[other], strict=True)
                if theirs > 0
            ]
            ratio = statistics.median(ratios) if ratios else math.inf
            passed &= ratio <= limit
            verdicts.append(f"{ratio:.3f} {'PASS' if ratio <= limit else 'MISS'}")
        one = throughput.get(("singletable", workload, 1))
        eight = throughput.get(("singletable", workload, 8))
        if one and eight:
            ratio = eight.ops / one.ops
            passed &= ratio >= 1
            verdicts.append(f"{ratio:.2f} {'PASS' if ratio >= 1 else 'MISS'}")
        elif throughput or errors:
            passed = False
            verdicts.append("MISS")
        else:  # --latency-only
            verdicts.append("n/a")
        # Issue 19: the server's own CPU per call <= 1/4 of dynalite's (table 1b, paired
        # by round).
        mine_cpu = server_cpu.get(("singletable", workload))
        theirs_cpu = server_cpu.get(("dynalite", workload))
        if mine_cpu and theirs_cpu:
            ratio = statistics.median(
                m / t for m, t in zip(mine_cpu, theirs_cpu, strict=True) if t > 0
            )
            passed &= ratio <= 0.25
            verdicts.append(f"{ratio:.3f} {'PASS' if ratio <= 0.25 else 'MISS'}")
        else:
            verdicts.append("n/a")
        print(row + f"{verdicts[0]:>16}{verdicts[1]:>17}{verdicts[2]:>13}{verdicts[3]:>20}")
    for other in ("moto", "dynalite"):
        if other not in names:
            print(f"note: {other} was not run: its check is not made")
    for (name, workload), why in sorted(unsupported.items()):
        print(f"note: {name} {workload}: n/a ({why})")
    for (name, workload, clients), why in sorted(errors.items()):
        print(f"error: {name} {workload} x{clients}: {why}")
    print(f"\nall checks {'PASS' if passed else 'did NOT all pass'}")
    return passed


# -- main ----------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    """Start the servers, measure, print, stop the servers."""
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a smoke run of about 30 s")
    parser.add_argument(
        "--client-threads",
        action="store_true",
        help="run concurrent clients as threads of one process (default: one process each)",
    )
    parser.add_argument(
        "--targets",
        default=",".join(TARGETS),
        help=f"the targets to run, comma-separated (default {','.join(TARGETS)}; "
        "singletable always runs)",
    )
    parser.add_argument(
        "--baseline",
        type=Path,
        metavar="DIR",
        help="also run `singletable serve` from this checkout (e.g. a git worktree of main) "
        "as the target 'baseline', for a before/after comparison in the same run",
    )
    parser.add_argument(
        "--latency-only",
        action="store_true",
        help="one client only: tables 1 and 1b, without the throughput runs (tables 2 and 3)",
    )
    parser.add_argument(
        "--canned-server", nargs=2, metavar=("PORT", "FILE"), help=argparse.SUPPRESS
    )
    args = parser.parse_args(argv)
    if args.canned_server:
        canned_server(int(args.canned_server[0]), args.canned_server[1])
        return 0
    aws_environment()
    sys.stdout.reconfigure(line_buffering=True)  # type: ignore[union-attr]
    rounds, budget = (1, 0.06) if args.quick else (10, 0.1)
    t_rounds, seconds = (1, 0.2) if args.quick else (3, 0.7)

    chosen = {"singletable", *args.targets.split(",")}
    unknown = chosen - set(TARGETS)
    if unknown:
        parser.error(f"unknown target(s): {', '.join(sorted(unknown))}")
    targets, notes = find_targets(tuple(t for t in TARGETS if t in chosen), args.baseline)
    print(
        f"singletable HTTP benchmark -- Python {platform.python_version()}, "
        f"boto3 {boto3.__version__}, {os.cpu_count()} CPUs, load average "
        f"{os.getloadavg()[0]:.1f}, {'quick' if args.quick else 'full'} run"
    )
    print("targets: " + ", ".join(f"{t.name} {t.version}" for t in targets))
    for note in notes:
        print(note)
    began = time.monotonic()
    with contextlib.ExitStack() as stack:
        logs = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="http-bench-")))
        canned: dict[str, bytes] = {}
        for target in targets:
            stack.callback(target.stop)
            start(target, logs)
            bodies = load(target)
            if target.name == "singletable":
                canned = bodies
            progress(f"{target.name} up at {target.url}, loaded")
        bodies_file = logs / "canned.json"
        bodies_file.write_text(json.dumps({op: b.decode("latin-1") for op, b in canned.items()}))
        reference = Target(
            CANNED,
            [
                sys.executable,
                str(Path(__file__).resolve()),
                "--canned-server",
                "{port}",
                str(bodies_file),
            ],
            "",
        )
        stack.callback(reference.stop)
        start(reference, logs)
        timings, server_cpu = run_latency([*targets, reference], canned, rounds, budget)
        throughput: dict[Cell, Throughput] = {}
        errors: dict[Cell, str] = {}
        if not args.latency_only:
            pool = ClientPool(targets, args.client_threads)
            progress("client processes up")
            stack.callback(pool.close)
            throughput, errors = run_throughput(pool, targets, t_rounds, seconds)
        for target in targets:
            if target.process is not None and target.process.poll() is not None:
                print(f"{target.name} exited during the run:\n{target.log_tail()}")
        load_after = os.getloadavg()[0]
    passed = print_tables(
        [*targets, reference], timings, server_cpu, throughput, errors, args.client_threads
    )
    print(f"(run took {time.monotonic() - began:.0f} s; load average at the end {load_after:.1f})")
    return 0 if passed else 1


if __name__ == "__main__":
    sys.exit(main())
