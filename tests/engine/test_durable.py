"""DurableStorage: the Storage interface on disk, reopening, atomic groups, bad files.

The table-store state machine of test_storage runs again on a durable store,
with an extra rule that closes and reopens the database and checks that the
reloaded store is exactly the model. The storage-level test of test_storage runs
on a DurableStorage through this module's ``storage`` fixture.
"""

from __future__ import annotations

import shutil
import sqlite3
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import settings
from hypothesis.stateful import invariant, rule
from test_storage import (  # the shared table-store oracle
    TableStoreMachine,
    test_storage_creates_and_drops_named_stores,
)

from singletable.backends.local.durable import (
    APPLICATION_ID,
    FORMAT_VERSION,
    DurableStorage,
    DurableStorageError,
)
from singletable.backends.local.storage import Storage

__all__ = ["test_storage_creates_and_drops_named_stores"]  # collected here on a DurableStorage


CACHE_OF_A_FEW = 2_000  # bytes of cache: a few of the machine's small items


@pytest.fixture
def storage(tmp_path: Path) -> Iterator[Storage]:
    """A fresh DurableStorage (used by the imported storage-level test)."""
    durable = DurableStorage(tmp_path / "db.sqlite")
    yield durable
    durable.close()


@pytest.fixture
def path(tmp_path: Path) -> Path:
    return tmp_path / "data.db"


# --------------------------------------------------------------------------- state machine


class DurableTableStoreMachine(TableStoreMachine):
    """The memory store's oracle test, on a durable store that is reopened at random."""

    def __init__(self) -> None:
        super().__init__()
        self.directory = tempfile.mkdtemp()
        self.path = Path(self.directory) / "m.db"
        # A cache of a few items: most reads go to SQLite, some come from the cache.
        self.storage = DurableStorage(self.path, cache_bytes=CACHE_OF_A_FEW)
        self.store = self.storage.create_table("t", {"n": 1})

    @rule()
    def reopen(self) -> None:
        self.storage.close()
        self.storage = DurableStorage(self.path, cache_bytes=CACHE_OF_A_FEW)
        self.store = self.storage.table("t")
        assert self.storage.get_meta("t") == {"n": 1}
        # Counts and sizes come back from the catalog, not from a pass over the items.
        assert self.store.item_count == len(self.model)
        got = {(pk, sk): (item, self.store.size_of(pk, sk)) for pk, sk, item in self.store.scan()}
        assert got == self.model

    @invariant()
    def counts_match(self) -> None:  # the memory store's partition count has no equivalent here
        assert self.store.item_count == len(self.model)
        assert self.store.size_bytes == sum(size for _, size in self.model.values())
        assert self.storage.cache.used <= CACHE_OF_A_FEW

    def teardown(self) -> None:
        self.storage.close()
        shutil.rmtree(self.directory, ignore_errors=True)


DurableTableStoreMachine.TestCase.settings = settings(
    deadline=None, max_examples=40, stateful_step_count=30
)
test_durable_table_store_matches_a_dict = DurableTableStoreMachine.TestCase


# --------------------------------------------------------------------------- reopening


def _item(n: int) -> dict[str, dict[str, str]]:
    return {"PK": {"S": f"p{n}"}, "v": {"N": str(n)}, "s": {"S": "é\u2603\x00"}}


def test_everything_is_there_after_reopen(path: Path) -> None:
    with_meta = {"TableName": "a", "nested": {"list": [1, 2.5, None, True]}}
    storage = DurableStorage(path)
    a = storage.create_table("a", with_meta)
    b = storage.create_table("b")
    for n in range(50):
        a.put(b"p%d" % n, b"", _item(n), n + 1)
    with storage.atomic():
        b.put(b"x", b"\x01", _item(1), 7)
        b.put(b"x", b"\x02", _item(2), 8)
        b.delete(b"x", b"\x01")
        b.put(b"y", b"", _item(3), 9)
        b.put(b"y", b"", _item(4), 10)  # coalesced: the last one wins
    a.delete(b"p3", b"")
    storage.set_meta("b", {"TableName": "b", "v": 2})
    storage.create_table("gone").put(b"z", b"", _item(0), 1)
    storage.drop_table("gone")
    storage.close()
    storage.close()  # idempotent

    again = DurableStorage(path)
    assert again.table_names() == ["a", "b"]
    assert again.get_meta("a") == with_meta
    assert again.get_meta("b") == {"TableName": "b", "v": 2}
    a2 = again.table("a")
    assert a2.item_count == 49
    assert a2.size_bytes == sum(range(1, 51)) - 4
    assert a2.get(b"p7", b"") == _item(7)
    assert a2.get(b"p3", b"") is None
    rows = sorted(again.table("b").scan(), key=lambda row: row[:2])
    assert rows == [(b"x", b"\x02", _item(2)), (b"y", b"", _item(4))]
    assert again.table("b").size_of(b"y", b"") == 10
    # A new store gets a fresh id: nothing of the dropped "gone" comes back.
    assert again.create_table("gone").item_count == 0
    again.close()
    assert DurableStorage(path).table("gone").item_count == 0


