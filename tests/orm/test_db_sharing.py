"""One ``DB`` shared by many threads, and one ``AsyncDB`` by many asyncio tasks.

What docs/backends.md promises ("Sharing one database"): a ``DB`` holds no state
that a request changes (its backend, and the cursor secret), so any number of
threads may use one. The embedded engine serializes every request under one lock
(memory and durable storage alike), and a boto3 client is thread-safe. An
``AsyncDB`` on aioboto3 may be shared by the tasks of its event loop.

Each test runs the same workload from many workers at once, started together
(a barrier, or ``asyncio.gather``), and then reads everything back:

- every worker creates documents of its own (``mode="create"``) and reads them
  back by key and through a global index, while the others write: none is
  lost, and each query sees exactly the worker's documents so far;
- every worker increments one shared document with optimistic locking, half of
  the time by a versioned put (read, then put with the version read) and half
  of the time by ``db.update(..., expected_version=...)``, retrying on a version
  conflict (``VersionConflictError``): the final count is the number of
  increments that succeeded, and the versions the successful writes returned
  are exactly 2, 3, ..., each once (no two writers ever won with the same
  version, none was skipped);
- every worker adds to one shared atomic counter (``Update().add``): no
  increment is lost.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Annotated, Any

import boto3
import pytest

from singletable import (
    DB,
    AsyncDB,
    Entity,
    GlobalIndex,
    Keys,
    Query,
    Table,
    Update,
    Version,
    VersionConflictError,
)
from singletable.backends.aioboto3 import AioBoto3Backend
from singletable.backends.base import AsyncBackend
from singletable.backends.boto3 import Boto3Backend
from singletable.backends.engine import LocalBackend
from singletable.backends.wire import AsyncWireBackend, WireBackend
from singletable.server import Server

REGION = "us-east-1"
WORKERS = 8
OWN_DOCS = 10  # documents each worker creates
INCREMENTS = 6  # optimistic increments of the shared document, per worker
ADDS = 10  # atomic adds to the shared counter, per worker

sharing = Table("sharing", indexes=[GlobalIndex("GSI1", pk="GSI1PK", sk="GSI1SK")])


class Doc(Entity, table=sharing):
    doc_id: str
    owner: str
    n: int = 0
    version: Annotated[int, Version] = 0

    keys = Keys(pk="DOC#{doc_id}", sk="DOC", GSI1=("OWNER#{owner}", "{doc_id}"))
    by_owner = Query(index="GSI1")


class Counter(Entity, table=sharing):
    name: str
    count: int = 0

    keys = Keys(pk="COUNTER#{name}", sk="COUNTER")


def _doc_id(worker: int, i: int) -> str:
    return f"w{worker:02d}-{i:03d}"


# ------------------------------------------------------------------------ threads


@pytest.fixture(params=["local", "local_durable", "boto3_server", "wire_server"])
def shared_db(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[DB]:
    """One DB for every thread of the test: the embedded engine (in memory, durable),
    or one boto3 client or one wire backend (one urllib3 pool) against a running server."""
    if request.param == "local":
        db = DB()
    elif request.param == "local_durable":
        db = DB(LocalBackend(path=tmp_path / "shared.db"))
    elif request.param == "wire_server":
        server = request.getfixturevalue("dynamodb_server")
        db = DB(WireBackend(endpoint_url=server.url, region_name=REGION))
    else:
        server: Server = request.getfixturevalue("dynamodb_server")
        db = DB(Boto3Backend.connect(endpoint_url=server.url, region_name=REGION))
    with db:
        db.create_table(sharing)
        yield db


def _in_threads(work: Callable[[int], list[int]]) -> list[int]:
    """Run ``work(worker)`` in WORKERS threads started together; every result, joined
    (an exception in any thread fails the test)."""
    barrier = threading.Barrier(WORKERS)

    def start(worker: int) -> list[int]:
        barrier.wait()
        return work(worker)

    with ThreadPoolExecutor(WORKERS) as pool:
        futures = [pool.submit(start, worker) for worker in range(WORKERS)]
        return [version for future in futures for version in future.result()]


def _sync_worker(db: DB, worker: int) -> list[int]:
    """One thread's share of the workload; returns the versions its increments stored."""
    owner = f"owner{worker}"
    won: list[int] = []
    for i in range(max(OWN_DOCS, INCREMENTS, ADDS)):
        if i < OWN_DOCS:
            db.put(Doc(doc_id=_doc_id(worker, i), owner=owner), mode="create")
            assert db.require(Doc, doc_id=_doc_id(worker, i)).owner == owner
            mine = [d.doc_id for d in db.query(Doc.by_owner, owner=owner)]
            assert mine == [_doc_id(worker, j) for j in range(i + 1)]
        if i < INCREMENTS:
            won.append(_increment(db, use_update=i % 2 == 0))
        if i < ADDS:
            db.update(Counter, Update().add(Counter.count, 1), name="adds")
    return won


def _increment(db: DB, *, use_update: bool) -> int:
    """Add 1 to the shared document with optimistic locking; retry until it wins.
    Returns the version the winning write stored."""
    while True:
        current = db.require(Doc, consistent=True, doc_id="shared")
        try:
            if use_update:
                stored = db.update(
                    Doc,
                    Update().set(Doc.n, current.n + 1),
                    expected_version=current.version,
                    doc_id="shared",
                )
            else:
                stored = db.put(current.model_copy(update={"n": current.n + 1}))
        except VersionConflictError:
            continue  # another thread won this version: read again
        assert stored.n == current.n + 1 and stored.version == current.version + 1
        return stored.version


