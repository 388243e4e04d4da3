"""``to_item`` compiled per class (singletable/_writer.py) gives what the general path gives.

The general path is the codec per field, then ``key_item`` (:func:`general_to_item`
here, as ``Entity.to_item`` was written before it was compiled). For entities of
many field types, validated or built with ``model_construct`` (values of other types
than declared), the compiled writer must return an equal item, in the same order,
or raise the same error with the same message. The key templates' generated fast
render is checked against the general render the same way.
"""

from __future__ import annotations

import contextlib
import enum
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal
from typing import Annotated, Any, Literal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import BaseModel, Field, computed_field, field_serializer

from singletable import DB, TTL, Entity, GlobalIndex, Keys, LocalIndex, Table
from singletable._json_writer import json_writer, to_json
from singletable.codec import epoch_seconds, to_attribute
from singletable.entity import key_item
from singletable.keys import KeyTemplate


@contextlib.contextmanager
def general_render(templates: list[KeyTemplate]) -> Iterator[None]:
    """Key templates rendered without their fast path (the general render alone)."""
    saved = [template._fast for template in templates]
    for template in templates:
        template._fast = lambda values, cache: None
    try:
        yield
    finally:
        for template, fast in zip(templates, saved, strict=True):
            template._fast = fast


def general_to_item(entity: Entity) -> dict[str, Any]:
    """``to_item`` the general way (the reference the compiled writer must equal): the
    codec per field, then ``key_item`` with the general key render."""
    model = type(entity).__singletable__
    templates = [t for pair in model.keys.values() for t in pair if t is not None]
    with general_render(templates):
        return _general_to_item(entity)


def _general_to_item(entity: Entity) -> dict[str, Any]:
    model = type(entity).__singletable__
    values = entity.__dict__
    item: dict[str, Any] = {}
    for field_name, attribute, path in model.writes:
        value = values.get(field_name)
        if value is None:
            continue
        if field_name == model.ttl:
            item[attribute] = {"N": str(epoch_seconds(value, path))}
        else:
            item[attribute] = to_attribute(value, path)
    item.update(key_item(model, values, type(entity).__name__))
    item[model.table.type_attribute] = {"S": model.type_name}
    if model.schema_version is not None:
        item[model.table.schema_attribute] = {"N": str(model.schema_version)}
    return item


def assert_same_json(entity: Entity) -> None:
    """The compiled JSON writer (singletable/_json_writer.py, batch writes on the wire
    backends) gives the JSON text of the general path's item, or its error."""
    compiled = json_writer(type(entity))
    assert outcome(lambda: compiled(entity.__dict__)) == outcome(
        lambda: to_json(general_to_item(entity))
    ), entity


def outcome(fn: Callable[[], Any]) -> tuple[Any, ...]:
    """What ``fn`` gives: the value with its key order, or the error's type and text."""
    try:
        result = fn()
    except Exception as error:
        return ("error", type(error).__name__, str(error))
    return ("ok", result, list(result))


class Color(enum.Enum):
    RED = "red"
    BLUE = "blue"


class Shade(enum.StrEnum):
    DARK = "dark"
    LIGHT = "light"


class Address(BaseModel):
    street: str
    city: str | None = None
    floor: int | None = None
    tags: set[str] | None = None


class Fancy(BaseModel):
    """A nested model model_dump changes (computed field, serializer, alias): never
    encoded from its __dict__."""

    name: str
    secret: str = Field(default="s", exclude=True)
    short: str = Field(default="x", serialization_alias="s")

    @computed_field  # type: ignore[prop-decorator]
    @property
    def upper(self) -> str:
        return self.name.upper()

    @field_serializer("name")
    def _name(self, value: str) -> str:
        return value + "!"


app = Table(
    "writer",
    indexes=[
        GlobalIndex("GSI1", pk="GSI1PK", sk="GSI1SK"),
        GlobalIndex("GSI2", pk="GSI2PK", sk="GSI2SK"),
        LocalIndex("LSI1", sk="LSI1SK"),
    ],
    ttl_attribute="expires",
)


