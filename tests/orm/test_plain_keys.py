"""Plain-attribute keys: entity fields that are the table's or an index's key
attributes themselves, beside templated keys, on every backend.

Covers number, string and binary keys typed by their fields, sparse indexes on
optional fields, a local index on a plain attribute, a templated table key with
a global index on plain attributes, updates that move an item in an index,
sort conditions on plain keys, items written by other code (no entity-type
attribute), and the declaration mistakes (types that disagree, fields that
cannot be keys, a template for a field that is the key).
"""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import pytest
from pydantic import Field

from singletable.backends.base import Backend
from singletable.db import DB
from singletable.entity import Entity, Keys
from singletable.errors import InvalidValueError, ModelError
from singletable.patterns import Collection, Query
from singletable.table import GlobalIndex, LocalIndex, Table
from singletable.updates import Update

readings = Table(
    "readings",
    pk="device",
    sk="at",
    indexes=[
        GlobalIndex("ByAlarm", pk="alarm", sk="at"),  # sparse: alarm is optional
        LocalIndex("ByLevel", sk="level"),
    ],
)


class Reading(Entity, table=readings):
    device: str
    at: int  # N
    level: Decimal  # N, the local index's sort key
    alarm: str | None = None
    note: str = ""

    of_device = Query()
    window = Query(sort="between")
    above = Query(index="ByLevel", sort="gt")
    alarms = Query(index="ByAlarm", sort="gte")


blobs = Table("blobs", pk="digest", sk=None)


class Blob(Entity, table=blobs):
    digest: bytes  # B
    size: int


mixed = Table("mixed", indexes=[GlobalIndex("ByEmail", pk="email")])


class Member(Entity, table=mixed):
    member_id: str
    email: str | None = None  # a plain GSI key beside a templated table key
    name: str

    keys = Keys(pk="MEMBER#{member_id}", sk="PROFILE")
    by_email = Query(index="ByEmail")


class Badge(Entity, table=mixed):
    member_id: str
    badge: str

    keys = Keys(pk="MEMBER#{member_id}", sk="BADGE#{badge}")


member_page = Collection(Member, Badge, name="member_page")


@pytest.fixture
def db(backend: Backend) -> Iterator[DB]:
    database = DB(backend)
    for table in (readings, blobs, mixed):
        database.create_table(table)
    yield database


def _load(db: DB) -> None:
    db.write_many(
        puts=[
            Reading(device="d1", at=at, level=Decimal(at % 7), alarm="hot" if at % 3 == 0 else None)
            for at in range(1, 11)
        ]
    )


def test_plain_keys_are_stored_as_the_fields_are(db: DB, backend: Backend) -> None:
    reading = db.put(Reading(device="d1", at=5, level=Decimal("2.5"), alarm="hot"))
    raw = backend.call("GetItem", {"TableName": "readings", "Key": Reading.key(device="d1", at=5)})
    assert raw["Item"]["device"] == {"S": "d1"} and raw["Item"]["at"] == {"N": "5"}
    assert raw["Item"]["level"] == {"N": "2.5"}
    assert db.get(Reading, device="d1", at=5) == reading
    assert db.get(Reading, device="d1", at="5") == reading  # coerced by the field (int)
    described = backend.call("DescribeTable", {"TableName": "readings"})["Table"]
    types = {d["AttributeName"]: d["AttributeType"] for d in described["AttributeDefinitions"]}
    assert types == {"device": "S", "at": "N", "alarm": "S", "level": "N"}
    blob = db.put(Blob(digest=b"\x00\xffab", size=4))
    assert db.get(Blob, digest=b"\x00\xffab") == blob
    assert db.delete(Blob, digest=b"\x00\xffab") == blob


def test_sort_conditions_on_plain_keys(db: DB) -> None:
    _load(db)
    assert [r.at for r in db.query(Reading.of_device, device="d1")] == list(range(1, 11))
    window = db.query(Reading.window, device="d1", at=(3, 6)).all()
    assert [r.at for r in window] == [3, 4, 5, 6]  # numbers, not text: 10 is not between
    assert [r.at for r in db.query(Reading.window, device="d1", at=(9, 10))] == [9, 10]
    above = db.query(Reading.above, device="d1", level=4).all()
    assert sorted(r.at for r in above) == [5, 6]  # levels 5 and 6
    hot = db.query(Reading.alarms, alarm="hot", at=4).all()
    assert [r.at for r in hot] == [6, 9]  # sparse: only items with an alarm are indexed
    assert db.query(Reading.of_device, device="d1").reverse().first() == db.get(
        Reading, device="d1", at=10
    )


def test_updates_move_items_in_plain_key_indexes(db: DB) -> None:
    _load(db)
    db.update(Reading, Update().set(Reading.alarm, "cold"), device="d1", at=6)
    db.update(Reading, Update().remove(Reading.alarm), device="d1", at=9)
    assert [r.at for r in db.query(Reading.alarms, alarm="hot", at=0)] == [3]
    assert [r.at for r in db.query(Reading.alarms, alarm="cold", at=0)] == [6]
    with pytest.raises(InvalidValueError, match="cannot change at, part of the table key"):
        db.update(Reading, Update().set(Reading.at, 99), device="d1", at=6)


