"""On-demand backups and point-in-time recovery (PITR).

Operations: CreateBackup, DescribeBackup, ListBackups, DeleteBackup,
RestoreTableFromBackup, UpdateContinuousBackups, DescribeContinuousBackups,
RestoreTableToPointInTime, in memory and durable modes alike.

Backups are stores of the engine's :class:`~.storage.Storage`, named
``backup/<table>/<id>`` (``/`` cannot occur in a table name) with a catalog entry
of kind ``"backup"`` (the table's own catalog entry, its counts, the backup's
details). So a durable engine keeps its backups on disk, and:

* in a :class:`~.durable.DurableStorage` a backup is one ``INSERT ... SELECT``
  inside SQLite (:meth:`~.durable.DurableStorage.copy_store`): no item passes
  through Python, and the copy is loaded into memory only when restored;
* in memory the backup store holds the table's own item objects (stored items
  are never modified), so it costs one reference per item, never an item copy.

A restore creates the target table's store and catalog entry and commits every
item through :func:`._write.commit` in one atomic group, so the secondary indexes
(those of the backup, or the request's overrides) are built by the same code as
for any write, and a crash leaves either the whole restored table or none of it.

PITR: the design is *current state rewound*. While PITR is on, a change listener
appends ``(time, key, old item, old size)`` of every change to a history store
``pitr/<table id>`` (one partition, ordered by a sequence number; entries older
than the recovery period, 35 days by default, are pruned as new ones arrive).
RestoreTableToPointInTime(T) takes the table's current items and undoes, newest
first, every change made after T: O(table + changes since T), exact to the
change. The alternative, periodic snapshots plus replay, would cost a full copy
per snapshot and still need the change log. (History is written just after the
change's own commit, by the listener; in durable mode a crash between the two can
lose the history of that one change.) LatestRestorableDateTime is the current
time (the local engine has no replication lag; DynamoDB reports about five
minutes before now).

Messages: those of moto (which records DynamoDB's) where DynamoDB's own could not
be confirmed: "Table not found: X" (TableNotFoundException), "Backup not found:
<arn>", "Table already exists: X", "Point in time recovery is not enabled for
table 'X'"; the InvalidRestoreTimeException text is the API Reference's
description of the error.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from singletable._values import Item, item_size
from singletable.backends.local._params import Checks
from singletable.backends.local._schema import TableDef
from singletable.backends.local._write import Change, commit, register_listener
from singletable.backends.local.errors import DynamoDBError, validation_error

if TYPE_CHECKING:
    from singletable.backends.local.engine import LocalEngine
    from singletable.backends.local.storage import TableStore

__all__ = [
    "Backups",
    "create_backup",
    "delete_backup",
    "describe_backup",
    "describe_continuous_backups",
    "list_backups",
    "restore_table_from_backup",
    "restore_table_to_point_in_time",
    "update_continuous_backups",
]

DAY = 86_400.0
DEFAULT_PERIOD_DAYS = 35
_HISTORY_PK = b"h"
_SETTING = "continuous_backups"


def _table_not_found(name: str) -> DynamoDBError:
    return DynamoDBError("TableNotFoundException", f"Table not found: {name}")


def _backup_not_found(arn: str) -> DynamoDBError:
    return DynamoDBError("BackupNotFoundException", f"Backup not found: {arn}")


def _already_exists(name: str) -> DynamoDBError:
    return DynamoDBError("TableAlreadyExistsException", f"Table already exists: {name}")


# --------------------------------------------------------------------------- engine state


class Backups:
    """The backup and PITR state of one engine (its change listener records PITR history)."""

    def __init__(self, engine: LocalEngine) -> None:
        self._engine = engine
        self._sequence: dict[str, int] = {}  # next history number, by history store
        register_listener(engine, self._on_commit)

    def catalog_state(self) -> dict[str, int]:
        """What a table operation may change here (see ._rollback)."""
        return dict(self._sequence)

    def restore_catalog_state(self, state: dict[str, int]) -> None:
        """Go back to a :meth:`catalog_state` (the table operation was rolled back)."""
        self._sequence.clear()
        self._sequence.update(state)

    # ----------------------------------------------------------------- PITR history

    @staticmethod
    def history_name(table: TableDef) -> str:
        """The store holding ``table``'s PITR history."""
        return f"pitr/{table.table_id}"

    def history(self, table: TableDef) -> TableStore | None:
        """``table``'s history store, or None (PITR off)."""
        name = self.history_name(table)
        storage = self._engine.storage
        return storage.table(name) if name in storage else None

    def _on_commit(self, changes: Sequence[Change], identity: dict[str, Any] | None) -> None:
        for change in changes:  # (most writes: no table with PITR, nothing to build)
            setting = change.table.settings.get(_SETTING)
            if setting is not None and setting.get("enabled"):
                break
        else:
            return
        pitr = [c for c in changes if (c.table.settings.get(_SETTING) or {}).get("enabled")]
        now = self._engine.clock()
        storage = self._engine.storage
        with storage.atomic():
            for change in pitr:
                store = self.history(change.table)
                if store is None:
                    continue
                entry: Any = {
                    "t": now,
                    "pk": change.pk.hex(),
                    "sk": change.sk.hex(),
                    "old": change.old,
                    "size": 0 if change.old is None else item_size(change.old),
                }
                store.put(_HISTORY_PK, self._next(change.table, store), entry, 0)
                self._prune(change.table, store, now)

    def _next(self, table: TableDef, store: TableStore) -> bytes:
        name = self.history_name(table)
        number = self._sequence.get(name)
        if number is None:  # after a reopen: continue after the last entry
            last = next(store.query(_HISTORY_PK, forward=False), None)
            number = 0 if last is None else int.from_bytes(last[0], "big") + 1
        self._sequence[name] = number + 1
        return number.to_bytes(8, "big")

    def _prune(self, table: TableDef, store: TableStore, now: float) -> None:
        period = (table.settings.get(_SETTING) or {}).get("days", DEFAULT_PERIOD_DAYS) * DAY
        for sk, stored in list(_take(store.query(_HISTORY_PK), 16)):
            entry: Any = stored
            if entry["t"] >= now - period:
                break
            store.delete(_HISTORY_PK, sk)

    def start_history(self, table: TableDef) -> None:
        """Create ``table``'s (empty) history store."""
        name = self.history_name(table)
        storage = self._engine.storage
        if name not in storage:
            storage.create_table(name, {"kind": "pitr", "table": table.name})
        self._sequence[name] = 0

    def stop_history(self, table: TableDef) -> None:
        """Drop ``table``'s history store."""
        name = self.history_name(table)
        if name in self._engine.storage:
            self._engine.storage.drop_table(name)
        self._sequence.pop(name, None)


