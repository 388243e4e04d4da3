"""The targets of ``http_bench.py`` and what it sends them (private; not a benchmark).

The servers the benchmark starts (``singletable serve``, moto_server, dynalite,
another checkout's ``singletable serve`` as ``baseline``, and the ``canned``
reference server), how each is found, started, loaded and stopped; the workloads
as wire requests and the check of each target's answers; the boto3 clients.
``http_bench.py`` describes the method and prints the tables.
"""

from __future__ import annotations

import contextlib
import http.client
import itertools
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field
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
    answer_with,
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


def progress(message: str) -> None:
    """Say on stderr how far the run is, and when (seconds since the start)."""
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
