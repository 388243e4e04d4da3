"""The Python code of "Coming from ElectroDB" (docs/from-electrodb.md).

Run it with ``python docs/examples/from_electrodb.py``; tests/docs/test_docs_examples.py
runs ``main()`` and checks every answer.

Two parts:

- :func:`native`: the design of docs/examples/from_electrodb.mjs (customers and
  their orders in one table, a collection, orders by status on a global index)
  written the singletable way, with the ElectroDB program's steps, and its answers;
- :func:`adopt`: entities whose key templates reproduce ElectroDB's key format,
  over the items ElectroDB itself wrote (docs/examples/from_electrodb_items.json,
  the output of from_electrodb.mjs run against ``singletable serve``): the same
  queries on them, and a new order written exactly as ElectroDB writes one.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any, Literal

from pydantic import Field

# --8<-- [start:models]
from singletable import (
    DB,
    Collection,
    ConditionFailedError,
    Entity,
    GlobalIndex,
    Keys,
    Query,
    Table,
    TransactionCanceledError,
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
    of_customer = Query()  # ElectroDB: Order.query.byCustomer({ customerId })
    placed_between = Query(sort="between")  # ... .between({ placedAt }, { placedAt })
    by_status = Query(index="GSI1")  # Order.query.byStatus({ status })


customer_orders = Collection(Customer, Order, name="customer_orders")
# --8<-- [end:models]

MAY_1 = datetime(2026, 5, 1, 9, 0, tzinfo=UTC)
# (customer, order, days after May 1, total): what from_electrodb.mjs writes
ORDERS = [("c1", "o1", 0, "30"), ("c1", "o2", 2, "12.5"), ("c2", "o3", 3, "99.9"),
          ("c1", "o4", 6, "45")]  # fmt: skip


def native() -> dict[str, Any]:
    """The ElectroDB program's steps, written the singletable way; its answers."""
    seen: dict[str, Any] = {}
    with DB() as db:
        db.create_table(shop)
        # --8<-- [start:write]
        db.put(Customer(customer_id="c1", name="Ada"), mode="create")
        db.put(Customer(customer_id="c2", name="Grace"), mode="create")
        try:
            db.put(Customer(customer_id="c1", name="Someone else"), mode="create")
        except ConditionFailedError as error:
            seen["create_again"] = error.code  # ConditionalCheckFailedException
        ada = db.require(Customer, customer_id="c1")
        # --8<-- [end:write]
        seen["ada"] = ada.name
        for customer_id, order_id, day, total in ORDERS:
            db.put(
                Order(customer_id=customer_id, order_id=order_id,
                      placed_at=MAY_1 + timedelta(days=day), total=Decimal(total)),
                mode="create",
            )  # fmt: skip

        # --8<-- [start:query]
        week = (MAY_1, MAY_1 + timedelta(days=6))
        first_week = db.query(Order.placed_between, customer_id="c1", placed_at=week).all()
        # --8<-- [end:query]
        seen["first_week"] = [o.order_id for o in first_week]

        # --8<-- [start:collection]
        page = db.collection(customer_orders, customer_id="c1")
        # page[Customer]: [Ada], page[Order]: her 3 orders (typed lists)
        # --8<-- [end:collection]
        seen["collection"] = ([c.name for c in page[Customer]], [o.order_id for o in page[Order]])

        # --8<-- [start:pages]
        pages, cursor = [], None
        while True:
            result = db.query(Order.of_customer, customer_id="c1").page_size(2).after(cursor).page()
            pages.append([o.order_id for o in result.items])
            cursor = result.cursor  # None at the end
            if cursor is None:
                break
        # --8<-- [end:pages]
        seen["pages"] = pages

        # --8<-- [start:update]
        def ship(**key: Any) -> Order:  # db.update: the item must exist, like patch
            return db.update(
                Order,
                Update().set(Order.status, "shipped"),  # the GSI1 key follows the status
                condition=Order.status == "pending",
                **key,
            )

        ship(customer_id="c1", placed_at=MAY_1, order_id="o1")
        try:
            ship(customer_id="c1", placed_at=MAY_1, order_id="o1")
        except ConditionFailedError as error:
            seen["ship_again"] = error.code
        shipped = db.query(Order.by_status, status="shipped").all()
        # --8<-- [end:update]
        seen["shipped"] = [o.order_id for o in shipped]

        # --8<-- [start:transaction]
        try:
            with db.transaction() as tx:
                tx.put(Order(customer_id="c1", order_id="o5", placed_at=MAY_1 + timedelta(days=9),
                             total=Decimal("8.2")), mode="create")  # fmt: skip
                tx.put(Order(customer_id="c1", order_id="o1", placed_at=MAY_1, total=Decimal(1)),
                       mode="create")  # fmt: skip
        except TransactionCanceledError as error:  # nothing was written
            seen["transaction"] = [reason["Code"] for reason in error.reasons]
        # --8<-- [end:transaction]
        seen["o5"] = db.get(Order, customer_id="c1", placed_at=MAY_1 + timedelta(days=9),
                            order_id="o5")  # fmt: skip
    return seen


