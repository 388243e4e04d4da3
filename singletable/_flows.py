"""Operations as sans-I/O flows: generators that yield requests and receive responses.

Each operation of the modelling layer is written once, here, as a generator that
yields ``(operation, request)`` pairs in DynamoDB's wire shape and is sent each
response; what it returns is the operation's result. :func:`run` drives a flow
on a synchronous backend and :func:`run_async` on an asynchronous one, so the
sync and async APIs share every line of logic (httpx's transport split is the
model). A backend error is thrown into the flow, which may handle it (batch
retries) or let it propagate.

:func:`explain` drives a flow only to its first request and returns it: the
exact request an operation would send, without sending it.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import json
import time
from collections.abc import Generator
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, TypeVar

from singletable.errors import CursorError, SingletableError

if TYPE_CHECKING:
    from singletable.backends.base import AsyncBackend, Backend

__all__ = ["SLEEP", "Call", "Flow", "decode_cursor", "encode_cursor", "explain", "run", "run_async"]

R = TypeVar("R")
Call = tuple[str, dict[str, Any]]
Flow = Generator[Call, dict[str, Any], R]

SLEEP = "singletable.sleep"
"""A pseudo-operation a flow yields to wait (``{"seconds": s}``): the driver sleeps
(``time.sleep`` or ``asyncio.sleep``) and sends back ``{}``; nothing reaches the backend."""


def run(backend: Backend, flow: Flow[R]) -> R:
    """Drive ``flow`` on a synchronous backend; returns its result."""
    try:
        call = next(flow)
        while True:
            if call[0] == SLEEP:
                time.sleep(call[1]["seconds"])
                call = flow.send({})
                continue
            try:
                response = backend.call(*call)
            except SingletableError as error:
                call = flow.throw(error)
            else:
                call = flow.send(response)
    except StopIteration as stop:
        result: R = stop.value
        return result


async def run_async(backend: AsyncBackend, flow: Flow[R]) -> R:
    """Drive ``flow`` on an asynchronous backend; returns its result."""
    try:
        call = next(flow)
        while True:
            if call[0] == SLEEP:
                await asyncio.sleep(call[1]["seconds"])
                call = flow.send({})
                continue
            try:
                response = await backend.call(*call)
            except SingletableError as error:
                call = flow.throw(error)
            else:
                call = flow.send(response)
    except StopIteration as stop:
        result: R = stop.value
        return result


def explain(flow: Flow[Any]) -> Call:
    """The first request ``flow`` would send (nothing is sent)."""
    try:
        call = next(flow)
    except StopIteration:
        raise SingletableError("this operation sends no request") from None
    flow.close()
    return call


def now() -> datetime:
    """The current time, timezone-aware UTC (timestamps of created/updated fields)."""
    return datetime.now(UTC)


# --------------------------------------------------------------------------- cursors


def encode_cursor(key: dict[str, Any], scope: str, secret: bytes) -> str:
    """An opaque, URL-safe cursor for ``key`` (a LastEvaluatedKey) within ``scope``.

    The cursor carries the key and a digest of the query it came from, signed
    with an HMAC so that an edited cursor, or one used with another query, is
    refused by :func:`decode_cursor`.
    """
    payload = json.dumps({"s": _scope_digest(scope), "k": key}, separators=(",", ":"))
    body = base64.urlsafe_b64encode(payload.encode()).rstrip(b"=")
    tag = base64.urlsafe_b64encode(hmac.new(secret, body, hashlib.sha256).digest()[:12])
    return (body + b"." + tag.rstrip(b"=")).decode()


def decode_cursor(cursor: str, scope: str, secret: bytes) -> dict[str, Any]:
    """The key inside ``cursor``.

    Raises:
        CursorError: the cursor is malformed, was edited, or belongs to another query.
    """
    try:
        body, tag = cursor.encode("ascii").split(b".")
        expected = base64.urlsafe_b64encode(hmac.new(secret, body, hashlib.sha256).digest()[:12])
        if not hmac.compare_digest(expected.rstrip(b"="), tag):
            raise CursorError("the cursor was altered (its signature does not match)")
        payload = json.loads(base64.urlsafe_b64decode(body + b"=" * (-len(body) % 4)))
    except CursorError:
        raise
    except (ValueError, UnicodeError) as error:
        raise CursorError(f"malformed cursor: {error}") from None
    if payload.get("s") != _scope_digest(scope):
        raise CursorError(f"the cursor belongs to another query, not {scope.split('|')[0]}")
    key: dict[str, Any] = payload["k"]
    return key


def _scope_digest(scope: str) -> str:
    return hashlib.sha256(scope.encode()).hexdigest()[:16]
