"""``from_item``'s compiled decoding (singletable/_reader.py) against its general loop.

For items the codec wrote and items written by other code (other attributes,
attributes missing, values of other wire types than the fields are declared with),
``from_item`` with the compiled decoding must give an equal entity, or the same
error with the same message, as with the general loop alone.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st
from test_writer import Order, _orders, outcome

from singletable._reader import reader


@contextlib.contextmanager
def general_loop() -> Iterator[None]:
    """``Order.from_item`` with its general loop only."""
    model = Order.__singletable__
    saved = model.reader
    model.reader = lambda item: None
    try:
        yield
    finally:
        model.reader = saved


def _both(item: dict[str, Any]) -> None:
    compiled = outcome(lambda: Order.from_item(item))
    with general_loop():
        general = outcome(lambda: Order.from_item(item))
    assert compiled[0] == general[0]
    if compiled[0] == "ok":
        assert compiled[1] == general[1]
        assert compiled[1].__dict__ == general[1].__dict__
        assert list(compiled[1].__dict__) == list(general[1].__dict__)
    else:
        assert compiled == general


_wire_values = st.one_of(
    st.builds(lambda s: {"S": s}, st.text(max_size=4) | st.sampled_from(["1", "2026-01-01"])),
    st.builds(lambda n: {"N": str(n)}, st.integers(-5, 5)),
    st.builds(lambda b: {"BOOL": b}, st.booleans()),
    st.just({"NULL": True}),
    st.just({"SS": ["a", "b"]}),
    st.just({"NS": ["1", "2"]}),
    st.just({"L": [{"S": "x"}, {"N": "1"}]}),
    st.just({"M": {"street": {"S": "s"}}}),
    st.just({"B": "AAE="}),
)


@settings(max_examples=150, deadline=None)
@given(
    _orders,
    st.dictionaries(
        st.sampled_from([*Order.__singletable__.attributes.values(), "extra", "PK", "_type"]),
        _wire_values,
        max_size=4,
    ),
    st.lists(st.sampled_from(sorted(Order.__singletable__.attributes.values())), max_size=3),
)
def test_the_compiled_decoding_gives_the_general_loops_entity_or_error(
    order: Order, changes: dict[str, Any], removed: list[str]
) -> None:
    try:
        item = order.to_item()
    except Exception:
        return
    _both(item)  # as written
    item.update(changes)  # then changed by other code: other types, extra attributes
    for name in removed:
        item.pop(name, None)
    _both(item)


def test_an_item_with_other_attributes_is_left_to_the_general_loop() -> None:
    read = reader(Order)
    item = {"customer_id": {"S": "c"}, "PK": {"S": "p"}}
    assert read(item) == {"customer_id": "c"}
    assert read({**item, "other": {"S": "x"}}) is None
    assert read({**item, "quantity": {"S": "7"}}) == {"customer_id": "c", "quantity": "7"}


_EVERY_KIND = [
    {"S": "x"},
    {"S": "7"},
    {"N": "7"},
    {"N": "2.5"},
    {"BOOL": True},
    {"NULL": True},
    {"SS": ["a", "b"]},
    {"SS": ["7"]},
    {"NS": ["1", "2"]},
    {"BS": ["AAE="]},
    {"B": "AAE="},
    {"L": [{"S": "x"}, {"N": "1"}]},
    {"L": []},
    {"M": {"street": {"S": "s"}, "city": {"S": "c"}, "postcode": {"S": "p"}}},
    {"M": {"street": {"N": "1"}, "x": {"L": [{"NULL": True}]}}},
    {"M": {}},
]


def test_every_field_with_every_wire_type_decodes_as_the_general_loop() -> None:
    # Each field tries first the wire type it is declared with (sets of strings SS,
    # dicts and nested models M, lists L; the rest S, N or BOOL): every wire type in
    # every field must still give the general loop's entity or error.
    base = Order(customer_id="c", order_id="o", created_at="2026-01-01T00:00:00Z").to_item()
    for attribute in Order.__singletable__.attributes.values():
        for value in _EVERY_KIND:
            _both({**base, attribute: value})


def test_the_declared_wire_types() -> None:
    from test_writer import Address

    from singletable._reader import _declared_kind

    assert _declared_kind(set[str]) == _declared_kind(frozenset[str] | None) == "SS"
    assert _declared_kind(set[int]) == "S"  # an NS or BS set: decoded the general way
    assert _declared_kind(dict[str, Any]) == _declared_kind(Address | None) == "M"
    assert _declared_kind(list[Any]) == _declared_kind(tuple[int, ...]) == "L"
    assert _declared_kind(int | None) == "N" and _declared_kind(bool) == "BOOL"


# ---------------------------------------------------------------- int fields
# A plain int field's whole-number text is handed to Pydantic as an int (the general
# loop hands it a Decimal): the same entity, and for a failure the general loop's
# error (Entity.from_item validates the general loop's values for it).

from typing import Annotated  # noqa: E402

from pydantic import BeforeValidator, Field, field_validator, model_validator  # noqa: E402

from singletable import Entity, Keys, Table  # noqa: E402
from singletable._reader import _plain_int, _unseen  # noqa: E402

_ints = Table("reader_ints")


def _no_sets(value: Any) -> Any:
    # sees the value Pydantic is given: refuses the general loop's set (a validator
    # the shortcut's list would get past, so it must not be taken for this field)
    if isinstance(value, set):
        raise ValueError("a set")
    return value


class Counts(Entity, table=_ints):
    name: str
    plain: int = 0
    maybe: int | None = None
    positive: Annotated[int, Field(gt=0)] = 1
    strict: Annotated[int, Field(strict=True)] = 0
    before: Annotated[int, BeforeValidator(lambda v: v)] = 0
    checked: int = 0
    text: str = ""
    tags: set[str] = Field(default_factory=set)
    frozen: frozenset[str] | None = None
    limited: Annotated[set[str], Field(max_length=1)] = Field(default_factory=set)
    strict_tags: Annotated[set[str], Field(strict=True)] = Field(default_factory=set)
    no_sets: Annotated[set[str], BeforeValidator(_no_sets)] = Field(default_factory=set)

    keys = Keys(pk="K#{name}", sk="C")

    @field_validator("checked", mode="before")
    @classmethod
    def _seen(cls, value: Any) -> Any:
        if not isinstance(value, int | str):  # a Decimal from the general loop
            raise ValueError(f"got {type(value).__name__}")
        return value


class Tagged(Entity, table=_ints):
    name: str
    plain: int = 0

    keys = Keys(pk="T#{name}", sk="T")

    @model_validator(mode="before")
    @classmethod
    def _types(cls, data: Any) -> Any:
        if isinstance(data, dict) and "plain" in data:
            data = {**data, "seen": type(data["plain"]).__name__}
        return data

    seen: str = ""


def test_which_int_fields_take_the_int_shortcut() -> None:
    taken = {name for name in Counts.model_fields if _plain_int(Counts, name)}
    assert taken == {"plain", "maybe", "positive"}
    unseen = ("tags", "frozen", "limited", "strict_tags", "no_sets")
    assert {name for name in unseen if _unseen(Counts, name)} == {"tags", "frozen", "limited"}
    assert not _plain_int(Tagged, "plain")  # a "before" model validator sees the values


def _both_for(cls: type[Entity], item: dict[str, Any]) -> None:
    compiled = outcome(lambda: cls.from_item(item))
    model = cls.__singletable__
    saved = model.reader
    model.reader = lambda item: None
    try:
        general = outcome(lambda: cls.from_item(item))
    finally:
        model.reader = saved
    assert compiled[0] == general[0]
    if compiled[0] == "ok":
        assert compiled[1].__dict__ == general[1].__dict__
        assert [type(v) for v in compiled[1].__dict__.values()] == [
            type(v) for v in general[1].__dict__.values()
        ]
    else:
        assert compiled == general


_NUMBER_TEXTS = st.one_of(
    st.integers(-(10**40), 10**40).map(str),
    st.decimals(allow_nan=False, allow_infinity=False).map(str),
    st.sampled_from(["0", "-0", "007", "1E+2", "2.5", "1.0", "\u0663", "\u00b2", "", "x", " 1"]),
)


@settings(max_examples=300, deadline=None)
@given(
    st.sampled_from(["plain", "maybe", "positive", "strict", "before", "checked"]),
    _NUMBER_TEXTS,
)
def test_int_fields_decode_as_the_general_loop(field: str, text: str) -> None:
    item = {"PK": {"S": "K#k"}, "_type": {"S": "Counts"}, "name": {"S": "k"}}
    _both_for(Counts, {**item, field: {"N": text}})
    _both_for(Tagged, {"PK": {"S": "T#k"}, "name": {"S": "k"}, "plain": {"N": text}})


_SET_MEMBERS = st.lists(
    st.one_of(st.text(st.sampled_from("ab\u00e9"), max_size=2), st.integers(0, 2)), max_size=3
)


@settings(max_examples=300, deadline=None)
@given(st.sampled_from(["tags", "frozen", "limited", "strict_tags", "no_sets"]), _SET_MEMBERS)
def test_string_set_fields_decode_as_the_general_loop(field: str, members: list[Any]) -> None:
    # (members with duplicates or of other types only come from other code's items)
    item = {"PK": {"S": "K#k"}, "_type": {"S": "Counts"}, "name": {"S": "k"}}
    _both_for(Counts, {**item, field: {"SS": members}})
