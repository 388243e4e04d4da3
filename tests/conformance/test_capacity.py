"""ReturnConsumedCapacity: read and write units by DynamoDB's rounding rules.

Developer Guide, "Read/write capacity mode" and "Item sizes and formats":
https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/read-write-operations.html
One read unit = one strongly consistent read of up to 4 KB (eventually consistent: half);
one write unit = one write of up to 1 KB. Query and Scan add up the sizes of the items
read and round the sum, not each item. UpdateItem and a PutItem that replaces an item
consume units for the larger of the old and new item. Item size = attribute names + values.
"""

from __future__ import annotations

from typing import Any

import pytest
from ddbtest import Backend

MOTO_DIFFERENCES = {
    "capacity": "moto reports a fixed 1.0 (writes) or 0.5 (reads) whatever the item sizes and "
    "consistency; DynamoDB rounds item sizes up to 4 KB (reads) / 1 KB (writes) as asserted "
    "here.",
}

CAP = pytest.mark.moto_differs("capacity")

KEY = {"PK": {"S": "p"}, "SK": {"S": "s"}}
OVERHEAD = 2 + 1 + 2 + 1 + 1  # "PK" "p" "SK" "s" "d"


def sized(total: int, sk: str = "s") -> dict[str, Any]:
    """An item of exactly ``total`` bytes."""
    return {"PK": {"S": "p"}, "SK": {"S": sk}, "d": {"S": "x" * (total - OVERHEAD)}}


def units(response: Any) -> float:
    consumed = response["ConsumedCapacity"]
    assert consumed["TableName"] == "tbl"
    value: float = consumed["CapacityUnits"]
    return value


@pytest.mark.parametrize(
    ("size", "expected"),
    [
        (1, 1.0),
        (1024, 1.0),
        pytest.param(1025, 2.0, marks=CAP),
        pytest.param(2048, 2.0, marks=CAP),
        pytest.param(3000, 3.0, marks=CAP),
    ],
)
def test_put_rounds_up_to_1_kb(db: Backend, ddb: Any, table: str, size: int,
                               expected: float) -> None:
    response = ddb.put_item(TableName="tbl", Item=sized(size), ReturnConsumedCapacity="TOTAL")
    assert units(response) == expected


@CAP
def test_put_replacing_a_bigger_item_pays_for_the_bigger(db: Backend, ddb: Any,
                                                         table: str) -> None:
    db.put(sized(3000))
    response = ddb.put_item(TableName="tbl", Item=sized(100), ReturnConsumedCapacity="TOTAL")
    assert units(response) == 3.0


@pytest.mark.parametrize(
    ("size", "consistent", "expected"),
    [
        pytest.param(4096, True, 1.0, marks=CAP),
        (4096, False, 0.5),
        pytest.param(4097, True, 2.0, marks=CAP),
        pytest.param(4097, False, 1.0, marks=CAP),
        pytest.param(9000, True, 3.0, marks=CAP),
    ],
)
def test_get_rounds_up_to_4_kb(db: Backend, ddb: Any, table: str, size: int, consistent: bool,
                               expected: float) -> None:
    db.put(sized(size))
    response = ddb.get_item(TableName="tbl", Key=KEY, ConsistentRead=consistent,
                            ReturnConsumedCapacity="TOTAL")
    assert units(response) == expected


@CAP
def test_get_of_a_missing_item_still_costs_a_unit(ddb: Any, table: str) -> None:
    strong = ddb.get_item(TableName="tbl", Key=KEY, ConsistentRead=True,
                          ReturnConsumedCapacity="TOTAL")
    eventual = ddb.get_item(TableName="tbl", Key=KEY, ReturnConsumedCapacity="TOTAL")
    assert (units(strong), units(eventual)) == (1.0, 0.5)


