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
"""

from __future__ import annotations

import argparse
import contextlib
import gc
import http.client
import itertools
import json
import math
import multiprocessing
import os
import platform
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

import boto3
import botocore
from _common import (
    REGION,
    WIRE_PUT_TABLE,
    WIRE_SCAN_TABLE,
    WIRE_TABLE,
    WIRE_WORKLOADS,
    Call,
    answer_with,
    aws_environment,
    boto3_call,
    table_request,
    wire_item,
    wire_requests,
)
from botocore.config import Config

TABLE, PUT_TABLE, SCAN_TABLE = WIRE_TABLE, WIRE_PUT_TABLE, WIRE_SCAN_TABLE
TABLE_ITEMS = 2000
SCAN_ITEMS = 100
WORKLOADS = WIRE_WORKLOADS
TARGETS = ("singletable", "moto", "dynalite")
BASELINE = "baseline"
FLOOR = "floor"
CANNED = "canned"
CLIENTS = (1, 8)
DEFAULT_DYNALITE_DIR = Path.home() / ".cache" / "singletable-bench" / "node"

Request = tuple[str, dict[str, Any]]
Stream = Iterator[Request]


_STARTED = time.monotonic()


def _progress(message: str) -> None:
    print(f"  [{time.monotonic() - _STARTED:5.1f} s] {message}", file=sys.stderr)


# -- the workloads, as wire requests ----------------------------------------------------


def requests(workload: str, fresh: Iterator[int]) -> Stream:
    """An endless stream of (operation, request); ``fresh`` numbers new items."""
    return wire_requests(workload, fresh, TABLE_ITEMS)


def fresh_numbers(owner: int) -> Iterator[int]:
    """Numbers of new items, disjoint between owners (the main process is owner 0)."""
    return itertools.count(TABLE_ITEMS + owner * 100_000_000)


def check_response(workload: str, response: dict[str, Any]) -> str | None:
    """What is wrong with a target's answer to one call of ``workload`` (None: nothing)."""
    if workload == "get" and "Item" not in response:
        return "GetItem found no item"
    if workload == "update" and "count" not in response.get("Attributes", {}):
        return "UpdateItem returned no UPDATED_NEW attributes"
    if workload == "query" and response.get("Count") != 25:
        return f"Query returned {response.get('Count')} items, not 25"
    if workload == "scan" and (response.get("Count"), response.get("ScannedCount")) != (25, 100):
        return f"Scan returned {response.get('Count')}/{response.get('ScannedCount')}, not 25/100"
    if workload == "batch" and response.get("UnprocessedItems"):
        return "BatchWriteItem left items unprocessed"
    return None


# -- boto3 clients -------------------------------------------------------------------------


def make_client(url: str, *, retries: int = 1, timeout: float = 60.0) -> Any:
    """A boto3 DynamoDB client on ``url`` (its own session; no retries: errors show)."""
    session = boto3.Session(
        region_name=REGION, aws_access_key_id="bench", aws_secret_access_key="bench"
    )
    config = Config(
        retries={"max_attempts": retries, "mode": "standard"},
        connect_timeout=timeout,
        read_timeout=timeout,
    )
    return session.client("dynamodb", endpoint_url=url, config=config)


def floor_client(url: str, canned: dict[str, bytes]) -> Any:
    """A client whose send returns ``canned[operation]``: botocore's own cost, signed."""
    client = make_client(url)
    answer_with(client, canned, checksums=True)
    return client


def capture_bodies(client: Any) -> dict[str, bytes]:
    """Register a handler keeping the last raw response body per operation."""
    bodies: dict[str, bytes] = {}

    def after_call(http_response: Any, model: Any, **_: Any) -> None:
        bodies[model.name] = http_response.content

    client.meta.events.register("after-call.dynamodb", after_call)
    return bodies


# -- the servers ---------------------------------------------------------------------------


