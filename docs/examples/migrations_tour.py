"""Migrations from the library (docs/migrations.md; run by tests/migrations).

Run it with ``python docs/examples/migrations_tour.py`` (next to shop_v1.py and
shop_v2.py, the two versions of the model): the embedded engine, in memory.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

import shop_v1
import shop_v2

from singletable import DB
from singletable.migrations import MigrationRun, Models, plan, read_version, write_back


def main() -> dict[str, Any]:
    """Write with version 1, read with version 2, then migrate the table."""
    seen: dict[str, Any] = {}
    with DB() as db:
        db.create_table(shop_v1.app)
        db.put(shop_v1.Customer(customer_id="c1", full_name="Ada Lovelace", city="Auckland"))
        db.put(shop_v1.Customer(customer_id="c2", full_name="Bea Smith", city="Auckland"))
        db.put(shop_v1.Order(customer_id="c1", order_id="o1", placed_on=date(2026, 5, 1),
                             status="pending", total=Decimal(20)))  # fmt: skip

        # --8<-- [start:read]
        ada = db.require(shop_v2.Customer, customer_id="c1")  # a version 1 item
        print(ada.name, ada.country, "read from version", read_version(ada))
        # -> Ada Lovelace NZ read from version 1

        # Its GSI1 key is still version 1's: the new pattern does not find it yet.
        in_auckland = db.query(shop_v2.Customer.by_city, country="NZ", city="Auckland")
        print([c.name for c in in_auckland])  # -> []
        write_back(db, ada)  # stored in the new shape, if unchanged since it was read
        print([c.name for c in in_auckland])  # -> ['Ada Lovelace']
        # --8<-- [end:read]
        seen["before"] = [c.name for c in in_auckland]

        # --8<-- [start:plan]
        for table_plan in plan([shop_v1.app], [shop_v2.app]):
            for entity in table_plan.entities:
                print(entity.entity, entity.status, entity.rewrite)
        # --8<-- [end:plan]

        # --8<-- [start:run]
        migration = MigrationRun(
            db.backend,  # any backend: the engine, a durable file, boto3 on AWS
            Models(shop_v1.app, shop_v2.app),
            segments=4,  # parallel scan segments, a thread each
            state_path="shop-migration.state",  # resumable: MigrationRun(..., resume=True)
            progress=None,  # progress lines: None here, stderr by default
        )
        summary = migration.run()
        print("\n".join(summary.lines()))
        # --8<-- [end:run]
        seen["counts"] = summary.counts
        seen["after"] = [c.name for c in in_auckland]
        orders = db.query(shop_v2.Order.for_customer, customer_id="c1")
        seen["orders"] = [o.order_id for o in orders]
    return seen


if __name__ == "__main__":
    main()
