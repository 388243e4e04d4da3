"""The typed condition DSL: field paths, rendering, evaluation by the local engine, errors,
and what installing the paths does (and does not do) to Pydantic models."""

from __future__ import annotations

import copy
import pickle
import re
import warnings
from collections.abc import Iterator
from datetime import UTC, datetime
from decimal import Decimal
from enum import Enum
from typing import Annotated, Any, Literal

import pytest
from pydantic import BaseModel, Field, ValidationError

from singletable.backends.local.engine import LocalEngine
from singletable.conditions import (
    Condition,
    FieldPath,
    FieldPathMeta,
    attribute,
    expression_parameters,
    field_path,
    install_field_paths,
    projection,
    render_condition,
)
from singletable.entity import TTL, Entity, Keys
from singletable.errors import InvalidValueError
from singletable.expressions import nodes
from singletable.expressions.render import render
from singletable.table import Table


class Status(Enum):
    PENDING = "pending"
    SHIPPED = "shipped"


class Address(BaseModel):
    street: str
    city: str
    zip_code: str | None = Field(default=None, alias="zip")


class Line(BaseModel):
    sku: str
    price: Decimal
    qty: int = 1


app = Table("app", ttl_attribute="expires")


class Order(Entity, table=app):
    order_id: str
    total: Decimal
    budget: Decimal = Decimal(0)
    status: Status = Status.PENDING
    kind: Literal["web", "shop"] = "web"
    name: str | None = None  # reserved words as field names
    location: str | None = None
    note: str | None = Field(default=None, alias="n")
    address: Address | None = None
    lines: list[Line] = Field(default_factory=list)
    tags: set[str] | None = None
    scores: set[int] | None = None
    meta: dict[str, Any] = Field(default_factory=dict)
    blob: bytes | None = None
    created: datetime = datetime(2026, 1, 1, tzinfo=UTC)
    expires: Annotated[datetime | None, TTL] = None

    keys = Keys(pk="ORDER#{order_id}", sk="ORDER")


install_field_paths(Order)


def _r(condition: Condition) -> tuple[str, dict[str, str], dict[str, Any]]:
    rendered = render_condition(condition)
    return rendered.text, rendered.names, rendered.values


# ------------------------------------------------------------------- rendering


def test_comparisons_render_with_placeholders_and_stored_values() -> None:
    assert _r(Order.total > 100) == ("#n0 > :v0", {"#n0": "total"}, {":v0": {"N": "100"}})
    assert _r(Order.total == Decimal("1.50"))[2] == {":v0": {"N": "1.5"}}
    assert _r(Order.total != 0.1)[0] == "#n0 <> :v0"
    assert _r(Order.total < 1)[0] == "#n0 < :v0"
    assert _r(Order.total <= 1)[0] == "#n0 <= :v0"
    assert _r(Order.total >= 1)[0] == "#n0 >= :v0"
    # an enum field takes the member or its value, and stores the value
    assert _r(Order.status == "shipped")[2] == {":v0": {"S": "shipped"}}
    assert _r(Order.status == Status.SHIPPED)[2] == {":v0": {"S": "shipped"}}
    # datetimes as to_item stores them; the TTL field as epoch seconds
    when = datetime(2026, 5, 1, tzinfo=UTC)
    assert _r(Order.created > when)[2] == {":v0": {"S": when.isoformat()}}
    assert _r(Order.expires < when)[2] == {":v0": {"N": str(int(when.timestamp()))}}
    assert _r(Order.blob == b"\x00\xff")[2] == {":v0": {"B": "AP8="}}


