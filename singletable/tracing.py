"""Tracing the DynamoDB calls the modelling layer makes: a callback, or OpenTelemetry spans.

Pass a callable as ``on_call`` and it receives a :class:`CallTrace` after every
request the :class:`~singletable.db.DB` (or :class:`~singletable.db.AsyncDB`) sends:
the operation, the tables and index, the access pattern or collection that sent it,
the capacity DynamoDB says it consumed, the latency, and how many times it was a
retry::

    def log(call: CallTrace) -> None:
        print(call.operation, call.table, call.pattern, call.capacity_units, call.latency)

    db = DB(backend, on_call=log)
    db = DB(backend, on_call=opentelemetry())   # spans; pip install 'singletable[otel]'

Tracing is a wrapper around the backend (:class:`TracingBackend`), the one place
every request passes; without ``on_call`` nothing is wrapped and nothing is
measured, so tracing off costs nothing.

What a trace holds:

- ``consumed_capacity``: what DynamoDB returned as ``ConsumedCapacity``. A traced
  request that does not set ``ReturnConsumedCapacity`` itself is sent with
  ``TOTAL`` (free: DynamoDB only adds the member to the response).
- ``retries``: for BatchGetItem and BatchWriteItem, how many times in a row this
  request re-sends what the previous response left unprocessed (the modelling
  layer's backoff retries); 0 for a first attempt and for other operations.
  Retries botocore makes inside one call (throttling, network errors) are inside
  that call's ``latency``.
- ``pattern``: the name of the access pattern (``Order.by_status``) or collection
  a query ran for; None for the other calls.

:func:`opentelemetry` turns each trace into an OpenTelemetry span named
``DynamoDB.<Operation>`` (kind CLIENT) with the attributes of OpenTelemetry's
semantic conventions for DynamoDB (``db.system.name``, ``rpc.method``,
``aws.dynamodb.table_names``, ``aws.dynamodb.index_name``,
``aws.dynamodb.consumed_capacity``) plus ``singletable.pattern`` and
``singletable.retries``, as a child of the span current when the call was made.
Only ``opentelemetry-api`` is needed (the optional extra ``otel``); without an
SDK configured the API's spans are no-ops.

A callback that raises does not fail the call: the error is logged (logger
``singletable.tracing``) and the response returned as if nothing happened.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable
from contextvars import ContextVar
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from singletable.backends.base import AsyncBackend, Backend

__all__ = ["AsyncTracingBackend", "CallTrace", "OnCall", "TracingBackend", "opentelemetry"]

_log = logging.getLogger("singletable.tracing")

# Operations that take ReturnConsumedCapacity (API Reference, each action's request).
_CAPACITY_OPERATIONS = frozenset(
    {
        "BatchExecuteStatement",
        "BatchGetItem",
        "BatchWriteItem",
        "DeleteItem",
        "ExecuteStatement",
        "ExecuteTransaction",
        "GetItem",
        "PutItem",
        "Query",
        "Scan",
        "TransactGetItems",
        "TransactWriteItems",
        "UpdateItem",
    }
)
_UNPROCESSED = {"BatchGetItem": "UnprocessedKeys", "BatchWriteItem": "UnprocessedItems"}

# What the last batch call in this thread or task left unprocessed: (operation, the
# work left, the retries it had). A context variable, so threads and asyncio tasks
# sharing one backend each follow their own retries.
_leftover: ContextVar[tuple[str, Any, int] | None] = ContextVar(
    "singletable_tracing_leftover", default=None
)


@dataclass(frozen=True, slots=True)
class CallTrace:
    """One request the modelling layer sent, and how it went."""

    operation: str
    """The DynamoDB operation (``Query``, ``PutItem``, ...)."""
    tables: tuple[str, ...]
    """The tables it names (several for a batch or transaction; none for PartiQL)."""
    index: str | None
    """The index it reads (``IndexName``), if any."""
    pattern: str | None
    """The access pattern (``Order.by_status``) or collection it ran for, if any."""
    consumed_capacity: tuple[dict[str, Any], ...]
    """DynamoDB's ``ConsumedCapacity``: one entry per table (empty on an error)."""
    started: float
    """When it was sent, in seconds since the epoch (``time.time()``)."""
    latency: float
    """Seconds from sending it to the response (or error)."""
    retries: int
    """How many times in a row it re-sends a batch's unprocessed work (0: first try)."""
    error: str | None
    """The error code if it failed (``ConditionalCheckFailedException``, ...)."""

    @property
    def table(self) -> str | None:
        """The table, or the first of several."""
        return self.tables[0] if self.tables else None

    @property
    def capacity_units(self) -> float | None:
        """The capacity units it consumed in all (None if DynamoDB did not say)."""
        units = [c["CapacityUnits"] for c in self.consumed_capacity if "CapacityUnits" in c]
        return float(sum(units)) if units else None


