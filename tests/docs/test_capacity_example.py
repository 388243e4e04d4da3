"""Capacity enforcement and bulk loading, as docs/testing.md shows them (the page
includes this file). The engines here have a clock of their own: time passes only
when a test says so, so what is throttled is exact."""

from __future__ import annotations

# --8<-- [start:model]
from collections.abc import Callable

import pytest

from singletable import DB, Entity, Keys, Table, ThrottledError
from singletable.backends.engine import LocalBackend
from singletable.backends.local import DynamoDBError, LocalEngine, Seed

store = Table("store")


class Product(Entity, table=store):
    sku: str
    stock: int

    keys = Keys(pk="PRODUCT#{sku}", sk="PRODUCT")


class Clock:
    """The engine's time: it stands still until a test moves it."""

    now = 1_700_000_000.0

    def __call__(self) -> float:
        return self.now


# --8<-- [end:model]


# --8<-- [start:enforce]
def test_bursts_beyond_the_provisioned_throughput_are_throttled() -> None:
    clock = Clock()
    engine = LocalEngine(ttl_sweep_interval=None, clock=clock)
    db = DB(LocalBackend(engine))
    db.create_table(store)
    engine.call(
        "UpdateTable",
        {
            "TableName": "store",
            "BillingMode": "PROVISIONED",
            "ProvisionedThroughput": {"ReadCapacityUnits": 5, "WriteCapacityUnits": 5},
        },
    )
    engine.enforce_capacity()
    clock.now += 60  # a minute unused: 5 x 60 units kept as burst capacity
    for n in range(305):  # the 5 units of the first second, plus the burst
        db.put(Product(sku=f"p{n}", stock=n))
    with pytest.raises(ThrottledError) as raised:
        db.put(Product(sku="one-too-many", stock=0))
    assert raised.value.code == "ProvisionedThroughputExceededException"
    clock.now += 1  # a second later, 5 more units
    db.put(Product(sku="later", stock=0))


def test_a_hot_key_is_throttled_even_on_demand() -> None:
    engine = LocalEngine(ttl_sweep_interval=None, clock=Clock())
    db = DB(LocalBackend(engine))
    db.create_table(store)  # on-demand
    with engine.enforce_capacity():
        for n in range(1000):  # 1,000 write units a second for one partition key
            db.put(Product(sku="hot", stock=n))
        with pytest.raises(ThrottledError) as raised:
            db.put(Product(sku="hot", stock=0))
        assert raised.value.code == "ThrottlingException"
        db.put(Product(sku="cold", stock=1))  # the other keys are fine


# The marker turns it on for the plugin's dynamodb_engine (real time there).
@pytest.mark.enforce_capacity(burst_seconds=60)
def test_with_the_marker(singletable_db: Callable[..., DB], dynamodb_engine: LocalEngine) -> None:
    db = singletable_db(Product)
    dynamodb_engine.call(
        "UpdateTable",
        {
            "TableName": "store",
            "BillingMode": "PROVISIONED",
            "ProvisionedThroughput": {"ReadCapacityUnits": 1, "WriteCapacityUnits": 1},
        },
    )
    with pytest.raises(ThrottledError):
        for n in range(10):  # one write unit a second: a burst of ten is too much
            db.put(Product(sku=f"p{n}", stock=n))


# --8<-- [end:enforce]


# --8<-- [start:bulk]
# Checked once (per table schema), loaded by every test that needs it.
PRODUCTS = Seed(Product(sku=f"p{n}", stock=n).to_item() for n in range(1000))


def test_from_seed_data(singletable_db: Callable[..., DB], dynamodb_engine: LocalEngine) -> None:
    db = singletable_db(Product)
    assert dynamodb_engine.load("store", PRODUCTS) == 1000
    assert db.get(Product, sku="p7") == Product(sku="p7", stock=7)
    with pytest.raises(DynamoDBError, match=r"item 1: .*Missing the key"):
        dynamodb_engine.load("store", [PRODUCTS.items[0], {"stock": {"N": "1"}}])


# --8<-- [end:bulk]
