"""Failures on demand, seed data and snapshots, as docs/testing.md shows them (the page
includes this file). The fixtures come from the plugin; nothing here is set up by a
conftest (the session override below would normally live in one)."""

from __future__ import annotations

# --8<-- [start:model]
from collections.abc import Callable
from pathlib import Path

import pytest

from singletable import DB, Entity, Keys, Table, ThrottledError, TransactionCanceledError
from singletable.backends.engine import LocalBackend
from singletable.backends.local import Faults, LocalEngine
from singletable.pytest_plugin import seed

store = Table("store")


class Product(Entity, table=store):
    sku: str
    stock: int

    keys = Keys(pk="PRODUCT#{sku}", sk="PRODUCT")


# --8<-- [end:model]


# --8<-- [start:faults]
def test_a_throttled_write_reaches_the_caller(
    singletable_db: Callable[..., DB], dynamodb_faults: Faults
) -> None:
    db = singletable_db(Product)
    dynamodb_faults.inject("ProvisionedThroughputExceededException", operation="PutItem", nth=2)
    db.put(Product(sku="a", stock=1))
    with pytest.raises(ThrottledError):
        db.put(Product(sku="b", stock=1))  # the second PutItem is throttled
    db.put(Product(sku="c", stock=1))  # nth=2 fires once


def test_batch_writes_survive_unprocessed_items(
    singletable_db: Callable[..., DB], dynamodb_faults: Faults
) -> None:
    db = singletable_db(Product)
    products = [Product(sku=f"p{n}", stock=n) for n in range(10)]
    # The first two BatchWriteItem calls leave 4 items unprocessed; write_many retries.
    with dynamodb_faults.inject(unprocessed=4, operation="BatchWriteItem", times=2) as fault:
        assert db.write_many(products) == 10
    assert fault.fired == 2
    assert all(db.get_many(Product, [{"sku": f"p{n}"} for n in range(10)]))


def test_a_conflict_on_one_item_cancels_the_transaction(dynamodb_engine: LocalEngine) -> None:
    db = DB(LocalBackend(dynamodb_engine))
    db.create_table(store)
    hot = {"PK": {"S": "PRODUCT#hot"}}  # the items whose key holds these values
    conflict = dynamodb_engine.faults.inject("TransactionConflictException", key=hot)
    with conflict, pytest.raises(TransactionCanceledError) as cancelled, db.transaction() as tx:
        tx.put(Product(sku="cold", stock=1))
        tx.put(Product(sku="hot", stock=1))
    assert [reason["Code"] for reason in cancelled.value.reasons] == [
        "None",
        "TransactionConflict",
    ]


# --8<-- [end:faults]


# --8<-- [start:seed]
DATA = Path(__file__).parent / "data"


def test_seeded_from_an_export(
    singletable_db: Callable[..., DB], dynamodb_seed: Callable[..., int]
) -> None:
    db = singletable_db(Product)
    # One {"Item": ...} a line: the format of `singletable data export`.
    assert dynamodb_seed(DATA / "products.jsonl", table="store") == 3
    assert dynamodb_seed([Product(sku="new", stock=5)]) == 1  # or entities
    product = db.get(Product, sku="kb-01")
    assert product is not None and product.stock == 3


# --8<-- [end:seed]


# --8<-- [start:snapshot]
# In conftest.py: load the data once per session.
@pytest.fixture(scope="session")
def dynamodb_session_data(dynamodb_session_engine: LocalEngine) -> None:
    DB(LocalBackend(dynamodb_session_engine)).create_table(store)
    seed(dynamodb_session_engine, DATA / "products.jsonl", table="store")
    seed(dynamodb_session_engine, [Product(sku=f"bulk-{n}", stock=n) for n in range(1000)])


# Each test starts from that data, whatever the previous test changed.
@pytest.mark.parametrize("run", [1, 2])
def test_from_the_snapshot(dynamodb_snapshot_engine: LocalEngine, run: int) -> None:
    db = DB(LocalBackend(dynamodb_snapshot_engine))
    assert db.get(Product, sku="kb-01") == Product(sku="kb-01", stock=3)
    assert db.get(Product, sku="extra") is None  # the previous run's put is gone
    db.put(Product(sku="extra", stock=run))
    db.delete(Product, sku="kb-01")


# --8<-- [end:snapshot]


# --8<-- [start:capacity]
def test_what_a_restock_costs(
    singletable_db: Callable[..., DB], dynamodb_engine: LocalEngine
) -> None:
    db = singletable_db(Product)
    with dynamodb_engine.capacity() as used:
        db.write_many([Product(sku=f"p{n}", stock=n) for n in range(30)])
        db.get(Product, sku="p1")  # eventually consistent: half a unit
    assert used.write_units == 30  # items under 1 KB: one unit each
    assert used.read_units == 0.5
    assert used.table("store").write_units == 30


# --8<-- [end:capacity]
