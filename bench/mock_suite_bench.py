"""A small PynamoDB/boto3 test under ``local_dynamodb`` and under moto's ``mock_aws``.

Run ``PYTHONPATH=$PWD python bench/mock_suite_bench.py`` from the repository root.
Not a test: it prints the wall time per test of one decorated test function
that uses the application code of tests/testing/moto_suite/orders_app.py (a
module-level boto3 client and resource, a PynamoDB model with a global index):
each call starts a fresh mock, creates two tables, writes 20 items, queries
and reads. The same function, decorated once with each mock.
"""

from __future__ import annotations

import importlib
import os
import sys
import time
from decimal import Decimal
from pathlib import Path
from typing import Any

from moto import mock_aws

from singletable.testing import local_dynamodb

os.environ.setdefault("AWS_ACCESS_KEY_ID", "testing")
os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "testing")
os.environ.setdefault("AWS_DEFAULT_REGION", "eu-west-1")
sys.path.insert(0, str(Path(__file__).parents[1] / "tests" / "testing" / "moto_suite"))

# Imported after moto, so that moto reaches its module-level clients (moto needs that).
orders_app: Any = importlib.import_module("orders_app")


def one_test() -> None:
    orders_app.create_orders_table()
    orders_app.Customer.create_table(wait=True)
    for i in range(10):
        orders_app.place_order("ada", f"o{i}", Decimal(i))
        orders_app.Customer(customer_id=f"c{i}", email=f"c{i}@example.com").save()
    assert orders_app.customer_total("ada") == 45
    assert len(list(orders_app.Customer.by_email.query("c3@example.com"))) == 1
    assert orders_app.Customer.get("c1").visits == 0


def main(runs: int = 50) -> None:
    timings = {}
    mocks: list[tuple[str, Any]] = [("local_dynamodb", local_dynamodb), ("mock_aws", mock_aws)]
    for name, mock in mocks:
        test = mock(one_test)
        test()  # warm up
        start = time.perf_counter()
        for _ in range(runs):
            test()
        timings[name] = (time.perf_counter() - start) / runs
        print(f"{name:15s} {timings[name] * 1000:7.1f} ms per test ({runs} runs)")
    print(f"local_dynamodb is {timings['mock_aws'] / timings['local_dynamodb']:.1f}x faster")


if __name__ == "__main__":
    main()
