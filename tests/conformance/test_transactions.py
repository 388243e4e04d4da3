"""TransactWriteItems and TransactGetItems: all or nothing, cancellation reasons, limits, tokens.

API Reference: API_TransactWriteItems, API_TransactGetItems, API_CancellationReason
(https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/). The split between a
plain error and a cancellation reason, and the order of the checks, follow what DynamoDB
answered to paritysuite/dynamodb-conformance (tests/tier3/error-messages/
transactWriteItems.test.ts, transactGetItems.test.ts, validation-ordering/transactions.test.ts,
limits/itemSizeBySurface.test.ts).
"""

from __future__ import annotations

import re
from typing import Any

import boto3
import pytest
from botocore.config import Config
from ddbtest import REGION, Backend, Item, raises

MOTO_DIFFERENCES = {
    "wrong-key-reason": "moto raises a plain ValidationException for a key of the wrong type "
    "in a transaction; DynamoDB cancels the transaction with a ValidationError reason.",
    "update-data-reason": "moto raises a plain ValidationException when an Update fails on the "
    "item's data; DynamoDB cancels with a ValidationError reason.",
    "empty-key": "moto answers an empty key value in a transaction with its own message; "
    "DynamoDB's names the key ('... cannot contain an empty string value. Key: PK').",
    "too-many-actions": "moto says '1 validation error detected at 'transactItems' failed to "
    "satisfy constraint: ...100.'; DynamoDB names the member as 'Value ... at "
    "'transactItems'' (or 'Value at 'TransactItems'').",
    "empty-actions": "moto accepts an empty TransactItems (and does nothing); DynamoDB rejects it with "
    "the 'Member must have length greater than or equal to 1' constraint.",
    "aggregate-size": "moto does not enforce the 4 MB total of a transaction.",
    "client-token": "moto ignores ClientRequestToken: a repeated request is applied again and "
    "a reused token with other items is not refused.",
    "capacity": "moto returns no ConsumedCapacity for TransactWriteItems and charges 2 units "
    "per item read by TransactGetItems whatever its size; DynamoDB charges twice the units of "
    "the same writes and strongly consistent reads outside a transaction.",
    "check-order": "moto looks tables up before it checks the request's members and every "
    "expression; DynamoDB reports a bad enum, a malformed or unused expression anywhere in "
    "the request ahead of a missing table.",
    "index-key-type": "moto accepts an index key attribute of the wrong type in a transaction; "
    "DynamoDB cancels with a ValidationError reason ('Type mismatch for Index Key ...').",
    "get-projection": "moto ignores ProjectionExpression in TransactGetItems.",
    "get-duplicates": "moto accepts the same item twice in TransactGetItems.",
    "get-key-reason": "moto raises a plain ValidationException ('Validation Exception') for a "
    "Get key that does not match the schema; DynamoDB cancels with a ValidationError reason.",
}

K1 = {"PK": {"S": "a"}, "SK": {"S": "1"}}
K2 = {"PK": {"S": "b"}, "SK": {"S": "1"}}
CANCELLED = "Transaction cancelled, please refer cancellation reasons for specific reasons [{}]"
TOO_MANY = re.compile(
    r"1 validation error detected: (?:Value '\[.+\]' at 'transactItems'|Value at "
    r"'TransactItems') failed to satisfy constraint: Member must have length less than or "
    r"equal to 100",
    re.S,
)


def _put(item: Item, table: str = "tbl", **extra: Any) -> dict[str, Any]:
    return {"Put": {"TableName": table, "Item": item, **extra}}


def _update(key: Item, expression: str, table: str = "tbl", **extra: Any) -> dict[str, Any]:
    return {"Update": {"TableName": table, "Key": key, "UpdateExpression": expression, **extra}}


def _check(key: Item, condition: str, table: str = "tbl", **extra: Any) -> dict[str, Any]:
    return {
        "ConditionCheck": {
            "TableName": table,
            "Key": key,
            "ConditionExpression": condition,
            **extra,
        }
    }


