"""Query: key order, key conditions, pagination, the 1 MB page, filters, Select, projections.

API Reference: https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/API_Query.html
and the Developer Guide, "Query operations" (Key condition expressions, Paginating table
query results, Filter expressions for Query). Key order: S by UTF-8 bytes, N numerically,
B as unsigned bytes ("Supported data types and naming rules").
"""

from __future__ import annotations

from typing import Any

import pytest
from ddbtest import Backend, raises

MOTO_DIFFERENCES = {
    "exact-limit-page": "When a page ends exactly at Limit on the last item, moto omits "
    "LastEvaluatedKey; DynamoDB returns it (and the next page is empty).",
    "key-condition-messages": "moto accepts 'PK = :p OR SK = :n' and begins_with on a number "
    "sort key (raising AttributeError inside moto); DynamoDB rejects both with the messages "
    "asserted here.",
    "one-mb-page": "moto ends the first page of 100 KB items after 9 items; DynamoDB reads "
    "until the data read reaches 1 MB (10-11 such items; API_Query: 'a maximum of 1 MB of "
    "data').",
    "between-first": "moto's key-condition tokenizer crashes (AssertionError -> 500) on "
    "'SK BETWEEN :a AND :b AND PK = :p'; DynamoDB accepts the conditions in either order.",
    "type-mismatch": "moto accepts a key condition value whose type differs from the key's "
    "AttributeDefinitions type; DynamoDB rejects it.",
}


def _q(ddb: Any, expr: str, values: dict[str, Any], **extra: Any) -> Any:
    return ddb.query(
        TableName=extra.pop("TableName", "tbl"),
        KeyConditionExpression=expr,
        ExpressionAttributeValues=values,
        **extra,
    )


def test_string_sort_keys_order_by_utf8_bytes(db: Backend, ddb: Any, table: str) -> None:
    # U+FFFF sorts before U+1F600 in UTF-8 (EF BF BF < F0 9F 98 80) but not in UTF-16.
    keys = ["Z", "a", "é", "😀", "\uffff", "AB", "A", "a ", "0"]
    for sk in keys:
        db.put({"PK": {"S": "p"}, "SK": {"S": sk}})
    expected = sorted(keys, key=lambda k: k.encode())
    forward = _q(ddb, "PK = :p", {":p": {"S": "p"}})
    assert [i["SK"]["S"] for i in forward["Items"]] == expected
    backward = _q(ddb, "PK = :p", {":p": {"S": "p"}}, ScanIndexForward=False)
    assert [i["SK"]["S"] for i in backward["Items"]] == expected[::-1]


def test_number_sort_keys_order_numerically(db: Backend, ddb: Any) -> None:
    db.create_table(sk=("SK", "N"))
    numbers = ["10", "-2.5", "0.001", "2", "-10", "1E+2", "0", "-1", "1", "-0.5", "9.99"]
    for n in numbers:
        db.put({"PK": {"S": "p"}, "SK": {"N": n}})
    from decimal import Decimal

    expected = sorted(Decimal(n) for n in numbers)
    forward = _q(ddb, "PK = :p", {":p": {"S": "p"}})
    assert [Decimal(i["SK"]["N"]) for i in forward["Items"]] == expected
    backward = _q(ddb, "PK = :p", {":p": {"S": "p"}}, ScanIndexForward=False)
    assert [Decimal(i["SK"]["N"]) for i in backward["Items"]] == expected[::-1]


def test_binary_sort_keys_order_as_unsigned_bytes(db: Backend, ddb: Any) -> None:
    db.create_table(sk=("SK", "B"))
    values = [b"\xff", b"\x00", b"\x7f", b"\x80", b"\x01", b"\xff\x00", b"\x00\x00"]
    for v in values:
        db.put({"PK": {"S": "p"}, "SK": {"B": v}})
    forward = _q(ddb, "PK = :p", {":p": {"S": "p"}})
    assert [i["SK"]["B"] for i in forward["Items"]] == sorted(values)
    backward = _q(ddb, "PK = :p", {":p": {"S": "p"}}, ScanIndexForward=False)
    assert [i["SK"]["B"] for i in backward["Items"]] == sorted(values)[::-1]


@pytest.fixture
def numbered(db: Backend) -> None:
    """Table tbl with PK S / SK N: partition p holds SK 1..10, partition q holds SK 1."""
    db.create_table(sk=("SK", "N"))
    for n in range(1, 11):
        db.put({"PK": {"S": "p"}, "SK": {"N": str(n)}, "even": {"BOOL": n % 2 == 0}})
    db.put({"PK": {"S": "q"}, "SK": {"N": "1"}})


