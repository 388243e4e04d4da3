"""Quick start: plain boto3 code, answered by singletable's embedded DynamoDB engine.

Run it with ``python examples/quickstart.py``. Nothing leaves the process: no
AWS account, no credentials, no network. Inside ``local_dynamodb()`` every
boto3 DynamoDB client talks to a fresh in-process engine that behaves like
DynamoDB, down to its error codes and messages.

The table is a small single-table e-commerce design: a customer and its orders
share the partition ``CUSTOMER#<id>``; the sort key tells them apart
(``PROFILE`` for the customer, ``ORDER#<date>#<id>`` for each order). A global
secondary index keyed on ``status`` and ``created`` answers "orders by status,
oldest first" across all customers; a transaction places an order and counts it
on the customer in one step; a stream subscription sees every change.
"""

from __future__ import annotations

from typing import Any

import boto3
from botocore.exceptions import ClientError

from singletable.testing import local_dynamodb

ORDERS_BY_STATUS = {
    "IndexName": "orders_by_status",
    "KeySchema": [
        {"AttributeName": "status", "KeyType": "HASH"},
        {"AttributeName": "created", "KeyType": "RANGE"},
    ],
    # The index keeps the keys and the total only; a profile has no status, so
    # it is not in the index at all (a sparse index).
    "Projection": {"ProjectionType": "INCLUDE", "NonKeyAttributes": ["total"]},
}


def show(title: str, items: list[dict[str, Any]]) -> None:
    """Print items one a line, attribute values unwrapped from their type tags."""
    print(f"\n{title}")
    for item in items:
        plain = {name: next(iter(value.values())) for name, value in sorted(item.items())}
        print("  ", plain)


