"""Requests that must be refused cleanly, never with a raw Python exception (issue 13).

Lone surrogates anywhere in a request, values and requests nested far too deep,
numbers written with digits DynamoDB does not read, and integers that do not fit
DynamoDB's 32-bit parameters: each is a :class:`DynamoDBError` with DynamoDB's
code, and the table is left exactly as it was.
"""

from __future__ import annotations

import sys
from typing import Any

import pytest
from gsi_table import gsi_table_request

from singletable.backends.local import DynamoDBError, LocalEngine

LONE = "\ud800"
KEY = {"PK": {"S": "p"}, "SK": {"S": "s"}}


def _table(engine: LocalEngine, name: str = "tbl") -> None:
    engine.call("CreateTable", gsi_table_request(name))


@pytest.fixture
def engine() -> LocalEngine:
    engine = LocalEngine(ttl_sweep_interval=None)
    _table(engine)
    engine.call("PutItem", {"TableName": "tbl", "Item": {**KEY, "n": {"N": "1"}, "G": {"S": "g"}}})
    return engine


def _contents(engine: LocalEngine) -> list[Any]:
    return sorted(engine.call("Scan", {"TableName": "tbl"})["Items"], key=repr)


def _refused(engine: LocalEngine, operation: str, request: dict[str, Any]) -> DynamoDBError:
    before = _contents(engine)
    with pytest.raises(DynamoDBError) as caught:
        engine.call(operation, request)
    assert _contents(engine) == before
    # The message is printable and encodable whatever the request held.
    caught.value.message.encode("utf-8")
    str(caught.value).encode("utf-8")
    # And it was not made from a RecursionError caught on the way (the stack was never
    # exhausted): an error raised ``from None`` still keeps its ``__context__``.
    context = caught.value.__context__
    while context is not None:
        assert not isinstance(context, RecursionError), "the engine recursed until the limit"
        context = context.__context__
    return caught.value


# --------------------------------------------------------------------------- lone surrogates

ITEM = {**KEY, "x": {"S": "v"}}