def _sks(response: Any) -> list[int]:
    return [int(i["SK"]["N"]) for i in response["Items"]]


@pytest.mark.parametrize(
    ("condition", "values", "expected"),
    [
        ("SK = :a", {":a": "4"}, [4]),
        ("SK < :a", {":a": "4"}, [1, 2, 3]),
        ("SK <= :a", {":a": "4"}, [1, 2, 3, 4]),
        ("SK > :a", {":a": "8"}, [9, 10]),
        ("SK >= :a", {":a": "8"}, [8, 9, 10]),
        ("SK BETWEEN :a AND :b", {":a": "3", ":b": "5"}, [3, 4, 5]),
        ("SK BETWEEN :a AND :b", {":a": "2.5", ":b": "3.5"}, [3]),
        ("SK > :a", {":a": "10"}, []),
    ],
)
def test_sort_key_operators(
    ddb: Any, numbered: None, condition: str, values: dict[str, str], expected: list[int]
) -> None:
    avs = {k: {"N": v} for k, v in values.items()}
    avs[":p"] = {"S": "p"}
    response = _q(ddb, f"PK = :p AND {condition}", avs)
    assert _sks(response) == expected
    assert response["Count"] == response["ScannedCount"] == len(expected)
    backward = _q(ddb, f"PK = :p AND {condition}", avs, ScanIndexForward=False)
    assert _sks(backward) == expected[::-1]


@pytest.mark.parametrize(
    "condition",
    [
        "SK >= :a",
        pytest.param("SK BETWEEN :a AND :b", marks=pytest.mark.moto_differs("between-first")),
    ],
)
def test_sort_key_condition_may_come_first(ddb: Any, numbered: None, condition: str) -> None:
    values = {":p": {"S": "p"}, ":a": {"N": "9"}}
    if ":b" in condition:
        values[":b"] = {"N": "12"}
    assert _sks(_q(ddb, f"{condition} AND PK = :p", values)) == [9, 10]


def test_begins_with_on_sort_key(db: Backend, ddb: Any, table: str) -> None:
    for sk in ["ORDER#1", "ORDER#2", "ORDER", "ORDEQ", "ORDER#10", "PROFILE", "order#3"]:
        db.put({"PK": {"S": "p"}, "SK": {"S": sk}})
    response = _q(
        ddb, "PK = :p AND begins_with(SK, :pre)", {":p": {"S": "p"}, ":pre": {"S": "ORDER#"}}
    )
    assert [i["SK"]["S"] for i in response["Items"]] == ["ORDER#1", "ORDER#10", "ORDER#2"]


def test_names_placeholders_and_parentheses_in_key_condition(ddb: Any, numbered: None) -> None:
    response = ddb.query(
        TableName="tbl",
        KeyConditionExpression="(#pk = :p) AND (#sk BETWEEN :a AND :b)",
        ExpressionAttributeNames={"#pk": "PK", "#sk": "SK"},
        ExpressionAttributeValues={":p": {"S": "p"}, ":a": {"N": "9"}, ":b": {"N": "20"}},
    )
    assert _sks(response) == [9, 10]


def test_limit_and_exclusive_start_key_round_trip(ddb: Any, numbered: None) -> None:
    seen: list[int] = []
    request: dict[str, Any] = {"Limit": 3}
    pages = 0
    for _ in range(1000):  # a pagination bug fails the test, not hangs it
        page = _q(ddb, "PK = :p", {":p": {"S": "p"}}, **request)
        pages += 1
        seen.extend(_sks(page))
        assert page["Count"] == len(page["Items"]) <= 3
        if "LastEvaluatedKey" not in page:
            break
        assert page["LastEvaluatedKey"] == {"PK": {"S": "p"}, "SK": page["Items"][-1]["SK"]}
        request["ExclusiveStartKey"] = page["LastEvaluatedKey"]
    assert seen == list(range(1, 11))
    assert pages == 4


def test_backward_pagination(ddb: Any, numbered: None) -> None:
    first = _q(ddb, "PK = :p", {":p": {"S": "p"}}, Limit=4, ScanIndexForward=False)
    assert _sks(first) == [10, 9, 8, 7]
    second = _q(
        ddb,
        "PK = :p",
        {":p": {"S": "p"}},
        Limit=4,
        ScanIndexForward=False,
        ExclusiveStartKey=first["LastEvaluatedKey"],
    )
    assert _sks(second) == [6, 5, 4, 3]


