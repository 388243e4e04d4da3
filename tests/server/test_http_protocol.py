"""DynamoDB's JSON 1.0 protocol as ``singletable serve`` speaks it, checked on the raw socket.

What DynamoDB answers at the HTTP level (status, ``__type``, bodies for bad
methods and content types) follows dynalite's and dynoxide's captures of the
live service; see :mod:`singletable.server._protocol`.
"""

from __future__ import annotations

import gzip
import http.client
import json
import logging
import socket
import zlib
from collections.abc import Iterator
from typing import Any

import pytest

from singletable.server import Server
from singletable.server._protocol import MAX_BODY_BYTES

AMZ_JSON = "application/x-amz-json-1.0"
CORAL = "com.amazon.coral.service#"
DDB = "com.amazonaws.dynamodb.v20120810#"
TABLE = {
    "TableName": "tbl",
    "KeySchema": [{"AttributeName": "PK", "KeyType": "HASH"}],
    "AttributeDefinitions": [{"AttributeName": "PK", "AttributeType": "S"}],
    "BillingMode": "PAY_PER_REQUEST",
}


def _headers(operation: str | None, **extra: str) -> dict[str, str]:
    headers = {"Content-Type": AMZ_JSON}
    if operation is not None:
        headers["X-Amz-Target"] = f"DynamoDB_20120810.{operation}"
    headers.update(extra)
    return headers


class Conn:
    """A keep-alive http.client connection to the server, with small helpers."""

    def __init__(self, server: Server) -> None:
        self.http = http.client.HTTPConnection(server.host, server.port, timeout=10)

    def send(
        self, method: str, body: bytes | None, headers: dict[str, str]
    ) -> http.client.HTTPResponse:
        self.http.request(method, "/", body=body, headers=headers)
        response = self.http.getresponse()
        response.data = response.read()  # type: ignore[attr-defined]
        return response

    def call(self, operation: str, request: Any, **extra: str) -> tuple[int, Any]:
        response = self.send("POST", json.dumps(request).encode(), _headers(operation, **extra))
        return response.status, json.loads(response.data)  # type: ignore[attr-defined]


@pytest.fixture
def conn(server: Server) -> Iterator[Conn]:
    opened = Conn(server)
    yield opened
    opened.http.close()


def test_a_request_gets_dynamodbs_headers_and_a_correct_crc(conn: Conn) -> None:
    conn.call("CreateTable", TABLE)
    ids = set()
    for _ in range(3):
        response = conn.send(
            "POST",
            b'{"TableName": "tbl", "Key": {"PK": {"S": "a"}}}',
            _headers("GetItem"),
        )
        body = response.data  # type: ignore[attr-defined]
        assert response.status == 200
        assert body == b"{}"
        assert response.getheader("Content-Type") == AMZ_JSON
        assert response.getheader("x-amz-crc32") == str(zlib.crc32(body))
        assert response.getheader("Content-Length") == str(len(body))
        ids.add(response.getheader("x-amzn-RequestId"))
    assert len(ids) == 3 and all(len(i or "") == 52 for i in ids)


def test_plain_json_content_type_is_accepted_and_echoed(conn: Conn) -> None:
    response = conn.send(
        "POST", b"{}", _headers("ListTables", **{"Content-Type": "application/json"})
    )
    assert response.status == 200
    assert response.getheader("Content-Type") == "application/json"
    assert json.loads(response.data) == {"TableNames": []}  # type: ignore[attr-defined]


def test_get_is_a_health_check_and_other_methods_are_not_found(conn: Conn) -> None:
    health = conn.send("GET", None, {})
    assert health.status == 200
    assert health.data.startswith(b"healthy: ")  # type: ignore[attr-defined]
    for method in ("PUT", "DELETE", "PATCH"):
        response = conn.send(method, b"{}", _headers("ListTables"))
        assert response.status == 404
        assert response.data == b"<UnknownOperationException/>\n"  # type: ignore[attr-defined]


def test_a_wrong_content_type_is_not_found(conn: Conn) -> None:
    response = conn.send("POST", b"{}", _headers("ListTables", **{"Content-Type": "text/plain"}))
    assert response.status == 404
    assert response.data == b"<UnknownOperationException/>\n"  # type: ignore[attr-defined]
    assert conn.call("ListTables", {}) == (200, {"TableNames": []})  # still connected


