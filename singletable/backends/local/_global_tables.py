"""The global-table operations: UpdateTable ``ReplicaUpdates`` (version 2019.11.21),
the replica auto-scaling operations and the legacy (2017.11.29) global-table API.

Replica updates follow the live service (captured by ack-api-quirks' lab, "Table
replicas", findings DDB-TABLE-203/224/226/305, and ScyllaDB's Alternator suite run
against DynamoDB, ``test/alternator/test_global_tables.py``):

* one Create or Delete per call ("Update table operation with more than one create
  or delete replica actions not allowed"), never two kinds ("... more than one type of
  replica actions not allowed."), two identical Creates count once;
* the table's own region is refused ("Cannot add or delete the local region through
  ReplicaUpdates..."), a region already in the group or holding a table of that name
  is "... because one or more replicas already existed as tables." (sic), a Delete or
  Update of a region outside the group is "... were not part of the global table...";
* no stream prerequisite: a table without a stream gets a NEW_AND_OLD_IMAGES one, an
  existing stream is kept whatever its view type; while the table is global its stream
  cannot be disabled;
* the replica is CREATING until the replication queue creates it in its region (with
  the table's key schema, indexes, billing mode, stream view type, TTL setting and
  items), then ACTIVE; meanwhile another replica action is ResourceInUseException;
* Delete removes the replica's table at once (the live service takes minutes).

The legacy API is answered as DynamoDB answers it since new 2017.11.29 groups can
no longer be made: CreateGlobalTable is a ValidationException naming the version,
Describe/Update(GlobalTable|GlobalTableSettings) find no global table
(GlobalTableNotFoundException), ListGlobalTables lists none.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from singletable.backends.local._regions import REGION_PATTERN
from singletable.backends.local._replication import group_of
from singletable.backends.local._schema import TableDef
from singletable.backends.local.errors import DynamoDBError, validation_error

if TYPE_CHECKING:
    from singletable.backends.local.engine import LocalEngine

__all__ = [
    "apply_replica_updates",
    "check_replica_updates",
    "check_stream_update",
    "create_global_table",
    "describe_global_table",
    "describe_table_replica_auto_scaling",
    "list_global_tables",
    "table_deleted",
    "update_table_replica_auto_scaling",
]

_ACTIONS = ("Create", "Update", "Delete")
_IN_USE = "The resource which you are attempting to change is in use."
_LEGACY = (
    "DynamoDB global tables version 2017.11.29 is not supported. We recommend using "
    "DynamoDB global tables version 2019.11.21, instead of version 2017.11.29 (Legacy)."
)

Action = tuple[str, str, dict[str, Any]]
"""A replica action: its kind (Create, Update, Delete), the region, its members."""


def check_replica_updates(raw: Any) -> list[Action]:
    """The actions of an UpdateTable ``ReplicaUpdates``, checked for shape and count."""
    if not isinstance(raw, list):
        raise DynamoDBError(
            "SerializationException", "Unexpected value type in payload for ReplicaUpdates"
        )
    if not raw:
        raise validation_error(
            "1 validation error detected: Value '[]' at 'replicaUpdates' failed to satisfy "
            "constraint: Member must have length greater than or equal to 1"
        )
    actions: list[Action] = []
    for entry in raw:
        given = [kind for kind in _ACTIONS if isinstance(entry, dict) and entry.get(kind)]
        if len(given) != 1:
            raise validation_error(
                "There are no actions specified in the Replica Update Action of the request."
            )
        kind = given[0]
        members = entry[kind]
        region = members.get("RegionName") if isinstance(members, dict) else None
        if not isinstance(region, str) or not region:
            # The live service answers an AccessDeniedException here (no region to
            # authorize); the wording below is this engine's.
            raise validation_error(f"{kind} replica action needs a RegionName")
        if REGION_PATTERN.fullmatch(region) is None:
            raise validation_error(f"Region {region} is not supported.")  # engine's wording
        if kind == "Update" and not any(name != "RegionName" for name in members):
            raise validation_error(
                "There are no actions specified in the Replica Update Action of the request."
            )
        action = (kind, region, members)
        if kind == "Create" and any(a[0] == "Create" and a[1] == region for a in actions):
            continue  # two identical Creates are one
        actions.append(action)
    kinds = {action[0] for action in actions}
    if len(kinds) > 1:
        raise validation_error(
            "Update table operation with more than one type of replica actions not allowed."
        )
    if sum(1 for action in actions if action[0] != "Update") > 1:
        raise validation_error(
            "Update table operation with more than one create or delete replica actions not allowed"
        )
    return actions


def check_stream_update(table: TableDef, enabled: bool) -> None:
    """A global table's stream cannot be disabled (ack-api-quirks DDB-TABLE-222)."""
    if not enabled and group_of(table) is not None:
        raise validation_error(
            "One or more parameter values were invalid: Disabling Stream is not allowed for "
            "a Global Table replica."
        )


