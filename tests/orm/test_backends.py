"""The backends: one wire shape in, one wire shape out, the same errors, on every backend.

The parametrized tests run on every backend of ``conftest.BACKENDS`` (local in
memory and durable, boto3 on moto, boto3 over HTTP to our server, aioboto3 over
HTTP); they send the modelling layer's wire shape (binary as base64 text, numbers as
strings) and expect it back, whatever botocore does in between. The tests after them
check what is particular to one backend: engine ownership, the engine's uncopied
responses, the conversions' edge cases, botocore-side failures.
"""

from __future__ import annotations

import asyncio
import base64
import copy
import json
import socket
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ParamValidationError

from singletable.backends.base import Backend
from singletable.backends.boto3 import (
    Boto3Backend,
    error_from_botocore,
    from_botocore,
    to_botocore,
)
from singletable.backends.engine import LocalBackend
from singletable.backends.local.engine import LocalEngine
from singletable.errors import (
    BackendError,
    ConditionFailedError,
    RequestError,
    TableNotFoundError,
    TransactionCanceledError,
)
from singletable.table import GlobalIndex, Table

REGION = "us-east-1"

MOTO_DIFFERENCES = {
    "syntax": "moto 5.2.5 raises a Python ValueError/KeyError out of the client for a "
    "ConditionExpression with a syntax error or an undefined placeholder; DynamoDB answers "
    "ValidationException 'Invalid ConditionExpression: Syntax error; ...'",
}

APP = Table("app", indexes=[GlobalIndex("GSI1", pk="GSI1PK", sk="GSI1SK")])
BIN = Table("bin", pk_type="B", sk_type="B")


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


BIG = "12345678901234567890123456789012345678"  # 38 significant digits
SMALL = "-0.12345678901234567890123456789012345678"
EVERY_BYTE = bytes(range(256))

ITEM: dict[str, Any] = {
    "PK": {"S": "USER#1"},
    "SK": {"S": "PROFILE"},
    "GSI1PK": {"S": "EMAIL#a@example.com"},
    "GSI1SK": {"S": "USER#1"},
    "blob": {"B": b64(b"\x00\x01\xfe\xff binary")},
    "blobs": {"BS": [b64(b"a"), b64(b"\x00"), b64(EVERY_BYTE)]},
    "big": {"N": BIG},
    "small": {"N": SMALL},
    "nums": {"NS": ["1", BIG, SMALL]},
    "tags": {"SS": ["x", "y"]},
    "nested": {
        "M": {
            "list": {
                "L": [
                    {"B": b64(b"in a list")},
                    {"M": {"deep": {"BS": [b64(b"d1"), b64(b"d2")]}}},
                    {"NULL": True},
                    {"BOOL": False},
                    {"N": BIG},
                ]
            },
            # an attribute named like a type tag: a map, not a binary value
            "named": {"M": {"B": {"S": "an attribute called B"}}},
        }
    },
}
KEY = {"PK": ITEM["PK"], "SK": ITEM["SK"]}


def canon(value: Any) -> Any:
    """``value`` with every set sorted (DynamoDB does not keep a set's order)."""
    if isinstance(value, dict):
        return {
            key: sorted(member) if key in ("SS", "NS", "BS") else canon(member)
            for key, member in value.items()
        }
    if isinstance(value, list):
        return [canon(member) for member in value]
    return value


def item(pk: str, sk: str, **attributes: Any) -> dict[str, Any]:
    return {"PK": {"S": pk}, "SK": {"S": sk}, **attributes}


@pytest.fixture
def app(backend: Backend) -> Backend:
    """``backend`` with the ``app`` table (table keys PK/SK, index GSI1) created."""
    backend.call("CreateTable", APP.create_table_request())
    return backend


# -- on every backend --------------------------------------------------------------------


