"""The API users call: :class:`DB` (sync) and :class:`AsyncDB` (async), one core.

Both are thin shells over the flows of :mod:`._operations`: each method builds
a flow and runs it on the backend (``run`` or ``await run_async``), so the two
APIs cannot drift apart. ``db.explain`` mirrors the methods and returns the
exact ``(operation, request)`` the method would send first, without sending it.

::

    db = DB()                                  # the embedded engine, in memory
    db.create_table(app)
    db.put(order, mode="create")
    db.get(Order, customer_id="c1", created_at=when, order_id="o1")
    for order in db.query(Order.for_customer, customer_id="c1").limit(50):
        ...
    page = db.query(Order.for_customer, customer_id="c1").page_size(20).page()
    next_page = db.query(Order.for_customer, customer_id="c1").after(page.cursor).page()
"""

from __future__ import annotations

import copy
from collections.abc import AsyncIterator, Callable, Iterator, Mapping, Sequence
from dataclasses import replace
from typing import TYPE_CHECKING, Any, Generic, Self, TypeVar

from singletable import _batches as batches
from singletable import _find as finding
from singletable import _operations as ops
from singletable import _queries as queries
from singletable import _tables as tables
from singletable import _transact as tx
from singletable._canonical import CanonicalItem
from singletable._flows import Call, explain, run, run_async
from singletable._operations import PutMode
from singletable._queries import (
    CollectionResult,
    Page,
    QuerySpec,
    check_positive,
    replaced_spec,
    scope,
)
from singletable._scan import AsyncScan, ScanSpec, SyncScan, scan_page
from singletable.errors import ItemNotFoundError
from singletable.tracing import AsyncTracingBackend, OnCall, TracingBackend

if TYPE_CHECKING:
    from singletable.backends.base import AsyncBackend, Backend
    from singletable.backends.local._streams import Subscription
    from singletable.changes import Change, UnknownChange
    from singletable.conditions import Condition, FieldPath
    from singletable.entity import Entity
    from singletable.patterns import BoundPattern, Collection
    from singletable.table import Table
    from singletable.updates import Update

__all__ = [
    "DB",
    "AsyncDB",
    "AsyncQuery",
    "AsyncScan",
    "AsyncTransaction",
    "Explain",
    "SyncQuery",
    "SyncScan",
    "SyncTransaction",
]

E = TypeVar("E", bound="Entity")
_DEFAULT_SECRET = b"singletable cursor"


def _query_spec(pattern: BoundPattern[Any], values: dict[str, Any], secret: bytes) -> QuerySpec:
    table = pattern.entity.__singletable__.table.name
    return QuerySpec(
        table=table,
        condition=pattern.key_condition(values),
        scope=scope(pattern.name, values, pattern.spec.name),
        reverse=pattern.pattern.reverse,
        secret=secret,
    )


def _collection_spec(coll: Collection, values: dict[str, Any], secret: bytes) -> QuerySpec:
    return QuerySpec(
        table=coll.table.name,
        condition=coll.key_condition(values),
        scope=scope(coll.name, values, coll.index),
        secret=secret,
    )


def _scan_spec(entity: type[E], page_size: int | None, secret: bytes) -> ScanSpec[E]:
    if page_size is not None:
        check_positive("page_size", page_size)
    return ScanSpec(entity, secret, page_size=page_size)


