"""The table store of a :class:`~.durable.DurableStorage`, and its bounded body cache.

SQLite holds every row; memory holds only what was read or written lately. One
row per item in the ``keys`` table, keyed ``(store, h, pk, sk)`` with ``h =
scan_hash(pk)`` and naming the item's row in ``bodies``: that single b-tree serves
every read order of a store,

* GetItem: one primary-key lookup (``h`` is computed from ``pk``);
* Query: a range of ``sk`` under the fixed prefix ``(store, h, pk)``, walked
  forwards or backwards by the same index;
* Scan: the rows of a store in ``(h, pk, sk)`` order, which *is*
  :mod:`.storage`'s scan order; a parallel-scan segment is one range of ``h``.

Reads fetch bounded chunks (a fresh statement per chunk, resumed after the last
key it returned), never a cursor held open across the caller's pauses: a write
made while an iterator is suspended can neither break it nor make it repeat an
item, as the interface requires.

Decoded items are kept in a :class:`BodyCache`, an LRU bounded by an estimate of
the memory they take (shared by every store of the storage); the sorted sort keys
of partitions of up to :data:`MAX_PARTITION_KEYS` items are kept in a second one
(an eighth of the first's size), updated by every write. So a table that fits
reads from memory as an in-memory table does (a GetItem or a Query of a small
partition runs no SQL), and one that does not is served with a bounded resident
set. A new item enters the cache when it is first read, not when written (an
import does not fill the cache with items nobody asked for). Item counts and sizes
are kept per store in the ``stores`` table, updated in the transaction of each
group: nothing needs a pass over the items.
"""

from __future__ import annotations

import json
import marshal
from bisect import bisect_left, bisect_right, insort
from collections import OrderedDict
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from singletable._values import Item
from singletable.backends.local._durable_file import row_crc
from singletable.backends.local._records import READS
from singletable.backends.local.storage import (
    TableStore,
    resume_bounds,
    scan_hash,
    segment_bounds,
)

if TYPE_CHECKING:
    from singletable.backends.local.durable import DurableStorage

__all__ = ["BodyCache", "DurableTableStore", "item_cost"]

CacheKey = tuple[int, bytes, bytes]  # (store id, pk, sk)
V = TypeVar("V")

# A missing body reads as NULL (reported as damage), not as a missing item.
_JOIN = "FROM keys AS k LEFT JOIN bodies AS b ON b.id = k.body"
_POINT = (
    f"SELECT k.size, b.item, k.crc {_JOIN} WHERE k.store = ? AND k.h = ? AND k.pk = ? AND k.sk = ?"
)
_BODY = "SELECT item FROM bodies WHERE id = ?"
_PARTITION_USAGE = (
    "SELECT COUNT(*), COALESCE(SUM(size), 0) FROM keys WHERE store = ? AND h = ? AND pk = ?"
)
_PARTITION_KEYS = "SELECT sk FROM keys WHERE store = ? AND h = ? AND pk = ? ORDER BY sk LIMIT ?"
# The Query statements, by the shape of their bounds and direction.
_PARTITION_SQL: dict[tuple[bool, bool, bool, bool, bool], str] = {}
_BAD_CRC = "an item of store {} fails its checksum"

# The first chunk of a Query is small (most pages are), later ones grow.
_FIRST_CHUNK = 32
_MAX_CHUNK = 1024
_SCAN_CHUNK = 512
# A partition of up to this many items has its sort keys cached when queried: a
# Query of a partition whose keys and items are cached runs no SQL at all.
MAX_PARTITION_KEYS = 256
# Keys recently found absent (a write first reads the old item: a new item is looked
# up once, not once per store call); forgotten all at once when this many.
MAX_MISSES = 8192


def item_cost(blob: bytes) -> int:
    """Estimated bytes the decoded item of ``blob`` (its stored JSON) takes in memory.

    A decoded item is mostly small dicts (one per attribute value, ``{"S": ...}``)
    and strings: measured with tracemalloc on 2,000-item samples of 5 to 40
    attributes (0.7 to 1 KB of JSON), it takes 4 to 16 times its JSON, close to
    (and never more than) the JSON's length plus 300 bytes per ``{`` and 100 per
    ``[``; 200 more for the cache entry itself.
    """
    return len(blob) + 300 * blob.count(b"{") + 100 * blob.count(b"[") + 200


