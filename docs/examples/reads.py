"""Scans, refresh and find (docs/modelling.md, "Scans, refresh and find").

Run it with ``python docs/examples/reads.py``; tests/docs/test_docs_reads_unique.py
runs ``main()`` and checks what it returns.
"""

from __future__ import annotations

import asyncio
from decimal import Decimal
from typing import Any

from singletable import DB, AsyncDB, Entity, InvalidValueError, Keys, Query, Table
from singletable.backends.base import Backend
from singletable.db import SyncScan
from singletable.table import GlobalIndex

shop = Table("reads", indexes=[GlobalIndex("GSI1", pk="GSI1PK", sk="GSI1SK")])


class Order(Entity, table=shop):
    customer_id: str
    order_id: str
    status: str
    total: Decimal

    keys = Keys(
        pk="CUSTOMER#{customer_id}",
        sk="ORDER#{order_id}",
        GSI1=("STATUS#{status}", "{order_id}"),
    )
    for_customer = Query()
    by_status = Query(index="GSI1")


class _AsyncLocal:
    """The embedded engine behind an async interface, for the AsyncDB part."""

    def __init__(self, backend: Backend) -> None:
        self.backend = backend

    async def call(self, operation: str, request: dict[str, Any]) -> dict[str, Any]:
        return self.backend.call(operation, request)

    async def close(self) -> None:
        return None


def main() -> dict[str, Any]:
    """Scan, page, scan in parallel, refresh and find; return what the test checks."""
    seen: dict[str, Any] = {}
    with DB() as db:
        db.create_table(shop)
        for n in range(12):
            status = "shipped" if n % 3 == 0 else "pending"
            db.put(Order(customer_id=f"c{n % 2}", order_id=f"o{n:02}", status=status, total=n))

        # --8<-- [start:scan]
        scan = db.scan(Order)  # nothing is sent yet
        big = scan.where(Order.total >= 9).limit(10)  # a new scan; `scan` is unchanged
        print("big orders:", sorted(o.order_id for o in big))  # iterating reads the pages
        everything = scan.all()  # one list, every page
        print("counted by DynamoDB:", scan.count(), "of", len(everything))

        page = scan.page_size(5).page()  # one request; its cursor continues it
        rest = scan.page_size(5).after(page.cursor).all()
        print(len(page.items), "then", len(rest))

        parallel = scan.segments(4).all()  # 4 segments at once, on threads
        share = scan.segment(0, 4).all()  # one worker's share of the same split
        # --8<-- [end:scan]
        seen["big"] = sorted(o.order_id for o in big)
        seen["count"] = (scan.count(), len(everything))
        seen["paged"] = len(page.items) + len(rest)
        seen["parallel"] = sorted(o.order_id for o in parallel)
        seen["share"] = len(share) <= len(parallel)

        # --8<-- [start:refresh]
        order = db.require(Order, customer_id="c0", order_id="o00")
        db.put(order.model_copy(update={"status": "returned"}))
        fresh = db.refresh(order)  # strongly consistent; a new instance
        print(order.status, "->", fresh.status)
        # --8<-- [end:refresh]
        seen["refresh"] = (order.status, fresh.status)

        # --8<-- [start:find]
        shipped = db.find(Order, customer_id="c1", status="shipped")  # a lazy query
        print(db.explain.find_reason(Order, customer_id="c1", status="shipped"))
        print(sorted(o.order_id for o in shipped))
        print(db.explain.find_reason(Order, status="pending", order_id="o04"))
        try:
            db.find(Order, total=Decimal(7))
        except InvalidValueError as error:
            print(error)
        by_total = db.find(Order, total=Decimal(7), allow_scan=True)  # a filtered Scan
        # --8<-- [end:find]
        seen["shipped"] = sorted(o.order_id for o in shipped)
        seen["reasons"] = (
            db.explain.find_reason(Order, customer_id="c1", status="shipped"),
            db.explain.find_reason(Order, status="pending", order_id="o04"),
        )
        seen["by_total"] = (isinstance(by_total, SyncScan), [o.order_id for o in by_total])
        try:
            db.find(Order, total=Decimal(7))
        except InvalidValueError as error:
            seen["refused"] = str(error)

        async def service() -> list[str]:
            # --8<-- [start:async]
            adb = AsyncDB(_AsyncLocal(db.backend))
            found = [o.order_id async for o in adb.scan(Order).where(Order.total < 2)]
            parallel = await adb.scan(Order).segments(3).all()  # segments as tasks
            # --8<-- [end:async]
            return [*sorted(found), str(len(parallel))]

        seen["async"] = asyncio.run(service())
    return seen


if __name__ == "__main__":
    main()
