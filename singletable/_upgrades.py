"""Schema versions of entities and the upgrades between them (used by :mod:`.entity`).

An entity declares the version of its model, and how items stored under each
older version become current::

    class Customer(Entity, table=app, schema_version=3):
        name: str
        tier: str = "basic"

        from_v1 = Upgrade(1, rename={"full_name": "name"})

        @upgrade(2)
        @staticmethod
        def from_v2(data: dict[str, Any]) -> dict[str, Any]:
            data["tier"] = data.pop("level", "basic").lower()
            return data

Items carry their version in the table's ``schema_attribute`` (``_schema`` by
default; written only by entities that declare a version, and an item without it
is version 1). Reading an item of an older version applies each upgrade from its
version up, in order, to the item's attributes (attribute name -> Python value,
numbers as Decimal) before Pydantic validates them: a rename first, then the
function. A version with no upgrade declared needs none.

Reads remember which entities they upgraded (:func:`read_as`), so that
:func:`singletable.migrations.write_back` can store them in the current shape,
on the condition that the item is still the one read.
"""

from __future__ import annotations

import weakref
from collections.abc import Callable, Mapping
from typing import Any

from singletable.errors import ModelError

__all__ = ["Upgrade", "apply_upgrades", "check_upgrades", "read_as", "remember_read", "upgrade"]

UpgradeFunction = Callable[[dict[str, Any]], dict[str, Any]]


class Upgrade:
    """How items of schema version ``from_version`` become version ``from_version + 1``.

    Args:
        from_version: the version it upgrades from (1 is an item written before the
            entity declared a version).
        rename: old attribute name -> new one, applied first (a missing old
            attribute is left missing).
        apply: a function taking and returning the item's attributes (name -> Python
            value), applied after the renames.
    """

    def __init__(
        self,
        from_version: int,
        *,
        rename: Mapping[str, str] | None = None,
        apply: UpgradeFunction | None = None,
    ) -> None:
        if not isinstance(from_version, int) or isinstance(from_version, bool) or from_version < 1:
            raise ModelError(
                f"Upgrade: from_version must be an int of at least 1, not {from_version!r}"
            )
        self.from_version = from_version
        self.rename = dict(rename or {})
        self.apply = apply

    def __call__(self, data: dict[str, Any]) -> dict[str, Any]:
        for old, new in self.rename.items():
            if old in data:
                data[new] = data.pop(old)
        if self.apply is not None:
            result = self.apply(data)
            if not isinstance(result, dict):
                raise ModelError(
                    f"the upgrade from version {self.from_version} returned "
                    f"{type(result).__name__}, not the dict of attributes"
                )
            data = result
        return data

    def __repr__(self) -> str:
        parts = [str(self.from_version)]
        if self.rename:
            parts.append(f"rename={self.rename!r}")
        if self.apply is not None:
            parts.append(f"apply={getattr(self.apply, '__name__', self.apply)}")
        return f"Upgrade({', '.join(parts)})"


def upgrade(
    from_version: int, *, rename: Mapping[str, str] | None = None
) -> Callable[[Any], Upgrade]:
    """Decorator form of :class:`Upgrade` for a function (a plain or static method
    of the entity, taking and returning the attributes dict)."""

    def wrap(function: Any) -> Upgrade:
        if isinstance(function, staticmethod):
            function = function.__func__
        return Upgrade(from_version, rename=rename, apply=function)

    return wrap


def check_upgrades(owner: str, version: int | None, upgrades: list[Upgrade]) -> dict[int, Upgrade]:
    """The upgrades by version they start from, checked against the declared version.

    Raises:
        ModelError: an upgrade without ``schema_version``, from a version that is not
            older than it, or two from the same version.
    """
    found: dict[int, Upgrade] = {}
    for step in upgrades:
        if version is None:
            raise ModelError(f"{owner}: {step!r} is declared, but not schema_version=...")
        if step.from_version >= version:
            raise ModelError(
                f"{owner}: {step!r} upgrades from version {step.from_version}, but the "
                f"entity's schema_version is {version} (upgrades go from older versions)"
            )
        if step.from_version in found:
            raise ModelError(f"{owner}: two upgrades from version {step.from_version}")
        found[step.from_version] = step
    return found


def apply_upgrades(
    upgrades: Mapping[int, Upgrade], data: dict[str, Any], stored: int, current: int
) -> dict[str, Any]:
    """``data`` (an item's attributes of version ``stored``) upgraded to ``current``."""
    for version in range(stored, current):
        step = upgrades.get(version)
        if step is not None:
            data = step(data)
    return data


# Entities made by reading an item of an older version: id -> (stored version, the
# item as read). An entry goes when its entity is garbage collected.
_READ: dict[int, tuple[int, dict[str, Any]]] = {}


def remember_read(entity: object, version: int, item: Mapping[str, Any]) -> None:
    """Record that ``entity`` was read, and upgraded, from ``item`` of ``version``."""
    key = id(entity)
    _READ[key] = (version, dict(item))
    weakref.finalize(entity, _READ.pop, key, None)


def read_as(entity: object) -> tuple[int, dict[str, Any]] | None:
    """(the stored version, the item as read) if ``entity`` was upgraded on reading."""
    return _READ.get(id(entity))
