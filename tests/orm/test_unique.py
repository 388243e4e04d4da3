"""Unique fields on every backend: a guard item per value, written in the entity's
transaction, moved on update, removed on delete; clashes raise UniqueConstraintError
naming the entity, field and value; batches refuse entities with unique fields.

Tests taking ``db`` run on every backend of tests/orm/conftest.py (the embedded
engine in memory and durable, boto3 on moto, boto3 over HTTP, aioboto3)."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from typing import Annotated, Any

import pytest

from singletable.backends.base import Backend
from singletable.db import DB, AsyncDB
from singletable.entity import Entity, Keys, Unique, Version
from singletable.errors import (
    ConditionFailedError,
    InvalidValueError,
    ModelError,
    TransactionCanceledError,
    UniqueConstraintError,
    VersionConflictError,
)
from singletable.table import Table
from singletable.updates import Update, if_not_exists

app = Table("uniq")


class User(Entity, table=app):
    user_id: str
    email: Annotated[str, Unique]
    handle: Annotated[str | None, Unique] = None
    name: str = ""

    keys = Keys(pk="USER#{user_id}", sk="PROFILE")


class Account(Entity, table=app):
    account_id: str
    iban: Annotated[str, Unique]
    version: Annotated[int, Version] = 0

    keys = Keys(pk="ACCOUNT#{account_id}", sk="ACCOUNT")


class Note(Entity, table=app):
    note_id: str
    text: str

    keys = Keys(pk="NOTE#{note_id}", sk="NOTE")


class Recorder:
    """A backend that records each operation, and can run a hook before one."""

    def __init__(self, inner: Backend) -> None:
        self.inner = inner
        self.calls: list[tuple[str, dict[str, Any]]] = []
        self.before: dict[str, Any] = {}

    def call(self, operation: str, request: dict[str, Any]) -> dict[str, Any]:
        hook = self.before.pop(operation, None)
        if hook is not None:
            hook()
        self.calls.append((operation, request))
        return self.inner.call(operation, request)

    def close(self) -> None:
        self.inner.close()

    def ops(self) -> list[str]:
        return [operation for operation, _ in self.calls]


@pytest.fixture
def recorder(backend: Backend) -> Recorder:
    return Recorder(backend)


@pytest.fixture
def db(recorder: Recorder) -> Iterator[DB]:
    database = DB(recorder)
    database.create_table(app)
    recorder.calls.clear()
    yield database


def guard(db: DB, field: str, value: str, entity: str = "User") -> dict[str, Any] | None:
    text = f"UNIQUE#{entity}#{field}#{value}"
    key = {"PK": {"S": text}, "SK": {"S": text}}
    response = db.backend.call("GetItem", {"TableName": "uniq", "Key": key, "ConsistentRead": True})
    item: dict[str, Any] | None = response.get("Item")
    return item


def guards(db: DB) -> set[str]:
    """The value text of every guard item in the table."""
    items = db.backend.call("Scan", {"TableName": "uniq", "ConsistentRead": True})["Items"]
    return {i["PK"]["S"] for i in items if i.get("_type") == {"S": "_unique"}}


def test_a_create_writes_the_entity_and_its_guards_in_one_transaction(
    db: DB, recorder: Recorder
) -> None:
    ada = db.put(User(user_id="u1", email="ada@example.com"), mode="create")
    assert recorder.ops() == ["TransactWriteItems"]  # a create reads nothing first
    (_, request), = recorder.calls
    puts = [action["Put"] for action in request["TransactItems"]]
    assert [p["Item"]["PK"]["S"] for p in puts] == ["USER#u1", "UNIQUE#User#email#ada@example.com"]
    assert puts[1]["ConditionExpression"]  # attribute_not_exists(PK) OR _owner = :me
    stored = guard(db, "email", "ada@example.com")
    assert stored is not None and stored["_type"] == {"S": "_unique"}
    assert json.loads(stored["_owner"]["S"]) == {"PK": {"S": "USER#u1"}, "SK": {"S": "PROFILE"}}
    assert guards(db) == {"UNIQUE#User#email#ada@example.com"}  # handle is None: no guard
    assert db.require(User, user_id="u1") == ada
    assert [u.user_id for u in db.scan(User)] == ["u1"]  # guards are not users


def test_a_clash_names_entity_field_value_and_holder_and_writes_nothing(db: DB) -> None:
    db.put(User(user_id="u1", email="ada@example.com"))
    with pytest.raises(UniqueConstraintError) as caught:
        db.put(User(user_id="u2", email="ada@example.com", handle="bo"))
    error = caught.value
    assert isinstance(error, ConditionFailedError)  # the ConditionFailed family
    assert (error.entity, error.field, error.value) == ("User", "email", "ada@example.com")
    assert error.holder == {"PK": {"S": "USER#u1"}, "SK": {"S": "PROFILE"}}
    assert "User.email 'ada@example.com' is already taken" in str(error)
    assert "USER#u1" in str(error)
    assert db.get(User, user_id="u2") is None
    assert guard(db, "handle", "bo") is None  # all or nothing
    # a second unique field clashes the same way
    db.put(User(user_id="u3", email="cy@example.com", handle="cy"))
    with pytest.raises(UniqueConstraintError, match=r"User\.handle 'cy'"):
        db.put(User(user_id="u4", email="dee@example.com", handle="cy"))


def test_an_update_moves_the_guard_and_frees_the_old_value(db: DB, recorder: Recorder) -> None:
    db.put(User(user_id="u1", email="old@example.com"))
    recorder.calls.clear()
    updated = db.update(User, Update().set(User.email, "new@example.com"), user_id="u1")
    assert updated.email == "new@example.com"
    assert recorder.ops() == ["GetItem", "TransactWriteItems", "GetItem"]
    kinds = [next(iter(a)) for a in recorder.calls[1][1]["TransactItems"]]
    assert kinds == ["Update", "Delete", "Put"]
    assert guards(db) == {"UNIQUE#User#email#new@example.com"}
    db.put(User(user_id="u2", email="old@example.com"))  # the old value is free again
    with pytest.raises(UniqueConstraintError, match=r"new@example\.com"):
        db.update(User, Update().set(User.email, "new@example.com"), user_id="u2")
    assert db.require(User, user_id="u2").email == "old@example.com"


def test_an_update_without_unique_changes_does_no_guard_work(db: DB, recorder: Recorder) -> None:
    db.put(User(user_id="u1", email="a@example.com"))
    recorder.calls.clear()
    assert db.update(User, Update().set(User.name, "Ada"), user_id="u1").name == "Ada"
    assert recorder.ops() == ["UpdateItem"]
    recorder.calls.clear()
    # setting the value it already has: read, then only the entity's action
    db.update(User, Update().set(User.email, "a@example.com"), user_id="u1")
    (transaction,) = [r for op, r in recorder.calls if op == "TransactWriteItems"]
    assert [next(iter(a)) for a in transaction["TransactItems"]] == ["Update"]
    assert guards(db) == {"UNIQUE#User#email#a@example.com"}


def test_removing_an_optional_unique_value_releases_its_guard(db: DB) -> None:
    db.put(User(user_id="u1", email="a@example.com", handle="ada"))
    db.update(User, Update().remove(User.handle), user_id="u1")
    assert guards(db) == {"UNIQUE#User#email#a@example.com"}
    db.update(User, Update().set(User.handle, "ada2"), user_id="u1")
    assert guard(db, "handle", "ada2") is not None
    with pytest.raises(InvalidValueError, match="email is unique"):
        db.update(User, Update().set(User.email, if_not_exists(User.email, "x")), user_id="u1")


def test_a_put_over_an_existing_item_moves_its_guards(db: DB) -> None:
    db.put(User(user_id="u1", email="a@example.com", handle="a"))
    db.put(User(user_id="u1", email="b@example.com"))  # upsert: read, then move
    assert guards(db) == {"UNIQUE#User#email#b@example.com"}
    db.put(User(user_id="u2", email="a@example.com", handle="a"))
    assert guards(db) == {
        "UNIQUE#User#email#b@example.com",
        "UNIQUE#User#email#a@example.com",
        "UNIQUE#User#handle#a",
    }


def test_a_delete_removes_the_guards(db: DB) -> None:
    db.put(User(user_id="u1", email="a@example.com", handle="a"))
    deleted = db.delete(User, user_id="u1")
    assert deleted is not None and deleted.email == "a@example.com"
    assert guards(db) == set()
    assert db.delete(User, user_id="u1") is None
    with pytest.raises(ConditionFailedError):
        db.delete(User, user_id="u1", must_exist=True)
    db.put(User(user_id="u2", email="a@example.com", handle="a"), mode="create")


def test_create_and_version_failures_keep_their_own_errors(db: DB) -> None:
    db.put(User(user_id="u1", email="a@example.com"), mode="create")
    with pytest.raises(ConditionFailedError, match="already exists") as caught:
        db.put(User(user_id="u1", email="a@example.com"), mode="create")
    assert not isinstance(caught.value, UniqueConstraintError)  # its own guard: no clash
    first = db.put(Account(account_id="a1", iban="DE1"))
    db.put(first.model_copy(update={"iban": "DE2"}))
    with pytest.raises(VersionConflictError):
        db.put(first.model_copy(update={"iban": "DE3"}))  # stale version 1
    with pytest.raises(ConditionFailedError, match="does not exist"):
        db.put(User(user_id="u9", email="z@example.com"), mode="replace")
    assert guards(db) == {"UNIQUE#User#email#a@example.com", "UNIQUE#Account#iban#DE2"}


def test_a_concurrent_change_between_read_and_write_is_retried(
    db: DB, recorder: Recorder
) -> None:
    db.put(User(user_id="u1", email="a@example.com"))
    other = DB(recorder.inner)  # another process, on the same table

    def meanwhile() -> None:
        other.put(User(user_id="u1", email="c@example.com"))

    recorder.before["TransactWriteItems"] = meanwhile
    recorder.calls.clear()
    db.put(User(user_id="u1", email="b@example.com"))
    # read; write (fails: the email changed meanwhile); read again; write
    assert recorder.ops()[-4:] == ["GetItem", "TransactWriteItems", "GetItem", "TransactWriteItems"]
    assert db.require(User, user_id="u1").email == "b@example.com"
    assert guards(db) == {"UNIQUE#User#email#b@example.com"}  # c's guard released too


def test_transactions_guard_unique_values(db: DB) -> None:
    db.put(Note(note_id="n1", text="x"))
    with db.transaction() as tx:
        tx.put(User(user_id="u1", email="a@example.com"), mode="create")
        tx.put(User(user_id="u2", email="b@example.com"), mode="create")
        tx.update(Note, Update().set(Note.text, "y"), note_id="n1")
    assert len(guards(db)) == 2
    with pytest.raises(UniqueConstraintError, match=r"b@example\.com"), db.transaction() as tx:
        tx.put(User(user_id="u3", email="b@example.com"))
        tx.delete(Note, note_id="n1")
    assert db.get(Note, note_id="n1") is not None and db.get(User, user_id="u3") is None
    claimed = r"two writes claim User\.email 'c@example\.com'"
    with pytest.raises(InvalidValueError, match=claimed), db.transaction() as tx:
        tx.put(User(user_id="u4", email="c@example.com"))
        tx.put(User(user_id="u5", email="c@example.com"))
    # a guard failing beside another failure: the transaction's own error, naming both
    with pytest.raises(TransactionCanceledError) as caught, db.transaction() as tx:
        tx.put(User(user_id="u6", email="a@example.com"))
        tx.update(Note, Update().set(Note.text, "z"), note_id="missing")
    assert not isinstance(caught.value, UniqueConstraintError)
    assert "claim User.email 'a@example.com'" in str(caught.value)
    with db.transaction() as tx:  # moving and deleting in one transaction
        tx.update(User, Update().set(User.email, "moved@example.com"), user_id="u1")
        tx.delete(User, user_id="u2")
    assert guards(db) == {"UNIQUE#User#email#moved@example.com"}


def test_batch_writes_refuse_entities_with_unique_fields(db: DB) -> None:
    with pytest.raises(InvalidValueError, match="email, handle are unique"):
        db.write_many(puts=[Note(note_id="n1", text=""), User(user_id="u1", email="a@b")])
    with pytest.raises(InvalidValueError, match="batch write"):
        db.write_many(deletes=[(User, {"user_id": "u1"})])
    assert db.get(Note, note_id="n1") is None  # refused before anything was sent
    assert db.write_many(puts=[Note(note_id="n1", text="")]) == 1


def test_the_async_shell_guards_the_same_way(recorder: Recorder) -> None:
    inner = recorder.inner
    aio = getattr(inner, "backend", None)

    class Over:
        async def call(self, operation: str, request: dict[str, Any]) -> dict[str, Any]:
            return inner.call(operation, request)

        async def close(self) -> None:
            return None

    async def scenario(backend: Any) -> None:
        db = AsyncDB(backend)
        await db.create_table(app)
        await db.put(User(user_id="u1", email="a@example.com"))
        with pytest.raises(UniqueConstraintError):
            await db.put(User(user_id="u2", email="a@example.com"))
        await db.update(User, Update().set(User.email, "b@example.com"), user_id="u1")
        await db.put(User(user_id="u2", email="a@example.com"))
        assert await db.delete(User, user_id="u1") is not None
        await db.put(User(user_id="u3", email="b@example.com"), mode="create")

    if aio is not None and hasattr(inner, "run"):  # aioboto3: the real async backend
        inner.run(scenario(aio))
    else:
        asyncio.run(scenario(Over()))


def test_unique_needs_string_table_keys_and_a_key_renderable_type() -> None:
    numbers = Table("numbers", pk="n", sk=None)
    with pytest.raises(ModelError, match="guard items need string table keys"):

        class Numbered(Entity, table=numbers):
            n: int
            email: Annotated[str, Unique]

    with pytest.raises(ModelError, match="Tagged"):

        class Tagged(Entity, table=Table("tags")):
            tag_id: str
            tags: Annotated[list[str], Unique]

            keys = Keys(pk="T#{tag_id}", sk="T")


def test_explain_shows_the_transaction_of_a_create() -> None:
    db = DB()
    operation, request = db.explain.put(User(user_id="u1", email="a@b"), mode="create")
    assert operation == "TransactWriteItems" and len(request["TransactItems"]) == 2
    assert db.explain.put(User(user_id="u1", email="a@b"))[0] == "GetItem"  # reads first


def test_two_actions_on_one_guarded_item_are_refused_before_any_read(
    db: DB, recorder: Recorder
) -> None:
    with pytest.raises(InvalidValueError, match="on the same item"), db.transaction() as tx:
        tx.put(User(user_id="u1", email="a@example.com"))
        tx.delete(User, user_id="u1")
    assert recorder.ops() == []  # nothing read, nothing written


def test_a_put_claims_its_values_again_so_existing_data_gets_its_guards(
    db: DB, recorder: Recorder
) -> None:
    # items written before `Unique` was declared (or by other code): no guards
    for user_id in ("u1", "u2"):
        item = User(user_id=user_id, email="same@example.com").to_item()
        db.backend.call("PutItem", {"TableName": "uniq", "Item": item})
    assert guards(db) == set()
    recorder.calls.clear()
    db.put(db.require(User, user_id="u1"))  # the value does not change...
    (transaction,) = [r for op, r in recorder.calls if op == "TransactWriteItems"]
    puts = [a["Put"]["Item"]["PK"]["S"] for a in transaction["TransactItems"]]
    assert puts == ["USER#u1", "UNIQUE#User#email#same@example.com"]
    assert guards(db) == {"UNIQUE#User#email#same@example.com"}  # ...and is claimed
    with pytest.raises(UniqueConstraintError, match="USER#u1"):
        db.put(db.require(User, user_id="u2"))  # the duplicate shows
    db.put(db.require(User, user_id="u1"))  # claiming its own guard again is a no-op


def test_a_transaction_with_a_token_is_not_retried_with_other_parameters(
    db: DB, recorder: Recorder
) -> None:
    db.put(User(user_id="u1", email="a@example.com"))
    other = DB(recorder.inner)
    recorder.before["TransactWriteItems"] = lambda: other.put(
        User(user_id="u1", email="c@example.com")
    )
    recorder.calls.clear()
    with pytest.raises(TransactionCanceledError), db.transaction(token="t-1") as tx:
        tx.put(User(user_id="u1", email="b@example.com"))
    assert recorder.ops().count("TransactWriteItems") == 1  # the caller retries, not us
    assert db.require(User, user_id="u1").email == "c@example.com"
