"""Real clients against a running ``singletable serve``: each drives the endpoint as a user would.

boto3's resource (conditions, batch_writer, every attribute type) and client (paginators,
waiters, transactions), aioboto3 (async client and resource), the AWS CLI (v1, run as a
subprocess of this interpreter) and PynamoDB models. Every test starts its own in-memory
server on a free port of 127.0.0.1 (the ``server`` fixture) and asserts what comes back:
values round-trip exactly, pages hold every item once and in order, and errors reach the
client with DynamoDB's code and message.
"""

from __future__ import annotations

import asyncio
import json
import logging
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import aioboto3
import boto3
import pytest
from boto3.dynamodb.conditions import Attr, Key
from boto3.dynamodb.types import Binary
from botocore.exceptions import ClientError, WaiterError
from pynamodb.attributes import (
    BooleanAttribute,
    ListAttribute,
    MapAttribute,
    NumberAttribute,
    NumberSetAttribute,
    UnicodeAttribute,
    UnicodeSetAttribute,
    UTCDateTimeAttribute,
    VersionAttribute,
)
from pynamodb.connection import Connection
from pynamodb.exceptions import (
    DeleteError,
    DoesNotExist,
    PutError,
    TransactWriteError,
    UpdateError,
)
from pynamodb.indexes import GlobalSecondaryIndex, IncludeProjection
from pynamodb.models import Model
from pynamodb.transactions import TransactGet, TransactWrite

from singletable.server import Server

REGION = "us-east-1"
CONDITION_FAILED = "The conditional request failed"


def _create_table(client: Any, name: str, *, sort_type: str = "S") -> None:
    """A PK (S) + SK table, on demand, waited for with the ``table_exists`` waiter."""
    client.create_table(
        TableName=name,
        KeySchema=[
            {"AttributeName": "PK", "KeyType": "HASH"},
            {"AttributeName": "SK", "KeyType": "RANGE"},
        ],
        AttributeDefinitions=[
            {"AttributeName": "PK", "AttributeType": "S"},
            {"AttributeName": "SK", "AttributeType": sort_type},
        ],
        BillingMode="PAY_PER_REQUEST",
    )
    client.get_waiter("table_exists").wait(
        TableName=name, WaiterConfig={"Delay": 1, "MaxAttempts": 5}
    )


@pytest.fixture
def resource(server: Server) -> Any:
    return boto3.resource("dynamodb", endpoint_url=server.url, region_name=REGION)


@pytest.fixture
def table(client: Any, resource: Any) -> Any:
    _create_table(client, "items")
    return resource.Table("items")


# -- boto3 resource -----------------------------------------------------------------------


def test_resource_round_trips_every_attribute_type(table: Any, client: Any) -> None:
    item = {
        "PK": "user#1",
        "SK": "profile",
        "precise": Decimal("12345678901234567890.123456789012345678"),  # 38 digits
        "tiny": Decimal("1E-130"),
        "large": Decimal("1.5E+20"),
        "negative": Decimal("-42"),
        "text": "héllo \u2603 \U0001f600",
        "empty": "",
        "blob": Binary(b"\x00\xff\x10binary"),
        "flag": True,
        "nothing": None,
        "strings": {"a", "b", "c"},
        "numbers": {Decimal("1"), Decimal("2.5"), Decimal("-3")},
        "blobs": {Binary(b"\x00"), Binary(b"\xff")},
        "nested": {
            "list": [Decimal("1"), "two", {"three": [None, False]}, [], {}],
            "map": {"deep": {"deeper": {"deepest": "x"}}},
        },
    }
    table.put_item(Item=item)
    got = table.get_item(Key={"PK": "user#1", "SK": "profile"}, ConsistentRead=True)["Item"]
    assert got == item
    assert isinstance(got["blob"], Binary)
    assert got["blob"].value == b"\x00\xff\x10binary"

    projected = table.get_item(
        Key={"PK": "user#1", "SK": "profile"},
        ProjectionExpression="#n.#l[2].three[1], strings",
        ExpressionAttributeNames={"#n": "nested", "#l": "list"},
    )["Item"]
    assert projected == {"nested": {"list": [{"three": [False]}]}, "strings": {"a", "b", "c"}}

    assert "Item" not in table.get_item(Key={"PK": "user#1", "SK": "missing"})

    # DynamoDB answers numbers in plain notation, trailing zeros written out. The resource
    # cannot read one with more than 38 digits that way (boto/boto3#2500: its Decimal
    # context counts the zeros as significant), so the extremes are checked on the client.
    huge = "9.9999999999999999999999999999999999999E+125"
    client.put_item(
        TableName="items",
        Item={"PK": {"S": "n"}, "SK": {"S": "n"}, "huge": {"N": huge}, "neg": {"N": "-1E-130"}},
    )
    got = client.get_item(TableName="items", Key={"PK": {"S": "n"}, "SK": {"S": "n"}})["Item"]
    assert got["huge"] == {"N": "9" * 38 + "0" * 88}
    assert Decimal(got["neg"]["N"]) == Decimal("-1E-130")


