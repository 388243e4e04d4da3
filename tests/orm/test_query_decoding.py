"""A query page's items become entities exactly as ``Entity.from_item`` makes them.

The page loop of a query (singletable/_queries.py) runs ``from_item``'s steps itself,
looked up once a page (``entity.direct_decoding``: the compiled reader, then
Pydantic's validator), and hands anything else to ``from_item``: an item the reader
leaves to the general loop, an item whose values fail validation (``from_item``
raises its own error), classes that override ``from_item`` or have a schema version.
Each case must give what ``from_item`` of each raw item gives, or its error.
"""

from __future__ import annotations

from typing import Any, Self

import pytest

from singletable import DB, Entity, Keys, Table
from singletable._upgrades import Upgrade
from singletable.backends.engine import LocalBackend
from singletable.entity import direct_decoding
from singletable.patterns import Query

app = Table("query_decoding")


class Note(Entity, table=app):
    owner: str
    name: str
    count: int = 0
    tags: set[str] | None = None
    extra: dict[str, Any] | None = None

    keys = Keys(pk="OWNER#{owner}", sk="NOTE#{name}")
    by_owner = Query()


class Counted(Entity, table=app):
    owner: str
    name: str

    keys = Keys(pk="OWNER#{owner}", sk="COUNTED#{name}")
    by_owner = Query()

    @classmethod
    def from_item(cls, item: Any) -> Self:
        found = super().from_item(item)
        found.name = found.name.upper()  # the override's own touch
        return found


class Renamed(Entity, table=app, schema_version=2):
    owner: str
    name: str
    title: str = ""

    keys = Keys(pk="OWNER#{owner}", sk="RENAMED#{name}")
    by_owner = Query()

    from_v1 = Upgrade(1, rename={"heading": "title"})


def _db(items: list[dict[str, Any]]) -> DB:
    db = DB()
    db.create_table(app)
    assert isinstance(db.backend, LocalBackend)
    for item in items:
        db.backend.call("PutItem", {"TableName": app.name, "Item": item})
    return db


def _outcome(call: Any) -> tuple[Any, ...]:
    try:
        return ("ok", call())
    except Exception as error:
        return ("error", type(error).__name__, str(error))


def _key(sk: str) -> dict[str, Any]:
    return {"PK": {"S": "OWNER#o"}, "SK": {"S": sk}, "owner": {"S": "o"}}


@pytest.mark.parametrize(
    "extra",
    [
        {},  # as the codec writes it
        {"tags": {"SS": ["a", "b"]}, "extra": {"M": {"k": {"N": "1"}}}},
        {"count": {"S": "7"}},  # another wire type than the field's: still valid
        {"other": {"S": "x"}},  # an attribute no field has: the general loop
        {"count": {"S": "abc"}},  # fails validation: from_item's error
        {"count": {"N": "2.5"}},
        {"_type": {"S": "Note"}},
    ],
)
def test_a_page_gives_from_items_entities_or_error(extra: dict[str, Any]) -> None:
    raw = [
        {**_key("NOTE#a"), "name": {"S": "a"}, "_type": {"S": "Note"}, "count": {"N": "1"}},
        {**_key("NOTE#b"), "name": {"S": "b"}, "_type": {"S": "Note"}, **extra},
    ]
    db = _db(raw)
    expected = _outcome(lambda: [Note.from_item(item) for item in raw])
    assert _outcome(lambda: db.query(Note.by_owner, owner="o").all()) == expected
    assert _outcome(lambda: db.query(Note.by_owner, owner="o").page().items) == expected


def test_a_class_overriding_from_item_gets_its_override() -> None:
    raw = [{**_key("COUNTED#x"), "name": {"S": "x"}, "_type": {"S": "Counted"}}]
    assert direct_decoding(Counted) is None
    found = _db(raw).query(Counted.by_owner, owner="o").all()
    assert [c.name for c in found] == ["X"]


def test_a_versioned_class_gets_its_upgrades() -> None:
    raw = [
        {**_key("RENAMED#r"), "name": {"S": "r"}, "_type": {"S": "Renamed"}, "heading": {"S": "h"}}
    ]
    assert direct_decoding(Renamed) is None
    found = _db(raw).query(Renamed.by_owner, owner="o").all()
    assert found == [Renamed.from_item(raw[0])] == [Renamed(owner="o", name="r", title="h")]


def test_the_direct_decoding_is_from_items_own() -> None:
    direct = direct_decoding(Note)
    assert direct is not None
    read, validate = direct
    item = {**_key("NOTE#a"), "name": {"S": "a"}, "_type": {"S": "Note"}, "count": {"N": "3"}}
    data = read(item)
    assert data is not None and validate(data) == Note.from_item(item)