def _take(rows: Any, n: int) -> Any:
    for i, row in enumerate(rows):
        if i == n:
            return
        yield row


def _state(engine: LocalEngine) -> Backups:
    return engine.backups


# --------------------------------------------------------------------------- helpers


def _table(engine: LocalEngine, name: str | None) -> TableDef:
    assert name is not None
    table = engine.tables.get(name)
    if table is None:
        raise _table_not_found(name)
    return table


def _backup_arn(checks: Checks) -> str | None:
    arn = checks.required("BackupArn")
    if arn is None:
        return None
    if not isinstance(arn, str):
        raise DynamoDBError(
            "SerializationException", "Unexpected value type in payload for BackupArn"
        )
    if len(arn) < 37:
        checks.fail("backupArn", arn, "Member must have length greater than or equal to 37")
    if len(arn) > 1024:
        checks.fail("backupArn", arn, "Member must have length less than or equal to 1024")
    return arn


def _store_name(arn: str) -> str | None:
    """The store of the backup ``arn`` (None if the ARN is not one of ours)."""
    marker = ":table/"
    at = arn.find(marker)
    if at < 0 or "/backup/" not in arn:
        return None
    table, _, identifier = arn[at + len(marker) :].partition("/backup/")
    return f"backup/{table}/{identifier}"


def _backup_meta(engine: LocalEngine, arn: str) -> tuple[str, dict[str, Any]]:
    name = _store_name(arn)
    if name is None or name not in engine.storage:
        raise _backup_not_found(arn)
    meta = engine.storage.get_meta(name)
    if meta.get("kind") != "backup" or meta.get("arn") != arn:
        raise _backup_not_found(arn)
    return name, meta