def _delete(key: Item, table: str = "tbl", **extra: Any) -> dict[str, Any]:
    return {"Delete": {"TableName": table, "Key": key, **extra}}


def _get(key: Item, table: str = "tbl", **extra: Any) -> dict[str, Any]:
    return {"Get": {"TableName": table, "Key": key, **extra}}


def _cancelled(codes: list[str]) -> str:
    return CANCELLED.format(", ".join(codes))


def _reasons(info: Any) -> list[dict[str, Any]]:
    reasons: list[dict[str, Any]] = info.response["CancellationReasons"]
    return reasons


# --------------------------------------------------------------------------- success


def test_actions_across_tables_apply_together(db: Backend, ddb: Any, table: str) -> None:
    db.create_table("other")
    db.put({**K1, "n": {"N": "1"}}, {**K2, "gone": {"BOOL": True}})
    db.put({**K1, "flag": {"S": "on"}}, table="other")
    ddb.transact_write_items(
        TransactItems=[
            _put({"PK": {"S": "c"}, "SK": {"S": "1"}, "new": {"S": "yes"}}),
            _update(K1, "ADD n :two", ExpressionAttributeValues={":two": {"N": "2"}}),
            _delete(K2),
            _check(K1, "flag = :on", table="other", ExpressionAttributeValues={":on": {"S": "on"}}),
        ]
    )
    assert db.get({"PK": {"S": "c"}, "SK": {"S": "1"}}) == {
        "PK": {"S": "c"},
        "SK": {"S": "1"},
        "new": {"S": "yes"},
    }
    assert db.get(K1) == {**K1, "n": {"N": "3"}}
    assert db.get(K2) is None
    assert db.get(K1, table="other") == {**K1, "flag": {"S": "on"}}


def test_update_creates_a_missing_item(db: Backend, ddb: Any, table: str) -> None:
    ddb.transact_write_items(
        TransactItems=[_update(K1, "SET v = :v", ExpressionAttributeValues={":v": {"S": "x"}})]
    )
    assert db.get(K1) == {**K1, "v": {"S": "x"}}


@pytest.mark.moto_differs("capacity")
def test_transactional_writes_cost_twice(db: Backend, ddb: Any, table: str) -> None:
    big = {"S": "x" * 1500}  # 2 write units outside a transaction
    response = ddb.transact_write_items(
        TransactItems=[_put({**K1, "big": big}), _put(K2)], ReturnConsumedCapacity="TOTAL"
    )
    [capacity] = response["ConsumedCapacity"]
    assert capacity["TableName"] == "tbl"
    assert capacity["CapacityUnits"] == 2 * (2 + 1)


def test_get_items_in_request_order_with_empty_for_missing(
    db: Backend, ddb: Any, table: str
) -> None:
    db.create_table("other")
    db.put({**K1, "a": {"S": "1"}, "b": {"S": "2"}})
    db.put({**K2, "c": {"S": "3"}}, table="other")
    response = ddb.transact_get_items(
        TransactItems=[
            _get(K2, table="other"),
            _get({"PK": {"S": "zz"}, "SK": {"S": "1"}}),
            _get(K1),
        ]
    )
    assert response["Responses"] == [
        {"Item": {**K2, "c": {"S": "3"}}},
        {},
        {"Item": {**K1, "a": {"S": "1"}, "b": {"S": "2"}}},
    ]


@pytest.mark.moto_differs("get-projection")
def test_get_with_projection(db: Backend, ddb: Any, table: str) -> None:
    db.put({**K1, "a": {"S": "1"}, "b": {"S": "2"}})
    response = ddb.transact_get_items(
        TransactItems=[_get(K1, ProjectionExpression="#b", ExpressionAttributeNames={"#b": "b"})]
    )
    assert response["Responses"] == [{"Item": {"b": {"S": "2"}}}]


