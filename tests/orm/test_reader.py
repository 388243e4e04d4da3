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
