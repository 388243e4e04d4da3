"""Table operations: CreateTable, DescribeTable, DeleteTable, ListTables, UpdateTable.

Validation order and messages follow DynamoDB (checked against the API Reference
and dynalite, whose messages were recorded from the live service): shape checks
first, all reported together, then the key-schema rules one at a time.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from singletable.backends.local import _global_tables, _streams, _tags
from singletable.backends.local._index_ddl import (
    GsiUpdates,
    attribute_definitions,
    build_index,
    check_index_specs,
    duplicate_definition,
    index_specs,
    key_schema,
)
from singletable.backends.local._params import Checks, provisioned_throughput
from singletable.backends.local._schema import KeyAttr, TableDef
from singletable.backends.local.errors import DynamoDBError, validation_error

if TYPE_CHECKING:
    from singletable.backends.local.engine import LocalEngine

__all__ = ["create_table", "delete_table", "describe_table", "list_tables", "update_table"]

MAX_CAPACITY_UNITS = 1_000_000_000_000
BILLING_MODES = ("PROVISIONED", "PAY_PER_REQUEST")


def _invalid(message: str) -> DynamoDBError:
    return validation_error("One or more parameter values were invalid: " + message)


def not_found(name: str) -> DynamoDBError:
    """DynamoDB's answer for a table operation on a table that does not exist."""
    return DynamoDBError(
        "ResourceNotFoundException", f"Requested resource not found: Table: {name} not found"
    )


def _check_bounds(throughput: tuple[int, int] | None) -> None:
    """DynamoDB's upper bound on provisioned capacity units."""
    if throughput is None:
        return
    for units, label in zip(throughput, ("ReadCapacityUnits", "WriteCapacityUnits"), strict=True):
        if units > MAX_CAPACITY_UNITS:
            raise validation_error(f"Given value {units} for {label} is out of bounds")


def create_table(engine: LocalEngine, request: dict[str, Any]) -> dict[str, Any]:
    """CreateTable."""
    checks = Checks(request)
    name = checks.table_name()
    definitions = checks.required("AttributeDefinitions")
    schema = key_schema(checks, checks.required("KeySchema"), "keySchema", 2)
    billing = checks.enum("BillingMode", BILLING_MODES, "PROVISIONED")
    throughput = provisioned_throughput(checks, request.get("ProvisionedThroughput"))
    defs, duplicate = attribute_definitions(checks, definitions)
    lsis = index_specs(checks, request, "LocalSecondaryIndexes", is_global=False)
    gsis = index_specs(checks, request, "GlobalSecondaryIndexes", is_global=True)
    stream_spec = _streams.check_specification(checks, request.get("StreamSpecification"))
    checks.raise_if_any()
    assert name is not None
    duplicate_definition(duplicate)

    if billing == "PAY_PER_REQUEST" and throughput is not None:
        raise _invalid(
            "Neither ReadCapacityUnits nor WriteCapacityUnits can be specified when BillingMode "
            "is PAY_PER_REQUEST"
        )
    if request.get("BillingMode") is None and throughput is None:
        # What DynamoDB answers when neither a billing mode nor throughput is given.
        raise validation_error("No provisioned throughput specified for the table")
    if billing == "PROVISIONED" and throughput is None:
        raise _invalid(
            "ReadCapacityUnits and WriteCapacityUnits must both be specified when "
            "BillingMode is PROVISIONED"
        )
    _check_bounds(throughput)

    keys = [key for key, _ in schema]
    if any(key not in defs for key in keys):
        if len(keys) == 2:
            raise validation_error("Invalid KeySchema: Some index key attribute have no definition")
        raise _invalid(
            "Some index key attributes are not defined in AttributeDefinitions. "
            f"Keys: [{', '.join(keys)}], AttributeDefinitions: [{', '.join(defs)}]"
        )
    if len(keys) == 2 and keys[0] == keys[1]:
        raise validation_error(
            "Both the Hash Key and the Range Key element in the KeySchema have the same name"
        )
    if schema[0][1] != "HASH":
        raise validation_error(
            "Invalid KeySchema: The first KeySchemaElement is not a HASH key type"
        )
    if len(schema) == 2 and schema[1][1] != "RANGE":
        raise validation_error(
            "Invalid KeySchema: The second KeySchemaElement is not a RANGE key type"
        )
    check_index_specs(gsis, lsis, schema, defs, billing or "PROVISIONED")
    used = set(keys)
    for spec in (lsis or []) + (gsis or []):
        used.update(spec.key_names)
    if len(definitions) != len(used) or len(defs) != len(used):
        raise _invalid(
            "Number of attributes in KeySchema does not exactly match number of attributes "
            "defined in AttributeDefinitions"
        )

    raw_tags = request.get("Tags")
    tags = _tags.check_tags(Checks(request), raw_tags) if raw_tags is not None else {}
    stream_view = _streams.creation_view(stream_spec)
    # One atomic group: a durable storage never keeps a store without its catalog entry.
    with engine.lock, engine.storage.atomic():
        if name in engine.tables:
            raise DynamoDBError("ResourceInUseException", f"Table already exists: {name}")
        read, write = throughput or (0, 0)
        table = TableDef(
            name=name,
            hash=KeyAttr(keys[0], defs[keys[0]]),
            range=KeyAttr(keys[1], defs[keys[1]]) if len(keys) == 2 else None,
            attribute_definitions=[
                {"AttributeName": key, "AttributeType": defs[key]} for key in defs
            ],
            billing_mode=billing or "PROVISIONED",
            read_units=read,
            write_units=write,
            store=engine.storage.create_table(name),
            region=engine.region,
            created=engine.clock(),
            deletion_protection=bool(request.get("DeletionProtectionEnabled", False)),
            tags=tags,
        )
        table.indexes = [
            build_index(spec, defs, table.key_names) for spec in (lsis or []) + (gsis or [])
        ]
        table.open_indexes(engine.storage)
        engine.tables[name] = table
        if stream_view is not None:
            engine.streams.enable(table, stream_view)
        engine.save_table(table)
        description = table.describe()
    return {"TableDescription": description}


