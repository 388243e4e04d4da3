"""The file of a :class:`~.durable.DurableStorage`: format, versions, opening, locks.

The format is an SQLite database marked as ours (``PRAGMA application_id``) with
its version in ``PRAGMA user_version``:

1. ``items`` keyed ``(store, pk, sk)``; every store was loaded into memory at open.
2. ``keys`` keyed ``(store, h, pk, sk)`` with ``h = scan_hash(pk)`` (the scan order
   of :mod:`.storage`, so no store needs loading), each row naming its item in
   ``bodies`` (by rowid); ``stores`` gains each store's item count and size
   (``items``, ``bytes``), kept in every group's transaction; the engine keeps index
   entries in stores of their own (``<table>#<index>``).

A format-1 file is **migrated on open** (:func:`migrate_from_1`): one transaction,
so a crash during it leaves the file as it was. A file of a newer format is refused.
"""

from __future__ import annotations

import json
import os
import sqlite3
import threading
import zlib
from contextlib import suppress

from singletable._values import Item
from singletable.backends.local.storage import scan_hash

__all__ = [
    "APPLICATION_ID",
    "FORMAT_VERSION",
    "DurableStorageError",
    "check_header",
    "connect",
    "create_schema",
    "damaged",
    "encode_item",
    "migrate_from_1",
    "row_crc",
]

# PRAGMA application_id of our files: "STDB" (singletable database), big-endian.
APPLICATION_ID = 0x53544442
# PRAGMA user_version: the on-disk format this code writes (and the newest it reads).
FORMAT_VERSION = 2

_SQLITE_MAGIC = b"SQLite format 3\x00"

SCHEMA = (
    "CREATE TABLE stores (id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE, meta TEXT NOT NULL,"
    " items INTEGER NOT NULL DEFAULT 0, bytes INTEGER NOT NULL DEFAULT 0)",
    # The keys of every store in scan order, each naming its body. Small rows: the
    # b-tree that every read searches stays small enough for SQLite's page cache.
    "CREATE TABLE keys (store INTEGER NOT NULL, h BLOB NOT NULL, pk BLOB NOT NULL,"
    " sk BLOB NOT NULL, size INTEGER NOT NULL, crc INTEGER NOT NULL, body INTEGER NOT NULL,"
    " PRIMARY KEY (store, h, pk, sk)) WITHOUT ROWID",
    # The items (compact JSON), by rowid: new bodies are appended at the end of the
    # b-tree, so a write dirties few pages whatever the order of the keys it writes.
    "CREATE TABLE bodies (id INTEGER PRIMARY KEY, item BLOB NOT NULL)",
    # Named blobs of other modules (backups, history), kept with the catalog.
    "CREATE TABLE extras (kind TEXT NOT NULL, name TEXT NOT NULL, value BLOB NOT NULL,"
    " PRIMARY KEY (kind, name)) WITHOUT ROWID",
)

encode_json = json.JSONEncoder(separators=(",", ":"), check_circular=False).encode


class DurableStorageError(Exception):
    """The database file cannot be used (names the path and the problem)."""

    def __init__(self, path: str, problem: str) -> None:
        super().__init__(f"{path}: {problem}")
        self.path = path
        self.problem = problem


def row_crc(pk: bytes, sk: bytes, size: int, item: bytes) -> int:
    """The CRC-32 stored with an item row (over its key, size and JSON; the same in
    both formats, so a migrated row keeps its CRC)."""
    return zlib.crc32(item, zlib.crc32(b"%d" % size, zlib.crc32(sk, zlib.crc32(pk))))


def encode_item(item: Item) -> bytes:
    """The compact JSON bytes an item is stored as."""
    return encode_json(item).encode("ascii")


