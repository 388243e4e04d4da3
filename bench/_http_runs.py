"""The measuring runs of ``http_bench.py`` (private; not a benchmark).

Table 1 and 1b: one client's per-call latency on each target and on botocore's
floor, interleaved in rounds, with the server process's own CPU time per call.
Tables 2 and 3: throughput of 1 and 8 concurrent clients (separate processes, or
threads of one with ``--client-threads``) and CPU time per call during it.
``http_bench.py`` describes the method and prints the tables.
"""

from __future__ import annotations

import contextlib
import gc
import multiprocessing
import os
import signal
import statistics
import threading
import time
from dataclasses import dataclass
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

from _common import Call, boto3_call
from _http_targets import (
    CLIENTS,
    FLOOR,
    WORKLOADS,
    Stream,
    Target,
    floor_client,
    fresh_numbers,
    make_client,
    progress,
    requests,
)

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
        progress(f"latency: {workload} done")
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
        progress(f"throughput: {workload} done")
    medians = {}
    for cell, runs in samples.items():
        server = [r.server_cpu for r in runs if r.server_cpu is not None]
        medians[cell] = Throughput(
            statistics.median(r.ops for r in runs),
            statistics.median(r.client_cpu for r in runs),
            statistics.median(server) if server else None,
        )
    return medians, errors