@pytest.mark.moto_differs("capacity")
def test_transactional_reads_cost_twice(db: Backend, ddb: Any, table: str) -> None:
    db.put({**K1, "big": {"S": "x" * 5000}}, K2)  # 2 + 1 strongly consistent read units
    response = ddb.transact_get_items(
        TransactItems=[_get(K1), _get(K2)], ReturnConsumedCapacity="TOTAL"
    )
    [capacity] = response["ConsumedCapacity"]
    assert capacity["TableName"] == "tbl"
    assert capacity["CapacityUnits"] == 2 * (2 + 1)


# --------------------------------------------------------------------------- cancellations


def test_failed_condition_cancels_every_action(db: Backend, ddb: Any, table: str) -> None:
    db.put({**K2, "v": {"S": "old"}})
    with raises(
        "TransactionCanceledException", _cancelled(["None", "ConditionalCheckFailed"])
    ) as info:
        ddb.transact_write_items(
            TransactItems=[
                _put({**K1, "v": {"S": "new"}}),
                _put({**K2, "v": {"S": "new"}}, ConditionExpression="attribute_not_exists(PK)"),
            ]
        )
    assert _reasons(info) == [
        {"Code": "None"},
        {"Code": "ConditionalCheckFailed", "Message": "The conditional request failed"},
    ]
    assert db.get(K1) is None
    assert db.get(K2) == {**K2, "v": {"S": "old"}}


def test_every_failing_action_has_its_reason(db: Backend, ddb: Any, table: str) -> None:
    db.put(K1, K2)
    codes = ["ConditionalCheckFailed", "ConditionalCheckFailed"]
    with raises("TransactionCanceledException", _cancelled(codes)) as info:
        ddb.transact_write_items(
            TransactItems=[
                _check(K1, "attribute_not_exists(PK)"),
                _delete(K2, ConditionExpression="attribute_exists(nope)"),
            ]
        )
    assert [reason["Code"] for reason in _reasons(info)] == codes
    assert db.get(K2) == K2


def test_all_old_returns_the_item_in_the_reason(db: Backend, ddb: Any, table: str) -> None:
    db.put({**K1, "n": {"N": "5"}})
    missing = {"PK": {"S": "none"}, "SK": {"S": "1"}}
    with raises("TransactionCanceledException", _cancelled(["ConditionalCheckFailed"] * 3)) as info:
        ddb.transact_write_items(
            TransactItems=[
                _check(
                    K1,
                    "n > :ten",
                    ExpressionAttributeValues={":ten": {"N": "10"}},
                    ReturnValuesOnConditionCheckFailure="ALL_OLD",
                ),
                _check(
                    missing, "attribute_exists(PK)", ReturnValuesOnConditionCheckFailure="ALL_OLD"
                ),
                _update(
                    K2,
                    "SET a = :a",
                    ConditionExpression="attribute_exists(PK)",
                    ExpressionAttributeValues={":a": {"S": "a"}},
                    ReturnValuesOnConditionCheckFailure="NONE",
                ),
            ]
        )
    first, second, third = _reasons(info)
    assert first["Item"] == {**K1, "n": {"N": "5"}}
    assert "Item" not in second  # no item to return
    assert "Item" not in third  # not asked for


@pytest.mark.moto_differs("wrong-key-reason")
def test_key_of_the_wrong_type_is_a_validation_error_reason(
    db: Backend, ddb: Any, table: str
) -> None:
    # DynamoDB stops at the first action that fails validation: the third action,
    # whose key is wrong too, is reported "None" (see test_transactions_wave2.py).
    with raises(
        "TransactionCanceledException", _cancelled(["None", "ValidationError", "None"])
    ) as info:
        ddb.transact_write_items(
            TransactItems=[
                _put(K1),
                _put({"PK": {"N": "5"}, "SK": {"S": "1"}}),
                _delete({"PK": {"L": [{"S": "x"}]}, "SK": {"S": "1"}}),
            ]
        )
    assert _reasons(info)[1] == {
        "Code": "ValidationError",
        "Message": "One or more parameter values were invalid: Type mismatch for key PK "
        "expected: S actual: N",
    }
    with raises("TransactionCanceledException", _cancelled(["ValidationError"])) as info:
        ddb.transact_write_items(
            TransactItems=[_delete({"PK": {"L": [{"S": "x"}]}, "SK": {"S": "1"}})]
        )
    assert _reasons(info) == [
        {"Code": "ValidationError", "Message": "The provided key element does not match the schema"}
    ]
    assert db.get(K1) is None