def _details(meta: dict[str, Any], status: str = "AVAILABLE") -> dict[str, Any]:
    return {
        "BackupArn": meta["arn"],
        "BackupName": meta["name"],
        "BackupSizeBytes": meta["size"],
        "BackupStatus": status,
        "BackupType": "USER",
        "BackupCreationDateTime": meta["created"],
    }


def _description(meta: dict[str, Any], status: str = "AVAILABLE") -> dict[str, Any]:
    source = meta["table"]
    schema = [{"AttributeName": source["hash"][0], "KeyType": "HASH"}]
    if source.get("range"):
        schema.append({"AttributeName": source["range"][0], "KeyType": "RANGE"})
    details: dict[str, Any] = {
        "TableName": source["name"],
        "TableId": source["table_id"],
        "TableArn": meta["table_arn"],
        "TableSizeBytes": meta["size"],
        "KeySchema": schema,
        "TableCreationDateTime": source["created"],
        "ProvisionedThroughput": {
            "ReadCapacityUnits": source["read_units"],
            "WriteCapacityUnits": source["write_units"],
        },
        "ItemCount": meta["count"],
        "BillingMode": source["billing_mode"],
    }
    features: dict[str, Any] = {}
    for key, wire in (("LocalSecondaryIndexes", False), ("GlobalSecondaryIndexes", True)):
        indexes = [
            {
                "IndexName": index["IndexName"],
                "KeySchema": index["KeySchema"],
                "Projection": index["Projection"],
            }
            for index in source.get("indexes") or []
            if bool(index.get("Global")) == wire
        ]
        if indexes:
            features[key] = indexes
    return {
        "BackupDetails": _details(meta, status),
        "SourceTableDetails": details,
        "SourceTableFeatureDetails": features,
    }


# --------------------------------------------------------------------------- backups


def create_backup(engine: LocalEngine, request: dict[str, Any]) -> dict[str, Any]:
    """CreateBackup: a consistent copy of the table's items and definition."""
    checks = Checks(request)
    name = checks.table_name()
    backup_name = checks.table_name("BackupName")
    checks.raise_if_any()
    assert backup_name is not None
    with engine.lock:
        table = _table(engine, name)
        created = engine.clock()
        identifier = f"{int(created * 1000):014d}-{uuid.uuid4().hex[:8]}"
        arn = f"{table.arn}/backup/{identifier}"
        meta = {
            "kind": "backup",
            "arn": arn,
            "name": backup_name,
            "created": created,
            "table": table.to_meta(),
            "table_arn": table.arn,
            "count": table.store.item_count,
            "size": table.store.size_bytes,
        }
        store_name = f"backup/{table.name}/{identifier}"
        _copy_store(engine, table, store_name, meta)
    return {"BackupDetails": _details(meta)}


def _copy_store(engine: LocalEngine, table: TableDef, name: str, meta: dict[str, Any]) -> None:
    storage = engine.storage
    copy_store = getattr(storage, "copy_store", None)
    if copy_store is not None:  # DurableStorage: copied inside SQLite
        copy_store(table.name, name, meta)
        return
    with storage.atomic():
        target = storage.create_table(name, meta)
        for pk, sk, item, size in table.rows():
            target.put(pk, sk, item, size)  # the same (immutable) item objects


def describe_backup(engine: LocalEngine, request: dict[str, Any]) -> dict[str, Any]:
    """DescribeBackup."""
    checks = Checks(request)
    arn = _backup_arn(checks)
    checks.raise_if_any()
    assert arn is not None
    with engine.lock:
        _, meta = _backup_meta(engine, arn)
        return {"BackupDescription": _description(meta)}


def delete_backup(engine: LocalEngine, request: dict[str, Any]) -> dict[str, Any]:
    """DeleteBackup: the description, with BackupStatus DELETED."""
    checks = Checks(request)
    arn = _backup_arn(checks)
    checks.raise_if_any()
    assert arn is not None
    with engine.lock:
        name, meta = _backup_meta(engine, arn)
        engine.storage.drop_table(name)
    return {"BackupDescription": _description(meta, "DELETED")}


