"""The modelling layer's behaviour suite: put modes, versions, timestamps, get/delete,
updates, queries by pattern (every sort operation), filters, pagination cursors,
collections, batches, transactions, explain, and the async shell running the same
flows. Tests taking ``db`` run on every backend of tests/orm/conftest.py (the
embedded engine in memory and durable, boto3 on moto, boto3 over HTTP to
``singletable serve``, aioboto3)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Annotated, Any

import pytest

from singletable.backends.base import Backend
from singletable.backends.engine import LocalBackend
from singletable.conditions import attribute
from singletable.db import DB, AsyncDB
from singletable.entity import CreatedAt, Entity, Keys, UpdatedAt, Version
from singletable.errors import (
    ConditionFailedError,
    CursorError,
    InvalidValueError,
    ItemNotFoundError,
    TableNotFoundError,
)
from singletable.patterns import Collection, Query
from singletable.table import GlobalIndex, Table
from singletable.updates import Update

T0 = datetime(2026, 1, 1, tzinfo=UTC)

app = Table("shop", indexes=[GlobalIndex("GSI1", pk="GSI1PK", sk="GSI1SK")])


class Customer(Entity, table=app):
    customer_id: str
    name: str
    version: Annotated[int, Version] = 0
    created: Annotated[datetime | None, CreatedAt] = None
    updated: Annotated[datetime | None, UpdatedAt] = None

    keys = Keys(pk="CUSTOMER#{customer_id}", sk="PROFILE")


class Order(Entity, table=app):
    customer_id: str
    order_id: str
    created_at: datetime
    status: str
    total: Decimal

    keys = Keys(
        pk="CUSTOMER#{customer_id}",
        sk="ORDER#{created_at}#{order_id}",
        GSI1=("STATUS#{status}", "{created_at}#{order_id}"),
    )
    for_customer = Query()
    newest = Query(reverse=True)
    exactly = Query(sort="eq")
    since = Query(sort="gte")
    after_time = Query(sort="gt")
    before = Query(sort="lt")
    until = Query(sort="lte")
    during = Query(sort="between")
    by_status = Query(index="GSI1", sort="between")


class Address(Entity, table=app):
    customer_id: str
    label: str
    city: str

    keys = Keys(pk="CUSTOMER#{customer_id}", sk="ADDRESS#{label}")


customer_page = Collection(Customer, Order, Address, name="customer_page")


@pytest.fixture
def db(backend: Backend) -> Iterator[DB]:
    """The modelling layer on every backend (local, durable, moto, HTTP, aioboto3)."""
    database = DB(backend)
    database.create_table(app)
    yield database


def _orders(db: DB, count: int = 6, customer: str = "c1") -> list[Order]:
    orders = [
        Order(
            customer_id=customer,
            order_id=f"o{n}",
            created_at=T0 + timedelta(days=n),
            status="shipped" if n % 2 else "pending",
            total=Decimal(n),
        )
        for n in range(count)
    ]
    for order in orders:
        db.put(order)
    return orders


def test_put_modes_versions_and_timestamps(db: DB) -> None:
    alice = db.put(Customer(customer_id="c1", name="Alice"), mode="create")
    assert alice.version == 1 and alice.created is not None and alice.updated == alice.created
    with pytest.raises(ConditionFailedError) as caught:
        db.put(Customer(customer_id="c1", name="Again"), mode="create")
    assert "Customer (customer_id='c1'): already exists" in str(caught.value)
    renamed = db.put(alice.model_copy(update={"name": "Alicia"}))
    assert renamed.version == 2 and renamed.created == alice.created
    with pytest.raises(ConditionFailedError, match="optimistic locking"):
        db.put(alice.model_copy(update={"name": "stale"}))  # still version 1
    assert db.require(Customer, customer_id="c1").name == "Alicia"
    with pytest.raises(ConditionFailedError, match="does not exist"):
        db.put(Customer(customer_id="c9", name="x", version=3), mode="replace")


def test_get_require_and_delete(db: DB) -> None:
    order = _orders(db, 1)[0]
    key = {"customer_id": "c1", "created_at": order.created_at, "order_id": "o0"}
    assert db.get(Order, **key) == order
    assert db.get(Order, consistent=True, **key) == order
    assert db.delete(Order, **key) == order
    assert db.get(Order, **key) is None
    assert db.delete(Order, **key) is None
    with pytest.raises(ItemNotFoundError, match="no Order with customer_id='c1'"):
        db.require(Order, **key)
    with pytest.raises(ConditionFailedError):
        db.delete(Order, must_exist=True, **key)
    with pytest.raises(
        InvalidValueError, match=r"Order \(get\): key field 'order_id' has no value"
    ):
        db.get(Order, customer_id="c1", created_at=T0)


def test_every_sort_operation_selects_the_right_orders(db: DB) -> None:
    orders = _orders(db)
    db.put(Customer(customer_id="c1", name="A"))  # same partition, other type
    db.put(Address(customer_id="c1", label="home", city="Oslo"))
    days = [o.created_at for o in orders]

    def ids(query: Any) -> list[str]:
        return [o.order_id for o in query.all()]

    assert ids(db.query(Order.for_customer, customer_id="c1")) == [f"o{n}" for n in range(6)]
    assert ids(db.query(Order.newest, customer_id="c1")) == [f"o{n}" for n in reversed(range(6))]
    assert ids(db.query(Order.exactly, customer_id="c1", created_at=days[2], order_id="o2")) == [
        "o2"
    ]
    assert ids(db.query(Order.since, customer_id="c1", created_at=days[4])) == ["o4", "o5"]
    assert ids(db.query(Order.after_time, customer_id="c1", created_at=days[4])) == ["o5"]
    assert ids(db.query(Order.before, customer_id="c1", created_at=days[1])) == ["o0"]
    assert ids(db.query(Order.until, customer_id="c1", created_at=days[1])) == ["o0", "o1"]
    assert ids(db.query(Order.during, customer_id="c1", created_at=(days[1], days[3]))) == [
        "o1",
        "o2",
        "o3",
    ]
    assert ids(db.query(Order.by_status, status="shipped", created_at=(days[0], days[3]))) == [
        "o1",
        "o3",
    ]
    assert db.query(Order.for_customer, customer_id="c1").count() == 6
    assert db.query(Order.for_customer, customer_id="nobody").first() is None
    assert (
        db.query(Order.exactly, customer_id="c1", created_at=days[5], order_id="o5").one()
        == orders[5]
    )
    with pytest.raises(ItemNotFoundError, match="found more than one Order"):
        db.query(Order.for_customer, customer_id="c1").one()


def test_pattern_arguments_are_checked(db: DB) -> None:
    with pytest.raises(InvalidValueError, match=r"Order.for_customer needs customer_id"):
        db.query(Order.for_customer)
    with pytest.raises(
        InvalidValueError, match=r"unknown keyword .colour.; it takes the key fields customer_id"
    ):
        db.query(Order.for_customer, customer_id="c1", colour="red")
    with pytest.raises(InvalidValueError, match="sort fields must be given in the order"):
        db.query(Order.for_customer, customer_id="c1", order_id="o1")
    with pytest.raises(InvalidValueError, match=r"give created_at=\(low, high\)"):
        db.query(Order.during, customer_id="c1", created_at=T0)


def test_pages_cursors_limits_and_iteration(db: DB) -> None:
    _orders(db, 7)
    query = db.query(Order.for_customer, customer_id="c1").page_size(3)
    first = query.page()
    assert [o.order_id for o in first.items] == ["o0", "o1", "o2"] and first.cursor
    second = query.after(first.cursor).page()
    assert [o.order_id for o in second.items] == ["o3", "o4", "o5"]
    third = query.after(second.cursor).page()
    assert [o.order_id for o in third.items] == ["o6"]
    assert third.cursor is None or query.after(third.cursor).page().items == []
    assert [o.order_id for o in query] == [f"o{n}" for n in range(7)]
    assert [o.order_id for o in query.limit(4)] == ["o0", "o1", "o2", "o3"]
    assert len(query.limit(5).all()) == 5
    # Cursors are URL-safe, refused when edited or used on another query.
    assert all(c.isalnum() or c in "-_." for c in first.cursor)
    body, tag = first.cursor.split(".")
    with pytest.raises(CursorError, match="altered"):
        query.after(body[:-2] + ("AA" if body[-2:] != "AA" else "BB") + "." + tag).page()
    with pytest.raises(CursorError, match="another query"):
        db.query(Order.for_customer, customer_id="c2").after(first.cursor).page()
    with pytest.raises(CursorError, match="malformed"):
        query.after("not a cursor").page()
    with pytest.raises(InvalidValueError, match="page_size must be a positive int"):
        query.page_size(0)
    with pytest.raises(InvalidValueError, match="limit must be a positive int, not True"):
        query.limit(True)  # a bool is not a count (scans refuse it too)


def test_a_collection_splits_a_partition_by_type(db: DB) -> None:
    orders = _orders(db, 3)
    alice = db.put(Customer(customer_id="c1", name="Alice"))
    home = db.put(Address(customer_id="c1", label="home", city="Oslo"))
    db.backend.call(  # an item of a type the collection does not know
        "PutItem",
        {
            "TableName": "shop",
            "Item": {"PK": {"S": "CUSTOMER#c1"}, "SK": {"S": "X"}, "_type": {"S": "Legacy"}},
        },
    )
    db.backend.call(  # written by other code, without a type name: its key shape decides
        "PutItem",
        {
            "TableName": "shop",
            "Item": {
                "PK": {"S": "CUSTOMER#c1"},
                "SK": {"S": "ADDRESS#work"},
                "customer_id": {"S": "c1"},
                "label": {"S": "work"},
                "city": {"S": "Bergen"},
            },
        },
    )
    page = db.collection(customer_page, customer_id="c1")
    assert page[Customer] == [alice]
    assert page[Order] == orders
    assert page[Address] == [home, Address(customer_id="c1", label="work", city="Bergen")]
    assert [item["_type"] for item in page.unknown] == [{"S": "Legacy"}]


def test_explain_shows_the_request_without_sending_it(db: DB) -> None:
    operation, request = db.explain.query(Order.since, customer_id="c1", created_at=T0)
    assert operation == "Query"
    assert request["KeyConditionExpression"] == "#pk = :pk AND #sk BETWEEN :sk0 AND :sk1"
    assert request["ExpressionAttributeValues"][":sk0"] == {
        "S": "ORDER#2026-01-01T00:00:00.000000Z#"
    }
    assert db.query(Order.for_customer, customer_id="c1").count() == 0  # nothing was written
    operation, request = db.explain.put(Customer(customer_id="c1", name="A"), mode="create")
    assert operation == "PutItem"
    assert request["ConditionExpression"] == "attribute_not_exists(#c0)"
    assert request["ExpressionAttributeNames"] == {"#c0": "PK"}
    assert db.get(Customer, customer_id="c1") is None
    assert db.explain.create_table(app)[1] == app.create_table_request()
    key = {"customer_id": "c1", "created_at": T0, "order_id": "o1"}
    assert db.explain.get_many(Order, [key])[1]["RequestItems"]["shop"]["Keys"] == [
        Order.key(**key)
    ]
    assert db.explain.write_many(deletes=[(Order, key)])[0] == "BatchWriteItem"
    assert db.explain.scan(Customer)[1]["ExpressionAttributeValues"] == {":type": {"S": "Customer"}}
    assert db.explain.get_together([(Order, key)])[0] == "TransactGetItems"
    deleting = db.explain.delete(Order, condition=Order.status == "new", **key)[1]
    assert deleting["ConditionExpression"] == "#c0 = :c0"


def test_a_missing_table_is_table_not_found() -> None:
    with DB() as db, pytest.raises(TableNotFoundError) as caught:
        db.get(Customer, customer_id="c1")
    assert caught.value.code == "ResourceNotFoundException"
    assert caught.value.operation == "GetItem"


def test_the_async_shell_runs_the_same_flows(aio_backend: Any) -> None:
    """AsyncDB over the real aioboto3 backend (against ``singletable serve``)."""

    async def scenario() -> None:
        db = AsyncDB(aio_backend.backend)
        assert await db.create_table(app)
        assert not await db.create_table(app, exist_ok=True)
        await db.put(Customer(customer_id="c1", name="Alice"), mode="create")
        for n in range(5):
            await db.put(
                Order(customer_id="c1", order_id=f"o{n}", created_at=T0, status="new", total=n)
            )
        query = db.query(Order.for_customer, customer_id="c1").page_size(2)
        assert [o.order_id async for o in query] == [f"o{n}" for n in range(5)]
        assert len(await query.all()) == 5 and await query.count() == 5
        assert (await db.require(Customer, customer_id="c1")).version == 1
        page = await db.collection(customer_page, customer_id="c1")
        assert len(page[Order]) == 5 and page[Customer][0].name == "Alice"
        assert await db.delete(Customer, customer_id="c1") is not None
        async with db.transaction() as tx:
            tx.put(Customer(customer_id="c2", name="Bo"), mode="create")
            tx.update(
                Order,
                Update().set(Order.status, "paid"),
                customer_id="c1",
                created_at=T0,
                order_id="o1",
            )
        assert (await db.require(Customer, customer_id="c2")).version == 1
        found = await db.get_many(
            Order, [{"customer_id": "c1", "created_at": T0, "order_id": "o1"}]
        )
        assert found[0] is not None and found[0].status == "paid"

    aio_backend.run(scenario())


class _Stingy:
    """A backend that leaves part of every batch unprocessed the first two times."""

    def __init__(self, inner: LocalBackend) -> None:
        self.inner = inner
        self.refusals = 2
        self.calls: list[str] = []

    def call(self, operation: str, request: dict[str, Any]) -> dict[str, Any]:
        self.calls.append(operation)
        if operation == "BatchWriteItem" and self.refusals:
            self.refusals -= 1
            flat = [(t, w) for t, writes in request["RequestItems"].items() for w in writes]
            done: dict[str, list[Any]] = {}
            left: dict[str, list[Any]] = {}
            for n, (table, write) in enumerate(flat):
                (done if n < 2 else left).setdefault(table, []).append(write)
            assert not self.inner.call(operation, {"RequestItems": done}).get("UnprocessedItems")
            return {"UnprocessedItems": left}
        if operation == "BatchGetItem" and self.refusals:
            self.refusals -= 1
            ((table, spec),) = request["RequestItems"].items()
            half = self.inner.call(
                operation, {"RequestItems": {table: {**spec, "Keys": spec["Keys"][:2]}}}
            )
            return {**half, "UnprocessedKeys": {table: {**spec, "Keys": spec["Keys"][2:]}}}
        return self.inner.call(operation, request)

    def close(self) -> None:
        self.inner.close()


def test_batches_chunk_and_retry_unprocessed_work() -> None:
    backend = _Stingy(LocalBackend())
    with DB(backend) as db:
        db.create_table(app)
        orders = [
            Order(customer_id="c1", order_id=f"o{n:03}", created_at=T0, status="s", total=n)
            for n in range(60)
        ]
        assert db.write_many(puts=orders) == 60
        assert backend.calls.count("BatchWriteItem") == 5  # 3 chunks + 2 retries
        assert db.query(Order.for_customer, customer_id="c1").count() == 60
        keys = [
            {"customer_id": "c1", "created_at": T0, "order_id": f"o{n:03}"} for n in (5, 999, 7, 5)
        ]
        backend.refusals = 1
        found = db.get_many(Order, keys)
        assert [o.order_id if o else None for o in found] == ["o005", None, "o007", "o005"]
        deletes = [
            (Order, {"customer_id": "c1", "created_at": T0, "order_id": f"o{n:03}"})
            for n in range(30)
        ]
        assert db.write_many(deletes=deletes) == 30
        assert len(db.scan(Order).all()) == 30
        db.put(Customer(customer_id="c1", name="A"))
        assert [c.name for c in db.scan(Customer, page_size=7)] == ["A"]
        # One batch spans tables: the chunk's RequestItems name each.
        other = Table("other")

        class Elsewhere(Entity, table=other):
            x: str
            keys = Keys(pk="X#{x}", sk="X")

        db.create_table(other)
        backend.calls.clear()
        backend.refusals = 1
        gone = (Order, {"customer_id": "c1", "created_at": T0, "order_id": "o059"})
        assert db.write_many(puts=[Elsewhere(x="1"), Elsewhere(x="2")], deletes=[gone]) == 3
        assert backend.calls.count("BatchWriteItem") == 2  # one chunk, one retry
        assert sorted(e.x for e in db.scan(Elsewhere)) == ["1", "2"]
        assert db.get(Order, **gone[1]) is None


def test_a_transaction_is_all_or_nothing_and_names_what_failed(db: DB) -> None:
    from singletable.errors import TransactionCanceledError

    alice = db.put(Customer(customer_id="c1", name="Alice"))
    order = Order(customer_id="c1", order_id="o1", created_at=T0, status="new", total=5)
    with db.transaction() as tx:
        tx.put(order, mode="create")
        tx.put(alice.model_copy(update={"name": "Alice B."}))  # version 1 -> 2
        tx.check(Address, attribute("PK").not_exists(), customer_id="c1", label="home")
    assert [type(r).__name__ if r else None for r in tx.results] == ["Order", "Customer", None]
    assert tx.results[1].version == 2
    with pytest.raises(TransactionCanceledError) as caught, db.transaction() as tx:
        tx.put(order, mode="create")  # exists already
        tx.delete(Address, customer_id="c1", label="home")
        tx.put(alice)  # stale version 1
    message = str(caught.value)
    assert "put Order (customer_id='c1', created_at=" in message
    assert "ConditionalCheckFailed" in message and "put Customer (customer_id='c1')" in message
    assert [r["Code"] for r in caught.value.reasons] == [
        "ConditionalCheckFailed",
        "None",
        "ConditionalCheckFailed",
    ]
    assert db.require(Customer, customer_id="c1").name == "Alice B."  # nothing applied
    with pytest.raises(RuntimeError), db.transaction() as tx:  # the block raised: nothing sent
        tx.delete(Customer, customer_id="c1")
        raise RuntimeError("changed my mind")
    assert db.get(Customer, customer_id="c1") is not None
    got = db.get_together(
        [(Customer, {"customer_id": "c1"}), (Address, {"customer_id": "c1", "label": "x"})]
    )
    assert got[0].name == "Alice B." and got[1] is None
    with (
        pytest.raises(
            InvalidValueError, match=r"delete Customer \(customer_id='c1'\) and put Customer"
        ),
        db.transaction() as tx,
    ):
        tx.delete(Customer, customer_id="c1")
        tx.put(alice)
    tx2 = db.transaction(token="t-1")
    tx2.delete(Customer, customer_id="c1")
    assert tx2.explain()[1]["ClientRequestToken"] == "t-1"


def test_conditions_updates_and_filters_use_the_dsl(db: DB) -> None:
    orders = _orders(db, 4)
    first = orders[0]
    key = {"customer_id": "c1", "created_at": first.created_at, "order_id": "o0"}
    with pytest.raises(ConditionFailedError, match="the condition did not hold") as caught:
        db.put(first, condition=Order.total > 100)
    assert caught.value.item is not None  # the stored item came back
    db.put(first.model_copy(update={"total": Decimal(7)}), condition=Order.total < 100)
    shipped = db.update(Order, Update().set(Order.status, "shipped"), **key)
    assert shipped.status == "shipped" and shipped.total == 7
    # The GSI key was rewritten from the new status: the order moved in the index.
    found = db.query(Order.by_status, status="shipped", created_at=(T0, T0)).all()
    assert [o.order_id for o in found] == ["o0"]
    with pytest.raises(InvalidValueError, match=r"Order \(update\): key field 'created_at' has no"):
        db.update(Order, Update().set(Order.status, "x"), customer_id="c1")  # partial key
    with pytest.raises(InvalidValueError, match="cannot change order_id, part of the table key"):
        db.update(Order, Update().set(Order.order_id, "o9"), **key)
    with pytest.raises(ConditionFailedError, match="does not exist"):
        db.update(Order, Update().set(Order.total, 1), **{**key, "order_id": "nope"})
    with pytest.raises(ConditionFailedError, match="did not meet the condition"):
        db.update(Order, Update().add(Order.total, 1), condition=Order.total > 1000, **key)
    assert db.update(Order, Update().add(Order.total, 3), **key).total == 10
    # Filters on queries.
    query = db.query(Order.for_customer, customer_id="c1")
    assert [o.order_id for o in query.where(Order.status == "shipped")] == ["o0", "o1", "o3"]
    assert [o.order_id for o in query.where(Order.total >= 2).where(Order.status == "pending")] == [
        "o2"
    ]
    assert query.where(Order.status == "shipped").limit(2).all()[1].order_id == "o1"
    # Conditional delete.
    with pytest.raises(ConditionFailedError):
        db.delete(Order, condition=Order.status == "pending", **key)
    assert db.delete(Order, condition=Order.status == "shipped", **key) is not None


def test_versions_are_checked_and_bumped_by_updates(db: DB) -> None:
    alice = db.put(Customer(customer_id="c1", name="Alice"))
    renamed = db.update(
        Customer, Update().set(Customer.name, "Al"), expected_version=1, customer_id="c1"
    )
    assert renamed.version == 2 and renamed.updated is not None and renamed.updated >= alice.updated
    with pytest.raises(ConditionFailedError):
        db.update(Customer, Update().set(Customer.name, "x"), expected_version=1, customer_id="c1")
    operation, request = db.explain.update(
        Customer, Update().set(Customer.name, "y"), customer_id="c1"
    )
    assert operation == "UpdateItem" and request["ReturnValues"] == "ALL_NEW"
    assert "ADD" in request["UpdateExpression"]


def test_select_projects_fields_by_name(db: DB) -> None:
    _orders(db, 3)
    db.put(Address(customer_id="c1", label="home", city="Oslo"))
    rows = db.query(Order.for_customer, customer_id="c1").select(Order.order_id, Order.total)
    assert rows == [{"order_id": f"o{n}", "total": Decimal(n)} for n in range(3)]
    assert db.query(Order.for_customer, customer_id="c1").limit(2).select(Order.status) == [
        {"status": "pending"},
        {"status": "shipped"},
    ]


def test_create_table_turns_ttl_on_and_small_messages(db: DB) -> None:
    from singletable.entity import TTL

    timed = Table("timed", pk="PK", sk=None, ttl_attribute="expires")

    class Token(Entity, table=timed):
        token: str
        expires: Annotated[datetime, TTL]
        keys = Keys(pk="TOKEN#{token}")

    assert db.create_table(timed)
    assert not db.create_table(timed, exist_ok=True)  # TTL already on: fine
    described = db.backend.call("DescribeTimeToLive", {"TableName": "timed"})
    assert described["TimeToLiveDescription"]["AttributeName"] == "expires"
    token = Token(token="t", expires=T0)
    assert dict(token) == {"token": "t", "expires": T0}  # an entity is not a mapping
    db.put(Customer(customer_id="c1", name="A"))
    with pytest.raises(ConditionFailedError, match=r"already exists \(a version of 0"):
        db.put(Customer(customer_id="c1", name="B"))
    with pytest.raises(ItemNotFoundError, match="created_at=2026-01-01T00:00:00"):
        db.require(Order, customer_id="c1", created_at=T0, order_id="x")