def test_aliases_nested_paths_and_reserved_words() -> None:
    assert _r(Order.note == "x")[1] == {"#n0": "n"}  # the alias is the attribute
    assert _r(Order.name.exists() & Order.location.exists() & (Order.status == "pending")) == (
        "attribute_exists(#n0) AND attribute_exists(#n1) AND #n2 = :v0",
        {"#n0": "name", "#n1": "location", "#n2": "status"},
        {":v0": {"S": "pending"}},
    )
    assert _r(Order.address.city == "Oslo") == (
        "#n0.#n1 = :v0",
        {"#n0": "address", "#n1": "city"},
        {":v0": {"S": "Oslo"}},
    )
    assert _r(Order.address.zip_code.begins_with("03"))[1] == {"#n0": "address", "#n1": "zip"}
    assert _r(Order.address["zip"].exists())[1] == {"#n0": "address", "#n1": "zip"}
    assert _r(Order.lines[2].price <= Order.budget) == (
        "#n0[2].#n1 <= #n2",
        {"#n0": "lines", "#n1": "price", "#n2": "budget"},
        {},
    )
    assert _r(Order.meta["size"] == 3) == (  # a member named like a method, by name
        "#n0.#n1 = :v0",
        {"#n0": "meta", "#n1": "size"},
        {":v0": {"N": "3"}},
    )
    assert Order.address.city.label == "Order.address.city"
    assert Order.lines[2].price.path == nodes.Path(
        (nodes.Name("lines"), nodes.Index(2), nodes.Name("price"))
    )


def test_functions_between_in_and_combinations() -> None:
    assert _r(Order.total.between(1, 10)) == (
        "#n0 BETWEEN :v0 AND :v1",
        {"#n0": "total"},
        {":v0": {"N": "1"}, ":v1": {"N": "10"}},
    )
    assert _r(Order.kind.is_in("web", "shop"))[0] == "#n0 IN (:v0, :v1)"
    assert _r(Order.note.not_exists())[0] == "attribute_not_exists(#n0)"
    assert _r(Order.tags.contains("gift")) == (
        "contains(#n0, :v0)",
        {"#n0": "tags"},
        {":v0": {"S": "gift"}},
    )
    assert _r(Order.scores.contains(3))[2] == {":v0": {"N": "3"}}
    assert _r(Order.name.contains("an"))[2] == {":v0": {"S": "an"}}
    assert _r(Order.tags.size() > 2)[0] == "size(#n0) > :v0"
    assert _r(Order.meta.attribute_type("M")) == (
        "attribute_type(#n0, :v0)",
        {"#n0": "meta"},
        {":v0": {"S": "M"}},
    )
    a, b, c = Order.total > 1, Order.kind == "web", Order.note.exists()
    assert _r(a & b & c)[0] == "#n0 > :v0 AND #n1 = :v1 AND attribute_exists(#n2)"
    assert _r((a | b) & c)[0] == "(#n0 > :v0 OR #n1 = :v1) AND attribute_exists(#n2)"
    assert _r(a | (b & c))[0] == "#n0 > :v0 OR #n1 = :v1 AND attribute_exists(#n2)"
    assert _r(~(a | b))[0] == "NOT (#n0 > :v0 OR #n1 = :v1)"
    assert (~~a).node == a.node
    # one value used twice shares its placeholder
    assert _r((Order.total > 5) & (Order.budget < 5))[2] == {":v0": {"N": "5"}}


def test_conditions_have_no_truth_value_except_path_identity() -> None:
    with pytest.raises(TypeError, match=re.escape("combine conditions with & | ~")):
        bool(Order.total > 1)
    with pytest.raises(TypeError):
        1 < Order.total < 5  # noqa: B015 - the chain calls bool() on the first comparison
    assert bool(Order.total == Order.total) and not bool(Order.total == Order.budget)
    assert bool(Order.total != Order.budget)
    assert {Order.total: 1}[Order.total] == 1  # hashable, usable as dict keys
    assert Order.total in [Order.budget, Order.total]


def test_projection_and_request_parameters() -> None:
    rendered = render(projection(Order.address.city, Order.name, "PK", Order.name))
    assert rendered.text == "#n0.#n1, #n2, #n3"
    assert rendered.names == {"#n0": "address", "#n1": "city", "#n2": "name", "#n3": "PK"}
    params = expression_parameters(
        condition=Order.total > 1,
        filter=Order.name == "x",
        projection=[Order.name, "SK"],
    )
    assert params == {
        "ConditionExpression": "#c0 > :c0",
        "FilterExpression": "#f0 = :f0",
        "ProjectionExpression": "#p0, #p1",
        "ExpressionAttributeNames": {"#c0": "total", "#f0": "name", "#p0": "name", "#p1": "SK"},
        "ExpressionAttributeValues": {":c0": {"N": "1"}, ":f0": {"S": "x"}},
    }
    assert expression_parameters(projection=["PK"]) == {
        "ProjectionExpression": "#p0",
        "ExpressionAttributeNames": {"#p0": "PK"},
    }
    assert _r(attribute("PK").not_exists()) == ("attribute_not_exists(#n0)", {"#n0": "PK"}, {})