class Order(Entity, table=app):
    customer_id: str
    order_id: str
    created_at: datetime
    status: Literal["new", "shipped"] | None = None
    total: Decimal = Decimal("0")
    quantity: int = 0
    ratio: float = 0.5
    gift: bool = False
    tags: set[str] = Field(default_factory=lambda: {"a"})
    numbers: set[int] | None = None
    lines: list[Any] = Field(default_factory=list)
    meta: dict[str, Any] = Field(default_factory=dict)
    address: Address | None = None
    fancy: Fancy | None = None
    color: Color = Color.RED
    shade: Shade | None = None
    day: date | None = None
    blob: bytes | None = None
    note: str | None = Field(default=None, alias="n")
    rank: int | None = None
    expires: Annotated[datetime | None, TTL] = None

    keys = Keys(
        pk="CUSTOMER#{customer_id}",
        sk="ORDER#{order_id}#{quantity}",
        GSI1=("STATUS#{status}", "{created_at}#{order_id}"),
        GSI2=("RANK#{rank:06}", "{shade}#{day}#{order_id}"),
        LSI1="{created_at}",
    )


class Versioned(Entity, table=Table("writer_versioned"), schema_version=2):
    """A table keyed by fields themselves (plain keys), one numeric."""

    PK: str
    SK: int
    text: str = ""


_text = st.text(st.sampled_from("ab#é\U0001f600"), max_size=6) | st.text(max_size=8)
_moments = st.one_of(
    st.datetimes(timezones=st.just(UTC)),
    st.datetimes(timezones=st.sampled_from([timezone(timedelta(hours=5)), UTC])),
    st.datetimes(min_value=datetime(1000, 1, 1)),
)
_scalars = st.one_of(
    st.none(),
    _text,
    st.booleans(),
    st.integers(-(10**40), 10**40),
    st.decimals(allow_nan=False, allow_infinity=False, places=3),
    st.floats(allow_nan=False, allow_infinity=False),
)
_address = st.builds(
    Address,
    street=_text,
    city=st.none() | _text,
    floor=st.none() | st.integers(-5, 5),
    tags=st.none() | st.sets(_text, min_size=1, max_size=3),
)
_orders = st.builds(
    Order,
    customer_id=_text,
    order_id=_text,
    created_at=_moments,
    status=st.sampled_from([None, "new", "shipped"]),
    total=st.decimals(allow_nan=False, allow_infinity=False, places=2),
    quantity=st.integers(-(10**39), 10**39),
    ratio=st.floats(allow_nan=False),
    gift=st.booleans(),
    tags=st.sets(_text, max_size=3),
    numbers=st.none() | st.sets(st.integers(-100, 100), max_size=3),
    lines=st.lists(_scalars, max_size=3),
    meta=st.dictionaries(_text, _scalars, max_size=3),
    address=st.none() | _address,
    fancy=st.none() | st.builds(Fancy, name=_text),
    color=st.sampled_from(Color),
    shade=st.none() | st.sampled_from(Shade),
    day=st.none() | st.dates(),
    blob=st.none() | st.binary(max_size=4),
    n=st.none() | _text,
    rank=st.none() | st.integers(-3, 10**7),
    expires=st.none() | _moments,
)


@settings(max_examples=300, deadline=None)
@given(_orders)
def test_the_compiled_writer_gives_the_general_paths_item_or_error(order: Order) -> None:
    assert outcome(order.to_item) == outcome(lambda: general_to_item(order))
    assert_same_json(order)


_wrong = st.one_of(
    _scalars,
    st.sets(st.one_of(_text, st.integers(0, 3)), max_size=3),
    st.lists(_scalars, max_size=2),
    st.sampled_from([Color.BLUE, Shade.DARK, Address(street="x"), date(2026, 1, 2)]),
    _moments,
    st.just(float("inf")),
)


