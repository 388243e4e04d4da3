"""Tracing every DynamoDB call of a ``DB`` (docs/tracing.md).

Run it with ``python docs/examples/tracing.py``; tests/docs/test_docs_examples.py runs
``main()`` and checks what the callback saw.
"""

from __future__ import annotations

from typing import Any

from singletable import DB, Entity, GlobalIndex, Keys, Query, Table
from singletable.tracing import CallTrace

shop = Table("shop", indexes=[GlobalIndex("GSI1", pk="GSI1PK", sk="GSI1SK")])


class Order(Entity, table=shop):
    customer_id: str
    order_id: str
    status: str

    keys = Keys(pk="CUSTOMER#{customer_id}", sk="ORDER#{order_id}",
                GSI1=("STATUS#{status}", "{order_id}"))  # fmt: skip
    by_status = Query(index="GSI1")


# --8<-- [start:callback]
def log_call(call: CallTrace) -> None:
    """Print one line per DynamoDB call (send it to your metrics instead)."""
    where = call.table + (f"/{call.index}" if call.index else "")
    print(
        f"{call.operation} {where} pattern={call.pattern} "
        f"capacity={call.capacity_units} latency={call.latency * 1000:.2f} ms "
        f"retries={call.retries} error={call.error}"
    )


db = DB(on_call=log_call)  # or DB(Boto3Backend(client), on_call=log_call)
# --8<-- [end:callback]


def main() -> dict[str, Any]:
    seen: list[CallTrace] = []

    def keep(call: CallTrace) -> None:
        seen.append(call)
        log_call(call)

    traced = DB(on_call=keep)
    traced.create_table(shop)
    traced.put(Order(customer_id="c1", order_id="o1", status="pending"))
    traced.query(Order.by_status, status="pending").all()
    return {
        "operations": [call.operation for call in seen],
        "patterns": [call.pattern for call in seen],
        "capacity": [call.capacity_units for call in seen],
    }


if __name__ == "__main__":
    main()
