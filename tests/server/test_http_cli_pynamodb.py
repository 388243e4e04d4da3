"""Real clients against a running ``singletable serve``: the AWS CLI (v1, run as a
subprocess of this interpreter) and PynamoDB models (boto3 and aioboto3 are in
test_http_clients.py). Every test starts its own in-memory server on a free port of
127.0.0.1 (the ``server`` fixture) and asserts what comes back: values round-trip
exactly and errors reach the client with DynamoDB's code and message.
"""

from __future__ import annotations

import json
import logging
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
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
