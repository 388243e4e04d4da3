"""Where the local engine keeps items: one interface, in memory now, on disk later.

A :class:`Storage` holds named :class:`TableStore` objects, one per table (the
engine may also keep one per index, under a name of its choosing). A table
store maps a key, ``(pk, sk)`` as bytes from :mod:`keycodec`, to an item, and
hands items back in the orders DynamoDB reads them:

* **Query** order: one partition, ascending or descending by sort key;
* **Scan** order: by ``(hash(pk), pk, sk)``, with ``hash`` a stable 64-bit
  hash, as DynamoDB scans by hashed partition. A parallel-scan segment is then
  one contiguous hash range, so ``Segment``/``TotalSegments`` put every item in
  exactly one segment.

Keys are opaque bytes whose byte order is DynamoDB's key order (the codec's
job); hash-only tables use ``sk=b""``. Paging resumes with ``after``, an
exclusive start position that may name an item deleted since: iteration
continues from where that key *would* be, in O(log n).

The memory store keeps each item as one compact, immutable record
(:mod:`._records`) and decodes it when it is read: freshly for a caller that will
own the items, or from a small cache of shared, read-only decoded items for the
engine's own reads and the no-copy paths. Either way nothing a reader does to an
item can change what is stored. Iterators are lazy and meant to be consumed
under the engine's lock; a write made while one is suspended never makes it fail
or repeat an item, but may or may not be seen by it.

Durability (next issue) slots in as another :class:`Storage`: a write-ahead
log of puts and deletes, grouped by :meth:`Storage.atomic`, plus periodic
snapshots; the table metadata (the engine's catalog entry) is kept by the
storage for that reason.
"""

from __future__ import annotations

import copy
import hashlib
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, nullcontext
from typing import Any

from singletable._values import Item
from singletable.backends.local._records import (
    READS,
    SHARED,
    decode,
    dumps_item,
    pack_size,
    record_size,
    unpack_size,
)
from singletable.backends.local._sortedlist import DEFAULT_LOAD, SortedKeyList

__all__ = [
    "MemoryStorage",
    "MemoryTableStore",
    "Storage",
    "TableStore",
    "resume_bounds",
    "scan_hash",
    "segment_bounds",
]

_HASH_SPACE = 1 << 64
_NO_GROUP = nullcontext()  # (reusable: it holds nothing)


def scan_hash(pk: bytes) -> bytes:
    """The 8-byte stable hash that orders partitions in a Scan (big-endian)."""
    return _blake2b(pk, digest_size=8).digest()


_blake2b = hashlib.blake2b


def resume_bounds(
    lo: bytes | None,
    lo_inclusive: bool,
    hi: bytes | None,
    hi_inclusive: bool,
    forward: bool,
    after: bytes | None,
) -> tuple[bytes | None, bool, bytes | None, bool]:
    """A Query's sort-key bounds narrowed by its exclusive resume point ``after``
    (on the side the Query starts from, when ``after`` is inside the bounds)."""
    if after is not None:
        if forward and (lo is None or after >= lo):
            lo, lo_inclusive = after, False
        elif not forward and (hi is None or after <= hi):
            hi, hi_inclusive = after, False
    return lo, lo_inclusive, hi, hi_inclusive


def segment_bounds(segment: int, total_segments: int) -> tuple[bytes, bytes | None]:
    """Hash range ``[lo, hi)`` of a parallel-scan segment (``hi`` None: to the end)."""
    if not 0 <= segment < total_segments:
        raise ValueError(f"segment {segment} is not in 0..{total_segments - 1}")
    lo = segment * _HASH_SPACE // total_segments
    hi = (segment + 1) * _HASH_SPACE // total_segments
    return lo.to_bytes(8, "big"), hi.to_bytes(8, "big") if hi < _HASH_SPACE else None


# --------------------------------------------------------------------------- interfaces