def test_resource_update_with_conditions(table: Any) -> None:
    table.put_item(Item={"PK": "p", "SK": "s", "count": 1, "tags": ["a"], "version": 1})
    updated = table.update_item(
        Key={"PK": "p", "SK": "s"},
        UpdateExpression="SET #c = #c + :one, tags = list_append(tags, :more), version = :v2 "
        "ADD seen :who REMOVE #gone",
        ConditionExpression=Attr("version").eq(1) & Attr("tags").size().lt(5),
        ExpressionAttributeNames={"#c": "count", "#gone": "missing"},
        ExpressionAttributeValues={":one": 1, ":more": ["b", "c"], ":v2": 2, ":who": {"x"}},
        ReturnValues="UPDATED_NEW",
    )
    assert updated["Attributes"] == {
        "count": Decimal(2),
        "tags": ["a", "b", "c"],
        "version": Decimal(2),
        "seen": {"x"},
    }

    # The same condition now fails: the exception class comes from the client's model,
    # the message and the old item (ReturnValuesOnConditionCheckFailure) from the server.
    errors = table.meta.client.exceptions
    with pytest.raises(errors.ConditionalCheckFailedException) as failed:
        table.update_item(
            Key={"PK": "p", "SK": "s"},
            UpdateExpression="SET #c = :zero",
            ConditionExpression=Attr("version").eq(1),
            ExpressionAttributeNames={"#c": "count"},
            ExpressionAttributeValues={":zero": 0},
            ReturnValuesOnConditionCheckFailure="ALL_OLD",
        )
    error = failed.value.response
    assert error["Error"] == {
        "Code": "ConditionalCheckFailedException",
        "Message": CONDITION_FAILED,
    }
    assert error["ResponseMetadata"]["HTTPStatusCode"] == 400
    assert error["Item"]["count"] == {"N": "2"}
    assert table.get_item(Key={"PK": "p", "SK": "s"})["Item"]["count"] == 2

    with pytest.raises(errors.ConditionalCheckFailedException):
        table.put_item(
            Item={"PK": "p", "SK": "s"},
            ConditionExpression=Attr("PK").not_exists(),
        )
    # Deleting with a true condition returns the old item.
    deleted = table.delete_item(
        Key={"PK": "p", "SK": "s"},
        ConditionExpression=Attr("seen").contains("x") & Attr("count").between(1, 3),
        ReturnValues="ALL_OLD",
    )
    assert deleted["Attributes"]["version"] == 2
    assert "Item" not in table.get_item(Key={"PK": "p", "SK": "s"})


def test_resource_query_and_scan_with_conditions(table: Any) -> None:
    with table.batch_writer() as batch:
        for user in ("u1", "u2"):
            for n in range(6):
                kind = "order" if n % 2 else "note"
                batch.put_item(
                    Item={"PK": user, "SK": f"{kind}#{n:03d}", "n": n, "user": user, "kind": kind}
                )

    orders = table.query(
        KeyConditionExpression=Key("PK").eq("u1") & Key("SK").begins_with("order#"),
    )["Items"]
    assert [item["SK"] for item in orders] == ["order#001", "order#003", "order#005"]

    backwards = table.query(
        KeyConditionExpression=Key("PK").eq("u2") & Key("SK").between("note#000", "note#003"),
        ScanIndexForward=False,
        FilterExpression=Attr("n").gt(0),
    )
    assert [item["SK"] for item in backwards["Items"]] == ["note#002"]
    assert (backwards["Count"], backwards["ScannedCount"]) == (1, 2)

    scanned = table.scan(
        FilterExpression=Attr("kind").eq("order") & Attr("n").gte(3) & Attr("user").is_in(["u2"]),
    )
    assert sorted(item["SK"] for item in scanned["Items"]) == ["order#003", "order#005"]
    assert scanned["ScannedCount"] == 12

    counted = table.scan(Select="COUNT", FilterExpression=Attr("SK").begins_with("note#"))
    assert (counted["Count"], "Items" in counted) == (6, False)

    with pytest.raises(ClientError) as bad:
        table.query(KeyConditionExpression=Key("SK").eq("note#000"))
    assert bad.value.response["Error"]["Code"] == "ValidationException"
    assert "PK" in bad.value.response["Error"]["Message"]


