"""Comparing two versions of a model: what changes per entity and index, and what a
migration will do to the stored items (``singletable migrate plan``).

The comparison is static: it reads the compiled models (key templates per index,
fields and their attributes, types and defaults, schema versions and declared
upgrades), never the data. Entities are matched by their type name.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from singletable.entity import Entity
    from singletable.keys import KeyTemplate
    from singletable.table import Table

__all__ = ["EntityPlan", "TablePlan", "plan_table", "render_plans"]


@dataclass
class EntityPlan:
    """One entity's part of a plan."""

    entity: str
    status: str
    """``changed``, ``unchanged``, ``added`` or ``removed``."""
    affected: str = ""
    """Which stored items the rewrite touches."""
    stored: int | None = None
    """How many items of the entity the table holds (when the plan was given data)."""
    changes: list[str] = field(default_factory=list)
    rewrite: list[str] = field(default_factory=list)
    manual: list[str] = field(default_factory=list)
    """What cannot be migrated automatically (or only with a loss)."""


@dataclass
class TablePlan:
    """One table's plan."""

    table: str
    changes: list[str] = field(default_factory=list)
    manual: list[str] = field(default_factory=list)
    entities: list[EntityPlan] = field(default_factory=list)
    unclaimed: int | None = None
    """Stored items no entity of the new model claims (when the plan was given data)."""

    @property
    def needs_run(self) -> bool:
        """Whether stored items must be rewritten."""
        return any(e.rewrite for e in self.entities)

    def to_json(self) -> dict[str, Any]:
        return {**asdict(self), "needs_run": self.needs_run}


def _keys_text(templates: tuple[KeyTemplate, KeyTemplate | None]) -> str:
    pk, sk = templates
    return pk.source if sk is None else f"{pk.source} / {sk.source}"


def _where(index: str | None) -> str:
    return "the table" if index is None else f"index {index}"


def plan_table(old: Table | None, new: Table) -> TablePlan:
    """The plan of moving ``new``'s stored items from the ``old`` model to it."""
    plan = TablePlan(new.name)
    if old is not None:
        _compare_table(old, new, plan)
    old_entities = old.entities if old is not None else {}
    for name in dict.fromkeys([*old_entities, *new.entities]):
        before = old_entities.get(name)
        after = new.entities.get(name)
        if after is None:
            assert before is not None
            plan.entities.append(
                EntityPlan(
                    name,
                    "removed",
                    f"every item with {new.type_attribute} = {name!r}",
                    manual=[
                        f"{name} is not in the new model: its items are left as they are "
                        "(no entity reads them; delete them yourself if they should go)"
                    ],
                )
            )
            continue
        if before is None:
            plan.entities.append(
                EntityPlan(name, "added", changes=["a new entity: no stored items to migrate"])
            )
            continue
        plan.entities.append(_compare_entity(before, after, new))
    return plan


def _compare_table(old: Table, new: Table, plan: TablePlan) -> None:
    keys_before = (old.primary.pk, old.primary.sk)
    keys_after = (new.primary.pk, new.primary.sk)
    if keys_before != keys_after:
        plan.manual.append(
            f"the table key attributes change ({keys_before} -> {keys_after}): DynamoDB cannot "
            "change a table's key schema; copy the items into a new table "
            "(singletable data export / import) instead"
        )
    for name in new.indexes.keys() - old.indexes.keys():
        spec = new.indexes[name]
        kind = "local" if spec.local else "global"
        plan.changes.append(f"new {kind} index {name}")
        plan.manual.append(
            f"create index {name} on the table before the run"
            + (
                " (a local index can only be created with the table: needs a new table)"
                if spec.local
                else " (UpdateTable with a GlobalSecondaryIndexUpdates Create)"
            )
        )
    for name in old.indexes.keys() - new.indexes.keys():
        plan.changes.append(f"index {name} is no longer in the model")
        plan.manual.append(
            f"delete index {name} from the table after the run, if nothing else reads it "
            "(the run removes its keys from the model's items)"
        )
    for name in old.indexes.keys() & new.indexes.keys():
        a, b = old.indexes[name], new.indexes[name]
        if (a.pk, a.sk, a.local) != (b.pk, b.sk, b.local):
            plan.manual.append(
                f"index {name} has other key attributes: an index's keys cannot change; "
                "delete and create it again"
            )
        elif a.projection != b.projection:
            plan.manual.append(
                f"index {name} projects other attributes: delete and create it again"
            )


def _field_types(entity: type[Entity]) -> dict[str, tuple[str, str, bool, Any]]:
    """attribute -> (field, type text, required, default)."""
    model = entity.__singletable__
    out: dict[str, tuple[str, str, bool, Any]] = {}
    for name, info in entity.model_fields.items():
        annotation = info.annotation
        text = getattr(annotation, "__name__", None) or repr(annotation)
        text = str(text).replace("typing.", "")
        out[model.attributes[name]] = (name, text, info.is_required(), info.default)
    return out


