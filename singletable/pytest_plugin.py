"""pytest fixtures for test suites on the local engine (registered via ``pytest11``).

Installed with singletable, so any test can ask for them by name:

``dynamodb_engine``
    a fresh in-memory :class:`~singletable.backends.local.engine.LocalEngine` per
    test (no background TTL sweeper: call ``engine.sweep_ttl()``), closed after.
``dynamodb_client``
    a boto3 DynamoDB client whose requests go to ``dynamodb_engine`` in process
    (:func:`singletable.testing.local_dynamodb`): unmodified boto3 code under test
    is routed too, for the duration of the test.
``singletable_db``
    a factory: ``db = singletable_db(Order, Customer)`` creates the tables those
    entities (or :class:`~singletable.table.Table` objects) need, with every index
    and TTL, on ``dynamodb_engine``, and returns a :class:`~singletable.db.DB` on it.
``dynamodb_faults``
    ``dynamodb_engine.faults``: inject failures for this test
    (``dynamodb_faults.inject("ThrottlingException", operation="PutItem")``); every
    rule is removed when the test ends.
``dynamodb_server``
    opt-in: a running ``singletable serve`` (in memory, on a free port of
    127.0.0.1) for code that needs an endpoint URL (other SDKs, the AWS CLI,
    subprocesses); ``dynamodb_server.url``.

Example::

    def test_checkout(singletable_db):
        db = singletable_db(Order, Product)
        db.put(Product(sku="p1", stock=3))
        ...
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from singletable.backends.local._faults import Faults
    from singletable.backends.local.engine import LocalEngine
    from singletable.db import DB
    from singletable.entity import Entity
    from singletable.server import Server
    from singletable.table import Table

__all__ = [
    "dynamodb_client",
    "dynamodb_engine",
    "dynamodb_faults",
    "dynamodb_server",
    "singletable_db",
]


@pytest.fixture
def dynamodb_engine() -> Iterator[LocalEngine]:
    """A fresh in-memory engine for this test."""
    from singletable.backends.local.engine import LocalEngine

    with LocalEngine(ttl_sweep_interval=None) as engine:
        yield engine


@pytest.fixture
def dynamodb_faults(dynamodb_engine: LocalEngine) -> Iterator[Faults]:
    """The fault rules of ``dynamodb_engine`` (``.inject(...)``), all removed after the test."""
    yield dynamodb_engine.faults
    dynamodb_engine.faults.clear()


@pytest.fixture
def dynamodb_client(dynamodb_engine: LocalEngine) -> Iterator[Any]:
    """A boto3 DynamoDB client routed to ``dynamodb_engine`` (as is every DynamoDB
    client the test creates meanwhile)."""
    import boto3

    from singletable.testing import local_dynamodb

    with local_dynamodb(engine=dynamodb_engine):
        yield boto3.client("dynamodb", region_name="us-east-1")


@pytest.fixture
def singletable_db(dynamodb_engine: LocalEngine) -> Callable[..., DB]:
    """``singletable_db(*entities_or_tables)``: a DB on ``dynamodb_engine`` with the
    tables they need created (each table once)."""
    from singletable.backends.engine import LocalBackend
    from singletable.db import DB
    from singletable.table import Table

    db = DB(LocalBackend(dynamodb_engine))

    def connect(*models: type[Entity] | Table) -> DB:
        for model in models:
            table = model if isinstance(model, Table) else model.__singletable__.table
            db.create_table(table, exist_ok=True)
        return db

    return connect


@pytest.fixture
def dynamodb_server() -> Iterator[Server]:
    """A running HTTP endpoint (in memory, 127.0.0.1, a free port), stopped after."""
    from singletable.server import Server

    with Server() as server:
        yield server
