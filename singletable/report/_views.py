"""The report's pictures: item-collection views of the table and of every index, and
the access-pattern matrix.

A view lays the example items out as NoSQL Workbench's aggregate view does: one
block per partition key value, its items in sort key order, each item's other
attributes beside it, coloured by entity. An index's view holds the items as the
index holds them: only those with the index's key attributes (a sparse index
leaves the others out), with the attributes its projection copies. The layout
(every box's position and size) is computed here, so the template only writes SVG
elements; text is measured by its length in a monospace font of a known size.
"""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING, Any

from singletable.report._examples import text
from singletable.report._samples import OTHER, SampleItem, owner_of

if TYPE_CHECKING:
    from singletable.report._model import PatternReport
    from singletable.table import IndexSpec, Table

__all__ = ["Diagram", "IndexView", "MatrixRow", "anchor", "index_views", "matrix"]

PALETTE = 10  # colour classes e0..e9 in the template's style; then "eother"

# Geometry, in CSS pixels. 12 px monospace text is about 7.25 px a character, and
# 10 px about 6.05; the widths below keep a view within 960 px (the content column
# at a 1280 px window beside the sidebar).
WIDTH = 960
VALUE_CHAR = 7.25
NAME_CHAR = 6.05
PK_X, PK_W = 0, 200
SK_X, SK_W = 204, 250
ATTR_X = 458
ATTR_W = WIDTH - ATTR_X
CHIP_MAX = 230
CHIP_GAP = 4
CHIP_LINE = 34  # a chip: the attribute's name above its value
LINE = 15  # a line of key text
LEGEND_H = 24
HEADER_H = 24
ROW_GAP = 2
BLOCK_GAP = 6
PAD = 6


def anchor(table: str, kind: str, name: str | None) -> str:
    """The id of a report section: ``kind`` is entity, index, pattern or view."""
    slug = re.sub(r"[^A-Za-z0-9_.-]+", "-", f"{table}-{kind}-{name or 'table'}")
    return slug.strip("-")


@dataclass(frozen=True)
class Chip:
    """An attribute of an item: its name above its (shortened) value."""

    x: float
    y: float
    width: float
    name: str
    value: str
    full: str


@dataclass(frozen=True)
class Row:
    """One item: its sort key (with the entity's name above it) and its attributes."""

    y: float
    height: float
    entity: str
    colour: str
    sk_lines: tuple[str, ...]
    sk: str
    chips: tuple[Chip, ...]


@dataclass(frozen=True)
class Block:
    """The items of one partition key value."""

    y: float
    height: float
    pk_lines: tuple[str, ...]
    pk: str
    rows: tuple[Row, ...]


@dataclass(frozen=True)
class LegendEntry:
    """An entity's colour in a view, linked to its section."""

    x: float
    y: float
    entity: str
    colour: str
    anchor: str | None


@dataclass(frozen=True)
class Diagram:
    """Where everything of a view goes (an SVG ``width`` x ``height``)."""

    width: int
    height: int
    pk_label: str
    sk_label: str
    legend: tuple[LegendEntry, ...]
    blocks: tuple[Block, ...]
    geometry: dict[str, float]


@dataclass(frozen=True)
class IndexView:
    """The table's items (``index`` None) or an index's, as they are stored there."""

    table: str
    index: str | None
    kind: str  # "table", "global", "local"
    anchor: str
    pk: str
    sk: str | None
    projection: str
    items: int
    partitions: int
    left_out: tuple[str, ...]
    """Entities with example items that are not in this (sparse) index."""
    patterns: tuple[tuple[str, str], ...]
    """(name, anchor) of the patterns that read it."""
    diagram: Diagram


@dataclass(frozen=True)
class MatrixRow:
    """One access pattern across the table and its indexes (one cell is filled)."""

    pattern: str
    anchor: str
    target: str
    operation: str
    column: int
    """The position of the index it reads among the columns (0: the table)."""
    key_condition: str
    sort: str
    order: str
    read_cost: str


# ------------------------------------------------------------------------ building


def index_views(
    table: Table, items: Sequence[SampleItem], patterns: Sequence[PatternReport]
) -> tuple[IndexView, ...]:
    """A view of the table, then one per index, in declaration order."""
    colours = _colours(table, items)
    specs = [table.primary, *table.indexes.values()]
    return tuple(_view(table, spec, items, patterns, colours) for spec in specs)