def connect(path: str) -> tuple[sqlite3.Connection, tuple[int, int, int]]:
    """Connect, take the exclusive lock; returns the connection and what the file is:
    ``(application_id, user_version, number of schema objects)``."""
    try:
        conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False, timeout=0.05)
    except sqlite3.Error as error:
        raise DurableStorageError(path, f"cannot open the database ({error})") from None
    try:
        conn.execute("PRAGMA locking_mode=EXCLUSIVE")
        # Take the exclusive lock now (and keep it: see "One process at a time").
        conn.execute("BEGIN EXCLUSIVE")
        app_id = conn.execute("PRAGMA application_id").fetchone()[0]
        version = conn.execute("PRAGMA user_version").fetchone()[0]
        objects = conn.execute("SELECT count(*) FROM sqlite_master").fetchone()[0]
        conn.execute("COMMIT")
    except sqlite3.DatabaseError as error:
        conn.close()
        if "locked" in str(error):
            raise in_use(path) from None
        raise damaged(path, error) from None
    return conn, (app_id, version, objects)


def create_schema(conn: sqlite3.Connection) -> None:
    """Make an empty file a format-:data:`FORMAT_VERSION` database."""
    conn.execute("BEGIN")
    for statement in SCHEMA:
        conn.execute(statement)
    conn.execute(f"PRAGMA application_id={APPLICATION_ID}")
    conn.execute(f"PRAGMA user_version={FORMAT_VERSION}")
    conn.execute("COMMIT")


def migrate_from_1(conn: sqlite3.Connection) -> None:
    """Rewrite a format-1 file as format 2, in one transaction (all or nothing).

    The rows are copied inside SQLite (no item is decoded; each keeps its CRC,
    checked when it is read): keys with their hash, bodies numbered in the old key
    order; then the stores get their counts.
    """
    conn.create_function("st_scan_hash", 1, scan_hash, deterministic=True)
    conn.execute("BEGIN")
    try:
        conn.execute(SCHEMA[1])
        conn.execute(SCHEMA[2])
        conn.execute(
            "INSERT INTO bodies (id, item)"
            " SELECT row_number() OVER (ORDER BY store, pk, sk), item FROM items"
        )
        conn.execute(
            "INSERT INTO keys SELECT store, st_scan_hash(pk), pk, sk, size, crc,"
            " row_number() OVER (ORDER BY store, pk, sk) FROM items"
        )
        conn.execute("DROP TABLE items")
        conn.execute("ALTER TABLE stores ADD COLUMN items INTEGER NOT NULL DEFAULT 0")
        conn.execute("ALTER TABLE stores ADD COLUMN bytes INTEGER NOT NULL DEFAULT 0")
        conn.execute(
            "UPDATE stores SET (items, bytes) = (SELECT count(*), coalesce(sum(size), 0)"
            " FROM keys WHERE keys.store = stores.id)"
        )
        conn.execute(f"PRAGMA user_version={FORMAT_VERSION}")
        conn.execute("COMMIT")
    except BaseException:
        with suppress(sqlite3.Error):
            conn.execute("ROLLBACK")
        raise


# The files open in this process, by (device, inode): see DurableStorage.__init__.
OPEN_FILES: set[tuple[int, int]] = set()
OPEN_LOCK = threading.Lock()


def file_id(path: str) -> tuple[int, int] | None:
    """``(device, inode)`` of ``path``, None if there is no such file."""
    try:
        stat = os.stat(path)
    except OSError:
        return None
    return stat.st_dev, stat.st_ino


def in_use(path: str) -> DurableStorageError:
    """The error of a file another engine or process holds."""
    return DurableStorageError(path, "the database is in use by another engine or process")


def check_header(path: str) -> None:
    """Refuse a file that is not an SQLite database before SQLite touches it."""
    try:
        with open(path, "rb") as file:
            head = file.read(len(_SQLITE_MAGIC))
    except FileNotFoundError:
        return
    except IsADirectoryError:
        raise DurableStorageError(path, "is a directory, not a database file") from None
    except OSError as error:
        raise DurableStorageError(path, f"cannot read the file ({error.strerror})") from None
    if head and head != _SQLITE_MAGIC:
        raise DurableStorageError(path, "not a singletable database (not an SQLite file)")


def damaged(path: str, error: object) -> DurableStorageError:
    """The error of a damaged file (``error`` says what is wrong)."""
    return DurableStorageError(path, f"the database is damaged ({error})")
