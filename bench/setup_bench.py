"""Per-test setup cost (issue 16): a fresh engine with 3 tables with GSIs and 1,000 items.

Run ``python bench/setup_bench.py`` (about a minute) or ``--quick``. Not a test: it
prints a ratio table and checks it against issue 16's targets.

What one "setup" is, for each way a test suite can get its starting state:

* ``moto``: ``mock_aws()`` started, a boto3 client made, 3 tables created (each with
  one GSI), 1,000 items written with BatchWriteItem (25 a request), mock stopped;
* ``local_dynamodb``: the same boto3 code, routed in process to a fresh
  ``LocalEngine`` (``singletable.testing.local_dynamodb()``);
* ``engine``: the same requests straight to a fresh ``LocalEngine().call``;
* ``engine.load``: a fresh engine, the 3 CreateTable requests, then the items of
  each table in one ``engine.load(table, items)`` (every item checked as PutItem
  checks it, in every setup);
* ``seed fixture``: what the pytest plugin's ``dynamodb_seed`` fixture does with a
  DynamoDB JSON lines file per table (the ``data export`` format): a fresh engine,
  the tables, and ``seed(engine, path, table)``; the plugin reads and checks a file
  once per session and later loads only store the items, so this is the cost of a
  test after the first (the first one is the ``engine.load`` row plus parsing);
* ``Seed``: ``engine.load(table, Seed(items))`` with a ``Seed`` made once: the same
  as the fixture, without the file;
* ``restore``: ``engine.restore(snapshot)`` of an engine holding that state, after a
  test changed it (each round first writes, updates and deletes a few items and
  creates a table, as a test would).

None of the engine rows uses a snapshot: each builds a new engine, new tables and
new indexes, and stores every item in them.

Times are medians over rounds of the benchmark thread's CPU time
(``time.thread_time``: everything here, moto included, runs in this thread), which
the ratios and targets use, and of wall-clock time (``time.perf_counter``), shown
beside it. On a shared machine the wall times mostly measure the neighbours (moto,
which allocates far more, suffers most). The ways run interleaved, round after
round, so a burst of load falls on all of them alike. Items are about 200 bytes
with a GSI key each.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from typing import Any

from _common import REGION, aws_environment

TABLES = ("users", "orders", "products")
ITEMS = 1_000


def table_request(name: str) -> dict[str, Any]:
    return {
        "TableName": name,
        "KeySchema": [
            {"AttributeName": "pk", "KeyType": "HASH"},
            {"AttributeName": "sk", "KeyType": "RANGE"},
        ],
        "AttributeDefinitions": [
            {"AttributeName": "pk", "AttributeType": "S"},
            {"AttributeName": "sk", "AttributeType": "S"},
            {"AttributeName": "gsi_pk", "AttributeType": "S"},
        ],
        "GlobalSecondaryIndexes": [
            {
                "IndexName": "by_status",
                "KeySchema": [
                    {"AttributeName": "gsi_pk", "KeyType": "HASH"},
                    {"AttributeName": "sk", "KeyType": "RANGE"},
                ],
                "Projection": {"ProjectionType": "ALL"},
            }
        ],
        "BillingMode": "PAY_PER_REQUEST",
    }


def item(n: int) -> dict[str, Any]:
    return {
        "pk": {"S": f"ACCOUNT#{n % 97}"},
        "sk": {"S": f"ITEM#{n:06d}"},
        "gsi_pk": {"S": f"STATUS#{n % 5}"},
        "name": {"S": f"name {n} " + "x" * 120},
        "count": {"N": str(n)},
    }


def requests() -> list[tuple[str, dict[str, Any]]]:
    """The setup as wire requests: 3 CreateTable, then the items in batches of 25."""
    calls: list[tuple[str, dict[str, Any]]] = [("CreateTable", table_request(t)) for t in TABLES]
    per_table = [range(i, ITEMS, len(TABLES)) for i in range(len(TABLES))]
    for table, numbers in zip(TABLES, per_table, strict=True):
        chunk: list[dict[str, Any]] = []
        for n in numbers:
            chunk.append({"PutRequest": {"Item": item(n)}})
            if len(chunk) == 25:
                calls.append(("BatchWriteItem", {"RequestItems": {table: chunk}}))
                chunk = []
        if chunk:
            calls.append(("BatchWriteItem", {"RequestItems": {table: chunk}}))
    return calls


def boto3_setup(client: Any, calls: list[tuple[str, dict[str, Any]]]) -> None:
    for operation, request in calls:
        if operation == "CreateTable":
            client.create_table(**request)
        else:
            client.batch_write_item(**request)


def moto_setup(calls: list[tuple[str, dict[str, Any]]]) -> None:
    import boto3
    from moto import mock_aws

    with mock_aws():
        client = boto3.client("dynamodb", region_name=REGION)
        boto3_setup(client, calls)


def local_setup(calls: list[tuple[str, dict[str, Any]]]) -> None:
    import boto3

    from singletable.testing import local_dynamodb

    with local_dynamodb():
        client = boto3.client("dynamodb", region_name=REGION)
        boto3_setup(client, calls)


def engine_setup(calls: list[tuple[str, dict[str, Any]]]) -> Any:
    from singletable.backends.local import LocalEngine

    engine = LocalEngine(ttl_sweep_interval=None)
    for operation, request in calls:
        engine.call(operation, request, copy=False)
    return engine


def per_table() -> dict[str, list[dict[str, Any]]]:
    """The items of each table (as ``requests()`` spreads them)."""
    return {t: [item(n) for n in range(i, ITEMS, len(TABLES))] for i, t in enumerate(TABLES)}


def fresh_tables() -> Any:
    from singletable.backends.local import LocalEngine

    engine = LocalEngine(ttl_sweep_interval=None)
    for table in TABLES:
        engine.call("CreateTable", table_request(table), copy=False)
    return engine


def load_setup(items: dict[str, Any]) -> Any:
    """Tables, then ``engine.load`` per table (lists: checked every time; Seeds: once)."""
    engine = fresh_tables()
    for table, values in items.items():
        engine.load(table, values)
    return engine


def fixture_setup(paths: dict[str, str]) -> Any:
    from singletable.pytest_plugin import seed

    engine = fresh_tables()
    for table, path in paths.items():
        seed(engine, path, table)
    return engine


def write_files(directory: str) -> dict[str, str]:
    paths = {}
    for table, values in per_table().items():
        path = os.path.join(directory, f"{table}.jsonl")
        with open(path, "w", encoding="utf-8") as file:
            file.writelines(json.dumps({"Item": value}) + "\n" for value in values)
        paths[table] = path
    return paths


def dirty(engine: Any, round_: int) -> None:
    """What a test does to the state before the next one restores it."""
    for n in range(10):
        engine.call("PutItem", {"TableName": "users", "Item": item(100_000 + n)})
    engine.call("DeleteItem", {"TableName": "orders", "Key": {k: item(1)[k] for k in ("pk", "sk")}})
    engine.call("CreateTable", table_request(f"scratch{round_}"))


def median_ms(samples: list[float]) -> float:
    return statistics.median(samples) * 1000


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer rounds")
    args = parser.parse_args(argv)
    aws_environment()
    rounds = 4 if args.quick else 8
    calls = requests()
    from singletable.backends.local import Seed

    items = per_table()
    seeds = {table: Seed(values) for table, values in items.items()}
    directory = tempfile.TemporaryDirectory()
    paths = write_files(directory.name)

    ways: dict[str, Callable[[], object]] = {
        "moto": lambda: moto_setup(calls),
        "local_dynamodb": lambda: local_setup(calls),
        "engine": lambda: engine_setup(calls),
        "engine.load": lambda: load_setup(items),
        "seed fixture": lambda: fixture_setup(paths),
        "Seed": lambda: load_setup(seeds),
    }
    engine = engine_setup(calls)
    started = time.perf_counter()
    snapshot = engine.snapshot()
    snapshot_ms = (time.perf_counter() - started) * 1000

    times: dict[str, list[float]] = {name: [] for name in [*ways, "restore"]}
    walls: dict[str, list[float]] = {name: [] for name in [*ways, "restore"]}

    def measure(name: str, run: Callable[[], object], keep: bool) -> None:
        started, started_cpu = time.perf_counter(), time.thread_time()
        run()
        cpu, wall = time.thread_time() - started_cpu, time.perf_counter() - started
        if keep:
            times[name].append(cpu)
            walls[name].append(wall)

    for round_ in range(rounds + 1):  # round 0 warms up (imports, caches)
        for name, setup in ways.items():
            measure(name, setup, bool(round_))
        for inner in range(20):  # restores are short: more samples
            dirty(engine, round_ * 100 + inner)
            measure("restore", lambda: engine.restore(snapshot), bool(round_))

    ms = {name: median_ms(samples) for name, samples in times.items()}
    wall_ms = {name: median_ms(samples) for name, samples in walls.items()}
    print(f"setup: 3 tables with a GSI each, {ITEMS} items; medians of {rounds} rounds")
    print(f"{'way':<16}{'CPU ms':>10}{'moto / way':>12}{'wall ms':>10}{'moto / way':>12}")
    for name, value in ms.items():
        wall = wall_ms[name]
        print(
            f"{name:<16}{value:>10.2f}{ms['moto'] / value:>11.0f}x"
            f"{wall:>10.2f}{wall_ms['moto'] / wall:>11.0f}x"
        )
    print(f"(snapshot() itself: {snapshot_ms:.2f} ms, once per session)")
    directory.cleanup()
    checks = [
        ("seed fixture vs moto (no snapshot)", ms["moto"] / ms["seed fixture"], 50),
        ("engine.load vs moto (checked each time)", ms["moto"] / ms["engine.load"], None),
        ("engine requests vs moto", ms["moto"] / ms["engine"], None),
        ("local_dynamodb vs moto", ms["moto"] / ms["local_dynamodb"], None),
        ("restore vs reloading (engine.load)", ms["engine.load"] / ms["restore"], 10),
        ("restore vs reloading (seed fixture)", ms["seed fixture"] / ms["restore"], None),
        ("restore vs reloading (local_dynamodb)", ms["local_dynamodb"] / ms["restore"], None),
    ]
    ok = True
    for label, ratio, target in checks:
        verdict = "" if target is None else (" ok" if ratio >= target else " MISSED")
        wanted = "" if target is None else f" (target >= {target}x)"
        print(f"{label:<42}{ratio:>8.1f}x{wanted}{verdict}")
        ok = ok and (target is None or ratio >= target)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