SURROGATE_REQUESTS: list[tuple[str, str, dict[str, Any]]] = [
    ("key value", "PutItem", {"TableName": "tbl", "Item": {**ITEM, "PK": {"S": LONE}}}),
    ("value", "PutItem", {"TableName": "tbl", "Item": {**ITEM, "x": {"S": "a" + LONE}}}),
    ("name", "PutItem", {"TableName": "tbl", "Item": {**ITEM, LONE: {"S": "v"}}}),
    ("set member", "PutItem", {"TableName": "tbl", "Item": {**ITEM, "x": {"SS": ["a", LONE]}}}),
    ("map key", "PutItem", {"TableName": "tbl", "Item": {**ITEM, "x": {"M": {LONE: {"N": "1"}}}}}),
    ("nested", "PutItem", {"TableName": "tbl", "Item": {**ITEM, "x": {"L": [{"S": LONE}]}}}),
    ("number", "PutItem", {"TableName": "tbl", "Item": {**ITEM, "x": {"N": LONE}}}),
    ("binary", "PutItem", {"TableName": "tbl", "Item": {**ITEM, "x": {"B": LONE}}}),
    ("unknown member", "PutItem",
     {"TableName": "tbl", "Item": {**ITEM, "x": {"S": "v", LONE: "w"}}}),
    ("table name", "PutItem", {"TableName": "tbl" + LONE, "Item": ITEM}),
    ("condition", "PutItem",
     {"TableName": "tbl", "Item": ITEM, "ConditionExpression": f"attribute_exists({LONE})"}),
    ("names value", "PutItem",
     {"TableName": "tbl", "Item": ITEM, "ConditionExpression": "attribute_not_exists(#a)",
      "ExpressionAttributeNames": {"#a": LONE}}),
    ("names key", "PutItem",
     {"TableName": "tbl", "Item": ITEM, "ConditionExpression": "attribute_not_exists(#a)",
      "ExpressionAttributeNames": {"#a": "a", "#" + LONE: "b"}}),
    ("values value", "PutItem",
     {"TableName": "tbl", "Item": ITEM, "ConditionExpression": "attribute_not_exists(x) OR x <> :v",
      "ExpressionAttributeValues": {":v": {"S": LONE}}}),
    ("values key", "PutItem",
     {"TableName": "tbl", "Item": ITEM, "ConditionExpression": "attribute_not_exists(x)",
      "ExpressionAttributeValues": {":" + LONE: {"S": "v"}}}),
    ("enum", "PutItem", {"TableName": "tbl", "Item": ITEM, "ReturnValues": LONE}),
    ("key", "GetItem", {"TableName": "tbl", "Key": {**KEY, "SK": {"S": LONE}}}),
    ("key name", "GetItem", {"TableName": "tbl", "Key": {"PK": KEY["PK"], LONE: {"S": "s"}}}),
    ("projection", "GetItem", {"TableName": "tbl", "Key": KEY, "ProjectionExpression": LONE}),
    ("projected name", "GetItem",
     {"TableName": "tbl", "Key": KEY, "ProjectionExpression": "#p",
      "ExpressionAttributeNames": {"#p": LONE}}),
    ("update", "UpdateItem",
     {"TableName": "tbl", "Key": KEY, "UpdateExpression": "SET #a = :v",
      "ExpressionAttributeNames": {"#a": LONE}, "ExpressionAttributeValues": {":v": {"S": "v"}}}),
    ("update value", "UpdateItem",
     {"TableName": "tbl", "Key": KEY, "UpdateExpression": "ADD s :v",
      "ExpressionAttributeValues": {":v": {"SS": [LONE]}}}),
    ("delete", "DeleteItem", {"TableName": "tbl", "Key": {**KEY, "PK": {"S": LONE}}}),
    ("key condition", "Query",
     {"TableName": "tbl", "KeyConditionExpression": "PK = :p",
      "ExpressionAttributeValues": {":p": {"S": LONE}}}),
    ("index name", "Query",
     {"TableName": "tbl", "IndexName": "gsi" + LONE, "KeyConditionExpression": "G = :p",
      "ExpressionAttributeValues": {":p": {"S": "g"}}}),
    ("start key", "Scan", {"TableName": "tbl", "ExclusiveStartKey": {**KEY, "SK": {"S": LONE}}}),
    ("filter", "Scan", {"TableName": "tbl", "FilterExpression": f"x = {LONE}"}),
    ("legacy", "Scan",
     {"TableName": "tbl",
      "ScanFilter": {"x": {"ComparisonOperator": "EQ", "AttributeValueList": [{"S": LONE}]}}}),
    ("batch put", "BatchWriteItem",
     {"RequestItems": {"tbl": [{"PutRequest": {"Item": {**ITEM, "x": {"S": LONE}}}}]}}),
    ("batch table", "BatchWriteItem",
     {"RequestItems": {"tbl" + LONE: [{"PutRequest": {"Item": ITEM}}]}}),
    ("batch get", "BatchGetItem", {"RequestItems": {"tbl": {"Keys": [{**KEY, "PK": {"S": LONE}}]}}}),
    ("transaction", "TransactWriteItems",
     {"TransactItems": [{"Put": {"TableName": "tbl", "Item": {**ITEM, "x": {"S": LONE}}}}]}),
    ("transaction key name", "TransactWriteItems",
     {"TransactItems": [{"Delete": {"TableName": "tbl", "Key": {"PK": KEY["PK"], LONE: {"S": "s"}}}}]}),
    ("token", "TransactWriteItems",
     {"TransactItems": [{"Put": {"TableName": "tbl", "Item": ITEM}}], "ClientRequestToken": LONE}),
    ("transact get", "TransactGetItems",
     {"TransactItems": [{"Get": {"TableName": "tbl", "Key": {**KEY, "PK": {"S": LONE}}}}]}),
    ("new table", "CreateTable",
     {"TableName": "other", "BillingMode": "PAY_PER_REQUEST",
      "KeySchema": [{"AttributeName": LONE, "KeyType": "HASH"}],
      "AttributeDefinitions": [{"AttributeName": LONE, "AttributeType": "S"}]}),
    ("ttl", "UpdateTimeToLive",
     {"TableName": "tbl", "TimeToLiveSpecification": {"AttributeName": LONE, "Enabled": True}}),
    ("backup", "CreateBackup", {"TableName": "tbl", "BackupName": "b" + LONE}),
    ("describe", "DescribeTable", {"TableName": LONE * 3}),
]


