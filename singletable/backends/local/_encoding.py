"""JSON encoding of responses for :meth:`LocalEngine.call_json`, with stored items encoded once.

Stored items are never modified (an update builds a new item), so the JSON text
of a stored item can be kept and reused for as long as that very object lives.
:class:`ItemJsonCache` keeps it by object identity, holding the object itself so
its identity cannot be reused while cached. Query and Scan pages without a
projection consist of stored items, so their bodies are assembled from cached
texts; every other response is encoded whole. On a 25-item page of ~1 KB items
this removes most of the encoding time from the routed and HTTP paths.
"""

from __future__ import annotations

import json
from typing import Any

from singletable._values import Item
from singletable.partiql import PartiQLSyntaxError, parse
from singletable.partiql.nodes import Select

__all__ = ["ItemJsonCache", "dumps", "encode_response"]

# Responses are trees, never cyclic: skipping the cycle check encodes about 20% faster.
_encode = json.JSONEncoder(separators=(",", ":"), check_circular=False).encode

_PROJECTING = ("ProjectionExpression", "AttributesToGet")


def dumps(document: dict[str, Any]) -> bytes:
    """Compact ASCII JSON of a response document."""
    return _encode(document).encode("ascii")


class ItemJsonCache:
    """JSON texts of stored items, by object identity; bounded, cleared when full."""

    def __init__(self, limit: int = 100_000) -> None:
        self._limit = limit
        self._texts: dict[int, tuple[Item, str]] = {}

    def text(self, item: Item) -> str:
        """The JSON text of ``item`` (a stored, never-modified item)."""
        entry = self._texts.get(id(item))
        if entry is not None and entry[0] is item:
            return entry[1]
        text = _encode(item)
        if len(self._texts) >= self._limit:
            self._texts.clear()
        self._texts[id(item)] = (item, text)
        return text


def encode_response(
    operation: str, request: dict[str, Any], response: dict[str, Any], cache: ItemJsonCache
) -> bytes:
    """The JSON body of ``response``; stored items come from ``cache``."""
    items = response.get("Items")
    if not items or not _whole_stored_items(operation, request):
        return dumps(response)
    rest = {key: value for key, value in response.items() if key != "Items"}
    head = '{"Items":[' + ",".join(map(cache.text, items)) + "]"
    if not rest:
        return (head + "}").encode("ascii")
    tail = _encode(rest)
    return (head + "," + tail[1:]).encode("ascii")


def _whole_stored_items(operation: str, request: dict[str, Any]) -> bool:
    """Whether the response's Items are stored items, unprojected (so cacheable)."""
    if operation in ("Query", "Scan"):
        return not any(request.get(member) is not None for member in _PROJECTING)
    if operation == "ExecuteStatement":  # a SELECT * (parsed from the parse cache)
        statement = request.get("Statement")
        if not isinstance(statement, str):
            return False
        try:
            parsed = parse(statement)
        except PartiQLSyntaxError:
            return False
        return isinstance(parsed.statement, Select) and parsed.statement.projection is None
    return False
