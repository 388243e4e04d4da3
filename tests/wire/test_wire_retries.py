"""The wire backends' production behaviour over real HTTP: retries, the CRC32 check,
transport failures, and errors identical to the boto3 backend's for the same response.

Each test runs on the sync backend and on the async one (``flavour``), against a
scripted endpoint (``scripted.py``) that answers with canned responses and records
what it received.
"""

from __future__ import annotations

import asyncio
import json
import socket
import time
import uuid
from collections.abc import Callable
from typing import Any

import boto3
import pytest
from botocore.config import Config
from scripted import Canned, ScriptedServer, error

from singletable.backends.boto3 import Boto3Backend
from singletable.backends.wire import AsyncWireBackend, Options, WireBackend
from singletable.errors import (
    BackendError,
    ConditionFailedError,
    DynamoDBServiceError,
    RequestError,
    ThrottledError,
    TransactionCanceledError,
)

REGION = "us-east-1"
FAST = Options(retry_base=0.001)
GET = {"TableName": "app", "Key": {"PK": {"S": "a"}}}
TX = {"TransactItems": [{"Put": {"TableName": "app", "Item": {"PK": {"S": "a"}}}}]}

Call = Callable[[str, dict[str, Any]], dict[str, Any]]


def _caller(flavour: str, url: str, options: Options) -> Call:
    """``call(operation, request)`` on a fresh backend of that flavour (closed after)."""
    if flavour == "sync":

        def call(operation: str, request: dict[str, Any]) -> dict[str, Any]:
            with WireBackend(endpoint_url=url, region_name=REGION, options=options) as backend:
                return backend.call(operation, request)

        return call

    def call_async(operation: str, request: dict[str, Any]) -> dict[str, Any]:
        async def run() -> dict[str, Any]:
            async with AsyncWireBackend(
                endpoint_url=url, region_name=REGION, options=options
            ) as backend:
                return await backend.call(operation, request)

        return asyncio.run(run())

    return call_async


@pytest.fixture(params=["sync", "async"])
def flavour(request: pytest.FixtureRequest) -> str:
    name: str = request.param
    return name


def test_throttling_is_retried_with_one_invocation_id(flavour: str) -> None:
    script = [
        error("ProvisionedThroughputExceededException", "slow down"),
        error("ThrottlingException", "slow down", status=400),
        Canned(body={"Item": {"PK": {"S": "a"}}}),
    ]
    with ScriptedServer(script) as server:
        got = _caller(flavour, server.url, FAST)("GetItem", GET)
    assert got == {"Item": {"PK": {"S": "a"}}}
    attempts = [r.headers["amz-sdk-request"] for r in server.received]
    assert attempts == ["attempt=1; max=10", "attempt=2; max=10", "attempt=3; max=10"]
    assert len({r.headers["amz-sdk-invocation-id"] for r in server.received}) == 1
    assert {r.headers["x-amz-target"] for r in server.received} == {"DynamoDB_20120810.GetItem"}
    assert all(r.headers["user-agent"].startswith("singletable/") for r in server.received)


def test_a_retried_transaction_keeps_its_token(flavour: str) -> None:
    script = [error("InternalServerError", "oops", status=500), Canned(body={})]
    with ScriptedServer(script) as server:
        _caller(flavour, server.url, FAST)("TransactWriteItems", TX)
    first, second = (json.loads(r.body) for r in server.received)
    assert first == second
    token = uuid.UUID(first["ClientRequestToken"])  # a random UUID, as botocore adds it
    assert (str(token), token.version) == (first["ClientRequestToken"], 4)
    assert len({r.headers["amz-sdk-invocation-id"] for r in server.received}) == 1
    assert first["TransactItems"] == TX["TransactItems"]
    with ScriptedServer([Canned(body={})]) as server:
        _caller(flavour, server.url, FAST)("TransactWriteItems", {**TX, "ClientRequestToken": "t1"})
    assert json.loads(server.received[0].body)["ClientRequestToken"] == "t1"


