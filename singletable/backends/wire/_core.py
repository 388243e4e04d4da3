"""The sans-I/O core of the wire backends: requests out, responses in, retries decided.

Nothing here touches a socket or sleeps. :meth:`Core.exchange` is a generator that
runs one DynamoDB call: it yields the signed :class:`HttpRequest` of each attempt
and receives what came back (an :class:`HttpResponse`, or a :class:`TransportFailure`
when no response did), yields a :class:`Sleep` between attempts, and returns the
wire-shaped response or raises the :mod:`singletable.errors` class for the final
failure. The sync and async backends (:mod:`._sync`, :mod:`._async`) are small
loops that drive it with their HTTP clients.

The protocol is DynamoDB's JSON 1.0: ``POST`` to the endpoint, the operation in
``X-Amz-Target: DynamoDB_20120810.<Operation>``, the request as the JSON body, the
response as the JSON body. The modelling layer's wire shape *is* that JSON (binary
as base64 text, numbers as strings), so a request is ``json.dumps`` and a response
``json.loads``, with nothing converted in between.

What the SDKs do around it, done the same way here:

- operations: only DynamoDB's own names are sent; any other is refused before
  sending, with the code and words the other backends use
  (``UnknownOperationException``);
- binary: a ``B``/``BS`` value that is not base64 text is refused before sending,
  as the boto3 backend refuses it (``SerializationException``). The request is only
  walked for it when its JSON text holds a binary value at all;
- ``TransactWriteItems`` without ``ClientRequestToken`` gets one (a UUID), as
  botocore adds it (the API's idempotency token): every retry of the call sends the
  same body, so DynamoDB applies a retried transaction at most once
  (API Reference, TransactWriteItems, "ClientRequestToken");
- the ``x-amz-crc32`` header DynamoDB puts on every response is checked against
  the body; a mismatch is retried like a throttle, as botocore does for DynamoDB;
- retries: DynamoDB's SDK policy, up to 10 attempts (botocore's ``_retry.json``
  for DynamoDB) on throttling codes, ``TransactionInProgressException``, HTTP 429
  and 5xx, connection failures and timeouts, and checksum mismatches, sleeping
  "up to 50 milliseconds before the first retry, up to 100 milliseconds before the
  second, up to 200 milliseconds before the third, and so on" (Developer Guide,
  "Error retries and exponential backoff"): a random delay below 50 ms times 2^n,
  capped at 20 s (full jitter);
- errors: DynamoDB's error body (``{"__type": "...#Code", "message": ...}``) is read
  as botocore reads it (the code after ``#`` and before ``:``; the status code when
  the body has none; ``message`` or ``Message``), and the members botocore's model
  gives each error (``Item``, ``CancellationReasons``, ``ThrottlingReasons``) become
  ``details``, so the error is the very one the boto3 backend raises. Failures
  that are not DynamoDB's own keep botocore's exception names and messages
  (``EndpointConnectionError``, ``ReadTimeoutError``, ``ChecksumError``, ...).
"""

from __future__ import annotations

import base64
import binascii
import http.client
import json
import os
import random
import time
import zlib
from collections.abc import Callable, Generator, Mapping
from dataclasses import dataclass
from typing import Any

from singletable._encoded import EncodedItem, EncodedRequest
from singletable.backends.wire._credentials import CredentialSource
from singletable.backends.wire._endpoint import Endpoint
from singletable.backends.wire._signing import Signer, amz_date
from singletable.errors import DynamoDBServiceError, from_dynamodb

__all__ = [
    "OPERATIONS",
    "Core",
    "HttpRequest",
    "HttpResponse",
    "Options",
    "Sleep",
    "TransportFailure",
]

_TARGET = "DynamoDB_20120810."
_CONTENT_TYPE = "application/x-amz-json-1.0"

# The request body as json.dumps writes it (the same bytes as botocore's body), minus
# the cycle check: the C encoder then keeps no table of the containers it is inside,
# a quarter of its time on a 25-item BatchWriteItem (every attribute value is a dict
# of its own). A cyclic request recurses to Python's limit and is refused then.
_to_json = json.JSONEncoder(check_circular=False).encode

