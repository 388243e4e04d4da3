"""The HTTP/1.1 layer of ``singletable serve``: the standard library's threading server.

Why this stack. Four were measured on the same loop (a GetItem of a ~1 KB item,
2-CPU machine, medians of 3 rounds; µs per request; "x8" is 8 client processes,
"server CPU" is the server process's user+system time per request):

=============================================  =========  ==========  ==========  ==========
stack                                          raw x1     server CPU  raw x8      server CPU
                                               wall p50   x1          wall/req    x8
=============================================  =========  ==========  ==========  ==========
this module (threads, own request parsing)     116        81          134         151
``http.server.BaseHTTPRequestHandler``         150        111         203         210
uvicorn + httptools + uvloop, engine inline    141        99          78          76
uvicorn, engine via ``run_in_executor``        311        255         116         111
=============================================  =========  ==========  ==========  ==========

Through boto3 (the way clients actually call) the four are within noise of each
other at one client (912-1167 µs a call: botocore and urllib3 dominate), and
with 8 client processes on 2 CPUs the clients, not the server, are the limit
(``bench/http_bench.py`` shows the server using ~0.15-0.3 ms of CPU per call
while the clients use ~1.5 ms). So the choice rests on the rest:

* With one client, which is how tests and the AWS CLI use the endpoint, this
  server is the cheapest per request; ``BaseHTTPRequestHandler`` costs ~30 µs
  more (its header parsing goes through ``email.parser``).
* uvicorn is about twice as efficient under 8 busy connections (one event loop
  instead of threads contending for the GIL), but only with the engine called
  inline in the loop, where one slow request (a large Scan, a durable
  ``fsync`` with ``sync="full"``) stalls every connection; the executor hop
  that avoids that costs ~170 µs a request. And it would add three runtime
  dependencies (uvicorn, httptools, uvloop) to a package whose dependencies are
  chosen one by one, for a gain clients cannot see.
* A thread per connection means a slow or stalled client never holds up
  another, with no code to get wrong about it.

The threads are bounded: at most ``max_connections`` connections are open at
once (one thread each, ended with its connection); further clients wait in the
listening socket's backlog until one closes, rather than each getting a thread.
A connection's time is bounded too: a request's head must arrive within
``header_timeout`` seconds of its first byte, a body within as long again
plus a second per 64 KiB, and a kept-alive connection with no
request for ``idle_timeout`` seconds is closed. Request parsing, with its size
limits, is in :mod:`._wire`.

Connections are kept alive (HTTP/1.1 default, or HTTP/1.0 with ``Connection:
keep-alive``) until the client closes them, sends ``Connection: close`` or
goes idle. ``Expect: 100-continue`` is honoured. A malformed request gets a 400
and the connection is closed (its framing can no longer be trusted), after the
server has stopped reading and drained briefly what the client was still
sending, so that the client sees the answer rather than a reset. An unexpected
error inside the engine is answered with DynamoDB's ``InternalServerError``
(HTTP 500) and logged with its traceback; the connection stays up.
"""

from __future__ import annotations

import contextlib
import logging
import os
import selectors
import signal
import socket
import threading
import time
from dataclasses import dataclass
from email.utils import formatdate

from singletable.server._protocol import Protocol, Response
from singletable.server._wire import BadRequest, Reader, read_body, read_request

__all__ = ["HTTPServer", "Limits"]

log = logging.getLogger("singletable.server")

_BACKLOG = 512
_LINGER_SECONDS = 1.0
_LINGER_BYTES = 1 << 20
_REASONS = {
    200: "OK",
    400: "Bad Request",
    404: "Not Found",
    413: "Request Entity Too Large",
    500: "Internal Server Error",
    503: "Service Unavailable",
}
_CRLF = "\r\n"
_COLON = ": "
_KEEP_ALIVE = "Connection: keep-alive\r\n\r\n"
_CLOSE = "Connection: close\r\n\r\n"


@dataclass(frozen=True)
class Limits:
    """How many connections the server holds at once, and how long it waits on each.

    Args:
        max_connections: connections open at once (each has a thread); more
            clients wait in the listening backlog until one closes.
        header_timeout: seconds for a request's head to arrive, from its first
            byte; a body gets as long again, plus a second per 64 KiB.
        idle_timeout: seconds a kept-alive connection may stay without a request.
    """

    max_connections: int = 256
    header_timeout: float = 10.0
    idle_timeout: float = 60.0

    def __post_init__(self) -> None:
        if self.max_connections < 1:
            raise ValueError(f"max_connections must be at least 1, not {self.max_connections}")
        for name in ("header_timeout", "idle_timeout"):
            value = getattr(self, name)
            if not value > 0:
                raise ValueError(f"{name} must be a positive number of seconds, not {value}")


