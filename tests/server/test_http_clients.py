"""Real clients against a running ``singletable serve``: each drives the endpoint as a user would.

boto3's resource (conditions, batch_writer, every attribute type) and client (paginators,
waiters, transactions) and aioboto3 (async client and resource); the AWS CLI and PynamoDB
are in test_http_cli_pynamodb.py. Every test starts its own in-memory
server on a free port of 127.0.0.1 (the ``server`` fixture) and asserts what comes back:
values round-trip exactly, pages hold every item once and in order, and errors reach the
client with DynamoDB's code and message.
"""

from __future__ import annotations

import asyncio
from decimal import Decimal
from typing import Any

import aioboto3
import boto3
import pytest
from boto3.dynamodb.conditions import Attr, Key
from boto3.dynamodb.types import Binary
from botocore.exceptions import ClientError, WaiterError

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
