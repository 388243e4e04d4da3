"""Fuzzing ``singletable serve`` over HTTP: random and mutated requests, whole.

Every request goes over a real socket to a real server. Whatever it sends, the
server must answer without an HTTP 500 (the one 500 DynamoDB gives for client
input, a body its ``Content-Encoding`` cannot decode, is left out: every
compressed body here is valid gzip), keep serving, and leave the stored data as
it was unless it answered 200. Examples are derandomized (a fixed seed), so CI
runs the same ones every time; ``SINGLETABLE_FUZZ_EXAMPLES`` runs more by hand.
"""

from __future__ import annotations

import gzip
import json
import os
import socket
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from singletable.server import Server

FUZZ = settings(
    max_examples=int(os.environ.get("SINGLETABLE_FUZZ_EXAMPLES", "150")),
    derandomize=True,
    deadline=None,
    suppress_health_check=[
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
        HealthCheck.function_scoped_fixture,
    ],
)

TABLE = {
    "TableName": "tbl",
    "KeySchema": [
        {"AttributeName": "PK", "KeyType": "HASH"},
        {"AttributeName": "SK", "KeyType": "RANGE"},
    ],
    "AttributeDefinitions": [
        {"AttributeName": "PK", "AttributeType": "S"},
        {"AttributeName": "SK", "AttributeType": "S"},
    ],
    "BillingMode": "PAY_PER_REQUEST",
}
ITEMS = [
    {"PK": {"S": "p"}, "SK": {"S": "a"}, "n": {"N": "1"}, "l": {"L": [{"S": "x"}]}},
    {"PK": {"S": "p"}, "SK": {"S": "b"}, "m": {"M": {"k": {"B": "AAE="}}}, "ss": {"SS": ["a"]}},
]
OPERATIONS = [
    "PutItem",
    "GetItem",
    "UpdateItem",
    "DeleteItem",
    "Query",
    "Scan",
    "BatchWriteItem",
    "BatchGetItem",
    "TransactWriteItems",
    "ListTables",
    "DescribeTable",
    "NoSuchOperation",
]
# Requests that are valid, or nearly: the seeds that mutations start from.
SEEDS: list[tuple[str, Any]] = [
    ("PutItem", {"TableName": "tbl", "Item": {"PK": {"S": "f"}, "SK": {"S": "1"}}}),
    ("GetItem", {"TableName": "tbl", "Key": {"PK": {"S": "p"}, "SK": {"S": "a"}}}),
    (
        "UpdateItem",
        {
            "TableName": "tbl",
            "Key": {"PK": {"S": "p"}, "SK": {"S": "a"}},
            "UpdateExpression": "SET #n = #n + :one",
            "ConditionExpression": "attribute_exists(PK)",
            "ExpressionAttributeNames": {"#n": "n"},
            "ExpressionAttributeValues": {":one": {"N": "1"}},
        },
    ),
    (
        "Query",
        {
            "TableName": "tbl",
            "KeyConditionExpression": "PK = :p AND begins_with(SK, :s)",
            "ExpressionAttributeValues": {":p": {"S": "p"}, ":s": {"S": "a"}},
            "Limit": 1,
        },
    ),
    (
        "TransactWriteItems",
        {
            "TransactItems": [
                {"Put": {"TableName": "tbl", "Item": {"PK": {"S": "t"}, "SK": {"S": "1"}}}},
                {"Delete": {"TableName": "tbl", "Key": {"PK": {"S": "p"}, "SK": {"S": "b"}}}},
            ]
        },
    ),
]


@pytest.fixture(scope="module")
def fuzzed() -> Iterator[Server]:
    with Server(header_timeout=2.0, idle_timeout=2.0) as server:
        server.engine.call("CreateTable", TABLE)
        yield server


def _contents(server: Server) -> list[Any]:
    items: list[Any] = server.engine.call("Scan", {"TableName": "tbl"})["Items"]
    return sorted(items, key=lambda item: json.dumps(item, sort_keys=True))


def _reset(server: Server) -> None:
    for item in _contents(server):
        key = {"PK": item["PK"], "SK": item["SK"]}
        server.engine.call("DeleteItem", {"TableName": "tbl", "Key": key})
    for item in ITEMS:
        server.engine.call("PutItem", {"TableName": "tbl", "Item": item})


def _exchange(server: Server, data: bytes) -> bytes:
    """Send ``data``, end the input, and read everything the server answers."""
    with socket.create_connection((server.host, server.port), timeout=10) as sock:
        try:
            sock.sendall(data)
            sock.shutdown(socket.SHUT_WR)
        except OSError:  # the server refused part way (a 400) and closed: read what it said
            pass
        chunks = []
        try:
            while chunk := sock.recv(65536):
                chunks.append(chunk)
        except ConnectionResetError:
            pass
    return b"".join(chunks)


def _statuses(reply: bytes) -> list[int]:
    statuses = []
    for line in reply.split(b"\r\n"):
        if line.startswith(b"HTTP/1.1 "):
            statuses.append(int(line[9:12]))
    return statuses