def _table(engine: LocalEngine, request: dict[str, Any]) -> TableDef:
    checks = Checks(request)
    name = checks.table_name()
    checks.raise_if_any()
    assert name is not None
    table = engine.tables.get(name)
    if table is None:
        raise not_found(name)
    return table


def describe_table(engine: LocalEngine, request: dict[str, Any]) -> dict[str, Any]:
    """DescribeTable."""
    with engine.lock:
        return {"Table": _table(engine, request).describe()}


def delete_table(engine: LocalEngine, request: dict[str, Any]) -> dict[str, Any]:
    """DeleteTable: the table is gone at once; the response reports DELETING as DynamoDB does."""
    with engine.lock:
        table = _table(engine, request)
        if table.deletion_protection:
            raise validation_error(
                "Resource cannot be deleted as it is currently protected against deletion. "
                "Disable deletion protection first."
            )
        _global_tables.check_delete(table)
        full = table.describe(status="DELETING")
        description = {name: full[name] for name in _DELETE_DESCRIPTION if name in full}
        del engine.tables[table.name]
        engine.streams.table_deleted(table)
        engine.storage.drop_table(table.name)
        _global_tables.table_deleted(engine, table)  # a replica leaves its global table
    return {"TableDescription": description}


# What DynamoDB's DeleteTable response describes: the table's identity, status,
# throughput and size, without its schema, creation time, indexes or stream (API
# Reference, DeleteTable, "Examples": TableName, TableStatus, ProvisionedThroughput,
# TableSizeBytes, ItemCount; the live service adds the ARN, the ID and, for an
# on-demand table, the billing mode summary).
_DELETE_DESCRIPTION = (
    "TableName",
    "TableStatus",
    "ProvisionedThroughput",
    "TableSizeBytes",
    "ItemCount",
    "TableArn",
    "TableId",
    "BillingModeSummary",
)


def list_tables(engine: LocalEngine, request: dict[str, Any]) -> dict[str, Any]:
    """ListTables: names in order, ``Limit`` (1-100) and ``ExclusiveStartTableName``."""
    checks = Checks(request)
    limit = checks.integer("Limit", 1, 100) or 100
    start = checks.table_name("ExclusiveStartTableName", required=False)
    checks.raise_if_any()
    with engine.lock:
        names = sorted(engine.tables)
    if start is not None:
        names = [name for name in names if name > start]
    response: dict[str, Any] = {"TableNames": names[:limit]}
    if len(names) > limit:
        response["LastEvaluatedTableName"] = names[limit - 1]
    return response


