"""ConsumedCapacity: Scan by partition, BatchWriteItem's per-index breakdown.

A Scan is charged per partition it reads: the bytes read there rounded up to 4 KB,
at least one block even for a partition without items. An on-demand table starts
with four partitions, so a Scan of a table holding one small item reports 2 units
(4 strongly consistent), as DynamoDB answers (scylladb's alternator
test_returnconsumedcapacity.py, test_scan_consumed_capacity, run against DynamoDB;
stackoverflow.com/questions/70121087). A provisioned table has one partition per
3,000 read or 1,000 write units (Developer Guide, "Partitions and data distribution").

BatchWriteItem with ReturnConsumedCapacity=INDEXES itemizes what each index spent,
as the single-item writes do (API Reference, "ConsumedCapacity").
"""

from __future__ import annotations

from typing import Any

import pytest
from ddbtest import Backend

MOTO_DIFFERENCES = {
    "scan-partitions": "moto charges a Scan 0.5/1.0 units whatever it reads; DynamoDB charges "
    "each partition read at least one 4 KB block.",
    "batch-indexes": "moto gives no per-index breakdown for BatchWriteItem; DynamoDB itemizes "
    "the table and each index in INDEXES mode.",
}


def _units(response: dict[str, Any]) -> float:
    return float(response["ConsumedCapacity"]["CapacityUnits"])


@pytest.mark.moto_differs("scan-partitions")
def test_scan_of_a_small_on_demand_table_reads_four_partitions(
    db: Backend, ddb: Any, hash_table: str
) -> None:
    db.put({"PK": {"S": "p"}, "animal": {"S": "cat"}}, table="hash")
    eventual = ddb.scan(TableName="hash", ReturnConsumedCapacity="TOTAL")
    strong = ddb.scan(TableName="hash", ConsistentRead=True, ReturnConsumedCapacity="TOTAL")
    assert eventual["Count"] == 1
    assert (_units(eventual), _units(strong)) == (2.0, 4.0)
    # One segment of four reads one partition.
    segments = [
        _units(
            ddb.scan(TableName="hash", Segment=s, TotalSegments=4, ReturnConsumedCapacity="TOTAL")
        )
        for s in range(4)
    ]
    assert segments == [0.5, 0.5, 0.5, 0.5]


@pytest.mark.moto_differs("scan-partitions")
def test_scan_sums_item_sizes_within_a_partition(db: Backend, ddb: Any, hash_table: str) -> None:
    # 40 items of about 1 KB over four partitions: each partition's bytes are summed
    # and rounded up once, not item by item (that would be 40 blocks).
    for i in range(40):
        db.put({"PK": {"S": f"p{i:02d}"}, "d": {"S": "x" * 1000}}, table="hash")
    strong = _units(ddb.scan(TableName="hash", ConsistentRead=True, ReturnConsumedCapacity="TOTAL"))
    assert 11.0 <= strong <= 14.0  # about 40 KB: 10 blocks, plus at most one per partition


@pytest.mark.moto_differs("scan-partitions")
def test_scan_of_a_small_provisioned_table_reads_one_partition(db: Backend, ddb: Any) -> None:
    ddb.create_table(
        TableName="prov",
        KeySchema=[{"AttributeName": "PK", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "PK", "AttributeType": "S"}],
        ProvisionedThroughput={"ReadCapacityUnits": 5, "WriteCapacityUnits": 5},
    )
    db.put({"PK": {"S": "p"}}, table="prov")
    assert _units(ddb.scan(TableName="prov", ReturnConsumedCapacity="TOTAL")) == 0.5


@pytest.mark.moto_differs("batch-indexes")
def test_batch_write_itemizes_index_capacity(db: Backend, ddb: Any) -> None:
    db.create_table(
        "idx",
        AttributeDefinitions=[
            {"AttributeName": "PK", "AttributeType": "S"},
            {"AttributeName": "SK", "AttributeType": "S"},
            {"AttributeName": "g", "AttributeType": "S"},
        ],
        GlobalSecondaryIndexes=[
            {
                "IndexName": "gsi",
                "KeySchema": [{"AttributeName": "g", "KeyType": "HASH"}],
                "Projection": {"ProjectionType": "ALL"},
            }
        ],
    )
    writes = [
        {"PutRequest": {"Item": {"PK": {"S": "a"}, "SK": {"S": "1"}, "g": {"S": "x"}}}},
        {"PutRequest": {"Item": {"PK": {"S": "b"}, "SK": {"S": "1"}, "g": {"S": "y"}}}},
        {"PutRequest": {"Item": {"PK": {"S": "c"}, "SK": {"S": "1"}}}},  # not in the index
    ]
    response = ddb.batch_write_item(RequestItems={"idx": writes}, ReturnConsumedCapacity="INDEXES")
    (capacity,) = response["ConsumedCapacity"]
    assert capacity["TableName"] == "idx"
    assert capacity["Table"] == {"CapacityUnits": 3.0}
    assert capacity["GlobalSecondaryIndexes"] == {"gsi": {"CapacityUnits": 2.0}}
    assert capacity["CapacityUnits"] == 5.0
    total = ddb.batch_write_item(
        RequestItems={"idx": [{"DeleteRequest": {"Key": {"PK": {"S": "a"}, "SK": {"S": "1"}}}}]},
        ReturnConsumedCapacity="TOTAL",
    )
    assert total["ConsumedCapacity"] == [{"TableName": "idx", "CapacityUnits": 2.0}]
