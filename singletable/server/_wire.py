"""Reading HTTP/1.1 requests off a socket, within limits of size and time.

Everything a client sends before it is authenticated is read here, so nothing
here may grow without bound or wait forever:

* the request line and the header section are each at most 16 KiB (and at
  most 100 header lines); a longer one is refused (400) as soon as the limit
  is passed, without reading the rest;
* a request's head must arrive within the header timeout, counted from its
  first byte (a client trickling a byte a second is cut off, however many
  bytes it sends);
* a body is framed by ``Content-Length`` (digits only) or by
  ``Transfer-Encoding: chunked`` (each size 1-16 hex digits); a malformed
  framing is a 400 at once. The body size limit applies as bytes arrive:
  a chunked body is never buffered past it. A body over the limit (but under
  :data:`MAX_DRAIN`) is read in bounded pieces and discarded, so that the
  client gets its 413 on a connection that still works; a larger one is a 400
  and the connection is closed;
* a body must arrive within the header timeout plus one second per
  :data:`MIN_BODY_RATE` bytes (counted as a chunked body's sizes are read), so
  a client trickling its body cannot hold a connection either.

:class:`Reader` keeps at most one socket read (64 KiB) beyond what a limit
allows. The names of headers are lower-cased; repeated headers are joined
with ", ".
"""

from __future__ import annotations

import re
import socket
import struct
import sys
import time
from dataclasses import dataclass

from singletable.server._protocol import MAX_BODY_BYTES

__all__ = [
    "MAX_DRAIN",
    "MAX_HEADERS",
    "MAX_HEADER_BYTES",
    "MAX_REQUEST_LINE",
    "MIN_BODY_RATE",
    "BadRequest",
    "Reader",
    "Request",
    "read_body",
    "read_request",
]

MAX_REQUEST_LINE = 16 * 1024
"""The longest request line accepted (bytes, with its line end)."""
MAX_HEADER_BYTES = 16 * 1024
"""The largest header section accepted (all header lines, bytes)."""
MAX_HEADERS = 100
"""The most header lines accepted."""
MAX_DRAIN = 64 * 1024 * 1024
"""A body over the size limit but at most this long is read and discarded (then
413 on a connection that still works); a longer one gets 400 and the connection
is closed."""

MIN_BODY_RATE = 64 * 1024
"""The slowest a body may arrive, in bytes a second, beyond the header timeout."""

_RECV = 64 * 1024
_SLACK = 0.01
"""How far past its deadline a read or write may end (seconds)."""
# SO_RCVTIMEO / SO_SNDTIMEO take a struct timeval on these (Windows takes milliseconds).
_KERNEL_TIMEOUTS = sys.platform.startswith(("linux", "darwin", "freebsd"))
_TIMEVAL = struct.Struct("@ll")
_HEAD_END = re.compile(rb"\r?\n\r?\n")
_DIGITS = re.compile(rb"[0-9]{1,19}")
# A chunk-size line: 1-16 hex digits, optional extensions after ';' (RFC 9112 7.1).
_CHUNK_SIZE = re.compile(rb"([0-9A-Fa-f]{1,16})[ \t]*(?:;[^\r\n]*)?\r?\n")
_MAX_CHUNK_LINE = 4096
_TOKEN = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")
_NAMES = re.compile(rf"{_TOKEN.pattern}(?::{_TOKEN.pattern})*")  # names joined with ':'
_METHODS = frozenset({"POST", "GET", "OPTIONS"})  # tokens: no regular expression needed


class BadRequest(Exception):
    """The request cannot be read; answered with 400 and the connection closed."""


@dataclass(slots=True)
class Request:
    """The head of one request: method, target, version and headers (lower-cased)."""

    method: str
    target: str
    version: str
    headers: dict[str, str]

    @property
    def expects_continue(self) -> bool:
        """The client waits for ``100 Continue`` before it sends the body."""
        return self.headers.get("expect", "").lower() == "100-continue"