class BodyCache(Generic[V]):
    """Values by ``(store id, pk, sk)``, least recently used first out: decoded items
    (with :func:`item_cost`), or the sort keys of a partition (see
    :meth:`DurableTableStore.query`).

    ``capacity`` bounds the sum of the entries' costs; an entry bigger than the
    whole cache is not kept.
    """

    __slots__ = ("_entries", "capacity", "used")

    def __init__(self, capacity: int) -> None:
        self.capacity = capacity
        self.used = 0
        self._entries: OrderedDict[CacheKey, tuple[V, int, int]] = OrderedDict()

    def __len__(self) -> int:
        return len(self._entries)

    def get(self, key: CacheKey) -> tuple[V, int, int] | None:
        """``(value, size, cost)`` of ``key``, now the most recently used; None if absent."""
        entry = self._entries.get(key)
        if entry is not None:
            self._entries.move_to_end(key)
        return entry

    def peek(self, key: CacheKey) -> tuple[V, int, int] | None:
        """Like :meth:`get`, without changing the order of eviction."""
        return self._entries.get(key)

    def put(self, key: CacheKey, item: V, size: int, cost: int) -> None:
        """Keep ``item`` (evicting the least recently used entries past the capacity)."""
        entries = self._entries
        old = entries.pop(key, None)
        if old is not None:
            self.used -= old[2]
        if cost > self.capacity:
            return
        entries[key] = (item, size, cost)
        self.used += cost
        while self.used > self.capacity:
            _, evicted = entries.popitem(last=False)
            self.used -= evicted[2]

    def discard(self, key: CacheKey) -> None:
        """Forget ``key`` if it is cached."""
        old = self._entries.pop(key, None)
        if old is not None:
            self.used -= old[2]

    def discard_store(self, store_id: int) -> None:
        """Forget every entry of store ``store_id`` (a dropped store)."""
        for key in [key for key in self._entries if key[0] == store_id]:
            self.discard(key)

    def clear(self) -> None:
        """Forget everything."""
        self._entries.clear()
        self.used = 0


