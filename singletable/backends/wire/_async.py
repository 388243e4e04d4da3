"""The asyncio wire backend: the same core, its requests on asyncio connections.

Each connection is an :class:`asyncio.Protocol` that feeds what arrives to the
sans-I/O HTTP/1.1 reader of :mod:`._http` and wakes the waiting call when the
response is complete: one future per request, no stream buffers in between. Up to
``max_connections`` requests are in flight at once (further tasks wait for a
connection, as aiobotocore's do) and as many connections are kept open between
calls. An idle connection the server closed is dropped before it is reused; one
that fails before any byte of a response arrived is replaced and the request sent
again, once. Everything else, and every retry decision, is the core's.

Why not aiohttp (aiobotocore's HTTP client): its request and response machinery
cost about as much client CPU per call as the rest of a GetItem; the framing here
is the sync backend's, so both backends parse every response alike.
"""

from __future__ import annotations

import asyncio
import ssl
from typing import Any

from singletable.backends.wire._core import (
    Core,
    HttpRequest,
    HttpResponse,
    Options,
    Sleep,
    TransportFailure,
)
from singletable.backends.wire._http import (
    ProtocolError,
    RawResponse,
    ResponseReader,
    encode_request,
)
from singletable.backends.wire._setup import build_core, tls_context

__all__ = ["AsyncWireBackend"]


class AsyncWireBackend:
    """An :class:`~singletable.backends.base.AsyncBackend` that speaks DynamoDB's protocol.

    ::

        async with AsyncWireBackend() as backend:
            db = AsyncDB(backend)

    Takes the arguments of :class:`~singletable.backends.wire.WireBackend`. Its
    connections belong to the event loop of its first request: use it from that
    loop only.
    """

    encodes_items = True
    """Batch writes may hand items over as JSON text (:mod:`singletable._encoded`)."""

    def __init__(
        self,
        *,
        endpoint_url: str | None = None,
        region_name: str | None = None,
        aws_access_key_id: str | None = None,
        aws_secret_access_key: str | None = None,
        aws_session_token: str | None = None,
        profile_name: str | None = None,
        session: Any = None,
        options: Options | None = None,
        verify: bool | str | None = None,
    ) -> None:
        core, session = build_core(
            "asyncio",
            endpoint_url=endpoint_url,
            region_name=region_name,
            aws_access_key_id=aws_access_key_id,
            aws_secret_access_key=aws_secret_access_key,
            aws_session_token=aws_session_token,
            profile_name=profile_name,
            session=session,
            options=options,
        )
        self.core: Core = core
        """The sans-I/O core (endpoint, region, credentials, options)."""
        self._tls = tls_context(core.endpoint, session, verify)
        self._idle: list[_Connection] = []
        self._slots: asyncio.Semaphore | None = None

    async def call(self, operation: str, request: dict[str, Any]) -> dict[str, Any]:
        """Run ``operation``; returns the wire-shaped response.

        Raises:
            singletable.errors.DynamoDBServiceError: the subclass for the error code.
        """
        await self._renew_credentials()
        flow = self.core.exchange(operation, request)
        try:
            step = next(flow)
            while True:
                if isinstance(step, Sleep):
                    await asyncio.sleep(step.seconds)
                    await self._renew_credentials()  # each attempt is signed anew
                    step = flow.send(None)
                else:
                    step = flow.send(await self._send(step))
        except StopIteration as done:
            result: dict[str, Any] = done.value
            return result

    async def _renew_credentials(self) -> None:
        """Renew expiring credentials before an attempt is signed, off the loop: the
        refresh calls STS, SSO or a metadata endpoint."""
        credentials = self.core.credentials
        if credentials.refresh_due():
            await asyncio.to_thread(credentials.keys)

    async def _send(self, request: HttpRequest) -> HttpResponse | TransportFailure:
        data = encode_request(request.method, request.path, request.headers, request.body)
        if self._slots is None:
            self._slots = asyncio.Semaphore(self.core.options.max_connections)
        async with self._slots:
            while True:
                reused = self._take()
                if reused is None:
                    try:
                        connection = await self._connect()
                    except _Unreachable as unreachable:
                        return unreachable.failure
                else:
                    connection = reused
                try:
                    response = await connection.exchange(data, self.core.options.read_timeout)
                except TimeoutError as error:
                    connection.abort()
                    return TransportFailure("ReadTimeoutError", str(error))
                except (OSError, ProtocolError) as error:
                    connection.abort()
                    if reused is not None and not connection.received:
                        continue  # the server closed it while idle: a new connection
                    return TransportFailure("ConnectionClosedError", str(error))
                except BaseException:  # cancelled mid-exchange: the connection is unusable
                    connection.abort()
                    raise
                if response.keep_alive and len(self._idle) < self.core.options.max_connections:
                    self._idle.append(connection)
                else:
                    connection.close()
                return HttpResponse(response.status, response.headers, response.body)

    def _take(self) -> _Connection | None:
        while self._idle:
            connection = self._idle.pop()
            if not connection.closed:
                return connection
        return None

    async def _connect(self) -> _Connection:
        endpoint = self.core.endpoint
        loop = asyncio.get_running_loop()
        try:
            async with asyncio.timeout(self.core.options.connect_timeout):
                _, connection = await loop.create_connection(
                    _Connection,
                    endpoint.host,
                    endpoint.port,
                    ssl=self._tls,
                    server_hostname=endpoint.host if self._tls is not None else None,
                )
        except TimeoutError as error:
            raise _Unreachable(TransportFailure("ConnectTimeoutError", str(error))) from None
        except (ssl.SSLError, ssl.CertificateError) as error:
            raise _Unreachable(TransportFailure("SSLError", str(error))) from None
        except OSError as error:
            raise _Unreachable(TransportFailure("EndpointConnectionError", str(error))) from None
        return connection

    async def close(self) -> None:
        """Close the idle connections (a later call opens new ones)."""
        idle, self._idle = self._idle, []
        for connection in idle:
            connection.close()
        if idle:
            await asyncio.sleep(0)  # let the transports finish closing on this loop

    async def __aenter__(self) -> AsyncWireBackend:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.close()

    def __repr__(self) -> str:
        return f"AsyncWireBackend({self.core.endpoint.url!r})"


