"""Fault injection on the engine (``engine.faults``): selectors, effects, scope.

Every fault answers with DynamoDB's own error code, message and HTTP status, and a
failed request changes nothing.
"""

from __future__ import annotations

import json
import time
from typing import Any

import pytest

from singletable.backends.local import LocalEngine
from singletable.backends.local._faults import ERRORS, Faults
from singletable.backends.local.errors import DynamoDBError


def make_table(engine: LocalEngine, name: str = "tbl", *, gsi: bool = False) -> None:
    request: dict[str, Any] = {
        "TableName": name,
        "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}],
        "AttributeDefinitions": [{"AttributeName": "pk", "AttributeType": "S"}],
        "BillingMode": "PAY_PER_REQUEST",
    }
    if gsi:
        request["AttributeDefinitions"].append({"AttributeName": "g", "AttributeType": "S"})
        request["GlobalSecondaryIndexes"] = [
            {
                "IndexName": "by_g",
                "KeySchema": [{"AttributeName": "g", "KeyType": "HASH"}],
                "Projection": {"ProjectionType": "ALL"},
            }
        ]
    engine.call("CreateTable", request)


def put(engine: LocalEngine, pk: str, table: str = "tbl") -> dict[str, Any]:
    return engine.call("PutItem", {"TableName": table, "Item": {"pk": {"S": pk}}})


def count(engine: LocalEngine, table: str = "tbl") -> int:
    return int(engine.call("Scan", {"TableName": table, "Select": "COUNT"})["Count"])


@pytest.fixture
def engine() -> Any:
    with LocalEngine(ttl_sweep_interval=None) as engine:
        make_table(engine)
        yield engine


@pytest.mark.parametrize(
    ("code", "status"),
    [
        ("ProvisionedThroughputExceededException", 400),
        ("ThrottlingException", 400),
        ("RequestLimitExceeded", 400),
        ("InternalServerError", 500),
        ("ServiceUnavailable", 503),
        ("TransactionConflictException", 400),
    ],
)
def test_each_error_has_dynamodbs_code_message_and_status(
    engine: LocalEngine, code: str, status: int
) -> None:
    with engine.faults.inject(code, operation="PutItem"):
        with pytest.raises(DynamoDBError) as raised:
            put(engine, "a")
        assert raised.value.code == code
        assert raised.value.message == ERRORS[code]
        http_status, body = engine.call_json(
            "PutItem", '{"TableName":"tbl","Item":{"pk":{"S":"b"}}}'
        )
        assert http_status == status
        assert json.loads(body) == {
            "__type": f"com.amazonaws.dynamodb.v20120810#{code}",
            "message": ERRORS[code],
        }
    assert count(engine) == 0  # the failed requests changed nothing
    put(engine, "a")  # the rule is gone with its with block
    assert count(engine) == 1


def test_throughput_message_names_the_index(engine: LocalEngine) -> None:
    make_table(engine, "gtab", gsi=True)
    query = {
        "TableName": "gtab",
        "IndexName": "by_g",
        "KeyConditionExpression": "g = :g",
        "ExpressionAttributeValues": {":g": {"S": "x"}},
    }
    with engine.faults.inject("ProvisionedThroughputExceededException", index="by_g"):
        with pytest.raises(DynamoDBError, match="global secondary indexes"):
            engine.call("Query", query)
        # A request without the index is not selected.
        engine.call("Scan", {"TableName": "gtab"})


def test_nth_matching_call_and_times(engine: LocalEngine) -> None:
    fault = engine.faults.inject("ThrottlingException", operation="PutItem", nth=2)
    put(engine, "1")
    engine.call("GetItem", {"TableName": "tbl", "Key": {"pk": {"S": "1"}}})  # not matching
    with pytest.raises(DynamoDBError):
        put(engine, "2")
    put(engine, "3")  # once by default with nth
    assert (fault.matched, fault.fired) == (3, 1)
    fault.remove()
    every = engine.faults.inject("ThrottlingException", operation="PutItem", nth=2, times=2)
    outcomes = []
    for n in range(5):
        try:
            put(engine, f"x{n}")
            outcomes.append("ok")
        except DynamoDBError:
            outcomes.append("throttled")
    assert outcomes == ["ok", "throttled", "throttled", "ok", "ok"]
    assert every.fired == 2


def test_table_and_key_predicate(engine: LocalEngine) -> None:
    make_table(engine, "other")
    engine.faults.inject("InternalServerError", table="tbl", key={"pk": {"S": "bad"}})
    put(engine, "good")
    put(engine, "bad", table="other")  # another table
    with pytest.raises(DynamoDBError, match="Internal server error"):
        put(engine, "bad")
    with pytest.raises(DynamoDBError):
        engine.call("GetItem", {"TableName": "tbl", "Key": {"pk": {"S": "bad"}}})
    engine.call("Scan", {"TableName": "tbl"})  # names no item: never selected by a key
    engine.faults.clear()
    engine.faults.inject("InternalServerError", key=lambda key: key["pk"]["S"].startswith("z"))
    put(engine, "a")
    with pytest.raises(DynamoDBError):
        put(engine, "zed")


def test_seeded_probability_is_reproducible(engine: LocalEngine) -> None:
    def run(seed: int) -> list[bool]:
        with engine.faults.inject("ThrottlingException", probability=0.5, seed=seed):
            results = []
            for n in range(40):
                try:
                    engine.call("GetItem", {"TableName": "tbl", "Key": {"pk": {"S": str(n)}}})
                    results.append(True)
                except DynamoDBError:
                    results.append(False)
            return results

    first = run(7)
    assert first == run(7)
    assert 5 < first.count(False) < 35
    assert first != run(8)