def apply_replica_updates(engine: LocalEngine, table: TableDef, actions: list[Action]) -> None:
    """Carry out checked replica actions on ``table`` (caller holds the lock)."""
    replication = engine.regions.replication
    group = group_of(table) or {engine.region: "ACTIVE"}
    for _kind, region, _members in actions:
        if region == engine.region:
            raise validation_error(
                "Cannot add or delete the local region through ReplicaUpdates. Use "
                "CreateTable, DeleteTable, or UpdateTable as required."
            )
    if any(status not in ("ACTIVE", "CREATION_FAILED") for status in group.values()):
        raise DynamoDBError("ResourceInUseException", _IN_USE)
    for kind, region, _members in actions:
        if kind == "Create":
            if region in group or table.name in engine.regions.engine(region).tables:
                raise validation_error(
                    f"Failed to create a the new replica of table with name: '{table.name}' "
                    "because one or more replicas already existed as tables."
                )
        elif region not in group:
            raise validation_error(
                "Update global table operation failed because one or more replicas were not "
                "part of the global table. Please retry the request without these replicas: "
                f"[{region}]."
            )
    for kind, region, _members in actions:
        if kind == "Create":
            if not (table.settings.get("stream") or {}).get("StreamEnabled"):
                engine.streams.enable(table, "NEW_AND_OLD_IMAGES")
            updated = dict(group)
            updated[region] = "CREATING"
            replication.set_group(table.name, set(group), updated, adopt=engine.region)
            replication.queue_create(engine, table, region)
        elif kind == "Delete":
            remaining = {r: s for r, s in group.items() if r != region}
            _drop_replica(engine.regions.engine(region), table.name)
            replication.set_group(table.name, set(group), remaining if len(remaining) > 1 else None)
        # Update: per-replica overrides (throughput, table class, KMS key) are accepted
        # and not modelled: every replica has the table's settings.


def _drop_replica(engine: LocalEngine, name: str) -> None:
    """Delete the replica table ``name`` in ``engine``'s region."""
    table = engine.tables.get(name)
    if table is None or group_of(table) is None:
        return  # not made yet, or a table of that name that is not the replica
    with engine.storage.atomic():
        del engine.tables[name]
        engine.streams.table_deleted(table)
        engine.storage.drop_table(name)
    engine.regions.replication.forget(engine.region, name)


def table_deleted(engine: LocalEngine, table: TableDef) -> None:
    """DeleteTable on a member: it leaves its group; the other replicas stay (caller holds
    the lock and has checked that no replica is being created)."""
    group = group_of(table)
    if group is None:
        return
    remaining = {region: s for region, s in group.items() if region != engine.region}
    replication = engine.regions.replication
    replication.forget(engine.region, table.name)
    replication.set_group(table.name, set(remaining), remaining if len(remaining) > 1 else None)


def check_delete(table: TableDef) -> None:
    """DeleteTable is refused while a replica of the table is being created."""
    group = group_of(table)
    if group is not None and any(status == "CREATING" for status in group.values()):
        raise DynamoDBError("ResourceInUseException", _IN_USE)


# --------------------------------------------------------------------------- auto scaling


def _global_table(engine: LocalEngine, request: dict[str, Any]) -> TableDef:
    name = request.get("TableName")
    if not isinstance(name, str):
        raise validation_error(
            "1 validation error detected: Value null at 'tableName' failed to satisfy "
            "constraint: Member must not be null"
        )
    table = engine.tables.get(name)
    if table is None or group_of(table) is None:
        # ack-api-quirks DDB-TABLE-231: a regional table has no replica auto scaling.
        raise DynamoDBError(
            "ResourceNotFoundException", f"Global table with name: {name} does not exist."
        )
    return table


def describe_table_replica_auto_scaling(
    engine: LocalEngine, request: dict[str, Any]
) -> dict[str, Any]:
    """DescribeTableReplicaAutoScaling: every replica, with no auto scaling configured."""
    with engine.lock:
        table = _global_table(engine, request)
        group = group_of(table) or {}
        replicas = [
            {
                "RegionName": region,
                "GlobalSecondaryIndexes": [
                    {"IndexName": index.name, "IndexStatus": "ACTIVE"}
                    for index in table.indexes
                    if index.is_global
                ],
                "ReplicaStatus": status,
            }
            for region, status in group.items()
        ]
        return {
            "TableAutoScalingDescription": {
                "TableName": table.name,
                "TableStatus": "ACTIVE",
                "Replicas": replicas,
            }
        }


def update_table_replica_auto_scaling(
    engine: LocalEngine, request: dict[str, Any]
) -> dict[str, Any]:
    """UpdateTableReplicaAutoScaling: refused (the engine has no Application Auto Scaling)."""
    with engine.lock:
        _global_table(engine, request)
    raise validation_error(
        "UpdateTableReplicaAutoScaling is not supported by the local engine: it has no "
        "Application Auto Scaling (replica capacity is not enforced)"
    )


# --------------------------------------------------------------------------- legacy API


def _global_table_name(request: dict[str, Any]) -> str:
    name = request.get("GlobalTableName")
    if not isinstance(name, str):
        raise validation_error(
            "1 validation error detected: Value null at 'globalTableName' failed to satisfy "
            "constraint: Member must not be null"
        )
    return name


def create_global_table(engine: LocalEngine, request: dict[str, Any]) -> dict[str, Any]:
    """CreateGlobalTable: version 2017.11.29 is refused, as DynamoDB refuses it since 2025."""
    _global_table_name(request)
    raise validation_error(_LEGACY)


def describe_global_table(engine: LocalEngine, request: dict[str, Any]) -> dict[str, Any]:
    """DescribeGlobalTable and the other legacy operations naming a global table: there
    is none (a 2019.11.21 table is not one of them either)."""
    name = _global_table_name(request)
    raise DynamoDBError(
        "GlobalTableNotFoundException", f"Global table with name '{name}' does not exist."
    )


def list_global_tables(engine: LocalEngine, request: dict[str, Any]) -> dict[str, Any]:
    """ListGlobalTables: no version 2017.11.29 global table exists."""
    return {"GlobalTables": []}
