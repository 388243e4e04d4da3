"""The code of the backends, local engine and server pages (docs/backends.md,
docs/local-engine.md, docs/server.md).

Run it with ``python docs/examples/engine_tour.py``: everything stays on this
machine (the HTTP parts use a server on a free port of 127.0.0.1).
tests/docs/test_docs_examples.py runs ``main()`` and checks what it returns.
"""

from __future__ import annotations

import asyncio
import tempfile
from pathlib import Path
from typing import Any

import boto3

from singletable import DB, AsyncDB, Entity, Keys, Query, Table
from singletable.backends.aioboto3 import AioBoto3Backend
from singletable.backends.boto3 import Boto3Backend
from singletable.backends.engine import LocalBackend
from singletable.backends.local import DynamoDBError, LocalEngine
from singletable.backends.wire import AsyncWireBackend, WireBackend
from singletable.server import Server
from singletable.testing import local_dynamodb

notes = Table("notes")


class Note(Entity, table=notes):
    author: str
    note_id: str
    text: str

    keys = Keys(pk="AUTHOR#{author}", sk="NOTE#{note_id}")
    by_author = Query()


TABLE = {
    "TableName": "app",
    "KeySchema": [
        {"AttributeName": "PK", "KeyType": "HASH"},
        {"AttributeName": "SK", "KeyType": "RANGE"},
    ],
    "AttributeDefinitions": [
        {"AttributeName": "PK", "AttributeType": "S"},
        {"AttributeName": "SK", "AttributeType": "S"},
    ],
    "BillingMode": "PAY_PER_REQUEST",
}


def engine_calls() -> dict[str, Any]:
    """The engine called directly, in DynamoDB's wire shape."""
    seen: dict[str, Any] = {}
    # --8<-- [start:engine-call]
    engine = LocalEngine()
    engine.call("CreateTable", TABLE)  # TABLE: a CreateTable request, as boto3 would send it
    engine.call("PutItem", {"TableName": "app", "Item": {"PK": {"S": "a"}, "SK": {"S": "b"}}})
    item = engine.call("GetItem", {"TableName": "app", "Key": {"PK": {"S": "a"}, "SK": {"S": "b"}}})
    try:
        engine.call("PutItem", {"TableName": "app", "Item": {"PK": {"S": "a"}}})
    except DynamoDBError as error:
        print(error.code)  # ValidationException
        print(error.message)  # One or more parameter values were invalid: Missing the key SK ...
        # --8<-- [end:engine-call]
        seen["error"] = (error.code, error.message)
    seen["item"] = item
    engine.close()
    return seen


def multi_attribute_keys() -> list[str]:
    """A GSI whose keys are made of several attributes (DynamoDB, November 2025)."""
    with LocalEngine() as engine:
        engine.call(
            "CreateTable",
            {
                "TableName": "matches",
                "KeySchema": [{"AttributeName": "matchId", "KeyType": "HASH"}],
                "AttributeDefinitions": [
                    {"AttributeName": name, "AttributeType": "S"}
                    for name in ("matchId", "tournamentId", "region", "round", "bracket")
                ],
                "BillingMode": "PAY_PER_REQUEST",
                # --8<-- [start:multi-attribute-index]
                "GlobalSecondaryIndexes": [
                    {
                        "IndexName": "by_tournament_region",
                        "KeySchema": [
                            {"AttributeName": "tournamentId", "KeyType": "HASH"},
                            {"AttributeName": "region", "KeyType": "HASH"},
                            {"AttributeName": "round", "KeyType": "RANGE"},
                            {"AttributeName": "bracket", "KeyType": "RANGE"},
                        ],
                        "Projection": {"ProjectionType": "ALL"},
                    }
                ],
                # --8<-- [end:multi-attribute-index]
            },
        )
        for match, round_, bracket in [("m1", "R1", "A"), ("m2", "R1", "C"), ("m3", "R2", "B")]:
            item = {"matchId": match, "tournamentId": "T1", "region": "EU",
                    "round": round_, "bracket": bracket}  # fmt: skip
            engine.call(
                "PutItem",
                {"TableName": "matches", "Item": {k: {"S": v} for k, v in item.items()}},
            )
        # --8<-- [start:multi-attribute-query]
        found = engine.call("Query", {
            "TableName": "matches", "IndexName": "by_tournament_region",
            "KeyConditionExpression":
                "tournamentId = :t AND #region = :r AND round = :round AND bracket > :b",
            "ExpressionAttributeNames": {"#region": "region"},  # a reserved word
            "ExpressionAttributeValues": {
                ":t": {"S": "T1"}, ":r": {"S": "EU"}, ":round": {"S": "R1"}, ":b": {"S": "B"},
            },
        })  # fmt: skip
        # --8<-- [end:multi-attribute-query]
        return [item["matchId"]["S"] for item in found["Items"]]