def test_a_crc32_mismatch_is_retried_then_reported(flavour: str) -> None:
    good = Canned(body={"Item": {"PK": {"S": "a"}}})
    spoiled = Canned(body={"Item": {"PK": {"S": "b"}}}, bad_crc=True)
    with ScriptedServer([spoiled, good]) as server:
        assert _caller(flavour, server.url, FAST)("GetItem", GET) == good.body
    assert len(server.received) == 2
    with ScriptedServer([spoiled]) as server, pytest.raises(BackendError) as caught:
        _caller(flavour, server.url, Options(max_attempts=3, retry_base=0.001))("GetItem", GET)
    assert len(server.received) == 3
    assert caught.value.code == "ChecksumError"
    assert caught.value.message.startswith("Checksum crc32 failed, expected checksum ")


def test_server_errors_are_retried_until_the_attempts_run_out(flavour: str) -> None:
    options = Options(max_attempts=4, retry_base=0.001)
    failing = ScriptedServer([error("InternalServerError", "Internal server error", 500)])
    with failing as server, pytest.raises(BackendError) as caught:
        _caller(flavour, server.url, options)("GetItem", GET)
    assert (caught.value.code, caught.value.message) == (
        "InternalServerError",
        "Internal server error",
    )
    assert len(server.received) == 4
    throttling = ScriptedServer([error("ThrottlingException", "slow", throttlingReasons=[])])
    with throttling as server, pytest.raises(ThrottledError):
        _caller(flavour, server.url, options)("GetItem", GET)
    assert len(server.received) == 4


def test_client_errors_are_not_retried(flavour: str) -> None:
    failed = error("ConditionalCheckFailedException", "The conditional request failed")
    with ScriptedServer([failed]) as server, pytest.raises(ConditionFailedError):
        _caller(flavour, server.url, FAST)("PutItem", {"TableName": "app", "Item": {}})
    assert len(server.received) == 1


def test_backoff_is_jittered_exponential_and_capped() -> None:
    with ScriptedServer([]) as server:
        backend = WireBackend(endpoint_url=server.url, region_name=REGION)
    core = backend.core
    core._jitter = lambda: 0.999999  # the largest wait each time
    waits = [core.backoff(attempt) for attempt in range(1, 12)]
    assert waits[:4] == pytest.approx([0.05, 0.1, 0.2, 0.4], rel=1e-5)
    assert max(waits) == pytest.approx(20.0, rel=1e-5)
    core._jitter = lambda: 0.0
    assert core.backoff(3) == 0.0
    backend.close()


def test_a_refused_connection_is_retried_then_named_as_botocore_names_it(flavour: str) -> None:
    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    url = f"http://127.0.0.1:{port}"
    with pytest.raises(BackendError) as caught:
        _caller(flavour, url, Options(max_attempts=2, retry_base=0.001))("ListTables", {})
    assert caught.value.code == "EndpointConnectionError"
    assert caught.value.message == f'Could not connect to the endpoint URL: "{url}"'


def test_a_slow_response_is_a_read_timeout(flavour: str) -> None:
    options = Options(max_attempts=2, retry_base=0.001, read_timeout=0.2)
    with ScriptedServer([Canned(delay=0.6)]) as server, pytest.raises(BackendError) as caught:
        _caller(flavour, server.url, options)("ListTables", {})
    assert caught.value.code == "ReadTimeoutError"
    assert caught.value.message == f'Read timeout on endpoint URL: "{server.url}"'
    assert len(server.received) == 2


def test_the_read_timeout_applies_to_each_read(flavour: str) -> None:
    # a response that takes longer than the timeout in all, but never waits that long
    # for its next bytes, is read whole (a socket timeout's rule, and botocore's)
    options = Options(max_attempts=1, read_timeout=0.5)
    body = {"TableNames": ["t" * 200]}
    with ScriptedServer([Canned(body=body, trickle=0.25)]) as server:
        began = time.monotonic()
        assert _caller(flavour, server.url, options)("ListTables", {}) == body
    assert time.monotonic() - began > 0.7