def list_backups(engine: LocalEngine, request: dict[str, Any]) -> dict[str, Any]:
    """ListBackups: by creation time; TableName, time bounds, BackupType, Limit, paging."""
    checks = Checks(request)
    name = checks.table_name(required=False)
    limit = checks.integer("Limit", 1, 100)
    kind = checks.enum("BackupType", ("USER", "SYSTEM", "AWS_BACKUP", "ALL"), "USER")
    start = request.get("ExclusiveStartBackupArn")
    checks.raise_if_any()
    lower = _time(request.get("TimeRangeLowerBound"))
    upper = _time(request.get("TimeRangeUpperBound"))
    with engine.lock:
        metas = [
            engine.storage.get_meta(store)
            for store in engine.storage.table_names()
            if store.startswith("backup/")
        ]
    metas = [m for m in metas if m.get("kind") == "backup" and kind in ("USER", "ALL")]
    if name is not None:
        metas = [m for m in metas if m["table"]["name"] == name]
    metas = [
        m
        for m in metas
        if (lower is None or m["created"] >= lower) and (upper is None or m["created"] < upper)
    ]
    metas.sort(key=lambda m: (m["created"], m["arn"]))
    if start is not None:
        arns = [m["arn"] for m in metas]
        metas = metas[arns.index(start) + 1 :] if start in arns else metas
    response: dict[str, Any] = {
        "BackupSummaries": [_summary(m) for m in metas[: limit or len(metas)]]
    }
    if limit is not None and len(metas) > limit:
        response["LastEvaluatedBackupArn"] = metas[limit - 1]["arn"]
    return response


def _time(value: Any) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise DynamoDBError("SerializationException", "Unexpected value type in payload")
    return float(value)


def _summary(meta: dict[str, Any]) -> dict[str, Any]:
    return {
        "TableName": meta["table"]["name"],
        "TableId": meta["table"]["table_id"],
        "TableArn": meta["table_arn"],
        "BackupArn": meta["arn"],
        "BackupName": meta["name"],
        "BackupCreationDateTime": meta["created"],
        "BackupStatus": "AVAILABLE",
        "BackupType": "USER",
        "BackupSizeBytes": meta["size"],
    }


# --------------------------------------------------------------------------- restores


def _target_meta(
    engine: LocalEngine, source: dict[str, Any], target: str, request: dict[str, Any]
) -> dict[str, Any]:
    """The catalog entry of a restored table: the source's, renamed, with overrides applied."""
    meta = dict(source)
    meta.update(
        name=target,
        table_id=str(uuid.uuid4()),
        created=engine.clock(),
        region=engine.region,
        last_increase=None,
        last_decrease=None,
        decreases_today=0,
        billing_changed=None,
        deletion_protection=False,
        tags={},
        settings={},  # streams, TTL and PITR are not restored (they are set up again)
    )
    billing = request.get("BillingModeOverride")
    if billing is not None:
        if billing not in ("PROVISIONED", "PAY_PER_REQUEST"):
            raise validation_error(
                f"1 validation error detected: Value '{billing}' at 'billingModeOverride' failed "
                "to satisfy constraint: Member must satisfy enum value set: "
                "[PROVISIONED, PAY_PER_REQUEST]"
            )
        meta["billing_mode"] = billing
        if billing == "PAY_PER_REQUEST":
            meta["read_units"] = meta["write_units"] = 0
    throughput = request.get("ProvisionedThroughputOverride")
    if isinstance(throughput, dict):
        meta["read_units"] = int(throughput.get("ReadCapacityUnits", meta["read_units"]))
        meta["write_units"] = int(throughput.get("WriteCapacityUnits", meta["write_units"]))
    for member, is_global in (
        ("GlobalSecondaryIndexOverride", True),
        ("LocalSecondaryIndexOverride", False),
    ):
        if member in request:
            meta["indexes"] = [
                index
                for index in meta.get("indexes") or []
                if bool(index.get("Global")) != is_global
            ] + _override_indexes(meta, request[member], is_global)
    return meta


