"""Counters of consumed capacity, readable in tests: ``with engine.capacity() as used:``.

While a meter is open, every data-plane request is run as if it had asked for
``ReturnConsumedCapacity=INDEXES``, so the units are the ones the engine reports
(computed by DynamoDB's rules, see :mod:`._capacity`), per table and per index;
the response the caller gets is then cut back to what it asked for (no
``ConsumedCapacity`` at all, or the TOTAL form), so a metered request answers
exactly as an unmetered one.

Counted: the requests that succeed (a partial batch counts what it processed).
Not counted: requests that fail, including a write whose condition failed, which
DynamoDB does bill (its error response carries no ConsumedCapacity to read here).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

__all__ = ["CapacityMeter", "CapacityUsage", "Units", "answer_as_asked", "metered"]

Run = Callable[[str, dict[str, Any]], dict[str, Any]]

_READS = frozenset({"GetItem", "Query", "Scan", "BatchGetItem", "TransactGetItems"})
_WRITES = frozenset({"PutItem", "UpdateItem", "DeleteItem", "BatchWriteItem", "TransactWriteItems"})
_METERED = _READS | _WRITES
_ITEMIZED = ("Table", "GlobalSecondaryIndexes", "LocalSecondaryIndexes")


@dataclass
class Units:
    """Read and write capacity units consumed."""

    read_units: float = 0.0
    write_units: float = 0.0

    def add(self, units: float, is_read: bool) -> None:
        if is_read:
            self.read_units += units
        else:
            self.write_units += units


@dataclass
class CapacityUsage:
    """What the requests made while a meter was open consumed.

    Attributes:
        read_units, write_units: the totals, tables and indexes together.
        requests: how many requests were counted.
        tables: per table name, its total (the table and its indexes, as
            ``ConsumedCapacity.CapacityUnits`` counts).
        indexes: per ``(table, index)``, the part spent on that index.
    """

    read_units: float = 0.0
    write_units: float = 0.0
    requests: int = 0
    tables: dict[str, Units] = field(default_factory=dict)
    indexes: dict[tuple[str, str], Units] = field(default_factory=dict)

    def table(self, name: str) -> Units:
        """The units spent on table ``name`` (with its indexes); zero if none."""
        return self.tables.get(name, Units())

    def index(self, table: str, name: str) -> Units:
        """The units spent on index ``name`` of ``table``; zero if none."""
        return self.indexes.get((table, name), Units())

    def _count(self, entry: dict[str, Any], is_read: bool) -> None:
        table = str(entry.get("TableName", ""))
        units = float(entry.get("CapacityUnits", 0.0))
        if is_read:
            self.read_units += units
        else:
            self.write_units += units
        self.tables.setdefault(table, Units()).add(units, is_read)
        for member in ("GlobalSecondaryIndexes", "LocalSecondaryIndexes"):
            for name, spent in (entry.get(member) or {}).items():
                key = (table, name)
                self.indexes.setdefault(key, Units()).add(float(spent["CapacityUnits"]), is_read)


class CapacityMeter:
    """A context manager counting consumed capacity (``engine.capacity()``)."""

    def __init__(self, meters: list[CapacityMeter], changed: Callable[[], None]) -> None:
        self.usage = CapacityUsage()
        self._meters = meters
        self._changed = changed
        self._lock = threading.Lock()

    def __enter__(self) -> CapacityUsage:
        self._meters.append(self)
        self._changed()
        return self.usage

    def __exit__(self, *exc_info: object) -> None:
        if self in self._meters:
            self._meters.remove(self)
        self._changed()

    def record(self, consumed: Any, is_read: bool) -> None:
        entries = consumed if isinstance(consumed, list) else [consumed]
        with self._lock:
            self.usage.requests += 1
            for entry in entries:
                if isinstance(entry, dict):
                    self.usage._count(entry, is_read)


def metered(meters: list[CapacityMeter], operation: str, request: Any, run: Run) -> dict[str, Any]:
    """Run ``request`` asking for INDEXES capacity; count it; answer as asked."""
    if operation not in _METERED or not isinstance(request, dict):
        return run(operation, request)
    asked = request.get("ReturnConsumedCapacity")
    if asked not in (None, "NONE", "TOTAL", "INDEXES"):
        return run(operation, request)  # the engine refuses it, with DynamoDB's message
    response = run(operation, {**request, "ReturnConsumedCapacity": "INDEXES"})
    consumed = response.get("ConsumedCapacity")
    if consumed is None:
        return response
    for meter in list(meters):
        meter.record(consumed, operation in _READS)
    return answer_as_asked(response, asked)


def answer_as_asked(response: dict[str, Any], asked: Any) -> dict[str, Any]:
    """Cut the INDEXES ``ConsumedCapacity`` of ``response`` back to the form the request
    asked for (``asked``: its ReturnConsumedCapacity, None for none)."""
    consumed = response.get("ConsumedCapacity")
    if asked == "INDEXES" or consumed is None:
        return response
    response = dict(response)
    if asked == "TOTAL":
        if isinstance(consumed, list):
            response["ConsumedCapacity"] = [_total(entry) for entry in consumed]
        else:
            response["ConsumedCapacity"] = _total(consumed)
    else:
        del response["ConsumedCapacity"]
    return response


def _total(entry: dict[str, Any]) -> dict[str, Any]:
    """The TOTAL form of an INDEXES ``ConsumedCapacity`` entry (without the itemization)."""
    return {key: value for key, value in entry.items() if key not in _ITEMIZED}
