"""A DynamoDB-compatible HTTP endpoint over the local engine (``singletable serve``).

Any AWS SDK, the AWS CLI or a plain HTTP client can use it unchanged, with
``endpoint_url`` pointing at it::

    from singletable.server import Server

    with Server() as server:                  # in memory, on a free port of 127.0.0.1
        client = boto3.client("dynamodb", endpoint_url=server.url)
        client.list_tables()

``Server(data="app.db")`` keeps the data on disk (durable), ``Server(engine=...)``
serves an engine you already have, and ``credentials={"AKID": "secret"}`` makes
every request prove a valid SigV4 signature by one of those keys (by default any
request is accepted, signed or not, as DynamoDB Local does).
``max_connections``, ``header_timeout`` and ``idle_timeout`` bound what clients
can hold (:class:`Limits`), and ``cors_origins`` lets pages from those origins
call the endpoint from a browser (none by default).

The protocol (DynamoDB's JSON 1.0, with its error bodies, status codes and
headers) is in :mod:`._protocol`, content codings in :mod:`._encoding`, body
checks in :mod:`._payload`, signature checks in :mod:`._sigv4`, request reading
within limits in :mod:`._wire`, and the HTTP/1.1 server, with the reasons for
its choice, in :mod:`._http`.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterable
from types import TracebackType

from singletable.backends.local._records import SHARED
from singletable.backends.local.engine import LocalEngine
from singletable.server._http import HTTPServer, Limits
from singletable.server._protocol import Protocol
from singletable.server._sigv4 import Credentials

__all__ = ["Credentials", "Limits", "Server"]

SHARED_ITEMS_BYTES = 32 * 1024 * 1024
"""The least budget a server gives the process's cache of decoded items and their JSON
texts (``backends.local._records.SHARED``, 1 MiB by default: about 300 hot 1 KB items,
sized for a test process). A server's clients read from far larger working sets, and a
Query or Scan page whose items are not cached decodes and encodes each of them anew
(bench/http_bench.py: a 25-item Query over a 2,000-item table costs the server about
half as much CPU with this budget). The cache holds only copies of stored items, and
it is shared by every engine of the process, so the budget is raised, never lowered."""


class Server:
    """A DynamoDB endpoint over a :class:`LocalEngine`, on ``host:port``.

    Args:
        engine: the engine to serve; by default a new one, in memory or on ``data``.
            An engine passed in is left open by :meth:`stop`; one the server made is
            closed (and a durable one flushed).
        host: the address to bind; only this machine can connect unless told otherwise.
        port: the TCP port; 0 picks a free one (see :attr:`url`).
        data: keep the data durably in this file (created if missing, reopened if not).
        credentials: access key id -> secret; when given, requests must be SigV4-signed
            by one of them.
        max_connections: connections served at once; more clients wait until one
            closes (see :class:`Limits`).
        header_timeout: seconds a request's head may take to arrive (from its first
            byte); a body gets as long again, plus a second per 64 KiB.
        idle_timeout: seconds a kept-alive connection may stay without a request.
        cors_origins: origins (``http://localhost:3000``) whose pages may call the
            endpoint from a browser (CORS), or ``["*"]`` for any page; none by
            default, so that a web page cannot reach local data (docs/server.md).
        region: the home region of the engine made here: the region of requests
            that are not signed (each request runs in the region its SigV4 credential
            scope names; every region has its own tables).
        shared_regions: one catalog for every region (DynamoDB Local's ``-sharedDb``).
        cache_bytes: with ``data``, the bound of the durable engine's item cache
            (see :class:`LocalEngine`); None: its default.

    Raises:
        OSError: if the address cannot be bound (the port is taken, say).
        ValueError: for a limit that is not positive.
    """

    def __init__(
        self,
        engine: LocalEngine | None = None,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        data: str | os.PathLike[str] | None = None,
        credentials: Credentials | None = None,
        max_connections: int = Limits.max_connections,
        header_timeout: float = Limits.header_timeout,
        idle_timeout: float = Limits.idle_timeout,
        cors_origins: Iterable[str] = (),
        region: str = "us-east-1",
        shared_regions: bool = False,
        cache_bytes: int | None = None,
    ) -> None:
        if engine is not None and data is not None:
            raise ValueError("give engine or data, not both")
        limits = Limits(max_connections, header_timeout, idle_timeout)
        if SHARED.budget < SHARED_ITEMS_BYTES:
            SHARED.budget = SHARED_ITEMS_BYTES
        self._owns_engine = engine is None
        self.engine = (
            engine
            if engine is not None
            else LocalEngine(
                path=data, region=region, shared_regions=shared_regions, cache_bytes=cache_bytes
            )
        )
        try:
            self._http = HTTPServer(
                (host, port), Protocol(self.engine, credentials, cors_origins), limits
            )
        except BaseException:
            if self._owns_engine:
                self.engine.close()
            raise
        address = self._http.server_address
        self.host: str = str(address[0])
        self.port: int = int(address[1])
        # DescribeEndpoints answers with this endpoint: the bound host and port.
        for region_engine in self.engine.regions.engines():  # each region's, and later ones'
            region_engine.endpoint_address = self.url.removeprefix("http://")
        self._thread: threading.Thread | None = None
        self._serving = False
        self._stopped = False
        self._stop_lock = threading.Lock()

    @property
    def url(self) -> str:
        """The endpoint URL to give a client, e.g. ``http://127.0.0.1:8000``."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    def start(self) -> Server:
        """Serve in a background (daemon) thread; returns self. For test fixtures."""
        if self._thread is None:
            self._thread = threading.Thread(
                target=self._http.serve,
                name=f"singletable-server-{self.port}",
                daemon=True,
            )
            self._thread.start()
        return self

    def serve_forever(self) -> None:
        """Serve in this thread until :meth:`request_stop` (from a signal handler, say)
        or :meth:`stop` (from another thread) is called. In the main thread, any
        signal with a Python handler wakes the accept loop, so a handler that calls
        :meth:`request_stop` takes effect at once."""
        self._serving = True
        self._http.serve()

    def request_stop(self) -> None:
        """Make :meth:`serve_forever` return (then call :meth:`stop`). Safe in a signal
        handler: it only sets a flag (no lock, no thread)."""
        self._http.request_stop()

    def stop(self, timeout: float = 10.0) -> None:
        """Stop accepting connections, let requests being answered finish (for up to
        ``timeout`` seconds), close every connection, and close the engine if the
        server made it (flushing durable data). Safe to call more than once, from any
        thread: a second caller returns when the first has finished."""
        with self._stop_lock:
            if self._stopped:
                return
            self._stopped = True
            if self._thread is not None or self._serving:
                self._http.stop_serving()  # returns once the accept loop has ended
            self._http.server_close()
            self._http.drain(timeout)
            if self._thread is not None:
                self._thread.join(timeout)
            if self._owns_engine:
                self.engine.close()

    def __enter__(self) -> Server:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()