OPERATIONS = frozenset(
    {
        "BatchExecuteStatement", "BatchGetItem", "BatchWriteItem", "CreateBackup",
        "CreateGlobalTable", "CreateTable", "DeleteBackup", "DeleteItem",
        "DeleteResourcePolicy", "DeleteTable", "DescribeBackup", "DescribeContinuousBackups",
        "DescribeContributorInsights", "DescribeEndpoints", "DescribeExport",
        "DescribeGlobalTable", "DescribeGlobalTableSettings", "DescribeImport",
        "DescribeKinesisStreamingDestination", "DescribeLimits", "DescribeTable",
        "DescribeTableReplicaAutoScaling", "DescribeTimeToLive",
        "DisableKinesisStreamingDestination", "EnableKinesisStreamingDestination",
        "ExecuteStatement", "ExecuteTransaction", "ExportTableToPointInTime", "GetItem",
        "GetResourcePolicy", "ImportTable", "ListBackups", "ListContributorInsights",
        "ListExports", "ListGlobalTables", "ListImports", "ListTables", "ListTagsOfResource",
        "PutItem", "PutResourcePolicy", "Query", "RestoreTableFromBackup",
        "RestoreTableToPointInTime", "Scan", "TagResource", "TransactGetItems",
        "TransactWriteItems", "UntagResource", "UpdateContinuousBackups",
        "UpdateContributorInsights", "UpdateGlobalTable", "UpdateGlobalTableSettings",
        "UpdateItem", "UpdateKinesisStreamingDestination", "UpdateTable",
        "UpdateTableReplicaAutoScaling", "UpdateTimeToLive",
    }
)  # fmt: skip
"""DynamoDB's operations (API version 2012-08-10; the operations of botocore's model)."""

# Retried error codes: botocore's throttling codes (legacy and standard modes) and
# the DynamoDB-specific ones of its _retry.json.
_RETRY_CODES = frozenset(
    {
        "ProvisionedThroughputExceededException",
        "ThrottlingException",
        "Throttling",
        "ThrottledException",
        "RequestThrottledException",
        "RequestLimitExceeded",
        "TransactionInProgressException",
        "ReplicatedWriteConflictException",
    }
)
_RETRY_STATUS = frozenset({429, 500, 502, 503, 504, 509})

# The members of each error shape in botocore's DynamoDB model besides its message:
# botocore puts them in the parsed error, so the boto3 backend's details have them.
_ERROR_MEMBERS: dict[str, tuple[str, ...]] = {
    "ConditionalCheckFailedException": ("Item",),
    "TransactionCanceledException": ("CancellationReasons",),
    "ProvisionedThroughputExceededException": ("ThrottlingReasons",),
    "RequestLimitExceeded": ("ThrottlingReasons",),
    "ThrottlingException": ("throttlingReasons",),
}
_REASON_MEMBERS = ("Item", "Code", "Message")  # CancellationReason's members

# botocore's exception names and messages for failures without a DynamoDB response.
_TRANSPORT_MESSAGES = {
    "EndpointConnectionError": 'Could not connect to the endpoint URL: "{url}"',
    "ConnectTimeoutError": 'Connect timeout on endpoint URL: "{url}"',
    "ReadTimeoutError": 'Read timeout on endpoint URL: "{url}"',
    "ConnectionClosedError": (
        'Connection was closed before we received a valid response from endpoint URL: "{url}".'
    ),
    "SSLError": "SSL validation failed for {url} {detail}",
}