@pytest.mark.moto_differs("exact-limit-page")
def test_page_ending_exactly_at_limit_still_has_last_evaluated_key(
    ddb: Any, numbered: None
) -> None:
    first = _q(ddb, "PK = :p", {":p": {"S": "p"}}, Limit=5)
    second = _q(
        ddb, "PK = :p", {":p": {"S": "p"}}, Limit=5, ExclusiveStartKey=first["LastEvaluatedKey"]
    )
    assert _sks(second) == [6, 7, 8, 9, 10]
    assert second["LastEvaluatedKey"] == {"PK": {"S": "p"}, "SK": {"N": "10"}}
    third = _q(
        ddb, "PK = :p", {":p": {"S": "p"}}, Limit=5, ExclusiveStartKey=second["LastEvaluatedKey"]
    )
    assert third["Items"] == []
    assert "LastEvaluatedKey" not in third


def test_filter_applies_after_the_read(ddb: Any, numbered: None) -> None:
    response = _q(
        ddb,
        "PK = :p",
        {":p": {"S": "p"}, ":t": {"BOOL": True}},
        FilterExpression="even = :t",
    )
    assert _sks(response) == [2, 4, 6, 8, 10]
    assert (response["Count"], response["ScannedCount"]) == (5, 10)


def test_limit_counts_items_before_the_filter(ddb: Any, numbered: None) -> None:
    response = _q(
        ddb,
        "PK = :p",
        {":p": {"S": "p"}, ":t": {"BOOL": True}},
        FilterExpression="even = :t",
        Limit=5,
    )
    assert _sks(response) == [2, 4]
    assert (response["Count"], response["ScannedCount"]) == (2, 5)
    assert response["LastEvaluatedKey"] == {"PK": {"S": "p"}, "SK": {"N": "5"}}


def test_filter_that_matches_nothing_still_pages(ddb: Any, numbered: None) -> None:
    response = _q(
        ddb,
        "PK = :p",
        {":p": {"S": "p"}, ":x": {"S": "nope"}},
        FilterExpression="even = :x",
        Limit=3,
    )
    assert response["Items"] == []
    assert (response["Count"], response["ScannedCount"]) == (0, 3)
    assert "LastEvaluatedKey" in response


def test_select_count(ddb: Any, numbered: None) -> None:
    response = _q(ddb, "PK = :p AND SK > :n", {":p": {"S": "p"}, ":n": {"N": "3"}}, Select="COUNT")
    assert "Items" not in response
    assert (response["Count"], response["ScannedCount"]) == (7, 7)


def test_select_specific_attributes_and_projection(db: Backend, ddb: Any, table: str) -> None:
    db.put(
        {
            "PK": {"S": "p"},
            "SK": {"S": "s"},
            "m": {"M": {"a": {"M": {"b": {"N": "1"}, "c": {"N": "2"}}}, "z": {"S": "z"}}},
            "l": {"L": [{"S": "x"}, {"S": "y"}, {"S": "z"}]},
            "other": {"S": "o"},
        }
    )
    response = _q(
        ddb,
        "PK = :p",
        {":p": {"S": "p"}},
        Select="SPECIFIC_ATTRIBUTES",
        ProjectionExpression="m.a.b, l[1], #o, not_there",
        ExpressionAttributeNames={"#o": "other"},
    )
    assert response["Items"] == [
        {
            "m": {"M": {"a": {"M": {"b": {"N": "1"}}}}},
            "l": {"L": [{"S": "y"}]},
            "other": {"S": "o"},
        }
    ]
    everything = _q(ddb, "PK = :p", {":p": {"S": "p"}}, Select="ALL_ATTRIBUTES")
    assert set(everything["Items"][0]) == {"PK", "SK", "m", "l", "other"}


def test_projection_of_keys_only(db: Backend, ddb: Any, table: str) -> None:
    db.put({"PK": {"S": "p"}, "SK": {"S": "s"}, "x": {"S": "1"}})
    response = _q(ddb, "PK = :p", {":p": {"S": "p"}}, ProjectionExpression="PK, SK")
    assert response["Items"] == [{"PK": {"S": "p"}, "SK": {"S": "s"}}]


def test_paginator_collects_every_item_once(db: Backend, ddb: Any, table: str) -> None:
    for i in range(23):
        db.put({"PK": {"S": "p"}, "SK": {"S": f"{i:03d}"}})
    db.put({"PK": {"S": "other"}, "SK": {"S": "x"}})
    pages = ddb.get_paginator("query").paginate(
        TableName="tbl",
        KeyConditionExpression="PK = :p",
        ExpressionAttributeValues={":p": {"S": "p"}},
        PaginationConfig={"PageSize": 4},
    )
    seen = [item["SK"]["S"] for page in pages for item in page["Items"]]
    assert seen == [f"{i:03d}" for i in range(23)]


