"""The wire backends' HTTP/1.1 framing (sans I/O) and connection reuse."""

from __future__ import annotations

import asyncio
import socket
import threading

import pytest
from scripted import Canned, ScriptedServer

from singletable.backends.wire import AsyncWireBackend, Options, WireBackend
from singletable.backends.wire._http import (
    MAX_HEAD,
    ProtocolError,
    RawResponse,
    ResponseReader,
    encode_request,
)


def _feed_all(data: bytes, step: int, *, close: bool = False) -> RawResponse:
    reader = ResponseReader()
    for start in range(0, len(data), step):
        got = reader.feed(data[start : start + step])
        if got is not None:
            return got
    if close:
        got = reader.feed(b"")
        assert got is not None
        return got
    raise AssertionError("the response never completed")


def test_a_request_is_one_buffer_with_its_length() -> None:
    data = encode_request("POST", "/", {"host": "h", "x-amz-target": "T"}, b'{"a": 1}')
    assert data == (
        b'POST / HTTP/1.1\r\nhost: h\r\nx-amz-target: T\r\ncontent-length: 8\r\n\r\n{"a": 1}'
    )


@pytest.mark.parametrize("step", [1, 7, 10_000])
def test_responses_framed_every_way_parse_in_any_pieces(step: int) -> None:
    by_length = b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\nX-Amz-Crc32: 1\r\n\r\nhello"
    got = _feed_all(by_length, step)
    assert (got.status, got.body, got.keep_alive) == (200, b"hello", True)
    assert got.headers == {"content-length": "5", "x-amz-crc32": "1"}

    chunked = (
        b"HTTP/1.1 400 Bad Request\r\nTransfer-Encoding: chunked\r\n\r\n"
        b"3;ext=1\r\nhel\r\n2\r\nlo\r\n0\r\nTrailer: x\r\n\r\n"
    )
    got = _feed_all(chunked, step)
    assert (got.status, got.body, got.keep_alive) == (400, b"hello", True)

    interim = b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"
    assert _feed_all(interim, step).body == b"ok"

    until_close = b"HTTP/1.1 200 OK\r\nConnection: close\r\n\r\nall of it"
    got = _feed_all(until_close, step, close=True)
    assert (got.body, got.keep_alive) == (b"all of it", False)

    old = b"HTTP/1.0 200 OK\r\nContent-Length: 0\r\n\r\n"
    assert _feed_all(old, step).keep_alive is False
    repeated = b"HTTP/1.1 204 No Content\r\nA: 1\r\na: 2\r\n\r\n"
    assert _feed_all(repeated, step).headers == {"a": "1, 2"}


@pytest.mark.parametrize(
    "data",
    [
        b"SSH-2.0-OpenSSH\r\n\r\n",
        b"HTTP/1.1 abc OK\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nno colon here\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
    ],
)
def test_what_is_not_http_is_a_protocol_error(data: bytes) -> None:
    with pytest.raises(ProtocolError):
        ResponseReader().feed(data)


def test_a_head_that_never_ends_and_a_body_cut_short_are_protocol_errors() -> None:
    with pytest.raises(ProtocolError, match="too long"):
        ResponseReader().feed(b"HTTP/1.1 200 OK\r\n" + b"x" * MAX_HEAD)
    reader = ResponseReader()
    assert reader.feed(b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nshort") is None
    with pytest.raises(ProtocolError, match="closed"):
        reader.feed(b"")


def test_connections_are_reused_and_closed_ones_replaced() -> None:
    script = [Canned(body={"TableNames": []})]
    with ScriptedServer(script) as server:
        with WireBackend(endpoint_url=server.url, region_name="us-east-1") as backend:
            for _ in range(5):
                assert backend.call("ListTables", {}) == {"TableNames": []}
        assert server.connections == 1

        async def calls() -> None:
            async with AsyncWireBackend(endpoint_url=server.url, region_name="us-east-1") as aio:
                for _ in range(5):
                    assert await aio.call("ListTables", {}) == {"TableNames": []}
                await asyncio.gather(*(aio.call("ListTables", {}) for _ in range(4)))

        asyncio.run(calls())
        assert server.connections == 1 + 4
    # a server that closes every connection after its response, without saying so
    with ScriptedServer([Canned(body={}, close=True)]) as server:
        with WireBackend(endpoint_url=server.url, region_name="us-east-1") as backend:
            for _ in range(3):
                assert backend.call("ListTables", {}) == {}

        async def async_calls() -> None:
            async with AsyncWireBackend(endpoint_url=server.url, region_name="us-east-1") as aio:
                for _ in range(3):
                    assert await aio.call("ListTables", {}) == {}

        asyncio.run(async_calls())
        assert len(server.received) == 6  # no request sent twice
        assert server.connections == 6


def test_a_request_on_a_connection_that_dies_unanswered_goes_again_once() -> None:
    """A kept-alive connection that looks fine but closes without answering (the
    server dropped it while idle): the request goes again on a new connection."""
    with socket.create_server(("127.0.0.1", 0)) as dropping:
        stale = socket.create_connection(dropping.getsockname())
        peer, _ = dropping.accept()

        def drop() -> None:
            peer.recv(65536)  # the request arrives, and is never answered
            peer.close()

        threading.Thread(target=drop, daemon=True).start()
        with ScriptedServer([Canned(body={"TableNames": ["t"]})]) as server:
            # one attempt: the resend is the connection's, not a retry of the call
            with WireBackend(
                endpoint_url=server.url, region_name="us-east-1", options=Options(max_attempts=1)
            ) as backend:
                stale.settimeout(5)
                backend._pool._idle.append(stale)
                assert backend.call("ListTables", {}) == {"TableNames": ["t"]}
            assert len(server.received) == 1