@dataclass(frozen=True, slots=True)
class Options:
    """How a wire backend connects and retries (every value has botocore's default).

    Args:
        max_attempts: attempts per call, the first included (1: no retries).
        retry_base: the first retry waits up to this many seconds; each further one
            up to twice as long as the one before.
        retry_cap: no wait is longer than this.
        connect_timeout: seconds to open a connection.
        read_timeout: seconds to wait for each read of a response.
        max_connections: connections kept open for reuse (the sync backend opens
            more when more threads call at once, and closes those after use; the
            async backend makes extra tasks wait for one).
        user_agent_extra: appended to the ``User-Agent`` header.
    """

    max_attempts: int = 10
    retry_base: float = 0.05
    retry_cap: float = 20.0
    connect_timeout: float = 60.0
    read_timeout: float = 60.0
    max_connections: int = 10
    user_agent_extra: str = ""

    def __post_init__(self) -> None:
        if self.max_attempts < 1:
            raise ValueError("max_attempts must be at least 1")
        if min(self.connect_timeout, self.read_timeout) <= 0 or self.max_connections < 1:
            raise ValueError("timeouts and max_connections must be positive")


@dataclass(frozen=True, slots=True)
class HttpRequest:
    """One attempt to send: ``POST`` ``path`` with these headers and body."""

    path: str
    headers: dict[str, str]
    body: bytes
    method: str = "POST"


@dataclass(frozen=True, slots=True)
class HttpResponse:
    """What came back: the status, the headers (looked up by lower-case name; the
    HTTP clients' header maps ignore case), and the body as received."""

    status: int
    headers: Mapping[str, str]
    body: bytes


@dataclass(frozen=True, slots=True)
class TransportFailure:
    """No response came: ``kind`` is botocore's name for the failure
    (``EndpointConnectionError``, ``ConnectTimeoutError``, ``ReadTimeoutError``,
    ``ConnectionClosedError``, ``SSLError``); ``detail`` the HTTP client's words."""

    kind: str
    detail: str = ""


@dataclass(frozen=True, slots=True)
class Sleep:
    """Wait this many seconds before the next attempt."""

    seconds: float


Step = HttpRequest | Sleep
Reply = HttpResponse | TransportFailure | None
Exchange = Generator[Step, Reply, dict[str, Any]]