def test_resource_batch_writer_over_25_items(table: Any) -> None:
    blob = b"\x01" * 1000
    with table.batch_writer() as batch:
        for n in range(70):
            batch.put_item(Item={"PK": "bulk", "SK": f"{n:04d}", "n": n, "blob": blob})
        for n in range(0, 70, 7):
            batch.delete_item(Key={"PK": "bulk", "SK": f"{n:04d}"})
    items = table.query(KeyConditionExpression=Key("PK").eq("bulk"), ConsistentRead=True)["Items"]
    assert [item["n"] for item in items] == [n for n in range(70) if n % 7]
    assert all(item["blob"] == blob for item in items)

    # Without overwrite_by_pkeys, two writes of one key in a request are DynamoDB's error.
    with pytest.raises(ClientError) as duplicate, table.batch_writer() as batch:
        batch.put_item(Item={"PK": "dup", "SK": "1", "v": 1})
        batch.put_item(Item={"PK": "dup", "SK": "1", "v": 2})
    assert duplicate.value.response["Error"] == {
        "Code": "ValidationException",
        "Message": "Provided list of item keys contains duplicates",
    }
    assert "Item" not in table.get_item(Key={"PK": "dup", "SK": "1"})

    # With it, the last write of a key wins, client side, and the request goes through.
    with table.batch_writer(overwrite_by_pkeys=["PK", "SK"]) as batch:
        for n in range(40):
            batch.put_item(Item={"PK": "dup", "SK": str(n % 5), "v": n})
        batch.delete_item(Key={"PK": "dup", "SK": "4"})
    items = table.query(KeyConditionExpression=Key("PK").eq("dup"))["Items"]
    assert {item["SK"]: item["v"] for item in items} == {"0": 35, "1": 36, "2": 37, "3": 38}


# -- boto3 client: paginators, waiters, transactions ---------------------------------------


def test_client_paginators_yield_every_item_once_in_order(client: Any) -> None:
    _create_table(client, "paged", sort_type="N")
    for n in range(10):
        client.put_item(
            TableName="paged",
            Item={"PK": {"S": "p"}, "SK": {"N": str(n)}, "odd": {"BOOL": bool(n % 2)}},
        )
    for n in range(7):
        client.put_item(TableName="paged", Item={"PK": {"S": f"other{n}"}, "SK": {"N": "0"}})

    query = client.get_paginator("query")
    pages = list(
        query.paginate(
            TableName="paged",
            KeyConditionExpression="PK = :p",
            ExpressionAttributeValues={":p": {"S": "p"}},
            PaginationConfig={"PageSize": 3},
        )
    )
    assert [page["Count"] for page in pages] == [3, 3, 3, 1]
    assert [int(item["SK"]["N"]) for page in pages for item in page["Items"]] == list(range(10))
    assert "LastEvaluatedKey" not in pages[-1]
    assert pages[0]["LastEvaluatedKey"] == {"PK": {"S": "p"}, "SK": {"N": "2"}}

    # Exactly a multiple of the page size: DynamoDB still returns a LastEvaluatedKey with
    # the last full page, and the page after it is empty.
    descending = list(
        query.paginate(
            TableName="paged",
            KeyConditionExpression="PK = :p AND SK < :nine",
            ExpressionAttributeValues={":p": {"S": "p"}, ":nine": {"N": "9"}},
            ScanIndexForward=False,
            PaginationConfig={"PageSize": 3},
        )
    )
    assert [page["Count"] for page in descending] == [3, 3, 3, 0]
    assert [int(i["SK"]["N"]) for p in descending for i in p["Items"]] == list(range(8, -1, -1))

    # A filter applies after the limit: pages can be short, none is lost.
    filtered = query.paginate(
        TableName="paged",
        KeyConditionExpression="PK = :p",
        FilterExpression="odd = :t",
        ExpressionAttributeValues={":p": {"S": "p"}, ":t": {"BOOL": True}},
        PaginationConfig={"PageSize": 4},
    ).build_full_result()
    assert [int(item["SK"]["N"]) for item in filtered["Items"]] == [1, 3, 5, 7, 9]
    assert (filtered["Count"], filtered["ScannedCount"]) == (5, 10)

    whole = client.scan(TableName="paged")["Items"]
    assert len(whole) == 17
    scan_pages = list(
        client.get_paginator("scan").paginate(TableName="paged", PaginationConfig={"PageSize": 4})
    )
    assert [page["Count"] for page in scan_pages] == [4, 4, 4, 4, 1]
    assert [item for page in scan_pages for item in page["Items"]] == whole

    # MaxItems hands out a NextToken that resumes where the previous call stopped.
    first = (
        client.get_paginator("scan")
        .paginate(TableName="paged", PaginationConfig={"PageSize": 5, "MaxItems": 6})
        .build_full_result()
    )
    rest = (
        client.get_paginator("scan")
        .paginate(
            TableName="paged",
            PaginationConfig={"PageSize": 5, "StartingToken": first["NextToken"]},
        )
        .build_full_result()
    )
    assert first["Items"] + rest["Items"] == whole
    assert "NextToken" not in rest

    names = [f"t{n:02d}" for n in range(5)]
    for name in reversed(names):
        client.create_table(
            TableName=name,
            KeySchema=[{"AttributeName": "PK", "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": "PK", "AttributeType": "S"}],
            BillingMode="PAY_PER_REQUEST",
        )
    table_pages = list(
        client.get_paginator("list_tables").paginate(PaginationConfig={"PageSize": 2})
    )
    assert [page["TableNames"] for page in table_pages] == [
        ["paged", "t00"],
        ["t01", "t02"],
        ["t03", "t04"],
        [],
    ] or [page["TableNames"] for page in table_pages] == [
        ["paged", "t00"],
        ["t01", "t02"],
        ["t03", "t04"],
    ]
    assert [n for page in table_pages for n in page["TableNames"]] == ["paged", *names]
    assert table_pages[0]["LastEvaluatedTableName"] == "t00"


