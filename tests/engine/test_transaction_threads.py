"""Transactions under concurrency: bank transfers with readers taking snapshots.

Writers move money between accounts with TransactWriteItems (a conditional debit,
a credit, a check that the bank is open); readers take TransactGetItems snapshots
of every account at the same time. Every snapshot must show the same total and no
negative balance (no reader sees half a transfer), and at the end each account must
hold exactly its opening balance plus the transfers that succeeded (no lost update).
"""

from __future__ import annotations

import random
import threading
from collections.abc import Callable
from typing import Any

import pytest

from singletable.backends.local import DynamoDBError, LocalEngine, _transactions

TABLE = "accounts"
ACCOUNTS = 20
OPENING = 100


def _engine() -> LocalEngine:
    engine = LocalEngine()
    engine.call(
        "CreateTable",
        {
            "TableName": TABLE,
            "KeySchema": [{"AttributeName": "PK", "KeyType": "HASH"}],
            "AttributeDefinitions": [{"AttributeName": "PK", "AttributeType": "S"}],
            "BillingMode": "PAY_PER_REQUEST",
        },
    )
    return engine


def _key(account: int) -> dict[str, Any]:
    return {"PK": {"S": f"ACCT#{account}"}}


def _run(workers: list[Callable[[], None]]) -> None:
    barrier = threading.Barrier(len(workers))
    errors: list[BaseException] = []

    def body(work: Callable[[], None]) -> None:
        barrier.wait()
        try:
            work()
        except BaseException as error:  # surfaced in the main thread below
            errors.append(error)

    threads = [threading.Thread(target=body, args=(work,)) for work in workers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if errors:
        raise errors[0]


def _transfer(source: int, target: int, amount: int) -> dict[str, Any]:
    value = {":x": {"N": str(amount)}}
    return {
        "TransactItems": [
            {
                "Update": {
                    "TableName": TABLE,
                    "Key": _key(source),
                    "UpdateExpression": "SET bal = bal - :x",
                    "ConditionExpression": "bal >= :x",
                    "ExpressionAttributeValues": value,
                }
            },
            {
                "Update": {
                    "TableName": TABLE,
                    "Key": _key(target),
                    "UpdateExpression": "ADD bal :x",
                    "ExpressionAttributeValues": value,
                }
            },
            {
                "ConditionCheck": {
                    "TableName": TABLE,
                    "Key": {"PK": {"S": "BANK"}},
                    "ConditionExpression": "is_open = :yes",
                    "ExpressionAttributeValues": {":yes": {"BOOL": True}},
                }
            },
        ]
    }


def _snapshot(engine: LocalEngine) -> list[int]:
    response = engine.call(
        "TransactGetItems",
        {
            "TransactItems": [
                {"Get": {"TableName": TABLE, "Key": _key(i)}} for i in range(ACCOUNTS)
            ],
        },
    )
    return [int(entry["Item"]["bal"]["N"]) for entry in response["Responses"]]


def test_transfers_keep_the_total_in_every_snapshot() -> None:
    engine = _engine()
    engine.call(
        "PutItem", {"TableName": TABLE, "Item": {"PK": {"S": "BANK"}, "is_open": {"BOOL": True}}}
    )
    for account in range(ACCOUNTS):
        engine.call(
            "PutItem", {"TableName": TABLE, "Item": {**_key(account), "bal": {"N": str(OPENING)}}}
        )
    done: list[tuple[int, int, int]] = []
    cancelled: list[str] = []
    writing = threading.Event()
    snapshots: list[list[int]] = []

    def writer(seed: int) -> Callable[[], None]:
        def work() -> None:
            rng = random.Random(seed)
            for _ in range(250):
                source, target = rng.sample(range(ACCOUNTS), 2)
                amount = rng.randint(1, 60)
                try:
                    engine.call("TransactWriteItems", _transfer(source, target, amount))
                    done.append((source, target, amount))
                except DynamoDBError as error:
                    assert error.code == "TransactionCanceledException", error
                    codes = [reason["Code"] for reason in error.extra["CancellationReasons"]]
                    assert codes == ["ConditionalCheckFailed", "None", "None"], codes
                    cancelled.append(error.code)

        return work

    def reader() -> None:
        while not writing.is_set() or len(snapshots) < 50:
            snapshots.append(_snapshot(engine))

    writers = [writer(seed) for seed in range(8)]

    def writers_then_stop() -> None:
        try:
            _run(writers)
        finally:
            writing.set()

    _run([writers_then_stop, reader, reader, reader])

    assert len(done) + len(cancelled) == 8 * 250
    assert done and cancelled  # both outcomes happened: the test exercised conditions
    assert len(snapshots) >= 50
    for snapshot in snapshots:
        assert sum(snapshot) == ACCOUNTS * OPENING, snapshot
        assert min(snapshot) >= 0, snapshot
    expected = [OPENING] * ACCOUNTS
    for source, target, amount in done:
        expected[source] -= amount
        expected[target] += amount
    assert _snapshot(engine) == expected


def test_closed_bank_cancels_every_transfer_and_changes_nothing() -> None:
    engine = _engine()
    engine.call(
        "PutItem", {"TableName": TABLE, "Item": {"PK": {"S": "BANK"}, "is_open": {"BOOL": False}}}
    )
    for account in range(ACCOUNTS):
        engine.call(
            "PutItem", {"TableName": TABLE, "Item": {**_key(account), "bal": {"N": str(OPENING)}}}
        )

    def work() -> None:
        for i in range(50):
            with pytest.raises(DynamoDBError) as caught:
                engine.call("TransactWriteItems", _transfer(i % ACCOUNTS, (i + 1) % ACCOUNTS, 1))
            codes = [reason["Code"] for reason in caught.value.extra["CancellationReasons"]]
            assert codes == ["None", "None", "ConditionalCheckFailed"]

    _run([work] * 4)
    assert _snapshot(engine) == [OPENING] * ACCOUNTS


def test_one_winner_per_claimed_item() -> None:
    engine = _engine()
    wins: list[int] = []

    def work() -> None:
        for round_ in range(100):
            claim = {
                "TransactItems": [
                    {
                        "Put": {
                            "TableName": TABLE,
                            "Item": {"PK": {"S": f"seat{round_}"}},
                            "ConditionExpression": "attribute_not_exists(PK)",
                        }
                    },
                    {
                        "Update": {
                            "TableName": TABLE,
                            "Key": {"PK": {"S": "claims"}},
                            "UpdateExpression": "ADD n :one",
                            "ExpressionAttributeValues": {":one": {"N": "1"}},
                        }
                    },
                ]
            }
            try:
                engine.call("TransactWriteItems", claim)
                wins.append(round_)
            except DynamoDBError as error:
                assert error.code == "TransactionCanceledException"

    _run([work] * 8)
    assert sorted(wins) == list(range(100))
    counter = engine.call("GetItem", {"TableName": TABLE, "Key": {"PK": {"S": "claims"}}})["Item"]
    assert counter["n"] == {"N": "100"}


def test_same_token_from_many_threads_applies_once() -> None:
    engine = _engine()
    request = {
        "ClientRequestToken": "one-token",
        "TransactItems": [
            {
                "Update": {
                    "TableName": TABLE,
                    "Key": {"PK": {"S": "c"}},
                    "UpdateExpression": "ADD n :one",
                    "ExpressionAttributeValues": {":one": {"N": "1"}},
                }
            }
        ],
    }
    _run([lambda: engine.call("TransactWriteItems", request)] * 16)
    item = engine.call("GetItem", {"TableName": TABLE, "Key": {"PK": {"S": "c"}}})["Item"]
    assert item["n"] == {"N": "1"}


def test_token_store_stays_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_transactions, "MAX_TOKENS", 50)
    engine = _engine()
    now = [0.0]
    engine.clock = lambda: now[0]

    def put(token: str) -> None:
        engine.call(
            "TransactWriteItems",
            {
                "ClientRequestToken": token,
                "TransactItems": [{"Put": {"TableName": TABLE, "Item": {"PK": {"S": token}}}}],
            },
        )

    for i in range(200):
        put(f"t{i}")
    store = _transactions._token_store(engine)
    assert len(store) == 50
    now[0] += _transactions.TOKEN_LIFETIME + 1
    put("late")
    assert len(store) == 1  # every older token expired
