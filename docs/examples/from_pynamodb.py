"""The code of "Coming from PynamoDB" (docs/from-pynamodb.md): one design, both libraries.

Run it with ``python docs/examples/from_pynamodb.py``. It runs the same steps twice,
on the same data: once with PynamoDB models (:func:`with_pynamodb`), once with
singletable entities (:func:`with_singletable`), and checks that both give the same
answers. Then singletable reads the tables PynamoDB wrote (:func:`read_pynamodb_tables`).
PynamoDB runs unchanged on singletable's embedded engine, inside ``local_dynamodb()``:
no moto, no DynamoDB Local, no network. tests/docs/test_docs_examples.py runs
``main()`` and checks each answer.

The tables are the plain-attribute design PynamoDB users have: ``Users`` keyed by
``user_id``, ``Orders`` keyed by ``order_id`` with a global index ``CustomerOrders``
on ``customer_id`` and ``order_date``.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Annotated, Any

# --8<-- [start:pynamodb-imports]
from pynamodb.attributes import (
    NumberAttribute,
    UnicodeAttribute,
    UTCDateTimeAttribute,
    VersionAttribute,
)
from pynamodb.connection import Connection
from pynamodb.exceptions import PutError, TransactWriteError, UpdateError
from pynamodb.indexes import AllProjection, GlobalSecondaryIndex
from pynamodb.models import Model
from pynamodb.transactions import TransactWrite

# --8<-- [end:pynamodb-imports]
# --8<-- [start:singletable-imports]
from singletable import (
    DB,
    ConditionFailedError,
    Entity,
    GlobalIndex,
    Query,
    Table,
    TransactionCanceledError,
    Update,
    Version,
    VersionConflictError,
)

# --8<-- [end:singletable-imports]
from singletable.backends.engine import LocalBackend
from singletable.testing import local_dynamodb


# --8<-- [start:pynamodb-models]
class UserModel(Model):
    class Meta:
        table_name = "Users"
        billing_mode = "PAY_PER_REQUEST"

    user_id = UnicodeAttribute(hash_key=True)
    email = UnicodeAttribute()
    name = UnicodeAttribute()
    order_count = NumberAttribute(default=0)


class CustomerOrders(GlobalSecondaryIndex["OrderModel"]):
    class Meta:
        index_name = "CustomerOrders"
        projection = AllProjection()

    customer_id = UnicodeAttribute(hash_key=True)
    order_date = UTCDateTimeAttribute(range_key=True)


class OrderModel(Model):
    class Meta:
        table_name = "Orders"
        billing_mode = "PAY_PER_REQUEST"

    order_id = UnicodeAttribute(hash_key=True)
    customer_id = UnicodeAttribute()
    order_date = UTCDateTimeAttribute()
    total = NumberAttribute()
    status = UnicodeAttribute(default="pending")
    version = VersionAttribute()
    customer_orders = CustomerOrders()
    # --8<-- [end:pynamodb-models]


# --8<-- [start:singletable-models]
users = Table("Users", pk="user_id", sk=None)  # key types come from the fields
orders = Table(
    "Orders",
    pk="order_id",
    sk=None,
    indexes=[GlobalIndex("CustomerOrders", pk="customer_id", sk="order_date")],
)


class User(Entity, table=users):
    user_id: str  # the partition key: a field named like the key attribute
    email: str
    name: str
    order_count: int = 0


class Order(Entity, table=orders):
    order_id: str
    customer_id: str
    order_date: datetime
    total: Decimal
    status: str = "pending"
    version: Annotated[int, Version] = 0

    of_customer = Query(index="CustomerOrders")  # a customer's orders, oldest first
    by_customer = Query(index="CustomerOrders", sort="between")  # ... in a date range
    # --8<-- [end:singletable-models]


MAR_1 = datetime(2026, 3, 1, 10, 0, tzinfo=UTC)
FIRST_WEEK = (MAR_1, MAR_1 + timedelta(days=6))
# (order, customer, days after March 1, total)
ORDERS = [("o1", "u1", 0, "30"), ("o2", "u1", 3, "12.5"), ("o3", "u2", 4, "99.9"),
          ("o4", "u1", 9, "45")]  # fmt: skip
MORE = [("o5", "u2", 11, "5"), ("o6", "u2", 12, "6"), ("o7", "u2", 13, "7")]


def with_pynamodb() -> dict[str, Any]:
    """The steps with PynamoDB; returns the answers."""
    seen: dict[str, Any] = {}
    UserModel.create_table(wait=True)
    OrderModel.create_table(wait=True)

    # --8<-- [start:pynamodb-write]
    UserModel(user_id="u1", email="ada@example.com", name="Ada").save()
    UserModel(user_id="u2", email="grace@example.com", name="Grace").save()
    try:  # create only if absent
        UserModel(user_id="u1", email="x@example.com", name="X").save(
            condition=UserModel.user_id.does_not_exist()
        )
    except PutError as error:
        seen["create_again"] = error.cause_response_code  # ConditionalCheckFailedException
    ada = UserModel.get("u1")
    # --8<-- [end:pynamodb-write]
    seen["ada"] = ada.name

    # --8<-- [start:pynamodb-transaction]
    def place(order: OrderModel) -> None:
        """Write the order and count it on its user: both or neither."""
        with TransactWrite(connection=Connection()) as tx:
            tx.save(order, condition=OrderModel.order_id.does_not_exist())
            tx.update(
                UserModel(user_id=order.customer_id),
                actions=[UserModel.order_count.add(1)],
            )

    # --8<-- [end:pynamodb-transaction]
    for order_id, customer_id, day, total in ORDERS:
        place(OrderModel(order_id=order_id, customer_id=customer_id,
                         order_date=MAR_1 + timedelta(days=day), total=float(total)))  # fmt: skip
    try:
        place(OrderModel(order_id="o1", customer_id="u1", order_date=MAR_1, total=1))
    except TransactWriteError as error:
        seen["place_again"] = [
            reason.code if reason else None for reason in error.cancellation_reasons
        ]
    seen["order_count"] = UserModel.get("u1").order_count

    # --8<-- [start:pynamodb-query]
    start, end = FIRST_WEEK
    first_week = OrderModel.customer_orders.query("u1", OrderModel.order_date.between(start, end))
    # --8<-- [end:pynamodb-query]
    seen["first_week"] = [o.order_id for o in first_week]

    # --8<-- [start:pynamodb-pages]
    pages, last_key = [], None
    while True:
        page = OrderModel.customer_orders.query("u1", limit=2, last_evaluated_key=last_key)
        pages.append([o.order_id for o in page])
        last_key = page.last_evaluated_key  # the raw key: the client sees the table's keys
        if last_key is None:
            break
    # --8<-- [end:pynamodb-pages]
    seen["pages"] = pages

    # --8<-- [start:pynamodb-update]
    o1 = OrderModel.get("o1")
    o1.update(actions=[OrderModel.status.set("shipped")], condition=OrderModel.status == "pending")
    try:
        o1.update(
            actions=[OrderModel.status.set("shipped")], condition=OrderModel.status == "pending"
        )
    except UpdateError as error:
        seen["ship_again"] = error.cause_response_code
    # --8<-- [end:pynamodb-update]
    seen["status"] = OrderModel.get("o1").status

    # --8<-- [start:pynamodb-version]
    mine, theirs = OrderModel.get("o2"), OrderModel.get("o2")
    mine.total = 15
    mine.save()  # version 1 -> 2
    theirs.total = 99
    try:
        theirs.save()  # still version 1
    except PutError as error:
        seen["stale"] = error.cause_response_code
    # --8<-- [end:pynamodb-version]
    stored = OrderModel.get("o2")
    seen["o2"] = (stored.total, stored.version)

    new_orders = [
        OrderModel(order_id=order_id, customer_id=customer_id,
                   order_date=MAR_1 + timedelta(days=day), total=float(total))
        for order_id, customer_id, day, total in MORE
    ]  # fmt: skip
    # --8<-- [start:pynamodb-batch]
    with OrderModel.batch_write() as batch:
        for order in new_orders:
            batch.save(order)
    # --8<-- [end:pynamodb-batch]
    seen["u2_orders"] = OrderModel.customer_orders.count("u2")
    return seen


def with_singletable(db: DB) -> dict[str, Any]:
    """The same steps with singletable; returns the same answers."""
    seen: dict[str, Any] = {}
    db.create_table(users)
    db.create_table(orders)

    # --8<-- [start:singletable-write]
    db.put(User(user_id="u1", email="ada@example.com", name="Ada"))
    db.put(User(user_id="u2", email="grace@example.com", name="Grace"))
    try:  # create only if absent
        db.put(User(user_id="u1", email="x@example.com", name="X"), mode="create")
    except ConditionFailedError as error:
        seen["create_again"] = error.code  # ConditionalCheckFailedException
    ada = db.require(User, user_id="u1")  # db.get returns None instead of raising
    # --8<-- [end:singletable-write]
    seen["ada"] = ada.name

    # --8<-- [start:singletable-transaction]
    def place(order: Order) -> None:
        """Write the order and count it on its user: both or neither."""
        with db.transaction() as tx:
            tx.put(order, mode="create")
            tx.update(User, Update().add(User.order_count, 1), user_id=order.customer_id)

    # --8<-- [end:singletable-transaction]
    for order_id, customer_id, day, total in ORDERS:
        place(Order(order_id=order_id, customer_id=customer_id,
                    order_date=MAR_1 + timedelta(days=day), total=Decimal(total)))  # fmt: skip
    try:
        place(Order(order_id="o1", customer_id="u1", order_date=MAR_1, total=Decimal(1)))
    except TransactionCanceledError as error:
        seen["place_again"] = [
            None if reason["Code"] == "None" else reason["Code"] for reason in error.reasons
        ]
    seen["order_count"] = db.require(User, user_id="u1").order_count

    # --8<-- [start:singletable-query]
    first_week = db.query(Order.by_customer, customer_id="u1", order_date=FIRST_WEEK)
    # --8<-- [end:singletable-query]
    seen["first_week"] = [o.order_id for o in first_week]

    # --8<-- [start:singletable-pages]
    pages, cursor = [], None
    query = db.query(Order.of_customer, customer_id="u1").page_size(2)
    while True:
        page = query.after(cursor).page()
        pages.append([o.order_id for o in page.items])
        cursor = page.cursor  # an opaque, signed string: safe to hand to a client
        if cursor is None:
            break
    # --8<-- [end:singletable-pages]
    seen["pages"] = pages

    # --8<-- [start:singletable-update]
    ship = Update().set(Order.status, "shipped")
    db.update(Order, ship, condition=Order.status == "pending", order_id="o1")
    try:
        db.update(Order, ship, condition=Order.status == "pending", order_id="o1")
    except ConditionFailedError as error:
        seen["ship_again"] = error.code
    # --8<-- [end:singletable-update]
    seen["status"] = db.require(Order, order_id="o1").status

    # --8<-- [start:singletable-version]
    mine, theirs = db.require(Order, order_id="o2"), db.require(Order, order_id="o2")
    db.put(mine.model_copy(update={"total": Decimal(15)}))  # version 1 -> 2
    try:
        db.put(theirs.model_copy(update={"total": Decimal(99)}))  # still version 1
    except VersionConflictError as error:  # a ConditionFailedError
        seen["stale"] = error.code
    # --8<-- [end:singletable-version]
    stored = db.require(Order, order_id="o2")
    seen["o2"] = (stored.total, stored.version)

    new_orders = [
        Order(order_id=order_id, customer_id=customer_id,
              order_date=MAR_1 + timedelta(days=day), total=Decimal(total))
        for order_id, customer_id, day, total in MORE
    ]  # fmt: skip
    # --8<-- [start:singletable-batch]
    db.write_many(new_orders)  # puts and deletes, on any number of tables
    # --8<-- [end:singletable-batch]
    seen["u2_orders"] = db.query(Order.of_customer, customer_id="u2").count()
    return seen


def read_pynamodb_tables(db: DB) -> dict[str, Any]:
    """singletable over the tables PynamoDB wrote (its items have no entity-type
    attribute: an entity alone on its table reads them)."""
    seen: dict[str, Any] = {}
    # --8<-- [start:adopt]
    ada = db.require(User, user_id="u1")  # an item PynamoDB wrote
    week = db.query(Order.by_customer, customer_id="u1", order_date=FIRST_WEEK).all()
    # --8<-- [end:adopt]
    seen["ada"] = (ada.name, ada.order_count)
    seen["first_week"] = [(o.order_id, o.order_date, o.version) for o in week]
    # The same moment, written by each library: two texts.
    db.put(Order(order_id="o9", customer_id="u3", order_date=MAR_1, total=Decimal(1)))
    raw = {
        order_id: db.backend.call(
            "GetItem", {"TableName": "Orders", "Key": {"order_id": {"S": order_id}}}
        )["Item"]["order_date"]["S"]
        for order_id in ("o1", "o9")
    }
    seen["order_date_text"] = raw
    # Ranges compare those texts: a range ending exactly at a time PynamoDB wrote
    # misses it ("10:00:00.000000+0000" sorts after "10:00:00+00:00").
    day_before = (MAR_1 - timedelta(days=1), MAR_1)
    seen["ending_at_o1"] = [
        o.order_id
        for customer in ("u1", "u3")
        for o in db.query(Order.by_customer, customer_id=customer, order_date=day_before)
    ]
    # A user singletable wrote (with its _type attribute): PynamoDB reads it.
    db.put(User(user_id="u3", email="alan@example.com", name="Alan"))
    seen["pynamodb_reads_u3"] = UserModel.get("u3").name
    try:
        OrderModel.get("o9")
    except ValueError as error:  # PynamoDB parses only its own datetime text
        seen["pynamodb_reads_o9"] = str(error)
    return seen


def main() -> dict[str, Any]:
    """Both libraries, the same steps; then singletable on PynamoDB's tables."""
    with local_dynamodb() as engine:  # PynamoDB's requests go to this engine
        pynamodb = with_pynamodb()
        with DB() as db:  # a fresh engine of its own
            singletable = with_singletable(db)
        adopted = read_pynamodb_tables(DB(LocalBackend(engine)))
    for step, answer in pynamodb.items():
        print(f"{step}: PynamoDB {answer!r}, singletable {singletable[step]!r}")
    print("singletable reading PynamoDB's tables:", adopted)
    return {"pynamodb": pynamodb, "singletable": singletable, "adopted": adopted}


if __name__ == "__main__":
    main()
