"""Durable storage for the local engine: SQLite in WAL mode, read through a bounded cache.

:class:`DurableStorage` is a :class:`~.storage.Storage` that survives the process.
SQLite is the source of every item: a store is never loaded whole, its rows are
read when asked for (:mod:`._durable_store`) and the decoded items kept in an LRU
cache bounded in bytes (``cache_bytes``; an eighth of the machine's memory by
default), so a table much larger than memory is served with a bounded resident
set, and one that fits the cache reads from memory.

Design (and why)
    * **SQLite, WAL mode** (standard library, the most tested storage engine there
      is): a commit appends its pages to the ``-wal`` file, a crash at any moment
      leaves the last committed transaction intact (WAL frames are checksummed, a
      torn tail is discarded at the next open), and recovery is SQLite's, not ours.
      The alternative, a hand-written append-only log plus snapshots, would need
      its own framing, checksums, torn-write handling and compaction; SQLite gives
      all of that, and an inspectable file (``sqlite3 data.db``), for free.
    * **One transaction per atomic group.** Writes made inside :meth:`atomic`
      (nestable: only the outermost block commits) are buffered, coalesced per
      key, and written with ``executemany`` in one transaction when the outermost
      block exits; a write outside any block is a group of its own. The engine's
      :func:`._write.commit` wraps each request's changes (one item, a batch, a
      transaction) in one block and returns (acknowledges) only after it exits,
      i.e. after the COMMIT: a crash keeps a whole group or none of it. A group's
      writes are visible to reads at once (the buffer, then the open transaction:
      a range read first writes the buffer into it; so does a group past 4,096 rows,
      which keeps a large group's memory bounded).
    * **One b-tree per purpose, none loaded**: rows keyed ``(store, scan_hash(pk),
      pk, sk)`` serve GetItem, Query and Scan in :mod:`.storage`'s orders (see
      :mod:`._durable_store`); each store's item count and size are columns of its
      catalog row, kept in the group's transaction; the engine keeps secondary
      index entries in stores of their own (``<table>#<index>``, dropped with the
      table), so opening a file reads its catalog and nothing else.
    * **Checked when read**: each row carries a CRC-32 of its key, size and item,
      checked whenever a row is read (SQLite pages carry no checksum: without it a
      flipped bit inside a row would be read silently as a different value), and a
      scanned row's hash must match its key. ``PRAGMA quick_check`` (the structure
      of every page) runs at the open of a file up to 64 MiB, and before migrating
      an old one; a larger file is not read whole at open (reopen time stays
      bounded): damage to its b-tree is reported by the read that meets it.
    * **Items as compact JSON** (portable across Python versions, unlike marshal).
    * **Format versions** (:mod:`._durable_file`): a file of the previous format
      (1, every store loaded at open) is migrated on open, in one transaction.

Durability: process crash vs power loss
    ``synchronous=NORMAL`` (the default, ``sync="normal"``): in WAL mode a COMMIT
    writes its frames to the ``-wal`` file with ``write(2)`` before it returns, but
    does not ``fsync`` it (SQLite syncs at checkpoints). Once ``write(2)`` has
    returned, the data is in the kernel's page cache, which the process does not
    own: SIGKILL, an exception or ``os._exit`` cannot lose it, and the next open
    replays the WAL. So **no acknowledged write is lost when the process dies**.
    What NORMAL does not survive is the *machine* dying (power loss, kernel panic)
    before the kernel flushed the page cache: then the last commits (never more,
    never a half transaction, never a corrupted file) may be lost.
    ``sync="full"`` (``synchronous=FULL``) fsyncs the WAL at every commit, so an
    acknowledged write survives power loss too, at the price measured below.

Measured (``python bench/durable_bench.py``: 2 cores shared with other work, Python
3.11, SQLite 3.40; 1M items of ~1 KB with one GSI projecting ALL; cache 256 MiB):
    ============================================  ==========================
    ``singletable data import --data`` of 1M        ~3,000 items/s, peak RSS
                                                     109 MiB
    file size                                        ~2.2 KB per item (GSI too)
    reopen                                           ~1 ms (the catalog only)
    GetItem / Query / GSI Query, random, p50        ~41 / ~264 / ~375 us
    RSS after 15,000 random reads                    375 MiB (cache included)
    ============================================  ==========================

One process at a time
    The database is opened with ``locking_mode=EXCLUSIVE`` and a write
    transaction at open, so the connection holds SQLite's exclusive lock until
    :meth:`close`. A second engine on the same path, in this process or another,
    gets :class:`DurableStorageError` ("in use") at once instead of two in-memory
    copies silently diverging. (SQLite's own locks, rather than a lock file: they
    are released by the OS when the process dies, so a crash never leaves a stale
    lock behind, and they work on every platform SQLite runs on.) Within one
    process, open files are also tracked by device and inode and a second open is
    refused before anything touches the file: POSIX drops all of a process's locks
    on a file when *any* descriptor of it is closed, so code of this process that
    opens and closes the database file by hand would release SQLite's lock.

Errors
    A file that is not SQLite, an SQLite database of another application, one
    written by a newer format, or a damaged one raises :class:`DurableStorageError`
    naming the path and the problem; nothing is ever reset or overwritten. If a
    commit fails (disk full, I/O error) or an atomic block raises after writing,
    nothing of the group stays: SQLite rolls its transaction back, memory forgets
    what the group wrote (the cache entries of its rows, the cached sort keys of
    partitions; each store's count and size go back to their values before it), and
    every other change the group made in memory is taken back (newest first, from
    the undo entries registered with :meth:`DurableStorage.on_rollback`: catalog
    changes, and whatever the engine changed around them), so reads see exactly the
    state before the group, as they would after a crash and a reopen. The caller
    gets :class:`DurableStorageError`, and the storage stays usable. Only if taking a
    change back fails too does the storage refuse further writes (reads keep
    working) until it is reopened. A row found damaged when read (CRC, a missing
    body, SQLite's own checks) raises :class:`DurableStorageError` too, naming the
    path, the store and the problem.
"""

