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

What is parsed: a request line, header lines (at most 100, each at most 64 KiB),
and a body framed by ``Content-Length`` or ``Transfer-Encoding: chunked``;
``Expect: 100-continue`` is honoured; connections are kept alive (HTTP/1.1
default, or HTTP/1.0 with ``Connection: keep-alive``) until the client closes
them or sends ``Connection: close``. A malformed request gets a 400 and the
connection is closed (its framing can no longer be trusted). A body over the
16 MB limit is read and discarded (up to 64 MB, so the client sees the answer
rather than a reset) and answered with 413. An unexpected error inside the
engine is answered with DynamoDB's ``InternalServerError`` (HTTP 500) and
logged with its traceback; the connection stays up.
"""

from __future__ import annotations

import contextlib
import io
import logging
import os
import selectors
import socket
import socketserver
import threading
import time
from email.utils import formatdate

from singletable.server._protocol import MAX_BODY_BYTES, Protocol, Response

__all__ = ["HTTPServer"]

log = logging.getLogger("singletable.server")

_MAX_LINE = 64 * 1024
_MAX_HEADERS = 100
_MAX_DRAIN = 64 * 1024 * 1024
_REASONS = {
    200: "OK",
    400: "Bad Request",
    404: "Not Found",
    413: "Request Entity Too Large",
    500: "Internal Server Error",
    503: "Service Unavailable",
}


class _BadRequest(Exception):
    """The request cannot be read; answered with 400 and the connection closed."""


class _Date:
    """The ``Date`` header value, formatted at most once a second."""

    def __init__(self) -> None:
        self._second = -1
        self._value = ""

    def value(self) -> str:
        now = int(time.time())
        if now != self._second:
            self._value = formatdate(now, usegmt=True)
            self._second = now
        return self._value


class _Connection(socketserver.StreamRequestHandler):
    """Serves the requests of one client connection, one after another."""

    server: HTTPServer
    rbufsize = 64 * 1024
    timeout = 300.0  # an idle (or stalled) connection is closed after 5 minutes
    disable_nagle_algorithm = True  # every response is one sendall: no delayed-ACK stalls

    def handle(self) -> None:
        self.server.track(self.connection, True)
        try:
            while self._one_request():
                pass
        except (ConnectionError, TimeoutError, OSError):
            pass  # the client went away; nothing to answer
        finally:
            self.server.track(self.connection, False)

    def _one_request(self) -> bool:
        """Serve one request; False when the connection should close."""
        rfile = self.rfile
        line = rfile.readline(_MAX_LINE + 1)
        while line in (b"\r\n", b"\n"):  # tolerate blank lines between requests (RFC 9112)
            line = rfile.readline(_MAX_LINE + 1)
        if not line:
            return False
        protocol = self.server.protocol
        try:
            method, target, version, headers = _read_head(line, rfile)
            if headers.get("expect", "").lower() == "100-continue":
                self.wfile.write(b"HTTP/1.1 100 Continue\r\n\r\n")
            body = _read_body(headers, rfile)
        except _BadRequest as error:
            self._send(protocol.bad_request(str(error)), keep_alive=False)
            return False
        if body is None:  # over the limit (drained)
            return self._send(protocol.too_large(), keep_alive=True)
        if headers.get("connection", "").lower() == "close":
            keep_alive = False
        else:
            keep_alive = version == "HTTP/1.1" or (
                headers.get("connection", "").lower() == "keep-alive"
            )
        if not self.server.begin_request():
            return False  # the server is stopping: close without running the request
        try:
            try:
                response = protocol.handle(method, target, headers, body)
            except Exception:  # a bug must not drop the connection or leak a trace
                log.exception("internal error answering %s", headers.get("x-amz-target"))
                response = protocol.internal_error(headers.get("content-type", ""))
            return self._send(response, keep_alive)
        finally:
            self.server.end_request()

    def _send(self, response: Response, keep_alive: bool) -> bool:
        head = [f"HTTP/1.1 {response.status} {_REASONS.get(response.status, 'Error')}\r\n"]
        head.extend(f"{name}: {value}\r\n" for name, value in response.headers)
        head.append(f"Date: {self.server.date.value()}\r\n")
        head.append("Connection: keep-alive\r\n\r\n" if keep_alive else "Connection: close\r\n\r\n")
        self.wfile.write("".join(head).encode("latin-1") + response.body)
        return keep_alive


def _read_head(line: bytes, rfile: io.BufferedIOBase) -> tuple[str, str, str, dict[str, str]]:
    """The method, target, version and headers (names lower-cased) of one request."""
    if len(line) > _MAX_LINE:
        raise _BadRequest("The request line is too long")
    parts = line.decode("latin-1").split()
    if len(parts) != 3 or not parts[2].startswith("HTTP/1."):
        raise _BadRequest(f"Malformed request line: {line[:200]!r}")
    method, target, version = parts
    headers: dict[str, str] = {}
    for _ in range(_MAX_HEADERS + 1):
        raw = rfile.readline(_MAX_LINE + 1)
        if raw in (b"\r\n", b"\n"):
            return method, target, version, headers
        if not raw:
            raise ConnectionError("the client closed the connection mid-request")
        if len(raw) > _MAX_LINE:
            raise _BadRequest("A header line is too long")
        name, sep, value = raw.decode("latin-1").partition(":")
        if not sep or not name or name != name.strip():
            raise _BadRequest(f"Malformed header line: {raw[:200]!r}")
        key = name.lower()
        value = value.strip()
        headers[key] = f"{headers[key]}, {value}" if key in headers else value
    raise _BadRequest(f"More than {_MAX_HEADERS} header lines")


def _read_body(headers: dict[str, str], rfile: io.BufferedIOBase) -> bytes | None:
    """The request body; None if it is over the size limit (and was discarded)."""
    if "transfer-encoding" in headers:
        if headers["transfer-encoding"].lower() != "chunked":
            raise _BadRequest(f"Unsupported Transfer-Encoding: {headers['transfer-encoding']}")
        return _read_chunked(rfile)
    length_text = headers.get("content-length")
    if length_text is None:
        return b""
    try:
        length = int(length_text)
    except ValueError:
        raise _BadRequest(f"Malformed Content-Length: {length_text!r}") from None
    if length < 0:
        raise _BadRequest(f"Malformed Content-Length: {length_text!r}")
    if length > MAX_BODY_BYTES:
        if length > _MAX_DRAIN:
            raise _BadRequest(f"Request body of {length} bytes is over the 16 MB limit")
        _discard(rfile, length)
        return None
    body = rfile.read(length)
    if len(body) < length:
        raise ConnectionError("the client closed the connection mid-body")
    return body


def _read_chunked(rfile: io.BufferedIOBase) -> bytes | None:
    chunks: list[bytes] = []
    total = 0
    while True:
        size_line = rfile.readline(_MAX_LINE + 1)
        try:
            size = int(size_line.split(b";", 1)[0].strip(), 16)
        except ValueError:
            raise _BadRequest(f"Malformed chunk size: {size_line[:100]!r}") from None
        if size == 0:
            while rfile.readline(_MAX_LINE + 1) not in (b"\r\n", b"\n", b""):
                pass  # trailers are ignored
            break
        total += size
        if total > _MAX_DRAIN:
            raise _BadRequest("Request body is over the 16 MB limit")
        chunk = rfile.read(size)
        if len(chunk) < size:
            raise ConnectionError("the client closed the connection mid-body")
        if total <= MAX_BODY_BYTES:
            chunks.append(chunk)
        rfile.readline(_MAX_LINE + 1)  # the CRLF after the chunk
    return b"".join(chunks) if total <= MAX_BODY_BYTES else None


def _discard(rfile: io.BufferedIOBase, length: int) -> None:
    while length > 0:
        chunk = rfile.read(min(length, 1 << 20))
        if not chunk:
            raise ConnectionError("the client closed the connection mid-body")
        length -= len(chunk)


class HTTPServer(socketserver.ThreadingTCPServer):
    """A threading TCP server that answers with a :class:`Protocol`, one thread per connection."""

    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 512

    def __init__(self, address: tuple[str, int], protocol: Protocol) -> None:
        self.protocol = protocol
        self.date = _Date()
        self._connections: set[socket.socket] = set()
        self._busy = 0
        self._stopping = False
        self._idle = threading.Condition()
        self._stop_serving = False
        self._served = threading.Event()
        self._wake_read, self._wake_write = os.pipe()
        if ":" in address[0]:  # an IPv6 address, such as ::1
            self.address_family = socket.AF_INET6
        super().__init__(address, _Connection)

    def track(self, connection: socket.socket, alive: bool) -> None:
        """Record an open (or closed) connection, so that :meth:`drain` finds it."""
        with self._idle:
            if alive:
                self._connections.add(connection)
            else:
                self._connections.discard(connection)

    def serve(self) -> None:
        """Accept connections until :meth:`stop_serving` (each is served by its own thread).

        Unlike ``BaseServer.serve_forever``, which notices a shutdown only at its next
        poll, the loop waits on the listening socket and a wake-up pipe together, so
        stopping takes no poll interval (tests start and stop a server per test).
        """
        with selectors.DefaultSelector() as selector:
            selector.register(self.socket, selectors.EVENT_READ)
            selector.register(self._wake_read, selectors.EVENT_READ)
            try:
                while not self._stop_serving:
                    for key, _ in selector.select():
                        if key.fileobj is self.socket and not self._stop_serving:
                            self._accept()
            finally:
                self._served.set()

    def _accept(self) -> None:
        """Accept one connection and hand it to its thread (as ``BaseServer`` does)."""
        try:
            request, client_address = self.get_request()
        except OSError:
            return
        try:
            self.process_request(request, client_address)
        except Exception:
            self.handle_error(request, client_address)
            self.shutdown_request(request)

    def stop_serving(self) -> None:
        """End :meth:`serve` (from another thread) and wait until it has returned."""
        self._stop_serving = True
        with contextlib.suppress(OSError):
            os.write(self._wake_write, b"x")
        self._served.wait()

    def server_close(self) -> None:
        super().server_close()
        for fd in (self._wake_read, self._wake_write):
            with contextlib.suppress(OSError):
                os.close(fd)

    def begin_request(self) -> bool:
        """Count a request as being answered; False (not counted) once stopping began."""
        with self._idle:
            if self._stopping:
                return False
            self._busy += 1
            return True

    def end_request(self) -> None:
        """The request counted by :meth:`begin_request` has been answered."""
        with self._idle:
            self._busy -= 1
            self._idle.notify_all()

    def drain(self, timeout: float) -> None:
        """Refuse new requests, let the ones being answered finish (for up to ``timeout``
        seconds), then close every connection."""
        with self._idle:
            self._stopping = True
            self._idle.wait_for(lambda: not self._busy, timeout)
            connections = list(self._connections)
        for connection in connections:
            with contextlib.suppress(OSError):
                connection.shutdown(socket.SHUT_RDWR)
