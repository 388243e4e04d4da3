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
``dynamodb_capacity``
    capacity enforcement on ``dynamodb_engine`` for this test (see
    :meth:`~singletable.backends.local.engine.LocalEngine.enforce_capacity`): requests
    beyond a table's throughput are throttled as DynamoDB throttles them; the fixture's
    value counts them (``dynamodb_capacity.throttled``). The marker
    ``@pytest.mark.enforce_capacity(burst_seconds=..., ...)`` does the same for
    ``dynamodb_engine`` (and everything built on it), with ``enforce_capacity``'s
    arguments.
``dynamodb_seed``
    ``dynamodb_seed(source, table=None)`` loads items into ``dynamodb_engine``: a
    DynamoDB JSON lines file (the ``singletable data export`` format), wire items, or
    entities (their tables created if missing); see :func:`seed`.
``dynamodb_session_engine``, ``dynamodb_session_data``, ``dynamodb_snapshot_engine``
    the snapshot pattern: override the session fixture ``dynamodb_session_data`` (in
    a ``conftest.py``) to create tables and load data once, into
    ``dynamodb_session_engine``; a test asking for ``dynamodb_snapshot_engine`` gets
    that engine restored to the state right after the load (``engine.restore()``).
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

import os
from collections.abc import Callable, Iterable, Iterator
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from singletable.backends.local import CapacityEnforcement, Seed
    from singletable.backends.local._faults import Faults
    from singletable.backends.local._snapshot import Snapshot
    from singletable.backends.local.engine import LocalEngine
    from singletable.db import DB
    from singletable.entity import Entity
    from singletable.server import Server
    from singletable.table import Table

__all__ = [
    "dynamodb_capacity",
    "dynamodb_client",
    "dynamodb_engine",
    "dynamodb_faults",
    "dynamodb_seed",
    "dynamodb_server",
    "dynamodb_session_data",
    "dynamodb_session_engine",
    "dynamodb_snapshot_engine",
    "seed",
    "singletable_db",
]

def seed(
    engine: LocalEngine,
    source: str | os.PathLike[str] | Seed | Iterable[Entity] | Iterable[dict[str, Any]],
    table: str | None = None,
) -> int:
    """Load items into ``engine``; returns how many were written.

    ``source`` is a DynamoDB JSON lines file (one ``{"Item": {...}}`` a line: what
    ``singletable data export`` writes), a :class:`~singletable.backends.local.Seed`,
    or an iterable of items in DynamoDB JSON, all for ``table``; or an iterable of
    entities, each written to its own table (created with its indexes if missing).
    Every item is checked as PutItem checks it (:meth:`LocalEngine.load`). A file is
    read and its items checked once per session (while it is unchanged): later loads
    of it only store them.

    Raises:
        ValueError: a line that is not ``{"Item": {...}}`` (named by its number), or a
            ``table`` missing or given where the source says.
        DynamoDBError: an item the table refuses (nothing is loaded then).
    """
    from singletable.backends.local import Seed

    if isinstance(source, str | os.PathLike):
        items: Seed | Iterable[dict[str, Any]] = _file_seed(source)
    elif isinstance(source, Seed):
        items = source
    else:
        from singletable.backends.engine import LocalBackend
        from singletable.db import DB
        from singletable.entity import Entity, validated

        values: list[Any] = list(source)
        if values and all(isinstance(value, Entity) for value in values):
            if table is not None:
                raise ValueError("entities go to their own tables: give no table")
            db = DB(LocalBackend(engine))
            tables = {
                value.__singletable__.table.name: value.__singletable__.table for value in values
            }
            per_table: dict[str, list[dict[str, Any]]] = {name: [] for name in tables}
            for value in values:  # what write_many would write, loaded at once
                per_table[value.__singletable__.table.name].append(validated(value).to_item())
            for name, definition in tables.items():
                db.create_table(definition, exist_ok=True)
                engine.load(name, per_table[name])
            return len(values)
        items = values
    if table is None:
        raise ValueError("give the table to load the items into")
    return engine.load(table, items)