class Core:
    """Everything of a wire backend but the I/O, shared by the sync and async backends.

    Args:
        endpoint: where requests go.
        region: the region requests are signed for.
        credentials: the keys each request is signed with.
        options: timeouts, retries and pool size.
        user_agent: the ``User-Agent`` header.
        clock: the time (epoch seconds) requests are signed at.
        jitter: a random number in [0, 1) for each retry's wait.
    """

    def __init__(
        self,
        endpoint: Endpoint,
        region: str,
        credentials: CredentialSource,
        options: Options,
        user_agent: str,
        *,
        clock: Callable[[], float] = time.time,
        jitter: Callable[[], float] = random.random,
    ) -> None:
        self.endpoint = endpoint
        self.region = region
        self.credentials = credentials
        self.options = options
        self.user_agent = user_agent
        self._signer = Signer(region)
        self._clock = clock
        self._jitter = jitter
        self._stamp: tuple[int, str] = (0, "")

    # -- one call ----------------------------------------------------------------------------

    def exchange(self, operation: str, request: dict[str, Any]) -> Exchange:
        """Run one call: yields each attempt's request (and the waits between attempts),
        is sent each attempt's reply, returns the response or raises the final error."""
        body = self.encode(operation, request)
        invocation = uuid4_text()
        attempt = 1
        while True:
            reply = yield self.prepare(operation, body, attempt, invocation)
            if reply is None:  # pragma: no cover - a driver that sends nothing back
                raise TypeError("the exchange expects a reply to each request")
            outcome = self.interpret(operation, reply)
            if not isinstance(outcome, _Failure):
                return outcome
            if not outcome.retryable or attempt >= self.options.max_attempts:
                raise outcome.error
            yield Sleep(self.backoff(attempt))
            attempt += 1

    def encode(self, operation: str, request: dict[str, Any]) -> bytes:
        """The body of ``request``, checked as botocore checks it before sending.

        Raises:
            singletable.errors.RequestError: an unknown operation, binary that is not
                base64 text, or a value JSON cannot carry.
        """
        if operation not in OPERATIONS:
            raise from_dynamodb(
                "UnknownOperationException", f"Unknown operation: {operation}", operation=operation
            )
        if operation == "TransactWriteItems" and "ClientRequestToken" not in request:
            request = {**request, "ClientRequestToken": uuid4_text()}
        try:
            if type(request) is EncodedRequest:
                text = _batch_write_text(request)
            else:
                text = _to_json(request)
        except (TypeError, ValueError, RecursionError) as error:
            # (botocore refuses such a value before sending: ParamValidationError)
            if isinstance(error, RecursionError):  # the encoder does not look for cycles
                error = ValueError("the request nests too deeply to encode (a circular reference?)")
            raise from_dynamodb(
                "ValidationException", f"Parameter validation failed:\n{error}", operation=operation
            ) from None
        if '{"B": "' in text or '{"BS": [' in text:
            _check_binary(request, operation)
        return text.encode()

    def prepare(self, operation: str, body: bytes, attempt: int, invocation: str) -> HttpRequest:
        """The signed request of one attempt (signed anew each time: the time moves on,
        and expiring credentials may have been renewed)."""
        keys = self.credentials.keys()
        stamp = self._amz_date()
        endpoint = self.endpoint
        signed = [
            ("content-type", _CONTENT_TYPE),
            ("host", endpoint.host_header),
            ("x-amz-date", stamp),
        ]
        if keys.token is not None:
            signed.append(("x-amz-security-token", keys.token))
        signed.append(("x-amz-target", _TARGET + operation))
        headers = dict(signed)
        headers["authorization"] = self._signer.authorization(
            signed, body, stamp, keys.access_key, keys.secret_key
        )
        headers["user-agent"] = self.user_agent
        headers["accept-encoding"] = "identity"
        headers["amz-sdk-invocation-id"] = invocation
        headers["amz-sdk-request"] = f"attempt={attempt}; max={self.options.max_attempts}"
        return HttpRequest(endpoint.path, headers, body)

    def _amz_date(self) -> str:
        now = int(self._clock())
        second, stamp = self._stamp
        if second != now:
            stamp = amz_date(now)
            self._stamp = (now, stamp)
        return stamp

    def interpret(
        self, operation: str, reply: HttpResponse | TransportFailure
    ) -> dict[str, Any] | _Failure:
        """The response of a successful attempt, else a failure saying whether to retry."""
        if isinstance(reply, TransportFailure):
            message = _TRANSPORT_MESSAGES.get(reply.kind, "{detail}").format(
                url=self.endpoint.url, detail=reply.detail
            )
            return _Failure(from_dynamodb(reply.kind, message, operation=operation), True)
        body = reply.body
        expected = reply.headers.get("x-amz-crc32")
        if expected is not None:
            actual = zlib.crc32(body)
            if not expected.isdigit() or int(expected) != actual:
                return _Failure(
                    from_dynamodb(
                        "ChecksumError",
                        f"Checksum crc32 failed, expected checksum {expected} did not match "
                        f"calculated checksum {actual}.",
                        operation=operation,
                    ),
                    True,
                )
        if reply.status < 300:
            try:
                parsed = json.loads(body) if body else {}
            except ValueError:
                parsed = None
            if not isinstance(parsed, dict):
                return _Failure(
                    from_dynamodb(
                        "ResponseParserError",
                        f"Unable to parse response ({body[:200]!r}), invalid JSON received",
                        operation=operation,
                    ),
                    False,
                )
            return parsed
        error = error_from_body(reply.status, body, operation)
        retryable = error.code in _RETRY_CODES or reply.status in _RETRY_STATUS
        return _Failure(error, retryable)

    def backoff(self, attempt: int) -> float:
        """The wait after failed attempt ``attempt`` (1, 2, ...): full jitter."""
        ceiling = min(self.options.retry_cap, self.options.retry_base * 2.0 ** (attempt - 1))
        return self._jitter() * ceiling