def _compare_entity(before: type[Entity], after: type[Entity], table: Table) -> EntityPlan:
    old_model, new_model = before.__singletable__, after.__singletable__
    name = new_model.type_name
    plan = EntityPlan(name, "unchanged", f"every item with {table.type_attribute} = {name!r}")
    _compare_keys(old_model.keys, new_model.keys, plan)
    old_version = old_model.schema_version or 1
    new_version = new_model.schema_version or 1
    upgrades = [
        new_model.upgrades[v] for v in sorted(new_model.upgrades) if old_version <= v < new_version
    ]
    renames: dict[str, str] = {}
    functions = []
    for step in upgrades:
        renames.update(step.rename)
        if step.apply is not None:
            functions.append(step)
    if new_model.schema_version != old_model.schema_version:
        plan.changes.append(f"schema version {old_version} -> {new_version}")
        plan.rewrite.append(
            f"{table.schema_attribute} = {new_version} written (reads of items not yet "
            "rewritten upgrade them)"
        )
    for step in functions:
        plan.rewrite.append(
            f"the upgrade from version {step.from_version} "
            f"({getattr(step.apply, '__name__', 'function')}) runs on every item"
        )
    old_fields, new_fields = _field_types(before), _field_types(after)
    for source, target in renames.items():
        if source in old_fields and target in new_fields:
            plan.changes.append(f"field {old_fields[source][0]} renamed to {new_fields[target][0]}")
            plan.rewrite.append(f"attribute {source!r} renamed to {target!r}")
    for attribute, (field_name, text, required, default) in new_fields.items():
        if attribute in old_fields or attribute in renames.values():
            continue
        if not required:
            plan.changes.append(f"new field {field_name}: {text} = {default!r}")
            if default is not None:
                plan.rewrite.append(f"attribute {attribute!r} written with its default {default!r}")
        elif functions:
            plan.changes.append(f"new required field {field_name}: {text}")
            plan.manual.append(
                f"{field_name} has no default: the upgrade function must set it (not "
                "checked here; items where it does not fail the run and are reported)"
            )
        else:
            plan.changes.append(f"new required field {field_name}: {text}")
            plan.manual.append(
                f"{field_name} is required and has no default, and no upgrade sets it: "
                f"stored {name} items cannot be migrated (give a default or an upgrade)"
            )
    for attribute, (field_name, _text, _, _) in old_fields.items():
        if attribute in new_fields or attribute in renames:
            continue
        plan.changes.append(f"field {field_name} removed")
        plan.rewrite.append(f"attribute {attribute!r} removed from the items")
        plan.manual.append(
            f"the values of {field_name} are dropped; keep them with an upgrade "
            "(rename, or a function) if they are needed"
        )
    for attribute, (field_name, text, _, _) in new_fields.items():
        previous = old_fields.get(attribute)
        if previous is not None and previous[1] != text:
            plan.changes.append(f"type of {field_name}: {previous[1]} -> {text}")
            plan.manual.append(
                f"stored {field_name} values are converted by validation as they are read; "
                "values that do not convert fail and are reported by the run (an upgrade "
                "function can convert them)"
            )
    if plan.changes or plan.rewrite or plan.manual:
        plan.status = "changed"
    if not plan.rewrite:
        plan.affected = "none"
    return plan


def _compare_keys(
    old: dict[str | None, tuple[KeyTemplate, KeyTemplate | None]],
    new: dict[str | None, tuple[KeyTemplate, KeyTemplate | None]],
    plan: EntityPlan,
) -> None:
    for index in dict.fromkeys([*old, *new]):
        before, after = old.get(index), new.get(index)
        where = _where(index)
        if before is not None and after is not None:
            if _keys_text(before) == _keys_text(after):
                continue
            plan.changes.append(
                f"key templates on {where}: {_keys_text(before)!r} -> {_keys_text(after)!r}"
            )
            if index is None:
                plan.rewrite.append(
                    "each item moves to its new table key: the new item is put (if its key "
                    "is free) and the old one deleted, in one transaction"
                )
            else:
                plan.rewrite.append(f"{where} keys rewritten from the new templates")
        elif after is not None:
            plan.changes.append(f"joins {where} ({_keys_text(after)!r})")
            plan.rewrite.append(f"{where} keys written (items with every key field set join it)")
        elif before is not None:
            plan.changes.append(f"leaves {where}")
            plan.rewrite.append(f"{where} keys removed from the items")


def render_plans(plans: list[TablePlan]) -> str:
    """The plans as text (Markdown)."""
    lines: list[str] = []
    for plan in plans:
        lines.append(f"# Table {plan.table}")
        lines.append("")
        for change in plan.changes:
            lines.append(f"- {change}")
        if plan.changes:
            lines.append("")
        for entity in plan.entities:
            lines.append(f"## {entity.entity}: {entity.status}")
            lines.append("")
            for change in entity.changes:
                lines.append(f"- {change}")
            if entity.stored is not None:
                lines.append("")
                lines.append(f"{entity.stored} {entity.entity} items stored.")
            if entity.rewrite:
                lines.append("")
                lines.append(f"Items rewritten ({entity.affected}):")
                lines.extend(f"- {step}" for step in entity.rewrite)
            if entity.manual:
                lines.append("")
                lines.append("Cannot be migrated automatically:")
                lines.extend(f"- {note}" for note in entity.manual)
            lines.append("")
        if plan.unclaimed:
            lines.append(
                f"{plan.unclaimed} stored items are of no entity of the new model: "
                "a run leaves them as they are."
            )
            lines.append("")
        if plan.manual:
            lines.append("Before or after the run, by hand:")
            lines.extend(f"- {note}" for note in plan.manual)
            lines.append("")
        verdict = (
            "`singletable migrate run` rewrites the items above."
            if plan.needs_run
            else "No stored item needs rewriting."
        )
        lines.append(verdict)
        lines.append("")
    return "\n".join(lines)
