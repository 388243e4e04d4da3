"""Version 2 of the shop model of shop_v1.py: a customer's full_name is now name and
customers gain a country, which the city index's key now starts with; an order's sort
key gains its date (a customer's orders come out by date) and the status index sorts
by customer and date."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from singletable import Entity, GlobalIndex, Keys, Query, Table
from singletable.migrations import Upgrade

app = Table("shop", indexes=[GlobalIndex("GSI1", pk="GSI1PK", sk="GSI1SK")])


# --8<-- [start:v2]
class Customer(Entity, table=app, schema_version=2):
    customer_id: str
    name: str  # full_name in version 1
    city: str
    country: str = "NZ"  # new, with a default for the stored customers

    keys = Keys(
        pk="CUSTOMER#{customer_id}",
        sk="PROFILE",
        GSI1=("COUNTRY#{country}#CITY#{city}", "NAME#{name}"),  # was CITY#{city}
    )
    by_city = Query(index="GSI1")

    from_v1 = Upgrade(1, rename={"full_name": "name"})


class Order(Entity, table=app):
    customer_id: str
    order_id: str
    placed_on: date
    status: str
    total: Decimal

    keys = Keys(
        pk="CUSTOMER#{customer_id}",
        sk="ORDER#{placed_on}#{order_id}",  # was ORDER#{order_id}: the items move
        GSI1=("STATUS#{status}", "CUSTOMER#{customer_id}#{placed_on}"),
    )
    for_customer = Query()
    by_status = Query(index="GSI1")


# --8<-- [end:v2]