# Seed files read this session, by path, while unchanged (modification time and size).
_FILE_SEEDS: dict[str, tuple[tuple[int, int], Seed]] = {}


def _file_seed(path: str | os.PathLike[str]) -> Seed:
    from singletable.backends.local import Seed

    name = os.path.realpath(path)
    status = os.stat(name)
    version = (status.st_mtime_ns, status.st_size)
    known = _FILE_SEEDS.get(name)
    if known is not None and known[0] == version:
        return known[1]
    seed_ = Seed.from_file(path)
    _FILE_SEEDS[name] = (version, seed_)
    return seed_


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "enforce_capacity(**options): dynamodb_engine throttles requests beyond the tables' "
        "throughput (options: LocalEngine.enforce_capacity's)",
    )


@pytest.fixture
def dynamodb_engine(request: pytest.FixtureRequest) -> Iterator[LocalEngine]:
    """A fresh in-memory engine for this test (capacity enforced with the
    ``enforce_capacity`` marker)."""
    from singletable.backends.local.engine import LocalEngine

    with LocalEngine(ttl_sweep_interval=None) as engine:
        marker = request.node.get_closest_marker("enforce_capacity")
        if marker is not None:
            engine.enforce_capacity(*marker.args, **marker.kwargs)
        yield engine


@pytest.fixture
def dynamodb_capacity(dynamodb_engine: LocalEngine) -> Iterator[CapacityEnforcement]:
    """Capacity enforcement on ``dynamodb_engine`` for this test (the marker's settings
    if the test has one; otherwise the defaults)."""
    if dynamodb_engine._throttle is not None:
        from singletable.backends.local import CapacityEnforcement

        current = dynamodb_engine._throttle
        yield CapacityEnforcement(dynamodb_engine, current, current)
        return
    with dynamodb_engine.enforce_capacity() as enforcement:
        yield enforcement


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
def dynamodb_seed(dynamodb_engine: LocalEngine) -> Callable[..., int]:
    """``dynamodb_seed(source, table=None)``: :func:`seed` on ``dynamodb_engine``."""

    def load(source: Any, table: str | None = None) -> int:
        return seed(dynamodb_engine, source, table)

    return load


@pytest.fixture(scope="session")
def dynamodb_session_engine() -> Iterator[LocalEngine]:
    """One in-memory engine for the whole session (no background TTL sweeper)."""
    from singletable.backends.local.engine import LocalEngine

    with LocalEngine(ttl_sweep_interval=None) as engine:
        yield engine


@pytest.fixture(scope="session")
def dynamodb_session_data(dynamodb_session_engine: LocalEngine) -> None:
    """Override (session scope, in a ``conftest.py``) to create the tables and load
    the data every test of ``dynamodb_snapshot_engine`` starts from; nothing by default."""


@pytest.fixture(scope="session")
def _dynamodb_session_snapshot(
    dynamodb_session_engine: LocalEngine, dynamodb_session_data: None
) -> Snapshot:
    return dynamodb_session_engine.snapshot()


@pytest.fixture
def dynamodb_snapshot_engine(
    dynamodb_session_engine: LocalEngine, _dynamodb_session_snapshot: Snapshot
) -> Iterator[LocalEngine]:
    """The session engine, restored to the state ``dynamodb_session_data`` left: each
    test starts from it, whatever the tests before it changed."""
    dynamodb_session_engine.restore(_dynamodb_session_snapshot)
    yield dynamodb_session_engine
    dynamodb_session_engine.faults.clear()


@pytest.fixture
def dynamodb_server() -> Iterator[Server]:
    """A running HTTP endpoint (in memory, 127.0.0.1, a free port), stopped after."""
    from singletable.server import Server

    with Server() as server:
        yield server