@pytest.mark.moto_differs("update-data-reason")
def test_update_failing_on_the_item_is_a_validation_error_reason(
    db: Backend, ddb: Any, table: str
) -> None:
    db.put({**K1, "s": {"S": "text"}})
    with raises("TransactionCanceledException", _cancelled(["ValidationError", "None"])) as info:
        ddb.transact_write_items(
            TransactItems=[
                _update(K1, "SET s = s + :one", ExpressionAttributeValues={":one": {"N": "1"}}),
                _put(K2),
            ]
        )
    assert _reasons(info)[0] == {
        "Code": "ValidationError",
        "Message": "An operand in the update expression has an incorrect data type",
    }
    assert db.get(K2) is None


@pytest.mark.moto_differs("update-data-reason")
def test_update_growing_past_400_kb_is_a_validation_error_reason(
    db: Backend, ddb: Any, table: str
) -> None:
    db.put({**K1, "a": {"S": "x" * 300_000}})
    with raises("TransactionCanceledException", _cancelled(["ValidationError"])) as info:
        ddb.transact_write_items(
            TransactItems=[
                _update(K1, "SET b = :b", ExpressionAttributeValues={":b": {"S": "y" * 200_000}})
            ]
        )
    assert _reasons(info)[0] == {
        "Code": "ValidationError",
        "Message": "Item size to update has exceeded the maximum allowed size",
    }


def test_cancellation_reasons_reach_the_client_exception(ddb: Any, table: str) -> None:
    ddb.put_item(TableName="tbl", Item=K1)
    with pytest.raises(ddb.exceptions.TransactionCanceledException) as caught:
        ddb.transact_write_items(TransactItems=[_check(K1, "attribute_not_exists(PK)")])
    assert caught.value.response["CancellationReasons"][0]["Code"] == "ConditionalCheckFailed"


# --------------------------------------------------------------------------- plain errors


def test_unknown_table(ddb: Any, table: str) -> None:
    with raises("ResourceNotFoundException", "Requested resource not found"):
        ddb.transact_write_items(TransactItems=[_put(K1), _put(K2, table="missing")])
    with raises("ResourceNotFoundException", "Requested resource not found"):
        ddb.transact_get_items(TransactItems=[_get(K1, table="missing")])


def test_same_item_twice_is_refused(db: Backend, ddb: Any, table: str) -> None:
    message = "Transaction request cannot include multiple operations on one item"
    with raises("ValidationException", message):
        ddb.transact_write_items(TransactItems=[_put(K1), _check(K1, "attribute_not_exists(PK)")])
    assert db.get(K1) is None


@pytest.mark.moto_differs("get-duplicates")
def test_same_item_twice_in_a_get_is_refused(ddb: Any, table: str) -> None:
    message = "Transaction request cannot include multiple operations on one item"
    with raises("ValidationException", message):
        ddb.transact_get_items(TransactItems=[_get(K1), _get(K1)])


@pytest.mark.moto_differs("too-many-actions")
def test_more_than_100_actions(db: Backend, ddb: Any, table: str) -> None:
    puts = [_put({"PK": {"S": f"p{i}"}, "SK": {"S": "1"}}) for i in range(101)]
    with raises("ValidationException", TOO_MANY):
        ddb.transact_write_items(TransactItems=puts)
    assert db.scan_all() == []
    gets = [_get({"PK": {"S": f"p{i}"}, "SK": {"S": "1"}}) for i in range(101)]
    with raises("ValidationException", TOO_MANY):
        ddb.transact_get_items(TransactItems=gets)


