"""Secondary indexes: definitions, entries, maintenance and key ranges.

An index is a :class:`TableStore` of *entries*, one per table item that has every
index key attribute (indexes are sparse: an item missing any of them is not in
the index). An entry is stored under

* partition ``ipk``: the concatenated key encodings of the index's partition
  attributes (one for a classic index, up to four for a multi-attribute GSI);
* sort ``isk``: the concatenated encodings of its sort attributes (zero to
  four), followed by the item's table key ``pk + sk``.

Key encodings are self-delimiting and compare like tuples (:mod:`.keycodec`),
so entries sort by the index sort attributes in order, then by table key; the
table-key suffix makes entries unique when several items share one index key,
and lets a page resume exactly after the last entry it returned. Every key
condition becomes one contiguous byte range of ``isk`` (:func:`sort_bounds`).

The entry's item is the projection of the table item (the item itself for
``ALL``: stored records are immutable, so an ALL entry is the table's very record,
shared, not copied; see :meth:`~.storage.MemoryTableStore.put`).

Multi-attribute keys (GSIs only, November 2025; Developer Guide, "Multi-attribute
keys pattern"): a KeySchema lists one to four HASH elements, then zero to four
RANGE elements. A Query names every partition attribute with ``=`` and the sort
attributes left to right, ``=`` on all but the last one used
(:func:`singletable.expressions.keycondition.analyze_key_condition`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from singletable._values import AttributeValue, Item, item_size
from singletable.backends.local._capacity import write_units
from singletable.backends.local.errors import validation_error
from singletable.backends.local.keycodec import (
    MAX_HASH_KEY_BYTES,
    MAX_RANGE_KEY_BYTES,
    encode_key,
    encode_string,
    oversized_key,
    prefix_bounds,
    successor,
)
from singletable.backends.local.storage import MemoryTableStore, TableStore
from singletable.expressions import KeyTerm

__all__ = ["IndexDef", "SortBounds", "sort_bounds"]

# (lo, lo_inclusive, hi, hi_inclusive) for TableStore.query; None: unbounded.
SortBounds = tuple[bytes | None, bool, bytes | None, bool]


@dataclass(frozen=True, slots=True)
class _Attr:
    name: str
    type: str


@dataclass(slots=True)
class IndexDef:
    """A GSI or LSI of a table, with its store of entries."""

    name: str
    is_global: bool
    hash: tuple[_Attr, ...]
    range: tuple[_Attr, ...]
    projection_type: str
    non_key: tuple[str, ...]
    table_keys: tuple[str, ...]
    store: TableStore = field(default_factory=MemoryTableStore)
    read_units: int = 0
    write_units: int = 0
    # Names kept in an entry (None: ALL attributes).
    projected: frozenset[str] | None = None
    # The index key attribute names (what places an entry).
    _placing: tuple[str, ...] = field(default=(), init=False, repr=False, compare=False)
    # (name, type) of every index key attribute (TableDef.index_keys_plain).
    key_types: tuple[tuple[str, str], ...] = field(
        default=(), init=False, repr=False, compare=False
    )

    def __post_init__(self) -> None:
        self._placing = self.key_names
        self.key_types = tuple((a.name, a.type) for a in self.hash + self.range)
        if self.projection_type != "ALL":
            names = set(self.table_keys) | set(self.key_names)
            if self.projection_type == "INCLUDE":
                names |= set(self.non_key)
            self.projected = frozenset(names)

    @classmethod
    def build(
        cls,
        name: str,
        is_global: bool,
        schema: Sequence[tuple[str, str]],
        types: Mapping[str, str],
        projection: Mapping[str, Any],
        table_keys: tuple[str, ...],
        throughput: tuple[int, int] = (0, 0),
    ) -> IndexDef:
        """An index from a validated KeySchema (``(name, HASH|RANGE)`` pairs) and Projection."""
        return cls(
            name=name,
            is_global=is_global,
            hash=tuple(_Attr(n, types[n]) for n, kind in schema if kind == "HASH"),
            range=tuple(_Attr(n, types[n]) for n, kind in schema if kind == "RANGE"),
            projection_type=str(projection.get("ProjectionType", "ALL")),
            non_key=tuple(projection.get("NonKeyAttributes") or ()),
            table_keys=table_keys,
            read_units=throughput[0],
            write_units=throughput[1],
        )

    # ----------------------------------------------------------------- schema

    @property
    def key_names(self) -> tuple[str, ...]:
        """The index's own key attribute names, partition attributes first."""
        return tuple(a.name for a in self.hash) + tuple(a.name for a in self.range)

    @property
    def hash_names(self) -> tuple[str, ...]:
        """Names of the partition key attributes."""
        return tuple(a.name for a in self.hash)

    @property
    def range_names(self) -> tuple[str, ...]:
        """Names of the sort key attributes."""
        return tuple(a.name for a in self.range)

    @property
    def all_key_names(self) -> tuple[str, ...]:
        """Index keys then the table keys not among them: what LastEvaluatedKey holds."""
        own = self.key_names
        return own + tuple(n for n in self.table_keys if n not in own)

    def key_schema(self) -> list[dict[str, str]]:
        """The KeySchema in wire shape."""
        return [{"AttributeName": a.name, "KeyType": "HASH"} for a in self.hash] + [
            {"AttributeName": a.name, "KeyType": "RANGE"} for a in self.range
        ]

    def projection(self) -> dict[str, Any]:
        """The Projection in wire shape."""
        result: dict[str, Any] = {"ProjectionType": self.projection_type}
        if self.non_key:
            result["NonKeyAttributes"] = list(self.non_key)
        return result

    def definition(self) -> dict[str, Any]:
        """What recreates this index (the catalog keeps it)."""
        return {
            "IndexName": self.name,
            "Global": self.is_global,
            "KeySchema": self.key_schema(),
            "Types": {a.name: a.type for a in self.hash + self.range},
            "Projection": self.projection(),
            "Throughput": [self.read_units, self.write_units],
        }

    @classmethod
    def from_definition(cls, data: Mapping[str, Any], table_keys: tuple[str, ...]) -> IndexDef:
        """The inverse of :meth:`definition` (with an empty store)."""
        schema = [(e["AttributeName"], e["KeyType"]) for e in data["KeySchema"]]
        read, write = data.get("Throughput", (0, 0))
        return cls.build(
            data["IndexName"],
            bool(data["Global"]),
            schema,
            data["Types"],
            data["Projection"],
            table_keys,
            (int(read), int(write)),
        )

    def describe(self, table_arn: str, billing_mode: str, status: str = "ACTIVE") -> dict[str, Any]:
        """The index's entry in a TableDescription."""
        description: dict[str, Any] = {
            "IndexName": self.name,
            "KeySchema": self.key_schema(),
            "Projection": self.projection(),
        }
        if self.is_global:
            description["IndexStatus"] = status
            if status == "CREATING":
                description["Backfilling"] = False
            description["ProvisionedThroughput"] = {
                "NumberOfDecreasesToday": 0,
                "ReadCapacityUnits": self.read_units if billing_mode == "PROVISIONED" else 0,
                "WriteCapacityUnits": self.write_units if billing_mode == "PROVISIONED" else 0,
            }
        description["IndexSizeBytes"] = self.store.size_bytes
        description["ItemCount"] = self.store.item_count
        description["IndexArn"] = f"{table_arn}/index/{self.name}"
        return description

    # ----------------------------------------------------------------- entries

    def check_types(self, item: Mapping[str, AttributeValue]) -> None:
        """Reject an item whose index key attributes have the wrong type.

        Messages as DynamoDB's (cross-checked with dynalite and dynoxide).
        """
        hashes = len(self.hash)
        for position, attr in enumerate(self.hash + self.range):
            value = item.get(attr.name)
            if value is None:
                continue
            kind = next(iter(value))
            if kind != attr.type:
                raise validation_error(
                    "One or more parameter values were invalid: Type mismatch for Index Key "
                    f"{attr.name} Expected: {attr.type} Actual: {kind} IndexName: {self.name}"
                )
            if kind != "N":  # a number is at most 21 bytes
                self._check_size(attr, value[kind], position < hashes)

    def _check_size(self, attr: _Attr, raw: str, is_hash: bool) -> None:
        """An index partition key value is at most 2048 bytes, a sort key value 1024.

        The key limits of tables apply to index keys too (Developer Guide, "Detecting
        and correcting index key violations"); DynamoDB's message names the index
        (as quoted in architect/dynalite#35 and wellcomecollection/platform#2285).
        Cheap: only a value whose text is long enough to break the limit is measured.
        """
        limit = MAX_HASH_KEY_BYTES if is_hash else MAX_RANGE_KEY_BYTES
        size = oversized_key(attr.type, raw, limit)
        if size is not None:
            raise validation_error(
                "One or more parameter values were invalid: Size limit exceeded for Index Key "
                f"{attr.name} Actual Size: {size} bytes Max Size: {limit} bytes "
                f"IndexName: {self.name}"
            )

    def check_not_empty(
        self, item: Mapping[str, AttributeValue], *, updating: bool = False
    ) -> None:
        """Reject an item whose (correctly typed) index key attributes are empty.

        An UpdateItem that empties an index key gets its own wording (per dynoxide).
        """
        for attr in self.hash + self.range:
            value = item.get(attr.name)
            if value is None or value.get(attr.type) != "":
                continue
            what = "binary" if attr.type == "B" else "string"
            if updating:
                raise validation_error(
                    "One or more parameter values are not valid. The update expression "
                    "attempted to update a secondary index key to a value that is not "
                    "supported. The AttributeValue for a key attribute cannot contain an "
                    f"empty {what} value."
                )
            raise validation_error(
                "One or more parameter values are not valid. A value specified for a "
                "secondary index key is not supported. The AttributeValue for a key "
                f"attribute cannot contain an empty {what} value. IndexName: {self.name}, "
                f"IndexKey: {attr.name}"
            )

    def entry_key(
        self, item: Mapping[str, AttributeValue], pk: bytes, sk: bytes
    ) -> tuple[bytes, bytes] | None:
        """The ``(ipk, isk)`` of ``item``'s entry, or None if the item is not in the index
        (an index key attribute is missing, or has another type than the index's: an
        item written before the index existed, which its backfill left out)."""
        hash_, range_, table_keys = self.hash, self.range, self.table_keys
        # The common shapes first: one attribute, often a table key's (encoded alike).
        if len(hash_) == 1:
            attr = hash_[0]
            if attr.name == table_keys[0]:
                ipk = pk
            else:  # (_encode_all of one attribute, inlined)
                value = item.get(attr.name)
                raw = None if value is None else value.get(attr.type)
                if raw is None:
                    return None  # sparse: the key attribute is missing
                ipk = encode_string(raw) if attr.type == "S" else encode_key(value)  # type: ignore[arg-type]
        else:
            encoded = _encode_all(item, hash_)
            if encoded is None:
                return None  # sparse: a key attribute is missing
            ipk = encoded
        if not range_:
            isk = b""
        elif len(range_) == 1:
            attr = range_[0]
            if len(table_keys) == 2 and attr.name == table_keys[1]:
                isk = sk
            else:
                value = item.get(attr.name)
                raw = None if value is None else value.get(attr.type)
                if raw is None:
                    return None
                isk = encode_string(raw) if attr.type == "S" else encode_key(value)  # type: ignore[arg-type]
        else:
            encoded = _encode_all(item, range_)
            if encoded is None:
                return None
            isk = encoded
        return ipk, isk + pk + sk

    def project(self, item: Item) -> Item:
        """The attributes of ``item`` the index keeps."""
        projected = self.projected
        if projected is None:
            return item
        return {name: value for name, value in item.items() if name in projected}

    def replace(
        self, pk: bytes, sk: bytes, old: Item | None, new: Item | None, new_size: int
    ) -> None:
        """Move the entry of table item ``(pk, sk)`` from ``old`` to ``new``.

        The work follows what changed: an update shares the values it did not touch
        with the old item, so index key values that are the very same objects place
        the entry where it was (its key is encoded once), and a KEYS_ONLY or INCLUDE
        entry none of whose attributes changed is left as it is.
        """
        if old is None:  # a new item: an entry to add, if the item has the index's keys
            if new is not None:
                new_key = self.entry_key(new, pk, sk)
                if new_key is not None:
                    if self.projected is None:  # (_put_entry, inlined)
                        self.store.write(new_key[0], new_key[1], new, new_size)
                    else:
                        self._put_entry(new_key, new, new_size)
            return
        if new is None:
            old_key = self.entry_key(old, pk, sk)
            if old_key is not None:
                self.store.delete(*old_key)
            return
        new_key = self.entry_key(new, pk, sk)
        for name in self._placing:
            if old.get(name) is not new.get(name):
                old_key = self.entry_key(old, pk, sk)
                break
        else:  # the same key values: the same place (None both if sparse)
            old_key = new_key
            projected = self.projected
            if new_key is not None and projected is not None:
                for name in projected:
                    if old.get(name) is not new.get(name):
                        break
                else:
                    return  # the entry holds nothing that changed
        if old_key is not None and old_key != new_key:
            self.store.delete(*old_key)
        if new_key is not None:
            if self.projected is None:  # (_put_entry, inlined)
                self.store.write(new_key[0], new_key[1], new, new_size)
            else:
                self._put_entry(new_key, new, new_size)

    def _put_entry(self, key: tuple[bytes, bytes], new: Item, new_size: int) -> None:
        """Store the entry of table item ``new`` at ``key``: for ALL, the item itself
        (the store shares the table's record, see :meth:`.storage.MemoryTableStore.put`)."""
        if self.projected is None:
            self.store.write(key[0], key[1], new, new_size)
        else:
            entry = self.project(new)
            self.store.write(key[0], key[1], entry, item_size(entry))

    def write_cost(self, pk: bytes, sk: bytes, old: Item | None, new: Item | None) -> float:
        """Write units the index spends when table item ``(pk, sk)`` goes from ``old`` to ``new``.

        Developer Guide, "Provisioned throughput considerations for Global Secondary
        Indexes": an entry added or removed costs one write of its size, a changed
        index key costs two (delete and put), an entry whose projected attributes
        did not change costs nothing.
        """
        old_key = self.entry_key(old, pk, sk) if old is not None else None
        new_key = self.entry_key(new, pk, sk) if new is not None else None
        old_entry = self.project(old) if old is not None and old_key is not None else None
        new_entry = self.project(new) if new is not None and new_key is not None else None
        if old_entry is None and new_entry is None:
            return 0.0
        if old_entry is None or new_entry is None:
            entry = new_entry if new_entry is not None else old_entry
            assert entry is not None
            return write_units(item_size(entry))
        if old_key != new_key:
            return write_units(item_size(old_entry)) + write_units(item_size(new_entry))
        if old_entry == new_entry:
            return 0.0
        return write_units(max(item_size(old_entry), item_size(new_entry)))

    def admits(self, item: Mapping[str, AttributeValue]) -> bool:
        """Whether ``item``'s index key values are ones a write could give the index.

        A backfill leaves out an item whose key value has the wrong type, is an
        empty string or binary, or is longer than an index key may be (2048 bytes
        for a partition attribute, 1024 for a sort attribute): the item stays in
        the table, without an entry (Developer Guide, "Detecting and correcting
        index key violations in DynamoDB"). These are the values a write is
        refused for; a missing attribute is simply sparse (:meth:`entry_key`).
        """
        for attrs, limit in ((self.hash, MAX_HASH_KEY_BYTES), (self.range, MAX_RANGE_KEY_BYTES)):
            for attr in attrs:
                value = item.get(attr.name)
                if value is None:
                    continue
                raw = value.get(attr.type)
                if raw is None or raw == "":
                    return False
                if oversized_key(attr.type, raw, limit) is not None:
                    return False
        return True

    def backfill(self, rows: Any) -> None:
        """Add an entry for every ``(pk, sk, item, size)`` in ``rows`` (a table's contents)
        that the index admits (:meth:`admits`)."""
        admits = self.admits
        for pk, sk, item, size in rows:
            if admits(item):
                self.replace(pk, sk, None, item, size)

    # ----------------------------------------------------------------- reads

    def partition_key(self, values: Mapping[str, AttributeValue]) -> bytes:
        """The encoded partition of a query's partition attribute values (checked)."""
        parts = []
        for attr in self.hash:
            value = values[attr.name]
            check_key_value(value, attr.type)
            parts.append(encode_key(value))
        return b"".join(parts)

    def start_key(self, start: Mapping[str, AttributeValue], table_key: tuple[bytes, bytes]) -> (
        tuple[bytes, bytes]
    ):
        """The entry position an ExclusiveStartKey names (types already checked)."""
        key = self.entry_key(start, *table_key)
        if key is None:
            raise validation_error(
                "The provided starting key is invalid: The provided key element does not match "
                "the schema"
            )
        return key