class _QueryCore(Generic[E]):
    """The options of a query; each option returns a new query (queries are values)."""

    def __init__(self, pattern: BoundPattern[E], spec: QuerySpec) -> None:
        self._pattern = pattern
        self._spec = spec

    def _copy(self, **changes: Any) -> Self:
        clone = object.__new__(type(self))
        clone.__dict__.update(self.__dict__)
        clone._spec = replaced_spec(self._spec, changes)
        return clone

    def limit(self, count: int) -> Self:
        """At most ``count`` items in all (``all()``, iteration, ``page()``)."""
        check_positive("limit", count)
        return self._copy(limit=count)

    def page_size(self, size: int) -> Self:
        """Ask DynamoDB for ``size`` items a request (the ``Limit`` parameter)."""
        check_positive("page_size", size)
        return self._copy(page_size=size)

    def reverse(self, descending: bool = True) -> Self:
        """Highest sort key first (or ascending with ``False``), whatever the pattern
        declared with ``reverse=``."""
        return self._copy(reverse=descending)

    def consistent(self, strongly: bool = True) -> Self:
        """Strongly consistent reads (not on a global index)."""
        return self._copy(consistent=strongly)

    def where(self, condition: Condition) -> Self:
        """Keep only the items ``condition`` holds for (a FilterExpression: DynamoDB
        still reads, and bills, the filtered-out items)."""
        current = self._spec.filter
        return self._copy(filter=condition if current is None else current & condition)

    def after(self, cursor: str | None) -> Self:
        """Continue after a page's ``cursor`` (None: from the start)."""
        return self._copy(cursor=cursor)

    def explain(self) -> Call:
        """The first request this query sends, without sending it."""
        return explain(queries.query_page(self._pattern, self._spec))

    def _one(self, found: list[E]) -> E:
        if len(found) != 1:
            what = "no" if not found else "more than one"
            raise ItemNotFoundError(
                f"{self._pattern.name} found {what} {self._pattern.entity.__name__}; "
                "one() needs exactly one"
            )
        return found[0]


class SyncQuery(_QueryCore[E]):
    """A query by access pattern on a :class:`DB` (iterate it to read every page)."""

    def __init__(self, db: DB, pattern: BoundPattern[E], spec: QuerySpec) -> None:
        super().__init__(pattern, spec)
        self._db = db

    def all(self) -> list[E]:
        """Every matching entity (every page, up to the limit)."""
        return run(self._db.backend, queries.query_all(self._pattern, self._spec))

    def page(self) -> Page[E]:
        """One page: its entities and the cursor of the next (None at the end)."""
        return run(self._db.backend, queries.query_page(self._pattern, self._spec))

    def first(self) -> E | None:
        """The first matching entity, or None."""
        flow = queries.query_all(self._pattern, replace(self._spec, limit=1))
        found = run(self._db.backend, flow)
        return found[0] if found else None

    def one(self) -> E:
        """The only matching entity (:class:`ItemNotFoundError` if none or several)."""
        return self._one(
            run(self._db.backend, queries.query_all(self._pattern, replace(self._spec, limit=2)))
        )

    def count(self) -> int:
        """How many entities match (counted by DynamoDB, items not transferred)."""
        return run(self._db.backend, queries.query_count(self._spec))

    def select(self, *fields: FieldPath[Any]) -> list[dict[str, Any]]:
        """Only these fields of every match (a ProjectionExpression): one dict per
        item, keyed by field name, values as stored (numbers as Decimal)."""
        return run(self._db.backend, queries.query_select(self._pattern, self._spec, fields))

    def __iter__(self) -> Iterator[E]:
        spec = self._spec
        seen = 0
        while True:
            page = run(self._db.backend, queries.query_page(self._pattern, spec))
            for item in page.items:
                if spec.limit is not None and seen >= spec.limit:
                    return
                seen += 1
                yield item
            if page.cursor is None:
                return
            spec = replace(spec, cursor=page.cursor)