@pytest.mark.parametrize(
    "target",
    [
        None,
        "DynamoDB_20120810.DropDatabase",
        "DynamoDB_20111205.ListTables",
        "DynamoDB_20120810",
        "DynamoDB_20120810.GetRecords",  # a Streams operation under DynamoDB's prefix
        "DynamoDBStreams_20120810.ListTables",  # and the other way round
    ],
)
def test_an_unknown_target_is_an_unknown_operation(conn: Conn, target: str | None) -> None:
    headers = {"Content-Type": AMZ_JSON}
    if target is not None:
        headers["X-Amz-Target"] = target
    response = conn.send("POST", b"{}", headers)
    assert response.status == 400
    body = json.loads(response.data)  # type: ignore[attr-defined]
    assert body["__type"] == CORAL + "UnknownOperationException"
    assert (target or "X-Amz-Target") in body["message"]


def test_every_engine_operation_is_reachable(server: Server, conn: Conn) -> None:
    streams = {"ListStreams", "DescribeStream", "GetShardIterator", "GetRecords"}
    assert streams <= server.engine.operations
    for operation in sorted(server.engine.operations):
        prefix = "DynamoDBStreams_20120810" if operation in streams else "DynamoDB_20120810"
        response = conn.send(
            "POST", b"{}", {"Content-Type": AMZ_JSON, "X-Amz-Target": f"{prefix}.{operation}"}
        )
        body = json.loads(response.data)  # type: ignore[attr-defined]
        # The engine answered (an empty request is valid or fails its own validation).
        assert response.status in (200, 400), (operation, response.status)
        assert "UnknownOperation" not in body.get("__type", ""), operation
        assert response.status == 200 or body["__type"].startswith(DDB), (operation, body)


@pytest.mark.parametrize("body", [b"{not json", b"[1, 2]", b"\xff\xfe", b""])
def test_a_malformed_or_empty_body_is_a_serialization_error(conn: Conn, body: bytes) -> None:
    response = conn.send("POST", body, _headers("ListTables"))
    assert response.status == 400
    error = json.loads(response.data)  # type: ignore[attr-defined]
    assert error["__type"].endswith("#SerializationException")
    assert error["message"]


def test_engine_errors_carry_dynamodbs_type_and_status(conn: Conn) -> None:
    status, body = conn.call("GetItem", {"TableName": "missing", "Key": {"PK": {"S": "a"}}})
    assert status == 400
    assert body == {
        "__type": DDB + "ResourceNotFoundException",
        "message": "Requested resource not found",
    }


def test_a_body_over_16_mb_is_rejected_and_the_connection_survives(conn: Conn) -> None:
    big = b'{"TableName": "' + b"x" * MAX_BODY_BYTES + b'"}'
    response = conn.send("POST", big, _headers("ListTables"))
    assert response.status == 413
    error = json.loads(response.data)  # type: ignore[attr-defined]
    assert "16777216" in error["message"]
    assert conn.call("ListTables", {}) == (200, {"TableNames": []})


def test_gzip_bodies_are_accepted(conn: Conn) -> None:
    assert conn.call("CreateTable", TABLE)[0] == 200
    item = {"PK": {"S": "zipped"}, "data": {"S": "x" * 5000}}
    body = gzip.compress(json.dumps({"TableName": "tbl", "Item": item}).encode())
    response = conn.send("POST", body, _headers("PutItem", **{"Content-Encoding": "gzip"}))
    assert response.status == 200, response.data  # type: ignore[attr-defined]
    _, got = conn.call("GetItem", {"TableName": "tbl", "Key": {"PK": {"S": "zipped"}}})
    assert got == {"Item": item}


def test_a_corrupt_gzip_body_is_dynamodbs_internal_server_error(conn: Conn) -> None:
    body = gzip.compress(b'{"Limit": 1}')[:-6]  # truncated
    response = conn.send("POST", body, _headers("ListTables", **{"Content-Encoding": "gzip"}))
    assert response.status == 500  # what DynamoDB answers (see singletable.server._encoding)
    error = json.loads(response.data)  # type: ignore[attr-defined]
    assert error["__type"] == DDB + "InternalServerError"
    assert "cut short" in error["message"]


def test_a_gzip_body_that_inflates_past_16_mb_is_rejected(conn: Conn) -> None:
    body = gzip.compress(b" " * (MAX_BODY_BYTES + 10))  # ~16 KB on the wire
    assert len(body) < 100_000
    response = conn.send("POST", body, _headers("ListTables", **{"Content-Encoding": "gzip"}))
    assert response.status == 413


