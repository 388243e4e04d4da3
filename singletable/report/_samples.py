"""The example items the report draws: synthesized from the model, or read from data.

From the model, each entity gets two items: one of the first example values of its
field types, and one that keeps the partition key's fields and takes the second
values for the rest, so a partition shows a collection of several items and a
status-like index key shows two partitions. Items that land on one table key
keep the first.

From data (a ``singletable data export`` file, or a Scan of a live table), the read
is bounded: items are taken in the order they come, an entity's item only while
the entity has fewer than ``partitions`` partitions or its partition is one already
chosen (so the items sharing a partition with another entity's show together), at
most ``per_partition`` items a partition, and the read stops after ``limit`` items
whatever it found. Nothing is O(table size).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from singletable._identify import identify, type_name_of
from singletable.report._examples import entity_values, example_item, example_value

if TYPE_CHECKING:
    from singletable.backends.base import Backend
    from singletable.table import Table

__all__ = [
    "OTHER",
    "SampleError",
    "SampleItem",
    "guard_label",
    "model_items",
    "owner_of",
    "read_export_file",
    "sample_file",
    "sample_table",
    "scan_table",
    "select_items",
]

OTHER = "(other)"
GUARD_SUFFIX = " guard"


def guard_label(entity: str, field: str) -> str:
    """How the views name the guard items of a unique field (``Member.email guard``)."""
    return f"{entity}.{field}{GUARD_SUFFIX}"


def owner_of(label: str) -> str:
    """The entity a view's label belongs to: itself, or the owner of a guard."""
    return label.split(".", 1)[0] if label.endswith(GUARD_SUFFIX) else label
"""The entity name of an item no entity of the table claims."""

PARTITIONS = 3
PER_PARTITION = 6
LIMIT = 2000


class SampleError(ValueError):
    """Data that cannot be read as items (a missing file, a bad line)."""


@dataclass(frozen=True)
class SampleItem:
    """One item to draw, with the entity it belongs to (:data:`OTHER` if none)."""

    entity: str
    item: dict[str, Any]


# --------------------------------------------------------------------------- model


def model_items(table: Table) -> list[SampleItem]:
    """Two synthesized items per entity of ``table`` (one where they share a key)."""
    found: list[SampleItem] = []
    seen: set[tuple[str, ...]] = set()
    for entity in table.entities.values():
        first = entity_values(entity)
        pk_fields = set(entity.__singletable__.keys[None][0].fields)
        second = {
            name: first[name] if name in pk_fields else example_value(name, info.annotation, True)
            for name, info in entity.model_fields.items()
        }
        for n, values in enumerate((first, second)):
            item, problem = example_item(entity, values)
            if problem is not None and n:
                continue  # the first shows the keys alone, and the report says why
            key = _key(item, table)
            if key not in seen:
                seen.add(key)
                found.append(SampleItem(entity.__name__, item))
    return found


def _key(item: Mapping[str, Any], table: Table) -> tuple[str, ...]:
    names = [table.primary.pk] + ([table.primary.sk] if table.primary.sk else [])
    return tuple(json.dumps(item.get(name), sort_keys=True) for name in names)


# ---------------------------------------------------------------------------- data


def entity_of(item: Mapping[str, Any], table: Table) -> str:
    """The name of the entity ``item`` belongs to (the rule of
    :mod:`singletable._identify`: by its type attribute, else by the shape of its table
    key when exactly one entity's fits), else :data:`OTHER`."""
    entity, _ = identify(type_name_of(item, table.type_attribute), item, table.entities)
    return OTHER if entity is None else entity.__name__


def select_items(
    items: Iterable[Mapping[str, Any]],
    table: Table,
    *,
    partitions: int = PARTITIONS,
    per_partition: int = PER_PARTITION,
    limit: int = LIMIT,
) -> list[SampleItem]:
    """A bounded sample of ``items`` (see the module's docstring); reads at most ``limit``."""
    pk = table.primary.pk
    chosen: dict[str, set[str]] = {}  # entity -> its partitions
    taken: set[str] = set()  # every chosen partition
    counts: dict[str, int] = {}
    out: list[SampleItem] = []
    for read, item in enumerate(items, 1):
        value = item.get(pk)
        if isinstance(value, dict):
            partition = json.dumps(value, sort_keys=True)
            entity = entity_of(item, table)
            mine = chosen.setdefault(entity, set())
            if partition not in taken and len(mine) < partitions:
                taken.add(partition)
            if partition in taken and counts.get(partition, 0) < per_partition:
                mine.add(partition)
                counts[partition] = counts.get(partition, 0) + 1
                out.append(SampleItem(entity, dict(item)))
        if read >= limit:
            break
    return out


def read_export_file(path: str) -> Iterator[dict[str, Any]]:
    """The items of a ``singletable data export`` file (``{"Item": {...}}`` per line),
    read lazily: a caller that stops early reads no further.

    Raises:
        SampleError: the file cannot be opened, or a line is not such an item (its number).
    """
    try:
        file = open(path, encoding="utf-8")  # noqa: SIM115 (closed below, read lazily)
    except OSError as error:
        raise SampleError(f"cannot read {path}: {error.strerror or error}") from None
    with file:
        for number, line in enumerate(file, 1):
            if not line.strip():
                continue
            try:
                record = json.loads(line)
            except ValueError:
                raise SampleError(f"{path}, line {number}: not JSON") from None
            item = record.get("Item") if isinstance(record, dict) else None
            if not isinstance(item, dict) or not all(
                isinstance(v, dict) and len(v) == 1 for v in item.values()
            ):
                raise SampleError(
                    f'{path}, line {number}: expected {{"Item": {{...}}}} with DynamoDB JSON '
                    "values (the format of singletable data export)"
                )
            yield item


def scan_table(
    backend: Backend, table: str, *, page_size: int = 100, limit: int = LIMIT
) -> Iterator[dict[str, Any]]:
    """The items of ``table`` by Scan pages of ``page_size``, at most ``limit`` of them."""
    request: dict[str, Any] = {"TableName": table, "Limit": page_size}
    read = 0
    while True:
        page = backend.call("Scan", request)
        for item in page.get("Items", []):
            yield item
            read += 1
            if read >= limit:
                return
        last = page.get("LastEvaluatedKey")
        if not last:
            return
        request = {**request, "ExclusiveStartKey": last}


def sample_file(
    path: str,
    table: Table,
    *,
    partitions: int = PARTITIONS,
    per_partition: int = PER_PARTITION,
    limit: int = LIMIT,
) -> list[SampleItem]:
    """A bounded sample of ``table``'s items from a ``singletable data export`` file:
    up to ``partitions`` partitions per entity, ``per_partition`` items a partition,
    reading at most ``limit`` items of the file.

    Raises:
        SampleError: the file cannot be read, or a line read is not an item.
    """
    items = read_export_file(path)
    return select_items(
        items, table, partitions=partitions, per_partition=per_partition, limit=limit
    )


def sample_table(
    backend: Backend,
    table: Table,
    *,
    partitions: int = PARTITIONS,
    per_partition: int = PER_PARTITION,
    limit: int = LIMIT,
) -> list[SampleItem]:
    """A bounded sample of ``table``'s items read from a backend by Scan pages (at most
    ``limit`` items read; see :func:`sample_file`).

    Raises:
        singletable.errors.SingletableError: what the backend raises (no such table, ...).
    """
    items = scan_table(backend, table.name, limit=limit)
    return select_items(
        items, table, partitions=partitions, per_partition=per_partition, limit=limit
    )
