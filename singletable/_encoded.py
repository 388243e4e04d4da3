"""The mark of an item handed to a backend already as JSON text.

A batch write of entities through a backend that speaks the JSON protocol itself
(the wire backends: a class attribute ``encodes_items = True``) does not build each
item as a dict of AttributeValues only to encode it again: the entity's class
compiles a writer of the item's JSON text (:mod:`singletable._json_writer`), exactly
the text ``json.JSONEncoder().encode(entity.to_item())`` gives. The flow then yields
a :class:`EncodedRequest` whose ``PutRequest`` items are :class:`EncodedItem` texts,
and the wire backend splices them into the body.

No other backend ever sees either class: ``db`` asks for encoded items only when
the backend's class says it takes them, and ``db.explain`` always shows dicts.
"""

from __future__ import annotations

from typing import Any

__all__ = ["EncodedItem", "EncodedRequest"]


class EncodedItem(str):
    """An item as the JSON text of its dict of AttributeValues."""

    __slots__ = ()


class EncodedRequest(dict[str, Any]):
    """A BatchWriteItem request (``{"RequestItems": {table: [write, ...]}}``) whose
    ``PutRequest`` items may be :class:`EncodedItem` texts."""

    __slots__ = ()
