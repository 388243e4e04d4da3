"""Consumed capacity, computed by DynamoDB's rounding rules.

Developer Guide, "Read/write capacity mode" and "DynamoDB item sizes and formats":
- a read unit covers a strongly consistent read of up to 4 KB; an eventually
  consistent read costs half. GetItem rounds the item up to 4 KB; Query and Scan
  add up the sizes of all items *read* (before any filter) and round the total
  (a Scan per partition it reads: see ._reads); a read that finds nothing still
  costs the minimum (one unit, halved if eventual).
- a write unit covers up to 1 KB; a write costs the larger of the old and the new
  item, rounded up to 1 KB, and at least one unit (a failed condition too).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

__all__ = ["consumed", "read_units", "write_units"]

_READ_BLOCK = 4096
_WRITE_BLOCK = 1024


def read_units(size: int, consistent: bool) -> float:
    """Read units for ``size`` bytes read in one request."""
    blocks = max(1, -(-size // _READ_BLOCK))
    return float(blocks) if consistent else blocks / 2


def write_units(size: int) -> float:
    """Write units for writing an item of ``size`` bytes."""
    return float(max(1, -(-size // _WRITE_BLOCK)))


def consumed(
    mode: str | None,
    table: str,
    units: float,
    *,
    index: str | None = None,
    local: bool = False,
    index_units: Mapping[str, tuple[float, bool]] | None = None,
) -> dict[str, Any] | None:
    """The ``ConsumedCapacity`` member for ``ReturnConsumedCapacity=mode`` (None for NONE).

    With ``index`` set the units were spent on that secondary index (Query/Scan of
    an index; ``local`` for an LSI), which INDEXES mode reports separately.
    ``index_units`` maps index name to ``(units, is_local)`` for the writes a table
    write made in its indexes: counted in the total, itemized in INDEXES mode.
    """
    if index_units:
        spent = {name: cost for name, cost in index_units.items() if cost[0]}
        total = units + sum(cost for cost, _ in spent.values())
        if mode not in ("TOTAL", "INDEXES"):
            return None
        result: dict[str, Any] = {"TableName": table, "CapacityUnits": total}
        if mode == "INDEXES":
            result["Table"] = {"CapacityUnits": units}
            for name, (cost, is_local) in spent.items():
                key = "LocalSecondaryIndexes" if is_local else "GlobalSecondaryIndexes"
                result.setdefault(key, {})[name] = {"CapacityUnits": cost}
        return result
    if mode not in ("TOTAL", "INDEXES"):
        return None
    result = {"TableName": table, "CapacityUnits": units}
    if mode == "INDEXES":
        if index is None:
            result["Table"] = {"CapacityUnits": units}
        else:
            result["Table"] = {"CapacityUnits": 0.0}
            key = "LocalSecondaryIndexes" if local else "GlobalSecondaryIndexes"
            result[key] = {index: {"CapacityUnits": units}}
    return result
