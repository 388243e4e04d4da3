"""ReturnItemCollectionMetrics: SIZE reports the item collections a write touched.

API Reference, ItemCollectionMetrics: "ItemCollectionMetrics is only returned if the
request asked for it. If the table does not have any local secondary indexes, this
information is not returned in the response." ``ItemCollectionKey`` is the partition
key value of the item; ``SizeEstimateRangeGB`` a two-element [lower, upper] estimate in
GB of the collection (its items plus the attributes projected into its LSIs); DynamoDB
answers ``[0.0, 1.0]`` for a small one (see singletable/backends/local/_collections.py).
PutItem, UpdateItem and DeleteItem report one collection; BatchWriteItem and
TransactWriteItems a map of table name to a list, one entry per collection written (API
Reference, BatchWriteItem and TransactWriteItems: by the Put, Update and Delete actions,
not by a ConditionCheck).
"""

from __future__ import annotations

import re
from typing import Any

import pytest
from ddbtest import Backend, raises

MOTO_DIFFERENCES = {
    "metrics": "moto never returns ItemCollectionMetrics (PutItem, UpdateItem, DeleteItem "
    "answer without it; BatchWriteItem with an empty map), even on a table with an LSI.",
}
METRICS = pytest.mark.moto_differs("metrics")

SMALL = [0.0, 1.0]


def _s(value: str) -> dict[str, str]:
    return {"S": value}


@pytest.fixture
def lsi_table(db: Backend, ddb: Any) -> str:
    """``coll`` (PK S, SK S) with an LSI ``byL`` (PK + L, INCLUDE [a]) and a GSI ``byG``."""
    ddb.create_table(
        TableName="coll",
        BillingMode="PAY_PER_REQUEST",
        AttributeDefinitions=[
            {"AttributeName": name, "AttributeType": "S"} for name in ("PK", "SK", "L", "G")
        ],
        KeySchema=[
            {"AttributeName": "PK", "KeyType": "HASH"},
            {"AttributeName": "SK", "KeyType": "RANGE"},
        ],
        LocalSecondaryIndexes=[
            {
                "IndexName": "byL",
                "KeySchema": [
                    {"AttributeName": "PK", "KeyType": "HASH"},
                    {"AttributeName": "L", "KeyType": "RANGE"},
                ],
                "Projection": {"ProjectionType": "INCLUDE", "NonKeyAttributes": ["a"]},
            }
        ],
        GlobalSecondaryIndexes=[
            {
                "IndexName": "byG",
                "KeySchema": [{"AttributeName": "G", "KeyType": "HASH"}],
                "Projection": {"ProjectionType": "ALL"},
            }
        ],
    )
    return "coll"


def _check(metrics: Any, pk: dict[str, str]) -> None:
    """One ItemCollectionMetrics of partition key value ``pk``, a small collection."""
    assert metrics["ItemCollectionKey"] == {"PK": pk}
    estimate = metrics["SizeEstimateRangeGB"]
    assert len(estimate) == 2
    assert all(isinstance(bound, float) for bound in estimate)
    assert 0.0 <= estimate[0] <= estimate[1]
    assert estimate == SMALL


def _item(pk: str, sk: str, **more: str) -> dict[str, Any]:
    return {"PK": _s(pk), "SK": _s(sk), **{name: _s(value) for name, value in more.items()}}


def test_no_metrics_on_a_table_without_an_lsi(db: Backend, ddb: Any, table: str) -> None:
    put = ddb.put_item(TableName=table, Item=_item("a", "1"), ReturnItemCollectionMetrics="SIZE")
    update = ddb.update_item(
        TableName=table,
        Key=_item("a", "1"),
        UpdateExpression="SET v = :v",
        ExpressionAttributeValues={":v": _s("x")},
        ReturnItemCollectionMetrics="SIZE",
    )
    delete = ddb.delete_item(
        TableName=table, Key=_item("a", "1"), ReturnItemCollectionMetrics="SIZE"
    )
    batch = ddb.batch_write_item(
        RequestItems={table: [{"PutRequest": {"Item": _item("b", "1")}}]},
        ReturnItemCollectionMetrics="SIZE",
    )
    for response in (put, update, delete):
        assert "ItemCollectionMetrics" not in response
    assert not batch.get("ItemCollectionMetrics")  # (absent; moto: an empty map)


