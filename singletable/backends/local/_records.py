"""Stored items as compact records, and the decoded items that reads share.

A stored item is one immutable ``bytes`` object, its *record*: ``marshal`` of the
canonical item followed by the item's size (4 bytes, little-endian). Why:

* **Memory.** A 1 KB item held as the canonical wire dict costs several times its
  size (one dict per attribute value, one string object per name and value);
  its record costs about its JSON size (marshal writes a repeated string such as
  ``"S"`` once and refers back to it).
* **Garbage collection.** ``bytes`` are not tracked by Python's cyclic garbage
  collector, and neither is a dict holding only bytes: a stored item adds no
  object for the collector to walk (the wire dicts added one per attribute).
* **Speed.** ``marshal.loads`` rebuilds a 1 KB item in about 2 us, in C; the
  engine's response copy (``marshal.dumps`` plus ``loads``) cost about 3.5 us, so
  a read that hands its caller freshly decoded items needs no copy at all.
  ``marshal.loads`` ignores bytes after the value (documented), which is what lets
  the size ride along at the end of the record.

marshal's format is Python's own and may change between versions: records never
leave the process (the durable storage writes JSON).

Reads come in two kinds (:data:`READS`):

* **fresh** (:meth:`LocalEngine.call` of a GetItem or a Query, with its default
  copy): items are decoded anew, so the caller owns them and the engine skips its
  copy;
* **shared** (everything else: ``call(copy=False)``, ``call_json``, the engine's
  own reads on its write path, Scan pages, which ``call`` then copies whole,
  cheaper than decoding them item by item, since a filter reads items it drops):
  items come from :data:`SHARED`, a small cache of decoded items by record, and
  must be treated as read-only, exactly as the stored dicts themselves had to be
  before. Hot items are then decoded once, and ``call_json`` keeps their JSON text
  there too (see :mod:`._encoding`). While the cache is full only one miss in
  eight is kept (:meth:`SharedItems.item`): a scan of a big table does not flush the
  hot items, and pays little for keeping what it reads once.

The cache also knows each shared item's record: a store given a shared item (an
item read from one store, for a backfill, a restore or a replica) stores that very
record, not a copy. Writes do not add to the cache (a cold item written would only
push hot ones out); the table item just stored reaches an index projecting ALL
through the stores' memory of the item they encoded last (:mod:`.storage`)
instead. The one exception is an UpdateItem answered by a compiled program
(:mod:`._update`): when the item it updated was cached, its new version takes the
old one's place (:meth:`SharedItems.replace`).
"""

from __future__ import annotations

import marshal
import struct
import threading
from collections import OrderedDict
from collections.abc import Callable

from singletable._values import Item

__all__ = [
    "READS",
    "SHARED",
    "SharedItems",
    "decode",
    "dumps_item",
    "encode",
    "pack_size",
    "record_size",
    "unpack_size",
]

_SIZE = struct.Struct("<I")
_dumps = dumps_item = marshal.dumps
"""``dumps_item(item) + pack_size(size)`` is :func:`encode` (for code that inlines it)."""
_pack = pack_size = _SIZE.pack
unpack_size = _SIZE.unpack_from
"""``unpack_size(record, -4)[0]`` is :func:`record_size` (for loops that inline it)."""

decode: Callable[[bytes], Item] = marshal.loads
"""The item of a record, freshly built (trailing size bytes are ignored by marshal)."""


def encode(item: Item, size: int) -> bytes:
    """The record of ``item`` whose DynamoDB size is ``size`` (0 <= size < 2**32)."""
    return _dumps(item) + _pack(size)


def record_size(record: bytes) -> int:
    """The item size a record carries."""
    size: int = unpack_size(record, -4)[0]
    return size


class _Reads(threading.local):
    """How the stores decode items for the current thread (see the module docstring)."""

    fresh = False


READS = _Reads()


# What one decoded top-level attribute costs in memory, about (its value dict, name and
# value objects): 1 KB items measured 2.2 KB decoded with 9 attributes, 8.3 KB with 30.
_ATTRIBUTE_COST = 240


def _cost(record: bytes, item: Item) -> int:
    """The bytes a cached item counts for against the budget (an estimate)."""
    return len(record) + _ATTRIBUTE_COST * len(item)


# A full cache keeps one miss in this many (see SharedItems.item).
_ADMIT_ONE_IN = 8


