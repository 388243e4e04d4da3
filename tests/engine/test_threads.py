"""The engine is safe to share between threads: no lost update, one winner per condition."""

from __future__ import annotations

import threading

from singletable.backends.local import DynamoDBError, LocalEngine

TABLE = "threads"


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


def _run(threads: int, work: object) -> None:
    barrier = threading.Barrier(threads)

    def body() -> None:
        barrier.wait()
        work()  # type: ignore[operator]

    workers = [threading.Thread(target=body) for _ in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()


def test_concurrent_add_loses_no_update() -> None:
    engine = _engine()
    key = {"PK": {"S": "counter"}}

    def work() -> None:
        for _ in range(300):
            engine.call(
                "UpdateItem",
                {
                    "TableName": TABLE,
                    "Key": key,
                    "UpdateExpression": "ADD n :one",
                    "ExpressionAttributeValues": {":one": {"N": "1"}},
                },
            )

    _run(8, work)
    item = engine.call("GetItem", {"TableName": TABLE, "Key": key})["Item"]
    assert item["n"] == {"N": str(8 * 300)}


def test_conditional_create_has_exactly_one_winner() -> None:
    engine = _engine()
    wins: list[int] = []
    losses: list[str] = []

    def work() -> None:
        for round_ in range(100):
            try:
                engine.call(
                    "PutItem",
                    {
                        "TableName": TABLE,
                        "Item": {"PK": {"S": f"lock{round_}"}},
                        "ConditionExpression": "attribute_not_exists(PK)",
                    },
                )
                wins.append(round_)
            except DynamoDBError as error:
                losses.append(error.code)

    _run(8, work)
    assert sorted(wins) == list(range(100))
    assert losses == ["ConditionalCheckFailedException"] * 700