class Reader:
    """Buffered reads from a socket, and writes to it, each bounded in size and in time.

    A read or write that cannot finish before its deadline raises
    :class:`TimeoutError`; one cut short by the client closing raises
    :class:`ConnectionError`.

    The socket stays blocking, each call on it bounded by the kernel's
    ``SO_RCVTIMEO`` / ``SO_SNDTIMEO`` (where the platform has them as a
    ``timeval``): a read or a write is then one system call, where a socket
    timeout would first ``poll`` (and set the mode with ``ioctl`` at each
    change). The bound is the shorter of the header and idle timeouts; it is
    lowered (a system call, on slow requests only) when a deadline is nearer
    than that, so that no call ends more than :data:`_SLACK` past its deadline,
    and a call that reaches its bound before the deadline is made again.
    """

    __slots__ = ("_base", "_bound", "_buffer", "_socket")

    def __init__(self, sock: socket.socket, bound: float) -> None:
        self._socket = sock
        self._buffer = bytearray()
        self._base = bound
        self._bound = 0.0
        if _KERNEL_TIMEOUTS:
            sock.settimeout(None)  # blocking; the bound below limits each call
        self._limit(bound)

    def _limit(self, seconds: float) -> None:
        """Bound each socket call (read or write) to ``seconds``."""
        if _KERNEL_TIMEOUTS:
            whole = int(seconds)
            # At least a microsecond: a zero timeval means no bound at all.
            value = _TIMEVAL.pack(whole, max(1, int((seconds - whole) * 1e6)))
            self._socket.setsockopt(socket.SOL_SOCKET, socket.SO_RCVTIMEO, value)
            self._socket.setsockopt(socket.SOL_SOCKET, socket.SO_SNDTIMEO, value)
        else:
            self._socket.settimeout(seconds)
        self._bound = seconds

    def _within(self, deadline: float) -> None:
        """Make the next socket call end by ``deadline`` (give or take :data:`_SLACK`).

        Raises:
            TimeoutError: if the deadline has passed.
        """
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise TimeoutError("the client was too slow")
        if remaining + _SLACK < self._bound:
            self._limit(remaining)
        elif self._bound < self._base <= remaining:
            self._limit(self._base)  # the usual bound again, after a slow request

    def _fill(self, deadline: float) -> None:
        """Append one socket read to the buffer, waiting until ``deadline`` at most."""
        while True:
            # _within(), inline on this path that every request takes
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TimeoutError("the client was too slow")
            if remaining + _SLACK < self._bound or self._bound < self._base <= remaining:
                self._within(deadline)
            try:
                data = self._socket.recv(_RECV)
            except (BlockingIOError, TimeoutError):
                continue  # the call's bound passed, not yet the deadline
            if not data:
                raise ConnectionError("the client closed the connection")
            self._buffer += data
            return

    def send(self, data: bytes, timeout: float) -> None:
        """Send all of ``data`` within ``timeout`` seconds (at least the bound)."""
        try:
            sent = self._socket.send(data)  # the usual case: all at once
        except (BlockingIOError, TimeoutError):
            sent = 0
        if sent == len(data):
            return
        deadline = time.monotonic() + timeout
        view = memoryview(data)
        while sent < len(data):
            self._within(deadline)
            try:
                sent += self._socket.send(view[sent:])
            except (BlockingIOError, TimeoutError):
                continue

    def wait(self, timeout: float) -> bool:
        """Wait up to ``timeout`` seconds for the start of a request; False if the
        client closed the connection (or only sent blank lines before closing)."""
        deadline = time.monotonic() + timeout
        while True:
            # Blank lines before a request are tolerated (RFC 9112 2.2).
            if self._buffer and self._buffer[0] in (13, 10):  # CR, LF
                self._buffer = bytearray(self._buffer.lstrip(b"\r\n"))
            if self._buffer:
                return True
            try:
                self._fill(deadline)
            except ConnectionError:
                return False

    def head(self, deadline: float) -> str:
        """The request line and headers, through the blank line that ends them (as
        Latin-1 text: every byte is one character)."""
        searched = 0
        while True:
            end = self._buffer.find(b"\r\n\r\n", searched)  # what every client sends
            if end >= 0:
                end += 4
            else:  # bare line ends are tolerated (RFC 9112 2.2)
                match = _HEAD_END.search(self._buffer, searched)
                end = -1 if match is None else match.end()
            if end >= 0:
                head = self._buffer[:end].decode("latin-1")
                del self._buffer[:end]
                return head
            line_end = self._buffer.find(b"\n", 0, MAX_REQUEST_LINE)
            if line_end < 0 and len(self._buffer) >= MAX_REQUEST_LINE:
                raise BadRequest("The request line is too long")
            if len(self._buffer) > MAX_REQUEST_LINE + MAX_HEADER_BYTES:
                raise BadRequest(f"The request headers are over {MAX_HEADER_BYTES} bytes")
            searched = max(0, len(self._buffer) - 3)
            self._fill(deadline)

    def line(self, limit: int, deadline: float) -> bytes:
        """One line (with its line end), at most ``limit`` bytes."""
        searched = 0
        while True:
            end = self._buffer.find(b"\n", searched)
            if end >= 0:
                if end >= limit:
                    raise BadRequest("A line of the body's framing is too long")
                line = bytes(self._buffer[: end + 1])
                del self._buffer[: end + 1]
                return line
            if len(self._buffer) >= limit:
                raise BadRequest("A line of the body's framing is too long")
            searched = len(self._buffer)
            self._fill(deadline)

    def exactly(self, size: int, deadline: float) -> bytes:
        """``size`` bytes, all before ``deadline``."""
        buffer = self._buffer
        if len(buffer) < size and size - len(buffer) <= _RECV:
            while len(buffer) < size:  # a small body: one more read, as a rule
                self._fill(deadline)
        have = len(buffer)
        if have == size:  # the body came with its head, or in the next read
            data = bytes(buffer)
            buffer.clear()
            return data
        if have > size:
            data = bytes(buffer[:size])
            del buffer[:size]
            return data
        target = bytearray(size)  # a large body: read in place, a piece at a time
        view = memoryview(target)
        view[:have] = buffer
        buffer.clear()
        got = have
        while got < size:
            self._within(deadline)
            try:
                count = self._socket.recv_into(view[got:], min(size - got, 1 << 20))
            except (BlockingIOError, TimeoutError):
                continue  # the call's bound passed, not yet the deadline
            if not count:
                raise ConnectionError("the client closed the connection mid-body")
            got += count
        return bytes(target)

    def discard(self, size: int, deadline: float) -> None:
        """Read ``size`` bytes and drop them, one bounded piece at a time."""
        while size > 0:
            size -= len(self.exactly(min(size, 1 << 20), deadline))