def test_client_waiters(client: Any) -> None:
    config = {"Delay": 0.05, "MaxAttempts": 3}
    with pytest.raises(WaiterError) as never:
        client.get_waiter("table_exists").wait(TableName="nope", WaiterConfig=config)
    assert never.value.last_response["Error"]["Code"] == "ResourceNotFoundException"

    _create_table(client, "waited")
    described = client.describe_table(TableName="waited")["Table"]
    assert described["TableStatus"] == "ACTIVE"
    assert described["TableArn"].endswith(":table/waited")

    with pytest.raises(WaiterError):
        client.get_waiter("table_not_exists").wait(TableName="waited", WaiterConfig=config)

    client.delete_table(TableName="waited")
    client.get_waiter("table_not_exists").wait(TableName="waited", WaiterConfig=config)
    with pytest.raises(client.exceptions.ResourceNotFoundException) as gone:
        client.describe_table(TableName="waited")
    assert (
        gone.value.response["Error"]["Message"]
        == "Requested resource not found: Table: waited not found"
    )


def test_client_transactions_and_cancellation_reasons(client: Any) -> None:
    _create_table(client, "ledger")

    def key(sk: str) -> dict[str, Any]:
        return {"PK": {"S": "acct"}, "SK": {"S": sk}}

    client.put_item(TableName="ledger", Item={**key("a"), "balance": {"N": "10"}})
    client.put_item(TableName="ledger", Item={**key("b"), "balance": {"N": "0"}})
    client.put_item(TableName="ledger", Item=key("open"))

    def transfer(amount: int) -> None:
        client.transact_write_items(
            TransactItems=[
                {
                    "Put": {
                        "TableName": "ledger",
                        "Item": {**key("log"), "amount": {"N": str(amount)}},
                    }
                },
                {
                    "Update": {
                        "TableName": "ledger",
                        "Key": key("a"),
                        "UpdateExpression": "SET balance = balance - :x",
                        "ConditionExpression": "balance >= :x",
                        "ExpressionAttributeValues": {":x": {"N": str(amount)}},
                        "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
                    }
                },
                {
                    "Update": {
                        "TableName": "ledger",
                        "Key": key("b"),
                        "UpdateExpression": "SET balance = balance + :x",
                        "ExpressionAttributeValues": {":x": {"N": str(amount)}},
                    }
                },
                {
                    "ConditionCheck": {
                        "TableName": "ledger",
                        "Key": key("open"),
                        "ConditionExpression": "attribute_exists(PK)",
                    }
                },
            ],
            ClientRequestToken=f"transfer-{amount}",
        )

    with pytest.raises(client.exceptions.TransactionCanceledException) as cancelled:
        transfer(25)
    response = cancelled.value.response
    assert response["Error"]["Code"] == "TransactionCanceledException"
    assert response["Error"]["Message"] == (
        "Transaction cancelled, please refer cancellation reasons for specific reasons "
        "[None, ConditionalCheckFailed, None, None]"
    )
    assert response["CancellationReasons"] == [
        {"Code": "None"},
        {
            "Code": "ConditionalCheckFailed",
            "Message": CONDITION_FAILED,
            "Item": {**key("a"), "balance": {"N": "10"}},
        },
        {"Code": "None"},
        {"Code": "None"},
    ]
    got = client.transact_get_items(
        TransactItems=[{"Get": {"TableName": "ledger", "Key": key(sk)}} for sk in ("a", "b", "log")]
    )["Responses"]
    assert [r.get("Item", {}).get("balance") for r in got] == [{"N": "10"}, {"N": "0"}, None]

    transfer(4)
    got = client.transact_get_items(
        TransactItems=[{"Get": {"TableName": "ledger", "Key": key(sk)}} for sk in ("a", "b", "log")]
    )["Responses"]
    assert [r["Item"].get("balance", r["Item"].get("amount")) for r in got] == [
        {"N": "6"},
        {"N": "4"},
        {"N": "4"},
    ]

    with pytest.raises(ClientError) as twice:
        client.transact_write_items(
            TransactItems=[
                {
                    "ConditionCheck": {
                        "TableName": "ledger",
                        "Key": key("a"),
                        "ConditionExpression": "attribute_exists(PK)",
                    }
                },
                {"Delete": {"TableName": "ledger", "Key": key("a")}},
            ]
        )
    assert twice.value.response["Error"] == {
        "Code": "ValidationException",
        "Message": "Transaction request cannot include multiple operations on one item",
    }