OnCall = Callable[[CallTrace], None]
"""A tracing callback: receives a :class:`CallTrace` after each call."""


class _Tracer:
    """What the sync and async wrappers share: preparing a request, making the trace."""

    def __init__(self, on_call: OnCall, pattern: str | None) -> None:
        self.on_call = on_call
        self.pattern = pattern

    def prepare(self, operation: str, request: dict[str, Any]) -> tuple[dict[str, Any], int]:
        """The request to send (asking for capacity) and its retry count."""
        if operation in _CAPACITY_OPERATIONS and "ReturnConsumedCapacity" not in request:
            request = {**request, "ReturnConsumedCapacity": "TOTAL"}
        retries = 0
        if operation in _UNPROCESSED:
            last = _leftover.get()
            work = _work(operation, request.get("RequestItems"))
            if last is not None and last[0] == operation and work == last[1]:
                retries = last[2] + 1
        return request, retries

    def report(
        self,
        operation: str,
        request: dict[str, Any],
        response: dict[str, Any] | None,
        error: BaseException | None,
        started: float,
        latency: float,
        retries: int,
    ) -> None:
        consumed: Any = () if response is None else response.get("ConsumedCapacity", ())
        if operation in _UNPROCESSED:
            left = None if response is None else response.get(_UNPROCESSED[operation])
            _leftover.set((operation, _work(operation, left), retries) if left else None)
        trace = CallTrace(
            operation=operation,
            tables=_tables(request),
            index=request.get("IndexName"),
            pattern=self.pattern,
            consumed_capacity=(consumed,) if isinstance(consumed, dict) else tuple(consumed),
            started=started,
            latency=latency,
            retries=retries,
            error=None if error is None else str(getattr(error, "code", type(error).__name__)),
        )
        try:
            self.on_call(trace)
        except Exception:
            _log.exception("the tracing callback %r failed on %s", self.on_call, operation)


class TracingBackend:
    """A :class:`~singletable.backends.base.Backend` that reports every call to ``on_call``.

    ``DB(backend, on_call=...)`` makes one; make one yourself to trace other code
    that calls a backend. Attributes other than ``call`` and ``close`` are the
    wrapped backend's (``traced.engine`` of a local backend).
    """

    def __init__(self, backend: Backend, on_call: OnCall, *, pattern: str | None = None) -> None:
        self.inner = backend
        """The backend the calls go to."""
        self._tracer = _Tracer(on_call, pattern)

    def call(self, operation: str, request: dict[str, Any]) -> dict[str, Any]:
        """Run ``operation`` on the wrapped backend, then report it."""
        sent, retries = self._tracer.prepare(operation, request)
        started, clock = time.time(), time.perf_counter()
        try:
            response = self.inner.call(operation, sent)
        except Exception as error:
            latency = time.perf_counter() - clock
            self._tracer.report(operation, sent, None, error, started, latency, retries)
            raise
        latency = time.perf_counter() - clock
        self._tracer.report(operation, sent, response, None, started, latency, retries)
        return response

    def close(self) -> None:
        """Close the wrapped backend."""
        self.inner.close()

    def labelled(self, pattern: str) -> TracingBackend:
        """This backend, its traces naming ``pattern`` (an access pattern or collection)."""
        return TracingBackend(self.inner, self._tracer.on_call, pattern=pattern)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)

    def __repr__(self) -> str:
        return f"TracingBackend({self.inner!r})"