# ------------------------------------------------------------------- errors


@pytest.mark.parametrize(
    ("build", "message"),
    [
        (
            lambda: Order.total > "x",
            "Order.total: 'x' is not a valid Decimal (Input should be a valid decimal)",
        ),
        (lambda: Order.total > float("nan"), "Order.total: "),
        (lambda: Order.kind == "phone", "Order.kind: 'phone' is not a valid "),
        (lambda: Order.status == "lost", "Order.status: 'lost' is not a valid Status"),
        (
            lambda: Order.note == None,  # noqa: E711 - the point of the test
            "Order.note: cannot compare with None (a field set to None is left out of the item; use Order.note.not_exists())",
        ),
        (
            lambda: Order.address["nope"],
            "Order.address (Address) has no field 'nope' (fields: street, city, zip_code)",
        ),
        (
            lambda: Order.total["x"],
            "Order.total holds Decimal, not a map or model: it has no member 'x'",
        ),
        (
            lambda: Order.total[0],
            "Order.total holds Decimal, not a list: it has no elements to index",
        ),
        (lambda: Order.tags[0], "Order.tags holds "),
        (lambda: Order.lines[-1], "Order.lines: a list index must be an int >= 0, not -1"),
        (lambda: Order.total.is_in(), "Order.total: is_in() takes 1 to 100 values, not 0"),
        (
            lambda: Order.total.is_in(*range(101)),
            "Order.total: is_in() takes 1 to 100 values, not 101",
        ),
        (
            lambda: Order.name.begins_with(3),
            "Order.name: begins_with takes a str or bytes prefix, not 3",
        ),
        (
            lambda: Order.name.contains(3),
            "Order.name: contains() takes a substring (str or bytes) here, not 3",
        ),
        (lambda: Order.tags.contains(3), "Order.tags: 3 is not a valid "),
        (
            lambda: Order.meta.attribute_type("X"),
            "Order.meta: attribute_type takes one of B, BOOL, BS, L, M, N, NS, NULL, S, SS, not 'X'",
        ),
        (
            lambda: Order.meta["x"] == {1, "a"},
            "Order.meta.x: a set must hold only strings, only numbers or only bytes (got int, str)",
        ),
    ],
)
def test_bad_input_names_the_entity_and_field(build: Any, message: str) -> None:
    with pytest.raises(InvalidValueError) as caught:
        build()
    assert str(caught.value).startswith(message), str(caught.value)


def test_unknown_fields_raise_attribute_error_naming_the_fields() -> None:
    with pytest.raises(
        AttributeError,
        match=r"Order.address \(Address\) has no field 'nope' \(fields: street, city, zip_code\)",
    ):
        Order.address.nope  # noqa: B018
    with pytest.raises(AttributeError, match=r"Order\.total holds Decimal, not a map or model"):
        Order.total.nope  # noqa: B018
    with pytest.raises(AttributeError):
        Order.nope  # type: ignore[attr-defined] # noqa: B018

    class Named(Entity, table=Table("named"), metaclass=FieldPathMeta):
        a: str
        bee: int = 0
        keys = Keys(pk="N#{a}", sk="N")

    install_field_paths(Named)
    with pytest.raises(AttributeError, match=r"^Named has no field 'nope' \(fields: a, bee\)$"):
        Named.nope  # type: ignore[attr-defined] # noqa: B018
    assert isinstance(Named.bee, FieldPath)
    with pytest.raises(TypeError, match="takes a class-level field access"):
        field_path(3)
    assert field_path(Order.total) is Order.total