def test_create_table_from_the_model(backend: Backend) -> None:
    created = backend.call("CreateTable", APP.create_table_request())
    described = backend.call("DescribeTable", {"TableName": "app"})["Table"]
    for table in (created["TableDescription"], described):
        assert table["TableName"] == "app"
        assert table["KeySchema"] == [
            {"AttributeName": "PK", "KeyType": "HASH"},
            {"AttributeName": "SK", "KeyType": "RANGE"},
        ]
        (index,) = table["GlobalSecondaryIndexes"]
        assert index["IndexName"] == "GSI1"
        assert index["KeySchema"] == [
            {"AttributeName": "GSI1PK", "KeyType": "HASH"},
            {"AttributeName": "GSI1SK", "KeyType": "RANGE"},
        ]
        # the wire shape: epoch seconds, not botocore's datetime; JSON all the way down
        assert isinstance(table["CreationDateTime"], int | float)
        assert abs(table["CreationDateTime"] - datetime.now(UTC).timestamp()) < 3600
        json.dumps(table)
    assert "ResponseMetadata" not in created
    assert backend.call("ListTables", {}) == {"TableNames": ["app"]}


def test_put_get_round_trip_keeps_binary_numbers_and_nesting(app: Backend) -> None:
    request = {"TableName": "app", "Item": ITEM}
    sent = copy.deepcopy(request)
    assert app.call("PutItem", request) == {}
    assert request == sent  # the caller's request is not changed by the conversion
    got = app.call("GetItem", {"TableName": "app", "Key": KEY})
    assert canon(got) == canon({"Item": ITEM})
    projected = app.call(
        "GetItem",
        {
            "TableName": "app",
            "Key": KEY,
            "ProjectionExpression": "#b, nested.named, big",
            "ExpressionAttributeNames": {"#b": "blob"},
        },
    )
    assert canon(projected["Item"]) == canon(
        {
            "blob": ITEM["blob"],
            "big": {"N": BIG},
            "nested": {"M": {"named": ITEM["nested"]["M"]["named"]}},
        }
    )
    assert app.call("GetItem", {"TableName": "app", "Key": item("USER#2", "PROFILE")}) == {}


def test_query_scan_and_paging_with_binary_values(app: Backend) -> None:
    for n in range(5):
        app.call(
            "PutItem",
            {
                "TableName": "app",
                "Item": item(
                    "USER#1",
                    f"ORDER#{n}",
                    GSI1PK={"S": "STATUS#open" if n % 2 else "STATUS#done"},
                    GSI1SK={"S": f"{n:03d}"},
                    payload={"B": b64(bytes([n]) * 3)},
                    flags={"BS": [b64(bytes([n])), b64(b"common")]},
                ),
            },
        )
    app.call("PutItem", {"TableName": "app", "Item": ITEM})
    orders = {
        "TableName": "app",
        "KeyConditionExpression": "PK = :pk AND begins_with(SK, :prefix)",
        "ExpressionAttributeValues": {":pk": {"S": "USER#1"}, ":prefix": {"S": "ORDER#"}},
    }
    page = app.call("Query", {**orders, "Limit": 2})
    assert [i["SK"]["S"] for i in page["Items"]] == ["ORDER#0", "ORDER#1"]
    assert page["Items"][1]["payload"] == {"B": b64(b"\x01\x01\x01")}
    assert page["LastEvaluatedKey"] == {"PK": {"S": "USER#1"}, "SK": {"S": "ORDER#1"}}
    rest = app.call("Query", {**orders, "ExclusiveStartKey": page["LastEvaluatedKey"]})
    assert [i["SK"]["S"] for i in rest["Items"]] == ["ORDER#2", "ORDER#3", "ORDER#4"]
    assert "LastEvaluatedKey" not in rest

    by_binary = app.call(
        "Query",
        {
            **orders,
            "FilterExpression": "payload = :p OR contains(flags, :f)",
            "ExpressionAttributeValues": {
                **orders["ExpressionAttributeValues"],
                ":p": {"B": b64(b"\x02\x02\x02")},
                ":f": {"B": b64(bytes([4]))},
            },
        },
    )
    assert [i["SK"]["S"] for i in by_binary["Items"]] == ["ORDER#2", "ORDER#4"]
    assert (by_binary["Count"], by_binary["ScannedCount"]) == (2, 5)

    open_orders = app.call(
        "Query",
        {
            "TableName": "app",
            "IndexName": "GSI1",
            "KeyConditionExpression": "GSI1PK = :s",
            "ExpressionAttributeValues": {":s": {"S": "STATUS#open"}},
            "ScanIndexForward": False,
        },
    )
    assert [i["SK"]["S"] for i in open_orders["Items"]] == ["ORDER#3", "ORDER#1"]

    scanned = app.call(
        "Scan",
        {
            "TableName": "app",
            "FilterExpression": "contains(blobs, :every) AND big = :big",
            "ExpressionAttributeValues": {":every": {"B": b64(EVERY_BYTE)}, ":big": {"N": BIG}},
        },
    )
    assert canon(scanned["Items"]) == canon([ITEM])
    count = app.call("Scan", {"TableName": "app", "Select": "COUNT"})
    assert (count["Count"], "Items" in count) == (6, False)


