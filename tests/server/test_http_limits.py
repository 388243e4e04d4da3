"""Limits of ``singletable serve`` on what clients send: framing, sizes, time, connections.

Nothing a client sends before it is authenticated may make the server buffer
without bound, wait forever or start a thread per connection without bound
(see :mod:`singletable.server._wire` and :mod:`singletable.server._http`).
Each test runs against a real server on 127.0.0.1 and finishes in seconds.
"""

from __future__ import annotations

import http.client
import json
import socket
import threading
import time
from collections.abc import Iterator

import pytest

from singletable.server import Server
from singletable.server._protocol import MAX_BODY_BYTES

AMZ_JSON = "application/x-amz-json-1.0"
HEAD = (
    "POST / HTTP/1.1\r\nHost: localhost\r\n"
    f"Content-Type: {AMZ_JSON}\r\nX-Amz-Target: DynamoDB_20120810.ListTables\r\n"
)


def _connect(server: Server) -> socket.socket:
    return socket.create_connection((server.host, server.port), timeout=10)


def _reply(sock: socket.socket, timeout: float = 5.0) -> bytes:
    """What the server sends until it closes the connection (or ``timeout``)."""
    sock.settimeout(timeout)
    chunks = []
    try:
        while chunk := sock.recv(65536):
            chunks.append(chunk)
    except ConnectionResetError:
        pass
    return b"".join(chunks)


def _closed_within(sock: socket.socket, seconds: float) -> float | None:
    """Seconds until the server closed ``sock``, or None if it stayed open."""
    started = time.monotonic()
    sock.settimeout(seconds)
    try:
        while sock.recv(65536):
            pass
    except TimeoutError:
        return None
    except ConnectionResetError:
        pass
    return time.monotonic() - started


def _chunked(*lines: bytes) -> bytes:
    return (HEAD + "Transfer-Encoding: chunked\r\n\r\n").encode() + b"".join(lines)


# -- chunked bodies ----------------------------------------------------------------


@pytest.mark.parametrize(
    "size_line",
    [b"-1\r\n", b"1_0\r\n", b"zz\r\n", b"+5\r\n", b"0x5\r\n", b"0" * 40 + b"5\r\n", b" \r\n"],
)
def test_a_malformed_chunk_size_is_a_400_at_once(server: Server, size_line: bytes) -> None:
    with _connect(server) as sock:
        sock.sendall(_chunked(size_line))  # and the client keeps the connection open
        reply = _reply(sock)
    assert reply.startswith(b"HTTP/1.1 400 Bad Request\r\n"), reply[:200]
    assert b"Malformed chunk size" in reply


def test_a_malformed_chunk_size_is_refused_before_authentication() -> None:
    with Server(credentials={"AKID": "secret"}) as secured, _connect(secured) as sock:
        sock.sendall(_chunked(b"-1\r\n"))
        reply = _reply(sock)
    assert reply.startswith(b"HTTP/1.1 400 Bad Request\r\n"), reply[:200]


def test_a_chunk_longer_than_its_size_is_a_400(server: Server) -> None:
    with _connect(server) as sock:
        sock.sendall(_chunked(b"2\r\n{}}\r\n0\r\n\r\n"))
        assert _reply(sock).startswith(b"HTTP/1.1 400 Bad Request\r\n")