# ------------------------------------------------------------------- evaluation


@pytest.fixture
def engine() -> Iterator[LocalEngine]:
    with LocalEngine(ttl_sweep_interval=None) as engine:
        engine.call("CreateTable", app.create_table_request())
        orders = [
            Order(
                order_id="a",
                total=Decimal("150.5"),
                budget=Decimal(200),
                status=Status.SHIPPED,
                name="Anna",
                location="Oslo",
                n="fragile",
                address=Address(street="1 Main", city="Oslo", zip="0150"),
                lines=[Line(sku="x", price=Decimal(10)), Line(sku="y", price=Decimal(300))],
                tags={"gift", "red"},
                scores={1, 2, 3},
                meta={"size": 3, "deep": {"k": "v"}},
                blob=b"\x00\x01",
                created=datetime(2026, 3, 1, tzinfo=UTC),
                expires=datetime(2026, 4, 1, tzinfo=UTC),
            ),
            Order(
                order_id="b",
                total=Decimal(20),
                budget=Decimal(10),
                kind="shop",
                name="Bob",
                address=Address(street="2 Side", city="Bergen"),
                lines=[Line(sku="z", price=Decimal(5))],
                tags={"blue"},
                created=datetime(2026, 2, 1, tzinfo=UTC),
            ),
            Order(order_id="c", total=Decimal(0)),
        ]
        for order in orders:
            engine.call("PutItem", {"TableName": "app", "Item": order.to_item()})
        yield engine


def _matching(engine: LocalEngine, condition: Condition) -> set[str]:
    request = {"TableName": "app", **expression_parameters(filter=condition)}
    items = engine.call("Scan", request)["Items"]
    return {item["order_id"]["S"] for item in items}


@pytest.mark.parametrize(
    ("build", "expected"),
    [
        (lambda: Order.total > 100, {"a"}),
        (lambda: Order.total >= 20, {"a", "b"}),
        (lambda: Order.total < 20, {"c"}),
        (lambda: Order.total <= 20, {"b", "c"}),
        (lambda: Order.total == Decimal("150.50"), {"a"}),
        (lambda: Order.total != 0, {"a", "b"}),
        (lambda: Order.total.between(0, 20), {"b", "c"}),
        (lambda: Order.total < Order.budget, {"a"}),
        (lambda: Order.budget < Order.total, {"b"}),
        (lambda: Order.status == "shipped", {"a"}),
        (lambda: Order.status.is_in(Status.PENDING), {"b", "c"}),
        (lambda: Order.kind.is_in("shop", "web"), {"a", "b", "c"}),
        (lambda: Order.name.exists(), {"a", "b"}),
        (lambda: Order.name.not_exists(), {"c"}),
        (lambda: Order.name == "Bob", {"b"}),
        (lambda: Order.location == "Oslo", {"a"}),
        (lambda: Order.note == "fragile", {"a"}),
        (lambda: Order.note.begins_with("frag"), {"a"}),
        (lambda: Order.name.contains("nn"), {"a"}),
        (lambda: Order.address.city == "Bergen", {"b"}),
        (lambda: Order.address.zip_code.exists(), {"a"}),
        (lambda: Order.address == Address(street="2 Side", city="Bergen"), {"b"}),
        (lambda: Order.lines[1].price > 100, {"a"}),
        (lambda: Order.lines[0].sku.is_in("z", "q"), {"b"}),
        (lambda: Order.lines[1].exists(), {"a"}),
        (lambda: Order.lines[0].price < Order.budget, {"a", "b"}),
        (lambda: Order.tags.contains("blue"), {"b"}),
        (lambda: Order.scores.contains(2), {"a"}),
        (lambda: Order.tags.size() == 2, {"a"}),
        (lambda: Order.lines.size() >= 1, {"a", "b"}),
        (lambda: Order.name.size() == 3, {"b"}),
        (lambda: Order.meta["size"] == 3, {"a"}),
        (lambda: Order.meta.deep.k == "v", {"a"}),
        (lambda: Order.meta.attribute_type("M"), {"a", "b", "c"}),
        (lambda: Order.tags.attribute_type("SS"), {"a", "b"}),
        (lambda: Order.blob == b"\x00\x01", {"a"}),
        (lambda: Order.blob.begins_with(b"\x00"), {"a"}),
        (lambda: Order.created > datetime(2026, 2, 15, tzinfo=UTC), {"a"}),
        (lambda: Order.expires < datetime(2026, 5, 1, tzinfo=UTC), {"a"}),
        (lambda: (Order.total > 10) & (Order.kind == "shop"), {"b"}),
        (lambda: (Order.total > 100) | (Order.kind == "shop"), {"a", "b"}),
        (lambda: ~Order.name.exists() | (Order.name == "Anna"), {"a", "c"}),
        (lambda: ~((Order.total > 100) | (Order.kind == "shop")), {"c"}),
    ],
)
def test_the_engine_evaluates_rendered_conditions(
    engine: LocalEngine, build: Any, expected: set[str]
) -> None:
    assert _matching(engine, build()) == expected


