"""Scans of one entity type: lazy, composable reads of the whole table.

``db.scan(Order)`` builds a :class:`SyncScan` (``AsyncDB``: :class:`AsyncScan`);
nothing is sent until it is iterated or one of ``all()``, ``page()``, ``first()``,
``count()``, ``select()`` is called. Options return a new scan, as a query's do::

    for order in db.scan(Order).where(Order.total > 100).limit(500):
        ...
    page = db.scan(Order).page_size(100).page()          # one request, with a cursor
    orders = db.scan(Order).segments(4).all()            # a parallel scan, 4 segments

Every Scan request filters on the entity type (``#type = :type OR
attribute_not_exists(#type)``, the second for items written by other code,
kept when their key has the entity's shape); ``where()`` conditions are added to
that filter. DynamoDB reads, and bills, every item of the table (or of the
segment) whatever the filter.

A parallel scan (``segments(n)``) sends ``Segment``/``TotalSegments`` with
``n`` segments read at once: by threads on a :class:`~singletable.db.DB`, by
tasks on an :class:`~singletable.db.AsyncDB`. Iterating it reads one page of
every unfinished segment per round, in parallel, and yields them in segment
order; ``segment(i, n)`` reads one segment only (a worker's share), and is the
form that pages with cursors.
"""

from __future__ import annotations

import asyncio
import warnings
from collections.abc import AsyncIterator, Callable, Generator, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any, Generic, Self, TypeVar

from singletable._flows import Call, Flow, decode_cursor, encode_cursor, explain, run, run_async
from singletable._queries import Page, check_positive, count_all, request_size
from singletable.codec import from_item
from singletable.conditions import attribute, expression_parameters
from singletable.errors import InvalidValueError, ItemNotFoundError

if TYPE_CHECKING:
    from singletable.backends.base import AsyncBackend, Backend
    from singletable.conditions import Condition, FieldPath
    from singletable.entity import Entity

__all__ = ["AsyncScan", "ScanSpec", "SyncScan", "scan_all", "scan_page"]

E = TypeVar("E", bound="Entity")
R = TypeVar("R")
MAX_SEGMENTS = 1_000_000
"""DynamoDB's limit on TotalSegments (API Reference, Scan: 1 to 1,000,000)."""


@dataclass(frozen=True)
class ScanSpec(Generic[E]):
    """What a scan asks for."""

    entity: type[E]
    secret: bytes = b""
    filter: Condition | None = None
    limit: int | None = None
    page_size: int | None = None
    consistent: bool = False
    cursor: str | None = None
    segment: int | None = None
    """The one segment read (None: every segment, in parallel, when ``total`` is set)."""
    total: int | None = None
    """TotalSegments (None: an ordinary, sequential scan)."""

    @property
    def scope(self) -> str:
        """What the scan's cursors are bound to: the entity type and the segment."""
        model = self.entity.__singletable__
        return f"scan {model.type_name}|{model.table.name}|{self.segment}/{self.total}"

    def request(self, start: dict[str, Any] | None, page_size: int | None) -> dict[str, Any]:
        """The Scan request for one page starting after ``start``."""
        model = self.entity.__singletable__
        request: dict[str, Any] = {
            "TableName": model.table.name,
            "FilterExpression": "#type = :type OR attribute_not_exists(#type)",
            "ExpressionAttributeNames": {"#type": model.table.type_attribute},
            "ExpressionAttributeValues": {":type": {"S": model.type_name}},
        }
        if self.filter is not None:  # its placeholders (#f0, :f0) never clash with #type
            extra = expression_parameters(filter=self.filter)
            request["FilterExpression"] = (
                f"({request['FilterExpression']}) AND ({extra['FilterExpression']})"
            )
            request["ExpressionAttributeNames"].update(extra.get("ExpressionAttributeNames", {}))
            request["ExpressionAttributeValues"].update(extra.get("ExpressionAttributeValues", {}))
        if self.total is not None and self.segment is not None:
            request["Segment"] = self.segment
            request["TotalSegments"] = self.total
        if self.consistent:
            request["ConsistentRead"] = True
        if page_size is not None:
            request["Limit"] = page_size
        if start is not None:
            request["ExclusiveStartKey"] = start
        return request

    def start(self) -> dict[str, Any] | None:
        """The key the scan starts after (from its cursor)."""
        return decode_cursor(self.cursor, self.scope, self.secret) if self.cursor else None

    def each_segment(self) -> list[ScanSpec[E]]:
        """The scans to run: one per segment of a parallel scan, else this one."""
        if self.total is None or self.segment is not None:
            return [self]
        return [replace(self, segment=i) for i in range(self.total)]


