"""The quick start of the docs' home page (and of the README's "Modelling" section).

Run it with ``python docs/examples/first_steps.py``; tests/docs/test_docs_examples.py
runs it and checks what it returns.
"""

from __future__ import annotations

# --8<-- [start:model]
from datetime import UTC, datetime
from decimal import Decimal

from singletable import DB, Entity, GlobalIndex, Keys, Query, Table, Update

app = Table("app", indexes=[GlobalIndex("GSI1", pk="GSI1PK", sk="GSI1SK")])


class Order(Entity, table=app):
    customer_id: str
    order_id: str
    created_at: datetime
    status: str
    total: Decimal

    keys = Keys(
        pk="CUSTOMER#{customer_id}",
        sk="ORDER#{created_at}#{order_id}",
        GSI1=("STATUS#{status}", "{created_at}"),
    )
    for_customer = Query()  # begins_with on the sort key
    by_status = Query(index="GSI1", sort="between")
    # --8<-- [end:model]


def main() -> dict[str, object]:
    """Create the table, write an order, query it, ship it; return what the test checks."""
    # --8<-- [start:use]
    db = DB()  # the embedded engine, in memory
    db.create_table(app)
    db.put(
        Order(customer_id="c1", order_id="o1", created_at=datetime(2026, 3, 1, tzinfo=UTC),
              status="pending", total=Decimal("20")),
        mode="create",
    )  # fmt: skip
    big = db.query(Order.for_customer, customer_id="c1").where(Order.total > 10).all()
    shipped = db.update(
        Order,
        Update().set(Order.status, "shipped"),  # the GSI1 key follows the status
        customer_id="c1",
        created_at=big[0].created_at,
        order_id="o1",
    )
    march = (datetime(2026, 3, 1, tzinfo=UTC), datetime(2026, 3, 31, tzinfo=UTC))
    by_status = db.query(Order.by_status, status="shipped", created_at=march).all()
    # --8<-- [end:use]
    db.close()
    print(f"big orders: {[o.order_id for o in big]}; shipped in March: "
          f"{[o.order_id for o in by_status]}")  # fmt: skip
    return {
        "big": [o.order_id for o in big],
        "status": shipped.status,
        "shipped": [o.order_id for o in by_status],
    }


if __name__ == "__main__":
    main()