def test_a_chunked_body_over_the_limit_is_refused_and_not_kept(server: Server) -> None:
    piece = b"x" * (1 << 20)
    with _connect(server) as sock:
        sock.sendall(_chunked())
        for _ in range(MAX_BODY_BYTES // len(piece) + 2):
            sock.sendall(b"%x\r\n%s\r\n" % (len(piece), piece))
        sock.sendall(b"0\r\n\r\n")
        sock.sendall((HEAD + "Content-Length: 2\r\nConnection: close\r\n\r\n{}").encode())
        reply = _reply(sock, timeout=30)
    assert reply.startswith(b"HTTP/1.1 413 ")
    assert reply.count(b"HTTP/1.1 200 OK") == 1  # the connection still serves


def test_chunks_keep_their_extensions_and_trailers(server: Server) -> None:
    with _connect(server) as sock:
        sock.sendall(_chunked(b"2;name=value\r\n{}\r\n0\r\nX-Trailer: 1\r\n\r\n"))
        sock.shutdown(socket.SHUT_WR)
        assert _reply(sock).startswith(b"HTTP/1.1 200 OK\r\n")


@pytest.mark.parametrize("length", ["1_0", "+2", "0x2", "2, 3", "99999999999999999999999"])
def test_a_malformed_content_length_is_a_400(server: Server, length: str) -> None:
    with _connect(server) as sock:
        sock.sendall((HEAD + f"Content-Length: {length}\r\n\r\n{{}}").encode())
        assert _reply(sock).startswith(b"HTTP/1.1 400 Bad Request\r\n")


# -- sizes of the request line and headers -------------------------------------------


def test_an_over_long_request_line_is_a_400_without_reading_it_whole(server: Server) -> None:
    with _connect(server) as sock:
        sock.sendall(b"POST /" + b"a" * (20 * 1024))  # no line end: the client is still sending
        reply = _reply(sock)
    assert reply.startswith(b"HTTP/1.1 400 Bad Request\r\n")
    assert b"request line is too long" in reply


def test_headers_over_16_kb_are_a_400_without_reading_them_whole(server: Server) -> None:
    with _connect(server) as sock:
        sock.sendall(
            HEAD.encode() + b"".join(b"X-Pad-%d: %s\r\n" % (n, b"p" * 1000) for n in range(40))
        )
        reply = _reply(sock)
    assert reply.startswith(b"HTTP/1.1 400 Bad Request\r\n")
    assert b"16384 bytes" in reply


def test_headers_under_16_kb_are_fine(server: Server) -> None:
    conn = http.client.HTTPConnection(server.host, server.port, timeout=10)
    pads = {f"X-Pad-{n}": "p" * 1000 for n in range(12)}
    conn.request(
        "POST",
        "/",
        b"{}",
        {"Content-Type": AMZ_JSON, "X-Amz-Target": "DynamoDB_20120810.ListTables", **pads},
    )
    assert conn.getresponse().status == 200
    conn.close()


# -- header lines ------------------------------------------------------------------------

_TARGET = "X-Amz-Target: DynamoDB_20120810.ListTables"


@pytest.mark.parametrize(
    "head",
    [
        f"POST / HTTP/1.1\r\nHost: x\r\nBad Line\r\n{_TARGET}\r\n",  # no colon
        f"POST / HTTP/1.1\r\nHost: x\r\n: empty name\r\n{_TARGET}\r\n",
        f"POST / HTTP/1.1\r\nHost: x\r\nNa me: v\r\n{_TARGET}\r\n",  # not a token
        f"POST / HTTP/1.1\r\nHost: x\r\n Folded: v\r\n{_TARGET}\r\n",  # obs-fold
        f"POST / HTTP/1.1\r\nHost: x\r\nA: b\rc\r\n{_TARGET}\r\n",  # a stray CR
        f"POST / HTTP/1.1\nHost: x\nA: b\rc\n{_TARGET}\n",  # a stray CR, bare LFs
    ],
)
def test_a_malformed_header_line_is_a_400(server: Server, head: str) -> None:
    with _connect(server) as sock:
        sock.sendall(f"{head}Content-Length: 2\r\n\r\n{{}}".encode())
        assert _reply(sock).startswith(b"HTTP/1.1 400 Bad Request\r\n")


@pytest.mark.parametrize("end", ["\r\n", "\n"])
def test_headers_are_read_with_crlf_or_bare_lf_line_ends(server: Server, end: str) -> None:
    head = end.join(
        ["POST / HTTP/1.1", "Host: x", f"Content-Type: {AMZ_JSON}", _TARGET, "Content-Length: 2"]
    )
    with _connect(server) as sock:
        sock.sendall(f"{head}{end}{end}{{}}".encode())
        assert _response(sock).startswith(b"HTTP/1.1 200 OK")


def test_a_repeated_header_has_its_values_joined(server: Server) -> None:
    # X-Amz-Target twice reads as "DynamoDB_20120810.ListTables, DynamoDB_...": no
    # such operation.
    with _connect(server) as sock:
        sock.sendall((HEAD + f"{_TARGET}\r\nContent-Length: 2\r\n\r\n{{}}").encode())
        sock.settimeout(5)
        reply = sock.recv(65536)
    assert reply.startswith(b"HTTP/1.1 400 Bad Request")
    assert b"UnknownOperationException" in reply
    assert b"ListTables, DynamoDB_20120810.ListTables" in reply


# -- slow and idle clients -------------------------------------------------------------


@pytest.fixture
def quick() -> Iterator[Server]:
    """A server with small limits, so that the tests take a second or two."""
    with Server(header_timeout=0.5, idle_timeout=0.5, max_connections=4) as server:
        yield server


def test_a_client_trickling_its_headers_is_cut_off(quick: Server) -> None:
    with _connect(quick) as sock:
        sock.sendall(b"POST / HTTP/1.1\r\n")
        started = time.monotonic()
        closed = False
        while time.monotonic() - started < 4 and not closed:
            try:
                sock.sendall(b"X")  # one byte every 50 ms, never a whole header
            except OSError:
                closed = True
                break
            sock.settimeout(0.05)
            try:
                closed = sock.recv(1024) == b""
            except TimeoutError:
                pass
            except ConnectionResetError:
                closed = True
        elapsed = time.monotonic() - started
    assert closed, "the server still held the connection after 4 s"
    assert elapsed < 2.5


def test_an_idle_kept_alive_connection_is_closed(quick: Server) -> None:
    with _connect(quick) as sock:
        sock.sendall((HEAD + "Content-Length: 2\r\n\r\n{}").encode())
        sock.settimeout(5)
        assert sock.recv(65536).startswith(b"HTTP/1.1 200 OK")
        elapsed = _closed_within(sock, 4)
    assert elapsed is not None, "the server kept an idle connection for 4 s"
    assert elapsed < 2.5


def test_a_silent_connection_is_closed_after_the_idle_timeout(quick: Server) -> None:
    with _connect(quick) as sock:
        elapsed = _closed_within(sock, 4)
    assert elapsed is not None and elapsed < 2.5


def _response(sock: socket.socket) -> bytes:
    """One response (its head and its Content-Length body) read off ``sock``."""
    sock.settimeout(5)
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        assert chunk, "the server closed the connection"
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    length = int(head.lower().split(b"content-length: ")[1].split(b"\r\n")[0])
    while len(body) < length:
        chunk = sock.recv(65536)
        assert chunk, "the server closed the connection"
        body += chunk
    return head


# Each socket call waits at most the shorter of the two timeouts, and is made again
# while its deadline has not passed (see _wire.Reader): these check both halves.


def test_a_head_is_cut_off_at_the_header_timeout_when_the_idle_timeout_is_longer() -> None:
    with Server(header_timeout=0.5, idle_timeout=30) as server, _connect(server) as sock:
        sock.sendall(b"POST / HTTP/1.1\r\nHost: x\r\n")  # and never the rest
        elapsed = _closed_within(sock, 5)
    assert elapsed is not None and elapsed < 2.5


def test_an_idle_connection_waits_the_whole_idle_timeout_when_the_header_timeout_is_shorter() -> (
    None
):
    with Server(header_timeout=0.2, idle_timeout=3) as server, _connect(server) as sock:
        request = (HEAD + "Content-Length: 2\r\n\r\n{}").encode()
        sock.sendall(request)
        assert _response(sock).startswith(b"HTTP/1.1 200 OK")
        time.sleep(1.0)  # several of the socket's waits, well within the idle timeout
        sock.sendall(request)
        assert _response(sock).startswith(b"HTTP/1.1 200 OK")
        elapsed = _closed_within(sock, 8)
    assert elapsed is not None and 2.0 < elapsed < 6.0


def test_a_body_slower_than_one_wait_but_within_its_deadline_is_read_whole() -> None:
    # 200 kB: its deadline is the header timeout plus about 3 s (MIN_BODY_RATE).
    body = b"{" + b" " * 200_000 + b"}"
    with Server(header_timeout=0.3, idle_timeout=30) as server, _connect(server) as sock:
        sock.sendall((HEAD + f"Content-Length: {len(body)}\r\n\r\n").encode())
        for start in range(0, len(body), 50_000):
            time.sleep(0.45)  # longer than one socket wait (0.3 s)
            sock.sendall(body[start : start + 50_000])
        assert _response(sock).startswith(b"HTTP/1.1 200 OK")


def _connection_threads() -> int:
    return sum(t.name == "singletable-connection" for t in threading.enumerate())


def test_connections_beyond_the_cap_wait_instead_of_getting_a_thread_each() -> None:
    before = _connection_threads()
    with Server(max_connections=3, idle_timeout=1.0, header_timeout=1.0) as server:
        idle = [_connect(server) for _ in range(12)]
        try:
            time.sleep(0.3)
            assert _connection_threads() - before <= 3
            # A client beyond the cap is queued, not refused: it is answered once the
            # idle connections ahead of it have timed out.
            conn = http.client.HTTPConnection(server.host, server.port, timeout=15)
            started = time.monotonic()
            conn.request(
                "POST",
                "/",
                b"{}",
                {"Content-Type": AMZ_JSON, "X-Amz-Target": "DynamoDB_20120810.ListTables"},
            )
            response = conn.getresponse()
            assert (response.status, json.loads(response.read())) == (200, {"TableNames": []})
            assert time.monotonic() - started < 12
            assert _connection_threads() - before <= 3
            conn.close()
        finally:
            for sock in idle:
                sock.close()


def test_a_freed_slot_is_given_to_the_next_client_at_once() -> None:
    with Server(max_connections=1, idle_timeout=30) as server:
        first = _connect(server)
        first.sendall((HEAD + "Content-Length: 2\r\n\r\n{}").encode())
        first.settimeout(5)
        assert first.recv(65536).startswith(b"HTTP/1.1 200 OK")
        with _connect(server) as second:
            second.sendall((HEAD + "Content-Length: 2\r\n\r\n{}").encode())
            second.settimeout(0.5)
            with pytest.raises(TimeoutError):  # queued behind the open connection
                second.recv(65536)
            first.close()
            second.settimeout(5)
            assert second.recv(65536).startswith(b"HTTP/1.1 200 OK")


@pytest.mark.parametrize(
    "limits",
    [{"max_connections": 0}, {"header_timeout": 0}, {"idle_timeout": -1.0}],
)
def test_limits_must_be_positive(limits: dict[str, float]) -> None:
    with pytest.raises(ValueError, match="must be"):
        Server(**limits)  # type: ignore[arg-type]


def test_a_client_trickling_its_body_is_cut_off(quick: Server) -> None:
    with _connect(quick) as sock:
        sock.sendall((HEAD + "Content-Length: 1000\r\n\r\n").encode())
        started = time.monotonic()
        closed = False
        while time.monotonic() - started < 4 and not closed:
            try:
                sock.sendall(b" ")  # one byte every 50 ms: always progress, never done
            except OSError:
                break
            sock.settimeout(0.05)
            try:
                closed = sock.recv(1024) == b""
            except TimeoutError:
                pass
            except ConnectionResetError:
                closed = True
        elapsed = time.monotonic() - started
    assert elapsed < 2.5, "the server still held the connection"