@METRICS
def test_single_item_writes_report_their_collection(ddb: Any, lsi_table: str) -> None:
    put = ddb.put_item(
        TableName=lsi_table,
        Item=_item("a", "1", L="x", a="y", G="g"),
        ReturnItemCollectionMetrics="SIZE",
    )
    _check(put["ItemCollectionMetrics"], _s("a"))
    update = ddb.update_item(
        TableName=lsi_table,
        Key=_item("a", "1"),
        UpdateExpression="SET b = :v",
        ExpressionAttributeValues={":v": _s("z")},
        ReturnValues="ALL_NEW",
        ReturnItemCollectionMetrics="SIZE",
    )
    _check(update["ItemCollectionMetrics"], _s("a"))
    assert update["Attributes"]["b"] == _s("z")
    delete = ddb.delete_item(
        TableName=lsi_table,
        Key=_item("a", "1"),
        ReturnValues="ALL_OLD",
        ReturnItemCollectionMetrics="SIZE",
    )
    _check(delete["ItemCollectionMetrics"], _s("a"))
    assert delete["Attributes"]["b"] == _s("z")


@METRICS
def test_repeated_writes_of_one_shape_keep_reporting(ddb: Any, lsi_table: str) -> None:
    # The engine compiles a repeated UpdateItem/DeleteItem shape; its metrics must not
    # be lost on the later requests.
    for i in range(4):
        update = ddb.update_item(
            TableName=lsi_table,
            Key=_item("a", str(i)),
            UpdateExpression="SET n = :n",
            ExpressionAttributeValues={":n": {"N": str(i)}},
            ReturnItemCollectionMetrics="SIZE",
        )
        _check(update["ItemCollectionMetrics"], _s("a"))
    for i in range(4):
        delete = ddb.delete_item(
            TableName=lsi_table, Key=_item("a", str(i)), ReturnItemCollectionMetrics="SIZE"
        )
        _check(delete["ItemCollectionMetrics"], _s("a"))


def test_none_or_absent_reports_nothing(ddb: Any, lsi_table: str) -> None:
    plain = ddb.put_item(TableName=lsi_table, Item=_item("a", "1", L="x"))
    none = ddb.put_item(
        TableName=lsi_table, Item=_item("a", "2", L="x"), ReturnItemCollectionMetrics="NONE"
    )
    update = ddb.update_item(
        TableName=lsi_table,
        Key=_item("a", "1"),
        UpdateExpression="SET v = :v",
        ExpressionAttributeValues={":v": _s("x")},
        ReturnItemCollectionMetrics="NONE",
    )
    delete = ddb.delete_item(TableName=lsi_table, Key=_item("a", "2"))
    batch = ddb.batch_write_item(
        RequestItems={lsi_table: [{"PutRequest": {"Item": _item("b", "1")}}]},
        ReturnItemCollectionMetrics="NONE",
    )
    for response in (plain, none, update, delete):
        assert "ItemCollectionMetrics" not in response
    assert not batch.get("ItemCollectionMetrics")


@METRICS
def test_number_partition_key_is_reported_in_canonical_form(db: Backend, ddb: Any) -> None:
    ddb.create_table(
        TableName="nums",
        BillingMode="PAY_PER_REQUEST",
        AttributeDefinitions=[
            {"AttributeName": "PK", "AttributeType": "N"},
            {"AttributeName": "SK", "AttributeType": "S"},
            {"AttributeName": "L", "AttributeType": "N"},
        ],
        KeySchema=[
            {"AttributeName": "PK", "KeyType": "HASH"},
            {"AttributeName": "SK", "KeyType": "RANGE"},
        ],
        LocalSecondaryIndexes=[
            {
                "IndexName": "byL",
                "KeySchema": [
                    {"AttributeName": "PK", "KeyType": "HASH"},
                    {"AttributeName": "L", "KeyType": "RANGE"},
                ],
                "Projection": {"ProjectionType": "KEYS_ONLY"},
            }
        ],
    )
    put = ddb.put_item(
        TableName="nums",
        Item={"PK": {"N": "01.50"}, "SK": _s("x"), "L": {"N": "2"}},
        ReturnItemCollectionMetrics="SIZE",
    )
    _check(put["ItemCollectionMetrics"], {"N": "1.5"})


@METRICS
def test_batch_reports_each_collection_once(ddb: Any, lsi_table: str, table: str) -> None:
    response = ddb.batch_write_item(
        RequestItems={
            lsi_table: [
                {"PutRequest": {"Item": _item("a", "1", L="x")}},
                {"PutRequest": {"Item": _item("a", "2")}},
                {"DeleteRequest": {"Key": _item("b", "1")}},
            ],
            table: [{"PutRequest": {"Item": _item("a", "1")}}],
        },
        ReturnItemCollectionMetrics="SIZE",
    )
    assert response["UnprocessedItems"] == {}
    metrics = response["ItemCollectionMetrics"]
    assert set(metrics) == {lsi_table}  # the table without an LSI has no entry
    by_key = {entry["ItemCollectionKey"]["PK"]["S"]: entry for entry in metrics[lsi_table]}
    assert sorted(by_key) == ["a", "b"]
    for value, entry in by_key.items():
        _check(entry, _s(value))


