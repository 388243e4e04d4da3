"""Which entity a stored item belongs to: the one rule the change parser
(:mod:`singletable.changes`), the migrations (``_migrate_items``) and the report's
data samples (``report._samples``) share.

An item written through the modelling layer names its entity in the table's type
attribute (``_type``), and that name decides. An item without one (written by
other code, or a stream record's keys alone) belongs to the one entity whose
table key templates parse its table key; none, or several, and it belongs to no
entity: a guess between several would label items by the order the entities
were declared in. A type name no entity has is not overruled by the key shape
either (an item of an entity the model no longer has, a unique value's guard).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from singletable.entity import Entity

__all__ = ["identify", "key_owner", "type_name_of"]


def type_name_of(item: Mapping[str, Any], type_attribute: str) -> str | None:
    """The entity type ``item`` (wire-shaped) names in ``type_attribute``; None if it
    has no string there."""
    marker = item.get(type_attribute)
    name = marker.get("S") if isinstance(marker, Mapping) else None
    return name if isinstance(name, str) else None


def key_owner(
    entities: Iterable[type[Entity]], keys: Mapping[str, Any]
) -> tuple[type[Entity] | None, str]:
    """The one of ``entities`` whose table key templates parse ``keys`` (an item, or
    its key attributes), or None and why not."""
    owners = [e for e in entities if e.__singletable__.owns(keys)]
    if len(owners) == 1:
        return owners[0], ""
    if not owners:
        return None, "no type attribute, and no entity's key templates match the keys"
    names = ", ".join(e.__name__ for e in owners)
    return None, f"no type attribute, and the keys fit several entities ({names})"


def identify(
    type_name: str | None, keys: Mapping[str, Any], entities: Mapping[str, type[Entity]]
) -> tuple[type[Entity] | None, str]:
    """The entity of an item among ``entities`` (by type name), or None and why not.

    Args:
        type_name: what the item names in the type attribute (:func:`type_name_of`).
        keys: the item, or its key attributes: read by :func:`key_owner` when
            ``type_name`` is None.
    """
    if type_name is None:
        return key_owner(entities.values(), keys)
    entity = entities.get(type_name)
    if entity is None:
        return None, f"unknown entity type {type_name!r}"
    return entity, ""