# -- aioboto3 -----------------------------------------------------------------------------


def test_aioboto3_client_and_resource(server: Server) -> None:
    async def scenario() -> None:
        session = aioboto3.Session(region_name=REGION)
        async with session.client("dynamodb", endpoint_url=server.url) as client:
            await client.create_table(
                TableName="async",
                KeySchema=[
                    {"AttributeName": "PK", "KeyType": "HASH"},
                    {"AttributeName": "SK", "KeyType": "RANGE"},
                ],
                AttributeDefinitions=[
                    {"AttributeName": "PK", "AttributeType": "S"},
                    {"AttributeName": "SK", "AttributeType": "N"},
                ],
                BillingMode="PAY_PER_REQUEST",
            )
            await client.get_waiter("table_exists").wait(
                TableName="async", WaiterConfig={"Delay": 1, "MaxAttempts": 3}
            )
            # Many requests at once, over the client's pool of connections.
            await asyncio.gather(
                *(
                    client.put_item(
                        TableName="async",
                        Item={"PK": {"S": "a"}, "SK": {"N": str(n)}, "sq": {"N": str(n * n)}},
                    )
                    for n in range(40)
                )
            )
            got = await asyncio.gather(
                *(
                    client.get_item(TableName="async", Key={"PK": {"S": "a"}, "SK": {"N": str(n)}})
                    for n in range(40)
                )
            )
            assert [int(g["Item"]["sq"]["N"]) for g in got] == [n * n for n in range(40)]

            pages = [
                page
                async for page in client.get_paginator("query").paginate(
                    TableName="async",
                    KeyConditionExpression="PK = :a AND SK >= :ten",
                    ExpressionAttributeValues={":a": {"S": "a"}, ":ten": {"N": "10"}},
                    PaginationConfig={"PageSize": 7},
                )
            ]
            assert [page["Count"] for page in pages] == [7, 7, 7, 7, 2]
            assert [int(i["SK"]["N"]) for p in pages for i in p["Items"]] == list(range(10, 40))

            with pytest.raises(client.exceptions.ConditionalCheckFailedException) as failed:
                await client.put_item(
                    TableName="async",
                    Item={"PK": {"S": "a"}, "SK": {"N": "1"}},
                    ConditionExpression="attribute_not_exists(PK)",
                )
            assert failed.value.response["Error"]["Message"] == CONDITION_FAILED
            with pytest.raises(client.exceptions.ResourceNotFoundException):
                await client.get_item(TableName="missing", Key={"PK": {"S": "a"}})

        async with session.resource("dynamodb", endpoint_url=server.url) as dynamo:
            table = await dynamo.Table("async")
            async with table.batch_writer() as batch:
                for n in range(30):
                    await batch.put_item(Item={"PK": "b", "SK": n, "half": Decimal(n) / 2})
            everything = await table.query(KeyConditionExpression=Key("PK").eq("b"), Select="COUNT")
            assert everything["Count"] == 30  # two BatchWriteItem requests of 25 and 5
            result = await table.query(
                KeyConditionExpression=Key("PK").eq("b") & Key("SK").gt(25),
            )
            assert [(item["SK"], item["half"]) for item in result["Items"]] == [
                (Decimal(n), Decimal(n) / 2) for n in range(26, 30)
            ]
            item = (await table.get_item(Key={"PK": "b", "SK": 3}))["Item"]
            assert item == {"PK": "b", "SK": 3, "half": Decimal("1.5")}
            updated = await table.update_item(
                Key={"PK": "b", "SK": 3},
                UpdateExpression="SET half = half + :one",
                ExpressionAttributeValues={":one": 1},
                ReturnValues="ALL_NEW",
            )
            assert updated["Attributes"]["half"] == Decimal("2.5")
            # DynamoDB has no `*` in update expressions: the server's error reaches the
            # async resource as a ClientError.
            with pytest.raises(ClientError) as syntax:
                await table.update_item(
                    Key={"PK": "b", "SK": 3},
                    UpdateExpression="SET half = half * :two",
                    ExpressionAttributeValues={":two": 2},
                )
            error = syntax.value.response["Error"]
            assert error["Code"] == "ValidationException"
            assert 'Invalid UpdateExpression: Syntax error; token: "*"' in error["Message"]

    asyncio.run(scenario())


