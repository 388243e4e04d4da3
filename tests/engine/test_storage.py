"""Ordered storage: the chunked sorted list and the memory table store.

Both are checked against plain oracles (a Python set / dict and ``sorted``):
the sorted list with random operations, the table store with a hypothesis
state machine doing puts, deletes, gets, queries (bounds, directions, resume
points) and parallel scans. Small chunk sizes make chunks split and merge.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    Bundle,
    RuleBasedStateMachine,
    initialize,
    invariant,
    rule,
)

from singletable._values import Item
from singletable.backends.local._sortedlist import SortedKeyList
from singletable.backends.local.keycodec import encode_key, prefix_bounds
from singletable.backends.local.storage import (
    MemoryStorage,
    MemoryTableStore,
    Storage,
    TableStore,
    scan_hash,
    segment_bounds,
)

# --------------------------------------------------------------------------- sorted list

keys = st.binary(max_size=3)
bounds = st.one_of(st.none(), keys)


def _in_range(
    key: bytes, lo: bytes | None, hi: bytes | None, lo_inclusive: bool, hi_inclusive: bool
) -> bool:
    above = lo is None or key > lo or (lo_inclusive and key == lo)
    below = hi is None or key < hi or (hi_inclusive and key == hi)
    return above and below


@settings(deadline=None, max_examples=200)
@given(
    ops=st.lists(st.tuples(st.booleans(), keys), max_size=120),
    load=st.integers(2, 6),
    lo=bounds,
    hi=bounds,
    lo_inclusive=st.booleans(),
    hi_inclusive=st.booleans(),
    reverse=st.booleans(),
)
def test_sorted_list_matches_a_sorted_set(
    ops: list[tuple[bool, bytes]],
    load: int,
    lo: bytes | None,
    hi: bytes | None,
    lo_inclusive: bool,
    hi_inclusive: bool,
    reverse: bool,
) -> None:
    sl = SortedKeyList(load=load)
    model: set[bytes] = set()
    for is_add, key in ops:
        if is_add:
            assert sl.add(key) == (key not in model)
            model.add(key)
        else:
            assert sl.discard(key) == (key in model)
            model.discard(key)
        assert len(sl) == len(model)
    assert list(sl) == sorted(model)
    assert list(reversed(sl)) == sorted(model, reverse=True)
    for key in [*model, b"\x00\x00\x00\x00"]:
        assert (key in sl) == (key in model)
    expected = sorted(
        (k for k in model if _in_range(k, lo, hi, lo_inclusive, hi_inclusive)), reverse=reverse
    )
    got = sl.irange(lo, hi, lo_inclusive=lo_inclusive, hi_inclusive=hi_inclusive, reverse=reverse)
    assert list(got) == expected
    # Chunks respect their bounds and their maxima.
    assert all(0 < len(chunk) <= 2 * load for chunk in sl._lists)
    assert sl._maxes == [chunk[-1] for chunk in sl._lists]


def test_sorted_list_built_from_keys() -> None:
    data = [bytes([i % 251, i % 7]) for i in range(3000)]
    sl = SortedKeyList(data, load=50)
    assert list(sl) == sorted(set(data))
    assert len(sl) == len(set(data))
    with pytest.raises(ValueError):
        SortedKeyList(load=1)


@pytest.mark.parametrize("reverse", [False, True])
def test_sorted_list_iterator_survives_changes_between_steps(reverse: bool) -> None:
    rng = random.Random(7)
    sl = SortedKeyList((bytes([i]) for i in range(0, 200, 2)), load=3)
    model = set(sl)
    seen: list[bytes] = []
    for key in sl.irange(reverse=reverse):
        seen.append(key)
        for _ in range(3):
            other = bytes([rng.randrange(200)])
            if rng.random() < 0.5:
                sl.add(other)
                model.add(other)
            else:
                sl.discard(other)
                model.discard(other)
    # Strictly monotonic: nothing repeated, nothing out of order.
    assert seen == sorted(set(seen), reverse=reverse)
    # Every key present from start to end of the iteration was seen.
    assert list(sl) == sorted(model)


# --------------------------------------------------------------------------- table store


def _pk(n: int) -> bytes:
    return encode_key({"S": f"p{n}"})


def _sk(n: int) -> bytes:
    return encode_key({"N": str(n)})


pks = st.integers(0, 5).map(_pk)
sks = st.integers(-6, 6).map(_sk)
optional_sks = st.one_of(st.none(), sks)


def _item(pk: bytes, sk: bytes, version: int) -> Item:
    return {"PK": {"B": pk.hex()}, "SK": {"B": sk.hex()}, "v": {"N": str(version)}}


class TableStoreMachine(RuleBasedStateMachine):
    """Random puts and deletes on a MemoryTableStore, checked against a dict."""

    written = Bundle("written")

    def __init__(self) -> None:
        super().__init__()
        self.store: TableStore = MemoryTableStore(load=2)
        self.model: dict[tuple[bytes, bytes], tuple[Item, int]] = {}
        self.version = 0

    @initialize()
    def start_empty(self) -> None:
        assert self.store.item_count == 0

    @rule(target=written, pk=pks, sk=sks, size=st.integers(1, 500))
    def put(self, pk: bytes, sk: bytes, size: int) -> tuple[bytes, bytes]:
        self.version += 1
        item = _item(pk, sk, self.version)
        old = self.model.get((pk, sk))
        assert self.store.put(pk, sk, item, size) == (None if old is None else old[0])
        self.model[(pk, sk)] = (item, size)
        return (pk, sk)

    @rule(key=written)
    def delete_written(self, key: tuple[bytes, bytes]) -> None:
        old = self.model.pop(key, None)
        assert self.store.delete(*key) == (None if old is None else old[0])

    @rule(pk=pks, sk=sks)
    def delete_any(self, pk: bytes, sk: bytes) -> None:
        old = self.model.pop((pk, sk), None)
        assert self.store.delete(pk, sk) == (None if old is None else old[0])

    @rule(pk=pks, sk=sks)
    def get(self, pk: bytes, sk: bytes) -> None:
        entry = self.model.get((pk, sk))
        assert self.store.get(pk, sk) == (None if entry is None else entry[0])

    @rule(pk=pks)
    def partition_usage(self, pk: bytes) -> None:
        # Item count and bytes of one partition (ItemCollectionMetrics, ._collections).
        sizes = [size for (p, _), (_, size) in self.model.items() if p == pk]
        assert self.store.partition_usage(pk) == (len(sizes), sum(sizes))

    @rule(
        pk=pks,
        lo=optional_sks,
        hi=optional_sks,
        lo_inclusive=st.booleans(),
        hi_inclusive=st.booleans(),
        forward=st.booleans(),
        after=optional_sks,
    )
    def query(
        self,
        pk: bytes,
        lo: bytes | None,
        hi: bytes | None,
        lo_inclusive: bool,
        hi_inclusive: bool,
        forward: bool,
        after: bytes | None,
    ) -> None:
        expected = sorted(
            (sk, item)
            for (p, sk), (item, _) in self.model.items()
            if p == pk and _in_range(sk, lo, hi, lo_inclusive, hi_inclusive)
        )
        if not forward:
            expected.reverse()
        if after is not None:
            expected = [(sk, i) for sk, i in expected if (sk > after if forward else sk < after)]
        got = self.store.query(
            pk,
            lo=lo,
            lo_inclusive=lo_inclusive,
            hi=hi,
            hi_inclusive=hi_inclusive,
            forward=forward,
            after=after,
        )
        assert list(got) == expected

    @rule(total=st.integers(1, 5))
    def scan_segments(self, total: int) -> None:
        everything = self._scan_order()
        collected = []
        for segment in range(total):
            lo, hi = segment_bounds(segment, total)
            got = list(self.store.scan(segment=segment, total_segments=total))
            assert all(
                lo <= scan_hash(pk) and (hi is None or scan_hash(pk) < hi) for pk, _, _ in got
            )
            collected.extend(got)
        # Segments are consecutive slices of the one scan order.
        assert collected == everything

    @rule(total=st.integers(1, 3), data=st.data())
    def scan_resumes_after(self, total: int, data: st.DataObject) -> None:
        segment = data.draw(st.integers(0, total - 1))
        after = data.draw(st.tuples(pks, sks))
        expected = [
            row
            for row in self.store.scan(segment=segment, total_segments=total)
            if (scan_hash(row[0]), row[0], row[1]) > (scan_hash(after[0]), after[0], after[1])
        ]
        got = self.store.scan(segment=segment, total_segments=total, after=after)
        assert list(got) == expected

    @rule(page=st.integers(1, 4), pk=pks, sk=sks)
    def scan_pages_with_writes_between(self, page: int, pk: bytes, sk: bytes) -> None:
        """Paging by `after` sees every item that stays, once, even across writes."""
        before = {(p, s) for p, s, _ in self.store.scan()}
        seen: list[tuple[bytes, bytes]] = []
        after: tuple[bytes, bytes] | None = None
        toggled = False
        for _ in range(len(before) + 2):  # bounded: a resume bug must not loop forever
            rows = list(_take(self.store.scan(after=after), page))
            seen.extend((p, s) for p, s, _ in rows)
            if len(rows) < page:
                break
            after = (rows[-1][0], rows[-1][1])
            if not toggled:  # one write between the first two pages
                toggled = True
                if (pk, sk) in self.model:
                    self.delete_any(pk, sk)
                else:
                    self.put(pk, sk, 1)
        else:
            pytest.fail("paging did not come to an end")
        assert len(seen) == len(set(seen))
        after_write = set(self.model)
        assert before & after_write <= set(seen) <= before | after_write

    def _scan_order(self) -> list[tuple[bytes, bytes, Item]]:
        rows = [(pk, sk, item) for (pk, sk), (item, _) in self.model.items()]
        rows.sort(key=lambda row: (scan_hash(row[0]), row[0], row[1]))
        return rows

    @invariant()
    def counts_match(self) -> None:
        assert self.store.item_count == len(self.model)
        assert self.store.size_bytes == sum(size for _, size in self.model.values())
        assert isinstance(self.store, MemoryTableStore)
        assert self.store.partition_count == len({pk for pk, _ in self.model})


TableStoreMachine.TestCase.settings = settings(
    deadline=None, max_examples=120, stateful_step_count=40
)
test_table_store_matches_a_dict = TableStoreMachine.TestCase


def _take(rows: Iterator[Any], n: int) -> Iterator[Any]:
    for i, row in enumerate(rows):
        if i == n:
            return
        yield row


def test_query_with_begins_with_bounds() -> None:
    store = MemoryTableStore()
    pk = encode_key({"S": "user#1"})
    names = ["ORDER#1", "ORDER#2", "ORDER", "ORDEQ", "ORDER\x00", "ORDES", "PROFILE", "A"]
    for name in names:
        store.put(pk, encode_key({"S": name}), {"SK": {"S": name}}, 10)
    lo, hi = prefix_bounds({"S": "ORDER"})
    got = [item["SK"]["S"] for _, item in store.query(pk, lo=lo, hi=hi, hi_inclusive=False)]
    assert got == ["ORDER", "ORDER\x00", "ORDER#1", "ORDER#2"]
    back = store.query(pk, lo=lo, hi=hi, hi_inclusive=False, forward=False)
    assert [item["SK"]["S"] for _, item in back] == got[::-1]


def test_hash_only_partitions_and_missing_keys() -> None:
    store = MemoryTableStore()
    assert store.get(b"x", b"") is None
    assert store.delete(b"x", b"") is None
    assert list(store.query(b"x")) == []
    assert store.put(b"x", b"", {"a": {"S": "1"}}, 5) is None
    assert store.put(b"x", b"", {"a": {"S": "2"}}, 7) == {"a": {"S": "1"}}
    assert (store.item_count, store.size_bytes) == (1, 7)
    assert list(store.query(b"x", lo=b"", lo_inclusive=False)) == []
    assert list(store.scan()) == [(b"x", b"", {"a": {"S": "2"}})]
    assert list(store.scan(after=(b"x", b""))) == []
    assert store.delete(b"x", b"") == {"a": {"S": "2"}}
    assert (store.item_count, store.size_bytes, store.partition_count) == (0, 0, 0)
    assert list(store.scan()) == []


@pytest.mark.parametrize(("segment", "total"), [(-1, 1), (1, 1), (0, 0), (3, 2)])
def test_bad_segments_are_rejected(segment: int, total: int) -> None:
    with pytest.raises(ValueError):
        list(MemoryTableStore().scan(segment=segment, total_segments=total))


def test_segment_bounds_tile_the_hash_space() -> None:
    for total in (1, 2, 3, 7, 1000000):
        edges = [segment_bounds(s, total) for s in sorted({0, total - 1})]
        assert edges[0][0] == bytes(8)
        assert edges[-1][1] is None
    for total in (2, 3, 7):
        spans = [segment_bounds(s, total) for s in range(total)]
        assert all(spans[i][1] == spans[i + 1][0] for i in range(total - 1))


def test_many_single_item_partitions() -> None:
    """200k one-item partitions insert quickly (O(log n) each) and scan completely."""
    store = MemoryTableStore()
    n = 200_000
    item: Item = {"PK": {"S": "x"}}
    for i in range(n):
        store.put(i.to_bytes(4, "big"), b"", item, 1)
    assert store.item_count == store.partition_count == n
    assert store.get((12345).to_bytes(4, "big"), b"") == item
    counts = [sum(1 for _ in store.scan(segment=s, total_segments=4)) for s in range(4)]
    assert sum(counts) == n
    assert min(counts) > n // 5  # a 64-bit hash spreads partitions evenly


# --------------------------------------------------------------------------- storage


@pytest.fixture(params=[MemoryStorage])
def storage(request: pytest.FixtureRequest) -> Storage:
    factory: type[Storage] = request.param
    return factory()


def test_storage_creates_and_drops_named_stores(storage: Storage) -> None:
    assert storage.table_names() == []
    store = storage.create_table("b", {"TableName": "b"})
    storage.create_table("a")
    assert storage.table_names() == ["a", "b"]
    assert "a" in storage
    assert "zzz" not in storage
    assert storage.table("b") is store
    assert storage.get_meta("b") == {"TableName": "b"}
    assert storage.get_meta("a") == {}
    storage.set_meta("a", {"TableName": "a"})
    assert storage.get_meta("a") == {"TableName": "a"}
    with pytest.raises(ValueError):
        storage.create_table("a")
    store.put(b"k", b"", {"x": {"S": "1"}}, 3)
    storage.drop_table("b")
    assert storage.table_names() == ["a"]
    with pytest.raises(KeyError):
        storage.table("b")
    with pytest.raises(KeyError):
        storage.drop_table("b")
    with pytest.raises(KeyError):
        storage.set_meta("b", {})
    # A new store under a dropped name starts empty.
    assert storage.create_table("b").item_count == 0
    with storage.atomic():
        storage.table("a").put(b"k", b"", {"x": {"S": "1"}}, 3)
    assert storage.table("a").item_count == 1
    storage.close()


def test_size_of_reports_the_stored_size() -> None:
    store = MemoryTableStore()
    assert store.size_of(b"p", b"s") == 0
    store.put(b"p", b"s", {"a": {"S": "x"}}, 17)
    store.put(b"p", b"t", {"a": {"S": "y"}}, 5)
    assert store.size_of(b"p", b"s") == 17
    store.put(b"p", b"s", {"a": {"S": "xx"}}, 20)
    assert store.size_of(b"p", b"s") == 20
    store.delete(b"p", b"s")
    assert store.size_of(b"p", b"s") == 0
    assert store.size_bytes == 5