class TableStore(ABC):
    """The items of one table (or index), addressed by encoded ``(pk, sk)`` keys."""

    @property
    @abstractmethod
    def item_count(self) -> int:
        """Number of items stored."""

    @property
    @abstractmethod
    def size_bytes(self) -> int:
        """Sum of the ``size`` values given to :meth:`put` for the stored items."""

    @abstractmethod
    def get(self, pk: bytes, sk: bytes) -> Item | None:
        """The item at ``(pk, sk)``, or None."""

    @abstractmethod
    def put(self, pk: bytes, sk: bytes, item: Item, size: int) -> Item | None:
        """Store ``item`` (``size`` bytes by DynamoDB's count); return the item it replaced."""

    def write(self, pk: bytes, sk: bytes, item: Item, size: int) -> None:
        """:meth:`put`, for a writer that has no use for the item replaced (the
        engine's commit, which read it already): a store may skip reading it."""
        self.put(pk, sk, item, size)

    @abstractmethod
    def delete(self, pk: bytes, sk: bytes) -> Item | None:
        """Remove the item at ``(pk, sk)``; return it, or None if there was none."""

    @abstractmethod
    def size_of(self, pk: bytes, sk: bytes) -> int:
        """The size given to :meth:`put` for the item at ``(pk, sk)`` (0 if absent).

        Query and Scan pages are measured in item sizes; keeping them avoids
        measuring every item again on each read.
        """

    def partition_usage(self, pk: bytes) -> tuple[int, int]:
        """``(items, bytes)`` of partition ``pk``: its item count and the sum of their
        sizes. Work bounded by the partition, never the table (ItemCollectionMetrics,
        ._collections); a store may answer it without decoding an item."""
        count = size = 0
        for sk, _item in self.query(pk):
            count += 1
            size += self.size_of(pk, sk)
        return count, size

    @abstractmethod
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
        """``(sk, item)`` of partition ``pk`` with sort keys between ``lo`` and ``hi``.

        Ascending by sort key, or descending if not ``forward``. ``after`` is an
        exclusive start: only sort keys past it in the direction of travel come.
        """

    @abstractmethod
    def scan(
        self,
        *,
        segment: int = 0,
        total_segments: int = 1,
        after: tuple[bytes, bytes] | None = None,
    ) -> Iterator[tuple[bytes, bytes, Item]]:
        """``(pk, sk, item)`` of one parallel-scan segment, in scan order.

        ``after`` is an exclusive start ``(pk, sk)``; it may name a deleted item.
        """


class Storage(ABC):
    """A set of named table stores, plus each one's metadata."""

    @abstractmethod
    def create_table(self, name: str, meta: dict[str, Any] | None = None) -> TableStore:
        """Create an empty store ``name``; ValueError if it exists."""

    @abstractmethod
    def drop_table(self, name: str) -> None:
        """Delete store ``name`` and its items; KeyError if there is none."""

    @abstractmethod
    def table(self, name: str) -> TableStore:
        """The store ``name``; KeyError if there is none."""

    @abstractmethod
    def table_names(self) -> list[str]:
        """Names of all stores, sorted."""

    @abstractmethod
    def get_meta(self, name: str) -> dict[str, Any]:
        """The metadata kept with store ``name`` (JSON-able; the engine's catalog entry)."""

    @abstractmethod
    def set_meta(self, name: str, meta: dict[str, Any]) -> None:
        """Replace the metadata of store ``name``."""

    def __contains__(self, name: object) -> bool:
        return name in self.table_names()

    def atomic(self) -> AbstractContextManager[None]:
        """Group the writes made inside the ``with`` block into one atomic unit.

        In memory each write is already atomic and the engine's lock orders
        them, so this does nothing; a durable storage logs the group as one
        record, so a crash keeps all of it or none.
        """
        return nullcontext()

    can_fail_commit = False
    """Whether an atomic group can fail at its end, after its writes were made in memory
    (a durable storage's commit: disk full, I/O error). The engine only prepares
    rollbacks (:meth:`on_rollback`) that are costly to prepare when it can."""

    def on_rollback(self, undo: Callable[[], None]) -> None:  # noqa: B027 - optional hook
        """Have ``undo`` run if the current atomic group fails instead of committing.

        Whoever changes in-memory state inside a group registers how to take the
        change back; a failed group runs them newest first, so memory is left exactly
        as before the group, as the disk is. In memory a group cannot fail: nothing to do.
        """

    def close(self) -> None:  # noqa: B027 - an optional hook, empty by default
        """Release files and other resources (nothing to do in memory)."""