class AsyncQuery(_QueryCore[E]):
    """A query by access pattern on an :class:`AsyncDB` (``async for`` reads every page)."""

    def __init__(self, db: AsyncDB, pattern: BoundPattern[E], spec: QuerySpec) -> None:
        super().__init__(pattern, spec)
        self._db = db

    async def all(self) -> list[E]:
        """Every matching entity (every page, up to the limit)."""
        return await run_async(self._db.backend, queries.query_all(self._pattern, self._spec))

    async def page(self) -> Page[E]:
        """One page: its entities and the cursor of the next (None at the end)."""
        return await run_async(self._db.backend, queries.query_page(self._pattern, self._spec))

    async def first(self) -> E | None:
        """The first matching entity, or None."""
        flow = queries.query_all(self._pattern, replace(self._spec, limit=1))
        found = await run_async(self._db.backend, flow)
        return found[0] if found else None

    async def one(self) -> E:
        """The only matching entity (:class:`ItemNotFoundError` if none or several)."""
        flow = queries.query_all(self._pattern, replace(self._spec, limit=2))
        return self._one(await run_async(self._db.backend, flow))

    async def count(self) -> int:
        """How many entities match."""
        return await run_async(self._db.backend, queries.query_count(self._spec))

    async def select(self, *fields: FieldPath[Any]) -> list[dict[str, Any]]:
        """Only these fields of every match (see :meth:`SyncQuery.select`)."""
        flow = queries.query_select(self._pattern, self._spec, fields)
        return await run_async(self._db.backend, flow)

    async def __aiter__(self) -> AsyncIterator[E]:
        spec = self._spec
        seen = 0
        while True:
            page = await run_async(self._db.backend, queries.query_page(self._pattern, spec))
            for item in page.items:
                if spec.limit is not None and seen >= spec.limit:
                    return
                seen += 1
                yield item
            if page.cursor is None:
                return
            spec = replace(spec, cursor=page.cursor)


class _TransactionCore:
    """The actions of a write transaction (at most 100, each item at most once)."""

    def __init__(self, token: str | None) -> None:
        self.token = token
        self.actions: list[tx.TxAction] = []
        self.results: list[Any] = []

    def put(
        self, entity: Entity, *, mode: PutMode = "upsert", condition: Condition | None = None
    ) -> None:
        """Put ``entity`` (with :meth:`DB.put`'s mode, version and condition checks)."""
        self.actions.append(tx.tx_put(entity, mode, condition))

    def delete(
        self,
        entity: type[Entity],
        *,
        must_exist: bool = False,
        condition: Condition | None = None,
        **key: Any,
    ) -> None:
        """Delete the item the key fields identify."""
        self.actions.append(tx.tx_delete(entity, key, must_exist=must_exist, condition=condition))

    def update(
        self,
        entity: type[Entity],
        changes: Update,
        *,
        condition: Condition | None = None,
        expected_version: int | None = None,
        **key: Any,
    ) -> None:
        """Update the (existing) item the key fields identify (with
        ``expected_version``, only if its version is still that one)."""
        self.actions.append(tx.tx_update(entity, key, changes, condition, expected_version))

    def check(self, entity: type[Entity], condition: Condition, **key: Any) -> None:
        """Require ``condition`` on the item the key fields identify (e.g.
        ``Account.balance >= 100``, or ``attribute("PK").not_exists()``)."""
        self.actions.append(tx.tx_check(entity, key, condition))

    def explain(self) -> Call:
        """The TransactWriteItems request this transaction would send (with writes of
        entities with unique fields, other than creates, the read that comes first)."""
        return explain(tx.transact_write(self.actions, self.token))


class SyncTransaction(_TransactionCore):
    """``with db.transaction() as tx:`` (see :meth:`DB.transaction`)."""

    def __init__(self, db: DB, token: str | None) -> None:
        super().__init__(token)
        self._db = db

    def __enter__(self) -> SyncTransaction:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, *rest: object) -> None:
        if exc_type is None:
            self.results = run(self._db.backend, tx.transact_write(self.actions, self.token))


class AsyncTransaction(_TransactionCore):
    """``async with db.transaction() as tx:`` (see :meth:`AsyncDB.transaction`)."""

    def __init__(self, db: AsyncDB, token: str | None) -> None:
        super().__init__(token)
        self._db = db

    async def __aenter__(self) -> AsyncTransaction:
        return self

    async def __aexit__(self, exc_type: type[BaseException] | None, *rest: object) -> None:
        if exc_type is None:
            flow = tx.transact_write(self.actions, self.token)
            self.results = await run_async(self._db.backend, flow)


