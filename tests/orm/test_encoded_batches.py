"""Batch writes on the wire backends hand each item over as JSON text (singletable/_encoded.py).

``db.write_many`` on a backend whose class takes encoded items (the wire backends)
writes each put's item with the class's compiled JSON writer instead of building it
as a dict. The body sent must be byte for byte the body of the dict path, and the
writes the same, on the sync and async wire backends, through retries too.
(tests/orm/test_writer.py checks each item's text against ``to_item``.)
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

from pydantic import BaseModel

from singletable import DB, AsyncDB, Entity, Keys, Table
from singletable._batches import write_many
from singletable._encoded import EncodedItem, EncodedRequest
from singletable.backends.wire import AsyncWireBackend, WireBackend
from singletable.errors import ThrottledError
from singletable.server import Server

REGION = "us-east-1"
app = Table("encoded")
other = Table("encoded_other")


class Place(BaseModel):
    street: str
    city: str | None = None
    floor: int | None = None


class Order(Entity, table=app):
    customer_id: str
    order_id: str
    created_at: datetime
    total: Decimal = Decimal("0")
    quantity: int = 0
    gift: bool = False
    tags: set[str] | None = None
    place: Place | None = None
    lines: list[Any] | None = None
    note: str | None = None

    keys = Keys(pk="CUSTOMER#{customer_id}", sk="ORDER#{order_id}")


class Note(Entity, table=other):
    id: str
    text: str = ""

    keys = Keys(pk="NOTE#{id}", sk="NOTE")


def orders() -> list[Order]:
    moments = [
        datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC),
        datetime(2026, 1, 2, 3, 4, 5),
        datetime(2026, 1, 2, 3, 4, 5, 6, tzinfo=timezone(timedelta(hours=-7))),
    ]
    return [
        Order(
            customer_id=f"c{n % 3}",
            order_id=f"o{n:03}",
            created_at=moments[n % 3],
            total=[Decimal("1.50"), Decimal("12.25"), Decimal("-0"), Decimal("1E+3")][n % 4],
            quantity=[0, 7, -(10**38), 10**40][n % 4],
            gift=n % 2 == 0,
            tags=[None, {"a"}, {"zé", 'q"uote', "b\\n"}][n % 3],
            place=[None, Place(street="1 Rd", floor=n), Place(street="ünï", city="Oslo")][n % 3],
            lines=[None, ["x", 1, None, {"k": True}]][n % 2],
            note=[None, "tab\there \U0001f600", "</script>"][n % 3],
        )
        for n in range(30)
    ]


def key(order: Order) -> dict[str, Any]:
    return {"customer_id": order.customer_id, "order_id": order.order_id}


def first_request(flow: Any) -> Any:
    operation, request = next(flow)
    flow.close()
    assert operation == "BatchWriteItem"
    return request


def test_the_encoded_body_is_the_dict_paths_body() -> None:
    backend = WireBackend(endpoint_url="http://127.0.0.1:9", region_name=REGION)
    notes = [Note(id="n1", text="x"), Note(id="n2")]
    puts: list[Entity] = [*orders()[:20], *notes]
    deletes: list[tuple[type[Entity], dict[str, Any]]] = [
        (Order, {"customer_id": "c9", "order_id": "o9"}),
        (Note, {"id": "gone"}),
    ]
    plain = first_request(write_many(puts, deletes))
    encoded = first_request(write_many(puts, deletes, encoded=True))
    assert type(plain) is dict and type(encoded) is EncodedRequest
    writes = [w for ws in encoded["RequestItems"].values() for w in ws]
    items = [w["PutRequest"]["Item"] for w in writes if "PutRequest" in w]
    assert items and all(type(item) is EncodedItem for item in items)
    assert backend.core.encode("BatchWriteItem", encoded) == backend.core.encode(
        "BatchWriteItem", plain
    )
    # the rest of the chunks too (the second request of 25)
    rest = orders()[20:] + orders()[:20]
    plain_flow, encoded_flow = write_many(rest, []), write_many(rest, [], encoded=True)
    for flow in (plain_flow, encoded_flow):
        next(flow)
    plain2 = plain_flow.send({})[1]
    encoded2 = encoded_flow.send({})[1]
    assert backend.core.encode("BatchWriteItem", encoded2) == backend.core.encode(
        "BatchWriteItem", plain2
    )
    backend.close()


def test_explain_and_other_backends_see_dicts() -> None:
    with DB() as db:
        request = db.explain.write_many(orders()[:2])[1]
        assert type(request) is dict
        item = request["RequestItems"]["encoded"][0]["PutRequest"]["Item"]
        assert type(item) is dict and item["PK"] == {"S": "CUSTOMER#c0"}


class _Stingy(WireBackend):
    """A wire backend whose first BatchWriteItem is throttled and whose second leaves
    half of its writes unprocessed (as DynamoDB may)."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.sent: list[tuple[str, Any]] = []

    def call(self, operation: str, request: dict[str, Any]) -> dict[str, Any]:
        if operation != "BatchWriteItem":
            return super().call(operation, request)
        self.sent.append((operation, request))
        if len(self.sent) == 1:
            raise ThrottledError("ThrottlingException", "slow down", operation=operation)
        if len(self.sent) == 2:
            ((table, writes),) = request["RequestItems"].items()
            half = len(writes) // 2
            super().call(operation, EncodedRequest({"RequestItems": {table: writes[:half]}}))
            return {"UnprocessedItems": {table: writes[half:]}}
        return super().call(operation, request)


def test_encoded_batch_writes_store_what_the_dict_path_stores() -> None:
    wanted = orders()[:25]
    with (
        Server() as server,
        DB(WireBackend(endpoint_url=server.url, region_name=REGION)) as plain,
    ):
        plain.create_table(app)
        plain.create_table(other)
        # the dict path: the same batch through the in-process engine's data
        expected = [o.to_item() for o in wanted]
        stingy = _Stingy(endpoint_url=server.url, region_name=REGION)
        with DB(stingy) as db:
            assert db.write_many(wanted, [(Note, {"id": "none"})]) == 26
        assert len(stingy.sent) == 4  # throttled, half unprocessed, the rest; the delete
        assert all(type(request) is EncodedRequest for _, request in stingy.sent)
        got = plain.get_many(Order, [key(o) for o in wanted])
        assert got == wanted
        for order, item in zip(wanted, expected, strict=True):
            stored = plain.backend.call(
                "GetItem", {"TableName": "encoded", "Key": {"PK": item["PK"], "SK": item["SK"]}}
            )["Item"]
            assert stored == item, order

        async def run_async() -> None:
            backend = AsyncWireBackend(endpoint_url=server.url, region_name=REGION)
            async with AsyncDB(backend) as adb:
                notes = [Note(id=f"a{n}", text="é") for n in range(30)]
                assert await adb.write_many(notes, [(Order, key(wanted[0]))]) == 31
                assert await adb.get_many(Note, [{"id": n.id} for n in notes]) == notes
                assert await adb.get(Order, **key(wanted[0])) is None

        asyncio.run(run_async())