class SharedItems:
    """Decoded items by record (and their JSON texts), bounded by bytes.

    Entries are found by the record's identity (``id``; each entry holds its record,
    so the id cannot be reused while it is cached): no 1 KB hash per lookup.
    :attr:`items` maps ``id(record)`` to ``(record, item, cost, size)`` (``size``: the
    record's item size, unpacked once); the stores read it directly, a hit being one
    dict lookup. The bytes counted estimate what the decoded items and texts take;
    past ``budget`` the oldest entries go (first in, first out), and while it is
    full only one miss in eight is kept (:meth:`item`). A
    fixed budget, whatever the tables' size: about 300 hot 1 KB items of 9
    attributes, or 120 of 30.

    Lookups take no lock (one dict read, atomic); additions and evictions take one.
    """

    budget = 1024 * 1024

    def __init__(self) -> None:
        # id(record) -> (record, item, cost, size), oldest first.
        self.items: OrderedDict[int, tuple[bytes, Item, int, int]] = OrderedDict()
        # id(item) -> its record (an item may be in it without being cached any more:
        # :meth:`record_of` checks; the stores' write test it inline, a miss being the rule)
        self.records: dict[int, bytes] = {}
        self._texts: dict[int, tuple[Item, str]] = {}  # id(item) -> (item, JSON text)
        self._used = 0
        self._refused = 0  # misses not kept since the cache was created
        self._lock = threading.Lock()

    @property
    def used(self) -> int:
        """Bytes counted against the budget now."""
        return self._used

    def __len__(self) -> int:
        return len(self.items)

    def item(self, record: bytes) -> Item:
        """The shared decoded item of ``record`` (decoded now if it is not cached)."""
        entry = self.items.get(id(record))
        if entry is not None and entry[0] is record:
            return entry[1]
        item: Item = decode(record)
        cost = _cost(record, item)
        if self._used + cost > self.budget:
            # Full: keep one miss in _ADMIT_ONE_IN. Reads of more items than the
            # cache holds, over and over (a Query cycling over many partitions),
            # would otherwise evict every item before its next read: kept at
            # random, a part of them stays and hits, and the churn (evictions, the
            # garbage collector's walks) falls by as much.
            self._refused += 1
            if self._refused % _ADMIT_ONE_IN:
                return item
        return self._add(record, item, cost)

    def seed(self, record: bytes, item: Item) -> None:
        """Remember that ``item`` (never to be modified again) is what ``record`` holds."""
        entry = self.items.get(id(record))
        if entry is None or entry[0] is not record:
            self._add(record, item, _cost(record, item))

    def replace(self, old: Item, record: bytes, item: Item) -> None:
        """``item`` (never to be modified again), stored as ``record``, is the new version
        of the shared item ``old``: it takes old's place in the cache if old is there
        (old's record is no longer stored, so its entry could only age out)."""
        old_record = self.record_of(old)
        if old_record is None:
            return
        with self._lock:
            entry = self.items.pop(id(old_record), None)
            if entry is not None:
                self._used -= entry[2]
                if self.records.get(id(old)) is old_record:
                    del self.records[id(old)]
                text = self._texts.get(id(old))
                if text is not None and text[0] is old:
                    del self._texts[id(old)]
                    self._used -= len(text[1])
        self.seed(record, item)

    def record_of(self, item: Item) -> bytes | None:
        """The record of ``item`` if it is a shared item (None otherwise)."""
        record = self.records.get(id(item))
        if record is None:
            return None
        entry = self.items.get(id(record))
        return record if entry is not None and entry[1] is item else None

    def text(self, item: Item, encode_json: Callable[[Item], str]) -> str:
        """The JSON text of ``item``: kept with it if it is a shared item, else just made."""
        kept = self._texts.get(id(item))
        if kept is not None and kept[0] is item:
            return kept[1]
        text = encode_json(item)
        if self.record_of(item) is not None:
            with self._lock:
                if self.record_of(item) is not None:  # still cached: keep the text with it
                    self._texts[id(item)] = (item, text)
                    self._used += len(text)
        return text

    def texts(self, items: list[Item], encode_json: Callable[[object], str]) -> list[str]:
        """The JSON texts of ``items``, to be joined with commas (a JSON array's inside):
        each as :meth:`text` gives it, except that items not shared (a cold page's
        misses, not kept) are encoded together, run by run, in one call of
        ``encode_json`` on a list, whose text is the same as the items' own joined with
        "," (compact separators), at less cost an item. Empty for no items."""
        kept_texts = self._texts
        parts: list[str] = []
        loose: list[Item] = []
        for item in items:
            kept = kept_texts.get(id(item))
            if kept is not None and kept[0] is item:
                if loose:
                    parts.append(encode_json(loose)[1:-1])
                    loose = []
                parts.append(kept[1])
            elif id(item) in self.records and self.record_of(item) is not None:
                if loose:
                    parts.append(encode_json(loose)[1:-1])
                    loose = []
                parts.append(self.text(item, encode_json))  # shared: its text kept
            else:
                loose.append(item)
        if loose:
            parts.append(encode_json(loose)[1:-1])
        return parts

    def clear(self) -> None:
        """Forget every entry."""
        with self._lock:
            self.items = OrderedDict()
            self.records = {}
            self._texts = {}
            self._used = 0

    def _add(self, record: bytes, item: Item, cost: int) -> Item:
        """Cache ``item`` as ``record``'s; returns the item cached for it (another
        thread's, if it came first)."""
        with self._lock:
            items = self.items
            known = items.get(id(record))
            if known is not None and known[0] is record:
                return known[1]
            items[id(record)] = (record, item, cost, unpack_size(record, -4)[0])
            self.records[id(item)] = record
            self._used += cost
            if self._used > self.budget:
                self._evict()
        return item

    def _evict(self) -> None:
        """Drop the oldest entries until the budget holds again (lock held)."""
        items, records, texts = self.items, self.records, self._texts
        budget = self.budget
        used = self._used
        while used > budget and items:
            _, (record, item, cost, _size) = items.popitem(last=False)
            used -= cost
            text = texts.get(id(item))
            if text is not None and text[0] is item:
                del texts[id(item)]
                used -= len(text[1])
            if records.get(id(item)) is record:
                del records[id(item)]
        self._used = used


SHARED = SharedItems()
"""The process's shared decoded items (records are content: any engine may share them)."""