# -- AWS CLI ------------------------------------------------------------------------------


def _aws(server: Server, *args: str) -> subprocess.CompletedProcess[str]:
    """Run ``aws dynamodb <args>`` (awscli v1, of this interpreter) against ``server``.

    Each run costs about 0.6 s of CPU to start (botocore's models), so the test keeps
    them few; run side by side on this machine they took longer than one after another.
    """
    command = [sys.executable, "-m", "awscli", "dynamodb", *args]
    command += ["--endpoint-url", server.url, "--region", REGION, "--output", "json"]
    return subprocess.run(command, capture_output=True, text=True, timeout=60, check=False)


def _aws_ok(server: Server, *args: str) -> Any:
    done = _aws(server, *args)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout) if done.stdout.strip() else None


def test_aws_cli(server: Server, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG, logger="singletable.server")
    created = _aws_ok(
        server,
        "create-table",
        "--table-name",
        "cli",
        "--attribute-definitions",
        "AttributeName=PK,AttributeType=S",
        "AttributeName=SK,AttributeType=N",
        "--key-schema",
        "AttributeName=PK,KeyType=HASH",
        "AttributeName=SK,KeyType=RANGE",
        "--billing-mode",
        "PAY_PER_REQUEST",
    )
    assert created["TableDescription"]["TableName"] == "cli"
    assert created["TableDescription"]["TableStatus"] == "ACTIVE"
    assert created["TableDescription"]["BillingModeSummary"]["BillingMode"] == "PAY_PER_REQUEST"

    batch = {
        "cli": [
            {"PutRequest": {"Item": {"PK": {"S": "k"}, "SK": {"N": str(n)}, "v": {"S": f"v{n}"}}}}
            for n in range(1, 6)
        ]
    }
    written = _aws_ok(server, "batch-write-item", "--request-items", json.dumps(batch))
    assert written == {"UnprocessedItems": {}}
    single = {
        "PK": {"S": "single"},
        "SK": {"N": "0"},
        # awscli v1 sends a blob given on the command line as its raw bytes (v2 would
        # decode base64), and prints the blob it gets back base64-encoded.
        "blob": {"B": "hello"},
        "ns": {"NS": ["1", "2.5"]},
        "m": {"M": {"l": {"L": [{"S": "x"}, {"NULL": True}]}, "b": {"BOOL": False}}},
    }
    put = _aws_ok(
        server,
        "put-item",
        "--table-name",
        "cli",
        "--item",
        json.dumps(single),
        "--condition-expression",
        "attribute_not_exists(PK)",
        "--return-consumed-capacity",
        "TOTAL",
    )
    assert put == {"ConsumedCapacity": {"TableName": "cli", "CapacityUnits": 1.0}}

    got = _aws_ok(
        server,
        "get-item",
        "--table-name",
        "cli",
        "--key",
        '{"PK": {"S": "single"}, "SK": {"N": "0"}}',
    )
    assert got == {"Item": {**single, "blob": {"B": "aGVsbG8="}}}

    queried = _aws_ok(
        server,
        "query",
        "--table-name",
        "cli",
        "--key-condition-expression",
        "PK = :k AND SK BETWEEN :lo AND :hi",
        "--expression-attribute-values",
        '{":k": {"S": "k"}, ":lo": {"N": "2"}, ":hi": {"N": "4"}}',
        "--no-scan-index-forward",
    )
    assert [item["v"]["S"] for item in queried["Items"]] == ["v4", "v3", "v2"]
    assert (queried["Count"], queried["ScannedCount"]) == (3, 3)

    caplog.clear()
    scanned = _aws_ok(server, "scan", "--table-name", "cli", "--page-size", "2")
    keys = [(item["PK"]["S"], item["SK"]["N"]) for item in scanned["Items"]]
    assert sorted(keys) == sorted([("single", "0")] + [("k", str(n)) for n in range(1, 6)])
    assert (scanned["Count"], scanned["ScannedCount"]) == (6, 6)
    # --page-size 2 over 6 items really paged through the server: 3 full pages, then the
    # empty one that the third page's LastEvaluatedKey leads to.
    scans = [r.getMessage().split() for r in caplog.records]
    assert [(words[1], words[2]) for words in scans] == [("Scan", "200")] * 4

    # A ClientError exits with 255 and prints DynamoDB's code and message on stderr.
    failed = _aws(
        server,
        "put-item",
        "--table-name",
        "cli",
        "--item",
        '{"PK": {"S": "single"}, "SK": {"N": "0"}}',
        "--condition-expression",
        "attribute_not_exists(PK)",
    )
    assert (failed.returncode, failed.stdout) == (255, "")
    assert failed.stderr.strip() == (
        "An error occurred (ConditionalCheckFailedException) when calling the PutItem "
        "operation: The conditional request failed"
    )

    assert _aws_ok(server, "list-tables") == {"TableNames": ["cli"]}


