"""The pytest plugin's fixtures, as docs/testing.md shows them (the page includes this file).

Nothing here is set up by a conftest: the fixtures come from the plugin that
installing singletable registers (the ``pytest11`` entry point).
"""

from __future__ import annotations

# --8<-- [start:model]
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import boto3
import pytest

from singletable import DB, Entity, Keys, Query, Table, TransactionCanceledError, Update
from singletable.backends.local import LocalEngine
from singletable.server import Server

shop = Table("shop")


class Product(Entity, table=shop):
    sku: str
    stock: int
    price: Decimal

    keys = Keys(pk="PRODUCT#{sku}", sk="PRODUCT")


class Order(Entity, table=shop):
    sku: str
    order_id: str
    quantity: int

    keys = Keys(pk="PRODUCT#{sku}", sk="ORDER#{order_id}")
    of_product = Query()


def place(db: DB, order: Order) -> None:
    """The code under test: an order takes stock, both or neither."""
    with db.transaction() as tx:
        tx.put(order, mode="create")
        tx.update(
            Product,
            Update().add(Product.stock, -order.quantity),
            condition=Product.stock >= order.quantity,
            sku=order.sku,
        )


# --8<-- [end:model]


# --8<-- [start:singletable-db]
def test_an_order_takes_stock(singletable_db: Callable[..., DB]) -> None:
    db = singletable_db(Product, Order)  # a fresh in-memory engine, the table created
    db.put(Product(sku="kb-01", stock=3, price=Decimal("49.90")))

    place(db, Order(sku="kb-01", order_id="o1", quantity=2))

    assert db.require(Product, sku="kb-01").stock == 1
    assert [o.order_id for o in db.query(Order.of_product, sku="kb-01")] == ["o1"]


def test_an_order_beyond_the_stock_is_refused(singletable_db: Callable[..., DB]) -> None:
    db = singletable_db(shop)  # a Table works too
    db.put(Product(sku="kb-01", stock=1, price=Decimal("49.90")))

    with pytest.raises(TransactionCanceledError) as refused:
        place(db, Order(sku="kb-01", order_id="o2", quantity=2))

    assert [reason["Code"] for reason in refused.value.reasons] == [
        "None",
        "ConditionalCheckFailed",
    ]
    assert db.query(Order.of_product, sku="kb-01").all() == []  # nothing was written


# --8<-- [end:singletable-db]


# --8<-- [start:boto3]
def test_plain_boto3_code(dynamodb_client: Any, dynamodb_engine: LocalEngine) -> None:
    dynamodb_client.create_table(**shop.create_table_request())
    # Clients the code under test creates itself are routed to the same engine (each
    # region has its own tables, as in DynamoDB: this client is in the table's region).
    other = boto3.client("dynamodb", region_name="us-east-1")
    other.put_item(TableName="shop", Item={"PK": {"S": "PRODUCT#x"}, "SK": {"S": "PRODUCT"}})

    found = dynamodb_engine.call("Scan", {"TableName": "shop"})  # look inside directly
    assert found["Count"] == 1


# --8<-- [end:boto3]


# --8<-- [start:server]
def test_over_http(dynamodb_server: Server) -> None:
    client = boto3.client(
        "dynamodb",
        endpoint_url=dynamodb_server.url,  # http://127.0.0.1:<a free port>
        region_name="us-east-1",
    )
    assert client.list_tables()["TableNames"] == []


# --8<-- [end:server]


def test_each_test_gets_a_fresh_engine(singletable_db: Callable[..., DB]) -> None:
    db = singletable_db(Product)
    assert db.get(Product, sku="kb-01") is None  # nothing left over from the tests above