def test_binary_keys_sort_by_bytes(backend: Backend) -> None:
    backend.call("CreateTable", BIN.create_table_request())
    pk = {"B": b64(b"\x00partition")}
    for sk in (b"\xff", b"\x00\x01", b"\x7f", b"\x00"):
        backend.call("PutItem", {"TableName": "bin", "Item": {"PK": pk, "SK": {"B": b64(sk)}}})
    page = backend.call(
        "Query",
        {
            "TableName": "bin",
            "KeyConditionExpression": "PK = :pk AND SK BETWEEN :lo AND :hi",
            "ExpressionAttributeValues": {
                ":pk": pk,
                ":lo": {"B": b64(b"\x00\x01")},
                ":hi": {"B": b64(b"\xff")},
            },
            "Limit": 2,
        },
    )
    assert [i["SK"] for i in page["Items"]] == [{"B": b64(b"\x00\x01")}, {"B": b64(b"\x7f")}]
    assert page["LastEvaluatedKey"] == {"PK": pk, "SK": {"B": b64(b"\x7f")}}
    rest = backend.call(
        "Query",
        {
            "TableName": "bin",
            "KeyConditionExpression": "PK = :pk",
            "ExpressionAttributeValues": {":pk": pk},
            "ExclusiveStartKey": page["LastEvaluatedKey"],
        },
    )
    assert [i["SK"] for i in rest["Items"]] == [{"B": b64(b"\xff")}]


def test_binary_keys_in_batches_and_transactions(backend: Backend) -> None:
    backend.call("CreateTable", BIN.create_table_request())

    def key(n: int) -> dict[str, Any]:
        return {"PK": {"B": b64(b"\x00p")}, "SK": {"B": b64(bytes([n]))}}

    backend.call(
        "BatchWriteItem",
        {
            "RequestItems": {
                "bin": [{"PutRequest": {"Item": {**key(n), "v": {"N": str(n)}}}} for n in range(4)]
            }
        },
    )
    backend.call("BatchWriteItem", {"RequestItems": {"bin": [{"DeleteRequest": {"Key": key(3)}}]}})
    got = backend.call(
        "BatchGetItem", {"RequestItems": {"bin": {"Keys": [key(n) for n in range(4)]}}}
    )
    assert sorted(got["Responses"]["bin"], key=lambda i: i["v"]["N"]) == [
        {**key(n), "v": {"N": str(n)}} for n in range(3)
    ]
    backend.call(
        "TransactWriteItems",
        {
            "TransactItems": [
                {"Delete": {"TableName": "bin", "Key": key(0)}},
                {
                    "Update": {
                        "TableName": "bin",
                        "Key": key(1),
                        "UpdateExpression": "SET v = :v",
                        "ConditionExpression": "SK = :sk",
                        "ExpressionAttributeValues": {":v": {"N": "10"}, ":sk": key(1)["SK"]},
                    }
                },
            ]
        },
    )
    got = backend.call(
        "TransactGetItems",
        {"TransactItems": [{"Get": {"TableName": "bin", "Key": key(n)}} for n in range(3)]},
    )
    assert got["Responses"] == [
        {},
        {"Item": {**key(1), "v": {"N": "10"}}},
        {"Item": {**key(2), "v": {"N": "2"}}},
    ]


