"""``db.find(Entity, **fields)``: the access pattern that equal field values can use.

The given fields are matched against every key the entity has: the table's,
and each index's it is in that projects every attribute (``"ALL"``: the items
of other indexes would not validate as entities). A key is usable when the fields fix its partition
(every field of its partition template is given); among usable keys, the one
whose sort template the given fields fill furthest wins (the table before an
index on a tie: its reads can be consistent). The query runs on that key:

* sort fields given in the template's order narrow it: all of them with ``=``,
  a leading part of them with ``begins_with``;
* every other given field becomes an equality in the FilterExpression (a
  ``begins_with`` prefix can match longer values, so a sort field under a
  prefix is checked there too), except key attributes of the index queried,
  which DynamoDB does not let a Query filter and which its key condition fixes.

The query is named after the entity's declared pattern on that key when there
is one (``Order.for_customer``). When no key is usable, ``find`` refuses, naming
for each key the fields that would make it usable, unless ``allow_scan=True``:
then it is a Scan of the entity type filtered on every given field.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from singletable._keyargs import check_keywords
from singletable.errors import InvalidValueError
from singletable.patterns import BoundPattern, Query, SortOp, declared_patterns

if TYPE_CHECKING:
    from singletable.conditions import Condition
    from singletable.entity import Entity

__all__ = ["FindPlan", "plan"]

FIND_OPTIONS = ("allow_scan",)


@dataclass(frozen=True)
class FindPlan:
    """What ``find`` reads: a pattern with its key values (None: a scan), and the filter."""

    pattern: BoundPattern[Any] | None
    values: dict[str, Any]
    filter: Condition | None
    reason: str
    """Why this read was chosen, in words (``explain`` shows it)."""


def _pattern(entity: type[Entity], index: str | None, exact: bool) -> BoundPattern[Any]:
    """The declared pattern on ``index`` whose sort operation fits, else one made here."""
    wanted: SortOp = "eq" if exact else "begins_with"
    for bound in declared_patterns(entity):
        if bound.pattern.index == index and bound.pattern.sort == wanted:
            return bound
    query = Query(index, sort=wanted)
    query.name = f"find({index or 'table'})"  # no declared pattern: one for this read
    return BoundPattern(query, entity)


def plan(entity: type[Entity], fields: Mapping[str, Any], allow_scan: bool) -> FindPlan:
    """The read ``find`` makes for ``fields`` (field name -> value).

    Raises:
        UnknownKeywordError: a keyword that is neither a field nor ``allow_scan``.
        InvalidValueError: no field given, or no key usable and no ``allow_scan``.
    """
    model = entity.__singletable__
    where = f"{entity.__name__} (find)"
    check_keywords(where, fields, tuple(entity.model_fields), FIND_OPTIONS)
    given = {name: value for name, value in fields.items() if value is not None}
    if not given:
        raise InvalidValueError(f"{where}: give at least one field value to find by")
    best: tuple[tuple[int, int], str | None, list[str]] | None = None
    missing: list[str] = []
    for index, (pk, sk) in model.keys.items():
        spec = model.table.spec(index)
        if spec.projection != "ALL":
            continue  # its items lack attributes: they would not validate as entities
        label = "the table key" if index is None else f"index {index}"
        absent = [f for f in pk.fields if f not in given]
        if absent:
            missing.append(f"{' and '.join(absent)} ({label}, {pk.source!r})")
            continue
        sort_fields = sk.fields if sk is not None and spec.sk is not None else ()
        used: list[str] = []
        for name in sort_fields:
            if name not in given:
                break
            used.append(name)
        score = (len(used), 1 if index is None else 0)
        if best is None or score > best[0]:
            best = (score, index, [*pk.fields, *used])
    if best is None:
        if allow_scan:
            reason = "no key is usable: a Scan filtered on " + ", ".join(given)
            return FindPlan(None, {}, _equal(entity, given, list(given)), reason)
        raise InvalidValueError(
            f"{where}: no access pattern is keyed on {', '.join(sorted(given))}; give "
            + "; or ".join(missing)
            + ", or pass allow_scan=True to scan the whole table"
        )
    _, index, used = best
    pk, sk = model.keys[index]
    sort_fields = sk.fields if sk is not None and model.table.spec(index).sk is not None else ()
    exact = bool(sort_fields) and len(used) - len(pk.fields) == len(sort_fields)
    pattern = _pattern(entity, index, exact)
    spec = model.table.spec(index)
    fixed = set(pk.fields) | (set(used) if exact else set())
    keys_here = {spec.pk, spec.sk} | ({model.table.primary.pk} if spec.local else set())
    unfilterable = {name for name, a in model.attributes.items() if a in keys_here}
    rest = [f for f in given if f not in fixed and f not in unfilterable]
    declared = pattern in declared_patterns(entity)
    label = f"{pattern.name} ({spec.label})" if declared else f"the {spec.label} key"
    reason = f"{label}: key from {', '.join(used)}"
    if rest:
        reason += f"; filter on {', '.join(rest)}"
    values = {name: given[name] for name in used}
    return FindPlan(pattern, values, _equal(entity, given, rest), reason)


def _equal(entity: type[Entity], given: Mapping[str, Any], names: list[str]) -> Condition | None:
    """``field == value`` for each of ``names`` (None: no names)."""
    combined: Condition | None = None
    for name in names:
        part = getattr(entity, name) == given[name]
        combined = part if combined is None else combined & part
    return combined
