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

* **fresh** (:meth:`LocalEngine.call` of GetItem, Query and Scan with its default
  copy): every item is decoded anew, so the caller owns it and the engine skips
  its copy;
* **shared** (everything else: ``call(copy=False)``, ``call_json``, the engine's
  own reads on its write path): items come from :data:`SHARED`, a small cache of
  decoded items by record, and must be treated as read-only, exactly as the stored
  dicts themselves had to be before. Hot items are then decoded once, and
  ``call_json`` keeps their JSON text there too (see :mod:`._encoding`).
"""

from __future__ import annotations

import marshal
import struct
import threading
from collections.abc import Callable
from itertools import islice

from singletable._values import Item

__all__ = ["READS", "SHARED", "SharedItems", "decode", "encode", "record_size"]

_SIZE = struct.Struct("<I")
_dumps = marshal.dumps
_pack = _SIZE.pack
_unpack_from = _SIZE.unpack_from

decode: Callable[[bytes], Item] = marshal.loads
"""The item of a record, freshly built (trailing size bytes are ignored by marshal)."""


def encode(item: Item, size: int) -> bytes:
    """The record of ``item`` whose DynamoDB size is ``size`` (0 <= size < 2**32)."""
    return _dumps(item) + _pack(size)


def record_size(record: bytes) -> int:
    """The item size a record carries."""
    return int(_unpack_from(record, len(record) - 4)[0])


class _Reads(threading.local):
    """How the stores decode items for the current thread (see the module docstring)."""

    fresh = False


READS = _Reads()


# What one decoded top-level attribute costs in memory, about (its value dict, name and
# value objects): 1 KB items measured 2.2 KB decoded with 9 attributes, 8.3 KB with 30.
_ATTRIBUTE_COST = 240


class _Entry:
    __slots__ = ("cost", "item", "record", "text")

    def __init__(self, record: bytes, item: Item) -> None:
        self.record = record
        self.item = item
        self.text: str | None = None
        self.cost = len(record) + _ATTRIBUTE_COST * len(item)


class SharedItems:
    """Decoded items by record (and their JSON texts), bounded by bytes.

    Entries are found by the record's identity (``id``, the entry holding the record
    so that the id cannot be reused while it is cached): no 1 KB hash per lookup.
    The bytes counted estimate what the decoded items and texts take; past ``budget``
    the oldest entries go (first in, first out) until half of it is used. A fixed
    budget, whatever the tables' size: about 300 hot 1 KB items of 9 attributes, or
    120 of 30. Lookups take no lock (one dict read); changes take one, as any thread
    may read.
    """

    budget = 1024 * 1024

    def __init__(self) -> None:
        self._by_record: dict[int, _Entry] = {}
        self._by_item: dict[int, _Entry] = {}
        self._used = 0
        self._lock = threading.Lock()

    @property
    def used(self) -> int:
        """Bytes counted against the budget now."""
        return self._used

    def __len__(self) -> int:
        return len(self._by_record)

    def item(self, record: bytes) -> Item:
        """The shared decoded item of ``record`` (decoded now if it is not cached)."""
        entry = self._by_record.get(id(record))
        if entry is not None and entry.record is record:
            return entry.item
        item: Item = decode(record)
        self._add(record, item)
        return item

    def seed(self, record: bytes, item: Item) -> None:
        """Remember that ``item`` (never to be modified again) is what ``record`` holds."""
        entry = self._by_record.get(id(record))
        if entry is None or entry.record is not record:
            self._add(record, item)

    def text(self, item: Item, encode_json: Callable[[Item], str]) -> str:
        """The JSON text of ``item``: kept with it if it is a shared item, else just made."""
        entry = self._by_item.get(id(item))
        if entry is None or entry.item is not item:
            return encode_json(item)
        text = entry.text
        if text is None:
            text = encode_json(item)
            with self._lock:
                if entry.text is None and self._by_record.get(id(entry.record)) is entry:
                    entry.text = text
                    self._used += len(text)
        return text

    def copy_of(self, item: Item, copy: Callable[[Item], Item]) -> Item:
        """An independent copy of ``item``: decoded anew from its record if it is a
        shared item (faster than copying it), else ``copy(item)``."""
        entry = self._by_item.get(id(item))
        if entry is not None and entry.item is item:
            return decode(entry.record)
        return copy(item)

    def clear(self) -> None:
        """Forget every entry."""
        with self._lock:
            self._by_item.clear()
            self._by_record.clear()
            self._used = 0

    def _add(self, record: bytes, item: Item) -> None:
        entry = _Entry(record, item)
        with self._lock:
            known = self._by_record.get(id(record))
            if known is not None and known.record is record:
                return  # another thread added it meanwhile
            self._by_record[id(record)] = entry
            self._by_item[id(item)] = entry
            self._used += entry.cost
            if self._used > self.budget:
                self._evict()

    def _evict(self) -> None:
        """Drop the oldest entries until half the budget is used (lock held)."""
        by_record, by_item = self._by_record, self._by_item
        target = self.budget // 2
        for key in list(islice(by_record, (len(by_record) + 1) // 2 + 1)):
            entry = by_record.pop(key)
            if by_item.get(id(entry.item)) is entry:
                del by_item[id(entry.item)]
            self._used -= entry.cost + (len(entry.text) if entry.text else 0)
            if self._used <= target:
                break


SHARED = SharedItems()
"""The process's shared decoded items (records are content: any engine may share them)."""