from __future__ import annotations

import json
import os
import sqlite3
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from typing import Any

from singletable._values import Item
from singletable.backends.local._durable_file import (
    APPLICATION_ID,
    FORMAT_VERSION,
    OPEN_FILES,
    OPEN_LOCK,
    DurableStorageError,
    check_header,
    connect,
    create_schema,
    damaged,
    encode_item,
    encode_json,
    file_id,
    in_use,
    migrate_from_1,
    row_crc,
)
from singletable.backends.local._durable_store import (
    BodyCache,
    CacheKey,
    DurableTableStore,
    item_cost,
)
from singletable.backends.local._sortedlist import DEFAULT_LOAD
from singletable.backends.local.storage import Storage, scan_hash

__all__ = [
    "APPLICATION_ID",
    "FORMAT_VERSION",
    "DurableStorage",
    "DurableStorageError",
    "DurableTableStore",
    "default_cache_bytes",
]

_SYNC_MODES = {"normal": "NORMAL", "full": "FULL"}

_KEY = "store = ? AND h = ? AND pk = ? AND sk = ?"
_BODY_OF_KEY = f"(SELECT body FROM keys WHERE {_KEY})"
_INSERT_BODY = "INSERT INTO bodies (id, item) VALUES (?, ?)"
_INSERT_KEY = "INSERT INTO keys VALUES (?, ?, ?, ?, ?, ?, ?)"
_UPDATE_BODY = f"UPDATE bodies SET item = ? WHERE id = {_BODY_OF_KEY}"
_UPDATE_KEY = f"UPDATE keys SET size = ?, crc = ? WHERE {_KEY}"
_DELETE_BODY = f"DELETE FROM bodies WHERE id = {_BODY_OF_KEY}"
_DELETE_KEY = f"DELETE FROM keys WHERE {_KEY}"
# Pending writes of a group are written into its (open) transaction past this many.
_SPILL_ROWS = 4096
# Files up to this size get SQLite's structural check at open (it reads every page).
_QUICK_CHECK_BYTES = 64 << 20

# A pending row: (item or None to delete, size, item JSON, crc, whether the key is on disk).
_Pending = tuple[Item | None, int, bytes, int, bool]