# -- PynamoDB -----------------------------------------------------------------------------


class _Details(MapAttribute[str, Any]):
    notes = UnicodeAttribute(null=True)
    sizes = ListAttribute(of=NumberAttribute, default=list)


def _pynamodb_model(server: Server) -> Any:
    url = server.url

    class ByOwner(GlobalSecondaryIndex["Thing"]):
        class Meta:
            index_name = "by-owner"
            projection = IncludeProjection(["title"])

        owner = UnicodeAttribute(hash_key=True)
        created = UTCDateTimeAttribute(range_key=True)

    class Thing(Model):
        class Meta:
            table_name = "things"
            host = url
            region = REGION
            billing_mode = "PAY_PER_REQUEST"
            max_retry_attempts = 0

        pk = UnicodeAttribute(hash_key=True)
        sk = NumberAttribute(range_key=True)
        owner = UnicodeAttribute()
        created = UTCDateTimeAttribute()
        title = UnicodeAttribute(null=True)
        price = NumberAttribute(default=0)
        active = BooleanAttribute(default=True)
        details = _Details(default=_Details)
        scores = NumberSetAttribute(null=True)
        tags = UnicodeSetAttribute(null=True)
        version = VersionAttribute()
        by_owner = ByOwner()

    return Thing


def test_pynamodb_model(server: Server) -> None:
    Thing = _pynamodb_model(server)
    assert not Thing.exists()
    Thing.create_table(wait=True)
    assert Thing.exists()
    schema = Thing._get_connection().describe_table()
    assert schema["GlobalSecondaryIndexes"][0]["Projection"] == {
        "ProjectionType": "INCLUDE",
        "NonKeyAttributes": ["title"],
    }

    start = datetime(2024, 5, 1, 12, 0, 0, 123456, tzinfo=UTC)
    first = Thing(
        "box",
        1,
        owner="alice",
        created=start,
        title="First",
        price=9.5,
        details=_Details(notes="fragile", sizes=[1, 2.5]),
        scores={3, 1.5},
        tags={"red", "blue"},
    )
    first.save(condition=Thing.pk.does_not_exist())
    assert first.version == 1
    with pytest.raises(PutError) as exists:
        Thing("box", 1, owner="bob", created=start).save(condition=Thing.pk.does_not_exist())
    assert exists.value.cause_response_code == "ConditionalCheckFailedException"
    assert exists.value.cause_response_message == CONDITION_FAILED

    got = Thing.get("box", 1, consistent_read=True)
    assert (got.owner, got.created, got.title, got.price, got.active) == (
        "alice",
        start,
        "First",
        9.5,
        True,
    )
    assert (got.details.notes, got.details.sizes) == ("fragile", [1, 2.5])
    assert (got.scores, got.tags, got.version) == ({3, 1.5}, {"red", "blue"}, 1)
    with pytest.raises(DoesNotExist):
        Thing.get("box", 999)

    # Optimistic locking: a stale copy cannot overwrite the newer version.
    stale = Thing.get("box", 1)
    got.title = "Renamed"
    got.save()
    stale.title = "Lost update"
    with pytest.raises(PutError) as lost:
        stale.save()
    assert lost.value.cause_response_code == "ConditionalCheckFailedException"
    assert Thing.get("box", 1).title == "Renamed"

    got.update(
        actions=[
            Thing.price.add(0.5),
            Thing.tags.add({"green"}),
            Thing.scores.delete({3}),
            Thing.details.notes.remove(),
            Thing.details.sizes.set(Thing.details.sizes.append([7])),
            Thing.active.set(False),
        ],
        condition=Thing.owner == "alice",
    )
    assert (got.price, got.tags, got.scores, got.active, got.version) == (
        10,
        {"red", "blue", "green"},
        {1.5},
        False,
        3,
    )
    assert (got.details.notes, got.details.sizes) == (None, [1, 2.5, 7])
    assert Thing.get("box", 1).details.sizes == [1, 2.5, 7]
    with pytest.raises(UpdateError) as refused:
        got.update(actions=[Thing.price.set(0)], condition=Thing.owner == "bob")
    assert refused.value.cause_response_code == "ConditionalCheckFailedException"

    with Thing.batch_write() as batch:
        for n in range(2, 42):
            batch.save(
                Thing(
                    "box",
                    n,
                    owner="bob" if n % 2 else "alice",
                    created=start + timedelta(hours=n),
                    title=f"t{n}",
                    price=n,
                    active=n % 3 == 0,
                )
            )
    assert Thing.count("box") == 41
    assert Thing.count("box", Thing.sk >= 40) == 2
    assert sum(1 for _ in Thing.scan(Thing.active == True)) == 13  # noqa: E712 (a condition)
    expensive = Thing.scan(Thing.price > 30, page_size=5)
    assert sorted(thing.sk for thing in expensive) == list(range(31, 42))
    assert expensive.total_count == 11

    between = Thing.query("box", Thing.sk.between(5, 9), scan_index_forward=False)
    assert [thing.sk for thing in between] == [9, 8, 7, 6, 5]
    paged = Thing.query("box", Thing.sk > 10, page_size=4, filter_condition=Thing.owner == "bob")
    assert [thing.sk for thing in paged] == list(range(11, 42, 2))
    assert paged.last_evaluated_key is None

    since = start + timedelta(hours=30)
    owned = list(Thing.by_owner.query("alice", Thing.created > since))
    assert [thing.sk for thing in owned] == [32, 34, 36, 38, 40]
    assert [thing.title for thing in owned] == ["t32", "t34", "t36", "t38", "t40"]
    # Only the key and the projected `title` come back from the index.
    assert owned[0].price == 0 and owned[0].version is None

    batch = sorted(Thing.batch_get([("box", 1), ("box", 2), ("box", 500)]), key=lambda t: t.sk)
    assert [(thing.sk, thing.owner) for thing in batch] == [(1, "alice"), (2, "alice")]

    doomed = Thing.get("box", 2)
    with pytest.raises(DeleteError) as kept:
        doomed.delete(condition=Thing.owner == "bob")
    assert kept.value.cause_response_code == "ConditionalCheckFailedException"
    doomed.delete()
    with pytest.raises(DoesNotExist):
        doomed.refresh()
    assert Thing.count("box") == 40


