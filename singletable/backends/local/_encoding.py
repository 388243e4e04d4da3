"""JSON encoding of responses for :meth:`LocalEngine.call_json`, with hot items encoded once.

``call_json`` reads items shared (see ._records): a hot item is the same decoded
object from one request to the next, for as long as it stays in the bounded cache
of shared items, and its JSON text is kept beside it there (the cache counts the
text against its byte budget: there is no second, unbounded copy of every item
served). GetItem, Query and Scan responses without a projection consist of such
items, so their bodies are assembled from the kept texts; every other response is
encoded whole. On a 25-item page of ~1 KB items this removes most of the encoding
time from the routed and HTTP paths.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from singletable.backends.local._records import SHARED
from singletable.partiql import PartiQLSyntaxError, parse
from singletable.partiql.nodes import Select

__all__ = ["dumps", "encode_response", "loads"]

# Responses are trees, never cyclic: skipping the cycle check encodes about 20% faster.
_encode = json.JSONEncoder(separators=(",", ":"), check_circular=False).encode

_PROJECTING = ("ProjectionExpression", "AttributesToGet")

# The scanner json.loads runs (a decoder of the default options, as json.loads's own).
_scan: Callable[[str, int], tuple[Any, int]] = json.JSONDecoder().scan_once  # type: ignore[attr-defined]


def loads(body: bytes | str) -> Any:
    """``json.loads(body)``, with its result and its errors.

    A request body is a JSON object, from its first character to its last, as a rule:
    that is parsed by json's scanner directly, without json.loads's layers (three
    Python calls and two regular expression matches, for whitespace around the
    document), on the HTTP path's every request; a malformed object gets json's own
    error from the scanner. Anything else (bytes, whitespace around the object,
    something after it, another value) goes to json.loads.
    """
    if type(body) is str and body[:1] == "{":
        try:
            value, end = _scan(body, 0)
        except StopIteration:  # a value missing inside: json.loads says where
            return json.loads(body)
        if end == len(body):
            return value
    return json.loads(body)


def dumps(document: dict[str, Any]) -> bytes:
    """Compact ASCII JSON of a response document."""
    return _encode(document).encode("ascii")


def encode_response(operation: str, request: dict[str, Any], response: dict[str, Any]) -> bytes:
    """The JSON body of ``response``; the texts of shared items are kept (see above)."""
    if operation == "GetItem":
        item = response.get("Item")
        if (
            item is None
            or request.get("ProjectionExpression") is not None
            or request.get("AttributesToGet") is not None
        ):
            return dumps(response)
        head = '{"Item":' + SHARED.text(item, _encode)
        if len(response) == 1:  # the usual answer: the item alone
            return (head + "}").encode("ascii")
        rest = {key: value for key, value in response.items() if key != "Item"}
    else:
        items = response.get("Items")
        if not items or not _whole_stored_items(operation, request):
            return dumps(response)
        rest = {key: value for key, value in response.items() if key != "Items"}
        # One join of the page's texts, its head and tail added to the ends: a 25 KB
        # page is copied once into the body's text (and once to bytes), not four times.
        parts = SHARED.texts(items, _encode)
        parts[0] = '{"Items":[' + parts[0]
        parts[-1] += "]}" if not rest else "]," + _encode(rest)[1:]
        return ",".join(parts).encode("ascii")
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
