"""E-commerce on one table: users, orders, products and reviews.

Run it with ``python examples/ecommerce.py`` (the embedded engine, in memory:
no AWS account, no network).

The design (one table, one global index)::

    PK             SK                                     type     GSI1PK / GSI1SK
    USER#alice     PROFILE                                User
    USER#alice     ORDER#2026-03-01T10:00:00.000000Z#o1   Order    STATUS#pending /
                                                                   2026-03-01T10:00:00.000000Z#o1
    PRODUCT#kb-01  METADATA                               Product
    PRODUCT#kb-01  REVIEW#USER#alice                      Review

Access patterns:

- a user's profile: ``db.get(User, user_id=...)``;
- a user's orders, newest first, and a user's orders in a date range (the sort
  key starts with the order's time, so a range of times is a range of keys);
- orders by status across every user, oldest first, through the index (an
  order's index key is rewritten when its status changes);
- a product with its reviews: one query on the product's partition, split into
  typed lists (a :class:`~singletable.Collection`).
"""

from __future__ import annotations

# --8<-- [start:imports]
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Annotated, Any, Literal

from singletable import (
    DB,
    Collection,
    ConditionFailedError,
    CreatedAt,
    Entity,
    GlobalIndex,
    Keys,
    Query,
    Table,
    TransactionCanceledError,
    Update,
)

# --8<-- [end:imports]
# --8<-- [start:table]
shop = Table("shop", indexes=[GlobalIndex("GSI1", pk="GSI1PK", sk="GSI1SK")])

Status = Literal["pending", "shipped", "delivered"]
# --8<-- [end:table]


# --8<-- [start:user]
class User(Entity, table=shop):
    user_id: str
    name: str
    email: str
    joined: Annotated[datetime | None, CreatedAt] = None  # set on the first write

    keys = Keys(pk="USER#{user_id}", sk="PROFILE")
    # --8<-- [end:user]


# --8<-- [start:order]
class Order(Entity, table=shop):
    user_id: str
    order_id: str
    placed_at: datetime
    product_id: str
    quantity: int
    total: Decimal
    status: Status = "pending"

    keys = Keys(
        pk="USER#{user_id}",
        sk="ORDER#{placed_at}#{order_id}",
        GSI1=("STATUS#{status}", "{placed_at}#{order_id}"),
    )
    for_user = Query(reverse=True)  # a user's orders, newest first
    placed_between = Query(sort="between")  # placed_at=(start, end), both included
    by_status = Query(index="GSI1")  # every order in a status, oldest first
    # --8<-- [end:order]


# --8<-- [start:product-review]
class Product(Entity, table=shop):
    product_id: str
    name: str
    price: Decimal
    stock: int
    review_count: int = 0

    keys = Keys(pk="PRODUCT#{product_id}", sk="METADATA")


class Review(Entity, table=shop):
    product_id: str
    user_id: str
    rating: int
    comment: str

    keys = Keys(pk="PRODUCT#{product_id}", sk="REVIEW#USER#{user_id}")
    # --8<-- [end:product-review]


# --8<-- [start:collection]
# A product and its reviews live in one partition: one query reads both.
product_page = Collection(Product, Review, name="product_page")
# --8<-- [end:collection]

DAY1 = datetime(2026, 3, 1, 10, 0, tzinfo=UTC)


# --8<-- [start:place-order]
def place_order(db: DB, order: Order) -> Order:
    """Create ``order`` and take its quantity out of the product's stock, both or neither.

    Raises:
        TransactionCanceledError: the product has too little stock (or the order exists).
    """
    with db.transaction() as tx:
        tx.put(order, mode="create")
        tx.update(
            Product,
            Update().add(Product.stock, -order.quantity),
            condition=Product.stock >= order.quantity,
            product_id=order.product_id,
        )
    stored: Order = tx.results[0]
    return stored
    # --8<-- [end:place-order]


# --8<-- [start:ship]
def ship(db: DB, order: Order) -> Order:
    """Mark a pending order shipped (refused if it is not pending any more)."""
    return db.update(
        Order,
        Update().set(Order.status, "shipped"),
        condition=Order.status == "pending",
        user_id=order.user_id,
        placed_at=order.placed_at,
        order_id=order.order_id,
    )
    # --8<-- [end:ship]


# --8<-- [start:review]
def review(db: DB, entry: Review) -> None:
    """Add a review (one per user and product) and count it on the product."""
    with db.transaction() as tx:
        tx.put(entry, mode="create")
        tx.update(Product, Update().add(Product.review_count, 1), product_id=entry.product_id)
    # --8<-- [end:review]


