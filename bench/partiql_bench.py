"""PartiQL benchmark: SELECT on the partition key against the equivalent Query.

Run ``python bench/partiql_bench.py`` (``--quick`` for a shorter run). Not a test:
it prints numbers and compares them with the target (a PartiQL SELECT that fixes
the partition key costs at most 1.5x the Query it runs as).

On one engine holding ``--items`` items (100 per partition, about 200 bytes each),
each pair runs interleaved, in rounds, on random partitions:

* ``query``  -- ``Query`` with ``KeyConditionExpression "pk = :pk"`` and ``Limit`` 25;
* ``select`` -- ``ExecuteStatement`` ``SELECT * FROM "bench" WHERE pk = ?`` with
  ``Limit`` 25 (parsed once, then from the parse cache, as a client repeating a
  statement gets);
* ``get`` / ``select-key`` -- ``GetItem`` against ``SELECT ... WHERE pk = ? AND sk = ?``.

Both go through ``LocalEngine.call`` (the wire API, with its response copy) and,
as a second table, through ``call_json`` (the path of HTTP and boto3 routing).
Latencies are this thread's CPU time (median per call).
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import time
from collections.abc import Callable
from typing import Any

from singletable.backends.local.engine import LocalEngine

CLOCK = time.thread_time
TARGET = 1.5


def _load(engine: LocalEngine, items: int) -> int:
    engine.call(
        "CreateTable",
        {
            "TableName": "bench",
            "KeySchema": [
                {"AttributeName": "pk", "KeyType": "HASH"},
                {"AttributeName": "sk", "KeyType": "RANGE"},
            ],
            "AttributeDefinitions": [
                {"AttributeName": "pk", "AttributeType": "S"},
                {"AttributeName": "sk", "AttributeType": "S"},
            ],
            "BillingMode": "PAY_PER_REQUEST",
        },
    )
    partitions = max(1, items // 100)
    for i in range(items):
        engine.call(
            "PutItem",
            {
                "TableName": "bench",
                "Item": {
                    "pk": {"S": f"p{i % partitions}"},
                    "sk": {"S": f"s{i:08d}"},
                    "payload": {"S": "x" * 150},
                    "n": {"N": str(i)},
                },
            },
            copy=False,
        )
    return partitions


def _median(run: Callable[[], Any], samples: list[float]) -> None:
    start = CLOCK()
    run()
    samples.append(CLOCK() - start)


def _pair(
    name_a: str,
    run_a: Callable[[int], Any],
    name_b: str,
    run_b: Callable[[int], Any],
    rounds: int,
    per_round: int,
    partitions: int,
) -> tuple[float, float]:
    a: list[float] = []
    b: list[float] = []
    rng = random.Random(7)
    for _ in range(rounds):
        keys = [rng.randrange(partitions) for _ in range(per_round)]
        for key in keys:
            _median(lambda key=key: run_a(key), a)
        for key in keys:
            _median(lambda key=key: run_b(key), b)
    ma, mb = statistics.median(a) * 1e6, statistics.median(b) * 1e6
    print(f"  {name_a:<12} {ma:9.1f} us   {name_b:<12} {mb:9.1f} us   ratio {mb / ma:5.2f}x")
    return ma, mb


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a shorter run")
    parser.add_argument("--items", type=int, default=None, help="items in the table")
    args = parser.parse_args()
    items = args.items or (20_000 if args.quick else 100_000)
    rounds, per_round = (5, 200) if args.quick else (10, 500)
    engine = LocalEngine(ttl_sweep_interval=None)
    partitions = _load(engine, items)
    print(f"{items} items, {partitions} partitions of 100; median CPU time per call")

    def query(key: int) -> Any:
        return engine.call(
            "Query",
            {
                "TableName": "bench",
                "KeyConditionExpression": "pk = :pk",
                "ExpressionAttributeValues": {":pk": {"S": f"p{key}"}},
                "Limit": 25,
            },
        )

    def select(key: int) -> Any:
        return engine.call(
            "ExecuteStatement",
            {
                "Statement": 'SELECT * FROM "bench" WHERE pk = ?',
                "Parameters": [{"S": f"p{key}"}],
                "Limit": 25,
            },
        )

    def get(key: int) -> Any:
        return engine.call(
            "GetItem",
            {"TableName": "bench", "Key": {"pk": {"S": f"p{key}"}, "sk": {"S": f"s{key:08d}"}}},
        )

    def select_key(key: int) -> Any:
        return engine.call(
            "ExecuteStatement",
            {
                "Statement": 'SELECT * FROM "bench" WHERE pk = ? AND sk = ?',
                "Parameters": [{"S": f"p{key}"}, {"S": f"s{key:08d}"}],
            },
        )

    def as_json(operation: str, build: Callable[[int], Any]) -> Callable[[int], Any]:
        # The same request through call_json (HTTP and boto3 routing's path).
        def run(key: int) -> Any:
            request = _REQUESTS[operation](key)
            return engine.call_json(operation, json.dumps(request))

        return run

    _REQUESTS: dict[str, Callable[[int], dict[str, Any]]] = {
        "Query": lambda key: {
            "TableName": "bench",
            "KeyConditionExpression": "pk = :pk",
            "ExpressionAttributeValues": {":pk": {"S": f"p{key}"}},
            "Limit": 25,
        },
        "ExecuteStatement": lambda key: {
            "Statement": 'SELECT * FROM "bench" WHERE pk = ?',
            "Parameters": [{"S": f"p{key}"}],
            "Limit": 25,
        },
    }
    ratios = []
    print("LocalEngine.call:")
    ratios.append(_pair("query", query, "select", select, rounds, per_round, partitions))
    ratios.append(_pair("get", get, "select-key", select_key, rounds, per_round, partitions))
    print("LocalEngine.call_json:")
    ratios.append(
        _pair(
            "query",
            as_json("Query", query),
            "select",
            as_json("ExecuteStatement", select),
            rounds,
            per_round,
            partitions,
        )
    )
    # The target is the partition-key SELECT against its Query (both paths); the
    # GetItem pair is shown for information.
    worst = max(b / a for a, b in (ratios[0], ratios[2]))
    verdict = "meets" if worst <= TARGET else "misses"
    print(f"SELECT on the partition key: worst ratio {worst:.2f}x, {verdict} the {TARGET}x target")


if __name__ == "__main__":
    main()