def test_refused_before_sending_as_the_boto3_backend_refuses(flavour: str) -> None:
    with ScriptedServer([Canned()]) as server:
        call = _caller(flavour, server.url, FAST)
        with pytest.raises(RequestError) as unknown:
            call("Frobnicate", {})
        assert (unknown.value.code, unknown.value.message) == (
            "UnknownOperationException",
            "Unknown operation: Frobnicate",
        )
        item = {"PK": {"S": "a"}, "nested": {"M": {"b": {"BS": ["AA==", "not base64!"]}}}}
        with pytest.raises(RequestError) as binary:
            call("PutItem", {"TableName": "app", "Item": item})
        assert (binary.value.code, binary.value.message) == (
            "SerializationException",
            "Base64 encoded binary value is not valid",
        )
        # a map whose only attribute is named B holds no binary value
        call("PutItem", {"TableName": "app", "Item": {"B": {"S": "not base64!"}}})
        # values JSON cannot carry, and a request that contains itself (the encoder does
        # not look for cycles: it is refused when the recursion limit stops it)
        cyclic: dict[str, Any] = {"TableName": "app"}
        cyclic["Item"] = {"PK": {"M": cyclic}}
        for request in (
            {"TableName": "app", "Item": {"PK": {"S": b"bytes"}}},
            {"TableName": "app", "Item": {"PK": {"SS": {"a", "b"}}}},
            cyclic,
        ):
            with pytest.raises(RequestError) as unencodable:
                call("PutItem", request)
            assert unencodable.value.code == "ValidationException"
            assert unencodable.value.message.startswith("Parameter validation failed:\n")
        assert "nests too deeply to encode (a circular reference?)" in unencodable.value.message
    assert len(server.received) == 1


# -- the same errors as the boto3 backend, for the same response ---------------------------------

STORED = {"PK": {"S": "a"}, "b": {"B": "AAH/"}, "n": {"N": "1"}}
SAME_ERRORS = {
    "condition": error(
        "ConditionalCheckFailedException", "The conditional request failed", Item=STORED
    ),
    "canceled": error(
        "TransactionCanceledException",
        "Transaction cancelled, please refer cancellation reasons for specific reasons "
        "[None, ConditionalCheckFailed]",
        CancellationReasons=[
            {"Code": "None"},
            {"Code": "ConditionalCheckFailed", "Message": "failed", "Item": STORED, "X": 1},
        ],
    ),
    "throttled": error(
        "ProvisionedThroughputExceededException",
        "Rate exceeded",
        ThrottlingReasons=[{"reason": "TableReadProvisionedThroughputExceeded", "resource": "t"}],
    ),
    "unmodelled": error("SomethingNewException", "new", Extra={"a": 1}),
    "colon": Canned(400, {"__type": "ValidationException:http://x", "Message": "capital M"}),
    "no type": Canned(413, {"message": "too big"}),
    "not json": Canned(502, raw=b"<html>bad gateway</html>"),
    "empty": Canned(503, raw=b""),
}


@pytest.mark.parametrize("case", list(SAME_ERRORS))
def test_errors_are_the_boto3_backends(case: str, flavour: str) -> None:
    request = {"TableName": "app", "Item": STORED}
    raised: list[DynamoDBServiceError] = []
    with ScriptedServer([SAME_ERRORS[case]]) as server:
        client = boto3.client(
            "dynamodb",
            endpoint_url=server.url,
            region_name=REGION,
            config=Config(retries={"total_max_attempts": 1}),
        )
        with Boto3Backend(client) as boto, pytest.raises(DynamoDBServiceError) as by_boto3:
            boto.call("PutItem", request)
        client.close()
        raised.append(by_boto3.value)
        with pytest.raises(DynamoDBServiceError) as by_wire:
            _caller(flavour, server.url, Options(max_attempts=1))("PutItem", request)
        raised.append(by_wire.value)
    boto_error, wire_error = raised
    assert type(wire_error) is type(boto_error)
    assert (wire_error.code, wire_error.message, wire_error.operation) == (
        boto_error.code,
        boto_error.message,
        boto_error.operation,
    )
    assert wire_error.details == boto_error.details
    if case == "canceled":
        assert isinstance(wire_error, TransactionCanceledError)
        assert wire_error.reasons[1] == {
            "Code": "ConditionalCheckFailed",
            "Message": "failed",
            "Item": STORED,
        }
