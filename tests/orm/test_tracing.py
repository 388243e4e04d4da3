"""Tracing the modelling layer's DynamoDB calls (singletable.tracing): a plain callback,
and OpenTelemetry spans when opentelemetry is installed."""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest

from singletable.backends.engine import LocalBackend
from singletable.backends.local.engine import LocalEngine
from singletable.db import DB, AsyncDB
from singletable.entity import Entity, Keys
from singletable.errors import ConditionFailedError, TableNotFoundError
from singletable.patterns import Collection, Query
from singletable.table import GlobalIndex, Table
from singletable.tracing import AsyncTracingBackend, CallTrace, TracingBackend, opentelemetry
from singletable.updates import Update

app = Table("traced", indexes=[GlobalIndex("GSI1", pk="GSI1PK", sk="GSI1SK")])
T0 = datetime(2026, 1, 2, tzinfo=UTC)


class Customer(Entity, table=app):
    customer_id: str
    name: str

    keys = Keys(pk="CUSTOMER#{customer_id}", sk="PROFILE")


class Order(Entity, table=app):
    customer_id: str
    order_id: str
    status: str
    total: Decimal

    keys = Keys(pk="CUSTOMER#{customer_id}", sk="ORDER#{order_id}",
                GSI1=("STATUS#{status}", "{order_id}"))  # fmt: skip
    for_customer = Query()
    by_status = Query(index="GSI1", sort="begins_with")


page = Collection(Customer, Order, name="customer_page")


def _order(n: int, status: str = "new") -> Order:
    return Order(customer_id="c1", order_id=f"o{n:03}", status=status, total=Decimal(n))


@pytest.fixture
def traced() -> tuple[DB, list[CallTrace], LocalEngine]:
    calls: list[CallTrace] = []
    engine = LocalEngine()
    db = DB(LocalBackend(engine), on_call=calls.append)
    db.create_table(app)
    calls.clear()
    return db, calls, engine


def test_without_a_callback_nothing_is_wrapped() -> None:
    backend = LocalBackend()
    db = DB(backend)
    assert db.backend is backend  # tracing off: the requests go straight to the backend
    assert db._for("Order.for_customer") is db


def test_every_call_is_traced_with_its_table_index_pattern_and_capacity(
    traced: tuple[DB, list[CallTrace], LocalEngine],
) -> None:
    db, calls, _ = traced
    db.put(Customer(customer_id="c1", name="Ann"))
    for n in range(3):
        db.put(_order(n))
    db.get(Customer, customer_id="c1")
    assert len(db.query(Order.for_customer, customer_id="c1").all()) == 3
    assert len(db.query(Order.by_status, status="new").all()) == 3
    assert len(db.collection(page, customer_id="c1")[Order]) == 3
    db.update(Order, Update().set(Order.status, "paid"), customer_id="c1", order_id="o001")
    db.write_many([_order(10), _order(11)], [])
    db.get_many(Order, [{"customer_id": "c1", "order_id": "o010"}])
    with db.transaction() as tx:
        tx.put(_order(20))

    assert [c.operation for c in calls] == [
        "PutItem", "PutItem", "PutItem", "PutItem", "GetItem", "Query", "Query", "Query",
        "UpdateItem", "BatchWriteItem", "BatchGetItem", "TransactWriteItems",
    ]  # fmt: skip
    assert all(c.tables == ("traced",) and c.table == "traced" for c in calls)
    assert [c.pattern for c in calls if c.operation == "Query"] == [
        "Order.for_customer", "Order.by_status", "customer_page",
    ]  # fmt: skip
    assert all(c.pattern is None for c in calls if c.operation != "Query")
    assert [c.index for c in calls if c.operation == "Query"] == [None, "GSI1", None]
    # Capacity is asked for (ReturnConsumedCapacity=TOTAL) and reported as DynamoDB says.
    assert calls[0].consumed_capacity == ({"TableName": "traced", "CapacityUnits": 1.0},)
    assert calls[1].capacity_units == 2.0  # an item with GSI keys: the table and the index
    assert calls[4].capacity_units == 0.5  # an eventually consistent read of 1 KB or less
    assert all(c.capacity_units and c.capacity_units > 0 for c in calls)
    assert all(c.latency > 0 and c.retries == 0 and c.error is None for c in calls)
    assert all(abs(c.started - calls[0].started) < 60 for c in calls)


def test_a_failed_call_is_traced_with_its_error_code(
    traced: tuple[DB, list[CallTrace], LocalEngine],
) -> None:
    db, calls, _ = traced
    db.put(Customer(customer_id="c1", name="Ann"))
    with pytest.raises(ConditionFailedError):
        db.put(Customer(customer_id="c1", name="Bob"), mode="create")
    assert calls[-1].operation == "PutItem"
    assert calls[-1].error == "ConditionalCheckFailedException"
    assert calls[-1].consumed_capacity == () and calls[-1].capacity_units is None


