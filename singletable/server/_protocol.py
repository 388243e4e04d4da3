"""DynamoDB's JSON 1.0 protocol over the local engine, independent of any HTTP server.

:class:`Protocol` turns one HTTP request (method, path, headers, body) into one
HTTP response (status, headers, body). The HTTP layer (:mod:`._http`) only reads
requests off sockets and writes responses back.

The checks run in the order DynamoDB applies them, as captured by dynalite
(``mhart/dynalite``, ``index.js``) and dynoxide (``nubo-db/dynoxide``,
``src/server/mod.rs``), both written against the live service:

1. A method other than POST (GET answers a health check) and a POST whose
   body is not ``application/json`` or ``application/x-amz-json-1.0`` get 404
   with the body ``<UnknownOperationException/>``.
2. A body over 16 MB gets 413 (DynamoDB's request size limit).
3. An ``X-Amz-Target`` that is not ``DynamoDB_20120810.<Operation>`` or
   ``DynamoDBStreams_20120810.<Operation>`` (for an operation of that service)
   gets ``com.amazon.coral.service#UnknownOperationException``.
4. Authentication (SigV4, see :mod:`._sigv4`), when the server requires it.
5. An empty or malformed JSON body gets ``com.amazon.coral.service#SerializationException``.
6. Everything else is the engine's: its errors carry the
   ``com.amazonaws.dynamodb.v20120810#`` prefix and DynamoDB's HTTP status.

DynamoDB sends the protocol-level errors of steps 3 and 5 without a message;
here they carry one that says what was wrong (clients read only ``__type``).
Every response has ``x-amzn-RequestId`` and ``x-amz-crc32`` (the CRC32 of the
body, which botocore verifies). The response's content type echoes the
request's (``application/json`` or ``application/x-amz-json-1.0``).

A body sent with ``Content-Encoding: gzip`` (or ``deflate``) is decompressed
first; the 16 MB limit applies to the decompressed body too, so a small
compressed request cannot expand without bound.
"""

from __future__ import annotations

import itertools
import json
import logging
import secrets
import time
import zlib
from collections.abc import Mapping
from dataclasses import dataclass

from singletable.backends.local.engine import LocalEngine
from singletable.server._sigv4 import Credentials, verify

__all__ = ["MAX_BODY_BYTES", "Protocol", "Response"]

log = logging.getLogger("singletable.server")

MAX_BODY_BYTES = 16 * 1024 * 1024
"""DynamoDB's limit on the size of a request (the HTTP body)."""

_AMZ_JSON = "application/x-amz-json-1.0"
_PLAIN_JSON = "application/json"
_CORAL = "com.amazon.coral.service#"
_ENGINE = "com.amazonaws.dynamodb.v20120810#"
_NOT_FOUND_BODY = b"<UnknownOperationException/>\n"
_HEALTH_BODY = b"healthy: dynamodb.us-east-1.amazonaws.com "

_STREAMS_OPERATIONS = frozenset({"ListStreams", "DescribeStream", "GetShardIterator", "GetRecords"})
_TARGET_PREFIXES = {"DynamoDB_20120810": False, "DynamoDBStreams_20120810": True}


@dataclass(slots=True)
class Response:
    """One HTTP response: status, headers (in order) and body."""

    status: int
    headers: list[tuple[str, str]]
    body: bytes


