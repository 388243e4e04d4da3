"""BatchGetItem and BatchWriteItem.

Both validate every request of the batch before acting on any (a bad key, an
unknown table or a duplicate key rejects the whole batch and writes nothing),
as DynamoDB does (API Reference, BatchWriteItem: "If one or more of the
following is true, DynamoDB rejects the entire batch write operation").
The local engine never throttles, so ``UnprocessedItems`` is always empty;
``UnprocessedKeys`` holds the keys left over once a BatchGetItem response
reaches 16 MB.
"""

from __future__ import annotations

import json
import zlib
from typing import TYPE_CHECKING, Any

from singletable._values import Item, item_size
from singletable.backends.local._capacity import consumed, read_units, write_units
from singletable.backends.local._collections import table_metrics
from singletable.backends.local._exprs import RequestExpressions
from singletable.backends.local._items import find_table, prepare_item
from singletable.backends.local._params import Checks
from singletable.backends.local._schema import TableDef
from singletable.backends.local._write import Change, commit
from singletable.backends.local.errors import DynamoDBError, validation_error
from singletable.expressions import Projection

if TYPE_CHECKING:
    from singletable.backends.local.engine import LocalEngine

__all__ = ["batch_get_item", "batch_write_item"]

MAX_WRITES = 25
MAX_GETS = 100
MAX_RESPONSE_BYTES = 16 * 1024 * 1024


def _request_items(checks: Checks, operation: str) -> dict[str, Any]:
    items = checks.required("RequestItems")
    if items is not None and not isinstance(items, dict):
        raise DynamoDBError("SerializationException", "Start of list found where not expected")
    if items == {} and operation == "BatchGetItem":
        # An empty map: BatchGetItem answers with the standard envelope, BatchWriteItem
        # with its own sentence (observed in 32 and 31 of 33 regions on 2026-09-02,
        # https://github.com/nubo-db/dynoxide/pull/198).
        checks.errors.append(
            "Value at 'RequestItems' failed to satisfy constraint: "
            "Member must have length greater than or equal to 1"
        )
    checks.raise_if_any()
    if items == {}:
        raise validation_error(f"The requestItems parameter is required for {operation}")
    assert isinstance(items, dict)
    return items


def _write_list_length(request_items: dict[str, Any]) -> DynamoDBError:
    """A table's list of writes is empty or longer than 25: the map-value constraint.

    DynamoDB checks each table's list against its length constraint before counting
    the batch ("Too many items requested..." is for 26+ writes spread over tables),
    and echoes the RequestItems map in the message as Java prints it:
    ``{tbl=[com.amazonaws.dynamodb.v20120810.WriteRequest@caad9cb8, ...]}``, or
    ``{tbl=[]}`` (quoted in boto/boto3#483 and elegantdevelopment/aws-cdk-dynamodb-seeder#3).
    The hexadecimal identity hashes are Java's own; here they are a CRC of the request.
    """
    echo = ", ".join(
        f"{name}=[{', '.join(_java_write(write) for write in requests)}]"
        if isinstance(requests, list)
        else f"{name}=null"
        for name, requests in request_items.items()
    )
    return validation_error(
        f"1 validation error detected: Value '{{{echo}}}' at 'requestItems' failed to satisfy "
        "constraint: Map value must satisfy constraint: [Member must have length less than or "
        "equal to 25, Member must have length greater than or equal to 1]"
    )


def _java_write(write: Any) -> str:
    digest = zlib.crc32(json.dumps(write, sort_keys=True, default=str).encode())
    return f"com.amazonaws.dynamodb.v20120810.WriteRequest@{digest:08x}"


def _duplicates() -> DynamoDBError:
    return validation_error("Provided list of item keys contains duplicates")


