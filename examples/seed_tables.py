"""The tables DynamoDB overviews start with, modelled side by side in one ``DB``.

Run it with ``python examples/seed_tables.py`` (the embedded engine, in memory).

Three designs, each as its own table, in one application:

* ``Users`` and ``Orders``, keyed by plain attributes: a user is keyed by
  ``user_id`` and ``created_at`` (a number), an order by ``order_id``, with a
  global index ``CustomerIndex`` on ``customer_id`` and ``order_date`` (a number)
  answering "a customer's orders in a date range". The fields *are* the key
  attributes: no key templates, and the key types (``S``, ``N``) come from the
  field types.
* ``Accounts``, keyed by ``AccountID`` (the field ``account_id`` under that
  alias): a transfer is one transaction, debiting only if the balance covers it.
* ``shop``, a single-table design with key templates: a customer and their
  purchases under one partition, read together as a collection.

A transaction and a batch write each span several of these tables.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any, Literal

from pydantic import Field

from singletable import (
    DB,
    Collection,
    Entity,
    GlobalIndex,
    Keys,
    Query,
    Table,
    TransactionCanceledError,
    Update,
)

# --8<-- [start:plain-tables]
users = Table("Users", pk="user_id", sk="created_at")
orders = Table(
    "Orders",
    pk="order_id",
    sk=None,
    indexes=[GlobalIndex("CustomerIndex", pk="customer_id", sk="order_date")],
)


class User(Entity, table=users):
    user_id: str  # the partition key attribute itself (S)
    created_at: int  # the sort key, epoch seconds (N, from the field's type)
    name: str
    status: Literal["active", "inactive"] = "active"
    balance: Decimal = Decimal(0)

    rows = Query()  # every row of a user_id


class Order(Entity, table=orders):
    order_id: str
    customer_id: str  # CustomerIndex's partition key
    order_date: int  # CustomerIndex's sort key (N)
    amount: Decimal

    by_customer = Query(index="CustomerIndex", sort="between")


# --8<-- [end:plain-tables]

# --8<-- [start:accounts]
accounts = Table("Accounts", pk="AccountID", sk=None)


class Account(Entity, table=accounts):
    account_id: str = Field(alias="AccountID")  # the key, under its attribute name
    balance: Decimal = Field(alias="Balance")


def transfer(db: DB, source: str, target: str, amount: Decimal) -> None:
    """Move ``amount`` from ``source`` to ``target``: both or neither."""
    with db.transaction() as tx:
        tx.update(
            Account,
            Update().add(Account.balance, -amount),
            condition=Account.balance >= amount,
            account_id=source,
        )
        tx.update(Account, Update().add(Account.balance, amount), account_id=target)


# --8<-- [end:accounts]

shop = Table("shop")


class Customer(Entity, table=shop):
    customer_id: str
    name: str

    keys = Keys(pk="CUSTOMER#{customer_id}", sk="PROFILE")


class Purchase(Entity, table=shop):
    customer_id: str
    purchase_id: str
    total: Decimal

    keys = Keys(pk="CUSTOMER#{customer_id}", sk="PURCHASE#{purchase_id}")


customer_page = Collection(Customer, Purchase, name="customer_page")

MARCH_1, APRIL_1 = 1772323200, 1775001600  # 2026-03-01 and 2026-04-01, UTC


def main(database: DB | None = None) -> dict[str, Any]:
    """Create the four tables, use each design, and return what was seen (on
    ``database``, by default the embedded engine in memory)."""
    seen: dict[str, Any] = {}
    db = database or DB()
    try:
        for table in (users, orders, accounts, shop):
            db.create_table(table)

        # Users / Orders (plain attributes). A batch write spans both tables.
        db.write_many(
            puts=[
                User(user_id="user123", created_at=1699200000, name="Ada", balance=Decimal(500)),
                Order(order_id="o1", customer_id="user123", order_date=MARCH_1 + 86400, amount=20),
                Order(
                    order_id="o2", customer_id="user123", order_date=MARCH_1 + 9 * 86400, amount=35
                ),
                Order(order_id="o3", customer_id="user123", order_date=APRIL_1 + 86400, amount=50),
                Order(order_id="o4", customer_id="grace", order_date=MARCH_1 + 2 * 86400, amount=5),
            ]
        )
        user = db.update(
            User, Update().set(User.status, "inactive"), user_id="user123", created_at=1699200000
        )
        print(f"Users: {user.user_id} (created {user.created_at}) is now {user.status}")
        march = db.query(
            Order.by_customer, customer_id="user123", order_date=(MARCH_1, APRIL_1 - 1)
        )
        seen["march"] = [o.order_id for o in march]
        print(f"Orders: user123's orders in March 2026: {seen['march']}")

        # Seed 001's transaction: an order placed and paid for, across two tables.
        with db.transaction() as tx:
            tx.put(Order(order_id="o5", customer_id="user123", order_date=APRIL_1, amount=100))
            tx.update(
                User,
                Update().add(User.balance, Decimal(-100)),
                condition=User.balance >= 100,
                user_id="user123",
                created_at=1699200000,
            )
        balance = db.require(User, user_id="user123", created_at=1699200000).balance
        seen["user_balance"] = balance
        print(f"Orders + Users: o5 placed and paid; user123's balance {balance}")

        # Accounts (seed 003's transfer).
        db.write_many(
            puts=[
                Account(account_id="A", balance=Decimal(100)),
                Account(account_id="B", balance=Decimal(50)),
            ]
        )
        transfer(db, "A", "B", Decimal(30))
        try:
            transfer(db, "A", "B", Decimal(500))
        except TransactionCanceledError as error:
            seen["refused"] = [reason.get("Code") for reason in error.reasons]
        balances = {a: db.require(Account, account_id=a).balance for a in ("A", "B")}
        seen["balances"] = balances
        print(
            f"Accounts: 30 moved A -> B; 500 refused ({seen['refused'][0]}); "
            f"A={balances['A']} B={balances['B']}"
        )

        # The single-table design beside them.
        db.put(Customer(customer_id="alice", name="Alice"))
        db.write_many(
            puts=[Purchase(customer_id="alice", purchase_id=p, total=Decimal(9)) for p in "xy"]
        )
        page = db.collection(customer_page, customer_id="alice")
        seen["page"] = (len(page[Customer]), len(page[Purchase]))
        print(f"shop: alice's partition holds 1 profile and {len(page[Purchase])} purchases")
    finally:
        if database is None:
            db.close()
    return seen


if __name__ == "__main__":
    main()