@settings(max_examples=150, deadline=None)
@given(st.dictionaries(st.sampled_from(sorted(Order.model_fields)), _wrong, max_size=6), _orders)
def test_values_of_other_types_than_declared_take_the_general_path(
    wrong: dict[str, Any], order: Order
) -> None:
    # model_construct stores whatever it is given: the compiled type tests must
    # send each such value to to_attribute, as the general path does
    values = {**order.__dict__, **wrong}
    built = Order.model_construct(**values)
    assert outcome(built.to_item) == outcome(lambda: general_to_item(built))
    assert_same_json(built)


@settings(max_examples=100, deadline=None)
@given(
    st.fixed_dictionaries(
        {
            "street": _scalars,
            "city": _scalars,
            "floor": st.one_of(_scalars, st.just(True)),
            "tags": st.one_of(st.none(), st.sets(_text, min_size=1), st.lists(_text)),
        }
    ),
    st.booleans(),
)
def test_a_nested_model_holding_other_types_is_encoded_as_model_dump_does(
    fields: dict[str, Any], drop: bool
) -> None:
    if drop:
        fields.pop("city")  # model_construct leaves a field without a default out
    address = Address.model_construct(**fields)
    order = Order.model_construct(
        customer_id="c", order_id="o", created_at=datetime(2026, 1, 1), address=address
    )
    assert outcome(order.to_item) == outcome(lambda: general_to_item(order))
    assert_same_json(order)


_EVERY_KIND: list[Any] = [
    "text",
    "a#b",
    "",
    Shade.DARK,
    Color.BLUE,
    True,
    0,
    7,
    -(10**40),
    Decimal("1.50"),
    Decimal("NaN"),
    # (the writer's inline number, datetime and set encodings: each edge of their tests)
    Decimal("-0"),
    Decimal("0.0"),
    Decimal("1E+3"),
    Decimal("-Infinity"),
    Decimal("1" * 38),
    Decimal("1" * 39),
    Decimal("0." + "1" * 37),
    10**38 - 1,
    -(10**38) + 1,
    10**38,
    datetime(2026, 1, 1, 12, tzinfo=timezone(timedelta(0), "Z")),
    datetime(2026, 1, 1, 12, tzinfo=UTC),
    {Shade.DARK, "x"},
    {"b", "a", "c"},
    {"a", 1},
    frozenset(),
    1.25,
    float("inf"),
    datetime(2026, 1, 1, 12, tzinfo=timezone(timedelta(hours=2))),
    datetime(2026, 1, 1),
    date(2026, 1, 1),
    b"\x00\x01",
    {"x", "y"},
    {1, 2},
    set(),
    frozenset({"z"}),
    ["a", 1, None],
    ("t",),
    {"k": "v", "n": 1},
    {1: "x"},
    Address(street="s", city=None, floor=2),
    Address.model_construct(street=5),
    Fancy(name="f"),
    object(),
]


@pytest.mark.parametrize("field", sorted(Order.model_fields))
def test_every_field_holding_a_value_of_any_kind_is_encoded_as_the_general_path_does(
    field: str,
) -> None:
    base = {"customer_id": "c", "order_id": "o", "created_at": datetime(2026, 1, 1)}
    for value in _EVERY_KIND:
        order = Order.model_construct(**{**base, field: value})
        assert outcome(order.to_item) == outcome(lambda order=order: general_to_item(order)), (
            field,
            value,
        )
        assert_same_json(order)