def test_a_new_file_is_marked_as_ours(path: Path) -> None:
    DurableStorage(path).close()
    conn = sqlite3.connect(path)
    assert conn.execute("PRAGMA application_id").fetchone()[0] == APPLICATION_ID
    assert conn.execute("PRAGMA user_version").fetchone()[0] == FORMAT_VERSION
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    conn.close()


def test_nested_atomic_commits_once_at_the_outermost(path: Path) -> None:
    storage = DurableStorage(path)
    store = storage.create_table("t")
    with storage.atomic():
        store.put(b"a", b"", _item(1), 1)
        with storage.atomic():
            store.put(b"b", b"", _item(2), 1)
        store.put(b"c", b"", _item(3), 1)
    with pytest.raises(RuntimeError), storage.atomic():
        store.put(b"d", b"", _item(4), 1)
        with storage.atomic():  # the inner block ends, but its outer block fails
            store.put(b"e", b"", _item(5), 1)
        raise RuntimeError
    storage.close()
    pks = sorted(pk for pk, _, _ in DurableStorage(path).table("t").scan())
    assert pks == [b"a", b"b", b"c"]


def test_a_failing_group_is_rolled_back_on_disk_and_in_memory(path: Path) -> None:
    storage = DurableStorage(path)
    store = storage.create_table("t")
    store.put(b"kept", b"", _item(0), 1)
    with pytest.raises(ZeroDivisionError), storage.atomic():
        store.put(b"a", b"", _item(1), 1)
        store.put(b"kept", b"", _item(5), 5)
        store.delete(b"kept", b"")
        storage.create_table("u")
        _ = 1 / 0
    # Nothing of the half group is left in memory either, and writes go on.
    assert store.get(b"a", b"") is None
    assert store.get(b"kept", b"") == _item(0) and store.size_of(b"kept", b"") == 1
    assert "u" not in storage
    store.put(b"b", b"", _item(2), 1)
    storage.close()
    again = DurableStorage(path)
    assert sorted(pk for pk, _, _ in again.table("t").scan()) == [b"b", b"kept"]
    again.close()


def test_a_group_that_cannot_be_undone_refuses_writes_until_reopened(path: Path) -> None:
    storage = DurableStorage(path)
    store = storage.create_table("t")
    store.put(b"kept", b"", _item(0), 1)

    def impossible() -> None:
        raise RuntimeError("cannot undo")

    with pytest.raises(ZeroDivisionError), storage.atomic():
        store.put(b"a", b"", _item(1), 1)
        storage.on_rollback(impossible)
        _ = 1 / 0
    with pytest.raises(DurableStorageError, match="reopen"):
        store.put(b"b", b"", _item(2), 1)
    storage.close()
    again = DurableStorage(path)
    assert [pk for pk, _, _ in again.table("t").scan()] == [b"kept"]
    again.close()


def test_a_group_that_fails_before_writing_changes_nothing(path: Path) -> None:
    storage = DurableStorage(path)
    storage.create_table("t")
    with pytest.raises(ValueError):
        storage.create_table("t")
    with pytest.raises(KeyError):
        storage.drop_table("nope")
    storage.table("t").put(b"a", b"", _item(1), 1)  # still writable
    storage.close()
    with pytest.raises(DurableStorageError, match="closed"):
        storage.table("t").put(b"b", b"", _item(1), 1)


