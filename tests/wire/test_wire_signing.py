"""SigV4 as the wire backends sign it: accepted by ``singletable serve --require-auth``,
refused with a wrong secret, and the very canonical request botocore builds.

The canonical requests are recomputed from the headers each client actually
produced, by the server's verifier (``singletable.server._sigv4``), and compared;
the signatures, made over the same time and keys, must then be equal too: the
Authorization header the backend builds is botocore's, byte for byte (the signer
and the verifier share SigV4's steps, ``singletable._sigv4``; botocore is the
independent check).
"""

from __future__ import annotations

import asyncio
import calendar
import hashlib
import hmac
import time
from typing import Any

import boto3
import pytest

from singletable._sigv4 import KeyedHash
from singletable.backends.boto3 import to_botocore
from singletable.backends.wire import AsyncWireBackend, WireBackend
from singletable.errors import AccessError
from singletable.server import Server
from singletable.server._sigv4 import _canonical_request

KEY_ID, SECRET, TOKEN = "AKIDWIRE", "wire-secret", "wire-session-token"
REGION = "eu-west-1"

TABLE = {
    "TableName": "signed",
    "KeySchema": [{"AttributeName": "PK", "KeyType": "HASH"}],
    "AttributeDefinitions": [{"AttributeName": "PK", "AttributeType": "S"}],
    "BillingMode": "PAY_PER_REQUEST",
}


def test_signed_requests_are_accepted_and_a_wrong_secret_is_refused() -> None:
    with Server(credentials={KEY_ID: SECRET}) as server:
        with WireBackend(
            endpoint_url=server.url,
            region_name=REGION,
            aws_access_key_id=KEY_ID,
            aws_secret_access_key=SECRET,
            aws_session_token=TOKEN,
        ) as backend:
            backend.call("CreateTable", TABLE)
            backend.call("PutItem", {"TableName": "signed", "Item": {"PK": {"S": "ü €"}}})
            assert backend.call("ListTables", {}) == {"TableNames": ["signed"]}

        async def async_calls(secret: str) -> dict[str, Any]:
            async with AsyncWireBackend(
                endpoint_url=server.url,
                region_name=REGION,
                aws_access_key_id=KEY_ID,
                aws_secret_access_key=secret,
            ) as backend:
                return await backend.call("Scan", {"TableName": "signed"})

        assert asyncio.run(async_calls(SECRET))["Items"] == [{"PK": {"S": "ü €"}}]

        with WireBackend(
            endpoint_url=server.url,
            region_name=REGION,
            aws_access_key_id=KEY_ID,
            aws_secret_access_key="not-the-secret",
        ) as wrong, pytest.raises(AccessError) as refused:
            wrong.call("ListTables", {})
        assert refused.value.code == "InvalidSignatureException"
        assert refused.value.message.startswith(
            "The request signature we calculated does not match the signature you provided."
        )
        with pytest.raises(AccessError) as async_refused:
            asyncio.run(async_calls("not-the-secret"))
        assert async_refused.value.code == "InvalidSignatureException"
        with WireBackend(
            endpoint_url=server.url,
            region_name=REGION,
            aws_access_key_id="AKIDUNKNOWN",
            aws_secret_access_key=SECRET,
        ) as unknown, pytest.raises(AccessError) as unknown_key:
            unknown.call("ListTables", {})
        assert unknown_key.value.code == "UnrecognizedClientException"


class _Captured(Exception):
    def __init__(self, request: Any) -> None:
        self.request = request


def _botocore_request(operation: str, request: dict[str, Any]) -> tuple[dict[str, str], bytes]:
    """The headers and body botocore sends for ``operation`` (captured, never sent)."""
    client = boto3.client(
        "dynamodb",
        endpoint_url="http://127.0.0.1:8000",
        region_name=REGION,
        aws_access_key_id=KEY_ID,
        aws_secret_access_key=SECRET,
        aws_session_token=TOKEN,
    )

    def capture(request: Any, **_: Any) -> None:
        raise _Captured(request)

    client.meta.events.register("before-send", capture)
    method = getattr(client, _snake(operation))
    with pytest.raises(_Captured) as caught:
        method(**to_botocore(request))
    client.close()
    sent = caught.value.request
    headers = {
        name.lower(): value.decode() if isinstance(value, bytes) else value
        for name, value in sent.headers.items()
    }
    # botocore signs the URL's host and leaves the header to the HTTP client (urllib3),
    # which sends exactly that
    headers.setdefault("host", "127.0.0.1:8000")
    return headers, sent.body


def _snake(operation: str) -> str:
    return "".join(f"_{c.lower()}" if c.isupper() else c for c in operation).lstrip("_")


def _canonical(headers: dict[str, str], body: bytes) -> str:
    signed = headers["authorization"].split("SignedHeaders=")[1].split(",")[0].split(";")
    return _canonical_request("POST", "/", headers, signed, hashlib.sha256(body).hexdigest())


REQUESTS = {
    "GetItem": {"TableName": "app", "Key": {"PK": {"S": "a"}, "SK": {"S": "ü"}}},
    "PutItem": {
        "TableName": "app",
        "Item": {
            "PK": {"S": "a"},
            "b": {"B": "AAH/"},
            "n": {"N": "-1.5e3"},
            "m": {"M": {"l": {"L": [{"BS": ["AA==", "AQ=="]}, {"NULL": True}]}}},
        },
        "ConditionExpression": "attribute_not_exists(#p)",
        "ExpressionAttributeNames": {"#p": "PK"},
    },
    "Query": {
        "TableName": "app",
        "IndexName": "GSI1",
        "KeyConditionExpression": "GSI1PK = :v",
        "ExpressionAttributeValues": {":v": {"S": "x"}},
        "Limit": 25,
        "ScanIndexForward": False,
    },
    "TransactWriteItems": {
        "TransactItems": [{"Delete": {"TableName": "app", "Key": {"PK": {"S": "a"}}}}],
        "ClientRequestToken": "token-1",
    },
}


@pytest.mark.parametrize("operation", list(REQUESTS))
def test_the_canonical_request_is_botocores(operation: str) -> None:
    theirs, their_body = _botocore_request(operation, REQUESTS[operation])
    moment = float(calendar.timegm(time.strptime(theirs["x-amz-date"], "%Y%m%dT%H%M%SZ")))
    with WireBackend(
        endpoint_url="http://127.0.0.1:8000",
        region_name=REGION,
        aws_access_key_id=KEY_ID,
        aws_secret_access_key=SECRET,
        aws_session_token=TOKEN,
    ) as backend:
        core = backend.core
        core._clock = lambda: moment
        ours = core.prepare(operation, core.encode(operation, REQUESTS[operation]), 1, "id")
    assert ours.body == their_body
    assert _canonical(ours.headers, ours.body) == _canonical(theirs, their_body)
    assert ours.headers["authorization"] == theirs["authorization"]


@pytest.mark.parametrize("size", [0, 1, 32, 63, 64, 65, 200])
def test_the_keyed_hash_is_hmac_sha256(size: int) -> None:
    key = bytes(range(256))[:size]
    keyed = KeyedHash(key)
    for message in (b"", b"AWS4-HMAC-SHA256\n20260102T030405Z\n", bytes(range(256)) * 5):
        # twice: each message starts from the keyed states, untouched by the one before
        assert keyed.hexdigest(message) == hmac.new(key, message, hashlib.sha256).hexdigest()
        assert keyed.hexdigest(message) == hmac.new(key, message, hashlib.sha256).hexdigest()
