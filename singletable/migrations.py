"""Migrations when the model changes: schema versions, upgrades, plans and runs.

Declare the version of an entity's model and how older items become current
(:class:`Upgrade`, or the :func:`upgrade` decorator)::

    class Customer(Entity, table=app, schema_version=2):
        customer_id: str
        name: str                                   # was full_name in version 1
        from_v1 = Upgrade(1, rename={"full_name": "name"})

Items carry their version in the table's ``schema_attribute`` (``_schema``); an
item without it is version 1. Every read of an older item (get, query, scan,
collections, batches, stream changes) upgrades it before validation, so code
written for the new model reads old items at once. :func:`write_back` stores such
an entity in the current shape, on the condition that the item is still as read.

Key templates and index membership come from the model, not from the item: an
item written under an old template stays where it was written until it is
rewritten. :func:`plan` compares two versions of a model (what changes per entity
and index, what a run will rewrite, what it cannot); :class:`MigrationRun`
rewrites every affected item of a table (parallel scan segments, conditional
writes that never overwrite a concurrent change, resumable from a state file,
stoppable). The command line is ``singletable migrate plan|run``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from singletable._flows import run, run_async
from singletable._migrate_items import Models, Outcome, count_entities, migrate_item, rewrite_of
from singletable._migrate_plan import EntityPlan, TablePlan, plan_table, render_plans
from singletable._migrate_run import MigrationInterrupted, MigrationRun, Summary
from singletable._upgrades import Upgrade, read_as, upgrade

if TYPE_CHECKING:
    from singletable.db import DB, AsyncDB
    from singletable.entity import Entity
    from singletable.table import Table

__all__ = [
    "EntityPlan",
    "MigrationInterrupted",
    "MigrationRun",
    "Models",
    "Outcome",
    "Summary",
    "TablePlan",
    "Upgrade",
    "awrite_back",
    "count_entities",
    "plan",
    "read_version",
    "render_plans",
    "rewrite_of",
    "upgrade",
    "write_back",
]


def plan(old: Sequence[Table], new: Sequence[Table]) -> list[TablePlan]:
    """The plan of every table of the new model (matched with the old by table name)."""
    by_name = {table.name: table for table in old}
    return [plan_table(by_name.get(table.name), table) for table in new]


def read_version(entity: Entity) -> int | None:
    """The schema version of the item ``entity`` was read from, if it was older than
    the model (the entity was upgraded on reading); None otherwise."""
    found = read_as(entity)
    return None if found is None else found[0]


def write_back(db: DB, entity: Entity) -> Outcome | None:
    """Store an entity that was upgraded on reading in the current shape (new keys,
    current schema version), if the item is still as it was read; None if
    ``entity`` was not upgraded on reading. The outcome's ``kind`` is
    ``rewritten``/``moved``, ``gone`` (deleted meanwhile) or ``conflict``/``failed``."""
    found = read_as(entity)
    if found is None:
        return None
    models = Models(None, type(entity).__singletable__.table)
    return run(db.backend, migrate_item(models, found[1]))


async def awrite_back(db: AsyncDB, entity: Entity) -> Outcome | None:
    """:func:`write_back` on an :class:`~singletable.db.AsyncDB`."""
    found = read_as(entity)
    if found is None:
        return None
    models = Models(None, type(entity).__singletable__.table)
    return await run_async(db.backend, migrate_item(models, found[1]))