class DB:
    """Entities on a synchronous backend (by default the embedded engine, in memory).

    Args:
        backend: where requests run: a :class:`~singletable.backends.engine.LocalBackend`
            (default), a :class:`~singletable.backends.boto3.Boto3Backend`, ...
        cursor_secret: signs pagination cursors (set one of your own when cursors
            reach untrusted clients; the default only detects accidental edits).
        on_call: called with a :class:`~singletable.tracing.CallTrace` after every
            request (:mod:`singletable.tracing`; its ``opentelemetry()`` makes spans).
            ``backend`` is then wrapped in a :class:`~singletable.tracing.TracingBackend`.
    """

    def __init__(
        self,
        backend: Backend | None = None,
        *,
        cursor_secret: bytes | None = None,
        on_call: OnCall | None = None,
    ) -> None:
        if backend is None:
            from singletable.backends.engine import LocalBackend

            backend = LocalBackend()
        self.backend: Backend = backend if on_call is None else TracingBackend(backend, on_call)
        self._secret = cursor_secret or _DEFAULT_SECRET
        self.explain = Explain(self._secret)
        """Mirrors this API and returns the request each method would send first."""

    def _for(self, name: str) -> DB:
        """This DB, its traces naming the pattern or collection ``name`` (itself when
        not tracing: nothing to pay)."""
        if not isinstance(self.backend, TracingBackend):
            return self
        view = copy.copy(self)
        view.backend = self.backend.labelled(name)
        return view

    def get(self, entity: type[E], *, consistent: bool = False, **key: Any) -> E | None:
        """The entity the key fields identify, or None."""
        return run(self.backend, ops.get(entity, key, consistent=consistent))

    def require(self, entity: type[E], *, consistent: bool = False, **key: Any) -> E:
        """The entity the key fields identify (:class:`ItemNotFoundError` if absent)."""
        return run(self.backend, ops.get_required(entity, key, consistent=consistent))

    def put(self, entity: E, *, mode: PutMode = "upsert", condition: Condition | None = None) -> E:
        """Write ``entity``; returns it as stored (version bumped, timestamps set).

        ``mode``: ``"upsert"`` (default) writes either way, ``"create"`` fails if the
        item exists, ``"replace"`` if it does not. With a version field, the stored
        version must still be the entity's (a new entity has version 0), else
        :class:`~singletable.errors.VersionConflictError`; ``condition`` must hold too
        (:class:`~singletable.errors.ConditionFailedError`, with the stored item).
        The entity is validated as a whole first: an invalid one is never written
        (:class:`~singletable.errors.InvalidValueError`)."""
        return run(self.backend, ops.put(entity, mode=mode, condition=condition))

    def update(
        self,
        entity: type[E],
        changes: Update,
        *,
        condition: Condition | None = None,
        expected_version: int | None = None,
        **key: Any,
    ) -> E:
        """Update the existing item the key fields identify; returns it as updated.

        Index keys built from changed fields are rewritten from the update's values
        and the key fields given (pass the other fields of such a key as keywords
        too, or the update is refused); a field that is part of the table key cannot
        change. The item must exist and ``condition`` hold
        (:class:`~singletable.errors.ConditionFailedError`); with
        ``expected_version``, its version must still be that one
        (:class:`~singletable.errors.VersionConflictError`, naming both versions).
        Sets the updated-at field and bumps the version field, if the entity has them."""
        flow = ops.update(
            entity, key, changes, condition=condition, expected_version=expected_version
        )
        return run(self.backend, flow)

    def delete(
        self,
        entity: type[E],
        *,
        must_exist: bool = False,
        condition: Condition | None = None,
        **key: Any,
    ) -> E | None:
        """Delete the entity the key fields identify; returns it (None if absent)."""
        flow = ops.delete(entity, key, must_exist=must_exist, condition=condition)
        return run(self.backend, flow)

    def query(self, pattern: BoundPattern[E], **values: Any) -> SyncQuery[E]:
        """A query by access pattern (run it with iteration, ``all()``, ``page()``...)."""
        spec = _query_spec(pattern, values, self._secret)
        return SyncQuery(self._for(pattern.name), pattern, spec)

    def get_many(
        self, entity: type[E], keys: Sequence[Mapping[str, Any]], *, consistent: bool = False
    ) -> list[E | None]:
        """Batch get: the entities for ``keys`` (field values), in order; None where
        absent. Chunked by 100, unprocessed keys retried with backoff."""
        return run(self.backend, batches.get_many(entity, keys, consistent=consistent))

    def write_many(
        self,
        puts: Sequence[Entity] = (),
        deletes: Sequence[tuple[type[Entity], Mapping[str, Any]]] = (),
    ) -> int:
        """Batch write: unconditional puts and deletes, on one table or several, chunked
        by 25, unprocessed items retried with backoff; returns the number of writes.
        Every entity is validated and every key checked before the first request."""
        encoded = getattr(type(self.backend), "encodes_items", False)  # (see _encoded)
        return run(self.backend, batches.write_many(puts, deletes, encoded=encoded))

    def scan(self, entity: type[E], *, page_size: int | None = None) -> SyncScan[E]:
        """A scan of every ``entity`` in the table: lazy and composable like a query
        (``.where()``, ``.limit()``, ``.page()``, ``.segments(n)``...); iterate it or
        call ``.all()`` for a list.

        A Scan reads, and is billed for, the whole table: items of other entity types
        are read and dropped. For anything but small tables or maintenance, query by
        an access pattern instead."""
        return SyncScan(self.backend, _scan_spec(entity, page_size, self._secret))

    def refresh(self, entity: E, *, consistent: bool = True) -> E:
        """``entity`` read again by its key (strongly consistent by default): a new
        instance as stored now (``entity`` itself is not changed);
        :class:`ItemNotFoundError` if the item is gone."""
        return run(self.backend, ops.refresh(entity, consistent=consistent))

    def find(
        self, entity: type[E], *, allow_scan: bool = False, **fields: Any
    ) -> SyncQuery[E] | SyncScan[E]:
        """The entities whose fields equal ``fields``, read by the key those fields
        complete (the table's or an index's, the sort key filled furthest), the
        other fields filtered on. With no usable key it refuses, naming the fields
        that would make one usable, unless ``allow_scan=True`` (a filtered Scan).
        ``db.explain.find`` shows the choice."""
        chosen = finding.plan(entity, fields, allow_scan)
        if chosen.pattern is None:
            return self.scan(entity).where(_condition(chosen.filter))
        query = self.query(chosen.pattern, **chosen.values)
        return query if chosen.filter is None else query.where(chosen.filter)

    def collection(self, coll: Collection, **values: Any) -> CollectionResult:
        """Every item of a collection's partition, split by entity type."""
        flow = queries.collection(coll, _collection_spec(coll, values, self._secret))
        return run(self._for(coll.name).backend, flow)

    def transaction(self, token: str | None = None) -> SyncTransaction:
        """A write transaction: collect actions, committed when the ``with`` block ends
        (nothing is sent if the block raises). ``token`` makes it idempotent."""
        return SyncTransaction(self, token)

    def get_together(self, requests: Sequence[tuple[type[Entity], Mapping[str, Any]]]) -> list[Any]:
        """TransactGetItems: a consistent snapshot of several entities (None where absent)."""
        return run(self.backend, tx.transact_get(requests))

    def create_table(self, table: Table, *, exist_ok: bool = False) -> bool:
        """Create ``table`` with every index; False if it existed and ``exist_ok``."""
        return run(self.backend, tables.create_table(table, exist_ok=exist_ok))

    def delete_table(self, table: Table) -> None:
        """Delete ``table`` and its items."""
        run(self.backend, tables.delete_table(table))

    def subscribe(
        self,
        handler: Callable[[Change[E]], object],
        *,
        entities: Sequence[type[E]],
        view: str | None = None,
        on_unknown: Callable[[UnknownChange], object] | None = None,
    ) -> Subscription:
        """Call ``handler`` with a typed :class:`~singletable.changes.Change` for every
        change of ``entities`` (embedded engine only), before the write that made it
        returns; ``close()`` the result (or use ``with``) to stop.

        ``view`` None follows the table's stream (its view type, only while it is
        enabled: what a Lambda trigger sees); a view type (``"NEW_AND_OLD_IMAGES"``...)
        receives every change in that view, stream or not. Records of the table that
        no entity claims go to ``on_unknown`` (default: a warning on the
        ``singletable.changes`` logger); a handler's exception reaches the writer.
        See :mod:`singletable.changes` for the other sources.

        Raises:
            ModelError: no entities, or entities of several tables.
            TypeError: the backend is not the embedded engine.
        """
        from singletable import changes

        engine = getattr(self.backend, "engine", None)
        if engine is None or not hasattr(engine, "subscribe"):
            raise TypeError(
                "subscribe needs the embedded engine (DB() or DB(LocalBackend(...))); "
                "on AWS read the stream with singletable.changes.read_stream or a Lambda trigger"
            )
        return changes.subscribe(engine, handler, entities, view=view, on_unknown=on_unknown)  # type: ignore[no-any-return]

    def close(self) -> None:
        """Close the backend."""
        self.backend.close()

    def __enter__(self) -> DB:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