@pytest.mark.parametrize(
    ("operation", "request_"),
    [pytest.param(op, request, id=label) for label, op, request in SURROGATE_REQUESTS],
)
def test_a_lone_surrogate_anywhere_is_a_validation_error(
    engine: LocalEngine, operation: str, request_: dict[str, Any]
) -> None:
    error = _refused(engine, operation, request_)
    assert error.code == "ValidationException", error


def test_the_surrogate_message_says_what_and_where(engine: LocalEngine) -> None:
    error = _refused(engine, "PutItem", {"TableName": "tbl", "Item": {**ITEM, "x": {"S": LONE}}})
    assert error.message == (
        "One or more parameter values were invalid: the value of x contains the unpaired "
        "surrogate U+D800, which is not valid Unicode and has no UTF-8 form"
    )
    error = _refused(
        engine, "UpdateItem",
        {"TableName": "tbl", "Key": KEY, "UpdateExpression": "SET #a = :v",
         "ExpressionAttributeNames": {"#a": "a\udc00"}, "ExpressionAttributeValues": {":v": {"N": "1"}}},
    )
    assert "ExpressionAttributeNames" in error.message and "U+DC00" in error.message


def test_surrogates_over_the_json_path(engine: LocalEngine) -> None:
    """call_json: the JSON escape decodes to a lone surrogate; a 400, never an exception."""
    body = '{"TableName": "tbl", "Item": {"PK": {"S": "\\ud800"}, "SK": {"S": "s"}}}'
    status, answer = engine.call_json("PutItem", body)
    assert status == 400 and b"ValidationException" in answer
    assert b"U+D800" in answer


def test_valid_non_ascii_text_and_pairs_still_work(engine: LocalEngine) -> None:
    """Only unpaired surrogates are refused: real non-ASCII text (emoji included) is stored."""
    item = {"PK": {"S": "p\u00e9"}, "SK": {"S": "\U0001f600"}, "\u00e9t\u00e9": {"SS": ["\u4e2d"]}}
    engine.call("PutItem", {"TableName": "tbl", "Item": item})
    got = engine.call("GetItem", {"TableName": "tbl", "Key": {"PK": item["PK"], "SK": item["SK"]}})
    assert got["Item"] == item
    status, _ = engine.call_json(
        "GetItem", '{"TableName": "tbl", "Key": {"PK": {"S": "p\\u00e9"}, "SK": {"S": "\\ud83d\\ude00"}}}'
    )
    assert status == 200


# --------------------------------------------------------------------------- nesting


def _nested_list(depth: int) -> dict[str, Any]:
    value: dict[str, Any] = {"S": "leaf"}
    for _ in range(depth):
        value = {"L": [value]}
    return value


def _junk(depth: int) -> list[Any]:
    value: list[Any] = []
    for _ in range(depth):
        value = [value]
    return value


