"""``db.put`` on the embedded engine (the trusted path) against the same PutItem sent
as a plain request (the general path): same stored item, same error, same message.

``db.put`` hands the engine its item marked as codec-built, which the engine
measures instead of re-validating (singletable/_canonical.py,
backends/local/_trusted.py); ``db.explain.put`` gives the very same request with a
plain dict, which takes the general path. Bad data must fail the same way on both:
empty key strings, oversized items, an index key of the wrong type, lone
surrogates, nesting past 32 levels.
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest

from singletable import DB, Entity, GlobalIndex, Keys, Table
from singletable._canonical import CanonicalItem
from singletable.backends.engine import LocalBackend
from singletable.backends.local import LocalEngine
from singletable.errors import ConditionFailedError

app = Table("trusted_orm", indexes=[GlobalIndex("GSI1", pk="GSI1PK", sk="GSI1SK")])


class Doc(Entity, table=app):
    owner: str
    name: str
    kind: str | None = None
    size: int = 0
    price: Decimal = Decimal("0")
    at: datetime = datetime(2026, 1, 1, tzinfo=UTC)
    body: Any = None
    tags: set[str] | None = None

    keys = Keys(pk="OWNER#{owner}", sk="{name}", GSI1=("KIND#{kind}", "{name}"))


def _db(index_sort_type: str = "S") -> DB:
    """A DB whose table's GSI sort key is of ``index_sort_type`` (N: not what the
    entity writes, so the engine refuses the index key's type)."""
    engine = LocalEngine()
    request = app.create_table_request()
    for definition in request["AttributeDefinitions"]:
        if definition["AttributeName"] == "GSI1SK":
            definition["AttributeType"] = index_sort_type
    engine.call("CreateTable", request)
    return DB(LocalBackend(engine))


def _outcome(call: Any) -> tuple[Any, ...]:
    try:
        call()
    except Exception as error:
        return ("error", type(error).__name__, str(error))
    return ("ok",)


def _deep(levels: int) -> Any:
    value: Any = "x"
    for _ in range(levels):
        value = {"m": value}
    return value


@pytest.mark.parametrize(
    ("index_sort_type", "fields"),
    [
        ("S", {}),
        ("S", {"kind": "k", "body": {"a": [1, "b", None, {"c": True}]}, "tags": {"x", "y"}}),
        ("S", {"owner": ""}),  # the partition key would be "OWNER#": not empty
        ("S", {"name": ""}),  # an empty sort key string
        ("S", {"kind": "k", "name": ""}),
        ("S", {"body": "x" * (400 * 1024)}),  # an oversized item
        ("S", {"body": "x" * 70_000}),
        ("S", {"body": {"x" * 65_536: 1}}),  # a map key over 64 KB
        ("S", {"body": "\ud800"}),  # a lone surrogate
        ("S", {"name": "\ud800"}),
        ("S", {"tags": {"\ud800"}}),
        ("S", {"body": _deep(31)}),
        ("S", {"body": _deep(33)}),  # past DynamoDB's 32 levels
        ("S", {"price": Decimal("1E+126")}),  # refused by the codec itself
        ("S", {"size": 10**39}),
        ("S", {"size": 10**39 + 1}),
        ("N", {"kind": "k"}),  # the index key of the wrong type
        ("N", {}),  # not in the index (sparse): fine
    ],
)
def test_a_put_stores_and_fails_as_the_plain_request_does(
    index_sort_type: str, fields: dict[str, Any]
) -> None:
    doc = Doc.model_construct(**{**Doc(owner="o", name="n").__dict__, **fields})
    trusted, general = _db(index_sort_type), _db(index_sort_type)
    by_trust = _outcome(lambda: trusted.put(doc))
    try:
        operation, request = general.explain.put(doc)
    except Exception as error:  # refused before any request (validation, the codec)
        assert by_trust == ("error", type(error).__name__, str(error))
        return
    assert type(request["Item"]) is dict  # explain gives the caller a plain request
    assert by_trust == _outcome(lambda: general.backend.call(operation, request))
    if by_trust == ("ok",):
        item = request["Item"]
        key = {"TableName": app.name, "Key": {"PK": item["PK"], "SK": item["SK"]}}
        stored = [db.backend.call("GetItem", key).get("Item") for db in (trusted, general)]
        assert stored[0] == stored[1] == item


def test_the_put_hands_the_engine_a_marked_item_and_explain_a_plain_one() -> None:
    sent: list[Any] = []

    class Spy:
        def __init__(self, inner: LocalBackend) -> None:
            self.inner = inner

        def call(self, operation: str, request: dict[str, Any]) -> dict[str, Any]:
            sent.append(request)
            return self.inner.call(operation, request)

        def close(self) -> None:
            self.inner.close()

    db = DB(Spy(LocalBackend()))  # type: ignore[arg-type]
    db.create_table(app)
    db.put(Doc(owner="o", name="n"))
    assert type(sent[-1]["Item"]) is CanonicalItem
    assert type(db.explain.put(Doc(owner="o", name="n"))[1]["Item"]) is dict
    # what the engine stores is a plain dict (the mark is not kept)
    table = db.backend.inner.engine.tables[app.name]  # type: ignore[attr-defined]
    assert type(table.store.get(*table.key_from_item(sent[-1]["Item"]))) is dict


def test_a_plain_upsert_sends_the_table_and_the_item_alone() -> None:
    # An upsert with no condition and no version cannot fail a check, so it asks for
    # no old item on failure: the request is the shape the engine takes without
    # reading other members. Any put with a condition still asks for it, and its
    # error still names what it found.
    sent: list[dict[str, Any]] = []

    class Spy(LocalBackend):
        def call(self, operation: str, request: dict[str, Any]) -> dict[str, Any]:
            sent.append(request)
            return super().call(operation, request)

    db = DB(Spy())
    db.create_table(app)
    db.put(Doc(owner="o", name="n", size=1))
    assert sent[-1].keys() == {"TableName", "Item"}
    assert db.explain.put(Doc(owner="o", name="n", size=1)) == ("PutItem", dict(sent[-1]))
    with pytest.raises(ConditionFailedError, match="already exists") as failed:
        db.put(Doc(owner="o", name="n", size=2), mode="create")
    assert sent[-1]["ReturnValuesOnConditionCheckFailure"] == "ALL_OLD"
    assert failed.value.item is not None and failed.value.item["size"] == {"N": "1"}
    with pytest.raises(ConditionFailedError, match="does not exist"):
        db.put(Doc(owner="o", name="other"), mode="replace")
    assert db.get(Doc, owner="o", name="n") == Doc(owner="o", name="n", size=1)
