"""UpdateTimeToLive and DescribeTimeToLive.

API Reference: API_UpdateTimeToLive, API_DescribeTimeToLive; Developer Guide "Time
to Live (TTL)". The UpdateTimeToLive messages were captured from the live service
('TimeToLive is already enabled', 'TimeToLive is already disabled', 'TimeToLive is
active on a different AttributeName: current AttributeName is <name>'). Expiry
and deletion need the engine's clock and sweeps: tests/engine/test_subscribe.py.
"""

from __future__ import annotations

import time
from typing import Any

import boto3
import pytest
from botocore.config import Config
from ddbtest import REGION, Backend, raises

MOTO_DIFFERENCES = {
    "ttl-messages": "moto accepts enabling TTL twice and disabling it when it is disabled, and "
    "its message for another attribute name differs; DynamoDB: 'TimeToLive is already enabled', "
    "'TimeToLive is already disabled', 'TimeToLive is active on a different AttributeName: "
    "current AttributeName is <name>'.",
    "ttl-validation": "moto does not check the TimeToLiveSpecification members.",
    "ttl-not-found": "moto's message for a missing table differs ('Requested resource not found' "
    "without the table name).",
}


@pytest.fixture
def raw(db: Backend) -> Any:
    """A DynamoDB client without client-side parameter validation."""
    return boto3.client("dynamodb", region_name=REGION, config=Config(parameter_validation=False))


def _ttl(ddb: Any, enabled: bool, name: str = "expires") -> Any:
    return ddb.update_time_to_live(
        TableName="tbl", TimeToLiveSpecification={"Enabled": enabled, "AttributeName": name}
    )


def test_ttl_is_disabled_by_default(db: Backend, ddb: Any) -> None:
    db.create_table()
    described = ddb.describe_time_to_live(TableName="tbl")["TimeToLiveDescription"]
    assert described == {"TimeToLiveStatus": "DISABLED"}


def test_enable_and_disable(db: Backend, ddb: Any) -> None:
    db.create_table()
    response = _ttl(ddb, True)
    assert response["TimeToLiveSpecification"] == {"Enabled": True, "AttributeName": "expires"}
    described = ddb.describe_time_to_live(TableName="tbl")["TimeToLiveDescription"]
    assert described == {"TimeToLiveStatus": "ENABLED", "AttributeName": "expires"}
    response = _ttl(ddb, False)
    assert response["TimeToLiveSpecification"] == {"Enabled": False, "AttributeName": "expires"}
    status = ddb.describe_time_to_live(TableName="tbl")["TimeToLiveDescription"]
    assert status["TimeToLiveStatus"] in ("DISABLED", "DISABLING")


@pytest.mark.moto_differs("ttl-messages")
def test_enable_twice_and_disable_twice_are_rejected(db: Backend, ddb: Any) -> None:
    db.create_table()
    with raises("ValidationException", "TimeToLive is already disabled"):
        _ttl(ddb, False)
    _ttl(ddb, True)
    with raises("ValidationException", "TimeToLive is already enabled"):
        _ttl(ddb, True)
    described = ddb.describe_time_to_live(TableName="tbl")["TimeToLiveDescription"]
    assert described == {"TimeToLiveStatus": "ENABLED", "AttributeName": "expires"}


@pytest.mark.moto_differs("ttl-messages")
@pytest.mark.parametrize("enabled", [True, False])
def test_another_attribute_name_is_rejected_while_enabled(
    db: Backend, ddb: Any, enabled: bool
) -> None:
    db.create_table()
    _ttl(ddb, True)
    with raises(
        "ValidationException",
        "TimeToLive is active on a different AttributeName: current AttributeName is expires",
    ):
        _ttl(ddb, enabled, "other")
    described = ddb.describe_time_to_live(TableName="tbl")["TimeToLiveDescription"]
    assert described == {"TimeToLiveStatus": "ENABLED", "AttributeName": "expires"}


def test_after_disabling_another_attribute_can_be_enabled(db: Backend, ddb: Any) -> None:
    db.create_table()
    _ttl(ddb, True)
    _ttl(ddb, False)
    _ttl(ddb, True, "other")
    described = ddb.describe_time_to_live(TableName="tbl")["TimeToLiveDescription"]
    assert described == {"TimeToLiveStatus": "ENABLED", "AttributeName": "other"}


@pytest.mark.moto_differs("ttl-not-found")
def test_missing_table(db: Backend, ddb: Any) -> None:
    message = "Requested resource not found: Table: nope not found"
    with raises("ResourceNotFoundException", message):
        ddb.describe_time_to_live(TableName="nope")
    with raises("ResourceNotFoundException", message):
        ddb.update_time_to_live(
            TableName="nope", TimeToLiveSpecification={"Enabled": True, "AttributeName": "x"}
        )


@pytest.mark.moto_differs("ttl-validation")
@pytest.mark.parametrize(
    ("spec", "message"),
    [
        (
            {"Enabled": True, "AttributeName": ""},
            "1 validation error detected: Value '' at 'timeToLiveSpecification.attributeName' "
            "failed to satisfy constraint: Member must have length greater than or equal to 1",
        ),
        (
            {"AttributeName": "x"},
            "1 validation error detected: Value null at 'timeToLiveSpecification.enabled' "
            "failed to satisfy constraint: Member must not be null",
        ),
        (
            {"Enabled": True},
            "1 validation error detected: Value null at 'timeToLiveSpecification.attributeName' "
            "failed to satisfy constraint: Member must not be null",
        ),
    ],
)
def test_specification_is_checked(
    db: Backend, raw: Any, spec: dict[str, Any], message: str
) -> None:
    db.create_table()
    with raises("ValidationException", message):
        raw.update_time_to_live(TableName="tbl", TimeToLiveSpecification=spec)
    described = raw.describe_time_to_live(TableName="tbl")["TimeToLiveDescription"]
    assert described == {"TimeToLiveStatus": "DISABLED"}


def test_expired_items_are_still_returned_until_deleted(db: Backend, ddb: Any) -> None:
    # DynamoDB deletes expired items in the background; until then reads return them.
    # (Locally the sweeper runs every second: read at once, well within that.)
    db.create_table()
    _ttl(ddb, True)
    item = {"PK": {"S": "a"}, "SK": {"S": "1"}, "expires": {"N": str(int(time.time()) + 3600)}}
    db.put(item)
    assert db.get({"PK": {"S": "a"}, "SK": {"S": "1"}}) == item
