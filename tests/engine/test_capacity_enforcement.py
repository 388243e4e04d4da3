"""``engine.enforce_capacity()``: token buckets at the provisioned throughput (with
burst capacity), the on-demand per-table quota, per-partition-key limits; DynamoDB's
throttling errors, partial batches and cancelled transactions. Time is the engine's
injected clock, so every count here is exact."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from singletable.backends.local import DynamoDBError, LocalEngine

PROVISIONED_TABLE = (
    "The level of configured provisioned throughput for the table was exceeded. "
    "Consider increasing your provisioning level with the UpdateTable API."
)
PROVISIONED_INDEX = (
    "The level of configured provisioned throughput for one or more global secondary "
    "indexes of the table was exceeded. Consider increasing your provisioning level for "
    "the under-provisioned global secondary indexes with the UpdateTable API"
)
ON_DEMAND = (
    "Throughput exceeds the current capacity of your table or index. DynamoDB is "
    "automatically scaling your table or index so please try again shortly. If exceptions "
    "persist, check if you have a hot key: "
    "https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/bp-partition-key-design.html"
)
ARN = "arn:aws:dynamodb:us-east-1:000000000000:table/"


class Clock:
    def __init__(self) -> None:
        self.now = 1_000_000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def engine(clock: Clock) -> Iterator[LocalEngine]:
    with LocalEngine(ttl_sweep_interval=None, clock=clock) as engine:
        yield engine


def create(
    engine: LocalEngine,
    name: str,
    read: int | None = None,
    write: int | None = None,
    *,
    gsi: tuple[int, int] | None = None,
    on_demand_gsi: bool = False,
) -> None:
    request: dict[str, Any] = {
        "TableName": name,
        "KeySchema": [
            {"AttributeName": "pk", "KeyType": "HASH"},
            {"AttributeName": "sk", "KeyType": "RANGE"},
        ],
        "AttributeDefinitions": [
            {"AttributeName": "pk", "AttributeType": "S"},
            {"AttributeName": "sk", "AttributeType": "S"},
        ],
    }
    if read is None:
        request["BillingMode"] = "PAY_PER_REQUEST"
    else:
        request["ProvisionedThroughput"] = {"ReadCapacityUnits": read, "WriteCapacityUnits": write}
    if gsi is not None or on_demand_gsi:
        request["AttributeDefinitions"].append({"AttributeName": "g", "AttributeType": "S"})
        index: dict[str, Any] = {
            "IndexName": "by_g",
            "KeySchema": [{"AttributeName": "g", "KeyType": "HASH"}],
            "Projection": {"ProjectionType": "ALL"},
        }
        if gsi is not None:
            index["ProvisionedThroughput"] = {
                "ReadCapacityUnits": gsi[0],
                "WriteCapacityUnits": gsi[1],
            }
        request["GlobalSecondaryIndexes"] = [index]
    engine.call("CreateTable", request)


def item(pk: str, sk: str = "s", size: int = 0, **extra: str) -> dict[str, Any]:
    result: dict[str, Any] = {"pk": {"S": pk}, "sk": {"S": sk}}
    if size:
        result["data"] = {"S": "x" * size}
    for name, value in extra.items():
        result[name] = {"S": value}
    return result


def put(engine: LocalEngine, table: str, value: dict[str, Any]) -> dict[str, Any]:
    return engine.call("PutItem", {"TableName": table, "Item": value})


def puts_until_throttled(engine: LocalEngine, table: str, limit: int = 5000) -> int:
    """How many distinct small items go in before the first throttle."""
    for n in range(limit):
        try:
            put(engine, table, item(f"k{n}-{id(engine)}", sk=str(n)))
        except DynamoDBError as error:
            assert error.code in ("ProvisionedThroughputExceededException", "ThrottlingException")
            return n
    return limit


def count(engine: LocalEngine, table: str) -> int:
    return int(engine.call("Scan", {"TableName": table, "Select": "COUNT"})["Count"])


# --------------------------------------------------------------------------- off/on


def test_off_by_default(engine: LocalEngine) -> None:
    create(engine, "tbl", 1, 1)
    for n in range(50):
        put(engine, "tbl", item(f"k{n}"))
    assert count(engine, "tbl") == 50


def test_enforced_per_region(engine: LocalEngine) -> None:
    """Each region keeps its own tables, so enforcement is turned on per region."""
    europe = engine.in_region("eu-west-1")
    create(engine, "tbl", 1, 1)
    create(europe, "tbl", 1, 1)
    with europe.enforce_capacity() as enforcement:
        put(europe, "tbl", item("a"))
        with pytest.raises(DynamoDBError) as caught:
            put(europe, "tbl", item("b"))
        assert caught.value.code == "ProvisionedThroughputExceededException"
        for n in range(10):  # the home region is not enforced
            put(engine, "tbl", item(f"k{n}"))
        assert enforcement.throttled == 1
    assert count(engine, "tbl") == 10
    with engine.enforce_capacity():
        put(engine, "tbl", item("c"))
        put(europe, "tbl", item("b"))  # europe's enforcement ended with its block
        with pytest.raises(DynamoDBError):
            put(engine, "tbl", item("d"))


def test_with_block_turns_it_off_again(engine: LocalEngine) -> None:
    create(engine, "tbl", 1, 1)
    with engine.enforce_capacity() as enforcement:
        put(engine, "tbl", item("a"))
        with pytest.raises(DynamoDBError):
            put(engine, "tbl", item("b"))
        assert enforcement.throttled == 1
    for n in range(10):
        put(engine, "tbl", item(f"k{n}"))
    assert engine._intercept is None  # nothing left on the request path


# --------------------------------------------------------------------------- provisioned


def test_provisioned_table_throttles_at_its_write_units(engine: LocalEngine) -> None:
    create(engine, "tbl", 5, 5)
    engine.enforce_capacity()
    for n in range(5):
        put(engine, "tbl", item(f"k{n}"))
    with pytest.raises(DynamoDBError) as caught:
        put(engine, "tbl", item("late"))
    error = caught.value
    assert error.code == "ProvisionedThroughputExceededException"
    assert error.message == PROVISIONED_TABLE
    assert error.extra["ThrottlingReasons"] == [
        {"reason": "TableWriteProvisionedThroughputExceeded", "resource": ARN + "tbl"}
    ]
    assert count(engine, "tbl") == 5  # the throttled write changed nothing


def test_capacity_refills_with_time(engine: LocalEngine, clock: Clock) -> None:
    create(engine, "tbl", 5, 5)
    engine.enforce_capacity()
    assert puts_until_throttled(engine, "tbl") == 5
    clock.now += 1
    assert puts_until_throttled(engine, "tbl") == 5
    clock.now += 0.4
    assert puts_until_throttled(engine, "tbl") == 2  # 2 units refilled: two writes


def test_burst_capacity_keeps_300_seconds_of_unused_capacity(
    engine: LocalEngine, clock: Clock
) -> None:
    create(engine, "tbl", 1, 2)
    clock.now += 100  # before enforcement: nothing accrues
    engine.enforce_capacity()
    clock.now += 10  # 2 + 10 s x 2 units unused
    assert puts_until_throttled(engine, "tbl") == 22
    clock.now += 3600  # capped at 300 s x 2 units
    assert puts_until_throttled(engine, "tbl") == 600


def test_burst_seconds_is_configurable(engine: LocalEngine, clock: Clock) -> None:
    create(engine, "tbl", 1, 2)
    engine.enforce_capacity(burst_seconds=1)
    clock.now += 3600
    assert puts_until_throttled(engine, "tbl") == 2


def test_reads_cost_as_consumed_capacity_reports(engine: LocalEngine, clock: Clock) -> None:
    create(engine, "tbl", 1, 100)
    put(engine, "tbl", item("small"))
    put(engine, "tbl", item("big", size=10_000))  # 3 read units consistent
    engine.enforce_capacity()
    key = {"pk": {"S": "small"}, "sk": {"S": "s"}}
    engine.call("GetItem", {"TableName": "tbl", "Key": key})  # eventual: half a unit
    engine.call("GetItem", {"TableName": "tbl", "Key": key})
    with pytest.raises(DynamoDBError, match="provisioned throughput"):
        engine.call("GetItem", {"TableName": "tbl", "Key": key})
    clock.now += 1
    big = {"pk": {"S": "big"}, "sk": {"S": "s"}}
    # One unit left: the 3-unit read is admitted, and the table owes 2 units after it.
    engine.call("GetItem", {"TableName": "tbl", "Key": big, "ConsistentRead": True})
    clock.now += 2
    with pytest.raises(DynamoDBError):
        engine.call("GetItem", {"TableName": "tbl", "Key": key})
    clock.now += 0.5
    engine.call("GetItem", {"TableName": "tbl", "Key": key})


def test_responses_keep_the_consumed_capacity_asked_for(engine: LocalEngine) -> None:
    create(engine, "tbl", 10, 10)
    engine.enforce_capacity()
    plain = put(engine, "tbl", item("a"))
    assert "ConsumedCapacity" not in plain
    total = engine.call(
        "PutItem", {"TableName": "tbl", "Item": item("b"), "ReturnConsumedCapacity": "TOTAL"}
    )
    assert total["ConsumedCapacity"] == {"TableName": "tbl", "CapacityUnits": 1.0}


def test_update_table_changes_take_effect(engine: LocalEngine, clock: Clock) -> None:
    create(engine, "tbl", 1, 1)
    engine.enforce_capacity()
    assert puts_until_throttled(engine, "tbl") == 1
    engine.call(
        "UpdateTable",
        {
            "TableName": "tbl",
            "ProvisionedThroughput": {"ReadCapacityUnits": 1, "WriteCapacityUnits": 50},
        },
    )
    clock.now += 1
    assert puts_until_throttled(engine, "tbl") == 50
    engine.call("UpdateTable", {"TableName": "tbl", "BillingMode": "PAY_PER_REQUEST"})
    clock.now += 1
    assert puts_until_throttled(engine, "tbl", limit=300) == 300  # on-demand now


def test_a_failed_condition_still_spends_a_write_unit(engine: LocalEngine) -> None:
    create(engine, "tbl", 1, 2)
    engine.enforce_capacity()
    put(engine, "tbl", item("a"))
    with pytest.raises(DynamoDBError) as caught:
        engine.call(
            "PutItem",
            {
                "TableName": "tbl",
                "Item": item("a"),
                "ConditionExpression": "attribute_not_exists(pk)",
            },
        )
    assert caught.value.code == "ConditionalCheckFailedException"
    with pytest.raises(DynamoDBError) as caught:
        put(engine, "tbl", item("b"))
    assert caught.value.code == "ProvisionedThroughputExceededException"


def test_a_recreated_table_starts_with_its_own_buckets(engine: LocalEngine) -> None:
    create(engine, "tbl", 1, 1)
    engine.enforce_capacity()
    assert puts_until_throttled(engine, "tbl") == 1
    engine.call("DeleteTable", {"TableName": "tbl"})
    create(engine, "tbl", 1, 3)
    assert puts_until_throttled(engine, "tbl") == 3


# --------------------------------------------------------------------------- GSIs


def test_a_write_throttles_on_an_under_provisioned_gsi(engine: LocalEngine) -> None:
    create(engine, "tbl", 100, 100, gsi=(1, 1))
    engine.enforce_capacity()
    put(engine, "tbl", item("a", g="x"))  # the GSI's one unit
    with pytest.raises(DynamoDBError) as caught:
        put(engine, "tbl", item("b", g="y"))
    assert caught.value.code == "ProvisionedThroughputExceededException"
    assert caught.value.message == PROVISIONED_INDEX
    assert caught.value.extra["ThrottlingReasons"] == [
        {"reason": "IndexWriteProvisionedThroughputExceeded", "resource": ARN + "tbl/index/by_g"}
    ]


def test_a_query_on_a_gsi_spends_the_gsi_read_units(engine: LocalEngine) -> None:
    create(engine, "tbl", 100, 100, gsi=(1, 100))
    put(engine, "tbl", item("a", g="x"))
    engine.enforce_capacity()
    query = {
        "TableName": "tbl",
        "IndexName": "by_g",
        "KeyConditionExpression": "g = :g",
        "ExpressionAttributeValues": {":g": {"S": "x"}},
    }
    engine.call("Query", query)
    engine.call("Query", query)
    with pytest.raises(DynamoDBError) as caught:
        engine.call("Query", query)
    assert caught.value.message == PROVISIONED_INDEX
    assert caught.value.extra["ThrottlingReasons"][0]["reason"] == (
        "IndexReadProvisionedThroughputExceeded"
    )
    # The table's own read units are untouched.
    engine.call("GetItem", {"TableName": "tbl", "Key": {"pk": {"S": "a"}, "sk": {"S": "s"}}})


# --------------------------------------------------------------------------- on-demand


def test_a_hot_key_is_throttled_on_an_on_demand_table(engine: LocalEngine) -> None:
    create(engine, "tbl")
    engine.enforce_capacity()
    written = 0
    with pytest.raises(DynamoDBError) as caught:
        for n in range(200):
            put(engine, "tbl", item("hot", sk=str(n), size=9_000))  # 9 write units
            written += 1
    assert written == 112  # 1,000 units a second for one partition key: 112 x 9 > 1000
    error = caught.value
    assert error.code == "ThrottlingException"
    assert error.message == ON_DEMAND
    assert error.extra["ThrottlingReasons"] == [
        {"reason": "TableWriteKeyRangeThroughputExceeded", "resource": ARN + "tbl"}
    ]
    put(engine, "tbl", item("cold", size=9_000))  # another key is not hot


def test_a_hot_gsi_key_is_throttled(engine: LocalEngine) -> None:
    create(engine, "tbl", on_demand_gsi=True)
    engine.enforce_capacity()
    written = 0
    with pytest.raises(DynamoDBError) as caught:
        for n in range(200):  # every item a table key of its own, all in one GSI partition
            put(engine, "tbl", item(f"k{n}", size=9_000, g="open"))
            written += 1
    assert written == 112  # 9 units each in the GSI: past 1,000 on the 112th
    assert caught.value.code == "ThrottlingException"
    assert caught.value.extra["ThrottlingReasons"] == [
        {"reason": "IndexWriteKeyRangeThroughputExceeded", "resource": ARN + "tbl/index/by_g"}
    ]
    put(engine, "tbl", item("other", size=9_000, g="closed"))  # another GSI key
    put(engine, "tbl", item("sparse", size=9_000))  # not in the GSI at all


def test_a_batch_shares_its_gsi_units_among_the_items_that_wrote_them(
    engine: LocalEngine,
) -> None:
    create(engine, "tbl", on_demand_gsi=True)
    engine.enforce_capacity()
    for round_ in range(4):  # 4 x 25 items of 9 units, in the GSI partition "open"
        requests = [
            {"PutRequest": {"Item": item(f"k{round_}-{n}", size=9_000, g="open")}}
            for n in range(25)
        ]
        engine.call("BatchWriteItem", {"RequestItems": {"tbl": requests}})
    requests = [
        {"PutRequest": {"Item": item(f"late{n}", size=9_000, g=g)}}
        for n, g in enumerate(["open"] * 20 + ["closed"] * 5)
    ]
    response = engine.call("BatchWriteItem", {"RequestItems": {"tbl": requests}})
    # 900 of 1,000 units spent: 12 more "open" items go in (the 12th past the limit).
    assert response["UnprocessedItems"] == {"tbl": requests[12:20]}


def test_a_hot_key_on_a_provisioned_table_is_a_throughput_error(engine: LocalEngine) -> None:
    create(engine, "tbl", 40_000, 40_000)
    engine.enforce_capacity()
    with pytest.raises(DynamoDBError) as caught:
        for n in range(200):
            put(engine, "tbl", item("hot", sk=str(n), size=9_000))
    assert caught.value.code == "ProvisionedThroughputExceededException"
    assert caught.value.extra["ThrottlingReasons"][0]["reason"] == (
        "TableWriteKeyRangeThroughputExceeded"
    )


def test_a_hot_partition_read_by_query_is_throttled(engine: LocalEngine) -> None:
    create(engine, "tbl")
    for n in range(10):
        put(engine, "tbl", item("hot", sk=str(n), size=390_000))
    engine.enforce_capacity()
    # A strongly consistent Query of the partition: a page of 1 MB (3 items) a time.
    query: dict[str, Any] = {
        "TableName": "tbl",
        "KeyConditionExpression": "pk = :p",
        "ExpressionAttributeValues": {":p": {"S": "hot"}},
        "ConsistentRead": True,
    }
    pages = 0
    with pytest.raises(DynamoDBError) as caught:
        for _ in range(100):
            engine.call("Query", query)
            pages += 1
    assert caught.value.extra["ThrottlingReasons"][0]["reason"] == (
        "TableReadKeyRangeThroughputExceeded"
    )
    assert pages == 11  # 286 units a page (3 items of 390 KB): the 11th takes it past 3,000


def test_partition_limits_can_be_turned_off(engine: LocalEngine) -> None:
    create(engine, "tbl")
    engine.enforce_capacity(partition_limits=False)
    for n in range(200):
        put(engine, "tbl", item("hot", sk=str(n), size=9_000))


def test_on_demand_tables_have_a_table_quota(engine: LocalEngine) -> None:
    create(engine, "tbl")
    engine.enforce_capacity(table_quota=50)
    assert puts_until_throttled(engine, "tbl") == 50
    with pytest.raises(DynamoDBError) as caught:
        put(engine, "tbl", item("other"))
    assert caught.value.code == "ThrottlingException"
    assert caught.value.extra["ThrottlingReasons"] == [
        {"reason": "TableWriteAccountLimitExceeded", "resource": ARN + "tbl"}
    ]


# --------------------------------------------------------------------------- batches


def test_batch_write_hands_back_the_throttled_items(engine: LocalEngine) -> None:
    create(engine, "tbl", 5, 5)
    engine.enforce_capacity()
    requests = [{"PutRequest": {"Item": item(f"k{n}")}} for n in range(8)]
    response = engine.call("BatchWriteItem", {"RequestItems": {"tbl": requests}})
    assert response["UnprocessedItems"] == {"tbl": requests[5:]}
    assert count(engine, "tbl") == 5


def test_batch_write_fails_when_no_item_can_be_processed(engine: LocalEngine) -> None:
    create(engine, "tbl", 1, 1)
    engine.enforce_capacity()
    put(engine, "tbl", item("a"))
    requests = [{"PutRequest": {"Item": item(f"k{n}")}} for n in range(3)]
    with pytest.raises(DynamoDBError) as caught:
        engine.call("BatchWriteItem", {"RequestItems": {"tbl": requests}})
    assert caught.value.code == "ProvisionedThroughputExceededException"


def test_batch_write_across_tables_throttles_only_the_exhausted_one(engine: LocalEngine) -> None:
    create(engine, "tight", 1, 1)
    create(engine, "roomy", 100, 100)
    engine.enforce_capacity()
    put(engine, "tight", item("a"))
    tight = [{"PutRequest": {"Item": item("b")}}]
    roomy = [{"PutRequest": {"Item": item(f"k{n}")}} for n in range(3)]
    response = engine.call(
        "BatchWriteItem",
        {"RequestItems": {"tight": tight, "roomy": roomy}, "ReturnConsumedCapacity": "TOTAL"},
    )
    assert response["UnprocessedItems"] == {"tight": tight}
    assert response["ConsumedCapacity"] == [{"TableName": "roomy", "CapacityUnits": 3.0}]
    assert count(engine, "roomy") == 3


def test_batch_get_hands_back_the_throttled_keys(engine: LocalEngine) -> None:
    create(engine, "tbl", 1, 10)
    for n in range(4):
        put(engine, "tbl", item(f"k{n}"))
    engine.enforce_capacity()
    keys = [{"pk": {"S": f"k{n}"}, "sk": {"S": "s"}} for n in range(4)]
    response = engine.call(
        "BatchGetItem", {"RequestItems": {"tbl": {"Keys": keys, "ConsistentRead": True}}}
    )
    assert len(response["Responses"]["tbl"]) == 1
    assert response["UnprocessedKeys"] == {"tbl": {"Keys": keys[1:], "ConsistentRead": True}}


# --------------------------------------------------------------------------- transactions


def test_transaction_is_cancelled_with_the_throttled_actions_reasons(
    engine: LocalEngine,
) -> None:
    create(engine, "tight", 1, 1)
    create(engine, "roomy", 100, 100)
    engine.enforce_capacity()
    put(engine, "tight", item("a"))
    with pytest.raises(DynamoDBError) as caught:
        engine.call(
            "TransactWriteItems",
            {
                "TransactItems": [
                    {"Put": {"TableName": "roomy", "Item": item("x")}},
                    {"Put": {"TableName": "tight", "Item": item("y")}},
                ]
            },
        )
    error = caught.value
    assert error.code == "TransactionCanceledException"
    assert error.message == (
        "Transaction cancelled, please refer cancellation reasons for specific reasons "
        "[None, ProvisionedThroughputExceeded]"
    )
    assert error.extra["CancellationReasons"] == [
        {"Code": "None"},
        {"Code": "ProvisionedThroughputExceeded", "Message": PROVISIONED_TABLE},
    ]
    assert count(engine, "roomy") == 0  # nothing of a cancelled transaction is written


def test_transaction_on_a_hot_key_is_cancelled_with_throttling_error(
    engine: LocalEngine,
) -> None:
    create(engine, "tbl")
    engine.enforce_capacity()
    with pytest.raises(DynamoDBError) as caught:
        for n in range(100):  # a transactional write costs twice: 18 units each
            engine.call(
                "TransactWriteItems",
                {
                    "TransactItems": [
                        {"Put": {"TableName": "tbl", "Item": item("hot", str(n), size=9_000)}}
                    ]
                },
            )
    assert caught.value.extra["CancellationReasons"] == [
        {"Code": "ThrottlingError", "Message": ON_DEMAND}
    ]


# --------------------------------------------------------------------------- with others


def test_throttled_requests_are_not_metered(engine: LocalEngine) -> None:
    create(engine, "tbl", 2, 2)
    engine.enforce_capacity()
    with engine.capacity() as used:
        for n in range(4):
            with contextlib.suppress(DynamoDBError):
                put(engine, "tbl", item(f"k{n}"))
    assert used.write_units == 2.0
    assert used.requests == 2


def test_boto3_sees_dynamodb_errors(engine: LocalEngine) -> None:
    from singletable.testing import local_dynamodb

    create(engine, "tbl", 1, 1)
    engine.enforce_capacity()
    with local_dynamodb(engine=engine):
        client = boto3.client(
            "dynamodb",
            region_name="us-east-1",
            config=Config(retries={"total_max_attempts": 1, "mode": "standard"}),
        )
        client.put_item(TableName="tbl", Item=item("a"))
        with pytest.raises(ClientError) as caught:
            client.put_item(TableName="tbl", Item=item("b"))
    response = caught.value.response
    assert response["Error"]["Code"] == "ProvisionedThroughputExceededException"
    assert response["Error"]["Message"] == PROVISIONED_TABLE
    assert response["ThrottlingReasons"][0]["reason"] == "TableWriteProvisionedThroughputExceeded"