def _check(server: Server, data: bytes) -> None:
    before = _contents(server)
    reply = _exchange(server, data)
    statuses = _statuses(reply)
    assert 500 not in statuses, reply[:2000]
    if 200 not in statuses:
        assert _contents(server) == before, "a refused request changed the data"


def _mutate(data: bytes, edits: list[tuple[int, int, bytes]]) -> bytes:
    for position, cut, insert in edits:
        at = position % (len(data) + 1)
        data = data[:at] + insert + data[at + cut :]
    return data


EDITS = st.lists(
    st.tuples(
        st.integers(0, 1 << 16),
        st.integers(0, 8),
        st.sampled_from(
            [b"", b"{", b"}", b"[", b"]", b'"', b"\\", b"\\u", b"\\ud800", b",", b":", b"\x00"]
        )
        | st.binary(max_size=6),
    ),
    max_size=6,
)

JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=12),
    lambda children: (
        st.lists(children, max_size=4)
        | st.dictionaries(
            st.sampled_from(["S", "N", "B", "M", "L", "SS", "NS", "BOOL", "NULL", "x"]),
            children,
            max_size=3,
        )
    ),
    max_leaves=20,
)

HEADER_VALUE = st.text(
    st.characters(min_codepoint=32, max_codepoint=255, blacklist_characters="\x7f"), max_size=40
)


def _request(
    target: str, body: bytes, headers: list[tuple[str, str]], method: str = "POST", path: str = "/"
) -> bytes:
    lines = [f"{method} {path} HTTP/1.1", "Host: fuzz.local", *(f"{n}: {v}" for n, v in headers)]
    lines.append(f"X-Amz-Target: {target}")
    lines.append(f"Content-Length: {len(body)}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body


@FUZZ
@given(
    seed=st.sampled_from(SEEDS),
    edits=EDITS,
    operation=st.sampled_from(OPERATIONS) | st.none(),
    content_type=st.sampled_from(
        ["application/x-amz-json-1.0", "application/json", "text/plain", ""]
    ),
    gzipped=st.booleans(),
    accept=st.sampled_from(["", "gzip", "deflate;q=0.5, gzip", "*;q=0", "identity"]) | HEADER_VALUE,
    extra=st.lists(
        st.tuples(st.from_regex(r"[A-Za-z][A-Za-z0-9-]{0,15}", fullmatch=True), HEADER_VALUE),
        max_size=4,
    ),
)
def test_mutated_requests_never_get_a_500(
    fuzzed: Server,
    seed: tuple[str, Any],
    edits: list[tuple[int, int, bytes]],
    operation: str | None,
    content_type: str,
    gzipped: bool,
    accept: str,
    extra: list[tuple[str, str]],
) -> None:
    _reset(fuzzed)
    seed_operation, request = seed
    body = _mutate(json.dumps(request).encode(), edits)
    headers = [(name, value) for name, value in extra if name.lower() not in _FRAMING]
    if content_type:
        headers.append(("Content-Type", content_type))
    if accept:
        headers.append(("Accept-Encoding", accept))
    if gzipped:
        body = gzip.compress(body)
        headers.append(("Content-Encoding", "gzip"))
    target = f"DynamoDB_20120810.{operation or seed_operation}"
    _check(fuzzed, _request(target, body, headers))


_FRAMING = {"content-length", "transfer-encoding", "content-encoding", "host", "x-amz-target"}


@FUZZ
@given(
    operation=st.sampled_from(OPERATIONS),
    value=st.dictionaries(st.text(max_size=8), JSON_VALUES, max_size=4) | JSON_VALUES,
)
def test_random_json_bodies_never_get_a_500(fuzzed: Server, operation: str, value: Any) -> None:
    _reset(fuzzed)
    body = json.dumps(value).encode()
    headers = [("Content-Type", "application/x-amz-json-1.0")]
    _check(fuzzed, _request(f"DynamoDB_20120810.{operation}", body, headers))


@FUZZ
@given(seed=st.sampled_from(SEEDS), edits=EDITS, chunked=st.booleans())
def test_mutated_raw_requests_never_get_a_500(
    fuzzed: Server, seed: tuple[str, Any], edits: list[tuple[int, int, bytes]], chunked: bool
) -> None:
    """Whole requests, head and framing included, mutated byte by byte."""
    _reset(fuzzed)
    operation, request = seed
    body = json.dumps(request).encode()
    headers = [("Content-Type", "application/x-amz-json-1.0")]
    if chunked:
        head = (
            f"POST / HTTP/1.1\r\nHost: fuzz.local\r\nX-Amz-Target: DynamoDB_20120810.{operation}\r\n"
            "Content-Type: application/x-amz-json-1.0\r\nTransfer-Encoding: chunked\r\n\r\n"
        ).encode()
        data = head + b"%x\r\n%s\r\n0\r\n\r\n" % (len(body), body)
    else:
        data = _request(f"DynamoDB_20120810.{operation}", body, headers)
    _check(fuzzed, _mutate(data, edits))
    # Whatever that did, the server still serves.
    reply = _exchange(fuzzed, _request("DynamoDB_20120810.ListTables", b"{}", headers))
    assert _statuses(reply) == [200], reply[:500]