def read_request(reader: Reader, idle_timeout: float, header_timeout: float) -> Request | None:
    """Wait up to ``idle_timeout`` seconds for the next request, and read its head;
    None if the client closed the connection instead. The body is read by
    :func:`read_body`."""
    buffer = reader._buffer
    if not buffer:  # the usual case: read the next request
        try:
            reader._fill(time.monotonic() + idle_timeout)
        except ConnectionError:
            return None
    if buffer[0] in (13, 10):  # blank lines first (tolerated, RFC 9112 2.2)
        if not reader.wait(idle_timeout):
            return None
        buffer = reader._buffer
    end = buffer.find(b"\r\n\r\n")  # the whole head arrived at once, as a rule
    if end >= 0:
        head = buffer[: end + 4].decode("latin-1")
        del buffer[: end + 4]
    else:
        head = reader.head(time.monotonic() + header_timeout)
    line_end = head.find("\n")
    request_line = head[:line_end].rstrip("\r")
    parts = request_line.split(" ")
    if (
        len(parts) != 3
        or not parts[2].startswith("HTTP/1.")
        or not (parts[0] in _METHODS or _TOKEN.fullmatch(parts[0]))
    ):
        raise BadRequest(f"Malformed request line: {request_line[:200]!r}")
    if len(request_line) >= MAX_REQUEST_LINE:
        raise BadRequest("The request line is too long")
    block = head[line_end + 1 :]
    if len(block) > MAX_HEADER_BYTES:
        raise BadRequest(f"The request headers are over {MAX_HEADER_BYTES} bytes")
    lines = block.split("\r\n")
    # Every CR and LF in a CRLF (what clients send): the lines hold neither. Else
    # bare line ends (tolerated, RFC 9112 2.2) or a stray CR (refused) are sorted
    # out line by line.
    if not block.count("\r") == block.count("\n") == len(lines) - 1:
        lines = [line.removesuffix("\r") for line in block.split("\n")]
        for line in lines:
            if "\r" in line:
                raise BadRequest(f"Malformed header line: {line[:200]!r}")
    del lines[-2:]  # the blank line's two pieces
    if len(lines) > MAX_HEADERS:
        raise BadRequest(f"More than {MAX_HEADERS} header lines")
    headers: dict[str, str] = {}
    for line in lines:
        name, sep, value = line.partition(":")
        if not sep:
            raise BadRequest(f"Malformed header line: {line[:200]!r}")
        headers[name.lower()] = value.strip(" \t")
    if len(headers) < len(lines):  # a name came more than once (rare): values joined
        headers = _joined(lines)
    # Names of ASCII letters, digits and dashes (what clients send) are tokens: checked
    # on the lower-cased names at once (lower() keeps a Latin-1 character ASCII or not,
    # a letter or digit or not). Any other name goes through the token rule.
    joined = "".join(headers)
    if headers and not (
        "" not in headers and joined.isascii() and joined.replace("-", "").isalnum()
    ):
        names = [line.partition(":")[0] for line in lines]
        # One check for every name (an empty one among them shows as "::").
        if not _NAMES.fullmatch(":".join(names)):
            bad = next(name for name in names if not _TOKEN.fullmatch(name))
            raise BadRequest(f"Malformed header name: {bad[:200]!r}")
    method, target, version = parts
    return Request(method, target, version, headers)