def matrix(table: Table, patterns: Sequence[PatternReport]) -> tuple[MatrixRow, ...]:
    """The access-pattern matrix: one row per pattern, its cell under the index it reads."""
    columns = [None, *table.indexes]
    return tuple(
        MatrixRow(
            p.name,
            anchor(table.name, "pattern", p.name),
            p.target,
            p.operation,
            columns.index(p.index),
            p.key_condition,
            p.sort,
            p.order,
            p.read_cost,
        )
        for p in patterns
    )


def _colours(table: Table, items: Sequence[SampleItem]) -> dict[str, str]:
    names = [entity.__name__ for entity in table.entities.values()]
    names += [i.entity for i in items if i.entity not in names and i.entity != OTHER]
    colours = {name: f"e{n % PALETTE}" for n, name in enumerate(names)}
    colours[OTHER] = "eother"
    return colours


def _view(
    table: Table,
    spec: IndexSpec,
    items: Sequence[SampleItem],
    patterns: Sequence[PatternReport],
    colours: dict[str, str],
) -> IndexView:
    pk = table.primary.pk if spec.local else spec.pk
    held: list[SampleItem] = []
    left_out: list[str] = []
    for sample in items:
        projected = _in_index(sample.item, table, spec, pk)
        if projected is None:
            if sample.entity not in left_out:
                left_out.append(sample.entity)
        else:
            held.append(SampleItem(sample.entity, projected))
    left_out = [e for e in left_out if not any(h.entity == e for h in held)]
    kind = "table" if spec.name is None else ("local" if spec.local else "global")
    projection = spec.projection
    shown = projection if isinstance(projection, str) else "INCLUDE " + ", ".join(projection)
    groups = _group(held, pk, spec.sk)
    hidden = {pk, spec.sk, table.type_attribute}
    first = [table.primary.pk, table.primary.sk] if spec.name is not None else []
    diagram = _layout(table.name, groups, pk, spec.sk, hidden, first, colours)
    return IndexView(
        table.name,
        spec.name,
        kind,
        anchor(table.name, "view", spec.name),
        pk,
        spec.sk,
        shown,
        len(held),
        len(groups),
        tuple(left_out),
        tuple(
            (p.name, anchor(table.name, "pattern", p.name))
            for p in patterns
            if p.index == spec.name
        ),
        diagram,
    )


def _in_index(
    item: dict[str, Any], table: Table, spec: IndexSpec, pk: str
) -> dict[str, Any] | None:
    """The item as ``spec``'s index holds it, or None when it is not in the index."""
    if pk not in item or (spec.sk is not None and spec.sk not in item):
        return None  # sparse: DynamoDB writes an index item only with both key attributes
    if spec.name is None or spec.projection == "ALL":
        return item
    # KEYS_ONLY and INCLUDE copy the table's and the index's keys, plus the listed ones.
    keep = {table.primary.pk, table.primary.sk, pk, spec.sk}
    if not isinstance(spec.projection, str):
        keep |= set(spec.projection)
    return {name: value for name, value in item.items() if name in keep}


def _order(value: dict[str, Any] | None) -> tuple[int, Any]:
    """DynamoDB's order of key values: numbers by value, strings and binary by bytes."""
    if value is None:
        return (-1, b"")
    ((kind, raw),) = value.items()
    if kind == "N":
        try:
            return (0, Decimal(raw))
        except InvalidOperation:
            return (0, Decimal(0))
    if kind == "B":
        try:
            return (2, base64.b64decode(raw))
        except ValueError:
            return (2, str(raw).encode())
    if kind == "S":
        return (1, str(raw).encode())
    return (3, json.dumps(value, sort_keys=True).encode())


def _group(
    items: Sequence[SampleItem], pk: str, sk: str | None
) -> list[tuple[dict[str, Any], list[SampleItem]]]:
    groups: dict[str, tuple[dict[str, Any], list[SampleItem]]] = {}
    for sample in items:
        key = json.dumps(sample.item[pk], sort_keys=True)
        groups.setdefault(key, (sample.item[pk], []))[1].append(sample)
    ordered = sorted(groups.values(), key=lambda group: _order(group[0]))
    for _, members in ordered:
        members.sort(key=lambda s: _order(s.item.get(sk)) if sk is not None else (0, 0))
    return ordered


