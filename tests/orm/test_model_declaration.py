"""Declaring tables and entities: key templates, field rules, collisions, items."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal
from enum import Enum
from typing import Annotated, Literal

import pytest
from pydantic import BaseModel, Field

from singletable.codec import from_attribute, to_attribute
from singletable.entity import TTL, Entity, Keys, Version
from singletable.errors import InvalidValueError, ModelError
from singletable.keys import compile_template
from singletable.table import GlobalIndex, LocalIndex, Table


def _table(**extra: object) -> Table:
    return Table(
        "app",
        indexes=[
            GlobalIndex("GSI1", pk="GSI1PK", sk="GSI1SK"),
            GlobalIndex("ByEmail", pk="email"),
            LocalIndex("LSI1", sk="LSI1SK"),
        ],
        ttl_attribute="expires",
        **extra,  # type: ignore[arg-type]
    )


class Status(Enum):
    PENDING = "pending"
    SHIPPED = "shipped"


# ------------------------------------------------------------------- key templates


def test_a_template_renders_parses_and_prefixes() -> None:
    types = {"created_at": datetime, "order_id": str}
    template = compile_template("ORDER#{created_at}#{order_id}", types, "Order")
    when = datetime(2026, 1, 2, 3, 4, 5, tzinfo=timezone(timedelta(hours=2)))
    key = template.render({"created_at": when, "order_id": "o1"}, "Order")
    assert key == "ORDER#2026-01-02T01:04:05.000000Z#o1"  # in UTC, fixed width
    assert template.parse(key) == {"created_at": "2026-01-02T01:04:05.000000Z", "order_id": "o1"}
    assert template.parse("USER#1") is None
    assert template.prefix({}, "Order") == "ORDER#"
    assert template.prefix({"created_at": when}, "Order") == "ORDER#2026-01-02T01:04:05.000000Z#"


def test_rendered_keys_sort_like_their_values() -> None:
    template = compile_template(
        "{n:06}#{at}#{day}#{s:upper}", {"n": int, "at": datetime, "day": date, "s": str}, "E"
    )
    rows = [
        {
            "n": n,
            "at": datetime(2026, 1, 1, tzinfo=UTC) + timedelta(seconds=sec),
            "day": d,
            "s": "x",
        }
        for n in (2, 10, 300)
        for sec in (0.5, 9, 100)
        for d in (date(2025, 12, 31), date(2026, 2, 1))
    ]
    keys = [template.render(row, "E") for row in rows]
    assert sorted(keys) == keys
    assert keys[0].startswith("000002#2026-01-01T00:00:00.500000Z#2025-12-31#X")


@pytest.mark.parametrize(
    ("source", "types", "message"),
    [
        (
            "X#{nope}",
            {"a": str},
            "E: key template 'X#{nope}' names unknown field 'nope' (fields: a)",
        ),
        (
            "X#{a}{b}",
            {"a": str, "b": str},
            "E: key template 'X#{a}{b}' is ambiguous: nothing separates {a} from {b} (put a literal such as '#' between them)",
        ),
        (
            "X#{a:upper}",
            {"a": int},
            "E: key template 'X#{a:upper}': format 'upper' does not apply to field 'a' (int)",
        ),
        ("X#{a", {"a": str}, "E: unbalanced brace in key template 'X#{a'"),
        ("X#{a}#{a}", {"a": str}, "E: key template 'X#{a}#{a}' uses field 'a' twice"),
        (
            "X#{a}",
            {"a": list[str]},
            "E: key template 'X#{a}': field 'a' has type 'list', which cannot be part of a key (use str, int, datetime, date, bool, an Enum, a Literal, UUID or Decimal)",
        ),
    ],
)
def test_bad_templates_fail_with_the_entity_named(
    source: str, types: dict[str, object], message: str
) -> None:
    with pytest.raises(ModelError) as caught:
        compile_template(source, types, "E")
    assert str(caught.value) == message


def test_a_fixed_width_slot_needs_no_separator() -> None:
    template = compile_template("{n:04}{s}", {"n": int, "s": str}, "E")
    assert template.parse(template.render({"n": 7, "s": "abc"}, "E")) == {"n": "0007", "s": "abc"}


def test_values_that_would_break_the_key_are_refused() -> None:
    template = compile_template("A#{a}#{n:03}", {"a": str, "n": int}, "E")
    with pytest.raises(InvalidValueError, match=r"E\.a: 'x#y' contains '#'"):
        template.render({"a": "x#y", "n": 1}, "E")
    with pytest.raises(
        InvalidValueError, match=r"E\.n: 1000 cannot be rendered .* more than 3 digits"
    ):
        template.render({"a": "x", "n": 1000}, "E")
    with pytest.raises(
        InvalidValueError, match=r"E\.n: -1 cannot be rendered .* must not be negative"
    ):
        template.render({"a": "x", "n": -1}, "E")


def test_enums_literals_uuids_and_bools_render() -> None:
    types = {"s": Status, "l": Literal["a", "b"], "u": uuid.UUID, "b": bool}
    template = compile_template("{s}#{l}#{u}#{b}", types, "E")
    u = uuid.UUID(int=5)
    assert template.render({"s": Status.SHIPPED, "l": "a", "u": u, "b": False}, "E") == (
        f"shipped#a#{u}#false"
    )


# ------------------------------------------------------------------- codec


def test_values_round_trip_through_attribute_values() -> None:
    value = {
        "s": "x",
        "n": 3,
        "d": Decimal("1.50"),
        "f": 0.1,
        "b": b"\x00\xff",
        "t": True,
        "none": None,
        "l": [1, "a"],
        "ss": {"b", "a"},
        "ns": {3, 1},
        "bs": {b"z"},
    }
    encoded = to_attribute(value, "E.v")
    assert encoded["M"]["d"] == {"N": "1.5"}
    assert encoded["M"]["f"] == {"N": "0.1"}
    assert encoded["M"]["ss"] == {"SS": ["a", "b"]}
    assert encoded["M"]["ns"] == {"NS": ["1", "3"]}
    assert encoded["M"]["b"] == {"B": "AP8="}
    back = from_attribute(encoded)
    assert back["b"] == b"\x00\xff" and back["bs"] == {b"z"} and back["ns"] == {1, 3}
    assert back["d"] == Decimal("1.5") and back["none"] is None and back["l"] == [1, "a"]


@pytest.mark.parametrize(
    ("value", "message"),
    [
        (float("nan"), "E.v: nan cannot be stored (DynamoDB numbers are finite)"),
        (
            set(),
            "E.v: an empty set cannot be stored (DynamoDB sets need at least one element; leave the field out or use None)",
        ),
        ({1, "a"}, "E.v: a set must hold only strings, only numbers or only bytes (got int, str)"),
        ([object()], None),
        (Decimal("1E+126"), None),
    ],
)
def test_values_dynamodb_cannot_store_are_refused(value: object, message: str | None) -> None:
    with pytest.raises(InvalidValueError) as caught:
        to_attribute(value, "E.v")
    assert str(caught.value).startswith("E.v")
    if message is not None:
        assert str(caught.value) == message


# ------------------------------------------------------------------- entities


class Address(BaseModel):
    street: str
    city: str


def test_an_entity_renders_every_key_and_reads_back() -> None:
    app = _table()

    class Order(Entity, table=app):
        customer_id: str
        order_id: str
        created_at: datetime
        status: Status | None = None
        total: Decimal
        address: Address | None = None
        tags: set[str] = Field(default_factory=lambda: {"new"})
        note: str | None = Field(default=None, alias="n")
        version: Annotated[int, Version] = 0
        expires: Annotated[datetime | None, TTL] = None

        keys = Keys(
            pk="CUSTOMER#{customer_id}",
            sk="ORDER#{created_at}#{order_id}",
            GSI1=("STATUS#{status}", "{created_at}"),
            LSI1="TOTAL#{order_id}",
        )

    when = datetime(2026, 3, 1, tzinfo=UTC)
    order = Order(
        customer_id="c1",
        order_id="o1",
        created_at=when,
        status=Status.PENDING,
        total=Decimal("12.50"),
        address=Address(street="1 Main", city="Oslo"),
        n="fragile",
        expires=when + timedelta(days=1),
    )
    item = order.to_item()
    assert item["PK"] == {"S": "CUSTOMER#c1"}
    assert item["SK"] == {"S": "ORDER#2026-03-01T00:00:00.000000Z#o1"}
    assert item["GSI1PK"] == {"S": "STATUS#pending"}
    assert item["LSI1SK"] == {"S": "TOTAL#o1"}
    assert item["_type"] == {"S": "Order"}
    assert item["n"] == {"S": "fragile"}  # stored under the alias
    assert item["address"] == {"M": {"street": {"S": "1 Main"}, "city": {"S": "Oslo"}}}
    assert item["expires"] == {"N": str(int((when + timedelta(days=1)).timestamp()))}
    assert "email" not in item
    assert Order.from_item(item) == order
    assert Order.key(customer_id="c1", order_id="o1", created_at=when) == {
        "PK": item["PK"],
        "SK": item["SK"],
    }
    # A GSI whose key fields are not all set is left out (sparse), never half-written.
    bare = Order(customer_id="c1", order_id="o2", created_at=when, total=1).to_item()
    assert "GSI1PK" not in bare and "GSI1SK" not in bare and "LSI1SK" in bare
    assert Order.__singletable__.version == "version"
    assert app.entities == {"Order": Order}


def test_declaration_mistakes_name_the_entity() -> None:
    app = _table()
    with pytest.raises(
        ModelError,
        match=r"Bad: the table's sort key is the attribute 'SK': give its key template in "
        r"keys = Keys\(\.\.\.\), or a field named 'SK'",
    ):

        class Bad(Entity, table=app):
            a: str
            keys = Keys(pk="A#{a}")

    with pytest.raises(
        ModelError,
        match=r"Bad2\.PK is the table's partition key \('PK'\) itself; the template 'A#\{PK\}' "
        r"would overwrite it",
    ):

        class Bad2(Entity, table=app):
            PK: str
            keys = Keys(pk="A#{PK}", sk="A")

    with pytest.raises(
        ModelError, match=r"table 'app' has no index 'GSI9' \(indexes: ByEmail, GSI1, LSI1\)"
    ):

        class Bad3(Entity, table=app):
            a: str
            keys = Keys(pk="A#{a}", sk="A", GSI9=("x", "y"))

    with pytest.raises(
        ModelError,
        match=r"Bad4\.gone is the TTL field, but table 'app' has ttl_attribute='expires'",
    ):

        class Bad4(Entity, table=app):
            a: str
            gone: Annotated[int, TTL] = 0
            keys = Keys(pk="A#{a}", sk="A")

    with pytest.raises(ModelError, match="Bad5: the table's partition key is the attribute 'PK'"):

        class Bad5(Entity, table=app):
            a: str

    assert app.entities == {}


def test_colliding_key_shapes_name_both_entities() -> None:
    app = _table()

    class Order(Entity, table=app):
        customer_id: str
        order_id: str
        keys = Keys(pk="CUSTOMER#{customer_id}", sk="ORDER#{order_id}")

    class Address(Entity, table=app):  # same partition, distinct sort literal: fine
        customer_id: str
        label: str
        keys = Keys(pk="CUSTOMER#{customer_id}", sk="ADDRESS#{label}")

    with pytest.raises(ModelError) as caught:

        class Invoice(Entity, table=app):
            customer_id: str
            invoice_id: str
            keys = Keys(pk="CUSTOMER#{customer_id}", sk="ORDER#{invoice_id}")

    assert str(caught.value) == (
        "Invoice and Order have colliding keys on the table: "
        "'CUSTOMER#{customer_id} / ORDER#{invoice_id}' and "
        "'CUSTOMER#{customer_id} / ORDER#{order_id}' can produce the same key "
        "(start one of them with a literal of its own, such as 'INVOICE#')"
    )
    with pytest.raises(ModelError, match="both use entity type 'Order'"):

        class Other(Entity, table=app, type_name="Order"):
            x: str
            keys = Keys(pk="X#{x}", sk="X")

    assert set(app.entities) == {"Order", "Address"}


def test_create_table_request_has_every_index() -> None:
    app = _table(stream="NEW_IMAGE")
    request = app.create_table_request()
    assert request["KeySchema"] == [
        {"AttributeName": "PK", "KeyType": "HASH"},
        {"AttributeName": "SK", "KeyType": "RANGE"},
    ]
    assert [d["AttributeName"] for d in request["AttributeDefinitions"]] == [
        "GSI1PK",
        "GSI1SK",
        "LSI1SK",
        "PK",
        "SK",
        "email",
    ]
    assert [i["IndexName"] for i in request["GlobalSecondaryIndexes"]] == ["GSI1", "ByEmail"]
    assert request["LocalSecondaryIndexes"][0]["KeySchema"][0] == {
        "AttributeName": "PK",
        "KeyType": "HASH",
    }
    assert request["StreamSpecification"] == {"StreamEnabled": True, "StreamViewType": "NEW_IMAGE"}
    from singletable.backends.local.engine import LocalEngine

    with LocalEngine(ttl_sweep_interval=None) as engine:
        engine.call("CreateTable", request)  # the engine accepts it as is
        assert (
            engine.call("DescribeTable", {"TableName": "app"})["Table"]["TableStatus"] == "ACTIVE"
        )


def test_a_numeric_key_is_stored_as_a_number() -> None:
    app = Table("nums", pk="PK", sk="V", sk_type="N")

    class Doc(Entity, table=app):
        doc_id: str
        version: int
        keys = Keys(pk="DOC#{doc_id}", sk="{version}")

    assert Doc(doc_id="d", version=3).to_item()["V"] == {"N": "3"}
    with pytest.raises(ModelError, match="must be a single slot"):

        class Bad(Entity, table=app):
            doc_id: str
            version: int
            keys = Keys(pk="DOC#{doc_id}", sk="V#{version}")


@pytest.mark.parametrize(
    "value", [float("inf"), float("nan"), Decimal("NaN"), Decimal("-Infinity")]
)
def test_a_ttl_that_is_not_a_finite_number_is_refused_by_name(value: float | Decimal) -> None:
    # int(inf) raised a bare OverflowError out of to_item (found in review).
    app = _table()

    class Lease(Entity, table=app):
        lease_id: str
        expires: Annotated[float | Decimal, TTL]

        keys = Keys(pk="LEASE#{lease_id}", sk="LEASE")

    with pytest.raises(InvalidValueError, match=r"expires.*cannot be a TTL"):
        Lease(lease_id="l1", expires=value).to_item()
