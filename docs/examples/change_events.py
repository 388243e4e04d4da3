"""Change events as typed entities (docs/change-events.md; run by tests/changes).

Run it with ``python docs/examples/change_events.py``: the embedded engine, in memory,
with boto3 routed to it for the Streams API part.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import boto3

from singletable import DB, Entity, Keys, Table
from singletable.backends.engine import LocalBackend
from singletable.changes import (
    Change,
    ChangeHandler,
    ChangeParser,
    StreamPosition,
    UnknownChange,
    read_stream,
)
from singletable.testing import local_dynamodb

# --8<-- [start:model]
shop = Table("shop", stream="NEW_AND_OLD_IMAGES")


class Order(Entity, table=shop):
    customer_id: str
    order_id: str
    status: str
    total: Decimal

    keys = Keys(pk="CUSTOMER#{customer_id}", sk="ORDER#{order_id}")


class Customer(Entity, table=shop):
    customer_id: str
    name: str

    keys = Keys(pk="CUSTOMER#{customer_id}", sk="PROFILE")
# --8<-- [end:model]


def main() -> dict[str, Any]:
    """Each source of changes in turn; returns what each saw."""
    seen: dict[str, Any] = {}
    backend = LocalBackend()
    with DB(backend) as db:
        db.create_table(shop)

        # --8<-- [start:subscribe]
        shipped: list[str] = []

        def on_order(change: Change[Order]) -> None:
            # change.new and change.old are Orders (or None): mypy knows it
            before, after = change.old, change.new
            if before and after and before.status != after.status == "shipped":
                shipped.append(after.order_id)

        with db.subscribe(on_order, entities=[Order]):
            db.put(Order(customer_id="c1", order_id="o1", status="pending", total=Decimal(20)))
            db.put(Order(customer_id="c1", order_id="o1", status="shipped", total=Decimal(20)))
        print("shipped:", shipped)  # ['o1']: the handler ran before put returned
        # --8<-- [end:subscribe]
        seen["shipped"] = shipped

        # --8<-- [start:parse]
        parser = ChangeParser(shop)  # every entity of the table; or ChangeParser(Order, ...)
        with backend.engine.stream_records("shop") as records:
            db.put(Customer(customer_id="c1", name="Ada"))
            db.backend.call("PutItem", {"TableName": "shop", "Item": {
                "PK": {"S": "AUDIT#1"}, "SK": {"S": "LOG"}, "_type": {"S": "Audit"}}})  # fmt: skip
            for record in records.drain():
                change = parser.parse(record)
                if isinstance(change, UnknownChange):  # reported, never raised
                    print("unknown:", change.reason)
                else:
                    print(change.event, change.entity.__name__, change.key, change.new)
        # --8<-- [end:parse]

        # --8<-- [start:lambda]
        handler = ChangeHandler(shop)
        handled: list[str] = []

        @handler.on(Customer)
        def on_customer(change: Change[Customer]) -> None:
            if change.new is not None and change.new.name == "poison":
                raise ValueError("cannot handle this one")
            handled.append(change.new.name if change.new else "(removed)")

        def lambda_handler(event: dict[str, Any], context: object) -> dict[str, Any]:
            return handler(event, context)  # {"batchItemFailures": [...]}

        with backend.engine.stream_records("shop") as records:
            for name in ("Bea", "poison", "Cy"):
                db.put(Customer(customer_id=name.lower(), name=name))
            event = records.lambda_event()  # what a Lambda trigger receives
        response = lambda_handler(event, None)
        poison = event["Records"][1]["dynamodb"]["SequenceNumber"]
        assert response == {"batchItemFailures": [{"itemIdentifier": poison}]}
        print("handled:", handled)  # ['Bea']: Lambda retries from the failed record
        # --8<-- [end:lambda]
        seen["handled"] = handled

        # --8<-- [start:streams-api]
        with local_dynamodb(engine=backend.engine):  # on AWS: no need for this line
            streams = boto3.client("dynamodbstreams", region_name="us-east-1")
            position = StreamPosition()  # where the reader got, per shard
            changes = [parser.parse(r) for r in read_stream(streams, table_name="shop",
                                                            position=position)]  # fmt: skip
            checkpoint = position.to_json()  # save it; StreamPosition.from_json resumes
            db.put(Customer(customer_id="c1", name="Ada Lovelace"))
            later = StreamPosition.from_json(checkpoint)
            new = [parser.parse(r) for r in read_stream(streams, table_name="shop",
                                                        position=later)]  # fmt: skip
        print(len(changes), "changes so far;", [(c.event, c.entity) for c in new])
        # --8<-- [end:streams-api]
        seen["stream"] = [(c.event, getattr(c.entity, "__name__", None)) for c in changes]
        seen["later"] = [(c.event, getattr(c.entity, "__name__", None)) for c in new]
    return seen


if __name__ == "__main__":
    main()