def test_latency(engine: LocalEngine) -> None:
    with engine.faults.inject(latency=0.2, operation="GetItem") as fault:
        put(engine, "a")
        started = time.perf_counter()
        engine.call("GetItem", {"TableName": "tbl", "Key": {"pk": {"S": "a"}}})
        assert time.perf_counter() - started >= 0.2
    assert fault.fired == 1


def test_batch_write_leaves_items_unprocessed(engine: LocalEngine) -> None:
    writes = [{"PutRequest": {"Item": {"pk": {"S": f"i{n}"}}}} for n in range(5)]
    with engine.faults.inject(unprocessed=2, operation="BatchWriteItem"):
        response = engine.call("BatchWriteItem", {"RequestItems": {"tbl": writes}})
    assert response["UnprocessedItems"] == {"tbl": writes[3:]}
    assert count(engine) == 3
    again = engine.call("BatchWriteItem", {"RequestItems": response["UnprocessedItems"]})
    assert again["UnprocessedItems"] == {}
    assert count(engine) == 5


def test_batch_write_all_unprocessed_by_key(engine: LocalEngine) -> None:
    writes = [{"PutRequest": {"Item": {"pk": {"S": "hot"}}}}]
    with engine.faults.inject(unprocessed=10, operation="BatchWriteItem", key={"pk": {"S": "hot"}}):
        response = engine.call("BatchWriteItem", {"RequestItems": {"tbl": writes}})
    assert response == {"UnprocessedItems": {"tbl": writes}}
    assert count(engine) == 0


def test_batch_get_leaves_keys_unprocessed(engine: LocalEngine) -> None:
    for n in range(4):
        put(engine, f"k{n}")
    keys = [{"pk": {"S": f"k{n}"}} for n in range(4)]
    request = {"RequestItems": {"tbl": {"Keys": keys, "ConsistentRead": True}}}
    with engine.faults.inject(unprocessed=1, operation="BatchGetItem"):
        response = engine.call("BatchGetItem", request)
    assert response["UnprocessedKeys"] == {"tbl": {"Keys": keys[3:], "ConsistentRead": True}}
    assert sorted(i["pk"]["S"] for i in response["Responses"]["tbl"]) == ["k0", "k1", "k2"]


def test_transaction_conflict_names_the_action(engine: LocalEngine) -> None:
    actions = [
        {"Put": {"TableName": "tbl", "Item": {"pk": {"S": "a"}}}},
        {"Put": {"TableName": "tbl", "Item": {"pk": {"S": "b"}}}},
    ]
    with engine.faults.inject("TransactionConflictException", key={"pk": {"S": "b"}}):
        with pytest.raises(DynamoDBError) as raised:
            engine.call("TransactWriteItems", {"TransactItems": actions})
        # A single-item write on the conflicting item: TransactionConflictException.
        with pytest.raises(DynamoDBError) as single:
            put(engine, "b")
    assert raised.value.code == "TransactionCanceledException"
    assert raised.value.message == (
        "Transaction cancelled, please refer cancellation reasons for specific reasons "
        "[None, TransactionConflict]"
    )
    assert raised.value.extra["CancellationReasons"] == [
        {"Code": "None"},
        {"Code": "TransactionConflict", "Message": "Transaction is ongoing for the item"},
    ]
    assert single.value.code == "TransactionConflictException"
    assert count(engine) == 0


def test_first_rule_decides_and_latency_adds_up(engine: LocalEngine) -> None:
    engine.faults.inject(latency=0.05)
    engine.faults.inject("ThrottlingException", operation="PutItem")
    engine.faults.inject("InternalServerError", operation="PutItem")
    with pytest.raises(DynamoDBError) as raised:
        put(engine, "a")
    assert raised.value.code == "ThrottlingException"


@pytest.mark.parametrize(
    ("args", "kwargs", "problem"),
    [
        (("NoSuchError",), {}, "unknown error"),
        (("ThrottlingException",), {"operation": "PutItems"}, "unknown operation"),
        ((), {"unprocessed": 1, "operation": "PutItem"}, "BatchWriteItem and BatchGetItem"),
        ((), {}, "needs an error"),
        (("ThrottlingException",), {"nth": 0}, "nth counts from 1"),
        (("ThrottlingException",), {"probability": 2}, "between 0 and 1"),
    ],
)
def test_bad_rules_are_refused(
    engine: LocalEngine, args: tuple[str, ...], kwargs: dict[str, Any], problem: str
) -> None:
    with pytest.raises(ValueError, match=problem):
        engine.faults.inject(*args, **kwargs)
    assert not engine.faults.rules
    put(engine, "a")


def test_rules_from_json(engine: LocalEngine) -> None:
    engine.faults.load(
        json.loads(
            '[{"error": "ThrottlingException", "operation": "PutItem", "key": {"pk": {"S": "x"}}}]'
        )
    )
    put(engine, "y")
    with pytest.raises(DynamoDBError):
        put(engine, "x")


def test_a_malformed_request_still_gets_its_validation_error(engine: LocalEngine) -> None:
    fault = engine.faults.inject(unprocessed=1, operation="BatchWriteItem")
    with fault, pytest.raises(DynamoDBError) as raised:
        engine.call("BatchWriteItem", {"RequestItems": {"tbl": {"not": "a list"}}})
    assert raised.value.code in ("ValidationException", "SerializationException")


def test_fixture_scopes_rules_to_the_test(
    dynamodb_engine: LocalEngine, dynamodb_faults: Faults
) -> None:
    make_table(dynamodb_engine)
    dynamodb_faults.inject("RequestLimitExceeded", operation="PutItem")
    with pytest.raises(DynamoDBError, match="Throughput exceeds the current throughput limit"):
        put(dynamodb_engine, "a")
    assert dynamodb_engine.faults is dynamodb_faults
