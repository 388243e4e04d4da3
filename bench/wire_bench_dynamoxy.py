"""wire_bench.py's dynamoxy way, run in a Python of its own (dynamoxy needs 3.12 or later).

Not run by hand: ``wire_bench.py --dynamoxy-python PATH`` starts it with the Python at
PATH (one where ``pip install dynamoxy`` worked) and the server's URL. It reads one
JSON line per batch of calls (``{"workload": "put", "start": 0, "count": 200}``),
runs them with dynamoxy's client (dict-level ``client.table(...)`` calls, plain values,
no model: the least a dynamoxy user can do per call, as wire_bench.py's pydynox way),
and answers one JSON line: the process's CPU time over the batch and each call's
wall-clock latency. Its own interpreter, no singletable and no pydantic: the items
are built here the way ``bench/_common.py``'s ``order_values`` builds them.
"""

from __future__ import annotations

import asyncio
import json
import sys
import time
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import dynamoxy  # type: ignore[import-not-found]

TABLE = "wire_bench"
STATUSES = ("pending", "shipped", "delivered", "returned")
T0 = datetime(2026, 1, 1, tzinfo=UTC)


def plain_item(customer: str, n: int) -> dict[str, Any]:
    """wire_bench.py's ``plain_item``: the 10-field order as plain values."""
    order_id = f"o{n:05d}"
    return {
        "PK": f"CUSTOMER#{customer}",
        "SK": f"ORDER#{order_id}",
        "customer_id": customer,
        "order_id": order_id,
        "status": STATUSES[n % 4],
        "quantity": n % 9 + 1,
        "gift": n % 3 == 0,
        "note": "leave at the door, ring twice",
        "created_at": (T0 + timedelta(minutes=n)).isoformat(),
        "total": Decimal(f"{n * 7 % 1000}.25"),
        "tags": {"new", f"t{n % 5}"},
        "address": {"street": f"{n} Long Road", "city": "Oslo", "postcode": f"{n % 10000:04d}"},
    }


async def one(client: Any, table: Any, workload: str, n: int) -> None:
    F = dynamoxy.F
    if workload == "put":
        await table.put(plain_item("xw", n))
    elif workload == "get":
        assert await table.get({"PK": "CUSTOMER#q", "SK": f"ORDER#o{n % 100:05d}"}) is not None
    elif workload == "query":
        page = await table.query(F("PK") == "CUSTOMER#q").page_size(25).page()
        assert len(page.items) == 25
    elif workload == "batch":
        await table.batch_write(puts=[plain_item("xb", n * 25 + i) for i in range(25)])
    else:
        tx = client.transaction()
        tx.put_item(TABLE, plain_item("xt", 2 * n))
        tx.put_item(TABLE, plain_item("xt", 2 * n + 1))
        key = {"PK": "CUSTOMER#q", "SK": "ORDER#o00001"}
        tx.check_item(TABLE, key, F("quantity") >= 1)
        await tx.commit()


async def serve(url: str, region: str) -> None:
    client = dynamoxy.Client(  # credentials from the environment, as the other ways'
        region=region,
        endpoint_url=url,
        telemetry=None,  # no OpenTelemetry spans or metrics: the least per call
        consumed_capacity="NONE",
    )
    async with client:
        table = client.table(TABLE)
        clock = time.perf_counter
        for line in sys.stdin:
            order = json.loads(line)
            workload, start, count = order["workload"], order["start"], order["count"]
            latencies = []
            cpu0 = time.process_time()
            for n in range(start, start + count):
                began = clock()
                await one(client, table, workload, n)
                latencies.append(clock() - began)
            cpu = time.process_time() - cpu0
            sys.stdout.write(json.dumps({"cpu": cpu, "latencies": latencies}) + "\n")
            sys.stdout.flush()


if __name__ == "__main__":
    asyncio.run(serve(sys.argv[1], sys.argv[2]))
