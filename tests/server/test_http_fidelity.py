"""What DynamoDB's endpoint does at the HTTP level, beyond the JSON protocol itself:
request and response compression, the health check and paths, the ``Server``
header, CORS, and bodies that are not JSON DynamoDB would read (too deep, not
UTF-8). Sources are cited in the modules under test (``singletable.server``).
"""

from __future__ import annotations

import gzip
import http.client
import json
import zlib
from collections.abc import Iterator
from typing import Any

import pytest

from singletable.server import Server
from singletable.server._payload import MAX_JSON_DEPTH

AMZ_JSON = "application/x-amz-json-1.0"
CORAL = "com.amazon.coral.service#"
DDB = "com.amazonaws.dynamodb.v20120810#"
TABLE = {
    "TableName": "tbl",
    "KeySchema": [{"AttributeName": "PK", "KeyType": "HASH"}],
    "AttributeDefinitions": [{"AttributeName": "PK", "AttributeType": "S"}],
    "BillingMode": "PAY_PER_REQUEST",
}


class Conn:
    """A keep-alive connection to a server; each call returns status, headers, body."""

    def __init__(self, server: Server) -> None:
        self.http = http.client.HTTPConnection(server.host, server.port, timeout=10)

    def send(
        self, method: str, body: bytes | None, headers: dict[str, str], path: str = "/"
    ) -> tuple[int, http.client.HTTPMessage, bytes]:
        self.http.request(method, path, body=body, headers=headers)
        response = self.http.getresponse()
        return response.status, response.headers, response.read()

    def post(
        self, operation: str, body: bytes, path: str = "/", **extra: str
    ) -> tuple[int, http.client.HTTPMessage, bytes]:
        headers = {"Content-Type": AMZ_JSON, "X-Amz-Target": f"DynamoDB_20120810.{operation}"}
        headers.update({name.replace("_", "-"): value for name, value in extra.items()})
        return self.send("POST", body, headers, path)

    def call(self, operation: str, request: Any) -> Any:
        status, _, body = self.post(operation, json.dumps(request).encode())
        assert status == 200, body
        return json.loads(body)


@pytest.fixture
def conn(server: Server) -> Iterator[Conn]:
    opened = Conn(server)
    opened.call("CreateTable", TABLE)
    yield opened
    opened.http.close()


def _items(conn: Conn) -> list[Any]:
    items: list[Any] = conn.call("Scan", {"TableName": "tbl"})["Items"]
    return items


def _put(pk: str, value: Any) -> bytes:
    return json.dumps({"TableName": "tbl", "Item": {"PK": {"S": pk}, "v": value}}).encode()


# -- bodies DynamoDB cannot read (issue 13, items 5 and 6) ----------------------------


def _nested(levels: int) -> Any:
    value: Any = {"S": "leaf"}
    for _ in range(levels):
        value = {"L": [value]}
    return value


def test_a_value_nested_as_deep_as_dynamodb_allows_is_accepted(conn: Conn) -> None:
    status, _, body = conn.post("PutItem", _put("deep", _nested(31)))
    assert status == 200, body


@pytest.mark.parametrize(
    "body",
    [
        # a value 500 levels deep: JSON 1,000 levels deep (built as text: json.dumps
        # itself recurses too deep for it)
        b'{"TableName": "tbl", "Item": {"PK": {"S": "deep"}, "v": '
        + b'{"L": [' * 500
        + b'{"S": "leaf"}'
        + b"]}" * 500
        + b"}}",
        b'{"TableName": "tbl", "Item": {"PK": {"S": "x"}}, "Extra": '
        + b"[" * 100_000
        + b"]" * 100_000
        + b"}",
        b"[" * 100_000,  # not even closed
        b'{"a": ' * 5_000 + b"1" + b"}" * 5_000,
    ],
    ids=["value-500-levels", "array-100000-deep", "unclosed-100000", "objects-5000-deep"],
)
def test_json_nested_hundreds_of_levels_is_a_serialization_error(conn: Conn, body: bytes) -> None:
    status, _, data = conn.post("PutItem", body)
    assert status == 400, data[:300]
    error = json.loads(data)
    assert error["__type"] == CORAL + "SerializationException"
    assert _items(conn) == []  # nothing written, and the server still answers


def test_the_depth_limit_counts_brackets_outside_strings_only(conn: Conn) -> None:
    text = "[" * (MAX_JSON_DEPTH * 4) + '\\"{'
    status, _, body = conn.post("PutItem", _put("brackets", {"S": text}))
    assert status == 200, body
    assert _items(conn) == [{"PK": {"S": "brackets"}, "v": {"S": text}}]


