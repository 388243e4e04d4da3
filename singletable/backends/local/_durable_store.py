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
the memory they take (shared by every store of the storage), so a table that fits
reads from memory as an in-memory table does, and one that does not is served
with a bounded resident set. Item counts and sizes are kept per store in the
``stores`` table, updated in the transaction of each group: nothing needs a pass
over the items.
"""

from __future__ import annotations

import json
from collections import OrderedDict
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from singletable._values import Item
from singletable.backends.local._durable_file import row_crc
from singletable.backends.local.storage import TableStore, scan_hash, segment_bounds

if TYPE_CHECKING:
    from singletable.backends.local.durable import DurableStorage

__all__ = ["BodyCache", "DurableTableStore", "item_cost"]

CacheKey = tuple[int, bytes, bytes]  # (store id, pk, sk)

# A missing body reads as NULL (reported as damage), not as a missing item.
_JOIN = "FROM keys AS k LEFT JOIN bodies AS b ON b.id = k.body"
_POINT = (
    f"SELECT k.size, b.item, k.crc {_JOIN} WHERE k.store = ? AND k.h = ? AND k.pk = ? AND k.sk = ?"
)
# The Query statements, by the shape of their bounds and direction.
_PARTITION_SQL: dict[tuple[bool, bool, bool, bool, bool], str] = {}
_BAD_CRC = "an item of store {} fails its checksum"

# The first chunk of a Query is small (most pages are), later ones grow.
_FIRST_CHUNK = 32
_MAX_CHUNK = 1024
_SCAN_CHUNK = 512
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


class BodyCache:
    """Decoded items by ``(store id, pk, sk)``, least recently used first out.

    ``capacity`` bounds the sum of the entries' :func:`item_cost`; an item bigger
    than the whole cache is not kept.
    """

    __slots__ = ("_entries", "capacity", "used")

    def __init__(self, capacity: int) -> None:
        self.capacity = capacity
        self.used = 0
        self._entries: OrderedDict[CacheKey, tuple[Item, int, int]] = OrderedDict()

    def __len__(self) -> int:
        return len(self._entries)

    def get(self, key: CacheKey) -> tuple[Item, int, int] | None:
        """``(item, size, cost)`` of ``key``, now the most recently used; None if absent."""
        entry = self._entries.get(key)
        if entry is not None:
            self._entries.move_to_end(key)
        return entry

    def peek(self, key: CacheKey) -> tuple[Item, int, int] | None:
        """Like :meth:`get`, without changing the order of eviction."""
        return self._entries.get(key)

    def put(self, key: CacheKey, item: Item, size: int, cost: int) -> None:
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
        """The item at ``(pk, sk)``, or None (from the cache, else one SQLite lookup)."""
        storage = self._storage
        key = (self._id, pk, sk)
        if storage._pending:
            pending = storage._pending.get(key)
            if pending is not None:
                return pending[0]
        entry = storage._cache.get(key)
        if entry is not None:
            return entry[0]
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
        storage = self._storage
        key = (self._id, pk, sk)
        if storage._pending:
            pending = storage._pending.get(key)
            if pending is not None:
                return pending[1]
        entry = storage._cache.peek(key)
        if entry is not None:
            return entry[1]
        if key in storage._misses:
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
            return None
        if not storage._depth:  # a write of its own: a group of one
            with storage.atomic():
                return self.put(pk, sk, item, size)
        old = self.get(pk, sk)
        old_size = self.size_of(pk, sk) if old is not None else 0
        storage._touch(self)
        storage._record(self, pk, sk, item, size, old is not None)
        self._recent.pop((pk, sk), None)
        if old is None:
            self._count += 1
        self._size += size - old_size
        return old

    def delete(self, pk: bytes, sk: bytes) -> Item | None:
        """Remove the item at ``(pk, sk)``; return it, or None (gone from disk at commit)."""
        storage = self._storage
        if storage._undoing:
            storage._cache.discard((self._id, pk, sk))
            return None
        if not storage._depth:
            with storage.atomic():
                return self.delete(pk, sk)
        old = self.get(pk, sk)
        if old is None:
            return None
        old_size = self.size_of(pk, sk)
        storage._touch(self)
        storage._record(self, pk, sk, None, 0, True)
        self._recent.pop((pk, sk), None)
        self._count -= 1
        self._size -= old_size
        return old

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
        if after is not None:
            if forward and (lo is None or after >= lo):
                lo, lo_inclusive = after, False
            elif not forward and (hi is None or after <= hi):
                hi, hi_inclusive = after, False
        return self._query(pk, lo, lo_inclusive, hi, hi_inclusive, forward)

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

    def _decoded(self, pk: bytes, sk: bytes, size: int, blob: bytes, crc: int) -> Item:
        """The item of a row, after checking its CRC (a missing body reads as None)."""
        if blob is None or row_crc(pk, sk, size, blob) != crc:
            raise self._storage._damaged(self._id, _BAD_CRC)
        try:
            item: Item = json.loads(blob)
        except ValueError:
            raise self._storage._damaged(self._id, "an item of store {} is damaged") from None
        return item

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
    ) -> list[tuple[bytes, int, bytes, int]]:
        """Up to ``limit`` rows ``(sk, size, item JSON, crc)`` of partition ``pk`` within
        the bounds, in order (decoded one by one as they are used: see :meth:`_query`)."""
        shape = (lo is None, lo_inclusive, hi is None, hi_inclusive, forward)
        sql = _PARTITION_SQL.get(shape)
        if sql is None:
            sql = f"SELECT k.sk, k.size, b.item, k.crc {_JOIN}"
            sql += " WHERE k.store = ? AND k.h = ? AND k.pk = ?"
            if lo is not None:
                sql += " AND k.sk >= ?" if lo_inclusive else " AND k.sk > ?"
            if hi is not None:
                sql += " AND k.sk <= ?" if hi_inclusive else " AND k.sk < ?"
            sql += " ORDER BY k.sk" + ("" if forward else " DESC") + " LIMIT ?"
            _PARTITION_SQL[shape] = sql
        parameters: tuple[Any, ...] = (self._id, h, pk)
        if lo is not None:
            parameters += (lo,)
        if hi is not None:
            parameters += (hi,)
        rows: list[tuple[bytes, int, bytes, int]] = self._storage._rows(sql, (*parameters, limit))
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
        chunk = _FIRST_CHUNK
        cache = self._storage._cache
        store_id = self._id
        while True:
            rows = self._select_partition(h, pk, lo, lo_inclusive, hi, hi_inclusive, forward, chunk)
            for sk, size, blob, crc in rows:
                key = (store_id, pk, sk)
                entry = cache.get(key)
                if entry is None:
                    item = self._decoded(pk, sk, size, blob, crc)
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
