"""The shortcuts of the entity -> item conversion give what the general code gives.

``to_attribute`` takes a Decimal that is already canonical text as it is, formats
other Decimals without a text round trip, encodes the string and boolean members of
maps and lists inline, and skips ``astimezone`` for UTC datetimes; ``to_item``
renders keys from a plan compiled once per class. Each must be indistinguishable
from the general path: same AttributeValue, same error and message.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal
from typing import Annotated, Any
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import TypeAdapter

from singletable import DB, CreatedAt, Entity, GlobalIndex, Keys, LocalIndex, Table
from singletable._values import InvalidValue, canonical_number
from singletable.codec import to_attribute
from singletable.entity import key_item
from singletable.errors import InvalidValueError, TransactionCanceledError
from singletable.keys import render_datetime

_decimals = st.one_of(
    st.decimals(allow_nan=False, allow_infinity=False),
    st.builds(
        lambda digits, exponent, negative: Decimal((int(negative), digits, exponent)),
        st.lists(st.integers(0, 9), min_size=1, max_size=45).map(tuple),
        st.integers(-140, 130),
        st.booleans(),
    ),
    st.sampled_from(
        [
            Decimal(text)
            for text in (
                "0", "-0", "0.0", "-0.00", "1E+2", "100", "1.50", "-0.5", "1e-7",
                "12345678901234567890123456789012345678",
                "1234567890123456789012345678901234567.0",
                "0.00000000000000000000000000000000001",
            )
        ]
    ),
)


@given(_decimals)
def test_a_decimal_is_stored_as_the_canonical_text_of_its_str(value: Decimal) -> None:
    try:
        expected: str | None = canonical_number(str(value))
        message = None
    except InvalidValue as error:
        expected, message = None, f"E.v: {value!r} cannot be stored: {error.message}"
    if expected is not None:
        assert to_attribute(value, "E.v") == {"N": expected}
    else:
        with pytest.raises(InvalidValueError) as caught:
            to_attribute(value, "E.v")
        assert str(caught.value) == message


def test_members_of_maps_and_lists_keep_their_paths_in_errors() -> None:
    value: dict[str, Any] = {"a": "x", "b": [True, "y", {"c": [1, float("inf")]}]}
    with pytest.raises(InvalidValueError) as caught:
        to_attribute(value, "E.v")
    assert str(caught.value) == "E.v.b[2].c[1]: inf cannot be stored (DynamoDB numbers are finite)"
    with pytest.raises(InvalidValueError, match=r"^E\.v: map keys must be strings, not 1$"):
        to_attribute({"a": "x", 1: "y"}, "E.v")
    assert to_attribute({"a": "x", "b": [False, "y", None]}, "E.v") == {
        "M": {"a": {"S": "x"}, "b": {"L": [{"BOOL": False}, {"S": "y"}, {"NULL": True}]}}
    }


@pytest.mark.parametrize(
    "moment",
    [
        datetime(2026, 1, 2, 3, 4, 5, 6, tzinfo=UTC),
        datetime(2026, 1, 2, 5, 4, 5, 6, tzinfo=timezone(timedelta(hours=2))),
        datetime(2026, 1, 2, 3, 4, 5, 6),
    ],
)
def test_datetimes_are_stored_in_utc(moment: datetime) -> None:
    expected = "2026-01-02T03:04:05.000006" + ("+00:00" if moment.tzinfo else "")
    assert to_attribute(moment, "E.v") == {"S": expected}


_MOMENTS = [
    datetime(2026, 1, 2, 3, 4, 5, 6, tzinfo=UTC),
    datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC),
    datetime(2026, 1, 2, 5, 4, 5, 6, tzinfo=timezone(timedelta(hours=2))),
    datetime(2026, 1, 2, 3, 4, 5, 6, tzinfo=timezone(timedelta(0), "GMT")),
    datetime(2026, 1, 2, 3, 4, 5, 6, tzinfo=ZoneInfo("Europe/London")),  # winter: +00:00
    datetime(2026, 7, 2, 4, 4, 5, 6, tzinfo=ZoneInfo("Europe/London")),  # summer: +01:00
    datetime(2026, 1, 2, 3, 4, 5, 6),
    TypeAdapter(datetime).validate_python("2026-01-02T03:04:05.000006+00:00"),  # Pydantic's tz
]


@settings(max_examples=300, deadline=None)
@given(
    st.datetimes(
        timezones=st.one_of(
            st.none(),
            st.just(UTC),
            st.integers(-23 * 60, 23 * 60).map(lambda m: timezone(timedelta(minutes=m))),
        ),
        min_value=datetime(2, 1, 1),
        max_value=datetime(9998, 12, 31),
    )
)
def test_datetime_key_slots_are_the_utc_moment_with_microseconds(moment: datetime) -> None:
    # render_datetime formats with isoformat() (the fraction added when it is zero),
    # not isoformat(timespec="microseconds"): the same text for every moment
    utc = (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).astimezone(UTC)
    assert render_datetime(moment) == utc.isoformat(timespec="microseconds")[:-6] + "Z"


@pytest.mark.parametrize("moment", _MOMENTS)
def test_datetimes_render_as_their_utc_moment(moment: datetime) -> None:
    utc = (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).astimezone(UTC)
    assert render_datetime(moment) == utc.isoformat(timespec="microseconds")[:-6] + "Z"
    if moment.tzinfo is not None:
        assert to_attribute(moment, "E.v") == {"S": utc.isoformat()}
    else:
        assert to_attribute(moment, "E.v") == {"S": moment.isoformat()}


def test_the_compiled_key_plan_renders_what_the_general_path_renders() -> None:
    app = Table(
        "plan",
        indexes=[
            GlobalIndex("GSI1", pk="GSI1PK", sk="GSI1SK"),
            LocalIndex("LSI1", sk="LSI1SK"),
        ],
    )

    class Order(Entity, table=app):
        customer_id: str
        order_id: str
        status: str | None = None
        placed: str

        keys = Keys(
            pk="C#{customer_id}",
            sk="O#{order_id}",
            GSI1=("S#{status}", "{placed}#{order_id}"),
            LSI1="P#{placed}",
        )

    model = Order.__singletable__
    every = (None, "GSI1", "LSI1")
    for values in (
        {"customer_id": "c", "order_id": "1", "status": "new", "placed": "2026"},
        {"customer_id": "c", "order_id": "1", "status": None, "placed": "2026"},  # sparse
    ):
        planned = key_item(model, values, "Order")
        assert planned == key_item(model, values, "Order", indexes=every)
        assert ("GSI1PK" in planned) is (values["status"] is not None)
        assert planned["LSI1SK"] == {"S": "P#2026"} and "PK" in planned
    with pytest.raises(InvalidValueError, match="needs field 'order_id', which has no value"):
        key_item(model, {"customer_id": "c", "placed": "x"}, "Order")


def test_transaction_actions_are_described_and_keyed_as_before() -> None:
    app = Table("txs")

    class Event(Entity, table=app):
        stream: str
        at: Annotated[datetime | None, CreatedAt] = None
        n: int = 0

        keys = Keys(pk="S#{stream}", sk="{at}")

    class Note(Entity, table=app):
        owner: str
        n: int

        keys = Keys(pk="O#{owner}", sk="NOTE")

    db = DB()
    db.create_table(app)
    db.put(Note(owner="a", n=1))
    # the key is the rendered item's: a second action on the same item is refused,
    # naming both actions
    with pytest.raises(InvalidValueError) as caught, db.transaction() as tx:
        tx.put(Note(owner="a", n=2))
        tx.check(Note, Note.n == 1, owner="a")
    assert str(caught.value) == (
        "transaction: put Note (owner='a') and check Note (owner='a') are on the same item "
        "(DynamoDB allows one action per item)"
    )
    with pytest.raises(TransactionCanceledError) as failed, db.transaction() as tx:
        tx.put(Note(owner="b", n=2))
        tx.check(Note, Note.n == 5, owner="a")
    assert str(failed.value) == (
        "TransactionCanceledException (TransactWriteItems): transaction canceled: check Note (owner='a'): ConditionalCheckFailed "
        "(The conditional request failed)"
    )
    # a key field the write stamps (CreatedAt) is not set on the entity as given: the
    # key is the entity's, as ever (a put outside a transaction stamps it first)
    assert Event.__singletable__.stamped_key and not Note.__singletable__.stamped_key
    with pytest.raises(InvalidValueError, match="has no value"), db.transaction() as tx:
        tx.put(Event(stream="s"))
    moment = datetime(2026, 1, 2, tzinfo=UTC)
    with db.transaction() as tx:
        tx.put(Event(stream="s", at=moment))
    assert db.get(Event, stream="s", at=moment) == Event(stream="s", at=moment)