def test_return_values(app: Backend) -> None:
    first = item("U", "S", v={"N": "1"}, blob={"B": b64(b"one")})
    put = {"TableName": "app", "Item": first, "ReturnValues": "ALL_OLD"}
    assert "Attributes" not in app.call("PutItem", put)
    second = item("U", "S", v={"N": "2"})
    replaced = app.call("PutItem", {**put, "Item": second})
    assert replaced["Attributes"] == first

    update = {
        "TableName": "app",
        "Key": {"PK": {"S": "U"}, "SK": {"S": "S"}},
        "UpdateExpression": "SET big = :big, m = :m ADD bs :more",
        "ExpressionAttributeValues": {
            ":big": {"N": BIG},
            ":m": {"M": {"b": {"B": b64(b"\x00")}}},
            ":more": {"BS": [b64(b"x"), b64(b"y")]},
        },
    }
    new = app.call("UpdateItem", {**update, "ReturnValues": "ALL_NEW"})
    assert canon(new["Attributes"]) == canon(
        {
            **second,
            "big": {"N": BIG},
            "m": {"M": {"b": {"B": b64(b"\x00")}}},
            "bs": {"BS": [b64(b"x"), b64(b"y")]},
        }
    )
    old = app.call(
        "UpdateItem",
        {
            **update,
            "UpdateExpression": "SET v = :three DELETE bs :x",
            "ExpressionAttributeValues": {":three": {"N": "3"}, ":x": {"BS": [b64(b"x")]}},
            "ReturnValues": "UPDATED_OLD",
        },
    )
    assert canon(old["Attributes"]) == canon(
        {"v": {"N": "2"}, "bs": {"BS": [b64(b"x"), b64(b"y")]}}
    )
    deleted = app.call(
        "DeleteItem", {"TableName": "app", "Key": update["Key"], "ReturnValues": "ALL_OLD"}
    )
    assert deleted["Attributes"]["bs"] == {"BS": [b64(b"y")]}
    assert deleted["Attributes"]["v"] == {"N": "3"}
    assert app.call("GetItem", {"TableName": "app", "Key": update["Key"]}) == {}


def test_batch_write_and_batch_get(app: Backend) -> None:
    app.call("PutItem", {"TableName": "app", "Item": item("B", "gone")})
    written = app.call(
        "BatchWriteItem",
        {
            "RequestItems": {
                "app": [
                    {"PutRequest": {"Item": item("B", str(n), b={"B": b64(bytes([n]))})}}
                    for n in range(3)
                ]
                + [{"DeleteRequest": {"Key": item("B", "gone")}}]
            }
        },
    )
    assert written["UnprocessedItems"] == {}
    keys = [item("B", str(n)) for n in range(3)] + [item("B", "gone"), item("B", "never")]
    got = app.call("BatchGetItem", {"RequestItems": {"app": {"Keys": keys}}})
    assert got["UnprocessedKeys"] == {}
    assert sorted(got["Responses"]["app"], key=lambda i: i["SK"]["S"]) == [
        item("B", str(n), b={"B": b64(bytes([n]))}) for n in range(3)
    ]
    projected = app.call(
        "BatchGetItem",
        {"RequestItems": {"app": {"Keys": keys[:1], "ProjectionExpression": "b"}}},
    )
    assert projected["Responses"] == {"app": [{"b": {"B": b64(b"\x00")}}]}


def test_transactions(app: Backend) -> None:
    app.call("PutItem", {"TableName": "app", "Item": item("T", "check", ok={"BOOL": True})})
    app.call("PutItem", {"TableName": "app", "Item": item("T", "drop")})
    app.call("PutItem", {"TableName": "app", "Item": item("T", "count", n={"N": "1"})})
    response = app.call(
        "TransactWriteItems",
        {
            "TransactItems": [
                {"Put": {"TableName": "app", "Item": item("T", "new", b={"B": b64(b"\x01")})}},
                {
                    "Update": {
                        "TableName": "app",
                        "Key": item("T", "count"),
                        "UpdateExpression": "ADD n :big",
                        "ExpressionAttributeValues": {":big": {"N": BIG}},
                    }
                },
                {
                    "ConditionCheck": {
                        "TableName": "app",
                        "Key": item("T", "check"),
                        "ConditionExpression": "ok = :t",
                        "ExpressionAttributeValues": {":t": {"BOOL": True}},
                    }
                },
                {"Delete": {"TableName": "app", "Key": item("T", "drop")}},
            ]
        },
    )
    assert "Responses" not in response
    got = app.call(
        "TransactGetItems",
        {
            "TransactItems": [
                {"Get": {"TableName": "app", "Key": item("T", sk)}}
                for sk in ("new", "count", "drop")
            ]
        },
    )
    assert got == {
        "Responses": [
            {"Item": item("T", "new", b={"B": b64(b"\x01")})},
            {"Item": item("T", "count", n={"N": "12345678901234567890123456789012345679"})},
            {},
        ]
    }


# -- the same errors on every backend ---------------------------------------------------------