class AsyncDB:
    """Entities on an asynchronous backend (aioboto3): :class:`DB`'s API, awaitable
    (``on_call`` as for :class:`DB`)."""

    def __init__(
        self,
        backend: AsyncBackend,
        *,
        cursor_secret: bytes | None = None,
        on_call: OnCall | None = None,
    ) -> None:
        self.backend: AsyncBackend = (
            backend if on_call is None else AsyncTracingBackend(backend, on_call)
        )
        self._secret = cursor_secret or _DEFAULT_SECRET
        self.explain = Explain(self._secret)

    def _for(self, name: str) -> AsyncDB:
        """This AsyncDB, its traces naming ``name`` (see :meth:`DB._for`)."""
        if not isinstance(self.backend, AsyncTracingBackend):
            return self
        view = copy.copy(self)
        view.backend = self.backend.labelled(name)
        return view

    async def get(self, entity: type[E], *, consistent: bool = False, **key: Any) -> E | None:
        """The entity the key fields identify, or None."""
        return await run_async(self.backend, ops.get(entity, key, consistent=consistent))

    async def require(self, entity: type[E], *, consistent: bool = False, **key: Any) -> E:
        """The entity the key fields identify (:class:`ItemNotFoundError` if absent)."""
        return await run_async(self.backend, ops.get_required(entity, key, consistent=consistent))

    async def put(
        self, entity: E, *, mode: PutMode = "upsert", condition: Condition | None = None
    ) -> E:
        """Write ``entity``; returns it as stored."""
        return await run_async(self.backend, ops.put(entity, mode=mode, condition=condition))

    async def update(
        self,
        entity: type[E],
        changes: Update,
        *,
        condition: Condition | None = None,
        expected_version: int | None = None,
        **key: Any,
    ) -> E:
        """Update the existing item the key fields identify (see :meth:`DB.update`)."""
        flow = ops.update(
            entity, key, changes, condition=condition, expected_version=expected_version
        )
        return await run_async(self.backend, flow)

    async def delete(
        self,
        entity: type[E],
        *,
        must_exist: bool = False,
        condition: Condition | None = None,
        **key: Any,
    ) -> E | None:
        """Delete the entity the key fields identify; returns it (None if absent)."""
        flow = ops.delete(entity, key, must_exist=must_exist, condition=condition)
        return await run_async(self.backend, flow)

    def query(self, pattern: BoundPattern[E], **values: Any) -> AsyncQuery[E]:
        """A query by access pattern (``await q.all()``, ``async for``...)."""
        spec = _query_spec(pattern, values, self._secret)
        return AsyncQuery(self._for(pattern.name), pattern, spec)

    async def get_many(
        self, entity: type[E], keys: Sequence[Mapping[str, Any]], *, consistent: bool = False
    ) -> list[E | None]:
        """Batch get (see :meth:`DB.get_many`)."""
        return await run_async(self.backend, batches.get_many(entity, keys, consistent=consistent))

    async def write_many(
        self,
        puts: Sequence[Entity] = (),
        deletes: Sequence[tuple[type[Entity], Mapping[str, Any]]] = (),
    ) -> int:
        """Batch write (see :meth:`DB.write_many`)."""
        encoded = getattr(type(self.backend), "encodes_items", False)  # (see _encoded)
        return await run_async(self.backend, batches.write_many(puts, deletes, encoded=encoded))

    def scan(self, entity: type[E], *, page_size: int | None = None) -> AsyncScan[E]:
        """A scan of every ``entity`` in the table (see :meth:`DB.scan`): ``async for``
        or ``await scan.all()``; a parallel scan's segments run as tasks."""
        return AsyncScan(self.backend, _scan_spec(entity, page_size, self._secret))

    async def refresh(self, entity: E, *, consistent: bool = True) -> E:
        """``entity`` read again by its key (see :meth:`DB.refresh`)."""
        return await run_async(self.backend, ops.refresh(entity, consistent=consistent))

    def find(
        self, entity: type[E], *, allow_scan: bool = False, **fields: Any
    ) -> AsyncQuery[E] | AsyncScan[E]:
        """The entities whose fields equal ``fields`` (see :meth:`DB.find`)."""
        chosen = finding.plan(entity, fields, allow_scan)
        if chosen.pattern is None:
            return self.scan(entity).where(_condition(chosen.filter))
        query = self.query(chosen.pattern, **chosen.values)
        return query if chosen.filter is None else query.where(chosen.filter)

    async def collection(self, coll: Collection, **values: Any) -> CollectionResult:
        """Every item of a collection's partition, split by entity type."""
        flow = queries.collection(coll, _collection_spec(coll, values, self._secret))
        return await run_async(self._for(coll.name).backend, flow)

    def transaction(self, token: str | None = None) -> AsyncTransaction:
        """A write transaction committed when the ``async with`` block ends."""
        return AsyncTransaction(self, token)

    async def get_together(
        self, requests: Sequence[tuple[type[Entity], Mapping[str, Any]]]
    ) -> list[Any]:
        """TransactGetItems (see :meth:`DB.get_together`)."""
        return await run_async(self.backend, tx.transact_get(requests))

    async def create_table(self, table: Table, *, exist_ok: bool = False) -> bool:
        """Create ``table`` with every index; False if it existed and ``exist_ok``."""
        return await run_async(self.backend, tables.create_table(table, exist_ok=exist_ok))

    async def delete_table(self, table: Table) -> None:
        """Delete ``table`` and its items."""
        await run_async(self.backend, tables.delete_table(table))

    async def close(self) -> None:
        """Close the backend."""
        await self.backend.close()

    async def __aenter__(self) -> AsyncDB:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.close()