def _encode_all(item: Mapping[str, AttributeValue], attrs: tuple[_Attr, ...]) -> bytes | None:
    """The concatenated encodings of ``item``'s values of ``attrs`` (None: one is
    missing or of another type)."""
    if len(attrs) == 1:  # the common shape: one attribute
        (attr,) = attrs
        value = item.get(attr.name)
        if value is None:
            return None
        raw = value.get(attr.type)
        if raw is None:
            return None
        return encode_string(raw) if attr.type == "S" else encode_key(value)
    parts = []
    for attr in attrs:
        value = item.get(attr.name)
        if value is None or attr.type not in value:
            return None
        parts.append(encode_key(value))
    return b"".join(parts)


def check_key_type(value: AttributeValue, expected: str) -> None:
    """A key condition value must have the key attribute's type."""
    if next(iter(value)) != expected:
        raise validation_error(
            "One or more parameter values were invalid: Condition parameter type does not match "
            "schema type"
        )


def check_begins_with(kind: str) -> None:
    """begins_with needs an S or B key attribute."""
    if kind == "N":
        raise validation_error(
            "Invalid KeyConditionExpression: Incorrect operand type for operator or "
            "function; operator or function: begins_with, operand type: N"
        )


def check_key_value(value: AttributeValue, expected: str) -> None:
    """A key condition value must have the key attribute's type and not be empty."""
    check_key_type(value, expected)
    kind = next(iter(value))
    if value[kind] == "":
        raise validation_error(
            "One or more parameter values are not valid. The AttributeValue for a key attribute "
            f"cannot contain an empty {'binary' if kind == 'B' else 'string'} value."
        )