def default_cache_bytes() -> int:
    """The body cache's default bound: an eighth of the machine's memory (64 MiB to 4 GiB)."""
    try:
        total = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (AttributeError, ValueError, OSError):
        total = 2 << 30
    return max(64 << 20, min(total // 8, 4 << 30))


class DurableStorage(Storage):
    """Table stores in an SQLite database at ``path``, read through a bounded cache.

    Args:
        path: the database file (created if missing).
        sync: ``"normal"`` (survives a process crash; the default) or ``"full"``
            (also survives power loss; an fsync per commit). See the module docstring.
        cache_bytes: bound of the decoded-item cache (estimated bytes of memory);
            None: :func:`default_cache_bytes`. The cached sort keys of small
            partitions take up to an eighth more, SQLite's own page cache an eighth
            (8 to 64 MiB): what the storage holds in memory stays within about 1.3
            times this, whatever the size of the file.
        load: accepted for compatibility with :class:`~.storage.MemoryStorage`
            (the chunk size of its sorted lists); unused.

    Raises:
        DurableStorageError: the file is not ours, is damaged, is newer than this
            code, or is open elsewhere.
    """

    keeps_indexes = True
    """The engine keeps secondary index entries in stores of this storage (named
    ``<table>#<index>``) instead of rebuilding them from the items at every open."""

    def __init__(
        self,
        path: str | os.PathLike[str],
        *,
        sync: str = "normal",
        load: int = DEFAULT_LOAD,
        cache_bytes: int | None = None,
    ) -> None:
        if sync not in _SYNC_MODES:
            raise ValueError(f"sync must be 'normal' or 'full', not {sync!r}")
        if cache_bytes is not None and cache_bytes < 0:
            raise ValueError(f"cache_bytes must be at least 0, not {cache_bytes}")
        self.path = os.fspath(path)
        self._lock = threading.RLock()
        capacity = default_cache_bytes() if cache_bytes is None else cache_bytes
        self._cache: BodyCache[Item] = BodyCache(capacity)
        # The sorted sort keys of small partitions, by (store id, pk, b""): an eighth more.
        self._parts: BodyCache[list[bytes]] = BodyCache(capacity // 8)
        # SQLite's own page cache (the keys b-tree's pages above all): an eighth of ours,
        # 8 to 64 MiB.
        self._sqlite_cache = max(8 << 20, min(self._cache.capacity // 8, 64 << 20))
        self._next_body = 1  # the id of the next new body row
        self._tables: dict[str, DurableTableStore] = {}
        self._meta: dict[str, dict[str, Any]] = {}
        self._ids: dict[str, int] = {}
        self._stats: dict[str, tuple[int, int]] = {}  # (items, bytes) of stores not yet used
        self._next_id = 1
        self._depth = 0
        self._pending: dict[CacheKey, _Pending] = {}
        # Keys known absent (see _durable_store.MAX_MISSES): a write of one removes it.
        self._misses: dict[CacheKey, None] = {}
        # The current group: the (items, bytes) its stores had before it, how to take
        # back what changed in memory around it (newest last), whether rows were
        # written into its transaction before the end.
        self._touched: dict[int, tuple[DurableTableStore, int, int]] = {}
        self._undo: list[Callable[[], None]] = []
        self._spilled = False
        self._undoing = False
        self._in_transaction = False
        self._dirty = False  # this group changed something
        self._broken: str | None = None
        self._closed = False
        self._last_encoded: tuple[Item | None, bytes] = (None, b"")
        with OPEN_LOCK:
            # Checked before anything reads the file: closing any descriptor of a file
            # drops the POSIX locks this process holds on it, SQLite's included.
            if file_id(self.path) in OPEN_FILES:
                raise in_use(self.path)
            check_header(self.path)
            self._conn, identity = connect(self.path)
            try:
                self._open(identity, _SYNC_MODES[sync])
                opened = file_id(self.path)
                assert opened is not None
                self._file_id = opened
            except BaseException:
                self._conn.close()
                raise
            OPEN_FILES.add(self._file_id)

    @property
    def cache(self) -> BodyCache[Item]:
        """The decoded-item cache (its ``capacity`` may be changed at any time)."""
        return self._cache

    # ----------------------------------------------------------------- opening

    def _open(self, identity: tuple[int, int, int], synchronous: str) -> None:
        """Check that the file is ours (before changing anything), then set up."""
        app_id, version, objects = identity
        fresh = app_id == 0 and version == 0 and objects == 0
        if not fresh and app_id != APPLICATION_ID:
            raise DurableStorageError(
                self.path, "not a singletable database (an SQLite database of another application)"
            )
        if version > FORMAT_VERSION:
            raise DurableStorageError(
                self.path,
                f"written in format {version} by a newer singletable; this version reads "
                f"formats up to {FORMAT_VERSION}",
            )
        if not fresh and version < 1:
            raise DurableStorageError(self.path, f"unknown format version {version}")
        conn = self._conn
        try:
            mode = conn.execute("PRAGMA journal_mode=WAL").fetchone()[0]
            if mode != "wal":
                raise DurableStorageError(self.path, f"cannot use WAL mode (got {mode})")
            conn.execute(f"PRAGMA synchronous={synchronous}")
            # Pages SQLite keeps itself (the b-tree's inner pages: every lookup's path).
            conn.execute(f"PRAGMA cache_size=-{self._sqlite_cache // 1024}")
            # Checkpoint (copy the WAL into the file, with an fsync) every 40 MB of WAL
            # rather than every 4 MB: a bulk import runs several times faster.
            conn.execute("PRAGMA wal_autocheckpoint=10000")
            if fresh:
                create_schema(conn)
                return
            # SQLite's structural check of every page (~0.02 s per 100k items): damage to
            # the b-tree could otherwise make whole ranges of rows silently unreachable.
            # It reads the whole file, so a large file is not checked at open (reopen
            # time stays bounded); damage is still found by the reads that meet it.
            if version < FORMAT_VERSION or os.path.getsize(self.path) <= _QUICK_CHECK_BYTES:
                problems = conn.execute("PRAGMA quick_check").fetchall()
                if problems != [("ok",)]:
                    raise damaged(self.path, "; ".join(str(row[0]) for row in problems[:3]))
            if version == 1:
                migrate_from_1(conn)
            self._read_catalog()
        except sqlite3.DatabaseError as error:
            raise damaged(self.path, error) from None

    def _last_body(self) -> int:
        """The largest body id in the file (0 if none): one step down the b-tree."""
        return int(self._conn.execute("SELECT coalesce(max(id), 0) FROM bodies").fetchone()[0])

    def _read_catalog(self) -> None:
        """Read the stores' names, metadata, counts and sizes (never their items)."""
        self._next_body = self._last_body() + 1
        stores = self._conn.execute(
            "SELECT id, name, meta, items, bytes FROM stores ORDER BY id"
        ).fetchall()
        for store_id, name, meta_text, count, size in stores:
            try:
                meta = json.loads(meta_text)
            except ValueError:
                raise damaged(self.path, f"the metadata of store {name!r} is damaged") from None
            self._meta[name] = meta
            self._ids[name] = store_id
            self._stats[name] = (count, size)
            self._next_id = max(self._next_id, store_id + 1)

    # ----------------------------------------------------------------- reading rows

    def _rows(self, sql: str, parameters: tuple[Any, ...], *, one: bool = False) -> Any:
        """The rows of a read (the first, or None, if ``one``), seeing the current
        group's writes; SQLite's errors reported as damage."""
        self._check_open()
        try:
            if self._pending and not one:  # a point read looks at the pending rows first
                self._flush_items()
            cursor = self._conn.execute(sql, parameters)
            return cursor.fetchone() if one else cursor.fetchall()
        except sqlite3.DatabaseError as error:
            raise damaged(self.path, error) from None

    def _damaged(self, store_id: int, problem: str) -> DurableStorageError:
        """The error of damage to a row of store ``store_id`` (``problem`` has ``{}`` for
        the store's name)."""
        name = next((n for n, i in self._ids.items() if i == store_id), f"#{store_id}")
        return damaged(self.path, problem.format(repr(name)))

    # ----------------------------------------------------------------- groups

    @contextmanager
    def atomic(self) -> Iterator[None]:
        """Group the writes of the block into one SQLite transaction (outermost commits)."""
        with self._lock:
            if self._depth == 0:
                self._check_writable()
            self._depth += 1
            try:
                yield
            except BaseException:
                self._depth -= 1
                if self._depth == 0:
                    self._abort("a write group failed half-way")
                raise
            self._depth -= 1
            if self._depth == 0:
                self._commit()

    can_fail_commit = True

    def on_rollback(self, undo: Callable[[], None]) -> None:
        """Have ``undo`` run if the current group fails (see :meth:`Storage.on_rollback`)."""
        if self._depth:
            self._undo.append(undo)

    def _check_writable(self) -> None:
        if self._closed:
            raise DurableStorageError(self.path, "the storage is closed")
        if self._broken is not None:
            raise DurableStorageError(
                self.path, f"writes are refused since {self._broken}; reopen the database"
            )

    def _touch(self, store: DurableTableStore) -> None:
        """Note the count and size ``store`` had before the current group changed it."""
        if store._id not in self._touched:
            self._touched[store._id] = (store, store._count, store._size)

    def _record(
        self,
        store: DurableTableStore,
        pk: bytes,
        sk: bytes,
        item: Item | None,
        size: int,
        existed: bool,
    ) -> None:
        """Note one item write of the current group (the caller is inside :meth:`atomic`);
        ``existed``: whether the key held an item before."""
        self._dirty = True
        key = (store._id, pk, sk)
        self._misses.pop(key, None)
        prior = self._pending.get(key)
        on_disk = existed if prior is None else prior[4]
        if item is None:
            self._cache.discard(key)
            if on_disk:
                self._pending[key] = (None, 0, b"", 0, True)
            else:  # written earlier in this group only: nothing to delete on disk
                del self._pending[key]
        else:
            last_item, blob = self._last_encoded
            if last_item is not item:  # an ALL index entry is its table's item: encoded once
                blob = encode_item(item)
                self._last_encoded = (item, blob)
            self._pending[key] = (item, size, blob, row_crc(pk, sk, size, blob), on_disk)
            # A cached item is replaced; a new one is cached when first read, so that a
            # bulk import does not fill the cache with items nobody has asked for.
            if self._cache.peek(key) is not None:
                self._cache.put(key, item, size, item_cost(blob))
        if len(self._pending) >= _SPILL_ROWS:
            self._flush_items()

    def _execute(self, sql: str, parameters: tuple[Any, ...] = ()) -> None:
        """Run a catalog statement in the current group's transaction, after its item writes."""
        self._flush_items()
        self._conn.execute(sql, parameters)

    def _flush_items(self) -> None:
        if not self._in_transaction:
            self._conn.execute("BEGIN")
            self._in_transaction = True
        if not self._pending:
            return
        self._spilled = True
        deletes = []
        updates = []
        update_keys = []
        bodies = []
        inserts = []
        for (store_id, pk, sk), (item, size, blob, crc, on_disk) in self._pending.items():
            key = (store_id, scan_hash(pk), pk, sk)
            if item is None:
                deletes.append(key)
            elif on_disk:
                updates.append((blob, *key))
                update_keys.append((size, crc, *key))
            else:
                body = self._next_body
                self._next_body += 1
                bodies.append((body, blob))
                inserts.append((*key, size, crc, body))
        self._pending.clear()
        run = self._conn.executemany
        if deletes:
            run(_DELETE_BODY, deletes)
            run(_DELETE_KEY, deletes)
        if updates:
            run(_UPDATE_BODY, updates)
            run(_UPDATE_KEY, update_keys)
        if inserts:
            run(_INSERT_BODY, bodies)
            run(_INSERT_KEY, inserts)

    def _commit(self) -> None:
        if not self._dirty and not self._in_transaction:
            self._end_group()
            return
        try:
            self._flush_items()
            if self._touched:
                self._conn.executemany(
                    "UPDATE stores SET items = ?, bytes = ? WHERE id = ?",
                    [(s._count, s._size, s._id) for s, _, _ in self._touched.values()],
                )
            self._conn.execute("COMMIT")
        except sqlite3.Error as error:
            self._abort(f"a commit failed ({error})")
            raise DurableStorageError(self.path, f"commit failed: {error}") from None
        self._in_transaction = False
        self._end_group()

    def _end_group(self) -> None:
        self._undo.clear()
        self._touched.clear()
        self._spilled = False
        self._dirty = False
        self._last_encoded = (None, b"")

    def _abort(self, reason: str) -> None:
        """Roll the open transaction back, on disk and in memory (see the module docstring).

        If a change cannot be taken back, memory no longer matches the disk: writes
        are refused from then on (``reason`` says why) until the database is reopened.
        """
        written = list(self._pending)
        self._pending.clear()
        if self._in_transaction:
            with suppress(sqlite3.Error):
                self._conn.execute("ROLLBACK")
            self._in_transaction = False
        with suppress(sqlite3.Error):
            self._next_body = self._last_body() + 1
        # The cache holds the group's writes: forget them (the disk has the old rows).
        if self._spilled:
            self._cache.clear()
        else:
            for key in written:
                self._cache.discard(key)
        self._misses.clear()  # some may be of rows the rollback brought back
        self._parts.clear()
        for store, count, size in self._touched.values():
            store._count, store._size = count, size
            store._recent = {}  # sizes a Scan read inside the group
        undo, self._undo = self._undo, []
        self._undoing = True
        try:
            for entry in reversed(undo):
                entry()
        except Exception as error:  # memory is now neither before nor after the group
            self._broken = f"{reason}, and undoing it in memory failed ({error!r})"
        finally:
            self._undoing = False
        self._end_group()

    # ----------------------------------------------------------------- catalog

    def create_table(self, name: str, meta: dict[str, Any] | None = None) -> DurableTableStore:
        """Create an empty store ``name``; ValueError if it exists."""
        with self.atomic():
            if name in self._ids:
                raise ValueError(f"table store {name!r} already exists")
            meta = {} if meta is None else meta
            store_id = self._new_store(name, meta, 0, 0)
            store = DurableTableStore(self, store_id, 0, 0)
            self._tables[name] = store
        return store

    def _new_store(self, name: str, meta: dict[str, Any], count: int, size: int) -> int:
        """Insert the catalog row of a new store (in the current group); returns its id."""
        store_id = self._next_id
        self._execute(
            "INSERT INTO stores (id, name, meta, items, bytes) VALUES (?, ?, ?, ?, ?)",
            (store_id, name, encode_json(meta), count, size),
        )
        self._dirty = True
        self._next_id += 1
        self._meta[name] = meta
        self._ids[name] = store_id
        self._stats[name] = (count, size)
        self._undo.append(lambda: self._forget(name, store_id))
        return store_id

    def _forget(self, name: str, store_id: int) -> None:
        """Undo the creation of store ``name`` in memory."""
        self._tables.pop(name, None)
        self._meta.pop(name, None)
        self._ids.pop(name, None)
        self._stats.pop(name, None)
        self._next_id = min(self._next_id, store_id)

    def drop_table(self, name: str) -> None:
        """Delete store ``name`` and its items; KeyError if there is none.

        The stores of its secondary indexes (``name#<index>``) go with it.
        """
        with self.atomic():
            if name not in self._ids:
                raise KeyError(name)
            children = [other for other in self._ids if other.startswith(name + "#")]
            for store_name in (*children, name):
                self._drop(store_name)

    def _drop(self, name: str) -> None:
        store_id = self._ids[name]
        self._execute(
            "DELETE FROM bodies WHERE id IN (SELECT body FROM keys WHERE store = ?)", (store_id,)
        )
        self._execute("DELETE FROM keys WHERE store = ?", (store_id,))
        self._execute("DELETE FROM stores WHERE id = ?", (store_id,))
        self._dirty = True
        for key in [key for key in self._pending if key[0] == store_id]:
            del self._pending[key]  # the same dict: each store holds it
        self._cache.discard_store(store_id)
        self._parts.discard_store(store_id)
        self._misses.clear()
        store = self._tables.pop(name, None)
        meta = self._meta.pop(name)
        stats = self._stats.pop(name, (0, 0))
        del self._ids[name]
        self._undo.append(lambda: self._unforget(name, store_id, meta, store, stats))

    def _unforget(
        self,
        name: str,
        store_id: int,
        meta: dict[str, Any],
        store: DurableTableStore | None,
        stats: tuple[int, int],
    ) -> None:
        """Undo the drop of store ``name`` in memory."""
        self._ids[name] = store_id
        self._meta[name] = meta
        self._stats[name] = stats
        if store is not None:
            self._tables[name] = store

    def table(self, name: str) -> DurableTableStore:
        """The store ``name``; KeyError if there is none. Reads none of its items."""
        store = self._tables.get(name)
        if store is not None:
            return store
        with self._lock:
            if name not in self._ids:
                raise KeyError(name)
            self._check_open()
            store = self._tables.get(name)
            if store is None:
                count, size = self._stats[name]
                store = DurableTableStore(self, self._ids[name], count, size)
                self._tables[name] = store
            return store

    def is_loaded(self, name: str) -> bool:
        """Whether store ``name`` has been used (:meth:`table`) since the file was opened."""
        return name in self._tables

    def copy_store(self, source: str, target: str, meta: dict[str, Any]) -> None:
        """Create store ``target`` holding a copy of ``source``'s items, in SQLite only.

        The copy is made by one ``INSERT ... SELECT`` in the current group (no item
        passes through Python); its count and size are the source's.
        """
        with self.atomic():
            if target in self._ids:
                raise ValueError(f"table store {target!r} already exists")
            source_id = self._ids[source]
            used = self._tables.get(source)
            count, size = (used._count, used._size) if used is not None else self._stats[source]
            store_id = self._new_store(target, meta, count, size)
            # New bodies numbered after the last one, in the order of the source's
            # bodies; each copied key takes the number its body got.
            base = self._next_body - 1
            self._execute(
                "INSERT INTO bodies (id, item) SELECT ? + row_number() OVER (ORDER BY k.body),"
                " b.item FROM keys AS k JOIN bodies AS b ON b.id = k.body WHERE k.store = ?",
                (base, source_id),
            )
            self._execute(
                "INSERT INTO keys SELECT ?, h, pk, sk, size, crc,"
                " ? + row_number() OVER (ORDER BY body) FROM keys WHERE store = ?",
                (store_id, base, source_id),
            )
            self._next_body = self._last_body() + 1

    def table_names(self) -> list[str]:
        """Names of all stores, sorted."""
        return sorted(self._ids)

    def __contains__(self, name: object) -> bool:
        return name in self._ids

    def get_meta(self, name: str) -> dict[str, Any]:
        """The metadata kept with store ``name``."""
        return self._meta[name]

    def set_meta(self, name: str, meta: dict[str, Any]) -> None:
        """Replace (and persist) the metadata of store ``name``; KeyError if there is none."""
        with self.atomic():
            store_id = self._ids[name]
            self._execute("UPDATE stores SET meta = ? WHERE id = ?", (encode_json(meta), store_id))
            self._dirty = True
            previous = self._meta[name]
            self._meta[name] = meta
            self._undo.append(lambda: self._meta.__setitem__(name, previous))

    # ----------------------------------------------------------------- extras

    def put_extra(self, kind: str, name: str, value: bytes | None) -> None:
        """Store (or with None delete) a named blob of another module, in the current group."""
        with self.atomic():
            if value is None:
                self._execute("DELETE FROM extras WHERE kind = ? AND name = ?", (kind, name))
            else:
                self._execute("INSERT OR REPLACE INTO extras VALUES (?, ?, ?)", (kind, name, value))
            self._dirty = True

    def extras(self, kind: str) -> dict[str, bytes]:
        """All blobs of ``kind`` stored by :meth:`put_extra`, by name."""
        with self._lock:
            self._check_open()
            try:
                rows = self._conn.execute(
                    "SELECT name, value FROM extras WHERE kind = ?", (kind,)
                ).fetchall()
            except sqlite3.DatabaseError as error:
                raise damaged(self.path, error) from None
            return {name: bytes(value) for name, value in rows}

    def _check_open(self) -> None:
        if self._closed:
            raise DurableStorageError(self.path, "the storage is closed")

    # ----------------------------------------------------------------- closing

    def close(self) -> None:
        """Release the database (everything acknowledged is already committed). Idempotent."""
        with self._lock:
            if self._closed:
                return
            if self._depth:
                raise RuntimeError("close() inside an atomic() block")
            self._closed = True
            self._conn.close()
            self._cache.clear()
            self._parts.clear()
            with OPEN_LOCK:
                OPEN_FILES.discard(self._file_id)