@CAP
def test_update_pays_for_the_larger_of_old_and_new(db: Backend, ddb: Any, table: str) -> None:
    db.put(sized(2500))
    shrink = ddb.update_item(TableName="tbl", Key=KEY, UpdateExpression="REMOVE d",
                             ReturnConsumedCapacity="TOTAL")
    assert units(shrink) == 3.0
    grow = ddb.update_item(
        TableName="tbl",
        Key=KEY,
        UpdateExpression="SET d = :d",
        ExpressionAttributeValues={":d": {"S": "x" * 4000}},
        ReturnConsumedCapacity="TOTAL",
    )
    assert units(grow) == 4.0  # 4 + 4000 + 6 bytes of key -> 4,007 bytes -> 4 units


@CAP
def test_delete_pays_for_the_deleted_item(db: Backend, ddb: Any, table: str) -> None:
    db.put(sized(2100))
    response = ddb.delete_item(TableName="tbl", Key=KEY, ReturnConsumedCapacity="TOTAL")
    assert units(response) == 3.0
    missing = ddb.delete_item(TableName="tbl", Key=KEY, ReturnConsumedCapacity="TOTAL")
    assert units(missing) == 1.0


@CAP
def test_query_and_scan_round_the_sum_of_item_sizes(db: Backend, ddb: Any, table: str) -> None:
    for i in range(10):
        db.put(sized(1000, sk=f"s{i}"))  # 1,001 bytes each (the sort key is one byte longer)
    # 10,010 bytes -> 3 units strongly consistent, 1.5 eventually consistent.
    query = {"TableName": "tbl", "KeyConditionExpression": "PK = :p",
             "ExpressionAttributeValues": {":p": {"S": "p"}}, "ReturnConsumedCapacity": "TOTAL"}
    assert units(ddb.query(ConsistentRead=True, **query)) == 3.0
    assert units(ddb.query(**query)) == 1.5
    # A Scan reads the on-demand table's four partitions: 3 (or 1.5) units in the one
    # holding the items, plus one block in each of the three others (see
    # test_capacity_wave2.py).
    assert units(ddb.scan(TableName="tbl", ConsistentRead=True, ReturnConsumedCapacity="TOTAL")) == 6.0
    assert units(ddb.scan(TableName="tbl", ReturnConsumedCapacity="TOTAL")) == 3.0


@CAP
def test_query_capacity_counts_items_read_before_the_filter(
    db: Backend, ddb: Any, table: str
) -> None:
    for i in range(10):
        db.put(sized(1000, sk=f"s{i}"))
    response = ddb.query(
        TableName="tbl",
        KeyConditionExpression="PK = :p",
        FilterExpression="d = :none",
        ExpressionAttributeValues={":p": {"S": "p"}, ":none": {"S": "none"}},
        ConsistentRead=True,
        ReturnConsumedCapacity="TOTAL",
    )
    assert response["Count"] == 0
    assert units(response) == 3.0


@CAP
def test_empty_query_costs_half_or_one_unit(ddb: Any, table: str) -> None:
    query = {"TableName": "tbl", "KeyConditionExpression": "PK = :p",
             "ExpressionAttributeValues": {":p": {"S": "none"}}, "ReturnConsumedCapacity": "TOTAL"}
    assert units(ddb.query(ConsistentRead=True, **query)) == 1.0
    assert units(ddb.query(**query)) == 0.5


@CAP
def test_indexes_mode_breaks_down_by_table(db: Backend, ddb: Any, table: str) -> None:
    response = ddb.put_item(TableName="tbl", Item=sized(1500), ReturnConsumedCapacity="INDEXES")
    assert response["ConsumedCapacity"] == {
        "TableName": "tbl",
        "CapacityUnits": 2.0,
        "Table": {"CapacityUnits": 2.0},
    }


def test_none_mode_and_default_return_no_capacity(db: Backend, ddb: Any, table: str) -> None:
    assert "ConsumedCapacity" not in ddb.put_item(TableName="tbl", Item=sized(10))
    assert "ConsumedCapacity" not in ddb.get_item(TableName="tbl", Key=KEY,
                                                   ReturnConsumedCapacity="NONE")
