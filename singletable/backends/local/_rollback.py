"""Taking back a table operation whose durable commit failed.

Item writes take themselves back (see :mod:`._write`). A table operation
(CreateTable, UpdateTable, UpdateTimeToLive, a restore...) changes engine state
that no storage knows about: the catalog of :class:`TableDef` objects, their
indexes and settings, the streams, the TTL tracking. :func:`guard_catalog`
records that state before the operation, inside the operation's atomic group;
if the group fails to commit, the storage runs the restore with its own undo
entries, so the engine is exactly as before the operation, as on disk.

Only for a storage whose commit can fail (a durable one), and only for the
operations that change tables: the snapshot is small (the tables' definitions,
never their items) but not free.
"""

from __future__ import annotations

import copy
from dataclasses import fields
from functools import partial
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from singletable.backends.local.engine import LocalEngine

__all__ = ["CATALOG_OPERATIONS", "guard_catalog"]

CATALOG_OPERATIONS = frozenset(
    {
        "CreateTable",
        "DeleteTable",
        "UpdateTable",
        "UpdateTimeToLive",
        "CreateBackup",
        "DeleteBackup",
        "RestoreTableFromBackup",
        "UpdateContinuousBackups",
        "RestoreTableToPointInTime",
    }
)
"""The operations that change the catalog (run in one group under :func:`guard_catalog`)."""


def _fields(obj: Any) -> dict[str, Any]:
    """A dataclass's field values; containers copied (dicts deeply: settings, tags)."""
    values: dict[str, Any] = {}
    for field in fields(obj):
        value = getattr(obj, field.name)
        if isinstance(value, list):
            value = list(value)
        elif isinstance(value, dict):
            value = copy.deepcopy(value)
        values[field.name] = value
    return values


def guard_catalog(engine: LocalEngine) -> None:
    """Register the restoring of the engine's table state if the current group fails."""
    tables = dict(engine.tables)
    definitions: list[tuple[Any, dict[str, Any]]] = [
        (table, _fields(table)) for table in tables.values()
    ]
    definitions += [(index, _fields(index)) for table in tables.values() for index in table.indexes]
    states = [
        (component, component.catalog_state())
        for component in (engine.streams, engine.ttl, engine.backups)
    ]
    engine.storage.on_rollback(partial(_restore, engine, tables, definitions, states))


def _restore(
    engine: LocalEngine,
    tables: dict[str, Any],
    definitions: list[tuple[Any, dict[str, Any]]],
    states: list[tuple[Any, Any]],
) -> None:
    engine.tables.clear()
    engine.tables.update(tables)
    for obj, values in definitions:
        for name, value in values.items():
            setattr(obj, name, value)
    for component, state in states:
        component.restore_catalog_state(state)