def streams() -> dict[str, Any]:
    """Stream records delivered in process: a subscription and an iterator."""
    with LocalEngine() as engine:
        engine.call(
            "CreateTable",
            TABLE | {"StreamSpecification": {"StreamEnabled": True, "StreamViewType": "NEW_IMAGE"}},
        )
        put = {"TableName": "app", "Item": {"PK": {"S": "a"}, "SK": {"S": "1"}}}
        # --8<-- [start:subscribe]
        records: list[dict[str, Any]] = []
        subscription = engine.subscribe("app", records.append)  # called after each write
        engine.call("PutItem", put)
        subscription.close()

        with engine.stream_records("app") as stream:  # or read them as an iterator
            engine.call("DeleteItem", {"TableName": "app", "Key": put["Item"]})
            [record] = stream.drain()
        # --8<-- [end:subscribe]
        return {"subscribed": [r["eventName"] for r in records], "drained": record["eventName"]}


def ttl_on_a_clock() -> int:
    """TTL expiry driven by a clock the test holds."""
    now = [1_700_000_000.0]
    # --8<-- [start:ttl]
    engine = LocalEngine(clock=lambda: now[0], ttl_sweep_interval=None)  # no background sweep
    engine.call("CreateTable", TABLE)
    engine.call("UpdateTimeToLive", {
        "TableName": "app",
        "TimeToLiveSpecification": {"Enabled": True, "AttributeName": "expires"},
    })  # fmt: skip
    item = {"PK": {"S": "s"}, "SK": {"S": "1"}, "expires": {"N": str(int(now[0]) + 60)}}
    engine.call("PutItem", {"TableName": "app", "Item": item})
    now[0] += 61  # a minute later
    deleted = engine.sweep_ttl()  # 1: the item expired and is gone
    # --8<-- [end:ttl]
    engine.close()
    return deleted


def boto3_routed() -> list[str]:
    """Unmodified boto3 code, routed to an in-process engine."""
    # --8<-- [start:local-dynamodb]
    with local_dynamodb() as engine:  # a fresh LocalEngine for the block
        client = boto3.client("dynamodb", region_name="us-east-1")
        client.create_table(**TABLE)  # every DynamoDB call goes to the engine, in process
        names = client.list_tables()["TableNames"]
    # --8<-- [end:local-dynamodb]
    assert engine is not None
    return names


