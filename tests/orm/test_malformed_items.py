"""``Entity.from_item`` on something that is not an item in DynamoDB's wire shape.

Items from DynamoDB or the engine are always well formed; items users build, read
from a stream, a file or another tool may not be. Whatever is wrong, the answer is
an ItemValidationError naming the entity, the item's key and the bad attribute,
never a bare TypeError or decimal.InvalidOperation from inside the decoding, on the
compiled reader's path and on the general loop's alike.
"""

from __future__ import annotations

from typing import Any

import pytest

from singletable import Entity, Keys, Table
from singletable.backends.engine import LocalBackend
from singletable.db import DB
from singletable.errors import ItemValidationError
from singletable.patterns import Query

_table = Table("malformed")


class Gadget(Entity, table=_table):
    gadget_id: str
    count: int = 0
    tags: set[str] = set()
    extra: dict[str, Any] = {}

    keys = Keys(pk="G#{gadget_id}", sk="G")
    by_id = Query()


_GOOD = {"PK": {"S": "G#g1"}, "SK": {"S": "G"}, "_type": {"S": "Gadget"}, "gadget_id": {"S": "g1"}}


@pytest.mark.parametrize(
    "attribute, value",
    [
        ("count", {"N": b"5"}),
        ("count", {"N": "abc"}),
        ("count", {"N": ["1"]}),
        ("count", {"X": "1"}),
        ("count", {}),
        ("count", "5"),
        ("count", None),
        ("tags", {"SS": 5}),
        ("extra", {"M": [1]}),
        ("extra", {"L": 5}),
    ],
)
@pytest.mark.parametrize("general", [False, True])
def test_a_malformed_attribute_is_named(attribute: str, value: Any, general: bool) -> None:
    item = {**_GOOD, attribute: value}
    if general:
        item["other"] = {"S": "x"}  # an attribute no field has: the general loop
    with pytest.raises(ItemValidationError) as caught:
        Gadget.from_item(item)
    message = str(caught.value)
    assert message.startswith("stored Gadget (PK='G#g1', SK='G') is not a valid DynamoDB item")
    assert f"attribute {attribute!r}" in message
    assert caught.value.item == item


@pytest.mark.parametrize("item", [None, [1], "PK"])
def test_something_that_is_not_an_item_is_refused(item: Any) -> None:
    with pytest.raises(ItemValidationError, match=r"Gadget\.from_item: expected an item"):
        Gadget.from_item(item)


def test_a_malformed_key_is_shown_as_it_is() -> None:
    item = {**_GOOD, "PK": {"N": b"1"}, "count": {"N": "x"}}
    with pytest.raises(ItemValidationError, match=r"PK=\{'N': b'1'\}"):
        Gadget.from_item(item)


def test_a_value_of_the_wrong_type_still_fails_validation() -> None:
    with pytest.raises(ItemValidationError, match="does not validate: gadget_id"):
        Gadget.from_item({**_GOOD, "gadget_id": {"S": 5}})


class _Tampered(LocalBackend):
    """Query pages as a non-DynamoDB endpoint might answer them: a stored item's
    attribute replaced by something that is not an AttributeValue."""

    def __init__(self, attribute: str, value: Any) -> None:
        super().__init__()
        self.attribute, self.value = attribute, value

    def call(self, operation: str, request: dict[str, Any]) -> dict[str, Any]:
        response = super().call(operation, request)
        if operation == "Query":
            items = [{**item, self.attribute: self.value} for item in response["Items"]]
            response = {**response, "Items": items}
        return response


def test_a_query_page_names_a_malformed_item() -> None:
    db = DB(_Tampered("count", {"N": b"5"}))
    db.create_table(_table)
    db.put(Gadget(gadget_id="g1", tags={"t"}))
    with pytest.raises(ItemValidationError, match="attribute 'count'"):
        db.query(Gadget.by_id, gadget_id="g1").all()


def test_a_query_page_skips_an_item_whose_type_marker_is_malformed() -> None:
    db = DB(_Tampered("_type", "Gadget"))
    db.create_table(_table)
    db.put(Gadget(gadget_id="g1", tags={"t"}))
    page = db.query(Gadget.by_id, gadget_id="g1").page()
    assert page.items == []
    assert [item["_type"] for item in page.skipped] == ["Gadget"]
