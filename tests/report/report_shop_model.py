"""A small e-commerce model for the report tests (imported by name by the CLI test)."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Annotated, Literal

from singletable.entity import TTL, Entity, Keys, Version
from singletable.patterns import Collection, Query
from singletable.table import GlobalIndex, LocalIndex, Table

shop = Table(
    "shop",
    indexes=[
        GlobalIndex("GSI1", pk="GSI1PK", sk="GSI1SK"),
        GlobalIndex("GSI2", pk="GSI2PK", sk="GSI2SK", projection="KEYS_ONLY"),
        LocalIndex("LSI1", sk="LSI1SK", projection=["total"]),
    ],
    ttl_attribute="expires",
    stream="NEW_AND_OLD_IMAGES",
)


class Customer(Entity, table=shop):
    customer_id: str
    name: str
    email: str
    version: Annotated[int, Version] = 0

    keys = Keys(pk="CUSTOMER#{customer_id}", sk="PROFILE")


class Order(Entity, table=shop):
    customer_id: str
    order_id: str
    created_at: datetime
    status: Literal["pending", "shipped"]
    total: Decimal

    keys = Keys(
        pk="CUSTOMER#{customer_id}",
        sk="ORDER#{created_at}#{order_id}",
        GSI1=("STATUS#{status}", "{created_at}"),
        LSI1="TOTAL#{total}",
    )

    for_customer = Query()
    since = Query(sort="gte", reverse=True)
    by_status = Query(index="GSI1", sort="between")


class OrderLine(Entity, table=shop):
    customer_id: str
    order_id: str
    line: int
    sku: str
    quantity: int

    keys = Keys(pk="CUSTOMER#{customer_id}", sk="ORDER#{order_id}#LINE#{line:03}")

    of_order = Query(sort="eq")


class Cart(Entity, table=shop):
    customer_id: str
    items: list[str] = []
    expires: Annotated[datetime, TTL]

    keys = Keys(pk="CART#{customer_id}", sk="CART")


class TopSeller(Entity, table=shop):
    sku: str
    sold: int

    keys = Keys(pk="TOPSELLERS", sk="SOLD#{sold}#{sku}")

    ranking = Query(reverse=True)


customer_page = Collection(Customer, Order, name="customer_page")