def backends(tmp: Path) -> dict[str, Any]:
    """One model on each backend."""
    seen: dict[str, Any] = {}
    note = Note(author="ada", note_id="n1", text="hello")

    # --8<-- [start:backend-memory]
    with DB() as db:  # LocalBackend(): the embedded engine, in memory
        db.create_table(notes)
        db.put(note)
    # --8<-- [end:backend-memory]

    # --8<-- [start:backend-durable]
    with DB(LocalBackend(path=tmp / "notes.db")) as db:  # SQLite, survives restarts
        db.create_table(notes, exist_ok=True)
        db.put(note)
    with DB(LocalBackend(path=tmp / "notes.db")) as db:  # reopened: the note is there
        seen["durable"] = db.require(Note, author="ada", note_id="n1").text
    # --8<-- [end:backend-durable]

    # --8<-- [start:backend-engine]
    engine = LocalEngine(ttl_sweep_interval=None)  # yours: streams, a clock, TTL sweeps
    with DB(LocalBackend(engine)) as db:
        db.create_table(notes)
        db.put(note)
    engine.close()  # an engine you pass in stays open until you close it
    # --8<-- [end:backend-engine]

    with Server() as server:
        # --8<-- [start:backend-boto3]
        backend = Boto3Backend.connect(
            endpoint_url=server.url,  # leave it out to talk to AWS
            region_name="us-east-1",
            aws_access_key_id="local",  # the local endpoint accepts any credentials
            aws_secret_access_key="local",
        )
        with DB(backend) as db:  # closes the client it made
            db.create_table(notes)
            db.put(note)
            seen["boto3"] = [n.note_id for n in db.query(Note.by_author, author="ada")]
        # --8<-- [end:backend-boto3]
        seen["aioboto3"] = asyncio.run(on_aioboto3(server.url))

        # --8<-- [start:backend-wire]
        backend = WireBackend(
            endpoint_url=server.url,  # leave it out to talk to AWS
            region_name="us-east-1",
            aws_access_key_id="local",  # leave the keys out to use the usual chain
            aws_secret_access_key="local",
        )
        with DB(backend) as db:  # closes its connections
            db.create_table(notes, exist_ok=True)
            seen["wire"] = [n.note_id for n in db.query(Note.by_author, author="ada")]
        # --8<-- [end:backend-wire]
        seen["wire_async"] = asyncio.run(on_async_wire(server.url))
    return seen


async def on_aioboto3(url: str) -> str:
    """The same model on AsyncDB over aioboto3."""
    # --8<-- [start:backend-aioboto3]
    backend = await AioBoto3Backend.connect(
        endpoint_url=url,
        region_name="us-east-1",
        aws_access_key_id="local",
        aws_secret_access_key="local",
    )
    async with AsyncDB(backend) as db:
        await db.create_table(notes, exist_ok=True)
        await db.put(Note(author="ada", note_id="n2", text="async"))
        found = await db.require(Note, author="ada", note_id="n2")
    # --8<-- [end:backend-aioboto3]
    return found.text


async def on_async_wire(url: str) -> str:
    """The same model on AsyncDB over the async wire backend."""
    # --8<-- [start:backend-wire-async]
    backend = AsyncWireBackend(
        endpoint_url=url,
        region_name="us-east-1",
        aws_access_key_id="local",
        aws_secret_access_key="local",
    )
    async with AsyncDB(backend) as db:
        await db.put(Note(author="ada", note_id="n3", text="on the wire"))
        found = await db.require(Note, author="ada", note_id="n3")
    # --8<-- [end:backend-wire-async]
    return found.text


def over_http() -> list[str]:
    """The server from Python, with boto3 pointed at it."""
    # --8<-- [start:server]
    with Server() as server:  # in memory, on a free port of 127.0.0.1
        client = boto3.client(
            "dynamodb",
            endpoint_url=server.url,
            region_name="us-east-1",
            aws_access_key_id="local",  # any credentials are accepted by default
            aws_secret_access_key="local",
        )
        client.create_table(**TABLE)
        names = client.list_tables()["TableNames"]
    # --8<-- [end:server]
    return names


def main() -> dict[str, Any]:
    """Run every part; print and return what each did."""
    seen: dict[str, Any] = {
        "engine": engine_calls(),
        "multi_attribute": multi_attribute_keys(),
        "streams": streams(),
        "ttl_deleted": ttl_on_a_clock(),
        "routed_tables": boto3_routed(),
        "http_tables": over_http(),
    }
    with tempfile.TemporaryDirectory() as tmp:
        seen["backends"] = backends(Path(tmp))
    for name, value in seen.items():
        print(f"{name}: {value}")
    return seen


if __name__ == "__main__":
    main()