class AsyncTracingBackend:
    """:class:`TracingBackend` for an :class:`~singletable.backends.base.AsyncBackend`
    (the callback itself is a plain function, called after each awaited call)."""

    def __init__(
        self, backend: AsyncBackend, on_call: OnCall, *, pattern: str | None = None
    ) -> None:
        self.inner = backend
        """The backend the calls go to."""
        self._tracer = _Tracer(on_call, pattern)

    async def call(self, operation: str, request: dict[str, Any]) -> dict[str, Any]:
        """Run ``operation`` on the wrapped backend, then report it."""
        sent, retries = self._tracer.prepare(operation, request)
        started, clock = time.time(), time.perf_counter()
        try:
            response = await self.inner.call(operation, sent)
        except Exception as error:
            latency = time.perf_counter() - clock
            self._tracer.report(operation, sent, None, error, started, latency, retries)
            raise
        latency = time.perf_counter() - clock
        self._tracer.report(operation, sent, response, None, started, latency, retries)
        return response

    async def close(self) -> None:
        """Close the wrapped backend."""
        await self.inner.close()

    def labelled(self, pattern: str) -> AsyncTracingBackend:
        """This backend, its traces naming ``pattern``."""
        return AsyncTracingBackend(self.inner, self._tracer.on_call, pattern=pattern)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)

    def __repr__(self) -> str:
        return f"AsyncTracingBackend({self.inner!r})"


def _tables(request: dict[str, Any]) -> tuple[str, ...]:
    name = request.get("TableName")
    if isinstance(name, str):
        return (name,)
    items = request.get("RequestItems")
    if isinstance(items, dict):  # BatchGetItem, BatchWriteItem
        return tuple(items)
    names: dict[str, None] = {}
    for action in request.get("TransactItems", ()):  # TransactWriteItems, TransactGetItems
        for body in action.values() if isinstance(action, dict) else ():
            if isinstance(body, dict) and isinstance(body.get("TableName"), str):
                names[body["TableName"]] = None
    return tuple(names)


def _work(operation: str, items: Any) -> Any:
    """A batch's work per table, comparable between a request and an Unprocessed
    member: BatchGetItem's keys, BatchWriteItem's write requests."""
    if not isinstance(items, dict):
        return None
    if operation == "BatchGetItem":
        return {table: body.get("Keys") for table, body in items.items() if isinstance(body, dict)}
    return items


def opentelemetry(tracer: Any = None) -> OnCall:
    """A callback that records each call as an OpenTelemetry span.

    Args:
        tracer: an ``opentelemetry.trace.Tracer`` (default: the global provider's
            tracer named ``singletable``).

    Raises:
        ImportError: ``opentelemetry-api`` is not installed (``pip install
            'singletable[otel]'``).
    """
    try:
        import opentelemetry.trace as trace  # type: ignore[import-not-found, import-untyped, unused-ignore]
    except ImportError:
        raise ImportError(
            "tracing with OpenTelemetry needs opentelemetry-api: pip install 'singletable[otel]'"
        ) from None
    chosen = tracer if tracer is not None else trace.get_tracer("singletable")

    def record(call: CallTrace) -> None:
        attributes: dict[str, Any] = {
            "db.system.name": "aws.dynamodb",
            "db.system": "dynamodb",
            "db.operation.name": call.operation,
            "rpc.system": "aws-api",
            "rpc.service": "DynamoDB",
            "rpc.method": call.operation,
            "singletable.retries": call.retries,
        }
        if call.tables:
            attributes["aws.dynamodb.table_names"] = list(call.tables)
        if call.index is not None:
            attributes["aws.dynamodb.index_name"] = call.index
        if call.pattern is not None:
            attributes["singletable.pattern"] = call.pattern
        if call.consumed_capacity:
            attributes["aws.dynamodb.consumed_capacity"] = [
                json.dumps(entry, sort_keys=True) for entry in call.consumed_capacity
            ]
        if call.error is not None:
            attributes["error.type"] = call.error
        start = int(call.started * 1e9)
        span = chosen.start_span(
            f"DynamoDB.{call.operation}",
            kind=trace.SpanKind.CLIENT,
            attributes=attributes,
            start_time=start,
        )
        if call.error is not None:
            span.set_status(trace.Status(trace.StatusCode.ERROR, call.error))
        span.end(end_time=start + int(call.latency * 1e9))

    return record