# -------------------------------------------------------------------------- layout


def _wrap(value: str, width: float, char: float, lines: int) -> tuple[str, ...]:
    """``value`` in at most ``lines`` lines of ``width`` px (breaking after a '#' when it
    can); the last line ends with an ellipsis when the value does not fit."""
    per_line = max(4, int((width - 2 * PAD) / char))
    out: list[str] = []
    rest = value
    while rest and len(out) < lines:
        if len(rest) <= per_line:
            out.append(rest)
            rest = ""
            break
        cut = rest.rfind("#", 0, per_line) + 1
        cut = cut if cut > per_line // 2 else per_line
        out.append(rest[:cut])
        rest = rest[cut:]
    if rest:
        out[-1] = out[-1][: per_line - 1] + "…"
    return tuple(out) or ("",)


def _chips(item: dict[str, Any], hidden: set[str | None], first: list[str | None]) -> list[Chip]:
    """The item's attributes as chips, flowed in lines across the attribute column."""
    names = [n for n in first if n is not None and n in item]
    names += [n for n in item if n not in hidden and n not in names]
    chips: list[Chip] = []
    x, line = 0.0, 0
    for name in names:
        full = text(item[name])
        width = min(CHIP_MAX, max(len(name) * NAME_CHAR, len(full) * VALUE_CHAR) + 2 * PAD)
        if x > 0 and x + width > ATTR_W:
            x, line = 0.0, line + 1
        value = _wrap(full, width, VALUE_CHAR, 1)[0]
        label = _wrap(name, width, NAME_CHAR, 1)[0]
        chips.append(Chip(x, line * CHIP_LINE, width, label, value, full))
        x += width + CHIP_GAP
    return chips


def _layout(
    table: str,
    groups: list[tuple[dict[str, Any], list[SampleItem]]],
    pk: str,
    sk: str | None,
    hidden: set[str | None],
    first: list[str | None],
    colours: dict[str, str],
) -> Diagram:
    legend: list[LegendEntry] = []
    x, top = 0.0, 0.0
    for entity in dict.fromkeys(s.entity for _, members in groups for s in members):
        width = 28 + len(entity) * NAME_CHAR
        if x > 0 and x + width > WIDTH:
            x, top = 0.0, top + LEGEND_H
        link = None if entity == OTHER else anchor(table, "entity", owner_of(entity))
        legend.append(LegendEntry(x, top, entity, colours.get(entity, "eother"), link))
        x += width
    header_y = top + LEGEND_H
    y = header_y + HEADER_H + 4
    blocks: list[Block] = []
    for key, members in groups:
        start = y
        rows: list[Row] = []
        for sample in members:
            chips = _chips(sample.item, hidden, first)
            sk_full = text(sample.item[sk]) if sk is not None and sk in sample.item else ""
            sk_lines = _wrap(sk_full, SK_W, VALUE_CHAR, 3) if sk is not None else ()
            chip_lines = int(chips[-1].y // CHIP_LINE) + 1 if chips else 1
            height: float = max(
                LINE * (1 + len(sk_lines)) + 2 * PAD, chip_lines * CHIP_LINE + PAD
            )
            colour = colours.get(sample.entity, "eother")
            rows.append(Row(y, height, sample.entity, colour, sk_lines, sk_full, tuple(chips)))
            y += height + ROW_GAP
        pk_full = text(key)
        pk_lines = _wrap(pk_full, PK_W, VALUE_CHAR, 4)
        block_height = max(y - ROW_GAP - start, LINE * len(pk_lines) + 2 * PAD)
        y = start + block_height + BLOCK_GAP
        blocks.append(Block(start, block_height, pk_lines, pk_full, tuple(rows)))
    geometry: dict[str, float] = {
        "pk_x": PK_X, "pk_w": PK_W, "sk_x": SK_X, "sk_w": SK_W, "attr_x": ATTR_X,
        "attr_w": ATTR_W, "header_y": header_y, "header_h": HEADER_H, "pad": PAD,
        "line": LINE, "chip_h": CHIP_LINE - CHIP_GAP,
    }  # fmt: skip
    return Diagram(
        WIDTH,
        int(y) + 2,
        pk,
        sk or "(no sort key)",
        tuple(legend),
        tuple(blocks),
        geometry,
    )
