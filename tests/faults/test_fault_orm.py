"""The modelling layer under injected faults: batch retries with backoff and
transaction error reporting, on the embedded engine and over HTTP.

Over HTTP the client is boto3 with its own retries turned off (``total_max_attempts=1``),
so every retry counted here is the ORM's.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.config import Config

from singletable import DB, Entity, Keys, Table, _flows
from singletable.backends.boto3 import Boto3Backend
from singletable.backends.engine import LocalBackend
from singletable.backends.local import LocalEngine
from singletable.errors import (
    ThrottledError,
    TransactionCanceledError,
    TransactionConflictError,
)
from singletable.server import Server

ledger = Table("ledger")


class Entry(Entity, table=ledger):
    account: str
    n: int

    keys = Keys(pk="ACCOUNT#{account}", sk="ENTRY#{n}")


@pytest.fixture(params=["embedded", "http"])
def setup(request: pytest.FixtureRequest) -> Iterator[tuple[DB, LocalEngine]]:
    """A DB on a fresh engine, in process or over HTTP (boto3 retries off)."""
    if request.param == "embedded":
        engine = LocalEngine(ttl_sweep_interval=None)
        db = DB(LocalBackend(engine))
        db.create_table(ledger)
        yield db, engine
        engine.close()
        return
    with Server() as server:
        server.start()
        client = boto3.client(
            "dynamodb",
            endpoint_url=server.url,
            region_name="us-east-1",
            config=Config(retries={"total_max_attempts": 1, "mode": "standard"}),
        )
        db = DB(Boto3Backend(client))
        db.create_table(ledger)
        yield db, server.engine
        client.close()


@pytest.fixture
def sleeps(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """The backoff waits the sync driver makes (recorded, not slept)."""
    waits: list[float] = []
    monkeypatch.setattr(_flows.time, "sleep", waits.append)
    return waits


def stored(engine: LocalEngine) -> int:
    return int(engine.call("Scan", {"TableName": "ledger", "Select": "COUNT"})["Count"])


def test_write_many_retries_unprocessed_items_with_backoff(
    setup: tuple[DB, LocalEngine], sleeps: list[float]
) -> None:
    db, engine = setup
    entries = [Entry(account="a", n=n) for n in range(30)]  # two requests: 25 + 5
    with engine.faults.inject(unprocessed=10, operation="BatchWriteItem", nth=1, times=3) as fault:
        assert db.write_many(entries) == 30
    assert stored(engine) == 30  # every item written in the end
    # First chunk: 25 -> 10 left -> 10 left -> 10 left -> done; then the 5 in one call.
    assert fault.matched == 5 and fault.fired == 3
    assert sleeps == [0.025, 0.05, 0.1]  # exponential backoff between retries


def test_get_many_retries_unprocessed_keys(
    setup: tuple[DB, LocalEngine], sleeps: list[float]
) -> None:
    db, engine = setup
    db.write_many([Entry(account="a", n=n) for n in range(6)])
    with engine.faults.inject(unprocessed=4, operation="BatchGetItem", times=2):
        found = db.get_many(Entry, [{"account": "a", "n": n} for n in (5, 0, 9, 3)])
    assert [e.n if e else None for e in found] == [5, 0, None, 3]
    assert len(sleeps) == 2


def test_batch_gives_up_after_its_attempts(
    setup: tuple[DB, LocalEngine], sleeps: list[float]
) -> None:
    db, engine = setup
    fault = engine.faults.inject(unprocessed=1, operation="BatchWriteItem")
    with fault, pytest.raises(ThrottledError, match="1 writes still unprocessed after 8 attempts"):
        db.write_many([Entry(account="a", n=1), Entry(account="a", n=2)])
    assert fault.matched == 8
    assert len(sleeps) == 7
    assert stored(engine) == 1  # the processed one stays written


def test_throttled_batch_is_retried_then_reported(
    setup: tuple[DB, LocalEngine], sleeps: list[float]
) -> None:
    db, engine = setup
    fault = engine.faults.inject(
        "ProvisionedThroughputExceededException", operation="BatchWriteItem"
    )
    with fault, pytest.raises(ThrottledError) as raised:
        db.write_many([Entry(account="a", n=1)])
    assert raised.value.code == "ProvisionedThroughputExceededException"
    assert fault.matched == 8 and len(sleeps) == 7  # the batch attempts, with backoff
    assert stored(engine) == 0


def test_a_wholly_throttled_batch_is_retried(
    setup: tuple[DB, LocalEngine], sleeps: list[float]
) -> None:
    db, engine = setup
    fault = engine.faults.inject("ThrottlingException", operation="BatchGetItem", times=2)
    db.write_many([Entry(account="a", n=n) for n in range(3)])
    with fault:
        found = db.get_many(Entry, [{"account": "a", "n": n} for n in range(3)])
    assert [e.n if e else None for e in found] == [0, 1, 2]
    assert sleeps == [0.025, 0.05]


def test_transaction_conflict_is_reported_per_action(setup: tuple[DB, LocalEngine]) -> None:
    db, engine = setup
    conflicting = {"PK": {"S": "ACCOUNT#b"}, "SK": {"S": "ENTRY#2"}}
    with engine.faults.inject("TransactionConflictException", key=conflicting):
        with pytest.raises(TransactionCanceledError) as raised, db.transaction() as tx:
            tx.put(Entry(account="a", n=1))
            tx.put(Entry(account="b", n=2))
        assert [r["Code"] for r in raised.value.reasons] == ["None", "TransactionConflict"]
        # The ORM names the action hit, by entity and key.
        assert str(raised.value).endswith(
            "put Entry (account='b', n=2): TransactionConflict "
            "(Transaction is ongoing for the item)"
        )
        # A plain write of the item in the transaction: TransactionConflictException.
        with pytest.raises(TransactionConflictError):
            db.put(Entry(account="b", n=2))
    assert stored(engine) == 0
    db.put(Entry(account="b", n=2))  # the rule is gone


def test_boto3_retries_an_injected_500(dynamodb_server: Server) -> None:
    """With boto3's standard retries on, an InternalServerError (HTTP 500) is retried by
    boto3 itself: the rule sees every attempt (the plugin's server fixture)."""
    client = boto3.client(
        "dynamodb",
        endpoint_url=dynamodb_server.url,
        region_name="us-east-1",
        config=Config(retries={"max_attempts": 3, "mode": "standard"}),
    )
    DB(Boto3Backend(client)).create_table(ledger)
    faults = dynamodb_server.engine.faults
    with faults.inject("InternalServerError", operation="GetItem", times=2) as fault:
        response: Any = client.get_item(
            TableName="ledger", Key={"PK": {"S": "x"}, "SK": {"S": "y"}}
        )
    assert response["ResponseMetadata"]["RetryAttempts"] == 2
    assert fault.matched == 3
    client.close()