def test_extras_are_kept_in_groups(path: Path) -> None:
    storage = DurableStorage(path)
    storage.put_extra("backup", "b1", b"one")
    storage.put_extra("backup", "b2", b"two")
    storage.put_extra("other", "b1", b"x")
    storage.put_extra("backup", "b2", None)
    assert storage.extras("backup") == {"b1": b"one"}
    storage.close()
    again = DurableStorage(path)
    assert again.extras("backup") == {"b1": b"one"}
    assert again.extras("other") == {"b1": b"x"}
    again.close()


def test_copied_stores_stay_on_disk_until_used(path: Path) -> None:
    storage = DurableStorage(path)
    source = storage.create_table("src")
    for n in range(20):
        source.put(b"p%d" % n, b"", _item(n), n)
    with storage.atomic():
        source.put(b"late", b"", _item(99), 5)  # pending in the group: copied too
        storage.copy_store("src", "copy", {"kind": "backup"})
    with pytest.raises(ValueError):
        storage.copy_store("src", "copy", {})
    source.delete(b"p0", b"")  # the copy is independent of later writes
    assert not storage.is_loaded("copy")
    assert "copy" in storage
    copy = storage.table("copy")
    assert storage.is_loaded("copy")
    assert (copy.item_count, copy.size_bytes) == (21, sum(range(20)) + 5)
    assert copy.get(b"p0", b"") == _item(0)
    storage.close()
    again = DurableStorage(path)
    assert not again.is_loaded("src")
    assert again.get_meta("copy") == {"kind": "backup"}
    assert again.table("src").item_count == 20
    assert again.table("copy").item_count == 21
    again.close()


def test_sync_full_is_accepted_and_other_modes_are_not(path: Path) -> None:
    DurableStorage(path, sync="full").close()
    with pytest.raises(ValueError):
        DurableStorage(path, sync="off")


# --------------------------------------------------------------------------- one process at a time


def test_a_second_open_of_the_same_file_is_refused(path: Path) -> None:
    storage = DurableStorage(path)
    with pytest.raises(DurableStorageError, match="in use") as caught:
        DurableStorage(path)
    assert str(path) in str(caught.value)
    script = (
        "import sys\n"
        "from singletable.backends.local.durable import DurableStorage, DurableStorageError\n"
        "try:\n    DurableStorage(sys.argv[1])\n"
        "except DurableStorageError as e:\n    print(e.problem)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", script, str(path)], capture_output=True, text=True, check=True
    )
    assert "in use" in result.stdout
    storage.close()
    DurableStorage(path).close()  # free again once closed


# --------------------------------------------------------------------------- bad files


def _populated(path: Path, items: int = 300) -> None:
    storage = DurableStorage(path)
    store = storage.create_table("t", {"TableName": "t"})
    with storage.atomic():
        for n in range(items):
            store.put(b"pk-%05d" % n, b"", {"PK": {"S": "v" * 40 + str(n)}}, 50)
    storage.close()


def _open_and_load(path: Path) -> DurableStorage:
    """Open and read every row of every store (items are read when used, and each row's
    CRC is checked then); closed if that fails."""
    storage = DurableStorage(path)
    try:
        for name in storage.table_names():
            for _ in storage.table(name).scan():
                pass
    except BaseException:
        storage.close()
        raise
    return storage


def _open_fails(path: Path, problem: str) -> DurableStorageError:
    with pytest.raises(DurableStorageError) as caught:
        _open_and_load(path)
    assert str(path) in str(caught.value)
    assert problem in caught.value.problem, caught.value.problem
    return caught.value


def test_a_file_that_is_not_sqlite_is_refused_and_left_alone(path: Path) -> None:
    path.write_bytes(b'{"not": "a database"}\n' * 100)
    before = path.read_bytes()
    _open_fails(path, "not an SQLite file")
    assert path.read_bytes() == before


def test_a_directory_is_refused(tmp_path: Path) -> None:
    _open_fails(tmp_path, "directory")


def test_a_foreign_sqlite_database_is_refused_and_left_alone(path: Path) -> None:
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE people (name TEXT)")
    conn.commit()
    conn.close()
    before = path.read_bytes()
    _open_fails(path, "another application")
    assert path.read_bytes() == before


