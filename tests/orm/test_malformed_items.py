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
from singletable.errors import ItemValidationError

_table = Table("malformed")


class Gadget(Entity, table=_table):
    gadget_id: str
    count: int = 0
    tags: set[str] = set()
    extra: dict[str, Any] = {}

    keys = Keys(pk="G#{gadget_id}", sk="G")


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