def test_condition_failed_returns_the_stored_item(app: Backend) -> None:
    app.call("PutItem", {"TableName": "app", "Item": ITEM})
    request = {
        "TableName": "app",
        "Item": {**KEY, "other": {"S": "x"}},
        "ConditionExpression": "attribute_not_exists(PK)",
    }
    with pytest.raises(ConditionFailedError) as plain:
        app.call("PutItem", request)
    assert (plain.value.code, plain.value.message) == (
        "ConditionalCheckFailedException",
        "The conditional request failed",
    )
    assert (plain.value.operation, plain.value.item, plain.value.details) == ("PutItem", None, {})

    with pytest.raises(ConditionFailedError) as with_item:
        app.call("PutItem", {**request, "ReturnValuesOnConditionCheckFailure": "ALL_OLD"})
    assert with_item.value.item is not None
    assert canon(with_item.value.item) == canon(ITEM)
    assert list(with_item.value.details) == ["Item"]

    with pytest.raises(ConditionFailedError) as on_update:
        app.call(
            "UpdateItem",
            {
                "TableName": "app",
                "Key": KEY,
                "UpdateExpression": "SET big = :n",
                "ConditionExpression": "big < :n",
                "ExpressionAttributeValues": {":n": {"N": "1"}},
                "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
            },
        )
    assert on_update.value.operation == "UpdateItem"
    assert canon(on_update.value.item) == canon(ITEM)


def test_transaction_canceled_reasons(app: Backend) -> None:
    stored = item("T", "taken", b={"B": b64(b"\xff")})
    app.call("PutItem", {"TableName": "app", "Item": stored})
    with pytest.raises(TransactionCanceledError) as caught:
        app.call(
            "TransactWriteItems",
            {
                "TransactItems": [
                    {"Put": {"TableName": "app", "Item": item("T", "free")}},
                    {
                        "Put": {
                            "TableName": "app",
                            "Item": item("T", "taken"),
                            "ConditionExpression": "attribute_not_exists(PK)",
                            "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
                        }
                    },
                ]
            },
        )
    error = caught.value
    assert error.code == "TransactionCanceledException"
    assert error.message == (
        "Transaction cancelled, please refer cancellation reasons for specific reasons "
        "[None, ConditionalCheckFailed]"
    )
    assert error.reasons == [
        {"Code": "None"},
        {
            "Code": "ConditionalCheckFailed",
            "Message": "The conditional request failed",
            "Item": stored,
        },
    ]
    assert app.call("GetItem", {"TableName": "app", "Key": item("T", "free")}) == {}


def test_missing_table_is_table_not_found(backend: Backend) -> None:
    with pytest.raises(TableNotFoundError) as caught:
        backend.call("GetItem", {"TableName": "nowhere", "Key": {"PK": {"S": "a"}}})
    assert (caught.value.code, caught.value.message, caught.value.operation) == (
        "ResourceNotFoundException",
        "Requested resource not found",
        "GetItem",
    )


def test_a_bad_expression_is_a_request_error_with_dynamodbs_message(app: Backend) -> None:
    with pytest.raises(RequestError) as caught:
        app.call(
            "UpdateItem",
            {
                "TableName": "app",
                "Key": KEY,
                "UpdateExpression": "SET a = :x, a = :x",
                "ExpressionAttributeValues": {":x": {"S": "1"}},
            },
        )
    assert caught.value.code == "ValidationException"
    assert caught.value.message == (
        "1 validation error detected: Invalid UpdateExpression: Two document paths overlap "
        "with each other; must remove or rewrite one of these paths; path one: [a], path two: [a]"
    )


@pytest.mark.moto_differs("syntax")
def test_a_syntax_error_is_a_request_error(app: Backend) -> None:
    with pytest.raises(RequestError) as caught:
        app.call(
            "PutItem",
            {"TableName": "app", "Item": KEY, "ConditionExpression": "attribute_not_exists("},
        )
    assert caught.value.message == (
        '1 validation error detected: Invalid ConditionExpression: Syntax error; token: "<EOF>", '
        'near: "("'
    )


def test_an_unknown_operation_is_refused_alike(backend: Backend) -> None:
    with pytest.raises(RequestError) as caught:
        backend.call("Frobnicate", {})
    assert (caught.value.code, caught.value.message) == (
        "UnknownOperationException",
        "Unknown operation: Frobnicate",
    )


