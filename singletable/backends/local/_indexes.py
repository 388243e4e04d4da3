"""Secondary indexes (GSIs and LSIs): definitions, entries, maintenance. (In progress.)"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from singletable._values import AttributeValue, Item

__all__ = ["IndexDef"]


class IndexDef:
    """A secondary index of a table."""

    name: str

    def check_item(self, item: Mapping[str, AttributeValue]) -> None:
        """Reject an item whose index key attributes have the wrong type."""
        raise AssertionError("indexes are not wired yet")

    def replace(self, pk: bytes, sk: bytes, old: Item | None, new: Item | None) -> None:
        """Move one table item's index entry from ``old`` to ``new``."""
        raise AssertionError("indexes are not wired yet")

    def describe(self) -> dict[str, Any]:
        """The index's description."""
        raise AssertionError("indexes are not wired yet")