@pytest.mark.moto_differs("one-mb-page")
def test_page_stops_at_one_megabyte(db: Backend, ddb: Any, table: str) -> None:
    blob = "x" * (100 * 1024)
    for i in range(30):
        db.put({"PK": {"S": "p"}, "SK": {"S": f"{i:02d}"}, "d": {"S": blob}})
    first = _q(ddb, "PK = :p", {":p": {"S": "p"}})
    # 1 MB holds ten 100 KB items; DynamoDB stops once the data read reaches 1 MB,
    # so the first page has 10 (or, counting the item that crosses, 11) items.
    assert 10 <= first["Count"] <= 11
    assert first["ScannedCount"] == first["Count"]
    assert first["LastEvaluatedKey"] == {"PK": {"S": "p"}, "SK": first["Items"][-1]["SK"]}
    seen = [i["SK"]["S"] for i in first["Items"]]
    start = first["LastEvaluatedKey"]
    for _ in range(100):
        if not start:
            break
        page = _q(ddb, "PK = :p", {":p": {"S": "p"}}, ExclusiveStartKey=start)
        seen.extend(i["SK"]["S"] for i in page["Items"])
        start = page.get("LastEvaluatedKey")
    assert seen == [f"{i:02d}" for i in range(30)]


@pytest.mark.moto_differs("one-mb-page")
def test_one_megabyte_page_counts_items_read_not_returned(
    db: Backend, ddb: Any, table: str
) -> None:
    blob = "x" * (100 * 1024)
    for i in range(15):
        db.put({"PK": {"S": "p"}, "SK": {"S": f"{i:02d}"}, "d": {"S": blob}})
    response = _q(
        ddb,
        "PK = :p",
        {":p": {"S": "p"}, ":n": {"S": "none"}},
        FilterExpression="d = :n",
        ProjectionExpression="SK",
    )
    assert response["Count"] == 0
    assert 10 <= response["ScannedCount"] <= 11
    assert "LastEvaluatedKey" in response


def test_other_partition_not_returned(ddb: Any, numbered: None) -> None:
    assert _sks(_q(ddb, "PK = :p", {":p": {"S": "q"}})) == [1]
    assert _q(ddb, "PK = :p", {":p": {"S": "zzz"}})["Items"] == []


def _key_error(ddb: Any, expr: str, values: dict[str, Any], message: str) -> None:
    with raises("ValidationException", message):
        _q(ddb, expr, values)


def test_missing_partition_key_condition(ddb: Any, numbered: None) -> None:
    _key_error(ddb, "SK = :n", {":n": {"N": "1"}}, "Query condition missed key schema element: PK")


@pytest.mark.parametrize(
    "expr",
    ["PK < :p", "begins_with(PK, :p)", "PK BETWEEN :p AND :p"],
)
def test_partition_key_needs_equality(ddb: Any, numbered: None, expr: str) -> None:
    _key_error(ddb, expr, {":p": {"S": "p"}}, "Query key condition not supported")


@pytest.mark.moto_differs("key-condition-messages")
def test_or_in_key_condition_is_rejected(ddb: Any, numbered: None) -> None:
    _key_error(
        ddb,
        "PK = :p OR SK = :n",
        {":p": {"S": "p"}, ":n": {"N": "1"}},
        "Invalid operator used in KeyConditionExpression: OR",
    )


@pytest.mark.moto_differs("key-condition-messages")
def test_begins_with_on_number_sort_key_is_rejected(ddb: Any, numbered: None) -> None:
    _key_error(
        ddb,
        "PK = :p AND begins_with(SK, :n)",
        {":p": {"S": "p"}, ":n": {"N": "1"}},
        "Invalid KeyConditionExpression: Incorrect operand type for operator or function; "
        "operator or function: begins_with, operand type: N",
    )


@pytest.mark.moto_differs("type-mismatch")
def test_key_condition_value_type_mismatch(ddb: Any, numbered: None) -> None:
    # "One or more parameter values were invalid: Condition parameter type does not match
    # schema type" is DynamoDB's answer for a key value of the wrong type.
    _key_error(
        ddb,
        "PK = :p AND SK = :s",
        {":p": {"S": "p"}, ":s": {"S": "1"}},
        "One or more parameter values were invalid: Condition parameter type does not match "
        "schema type",
    )


def test_query_missing_table(ddb: Any, db: Backend) -> None:
    with raises("ResourceNotFoundException", "Requested resource not found"):
        _q(ddb, "PK = :p", {":p": {"S": "p"}}, TableName="nope")


def test_consistent_read_accepted(ddb: Any, numbered: None) -> None:
    response = _q(ddb, "PK = :p", {":p": {"S": "p"}}, ConsistentRead=True)
    assert response["Count"] == 10
