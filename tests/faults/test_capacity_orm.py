"""The modelling layer against capacity enforcement: batch writes and reads on an
under-provisioned table come back partial or wholly throttled, and the ORM's retries
with backoff get them through as the table's capacity refills.

The engine's clock is a fake one that the ORM's backoff sleeps advance, so what gets
throttled is exact; over HTTP, boto3's own retries are off (every retry is the ORM's).
"""

from __future__ import annotations

from collections.abc import Iterator

import boto3
import pytest
from botocore.config import Config

from singletable import DB, Entity, Keys, Table, _flows
from singletable.backends.boto3 import Boto3Backend
from singletable.backends.engine import LocalBackend
from singletable.backends.local import LocalEngine
from singletable.errors import ThrottledError
from singletable.server import Server

ledger = Table("ledger")


class Entry(Entity, table=ledger):
    account: str
    n: int

    keys = Keys(pk="ACCOUNT#{account}", sk="ENTRY#{n}")


class Clock:
    def __init__(self) -> None:
        self.now = 1_000_000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    """The engine's time, moved on by the ORM's backoff waits (never slept)."""
    clock = Clock()

    def sleep(seconds: float) -> None:
        clock.now += seconds

    monkeypatch.setattr(_flows.time, "sleep", sleep)
    return clock


@pytest.fixture(params=["embedded", "http"])
def setup(request: pytest.FixtureRequest, clock: Clock) -> Iterator[tuple[DB, LocalEngine]]:
    """A DB on a fresh engine whose ``ledger`` table has 10 read and 10 write units."""
    engine = LocalEngine(ttl_sweep_interval=None, clock=clock)
    DB(LocalBackend(engine)).create_table(ledger)
    engine.call(
        "UpdateTable",
        {
            "TableName": "ledger",
            "BillingMode": "PROVISIONED",
            "ProvisionedThroughput": {"ReadCapacityUnits": 10, "WriteCapacityUnits": 10},
        },
    )
    if request.param == "embedded":
        yield DB(LocalBackend(engine)), engine
        engine.close()
        return
    with Server(engine=engine) as server:
        server.start()
        client = boto3.client(
            "dynamodb",
            endpoint_url=server.url,
            region_name="us-east-1",
            config=Config(retries={"total_max_attempts": 1, "mode": "standard"}),
        )
        yield DB(Boto3Backend(client)), engine
        client.close()


def stored(engine: LocalEngine) -> int:
    return int(engine.call("Scan", {"TableName": "ledger", "Select": "COUNT"})["Count"])


def test_write_many_gets_through_throttling(setup: tuple[DB, LocalEngine], clock: Clock) -> None:
    db, engine = setup
    started = clock.now
    with engine.enforce_capacity() as enforcement:
        assert db.write_many([Entry(account=str(n % 3), n=n) for n in range(30)]) == 30
    assert stored(engine) == 30
    assert enforcement.throttled > 20  # most of the items were handed back at least once
    # 30 writes at 10 units a second, starting with 10: about 2 seconds of backoff.
    assert 1.5 < clock.now - started < 4


def test_get_many_gets_through_throttling(setup: tuple[DB, LocalEngine], clock: Clock) -> None:
    db, engine = setup
    db.write_many([Entry(account="a", n=n) for n in range(40)])
    clock.now += 1  # the write units refill; reads start with 10 units
    with engine.enforce_capacity() as enforcement:
        found = db.get_many(Entry, [{"account": "a", "n": n} for n in range(40)], consistent=True)
    assert [e.n if e else None for e in found] == list(range(40))
    assert enforcement.throttled > 0


def test_write_many_reports_throttling_it_cannot_outlast(
    setup: tuple[DB, LocalEngine], clock: Clock
) -> None:
    db, engine = setup
    engine.call(
        "UpdateTable",
        {
            "TableName": "ledger",
            "ProvisionedThroughput": {"ReadCapacityUnits": 10, "WriteCapacityUnits": 1},
        },
    )
    clock.now += 1
    with engine.enforce_capacity(), pytest.raises(ThrottledError) as raised:
        db.write_many([Entry(account="a", n=n) for n in range(25)])
    assert raised.value.code == "ProvisionedThroughputExceededException"
    assert 0 < stored(engine) < 25  # what got through stays written
