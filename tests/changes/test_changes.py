"""Typed change events (singletable.changes) from every source: the embedded engine's
subscriptions, the DynamoDB Streams API (boto3 and aioboto3, in process and over
HTTP) and Lambda events; the dispatching handler's partial batch response."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from datetime import UTC, datetime
from decimal import Decimal
from typing import Annotated, Any

import aioboto3
import boto3
import pytest

from singletable import (
    DB,
    Entity,
    ItemValidationError,
    Keys,
    ModelError,
    Table,
    TableNotFoundError,
    Unique,
)
from singletable.backends.boto3 import Boto3Backend
from singletable.backends.engine import LocalBackend
from singletable.changes import (
    Change,
    ChangeHandler,
    ChangeParser,
    StreamPosition,
    UnknownChange,
    aread_stream,
    read_stream,
)
from singletable.server import Server
from singletable.testing import local_dynamodb

REGION = "us-east-1"

shop = Table("shop", stream="NEW_AND_OLD_IMAGES")


class Order(Entity, table=shop):
    customer_id: str
    order_id: str
    total: Decimal
    note: str | None = None
    scan: bytes | None = None

    keys = Keys(pk="CUSTOMER#{customer_id}", sk="ORDER#{order_id}")


class Customer(Entity, table=shop):
    customer_id: str
    name: str

    keys = Keys(pk="CUSTOMER#{customer_id}", sk="PROFILE")


def order(n: int, total: str = "10") -> Order:
    return Order(customer_id="c1", order_id=f"o{n}", total=Decimal(total))


@pytest.fixture
def db() -> Iterator[DB]:
    with DB() as database:
        database.create_table(shop)
        yield database


def engine_of(db: DB) -> Any:
    assert isinstance(db.backend, LocalBackend)
    return db.backend.engine


# --------------------------------------------------------------------------- the parser


def test_records_become_typed_changes_in_every_view(db: DB) -> None:
    engine = engine_of(db)
    views = ("NEW_AND_OLD_IMAGES", "NEW_IMAGE", "OLD_IMAGE", "KEYS_ONLY")
    streams = {view: engine.stream_records("shop", view=view) for view in views}
    db.put(order(1))
    db.put(order(1, "12"))
    db.delete(Order, customer_id="c1", order_id="o1")
    parser = ChangeParser(shop)
    got = {view: [parser.parse(r) for r in stream.drain()] for view, stream in streams.items()}
    both = got["NEW_AND_OLD_IMAGES"]
    assert [c.event for c in both] == ["INSERT", "MODIFY", "REMOVE"]
    assert all(isinstance(c, Change) and c.entity is Order for c in both)
    insert, modify, remove = both
    assert isinstance(insert, Change) and isinstance(modify, Change) and isinstance(remove, Change)
    assert (insert.old, insert.new) == (None, order(1))
    assert (modify.old, modify.new) == (order(1), order(1, "12"))
    assert (remove.old, remove.new) == (order(1, "12"), None)
    assert modify.key == {"customer_id": "c1", "order_id": "o1"}
    assert modify.keys == {"PK": {"S": "CUSTOMER#c1"}, "SK": {"S": "ORDER#o1"}}
    assert int(insert.sequence_number) < int(modify.sequence_number) < int(remove.sequence_number)
    assert isinstance(insert.created_at, datetime) and insert.created_at.tzinfo is UTC
    assert modify.view == "NEW_AND_OLD_IMAGES"
    new_only = got["NEW_IMAGE"]
    assert [(c.old, c.new) for c in new_only if isinstance(c, Change)] == [
        (None, order(1)),
        (None, order(1, "12")),
        (None, None),
    ]
    old_only = got["OLD_IMAGE"]
    assert [(c.old, c.new) for c in old_only if isinstance(c, Change)] == [
        (None, None),
        (order(1), None),
        (order(1, "12"), None),
    ]
    # KEYS_ONLY: no image and no type attribute; the entity comes from the key shape.
    keys_only = got["KEYS_ONLY"]
    assert all(isinstance(c, Change) and c.entity is Order for c in keys_only)
    assert [(c.old, c.new, c.key) for c in keys_only if isinstance(c, Change)] == [
        (None, None, {"customer_id": "c1", "order_id": "o1"})
    ] * 3


def record(new: dict[str, Any] | None, *, keys: dict[str, Any] | None = None) -> dict[str, Any]:
    body: dict[str, Any] = {"SequenceNumber": "42", "ApproximateCreationDateTime": 1764763200}
    if new is not None:
        body["NewImage"] = new
    body["Keys"] = keys if keys is not None else {k: new[k] for k in ("PK", "SK")} if new else {}
    return {"eventName": "INSERT", "dynamodb": body}


def test_unknown_types_and_keys_are_reported_not_raised() -> None:
    parser = ChangeParser(Order, Customer)
    stranger = {"PK": {"S": "X#1"}, "SK": {"S": "Y"}, "_type": {"S": "Invoice"}}
    change = parser.parse(record(stranger))
    assert isinstance(change, UnknownChange) and change.entity is None
    assert change.type_name == "Invoice"
    assert "unknown entity type 'Invoice' on table 'shop'" in change.reason
    assert change.created_at == datetime(2025, 12, 3, 12, 0, tzinfo=UTC)
    untyped = parser.parse(record(None, keys={"PK": {"S": "NOPE#1"}, "SK": {"S": "Z"}}))
    assert isinstance(untyped, UnknownChange)
    assert "no entity's key templates match" in untyped.reason
    # Without a type attribute, a key of a known shape finds its entity.
    item = Customer(customer_id="c9", name="Ann").to_item()
    del item["_type"]
    found = parser.parse(record(item))
    assert isinstance(found, Change) and found.entity is Customer
    assert found.new == Customer(customer_id="c9", name="Ann")
    # An entity the parser was not given is unknown to it (by name, with the reason).
    only_orders = ChangeParser(Order)
    other = only_orders.parse(record(Customer(customer_id="c9", name="Ann").to_item()))
    assert isinstance(other, UnknownChange)
    assert other.reason == "entity type 'Customer' is not one of the parser's"


def test_an_image_that_fails_validation_names_entity_and_key() -> None:
    bad = order(3).to_item()
    bad["total"] = {"S": "lots"}
    with pytest.raises(ItemValidationError) as caught:
        ChangeParser(shop).parse(record(bad))
    assert "stored Order (PK='CUSTOMER#c1', SK='ORDER#o3') does not validate" in str(caught.value)
    assert "total" in str(caught.value)


def test_boto3_shaped_records_with_bytes_and_datetimes_parse() -> None:
    item = Order(customer_id="c1", order_id="o1", total=Decimal(1), scan=b"\x00\xff").to_item()
    item["scan"] = {"B": b"\x00\xff"}  # boto3 decodes binary values
    raw = record(item)
    raw["dynamodb"]["ApproximateCreationDateTime"] = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
    change = ChangeParser(Order).parse(raw)
    assert isinstance(change, Change) and change.new is not None
    assert change.new.scan == b"\x00\xff"
    assert change.created_at == datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)


def test_parser_refuses_entities_of_several_tables_and_bad_records() -> None:
    other = Table("other_changes")

    class Thing(Entity, table=other):
        thing_id: str
        keys = Keys(pk="T#{thing_id}", sk="T")

    with pytest.raises(ModelError, match="several tables"):
        ChangeParser(Order, Thing)
    with pytest.raises(ModelError):
        ChangeParser()
    from singletable import InvalidValueError

    with pytest.raises(InvalidValueError, match="not a DynamoDB stream record"):
        ChangeParser(Order).parse({"eventName": "UPSERT", "dynamodb": {}})


# --------------------------------------------------------------------------- db.subscribe


def test_subscribe_delivers_typed_changes_of_the_entities_asked_for(db: DB) -> None:
    orders: list[Change[Order]] = []
    unknown: list[UnknownChange] = []
    with db.subscribe(orders.append, entities=[Order], on_unknown=unknown.append):
        db.put(order(1))
        db.put(Customer(customer_id="c1", name="Ann"))  # not subscribed: skipped
        db.backend.call(
            "PutItem",
            {"TableName": "shop", "Item": {"PK": {"S": "X#1"}, "SK": {"S": "Y"}}},
        )
        assert [c.new for c in orders] == [order(1)]  # delivered before put returned
        assert [u.keys for u in unknown] == [{"PK": {"S": "X#1"}, "SK": {"S": "Y"}}]
    db.put(order(2))
    assert len(orders) == 1  # closed


def test_subscribe_view_and_handler_errors(db: DB) -> None:
    plain = Table("plain_changes")  # no stream: a view type is needed to see changes

    class Note(Entity, table=plain):
        note_id: str
        keys = Keys(pk="N#{note_id}", sk="N")

    db.create_table(plain)
    following: list[Change[Note]] = []
    viewed: list[Change[Note]] = []
    db.subscribe(following.append, entities=[Note])
    db.subscribe(viewed.append, entities=[Note], view="KEYS_ONLY")
    db.put(Note(note_id="n1"))
    assert following == []
    assert [(c.event, c.key, c.new) for c in viewed] == [("INSERT", {"note_id": "n1"}, None)]

    def fail(change: Change[Order]) -> None:
        raise RuntimeError("handler broke")

    db.subscribe(fail, entities=[Order])
    with pytest.raises(RuntimeError, match="handler broke"):
        db.put(order(5))
    assert db.get(Order, customer_id="c1", order_id="o5") == order(5)  # the write stands


def test_subscribe_needs_the_embedded_engine_and_entities(db: DB) -> None:
    with pytest.raises(ModelError, match="at least one entity"):
        db.subscribe(lambda change: None, entities=[])
    with local_dynamodb():
        remote = DB(Boto3Backend(boto3.client("dynamodb", region_name=REGION)))
        with pytest.raises(TypeError, match="needs the embedded engine"):
            remote.subscribe(lambda change: None, entities=[Order])


# --------------------------------------------------------------------------- Lambda events


def test_change_handler_dispatches_and_reports_the_first_failure(db: DB) -> None:
    handler = ChangeHandler(shop)
    seen: list[str] = []

    @handler.on(Order)
    def on_order(change: Change[Order]) -> None:
        assert change.new is not None
        if change.new.note == "poison":
            raise ValueError("cannot ship")
        seen.append(f"order {change.new.order_id}")

    @handler.on(Customer)
    def on_customer(change: Change[Customer]) -> None:
        assert change.new is not None
        seen.append(f"customer {change.new.name}")

    with engine_of(db).stream_records("shop") as records:
        db.put(order(1))
        db.put(Customer(customer_id="c1", name="Ann"))
        db.put(Order(customer_id="c1", order_id="o2", total=Decimal(1), note="poison"))
        db.put(order(3))
        event = records.lambda_event()
    sequences = [r["dynamodb"]["SequenceNumber"] for r in event["Records"]]
    assert all(r["eventSourceARN"].startswith("arn:aws:dynamodb:") for r in event["Records"])
    response = handler(event, None)
    # Lambda retries from the failed record: o3 is left for the retry, not handled twice.
    assert response == {"batchItemFailures": [{"itemIdentifier": sequences[2]}]}
    assert seen == ["order o1", "customer Ann"]
    assert [(s, type(e)) for s, e in handler.errors] == [(sequences[2], ValueError)]
    # The retried batch (from the failed record on), with the poison fixed, succeeds.
    retry = {"Records": event["Records"][3:]}
    assert handler(retry, None) == {"batchItemFailures": []}
    assert seen[-1] == "order o3"


def test_unknown_changes_are_logged_when_no_callback_takes_them(
    db: DB, caplog: pytest.LogCaptureFixture
) -> None:
    orders: list[Change[Order]] = []
    db.subscribe(orders.append, entities=[Order])
    item = {"PK": {"S": "X#1"}, "SK": {"S": "Y"}, "_type": {"S": "Ghost"}}
    with caplog.at_level("WARNING", logger="singletable.changes"):
        db.backend.call("PutItem", {"TableName": "shop", "Item": item})
    assert orders == []
    assert "skipped: unknown entity type 'Ghost' on table 'shop'" in caplog.text


def test_change_handler_reports_unknown_and_invalid_records() -> None:
    unknown: list[UnknownChange] = []
    handler = ChangeHandler(Order, on_unknown=unknown.append)
    stranger = record({"PK": {"S": "X"}, "SK": {"S": "Y"}, "_type": {"S": "Ghost"}})
    bad_item = order(1).to_item()
    bad_item["total"] = {"S": "NaN-ish"}
    bad = record(bad_item)
    bad["dynamodb"]["SequenceNumber"] = "43"
    assert handler({"Records": [stranger]}) == {"batchItemFailures": []}
    assert [u.type_name for u in unknown] == ["Ghost"]
    assert handler({"Records": [stranger, bad]}) == {
        "batchItemFailures": [{"itemIdentifier": "43"}]
    }
    assert isinstance(handler.errors[0][1], ItemValidationError)
    with pytest.raises(ModelError, match="not one of its entities"):
        handler.on(Customer)


# --------------------------------------------------------------------------- the Streams API


def write_some(db: DB) -> None:
    db.put(order(1))
    db.put(order(1, "11"))
    db.put(Customer(customer_id="c1", name="Ann"))
    db.delete(Order, customer_id="c1", order_id="o1")


EXPECTED = [("INSERT", "Order"), ("MODIFY", "Order"), ("INSERT", "Customer"), ("REMOVE", "Order")]


def summary(changes: list[Any]) -> list[tuple[str, str]]:
    return [(c.event, c.entity.__name__) for c in changes]


def test_read_stream_through_boto3_follows_the_shard_and_resumes(db: DB) -> None:
    write_some(db)
    parser = ChangeParser(shop)
    with local_dynamodb(engine=engine_of(db)):
        streams = boto3.client("dynamodbstreams", region_name=REGION)
        position = StreamPosition()
        first = [
            parser.parse(r) for r in read_stream(streams, table_name="shop", position=position)
        ]
        assert summary(first) == EXPECTED
        assert first[1].old == order(1) and first[1].new == order(1, "11")
        saved = position.to_json()
        assert saved["Shards"]  # the last sequence number read, per shard
        db.put(order(7))
        again = StreamPosition.from_json(saved)
        rest = list(read_stream(streams, table_name="shop", position=again, limit=1))
        assert summary([parser.parse(r) for r in rest]) == [("INSERT", "Order")]
        assert list(read_stream(streams, table_name="shop", position=again)) == []
        with pytest.raises(TableNotFoundError, match="has no stream"):
            db.create_table(Table("quiet_changes"))
            list(read_stream(streams, table_name="quiet_changes"))


def test_read_stream_over_http(dynamodb_server: Server) -> None:
    url = dynamodb_server.url
    client = boto3.client("dynamodb", endpoint_url=url, region_name=REGION)
    with DB(Boto3Backend(client)) as db:
        db.create_table(shop)
        write_some(db)
    streams = boto3.client("dynamodbstreams", endpoint_url=url, region_name=REGION)
    parser = ChangeParser(shop)
    changes = [parser.parse(r) for r in read_stream(streams, table_name="shop")]
    assert summary(changes) == EXPECTED
    assert changes[2].new == Customer(customer_id="c1", name="Ann")


def test_aread_stream_through_aioboto3(db: DB) -> None:
    write_some(db)
    parser = ChangeParser(Order, Customer)

    async def read() -> list[Any]:
        async with aioboto3.Session().client("dynamodbstreams", region_name=REGION) as streams:
            return [parser.parse(r) async for r in aread_stream(streams, table_name="shop")]

    with local_dynamodb(engine=engine_of(db)):
        changes = asyncio.run(read())
    assert summary(changes) == EXPECTED


class FakeStreams:
    """A Streams API with split shards: a parent, two children (listed first, across
    DescribeStream pages) and a closed parent the stream no longer lists."""

    def __init__(self) -> None:
        self.shards = [
            {"ShardId": "child-a", "ParentShardId": "parent"},
            {"ShardId": "child-b", "ParentShardId": "parent"},
            {"ShardId": "parent", "ParentShardId": "trimmed-grandparent"},
        ]
        self.records = {"parent": ["1", "2"], "child-a": ["3"], "child-b": ["4", "5"]}
        self.closed = {"parent"}
        self.calls: list[str] = []

    def list_streams(self, **request: Any) -> dict[str, Any]:
        return {"Streams": [{"StreamArn": "arn:old", "StreamLabel": "1"},
                            {"StreamArn": "arn:new", "StreamLabel": "2"}]}  # fmt: skip

    def describe_stream(self, StreamArn: str, ExclusiveStartShardId: str | None = None) -> Any:
        assert StreamArn == "arn:new"
        start = 0 if ExclusiveStartShardId is None else 2
        page: dict[str, Any] = {"Shards": self.shards[start : start + 2]}
        if start == 0:
            page["LastEvaluatedShardId"] = self.shards[1]["ShardId"]
        return {"StreamDescription": page}

    def get_shard_iterator(self, **request: Any) -> dict[str, Any]:
        after = request.get("SequenceNumber", "0")
        return {"ShardIterator": f"{request['ShardId']}:{after}"}

    def get_records(self, ShardIterator: str, Limit: int | None = None) -> dict[str, Any]:
        shard, after = ShardIterator.split(":")
        self.calls.append(shard)
        rest = [s for s in self.records[shard] if int(s) > int(after)][:1]
        page: dict[str, Any] = {
            "Records": [{"eventName": "INSERT", "dynamodb": {"SequenceNumber": s}} for s in rest]
        }
        if rest or shard not in self.closed:
            page["NextShardIterator"] = f"{shard}:{rest[-1] if rest else after}"
        return page


def test_read_stream_reads_parents_before_children_across_pages() -> None:
    fake = FakeStreams()
    position = StreamPosition()
    got = [
        r["dynamodb"]["SequenceNumber"]
        for r in read_stream(fake, table_name="t", position=position)
    ]
    assert got == ["1", "2", "3", "4", "5"]
    assert position.finished == {"parent"}
    assert position.sequences == {"parent": "2", "child-a": "3", "child-b": "5"}
    assert position.stream_arn == "arn:new"
    fake.records["child-a"].append("6")
    assert [r["dynamodb"]["SequenceNumber"] for r in read_stream(fake, position=position)] == ["6"]


class LateStreams(FakeStreams):
    """A record arrives only after the reader found nothing new twice."""

    def __init__(self) -> None:
        super().__init__()
        self.passes = 0

    def describe_stream(self, StreamArn: str, ExclusiveStartShardId: str | None = None) -> Any:
        if ExclusiveStartShardId is None:
            self.passes += 1
            if self.passes == 4:  # pass 1 reads everything; 2 and 3 find nothing new
                self.records["child-b"].append("7")
        return super().describe_stream(StreamArn, ExclusiveStartShardId)


def test_read_stream_follow_polls_for_new_records() -> None:
    fake = LateStreams()
    got: list[str] = []
    for record in read_stream(fake, table_name="t", follow=True, poll_interval=0):
        got.append(record["dynamodb"]["SequenceNumber"])
        if got[-1] == "7":
            break
    assert got == ["1", "2", "3", "4", "5", "7"]
    assert fake.passes == 4


def test_read_stream_survives_expired_iterators_and_trimmed_checkpoints(
    caplog: pytest.LogCaptureFixture,
) -> None:
    from singletable.backends.local.engine import LocalEngine

    now = [1_800_000_000.0]
    engine = LocalEngine(clock=lambda: now[0])
    with DB(LocalBackend(engine)) as db:
        db.create_table(shop)
        for n in range(3):
            db.put(order(n))
        with local_dynamodb(engine=engine):
            streams = boto3.client("dynamodbstreams", region_name=REGION)
            position = StreamPosition()
            early = StreamPosition()  # a reader that took one record and stopped
            for seen, _ in enumerate(read_stream(streams, table_name="shop", position=early)):
                if seen == 1:
                    break  # the first record counts as taken, the second not
            got = []
            # One record a GetRecords call; the consumer is slow: 16 minutes a record,
            # longer than an iterator lives (15 minutes).
            for record in read_stream(streams, table_name="shop", position=position, limit=1):
                got.append(ChangeParser(Order).parse(record))
                now[0] += 16 * 60
            assert [c.new for c in got if isinstance(c, Change)] == [order(0), order(1), order(2)]
            # A day later, the records after the early reader's checkpoint are trimmed:
            # it starts over at the oldest record left, and says so.
            now[0] += 25 * 3600
            db.put(order(3))
            with caplog.at_level("WARNING", logger="singletable.changes"):
                later = list(read_stream(streams, table_name="shop", position=position))
                assert caplog.text == ""  # nothing it had not read was trimmed
                again = list(read_stream(streams, table_name="shop", position=early))
            parse = ChangeParser(Order).parse
            assert [parse(r).new for r in later] == [parse(r).new for r in again] == [order(3)]  # type: ignore[union-attr]
            assert "were trimmed; reading from its oldest" in caplog.text


accounts = Table("accounts", stream="NEW_AND_OLD_IMAGES")


class Member(Entity, table=accounts):
    member_id: str
    email: Annotated[str, Unique]

    keys = Keys(pk="MEMBER#{member_id}", sk="PROFILE")


def test_guard_items_of_unique_values_are_skipped_not_reported() -> None:
    """A unique field's guard item is written in the entity's transaction: its record
    is no change of its own, so subscriptions and handlers pass over it silently."""
    with DB() as database:
        database.create_table(accounts)
        members: list[Change[Member]] = []
        unknown: list[UnknownChange] = []
        records: list[dict[str, Any]] = []
        engine_of(database).subscribe("accounts", records.append)
        with database.subscribe(members.append, entities=[Member], on_unknown=unknown.append):
            database.put(Member(member_id="m1", email="a@example.com"))
        assert [c.new for c in members] == [Member(member_id="m1", email="a@example.com")]
        assert unknown == []
        parsed = [ChangeParser(accounts).parse(r) for r in records]
        guards = [p for p in parsed if isinstance(p, UnknownChange)]
        assert len(guards) == 1 and guards[0].is_guard
        assert guards[0].reason == "the guard item of a unique value"
        handler = ChangeHandler(accounts, on_unknown=unknown.append)
        assert handler({"Records": records}) == {"batchItemFailures": []}
        assert unknown == [] and handler.unknown == []
