"""Results that must be DynamoDB's: contains() on binary, remove-only updates of a
missing item, GSI backfill, list appends in index order, KeyConditions beside
expressions (issue 14, items 1-5).

Sources, per test: API Reference "Condition" (CONTAINS on Binary),
"AttributeValueUpdate" (DELETE of a missing item), Developer Guide "Detecting and
correcting index key violations in DynamoDB" (backfill), "Update expressions"
(list elements past the end).
"""

from __future__ import annotations

from typing import Any

import boto3
import pytest
from ddbtest import REGION, Backend

MOTO_DIFFERENCES = {
    "contains-binary": "moto's contains() on a Binary attribute compares the base64 text, not "
    "the bytes; DynamoDB looks for the operand's bytes as a subsequence of the value's.",
    "remove-creates": "moto creates a key-only item when an UpdateItem that only removes "
    "attributes targets a missing item; DynamoDB creates nothing.",
    "backfill": "moto puts items with a wrong-typed, empty or over-long key attribute into a "
    "GSI added by UpdateTable; DynamoDB leaves them out of the index.",
    "append-order": "moto appends the elements of 'SET l[5] = :a, l[3] = :b' in expression "
    "order; DynamoDB appends them in index order.",
    "key-conditions-mix": "moto does not refuse an ExpressionAttributeValues member that the "
    "FilterExpression beside legacy KeyConditions leaves unused; DynamoDB refuses unused "
    "values in every request.",
}

KEY = {"PK": {"S": "p"}, "SK": {"S": "s"}}


def _b(data: bytes) -> dict[str, Any]:
    """A Binary AttributeValue as boto3's low-level client takes it (raw bytes)."""
    return {"B": data}


# --------------------------------------------------------------------------- 1. contains on B


@pytest.fixture
def binary_items(db: Backend, table: str) -> None:
    db.put(
        {"PK": {"S": "p"}, "SK": {"S": "b1"}, "b": _b(b"\x00\x01\x02\x03"), "bs": {"BS": [b"ab"]}},
        {"PK": {"S": "p"}, "SK": {"S": "b2"}, "b": _b(b"\xff\xfe"), "bs": {"BS": [b"cd", b"ef"]}},
    )


def _scan_keys(ddb: Any, **request: Any) -> list[str]:
    items = ddb.scan(TableName="tbl", **request)["Items"]
    return sorted(item["SK"]["S"] for item in items)


@pytest.mark.moto_differs("contains-binary")
def test_contains_on_binary_is_a_byte_substring_match(ddb: Any, binary_items: None) -> None:
    # API Reference, Condition: for CONTAINS on a Binary target "the operator looks for a
    # subsequence of the target that matches the input".
    def matching(operand: bytes) -> list[str]:
        return _scan_keys(
            ddb,
            FilterExpression="contains(b, :v)",
            ExpressionAttributeValues={":v": _b(operand)},
        )

    assert matching(b"\x01\x02") == ["b1"]
    assert matching(b"\x00\x01\x02\x03") == ["b1"]
    assert matching(b"\xfe") == ["b2"]
    assert matching(b"\x02\x01") == []  # a subsequence in order, not a set of bytes
    # An operand of another type never matches a Binary value.
    assert _scan_keys(
        ddb, FilterExpression="contains(b, :v)", ExpressionAttributeValues={":v": {"S": "AQI="}}
    ) == []


def test_contains_on_a_binary_set_is_membership(ddb: Any, binary_items: None) -> None:
    def matching(operand: bytes) -> list[str]:
        return _scan_keys(
            ddb,
            FilterExpression="contains(bs, :v)",
            ExpressionAttributeValues={":v": _b(operand)},
        )

    assert matching(b"ab") == ["b1"]
    assert matching(b"ef") == ["b2"]
    assert matching(b"e") == []  # members match whole, not as substrings


def test_legacy_contains_and_not_contains_on_binary(ddb: Any, binary_items: None) -> None:
    def matching(operator: str, attribute: str, operand: bytes) -> list[str]:
        condition = {"ComparisonOperator": operator, "AttributeValueList": [_b(operand)]}
        return _scan_keys(ddb, ScanFilter={attribute: condition})

    assert matching("CONTAINS", "b", b"\x02\x03") == ["b1"]
    assert matching("NOT_CONTAINS", "b", b"\x02\x03") == ["b2"]
    assert matching("CONTAINS", "bs", b"cd") == ["b2"]
    assert matching("NOT_CONTAINS", "bs", b"cd") == ["b1"]


