"""Capacity enforcement from the outside: ``singletable serve --enforce-capacity`` and
the pytest plugin's ``dynamodb_capacity`` fixture and ``enforce_capacity`` marker."""

from __future__ import annotations

import re
import subprocess
import sys
from typing import Any

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from singletable.backends.local import DynamoDBError, LocalEngine

SERVING = re.compile(r"serving DynamoDB on (http://127\.0\.0\.1:\d+) \((.*)\)")

TABLE: dict[str, Any] = {
    "TableName": "tbl",
    "KeySchema": [{"AttributeName": "PK", "KeyType": "HASH"}],
    "AttributeDefinitions": [{"AttributeName": "PK", "AttributeType": "S"}],
    "ProvisionedThroughput": {"ReadCapacityUnits": 1, "WriteCapacityUnits": 1},
}


def test_serve_enforce_capacity_throttles_over_http() -> None:
    process = subprocess.Popen(
        [sys.executable, "-m", "singletable.cli", "serve", "--port", "0", "--enforce-capacity"],
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stderr is not None
        match = SERVING.search(process.stderr.readline())
        assert match, "no serving line"
        assert "capacity enforced" in match.group(2)
        client = boto3.client(
            "dynamodb",
            endpoint_url=match.group(1),
            region_name="us-east-1",
            aws_access_key_id="x",
            aws_secret_access_key="x",
            config=Config(retries={"total_max_attempts": 1, "mode": "standard"}),
        )
        client.create_table(**TABLE)
        # One write unit a second, real time: a burst of writes is throttled.
        with pytest.raises(ClientError) as raised:
            for n in range(20):
                client.put_item(TableName="tbl", Item={"PK": {"S": str(n)}})
        error = raised.value.response
        assert error["Error"]["Code"] == "ProvisionedThroughputExceededException"
        assert error["ResponseMetadata"]["HTTPStatusCode"] == 400
        assert error["ThrottlingReasons"][0]["reason"] == "TableWriteProvisionedThroughputExceeded"
        client.close()
    finally:
        process.kill()
        process.wait(10)
        if process.stderr is not None:
            process.stderr.close()


def _burst(engine: LocalEngine, writes: int = 20) -> int:
    engine.call("CreateTable", TABLE)
    for n in range(writes):
        try:
            engine.call("PutItem", {"TableName": "tbl", "Item": {"PK": {"S": str(n)}}})
        except DynamoDBError as error:
            assert error.code == "ProvisionedThroughputExceededException"
            return n
    return writes


def test_engine_fixture_does_not_enforce_by_default(dynamodb_engine: LocalEngine) -> None:
    assert _burst(dynamodb_engine) == 20


def test_capacity_fixture_enforces_for_the_test(
    dynamodb_engine: LocalEngine, dynamodb_capacity: Any
) -> None:
    assert _burst(dynamodb_engine) < 20
    assert dynamodb_capacity.throttled == 1


@pytest.mark.enforce_capacity(partition_limits=False)
def test_marker_enforces_on_the_engine_fixture(dynamodb_engine: LocalEngine) -> None:
    assert _burst(dynamodb_engine) < 20
    throttle = dynamodb_engine._throttle
    assert throttle is not None and throttle.partition_limits is False


@pytest.mark.enforce_capacity(burst_seconds=10)
def test_capacity_fixture_with_the_marker_keeps_its_settings(
    dynamodb_engine: LocalEngine, dynamodb_capacity: Any
) -> None:
    assert dynamodb_capacity.throttle is dynamodb_engine._throttle
    assert dynamodb_capacity.throttle.burst_seconds == 10
    assert _burst(dynamodb_engine) < 20
    assert dynamodb_capacity.throttled == 1
