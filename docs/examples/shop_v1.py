"""Version 1 of a shop model (docs/migrations.md; tests/migrations runs it): customers found by
city, orders by customer and by status."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from singletable import Entity, GlobalIndex, Keys, Query, Table

app = Table("shop", indexes=[GlobalIndex("GSI1", pk="GSI1PK", sk="GSI1SK")])


# --8<-- [start:v1]
class Customer(Entity, table=app):
    customer_id: str
    full_name: str
    city: str

    keys = Keys(
        pk="CUSTOMER#{customer_id}",
        sk="PROFILE",
        GSI1=("CITY#{city}", "NAME#{full_name}"),
    )
    by_city = Query(index="GSI1")


class Order(Entity, table=app):
    customer_id: str
    order_id: str
    placed_on: date
    status: str
    total: Decimal

    keys = Keys(
        pk="CUSTOMER#{customer_id}",
        sk="ORDER#{order_id}",
        GSI1=("STATUS#{status}", "ORDER#{order_id}"),
    )
    for_customer = Query()
    by_status = Query(index="GSI1")


# --8<-- [end:v1]
