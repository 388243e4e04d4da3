"""The update builder: rendering, the nested-model rule, errors, and the local engine
applying the rendered expressions to real items."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from decimal import Decimal
from enum import Enum
from typing import Annotated, Any

import pytest
from pydantic import BaseModel, Field

from singletable.backends.local.engine import LocalEngine
from singletable.conditions import expression_parameters, install_field_paths
from singletable.entity import TTL, Entity, Keys
from singletable.errors import InvalidValueError
from singletable.table import Table
from singletable.updates import Update, if_not_exists


class Status(Enum):
    PENDING = "pending"
    SHIPPED = "shipped"


class Address(BaseModel):
    street: str
    city: str
    zip_code: str | None = Field(default=None, alias="zip")


app = Table("app", ttl_attribute="expires")


class Item(Entity, table=app):
    item_id: str
    stock: int = 0
    price: Decimal = Decimal(0)
    status: Status = Status.PENDING
    name: str | None = None
    note: str | None = Field(default=None, alias="n")
    address: Address | None = None
    history: list[str] = Field(default_factory=list)
    tags: set[str] | None = None
    views: int | None = None
    expires: Annotated[datetime | None, TTL] = None

    keys = Keys(pk="ITEM#{item_id}", sk="ITEM")


install_field_paths(Item)


def _text(update: Update) -> tuple[str, dict[str, str], dict[str, Any]]:
    rendered = update.render()
    return rendered.text, rendered.names, rendered.values


# ------------------------------------------------------------------- rendering


def test_every_action_renders_in_section_order() -> None:
    update = (
        Update()
        .add(Item.tags, {"b", "a"})
        .set(Item.status, "shipped")
        .remove(Item.note)
        .set(Item.stock, Item.stock - 1)
        .add(Item.views, 2)
    )
    assert _text(update) == (
        "SET #n0 = :v0, #n1 = #n1 - :v1 REMOVE #n2 ADD #n3 :v2, #n4 :v3",
        {"#n0": "status", "#n1": "stock", "#n2": "n", "#n3": "tags", "#n4": "views"},
        {":v0": {"S": "shipped"}, ":v1": {"N": "1"}, ":v2": {"SS": ["a", "b"]}, ":v3": {"N": "2"}},
    )
    assert _text(Update().delete(Item.tags, {"x"})) == (
        "DELETE #n0 :v0",
        {"#n0": "tags"},
        {":v0": {"SS": ["x"]}},
    )


def test_functions_and_arithmetic() -> None:
    assert _text(Update().set(Item.views, if_not_exists(Item.views, 0) + 1)) == (
        "SET #n0 = if_not_exists(#n0, :v0) + :v1",
        {"#n0": "views"},
        {":v0": {"N": "0"}, ":v1": {"N": "1"}},
    )
    assert _text(Update().set(Item.stock, 10 - Item.stock))[0] == "SET #n0 = :v0 - #n0"
    assert _text(Update().set(Item.price, Item.price + Decimal("0.5")))[2] == {":v0": {"N": "0.5"}}
    assert _text(Update().set(Item.name, Item.note))[0] == "SET #n0 = #n1"
    assert _text(Update().append(Item.history, ["a", "b"])) == (
        "SET #n0 = list_append(if_not_exists(#n0, :v0), :v1)",
        {"#n0": "history"},
        {":v0": {"L": []}, ":v1": {"L": [{"S": "a"}, {"S": "b"}]}},
    )
    assert _text(Update().prepend(Item.history, ["z"]))[0] == (
        "SET #n0 = list_append(:v0, if_not_exists(#n0, :v1))"
    )


def test_nested_updates_and_what_the_update_touches() -> None:
    whole = Update().set(Item.address, Address(street="1 Main", city="Oslo"))
    assert _text(whole)[2] == {
        ":v0": {"M": {"street": {"S": "1 Main"}, "city": {"S": "Oslo"}}}
    }  # None members left out, as to_item does: the map is replaced whole
    member = Update().set(Item.address.zip_code, "0150")
    assert _text(member)[:2] == ("SET #n0.#n1 = :v0", {"#n0": "address", "#n1": "zip"})
    assert _text(Update().set(Item.history[0], "first"))[0] == "SET #n0[0] = :v0"
    update = member.set(Item.status, Status.SHIPPED).remove(Item.name).add(Item.stock, 1)
    assert update.fields == {"address", "status", "name", "stock"}
    assert update.assigned == {"status": Status.SHIPPED, "name": None}
    assert _text(Update().set(Item.note, None)) == ("REMOVE #n0", {"#n0": "n"}, {})
    assert len(update) == 4 and bool(update) and not Update()
    merged = Update().set(Item.name, "x").merge(Update().add(Item.stock, 1))
    assert _text(merged)[0] == "SET #n0 = :v0 ADD #n1 :v1"
    assert repr(merged) == "Update('SET name = :v0 ADD stock :v1')"


@pytest.mark.parametrize(
    ("build", "message"),
    [
        (lambda: Update().set(Item.stock, "many"), "Item.stock: 'many' is not a valid int"),
        (lambda: Update().set(Item.status, "lost"), "Item.status: 'lost' is not a valid Status"),
        (lambda: Update().set(Item.price, float("inf")), "Item.price: "),
        (lambda: Update().set(Item.tags, set()), "Item.tags: an empty set cannot be stored"),
        (
            lambda: Update().remove(Item.item_id),
            "Item.item_id is required: removing it would leave an item that cannot be read back",
        ),
        (
            lambda: Update().set(Item.address.city, None),
            "Item.address.city is required: removing it",
        ),
        (
            lambda: (
                Update()
                .set(Item.address, Address(street="s", city="c"))
                .set(Item.address.city, "x")
            ),
            "Item.address.city: overlaps Item.address in the same update",
        ),
        (
            lambda: Update().set(Item.name, "a").remove(Item.name),
            "Item.name: updated twice in one update",
        ),
        (lambda: Update().add(Item.name, "x"), "Item.name: add() takes a number or a set, not 'x'"),
        (lambda: Update().delete(Item.stock, {1}), "Item.stock: {1} is not a valid int"),
        (
            lambda: Update().append(Item.history, "abc"),
            "Item.history: append() takes a list of items",
        ),
        (lambda: Update().append(Item.name, ["x"]), "Item.name: ['x'] is not a valid str"),
        (lambda: Update().set(Item.stock, Item.stock - "x"), "Item.stock: 'x' is not a valid int"),
        (
            lambda: Update().set(Item.name, Item.name.size()),
            "Item.name: size(Item.name) cannot be the value of a SET",
        ),
        (lambda: Update().set("name", 1), "set() takes a field path such as Order.total"),  # type: ignore[call-overload]
        (lambda: Update().expression(), "an update needs at least one action"),
    ],
)
def test_bad_updates_name_the_field(build: Any, message: str) -> None:
    with pytest.raises(InvalidValueError) as caught:
        build()
    assert str(caught.value).startswith(message), str(caught.value)


# ------------------------------------------------------------------- the engine applies them


@pytest.fixture
def engine() -> Iterator[LocalEngine]:
    with LocalEngine(ttl_sweep_interval=None) as engine:
        engine.call("CreateTable", app.create_table_request())
        item = Item(
            item_id="i",
            stock=5,
            price=Decimal("9.99"),
            name="widget",
            n="old",
            address=Address(street="1 Main", city="Oslo", zip="0150"),
            history=["made"],
            tags={"a", "b"},
        )
        engine.call("PutItem", {"TableName": "app", "Item": item.to_item()})
        yield engine


def _apply(engine: LocalEngine, update: Update, **more: Any) -> Item:
    request = {
        "TableName": "app",
        "Key": Item.key(item_id="i"),
        "ReturnValues": "ALL_NEW",
        **expression_parameters(update=update, **more),
    }
    return Item.from_item(engine.call("UpdateItem", request)["Attributes"])


def test_the_engine_applies_every_action(engine: LocalEngine) -> None:
    when = datetime(2030, 1, 1, tzinfo=UTC)
    item = _apply(
        engine,
        Update()
        .set(Item.status, "shipped")
        .set(Item.stock, Item.stock - 2)
        .set(Item.price, Item.price + 1)
        .set(Item.views, if_not_exists(Item.views, 10) + 1)
        .set(Item.address.city, "Bergen")
        .append(Item.history, ["sold"])
        .remove(Item.note)
        .add(Item.tags, {"c"})
        .set(Item.expires, when),
    )
    assert item.status is Status.SHIPPED and item.stock == 3 and item.price == Decimal("10.99")
    assert item.views == 11 and item.note is None and item.tags == {"a", "b", "c"}
    assert item.address == Address(street="1 Main", city="Bergen", zip="0150")  # one member
    assert item.history == ["made", "sold"] and item.expires == when
    item = _apply(engine, Update().delete(Item.tags, {"a", "c"}).prepend(Item.history, ["new"]))
    assert item.tags == {"b"} and item.history == ["new", "made", "sold"]
    item = _apply(engine, Update().set(Item.address, Address(street="9 Far", city="Tromsø")))
    assert item.address == Address(street="9 Far", city="Tromsø")  # replaced: zip is gone
    item = _apply(engine, Update().add(Item.views, 5).set(Item.history[0], "newer"))
    assert item.views == 16 and item.history[0] == "newer"


def test_append_and_if_not_exists_create_missing_attributes(engine: LocalEngine) -> None:
    engine.call("PutItem", {"TableName": "app", "Item": Item(item_id="i").to_item()})
    item = _apply(
        engine,
        Update().append(Item.history, ["first"]).set(Item.views, if_not_exists(Item.views, 0) + 1),
    )
    assert item.history == ["first"] and item.views == 1


def test_a_member_of_a_missing_map_is_refused_by_dynamodb(engine: LocalEngine) -> None:
    engine.call("PutItem", {"TableName": "app", "Item": Item(item_id="i").to_item()})
    with pytest.raises(
        Exception, match="document path provided in the update expression is invalid"
    ):
        _apply(engine, Update().set(Item.address.city, "Oslo"))


def test_an_update_with_a_condition(engine: LocalEngine) -> None:
    with pytest.raises(Exception, match="ConditionalCheckFailed"):
        _apply(engine, Update().set(Item.stock, Item.stock - 10), condition=Item.stock >= 10)
    item = _apply(engine, Update().set(Item.stock, Item.stock - 5), condition=Item.stock >= 5)
    assert item.stock == 0
