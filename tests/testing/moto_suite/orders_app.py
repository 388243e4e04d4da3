"""Application code as many projects have it: clients made at import time.

A module-level boto3 resource and client (created when the module is first
imported, before any test starts a mock), a PynamoDB model (whose connection
PynamoDB caches on the class), and an async service on aioboto3. The test
module beside it, ``suite_for_moto.py``, was written for moto's ``mock_aws``;
tests/testing/test_moto_suite.py runs it as it is and converted to
``local_dynamodb`` by changing the decorator only.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import aioboto3
import boto3
from pynamodb.attributes import NumberAttribute, UnicodeAttribute
from pynamodb.indexes import AllProjection, GlobalSecondaryIndex
from pynamodb.models import Model

REGION = "eu-west-1"

# --8<-- [start:app]
dynamodb = boto3.resource("dynamodb", region_name=REGION)  # made at import time
orders_table = dynamodb.Table("orders")
client = boto3.client("dynamodb", region_name=REGION)


def create_orders_table() -> None:
    client.create_table(
        TableName="orders",
        KeySchema=[
            {"AttributeName": "customer", "KeyType": "HASH"},
            {"AttributeName": "order_id", "KeyType": "RANGE"},
        ],
        AttributeDefinitions=[
            {"AttributeName": "customer", "AttributeType": "S"},
            {"AttributeName": "order_id", "AttributeType": "S"},
        ],
        BillingMode="PAY_PER_REQUEST",
    )


def place_order(customer: str, order_id: str, total: Decimal) -> None:
    orders_table.put_item(
        Item={"customer": customer, "order_id": order_id, "total": total},
        ConditionExpression="attribute_not_exists(order_id)",
    )


def customer_total(customer: str) -> Decimal:
    items = orders_table.query(
        KeyConditionExpression="customer = :c",
        ExpressionAttributeValues={":c": customer},
    )["Items"]
    return sum((Decimal(item["total"]) for item in items), Decimal(0))


class ByEmail(GlobalSecondaryIndex["Customer"]):
    class Meta:
        index_name = "by-email"
        projection = AllProjection()

    email = UnicodeAttribute(hash_key=True)


class Customer(Model):
    class Meta:
        table_name = "customers"
        region = REGION
        billing_mode = "PAY_PER_REQUEST"

    customer_id = UnicodeAttribute(hash_key=True)
    email = UnicodeAttribute()
    visits = NumberAttribute(default=0)
    by_email = ByEmail()


class LoyaltyService:
    """An async service: points per customer, on aioboto3."""

    def __init__(self) -> None:
        self.session = aioboto3.Session(region_name=REGION)

    async def create_table(self) -> None:
        async with self.session.client("dynamodb") as ddb:
            await ddb.create_table(
                TableName="loyalty",
                KeySchema=[{"AttributeName": "customer", "KeyType": "HASH"}],
                AttributeDefinitions=[{"AttributeName": "customer", "AttributeType": "S"}],
                BillingMode="PAY_PER_REQUEST",
            )

    async def add_points(self, customer: str, points: int) -> int:
        async with self.session.client("dynamodb") as ddb:
            response: Any = await ddb.update_item(
                TableName="loyalty",
                Key={"customer": {"S": customer}},
                UpdateExpression="ADD points :p",
                ExpressionAttributeValues={":p": {"N": str(points)}},
                ReturnValues="UPDATED_NEW",
            )
            return int(response["Attributes"]["points"]["N"])


# --8<-- [end:app]
