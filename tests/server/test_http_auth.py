"""SigV4 verification (``--require-auth``): real signatures pass, every bad one is refused.

Error codes and texts follow DynamoDB's (see :mod:`singletable.server._sigv4`).
"""

from __future__ import annotations

import hashlib
import hmac
import http.client
import json
import time
from collections.abc import Iterator
from typing import Any

import boto3
import botocore
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from singletable.server import Server
from singletable.server._sigv4 import signing_region, verify

KEY_ID, SECRET = "AKIDLOCAL", "local-secret"
REGION = "us-east-1"


@pytest.fixture
def secured() -> Iterator[Server]:
    with Server(credentials={KEY_ID: SECRET}) as server:
        yield server


def _client(server: Server, key_id: str = KEY_ID, secret: str = SECRET, **extra: Any) -> Any:
    extra.setdefault("region_name", REGION)
    return boto3.client(
        "dynamodb",
        endpoint_url=server.url,
        aws_access_key_id=key_id,
        aws_secret_access_key=secret,
        **extra,
    )


def _error(call: Any) -> dict[str, str]:
    with pytest.raises(ClientError) as caught:
        call()
    error: dict[str, str] = caught.value.response["Error"]
    return error


def test_correctly_signed_requests_are_served(secured: Server) -> None:
    client = _client(secured, aws_session_token="any-session-token")
    client.create_table(
        TableName="tbl",
        KeySchema=[{"AttributeName": "PK", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "PK", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
        StreamSpecification={"StreamEnabled": True, "StreamViewType": "KEYS_ONLY"},
    )
    client.put_item(TableName="tbl", Item={"PK": {"S": "é ü"}, "n": {"N": "1"}})
    assert client.get_item(TableName="tbl", Key={"PK": {"S": "é ü"}})["Item"]["n"] == {"N": "1"}
    # Another region signs too (and has its own tables), and DynamoDB Streams signs as
    # "dynamodb".
    assert _client(secured, region_name="eu-west-2").list_tables()["TableNames"] == []
    streams = boto3.client(
        "dynamodbstreams",
        endpoint_url=secured.url,
        region_name=REGION,
        aws_access_key_id=KEY_ID,
        aws_secret_access_key=SECRET,
    )
    assert len(streams.list_streams()["Streams"]) == 1


def test_a_wrong_secret_is_an_invalid_signature(secured: Server) -> None:
    error = _error(lambda: _client(secured, secret="wrong").list_tables())
    assert error["Code"] == "InvalidSignatureException"
    assert error["Message"].startswith(
        "The request signature we calculated does not match the signature you provided. "
        "Check your AWS Secret Access Key and signing method. "
        "Consult the service documentation for details.\n\n"
        "The Canonical String for this request should have been\n'POST\n/\n\n"
    )


def test_an_unknown_access_key_is_unrecognized(secured: Server) -> None:
    error = _error(lambda: _client(secured, key_id="AKIDOTHER").list_tables())
    assert error == {
        "Code": "UnrecognizedClientException",
        "Message": "The security token included in the request is invalid.",
    }


def test_an_unsigned_request_is_missing_its_token(secured: Server) -> None:
    client = _client(secured, config=Config(signature_version=botocore.UNSIGNED))
    error = _error(lambda: client.list_tables())
    assert error == {
        "Code": "MissingAuthenticationTokenException",
        "Message": "Request is missing Authentication Token",
    }


def test_any_credentials_are_accepted_by_default(server: Server) -> None:
    assert _client(server, key_id="whatever", secret="anything").list_tables() is not None
    unsigned = _client(server, config=Config(signature_version=botocore.UNSIGNED))
    assert unsigned.list_tables()["TableNames"] == []


def _post(server: Server, headers: dict[str, str], body: bytes = b"{}") -> tuple[int, Any]:
    conn = http.client.HTTPConnection(server.host, server.port, timeout=10)
    try:
        conn.request(
            "POST",
            "/",
            body=body,
            headers={
                "content-type": "application/x-amz-json-1.0",
                "x-amz-target": "DynamoDB_20120810.ListTables",
                **headers,
            },
        )
        response = conn.getresponse()
        return response.status, json.loads(response.read())
    finally:
        conn.close()


def test_an_incomplete_authorization_header_names_what_is_missing(secured: Server) -> None:
    auth = f"AWS4-HMAC-SHA256 Credential={KEY_ID}/20260101/us-east-1/dynamodb/aws4_request"
    status, body = _post(secured, {"Authorization": auth})
    assert status == 400
    assert body == {
        "__type": "com.amazon.coral.service#IncompleteSignatureException",
        "message": "Authorization header requires 'Signature' parameter. "
        "Authorization header requires 'SignedHeaders' parameter. "
        "Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header. "
        f"Authorization={auth}",
    }


def _sign(headers: dict[str, str], body: bytes, stamp: str, scope_service: str = "dynamodb") -> str:
    """A SigV4 Authorization header, computed independently of the server's code."""
    names = sorted(headers)
    canonical = "\n".join(
        [
            "POST",
            "/",
            "",
            "".join(f"{n}:{headers[n]}\n" for n in names),
            ";".join(names),
            hashlib.sha256(body).hexdigest(),
        ]
    )
    scope = f"{stamp[:8]}/{REGION}/{scope_service}/aws4_request"
    to_sign = "\n".join(
        ["AWS4-HMAC-SHA256", stamp, scope, hashlib.sha256(canonical.encode()).hexdigest()]
    )
    key = ("AWS4" + SECRET).encode()
    for part in (stamp[:8], REGION, scope_service, "aws4_request"):
        key = hmac.new(key, part.encode(), hashlib.sha256).digest()
    signature = hmac.new(key, to_sign.encode(), hashlib.sha256).hexdigest()
    return (
        f"AWS4-HMAC-SHA256 Credential={KEY_ID}/{scope}, "
        f"SignedHeaders={';'.join(names)}, Signature={signature}"
    )


def _signed_headers(server: Server, stamp: str, body: bytes, **kw: str) -> dict[str, str]:
    headers = {
        "host": f"{server.host}:{server.port}",
        "x-amz-date": stamp,
        "x-amz-target": "DynamoDB_20120810.ListTables",
    }
    return {**headers, "Authorization": _sign(headers, body, stamp, **kw)}


def test_an_independently_computed_signature_is_accepted(secured: Server) -> None:
    stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
    status, body = _post(secured, _signed_headers(secured, stamp, b"{}"))
    assert (status, body) == (200, {"TableNames": []})


def test_a_tampered_body_fails_the_signature(secured: Server) -> None:
    stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
    headers = _signed_headers(secured, stamp, b"{}")
    status, body = _post(secured, headers, b'{"Limit": 1}')
    assert status == 400
    assert body["__type"] == "com.amazon.coral.service#InvalidSignatureException"


def test_a_signature_for_another_service_is_refused(secured: Server) -> None:
    stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
    status, body = _post(secured, _signed_headers(secured, stamp, b"{}", scope_service="s3"))
    assert (status, body["message"]) == (
        400,
        "Credential should be scoped to correct service: 'dynamodb'.",
    )


def test_an_old_signature_has_expired(secured: Server) -> None:
    then = time.time() - 20 * 60
    stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime(then))
    status, body = _post(secured, _signed_headers(secured, stamp, b"{}"))
    assert status == 400
    assert body["__type"] == "com.amazon.coral.service#InvalidSignatureException"
    assert body["message"].startswith(f"Signature expired: {stamp} is now earlier than ")
    assert body["message"].endswith(" - 15 min.)")


def test_verify_checks_the_clock_both_ways() -> None:
    stamp = "20260101T120000Z"
    headers = {"host": "h", "x-amz-date": stamp}
    signed = {**headers, "authorization": _sign(headers, b"", stamp)}
    noon = time.mktime(time.strptime(stamp, "%Y%m%dT%H%M%SZ")) - time.timezone
    creds = {KEY_ID: SECRET}
    assert verify(creds, "POST", "/", signed, b"", noon + 14 * 60) is None
    assert verify(creds, "POST", "/", signed, b"", noon - 14 * 60) is None
    late = verify(creds, "POST", "/", signed, b"", noon + 16 * 60)
    early = verify(creds, "POST", "/", signed, b"", noon - 16 * 60)
    assert late is not None and late[1].startswith("Signature expired: 20260101T120000Z")
    assert early == (
        "InvalidSignatureException",
        "Signature not yet current: 20260101T120000Z is still later than 20260101T115900Z "
        "(20260101T114400Z + 15 min.)",
    )


def test_host_must_be_signed_and_the_date_well_formed(secured: Server) -> None:
    stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
    headers = {"x-amz-date": stamp}
    status, body = _post(secured, {**headers, "Authorization": _sign(headers, b"{}", stamp)})
    assert status == 400
    assert body["message"] == "'Host' must be a 'SignedHeader' in the AWS Authorization."
    bad = _signed_headers(secured, stamp, b"{}")
    bad["x-amz-date"] = "2026-01-01"
    _, body = _post(secured, bad)
    assert body == {
        "__type": "com.amazon.coral.service#IncompleteSignatureException",
        "message": "Date must be in ISO-8601 'basic format'. Got '2026-01-01'. "
        "See http://en.wikipedia.org/wiki/ISO_8601",
    }


def test_a_replayed_signature_with_a_forged_body_is_refused(secured: Server) -> None:
    """A signed PutItem replayed with another body and a header claiming the signed
    body's hash: the server hashes the body it received, so nothing is written."""
    client = _client(secured)
    client.create_table(
        TableName="tbl",
        KeySchema=[{"AttributeName": "PK", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "PK", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    signed_body = json.dumps({"TableName": "tbl", "Item": {"PK": {"S": "genuine"}}}).encode()
    forged_body = json.dumps({"TableName": "tbl", "Item": {"PK": {"S": "forged"}}}).encode()
    stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
    headers = {
        "host": f"{secured.host}:{secured.port}",
        "x-amz-content-sha256": hashlib.sha256(signed_body).hexdigest(),
        "x-amz-date": stamp,
        "x-amz-target": "DynamoDB_20120810.PutItem",
    }
    headers["Authorization"] = _sign(headers, signed_body, stamp)
    status, body = _post(secured, headers, forged_body)
    assert status == 400
    assert body["__type"] == "com.amazon.coral.service#InvalidSignatureException"
    assert client.scan(TableName="tbl")["Items"] == []
    # The genuine request, with the same headers, is served.
    assert _post(secured, headers, signed_body) == (200, {})
    assert client.scan(TableName="tbl")["Items"] == [{"PK": {"S": "genuine"}}]


def test_a_content_hash_header_that_disagrees_with_the_signed_body_is_refused(
    secured: Server,
) -> None:
    """Even when the signature was computed over the body sent, a wrong
    x-amz-content-sha256 header is refused (AWS checks the header against the body)."""
    stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
    headers = {
        "host": f"{secured.host}:{secured.port}",
        "x-amz-content-sha256": hashlib.sha256(b"something else").hexdigest(),
        "x-amz-date": stamp,
        "x-amz-target": "DynamoDB_20120810.ListTables",
    }
    headers["Authorization"] = _sign(headers, b"{}", stamp)
    status, body = _post(secured, headers, b"{}")
    assert (status, body["__type"]) == (400, "com.amazon.coral.service#InvalidSignatureException")
    assert "x-amz-content-sha256" in body["message"]


def _scope(region: str) -> str:
    return f"Credential=AKID/20260101/{region}/dynamodb/aws4_request"


@pytest.mark.parametrize(
    ("header", "region"),
    [
        (f"AWS4-HMAC-SHA256 {_scope('eu-west-1')}, SignedHeaders=host, Signature=ab", "eu-west-1"),
        # repeated: verify() checks the last one, so the region is the last one's
        (
            f"AWS4-HMAC-SHA256 {_scope('us-east-1')},{_scope('eu-west-1')}, Signature=ab",
            "eu-west-1",
        ),
        # a parameter whose name merely ends in Credential is not the credential
        (f"AWS4-HMAC-SHA256 XCredential=A/d/us-east-2/s/t, {_scope('ap-south-1')}", "ap-south-1"),
        ("AWS4-HMAC-SHA256 SignedHeaders=host, Signature=ab", None),
        ("AWS4-HMAC-SHA256 Credential=AKID/20260101/dynamodb", None),
    ],
)
def test_the_region_is_read_from_the_credential_verify_checks(
    header: str, region: str | None
) -> None:
    # Found in review: the first 'Credential=' anywhere in the header picked the region
    # while verify() checked the last Credential parameter.
    assert signing_region(header) == region