def _joined(lines: list[str]) -> dict[str, str]:
    """The headers of ``lines`` (each holds a colon), a repeated name's values joined
    with ", " in their order."""
    headers: dict[str, str] = {}
    for line in lines:
        name, _, value = line.partition(":")
        key = name.lower()
        value = value.strip(" \t")
        headers[key] = f"{headers[key]}, {value}" if key in headers else value
    return headers


def read_body(reader: Reader, headers: dict[str, str], timeout: float) -> bytes | None:
    """The request body; None if it is over the size limit (and was discarded).

    ``timeout`` is the header timeout: the body may take that long plus a second
    per :data:`MIN_BODY_RATE` bytes.
    """
    started = time.monotonic() + timeout
    if "transfer-encoding" in headers:
        if headers["transfer-encoding"].strip().lower() != "chunked":
            raise BadRequest(f"Unsupported Transfer-Encoding: {headers['transfer-encoding']}")
        if "content-length" in headers:
            # Both framings at once is how requests are smuggled (RFC 9112 6.1).
            raise BadRequest("Both Transfer-Encoding and Content-Length were sent")
        return _read_chunked(reader, started)
    length_text = headers.get("content-length")
    if length_text is None:
        return b""
    # ASCII digits (what clients send) pass without the regular expression.
    if not (
        length_text.isdigit() and length_text.isascii() and len(length_text) <= 19
    ) and not _DIGITS.fullmatch(length_text.strip().encode("latin-1")):
        raise BadRequest(f"Malformed Content-Length: {length_text[:100]!r}")
    length = int(length_text)
    if length > MAX_BODY_BYTES:
        if length > MAX_DRAIN:
            raise BadRequest(f"Request body of {length} bytes is over the 16 MB limit")
        reader.discard(length, started + length / MIN_BODY_RATE)
        return None
    deadline = started + length / MIN_BODY_RATE
    buffer = reader._buffer
    if len(buffer) < length and length - len(buffer) <= _RECV:
        while len(buffer) < length:  # a small body: one more read, as a rule
            reader._fill(deadline)
    if len(buffer) == length:  # the body came with its head, or in the next read
        data = bytes(buffer)
        buffer.clear()
        return data
    return reader.exactly(length, deadline)


def _read_chunked(reader: Reader, started: float) -> bytes | None:
    """A chunked body; ``started`` is its deadline before any chunk is counted."""
    chunks: list[bytes] = []
    total = 0
    deadline = started
    while True:
        size_line = reader.line(_MAX_CHUNK_LINE, deadline)
        match = _CHUNK_SIZE.fullmatch(size_line)
        if match is None:
            raise BadRequest(f"Malformed chunk size: {size_line[:100]!r}")
        size = int(match.group(1), 16)
        if size == 0:
            break
        total += size
        deadline = started + total / MIN_BODY_RATE
        if total > MAX_DRAIN:
            raise BadRequest("Request body is over the 16 MB limit")
        if total > MAX_BODY_BYTES:
            chunks.clear()  # over the limit: what follows is read and dropped
            reader.discard(size, deadline)
        else:
            chunks.append(reader.exactly(size, deadline))
        if reader.line(3, deadline) not in (b"\r\n", b"\n"):
            raise BadRequest("A chunk is longer than its size says")
    trailers = 0
    while (line := reader.line(MAX_HEADER_BYTES, deadline)) not in (b"\r\n", b"\n"):
        trailers += len(line)  # trailers are ignored, but bounded like headers
        if trailers > MAX_HEADER_BYTES:
            raise BadRequest(f"The request trailers are over {MAX_HEADER_BYTES} bytes")
    return b"".join(chunks) if total <= MAX_BODY_BYTES else None