def free_port() -> int:
    """A TCP port of 127.0.0.1 free right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _die_with_parent() -> None:  # pragma: no cover - runs in the child, before exec
    """Linux: the server gets SIGTERM if the benchmark dies without cleaning up."""
    with contextlib.suppress(Exception):
        import ctypes

        ctypes.CDLL(None).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


@dataclass
class Target:
    """A server started by the benchmark."""

    name: str
    command: list[str]
    version: str
    url: str = ""
    process: subprocess.Popen[bytes] | None = None
    log: Path | None = None
    unsupported: dict[str, str] = field(default_factory=dict)
    env: dict[str, str] | None = None  # the environment to start it in (None: ours)

    def start(self, logs: Path, port: int) -> None:
        """Start the server on ``port`` and wait until it answers ListTables."""
        self.url = f"http://127.0.0.1:{port}"
        self.log = logs / f"{self.name}.log"
        with self.log.open("wb") as out:
            self.process = subprocess.Popen(
                self.command,
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                env=self.env,
                preexec_fn=_die_with_parent if sys.platform == "linux" else None,
            )
        self._wait_ready(30.0)

    def _wait_ready(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while True:
            assert self.process is not None
            if self.process.poll() is not None:
                raise RuntimeError(f"{self.name} exited at start:\n{self.log_tail()}")
            try:
                status = _raw_list_tables(self.url)
            except OSError:
                status = 0
            if status == 200:
                return
            if time.monotonic() > deadline:
                raise RuntimeError(f"{self.name} did not answer in {timeout:.0f} s")
            time.sleep(0.05)

    def log_tail(self) -> str:
        """The end of the server's output."""
        if self.log is None or not self.log.exists():
            return ""
        return self.log.read_text(errors="replace")[-2000:]

    def stop(self) -> None:
        """SIGTERM, then SIGKILL after 2 s (moto_server can take seconds to free its memory)."""
        if self.process is None or self.process.poll() is not None:
            return
        self.process.terminate()
        try:
            self.process.wait(2)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(5)


def _raw_list_tables(url: str) -> int:
    """POST a ListTables with a fake SigV4 Authorization header (moto routes on its scope)."""
    host, port = url.removeprefix("http://").split(":")
    connection = http.client.HTTPConnection(host, int(port), timeout=2)
    try:
        connection.request(
            "POST",
            "/",
            body=b"{}",
            headers={
                "Content-Type": "application/x-amz-json-1.0",
                "X-Amz-Target": "DynamoDB_20120810.ListTables",
                "X-Amz-Date": time.strftime("%Y%m%dT%H%M%SZ", time.gmtime()),
                "Authorization": (
                    "AWS4-HMAC-SHA256 Credential=bench/20240101/us-east-1/dynamodb/aws4_request, "
                    "SignedHeaders=host;x-amz-date, Signature=0"
                ),
            },
        )
        response = connection.getresponse()
        response.read()
        return response.status
    finally:
        connection.close()


def _version(module: str) -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version(module)
    except PackageNotFoundError:
        return "?"


_DYNALITE_FLAGS = ("--createTableMs", "0", "--deleteTableMs", "0", "--updateTableMs", "0")