def test_exactly_100_actions(db: Backend, ddb: Any, table: str) -> None:
    puts = [_put({"PK": {"S": f"p{i}"}, "SK": {"S": "1"}}) for i in range(100)]
    ddb.transact_write_items(TransactItems=puts)
    assert len(db.scan_all()) == 100


@pytest.mark.moto_differs("empty-actions")
def test_empty_transaction(table: str) -> None:
    # boto3 checks the minimum length itself: this client leaves it to the service.
    ddb = boto3.client("dynamodb", region_name=REGION, config=Config(parameter_validation=False))
    message = (
        "1 validation error detected: Value '[]' at 'transactItems' failed to satisfy "
        "constraint: Member must have length greater than or equal to 1"
    )
    with raises("ValidationException", message):
        ddb.transact_write_items(TransactItems=[])
    with raises("ValidationException", message):
        ddb.transact_get_items(TransactItems=[])


@pytest.mark.moto_differs("aggregate-size")
def test_more_than_4_mb_in_total(db: Backend, ddb: Any, table: str) -> None:
    blob = {"S": "x" * 390_000}
    puts = [_put({"PK": {"S": f"p{i}"}, "SK": {"S": "1"}, "blob": blob}) for i in range(11)]
    # dynoxide's text; DynamoDB's exact wording is not confirmed.
    with raises("ValidationException", re.compile(r".*4MB.*")):
        ddb.transact_write_items(TransactItems=puts)
    assert db.scan_all() == []
    ddb.transact_write_items(TransactItems=puts[:10])  # 3.9 MB is fine
    assert len(db.scan_all()) == 10


def test_put_item_over_400_kb_is_a_plain_error(db: Backend, ddb: Any, table: str) -> None:
    with raises("ValidationException", "Item size has exceeded the maximum allowed size"):
        ddb.transact_write_items(TransactItems=[_put({**K1, "a": {"S": "x" * 409_600}})])


@pytest.mark.moto_differs("empty-key")
def test_empty_key_value_is_a_plain_error(ddb: Any, table: str) -> None:
    message = (
        "One or more parameter values are not valid. The AttributeValue for a key attribute "
        "cannot contain an empty string value. Key: PK"
    )
    empty = {"PK": {"S": ""}, "SK": {"S": "1"}}
    for action in (_put(empty), _delete(empty), _check(empty, "attribute_exists(PK)")):
        with raises("ValidationException", message):
            ddb.transact_write_items(TransactItems=[action])


def test_update_of_a_key_attribute_is_refused(ddb: Any, table: str) -> None:
    message = (
        "One or more parameter values were invalid: Cannot update attribute SK. This "
        "attribute is part of the key"
    )
    with raises("ValidationException", message):
        ddb.transact_write_items(
            TransactItems=[_update(K1, "SET SK = :v", ExpressionAttributeValues={":v": {"S": "2"}})]
        )


@pytest.mark.moto_differs("check-order")
def test_expressions_are_checked_before_tables(ddb: Any, table: str) -> None:
    syntax = 'Invalid ConditionExpression: Syntax error; token: "<EOF>", near: "("'
    with raises("ValidationException", syntax):
        ddb.transact_write_items(
            TransactItems=[_put(K1, table="missing"), _check(K2, "attribute_not_exists(")]
        )
    unused = "Value provided in ExpressionAttributeValues unused in expressions: keys: {:v}"
    with raises("ValidationException", unused):
        ddb.transact_write_items(
            TransactItems=[
                _check(
                    K2, "attribute_not_exists(PK)", ExpressionAttributeValues={":v": {"S": "x"}}
                ),
                _put(K1, table="missing"),
            ]
        )


