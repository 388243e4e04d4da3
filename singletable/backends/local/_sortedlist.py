"""A small sorted set of ``bytes`` keys: a chunked sorted list.

This is the idea behind the ``sortedcontainers`` package, cut down to what the
storage layer needs (we do not take it on as a dependency):

* the keys live in a list of sorted *chunks* (plain Python lists), each holding
  at most ``2 * load`` keys, and the chunks are in order: every key of chunk
  ``i`` is smaller than every key of chunk ``i + 1``;
* ``_maxes[i]`` is the largest key of chunk ``i``, so finding a key is two
  C-level bisections: one over ``_maxes`` to pick the chunk, one inside it.

Search is O(log n). Insert and delete are O(log n) comparisons plus a memmove
of one chunk (at most ``2 * load`` pointers) and, when a chunk splits or
merges, of the ``_maxes`` list (n / load pointers): no Python-level loop grows
with n. Iteration walks chunk by chunk from a bisect position, forward or
backward.

Iterators notice when the list changed under them (a version counter) and
find their place again by bisecting for the last key they yielded, so a write
between two steps neither skips nor repeats a key. Callers normally do not
rely on that (the engine holds its lock for a whole request), but it keeps
a lazy iterator from ever raising or misbehaving.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Iterable, Iterator

__all__ = ["SortedKeyList"]

# Default chunk size. Chunks split above 2 * load keys and merge with a
# neighbour below load / 2, as in sortedcontainers (whose benchmarks found
# 1000 a good default for lists of up to ~10M items).
DEFAULT_LOAD = 1000

# A position in the list: (chunk index, index inside the chunk). The end of
# the list is (len(_lists), 0); "before the start" is (-1, 0).
_Pos = tuple[int, int]


class SortedKeyList:
    """A sorted set of ``bytes`` keys with bisect-based range iteration."""

    __slots__ = ("_len", "_lists", "_load", "_maxes", "_version")

    def __init__(self, keys: Iterable[bytes] = (), *, load: int = DEFAULT_LOAD) -> None:
        if load < 2:
            raise ValueError("load must be at least 2")
        self._load = load
        self._lists: list[list[bytes]] = []
        self._maxes: list[bytes] = []
        self._len = 0
        # Bumped on every change; iterators compare it to find out whether
        # their (chunk, index) position is still valid.
        self._version = 0
        initial = sorted(set(keys))
        for start in range(0, len(initial), load):
            chunk = initial[start : start + load]
            self._lists.append(chunk)
            self._maxes.append(chunk[-1])
        self._len = len(initial)

    @classmethod
    def of_pair(cls, first: bytes, second: bytes, load: int = DEFAULT_LOAD) -> SortedKeyList:
        """The list of two distinct keys (a partition's second item: its order is made)."""
        keys = SortedKeyList.__new__(SortedKeyList)
        keys._load = load
        chunk = [first, second] if first < second else [second, first]
        keys._lists = [chunk]
        keys._maxes = [chunk[1]]
        keys._len = 2
        keys._version = 0
        return keys

    def copy(self) -> SortedKeyList:
        """An independent copy: the chunk lists are copied, the (immutable) keys shared."""
        twin = SortedKeyList.__new__(SortedKeyList)
        twin._load = self._load
        twin._lists = [chunk.copy() for chunk in self._lists]
        twin._maxes = self._maxes.copy()
        twin._len = self._len
        twin._version = 0
        return twin

    # -- size and membership -------------------------------------------------

    def __len__(self) -> int:
        return self._len

    def __bool__(self) -> bool:
        return self._len > 0

    def __contains__(self, key: object) -> bool:
        if not isinstance(key, bytes):
            return False
        maxes = self._maxes
        i = bisect_left(maxes, key)
        if i == len(maxes):
            return False
        chunk = self._lists[i]
        j = bisect_left(chunk, key)
        return chunk[j] == key  # j < len(chunk) because key <= maxes[i]

    def __repr__(self) -> str:
        return f"SortedKeyList({list(self)!r})"

    # -- changes ---------------------------------------------------------------

    def add(self, key: bytes) -> bool:
        """Insert ``key``; return False (and change nothing) if it was present."""
        maxes = self._maxes
        if not maxes:
            self._lists.append([key])
            maxes.append(key)
        else:
            i = bisect_left(maxes, key)
            if i == len(maxes):
                # Larger than every key: append to the last chunk.
                i -= 1
                chunk = self._lists[i]
                chunk.append(key)
                maxes[i] = key
            else:
                chunk = self._lists[i]
                j = bisect_left(chunk, key)
                if chunk[j] == key:
                    return False
                chunk.insert(j, key)
            if len(chunk) > 2 * self._load:
                self._split(i)
        self._len += 1
        self._version += 1
        return True

    def discard(self, key: bytes) -> bool:
        """Remove ``key``; return False if it was not present."""
        maxes = self._maxes
        i = bisect_left(maxes, key)
        if i == len(maxes):
            return False
        chunk = self._lists[i]
        j = bisect_left(chunk, key)
        if chunk[j] != key:
            return False
        del chunk[j]
        if not chunk:
            del self._lists[i]
            del maxes[i]
        else:
            if j == len(chunk):
                maxes[i] = chunk[-1]
            if len(chunk) < self._load // 2 and len(self._lists) > 1:
                self._merge(i)
        self._len -= 1
        self._version += 1
        return True

    def clear(self) -> None:
        """Remove every key."""
        self._lists.clear()
        self._maxes.clear()
        self._len = 0
        self._version += 1

    def _split(self, i: int) -> None:
        """Split the over-full chunk ``i`` into two halves."""
        chunk = self._lists[i]
        half = len(chunk) // 2
        left, right = chunk[:half], chunk[half:]
        self._lists[i : i + 1] = [left, right]
        self._maxes[i : i + 1] = [left[-1], right[-1]]

    def _merge(self, i: int) -> None:
        """Merge the under-full chunk ``i`` with a neighbour (re-split if too big)."""
        if i == len(self._lists) - 1:
            i -= 1  # the last chunk merges into its left neighbour
        merged = self._lists[i] + self._lists[i + 1]
        self._lists[i : i + 2] = [merged]
        self._maxes[i : i + 2] = [merged[-1]]
        if len(merged) > 2 * self._load:
            self._split(i)

    # -- positions ------------------------------------------------------------

    def _first_at_or_after(self, key: bytes, *, inclusive: bool) -> _Pos:
        """Position of the first key ``>= key`` (``> key`` if not inclusive)."""
        bisect = bisect_left if inclusive else bisect_right
        i = bisect(self._maxes, key)
        if i == len(self._maxes):
            return (i, 0)
        return (i, bisect(self._lists[i], key))

    def _last_at_or_before(self, key: bytes, *, inclusive: bool) -> _Pos:
        """Position of the last key ``<= key`` (``< key`` if not inclusive)."""
        i, j = self._first_at_or_after(key, inclusive=not inclusive)
        return self._step_back(i, j)

    def _step_back(self, i: int, j: int) -> _Pos:
        """The position just before ``(i, j)`` (``(-1, 0)`` before the start)."""
        if j > 0:
            return (i, j - 1)
        if i == 0:
            return (-1, 0)
        return (i - 1, len(self._lists[i - 1]) - 1)

    # -- iteration ------------------------------------------------------------

    def __iter__(self) -> Iterator[bytes]:
        return self.irange()

    def __reversed__(self) -> Iterator[bytes]:
        return self.irange(reverse=True)

    def irange(
        self,
        lo: bytes | None = None,
        hi: bytes | None = None,
        *,
        lo_inclusive: bool = True,
        hi_inclusive: bool = True,
        reverse: bool = False,
    ) -> Iterator[bytes]:
        """Iterate the keys between ``lo`` and ``hi`` (None: unbounded), in order.

        With ``reverse=True`` the keys come largest first. The bounds are
        inclusive unless ``lo_inclusive``/``hi_inclusive`` say otherwise.
        """
        if reverse:
            return self._iter_backward(lo, hi, lo_inclusive, hi_inclusive)
        return self._iter_forward(lo, hi, lo_inclusive, hi_inclusive)

    def _iter_forward(
        self, lo: bytes | None, hi: bytes | None, lo_inclusive: bool, hi_inclusive: bool
    ) -> Iterator[bytes]:
        lists = self._lists
        i, j = (0, 0) if lo is None else self._first_at_or_after(lo, inclusive=lo_inclusive)
        version = self._version
        while i < len(lists):
            chunk = lists[i]
            while j < len(chunk):
                key = chunk[j]
                if hi is not None and (key > hi or (key == hi and not hi_inclusive)):
                    return
                yield key
                if self._version != version:
                    # The list changed while we were suspended: find our place
                    # again, just after the key we last gave out.
                    version = self._version
                    i, j = self._first_at_or_after(key, inclusive=False)
                    break
                j += 1
            else:
                i, j = i + 1, 0

    def _iter_backward(
        self, lo: bytes | None, hi: bytes | None, lo_inclusive: bool, hi_inclusive: bool
    ) -> Iterator[bytes]:
        lists = self._lists
        if hi is None:
            i = len(lists) - 1
            j = len(lists[i]) - 1 if lists else 0
        else:
            i, j = self._last_at_or_before(hi, inclusive=hi_inclusive)
        version = self._version
        while i >= 0:
            chunk = lists[i]
            while j >= 0:
                key = chunk[j]
                if lo is not None and (key < lo or (key == lo and not lo_inclusive)):
                    return
                yield key
                if self._version != version:
                    version = self._version
                    i, j = self._last_at_or_before(key, inclusive=False)
                    break
                j -= 1
            else:
                i -= 1
                if i >= 0:
                    j = len(lists[i]) - 1