def find_targets(
    names: tuple[str, ...] = TARGETS, baseline: Path | None = None
) -> tuple[list[Target], list[str]]:
    """The targets among ``names`` this machine can run, and notes on those it cannot.

    ``baseline``: a checkout of singletable (a git worktree of another commit) whose
    ``singletable serve`` runs as one more target, ``baseline``, for before/after
    comparisons in the same run.
    """
    python = sys.executable
    serve = [python, "-m", "singletable.cli", "serve", "--port", "{port}"]
    targets = []
    if "singletable" in names:
        targets.append(Target("singletable", serve, _version("singletable")))
    if baseline is not None:
        env = {**os.environ, "PYTHONPATH": str(baseline.resolve())}
        targets.append(Target(BASELINE, serve, f"from {baseline}", env=env))
    if "moto" in names:
        targets.append(
            Target(
                "moto",
                [python, "-m", "moto.server", "-H", "127.0.0.1", "-p", "{port}"],
                _version("moto"),
            )
        )
    notes = []
    directory = Path(os.environ.get("DYNALITE_DIR", DEFAULT_DYNALITE_DIR)).expanduser()
    cli = directory / "node_modules" / "dynalite" / "cli.js"
    node = shutil.which("node")
    if "dynalite" not in names:
        pass
    elif node is None:
        notes.append("dynalite: skipped, Node.js (node) is not on the PATH")
    elif not cli.exists():
        notes.append(
            f"dynalite: skipped, not found in {directory}; install it with "
            f"`npm install --prefix {directory} dynalite` (or set DYNALITE_DIR)"
        )
    else:
        package = json.loads((cli.parent / "package.json").read_text())
        node_version = subprocess.run(
            [node, "--version"], capture_output=True, text=True, check=False
        ).stdout.strip()
        targets.append(
            Target(
                "dynalite",
                # in memory (no --path); tables become ACTIVE at once
                [node, str(cli), "--host", "127.0.0.1", "--port", "{port}", *_DYNALITE_FLAGS],
                f"{package['version']} on node {node_version}",
            )
        )
    return targets, notes


def start(target: Target, logs: Path) -> None:
    """Start ``target`` on a free port."""
    port = free_port()
    target.command = [part.replace("{port}", str(port)) for part in target.command]
    target.start(logs, port)


def load(target: Target) -> dict[str, bytes]:
    """Create and fill the tables; check one call of each workload; return the raw bodies."""
    client = make_client(target.url, retries=3)
    call = boto3_call(client)
    for name in (TABLE, PUT_TABLE, SCAN_TABLE):
        call("CreateTable", table_request(name))
    for name in (TABLE, PUT_TABLE, SCAN_TABLE):
        for _ in range(200):
            if call("DescribeTable", {"TableName": name})["Table"]["TableStatus"] == "ACTIVE":
                break
            time.sleep(0.05)
    for table, count in ((TABLE, TABLE_ITEMS), (SCAN_TABLE, SCAN_ITEMS)):
        for first in range(0, count, 25):
            puts = [{"PutRequest": {"Item": wire_item(i)}} for i in range(first, first + 25)]
            if call("BatchWriteItem", {"RequestItems": {table: puts}}).get("UnprocessedItems"):
                raise RuntimeError(f"{target.name}: BatchWriteItem left items unprocessed")
    bodies = capture_bodies(client)
    fresh = fresh_numbers(99)
    for workload in WORKLOADS:
        operation, request = next(requests(workload, fresh))
        try:
            problem = check_response(workload, call(operation, request))
        except botocore.exceptions.ClientError as error:
            code = error.response.get("Error", {}).get("Code", "?")
            target.unsupported[workload] = f"{operation}: {code}"
            continue
        if problem:
            raise RuntimeError(f"{target.name}: {problem}")
    client.close()  # moto_server waits for open keep-alive connections when it stops
    return dict(bodies)


# -- table 1: one client, per-call latency --------------------------------------------------


def time_calls(stream: Stream, call: Call, budget: float, minimum: int) -> list[float]:
    """Per-call wall times of calls from ``stream`` for about ``budget`` seconds."""
    clock = time.perf_counter
    timings: list[float] = []
    gc.collect()
    deadline = clock() + budget
    while len(timings) < minimum or clock() < deadline:
        operation, request = next(stream)
        began = clock()
        call(operation, request)
        timings.append(clock() - began)
    return timings


Rounds = dict[tuple[str, str], list[list[float]]]
"""(way, workload) -> the per-call latencies of each round."""

ServerCpu = dict[tuple[str, str], list[float]]
"""(target, workload) -> the server's CPU seconds per call in each round."""


@dataclass(frozen=True)
class CpuSample:
    """A server process's CPU time so far: per live thread (nanoseconds, from
    ``/proc/PID/task/TID/schedstat``) and in all (seconds, from ``/proc/PID/stat``:
    threads that ended count too, but only in clock ticks, 10 ms)."""

    threads: dict[str, int]
    total: float | None


