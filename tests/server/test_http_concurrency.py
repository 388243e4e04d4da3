"""Many clients at once: no request is lost or answered twice, and none waits on another."""

from __future__ import annotations

import socket
import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import boto3
from botocore.config import Config

from singletable.server import Server

REGION = "us-east-1"
CLIENTS = 16
REQUESTS = 40


def test_concurrent_clients_lose_and_repeat_nothing(server: Server) -> None:
    setup = boto3.client("dynamodb", endpoint_url=server.url, region_name=REGION)
    setup.create_table(
        TableName="tbl",
        KeySchema=[{"AttributeName": "PK", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "PK", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    # No retries: a request botocore had to send twice would hide a lost answer.
    config = Config(retries={"max_attempts": 1, "mode": "standard"}, max_pool_connections=2)
    clients = [
        boto3.client("dynamodb", endpoint_url=server.url, region_name=REGION, config=config)
        for _ in range(CLIENTS)
    ]
    start = threading.Barrier(CLIENTS)

    def work(number: int) -> tuple[list[int], list[str]]:
        client = clients[number]
        start.wait()
        counters, request_ids = [], []
        for n in range(REQUESTS):
            counted = client.update_item(
                TableName="tbl",
                Key={"PK": {"S": "counter"}},
                UpdateExpression="ADD hits :one",
                ExpressionAttributeValues={":one": {"N": "1"}},
                ReturnValues="UPDATED_NEW",
            )
            counters.append(int(counted["Attributes"]["hits"]["N"]))
            put = client.put_item(
                TableName="tbl", Item={"PK": {"S": f"c{number}-{n}"}, "by": {"N": str(number)}}
            )
            request_ids += [
                counted["ResponseMetadata"]["RequestId"],
                put["ResponseMetadata"]["RequestId"],
            ]
        return counters, request_ids

    with ThreadPoolExecutor(CLIENTS) as pool:
        results = list(pool.map(work, range(CLIENTS)))
    total = CLIENTS * REQUESTS
    seen = sorted(value for counters, _ in results for value in counters)
    assert seen == list(range(1, total + 1))  # each ADD applied once, answered once
    ids = [rid for _, request_ids in results for rid in request_ids]
    assert len(set(ids)) == len(ids) == 2 * total
    items: list[dict[str, Any]] = []
    for page in setup.get_paginator("scan").paginate(TableName="tbl"):
        items.extend(page["Items"])
    assert len(items) == total + 1
    counter = next(item for item in items if item["PK"]["S"] == "counter")
    assert counter["hits"] == {"N": str(total)}


def test_a_stalled_client_does_not_block_others(server: Server) -> None:
    stalled = [socket.create_connection((server.host, server.port)) for _ in range(8)]
    try:
        for sock in stalled:  # half a request each: their threads wait for the rest
            sock.sendall(b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n{")
        client = boto3.client("dynamodb", endpoint_url=server.url, region_name=REGION)
        assert client.list_tables()["TableNames"] == []
    finally:
        for sock in stalled:
            sock.close()