def test_a_condition_guards_a_write(engine: LocalEngine) -> None:
    item = Order(order_id="a", total=Decimal(1)).to_item()
    guarded = {"TableName": "app", "Item": item}
    with pytest.raises(Exception, match="ConditionalCheckFailed"):
        engine.call("PutItem", {**guarded, **expression_parameters(condition=Order.total < 100)})
    engine.call("PutItem", {**guarded, **expression_parameters(condition=Order.total > 100)})
    stored = engine.call("GetItem", {"TableName": "app", "Key": Order.key(order_id="a")})
    assert Order.from_item(stored["Item"]).total == 1


# ------------------------------------------------------------------- pydantic is not disturbed


def test_instances_validation_dump_equality_and_copies_are_untouched() -> None:
    order = Order(order_id="o", total=Decimal(3), n="hi")
    assert order.total == Decimal(3) and order.note == "hi" and order.name is None
    assert isinstance(Order.total, FieldPath)
    assert order.model_dump()["total"] == Decimal(3)
    assert order.model_dump(by_alias=True)["n"] == "hi"
    assert order == Order(order_id="o", total=Decimal(3), n="hi")
    assert order != Order(order_id="o", total=Decimal(4), n="hi")
    assert copy.copy(order) == order and copy.deepcopy(order) == order
    assert pickle.loads(pickle.dumps(order)) == order
    assert order.model_copy(update={"total": Decimal(5)}).total == Decimal(5)
    order.total = Decimal(9)
    assert order.total == Decimal(9) and Order.total.label == "Order.total"
    with pytest.raises(ValidationError):
        Order(order_id="o", total="x")
    assert Order.model_validate({"order_id": "o", "total": 1}).budget == 0
    assert Order.from_item(order.to_item()) == order
    partial = Order.model_construct(order_id="p")
    with pytest.raises(AttributeError):
        partial.total  # noqa: B018 - never set: the descriptor must not answer for instances


def test_subclasses_get_their_own_paths_without_pydantic_noticing() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")

        class Base(Entity):  # an abstract base: no table
            order_id: str
            total: Decimal = Decimal(0)

        install_field_paths(Base)

        class Special(Base, table=Table("special")):
            total: Decimal = Decimal(7)  # redeclared: no "shadows an attribute" warning
            extra: Annotated[int, Field(alias="x")] = 1
            keys = Keys(pk="S#{order_id}", sk="S")

        install_field_paths(Special)

        class Plain(Base, table=Table("plain")):  # inherits without redeclaring
            keys = Keys(pk="P#{order_id}", sk="P")

    assert Special(order_id="s").total == 7  # the default is the subclass's, not a path
    assert Plain(order_id="p").total == 0  # the inherited default, not a path
    assert Special.model_fields["total"].default == 7
    assert Plain.model_fields["total"].default == 0
    assert Special.total.label == "Special.total" and Base.total.label == "Base.total"
    assert Plain.total.label == "Plain.total"  # lazily built for the subclass
    assert _r(Special.extra == 2)[1] == {"#n0": "x"}
    assert _r(Special.total > 1)[2] == {":v0": {"N": "1"}}