def test_the_writer_keeps_every_key_error() -> None:
    base = {"customer_id": "c", "order_id": "o#1", "created_at": datetime(2026, 1, 1)}
    cases: list[dict[str, Any]] = [
        {},
        {"customer_id": None},  # a table key field missing
        {"order_id": None},
        {"created_at": None},  # the LSI's only field: the item leaves the index
        {"status": "new", "order_id": "a#b"},  # the separator in an index key slot
        {"rank": -1, "shade": Shade.DARK, "day": date(2026, 1, 1)},  # a padded negative
        {"rank": 10**8, "shade": Shade.DARK, "day": date(2026, 1, 1)},  # too wide
        {"rank": 5, "shade": Shade.DARK, "day": date(2026, 1, 1)},
        {"rank": 5, "shade": Shade.DARK},  # sparse: day missing
        {"total": Decimal("NaN")},
        {"tags": set()},
        {"meta": {1: "x"}},
        {"expires": "soon"},
        {"expires": 10**50},
    ]
    for changes in cases:
        order = Order.model_construct(**{**base, **changes})
        assert outcome(order.to_item) == outcome(lambda order=order: general_to_item(order))
        assert_same_json(order)
    plain = Versioned(PK="p", SK=3, text="t")
    assert outcome(plain.to_item) == outcome(lambda: general_to_item(plain))
    assert_same_json(plain)
    schema = Versioned.__singletable__.table.schema_attribute
    assert plain.to_item()[schema] == {"N": "2"} and plain.to_item()["SK"] == {"N": "3"}
    for broken in ({"PK": None}, {"SK": None}, {"SK": float("nan")}):
        entity = Versioned.model_construct(**{"PK": "p", "SK": 1, **broken})
        assert outcome(entity.to_item) == outcome(lambda entity=entity: general_to_item(entity))
        assert_same_json(entity)


def test_str_subclasses_are_stored_as_plain_strings() -> None:
    # a StrEnum is a str: the wire carries its text, which every backend reads back
    assert to_attribute(Shade.DARK, "E.v") == {"S": "dark"}
    assert type(to_attribute(Shade.DARK, "E.v")["S"]) is str
    stored = to_attribute({Shade.DARK: {Shade.LIGHT}}, "E.v")
    assert stored == {"M": {"dark": {"SS": ["light"]}}}
    assert type(next(iter(stored["M"]))) is str
    assert type(stored["M"]["dark"]["SS"][0]) is str
    db = DB()
    db.create_table(app)
    order = Order(
        customer_id="c",
        order_id="o",
        created_at=datetime(2026, 1, 1, tzinfo=UTC),
        shade=Shade.DARK,
        meta={"s": Shade.LIGHT},
    )
    db.put(order)  # the engine refused a StrEnum member before (SerializationException)
    assert db.get(Order, customer_id="c", order_id="o", quantity=0) == order


_slot_values = st.one_of(
    _text, st.integers(-5, 10**7), st.none(), st.sampled_from(Shade), _moments, st.dates()
)


@settings(max_examples=300, deadline=None)
@given(
    st.sampled_from(
        [
            template
            for pk, sk in Order.__singletable__.keys.values()
            for template in (pk, sk)
            if template is not None and not template.typed
        ]
    ),
    st.dictionaries(
        st.sampled_from(
            ["customer_id", "order_id", "quantity", "status", "rank", "shade", "day", "created_at"]
        ),
        _slot_values,
    ),
    st.booleans(),
)
def test_the_fast_render_gives_the_general_renders_key_or_error(
    template: KeyTemplate, values: dict[str, Any], cached: bool
) -> None:
    values.setdefault("created_at", datetime(2026, 1, 1))
    values.setdefault("day", date(2026, 1, 1))

    def general() -> str:
        with general_render([template]):
            return template.render(values, "Order", {} if cached else None)

    assert outcome(lambda: template.render(values, "Order", {} if cached else None)) == (
        outcome(general)
    )


class Aliased(BaseModel):
    street: str = Field(alias="st")
    city: str = Field(default="c", serialization_alias="town")
    zone: int = Field(default=1, validation_alias="z")
    note: str | None = None


class Holder(Entity, table=Table("writer_aliases")):
    owner: str
    where: Aliased
    maybe: Aliased | None = None

    keys = Keys(pk="H#{owner}", sk="H")


def test_nested_models_are_written_under_the_names_model_dump_gives() -> None:
    holder = Holder(owner="o", where=Aliased(st="s", z=3), maybe=Aliased(st="x", note="n"))
    assert holder.to_item() == general_to_item(holder)
    assert_same_json(holder)
    assert holder.to_item()["where"] == {
        "M": {"st": {"S": "s"}, "town": {"S": "c"}, "zone": {"N": "3"}}
    }
    odd = Holder.model_construct(owner="o", where=Aliased.model_construct(street=1))
    assert outcome(odd.to_item) == outcome(lambda: general_to_item(odd))
    assert_same_json(odd)
