"""The reads on every backend: lazy, composable scans (filters, limits, pages and
cursors, projections, counts, parallel segments on threads and on tasks),
``refresh`` and ``find`` (the key the given fields complete, a scan only when
allowed), for DB and AsyncDB.

Tests taking ``db`` run on every backend of tests/orm/conftest.py (the embedded
engine in memory and durable, boto3 on moto, boto3 over HTTP, aioboto3)."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable, Coroutine, Iterator
from decimal import Decimal
from typing import Any, TypeVar

import pytest

from singletable.backends.base import Backend
from singletable.db import DB, AsyncDB, AsyncScan, SyncQuery, SyncScan
from singletable.entity import Entity, Keys
from singletable.errors import (
    CursorError,
    InvalidValueError,
    ItemNotFoundError,
    UnknownKeywordError,
)
from singletable.patterns import Query
from singletable.table import GlobalIndex, Table
from singletable.updates import Update

T = TypeVar("T")

app = Table("reads", indexes=[GlobalIndex("GSI1", pk="GSI1PK", sk="GSI1SK")])


class Order(Entity, table=app):
    customer_id: str
    order_id: str
    status: str
    total: Decimal
    note: str | None = None

    keys = Keys(
        pk="CUSTOMER#{customer_id}",
        sk="ORDER#{order_id}",
        GSI1=("STATUS#{status}", "{order_id}"),
    )
    for_customer = Query()
    by_status = Query(index="GSI1")


class Customer(Entity, table=app):
    customer_id: str
    name: str

    keys = Keys(pk="CUSTOMER#{customer_id}", sk="PROFILE")


class Recorder:
    """Records each operation (from any thread) before passing it on."""

    def __init__(self, inner: Backend) -> None:
        self.inner = inner
        self.calls: list[tuple[str, dict[str, Any]]] = []
        self.threads: set[int] = set()
        self._lock = threading.Lock()

    def call(self, operation: str, request: dict[str, Any]) -> dict[str, Any]:
        with self._lock:
            self.calls.append((operation, request))
            self.threads.add(threading.get_ident())
        return self.inner.call(operation, request)

    def close(self) -> None:
        self.inner.close()


@pytest.fixture
def recorder(backend: Backend) -> Recorder:
    return Recorder(backend)


ORDERS = 23


@pytest.fixture
def db(recorder: Recorder) -> Iterator[DB]:
    database = DB(recorder)
    database.create_table(app)
    for n in range(ORDERS):
        database.put(
            Order(
                customer_id=f"c{n % 3}",
                order_id=f"o{n:02}",
                status="shipped" if n % 2 else "pending",
                total=Decimal(n),
            )
        )
    for n in range(3):
        database.put(Customer(customer_id=f"c{n}", name=f"Customer {n}"))
    recorder.calls.clear()
    yield database


def ids(orders: Any) -> list[str]:
    return sorted(o.order_id for o in orders)


ALL = [f"o{n:02}" for n in range(ORDERS)]


def test_a_scan_is_lazy_and_composable(db: DB, recorder: Recorder) -> None:
    scan = db.scan(Order)
    big = scan.where(Order.total >= 20)
    assert isinstance(big, SyncScan) and recorder.calls == []  # nothing sent yet
    assert ids(big) == ["o20", "o21", "o22"]
    assert ids(scan) == ALL  # the options made a new scan; this one is unfiltered
    (operation, request), *_ = recorder.calls
    assert operation == "Scan"
    assert request["FilterExpression"].startswith("(#type = :type OR attribute_not_exists(#type))")
    assert len(scan.page_size(5).limit(7).all()) == 7
    assert ids(scan.where(Order.status == "shipped").where(Order.total < 6)) == ["o01", "o03", "o05"]
    assert scan.count() == ORDERS and big.count() == 3
    assert scan.where(Order.total > 100).first() is None
    assert big.where(Order.total == 21).one().order_id == "o21"
    with pytest.raises(ItemNotFoundError, match="more than one"):
        big.one()
    assert sorted(db.scan(Customer).select(Customer.name), key=str) == [
        {"name": f"Customer {n}"} for n in range(3)
    ]
    assert len(scan.select(Order.total, Order.status)) == ORDERS
    # a limit stops the reading, but is not the requests' Limit (items read before the
    # type filter): the first of 3 customers among 26 items takes one request, not many
    recorder.calls.clear()
    assert db.scan(Customer).where(Customer.name == "Customer 2").first() is not None
    assert [c.name for c in db.scan(Customer).limit(1)] != []
    assert [op for op, _ in recorder.calls] == ["Scan", "Scan"]
    assert all("Limit" not in request for _, request in recorder.calls)


def test_scan_pages_follow_cursors(db: DB) -> None:
    scan = db.scan(Order).page_size(4)
    seen: list[str] = []
    cursor: str | None = None
    pages = 0
    while True:
        page = scan.after(cursor).page()
        pages += 1
        seen += [o.order_id for o in page.items]
        cursor = page.cursor
        if cursor is None:
            break
    assert sorted(seen) == ALL and len(seen) == ORDERS  # every order once
    assert pages >= ORDERS // 4  # the customers count toward Limit, orders not duplicated
    with pytest.raises(CursorError, match="another query"):
        db.scan(Customer).after(scan.page().cursor).page()
    with pytest.raises(InvalidValueError, match="page_size must be a positive int"):
        db.scan(Order, page_size=0)


def test_a_parallel_scan_reads_every_segment_on_threads(db: DB, recorder: Recorder) -> None:
    parallel = db.scan(Order).segments(4)
    assert ids(parallel.all()) == ALL
    scans = [r for op, r in recorder.calls if op == "Scan"]
    assert sorted(r["Segment"] for r in scans) == [0, 1, 2, 3]
    assert {r["TotalSegments"] for r in scans} == {4}
    assert len(recorder.threads) > 1  # the segments ran on threads
    assert ids(parallel.page_size(2)) == ALL  # iteration: a page of every segment a round
    assert len(list(parallel.page_size(2).limit(5))) == 5
    assert parallel.count() == ORDERS
    assert len(parallel.where(Order.status == "pending").select(Order.total)) == 12
    shares = [db.scan(Order).segment(i, 3).all() for i in range(3)]
    assert ids(o for share in shares for o in share) == ALL  # the shares partition the table
    first = db.scan(Order).segment(1, 3).page_size(1).page()
    if first.cursor is not None:
        rest = db.scan(Order).segment(1, 3).after(first.cursor).all()
        assert ids(first.items + rest) == ids(shares[1])
    with pytest.raises(InvalidValueError, match="segment"):
        parallel.page()
    with pytest.raises(InvalidValueError, match=r"segment must be in 0\.\.2"):
        db.scan(Order).segment(3, 3)


def test_refresh_reads_the_item_again(db: DB, recorder: Recorder) -> None:
    order = db.require(Order, customer_id="c1", order_id="o01")
    db.update(Order, Update().set(Order.note, "gift"), customer_id="c1", order_id="o01")
    recorder.calls.clear()
    fresh = db.refresh(order)
    assert fresh.note == "gift" and order.note is None  # a new instance; the old one unchanged
    assert recorder.calls[0][1]["ConsistentRead"] is True
    assert "ConsistentRead" not in db.explain.refresh(order, consistent=False)[1]
    db.delete(Order, customer_id="c1", order_id="o01")
    with pytest.raises(ItemNotFoundError, match="no longer exists"):
        db.refresh(order)


def test_find_uses_the_key_the_fields_complete(db: DB, recorder: Recorder) -> None:
    by_customer = db.find(Order, customer_id="c1")
    assert isinstance(by_customer, SyncQuery)
    assert ids(by_customer) == [f"o{n:02}" for n in range(1, ORDERS, 3)]
    request = recorder.calls[-1][1]
    assert recorder.calls[-1][0] == "Query" and "IndexName" not in request
    # the sort key completed: an exact key condition
    exact = db.explain.find(Order, customer_id="c1", order_id="o04")[1]
    assert exact["KeyConditionExpression"] == "#pk = :pk AND #sk = :sk0"
    assert db.find(Order, customer_id="c1", order_id="o04").one().total == 4
    # a field beside the key is filtered on
    shipped = db.find(Order, customer_id="c1", status="shipped")
    assert ids(shipped) == ["o01", "o07", "o13", "o19"]
    assert "FilterExpression" in db.explain.find(Order, customer_id="c1", status="shipped")[1]
    # the index whose key the fields complete
    on_index = db.explain.find(Order, status="pending", total=4)
    assert on_index[0] == "Query" and on_index[1]["IndexName"] == "GSI1"
    assert ids(db.find(Order, status="pending", total=4)) == ["o04"]
    assert db.explain.find_reason(Order, status="pending") == (
        "Order.by_status (index GSI1): key from status"
    )
    assert db.explain.find_reason(Order, customer_id="c1", status="x") == (
        "Order.for_customer (table): key from customer_id; filter on status"
    )


def test_find_refuses_a_scan_unless_asked(db: DB, recorder: Recorder) -> None:
    with pytest.raises(InvalidValueError) as caught:
        db.find(Order, total=5)
    message = str(caught.value)
    assert "no access pattern is keyed on total" in message
    assert "customer_id (the table key" in message and "status (index GSI1" in message
    assert "allow_scan=True" in message
    assert recorder.calls == []  # refused before sending
    scanned = db.find(Order, total=5, allow_scan=True)
    assert isinstance(scanned, SyncScan) and ids(scanned) == ["o05"]
    assert db.explain.find(Order, total=5, allow_scan=True)[0] == "Scan"
    with pytest.raises(UnknownKeywordError, match=r"'totl'.*did you mean 'total'"):
        db.find(Order, totl=5)
    with pytest.raises(InvalidValueError, match="at least one field"):
        db.find(Order)
    with pytest.raises(InvalidValueError, match="not a valid"):
        db.find(Order, customer_id="c1", total="lots").all()


def _async_run(backend: Backend) -> tuple[Any, Callable[[Coroutine[Any, Any, T]], T]]:
    """An async backend over ``backend`` and a way to run coroutines on it (the real
    aioboto3 backend on its own loop, for the aioboto3 case)."""
    inner = backend.inner if isinstance(backend, Recorder) else backend
    aio = getattr(inner, "backend", None)
    if aio is not None and hasattr(inner, "run"):
        return aio, inner.run

    class Over:
        async def call(self, operation: str, request: dict[str, Any]) -> dict[str, Any]:
            await asyncio.sleep(0)  # let the other tasks of a parallel scan run
            return backend.call(operation, request)

        async def close(self) -> None:
            return None

    return Over(), asyncio.run


def test_the_async_reads_run_the_same_flows(db: DB, recorder: Recorder) -> None:
    backend, run_on = _async_run(recorder)

    async def scenario() -> None:
        adb = AsyncDB(backend)
        scan = adb.scan(Order)
        assert isinstance(scan, AsyncScan)
        assert ids(await scan.segments(3).all()) == ALL
        assert ids([o async for o in scan.segments(3).page_size(3)]) == ALL
        assert ids([o async for o in scan.where(Order.total >= 21)]) == ["o21", "o22"]
        assert await scan.count() == ORDERS
        page = await scan.page_size(5).page()
        assert page.cursor is not None
        with pytest.warns(DeprecationWarning, match=r"await db\.scan"):
            eager = await adb.scan(Customer)
        assert len(eager) == 3
        order = await adb.require(Order, customer_id="c2", order_id="o02")
        assert (await adb.refresh(order)).order_id == "o02"
        assert ids(await adb.find(Order, status="shipped", total=3).all()) == ["o03"]
        assert await adb.find(Order, total=7, allow_scan=True).first() is not None

    run_on(scenario())
    if not hasattr(recorder.inner, "run"):  # on aioboto3 the calls bypass the recorder
        assert {0, 1, 2} <= {r.get("Segment") for op, r in recorder.calls if op == "Scan"}


def test_find_on_plain_keys_and_only_on_indexes_that_project_everything() -> None:
    from singletable.table import LocalIndex

    users = Table(
        "find_users",
        pk="user_id",
        sk="created",
        indexes=[
            GlobalIndex("ByEmail", pk="email", projection="KEYS_ONLY"),
            LocalIndex("ByName", sk="name"),
        ],
    )

    class Member(Entity, table=users):
        user_id: str
        created: int
        email: str
        name: str

    db = DB()
    db.create_table(users)
    for n in range(3):
        db.put(Member(user_id="u", created=n, email=f"e{n}", name=f"n{n}"))
    exact = db.explain.find(Member, user_id="u", created=1)[1]
    assert exact["KeyConditionExpression"] == "#pk = :pk AND #sk = :sk0"
    assert exact["ExpressionAttributeValues"][":sk0"] == {"N": "1"}
    assert "FilterExpression" not in exact  # plain key attributes: the key fixes them
    assert [m.name for m in db.find(Member, user_id="u", created=1)] == ["n1"]
    # the local index (ALL) serves name; the KEYS_ONLY global index never serves find
    assert db.explain.find(Member, user_id="u", name="n2")[1]["IndexName"] == "ByName"
    assert [m.created for m in db.find(Member, user_id="u", name="n2")] == [2]
    with pytest.raises(InvalidValueError, match="no access pattern is keyed on email"):
        db.find(Member, email="e1")
    assert [m.created for m in db.find(Member, email="e1", allow_scan=True)] == [1]
