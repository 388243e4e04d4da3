"""How ``features_bench.py`` calls and times (private; not a benchmark).

A :class:`Way` of sending requests (a stream, a call, a context such as routing
or moto's mock), the interleaved rounds that time the ways being compared,
botocore's floor, the engines (memory or durable) and moto taking turns with
them. ``features_bench.py`` describes the method.
"""

from __future__ import annotations

import contextlib
import gc
import json
import time
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from typing import Any

import boto3
from _common import (
    CLOCK,
    REGION,
    ROUNDS,
    Call,
    Result,
    boto3_call,
    clock_overhead,
    floor_client,
    time_calls,
)
from _features_data import Stream, features_table, grow

from singletable.backends.local import LocalEngine
from singletable.backends.local.durable import DurableStorage

# -- ways of calling, and timing them ------------------------------------------------


@dataclass
class Way:
    """One way of sending requests: its stream, its call, and a context it needs (routing)."""

    stream: Stream
    call: Call
    context: AbstractContextManager[Any] | None = None
    count: int | None = None  # calls to time, if not the common number
    wall: bool = False  # time in wall time too
    cpu: list[float] = field(default_factory=list)
    walls: list[float] = field(default_factory=list)


def _time_both(
    batch: list[tuple[str, dict[str, Any]]], call: Call
) -> tuple[list[float], list[float]]:
    """CPU-time and wall-time latencies of each call of ``batch``."""
    cpu_clock, wall_clock, overhead = CLOCK, time.perf_counter, clock_overhead()
    cpu, wall = [], []
    gc.collect()
    for operation, request in batch:
        start_wall, start = wall_clock(), cpu_clock()
        call(operation, request)
        cpu.append(max(cpu_clock() - start - overhead, 1e-9))
        wall.append(wall_clock() - start_wall)
    return cpu, wall


def interleave(ways: dict[str, Way], n: int, rounds: int = ROUNDS) -> None:
    """Time ``n`` calls per way (or ``way.count``), the ways alternating in ``rounds`` rounds.

    Round 0 warms up (up to 20 calls) and is not counted.
    """
    for round_ in range(rounds + 1):
        for way in ways.values():
            size = max(1, (way.count or n) // rounds)
            size = min(20, size) if round_ == 0 else size
            batch = [next(way.stream) for _ in range(size)]
            with way.context or contextlib.nullcontext():
                if way.wall:
                    cpu, wall = _time_both(batch, way.call)
                else:
                    cpu, wall = time_calls(batch, way.call), []
            if round_:
                way.cpu += cpu
                way.walls += wall


def time_budgeted(stream: Stream, call: Call, n: int, budget: float, warm: int = 2) -> Result:
    """Up to ``n`` timed calls (after ``warm``), stopping once ``budget`` CPU seconds are spent."""
    for _ in range(warm):
        call(*next(stream))
    clock, overhead = CLOCK, clock_overhead()
    seconds: list[float] = []
    gc.collect()
    while len(seconds) < n and sum(seconds) < budget:
        operation, request = next(stream)
        start = clock()
        call(operation, request)
        seconds.append(max(clock() - start - overhead, 1e-9))
    return Result("", "", seconds)


def floor_call(call: Call, stream: Stream) -> Call:
    """boto3's floor for ``stream``'s operation: unsigned, send answered with a canned body.

    The body is the one ``call`` returns for the stream's first request; see
    ``_common.floor_client``. No boto3 way can cost less than this.
    """
    operation, request = next(stream)
    response = dict(call(operation, request))
    response.pop("ResponseMetadata", None)
    return boto3_call(floor_client({operation: json.dumps(response).encode()}, unsigned=True))


def settle() -> None:
    """Collect, then freeze what survives (the loaded tables; never unfrozen).

    A full collection walks every tracked object (~1 s at 100k items); done before
    every timed batch (``_common.time_calls``) it would dominate the run.
    """
    gc.collect()
    gc.freeze()


def make_engine(path: str | None = None, sync: str = "normal") -> LocalEngine:
    if path is None:
        return LocalEngine(ttl_sweep_interval=None)
    return LocalEngine(DurableStorage(path, sync=sync), ttl_sweep_interval=None)


class Moto:
    """boto3 on moto (one table, two GSIs), whose data outlives each turn.

    Used as a context manager for each batch of calls: moto's mock is started
    without reset and stopped without removing data, so moto can take turns
    with the engine's ways in :func:`interleave` rounds instead of being
    measured at another time, under another load.
    """

    def __init__(self) -> None:
        from moto import mock_aws

        self._mock = mock_aws()
        self._reset = True
        self.size = 0
        with self:
            self.call = boto3_call(boto3.client("dynamodb", region_name=REGION))
            self.call("CreateTable", features_table())

    def grow(self, size: int) -> None:
        """Load items up to ``size``."""
        with self:
            grow(self.call, self.size, size)
        self.size = size
        settle()

    def __enter__(self) -> None:
        self._mock.start(reset=self._reset)
        self._reset = False

    def __exit__(self, *exc_info: object) -> None:
        self._mock.stop(remove_data=False)

    def close(self) -> None:
        """Drop moto's data."""
        self._mock.start(reset=False)
        self._mock.stop(remove_data=True)