def main() -> None:
    """Create a table, write a customer and its orders, query, update, fail a condition."""
    with local_dynamodb() as engine:
        ddb = boto3.client("dynamodb")  # no credentials or region needed
        ddb.create_table(
            TableName="shop",
            KeySchema=[
                {"AttributeName": "PK", "KeyType": "HASH"},
                {"AttributeName": "SK", "KeyType": "RANGE"},
            ],
            AttributeDefinitions=[
                {"AttributeName": name, "AttributeType": "S"}
                for name in ("PK", "SK", "status", "created")
            ],
            GlobalSecondaryIndexes=[ORDERS_BY_STATUS],
            StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"},
            BillingMode="PAY_PER_REQUEST",
        )
        # Every committed change, delivered in-process as a stream record.
        changes: list[str] = []
        engine.subscribe(
            "shop",
            lambda record: changes.append(
                f"{record['eventName']} {record['dynamodb']['Keys']['SK']['S']}"
            ),
        )
        print("tables:", ddb.list_tables()["TableNames"])

        customer = {"PK": {"S": "CUSTOMER#c1"}, "SK": {"S": "PROFILE"}, "name": {"S": "Ada"}}
        ddb.put_item(TableName="shop", Item=customer)
        orders = [
            ("2024-05-01", "o1", "30.00"),
            ("2024-05-03", "o2", "12.50"),
            ("2024-06-11", "o3", "99.90"),
        ]
        for date, order_id, total in orders:
            ddb.put_item(
                TableName="shop",
                Item={
                    "PK": {"S": "CUSTOMER#c1"},
                    "SK": {"S": f"ORDER#{date}#{order_id}"},
                    "status": {"S": "pending"},
                    "created": {"S": date},
                    "total": {"N": total},  # stored canonically: "30.00" comes back as "30"
                },
            )

        profile = ddb.get_item(TableName="shop", Key={"PK": customer["PK"], "SK": customer["SK"]})
        show("customer c1:", [profile["Item"]])

        # One partition, one request: the customer's orders, newest first.
        # `status` and `total` are reserved words, hence the #names.
        result = ddb.query(
            TableName="shop",
            KeyConditionExpression="PK = :pk AND begins_with(SK, :orders)",
            ExpressionAttributeValues={":pk": {"S": "CUSTOMER#c1"}, ":orders": {"S": "ORDER#"}},
            ScanIndexForward=False,
        )
        show(f"orders of c1 ({result['Count']}), newest first:", result["Items"])

        # Ship an order, but only if it is still pending.
        key = {"PK": {"S": "CUSTOMER#c1"}, "SK": {"S": "ORDER#2024-05-01#o1"}}
        shipped = ddb.update_item(
            TableName="shop",
            Key=key,
            UpdateExpression="SET #s = :shipped",
            ConditionExpression="#s = :pending",
            ExpressionAttributeNames={"#s": "status"},
            ExpressionAttributeValues={":shipped": {"S": "shipped"}, ":pending": {"S": "pending"}},
            ReturnValues="ALL_NEW",
        )
        show("after shipping o1:", [shipped["Attributes"]])

        # The same conditional update again fails, exactly as DynamoDB fails it.
        try:
            ddb.update_item(
                TableName="shop",
                Key=key,
                UpdateExpression="SET #s = :shipped",
                ConditionExpression="#s = :pending",
                ExpressionAttributeNames={"#s": "status"},
                ExpressionAttributeValues={
                    ":shipped": {"S": "shipped"},
                    ":pending": {"S": "pending"},
                },
            )
        except ClientError as error:
            code, message = error.response["Error"]["Code"], error.response["Error"]["Message"]
            print(f"\nshipping o1 twice -> {code}: {message}")

        # Orders over 20, with a filter applied after the key condition.
        big = ddb.query(
            TableName="shop",
            KeyConditionExpression="PK = :pk AND begins_with(SK, :orders)",
            FilterExpression="#t > :min",
            ExpressionAttributeNames={"#t": "total"},
            ExpressionAttributeValues={
                ":pk": {"S": "CUSTOMER#c1"},
                ":orders": {"S": "ORDER#"},
                ":min": {"N": "20"},
            },
        )
        show(f"orders over 20 ({big['Count']} of {big['ScannedCount']} read):", big["Items"])

        place_order(ddb)

        # Across customers, through the index: pending orders, oldest first.
        pending = ddb.query(
            TableName="shop",
            IndexName="orders_by_status",
            KeyConditionExpression="#s = :pending",
            ExpressionAttributeNames={"#s": "status"},
            ExpressionAttributeValues={":pending": {"S": "pending"}},
        )
        show("pending orders (index orders_by_status):", pending["Items"])

        print("\nstream records seen by the subscriber:")
        for change in changes:
            print("  ", change)


def place_order(ddb: Any) -> None:
    """Write an order and count it on its customer: both or neither (a transaction)."""
    customer = {"PK": {"S": "CUSTOMER#c1"}, "SK": {"S": "PROFILE"}}
    order = {
        "PK": {"S": "CUSTOMER#c1"},
        "SK": {"S": "ORDER#2024-06-12#o4"},
        "status": {"S": "pending"},
        "created": {"S": "2024-06-12"},
        "total": {"N": "5"},
    }
    place = [
        {
            "Put": {
                "TableName": "shop",
                "Item": order,
                "ConditionExpression": "attribute_not_exists(PK)",
            }
        },
        {
            "Update": {
                "TableName": "shop",
                "Key": customer,
                "UpdateExpression": "ADD orders :one",
                "ExpressionAttributeValues": {":one": {"N": "1"}},
            }
        },
    ]
    ddb.transact_write_items(TransactItems=place)
    profile = ddb.get_item(TableName="shop", Key=customer)["Item"]
    print(f"\nplaced o4 in a transaction; c1 has {profile['orders']['N']} order(s) counted")
    try:
        ddb.transact_write_items(TransactItems=place)  # o4 exists: the whole thing fails
    except ClientError as error:
        reasons = [reason["Code"] for reason in error.response["CancellationReasons"]]
        print(f"placing o4 again -> {error.response['Error']['Code']}, reasons {reasons}")


if __name__ == "__main__":
    main()
