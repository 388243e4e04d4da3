"""Fixtures of the modelling layer's tests: one fresh, empty backend per test, on every backend.

``backend`` is a :class:`~singletable.backends.base.Backend` (sync), parametrized
over :data:`BACKENDS`:

- ``local``: :class:`LocalBackend`, the embedded engine in memory;
- ``local_durable``: :class:`LocalBackend` with durable storage in a temporary file;
- ``moto``: :class:`Boto3Backend` over a boto3 client inside ``moto.mock_aws``;
- ``http``: :class:`Boto3Backend` over a boto3 client pointed at a
  :class:`singletable.server.Server` started on a free 127.0.0.1 port for the test;
- ``aioboto3``: :class:`AioBoto3Backend` against such a server, driven through
  :class:`AioSync` (the sync adapter below), so every sync test also runs on the
  async backend's conversions and error mapping;
- ``wire`` and ``wire_async``: :class:`WireBackend` and :class:`AsyncWireBackend`
  (the latter through :class:`AioSync`) against such a server;
- ``wire_moto`` and ``wire_async_moto``: the same two against moto's own HTTP
  server (``ThreadedMotoServer`` on 127.0.0.1, one per run, reset before each test),
  so the wire backends are checked against a second implementation of the protocol.

Related fixtures: ``backend_name`` (the parameter, to branch on when a backend
must differ), ``backend_engine`` (the :class:`LocalEngine` behind the backend, for
TTL sweeps and stream subscriptions; None on moto) and ``aio_backend`` (an
:class:`AioSync` on its own: ``aio_backend.backend`` is the real
:class:`AioBoto3Backend`, and ``aio_backend.run(coroutine)`` runs async code, such as
the ORM's async API, on the loop that owns the client).

A test marked ``@pytest.mark.moto_differs(key)`` is skipped on every moto backend with the reason
its module's ``MOTO_DIFFERENCES[key]`` gives (as in the conformance suite). Every
backend, client, server and loop is closed after the test.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import threading
from collections.abc import Callable, Coroutine, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import aioboto3
import boto3
import pytest
import urllib3

from singletable.backends.aioboto3 import AioBoto3Backend
from singletable.backends.base import Backend
from singletable.backends.boto3 import Boto3Backend
from singletable.backends.engine import LocalBackend
from singletable.backends.local.engine import LocalEngine
from singletable.backends.wire import AsyncWireBackend, WireBackend
from singletable.server import Server

REGION = "us-east-1"
BACKENDS = [
    "local",
    "local_durable",
    "moto",
    "http",
    "aioboto3",
    "wire",
    "wire_async",
    "wire_moto",
    "wire_async_moto",
]
MOTO_BACKENDS = frozenset({"moto", "wire_moto", "wire_async_moto"})

T = TypeVar("T")


class AioSync:
    """A sync :class:`Backend` over an :class:`AioBoto3Backend` on a private event loop.

    ``call`` runs the async backend's ``call`` to completion on the loop, one call at
    a time (a parallel scan's threads share the adapter); ``run`` runs any coroutine
    there (the client belongs to this loop, so async code using ``backend`` must run
    through it). ``close`` closes the backend's client and the loop.
    ``make`` makes another async backend for the endpoint (an :class:`AsyncWireBackend`).
    """

    def __init__(
        self,
        endpoint_url: str,
        make: Callable[[str], Coroutine[Any, Any, Any]] | None = None,
    ) -> None:
        self._lock = threading.Lock()
        self.loop = asyncio.new_event_loop()
        try:
            self.backend = self.run(
                make(endpoint_url)
                if make is not None
                else AioBoto3Backend.connect(
                    session=_aioboto3_session(), endpoint_url=endpoint_url, region_name=REGION
                )
            )
        except BaseException:
            self.loop.close()
            raise

    def run(self, coroutine: Coroutine[Any, Any, T]) -> T:
        """Run ``coroutine`` on the backend's loop and return its result."""
        return self.loop.run_until_complete(coroutine)

    def call(self, operation: str, request: dict[str, Any]) -> dict[str, Any]:
        """The async backend's ``call``, run to completion."""
        with self._lock:
            return self.run(self.backend.call(operation, request))

    def close(self) -> None:
        """Close the client, then the loop."""
        try:
            self.run(self.backend.close())
            self.loop.run_until_complete(self.loop.shutdown_asyncgens())
        finally:
            self.loop.close()


@functools.cache
def _aioboto3_session() -> Any:
    """One aioboto3 session for the whole run: a new one loads botocore's service model
    again (about 0.2 s); clients are still made, and closed, per test on their own loop."""
    return aioboto3.Session(region_name=REGION)


async def _async_wire(endpoint_url: str) -> AsyncWireBackend:
    return AsyncWireBackend(endpoint_url=endpoint_url, region_name=REGION)


@pytest.fixture(scope="session")
def _moto_server() -> Iterator[str]:
    """moto's HTTP server on a free 127.0.0.1 port, for the whole run (its URL)."""
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    try:
        yield f"http://{host}:{port}"
    finally:
        server.stop()


@pytest.fixture
def moto_server_url(_moto_server: str) -> str:
    """The URL of moto's server, emptied of every table (moto's reset endpoint)."""
    urllib3.request("POST", f"{_moto_server}/moto-api/reset")
    return _moto_server


@dataclass
class _Case:
    name: str
    backend: Backend
    engine: LocalEngine | None


def _skip_if_moto_differs(request: pytest.FixtureRequest) -> None:
    marker = request.node.get_closest_marker("moto_differs")
    if marker is None:
        return
    key = marker.args[0]
    differences: dict[str, str] = getattr(request.module, "MOTO_DIFFERENCES", {})
    if key not in differences:
        pytest.fail(f"moto_differs({key!r}) has no entry in MOTO_DIFFERENCES")
    pytest.skip(f"moto differs from DynamoDB ({key}): {differences[key]}")


@pytest.fixture(params=BACKENDS)
def backend_name(request: pytest.FixtureRequest) -> str:
    """Which backend this run of the test uses (one of :data:`BACKENDS`)."""
    name: str = request.param
    if name in MOTO_BACKENDS:
        _skip_if_moto_differs(request)
    return name


@pytest.fixture
def _backend_case(
    backend_name: str, tmp_path: Path, request: pytest.FixtureRequest
) -> Iterator[_Case]:
    if backend_name == "local":
        with LocalBackend() as local:
            yield _Case(backend_name, local, local.engine)
    elif backend_name == "local_durable":
        with LocalBackend(path=tmp_path / "data.db") as durable:
            yield _Case(backend_name, durable, durable.engine)
    elif backend_name == "moto":
        from moto import mock_aws

        with mock_aws(), Boto3Backend.connect(region_name=REGION) as mocked:
            yield _Case(backend_name, mocked, None)
    elif backend_name == "http":
        with (
            Server() as server,
            Boto3Backend.connect(endpoint_url=server.url, region_name=REGION) as http,
        ):
            yield _Case(backend_name, http, server.engine)
    elif backend_name == "aioboto3":
        with Server() as server:
            aio = AioSync(server.url)
            try:
                yield _Case(backend_name, aio, server.engine)
            finally:
                aio.close()
    elif backend_name in ("wire", "wire_moto"):
        with contextlib.ExitStack() as stack:
            if backend_name == "wire":
                server = stack.enter_context(Server())
                url, engine = server.url, server.engine
            else:
                url, engine = request.getfixturevalue("moto_server_url"), None
            wire = stack.enter_context(WireBackend(endpoint_url=url, region_name=REGION))
            yield _Case(backend_name, wire, engine)
    elif backend_name in ("wire_async", "wire_async_moto"):
        with contextlib.ExitStack() as stack:
            if backend_name == "wire_async":
                server = stack.enter_context(Server())
                url, engine = server.url, server.engine
            else:
                url, engine = request.getfixturevalue("moto_server_url"), None
            aio = AioSync(url, _async_wire)
            try:
                yield _Case(backend_name, aio, engine)
            finally:
                aio.close()
    else:  # pragma: no cover - BACKENDS and this function disagree
        raise AssertionError(backend_name)


@pytest.fixture
def backend(_backend_case: _Case) -> Backend:
    """A fresh, empty backend (one of :data:`BACKENDS`), closed after the test."""
    return _backend_case.backend


@pytest.fixture
def backend_engine(_backend_case: _Case) -> LocalEngine | None:
    """The local engine behind ``backend`` (None on moto)."""
    return _backend_case.engine


@pytest.fixture
def aio_backend(dynamodb_server: Server) -> Iterator[AioSync]:
    """An :class:`AioBoto3Backend` against the plugin's fresh server, in its sync adapter."""
    aio = AioSync(dynamodb_server.url)
    try:
        yield aio
    finally:
        aio.close()


@pytest.fixture
def boto3_client(dynamodb_server: Server) -> Iterator[Any]:
    """A plain boto3 client against the plugin's fresh server (for tests of the boto3
    backend with a client the test owns)."""
    client = boto3.client("dynamodb", endpoint_url=dynamodb_server.url, region_name=REGION)
    try:
        yield client
    finally:
        client.close()