def cpu_sample(pid: int) -> CpuSample | None:
    """The CPU time of process ``pid`` so far; None off Linux or once it has exited."""
    tasks = Path(f"/proc/{pid}/task")
    try:
        tids = os.listdir(tasks)
    except OSError:
        return None
    threads = {}
    for tid in tids:
        with contextlib.suppress(OSError, ValueError, IndexError):
            threads[tid] = int((tasks / tid / "schedstat").read_text().split()[0])
    return CpuSample(threads, process_cpu(pid))


def cpu_between(before: CpuSample, after: CpuSample) -> float | None:
    """CPU seconds the process used between two samples: to the nanosecond from its
    threads' run times when the same threads lived throughout (a keep-alive client's
    connection keeps its server thread), else from the coarser process total."""
    if before.threads and before.threads.keys() == after.threads.keys():
        return (sum(after.threads.values()) - sum(before.threads.values())) / 1e9
    if before.total is None or after.total is None:
        return None
    return after.total - before.total


def run_latency(
    targets: list[Target], canned: dict[str, bytes], rounds: int, budget: float
) -> tuple[Rounds, ServerCpu]:
    """Per-call latencies of each workload on each target and on the floor, interleaved;
    and the server's CPU time per call during each round."""
    clients = {t.name: make_client(t.url) for t in targets}
    clients[FLOOR] = floor_client(targets[0].url, canned)
    calls = {way: boto3_call(client) for way, client in clients.items()}
    pids = {t.name: t.process.pid for t in targets if t.process is not None}
    skip = {(t.name, w) for t in targets for w in t.unsupported}
    gc.collect()
    gc.freeze()  # the collection before each batch then only walks what the run made
    timings: Rounds = {}
    server_cpu: ServerCpu = {}
    fresh = fresh_numbers(0)
    for workload in WORKLOADS:
        streams = {way: requests(workload, fresh) for way in calls}
        for round_ in range(rounds + 1):  # round 0 warms up
            order = list(calls.items())
            for way, call in order if round_ % 2 else reversed(order):  # no way always first
                if (way, workload) in skip:
                    continue
                if round_ == 0:
                    time_calls(streams[way], call, 0.0, 3)
                    continue
                pid = pids.get(way)
                before = cpu_sample(pid) if pid is not None else None
                taken = time_calls(streams[way], call, budget, 3)
                timings.setdefault((way, workload), []).append(taken)
                after = cpu_sample(pid) if pid is not None else None
                if before is not None and after is not None:
                    used = cpu_between(before, after)
                    if used is not None:
                        server_cpu.setdefault((way, workload), []).append(used / len(taken))
        _progress(f"latency: {workload} done")
    for client in clients.values():
        client.close()
    return timings, server_cpu


# -- table 2: throughput, 1 and 8 concurrent clients ----------------------------------------


