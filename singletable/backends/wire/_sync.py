"""The synchronous wire backend: the core's requests on pooled keep-alive connections.

The connections are the standard library's sockets (and ``ssl`` for https), framed
by the sans-I/O HTTP/1.1 code of :mod:`._http`; a pool keeps up to
``max_connections`` of them open between calls, shared by every thread (a thread
that finds none idle opens another, which is closed after use when the pool is
full). An idle connection the server has closed is noticed before it is reused;
one that fails before any byte of a response arrived is replaced and the request
sent again, once (the server never saw it: this is not a retry of the call).
Everything else, and every retry decision, is the core's.

Why not urllib3 (botocore's HTTP client, installed anyway): its connections are
http.client's, whose response parsing (the ``email`` package) cost 0.15-0.19 ms of
client CPU per call here, half of a whole GetItem's. See :mod:`._http`.
"""

from __future__ import annotations

import select
import socket
import ssl
import threading
import time
from typing import Any

from singletable.backends.wire._core import (
    Core,
    HttpRequest,
    HttpResponse,
    Options,
    Sleep,
    TransportFailure,
)
from singletable.backends.wire._endpoint import Endpoint
from singletable.backends.wire._http import ProtocolError, ResponseReader, encode_request
from singletable.backends.wire._setup import build_core, tls_context

__all__ = ["WireBackend"]


class WireBackend:
    """A :class:`~singletable.backends.base.Backend` that speaks DynamoDB's protocol itself.

    ::

        backend = WireBackend()                                   # AWS, as boto3 finds it
        backend = WireBackend(endpoint_url="http://127.0.0.1:8000")  # singletable serve, ...

    Args:
        endpoint_url: the endpoint; by default the configured one
            (``AWS_ENDPOINT_URL_DYNAMODB``, ...) or DynamoDB's in the region.
        region_name: the region; by default ``AWS_REGION``, ``AWS_DEFAULT_REGION`` or
            the profile's.
        aws_access_key_id: with ``aws_secret_access_key`` (and
            ``aws_session_token``), these keys instead of the credential chain.
        profile_name: the shared-config profile to read (``AWS_PROFILE`` by default).
        session: a botocore session to read settings and credentials from instead.
        options: timeouts, retries, pool size (:class:`Options`; botocore's defaults).
        verify: check the server's TLS certificate (True), against this CA bundle
            (a path), or not at all (False).

    Raises:
        singletable.errors.BackendError: no region (``NoRegionError``) or an invalid
            endpoint URL.
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
            "stdlib",
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
        self._pool = _Pool(core.endpoint, tls_context(core.endpoint, session, verify), core.options)

    def call(self, operation: str, request: dict[str, Any]) -> dict[str, Any]:
        """Run ``operation``; returns the wire-shaped response.

        Raises:
            singletable.errors.DynamoDBServiceError: the subclass for the error code.
        """
        flow = self.core.exchange(operation, request)
        try:
            step = next(flow)
            while True:
                if isinstance(step, Sleep):
                    time.sleep(step.seconds)
                    step = flow.send(None)
                else:
                    step = flow.send(self._send(step))
        except StopIteration as done:
            result: dict[str, Any] = done.value
            return result

    def _send(self, request: HttpRequest) -> HttpResponse | TransportFailure:
        return self._pool.send(request)

    def close(self) -> None:
        """Close the pooled connections."""
        self._pool.close()

    def __enter__(self) -> WireBackend:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"WireBackend({self.core.endpoint.url!r})"


class _Unreachable(Exception):
    def __init__(self, failure: TransportFailure) -> None:
        self.failure = failure


class _Pool:
    """Kept-alive connections to one endpoint, shared by threads."""

    def __init__(self, endpoint: Endpoint, tls: ssl.SSLContext | None, options: Options) -> None:
        self._address = (endpoint.host, endpoint.port)
        self._server_hostname = endpoint.host
        self._tls = tls
        self._connect_timeout = options.connect_timeout
        self._read_timeout = options.read_timeout
        self._size = options.max_connections
        self._idle: list[socket.socket] = []
        self._lock = threading.Lock()

    def send(self, request: HttpRequest) -> HttpResponse | TransportFailure:
        data = encode_request(request.method, request.path, request.headers, request.body)
        while True:
            reused = self._take()
            if reused is None:
                try:
                    sock = self._connect()
                except _Unreachable as unreachable:
                    return unreachable.failure
            else:
                sock = reused
            reader = ResponseReader()
            try:
                sock.sendall(data)
                response = None
                while response is None:
                    response = reader.feed(sock.recv(262144))
            except TimeoutError as error:
                sock.close()
                return TransportFailure("ReadTimeoutError", str(error))
            except (OSError, ProtocolError) as error:
                sock.close()
                if reused is not None and not reader.received:
                    continue  # the server closed it while idle: send on a new connection
                return TransportFailure("ConnectionClosedError", str(error))
            except BaseException:  # interrupted mid-exchange: the connection is unusable
                sock.close()
                raise
            if response.keep_alive:
                self._give_back(sock)
            else:
                sock.close()
            return HttpResponse(response.status, response.headers, response.body)

    def _take(self) -> socket.socket | None:
        while True:
            with self._lock:
                if not self._idle:
                    return None
                sock = self._idle.pop()
            # readable while idle: the server closed it (or sent what it should not)
            readable, _, _ = select.select([sock], [], [], 0)
            if not readable:
                return sock
            sock.close()

    def _give_back(self, sock: socket.socket) -> None:
        with self._lock:
            if len(self._idle) < self._size:
                self._idle.append(sock)
                return
        sock.close()

    def _connect(self) -> socket.socket:
        try:
            sock = socket.create_connection(self._address, timeout=self._connect_timeout)
        except TimeoutError as error:
            raise _Unreachable(TransportFailure("ConnectTimeoutError", str(error))) from None
        except OSError as error:
            raise _Unreachable(TransportFailure("EndpointConnectionError", str(error))) from None
        try:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            if self._tls is not None:
                sock = self._tls.wrap_socket(sock, server_hostname=self._server_hostname)
        except (ssl.SSLError, ssl.CertificateError) as error:
            sock.close()
            raise _Unreachable(TransportFailure("SSLError", str(error))) from None
        except TimeoutError as error:
            sock.close()
            raise _Unreachable(TransportFailure("ConnectTimeoutError", str(error))) from None
        except OSError as error:
            sock.close()
            raise _Unreachable(TransportFailure("EndpointConnectionError", str(error))) from None
        sock.settimeout(self._read_timeout)
        return sock

    def close(self) -> None:
        with self._lock:
            idle, self._idle = self._idle, []
        for sock in idle:
            sock.close()