# --------------------------------------------------------------------------- memory


_Partition = dict[bytes, bytes]
"""The records of one partition by sort key (bytes only: never tracked by the GC)."""

def _read(record: bytes) -> Item:
    """The item of ``record`` as the current thread reads it (see :mod:`._records`)."""
    if READS.fresh:
        return decode(record)
    return _shared(record)


def _shared(record: bytes) -> Item:
    """The shared decoded item of ``record`` (a hit is one dict lookup, inlined in the
    loops below)."""
    entry = SHARED.items.get(id(record))
    if entry is not None and entry[0] is record:
        return entry[1]
    return SHARED.item(record)


class _Last:
    """The item a memory store encoded last, with its record and size: an index
    projecting ALL, given that very item right after the table (see
    :func:`._write.commit`), stores the table's record instead of a second copy. The
    entry holds its item, so its identity cannot be reused while it is here; it is
    replaced whole (one attribute store), so a thread never sees half of another's."""

    __slots__ = ("entry",)

    def __init__(self) -> None:
        self.entry: tuple[Item | None, bytes, int] = (None, b"", -1)


_LAST = _Last()
"""A written item is not put in the shared decoded-item cache: a write of a cold item
leaves the cache alone (reads decode the item when they come)."""

_dumps = dumps_item
_pack_size = pack_size

_UNSEEN: tuple[bytes | None, bytes | None, int] = (None, None, 0)


