"""ItemCollectionMetrics: the size of the item collections a write touched.

An *item collection* is every item of a table with one partition key value, plus
their entries in the table's local secondary indexes (Developer Guide, "Item
collections in Local Secondary Indexes"). A write asked for
``ReturnItemCollectionMetrics: SIZE`` reports, for each collection it wrote to,
the partition key value (``ItemCollectionKey``) and an estimate of the
collection's size as a ``[lower, upper]`` range in GB (``SizeEstimateRangeGB``):
PutItem, UpdateItem and DeleteItem one (:func:`collection_metrics`), BatchWriteItem
and TransactWriteItems a list per table (:func:`table_metrics`).
Only for a table with at least one LSI: on any other table the member is absent
(API Reference, ItemCollectionMetrics: "If the table does not have any local
secondary indexes, this information is not returned in the response").

The size is measured when asked, from the collection's own partition (the table
store's and each LSI store's), by the sizes the stores keep per item
(:meth:`.storage.TableStore.partition_usage`): no item is decoded, nothing is
O(table), and a write that does not ask pays nothing. Each LSI entry counts its
projected attributes plus 100 bytes of overhead (Developer Guide, "Storage
considerations for Local Secondary Indexes").

The range: DynamoDB documents only that it is an estimate ("subject to change over
time; do not rely on its precision"). What it answers for a small collection is
``[0.0, 1.0]`` (other emulators reproduce that captured shape, e.g. fakecloud PR
#1042 "emit real ItemCollectionMetrics on LSI tables"; SDK test fixtures of real
responses carry ``SizeEstimateRangeGB: [0, 1]``). Here the range is the whole GB
the size falls in: ``[floor(GB), floor(GB) + 1]``, which is ``[0.0, 1.0]`` below 1 GB.

Not modelled: the 10 GB limit of a collection (ItemCollectionSizeLimitExceededException),
which would need the collection's size on every write to an LSI table.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from singletable._values import AttributeValue, InvalidValue, validate_value

if TYPE_CHECKING:
    from singletable.backends.local._schema import TableDef

__all__ = ["collection_metrics", "has_local_indexes", "metrics_of", "table_metrics"]

GB = 1024**3
# Bytes of overhead DynamoDB counts per LSI entry (Developer Guide, "Storage
# considerations for Local Secondary Indexes": "plus 100 bytes of overhead").
ENTRY_OVERHEAD = 100


def has_local_indexes(table: TableDef) -> bool:
    """Whether ``table`` has a local secondary index (only then are metrics reported)."""
    return any(not index.is_global for index in table.indexes)


def collection_size(table: TableDef, pk: bytes) -> int:
    """Bytes of the item collection of encoded partition key ``pk``: its items, plus
    each LSI entry's projected attributes and overhead."""
    _count, size = table.store.partition_usage(pk)
    for index in table.indexes:
        if not index.is_global:
            entries, entry_bytes = index.store.partition_usage(pk)
            size += entry_bytes + ENTRY_OVERHEAD * entries
    return size


def size_estimate(size: int) -> list[float]:
    """``SizeEstimateRangeGB`` of a collection of ``size`` bytes (see the module docstring)."""
    lower = float(size // GB)
    return [lower, lower + 1.0]


def metrics_of(table: TableDef, pk: bytes, value: AttributeValue) -> dict[str, Any]:
    """One ItemCollectionMetrics: the collection of ``pk`` (whose key value is ``value``)."""
    return {
        "ItemCollectionKey": {table.hash.name: value},
        "SizeEstimateRangeGB": size_estimate(collection_size(table, pk)),
    }


def key_value(table: TableDef, key: Any) -> AttributeValue:
    """The partition key value of a request's (already validated) ``Key`` or item,
    in canonical form (a number as DynamoDB normalizes it)."""
    name = table.hash.name
    try:
        return validate_value(key[name], name)
    except InvalidValue:  # (the key was validated: not reached)
        value: AttributeValue = key[name]
        return value


def collection_metrics(
    mode: str | None, table: TableDef, pk: bytes, key: Any
) -> dict[str, Any] | None:
    """The ItemCollectionMetrics of a single-item write (PutItem, UpdateItem,
    DeleteItem) to the collection of ``pk``, whose ``key`` (a Key or an item) holds
    its partition key value; None unless asked (SIZE) on a table with an LSI."""
    if mode != "SIZE" or not has_local_indexes(table):
        return None
    return metrics_of(table, pk, key_value(table, key))


def table_metrics(
    mode: str | None, writes: list[tuple[TableDef, bytes, Any]]
) -> dict[str, list[dict[str, Any]]]:
    """The ItemCollectionMetrics of a multi-item write (BatchWriteItem,
    TransactWriteItems): ``{table name: [metrics, ...]}``, one per item collection
    written (each measured once, after all the writes), for the tables with an LSI.
    ``writes``: ``(table, pk, key or item)`` of each write made."""
    if mode != "SIZE":
        return {}
    result: dict[str, list[dict[str, Any]]] = {}
    seen: set[tuple[str, bytes]] = set()
    for table, pk, key in writes:
        if (table.name, pk) in seen or not has_local_indexes(table):
            continue
        seen.add((table.name, pk))
        result.setdefault(table.name, []).append(metrics_of(table, pk, key_value(table, key)))
    return result