def test_binary_that_is_not_base64_is_refused_alike(app: Backend) -> None:
    with pytest.raises(RequestError) as caught:
        app.call("PutItem", {"TableName": "app", "Item": {**KEY, "b": {"B": "not base64!"}}})
    assert (caught.value.code, caught.value.message) == (
        "SerializationException",
        "Base64 encoded binary value is not valid",
    )


# -- the local backend -----------------------------------------------------------------------


def test_local_backend_owns_only_the_engine_it_made(tmp_path: Path) -> None:
    engine = LocalEngine()
    with LocalBackend(engine) as borrowed:
        assert borrowed.engine is engine
        borrowed.call("CreateTable", APP.create_table_request())
    assert engine.call("ListTables", {}) == {"TableNames": ["app"]}  # still open
    engine.close()

    path = tmp_path / "app.db"
    with LocalBackend(path=path) as durable:
        durable.call("CreateTable", APP.create_table_request())
        durable.call("PutItem", {"TableName": "app", "Item": ITEM})
    with LocalBackend(path=path) as reopened:  # closed and flushed, then reopened
        assert canon(reopened.call("GetItem", {"TableName": "app", "Key": KEY})["Item"]) == canon(
            ITEM
        )
    with pytest.raises(ValueError, match="not both"):
        LocalBackend(LocalEngine(), path=path)


def test_engine_responses_without_the_copy_share_the_stored_data() -> None:
    with LocalEngine() as engine:
        engine.call("CreateTable", APP.create_table_request())
        engine.call("PutItem", {"TableName": "app", "Item": ITEM})
        get = {"TableName": "app", "Key": KEY}
        shared = engine.call("GetItem", get, copy=False)["Item"]
        assert engine.call("GetItem", get, copy=False)["Item"] is shared
        copied = engine.call("GetItem", get)["Item"]
        assert copied == shared
        assert copied is not shared
        copied["blob"]["B"] = "changed"
        assert engine.call("GetItem", get)["Item"]["blob"] == ITEM["blob"]
        # an error's extra members are the caller's even without the copy
        backend = LocalBackend(engine)
        with pytest.raises(ConditionFailedError) as caught:
            backend.call(
                "PutItem",
                {
                    **{"TableName": "app", "Item": KEY},
                    "ConditionExpression": "attribute_not_exists(PK)",
                    "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
                },
            )
        assert caught.value.item is not None
        assert caught.value.item is not shared
        caught.value.item["big"]["N"] = "0"
        assert engine.call("GetItem", get)["Item"]["big"] == {"N": BIG}