def test_pynamodb_transactions(server: Server) -> None:
    Thing = _pynamodb_model(server)
    Thing.create_table(wait=True)
    now = datetime(2025, 1, 1, tzinfo=UTC)
    Thing("ledger", 1, owner="alice", created=now, price=10).save()
    Thing("ledger", 2, owner="bob", created=now, price=0).save()
    connection = Connection(host=server.url, region=REGION)

    def move(amount: int) -> None:
        a, b = Thing.get("ledger", 1), Thing.get("ledger", 2)
        with TransactWrite(connection=connection) as tx:
            tx.update(a, actions=[Thing.price.add(-amount)], condition=Thing.price >= amount)
            tx.update(b, actions=[Thing.price.add(amount)])
            tx.save(Thing("ledger", 3, owner="log", created=now, price=amount))

    with pytest.raises(TransactWriteError) as cancelled:
        move(25)
    assert cancelled.value.cause_response_code == "TransactionCanceledException"
    # PynamoDB sends condition checks, deletes, puts, then updates: the put of the log
    # entry comes first, and the reason is on the first update.
    reasons = cancelled.value.cancellation_reasons
    assert [r.code if r else None for r in reasons] == [None, "ConditionalCheckFailed", None]
    assert reasons[1].message == CONDITION_FAILED
    assert not Thing.count("ledger", Thing.sk == 3)

    move(4)
    with TransactGet(connection=connection) as get:
        futures = [get.get(Thing, "ledger", sk) for sk in (1, 2, 3)]
    assert [future.get().price for future in futures] == [6, 4, 4]
    assert [future.get().version for future in futures] == [2, 2, 1]