class _Date:
    """The ``Date`` header value, formatted at most once a second."""

    __slots__ = ("second", "value")

    def __init__(self) -> None:
        self.second = -1
        self.value = ""

    def update(self, now: int) -> None:
        """Format ``now`` (seconds since the epoch)."""
        self.value = formatdate(now, usegmt=True)
        self.second = now


class _Connection:
    """Serves the requests of one client connection, one after another."""

    def __init__(self, server: HTTPServer, sock: socket.socket) -> None:
        self.server = server
        self.socket = sock

    def serve(self) -> None:
        try:
            # Every response is one write: no delayed-ACK stalls.
            self.socket.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            limits = self.server.limits
            self.reader = Reader(self.socket, min(limits.header_timeout, limits.idle_timeout))
            while self._one_request():
                pass
        except (ConnectionError, TimeoutError, OSError):
            pass  # the client went away or was too slow; nothing to answer

    def _one_request(self) -> bool:
        """Serve one request; False when the connection should close.

        The usual path runs few Python calls on purpose: with a client that
        spends a millisecond between requests, each call runs from cold caches,
        and their number, more than their work, sets the server's CPU time per
        request (bench/http_bench.py, table 1b).
        """
        server = self.server
        limits = server.limits
        protocol = server.protocol
        try:
            request = read_request(self.reader, limits.idle_timeout, limits.header_timeout)
            if request is None:
                return False
            headers = request.headers
            if "expect" in headers and request.expects_continue:
                self.reader.send(b"HTTP/1.1 100 Continue\r\n\r\n", limits.header_timeout)
            body = read_body(self.reader, headers, limits.header_timeout)
        except BadRequest as error:
            self._send(protocol.bad_request(str(error)), keep_alive=False)
            self._linger()
            return False
        if body is None:  # over the limit (drained)
            return self._send(protocol.too_large(), keep_alive=True)
        connection = headers.get("connection")
        if connection is None:
            keep_alive = request.version == "HTTP/1.1"
        else:
            connection = connection.lower()
            keep_alive = connection != "close" and (
                request.version == "HTTP/1.1" or connection == "keep-alive"
            )
        with server.lock:  # begin_request(), inline
            if server.stopping:
                return False  # the server is stopping: close without running the request
            server.busy += 1
        try:
            try:
                response = protocol.handle(request.method, request.target, headers, body)
            except Exception:  # a bug must not drop the connection or leak a trace
                log.exception("internal error answering %s", headers.get("x-amz-target"))
                response = protocol.internal_error(headers.get("content-type", ""))
            return self._send(response, keep_alive)
        finally:
            with server.lock:  # end_request(), inline
                server.busy -= 1
                if server.stopping:  # only drain() waits, and only once stopping
                    server.idle.notify_all()

    def _send(self, response: Response, keep_alive: bool) -> bool:
        status = response.status
        date = self.server.date
        now = int(time.time())
        if now != date.second:
            date.update(now)
        head = (
            f"HTTP/1.1 {status} {_REASONS.get(status, 'Error')}\r\n"
            f"Server: Server\r\nDate: {date.value}\r\n"  # DynamoDB's Server value
            f"{_CRLF.join(map(_COLON.join, response.headers))}\r\n"
            f"{_KEEP_ALIVE if keep_alive else _CLOSE}"
        ).encode("latin-1")
        self.reader.send(head + response.body, self.server.limits.idle_timeout)
        return keep_alive

    def _linger(self) -> None:
        """Close after an answer sent before the request was read whole: stop sending,
        and read (and drop) what is still coming for a moment, within bounds, so that
        closing does not reset the connection before the client reads the answer."""
        with contextlib.suppress(OSError):
            self.socket.shutdown(socket.SHUT_WR)
            deadline = time.monotonic() + _LINGER_SECONDS
            dropped = 0
            while dropped < _LINGER_BYTES:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    break
                self.socket.settimeout(remaining)
                data = self.socket.recv(64 * 1024)
                if not data:
                    break
                dropped += len(data)


