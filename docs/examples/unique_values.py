"""Unique fields and their guard items (docs/modelling.md, "Unique values").

Run it with ``python docs/examples/unique_values.py``;
tests/docs/test_docs_reads_unique.py runs ``main()`` and checks what it returns.
"""

from __future__ import annotations

from typing import Annotated, Any

from singletable import (
    DB,
    Entity,
    InvalidValueError,
    Keys,
    Table,
    Unique,
    UniqueConstraintError,
    Update,
)

# --8<-- [start:declare]
app = Table("accounts")


class User(Entity, table=app):
    user_id: str
    email: Annotated[str, Unique]  # no two users share an email
    handle: Annotated[str | None, Unique] = None  # optional: None takes no guard
    name: str = ""

    keys = Keys(pk="USER#{user_id}", sk="PROFILE")
    # --8<-- [end:declare]


def main() -> dict[str, Any]:
    """Claim, clash, move, release; return what the test checks."""
    seen: dict[str, Any] = {}
    with DB() as db:
        db.create_table(app)
        # --8<-- [start:clash]
        db.put(User(user_id="u1", email="ada@example.com"), mode="create")
        try:
            db.put(User(user_id="u2", email="ada@example.com"))
        except UniqueConstraintError as error:
            print(error.entity, error.field, error.value, error.holder)
            print(error)
        # --8<-- [end:clash]
            seen["clash"] = (error.entity, error.field, error.value, error.holder)
            seen["message"] = str(error)

        # --8<-- [start:guard]
        guard = "UNIQUE#User#email#ada@example.com"
        key = {"PK": {"S": guard}, "SK": {"S": guard}}
        item = db.backend.call("GetItem", {"TableName": "accounts", "Key": key})["Item"]
        print(item["_type"], item["_owner"])  # {'S': '_unique'} and the holder's key
        # --8<-- [end:guard]
        seen["guard"] = (item["_type"], item["_owner"])

        # --8<-- [start:move]
        db.update(User, Update().set(User.email, "ada@new.example"), user_id="u1")
        db.put(User(user_id="u2", email="ada@example.com"))  # the old value is free
        db.delete(User, user_id="u1")  # releases ada@new.example
        with db.transaction() as tx:  # guards are written with the transaction's actions
            tx.put(User(user_id="u3", email="ada@new.example", handle="ada"), mode="create")
        try:
            db.write_many(puts=[User(user_id="u4", email="bo@example.com")])
        except InvalidValueError as error:
            print(error)  # a batch write cannot keep guards in step: refused
        # --8<-- [end:move]
            seen["batch"] = str(error)
        seen["users"] = sorted((u.user_id, u.email) for u in db.scan(User))
        seen["create"] = db.explain.put(User(user_id="u9", email="x@y"), mode="create")
    return seen


if __name__ == "__main__":
    main()
