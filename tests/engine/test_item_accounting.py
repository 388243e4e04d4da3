"""The engine's bookkeeping: stored sizes, table size, canonical keys of upserts."""

from __future__ import annotations

import json
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from singletable._values import item_size
from singletable.backends.local import LocalEngine

TABLE = "acct"


def _engine(range_type: str = "S") -> LocalEngine:
    engine = LocalEngine()
    engine.call(
        "CreateTable",
        {
            "TableName": TABLE,
            "KeySchema": [
                {"AttributeName": "PK", "KeyType": "HASH"},
                {"AttributeName": "SK", "KeyType": "RANGE"},
            ],
            "AttributeDefinitions": [
                {"AttributeName": "PK", "AttributeType": "S"},
                {"AttributeName": "SK", "AttributeType": range_type},
            ],
            "BillingMode": "PAY_PER_REQUEST",
        },
    )
    return engine


_UPDATES = st.sampled_from(
    [
        ("SET a = :s", {":s": {"S": "hello"}}),
        ("SET a = :n", {":n": {"N": "12345.678"}}),
        ("SET m = :m", {":m": {"M": {"x": {"L": [{"S": "é"}, {"N": "1"}]}}}}),
        ("SET m.x = :s", {":s": {"S": "nested"}}),
        ("REMOVE a", None),
        ("REMOVE m.x", None),
        ("ADD c :n", {":n": {"N": "7"}}),
        ("ADD tags :ss", {":ss": {"SS": ["a", "bb"]}}),
        ("DELETE tags :ss", {":ss": {"SS": ["a"]}}),
        (
            "SET l = list_append(if_not_exists(l, :e), :v)",
            {":e": {"L": []}, ":v": {"L": [{"S": "z"}]}},
        ),
    ]
)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(["x", "y"]), _UPDATES), min_size=1, max_size=12))
def test_stored_sizes_follow_every_update(steps: list[tuple[str, tuple[str, Any]]]) -> None:
    engine = _engine()
    for sk, (expression, values) in steps:
        request: dict[str, Any] = {
            "TableName": TABLE,
            "Key": {"PK": {"S": "p"}, "SK": {"S": sk}},
            "UpdateExpression": expression,
        }
        if values:
            request["ExpressionAttributeValues"] = values
        try:
            engine.call("UpdateItem", request)
        except Exception as error:  # a runtime type error leaves the item as it was
            assert getattr(error, "code", None) == "ValidationException"
    store = engine.tables[TABLE].store
    total = 0
    for pk, sk, item in store.scan():
        assert store.size_of(pk, sk) == item_size(item)
        total += item_size(item)
    assert store.size_bytes == total
    described = engine.call("DescribeTable", {"TableName": TABLE})["Table"]
    assert described["TableSizeBytes"] == total
    assert described["ItemCount"] == len(list(store.scan()))


def test_upsert_stores_the_canonical_key() -> None:
    engine = _engine(range_type="N")
    engine.call(
        "UpdateItem",
        {
            "TableName": TABLE,
            "Key": {"PK": {"S": "p"}, "SK": {"N": "1.50"}},
            "UpdateExpression": "SET a = :a",
            "ExpressionAttributeValues": {":a": {"S": "x"}},
        },
    )
    item = engine.call(
        "GetItem", {"TableName": TABLE, "Key": {"PK": {"S": "p"}, "SK": {"N": "1.5"}}}
    )["Item"]
    assert item == {"PK": {"S": "p"}, "SK": {"N": "1.5"}, "a": {"S": "x"}}


def test_responses_are_the_callers_own() -> None:
    engine = _engine()
    engine.call(
        "PutItem",
        {
            "TableName": TABLE,
            "Item": {"PK": {"S": "p"}, "SK": {"S": "s"}, "l": {"L": [{"S": "a"}]}},
        },
    )
    got = engine.call("GetItem", {"TableName": TABLE, "Key": {"PK": {"S": "p"}, "SK": {"S": "s"}}})
    got["Item"]["l"]["L"].append({"S": "mutated"})
    again = engine.call(
        "GetItem", {"TableName": TABLE, "Key": {"PK": {"S": "p"}, "SK": {"S": "s"}}}
    )
    assert again["Item"]["l"] == {"L": [{"S": "a"}]}


def test_call_json_matches_call() -> None:
    engine = _engine()
    engine.call("PutItem", {"TableName": TABLE, "Item": {"PK": {"S": "p"}, "SK": {"S": "s"}}})
    status, body = engine.call_json(
        "GetItem", b'{"TableName": "acct", "Key": {"PK": {"S": "p"}, "SK": {"S": "s"}}}'
    )
    assert status == 200
    assert body == b'{"Item":{"PK":{"S":"p"},"SK":{"S":"s"}}}'
    status, body = engine.call_json("GetItem", b'{"TableName": "nope"}')
    assert status == 400
    assert b"ValidationException" in body or b"ResourceNotFoundException" in body
    status, body = engine.call_json("GetItem", b"{not json")
    assert status == 400 and b"SerializationException" in body


def test_call_json_pages_match_call_and_follow_updates() -> None:
    engine = _engine()
    for i in range(5):
        engine.call(
            "PutItem",
            {
                "TableName": TABLE,
                "Item": {
                    "PK": {"S": "p"},
                    "SK": {"S": f"s{i}"},
                    "n": {"N": str(i)},
                    "t": {"S": 'é"\\'},
                },
            },
        )
    requests: list[tuple[str, dict[str, Any]]] = [
        (
            "Query",
            {
                "TableName": TABLE,
                "KeyConditionExpression": "PK = :p",
                "ExpressionAttributeValues": {":p": {"S": "p"}},
                "Limit": 3,
            },
        ),
        (
            "Query",
            {
                "TableName": TABLE,
                "KeyConditionExpression": "PK = :p",
                "ExpressionAttributeValues": {":p": {"S": "p"}},
                "ProjectionExpression": "n",
            },
        ),
        (
            "Scan",
            {
                "TableName": TABLE,
                "FilterExpression": "n > :z",
                "ExpressionAttributeValues": {":z": {"N": "1"}},
            },
        ),
        ("Scan", {"TableName": TABLE, "Select": "COUNT"}),
    ]
    for round_ in range(2):
        for operation, request in requests:
            status, body = engine.call_json(operation, json.dumps(request).encode())
            assert status == 200
            assert json.loads(body) == engine.call(operation, request)
        # A changed item must never be answered from the old item's cached text.
        engine.call(
            "UpdateItem",
            {
                "TableName": TABLE,
                "Key": {"PK": {"S": "p"}, "SK": {"S": "s0"}},
                "UpdateExpression": "SET n = :v",
                "ExpressionAttributeValues": {":v": {"N": str(100 + round_)}},
            },
        )
        status, body = engine.call_json("Query", json.dumps(requests[0][1]).encode())
        assert json.loads(body)["Items"][0]["n"] == {"N": str(100 + round_)}