class Protocol:
    """Answers DynamoDB JSON 1.0 requests from a :class:`LocalEngine`.

    Args:
        engine: the engine that runs the operations.
        credentials: access key id -> secret access key. ``None`` (the default)
            accepts any request, signed or not, as DynamoDB Local does; otherwise
            every request must carry a valid SigV4 signature by one of these keys.
    """

    def __init__(self, engine: LocalEngine, credentials: Credentials | None = None) -> None:
        self.engine = engine
        self.credentials = credentials
        self._dynamodb_ops = frozenset(engine.operations - _STREAMS_OPERATIONS)
        self._streams_ops = frozenset(engine.operations & _STREAMS_OPERATIONS)
        self._request_prefix = secrets.token_hex(8).upper()
        self._request_numbers = itertools.count(1)

    def handle(self, method: str, target: str, headers: Mapping[str, str], body: bytes) -> Response:
        """Answer one request.

        Args:
            method: the HTTP method.
            target: the request target (path and query string) as sent.
            headers: the request headers, names in lower case.
            body: the request body as received (still compressed, if it was sent so).
        """
        started = time.perf_counter()
        operation = "-"
        if method != "POST":
            response = self._raw(200 if method == "GET" else 404, method == "GET")
        else:
            operation, response = self._post(target, headers, body)
        if log.isEnabledFor(logging.DEBUG):
            log.debug(
                "%s %s %d %dB %.2fms",
                method,
                operation,
                response.status,
                len(response.body),
                (time.perf_counter() - started) * 1000,
            )
        return response

    def _post(self, target: str, headers: Mapping[str, str], body: bytes) -> tuple[str, Response]:
        content_type = headers.get("content-type", "")
        base_type = content_type.partition(";")[0].strip().lower()
        if base_type not in (_AMZ_JSON, _PLAIN_JSON) and (body or content_type):
            return "-", self._raw(404, False)
        response_type = _AMZ_JSON if base_type == _AMZ_JSON else _PLAIN_JSON
        if len(body) > MAX_BODY_BYTES:
            return "-", self.too_large()
        encoding = headers.get("content-encoding", "").strip().lower()
        if encoding and encoding != "identity":
            decoded = _decompress(body, encoding)
            if decoded is None:
                return "-", self._coral(
                    response_type,
                    "SerializationException",
                    f"The request body could not be decoded as Content-Encoding {encoding!r}",
                )
            if len(decoded) > MAX_BODY_BYTES:
                return "-", self.too_large()
            payload = decoded
        else:
            payload = body
        amz_target = headers.get("x-amz-target", "")
        service, _, operation = amz_target.partition(".")
        streams = _TARGET_PREFIXES.get(service)
        known = self._streams_ops if streams else self._dynamodb_ops
        if streams is None or operation not in known:
            return "-", self._coral(
                response_type,
                "UnknownOperationException",
                f"Unknown operation: {amz_target!r}" if amz_target else "Missing X-Amz-Target",
            )
        if self.credentials is not None:
            failure = verify(self.credentials, "POST", target, headers, body, time.time())
            if failure is not None:
                code, message = failure
                return operation, self._coral(response_type, code, message)
        if not payload:
            return operation, self._coral(
                response_type, "SerializationException", "The request body is empty"
            )
        status, data = self.engine.call_json(operation, payload)
        return operation, self._json(status, response_type, data)

    def too_large(self) -> Response:
        """413 for a body over :data:`MAX_BODY_BYTES`."""
        message = f"Request body exceeds the {MAX_BODY_BYTES}-byte limit"
        return self._json(
            413,
            _PLAIN_JSON,
            json.dumps(
                {"__type": _CORAL + "RequestEntityTooLargeException", "message": message}
            ).encode(),
        )

    def internal_error(self, content_type: str) -> Response:
        """500 ``InternalServerError``, for an unexpected failure while answering (the
        details go to the log, never to the client)."""
        data = json.dumps(
            {"__type": _ENGINE + "InternalServerError", "message": "Internal server error"}
        ).encode()
        amz = content_type.partition(";")[0].strip().lower() == _AMZ_JSON
        return self._json(500, _AMZ_JSON if amz else _PLAIN_JSON, data)

    def bad_request(self, message: str) -> Response:
        """400 for a request the HTTP layer could not read (bad framing or headers)."""
        return self._coral(_PLAIN_JSON, "SerializationException", message)

    def _coral(self, content_type: str, code: str, message: str) -> Response:
        data = json.dumps({"__type": _CORAL + code, "message": message}).encode()
        return self._json(400, content_type, data)

    def _json(self, status: int, content_type: str, data: bytes) -> Response:
        return Response(
            status,
            [
                ("x-amzn-RequestId", self._request_id()),
                ("x-amz-crc32", str(zlib.crc32(data))),
                ("Content-Type", content_type),
                ("Content-Length", str(len(data))),
            ],
            data,
        )

    def _raw(self, status: int, health: bool) -> Response:
        data = _HEALTH_BODY if health else _NOT_FOUND_BODY
        return Response(
            status,
            [
                ("x-amzn-RequestId", self._request_id()),
                ("x-amz-crc32", str(zlib.crc32(data))),
                ("Content-Type", "text/plain" if health else "application/xml"),
                ("Content-Length", str(len(data))),
            ],
            data,
        )

    def _request_id(self) -> str:
        # 52 characters, like DynamoDB's; next() on a count is atomic, so ids are unique
        # across threads without a lock.
        return f"{self._request_prefix}{next(self._request_numbers):036d}"


def _decompress(body: bytes, encoding: str) -> bytes | None:
    """``body`` decoded per ``Content-Encoding``, at most one byte over the limit; None if bad."""
    if encoding in ("gzip", "x-gzip"):
        wbits = 16 + zlib.MAX_WBITS
    elif encoding == "deflate":
        wbits = zlib.MAX_WBITS
    else:
        return None
    decoder = zlib.decompressobj(wbits)
    try:
        data = decoder.decompress(body, MAX_BODY_BYTES + 1)
    except zlib.error:
        return None
    if len(data) <= MAX_BODY_BYTES and not decoder.eof:
        return None  # truncated stream
    return data