def _condition(condition: Condition | None) -> Condition:
    assert condition is not None  # a scan by find filters on every field given
    return condition


class Explain:
    """``db.explain``: the request each operation would send first, never sent."""

    def __init__(self, secret: bytes) -> None:
        self._secret = secret

    def get(self, entity: type[Entity], *, consistent: bool = False, **key: Any) -> Call:
        """GetItem's request."""
        return explain(ops.get(entity, key, consistent=consistent))

    def put(
        self, entity: Entity, *, mode: PutMode = "upsert", condition: Condition | None = None
    ) -> Call:
        """PutItem's request (for an entity with unique fields: the TransactWriteItems
        of a create, with its guards, or else the read that comes first)."""
        operation, request = explain(ops.put(entity, mode=mode, condition=condition))
        if isinstance(request.get("Item"), CanonicalItem):  # the caller's to change: a plain
            request["Item"] = dict(request["Item"])  # dict (see singletable._canonical)
        return operation, request

    def update(
        self,
        entity: type[Entity],
        changes: Update,
        *,
        condition: Condition | None = None,
        expected_version: int | None = None,
        **key: Any,
    ) -> Call:
        """UpdateItem's request."""
        flow = ops.update(
            entity, key, changes, condition=condition, expected_version=expected_version
        )
        return explain(flow)

    def delete(
        self,
        entity: type[Entity],
        *,
        must_exist: bool = False,
        condition: Condition | None = None,
        **key: Any,
    ) -> Call:
        """DeleteItem's request."""
        return explain(ops.delete(entity, key, must_exist=must_exist, condition=condition))

    def query(self, pattern: BoundPattern[Any], **values: Any) -> Call:
        """The first Query request of a pattern."""
        return explain(queries.query_page(pattern, _query_spec(pattern, values, self._secret)))

    def collection(self, coll: Collection, **values: Any) -> Call:
        """The first Query request of a collection."""
        return explain(queries.collection(coll, _collection_spec(coll, values, self._secret)))

    def get_many(
        self, entity: type[Entity], keys: Sequence[Mapping[str, Any]], *, consistent: bool = False
    ) -> Call:
        """The first BatchGetItem request (up to 100 keys)."""
        return explain(batches.get_many(entity, keys, consistent=consistent))

    def write_many(
        self,
        puts: Sequence[Entity] = (),
        deletes: Sequence[tuple[type[Entity], Mapping[str, Any]]] = (),
    ) -> Call:
        """The first BatchWriteItem request (up to 25 writes)."""
        return explain(batches.write_many(puts, deletes))

    def scan(self, entity: type[Entity], *, page_size: int | None = None) -> Call:
        """The first Scan request (``db.scan(...)...explain()`` for one with options)."""
        return explain(scan_page(_scan_spec(entity, page_size, self._secret)))

    def refresh(self, entity: Entity, *, consistent: bool = True) -> Call:
        """The GetItem request of a refresh."""
        return explain(ops.refresh(entity, consistent=consistent))

    def find(self, entity: type[Entity], *, allow_scan: bool = False, **fields: Any) -> Call:
        """The first request of ``find``: the Query of the key it chose (its
        ``IndexName`` and key condition), or the Scan; :meth:`find_reason` says why."""
        chosen = finding.plan(entity, fields, allow_scan)
        if chosen.pattern is None:
            scan = replace(_scan_spec(entity, None, self._secret), filter=chosen.filter)
            return explain(scan_page(scan))
        spec = _query_spec(chosen.pattern, chosen.values, self._secret)
        return explain(queries.query_page(chosen.pattern, replace(spec, filter=chosen.filter)))

    def find_reason(
        self, entity: type[Entity], *, allow_scan: bool = False, **fields: Any
    ) -> str:
        """Which read ``find`` chose and why, in words (``Order.for_customer (table):
        key from customer_id; filter on status``)."""
        return finding.plan(entity, fields, allow_scan).reason

    def get_together(self, requests: Sequence[tuple[type[Entity], Mapping[str, Any]]]) -> Call:
        """The TransactGetItems request."""
        return explain(tx.transact_get(requests))

    def create_table(self, table: Table) -> Call:
        """CreateTable's request."""
        return explain(tables.create_table(table))