@METRICS
def test_delete_of_a_missing_item_reports_its_collection(ddb: Any, lsi_table: str) -> None:
    # The request names a collection even when no item was there. Not confirmed against
    # DynamoDB (its reference says "item collections, if any, that were affected").
    response = ddb.delete_item(
        TableName=lsi_table, Key=_item("nobody", "1"), ReturnItemCollectionMetrics="SIZE"
    )
    assert "Attributes" not in response
    _check(response["ItemCollectionMetrics"], _s("nobody"))


def test_a_failed_condition_reports_no_metrics(ddb: Any, lsi_table: str) -> None:
    ddb.put_item(TableName=lsi_table, Item=_item("a", "1", L="x"))
    for call, extra in (
        (ddb.put_item, {"Item": _item("a", "1")}),
        (ddb.delete_item, {"Key": _item("a", "1")}),
        (
            ddb.update_item,
            {"Key": _item("a", "1"), "UpdateExpression": "SET v = :v",
             "ExpressionAttributeValues": {":v": _s("x")}},
        ),
    ):
        with raises(
            "ConditionalCheckFailedException", "The conditional request failed"
        ) as failed:
            call(
                TableName=lsi_table,
                ConditionExpression="attribute_not_exists(PK)",
                ReturnItemCollectionMetrics="SIZE",
                **extra,
            )
        assert "ItemCollectionMetrics" not in failed.response
    assert ddb.get_item(TableName=lsi_table, Key=_item("a", "1"))["Item"] == _item(
        "a", "1", L="x"
    )


@METRICS
def test_transaction_reports_the_collections_it_wrote(
    ddb: Any, lsi_table: str, table: str
) -> None:
    ddb.put_item(TableName=lsi_table, Item=_item("d", "1", L="x"))
    ddb.put_item(TableName=lsi_table, Item=_item("e", "1"))
    for _ in range(3):  # repeated: the engine compiles a repeated transaction's shape
        response = ddb.transact_write_items(
            TransactItems=[
                {"Put": {"TableName": lsi_table, "Item": _item("a", "1", L="x")}},
                {
                    "Update": {
                        "TableName": lsi_table,
                        "Key": _item("a", "2"),
                        "UpdateExpression": "SET v = :v",
                        "ExpressionAttributeValues": {":v": _s("y")},
                    }
                },
                {"Delete": {"TableName": lsi_table, "Key": _item("d", "1")}},
                {
                    "ConditionCheck": {
                        "TableName": lsi_table,
                        "Key": _item("e", "1"),
                        "ConditionExpression": "attribute_exists(PK)",
                    }
                },
                {"Put": {"TableName": table, "Item": _item("a", "1")}},
            ],
            ReturnItemCollectionMetrics="SIZE",
        )
        metrics = response["ItemCollectionMetrics"]
        assert set(metrics) == {lsi_table}
        reported = [entry["ItemCollectionKey"]["PK"]["S"] for entry in metrics[lsi_table]]
        assert sorted(reported) == ["a", "d"]  # "e" was only checked
        for entry in metrics[lsi_table]:
            _check(entry, entry["ItemCollectionKey"]["PK"])


def test_transaction_without_lsi_or_size_reports_nothing(
    ddb: Any, lsi_table: str, table: str
) -> None:
    for _ in range(3):
        plain = ddb.transact_write_items(
            TransactItems=[{"Put": {"TableName": table, "Item": _item("a", "1")}}],
            ReturnItemCollectionMetrics="SIZE",
        )
        none = ddb.transact_write_items(
            TransactItems=[{"Put": {"TableName": lsi_table, "Item": _item("a", "1")}}],
            ReturnItemCollectionMetrics="NONE",
        )
        assert not plain.get("ItemCollectionMetrics")
        assert not none.get("ItemCollectionMetrics")


def test_cancelled_transaction_reports_no_metrics(ddb: Any, lsi_table: str) -> None:
    with raises("TransactionCanceledException", re.compile(r"Transaction cancelled, .*")) as err:
        ddb.transact_write_items(
            TransactItems=[
                {
                    "Put": {
                        "TableName": lsi_table,
                        "Item": _item("a", "1", L="x"),
                        "ConditionExpression": "attribute_exists(PK)",
                    }
                }
            ],
            ReturnItemCollectionMetrics="SIZE",
        )
    assert "ItemCollectionMetrics" not in err.response
    assert "Item" not in ddb.get_item(TableName=lsi_table, Key=_item("a", "1"))