def _raw_exchange(server: Server, data: bytes) -> bytes:
    with socket.create_connection((server.host, server.port), timeout=10) as sock:
        sock.sendall(data)
        sock.shutdown(socket.SHUT_WR)
        chunks = []
        while chunk := sock.recv(65536):
            chunks.append(chunk)
    return b"".join(chunks)


def _request(operation: str, body: bytes, *extra: str) -> bytes:
    lines = [
        "POST / HTTP/1.1",
        "Host: localhost",
        f"Content-Type: {AMZ_JSON}",
        f"X-Amz-Target: DynamoDB_20120810.{operation}",
        *extra,
    ]
    if not any(line.lower().startswith("transfer-encoding") for line in extra):
        lines.append(f"Content-Length: {len(body)}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


def test_pipelined_requests_are_answered_in_order(server: Server) -> None:
    data = b"".join(_request("ListTables", json.dumps({"Limit": n}).encode()) for n in (1, 2, 3))
    data += _request("ListTables", b"{}", "Connection: close")
    replies = _raw_exchange(server, data)
    assert replies.count(b"HTTP/1.1 200 OK") == 4
    assert replies.count(b"Connection: keep-alive") == 3
    assert replies.endswith(b'{"TableNames":[]}') or replies.endswith(b'{"TableNames": []}')


def test_a_chunked_body_and_expect_continue_are_understood(server: Server) -> None:
    body = b'{"Limit": 5}'
    chunked = b"%x\r\n%s\r\n0\r\n\r\n" % (len(body), body)
    data = _request("ListTables", chunked, "Transfer-Encoding: chunked", "Expect: 100-continue")
    replies = _raw_exchange(server, data)
    assert replies.startswith(b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\n")


@pytest.mark.parametrize(
    "data",
    [
        b"GARBAGE\r\n\r\n",
        b"POST / HTTP/1.1\r\nNo colon here\r\n\r\n",
        b"POST / HTTP/1.1\r\nContent-Length: ten\r\n\r\n",
        b"POST / HTTP/1.1\r\nTransfer-Encoding: gzip\r\n\r\n",
    ],
)
def test_an_unreadable_request_gets_400_and_the_connection_closes(
    server: Server, data: bytes
) -> None:
    reply = _raw_exchange(server, data)
    assert reply.startswith(b"HTTP/1.1 400 Bad Request\r\n")
    assert b"Connection: close" in reply
    assert b"SerializationException" in reply


def test_an_internal_error_is_a_500_and_the_connection_survives(
    server: Server, conn: Conn, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(operation: str, body: bytes) -> tuple[int, bytes]:
        raise RuntimeError("boom")

    monkeypatch.setattr(server.engine, "call_json", broken)
    logging.getLogger("singletable.server").disabled = True
    try:
        response = conn.send("POST", b"{}", _headers("ListTables"))
    finally:
        logging.getLogger("singletable.server").disabled = False
    assert response.status == 500
    assert response.getheader("Content-Type") == AMZ_JSON
    assert len(response.getheader("x-amzn-RequestId") or "") == 52
    body = json.loads(response.data)  # type: ignore[attr-defined]
    assert body["__type"] == DDB + "InternalServerError"
    assert "boom" not in response.data.decode()  # type: ignore[attr-defined]
    monkeypatch.undo()
    assert conn.call("ListTables", {}) == (200, {"TableNames": []})


def test_each_request_is_logged_in_one_line_at_debug(
    conn: Conn, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.DEBUG, logger="singletable.server"):
        conn.call("ListTables", {})
        conn.call("GetItem", {"TableName": "missing", "Key": {}})
    lines = [r.getMessage() for r in caplog.records if r.name == "singletable.server"]
    assert len(lines) == 2
    assert lines[0].startswith("POST ListTables 200 ")
    assert lines[1].startswith("POST GetItem 400 ")


def test_stop_finishes_and_closes_connections(server: Server) -> None:
    conn = Conn(server)
    assert conn.call("ListTables", {})[0] == 200
    server.stop()
    server.stop()  # idempotent
    with pytest.raises((ConnectionError, http.client.HTTPException, OSError)):
        conn.call("ListTables", {})
    conn.http.close()


def test_an_ipv6_address_can_be_served() -> None:
    try:
        server = Server(host="::1")
    except OSError:
        pytest.skip("no IPv6 loopback on this machine")
    with server:
        assert server.url == f"http://[::1]:{server.port}"
        conn = http.client.HTTPConnection("::1", server.port, timeout=10)
        conn.request("POST", "/", b"{}", _headers("ListTables"))
        response = conn.getresponse()
        assert (response.status, response.read()) == (200, b'{"TableNames":[]}')
        conn.close()