class HTTPServer:
    """Accepts connections and serves each from its own thread, at most
    ``limits.max_connections`` at once, answering with a :class:`Protocol`."""

    def __init__(
        self, address: tuple[str, int], protocol: Protocol, limits: Limits | None = None
    ) -> None:
        self.protocol = protocol
        self.limits = limits if limits is not None else Limits()
        self.date = _Date()
        family = socket.AF_INET6 if ":" in address[0] else socket.AF_INET
        self.socket = socket.socket(family, socket.SOCK_STREAM)
        try:
            self.socket.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            self.socket.bind(address)
            self.socket.listen(_BACKLOG)
        except BaseException:
            self.socket.close()
            raise
        self.server_address: tuple[str, int] = self.socket.getsockname()[:2]
        self._connections: set[socket.socket] = set()
        # Connections, requests being answered and stopping, under one lock (taken
        # with a plain ``with lock``: the condition's own ``with`` is Python code).
        self.lock = threading.RLock()
        self.idle = threading.Condition(self.lock)  # notified as requests end, once stopping
        self.busy = 0
        self.stopping = False
        self._stop_serving = False
        self._served = threading.Event()
        self._wake_read, self._wake_write = os.pipe()
        self._pipe_open = True
        os.set_blocking(self._wake_read, False)
        os.set_blocking(self._wake_write, False)

    def serve(self) -> None:
        """Accept connections until :meth:`stop_serving` (each is served by its own thread).

        The loop waits on the listening socket and a wake-up pipe together, so
        stopping takes no poll interval (tests start and stop a server per test).
        While ``max_connections`` connections are open it stops accepting: new
        clients wait in the backlog, and a closing connection wakes the loop.
        """
        cap = self.limits.max_connections
        # In the main thread, a signal also writes to the wake-up pipe (whichever
        # thread the system delivers it to), so the loop sees request_stop() at once.
        previous_wakeup: int | None = None
        if threading.current_thread() is threading.main_thread():
            previous_wakeup = signal.set_wakeup_fd(self._wake_write, warn_on_full_buffer=False)
        with selectors.DefaultSelector() as selector:
            selector.register(self._wake_read, selectors.EVENT_READ)
            listening = False
            try:
                while not self._stop_serving:
                    with self.lock:
                        room = len(self._connections) < cap
                    if room != listening:
                        if room:
                            selector.register(self.socket, selectors.EVENT_READ)
                        else:
                            selector.unregister(self.socket)
                        listening = room
                    for key, _ in selector.select():
                        if key.fileobj is self._wake_read:
                            with contextlib.suppress(OSError):
                                os.read(self._wake_read, 4096)
                        elif not self._stop_serving:
                            self._accept()
            finally:
                if previous_wakeup is not None:
                    signal.set_wakeup_fd(previous_wakeup)
                self._served.set()

    def _accept(self) -> None:
        """Accept one connection and start its thread."""
        try:
            sock, _ = self.socket.accept()
        except OSError:
            return
        with self.lock:
            if self.stopping:
                sock.close()
                return
            self._connections.add(sock)
        try:
            threading.Thread(
                target=self._serve_connection,
                args=(sock,),
                name="singletable-connection",
                daemon=True,
            ).start()
        except RuntimeError:  # no thread could be started: refuse this one
            self._forget(sock)

    def _serve_connection(self, sock: socket.socket) -> None:
        try:
            _Connection(self, sock).serve()
        finally:
            self._forget(sock)

    def _forget(self, sock: socket.socket) -> None:
        """Close a connection and make room for the next one."""
        with contextlib.suppress(OSError):
            sock.close()
        with self.lock:
            full = len(self._connections) >= self.limits.max_connections
            self._connections.discard(sock)
        if full:
            self._wake()

    def _wake(self) -> None:
        with self.lock:  # never write to the pipe's fd number once it is closed
            if self._pipe_open:
                with contextlib.suppress(OSError):
                    os.write(self._wake_write, b"x")

    def request_stop(self) -> None:
        """Make :meth:`serve` return at its next wake-up; safe in a signal handler."""
        self._stop_serving = True

    def stop_serving(self) -> None:
        """End :meth:`serve` (from another thread) and wait until it has returned."""
        self._stop_serving = True
        self._wake()
        self._served.wait()

    def server_close(self) -> None:
        """Close the listening socket (and the wake-up pipe)."""
        self.socket.close()
        with self.lock:
            self._pipe_open = False
            for fd in (self._wake_read, self._wake_write):
                with contextlib.suppress(OSError):
                    os.close(fd)

    def drain(self, timeout: float) -> None:
        """Refuse new requests, let the ones being answered finish (for up to ``timeout``
        seconds), then close every connection."""
        with self.lock:
            self.stopping = True
            self.idle.wait_for(lambda: not self.busy, timeout)
            connections = list(self._connections)
        for connection in connections:
            with contextlib.suppress(OSError):
                connection.shutdown(socket.SHUT_RDWR)