def process_cpu(pid: int) -> float | None:
    """CPU seconds (user + system, all threads) of process ``pid`` so far; None off Linux."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _client_process(index: int, urls: dict[str, str], conn: Connection) -> None:
    """A client process: runs one workload on one target in ``threads`` threads when told.

    Answers ``("ready",)`` to a prepare message, ``("done", calls, end, cpu)`` to a run
    (``end``: when the last call returned; ``cpu``: this process's CPU seconds during the
    run), ``("error", message)`` if a call failed.
    """
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent handles Ctrl-C and stops us
    clients: dict[tuple[str, int], Call] = {}
    streams: dict[tuple[str, str, int], Stream] = {}
    fresh = [fresh_numbers(1 + index * 16 + thread) for thread in range(16)]
    jobs: list[tuple[Call, Stream]] = []
    conn.send(("up",))
    while True:
        message = conn.recv()
        if message is None:
            return
        try:
            if message[0] == "prepare":
                _, name, workload, threads = message
                jobs = []
                for thread in range(threads):
                    if (name, thread) not in clients:
                        clients[name, thread] = boto3_call(make_client(urls[name]))
                    stream = streams.get((name, workload, thread))
                    if stream is None:  # first time: warm the connection and the operation
                        stream = streams[name, workload, thread] = requests(workload, fresh[thread])
                        clients[name, thread](*next(stream))
                    jobs.append((clients[name, thread], stream))
                # A full collection of this interpreter's heap (botocore's models) would
                # land inside the timed run: collect now, then keep what exists out of it.
                gc.collect()
                gc.freeze()
                conn.send(("ready",))
            else:
                _, start_at, stop_at = message
                conn.send(("done", *_run_jobs(jobs, start_at, stop_at)))
        except Exception as error:
            conn.send(("error", f"{type(error).__name__}: {error}"))


def _run_jobs(
    jobs: list[tuple[Call, Stream]], start_at: float, stop_at: float
) -> tuple[int, float, float]:
    """Run each job in its own thread (the first in this one) from ``start_at`` to ``stop_at``."""
    counts = [0] * len(jobs)
    ends = [start_at] * len(jobs)
    failures: list[BaseException] = []

    def loop(slot: int) -> None:
        call, stream = jobs[slot]
        batch = [next(stream) for _ in range(32)]
        count, end = 0, start_at
        try:
            while end < stop_at:
                call(*batch[count % 32])
                count += 1
                end = time.monotonic()
                if count % 32 == 0:
                    batch = [next(stream) for _ in range(32)]
        except BaseException as error:
            failures.append(error)
        counts[slot], ends[slot] = count, end

    threads = [threading.Thread(target=loop, args=(slot,)) for slot in range(1, len(jobs))]
    cpu = time.process_time()
    delay = start_at - time.monotonic()
    if delay > 0:
        time.sleep(delay)
    for thread in threads:
        thread.start()
    loop(0)
    for thread in threads:
        thread.join()
    cpu = time.process_time() - cpu
    if failures:
        raise failures[0]
    return sum(counts), max(ends), cpu


@dataclass
class Throughput:
    """One timed run of ``clients`` concurrent clients."""

    ops: float  # calls per second
    client_cpu: float  # CPU seconds per call, all client processes together
    server_cpu: float | None  # CPU seconds per call of the server process


class ClientPool:
    """``max(CLIENTS)`` client processes, started once (spawned: a clean interpreter each).

    With ``threads``, a run of ``n`` clients uses ``n`` threads of the first process
    instead of ``n`` processes.
    """

    def __init__(self, targets: list[Target], threads: bool) -> None:
        context = multiprocessing.get_context("spawn")
        urls = {t.name: t.url for t in targets}
        self.threads = threads
        self.conns: list[Connection] = []
        self.processes: list[Any] = []
        for index in range(1 if threads else max(CLIENTS)):
            parent, child = context.Pipe()
            process = context.Process(
                target=_client_process, args=(index, urls, child), daemon=True
            )
            process.start()
            self.conns.append(parent)
            self.processes.append(process)
        for conn in self.conns:
            self._answer(conn, 120)

    def _answer(self, conn: Connection, timeout: float = 600) -> tuple[Any, ...]:
        if not conn.poll(timeout):
            raise RuntimeError("a client process did not answer")
        answer: tuple[Any, ...] = conn.recv()
        if answer[0] == "error":
            raise _ClientError(answer[1])
        return answer

    def run(self, target: Target, workload: str, clients: int, seconds: float) -> Throughput:
        """Time ``clients`` concurrent clients calling ``workload`` on ``target``."""
        if self.threads:
            conns, threads = self.conns[:1], clients
        else:
            conns, threads = self.conns[:clients], 1
        for conn in conns:
            conn.send(("prepare", target.name, workload, threads))
        for conn in conns:
            self._answer(conn)
        pid = target.process.pid if target.process else -1
        server_cpu = process_cpu(pid)
        start_at = time.monotonic() + 0.02
        for conn in conns:
            conn.send(("run", start_at, start_at + seconds))
        answers = [self._answer(conn) for conn in conns]
        server_after = process_cpu(pid)
        calls = sum(a[1] for a in answers)
        ops = calls / (max(a[2] for a in answers) - start_at)
        client_cpu = sum(a[3] for a in answers) / calls
        if server_cpu is None or server_after is None:
            return Throughput(ops, client_cpu, None)
        return Throughput(ops, client_cpu, (server_after - server_cpu) / calls)

    def close(self) -> None:
        """Tell every process to end; terminate any that does not."""
        for conn in self.conns:
            with contextlib.suppress(OSError):
                conn.send(None)
        for process in self.processes:
            process.join(5)
            if process.is_alive():
                process.terminate()
                process.join(5)


class _ClientError(Exception):
    """A call failed in a client process."""


Cell = tuple[str, str, int]  # target, workload, clients


def run_throughput(
    pool: ClientPool, targets: list[Target], rounds: int, seconds: float
) -> tuple[dict[Cell, Throughput], dict[Cell, str]]:
    """Medians over ``rounds`` of each (target, workload, clients), interleaved; errors apart."""
    samples: dict[Cell, list[Throughput]] = {}
    errors: dict[Cell, str] = {}
    for workload in WORKLOADS:
        for _ in range(rounds):
            for target in targets:
                if workload in target.unsupported:
                    continue
                for clients in CLIENTS:
                    cell = (target.name, workload, clients)
                    if cell in errors:
                        continue
                    try:
                        samples.setdefault(cell, []).append(
                            pool.run(target, workload, clients, seconds)
                        )
                    except _ClientError as error:
                        errors[cell] = str(error)
        _progress(f"throughput: {workload} done")
    medians = {}
    for cell, runs in samples.items():
        server = [r.server_cpu for r in runs if r.server_cpu is not None]
        medians[cell] = Throughput(
            statistics.median(r.ops for r in runs),
            statistics.median(r.client_cpu for r in runs),
            statistics.median(server) if server else None,
        )
    return medians, errors


# -- a reference server: canned answers over the same HTTP path ------------------------------


def canned_server(port: int, bodies_file: str) -> None:
    """Answer every request with the canned body of its operation, as cheaply as Python can.

    Reads the request line, the headers and the body, sends a prebuilt response (the
    headers singletable sends, the body singletable sent). Its latency minus the floor
    is the client's HTTP stack (urllib3, http.client) plus loopback: a part of every
    target's remainder that no server can remove.
    """
    import socketserver

    bodies = {
        op: b.encode("latin-1") for op, b in json.loads(Path(bodies_file).read_text()).items()
    }
    bodies.setdefault("ListTables", b'{"TableNames":[]}')
    answers = {}
    for op, body in bodies.items():
        head = (
            "HTTP/1.1 200 OK\r\nx-amzn-RequestId: CANNED\r\n"
            f"x-amz-crc32: {zlib.crc32(body)}\r\nContent-Type: application/x-amz-json-1.0\r\n"
            f"Content-Length: {len(body)}\r\nDate: Thu, 01 Jan 2026 00:00:00 GMT\r\n"
            "Connection: keep-alive\r\n\r\n"
        )
        answers[op.encode()] = head.encode() + body

    class Handler(socketserver.StreamRequestHandler):
        disable_nagle_algorithm = True
        rbufsize = 64 * 1024

        def handle(self) -> None:
            rfile, wfile = self.rfile, self.wfile
            while rfile.readline():
                length, operation = 0, b""
                while True:
                    line = rfile.readline()
                    if line in (b"\r\n", b"\n", b""):
                        break
                    name, _, value = line.partition(b":")
                    name = name.strip().lower()
                    if name == b"content-length":
                        length = int(value)
                    elif name == b"x-amz-target":
                        operation = value.strip().rpartition(b".")[2]
                rfile.read(length)
                wfile.write(answers[operation])

    socketserver.ThreadingTCPServer.daemon_threads = True
    socketserver.ThreadingTCPServer.allow_reuse_address = True
    with socketserver.ThreadingTCPServer(("127.0.0.1", port), Handler) as server:
        server.serve_forever()


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
            _progress(f"{target.name} up at {target.url}, loaded")
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
            _progress("client processes up")
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