def test_batch_retries_of_unprocessed_work_are_counted(
    traced: tuple[DB, list[CallTrace], LocalEngine],
) -> None:
    db, calls, engine = traced
    # The first two BatchWriteItem calls each hand 10 writes back unprocessed.
    engine.faults.inject(operation="BatchWriteItem", unprocessed=10, times=2)
    db.write_many([_order(n) for n in range(25)], [])
    writes = [c for c in calls if c.operation == "BatchWriteItem"]
    assert [c.retries for c in writes] == [0, 1, 2]
    db.write_many([_order(n) for n in range(30, 35)], [])  # a new batch starts at 0
    assert calls[-1].retries == 0
    engine.faults.inject(operation="BatchGetItem", unprocessed=1, times=1)
    keys = [{"customer_id": "c1", "order_id": f"o{n:03}"} for n in range(3)]
    assert all(found is not None for found in db.get_many(Order, keys))
    assert [c.retries for c in calls if c.operation == "BatchGetItem"] == [0, 1]


def test_a_failing_callback_does_not_fail_the_call(caplog: pytest.LogCaptureFixture) -> None:
    def broken(call: CallTrace) -> None:
        raise RuntimeError("exporter down")

    db = DB(on_call=broken)
    with caplog.at_level(logging.ERROR, logger="singletable.tracing"):
        db.create_table(app)
        db.put(Customer(customer_id="c1", name="Ann"))
    assert db.require(Customer, customer_id="c1").name == "Ann"
    assert "exporter down" in caplog.text and "PutItem" in caplog.text


def test_the_wrapper_keeps_the_backend_reachable() -> None:
    engine = LocalEngine()
    traced = TracingBackend(LocalBackend(engine), lambda call: None)
    assert traced.engine is engine  # attributes of the wrapped backend
    request: dict[str, Any] = {"TableName": "nothing"}
    with pytest.raises(TableNotFoundError):
        traced.call("DescribeTable", request)
    request = {"TableName": "nothing", "Key": {"PK": {"S": "a"}}}
    with pytest.raises(TableNotFoundError):
        traced.call("GetItem", request)
    assert request == {"TableName": "nothing", "Key": {"PK": {"S": "a"}}}  # the caller's request is not changed


class _AsyncLocal:
    """The local engine behind the async backend protocol."""

    def __init__(self) -> None:
        self.inner = LocalBackend()

    async def call(self, operation: str, request: dict[str, Any]) -> dict[str, Any]:
        return self.inner.call(operation, request)

    async def close(self) -> None:
        self.inner.close()


def test_the_async_db_traces_the_same_way() -> None:
    calls: list[CallTrace] = []

    async def scenario() -> None:
        async with AsyncDB(_AsyncLocal(), on_call=calls.append) as db:
            assert isinstance(db.backend, AsyncTracingBackend)
            await db.create_table(app)
            await db.put(_order(1))
            assert len(await db.query(Order.by_status, status="new").all()) == 1
            await db.collection(page, customer_id="c1")

    asyncio.run(scenario())
    assert [c.operation for c in calls] == ["CreateTable", "PutItem", "Query", "Query"]
    assert [c.pattern for c in calls] == [None, None, "Order.by_status", "customer_page"]
    assert calls[2].index == "GSI1" and calls[1].capacity_units == 2.0


def test_opentelemetry_spans() -> None:
    pytest.importorskip("opentelemetry.sdk")
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SimpleSpanProcessor
    from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
    from opentelemetry.trace import SpanKind, StatusCode

    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    tracer = provider.get_tracer("test")
    db = DB(on_call=opentelemetry(tracer))
    with tracer.start_as_current_span("request"):
        db.create_table(app)
        db.put(_order(1))
        db.query(Order.by_status, status="new").all()
        with pytest.raises(ConditionFailedError):
            db.put(_order(1), mode="create")
    spans = {span.name: span for span in exporter.get_finished_spans()}
    parent = spans["request"]
    query = spans["DynamoDB.Query"]
    assert query.kind == SpanKind.CLIENT
    assert query.parent is not None and query.parent.span_id == parent.context.span_id
    attributes = dict(query.attributes or {})
    assert attributes["db.system.name"] == "aws.dynamodb"
    assert attributes["rpc.method"] == "Query"
    assert list(attributes["aws.dynamodb.table_names"]) == ["traced"]
    assert attributes["aws.dynamodb.index_name"] == "GSI1"
    assert attributes["singletable.pattern"] == "Order.by_status"
    assert '"CapacityUnits"' in attributes["aws.dynamodb.consumed_capacity"][0]
    assert query.end_time is not None and query.start_time is not None
    assert query.end_time > query.start_time
    failed = [s for s in exporter.get_finished_spans() if s.status.status_code == StatusCode.ERROR]
    assert [s.attributes["error.type"] for s in failed if s.attributes] == [
        "ConditionalCheckFailedException"
    ]


def test_opentelemetry_missing_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    import sys

    monkeypatch.setitem(sys.modules, "opentelemetry", None)  # as if not installed
    with pytest.raises(ImportError, match=r"singletable\[otel\]"):
        opentelemetry()