@pytest.mark.moto_differs("check-order")
def test_member_constraints_come_first(ddb: Any, table: str) -> None:
    enum = (
        "1 validation error detected: Value 'BOGUS' at 'returnConsumedCapacity' failed to "
        "satisfy constraint: Member must satisfy enum value set: [INDEXES, TOTAL, NONE]"
    )
    with raises("ValidationException", enum):
        ddb.transact_write_items(
            TransactItems=[_put(K1, table="missing"), _put(K1, table="missing")],
            ReturnConsumedCapacity="BOGUS",
        )


@pytest.mark.moto_differs("get-key-reason")
def test_get_key_that_does_not_match_is_a_validation_error_reason(ddb: Any, table: str) -> None:
    with raises("TransactionCanceledException", _cancelled(["None", "ValidationError"])) as info:
        ddb.transact_get_items(TransactItems=[_get(K1), _get({"PK": {"S": "a"}})])
    assert _reasons(info)[1] == {
        "Code": "ValidationError",
        "Message": "The provided key element does not match the schema",
    }


# --------------------------------------------------------------------------- ClientRequestToken


ADD_ONE = _update(K1, "ADD n :one", ExpressionAttributeValues={":one": {"N": "1"}})


@pytest.mark.moto_differs("client-token")
def test_repeated_token_applies_once(db: Backend, ddb: Any, table: str) -> None:
    for _ in range(3):
        ddb.transact_write_items(TransactItems=[ADD_ONE], ClientRequestToken="token-1")
    assert db.get(K1) == {**K1, "n": {"N": "1"}}
    ddb.transact_write_items(TransactItems=[ADD_ONE], ClientRequestToken="token-2")
    assert db.get(K1) == {**K1, "n": {"N": "2"}}


@pytest.mark.moto_differs("client-token")
def test_repeated_token_reports_the_reads(db: Backend, ddb: Any, table: str) -> None:
    put = _put({**K1, "big": {"S": "x" * 1500}})  # 2 write units, 1 read unit
    first = ddb.transact_write_items(
        TransactItems=[put], ClientRequestToken="token-1", ReturnConsumedCapacity="TOTAL"
    )
    again = ddb.transact_write_items(
        TransactItems=[put], ClientRequestToken="token-1", ReturnConsumedCapacity="TOTAL"
    )
    assert first["ConsumedCapacity"][0]["CapacityUnits"] == 2 * 2
    assert again["ConsumedCapacity"][0]["CapacityUnits"] == 2 * 1


@pytest.mark.moto_differs("client-token")
def test_reused_token_with_other_items_is_refused(db: Backend, ddb: Any, table: str) -> None:
    ddb.transact_write_items(TransactItems=[ADD_ONE], ClientRequestToken="token-1")
    # DynamoDB's message text is not confirmed: only the code is asserted.
    with raises("IdempotentParameterMismatchException", re.compile(".*", re.S)):
        ddb.transact_write_items(TransactItems=[ADD_ONE, _put(K2)], ClientRequestToken="token-1")
    assert db.get(K2) is None


def test_token_of_a_cancelled_transaction_is_not_remembered(
    db: Backend, ddb: Any, table: str
) -> None:
    guarded = _put(K2, ConditionExpression="attribute_exists(PK)")
    with raises("TransactionCanceledException", _cancelled(["ConditionalCheckFailed"])):
        ddb.transact_write_items(TransactItems=[guarded], ClientRequestToken="token-1")
    db.put(K2)
    ddb.transact_write_items(TransactItems=[guarded], ClientRequestToken="token-1")


def test_token_expires_after_ten_minutes(db: Backend, ddb: Any, table: str) -> None:
    if db.engine is None:
        pytest.skip("needs the local engine's injectable clock")
    now = [1_000_000.0]
    db.engine.clock = lambda: now[0]
    ddb.transact_write_items(TransactItems=[ADD_ONE], ClientRequestToken="token-1")
    now[0] += 599
    ddb.transact_write_items(TransactItems=[ADD_ONE], ClientRequestToken="token-1")
    assert db.get(K1) == {**K1, "n": {"N": "1"}}
    now[0] += 2  # 601 s after the first success: a new request
    ddb.transact_write_items(TransactItems=[ADD_ONE], ClientRequestToken="token-1")
    assert db.get(K1) == {**K1, "n": {"N": "2"}}