def main() -> dict[str, Any]:
    """Fill the shop, run every access pattern, print what each returns.

    Returns what the checks in tests/examples/test_examples.py look at.
    """
    seen: dict[str, Any] = {}
    # --8<-- [start:create]
    with DB() as db:  # the embedded engine, in memory
        db.create_table(shop)  # the table and its index, from the model

        db.put(User(user_id="alice", name="Alice", email="alice@example.com"))
        db.put(User(user_id="bob", name="Bob", email="bob@example.com"))
        db.put(Product(product_id="kb-01", name="Keyboard", price=Decimal("49.90"), stock=5))
        db.put(Product(product_id="ms-02", name="Mouse", price=Decimal("19.90"), stock=10))
        # --8<-- [end:create]

        orders = [
            Order(user_id="alice", order_id="o1", placed_at=DAY1, product_id="kb-01",
                  quantity=1, total=Decimal("49.90")),
            Order(user_id="alice", order_id="o2", placed_at=DAY1 + timedelta(days=3),
                  product_id="ms-02", quantity=2, total=Decimal("39.80")),
            Order(user_id="bob", order_id="o3", placed_at=DAY1 + timedelta(days=4),
                  product_id="kb-01", quantity=3, total=Decimal("149.70")),
            Order(user_id="alice", order_id="o4", placed_at=DAY1 + timedelta(days=9),
                  product_id="ms-02", quantity=1, total=Decimal("19.90")),
        ]  # fmt: skip
        for order in orders:
            place_order(db, order)
        print(f"placed {len(orders)} orders")

        # --8<-- [start:stock-check]
        # Stock is checked in the same transaction as the order: 1 keyboard is left.
        try:
            place_order(
                db,
                Order(user_id="bob", order_id="o5", placed_at=DAY1 + timedelta(days=5),
                      product_id="kb-01", quantity=2, total=Decimal("99.80")),
            )  # fmt: skip
        except TransactionCanceledError as error:
            codes = [reason["Code"] for reason in error.reasons]
            print(f"o5 refused: {codes}")
            seen["refused"] = codes
        keyboard = db.require(Product, product_id="kb-01")
        print(f"keyboards left: {keyboard.stock}")
        seen["keyboards_left"] = keyboard.stock
        # --8<-- [end:stock-check]

        alice = db.require(User, user_id="alice")
        print(f"user: {alice.name} <{alice.email}>")

        # --8<-- [start:queries]
        newest = db.query(Order.for_user, user_id="alice").all()
        print("alice's orders, newest first:", [o.order_id for o in newest])
        seen["newest_first"] = [o.order_id for o in newest]

        week = (DAY1, DAY1 + timedelta(days=6))
        first_week = db.query(Order.placed_between, user_id="alice", placed_at=week).all()
        print("alice's orders in the first week:", [o.order_id for o in first_week])
        seen["first_week"] = [o.order_id for o in first_week]
        # --8<-- [end:queries]

        # --8<-- [start:pages]
        # Page by page: each page carries an opaque cursor to ask for the next one.
        pages = []
        query = db.query(Order.for_user, user_id="alice").page_size(2)
        cursor: str | None = None
        while True:
            page = query.after(cursor).page()
            pages.append([o.order_id for o in page.items])
            cursor = page.cursor
            if cursor is None:
                break
        print("alice's orders, 2 a page:", pages)
        seen["pages"] = pages
        # --8<-- [end:pages]

        # --8<-- [start:shipping]
        # Shipping moves the order in the index: its GSI key is rewritten with the status.
        ship(db, orders[0])
        ship(db, orders[2])
        try:
            ship(db, orders[0])
        except ConditionFailedError as error:
            print(f"shipping o1 again: {error}")
        shipped = [o.order_id for o in db.query(Order.by_status, status="shipped")]
        pending = [o.order_id for o in db.query(Order.by_status, status="pending")]
        print("shipped:", shipped, "pending:", pending)
        seen["shipped"], seen["pending"] = shipped, pending
        # --8<-- [end:shipping]

        # --8<-- [start:filter]
        # A filter is applied after the key condition (DynamoDB still reads those items).
        big = db.query(Order.by_status, status="pending").where(Order.total > 30).all()
        print("pending orders over 30:", [o.order_id for o in big])
        seen["pending_over_30"] = [o.order_id for o in big]
        # --8<-- [end:filter]

        # --8<-- [start:collection-read]
        review(db, Review(product_id="kb-01", user_id="alice", rating=5, comment="Clicky."))
        review(db, Review(product_id="kb-01", user_id="bob", rating=3, comment="Loud."))
        kb = db.collection(product_page, product_id="kb-01")
        (product,) = kb[Product]  # typed lists, split by the entity-type attribute
        ratings = [r.rating for r in kb[Review]]
        print(
            f"{product.name}: {product.review_count} reviews, ratings {ratings}, "
            f"average {sum(ratings) / len(ratings):.1f}"
        )
        seen["reviews"] = (product.review_count, ratings)
        # --8<-- [end:collection-read]

        # --8<-- [start:explain]
        # Every operation can show the request it would send, without sending it.
        operation, request = db.explain.query(Order.placed_between, user_id="alice", placed_at=week)
        print(f"{operation}: {request['KeyConditionExpression']}")
        print("  values:", {k: v["S"] for k, v in request["ExpressionAttributeValues"].items()})
        seen["explained"] = request
        # --8<-- [end:explain]
    return seen


if __name__ == "__main__":
    main()
