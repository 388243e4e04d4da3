"""DynamoDB's JSON 1.0 protocol over the local engine, independent of any HTTP server.

:class:`Protocol` turns one HTTP request (method, path, headers, body) into one
HTTP response (status, headers, body). The HTTP layer (:mod:`._http`) only reads
requests off sockets and writes responses back.

The checks run in the order DynamoDB applies them, as captured by dynalite
(``mhart/dynalite``, ``index.js``) and dynoxide (``nubo-db/dynoxide``,
``src/server/mod.rs``), both written against the live service:

1. A path other than ``/`` (for any method), a method other than POST, GET
   and (for an allowed CORS origin) OPTIONS, and a POST whose body is not
   ``application/json`` or ``application/x-amz-json-1.0`` get 404 with the
   body ``<UnknownOperationException/>``. ``GET /`` answers the health check,
   ``healthy: <the request's Host> ``.
2. A body over 16 MB gets 413 (DynamoDB's request size limit).
3. An ``X-Amz-Target`` that is not ``DynamoDB_20120810.<Operation>`` or
   ``DynamoDBStreams_20120810.<Operation>`` (for an operation of that service)
   gets ``com.amazon.coral.service#UnknownOperationException``.
4. Authentication (SigV4, see :mod:`._sigv4`), when the server requires it; the
   signature covers the body as sent (still compressed).
5. ``Content-Encoding: gzip`` is decoded; a body that does not decode, or
   another coding, gets DynamoDB's 500 ``InternalServerError`` (see
   :mod:`._encoding`); past 16 MB decoded, 413.
6. An empty body, one that is not UTF-8, JSON nested too deep (see
   :mod:`._payload`) or malformed JSON gets
   ``com.amazon.coral.service#SerializationException``.
7. Everything else is the engine's: its errors carry the
   ``com.amazonaws.dynamodb.v20120810#`` prefix and DynamoDB's HTTP status.

DynamoDB sends the protocol-level errors of steps 3 and 6 without a message;
here they carry one that says what was wrong (clients read only ``__type``).
Every response has ``x-amzn-RequestId`` and ``x-amz-crc32`` (the CRC32 of the
body as sent, which botocore verifies). The response's content type echoes the
request's (``application/json`` or ``application/x-amz-json-1.0``). A response
of 4 KB or more is compressed when the request's ``Accept-Encoding`` allows
(:mod:`._encoding`), and a request from an allowed CORS origin gets the
``Access-Control-*`` headers (none are allowed unless configured).
"""

from __future__ import annotations

import itertools
import json
import logging
import secrets
import time
import zlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from urllib.parse import urlsplit

from singletable.backends.local.engine import LocalEngine
from singletable.server._encoding import (
    COMPRESSION_THRESHOLD,
    Undecodable,
    choose_encoding,
    compress,
    decode_gzip,
)
from singletable.server._payload import BadPayload, decode_payload
from singletable.server._sigv4 import Credentials, authenticate, signing_region

__all__ = ["MAX_BODY_BYTES", "Protocol", "Response"]

log = logging.getLogger("singletable.server")

MAX_BODY_BYTES = 16 * 1024 * 1024
"""DynamoDB's limit on the size of a request (the HTTP body)."""

_AMZ_JSON = "application/x-amz-json-1.0"
_PLAIN_JSON = "application/json"
_CORAL = "com.amazon.coral.service#"
_ENGINE = "com.amazonaws.dynamodb.v20120810#"
_NOT_FOUND_BODY = b"<UnknownOperationException/>\n"
_DEFAULT_HOST = "dynamodb.us-east-1.amazonaws.com"
# What a page's script may read of a response (CORS hides other headers).
_EXPOSED = "x-amzn-RequestId, x-amz-crc32, Date"

