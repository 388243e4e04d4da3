"""Bulk loading: ``engine.load(table, items)`` for test fixtures and seed data.

Each item is checked exactly as PutItem checks it (attribute values, names, the
400 KB size, the key schema, the index key types and sizes: :func:`._items.prepare_item`
and :meth:`TableDef.check_index_keys`), so whatever loads would also have been
accepted by PutItem. What it skips is the per-request work that a seed does not
need: the request envelope and its checks, conditions, capacity accounting, the
25-item batches, and the response.

The load is one atomic step (:func:`._write.commit`): every item is checked before
anything is stored, so a refused item leaves the table as it was. The change
listeners see the items as they see PutItems (stream records, TTL expiry, the
point-in-time history), and a later item with the key of an earlier one replaces
it, as a later PutItem would. Capacity enforcement and fault rules do not apply:
a load is not a request.

A :class:`Seed` holds items loaded again and again (a fixture's data, once per
test): each item is checked and encoded once per table key schema, the first time
it is loaded, and later loads only store the already-checked items, which are
shared between engines like any stored item (the engine never changes a stored
item in place).
"""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING, Any

from singletable._values import Item
from singletable.backends.local._items import find_table, prepare_item
from singletable.backends.local._write import Change, commit
from singletable.backends.local.errors import DynamoDBError

if TYPE_CHECKING:
    from singletable.backends.local._schema import TableDef
    from singletable.backends.local.engine import LocalEngine

__all__ = ["Seed", "load"]

_Row = tuple[bytes, bytes, Item, int]  # (pk, sk, canonical item, size)


class Seed:
    """Items (DynamoDB JSON) to load into tables repeatedly: ``engine.load(table, seed)``.

    Checked as PutItem checks them the first time they are loaded into a table of
    a given key schema and indexes; after that a load only stores them. The items
    are taken as given: do not change them after making the seed.
    """

    def __init__(self, items: Iterable[dict[str, Any]]) -> None:
        self.items: list[Any] = list(items)
        self._rows: dict[tuple[Any, ...], list[_Row]] = {}
        self._unique: dict[tuple[Any, ...], bool] = {}
        self._lock = threading.Lock()

    @classmethod
    def from_file(cls, path: str | os.PathLike[str]) -> Seed:
        """The items of a DynamoDB JSON lines file: one ``{"Item": {...}}`` a line
        (what ``singletable data export`` writes).

        Raises:
            ValueError: a line that is not ``{"Item": {...}}``, named by its number.
        """
        return cls(json_lines(path))

    def __len__(self) -> int:
        return len(self.items)

    def rows(self, table: TableDef) -> list[_Row]:
        """The items checked and encoded for ``table`` (computed once per schema)."""
        shape = _shape(table)
        rows = self._rows.get(shape)
        if rows is None:
            rows = [_prepare(table, position, raw) for position, raw in enumerate(self.items)]
            with self._lock:
                self._rows[shape] = rows
                self._unique[shape] = len({(row[0], row[1]) for row in rows}) == len(rows)
        return rows

    def unique(self, table: TableDef) -> bool:
        """Whether no two items have the same key in ``table`` (after :meth:`rows`)."""
        return self._unique.get(_shape(table), False)


def json_lines(path: str | os.PathLike[str]) -> Iterator[dict[str, Any]]:
    """The items of a DynamoDB JSON lines file, one ``{"Item": {...}}`` a line."""
    with open(path, encoding="utf-8") as file:
        for number, line in enumerate(file, 1):
            if not line.strip():
                continue
            try:
                record = json.loads(line)
            except ValueError as error:
                raise ValueError(f"{os.fspath(path)}, line {number}: {error}") from None
            if not isinstance(record, dict) or set(record) != {"Item"}:
                raise ValueError(f'{os.fspath(path)}, line {number}: expected {{"Item": {{...}}}}')
            yield record["Item"]


def _shape(table: TableDef) -> tuple[Any, ...]:
    """What checking an item for ``table`` depends on: its key and index key schemas."""
    return (
        table.hash,
        table.range,
        tuple((index.name, index.hash, index.range) for index in table.indexes),
    )


def _prepare(table: TableDef, position: int, raw: Any) -> _Row:
    try:
        row = prepare_item(table, raw)
        if table.indexes:
            table.check_index_keys(row[2])
    except DynamoDBError as error:
        message = f"item {position}: {error.message}"
        raise DynamoDBError(error.code, message, **error.extra) from None
    return row


def load(engine: LocalEngine, table_name: str, items: Iterable[Any] | Seed) -> int:
    """Store ``items`` (DynamoDB JSON, as PutItem's ``Item``, or a :class:`Seed`) in
    ``table_name``; returns how many items were given.

    Raises:
        DynamoDBError: no such table (ResourceNotFoundException), or an item PutItem
            would refuse, with PutItem's message prefixed by the item's position
            (``item 12: ...``); nothing is stored then.
    """
    with engine.lock:
        table = find_table(engine, table_name)
        if isinstance(items, Seed):
            rows: Iterable[_Row] = items.rows(table)
            if items.unique(table) and table.store.item_count == 0:
                # The common fixture: distinct items into a new table, nothing replaced.
                new = [Change(table, pk, sk, None, item, size) for pk, sk, item, size in rows]
                commit(engine, new)
                rows = ()
        else:
            rows = [_prepare(table, position, raw) for position, raw in enumerate(items)]
        store = table.store
        changes: list[Change] = []
        pending: dict[tuple[bytes, bytes], Change] = {}
        for pk, sk, item, size in rows:
            earlier = pending.get((pk, sk))
            old = earlier.new if earlier is not None else store.get(pk, sk)
            change = Change(table, pk, sk, old, item, size)
            pending[pk, sk] = change
            changes.append(change)
        if changes:
            commit(engine, changes)
    if engine.streams.pending:
        engine.streams.deliver()
    return len(items) if isinstance(items, Seed) else len(changes)
