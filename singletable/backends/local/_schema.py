"""Table definitions: key schema, key extraction and encoding, the catalog entry.

A :class:`TableDef` holds what CreateTable declared and the table's store. Keys
are turned into the order-preserving bytes of :mod:`keycodec` here, after the
checks DynamoDB makes on every keyed request: the right attributes, the right
types, no empty strings or binaries, and the partition (2048 bytes) and sort
(1024 bytes) key size limits.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from singletable._values import (
    AttributeValue,
    InvalidValue,
    Item,
    validate_value,
)
from singletable.backends.local._streams import describe_settings
from singletable.backends.local.errors import DynamoDBError, validation_error
from singletable.backends.local.keycodec import (
    MAX_HASH_KEY_BYTES,
    MAX_RANGE_KEY_BYTES,
    encode_key,
    encode_string,
    oversized_key,
)
from singletable.backends.local.storage import Storage, TableStore

if TYPE_CHECKING:
    from singletable.backends.local._indexes import IndexDef

__all__ = ["KeyAttr", "TableDef", "key_error"]

ACCOUNT = "000000000000"


_PLAIN_KEY_LENGTH = MAX_RANGE_KEY_BYTES // 4  # (a character is at most 4 UTF-8 bytes)


@dataclass(frozen=True, slots=True)
class KeyAttr:
    """One key attribute: its name and scalar type (S, N or B)."""

    name: str
    type: str


_Missing = Callable[[KeyAttr], DynamoDBError]
_Mismatch = Callable[[KeyAttr, str], DynamoDBError]


def key_error() -> DynamoDBError:
    """DynamoDB's answer to a Key that does not match the table's key schema."""
    return validation_error("The provided key element does not match the schema")


def _plain_string(key: dict[str, Any], attr: KeyAttr, limit: int) -> str | None:
    """The text of ``key``'s value of ``attr`` when it needs no check beyond this: a
    string key attribute sent as a non-empty ASCII S within ``limit`` bytes (None:
    anything else, which the full checks take)."""
    value = key.get(attr.name)
    raw = value.get("S") if type(value) is dict and len(value) == 1 else None
    if attr.type == "S" and type(raw) is str and raw and len(raw) <= limit and raw.isascii():
        return raw
    return None


def _index_name(index: IndexDef) -> str:
    return index.name


def index_store_name(table: str, index: str) -> str:
    """The store that keeps the entries of ``index`` of ``table`` (when a storage keeps them).

    ``#`` cannot appear in a table name, so the name is unique and
    :meth:`~.durable.DurableStorage.drop_table` finds the stores of a table's indexes.
    """
    return f"{table}#{index}"


_PLACING = ("IndexName", "KeySchema", "Types", "Projection")


def _placement(table: TableDef, index: IndexDef) -> dict[str, Any]:
    """What an index store's entries depend on: the table (by id) and the index's keys
    and projection (not its throughput, which UpdateTable may change)."""
    definition = index.definition()
    return {
        "kind": "index",
        "table_id": table.table_id,
        "index": {name: definition[name] for name in _PLACING},
    }


def _missing_in_item(attr: KeyAttr) -> DynamoDBError:
    return validation_error(
        f"One or more parameter values were invalid: Missing the key {attr.name} in the item"
    )


def _mismatch_in_item(attr: KeyAttr, actual: str) -> DynamoDBError:
    return validation_error(
        "One or more parameter values were invalid: Type mismatch for key "
        f"{attr.name} expected: {attr.type} actual: {actual}"
    )


@dataclass(slots=True)
class TableDef:
    """A table in the catalog."""

    name: str
    hash: KeyAttr
    range: KeyAttr | None
    attribute_definitions: list[dict[str, str]]
    billing_mode: str
    read_units: int
    write_units: int
    store: TableStore
    region: str = "us-east-1"
    created: float = field(default_factory=time.time)
    table_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    last_increase: float | None = None
    last_decrease: float | None = None
    decreases_today: int = 0
    billing_changed: float | None = None
    deletion_protection: bool = False
    tags: dict[str, str] = field(default_factory=dict)
    # The secondary indexes, GSIs and LSIs in declaration order (see ._indexes).
    indexes: list[IndexDef] = field(default_factory=list)
    # JSON-able settings owned by other modules, kept in the catalog (and on disk):
    # "stream" (._streams), "ttl" (._ttl), "continuous_backups" and "restore_summary"
    # (._backups).
    settings: dict[str, Any] = field(default_factory=dict)

    @property
    def arn(self) -> str:
        """The table's ARN (in a fixed local account)."""
        return f"arn:aws:dynamodb:{self.region}:{ACCOUNT}:table/{self.name}"

    @property
    def key_names(self) -> tuple[str, ...]:
        """The names of the table's key attributes, hash first."""
        if self.range is None:
            return (self.hash.name,)
        return (self.hash.name, self.range.name)

    # ----------------------------------------------------------------- indexes

    def index(self, name: str) -> IndexDef | None:
        """The secondary index called ``name``, or None."""
        for index in self.indexes:
            if index.name == name:
                return index
        return None

    def check_index_keys(
        self, item: Mapping[str, AttributeValue], *, updating: bool = False
    ) -> None:
        """Reject an item whose index key attributes have the wrong type or size.

        Called on every write before anything changes, so that :func:`._write.commit`
        never fails half-way.
        """
        # DynamoDB reports the alphabetically first index, and checks every index's
        # types before any emptiness (captured against AWS in dynoxide's suite).
        ordered = sorted(self.indexes, key=_index_name) if len(self.indexes) > 1 else self.indexes
        for index in ordered:
            index.check_types(item)
        for index in ordered:
            index.check_not_empty(item, updating=updating)

    def update_indexes(
        self, pk: bytes, sk: bytes, old: Item | None, new: Item | None, new_size: int
    ) -> None:
        """Move the item at table key ``(pk, sk)`` from ``old`` to ``new`` in every index."""
        for index in self.indexes:
            index.replace(pk, sk, old, new, new_size)

    def index_write_costs(
        self, pk: bytes, sk: bytes, old: Item | None, new: Item | None
    ) -> dict[str, tuple[float, bool]]:
        """Write units each index spends on this change: ``{name: (units, is_local)}``."""
        return {
            index.name: (index.write_cost(pk, sk, old, new), not index.is_global)
            for index in self.indexes
        }

    def rebuild_indexes(self) -> None:
        """Fill every (empty) index store from the table's items: after a reopen."""
        for index in self.indexes:
            index.backfill(self.rows())

    def open_indexes(self, storage: Storage) -> None:
        """Give every index its store (:meth:`attach_index`): at open, creation, restore."""
        for index in self.indexes:
            self.attach_index(storage, index)

    def attach_index(self, storage: Storage, index: IndexDef) -> None:
        """Give ``index`` a store holding its entries for the table's current items.

        A storage whose ``keeps_indexes`` is true (a durable file) keeps the entries
        in a store of its own, ``<table>#<index>``: one it already holds for this very
        table and index is used as it is (a reopen reads no item), otherwise a new one
        is made and filled from the items (a file written before index stores were
        kept, a new index). Any other storage: the index's own (empty, in-memory)
        store is filled from the items. Inside the caller's atomic group, if any.
        """
        if not getattr(storage, "keeps_indexes", False):
            index.backfill(self.rows())
            return
        name = index_store_name(self.name, index.name)
        placement = _placement(self, index)
        if name in storage:
            if storage.get_meta(name) == placement:
                index.store = storage.table(name)
                return
            storage.drop_table(name)  # another table's or index's entries: stale
        index.store = storage.create_table(name, placement)
        index.backfill(self.rows())

    def detach_index(self, storage: Storage, index: IndexDef) -> None:
        """Drop the store a removed ``index`` kept its entries in (see :meth:`attach_index`)."""
        name = index_store_name(self.name, index.name)
        if getattr(storage, "keeps_indexes", False) and name in storage:
            storage.drop_table(name)

    def rows(self) -> Iterator[tuple[bytes, bytes, Item, int]]:
        """Every ``(pk, sk, item, size)`` of the table, in scan order."""
        size_of = self.store.size_of
        for pk, sk, item in self.store.scan():
            yield pk, sk, item, size_of(pk, sk)

    # ----------------------------------------------------------------- catalog

    def to_meta(self) -> dict[str, Any]:
        """The catalog entry: everything but the stores, JSON-able."""
        return {
            "kind": "table",
            "name": self.name,
            "hash": [self.hash.name, self.hash.type],
            "range": [self.range.name, self.range.type] if self.range is not None else None,
            "attribute_definitions": self.attribute_definitions,
            "billing_mode": self.billing_mode,
            "read_units": self.read_units,
            "write_units": self.write_units,
            "region": self.region,
            "created": self.created,
            "table_id": self.table_id,
            "last_increase": self.last_increase,
            "last_decrease": self.last_decrease,
            "decreases_today": self.decreases_today,
            "billing_changed": self.billing_changed,
            "deletion_protection": self.deletion_protection,
            "tags": self.tags,
            "indexes": [index.definition() for index in self.indexes],
            "settings": self.settings,
        }

    @classmethod
    def from_meta(cls, meta: Mapping[str, Any], store: TableStore) -> TableDef:
        """A table from its catalog entry (indexes empty: call :meth:`rebuild_indexes`)."""
        from singletable.backends.local._indexes import IndexDef

        hash_attr = KeyAttr(*meta["hash"])
        range_attr = KeyAttr(*meta["range"]) if meta.get("range") else None
        table = cls(
            name=meta["name"],
            hash=hash_attr,
            range=range_attr,
            attribute_definitions=list(meta["attribute_definitions"]),
            billing_mode=meta["billing_mode"],
            read_units=meta["read_units"],
            write_units=meta["write_units"],
            store=store,
            region=meta["region"],
            created=meta["created"],
            table_id=meta["table_id"],
            last_increase=meta.get("last_increase"),
            last_decrease=meta.get("last_decrease"),
            decreases_today=meta.get("decreases_today", 0),
            billing_changed=meta.get("billing_changed"),
            deletion_protection=bool(meta.get("deletion_protection")),
            tags=dict(meta.get("tags") or {}),
            settings=dict(meta.get("settings") or {}),
        )
        table.indexes = [
            IndexDef.from_definition(data, table.key_names) for data in meta.get("indexes", [])
        ]
        return table

    # ----------------------------------------------------------------- keys

    def key_from_request(self, key: Any) -> tuple[bytes, bytes]:
        """Encode a request's ``Key`` member: exactly the key attributes, right types."""
        if type(key) is dict and len(key) == (1 if self.range is None else 2):
            # The common case straight: ASCII strings of the declared type S, not empty,
            # within the limits (one byte a character). Anything else: the checks below.
            raw = _plain_string(key, self.hash, MAX_HASH_KEY_BYTES)
            if raw is not None:
                pk = encode_string(raw)
                if self.range is None:
                    return pk, b""
                raw = _plain_string(key, self.range, MAX_RANGE_KEY_BYTES)
                if raw is not None:
                    return pk, encode_string(raw)
        if not isinstance(key, dict):
            raise key_error()
        names = self.key_names
        if len(key) != len(names) or any(name not in key for name in names):
            raise key_error()
        try:
            # A string key value sent as a plain ASCII str is canonical as it is.
            key = {
                name: value
                if type(value) is dict
                and len(value) == 1
                and type(text := value.get("S")) is str
                and text.isascii()
                else validate_value(value, name)
                for name, value in key.items()
            }
        except InvalidValue as error:
            bad_key = DynamoDBError(error.code, error.message)
            # {"NULL": false} in a Key is a request-validation error (enveloped on
            # UpdateItem); an empty set there stays bare (nubo-db/dynoxide PR #152).
            bad_key.request_validation = error.family == "null"
            raise bad_key from None
        return self._encode(
            key, missing=lambda attr: key_error(), mismatch=lambda attr, actual: key_error()
        )

    def key_from_item(self, item: Mapping[str, AttributeValue]) -> tuple[bytes, bytes]:
        """Encode the key attributes of a whole (validated) item (PutItem)."""
        hash_, range_ = self.hash, self.range
        # The common case straight: values of the right type, not empty, too short to
        # break a size limit (a character is at most 4 UTF-8 bytes; base64 text is
        # longer than its bytes). Anything else takes the checking path below.
        value = item.get(hash_.name)
        raw = None if value is None else value.get(hash_.type)
        if type(raw) is str and raw and len(raw) <= MAX_HASH_KEY_BYTES // 4:
            assert value is not None
            pk = encode_string(raw) if hash_.type == "S" else encode_key(value)
            if range_ is None:
                return pk, b""
            value = item.get(range_.name)
            raw = None if value is None else value.get(range_.type)
            if type(raw) is str and raw and len(raw) <= MAX_RANGE_KEY_BYTES // 4:
                assert value is not None
                return pk, encode_string(raw) if range_.type == "S" else encode_key(value)
        return self._encode(item, missing=_missing_in_item, mismatch=_mismatch_in_item)

    def index_keys_plain(self, item: Mapping[str, AttributeValue]) -> bool:
        """Whether :meth:`check_index_keys` surely passes for ``item``: every index key
        value present has its type, is not empty and is too short to break a limit."""
        for index in self.indexes:
            for name, kind in index.key_types:
                value = item.get(name)
                if value is not None:
                    raw = value.get(kind)
                    if type(raw) is not str or not raw or len(raw) > _PLAIN_KEY_LENGTH:
                        return False
        return True

    def _encode(
        self, source: Mapping[str, AttributeValue], *, missing: _Missing, mismatch: _Mismatch
    ) -> tuple[bytes, bytes]:
        pk = self._encode_one(self.hash, source, missing, mismatch)
        if self.range is None:
            return pk, b""
        return pk, self._encode_one(self.range, source, missing, mismatch)

    def _encode_one(
        self,
        attr: KeyAttr,
        source: Mapping[str, AttributeValue],
        missing: _Missing,
        mismatch: _Mismatch,
    ) -> bytes:
        value = source.get(attr.name)
        if value is None:
            raise missing(attr)
        kind = next(iter(value))
        if kind != attr.type:
            raise mismatch(attr, kind)
        return self.encode_value(attr, value)

    def encode_value(self, attr: KeyAttr, value: AttributeValue) -> bytes:
        """Encode one key value of ``attr``'s (already checked) type, enforcing key rules."""
        kind = attr.type
        if value[kind] == "":
            what = "binary" if kind == "B" else "string"
            raise validation_error(
                "One or more parameter values are not valid. The AttributeValue for a key "
                f"attribute cannot contain an empty {what} value. Key: {attr.name}"
            )
        is_hash = attr is self.hash
        limit = MAX_HASH_KEY_BYTES if is_hash else MAX_RANGE_KEY_BYTES
        if oversized_key(kind, value[kind], limit) is not None:
            if is_hash:
                raise validation_error(
                    "One or more parameter values were invalid: Size of hashkey has exceeded "
                    "the maximum size limit of2048 bytes"
                )
            raise validation_error(
                "One or more parameter values were invalid: Aggregated size of all range keys "
                "has exceeded the size limit of 1024 bytes"
            )
        return encode_key(value)

    def key_of(self, item: Mapping[str, AttributeValue]) -> Item:
        """The key attributes of a stored item (for LastEvaluatedKey and errors)."""
        return {name: item[name] for name in self.key_names}

    # ----------------------------------------------------------------- describe

    def describe(self, status: str = "ACTIVE") -> dict[str, Any]:
        """The TableDescription DynamoDB returns for this table."""
        schema = [{"AttributeName": self.hash.name, "KeyType": "HASH"}]
        if self.range is not None:
            schema.append({"AttributeName": self.range.name, "KeyType": "RANGE"})
        throughput: dict[str, Any] = {
            "NumberOfDecreasesToday": self.decreases_today,
            "ReadCapacityUnits": self.read_units,
            "WriteCapacityUnits": self.write_units,
        }
        if self.last_increase is not None:
            throughput["LastIncreaseDateTime"] = self.last_increase
        if self.last_decrease is not None:
            throughput["LastDecreaseDateTime"] = self.last_decrease
        description: dict[str, Any] = {
            "AttributeDefinitions": [dict(d) for d in self.attribute_definitions],
            "TableName": self.name,
            "KeySchema": schema,
            "TableStatus": status,
            "CreationDateTime": self.created,
            "ProvisionedThroughput": throughput,
            "TableSizeBytes": self.store.size_bytes,
            "ItemCount": self.store.item_count,
            "TableArn": self.arn,
            "TableId": self.table_id,
            "DeletionProtectionEnabled": self.deletion_protection,
        }
        gsis = [i.describe(self.arn, self.billing_mode) for i in self.indexes if i.is_global]
        lsis = [i.describe(self.arn, self.billing_mode) for i in self.indexes if not i.is_global]
        description.update(describe_settings(self.settings))  # stream ARN and label
        if "restore_summary" in self.settings:
            description["RestoreSummary"] = dict(self.settings["restore_summary"])
        replicas = self.settings.get("replicas")
        if replicas:  # a global table (._replication): the other regions, never its own
            description["GlobalTableVersion"] = "2019.11.21"
            description["Replicas"] = [
                {"RegionName": region, "ReplicaStatus": status}
                for region, status in replicas.items()
                if region != self.region
            ]
        if gsis:
            description["GlobalSecondaryIndexes"] = gsis
        if lsis:
            description["LocalSecondaryIndexes"] = lsis
        if self.billing_mode == "PAY_PER_REQUEST" or self.billing_changed is not None:
            summary: dict[str, Any] = {"BillingMode": self.billing_mode}
            summary["LastUpdateToPayPerRequestDateTime"] = self.billing_changed or self.created
            description["BillingModeSummary"] = summary
        return description
