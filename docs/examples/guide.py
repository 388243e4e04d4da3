"""The code of the "Reading and writing" guide (docs/modelling.md) and of the concepts page.

Run it with ``python docs/examples/guide.py``. tests/docs/test_docs_examples.py runs
``main()`` and checks what each condition selects, what each update stores, what
the batches return and which reads are refused, so the snippets the pages show
are code that works.
"""

from __future__ import annotations

# --8<-- [start:imports]
import secrets
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any, Literal

from pydantic import BaseModel

from singletable import (
    DB,
    ConditionFailedError,
    CursorError,
    Entity,
    GlobalIndex,
    Keys,
    Query,
    RequestError,
    Table,
    Update,
    attribute,
    if_not_exists,
)

# --8<-- [end:imports]

guide = Table("guide", indexes=[GlobalIndex("GSI1", pk="GSI1PK", sk="GSI1SK")])
DAY1 = datetime(2026, 3, 1, 10, 0, tzinfo=UTC)


# --8<-- [start:order]
class Address(BaseModel):
    street: str
    city: str


class Order(Entity, table=guide):
    user_id: str
    order_id: str
    placed_at: datetime
    total: Decimal
    status: Literal["pending", "shipped", "delivered"] = "pending"
    name: str | None = None
    note: str | None = None
    tags: set[str] | None = None  # a set that may be empty is best declared optional
    flags: set[str] | None = None
    views: int | None = None
    history: list[str] | None = None
    address: Address | None = None

    keys = Keys(
        pk="USER#{user_id}",
        sk="ORDER#{placed_at}#{order_id}",
        GSI1=("STATUS#{status}", "{placed_at}#{order_id}"),
    )
    for_user = Query(reverse=True)
    by_status = Query(index="GSI1")
    # --8<-- [end:order]


# --8<-- [start:conditions]
over_30 = Order.total > 30
pending = Order.status == "pending"
open_ = Order.status.is_in("pending", "shipped")
mid_range = Order.total.between(10, 50)
noted_not_gift = Order.note.exists() & ~Order.tags.contains("gift")
a_name = Order.name.begins_with("A") | (Order.name.size() > 3)
new_item = attribute("PK").not_exists()  # an attribute that is not a field (a key)
# --8<-- [end:conditions]

CONDITIONS = {
    "over_30": over_30,
    "pending": pending,
    "open": open_,
    "mid_range": mid_range,
    "noted_not_gift": noted_not_gift,
    "a_name": a_name,
}

# --8<-- [start:updates]
ship = Update().set(Order.status, "shipped")  # the GSI1 key is rewritten too
count_view = Update().set(Order.views, if_not_exists(Order.views, 0) + 1)
discount = Update().set(Order.total, Order.total - 5)
archive = Update().remove(Order.note).append(Order.history, ["shipped"])
retag = Update().add(Order.tags, {"gift"}).delete(Order.flags, {"new"})
move = Update().set(Order.address.city, "Bergen")  # one member of a nested model
# --8<-- [end:updates]


def sample_orders() -> list[Order]:
    """Four orders of alice's and one of bob's, with the optional fields varied."""
    home = Address(street="Storgata 1", city="Oslo")
    return [
        Order(user_id="alice", order_id="o1", placed_at=DAY1, total=Decimal("49.90"),
              name="Ada's keyboard", note="leave at the door", tags={"gift"}, flags={"new"},
              address=home),
        Order(user_id="alice", order_id="o2", placed_at=DAY1 + timedelta(days=1),
              total=Decimal("12.00"), status="shipped", name="Bo", note="fragile"),
        Order(user_id="alice", order_id="o3", placed_at=DAY1 + timedelta(days=2),
              total=Decimal("99.00"), status="delivered", name="Al"),
        Order(user_id="alice", order_id="o4", placed_at=DAY1 + timedelta(days=3),
              total=Decimal("30.00")),
        Order(user_id="bob", order_id="o5", placed_at=DAY1, total=Decimal("5.00")),
    ]  # fmt: skip


def key_of(order: Order) -> dict[str, Any]:
    """The key fields of ``order``, as the read and write methods take them."""
    return {"user_id": order.user_id, "placed_at": order.placed_at, "order_id": order.order_id}


def main() -> dict[str, Any]:
    """Run every snippet of the guide on the embedded engine; return what each did."""
    seen: dict[str, Any] = {}
    orders = sample_orders()
    o1, o2 = orders[0], orders[1]
    with DB() as db:
        db.create_table(guide)

        # --8<-- [start:batches]
        written = db.write_many(puts=orders)  # 25 a request, unprocessed items retried
        found = db.get_many(
            Order,
            [
                {"user_id": "alice", "placed_at": DAY1, "order_id": "o1"},
                {"user_id": "alice", "placed_at": DAY1, "order_id": "nope"},
            ],
        )  # in the order of the keys: [Order(...), None]
        # --8<-- [end:batches]
        seen["written"] = written
        seen["found"] = [o.order_id if o else None for o in found]

        for name, condition in CONDITIONS.items():
            matches = db.query(Order.for_user, user_id="alice").where(condition).all()
            seen[name] = sorted(o.order_id for o in matches)
            print(f"{name}: {seen[name]}")

        try:
            db.put(o1, condition=new_item)
        except ConditionFailedError as error:  # the item exists
            seen["new_item"] = str(error)

        for update in [ship, count_view, count_view, discount, archive, retag, move]:
            db.update(Order, update, **key_of(o1))
        stored = db.require(Order, **key_of(o1))
        seen["updated"] = stored
        print(f"o1 after the updates: {stored!r}")
        seen["shipped"] = [o.order_id for o in db.query(Order.by_status, status="shipped")]

        # --8<-- [start:query-calls]
        newest = db.query(Order.for_user, user_id="alice").first()  # an Order or None
        how_many = db.query(Order.for_user, user_id="alice").count()  # Select=COUNT
        totals = db.query(Order.for_user, user_id="alice").select(Order.order_id, Order.total)
        # --8<-- [end:query-calls]
        seen["newest"] = newest.order_id if newest else None
        seen["count"] = how_many
        seen["totals"] = totals

        # --8<-- [start:consistency]
        # A strongly consistent read sees every write acknowledged before it.
        fresh = db.get(Order, consistent=True, **key_of(o2))
        latest = db.query(Order.for_user, user_id="alice").consistent().all()
        # A global index is only eventually consistent: DynamoDB refuses the option.
        try:
            db.query(Order.by_status, status="pending").consistent().all()
        except RequestError as error:
            print(f"refused: {error}")
            # --8<-- [end:consistency]
            seen["gsi_consistent"] = str(error)
        seen["fresh"] = fresh.order_id if fresh else None
        seen["latest"] = [o.order_id for o in latest]

    # --8<-- [start:cursor-secret]
    secret = secrets.token_bytes(32)  # in production: from your secret store
    with DB(cursor_secret=secret) as db:
        db.create_table(guide)
        db.write_many(puts=orders)
        page = db.query(Order.for_user, user_id="alice").page_size(2).page()
        try:  # a cursor only continues the query that made it
            db.query(Order.for_user, user_id="bob").after(page.cursor).page()
        except CursorError as error:
            print(f"refused: {error}")
            # --8<-- [end:cursor-secret]
            seen["foreign_cursor"] = str(error)
    return seen


if __name__ == "__main__":
    main()