@pytest.mark.parametrize(
    "body",
    [
        _put("utf16", {"S": "x"}).decode().encode("utf-16"),  # with a BOM
        _put("utf16", {"S": "x"}).decode().encode("utf-16-le"),  # without one
        _put("utf32", {"S": "x"}).decode().encode("utf-32"),
        _put("latin1", {"S": "é"}).decode("ascii").replace("\\u00e9", "é").encode("latin-1"),
        _put("surrogate", {"S": "x"}).replace(b'"x"', b'"\xed\xa0\x80"'),  # encoded U+D800
    ],
    ids=["utf-16", "utf-16-le", "utf-32", "latin-1", "encoded-surrogate"],
)
def test_a_body_that_is_not_utf8_is_a_serialization_error(conn: Conn, body: bytes) -> None:
    status, _, data = conn.post("PutItem", body)
    assert status == 400, data
    error = json.loads(data)
    assert error["__type"].endswith("#SerializationException")
    if b"\x00" not in body:  # UTF-16-LE of ASCII is valid UTF-8 (with NULs): not JSON
        assert error["__type"] == CORAL + "SerializationException"
        assert "UTF-8" in error["message"]
    assert _items(conn) == []


@pytest.mark.parametrize(
    "body",
    [
        _put("x", {"S": "\ud800"}),  # json.dumps escapes it: a lone surrogate in JSON
        json.dumps({"TableName": "tbl", "Item": {"PK": {"S": "k"}, "\udfff": {"S": "v"}}}).encode(),
        json.dumps({"TableName": "tbl", "Item": {"PK": {"SS": ["a", "\ud83d"]}}}).encode(),
    ],
    ids=["value", "attribute-name", "set-member"],
)
def test_a_lone_surrogate_escape_is_a_validation_error_not_a_500(conn: Conn, body: bytes) -> None:
    # JSON may escape a lone surrogate (\ud800) that UTF-8 cannot carry; the engine
    # refuses it wherever it appears (issue 13, item 4).
    status, _, data = conn.post("PutItem", body)
    assert status == 400, data
    assert json.loads(data)["__type"] == DDB + "ValidationException"
    assert _items(conn) == []


def test_an_integer_parameter_beyond_32_bits_is_a_serialization_error(conn: Conn) -> None:
    status, _, data = conn.post("Scan", json.dumps({"TableName": "tbl", "Limit": 2**64}).encode())
    assert status == 400, data
    assert json.loads(data)["__type"].endswith("#SerializationException")


# -- compressed requests (issue 14, item 19) ---------------------------------------


def test_concatenated_gzip_members_decode_as_one_body(conn: Conn) -> None:
    body = _put("two-members", {"S": "v"})
    compressed = gzip.compress(body[:10]) + gzip.compress(body[10:])
    status, _, data = conn.post("PutItem", compressed, Content_Encoding="gzip")
    assert status == 200, data
    assert _items(conn) == [{"PK": {"S": "two-members"}, "v": {"S": "v"}}]


@pytest.mark.parametrize(
    ("encoding", "body"),
    [
        ("gzip", _put("x", {"S": "v"})),  # not compressed at all
        ("gzip", gzip.compress(_put("x", {"S": "v"}))[:-1]),  # cut short
        ("gzip", b""),
        ("gzip", gzip.compress(_put("x", {"S": "v"})) + b"\x1f\x8bjunk"),  # a broken member
        ("garbage", _put("x", {"S": "v"})),
        ("br", _put("x", {"S": "v"})),
        ("deflate", zlib.compress(_put("x", {"S": "v"}))),  # DynamoDB decodes gzip only
    ],
    ids=["not-gzip", "cut-short", "empty", "broken-member", "garbage", "br", "deflate"],
)
def test_an_undecodable_body_is_dynamodbs_500(conn: Conn, encoding: str, body: bytes) -> None:
    status, _, data = conn.post("PutItem", body, Content_Encoding=encoding)
    assert status == 500
    assert json.loads(data)["__type"] == DDB + "InternalServerError"
    assert _items(conn) == []


def test_bytes_after_the_last_gzip_member_are_ignored_as_dynamodb_does(conn: Conn) -> None:
    body = gzip.compress(_put("trailing", {"S": "v"})) + b"junk"
    status, _, data = conn.post("PutItem", body, Content_Encoding="gzip")
    assert status == 200, data


# -- compressed responses (issue 14, item 18) --------------------------------------


def _get_big(conn: Conn, accept: str | None, size: int = 5000) -> tuple[dict[str, str], bytes]:
    conn.call("PutItem", json.loads(_put("big", {"S": "x" * size})))
    extra = {} if accept is None else {"Accept_Encoding": accept}
    status, headers, body = conn.post(
        "GetItem", b'{"TableName": "tbl", "Key": {"PK": {"S": "big"}}}', **extra
    )
    assert status == 200
    return {name.lower(): value for name, value in headers.items()}, body


@pytest.mark.parametrize(
    ("coding", "decompress"), [("gzip", gzip.decompress), ("deflate", zlib.decompress)]
)
def test_a_response_of_4_kb_or_more_is_compressed_when_accepted(
    conn: Conn, coding: str, decompress: Any
) -> None:
    headers, body = _get_big(conn, coding)
    assert headers["content-encoding"] == coding
    assert headers["content-length"] == str(len(body))
    assert headers["x-amz-crc32"] == str(zlib.crc32(body))  # of the bytes sent, as DynamoDB
    item = json.loads(decompress(body))["Item"]
    assert item["v"] == {"S": "x" * 5000}
    assert len(body) < 200