def test_a_plain_index_beside_templated_keys(db: DB) -> None:
    db.put(Member(member_id="m1", email="ada@example.com", name="Ada"))
    db.put(Member(member_id="m2", name="Bob"))  # no email: not in ByEmail
    db.put(Badge(member_id="m1", badge="gold"))
    found = db.query(Member.by_email, email="ada@example.com").one()
    assert found.member_id == "m1"
    moved = db.update(Member, Update().set(Member.email, "ada@new.example"), member_id="m1")
    assert moved.email == "ada@new.example"
    assert db.query(Member.by_email, email="ada@example.com").all() == []
    assert db.query(Member.by_email, email="ada@new.example").one().name == "Ada"
    page = db.collection(member_page, member_id="m1")
    assert [m.name for m in page[Member]] == ["Ada"] and [b.badge for b in page[Badge]] == ["gold"]


def test_items_written_by_other_code_are_read_by_key_shape(db: DB, backend: Backend) -> None:
    # No entity-type attribute: as a table written by another program looks.
    backend.call(
        "PutItem",
        {
            "TableName": "readings",
            "Item": {"device": {"S": "d9"}, "at": {"N": "1"}, "level": {"N": "3"}},
        },
    )
    for item in (
        {
            "PK": {"S": "MEMBER#m7"},
            "SK": {"S": "PROFILE"},
            "member_id": {"S": "m7"},
            "name": {"S": "Old"},
        },
        {
            "PK": {"S": "MEMBER#m7"},
            "SK": {"S": "BADGE#silver"},
            "member_id": {"S": "m7"},
            "badge": {"S": "silver"},
        },
    ):
        backend.call("PutItem", {"TableName": "mixed", "Item": item})
    assert db.require(Reading, device="d9", at=1).level == 3
    assert [r.at for r in db.query(Reading.of_device, device="d9")] == [1]
    assert [r.device for r in db.scan(Reading)] == ["d9"]
    page = db.collection(member_page, member_id="m7")
    assert [m.name for m in page[Member]] == ["Old"]
    assert [b.badge for b in page[Badge]] == ["silver"] and page.unknown == []
    assert [m.name for m in db.scan(Member)] == ["Old"]  # the badge has Badge's key shape
    assert db.require(Member, member_id="m7").name == "Old"


def test_one_transaction_and_one_batch_across_tables(db: DB) -> None:
    with db.transaction() as tx:
        tx.put(Reading(device="d1", at=1, level=Decimal(1)), mode="create")
        tx.put(Blob(digest=b"x", size=1))
        tx.put(Member(member_id="m1", name="Ada"))
    assert [type(r).__name__ for r in tx.results] == ["Reading", "Blob", "Member"]
    count = db.write_many(
        puts=[Blob(digest=b"y", size=2)],
        deletes=[(Reading, {"device": "d1", "at": 1}), (Member, {"member_id": "m1"})],
    )
    assert count == 3
    assert db.get(Reading, device="d1", at=1) is None and db.get(Member, member_id="m1") is None
    assert {b.size for b in db.get_many(Blob, [{"digest": b"x"}, {"digest": b"y"}]) if b} == {1, 2}


def _declare(table: Table, fields: dict[str, Any], **namespace: Any) -> type[Entity]:
    return type("Bad", (Entity,), {"__annotations__": fields, **namespace}, table=table)


def test_declaration_mistakes_with_plain_keys() -> None:
    numbered = Table("numbered", pk="n", sk=None, pk_type="S")
    with pytest.raises(ModelError, match=r"Bad\.n makes key attribute 'n' of table 'numbered' N"):
        _declare(numbered, {"n": int})
    with pytest.raises(ModelError, match=r"attribute 'n' is a key .* not list"):
        _declare(Table("listed", pk="n", sk=None), {"n": list[str]})
    with pytest.raises(ModelError, match=r"Bad\.n is the table's partition key \('n'\) itself"):
        _declare(Table("templated", pk="n", sk=None), {"n": str}, keys=Keys(pk="N#{n}"))
    shared = Table("shared", pk="id", sk=None)
    _declare(shared, {"id": int})  # id is now N
    with pytest.raises(ModelError, match=r"'X#{name}' is for a number key \(N\)"):
        type(
            "Other",
            (Entity,),
            {"__annotations__": {"name": str}, "keys": Keys(pk="X#{name}")},
            table=shared,
        )
    with pytest.raises(ModelError, match="entity-type attribute"):
        _declare(
            Table("typed", pk="id", sk=None), {"id": str, "kind": str}, kind=Field(alias="_type")
        )


def test_plain_key_tables_render_their_create_request() -> None:
    request = readings.create_table_request()
    assert request["KeySchema"] == [
        {"AttributeName": "device", "KeyType": "HASH"},
        {"AttributeName": "at", "KeyType": "RANGE"},
    ]
    assert {d["AttributeName"]: d["AttributeType"] for d in request["AttributeDefinitions"]} == {
        "alarm": "S",
        "at": "N",
        "device": "S",
        "level": "N",
    }
    assert Reading.key(device="d1", at=3) == {"device": {"S": "d1"}, "at": {"N": "3"}}
    assert Blob.__singletable__.table.create_table_request()["AttributeDefinitions"] == [
        {"AttributeName": "digest", "AttributeType": "B"}
    ]