@pytest.mark.moto_differs("contains-binary")
def test_contains_on_binary_in_a_condition(db: Backend, ddb: Any, binary_items: None) -> None:
    key = {"PK": {"S": "p"}, "SK": {"S": "b1"}}
    ddb.update_item(
        TableName="tbl",
        Key=key,
        UpdateExpression="SET hit = :t",
        ConditionExpression="contains(b, :v)",
        ExpressionAttributeValues={":t": {"BOOL": True}, ":v": _b(b"\x03")},
    )
    got = db.get(key)
    assert got is not None and got["hit"] == {"BOOL": True}


# --------------------------------------------------------------------------- 2. remove-only


@pytest.mark.moto_differs("remove-creates")
@pytest.mark.parametrize(
    "update",
    [
        pytest.param({"UpdateExpression": "REMOVE a"}, id="REMOVE"),
        pytest.param({"UpdateExpression": "REMOVE a, b.c, l[0]"}, id="REMOVE-paths"),
        pytest.param(
            {"UpdateExpression": "DELETE ss :v", "ExpressionAttributeValues": {":v": {"SS": ["x"]}}},
            id="DELETE",
        ),
        pytest.param({"AttributeUpdates": {"a": {"Action": "DELETE"}}}, id="legacy-DELETE"),
        pytest.param(
            {"AttributeUpdates": {"ss": {"Action": "DELETE", "Value": {"SS": ["x"]}}}},
            id="legacy-DELETE-set-value",
        ),
        pytest.param(
            {
                "AttributeUpdates": {
                    "a": {"Action": "DELETE"},
                    "ss": {"Action": "DELETE", "Value": {"SS": ["x"]}},
                }
            },
            id="legacy-DELETE-both",
        ),
    ],
)
@pytest.mark.parametrize("returns", ["NONE", "ALL_NEW", "ALL_OLD", "UPDATED_NEW"])
def test_remove_only_update_of_a_missing_item_creates_nothing(
    db: Backend, ddb: Any, table: str, update: dict[str, Any], returns: str
) -> None:
    # API Reference, AttributeValueUpdate: when no item has the key, "DELETE - Nothing
    # happens; there is no attribute to delete." An UpdateExpression that only removes
    # behaves the same: no item, and so nothing to return.
    response = ddb.update_item(TableName="tbl", Key=KEY, ReturnValues=returns, **update)
    assert "Attributes" not in response
    assert db.scan_all() == []


@pytest.mark.moto_differs("remove-creates")
def test_remove_only_update_of_a_missing_item_writes_no_stream_record(
    db: Backend, ddb: Any
) -> None:
    db.create_table(
        StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"}
    )
    ddb.update_item(TableName="tbl", Key=KEY, UpdateExpression="REMOVE a")
    ddb.put_item(TableName="tbl", Item={**KEY, "a": {"S": "x"}})
    endpoint = f"https://streams.dynamodb.{REGION}.amazonaws.com" if db.name == "moto" else None
    streams = boto3.client("dynamodbstreams", region_name=REGION, endpoint_url=endpoint)
    arn = ddb.describe_table(TableName="tbl")["Table"]["LatestStreamArn"]
    shard = streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"][0]["ShardId"]
    iterator = streams.get_shard_iterator(
        StreamArn=arn, ShardId=shard, ShardIteratorType="TRIM_HORIZON"
    )["ShardIterator"]
    records = streams.get_records(ShardIterator=iterator)["Records"]
    assert [record["eventName"] for record in records] == ["INSERT"]


@pytest.mark.moto_differs("remove-creates")
def test_remove_only_update_still_checks_its_condition(
    db: Backend, ddb: Any, table: str
) -> None:
    with pytest.raises(ddb.exceptions.ConditionalCheckFailedException):
        ddb.update_item(
            TableName="tbl",
            Key=KEY,
            UpdateExpression="REMOVE a",
            ConditionExpression="attribute_exists(PK)",
        )
    # A condition that holds for "no item" lets it through, still creating nothing.
    ddb.update_item(
        TableName="tbl",
        Key=KEY,
        UpdateExpression="REMOVE a",
        ConditionExpression="attribute_not_exists(PK)",
    )
    assert db.scan_all() == []


def test_remove_only_update_of_an_existing_item_still_writes(
    db: Backend, ddb: Any, table: str
) -> None:
    db.put({**KEY, "a": {"S": "x"}, "b": {"S": "y"}})
    response = ddb.update_item(
        TableName="tbl", Key=KEY, UpdateExpression="REMOVE a", ReturnValues="ALL_NEW"
    )
    assert response["Attributes"] == {**KEY, "b": {"S": "y"}}
    assert db.scan_all() == [{**KEY, "b": {"S": "y"}}]