def sort_bounds(terms: Sequence[KeyTerm], types: Mapping[str, str]) -> SortBounds:
    """The byte range of index entries whose sort values satisfy ``terms``.

    ``terms`` are equalities on the leading sort attributes, then at most one
    operator on the last one used. An entry's sort key is the encoded sort values
    followed by the table key, so every bound is a prefix bound: ``successor(x)``
    is the first byte string past every entry whose sort key starts with ``x``.
    """
    prefix = b""
    for term in terms[:-1]:
        check_key_value(term.values[0], types[term.name])
        prefix += encode_key(term.values[0])
    if not terms:
        return (None, True, None, True)
    last = terms[-1]
    kind = types[last.name]
    whole = successor(prefix) if prefix else None  # past everything under the prefix
    if last.op == "begins_with":
        check_begins_with(kind)
        check_key_value(last.values[0], kind)
        lo, hi = prefix_bounds(last.values[0])
        return (prefix + lo, True, prefix + hi if hi is not None else whole, False)
    for value in last.values:
        check_key_value(value, kind)
    encoded = [prefix + encode_key(value) for value in last.values]
    start = prefix or None
    op = last.op
    if op == "=":
        return (encoded[0], True, successor(encoded[0]), False)
    if op == "<":
        return (start, True, encoded[0], False)
    if op == "<=":
        return (start, True, successor(encoded[0]), False)
    if op == ">":
        return (successor(encoded[0]), True, whole, False)
    if op == ">=":
        return (encoded[0], True, whole, False)
    # BETWEEN
    return (encoded[0], True, successor(encoded[1]), False)


def within(position: bytes, bounds: SortBounds) -> bool:
    """Whether a sort key lies within ``bounds``."""
    lo, lo_inclusive, hi, hi_inclusive = bounds
    if lo is not None and (position < lo or (position == lo and not lo_inclusive)):
        return False
    return not (hi is not None and (position > hi or (position == hi and not hi_inclusive)))