# --------------------------------------------------------------------------- indexes


def _gsi_table(db: Backend) -> None:
    db.create_table(
        "tbl",
        AttributeDefinitions=[
            {"AttributeName": "PK", "AttributeType": "S"},
            {"AttributeName": "SK", "AttributeType": "S"},
            {"AttributeName": "g", "AttributeType": "S"},
        ],
        GlobalSecondaryIndexes=[
            {
                "IndexName": "byG",
                "KeySchema": [{"AttributeName": "g", "KeyType": "HASH"}],
                "Projection": {"ProjectionType": "ALL"},
            }
        ],
    )


def test_transaction_maintains_a_gsi(db: Backend, ddb: Any) -> None:
    _gsi_table(db)
    db.put({**K2, "g": {"S": "old"}})
    ddb.transact_write_items(
        TransactItems=[
            _put({**K1, "g": {"S": "new"}}),
            _update(K2, "SET g = :g", ExpressionAttributeValues={":g": {"S": "new"}}),
        ]
    )
    found = ddb.query(
        TableName="tbl",
        IndexName="byG",
        KeyConditionExpression="g = :g",
        ExpressionAttributeValues={":g": {"S": "new"}},
    )["Items"]
    assert sorted(item["PK"]["S"] for item in found) == ["a", "b"]
    assert (
        ddb.query(
            TableName="tbl",
            IndexName="byG",
            KeyConditionExpression="g = :g",
            ExpressionAttributeValues={":g": {"S": "old"}},
        )["Items"]
        == []
    )


@pytest.mark.moto_differs("capacity")
def test_index_writes_count_in_the_capacity(db: Backend, ddb: Any) -> None:
    _gsi_table(db)
    response = ddb.transact_write_items(
        TransactItems=[_put({**K1, "g": {"S": "new"}}), _put(K2)], ReturnConsumedCapacity="INDEXES"
    )
    [capacity] = response["ConsumedCapacity"]
    assert capacity["Table"]["CapacityUnits"] == 2 * (1 + 1)
    # One small entry added to the GSI (K2 has no g: it is not in the index); the
    # ordinary rate is assumed for index writes (not confirmed against DynamoDB).
    assert capacity["GlobalSecondaryIndexes"] == {
        "byG": {"CapacityUnits": 1.0, "WriteCapacityUnits": 1.0}
    }
    assert capacity["CapacityUnits"] == 2 * (1 + 1) + 1


@pytest.mark.moto_differs("index-key-type")
def test_index_key_of_the_wrong_type_is_a_validation_error_reason(db: Backend, ddb: Any) -> None:
    _gsi_table(db)
    with raises("TransactionCanceledException", _cancelled(["None", "ValidationError"])) as info:
        ddb.transact_write_items(TransactItems=[_put(K2), _put({**K1, "g": {"N": "1"}})])
    assert _reasons(info)[1] == {
        "Code": "ValidationError",
        "Message": "One or more parameter values were invalid: Type mismatch for Index Key g "
        "Expected: S Actual: N IndexName: byG",
    }
    assert db.get(K2) is None


def test_empty_index_key_value_in_a_put_is_a_plain_error(db: Backend, ddb: Any) -> None:
    _gsi_table(db)
    message = (
        "One or more parameter values are not valid. A value specified for a secondary index "
        "key is not supported. The AttributeValue for a key attribute cannot contain an empty "
        "string value. IndexName: byG, IndexKey: g"
    )
    with raises("ValidationException", message):
        ddb.transact_write_items(TransactItems=[_put(K2), _put({**K1, "g": {"S": ""}})])