_UNKNOWN = object()
_REMEMBERED = 64
_SHORT = 256
_CODINGS: dict[str, object] = {}  # Accept-Encoding value -> its chosen coding (or None)

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
        cors_origins: the origins (``https://app.example``) whose pages may call the
            endpoint from a browser, or ``*`` for any; none by default.
    """

    def __init__(
        self,
        engine: LocalEngine,
        credentials: Credentials | None = None,
        cors_origins: Iterable[str] = (),
    ) -> None:
        self.engine = engine
        self.credentials = credentials
        self.cors_origins = frozenset(cors_origins)
        # X-Amz-Target -> operation, for every operation of each service.
        self._targets = {
            f"{prefix}.{operation}": operation
            for prefix, streams in _TARGET_PREFIXES.items()
            for operation in engine.operations
            if (operation in _STREAMS_OPERATIONS) == streams
        }
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
        origin = headers.get("origin") if self.cors_origins else None
        allowed = origin is not None and _origin_allowed(origin, self.cors_origins)
        if target != "/" and _path(target) != "/":
            response = self._raw(404, _NOT_FOUND_BODY, "application/xml")
        elif method == "POST":
            operation, response = self._post(target, headers, body)
        elif method == "GET":
            host = headers.get("host") or _DEFAULT_HOST
            response = self._raw(200, f"healthy: {host} ".encode("latin-1"), "text/plain")
        elif method == "OPTIONS" and allowed:
            response = self._preflight(headers)
        else:
            response = self._raw(404, _NOT_FOUND_BODY, "application/xml")
        if allowed:
            assert origin is not None
            _add_cors(response, origin, self.cors_origins)
        if len(response.body) >= COMPRESSION_THRESHOLD and "accept-encoding" in headers:
            accept = headers["accept-encoding"]
            coding = _CODINGS.get(accept, _UNKNOWN)
            if coding is _UNKNOWN:  # a client sends the same value with each request
                coding = choose_encoding(accept)
                if len(accept) <= _SHORT:  # remembered only short (bounded memory)
                    if len(_CODINGS) >= _REMEMBERED:
                        _CODINGS.clear()
                    _CODINGS[accept] = coding
            if coding is not None:
                self._compress(response, coding)  # type: ignore[arg-type]
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
        base_type = (
            content_type  # what the SDKs send
            if content_type == _AMZ_JSON
            else content_type.partition(";")[0].strip().lower()
        )
        if base_type not in (_AMZ_JSON, _PLAIN_JSON) and (body or content_type):
            return "-", self._raw(404, _NOT_FOUND_BODY, "application/xml")
        response_type = _AMZ_JSON if base_type == _AMZ_JSON else _PLAIN_JSON
        if len(body) > MAX_BODY_BYTES:
            return "-", self.too_large()
        amz_target = headers.get("x-amz-target", "")
        operation = self._targets.get(amz_target)
        if operation is None:
            return "-", self._coral(
                response_type,
                "UnknownOperationException",
                f"Unknown operation: {amz_target!r}" if amz_target else "Missing X-Amz-Target",
            )
        authorization = headers.get("authorization")
        if self.credentials is not None:  # the signature covers the body as sent
            failure, region = authenticate(
                self.credentials, "POST", target, headers, body, time.time()
            )
            if failure is not None:
                code, message = failure
                return operation, self._coral(response_type, code, message)
        else:
            # The region the request was signed for (its tables; see ._sigv4.signing_region).
            region = None if authorization is None else signing_region(authorization)
        encoding = headers.get("content-encoding")
        if encoding is not None:
            encoding = encoding.strip().lower()
        payload = body
        if encoding and encoding != "identity":
            try:
                if encoding != "gzip":
                    raise Undecodable(f"unsupported Content-Encoding {encoding!r}")
                decoded = decode_gzip(body, MAX_BODY_BYTES)
            except Undecodable as error:
                # DynamoDB answers 500 InternalServerError here (see ._encoding).
                message = f"The request body could not be decoded: {error}"
                return operation, self.internal_error(content_type, message)
            if decoded is None:
                return operation, self.too_large()
            payload = decoded
        if not payload:
            return operation, self._coral(
                response_type, "SerializationException", "The request body is empty"
            )
        try:
            text = decode_payload(payload)
        except BadPayload as error:
            return operation, self._coral(response_type, "SerializationException", str(error))
        status, data = self.engine.call_json(operation, text, region=region)
        number = str(next(self._request_numbers))  # (_request_id, inlined)
        return operation, Response(
            status,
            [
                ("x-amzn-RequestId", self._request_prefix + number.zfill(36)),
                ("x-amz-crc32", str(zlib.crc32(data))),
                ("Content-Type", response_type),
                ("Content-Length", str(len(data))),
            ],
            data,
        )

    def _preflight(self, headers: Mapping[str, str]) -> Response:
        """200 to a CORS preflight from an allowed origin: the method and headers it
        asks for are allowed, for two days (the values DynamoDB answers with)."""
        response = Response(200, [("x-amzn-RequestId", self._request_id())], b"")
        response.headers.append(("Content-Length", "0"))
        requested = headers.get("access-control-request-method")
        if requested:
            response.headers.append(("Access-Control-Allow-Methods", requested))
        requested = headers.get("access-control-request-headers")
        if requested:
            response.headers.append(("Access-Control-Allow-Headers", requested))
        response.headers.append(("Access-Control-Max-Age", "172800"))
        return response

    def _compress(self, response: Response, coding: str) -> None:
        """Compress the body in place; the CRC and length become the compressed body's."""
        data = compress(response.body, coding)
        response.body = data
        headers = []
        for name, value in response.headers:
            if name == "x-amz-crc32":
                value = str(zlib.crc32(data))
            elif name == "Content-Length":
                value = str(len(data))
            headers.append((name, value))
        headers.append(("Content-Encoding", coding))
        response.headers = headers

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

    def internal_error(self, content_type: str, message: str = "Internal server error") -> Response:
        """500 ``InternalServerError``: for an unexpected failure while answering (the
        details go to the log, never to the client), and for a body that cannot be
        decoded per its ``Content-Encoding`` (DynamoDB's answer to it)."""
        data = json.dumps({"__type": _ENGINE + "InternalServerError", "message": message}).encode()
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

    def _raw(self, status: int, data: bytes, content_type: str) -> Response:
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

    def _request_id(self) -> str:
        # 52 characters, like DynamoDB's; next() on a count is atomic, so ids are unique
        # across threads without a lock.
        return self._request_prefix + str(next(self._request_numbers)).zfill(36)


def _path(target: str) -> str:
    """The path of a request target (origin form, or absolute form from a proxy)."""
    if "://" in target:
        return urlsplit(target).path or "/"
    return target.partition("?")[0]


def _origin_allowed(origin: str, allowed: frozenset[str]) -> bool:
    return "*" in allowed or origin in allowed


def _add_cors(response: Response, origin: str, allowed: frozenset[str]) -> None:
    """The headers that let a page from ``origin`` read the response."""
    if "*" in allowed:
        response.headers.append(("Access-Control-Allow-Origin", "*"))
    else:
        response.headers.append(("Access-Control-Allow-Origin", origin))
        response.headers.append(("Vary", "Origin"))
    response.headers.append(("Access-Control-Expose-Headers", _EXPOSED))