def test_a_newer_format_is_refused(path: Path) -> None:
    DurableStorage(path).close()
    conn = sqlite3.connect(path)
    conn.execute(f"PRAGMA user_version={FORMAT_VERSION + 1}")
    conn.close()
    _open_fails(path, "newer singletable")


def test_a_truncated_file_is_refused(path: Path) -> None:
    _populated(path)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    _open_fails(path, "damaged")


def test_a_flipped_byte_in_an_item_is_detected(path: Path) -> None:
    _populated(path)
    data = bytearray(path.read_bytes())
    at = data.index(b"v" * 40)
    data[at + 5] = ord("w")  # still valid JSON, still valid SQLite: only the CRC sees it
    path.write_bytes(bytes(data))
    _open_fails(path, "checksum")


@pytest.mark.parametrize("seed", range(12))
def test_random_damage_never_opens_silently_different(path: Path, seed: int) -> None:
    """Garbage over a stretch of pages: either a clear error, or the data is intact."""
    import random

    _populated(path, items=2000)
    data = bytearray(path.read_bytes())
    rng = random.Random(seed)
    start = rng.randrange(4096, len(data) - 4096)
    data[start : start + 512] = bytes(rng.randrange(256) for _ in range(512))
    path.write_bytes(bytes(data))
    try:
        storage = _open_and_load(path)
    except DurableStorageError as error:
        assert str(path) in str(error)
        return
    store = storage.table("t")
    expected = {b"pk-%05d" % n: {"PK": {"S": "v" * 40 + str(n)}} for n in range(2000)}
    assert {pk: item for pk, _, item in store.scan()} == expected
    storage.close()


def test_a_damaged_header_is_refused(path: Path) -> None:
    _populated(path)
    data = bytearray(path.read_bytes())
    data[0:16] = b"Not SQLite here!"
    path.write_bytes(bytes(data))
    _open_fails(path, "not an SQLite file")


# --------------------------------------------------------------------------- engine on a file


def test_engine_backups_and_pitr_history_survive_a_reopen(path: Path) -> None:
    from singletable.backends.local.engine import LocalEngine

    now = [1000.0]
    engine = LocalEngine(path=path, clock=lambda: now[0], ttl_sweep_interval=None)
    engine.call(
        "CreateTable",
        {
            "TableName": "tbl",
            "BillingMode": "PAY_PER_REQUEST",
            "AttributeDefinitions": [{"AttributeName": "PK", "AttributeType": "S"}],
            "KeySchema": [{"AttributeName": "PK", "KeyType": "HASH"}],
        },
    )
    spec = {"PointInTimeRecoveryEnabled": True}
    engine.call(
        "UpdateContinuousBackups", {"TableName": "tbl", "PointInTimeRecoverySpecification": spec}
    )
    engine.call("PutItem", {"TableName": "tbl", "Item": {"PK": {"S": "a"}, "v": {"N": "1"}}})
    arn = engine.call("CreateBackup", {"TableName": "tbl", "BackupName": "bk1"})["BackupDetails"][
        "BackupArn"
    ]
    now[0] = 1010.0
    engine.call("PutItem", {"TableName": "tbl", "Item": {"PK": {"S": "a"}, "v": {"N": "2"}}})
    engine.close()
    with pytest.raises(ValueError):
        LocalEngine(path=path, storage=DurableStorage(path.with_name("other.db")))

    now[0] = 1020.0
    engine = LocalEngine(path=path, clock=lambda: now[0], ttl_sweep_interval=None)
    engine.call("PutItem", {"TableName": "tbl", "Item": {"PK": {"S": "a"}, "v": {"N": "3"}}})
    engine.call("RestoreTableFromBackup", {"TargetTableName": "fromb", "BackupArn": arn})
    engine.call(
        "RestoreTableToPointInTime",
        {"SourceTableName": "tbl", "TargetTableName": "at1015", "RestoreDateTime": 1015.0},
    )
    key = {"PK": {"S": "a"}}
    assert engine.call("GetItem", {"TableName": "fromb", "Key": key})["Item"]["v"] == {"N": "1"}
    assert engine.call("GetItem", {"TableName": "at1015", "Key": key})["Item"]["v"] == {"N": "2"}
    engine.close()
    engine = LocalEngine(path=path, ttl_sweep_interval=None)
    assert sorted(engine.tables) == ["at1015", "fromb", "tbl"]
    engine.close()
