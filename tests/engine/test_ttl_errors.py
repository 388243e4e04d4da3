"""A failing background TTL sweep is logged and exposed, never silent (issue 13, item 8)."""

from __future__ import annotations

import logging
import time
from typing import Any

import pytest

from singletable.backends.local import LocalEngine


def _engine_with_expired_items(count: int) -> LocalEngine:
    engine = LocalEngine(ttl_sweep_interval=0.02, clock=lambda: 2_000_000_000.0)
    engine.call(
        "CreateTable",
        {
            "TableName": "tbl",
            "KeySchema": [{"AttributeName": "PK", "KeyType": "HASH"}],
            "AttributeDefinitions": [{"AttributeName": "PK", "AttributeType": "S"}],
            "BillingMode": "PAY_PER_REQUEST",
        },
    )
    for i in range(count):
        engine.call(
            "PutItem",
            {"TableName": "tbl", "Item": {"PK": {"S": f"p{i}"}, "exp": {"N": "1999999000"}}},
        )
    return engine


def test_a_failing_background_sweep_is_logged_and_exposed(
    caplog: pytest.LogCaptureFixture,
) -> None:
    engine = _engine_with_expired_items(3)
    calls: list[Any] = []

    def subscriber(record: dict[str, Any]) -> None:
        calls.append(record)
        raise RuntimeError("subscriber exploded")

    engine.subscribe("tbl", subscriber, view="NEW_AND_OLD_IMAGES")
    assert engine.ttl_sweep_error is None
    with caplog.at_level(logging.DEBUG, logger="singletable.ttl"):
        engine.call(
            "UpdateTimeToLive",
            {"TableName": "tbl",
             "TimeToLiveSpecification": {"AttributeName": "exp", "Enabled": True}},
        )
        deadline = time.monotonic() + 10
        while engine.ttl_sweep_error is None and time.monotonic() < deadline:
            time.sleep(0.01)
        engine.close()
    error = engine.ttl_sweep_error
    assert isinstance(error, RuntimeError) and str(error) == "subscriber exploded"
    failures = [r for r in caplog.records if r.name == "singletable.ttl"]
    assert failures, "the failure was not logged"
    first = failures[0]
    assert first.levelno == logging.ERROR
    assert "subscriber exploded" in first.getMessage()
    assert first.exc_info is not None
    # The items were still deleted: only the subscriber failed.
    assert engine.ttl.failures >= 1 and calls


def test_a_repeated_failure_is_logged_once_as_an_error(caplog: pytest.LogCaptureFixture) -> None:
    engine = LocalEngine(ttl_sweep_interval=None)
    with caplog.at_level(logging.DEBUG, logger="singletable.ttl"):
        for _ in range(3):
            engine.ttl.failed(OSError("disk full"))
        engine.ttl.failed(ValueError("other"))
    levels = [r.levelno for r in caplog.records if r.name == "singletable.ttl"]
    assert levels == [logging.ERROR, logging.DEBUG, logging.DEBUG, logging.ERROR]
    assert isinstance(engine.ttl_sweep_error, ValueError)
    assert engine.ttl.failures == 4
    engine.close()
