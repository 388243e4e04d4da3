"""Static type cases, checked by mypy (with the plugin ``singletable.mypy``) in
``test_typing.py``; not a test module, and nothing here runs under pytest.

Every ``assert_type`` must hold under ``mypy --strict`` with the plugin enabled.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from enum import Enum
from typing import Literal, assert_type

from pydantic import BaseModel
from pydantic.fields import FieldInfo

from singletable.conditions import Condition, Expr, FieldPath, field_path
from singletable.entity import Entity, Keys
from singletable.table import Table
from singletable.updates import Update, UpdateValue, if_not_exists


class Status(Enum):
    PENDING = "pending"
    SHIPPED = "shipped"


class Address(BaseModel):
    city: str
    zip: str | None = None


class Line(BaseModel):
    sku: str
    price: Decimal


app = Table("typing_cases")


class Order(Entity, table=app):
    order_id: str
    total: Decimal
    count: int = 0
    ratio: float = 0.0
    status: Status = Status.PENDING
    kind: Literal["web", "shop"] = "web"
    note: str | None = None
    created: datetime | None = None
    address: Address | None = None
    lines: list[Line] = []
    meta: dict[str, int] = {}
    tags: set[str] = set()

    keys = Keys(pk="ORDER#{order_id}", sk="ORDER")


# Class-level access is a typed path; None is dropped from the value type.
assert_type(Order.total, FieldPath[Decimal])
assert_type(Order.note, FieldPath[str])
assert_type(Order.created, FieldPath[datetime])
assert_type(Order.kind, FieldPath[Literal["web", "shop"]])

# Comparisons are conditions, for every numeric kind a Decimal field accepts.
assert_type(Order.total > 100, Condition)
assert_type(Order.total <= 1.5, Condition)
assert_type(Order.total == Decimal(1), Condition)
assert_type(Order.total != 0, Condition)
assert_type(Order.count >= 3, Condition)
assert_type(Order.ratio < 1, Condition)
assert_type(Order.status == Status.SHIPPED, Condition)
assert_type(Order.kind == "shop", Condition)
assert_type(Order.created > datetime(2026, 1, 1), Condition)
assert_type(Order.total < Order.count, Condition)  # path to path
assert_type(Order.total.between(1, 10), Condition)
assert_type(Order.kind.is_in("web", "shop"), Condition)
assert_type(Order.note.exists(), Condition)
assert_type(Order.note.begins_with("x"), Condition)
assert_type(Order.tags.contains("gift"), Condition)
assert_type(Order.tags.size(), Expr[int])
assert_type(Order.tags.size() > 2, Condition)
assert_type(Order.meta.attribute_type("M"), Condition)
assert_type((Order.total > 1) & ~Order.note.exists() | (Order.kind == "web"), Condition)

# Nested members, list elements and map members are typed too.
assert_type(Order.address.city, FieldPath[str])
assert_type(Order.address.zip, FieldPath[str])
assert_type(Order.lines[0], FieldPath[Line])
assert_type(Order.lines[0].price, FieldPath[Decimal])
assert_type(Order.lines[0].price > 3, Condition)
assert_type(Order.meta["k"], FieldPath[int])
assert_type(Order.meta.k, FieldPath[int])
assert_type(Order.address.label, str)  # FieldPath's own attributes keep their types

# Updates.
assert_type(Order.total - 1, UpdateValue[Decimal])
assert_type(Order.count + 1, UpdateValue[int])
assert_type(if_not_exists(Order.count, 0) + 1, UpdateValue[int])
assert_type(
    Update()
    .set(Order.total, 5)
    .set(Order.kind, "shop")
    .set(Order.count, Order.count + 1)
    .set(Order.note, None)
    .remove(Order.created)
    .add(Order.tags, {"a"})
    .append(Order.lines, [Line(sku="s", price=Decimal(1))]),
    Update,
)

# Instances are untouched; type[Order] works like the class.
order = Order(order_id="o", total=Decimal(1))
assert_type(order.total, Decimal)
assert_type(order.note, str | None)


def on_class(cls: type[Order]) -> Condition:
    assert_type(cls.total, FieldPath[Decimal])
    return cls.total > 1


# field_path() is the no-plugin spelling; with the plugin it changes nothing.
assert_type(field_path(Order.total), FieldPath[Decimal])
assert_type(field_path(Order.total) > 1, Condition)

# Not fields: declarations keep their own types.
assert_type(Order.keys, Keys)
assert_type(Order.model_fields, dict[str, FieldInfo])


# --------------------------------------------------------------------------- results


from singletable import DB, AsyncDB, Collection, Query  # noqa: E402
from singletable.db import AsyncScan, SyncScan  # noqa: E402


class Review(Entity, table=app):
    product_id: str
    review_id: str
    stars: int

    keys = Keys(pk="PRODUCT#{product_id}", sk="REVIEW#{review_id}")
    for_product = Query()


def _results(db: DB, review: Review) -> None:
    assert_type(db.get(Review, product_id="p", review_id="r"), Review | None)
    assert_type(db.require(Review, product_id="p", review_id="r"), Review)
    assert_type(db.put(review), Review)
    assert_type(db.query(Review.for_product, product_id="p").all(), list[Review])
    assert_type(db.query(Review.for_product, product_id="p").first(), Review | None)
    assert_type(db.query(Review.for_product, product_id="p").page().items, list[Review])
    for found in db.query(Review.for_product, product_id="p").where(Review.stars >= 4):
        assert_type(found, Review)
    assert_type(db.get_many(Review, [{"product_id": "p", "review_id": "r"}]), list[Review | None])
    assert_type(db.scan(Review), SyncScan[Review])
    assert_type(db.scan(Review).where(Review.stars >= 4).limit(5).all(), list[Review])
    assert_type(db.scan(Review).segments(4).page().items, list[Review])
    for scanned in db.scan(Review).segment(0, 2):
        assert_type(scanned, Review)
    assert_type(db.refresh(Review(product_id="p", review_id="r", stars=5)), Review)
    assert_type(db.find(Review, product_id="p").all(), list[Review])
    everything = db.collection(Collection(Review), product_id="p")
    assert_type(everything[Review], list[Review])


async def _async_results(db: AsyncDB) -> None:
    assert_type(await db.get(Review, product_id="p", review_id="r"), Review | None)
    assert_type(await db.query(Review.for_product, product_id="p").all(), list[Review])
    async for found in db.query(Review.for_product, product_id="p"):
        assert_type(found, Review)
    assert_type(db.scan(Review), AsyncScan[Review])
    assert_type(await db.scan(Review).segments(2).all(), list[Review])
    async for scanned in db.scan(Review).where(Review.stars >= 4):
        assert_type(scanned, Review)
    assert_type(await db.refresh(Review(product_id="p", review_id="r", stars=5)), Review)
    assert_type(await db.find(Review, product_id="p").first(), Review | None)


# Plain-attribute keys: the fields are the key attributes; results are typed the same.
users = Table("typing_users", pk="user_id", sk="created_at")


class User(Entity, table=users):
    user_id: str
    created_at: int
    email: str | None = None

    rows = Query(sort="between")


def _plain_results(db: DB, user: User) -> None:
    assert_type(User.created_at, FieldPath[int])
    assert_type(db.get(User, user_id="u", created_at=1), User | None)
    assert_type(db.put(user), User)
    assert_type(db.query(User.rows, user_id="u", created_at=(1, 2)).all(), list[User])
    assert_type(db.delete(User, user_id="u", created_at=1), User | None)
    assert_type(db.update(User, Update().set(User.email, "a@b"), user_id="u", created_at=1), User)


async def _async_plain_results(db: AsyncDB) -> None:
    assert_type(await db.get(User, user_id="u", created_at=1), User | None)
    assert_type(await db.query(User.rows, user_id="u", created_at=(1, 2)).all(), list[User])