def _override_indexes(meta: dict[str, Any], raw: Any, is_global: bool) -> list[dict[str, Any]]:
    """Index definitions (catalog form) of an index override, checked like CreateTable's."""
    from singletable.backends.local._index_ddl import build_index, check_index_specs, index_specs

    checks = Checks({"Indexes": raw})
    specs = index_specs(checks, {"Indexes": raw}, "Indexes", is_global=is_global) or []
    checks.raise_if_any()
    defs = {d["AttributeName"]: d["AttributeType"] for d in meta["attribute_definitions"]}
    schema = [(meta["hash"][0], "HASH")]
    if meta.get("range"):
        schema.append((meta["range"][0], "RANGE"))
    gsis, lsis = (specs, None) if is_global else (None, specs)
    check_index_specs(gsis, lsis, schema, defs, meta["billing_mode"])
    keys = tuple(name for name, _ in schema)
    return [build_index(spec, defs, keys).definition() for spec in specs]


def _restore(
    engine: LocalEngine,
    meta: dict[str, Any],
    rows: list[tuple[bytes, bytes, Item, int]],
    summary: dict[str, Any],
) -> dict[str, Any]:
    """Create the table of catalog entry ``meta`` holding ``rows`` (caller holds the lock)."""
    storage = engine.storage
    with storage.atomic():
        store = storage.create_table(meta["name"], meta)
        table = TableDef.from_meta(meta, store)
        table.open_indexes(storage)  # empty: the commit below fills them
        for _, _, item, _ in rows:
            table.check_index_keys(item)
        # DescribeTable keeps reporting where the table came from.
        table.settings["restore_summary"] = summary
        engine.save_table(table)
        commit(engine, [Change(table, pk, sk, None, item, size) for pk, sk, item, size in rows])
    engine.tables[table.name] = table
    return {"TableDescription": table.describe()}


def restore_table_from_backup(engine: LocalEngine, request: dict[str, Any]) -> dict[str, Any]:
    """RestoreTableFromBackup: a new table with the backup's items and definition."""
    checks = Checks(request)
    target = checks.table_name("TargetTableName")
    arn = _backup_arn(checks)
    checks.raise_if_any()
    assert target is not None and arn is not None
    with engine.lock:
        name, backup = _backup_meta(engine, arn)
        if target in engine.tables:
            raise _already_exists(target)
        meta = _target_meta(engine, backup["table"], target, request)
        store = engine.storage.table(name)
        rows = [(pk, sk, item, store.size_of(pk, sk)) for pk, sk, item in store.scan()]
        summary = {
            "SourceBackupArn": arn,
            "SourceTableArn": backup["table_arn"],
            "RestoreDateTime": meta["created"],
            "RestoreInProgress": False,
        }
        return _restore(engine, meta, rows, summary)


def restore_table_to_point_in_time(engine: LocalEngine, request: dict[str, Any]) -> dict[str, Any]:
    """RestoreTableToPointInTime: the source table as it was at RestoreDateTime, as a new table."""
    checks = Checks(request)
    source_name = checks.table_name("SourceTableName", required=False)
    target = checks.table_name("TargetTableName")
    checks.raise_if_any()
    assert target is not None
    source_arn = request.get("SourceTableArn")
    if source_name is None and isinstance(source_arn, str):
        source_name = source_arn.rpartition(":table/")[2]
    if source_name is None:
        raise validation_error("Either SourceTableArn or SourceTableName must be specified")
    use_latest = bool(request.get("UseLatestRestorableTime"))
    when = _time(request.get("RestoreDateTime"))
    with engine.lock:
        table = _table(engine, source_name)
        if target in engine.tables:
            raise _already_exists(target)
        state = _state(engine)
        history = state.history(table)
        setting = table.settings.get(_SETTING) or {}
        if not setting.get("enabled") or history is None:
            raise DynamoDBError(
                "PointInTimeRecoveryUnavailableException",
                f"Point in time recovery is not enabled for table '{table.name}'",
            )
        now = engine.clock()
        earliest = _earliest(setting, now)
        if use_latest or when is None:
            when = now
        elif not earliest <= when <= now:
            raise DynamoDBError(
                "InvalidRestoreTimeException",
                "An invalid restore time was specified. RestoreDateTime must be between "
                "EarliestRestorableDateTime and LatestRestorableDateTime.",
            )
        rows = _rewound(table, history, when)
        meta = _target_meta(engine, table.to_meta(), target, request)
        summary = {
            "SourceTableArn": table.arn,
            "RestoreDateTime": when,
            "RestoreInProgress": False,
        }
        return _restore(engine, meta, rows, summary)