def test_an_update_that_adds_or_sets_still_creates_the_item(
    db: Backend, ddb: Any, table: str
) -> None:
    ddb.update_item(
        TableName="tbl",
        Key=KEY,
        UpdateExpression="SET a = :v REMOVE b",
        ExpressionAttributeValues={":v": {"S": "x"}},
    )
    other = {"PK": {"S": "p"}, "SK": {"S": "t"}}
    ddb.update_item(
        TableName="tbl", Key=other, AttributeUpdates={"n": {"Action": "ADD", "Value": {"N": "1"}}}
    )
    assert db.scan_all() == sorted(
        [{**KEY, "a": {"S": "x"}}, {**other, "n": {"N": "1"}}], key=repr
    )


@pytest.mark.moto_differs("remove-creates")
def test_remove_only_transact_update_of_a_missing_item_creates_nothing(
    db: Backend, ddb: Any, table: str
) -> None:
    ddb.transact_write_items(
        TransactItems=[{"Update": {"TableName": "tbl", "Key": KEY, "UpdateExpression": "REMOVE a"}}]
    )
    assert db.scan_all() == []


# --------------------------------------------------------------------------- 3. GSI backfill


@pytest.mark.moto_differs("backfill")
def test_gsi_backfill_leaves_out_items_that_violate_the_index_key(
    db: Backend, ddb: Any, table: str
) -> None:
    # Developer Guide, "Detecting and correcting index key violations in DynamoDB": an
    # item whose key attribute has the wrong type, is an empty String/Binary or is longer
    # than an index key may be (2048 bytes partition, 1024 sort) stays in the table but
    # gets no entry in the new index.
    def item(sk: str, **attributes: Any) -> dict[str, Any]:
        return {"PK": {"S": "p"}, "SK": {"S": sk}, **attributes}

    db.put(
        item("ok", gpk={"S": "g"}, gsk={"N": "1"}),
        item("sparse", gsk={"N": "2"}),
        item("wrong-type", gpk={"N": "5"}, gsk={"N": "3"}),
        item("wrong-sort-type", gpk={"S": "g"}, gsk={"S": "3"}),
        item("empty", gpk={"S": ""}, gsk={"N": "4"}),
        item("long-pk", gpk={"S": "x" * 2049}, gsk={"N": "5"}),
        item("pk-at-limit", gpk={"S": "é" * 1024}, gsk={"N": "6"}),
        item("long-pk-bytes", gpk={"S": "é" * 1025}, gsk={"N": "7"}),
    )
    ddb.update_table(
        TableName="tbl",
        AttributeDefinitions=[
            {"AttributeName": "gpk", "AttributeType": "S"},
            {"AttributeName": "gsk", "AttributeType": "N"},
        ],
        GlobalSecondaryIndexUpdates=[
            {
                "Create": {
                    "IndexName": "GSI",
                    "KeySchema": [
                        {"AttributeName": "gpk", "KeyType": "HASH"},
                        {"AttributeName": "gsk", "KeyType": "RANGE"},
                    ],
                    "Projection": {"ProjectionType": "KEYS_ONLY"},
                }
            }
        ],
    )
    indexed = sorted(item["SK"]["S"] for item in ddb.scan(TableName="tbl", IndexName="GSI")["Items"])
    assert indexed == ["ok", "pk-at-limit"]
    assert len(db.scan_all()) == 8  # every item stays in the table


@pytest.mark.moto_differs("backfill")
def test_gsi_backfill_leaves_out_long_sort_keys_and_empty_binary(
    db: Backend, ddb: Any, table: str
) -> None:
    db.put(
        {"PK": {"S": "p"}, "SK": {"S": "ok"}, "gpk": _b(b"\x01"), "gsk": {"S": "y" * 1024}},
        {"PK": {"S": "p"}, "SK": {"S": "long"}, "gpk": _b(b"\x01"), "gsk": {"S": "y" * 1025}},
        {"PK": {"S": "p"}, "SK": {"S": "empty"}, "gpk": _b(b""), "gsk": {"S": "y"}},
        {"PK": {"S": "p"}, "SK": {"S": "empty-sk"}, "gpk": _b(b"\x01"), "gsk": {"S": ""}},
    )
    ddb.update_table(
        TableName="tbl",
        AttributeDefinitions=[
            {"AttributeName": "gpk", "AttributeType": "B"},
            {"AttributeName": "gsk", "AttributeType": "S"},
        ],
        GlobalSecondaryIndexUpdates=[
            {
                "Create": {
                    "IndexName": "GSI",
                    "KeySchema": [
                        {"AttributeName": "gpk", "KeyType": "HASH"},
                        {"AttributeName": "gsk", "KeyType": "RANGE"},
                    ],
                    "Projection": {"ProjectionType": "ALL"},
                }
            }
        ],
    )
    response = ddb.query(
        TableName="tbl",
        IndexName="GSI",
        KeyConditionExpression="gpk = :g",
        ExpressionAttributeValues={":g": _b(b"\x01")},
    )
    assert [item["SK"]["S"] for item in response["Items"]] == ["ok"]
    # Writes after the backfill are checked: a wrong type is now refused.
    with pytest.raises(ddb.exceptions.ClientError, match="Type mismatch for Index Key"):
        ddb.put_item(
            TableName="tbl", Item={"PK": {"S": "p"}, "SK": {"S": "new"}, "gpk": {"S": "s"}}
        )