class DurableTableStore(TableStore):
    """One store's rows in the storage's SQLite file, read through its body cache.

    Writes go to the storage's current atomic group (a write outside any group is a
    group of its own); they are visible to reads at once, on disk when the group
    commits. See :mod:`.durable` for groups, rollback and errors.
    """

    def __init__(self, storage: DurableStorage, store_id: int, count: int, size: int) -> None:
        self._storage = storage
        self._id = store_id
        # The storage's pending rows and cache entries, looked up on every read.
        self._pending = storage._pending
        self._entries = storage._cache._entries
        self._count = count
        self._size = size
        # The sizes of the rows of the last Scan chunk (size_of right after a Scan row).
        self._recent: dict[tuple[bytes, bytes], int] = {}

    @property
    def item_count(self) -> int:
        """Number of items stored."""
        return self._count

    @property
    def size_bytes(self) -> int:
        """Sum of the sizes given to :meth:`put` for the stored items."""
        return self._size

    # ----------------------------------------------------------------- point reads

    def get(self, pk: bytes, sk: bytes) -> Item | None:
        """The item at ``(pk, sk)``, or None (from the cache, else one SQLite lookup).

        A fresh read (:data:`._records.READS`: ``LocalEngine.call`` of a GetItem or a Query, which
        hands its response over without copying it) gets a copy of its own: the cached
        item is shared with every later reader, and with the pending row written at commit.
        """
        item = self._get(pk, sk)
        if item is not None and READS.fresh:
            copied: Item = marshal.loads(marshal.dumps(item))
            return copied
        return item

    def _get(self, pk: bytes, sk: bytes) -> Item | None:
        key = (self._id, pk, sk)
        pending = self._pending
        if pending:
            row = pending.get(key)
            if row is not None:
                return row[0]
        entries = self._entries
        entry = entries.get(key)
        if entry is not None:
            entries.move_to_end(key)
            return entry[0]
        storage = self._storage
        misses = storage._misses
        if key in misses:
            return None
        found = self._fetch(pk, sk)
        if found is None:
            if len(misses) >= MAX_MISSES:
                misses.clear()
            misses[key] = None
            return None
        item, size, cost = found
        storage._cache.put(key, item, size, cost)
        return item

    def size_of(self, pk: bytes, sk: bytes) -> int:
        """The stored size of the item at ``(pk, sk)``, 0 if absent."""
        key = (self._id, pk, sk)
        pending = self._pending
        if pending:
            row = pending.get(key)
            if row is not None:
                return row[1]
        entry = self._entries.get(key)
        if entry is not None:
            return entry[1]
        if key in self._storage._misses:
            return 0
        size = self._recent.get((pk, sk))
        if size is not None:
            return size
        return self._fetch_size(pk, sk)

    # ----------------------------------------------------------------- writes

    def put(self, pk: bytes, sk: bytes, item: Item, size: int) -> Item | None:
        """Store ``item``; return the item it replaced (on disk when the group commits)."""
        storage = self._storage
        if storage._undoing:  # taking back a failed group: the disk already has the old row
            storage._cache.discard((self._id, pk, sk))
            storage._parts.discard((self._id, pk, b""))
            return None
        if not storage._depth:  # a write of its own: a group of one
            with storage.atomic():
                return self.put(pk, sk, item, size)
        old = self._get(pk, sk)
        old_size = self.size_of(pk, sk) if old is not None else 0
        storage._touch(self)
        storage._record(self, pk, sk, item, size, old is not None)
        self._recent.pop((pk, sk), None)
        if old is None:
            self._partition_changed(pk, sk, added=True)
            self._count += 1
        self._size += size - old_size
        return old

    def delete(self, pk: bytes, sk: bytes) -> Item | None:
        """Remove the item at ``(pk, sk)``; return it, or None (gone from disk at commit)."""
        storage = self._storage
        if storage._undoing:
            storage._cache.discard((self._id, pk, sk))
            storage._parts.discard((self._id, pk, b""))
            return None
        if not storage._depth:
            with storage.atomic():
                return self.delete(pk, sk)
        old = self._get(pk, sk)
        if old is None:
            return None
        old_size = self.size_of(pk, sk)
        storage._touch(self)
        storage._record(self, pk, sk, None, 0, True)
        self._recent.pop((pk, sk), None)
        self._partition_changed(pk, sk, added=False)
        self._count -= 1
        self._size -= old_size
        return old

    def _partition_changed(self, pk: bytes, sk: bytes, *, added: bool) -> None:
        """Keep the cached sort keys of partition ``pk`` (if cached) in step with a write."""
        parts = self._storage._parts
        entry = parts.peek((self._id, pk, b""))
        if entry is None:
            return
        keys = entry[0]
        if added:
            if len(keys) >= MAX_PARTITION_KEYS:
                parts.discard((self._id, pk, b""))  # too big to keep now
                return
            insort(keys, sk)
        else:
            at = bisect_left(keys, sk)
            if at < len(keys) and keys[at] == sk:
                del keys[at]

    def partition_usage(self, pk: bytes) -> tuple[int, int]:
        """``(items, bytes)`` of partition ``pk``: one aggregate over its rows of the
        ``keys`` table, which keeps each item's size (no body is read; the current
        group's pending rows are flushed first, by :meth:`DurableStorage._rows`)."""
        row = self._storage._rows(_PARTITION_USAGE, (self._id, scan_hash(pk), pk))[0]
        return int(row[0]), int(row[1])

    # ----------------------------------------------------------------- ranges

    def query(
        self,
        pk: bytes,
        *,
        lo: bytes | None = None,
        lo_inclusive: bool = True,
        hi: bytes | None = None,
        hi_inclusive: bool = True,
        forward: bool = True,
        after: bytes | None = None,
    ) -> Iterator[tuple[bytes, Item]]:
        """``(sk, item)`` of one partition between the bounds (see :class:`TableStore`)."""
        lo, lo_inclusive, hi, hi_inclusive = resume_bounds(
            lo, lo_inclusive, hi, hi_inclusive, forward, after
        )
        rows = self._query(pk, lo, lo_inclusive, hi, hi_inclusive, forward)
        if READS.fresh:  # the caller's own items (see get)
            return ((sk, marshal.loads(marshal.dumps(item))) for sk, item in rows)
        return rows

    # ----------------------------------------------------------------- reading rows

    def _fetch(self, pk: bytes, sk: bytes) -> tuple[Item, int, int] | None:
        """``(item, size, cache cost)`` of a row read from SQLite (checked), or None."""
        row = self._read_one(pk, sk)
        if row is None:
            return None
        size, blob, crc = row
        return self._decoded(pk, sk, size, blob, crc), size, item_cost(blob)

    def _fetch_size(self, pk: bytes, sk: bytes) -> int:
        row = self._read_one(pk, sk)
        return 0 if row is None else int(row[0])

    def _read_one(self, pk: bytes, sk: bytes) -> tuple[int, bytes, int] | None:
        row: tuple[int, bytes, int] | None = self._storage._rows(
            _POINT, (self._id, scan_hash(pk), pk, sk), one=True
        )
        if row is not None and (row[1] is None or row_crc(pk, sk, *row[:2]) != row[2]):
            raise self._storage._damaged(self._id, _BAD_CRC)
        return row

    def _decoded(self, pk: bytes, sk: bytes, size: int, blob: bytes | None, crc: int) -> Item:
        """The item of a row, after checking its CRC (a missing body reads as None)."""
        if blob is None or row_crc(pk, sk, size, blob) != crc:
            raise self._storage._damaged(self._id, _BAD_CRC)
        try:
            item: Item = json.loads(blob)
        except ValueError:
            raise self._storage._damaged(self._id, "an item of store {} is damaged") from None
        return item

    def _fetch_many(self, h: bytes, pk: bytes, sks: list[bytes]) -> dict[bytes, Item]:
        """The items of partition ``pk`` among sort keys ``sks`` that are not cached,
        read with one statement (checked, then cached); outside write groups only."""
        entries = self._entries
        wanted = [sk for sk in sks if (self._id, pk, sk) not in entries]
        if not wanted:
            return {}
        marks = ", ".join("?" * len(wanted))
        sql = f"SELECT k.sk, k.size, b.item, k.crc {_JOIN} WHERE k.store = ? AND k.h = ?"
        sql += f" AND k.pk = ? AND k.sk IN ({marks})"
        cache = self._storage._cache
        found = {}
        for sk, size, blob, crc in self._storage._rows(sql, (self._id, h, pk, *wanted)):
            item = self._decoded(pk, sk, size, blob, crc)
            cache.put((self._id, pk, sk), item, size, item_cost(blob))
            found[sk] = item
        return found

    def _partition_keys(self, h: bytes, pk: bytes) -> list[bytes] | None:
        """The sorted sort keys of partition ``pk`` (cached), None if it has more than
        :data:`MAX_PARTITION_KEYS` items."""
        parts = self._storage._parts
        entry = parts.get((self._id, pk, b""))
        if entry is not None:
            return entry[0]
        rows = self._storage._rows(_PARTITION_KEYS, (self._id, h, pk, MAX_PARTITION_KEYS + 1))
        if len(rows) > MAX_PARTITION_KEYS:
            return None
        keys = [row[0] for row in rows]
        parts.put((self._id, pk, b""), keys, 0, 120 + sum(len(sk) + 40 for sk in keys))
        return keys

    def _select_partition(
        self,
        h: bytes,
        pk: bytes,
        lo: bytes | None,
        lo_inclusive: bool,
        hi: bytes | None,
        hi_inclusive: bool,
        forward: bool,
        limit: int,
    ) -> list[tuple[bytes, int, int, int]]:
        """Up to ``limit`` keys ``(sk, size, crc, body id)`` of partition ``pk`` within the
        bounds, in order. Keys only: a cached item's body is not read at all, the others
        one by one as they are used (see :meth:`_query`)."""
        shape = (lo is None, lo_inclusive, hi is None, hi_inclusive, forward)
        sql = _PARTITION_SQL.get(shape)
        if sql is None:
            sql = "SELECT sk, size, crc, body FROM keys WHERE store = ? AND h = ? AND pk = ?"
            if lo is not None:
                sql += " AND sk >= ?" if lo_inclusive else " AND sk > ?"
            if hi is not None:
                sql += " AND sk <= ?" if hi_inclusive else " AND sk < ?"
            sql += " ORDER BY sk" + ("" if forward else " DESC") + " LIMIT ?"
            _PARTITION_SQL[shape] = sql
        parameters: tuple[Any, ...] = (self._id, h, pk)
        if lo is not None:
            parameters += (lo,)
        if hi is not None:
            parameters += (hi,)
        rows: list[tuple[bytes, int, int, int]] = self._storage._rows(sql, (*parameters, limit))
        return rows

    def _select_scan(
        self,
        seg_lo: bytes,
        seg_hi: bytes | None,
        start: tuple[bytes, bytes, bytes] | None,
        limit: int,
    ) -> list[tuple[bytes, bytes, bytes, int, bytes, int]]:
        """Up to ``limit`` rows ``(h, pk, sk, size, item JSON, crc)`` in scan order from
        ``start`` (exclusive; None: from ``seg_lo``), below ``seg_hi``."""
        sql = f"SELECT k.h, k.pk, k.sk, k.size, b.item, k.crc {_JOIN} WHERE k.store = ?"
        parameters: tuple[Any, ...] = (self._id,)
        if start is None:
            sql += " AND k.h >= ?"
            parameters += (seg_lo,)
        else:
            sql += " AND (k.h, k.pk, k.sk) > (?, ?, ?)"
            parameters += start
        if seg_hi is not None:
            sql += " AND k.h < ?"
            parameters += (seg_hi,)
        sql += " ORDER BY k.h, k.pk, k.sk LIMIT ?"
        rows: list[tuple[bytes, bytes, bytes, int, bytes, int]] = self._storage._rows(
            sql, (*parameters, limit)
        )
        return rows

    def _query(
        self,
        pk: bytes,
        lo: bytes | None,
        lo_inclusive: bool,
        hi: bytes | None,
        hi_inclusive: bool,
        forward: bool,
    ) -> Iterator[tuple[bytes, Item]]:
        h = scan_hash(pk)
        store_id = self._id
        keys = self._partition_keys(h, pk)
        if keys is not None:  # a small partition: its keys in memory, its items by key
            start = 0 if lo is None else (bisect_left if lo_inclusive else bisect_right)(keys, lo)
            end = (
                len(keys)
                if hi is None
                else (bisect_right if hi_inclusive else bisect_left)(keys, hi)
            )
            chosen = keys[start:end]  # a copy: writes while suspended do not disturb it
            if not forward:
                chosen.reverse()
            get = self._get  # (shared items: query() copies them for a fresh read)
            pending = self._pending
            entries = self._entries
            fetched: dict[bytes, Item] = {}
            window = 4  # items read per statement: few first (a Limit may stop early), then more
            for position, sk in enumerate(chosen):
                key = (store_id, pk, sk)
                entry = None if pending else entries.get(key)
                if entry is not None:
                    entries.move_to_end(key)
                    yield sk, entry[0]
                    continue
                if not pending and sk not in fetched:  # the next uncached items at once
                    fetched = self._fetch_many(h, pk, chosen[position : position + window])
                    window = min(window * 2, _FIRST_CHUNK)
                item = fetched.pop(sk, None) or get(pk, sk)
                if item is not None:  # None: deleted while this iterator was suspended
                    yield sk, item
            return
        chunk = _FIRST_CHUNK
        cache = self._storage._cache
        while True:
            rows = self._select_partition(h, pk, lo, lo_inclusive, hi, hi_inclusive, forward, chunk)
            for sk, size, crc, body in rows:
                key = (store_id, pk, sk)
                entry = cache.get(key)
                if entry is None:
                    blob = self._storage._rows(_BODY, (body,), one=True)
                    item = self._decoded(pk, sk, size, None if blob is None else blob[0], crc)
                    cache.put(key, item, size, item_cost(blob))
                    yield sk, item
                else:
                    yield sk, entry[0]
            if len(rows) < chunk:
                return
            last = rows[-1][0]
            if forward:
                lo, lo_inclusive = last, False
            else:
                hi, hi_inclusive = last, False
            chunk = min(chunk * 4, _MAX_CHUNK)

    def scan(
        self,
        *,
        segment: int = 0,
        total_segments: int = 1,
        after: tuple[bytes, bytes] | None = None,
    ) -> Iterator[tuple[bytes, bytes, Item]]:
        """``(pk, sk, item)`` of one segment in scan order (see :class:`TableStore`)."""
        seg_lo, seg_hi = segment_bounds(segment, total_segments)
        start: tuple[bytes, bytes, bytes] | None = None
        if after is not None:
            after_pk, after_sk = after
            after_h = scan_hash(after_pk)
            if seg_hi is not None and after_h >= seg_hi:
                return iter(())  # the resume point is past this segment
            if after_h >= seg_lo:
                start = (after_h, after_pk, after_sk)
        return self._scan(seg_lo, seg_hi, start)

    def _scan(
        self, seg_lo: bytes, seg_hi: bytes | None, start: tuple[bytes, bytes, bytes] | None
    ) -> Iterator[tuple[bytes, bytes, Item]]:
        # Scanned items are not cached (a Scan would push every hot item out), but
        # those the cache holds are not decoded again.
        peek = self._storage._cache.peek
        store_id = self._id
        while True:
            rows = self._select_scan(seg_lo, seg_hi, start, _SCAN_CHUNK)
            self._recent = {(pk, sk): size for _, pk, sk, size, _, _ in rows}
            for h, pk, sk, size, blob, crc in rows:
                entry = peek((store_id, pk, sk))
                if entry is not None:
                    yield pk, sk, entry[0]
                    continue
                if scan_hash(pk) != h:
                    raise self._storage._damaged(self._id, "a key of store {} is damaged")
                yield pk, sk, self._decoded(pk, sk, size, blob, crc)
            if len(rows) < _SCAN_CHUNK:
                return
            start = rows[-1][:3]