class MemoryTableStore(TableStore):
    """A table store in memory: a dict of partitions plus a sorted scan index.

    * ``_partitions`` maps pk to its records by sort key (GetItem: two dict
      lookups); each item is one compact record (:mod:`._records`), decoded when
      it is read.
    * ``_orders`` holds the sorted sort keys of each partition that has held more
      than one item (Query: one bisect, then one step per item visited); the common
      one-item partition (every hash-only table) costs one small dict.
    * ``_scan_index`` holds ``scan_hash(pk) + pk`` for every partition, sorted,
      so a Scan walks partitions in hash order and resumes with one bisect.
      Adding or removing a partition touches one chunk of it (see
      :mod:`._sortedlist`), never a Python loop over all partitions.
    """

    _seen: tuple[bytes | None, bytes | None, int] = (None, None, 0)
    """``(pk, sk, size)`` of the item a Query or Scan of this store handed out last
    (from the shared cache, which knows its size): the reader asks its size next,
    with those very key objects. Any write forgets it."""

    def __init__(self, *, load: int = DEFAULT_LOAD) -> None:
        self._load = load
        self._partitions: dict[bytes, _Partition] = {}
        self._orders: dict[bytes, SortedKeyList] = {}
        self._scan_index = SortedKeyList(load=load)
        self._count = 0
        self._size = 0

    @property
    def item_count(self) -> int:
        """Number of items stored."""
        return self._count

    @property
    def size_bytes(self) -> int:
        """Sum of the sizes given to :meth:`put` for the stored items."""
        return self._size

    def clone(self) -> MemoryTableStore:
        """An independent copy of this store, for engine snapshots and backups.

        Records are immutable, so the copy shares them and copies only the structure
        around them: one dict per partition and the sorted lists' chunks.
        """
        twin = MemoryTableStore.__new__(MemoryTableStore)
        twin._load = self._load
        twin._partitions = {pk: records.copy() for pk, records in self._partitions.items()}
        twin._orders = {pk: order.copy() for pk, order in self._orders.items()}
        twin._scan_index = self._scan_index.copy()
        twin._count = self._count
        twin._size = self._size
        return twin

    @property
    def partition_count(self) -> int:
        """Number of distinct partition keys stored."""
        return len(self._partitions)

    def record(self, pk: bytes, sk: bytes) -> bytes | None:
        """The stored record of ``(pk, sk)`` (see :mod:`._records`), or None."""
        partition = self._partitions.get(pk)
        return None if partition is None else partition.get(sk)

    def get(self, pk: bytes, sk: bytes) -> Item | None:
        """The item at ``(pk, sk)``, or None."""
        partition = self._partitions.get(pk)
        if partition is None:
            return None
        record = partition.get(sk)
        if record is None:
            return None
        if READS.fresh:
            return decode(record)
        entry = SHARED.items.get(id(record))  # _shared(record), inlined
        if entry is not None and entry[0] is record:
            return entry[1]
        return SHARED.item(record)

    def size_of(self, pk: bytes, sk: bytes) -> int:
        """The stored size of the item at ``(pk, sk)``, 0 if absent."""
        seen = self._seen
        if seen[1] is sk and seen[0] is pk:  # the item Query or Scan just handed out
            return seen[2]
        partition = self._partitions.get(pk)
        record = None if partition is None else partition.get(sk)
        if record is None:
            return 0
        size: int = unpack_size(record, -4)[0]  # record_size(record), inlined
        return size

    def partition_usage(self, pk: bytes) -> tuple[int, int]:
        """``(items, bytes)`` of partition ``pk``, from its records' sizes (nothing decoded)."""
        partition = self._partitions.get(pk)
        if partition is None:
            return 0, 0
        return len(partition), sum(unpack_size(record, -4)[0] for record in partition.values())

    def put(self, pk: bytes, sk: bytes, item: Item, size: int) -> Item | None:
        """Store ``item``; return the item it replaced, if any.

        ``item`` must not be modified afterwards (the engine never does): reads
        that share decoded items may be handed this very object. An item that is
        itself a shared decoded item (read from a store, or stored just before: an
        index entry projecting ALL, a backfill, a restore) is stored as the very
        record it came from, not a second copy.
        """
        partition = self._partitions.get(pk)
        old = None if partition is None else partition.get(sk)
        self.write(pk, sk, item, size)
        return None if old is None else _read(old)

    def write(self, pk: bytes, sk: bytes, item: Item, size: int) -> None:
        """:meth:`put` without decoding the item replaced."""
        self._seen = _UNSEEN
        last = _LAST.entry
        if last[0] is item and last[2] == size:
            record = last[1]  # the table's record, for an index projecting ALL
        else:
            # A shared item (read from a store: a backfill, a restore) keeps its record.
            shared = SHARED.record_of(item) if id(item) in SHARED.records else None
            if shared is None or unpack_size(shared, -4)[0] != size:
                record = _dumps(item) + _pack_size(size)  # encode(item, size), inlined
            else:
                record = shared
            _LAST.entry = (item, record, size)
        partition = self._partitions.get(pk)
        if partition is None:
            self._partitions[pk] = {sk: record}
            self._scan_index.add(scan_hash(pk) + pk)
            self._count += 1
            self._size += size
            return
        old = partition.get(sk)
        partition[sk] = record
        if old is not None:
            self._size += size - unpack_size(old, -4)[0]
            return
        order = self._orders.get(pk)
        if order is None:
            if len(partition) == 2:  # (a partition without an order held one item)
                first, second = partition
                self._orders[pk] = SortedKeyList.of_pair(first, second, self._load)
            else:
                self._orders[pk] = SortedKeyList(partition, load=self._load)
        else:
            order.add(sk)
        self._count += 1
        self._size += size

    def delete(self, pk: bytes, sk: bytes) -> Item | None:
        """Remove the item at ``(pk, sk)``; return it, or None."""
        partition = self._partitions.get(pk)
        if partition is None:
            return None
        old = partition.pop(sk, None)
        if old is None:
            return None
        self._seen = _UNSEEN
        self._count -= 1
        self._size -= record_size(old)
        if not partition:
            del self._partitions[pk]
            self._orders.pop(pk, None)
            self._scan_index.discard(scan_hash(pk) + pk)
        else:
            order = self._orders.get(pk)
            if order is not None:
                order.discard(sk)
        return _read(old)

    def _keys_between(
        self,
        pk: bytes,
        partition: _Partition,
        lo: bytes | None,
        lo_inclusive: bool,
        hi: bytes | None,
        hi_inclusive: bool,
        reverse: bool,
    ) -> Iterator[bytes]:
        """Sort keys of ``partition`` in ``[lo, hi]`` (bounds per their flags), in order."""
        order = self._orders.get(pk)
        if order is not None:
            return order.irange(
                lo, hi, lo_inclusive=lo_inclusive, hi_inclusive=hi_inclusive, reverse=reverse
            )
        # At most one item: never held two, so no order was made.
        keys = [
            sk
            for sk in partition
            if (lo is None or sk > lo or (lo_inclusive and sk == lo))
            and (hi is None or sk < hi or (hi_inclusive and sk == hi))
        ]
        return iter(keys)

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
        partition = self._partitions.get(pk)
        if partition is None:
            return iter(())
        # The resume point narrows the bound on the side we start from.
        lo, lo_inclusive, hi, hi_inclusive = resume_bounds(
            lo, lo_inclusive, hi, hi_inclusive, forward, after
        )
        keys = self._keys_between(pk, partition, lo, lo_inclusive, hi, hi_inclusive, not forward)
        return self._items_of(pk, partition, keys)

    def scan(
        self,
        *,
        segment: int = 0,
        total_segments: int = 1,
        after: tuple[bytes, bytes] | None = None,
    ) -> Iterator[tuple[bytes, bytes, Item]]:
        """``(pk, sk, item)`` of one segment in scan order (see :class:`TableStore`)."""
        seg_lo, seg_hi = segment_bounds(segment, total_segments)
        return self._scan(seg_lo, seg_hi, after)

    def _scan(
        self, seg_lo: bytes, seg_hi: bytes | None, after: tuple[bytes, bytes] | None
    ) -> Iterator[tuple[bytes, bytes, Item]]:
        start, start_inclusive = seg_lo, True
        if after is not None:
            after_pk, after_sk = after
            position = scan_hash(after_pk) + after_pk
            if seg_hi is not None and position >= seg_hi:
                return  # the resume point is past this segment
            if position >= seg_lo:
                # Finish the partition we stopped in, then go on after it.
                partition = self._partitions.get(after_pk)
                if partition is not None:
                    keys = self._keys_between(
                        after_pk, partition, after_sk, False, None, True, False
                    )
                    for sk, item in self._items_of(after_pk, partition, keys):
                        yield after_pk, sk, item
                start, start_inclusive = position, False
        positions = self._scan_index.irange(
            start, seg_hi, lo_inclusive=start_inclusive, hi_inclusive=False
        )
        partitions = self._partitions
        fresh, shared = READS.fresh, SHARED
        for position in positions:
            pk = position[8:]
            partition = partitions.get(pk)
            if partition is None:
                continue  # removed while this iterator was suspended
            if len(partition) == 1:  # one item (every hash-only table): no sorting
                for sk, record in list(partition.items()):
                    if fresh:
                        item = decode(record)
                    else:  # _shared(record), inlined
                        entry = shared.items.get(id(record))
                        if entry is not None and entry[0] is record:
                            item = entry[1]
                            self._seen = (pk, sk, entry[3])
                        else:
                            item = shared.item(record)
                            self._seen = (pk, sk, unpack_size(record, -4)[0])
                    yield pk, sk, item
                continue
            keys = self._keys_between(pk, partition, None, True, None, True, False)
            for sk, item in self._items_of(pk, partition, keys):
                yield pk, sk, item

    def _items_of(
        self, pk: bytes, partition: _Partition, keys: Iterator[bytes]
    ) -> Iterator[tuple[bytes, Item]]:
        """``(sk, item)`` for each sort key still present in ``partition`` (of ``pk``)."""
        if READS.fresh:
            for sk in keys:
                record = partition.get(sk)
                if record is not None:
                    self._seen = (pk, sk, unpack_size(record, -4)[0])
                    yield sk, decode(record)
            return
        shared = SHARED
        miss = shared.item
        for sk in keys:
            record = partition.get(sk)
            if record is None:
                continue
            entry = shared.items.get(id(record))  # _shared(record), inlined
            if entry is not None and entry[0] is record:
                self._seen = (pk, sk, entry[3])
                yield sk, entry[1]
            else:
                self._seen = (pk, sk, unpack_size(record, -4)[0])
                yield sk, miss(record)