@dataclass(frozen=True, slots=True)
class _Failure:
    error: DynamoDBServiceError
    retryable: bool


def uuid4_text() -> str:
    """A random (version 4) UUID as text, as ``str(uuid.uuid4())`` gives it, in a third
    of the time (no :class:`uuid.UUID` object): the invocation id of every call and
    the ``ClientRequestToken`` of a transaction."""
    h = os.urandom(16).hex()
    # the version nibble is 4; the variant's two top bits are 10 (RFC 4122, 4.4)
    return f"{h[:8]}-{h[8:12]}-4{h[13:16]}-{'89ab'[int(h[16], 16) & 3]}{h[17:20]}-{h[20:]}"


def error_from_body(status: int, body: bytes, operation: str) -> DynamoDBServiceError:
    """The :mod:`singletable.errors` exception for a DynamoDB error response, read as
    botocore reads it (so that its code, message and details are the boto3 backend's)."""
    stripped = body.strip()
    if status >= 500 and (not stripped or stripped.startswith(b"<html>")):
        # a proxy's or load balancer's page, not DynamoDB's: botocore names it by status
        return from_dynamodb(
            str(status), http.client.responses.get(status, ""), operation=operation
        )
    text = body.decode("utf-8", "replace")
    try:
        parsed = json.loads(text) if text else {}
    except ValueError:
        parsed = {"message": text}
    if not isinstance(parsed, dict):
        parsed = {}
    message = parsed.get("message", parsed.get("Message", ""))
    code = str(parsed.get("__type", str(status)))
    code = code.split(":", 1)[0]
    code = code.rsplit("#", 1)[-1]
    details: dict[str, Any] = {}
    for member in _ERROR_MEMBERS.get(code, ()):
        value = parsed.get(member)
        if value is None:
            continue
        if member == "CancellationReasons" and isinstance(value, list):
            value = [
                {name: reason[name] for name in _REASON_MEMBERS if reason.get(name) is not None}
                if isinstance(reason, dict)
                else reason
                for reason in value
            ]
        details[member] = value
    return from_dynamodb(code, str(message), operation=operation, details=details)


def _batch_write_text(request: EncodedRequest) -> str:
    """The JSON text of a BatchWriteItem request whose put items may be JSON text
    already (:mod:`singletable._encoded`): what ``_to_json`` gives for the same
    request with each item as its dict."""
    tables = []
    for table, writes in request["RequestItems"].items():
        texts = []
        for write in writes:
            put = write.get("PutRequest")
            item = put.get("Item") if type(put) is dict else None
            if type(item) is EncodedItem and len(write) == 1 and len(put) == 1:
                texts.append('{"PutRequest": {"Item": ' + item + "}}")
            else:
                texts.append(_to_json(write))
        tables.append(_to_json(table) + ": [" + ", ".join(texts) + "]")
    return '{"RequestItems": {' + ", ".join(tables) + "}}"


def _check_binary(value: Any, operation: str) -> None:
    """Refuse a binary value (``{"B": text}``, ``{"BS": [text, ...]}``) that is not
    base64, as the boto3 backend does (it decodes them; DynamoDB's words)."""
    if isinstance(value, dict):
        if len(value) == 1:
            binary = value.get("B")
            if isinstance(binary, str):
                _b64check(binary, operation)
                return
            binaries = value.get("BS")
            if isinstance(binaries, list) and all(isinstance(b, str) for b in binaries):
                for each in binaries:
                    _b64check(each, operation)
                return
        for member in value.values():
            if isinstance(member, dict | list):
                _check_binary(member, operation)
    elif isinstance(value, list):
        for member in value:
            if isinstance(member, dict | list):
                _check_binary(member, operation)


def _b64check(text: str, operation: str) -> None:
    try:
        base64.b64decode(text, validate=True)  # (what the boto3 backend decodes with)
    except (binascii.Error, ValueError):
        raise from_dynamodb(
            "SerializationException",
            "Base64 encoded binary value is not valid",
            operation=operation,
        ) from None
