"""The entity type name (``type_name=``) and what ``db.scan`` reads (docs/concepts.md).

Run it with ``python docs/examples/type_name_and_scan.py``;
tests/docs/test_docs_examples.py runs ``main()`` and checks what it returns.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from singletable import DB, Entity, Keys, ModelError, Table

# --8<-- [start:type-name]
store = Table("store", type_attribute="kind")  # the attribute that holds each item's type


class PurchaseOrder(Entity, table=store, type_name="order"):  # items say kind = "order"
    order_id: str
    total: Decimal

    keys = Keys(pk="ORDER#{order_id}", sk="ORDER")


class Customer(Entity, table=store):  # no type_name: items say kind = "Customer"
    customer_id: str
    name: str

    keys = Keys(pk="CUSTOMER#{customer_id}", sk="PROFILE")
    # --8<-- [end:type-name]


def main() -> dict[str, Any]:
    """Write orders and customers, look at the stored type, scan; return what the test checks."""
    seen: dict[str, Any] = {}
    with DB() as db:
        db.create_table(store)
        for i in range(3):
            db.put(PurchaseOrder(order_id=f"o{i}", total=Decimal(10 * (i + 1))))
        for i in range(5):
            db.put(Customer(customer_id=f"c{i}", name=f"Customer {i}"))

        key = PurchaseOrder.key(order_id="o0")
        item = db.backend.call("GetItem", {"TableName": "store", "Key": key})["Item"]
        seen["kinds"] = (item["kind"], Customer(customer_id="x", name="X").to_item()["kind"])
        print("stored types:", seen["kinds"])

        # A second class with the same type name on the same table is refused.
        try:

            class Order(Entity, table=store, type_name="order"):
                order_id: str

                keys = Keys(pk="O#{order_id}", sk="O")

        except ModelError as error:
            seen["clash"] = str(error)
            print(error)

        # --8<-- [start:scan]
        orders = db.scan(PurchaseOrder).all()  # every page read, returned as one list
        operation, request = db.explain.scan(PurchaseOrder)
        # The Scan reads every item of the table; the entity type is only a filter.
        response = db.backend.call(operation, request)
        print(
            f"{len(orders)} orders; the Scan read {response['ScannedCount']} items "
            f"and returned {response['Count']}"
        )
        # --8<-- [end:scan]
        seen["scan"] = (sorted(o.order_id for o in orders), request)
        seen["counts"] = (response["ScannedCount"], response["Count"])
    return seen


if __name__ == "__main__":
    main()