def _rewound(
    table: TableDef, history: TableStore, when: float
) -> list[tuple[bytes, bytes, Item, int]]:
    """The table's rows as they were at ``when``: current rows, later changes undone."""
    state = {(pk, sk): (item, size) for pk, sk, item, size in table.rows()}
    for _, stored in history.query(_HISTORY_PK, forward=False):
        entry: Any = stored
        if entry["t"] <= when:
            break
        key = (bytes.fromhex(entry["pk"]), bytes.fromhex(entry["sk"]))
        if entry["old"] is None:
            state.pop(key, None)
        else:
            state[key] = (entry["old"], entry["size"])
    return [(pk, sk, item, size) for (pk, sk), (item, size) in state.items()]


# --------------------------------------------------------------------------- continuous backups


def _earliest(setting: dict[str, Any], now: float) -> float:
    days = setting.get("days", DEFAULT_PERIOD_DAYS)
    return float(max(setting.get("since", now), now - days * DAY))


def _continuous(table: TableDef, now: float) -> dict[str, Any]:
    setting = table.settings.get(_SETTING) or {}
    pitr: dict[str, Any]
    if setting.get("enabled"):
        pitr = {
            "PointInTimeRecoveryStatus": "ENABLED",
            "RecoveryPeriodInDays": setting.get("days", DEFAULT_PERIOD_DAYS),
            "EarliestRestorableDateTime": _earliest(setting, now),
            "LatestRestorableDateTime": now,
        }
    else:
        pitr = {"PointInTimeRecoveryStatus": "DISABLED"}
    return {"ContinuousBackupsStatus": "ENABLED", "PointInTimeRecoveryDescription": pitr}


def describe_continuous_backups(engine: LocalEngine, request: dict[str, Any]) -> dict[str, Any]:
    """DescribeContinuousBackups."""
    checks = Checks(request)
    name = checks.table_name()
    checks.raise_if_any()
    with engine.lock:
        table = _table(engine, name)
        return {"ContinuousBackupsDescription": _continuous(table, engine.clock())}


def update_continuous_backups(engine: LocalEngine, request: dict[str, Any]) -> dict[str, Any]:
    """UpdateContinuousBackups: turn PITR on or off, set its recovery period (1-35 days)."""
    checks = Checks(request)
    name = checks.table_name()
    spec = checks.required("PointInTimeRecoverySpecification")
    enabled: bool | None = None
    days: int | None = None
    if isinstance(spec, dict):
        inner = Checks(spec)
        if spec.get("PointInTimeRecoveryEnabled") is None:
            checks.fail(
                "pointInTimeRecoverySpecification.pointInTimeRecoveryEnabled",
                None,
                "Member must not be null",
            )
        else:
            enabled = inner.boolean("PointInTimeRecoveryEnabled")
        days = inner.integer("RecoveryPeriodInDays", 1, 35)
        checks.errors.extend(
            e.replace(
                "'recoveryPeriodInDays'", "'pointInTimeRecoverySpecification.recoveryPeriodInDays'"
            )
            for e in inner.errors
        )
    elif spec is not None:
        raise DynamoDBError("SerializationException", "Start of list found where not expected")
    checks.raise_if_any()
    with engine.lock:
        table = _table(engine, name)
        state = _state(engine)
        setting = dict(table.settings.get(_SETTING) or {})
        now = engine.clock()
        if enabled:
            if not setting.get("enabled"):
                setting = {"enabled": True, "since": now}
                state.start_history(table)
            setting["days"] = days or setting.get("days", DEFAULT_PERIOD_DAYS)
        else:
            setting = {"enabled": False}
            state.stop_history(table)
        table.settings[_SETTING] = setting
        engine.save_table(table)
        return {"ContinuousBackupsDescription": _continuous(table, now)}