NESTED_REQUESTS: list[tuple[str, str, Any]] = [
    ("item", "PutItem", lambda v: {"TableName": "tbl", "Item": {**KEY, "d": v}}),
    ("key", "GetItem", lambda v: {"TableName": "tbl", "Key": {**KEY, "SK": v}}),
    ("values", "UpdateItem",
     lambda v: {"TableName": "tbl", "Key": KEY, "UpdateExpression": "SET d = :v",
                "ExpressionAttributeValues": {":v": v}}),
    ("condition", "DeleteItem",
     lambda v: {"TableName": "tbl", "Key": KEY, "ConditionExpression": "d = :v",
                "ExpressionAttributeValues": {":v": v}}),
    ("start key", "Query",
     lambda v: {"TableName": "tbl", "KeyConditionExpression": "PK = :p",
                "ExpressionAttributeValues": {":p": {"S": "p"}},
                "ExclusiveStartKey": {**KEY, "SK": v}}),
    ("index start key", "Query",
     lambda v: {"TableName": "tbl", "IndexName": "gsi", "KeyConditionExpression": "G = :g",
                "ExpressionAttributeValues": {":g": {"S": "g"}},
                "ExclusiveStartKey": {**KEY, "G": v}}),
    ("legacy", "PutItem",
     lambda v: {"TableName": "tbl", "Item": KEY, "Expected": {"d": {"Value": v}}}),
    ("legacy update", "UpdateItem",
     lambda v: {"TableName": "tbl", "Key": KEY,
                "AttributeUpdates": {"d": {"Action": "PUT", "Value": v}}}),
    ("batch", "BatchWriteItem",
     lambda v: {"RequestItems": {"tbl": [{"PutRequest": {"Item": {**KEY, "d": v}}}]}}),
    ("batch get", "BatchGetItem", lambda v: {"RequestItems": {"tbl": {"Keys": [{**KEY, "SK": v}]}}}),
    ("transaction", "TransactWriteItems",
     lambda v: {"TransactItems": [{"Put": {"TableName": "tbl", "Item": {**KEY, "d": v}}}],
                "ClientRequestToken": "t"}),
    ("transaction check", "TransactWriteItems",
     lambda v: {"TransactItems": [{"ConditionCheck": {
         "TableName": "tbl", "Key": KEY, "ConditionExpression": "d = :v",
         "ExpressionAttributeValues": {":v": v}}}]}),
    ("transact get", "TransactGetItems",
     lambda v: {"TransactItems": [{"Get": {"TableName": "tbl", "Key": {**KEY, "SK": v}}}]}),
]


@pytest.mark.parametrize("depth", [500, 100_000])
@pytest.mark.parametrize(
    ("operation", "build"), [pytest.param(op, build, id=label) for label, op, build in NESTED_REQUESTS]
)
def test_values_nested_too_deep_get_the_nesting_error(
    engine: LocalEngine, operation: str, build: Any, depth: int
) -> None:
    error = _refused(engine, operation, build(_nested_list(depth)))
    assert error.code == "ValidationException"
    assert "Nesting Levels have exceeded supported limits" in error.message


def test_thirty_two_levels_are_fine_thirty_three_are_not(engine: LocalEngine) -> None:
    engine.call("PutItem", {"TableName": "tbl", "Item": {**KEY, "d": _nested_list(32)}})
    assert engine.call("GetItem", {"TableName": "tbl", "Key": KEY})["Item"]["d"] == _nested_list(32)
    request = {"TableName": "tbl", "Item": {**KEY, "d": _nested_list(33)}}
    assert "Nesting Levels" in _refused(engine, "PutItem", request).message


@pytest.mark.parametrize(
    "member", ["ReturnValues", "TableName", "ConditionExpression", "ExpressionAttributeNames"]
)
def test_deep_junk_in_any_member_is_refused_without_recursing(
    engine: LocalEngine, member: str
) -> None:
    """A 100,000-level list where a string belongs: refused, and no stack is used for it."""
    request = {"TableName": "tbl", "Item": KEY, member: _junk(100_000)}
    limit = sys.getrecursionlimit()
    sys.setrecursionlimit(250)  # well below the junk's depth: nothing may recurse into it
    try:
        error = _refused(engine, "PutItem", request)
    finally:
        sys.setrecursionlimit(limit)
    assert error.code in ("ValidationException", "SerializationException")


def test_nested_values_are_validated_without_deep_recursion(engine: LocalEngine) -> None:
    """The limit is checked before descending: 100,000 levels need no more stack than 33."""
    limit = sys.getrecursionlimit()
    sys.setrecursionlimit(250)
    try:
        for operation, request in [
            ("PutItem", {"TableName": "tbl", "Item": {**KEY, "d": _nested_list(100_000)}}),
            ("BatchGetItem", {"RequestItems": {"tbl": {"Keys": [{**KEY, "SK": _nested_list(100_000)}]}}}),
        ]:
            assert "Nesting Levels" in _refused(engine, operation, request).message
    finally:
        sys.setrecursionlimit(limit)