def test_the_local_backend_does_not_import_botocore() -> None:
    code = (
        "import sys, singletable.backends.engine as e\n"
        "b = e.LocalBackend(); b.call('ListTables', {}); b.close()\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('botocore', 'boto3')))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )
    assert done.stdout.strip() == "[]"


# -- the boto3 and aioboto3 backends ---------------------------------------------------------


def test_a_borrowed_client_stays_open(boto3_client: Any) -> None:
    backend = Boto3Backend(boto3_client)
    backend.call("CreateTable", APP.create_table_request())
    backend.close()
    assert boto3_client.list_tables()["TableNames"] == ["app"]


def test_to_botocore_converts_binary_values_only_and_copies_on_write() -> None:
    plain = {"TableName": "app", "Item": {"PK": {"S": "a"}, "n": {"N": "1"}}}
    assert to_botocore(plain) is plain
    request = {
        "RequestItems": {
            # tables named like type tags hold requests, not binary values
            "B": [{"PutRequest": {"Item": {"PK": {"S": "a"}}}}],
            "BS": [{"DeleteRequest": {"Key": {"PK": {"B": b64(b"\x00")}}}}],
        },
    }
    before = copy.deepcopy(request)
    converted = to_botocore(request)
    assert request == before
    assert converted["RequestItems"]["B"] is request["RequestItems"]["B"]
    assert converted["RequestItems"]["BS"] == [{"DeleteRequest": {"Key": {"PK": {"B": b"\x00"}}}}]
    assert to_botocore({"x": {"BS": [b64(b"1"), b64(b"2")]}}) == {"x": {"BS": [b"1", b"2"]}}
    named = {"M": {"B": {"S": "text"}}}
    assert to_botocore(named) is named
    actions = {
        "TransactItems": [
            {"ConditionCheck": {"Key": {"PK": {"S": "a"}}}},
            {"Put": {"Item": {"L": {"L": [{"N": "1"}, {"M": {"b": {"B": "AA=="}}}]}}}},
        ],
        "Parameters": [{"S": "x"}, {"BS": ["AQ=="]}],
        "Tags": [{"Key": "B", "Value": "AA=="}],
    }
    converted = to_botocore(actions)
    assert converted["TransactItems"][0] is actions["TransactItems"][0]
    assert converted["TransactItems"][1] == {
        "Put": {"Item": {"L": {"L": [{"N": "1"}, {"M": {"b": {"B": b"\x00"}}}]}}}
    }
    assert converted["Parameters"] == [{"S": "x"}, {"BS": [b"\x01"]}]
    assert converted["Tags"] is actions["Tags"]
    # a malformed request is passed on as it is, for the service to refuse
    malformed = {"Item": "text", "Key": [1, {"B": "AA=="}], "RequestItems": {"t": 5}}
    assert to_botocore(malformed) == {**malformed, "Key": [1, {"B": b"\x00"}]}


def test_from_botocore_restores_the_wire_shape() -> None:
    when = datetime(2026, 1, 2, 3, 4, 5, 500000, tzinfo=UTC)
    response = {
        "Items": [{"b": {"B": b"\x00\xff"}, "bs": {"BS": [b"a"]}, "s": {"S": "x"}}],
        "Table": {"CreationDateTime": when},
    }
    assert from_botocore(response) is response
    assert response == {
        "Items": [{"b": {"B": "AP8="}, "bs": {"BS": ["YQ=="]}, "s": {"S": "x"}}],
        "Table": {"CreationDateTime": when.timestamp()},
    }
    batch = {
        "Responses": {"t": [{"k": {"L": [{"B": b"\x00"}, {"M": {"b": {"B": b"\x01"}}}]}}]},
        "UnprocessedKeys": {"t": {"Keys": [{"k": {"B": b"\x02"}}]}},
    }
    assert from_botocore(batch) == {
        "Responses": {"t": [{"k": {"L": [{"B": "AA=="}, {"M": {"b": {"B": "AQ=="}}}]}}]},
        "UnprocessedKeys": {"t": {"Keys": [{"k": {"B": "Ag=="}}]}},
    }
    transact = {"Responses": [{"Item": {"b": {"BS": [b"\x03"]}}}, {}]}
    assert from_botocore(transact) == {"Responses": [{"Item": {"b": {"BS": ["Aw=="]}}}, {}]}


def test_botocore_side_failures_map_to_singletable_errors() -> None:
    invalid = error_from_botocore(ParamValidationError(report="Missing TableName"), "GetItem")
    assert isinstance(invalid, RequestError)
    assert invalid.code == "ValidationException"
    assert "Missing TableName" in invalid.message

    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    client = boto3.client(
        "dynamodb",
        endpoint_url=f"http://127.0.0.1:{port}",
        region_name=REGION,
        config=Config(retries={"total_max_attempts": 1}, connect_timeout=2),
    )
    with Boto3Backend(client) as backend, pytest.raises(BackendError) as caught:
        backend.call("ListTables", {})
    assert caught.value.code == "EndpointConnectionError"
    client.close()


def test_aioboto3_backend_runs_requests_concurrently(aio_backend: Any) -> None:
    """``aio_backend`` is conftest's AioSync: the real async backend and its loop."""
    backend = aio_backend.backend

    async def scenario() -> list[dict[str, Any]]:
        await backend.call("CreateTable", APP.create_table_request())
        await asyncio.gather(
            *(
                backend.call(
                    "PutItem",
                    {"TableName": "app", "Item": item("A", str(n), b={"B": b64(bytes([n]))})},
                )
                for n in range(20)
            )
        )
        return list(
            await asyncio.gather(
                *(
                    backend.call("GetItem", {"TableName": "app", "Key": item("A", str(n))})
                    for n in range(20)
                )
            )
        )

    got = aio_backend.run(scenario())
    assert [g["Item"]["b"] for g in got] == [{"B": b64(bytes([n]))} for n in range(20)]
    with pytest.raises(TableNotFoundError):
        aio_backend.run(backend.call("GetItem", {"TableName": "nowhere", "Key": KEY}))