# --8<-- [start:adopt-models]
electro = Table(
    "shop",
    pk="pk",
    sk="sk",
    indexes=[GlobalIndex("gsi1", pk="gsi1pk", sk="gsi1sk")],
    type_attribute="__edb_e__",  # where ElectroDB keeps the entity name
)


class ElectroCustomer(Entity, table=electro, type_name="customer"):
    customer_id: str = Field(alias="customerId")
    name: str
    edb_version: str = Field("1", alias="__edb_v__")  # ElectroDB's model version

    keys = Keys(pk="$shop#customerid_{customer_id:lower}", sk="$customerorders#customer_1")


class ElectroOrder(Entity, table=electro, type_name="order"):
    customer_id: str = Field(alias="customerId")
    order_id: str = Field(alias="orderId")
    placed_at: str = Field(alias="placedAt")  # a "string" attribute in ElectroDB
    total: Decimal
    status: Literal["pending", "shipped"] = "pending"
    edb_version: str = Field("1", alias="__edb_v__")

    keys = Keys(
        pk="$shop#customerid_{customer_id:lower}",
        sk="$customerorders#order_1#placedat_{placed_at:lower}#orderid_{order_id:lower}",
        gsi1=(
            "$shop#status_{status:lower}",
            "$order_1#placedat_{placed_at:lower}#orderid_{order_id:lower}",
        ),
    )
    of_customer = Query()
    placed_between = Query(sort="between")
    by_status = Query(index="gsi1")


electro_customer_orders = Collection(ElectroCustomer, ElectroOrder, name="customerOrders")
# --8<-- [end:adopt-models]

ITEMS = Path(__file__).with_name("from_electrodb_items.json")


def adopt() -> dict[str, Any]:
    """singletable over the items ElectroDB wrote; returns the answers."""
    seen: dict[str, Any] = {}
    items: list[dict[str, Any]] = json.loads(ITEMS.read_text(encoding="utf-8"))
    with DB() as db:
        db.create_table(electro)
        for item in items:  # load ElectroDB's items as they are
            db.backend.call("PutItem", {"TableName": "shop", "Item": item})

        # --8<-- [start:adopt-read]
        week = ("2026-05-01T09:00:00.000Z", "2026-05-07T09:00:00.000Z")
        first_week = db.query(ElectroOrder.placed_between, customer_id="c1", placed_at=week)
        page = db.collection(electro_customer_orders, customer_id="c1")
        shipped = db.query(ElectroOrder.by_status, status="shipped")
        # --8<-- [end:adopt-read]
        seen["first_week"] = [o.order_id for o in first_week]
        seen["collection"] = (
            [c.name for c in page[ElectroCustomer]],
            [o.order_id for o in page[ElectroOrder]],
        )
        seen["shipped"] = [o.order_id for o in shipped]

        # The item singletable writes for o2 is the one ElectroDB wrote.
        o2 = db.require(
            ElectroOrder, customer_id="c1", placed_at="2026-05-03T09:00:00.000Z", order_id="o2"
        )
        seen["o2_item"] = o2.to_item()
        seen["electrodb_o2_item"] = next(i for i in items if i.get("orderId") == {"S": "o2"})
    return seen


def main() -> dict[str, Any]:
    """Both parts; print and return their answers."""
    seen = {"native": native(), "adopt": adopt()}
    for part, answers in seen.items():
        for step, answer in answers.items():
            if not step.endswith("_item"):
                print(f"{part} {step}: {answer!r}")
    return seen


if __name__ == "__main__":
    main()
