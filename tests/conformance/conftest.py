"""Fixtures of the behaviour suite: one fresh backend per test, on every backend.

``db`` is parametrized over ``local`` (boto3 routed in-process to a fresh
embedded engine by ``singletable.testing.local_dynamodb()``), ``local_durable``
(the same on an engine with durable storage in a temporary file), ``http``
(boto3 over HTTP to ``singletable serve`` on 127.0.0.1, the server started in
this process for the test; every ``dynamodb`` and ``dynamodbstreams`` client
the test makes reaches it through ``AWS_ENDPOINT_URL_DYNAMODB(_STREAMS)``) and
``moto`` (``moto.mock_aws``). A test marked ``@pytest.mark.moto_differs(key)`` is
skipped on moto, with the reason taken from its module's ``MOTO_DIFFERENCES``;
set ``CONFORMANCE_CHECK_MOTO_DIFFERENCES=1`` to run those tests on moto anyway and
see whether each recorded difference still holds.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from ddbtest import REGION, Backend

BACKENDS = ["local", "local_durable", "http", "moto"]


def _skip_if_moto_differs(request: pytest.FixtureRequest) -> None:
    if os.environ.get("CONFORMANCE_CHECK_MOTO_DIFFERENCES"):
        return  # run them anyway, to see whether moto still differs
    marker = request.node.get_closest_marker("moto_differs")
    if marker is None:
        return
    key = marker.args[0]
    differences: dict[str, str] = getattr(request.module, "MOTO_DIFFERENCES", {})
    if key not in differences:
        pytest.fail(f"moto_differs({key!r}) has no entry in MOTO_DIFFERENCES")
    pytest.skip(f"moto differs from DynamoDB ({key}): {differences[key]}")


@pytest.fixture(params=BACKENDS)
def db(request: pytest.FixtureRequest) -> Iterator[Backend]:
    """A fresh, empty backend driven through boto3."""
    if request.param == "moto":
        _skip_if_moto_differs(request)
        from moto import mock_aws

        with mock_aws():
            yield Backend("moto", boto3.client("dynamodb", region_name=REGION))
        return
    if request.param == "http":
        from singletable.server import Server

        monkeypatch = request.getfixturevalue("monkeypatch")
        with Server() as server:
            monkeypatch.setenv("AWS_ENDPOINT_URL_DYNAMODB", server.url)
            monkeypatch.setenv("AWS_ENDPOINT_URL_DYNAMODB_STREAMS", server.url)
            yield Backend("http", boto3.client("dynamodb", region_name=REGION), server.engine)
        return
    from singletable.testing import local_dynamodb

    if request.param == "local_durable":  # the engine on a file (durable storage)
        from singletable.backends.local.engine import LocalEngine

        path = request.getfixturevalue("tmp_path") / "data.db"
        with local_dynamodb(engine=LocalEngine(path=path)) as engine:
            yield Backend("local_durable", boto3.client("dynamodb", region_name=REGION), engine)
        engine.close()
        return
    with local_dynamodb() as engine:
        yield Backend("local", boto3.client("dynamodb", region_name=REGION), engine)


@pytest.fixture
def ddb(db: Backend) -> Any:
    """The backend's boto3 low-level client."""
    return db.client


@pytest.fixture
def table(db: Backend) -> str:
    """A table ``tbl`` keyed on ``PK`` (S) and ``SK`` (S)."""
    return db.create_table()


@pytest.fixture
def hash_table(db: Backend) -> str:
    """A table ``hash`` keyed on ``PK`` (S) only."""
    return db.create_table("hash", sk=None)