def test_small_responses_and_clients_that_do_not_ask_are_not_compressed(conn: Conn) -> None:
    headers, body = _get_big(conn, None)
    assert "content-encoding" not in headers
    assert json.loads(body)["Item"]["v"] == {"S": "x" * 5000}
    headers, body = _get_big(conn, "gzip", size=3000)  # a response under 4096 bytes
    assert "content-encoding" not in headers and len(body) < 4096


@pytest.mark.parametrize(
    ("accept", "expected"),
    [
        ("gzip, deflate", "gzip"),
        ("br, identity, deflate, gzip", "deflate"),
        ("gzip;q=0.5, deflate", "deflate"),
        ("*", "gzip"),
        ("*, gzip;q=0.5", "deflate"),
        ("gzip;q=0", None),
        ("identity", None),
        ("x-gzip", None),
        ("deflate;q=0.5, gzip;q=31", "gzip"),
    ],
)
def test_the_coding_is_chosen_as_dynamodb_chooses_it(
    conn: Conn, accept: str, expected: str | None
) -> None:
    headers, _ = _get_big(conn, accept)
    assert headers.get("content-encoding") == expected


# -- paths, the health check and the Server header (issue 14, item 20) ---------------


def test_get_slash_answers_healthy_with_the_requests_host(server: Server) -> None:
    conn = Conn(server)
    status, headers, body = conn.send("GET", None, {"Host": "dynamodb.local.test:8000"})
    assert (status, body) == (200, b"healthy: dynamodb.local.test:8000 ")
    assert headers["Server"] == "Server"
    conn.http.close()


@pytest.mark.parametrize("method", ["GET", "POST", "PUT"])
def test_other_paths_are_not_found(conn: Conn, method: str) -> None:
    body = _put("elsewhere", {"S": "v"})
    status, headers, data = conn.send(
        method,
        body,
        {"Content-Type": AMZ_JSON, "X-Amz-Target": "DynamoDB_20120810.PutItem"},
        path="/tables/tbl",
    )
    assert (status, data) == (404, b"<UnknownOperationException/>\n")
    assert headers["Server"] == "Server"
    assert _items(conn) == []


def test_a_query_string_on_slash_is_still_slash(conn: Conn) -> None:
    status, _, _ = conn.post("ListTables", b"{}", path="/?x=1")
    assert status == 200


def test_every_response_carries_the_server_header(conn: Conn) -> None:
    for status_wanted, (status, headers, _) in [
        (200, conn.post("ListTables", b"{}")),
        (400, conn.post("ListTables", b"{oops")),
        (404, conn.send("DELETE", None, {})),
    ]:
        assert status == status_wanted
        assert headers["Server"] == "Server"


# -- CORS (issue 14, item 21) --------------------------------------------------------

PREFLIGHT = {
    "Origin": "http://localhost:3000",
    "Access-Control-Request-Method": "POST",
    "Access-Control-Request-Headers": "content-type, x-amz-target, authorization, x-amz-date",
}


def test_cors_is_off_by_default(conn: Conn) -> None:
    status, headers, _ = conn.send("OPTIONS", None, PREFLIGHT)
    assert status == 404
    assert "Access-Control-Allow-Origin" not in headers
    _, headers, _ = conn.post("ListTables", b"{}", Origin="http://localhost:3000")
    assert "Access-Control-Allow-Origin" not in headers


def test_any_origin_when_configured_so() -> None:
    with Server(cors_origins=["*"]) as server:
        conn = Conn(server)
        status, headers, body = conn.send("OPTIONS", None, PREFLIGHT)
        assert (status, body) == (200, b"")
        assert headers["Access-Control-Allow-Origin"] == "*"
        assert headers["Access-Control-Allow-Methods"] == "POST"
        assert (
            headers["Access-Control-Allow-Headers"] == PREFLIGHT["Access-Control-Request-Headers"]
        )
        assert headers["Access-Control-Max-Age"] == "172800"
        status, headers, _ = conn.post("ListTables", b"{}", Origin="https://elsewhere.test")
        assert status == 200
        assert headers["Access-Control-Allow-Origin"] == "*"
        assert "x-amzn-RequestId" in headers["Access-Control-Expose-Headers"]
        status, headers, _ = conn.post("ListTables", b"{oops", Origin="https://elsewhere.test")
        assert status == 400 and headers["Access-Control-Allow-Origin"] == "*"
        conn.http.close()


def test_listed_origins_only() -> None:
    with Server(cors_origins=["http://localhost:3000"]) as server:
        conn = Conn(server)
        status, headers, _ = conn.send("OPTIONS", None, PREFLIGHT)
        assert status == 200
        assert headers["Access-Control-Allow-Origin"] == "http://localhost:3000"
        assert headers["Vary"] == "Origin"
        other = {**PREFLIGHT, "Origin": "https://evil.test"}
        status, headers, _ = conn.send("OPTIONS", None, other)
        assert status == 404 and "Access-Control-Allow-Origin" not in headers
        _, headers, _ = conn.post("ListTables", b"{}", Origin="https://evil.test")
        assert "Access-Control-Allow-Origin" not in headers
        conn.http.close()