def _mine(spec: ScanSpec[Any], items: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    model = spec.entity.__singletable__
    marker = model.table.type_attribute
    return [item for item in items if marker in item or model.owns(item)]


def scan_page(spec: ScanSpec[E]) -> Flow[Page[E]]:
    """One Scan request: its entities and the cursor of the next page (None: done)."""
    size = spec.page_size if spec.limit is None else request_size(spec.page_size, spec.limit)
    response = yield "Scan", spec.request(spec.start(), size)
    items = [spec.entity.from_item(item) for item in _mine(spec, response.get("Items", ()))]
    last = response.get("LastEvaluatedKey")
    cursor = encode_cursor(last, spec.scope, spec.secret) if last is not None else None
    return Page(items, cursor)


def scan_all(spec: ScanSpec[E]) -> Flow[list[E]]:
    """Every entity of one scan (every page, up to ``spec.limit``).

    The limit does not become the requests' ``Limit``: that counts items read,
    before the entity-type filter, so a scan for a few entities of one type among
    many would read a handful of items a request. ``page_size`` sets it."""
    out: list[E] = []
    start = spec.start()
    while True:
        response = yield "Scan", spec.request(start, spec.page_size)
        out.extend(spec.entity.from_item(item) for item in _mine(spec, response.get("Items", ())))
        start = response.get("LastEvaluatedKey")
        if start is None or (spec.limit is not None and len(out) >= spec.limit):
            return out if spec.limit is None else out[: spec.limit]


def scan_select(spec: ScanSpec[Any], paths: Sequence[FieldPath[Any]]) -> Flow[list[dict[str, Any]]]:
    """The projected fields of every entity of one scan: a dict per item, keyed by
    field name (the key attributes are read too, to tell the entity's items apart)."""
    model = spec.entity.__singletable__
    table = model.table
    keys = [table.primary.pk] + ([table.primary.sk] if table.primary.sk else [])
    by_attribute = {attr: name for name, attr in model.attributes.items()}
    wanted = expression_parameters(projection=[*paths, *keys, attribute(table.type_attribute)])
    asked = {path.top_field for path in paths}
    out: list[dict[str, Any]] = []
    start = spec.start()
    while True:
        request = spec.request(start, spec.page_size)
        request["ProjectionExpression"] = wanted["ProjectionExpression"]
        request["ExpressionAttributeNames"].update(wanted["ExpressionAttributeNames"])
        response = yield "Scan", request
        for item in _mine(spec, response.get("Items", ())):
            values = from_item(item)
            fields = {by_attribute.get(k, k): v for k, v in values.items()}
            out.append({k: v for k, v in fields.items() if k in asked})
            if spec.limit is not None and len(out) >= spec.limit:
                return out
        start = response.get("LastEvaluatedKey")
        if start is None:
            return out


def scan_count(spec: ScanSpec[Any]) -> Flow[int]:
    """How many items of the entity type one scan matches (Select=COUNT, every page;
    items without a type attribute are counted whatever their key's shape)."""
    return (yield from count_all("Scan", spec, spec.start()))


class _ScanCore(Generic[E]):
    """The options of a scan; each returns a new scan (scans are values)."""

    def __init__(self, spec: ScanSpec[E]) -> None:
        self._spec = spec

    def _copy(self, **changes: Any) -> Self:
        clone = object.__new__(type(self))
        clone.__dict__.update(self.__dict__)
        clone._spec = replace(self._spec, **changes)
        return clone

    def where(self, condition: Condition) -> Self:
        """Keep only the entities ``condition`` holds for (added to the FilterExpression:
        DynamoDB still reads, and bills, every item)."""
        current = self._spec.filter
        return self._copy(filter=condition if current is None else current & condition)

    def limit(self, count: int) -> Self:
        """At most ``count`` entities in all."""
        check_positive("limit", count)
        return self._copy(limit=count)

    def page_size(self, size: int) -> Self:
        """Ask DynamoDB for ``size`` items a request (the ``Limit`` parameter: items
        read, before the filter)."""
        check_positive("page_size", size)
        return self._copy(page_size=size)

    def consistent(self, strongly: bool = True) -> Self:
        """Strongly consistent reads."""
        return self._copy(consistent=strongly)

    def after(self, cursor: str | None) -> Self:
        """Continue after a page's ``cursor`` (None: from the start)."""
        return self._copy(cursor=cursor)

    def segments(self, count: int) -> Self:
        """A parallel scan of ``count`` segments, read at once (threads on a ``DB``,
        tasks on an ``AsyncDB``)."""
        check_positive("segments", count)
        if count > MAX_SEGMENTS:
            raise InvalidValueError(f"segments must be at most {MAX_SEGMENTS}, not {count}")
        return self._copy(total=count, segment=None, cursor=None)

    def segment(self, index: int, of: int) -> Self:
        """Only segment ``index`` (from 0) of a scan split in ``of`` segments: one
        worker's share of a parallel scan."""
        self.segments(of)
        if not isinstance(index, int) or not 0 <= index < of:
            raise InvalidValueError(f"segment must be in 0..{of - 1}, not {index!r}")
        return self._copy(total=of, segment=index)

    def explain(self) -> Call:
        """The first request this scan sends (of its first segment), without sending it."""
        return explain(scan_page(self._spec.each_segment()[0]))

    def _single(self) -> ScanSpec[E]:
        spec = self._spec
        if spec.total is not None and spec.segment is None:
            raise InvalidValueError(
                f"a page of a parallel scan is a page of one segment: use "
                f".segment(i, {spec.total}) to page through segment i (cursors are per segment)"
            )
        return spec

    def _one(self, found: list[E]) -> E:
        if len(found) != 1:
            what = "no" if not found else "more than one"
            raise ItemNotFoundError(
                f"scan of {self._spec.entity.__name__} found {what} entity; one() needs exactly one"
            )
        return found[0]

    def _limited(self, parts: Sequence[list[R]]) -> list[R]:
        out = [item for part in parts for item in part]
        limit = self._spec.limit
        return out if limit is None else out[:limit]


class SyncScan(_ScanCore[E]):
    """A scan of one entity type on a :class:`~singletable.db.DB` (iterate it, or
    ``all()``, ``page()``...)."""

    def __init__(self, backend: Backend, spec: ScanSpec[E]) -> None:
        super().__init__(spec)
        self._backend = backend

    def _each(self, flow: Callable[[ScanSpec[E]], Flow[R]]) -> list[R]:
        specs = self._spec.each_segment()
        if len(specs) == 1:
            return [run(self._backend, flow(specs[0]))]
        with ThreadPoolExecutor(max_workers=min(len(specs), 32)) as pool:
            return list(pool.map(lambda spec: run(self._backend, flow(spec)), specs))

    def all(self) -> list[E]:
        """Every entity (every page of every segment, up to the limit)."""
        return self._limited(self._each(scan_all))

    def page(self) -> Page[E]:
        """One page: its entities and the cursor of the next (None at the end)."""
        return run(self._backend, scan_page(self._single()))

    def first(self) -> E | None:
        """The first entity found, or None."""
        found = self.limit(1).all()
        return found[0] if found else None

    def one(self) -> E:
        """The only entity (:class:`ItemNotFoundError` if none or several)."""
        return self._one(self.limit(2).all())

    def count(self) -> int:
        """How many entities match (counted by DynamoDB, items not transferred)."""
        return sum(self._each(scan_count))

    def select(self, *fields: FieldPath[Any]) -> list[dict[str, Any]]:
        """Only these fields of every entity: one dict per item, keyed by field name,
        values as stored (numbers as Decimal)."""
        return self._limited(self._each(lambda spec: scan_select(spec, fields)))

    def __iter__(self) -> Iterator[E]:
        specs = [replace(s, limit=None) for s in self._spec.each_segment()]  # see scan_all
        rounds = _rounds(specs)
        seen = 0
        limit = self._spec.limit
        pool = ThreadPoolExecutor(max_workers=min(len(specs), 32)) if len(specs) > 1 else None
        try:
            batch = next(rounds)
            while batch:
                if pool is None:
                    pages = [run(self._backend, scan_page(spec)) for spec in batch]
                else:
                    pages = list(pool.map(lambda s: run(self._backend, scan_page(s)), batch))
                for page in pages:
                    for item in page.items:
                        if limit is not None and seen >= limit:
                            return
                        seen += 1
                        yield item
                batch = rounds.send(pages)
        finally:
            if pool is not None:
                pool.shutdown(wait=True)


class AsyncScan(_ScanCore[E]):
    """A scan of one entity type on an :class:`~singletable.db.AsyncDB` (``async
    for``, or ``await scan.all()``...). ``await db.scan(Order)`` still returns the
    list, with a DeprecationWarning: write ``await db.scan(Order).all()``."""

    def __init__(self, backend: AsyncBackend, spec: ScanSpec[E]) -> None:
        super().__init__(spec)
        self._backend = backend

    async def _each(self, flow: Callable[[ScanSpec[E]], Flow[R]]) -> list[R]:
        specs = self._spec.each_segment()
        return list(await asyncio.gather(*(run_async(self._backend, flow(s)) for s in specs)))

    async def all(self) -> list[E]:
        """Every entity (every page of every segment, up to the limit)."""
        return self._limited(await self._each(scan_all))

    async def page(self) -> Page[E]:
        """One page: its entities and the cursor of the next (None at the end)."""
        return await run_async(self._backend, scan_page(self._single()))

    async def first(self) -> E | None:
        """The first entity found, or None."""
        found = await self.limit(1).all()
        return found[0] if found else None

    async def one(self) -> E:
        """The only entity (:class:`ItemNotFoundError` if none or several)."""
        return self._one(await self.limit(2).all())

    async def count(self) -> int:
        """How many entities match."""
        return sum(await self._each(scan_count))

    async def select(self, *fields: FieldPath[Any]) -> list[dict[str, Any]]:
        """Only these fields of every entity (see :meth:`SyncScan.select`)."""
        return self._limited(await self._each(lambda spec: scan_select(spec, fields)))

    async def __aiter__(self) -> AsyncIterator[E]:
        rounds = _rounds([replace(s, limit=None) for s in self._spec.each_segment()])
        seen = 0
        limit = self._spec.limit
        batch = next(rounds)
        while batch:
            pages = list(
                await asyncio.gather(*(run_async(self._backend, scan_page(s)) for s in batch))
            )
            for page in pages:
                for item in page.items:
                    if limit is not None and seen >= limit:
                        return
                    seen += 1
                    yield item
            batch = rounds.send(pages)

    def __await__(self) -> Generator[Any, None, list[E]]:
        warnings.warn(
            "awaiting db.scan(...) for a list is deprecated: scans are lazy now; "
            "use `await db.scan(...).all()` or `async for`",
            DeprecationWarning,
            stacklevel=2,
        )
        return self.all().__await__()


def _rounds(
    specs: list[ScanSpec[E]],
) -> Generator[list[ScanSpec[E]], list[Page[E]], None]:
    """The segments to read a page of, round after round: sent each round's pages, it
    yields the segments that have more (with their cursors), an empty list at the end."""
    live = specs
    while live:
        pages = yield live
        live = [replace(s, cursor=p.cursor) for s, p in zip(live, pages, strict=True) if p.cursor]
    yield []
