"""HTTP/1.1 framing for the wire backends, sans I/O: request bytes out, responses parsed in.

DynamoDB's protocol needs a small part of HTTP/1.1 (RFC 9112): one ``POST`` with a
``Content-Length`` body per request, on a kept-alive connection, and a response
framed by ``Content-Length`` (what DynamoDB and the emulators send), by chunked
transfer coding (what a proxy may turn it into) or by the connection's close. That
part is here, apart from the sockets: :func:`encode_request` gives the bytes of a
request (head and body in one buffer, so that one ``send`` carries both and no
delayed-ACK stall can split them), and :class:`ResponseReader` is fed whatever the
socket returns and says when a response is complete.

Why not http.client or urllib3's connections (which wrap it): they parse response
headers with the ``email`` package. Measured against ``singletable serve`` (a loop
of ListTables, CPU time of the client), a urllib3 pool cost about 0.19 ms more per
call than a socket framed as here, while a whole GetItem through the modelling
layer on this backend costs about 0.1 ms. A response head here is split on CRLF
and colons.
"""

from __future__ import annotations

__all__ = ["MAX_HEAD", "ProtocolError", "RawResponse", "ResponseReader", "encode_request"]

MAX_HEAD = 64 * 1024
"""The most a response's status line and headers may take (bytes)."""

_NO_BODY_STATUS = frozenset({204, 304})


class ProtocolError(Exception):
    """The peer sent something that is not an HTTP/1.1 response."""


def encode_request(method: str, path: str, headers: dict[str, str], body: bytes) -> bytes:
    """The bytes of a request: its head (with ``content-length``) and its body."""
    lines = [f"{method} {path} HTTP/1.1\r\n"]
    lines.extend(f"{name}: {value}\r\n" for name, value in headers.items())
    lines.append(f"content-length: {len(body)}\r\n\r\n")
    return "".join(lines).encode("latin-1") + body


class RawResponse:
    """A complete response: status, headers (lower-case names), body, and whether the
    connection can carry another request."""

    __slots__ = ("body", "headers", "keep_alive", "status")

    def __init__(self, status: int, headers: dict[str, str], body: bytes, keep_alive: bool) -> None:
        self.status = status
        self.headers = headers
        self.body = body
        self.keep_alive = keep_alive


class ResponseReader:
    """Parses one response from the bytes fed to it.

    ``feed(data)`` returns the :class:`RawResponse` once it is complete, else None;
    ``feed(b"")`` says the peer closed the connection (which completes a response
    framed by the close, and is a :class:`ProtocolError` anywhere else). Interim
    ``1xx`` responses are skipped.
    """

    __slots__ = (
        "_buffer",
        "_chunks",
        "_headers",
        "_http10",
        "_length",
        "_mode",
        "_status",
        "received",
    )

    def __init__(self) -> None:
        self._buffer = bytearray()
        self._status = 0
        self._headers: dict[str, str] = {}
        self._mode = "head"  # head, length, chunked, close
        self._length = 0
        self._chunks = bytearray()
        self._http10 = False
        self.received = False
        """Whether any byte of a response has arrived (a reused connection that closes
        before any did was closed by the server while idle: the request can go again)."""

    def feed(self, data: bytes) -> RawResponse | None:
        if data:
            self.received = True
            self._buffer += data
        elif self._mode == "close":
            return self._done(bytes(self._buffer), keep_alive=False)
        else:
            raise ProtocolError("the connection closed before the response was complete")
        while True:
            if self._mode == "head":
                if not self._parse_head():
                    return None
                continue
            if self._mode == "length":
                if len(self._buffer) < self._length:
                    return None
                body = bytes(self._buffer[: self._length])
                return self._done(body, keep_alive=self._keep_alive())
            if self._mode == "chunked":
                return self._parse_chunks()
            return None  # close: everything until the connection closes

    def _parse_head(self) -> bool:
        end = self._buffer.find(b"\r\n\r\n")
        if end < 0:
            if len(self._buffer) > MAX_HEAD:
                raise ProtocolError("the response head is too long")
            return False
        head = self._buffer[:end].decode("latin-1")
        del self._buffer[: end + 4]
        status_line, _, rest = head.partition("\r\n")
        parts = status_line.split(" ", 2)
        if len(parts) < 2 or not parts[0].startswith("HTTP/1.") or not parts[1].isdigit():
            raise ProtocolError(f"not an HTTP/1.1 status line: {status_line[:100]!r}")
        status = int(parts[1])
        headers: dict[str, str] = {}
        for line in rest.split("\r\n") if rest else ():
            name, colon, value = line.partition(":")
            if not colon:
                raise ProtocolError(f"not a header line: {line[:100]!r}")
            key = name.strip().lower()
            value = value.strip()
            headers[key] = f"{headers[key]}, {value}" if key in headers else value
        if 100 <= status < 200:
            return True  # an interim response (100 Continue): the real one follows
        self._status = status
        self._headers = headers
        self._http10 = parts[0] == "HTTP/1.0"
        if status in _NO_BODY_STATUS:
            self._mode, self._length = "length", 0
        elif "chunked" in headers.get("transfer-encoding", "").lower():
            self._mode = "chunked"
        elif "content-length" in headers:
            length = headers["content-length"].split(",")[0].strip()
            if not length.isdigit():
                raise ProtocolError(f"invalid content-length: {length[:100]!r}")
            self._mode, self._length = "length", int(length)
        else:
            self._mode = "close"
        return True

    def _parse_chunks(self) -> RawResponse | None:
        buffer = self._buffer
        while True:
            line_end = buffer.find(b"\r\n")
            if line_end < 0:
                return None
            size_text = bytes(buffer[:line_end]).split(b";", 1)[0].strip()
            try:
                size = int(size_text, 16)
            except ValueError:
                raise ProtocolError(f"invalid chunk size: {size_text[:100]!r}") from None
            if size == 0:
                trailer_end = buffer.find(b"\r\n\r\n", line_end)
                if trailer_end < 0:
                    return None
                del buffer[: trailer_end + 4]
                return self._done(bytes(self._chunks), keep_alive=self._keep_alive())
            if len(buffer) < line_end + 2 + size + 2:
                return None
            self._chunks += buffer[line_end + 2 : line_end + 2 + size]
            del buffer[: line_end + 2 + size + 2]

    def _keep_alive(self) -> bool:
        connection = self._headers.get("connection", "").lower()
        if self._http10:
            return "keep-alive" in connection
        return "close" not in connection

    def _done(self, body: bytes, keep_alive: bool) -> RawResponse:
        return RawResponse(self._status, self._headers, body, keep_alive)