def update_table(engine: LocalEngine, request: dict[str, Any]) -> dict[str, Any]:
    """UpdateTable: billing mode, provisioned throughput and deletion protection."""
    checks = Checks(request)
    billing = checks.enum("BillingMode", BILLING_MODES)
    throughput = provisioned_throughput(checks, request.get("ProvisionedThroughput"))
    protection = request.get("DeletionProtectionEnabled")
    stream_spec = _streams.check_specification(checks, request.get("StreamSpecification"))
    gsi_updates = GsiUpdates(checks, request)
    with engine.lock:
        table = _table(engine, request)
        checks.raise_if_any()
        if request.get("ReplicaUpdates") is not None:
            actions = _global_tables.check_replica_updates(request["ReplicaUpdates"])
            if billing or throughput or protection is not None or stream_spec or gsi_updates.given:
                # DynamoDB wants ReplicaUpdates alone (ack-api-quirks DDB-TABLE-224); this
                # wording is the engine's.
                raise validation_error(
                    "ReplicaUpdates cannot be combined with other table updates in one "
                    "UpdateTable request"
                )
            _global_tables.apply_replica_updates(engine, table, actions)
            return {"TableDescription": table.describe()}
        if (
            billing is None
            and throughput is None
            and protection is None
            and stream_spec is None
            and not gsi_updates.given
        ):
            raise validation_error(
                "At least one of ProvisionedThroughput, BillingMode, UpdateStreamEnabled, "
                "GlobalSecondaryIndexUpdates or SSESpecification or ReplicaUpdates is required"
            )
        if stream_spec is not None:
            _streams.check_update(table, stream_spec, request)
            _global_tables.check_stream_update(table, stream_spec[0])
        mode = billing or table.billing_mode
        if mode == "PAY_PER_REQUEST" and throughput is not None:
            raise _invalid(
                "Neither ReadCapacityUnits nor WriteCapacityUnits can be specified when "
                "BillingMode is PAY_PER_REQUEST"
            )
        if mode == "PROVISIONED" and table.billing_mode == "PAY_PER_REQUEST" and throughput is None:
            raise _invalid(
                "ProvisionedThroughput must be specified when BillingMode is PROVISIONED"
            )
        gsi_updates.validate(table, mode)
        now = engine.clock()
        if throughput is not None:
            _check_bounds(throughput)
            read, write = throughput
            if (
                (read, write) == (table.read_units, table.write_units)
                and billing in (None, mode)
                and table.billing_mode == mode
            ):
                raise validation_error(
                    "The provisioned throughput for the table will not change. The requested "
                    "value equals the current value. Current ReadCapacityUnits provisioned for "
                    f"the table: {table.read_units}. Requested ReadCapacityUnits: {read}. Current "
                    "WriteCapacityUnits provisioned for the table: "
                    f"{table.write_units}. Requested WriteCapacityUnits: {write}. Refer to the "
                    "Amazon DynamoDB Developer Guide for current limits and how to request "
                    "higher limits."
                )
            if read > table.read_units or write > table.write_units:
                table.last_increase = now
            if read < table.read_units or write < table.write_units:
                table.last_decrease = now
                table.decreases_today += 1
            table.read_units, table.write_units = read, write
        if billing is not None and billing != table.billing_mode:
            table.billing_mode = billing
            table.billing_changed = now
            if billing == "PAY_PER_REQUEST":
                table.read_units = table.write_units = 0
        if protection is not None:
            table.deletion_protection = bool(protection)
        if stream_spec is not None:
            engine.streams.apply_update(table, stream_spec)
        statuses, removed = gsi_updates.apply(table, engine.storage)
        engine.save_table(table)
        description = table.describe()
        for index in removed:
            description.setdefault("GlobalSecondaryIndexes", []).append(
                index.describe(table.arn, table.billing_mode, "DELETING")
            )
        for entry in description.get("GlobalSecondaryIndexes", []):
            entry["IndexStatus"] = statuses.get(entry["IndexName"], entry["IndexStatus"])
            if entry["IndexStatus"] == "CREATING":
                entry["Backfilling"] = False
        return {"TableDescription": description}
