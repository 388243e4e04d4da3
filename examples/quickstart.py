"""Quick start: entities, an access pattern, a collection and an index, on the embedded engine.

Run it with ``python examples/quickstart.py``. ``DB()`` with no arguments runs on
singletable's DynamoDB engine inside this process, in memory: no AWS account, no
credentials, no network, no Docker.

One table holds customers and their orders (a single-table design)::

    PK            SK                                     GSI1PK / GSI1SK
    CUSTOMER#c1   PROFILE
    CUSTOMER#c1   ORDER#2026-05-01T09:00:00.000000Z#o1   STATUS#pending /
                                                         2026-05-01T09:00:00.000000Z#o1

- a customer's orders, newest first: one Query on the customer's partition
  (``Order.of_customer``, an access pattern);
- a customer and all their orders in one request: a :class:`~singletable.Collection`;
- every order in a status, across customers: a Query on the index ``GSI1``. The
  index key is built from the status, so when ``db.update`` ships an order, the
  order moves from ``STATUS#pending`` to ``STATUS#shipped`` in the same request.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any, Literal

from singletable import (
    DB,
    Collection,
    ConditionFailedError,
    Entity,
    GlobalIndex,
    Keys,
    Query,
    Table,
    Update,
)

shop = Table("shop", indexes=[GlobalIndex("GSI1", pk="GSI1PK", sk="GSI1SK")])


class Customer(Entity, table=shop):
    customer_id: str
    name: str

    keys = Keys(pk="CUSTOMER#{customer_id}", sk="PROFILE")


class Order(Entity, table=shop):
    customer_id: str
    order_id: str
    placed_at: datetime
    total: Decimal
    status: Literal["pending", "shipped"] = "pending"

    keys = Keys(
        pk="CUSTOMER#{customer_id}",
        sk="ORDER#{placed_at}#{order_id}",
        GSI1=("STATUS#{status}", "{placed_at}#{order_id}"),
    )
    of_customer = Query(reverse=True)  # a customer's orders, newest first
    by_status = Query(index="GSI1")  # every order in a status, oldest first


# A customer's profile and orders share the partition CUSTOMER#<id>: one query reads both.
customer_page = Collection(Customer, Order, name="customer_page")

MAY_1 = datetime(2026, 5, 1, 9, 0, tzinfo=UTC)  # aware datetimes: keys are rendered in UTC

# (customer, order, days after May 1, total)
ORDERS = [
    ("c1", "o1", 0, "30.00"),
    ("c1", "o2", 2, "12.50"),
    ("c2", "o3", 3, "99.90"),
    ("c1", "o4", 6, "45.00"),
    ("c1", "o5", 9, "8.20"),
]


def main() -> dict[str, Any]:
    """Write, query, read a collection, ship an order; print each step.

    Returns what tests/examples/test_examples.py checks.
    """
    seen: dict[str, Any] = {}
    with DB() as db:  # the embedded engine, in memory
        db.create_table(shop)  # the table and its index, from the model
        db.put(Customer(customer_id="c1", name="Ada"))
        db.put(Customer(customer_id="c2", name="Grace"))
        for customer_id, order_id, day, total in ORDERS:
            order = Order(
                customer_id=customer_id,
                order_id=order_id,
                placed_at=MAY_1 + timedelta(days=day),
                total=Decimal(total),
            )
            db.put(order, mode="create")  # "create": refused if the order exists
        print(f"wrote 2 customers and {len(ORDERS)} orders")
        key = Order.key(customer_id="c1", placed_at=MAY_1, order_id="o1")
        print("o1 is stored under", {name: value["S"] for name, value in key.items()})

        # An access pattern: one Query on c1's partition, newest first.
        newest = [o.order_id for o in db.query(Order.of_customer, customer_id="c1")]
        print(f"c1 placed {len(newest)} orders, newest first: {newest}")

        # A collection: c1's profile and orders, one request, split by entity type.
        page = db.collection(customer_page, customer_id="c1")
        (customer,) = page[Customer]
        spent = sum(o.total for o in page[Order])
        print(
            f"c1's partition in one request: {customer.name}, "
            f"{len(page[Order])} orders, {spent:.2f} in all"
        )

        # The index: every order in a status, across customers, oldest first.
        def in_status(status: Literal["pending", "shipped"]) -> list[str]:
            return [o.order_id for o in db.query(Order.by_status, status=status)]

        seen["before"] = (in_status("pending"), in_status("shipped"))
        print("before shipping: pending", seen["before"][0], "shipped", seen["before"][1])

        # Ship o1 and o3: the update rewrites their GSI1 key, so they move in the index.
        for customer_id, order_id, day, _ in (ORDERS[0], ORDERS[2]):
            db.update(
                Order,
                Update().set(Order.status, "shipped"),
                condition=Order.status == "pending",  # only a pending order ships
                customer_id=customer_id,
                placed_at=MAY_1 + timedelta(days=day),
                order_id=order_id,
            )
        seen["after"] = (in_status("pending"), in_status("shipped"))
        print("after shipping o1, o3: pending", seen["after"][0], "shipped", seen["after"][1])

        try:  # o1 is not pending any more: the condition fails, nothing is written
            db.update(
                Order,
                Update().set(Order.status, "shipped"),
                condition=Order.status == "pending",
                customer_id="c1",
                placed_at=MAY_1,
                order_id="o1",
            )
        except ConditionFailedError as error:
            print(f"shipping o1 again: refused ({type(error).__name__})")
            seen["refused"] = type(error).__name__

        seen["newest"] = newest
        seen["collection"] = (customer.name, [o.order_id for o in page[Order]], spent)
        seen["key"] = key
    return seen


if __name__ == "__main__":
    main()