MemoryState = tuple[dict[str, MemoryTableStore], dict[str, dict[str, Any]]]
"""What :meth:`MemoryStorage.state` records: copies of the stores, and their metadata."""


class MemoryStorage(Storage):
    """Table stores held in memory; everything is gone when the process ends."""

    def __init__(self, *, load: int = DEFAULT_LOAD) -> None:
        self._load = load
        self._tables: dict[str, MemoryTableStore] = {}
        self._meta: dict[str, dict[str, Any]] = {}

    def state(self) -> MemoryState:
        """A copy of every store (:meth:`MemoryTableStore.clone`) and of its metadata."""
        tables = {name: store.clone() for name, store in self._tables.items()}
        return tables, copy.deepcopy(self._meta)

    def set_state(self, state: MemoryState) -> None:
        """Go back to a :meth:`state` (which stays as it is, to be set again)."""
        tables, meta = state
        self._tables = {name: store.clone() for name, store in tables.items()}
        self._meta = copy.deepcopy(meta)

    def copy_store(self, source: str, target: str, meta: dict[str, Any]) -> None:
        """Create store ``target`` holding ``source``'s items (a backup): the two share
        the (immutable) records, only the structure around them is copied."""
        if target in self._tables:
            raise ValueError(f"table store {target!r} already exists")
        self._tables[target] = self._tables[source].clone()
        self._meta[target] = meta

    def create_table(self, name: str, meta: dict[str, Any] | None = None) -> MemoryTableStore:
        """Create an empty store ``name``; ValueError if it exists."""
        if name in self._tables:
            raise ValueError(f"table store {name!r} already exists")
        store = MemoryTableStore(load=self._load)
        self._tables[name] = store
        self._meta[name] = {} if meta is None else meta
        return store

    def drop_table(self, name: str) -> None:
        """Delete store ``name``; KeyError if there is none."""
        del self._tables[name]
        del self._meta[name]

    def table(self, name: str) -> MemoryTableStore:
        """The store ``name``; KeyError if there is none."""
        return self._tables[name]

    def table_names(self) -> list[str]:
        """Names of all stores, sorted."""
        return sorted(self._tables)

    def __contains__(self, name: object) -> bool:
        return name in self._tables

    def get_meta(self, name: str) -> dict[str, Any]:
        """The metadata kept with store ``name``."""
        return self._meta[name]

    def set_meta(self, name: str, meta: dict[str, Any]) -> None:
        """Replace the metadata of store ``name``; KeyError if there is none."""
        if name not in self._tables:
            raise KeyError(name)
        self._meta[name] = meta
