"""orm_bench.py's dynamoxy way, run in a Python of its own (dynamoxy needs 3.12 or later).

Not run by hand: ``orm_bench.py --dynamoxy-python PATH`` (see ``orm_rival.py``) starts
it with the Python at PATH (one where ``pip install dynamoxy`` worked). It builds
dynamoxy's in-memory store (``dynamoxy.testing.memory_client()``, the Rust store its
guide recommends for tests), declares the same 10-field order as ``orm_bench.py``'s
``Order`` with dynamoxy's own model API (``dynamoxy.Model``, key templates, a global
index GSI1), loads the same 2,000 orders (20 partitions of 100) into one table and
writes puts to a second, empty one, as orm_bench's ways do.

Then it reads one JSON line per batch of calls (``{"workload": "put", "start": 0,
"count": 200}``), runs them through a repository (``repository.put(Order(**values))``,
``repository.get(customer_id=..., order_id=...)``,
``repository.query(customer_id=...).limit(25).all()``: the idiomatic calls of its
guide, sections 4 and 5), and answers one JSON line: each call's CPU time
(``time.process_time``: every thread of this process, so work the Rust core does on
a thread of its own counts), each call's wall-clock time, and the CPU time of the
whole batch (which also counts what runs between calls: event-loop callbacks, events
dispatched after a call returned). Its own interpreter, no singletable and no pydantic:
the values are built here the way ``bench/_common.py``'s ``order_values`` builds them.
"""

from __future__ import annotations

import asyncio
import json
import sys
import time
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import dynamoxy  # type: ignore[import-not-found]
from dynamoxy import (  # type: ignore[import-not-found]
    Attr,
    Document,
    GlobalIndex,
    Model,
    field,
    partition_key,
    sort_key,
)

PARTITIONS = 20
PER_PARTITION = 100
QUERY_LIMIT = 25
STATUSES = ("pending", "shipped", "delivered", "returned")
T0 = datetime(2026, 1, 1, tzinfo=UTC)


class Address(Document):  # type: ignore[misc]
    street: Attr[str]
    city: Attr[str]
    postcode: Attr[str]


class _Order(Model, abstract=True):  # type: ignore[misc]
    """orm_bench.py's Order: the same attributes (PK, SK, GSI1PK, GSI1SK, _type, 10 fields)."""

    pk: Attr[str] = partition_key(template="CUSTOMER#{customer_id}", attribute_name="PK")
    sk: Attr[str] = sort_key(template="ORDER#{order_id}", attribute_name="SK")
    customer_id: Attr[str]
    order_id: Attr[str]
    created_at: Attr[datetime]
    status: Attr[str]
    total: Attr[Decimal]
    quantity: Attr[int]
    gift: Attr[bool]
    tags: Attr[set[str]]
    address: Attr[Address]
    note: Attr[str]
    gsi1pk: Attr[str] = field(template="STATUS#{status}", attribute_name="GSI1PK")
    gsi1sk: Attr[str] = field(template="{created_at}#{order_id}", attribute_name="GSI1SK")


class Order(_Order, table="orm_bench", entity="Order"):  # type: ignore[misc]
    by_status = GlobalIndex("GSI1", partition_key="gsi1pk", sort_key="gsi1sk")


class PutOrder(_Order, table="orm_bench_put", entity="Order"):  # type: ignore[misc]
    by_status = GlobalIndex("GSI1", partition_key="gsi1pk", sort_key="gsi1sk")


def values(customer: str, n: int) -> dict[str, Any]:
    """``bench/_common.py``'s ``order_values``: plain values of order ``n``."""
    return {
        "customer_id": customer,
        "order_id": f"o{n:05d}",
        "created_at": T0 + timedelta(minutes=n),
        "status": STATUSES[n % 4],
        "total": Decimal(f"{n * 7 % 1000}.25"),
        "quantity": n % 9 + 1,
        "gift": n % 3 == 0,
        "tags": {"new", f"t{n % 5}"},
        "address": {"street": f"{n} Long Road", "city": "Oslo", "postcode": f"{n % 10000:04d}"},
        "note": "leave at the door, ring twice",
    }


def read_key(n: int) -> tuple[str, int]:
    """orm_bench.py's ``read_key``: the (customer, order) the ``n``-th get reads."""
    i = (n * 7919) % (PARTITIONS * PER_PARTITION)
    return f"c{i // PER_PARTITION:02d}", i % PER_PARTITION


async def serve() -> None:
    client = dynamoxy.testing.memory_client(telemetry=None, consumed_capacity="NONE")
    async with client:
        await client.create_tables(Order, PutOrder)
        orders = client.repository(Order)
        put_orders = client.repository(PutOrder)
        for p in range(PARTITIONS):
            await orders.batch_put([Order(**values(f"c{p:02d}", n)) for n in range(PER_PARTITION)])
        # The same orders as orm_bench's ORM reads (it checks the order ids it gets).
        found = await orders.query(customer_id="c03").limit(QUERY_LIMIT).all()
        assert [o.order_id for o in found] == [f"o{n:05d}" for n in range(QUERY_LIMIT)]
        got = await orders.get(customer_id="c00", order_id="o00005")
        assert got is not None and got.total == Decimal("35.25") and got.address.city == "Oslo"

        async def put(n: int) -> Any:
            return await put_orders.put(PutOrder(**values(f"p{n}", n)))

        async def get(n: int) -> Any:
            customer, order = read_key(n)
            return await orders.get(customer_id=customer, order_id=f"o{order:05d}")

        async def query(n: int) -> Any:
            customer = f"c{n % PARTITIONS:02d}"
            return await orders.query(customer_id=customer).limit(QUERY_LIMIT).all()

        ops = {"put": put, "get": get, "query": query}
        cpu, wall = time.process_time, time.perf_counter
        sys.stdout.write(json.dumps({"ready": dynamoxy.__version__}) + "\n")
        sys.stdout.flush()
        for line in sys.stdin:
            order = json.loads(line)
            op, start, count = ops[order["workload"]], order["start"], order["count"]
            cpus, walls = [], []
            batch0 = cpu()
            for n in range(start, start + count):
                began, began_wall = cpu(), wall()
                await op(n)
                cpus.append(cpu() - began)
                walls.append(wall() - began_wall)
            batch = cpu() - batch0
            sys.stdout.write(json.dumps({"cpu": cpus, "wall": walls, "batch": batch}) + "\n")
            sys.stdout.flush()


if __name__ == "__main__":
    asyncio.run(serve())