class _Unreachable(Exception):
    def __init__(self, failure: TransportFailure) -> None:
        self.failure = failure


class _Connection(asyncio.Protocol):
    """One HTTP/1.1 connection: a request at a time, its response parsed as it arrives.

    The read timeout is a deadline, moved on by every read (as a socket timeout
    applies to each read, the sync backend's), watched by one timer per connection
    that re-arms itself for the deadline it finds when it fires: a call costs a
    clock read instead of a timer of its own. (``asyncio.timeout`` around each
    exchange scheduled and cancelled one per call, and the loop then swept the
    cancelled ones out of its heap: measured against ``singletable serve``, about
    15 us of client CPU of a GetItem's 100 us in this backend.)
    """

    def __init__(self) -> None:
        self._transport: asyncio.Transport | None = None
        self._reader: ResponseReader | None = None
        self._waiter: asyncio.Future[RawResponse] | None = None
        self._loop = asyncio.get_running_loop()
        self._timeout = 0.0
        self._deadline = 0.0
        self._timer: asyncio.TimerHandle | None = None
        self.closed = False
        self.received = False

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self._transport = transport

    async def exchange(self, data: bytes, timeout: float) -> RawResponse:
        """Send ``data``; the response to it.

        Raises:
            TimeoutError: ``timeout`` seconds passed without a byte of the response.
        """
        assert self._transport is not None
        if self.closed:
            raise ConnectionResetError("the connection is closed")
        self._reader = ResponseReader()
        self.received = False
        loop = self._loop
        waiter: asyncio.Future[RawResponse] = loop.create_future()
        self._waiter = waiter
        self._timeout = timeout
        self._deadline = loop.time() + timeout
        if self._timer is None:
            self._timer = loop.call_at(self._deadline, self._watch)
        self._transport.write(data)
        try:
            return await waiter
        finally:
            self._reader = self._waiter = None

    def _watch(self) -> None:
        """The timer: fail the exchange past its deadline, else wait for the deadline
        (a later one, if reads moved it on); idle, stop until the next exchange."""
        self._timer = None
        waiter = self._waiter
        if waiter is None or waiter.done() or self.closed:
            return
        if self._loop.time() >= self._deadline:
            waiter.set_exception(TimeoutError(f"no response in {self._timeout} seconds"))
        else:
            self._timer = self._loop.call_at(self._deadline, self._watch)

    def _stop_watching(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None

    def data_received(self, data: bytes) -> None:
        reader = self._reader
        if reader is None:  # nothing was asked: the connection is not usable
            self.abort()
            return
        self.received = True
        self._deadline = self._loop.time() + self._timeout  # each read restarts the wait
        try:
            response = reader.feed(data)
        except ProtocolError as error:
            self._fail(error)
            return
        if response is not None and self._waiter is not None and not self._waiter.done():
            self._waiter.set_result(response)

    def eof_received(self) -> bool | None:
        self.closed = True
        reader = self._reader
        if reader is not None:
            try:
                response = reader.feed(b"")
            except ProtocolError as error:
                self._fail(error)
            else:
                if response is not None and self._waiter is not None and not self._waiter.done():
                    self._waiter.set_result(response)
        return None  # close the transport

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        self._stop_watching()
        self._fail(exc or ConnectionResetError("the connection was closed"))

    def _fail(self, error: BaseException) -> None:
        if self._waiter is not None and not self._waiter.done():
            self._waiter.set_exception(error)

    def close(self) -> None:
        self.closed = True
        self._stop_watching()
        if self._transport is not None:
            self._transport.close()

    def abort(self) -> None:
        self.closed = True
        self._stop_watching()
        if self._transport is not None:
            self._transport.abort()