# --------------------------------------------------------------------------- numbers


@pytest.mark.parametrize(
    "text",
    [
        "\u0661\u0662",  # Arabic-Indic digits: Decimal and int read them as 12
        "1\u0662",
        "\uff11\uff12",  # fullwidth
        "\u0967",  # Devanagari one
        "1_000",
        "1\u00a0",  # no-break space
        "\u00b2",  # superscript two
        "1e\u0662",
    ],
)
def test_numbers_take_ascii_digits_only(engine: LocalEngine, text: str) -> None:
    for request in (
        {"TableName": "tbl", "Item": {**KEY, "n": {"N": text}}},
        {"TableName": "tbl", "Item": {**KEY, "n": {"NS": ["1", text]}}},
    ):
        error = _refused(engine, "PutItem", request)
        assert error.code == "ValidationException"
        assert error.message.startswith("The parameter cannot be converted to a numeric value")


@pytest.mark.parametrize("member", ["Limit", "Segment", "TotalSegments"])
@pytest.mark.parametrize("value", [2**31, 2**63, 2**64, -(2**31) - 1, 10**40])
def test_integer_parameters_beyond_a_java_int(engine: LocalEngine, member: str, value: int) -> None:
    """Limit, Segment and TotalSegments are 32-bit Integers in DynamoDB's model."""
    request: dict[str, Any] = {"TableName": "tbl", member: value}
    if member == "Segment":
        request["TotalSegments"] = 2
    if member == "TotalSegments":
        request["Segment"] = 0
    error = _refused(engine, "Scan", request)
    assert (error.code, error.message) == (
        "SerializationException",
        "NUMBER_VALUE cannot be converted to Integer",
    )


def test_the_largest_int_limit_is_accepted(engine: LocalEngine) -> None:
    page = engine.call("Scan", {"TableName": "tbl", "Limit": 2**31 - 1})
    assert page["Count"] == 1
    page = engine.call(
        "Query",
        {"TableName": "tbl", "KeyConditionExpression": "PK = :p",
         "ExpressionAttributeValues": {":p": {"S": "p"}}, "Limit": 2**31 - 1},
    )
    assert page["Count"] == 1


def test_capacity_units_beyond_a_long(engine: LocalEngine) -> None:
    error = _refused(
        engine, "UpdateTable",
        {"TableName": "tbl", "BillingMode": "PROVISIONED",
         "ProvisionedThroughput": {"ReadCapacityUnits": 2**64, "WriteCapacityUnits": 1}},
    )
    assert error.code == "SerializationException"


@pytest.mark.parametrize("operation", ["UpdateItem", "TransactWriteItems"])
def test_an_update_cannot_nest_a_value_past_thirty_two_levels(
    engine: LocalEngine, operation: str
) -> None:
    """A 31-level value is valid on its own, but SET under a two-level path makes 33."""
    engine.call("PutItem", {"TableName": "tbl", "Item": {**KEY, "m": {"M": {"k": {"M": {}}}}}})
    update = {
        "TableName": "tbl", "Key": KEY, "UpdateExpression": "SET m.k.deep = :v",
        "ExpressionAttributeValues": {":v": _nested_list(31)},
    }
    if operation == "UpdateItem":
        error = _refused(engine, "UpdateItem", update)
        assert error.code == "ValidationException" and "Nesting Levels" in error.message
    else:
        error = _refused(engine, operation, {"TransactItems": [{"Update": update}]})
        assert error.code == "TransactionCanceledException"
        assert "Nesting Levels" in error.extra["CancellationReasons"][0]["Message"]
    update["ExpressionAttributeValues"] = {":v": _nested_list(30)}  # 32 levels: fine
    engine.call("UpdateItem", update)
