"""Table-operation limits the behaviour suite does not reach through boto3."""

from __future__ import annotations

from typing import Any

import pytest

from singletable.backends.local import DynamoDBError, LocalEngine

CREATE: dict[str, Any] = {
    "TableName": "limits",
    "KeySchema": [{"AttributeName": "PK", "KeyType": "HASH"}],
    "AttributeDefinitions": [{"AttributeName": "PK", "AttributeType": "S"}],
}


def test_capacity_units_have_an_upper_bound() -> None:
    engine = LocalEngine()
    huge = {"ReadCapacityUnits": 1_000_000_000_001, "WriteCapacityUnits": 1}
    with pytest.raises(DynamoDBError) as caught:
        engine.call("CreateTable", {**CREATE, "ProvisionedThroughput": huge})
    assert (
        caught.value.message == "Given value 1000000000001 for ReadCapacityUnits is out of bounds"
    )
    assert engine.call("ListTables", {})["TableNames"] == []

    engine.call(
        "CreateTable",
        {**CREATE, "ProvisionedThroughput": {"ReadCapacityUnits": 5, "WriteCapacityUnits": 5}},
    )
    with pytest.raises(DynamoDBError) as caught:
        engine.call(
            "UpdateTable",
            {
                "TableName": "limits",
                "ProvisionedThroughput": {
                    "ReadCapacityUnits": 5,
                    "WriteCapacityUnits": 1_000_000_000_001,
                },
            },
        )
    assert (
        caught.value.message == "Given value 1000000000001 for WriteCapacityUnits is out of bounds"
    )
    described = engine.call("DescribeTable", {"TableName": "limits"})["Table"]
    assert described["ProvisionedThroughput"]["WriteCapacityUnits"] == 5