def batch_write_item(engine: LocalEngine, request: dict[str, Any]) -> dict[str, Any]:
    """BatchWriteItem: up to 25 puts and deletes across tables, validated as one."""
    checks = Checks(request)
    capacity_mode = checks.enum("ReturnConsumedCapacity", ("INDEXES", "TOTAL", "NONE"))
    metrics_mode = checks.enum("ReturnItemCollectionMetrics", ("SIZE", "NONE"))
    request_items = _request_items(checks, "BatchWriteItem")
    for requests in request_items.values():
        if isinstance(requests, list) and not 1 <= len(requests) <= MAX_WRITES:
            raise _write_list_length(request_items)
    total = sum(len(reqs) if isinstance(reqs, list) else 1 for reqs in request_items.values())
    if total > MAX_WRITES:
        raise validation_error("Too many items requested for the BatchWriteItem call")
    # (table, pk, sk, item or None for a delete, size)
    planned: list[tuple[TableDef, bytes, bytes, Item | None, int]] = []
    # (table, pk, the item or Key holding its partition key value): ItemCollectionMetrics
    written: list[tuple[TableDef, bytes, Any]] = []
    with engine.lock:
        for name, requests in request_items.items():
            table = find_table(engine, name)
            if not isinstance(requests, list):
                raise _write_list_length(request_items)
            seen: set[tuple[bytes, bytes]] = set()
            for write in requests:
                write = write if isinstance(write, dict) else {}
                put, delete = write.get("PutRequest"), write.get("DeleteRequest")
                if (put is None) == (delete is None):
                    raise validation_error(
                        "Supplied AttributeValue has more than one datatypes set, must contain "
                        "exactly one of the supported datatypes"
                    )
                if put is not None:
                    pk, sk, item, size = prepare_item(table, (put or {}).get("Item"))
                    if table.indexes and not table.index_keys_plain(item):
                        table.check_index_keys(item)  # (raises DynamoDB's error)
                    planned.append((table, pk, sk, item, size))
                    written.append((table, pk, item))
                else:
                    key = (delete or {}).get("Key")
                    pk, sk = table.key_from_request(key)
                    planned.append((table, pk, sk, None, 0))
                    written.append((table, pk, key))
                if (pk, sk) in seen:
                    raise _duplicates()
                seen.add((pk, sk))
        units: dict[str, float] = {}
        # Per table, what its indexes spent: {index: (units, is_local)}; INDEXES mode
        # itemizes them as the single-item writes do (see _capacity.consumed).
        index_units: dict[str, dict[str, tuple[float, bool]]] = {}
        changes: list[Change] = []
        itemized = capacity_mode in ("TOTAL", "INDEXES")
        for table, pk, sk, new, size in planned:
            store = table.store
            old = store.get(pk, sk)
            old_size = store.size_of(pk, sk) if old is not None else 0
            changes.append(Change(table, pk, sk, old, new, size))
            if not itemized:
                continue
            units[table.name] = units.get(table.name, 0.0) + write_units(max(size, old_size))
            if table.indexes:
                spent = index_units.setdefault(table.name, {})
                for index, (cost, local) in table.index_write_costs(pk, sk, old, new).items():
                    spent[index] = (spent.get(index, (0.0, local))[0] + cost, local)
        commit(engine, changes)
        # Per table with an LSI, one entry per item collection written (API Reference,
        # BatchWriteItem: "information about any item collections that were affected by
        # individual DeleteItem or PutItem operations"); measured after the batch.
        collections = table_metrics(metrics_mode, written)
    response: dict[str, Any] = {"UnprocessedItems": {}}
    if collections:
        response["ItemCollectionMetrics"] = collections
    if capacity_mode in ("TOTAL", "INDEXES"):
        response["ConsumedCapacity"] = [
            consumed(capacity_mode, name, value, index_units=index_units.get(name))
            for name, value in units.items()
        ]
    return response


def batch_get_item(engine: LocalEngine, request: dict[str, Any]) -> dict[str, Any]:
    """BatchGetItem: up to 100 keys across tables, each table with its own projection."""
    checks = Checks(request)
    capacity_mode = checks.enum("ReturnConsumedCapacity", ("INDEXES", "TOTAL", "NONE"))
    request_items = _request_items(checks, "BatchGetItem")
    total = sum(
        len(spec.get("Keys") or []) if isinstance(spec, dict) else 0
        for spec in request_items.values()
    )
    if total > MAX_GETS:
        raise validation_error("Too many items requested for the BatchGetItem call")
    # (table name, table, spec, [(pk, sk, raw key)], projection, consistent)
    plans: list[
        tuple[TableDef, dict[str, Any], list[tuple[bytes, bytes, Any]], Projection | None, bool]
    ] = []
    with engine.lock:
        for name, spec in request_items.items():
            table = find_table(engine, name)
            if not isinstance(spec, dict):
                raise DynamoDBError("SerializationException", "Unexpected value type in payload")
            keys = spec.get("Keys")
            if not isinstance(keys, list) or not keys:
                raise validation_error(
                    "1 validation error detected: Value null at 'requestItems."
                    + name
                    + ".member.keys' failed to satisfy constraint: Member must have length "
                    "greater than or equal to 1"
                )
            spec_checks = Checks(spec)
            consistent = spec_checks.boolean("ConsistentRead")
            expressions = RequestExpressions(spec)
            projection = expressions.projection()
            expressions.finish()
            encoded: list[tuple[bytes, bytes, Any]] = []
            seen: set[tuple[bytes, bytes]] = set()
            for key in keys:
                pk, sk = table.key_from_request(key)
                if (pk, sk) in seen:
                    raise _duplicates()
                seen.add((pk, sk))
                encoded.append((pk, sk, key))
            plans.append((table, spec, encoded, projection, consistent))
        responses: dict[str, list[Item]] = {}
        unprocessed: dict[str, Any] = {}
        units: dict[str, float] = {}
        size = 0
        for table, spec, encoded, projection, consistent in plans:
            found = responses.setdefault(table.name, [])
            for position, (pk, sk, _key) in enumerate(encoded):
                if size >= MAX_RESPONSE_BYTES:
                    rest = dict(spec)
                    rest["Keys"] = [raw for _, _, raw in encoded[position:]]
                    unprocessed[table.name] = rest
                    break
                item = table.store.get(pk, sk)
                read = item_size(item) if item else 0
                units[table.name] = units.get(table.name, 0.0) + read_units(read, consistent)
                if item is not None:
                    size += read
                    found.append(projection.apply(item) if projection is not None else item)
    response: dict[str, Any] = {"Responses": responses, "UnprocessedKeys": unprocessed}
    if capacity_mode in ("TOTAL", "INDEXES"):
        response["ConsumedCapacity"] = [
            consumed(capacity_mode, name, value) for name, value in units.items()
        ]
    return response