def _check_everything_is_there(docs: list[Doc], shared: Doc, adds: Counter, won: list[int]) -> None:
    own = sorted(d.doc_id for d in docs if d.doc_id != "shared")
    assert own == sorted(_doc_id(w, i) for w in range(WORKERS) for i in range(OWN_DOCS))
    assert all(d.version == 1 for d in docs if d.doc_id != "shared")
    increments = WORKERS * INCREMENTS
    assert shared.n == increments
    assert shared.version == 1 + increments
    # Each successful write stored the next version: every one from 2 up, each once.
    assert sorted(won) == list(range(2, 2 + increments))
    assert adds.count == WORKERS * ADDS


def test_one_db_shared_by_many_threads(shared_db: DB) -> None:
    db = shared_db
    db.put(Doc(doc_id="shared", owner="everyone"), mode="create")
    db.put(Counter(name="adds"), mode="create")

    won = _in_threads(lambda worker: _sync_worker(db, worker))

    _check_everything_is_there(
        db.scan(Doc).all(),
        db.require(Doc, consistent=True, doc_id="shared"),
        db.require(Counter, consistent=True, name="adds"),
        won,
    )


def test_a_stale_version_loses_to_a_concurrent_writer(shared_db: DB) -> None:
    """The check the retry loop relies on: of two writers holding the same version,
    the second is refused, by put and by update, and its write is not applied."""
    db = shared_db
    first = db.put(Doc(doc_id="d", owner="o"), mode="create")
    db.put(first.model_copy(update={"n": 1}))  # version 1 -> 2
    with pytest.raises(VersionConflictError) as put_refused:
        db.put(first.model_copy(update={"n": 99}))  # still holds version 1
    with pytest.raises(VersionConflictError) as update_refused:
        db.update(Doc, Update().set(Doc.n, 99), expected_version=first.version, doc_id="d")
    for refused in (put_refused.value, update_refused.value):
        assert (refused.expected, refused.stored) == (1, 2)
    stored = db.require(Doc, consistent=True, doc_id="d")
    assert (stored.n, stored.version) == (1, 2)


# -------------------------------------------------------------------------- tasks


async def _async_worker(db: AsyncDB, worker: int) -> list[int]:
    owner = f"owner{worker}"
    won: list[int] = []
    for i in range(max(OWN_DOCS, INCREMENTS, ADDS)):
        if i < OWN_DOCS:
            await db.put(Doc(doc_id=_doc_id(worker, i), owner=owner), mode="create")
            assert (await db.require(Doc, doc_id=_doc_id(worker, i))).owner == owner
            mine = [d.doc_id async for d in db.query(Doc.by_owner, owner=owner)]
            assert mine == [_doc_id(worker, j) for j in range(i + 1)]
        if i < INCREMENTS:
            won.append(await _async_increment(db, use_update=i % 2 == 0))
        if i < ADDS:
            await db.update(Counter, Update().add(Counter.count, 1), name="adds")
    return won


async def _async_increment(db: AsyncDB, *, use_update: bool) -> int:
    while True:
        current = await db.require(Doc, consistent=True, doc_id="shared")
        try:
            if use_update:
                stored = await db.update(
                    Doc,
                    Update().set(Doc.n, current.n + 1),
                    expected_version=current.version,
                    doc_id="shared",
                )
            else:
                stored = await db.put(current.model_copy(update={"n": current.n + 1}))
        except VersionConflictError:
            continue
        assert stored.n == current.n + 1 and stored.version == current.version + 1
        return stored.version


@pytest.mark.parametrize("client", ["aioboto3", "wire"])
def test_one_async_db_shared_by_many_tasks(dynamodb_server: Server, client: str) -> None:
    async def scenario() -> None:
        backend: AsyncBackend = (
            await AioBoto3Backend.connect(endpoint_url=dynamodb_server.url, region_name=REGION)
            if client == "aioboto3"
            else AsyncWireBackend(endpoint_url=dynamodb_server.url, region_name=REGION)
        )
        async with AsyncDB(backend) as db:
            await db.create_table(sharing)
            await db.put(Doc(doc_id="shared", owner="everyone"), mode="create")
            await db.put(Counter(name="adds"), mode="create")

            results = await asyncio.gather(
                *(_async_worker(db, worker) for worker in range(WORKERS))
            )

            _check_everything_is_there(
                await db.scan(Doc).all(),
                await db.require(Doc, consistent=True, doc_id="shared"),
                await db.require(Counter, consistent=True, name="adds"),
                [version for won in results for version in won],
            )

    asyncio.run(scenario())


def test_the_tasks_really_interleave(dynamodb_server: Server) -> None:
    """The async test above is a concurrency test only if requests of different
    tasks are in flight together: the server sees more than one at a time."""
    in_flight = 0
    most = 0
    lock = threading.Lock()
    engine = dynamodb_server.engine
    call = engine.call_json

    def counting(*args: Any, **kwargs: Any) -> Any:
        nonlocal in_flight, most
        with lock:
            in_flight += 1
            most = max(most, in_flight)
        try:
            threading.Event().wait(0.01)  # hold the request a moment
            return call(*args, **kwargs)
        finally:
            with lock:
                in_flight -= 1

    client = boto3.client("dynamodb", endpoint_url=dynamodb_server.url, region_name=REGION)
    with DB(Boto3Backend(client)) as setup:
        setup.create_table(sharing)
    engine.call_json = counting  # type: ignore[method-assign]
    try:

        async def scenario() -> None:
            backend = await AioBoto3Backend.connect(
                endpoint_url=dynamodb_server.url, region_name=REGION
            )
            async with AsyncDB(backend) as db:
                await asyncio.gather(
                    *(db.put(Doc(doc_id=f"d{i}", owner="o")) for i in range(WORKERS))
                )

        asyncio.run(scenario())
    finally:
        del engine.call_json
    assert most > 1
