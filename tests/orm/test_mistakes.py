"""Mistakes the modelling layer refuses at its boundary, on every backend.

Each test makes one mistake a user makes (a key argument of the wrong type, a
misspelled keyword, an invalid instance, a key value holding its template's
separator, a stale version) and checks the error class, that the message names
the entity, the field and the value, and, by reading the table back, that nothing
was written. Tests taking ``db`` run on every backend of tests/orm/conftest.py.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Annotated, Any, Literal

import pytest
from pydantic import ValidationError, field_validator

from singletable.backends.base import Backend
from singletable.db import DB
from singletable.entity import Entity, Keys, Version
from singletable.errors import (
    ConditionFailedError,
    InvalidValueError,
    ItemValidationError,
    UnknownKeywordError,
    VersionConflictError,
)
from singletable.patterns import Collection, Query
from singletable.table import GlobalIndex, Table
from singletable.updates import Update

T = datetime(2026, 3, 1, tzinfo=UTC)

app = Table("mistakes", indexes=[GlobalIndex("GSI1", pk="GSI1PK", sk="GSI1SK")])


class Parcel(Entity, table=app):
    k: str
    at: datetime
    status: Literal["new", "shipped"]
    code: str = "c"
    version: Annotated[int, Version] = 0

    keys = Keys(pk="K#{k}", sk="AT#{at}#X", GSI1=("STATUS#{status}", "{at}"))
    of_k = Query()
    by_status = Query(index="GSI1", sort="between")
    since = Query(sort="gte")


class Tag(Entity, table=app):
    k: str
    label: str

    keys = Keys(pk="K#{k}", sk="TAG#{label}#")
    named = Query(sort="eq")
    from_label = Query(sort="gte")

    @field_validator("label")
    @classmethod
    def _lower(cls, value: str) -> str:
        return value.lower()


parcel_page = Collection(Parcel, Tag, name="parcel_page")


@pytest.fixture
def db(backend: Backend) -> Iterator[DB]:
    database = DB(backend)
    database.create_table(app)
    yield database


def _stored(db: DB) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = db.backend.call("Scan", {"TableName": "mistakes"})["Items"]
    return sorted(items, key=lambda item: (item["PK"]["S"], item["SK"]["S"]))


# ----------------------------------------------------------------- 1. key values


def test_key_arguments_are_coerced_by_their_field_types(db: DB) -> None:
    db.put(Parcel(k="a", at=T, status="new"))
    # A string is validated as the datetime field would validate it.
    found = db.get(Parcel, k="a", at="2026-03-01T00:00:00Z")
    assert found is not None and found.at == T
    assert db.require(Parcel, k="a", at="2026-03-01T01:00:00+01:00").k == "a"
    rows = db.query(Parcel.by_status, status="new", at=("2026-02-01T00:00Z", "2026-04-01")).all()
    assert [p.k for p in rows] == ["a"]
    assert [p.k for p in db.query(Parcel.since, k="a", at="2026-01-01T00:00:00Z")] == ["a"]
    assert len(db.get_many(Parcel, [{"k": "a", "at": "2026-03-01T00:00:00Z"}])) == 1
    # A field validator of the entity runs on key arguments too (it lowercases).
    db.put(Tag(k="a", label="Red"))
    assert db.get(Tag, k="a", label="RED") is not None
    updated = db.update(Parcel, Update().set(Parcel.code, "d"), k="a", at="2026-03-01T00:00Z")
    assert updated.code == "d"
    assert db.delete(Parcel, k="a", at="2026-03-01T00:00:00Z") is not None
    assert db.get(Parcel, k="a", at=T) is None


@pytest.mark.parametrize(
    "call",
    [
        pytest.param(lambda db: db.get(Parcel, k="a", at="yesterday"), id="get"),
        pytest.param(lambda db: db.require(Parcel, k="a", at="yesterday"), id="require"),
        pytest.param(lambda db: db.delete(Parcel, k="a", at="yesterday"), id="delete"),
        pytest.param(
            lambda db: db.update(Parcel, Update().set(Parcel.code, "x"), k="a", at="yesterday"),
            id="update",
        ),
        pytest.param(lambda db: db.query(Parcel.since, k="a", at="yesterday").all(), id="query"),
        pytest.param(
            lambda db: db.query(Parcel.by_status, status="new", at=("2026-01-01", "soon")).all(),
            id="between",
        ),
        pytest.param(lambda db: db.explain.get(Parcel, k="a", at="yesterday"), id="explain"),
        pytest.param(lambda db: db.get_many(Parcel, [{"k": "a", "at": "yesterday"}]), id="batch"),
        pytest.param(
            lambda db: db.write_many(deletes=[(Parcel, {"k": "a", "at": "yesterday"})]),
            id="write_many",
        ),
        pytest.param(
            lambda db: db.get_together([(Parcel, {"k": "a", "at": "yesterday"})]), id="tx-get"
        ),
    ],
)
def test_a_key_value_its_field_refuses_is_named(db: DB, call: Any) -> None:
    db.put(Parcel(k="a", at=T, status="new"))
    before = _stored(db)
    with pytest.raises(InvalidValueError, match=r"'yesterday'|'soon'") as caught:
        call(db)
    assert "Parcel.at" in str(caught.value) and "datetime" in str(caught.value)
    assert _stored(db) == before


def test_a_literal_key_value_outside_its_choices_is_refused(db: DB) -> None:
    with pytest.raises(InvalidValueError, match=r"'lost' is not a valid Parcel\.status") as caught:
        db.query(Parcel.by_status, status="lost", at=(T, T)).all()
    assert "'new' or 'shipped'" in str(caught.value)
    with pytest.raises(InvalidValueError, match=r"Parcel\.status"):
        db.explain.query(Parcel.by_status, status="lost", at=(T, T))
    with pytest.raises(InvalidValueError, match=r"'x' is not a valid Parcel\.at"):
        db.get(Parcel, k="a", at="x")
    with pytest.raises(InvalidValueError, match=r"1 is not a valid Parcel\.k"):
        db.collection(parcel_page, k=1)
    with pytest.raises(InvalidValueError, match=r"Parcel\.at"), db.transaction() as tx:
        tx.delete(Parcel, k="a", at="not a time")
    assert _stored(db) == []


# ----------------------------------------------------------------- 2. keywords


def test_misspelled_keywords_raise_before_anything_is_sent(db: DB) -> None:
    db.put(Parcel(k="zz", at=T, status="new"))
    before = _stored(db)
    with pytest.raises(UnknownKeywordError, match=r"'must_exsit' \(did you mean 'must_exist'\?\)"):
        db.delete(Parcel, k="zz", at=T, must_exsit=True)
    with pytest.raises(UnknownKeywordError, match=r"'consistant' \(did you mean 'consistent'\?\)"):
        db.get(Parcel, k="zz", at=T, consistant=True)
    with pytest.raises(UnknownKeywordError, match=r"'conditon' \(did you mean 'condition'\?\)"):
        db.update(Parcel, Update().set(Parcel.code, "new"), k="zz", at=T, conditon=None)
    with pytest.raises(UnknownKeywordError, match=r"'expected_versoin'"):
        db.update(Parcel, Update().set(Parcel.code, "new"), k="zz", at=T, expected_versoin=1)
    with pytest.raises(UnknownKeywordError, match=r"'kk' \(did you mean 'k'\?\)"):
        db.query(Parcel.of_k, kk="zz")
    with pytest.raises(UnknownKeywordError, match=r"limit is a method of the query"):
        db.query(Parcel.of_k, k="zz", limit=5)
    with pytest.raises(UnknownKeywordError, match="'colour'"), db.transaction() as tx:
        tx.update(Parcel, Update().set(Parcel.code, "new"), k="zz", at=T, colour="red")
    with pytest.raises(TypeError):  # also a TypeError, as Python's own are
        db.require(Parcel, k="zz", at=T, strongly=True)
    assert _stored(db) == before  # the update with a typo applied nothing


# ----------------------------------------------------------------- 3. invalid instances


def test_an_invalid_instance_is_never_written(db: DB) -> None:
    parcel = db.put(Parcel(k="a", at=T, status="new"))
    with pytest.raises(ValidationError):
        parcel.status = "shiped"  # type: ignore[assignment]
    assert parcel.status == "new"
    before = _stored(db)
    broken = parcel.model_copy(update={"status": "shiped"})  # skips validation, as in Pydantic
    for write in (
        lambda: db.put(broken),
        lambda: db.write_many(puts=[broken]),
        lambda: db.explain.put(broken),
    ):
        with pytest.raises(InvalidValueError, match=r"Parcel \(k='a', at=.*\) is not valid") as e:
            write()
        assert "status" in str(e.value) and "'shiped'" in str(e.value)
    with pytest.raises(InvalidValueError, match="status"), db.transaction() as tx:
        tx.put(broken)
    assert _stored(db) == before
    rows = db.query(Parcel.by_status, status="shipped", at=(T, T)).all()
    assert rows == []  # nothing sits in the index under STATUS#shiped


def test_a_stored_item_that_no_longer_validates_names_entity_key_and_field(db: DB) -> None:
    item = Parcel(k="a", at=T, status="new").to_item()
    item["status"] = {"S": "lost"}  # written by other code, or by an older model
    db.backend.call("PutItem", {"TableName": "mistakes", "Item": item})
    with pytest.raises(ItemValidationError) as caught:
        db.get(Parcel, k="a", at=T)
    message = str(caught.value)
    assert "stored Parcel" in message and "K#a" in message
    assert "status" in message and "'lost'" in message
    assert caught.value.item["status"] == {"S": "lost"}
    with pytest.raises(ItemValidationError):
        db.query(Parcel.of_k, k="a").all()


# ----------------------------------------------------------------- 4. separators


def test_a_key_value_holding_the_separator_is_one_error_on_every_path(db: DB) -> None:
    bad = Tag(k="a", label="x#y")
    for call in (
        lambda: db.put(bad),
        lambda: db.write_many(puts=[bad]),
        lambda: db.get(Tag, k="a", label="x#y"),
        lambda: db.query(Tag.named, k="a", label="x#y").all(),
        lambda: db.query(Tag.from_label, k="a", label="x#y").all(),
        lambda: db.explain.get(Tag, k="a", label="x#y"),
    ):
        with pytest.raises(InvalidValueError, match=r"contains '#'"):
            call()
    with (
        pytest.raises(InvalidValueError, match=r"Tag\.label: 'x#y' contains '#'"),
        db.transaction() as tx,
    ):
        tx.put(bad)
    assert _stored(db) == []


# ----------------------------------------------------------------- 5. versions


def test_a_stale_version_says_so_on_put_and_update(db: DB) -> None:
    first = db.put(Parcel(k="a", at=T, status="new"))
    assert first.version == 1
    db.put(first)  # version 1 -> 2
    with pytest.raises(VersionConflictError, match=r"version changed .*expected 1, stored 2"):
        db.put(first)
    with pytest.raises(VersionConflictError, match=r"version changed .*expected 1, stored 2") as e:
        db.update(Parcel, Update().set(Parcel.code, "z"), k="a", at=T, expected_version=1)
    assert isinstance(e.value, ConditionFailedError)
    assert (e.value.expected, e.value.stored) == (1, 2)
    assert "Parcel" in str(e.value)
    stored = db.require(Parcel, k="a", at=T)
    assert (stored.version, stored.code) == (2, "c")  # neither write landed
    # The right version passes; a condition that fails with the right version is
    # not a version conflict.
    db.update(Parcel, Update().set(Parcel.code, "z"), k="a", at=T, expected_version=2)
    with pytest.raises(ConditionFailedError, match="did not meet the condition") as other:
        db.update(
            Parcel,
            Update().set(Parcel.code, "y"),
            k="a",
            at=T,
            expected_version=3,
            condition=Parcel.code == "nope",
        )
    assert not isinstance(other.value, VersionConflictError)
    with pytest.raises(ConditionFailedError, match="does not exist"):
        db.update(Parcel, Update().set(Parcel.code, "z"), k="b", at=T, expected_version=1)


def test_a_validator_of_every_field_runs_on_key_arguments_too() -> None:
    shouting = Table("shouting")

    class Shout(Entity, table=shouting):
        k: str
        keys = Keys(pk="S#{k}", sk="S")

        @field_validator("*")
        @classmethod
        def _upper(cls, value: Any) -> Any:
            return value.upper() if isinstance(value, str) else value

    assert Shout.key(k="abc") == {"PK": {"S": "S#ABC"}, "SK": {"S": "S"}}