# --------------------------------------------------------------------------- 4. list appends


@pytest.mark.moto_differs("append-order")
def test_several_elements_past_the_end_are_appended_in_index_order(
    db: Backend, ddb: Any, table: str
) -> None:
    db.put({**KEY, "l": {"L": [{"S": "a"}, {"S": "b"}]}})
    ddb.update_item(
        TableName="tbl",
        Key=KEY,
        UpdateExpression="SET l[9] = :z, l[4] = :x, l[1] = :b2, l[6] = :y",
        ExpressionAttributeValues={
            ":x": {"S": "x"},
            ":y": {"S": "y"},
            ":z": {"S": "z"},
            ":b2": {"S": "B"},
        },
    )
    got = db.get(KEY)
    assert got is not None
    assert got["l"] == {"L": [{"S": "a"}, {"S": "B"}, {"S": "x"}, {"S": "y"}, {"S": "z"}]}


@pytest.mark.moto_differs("append-order")
def test_appends_to_a_nested_list_in_index_order(db: Backend, ddb: Any, table: str) -> None:
    db.put({**KEY, "m": {"M": {"l": {"L": []}, "k": {"L": [{"N": "0"}]}}}})
    ddb.update_item(
        TableName="tbl",
        Key=KEY,
        UpdateExpression="SET m.l[3] = :c, m.k[8] = :c, m.l[1] = :a, m.k[2] = :a",
        ExpressionAttributeValues={":a": {"S": "a"}, ":c": {"S": "c"}},
    )
    got = db.get(KEY)
    assert got is not None
    assert got["m"]["M"]["l"] == {"L": [{"S": "a"}, {"S": "c"}]}
    assert got["m"]["M"]["k"] == {"L": [{"N": "0"}, {"S": "a"}, {"S": "c"}]}


# --------------------------------------------------------------------------- 5. KeyConditions


@pytest.fixture
def partition(db: Backend, table: str) -> None:
    for i in range(4):
        db.put({"PK": {"S": "p"}, "SK": {"S": f"s{i}"}, "n": {"N": str(i)}, "x": {"S": "x"}})
    db.put({"PK": {"S": "q"}, "SK": {"S": "s0"}, "n": {"N": "0"}})


_KEY_CONDITIONS = {
    "PK": {"ComparisonOperator": "EQ", "AttributeValueList": [{"S": "p"}]},
    "SK": {"ComparisonOperator": "GE", "AttributeValueList": [{"S": "s1"}]},
}


def test_key_conditions_with_a_filter_expression(ddb: Any, partition: None) -> None:
    response = ddb.query(
        TableName="tbl",
        KeyConditions=_KEY_CONDITIONS,
        FilterExpression="#n <> :two",
        ExpressionAttributeNames={"#n": "n"},
        ExpressionAttributeValues={":two": {"N": "2"}},
    )
    assert [item["SK"]["S"] for item in response["Items"]] == ["s1", "s3"]
    assert response["ScannedCount"] == 3


def test_key_conditions_with_a_projection_expression(ddb: Any, partition: None) -> None:
    response = ddb.query(
        TableName="tbl", KeyConditions=_KEY_CONDITIONS, ProjectionExpression="SK, n"
    )
    assert response["Items"] == [
        {"SK": {"S": f"s{i}"}, "n": {"N": str(i)}} for i in (1, 2, 3)
    ]


@pytest.mark.moto_differs("key-conditions-mix")
def test_key_conditions_with_expressions_still_check_their_placeholders(
    ddb: Any, partition: None
) -> None:
    # The request's ExpressionAttributeNames/Values belong to its expressions: one the
    # FilterExpression does not use is still refused.
    with pytest.raises(ddb.exceptions.ClientError, match="unused in expressions"):
        ddb.query(
            TableName="tbl",
            KeyConditions=_KEY_CONDITIONS,
            FilterExpression="n > :a",
            ExpressionAttributeValues={":a": {"N": "0"}, ":b": {"N": "1"}},
        )
    # A name like the generated ones of a translated KeyConditions is the user's own.
    response = ddb.query(
        TableName="tbl",
        KeyConditions=_KEY_CONDITIONS,
        FilterExpression="#l0 = :l0",
        ExpressionAttributeNames={"#l0": "n"},
        ExpressionAttributeValues={":l0": {"N": "3"}},
    )
    assert [item["SK"]["S"] for item in response["Items"]] == ["s3"]
