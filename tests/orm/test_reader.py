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
