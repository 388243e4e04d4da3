"""The checks every request passes before its operation runs: valid Unicode, bounded depth.

DynamoDB reads a request as UTF-8 JSON, so every string in it (table and attribute
names, values, expressions, placeholders, set members, tokens...) is valid Unicode.
A Python ``str`` is not necessarily: it may hold a lone surrogate (from Python code,
or from a JSON ``"\\ud800"`` escape), which has no UTF-8 form and would otherwise fail
deep inside the engine (an encode for a size or a key) as a raw UnicodeEncodeError.
Such a request is refused up front with a ValidationException naming the member.
And no request nested deeper than :data:`MAX_DEPTH` levels reaches an operation, so
nothing downstream (a message quoting a value, a digest, a copy) ever recurses deep.

Cost: the members whose own validation already checks every string and the nesting
(items, keys and ExpressionAttributeValues, all through
:func:`singletable._values.validate_value` or
:func:`~singletable._values.validate_item_sized`, before anything changes) are skipped
here, per operation (:data:`_PRECHECKED`); on PutItem/GetItem/Query only the table
name, the expressions and a few enum members are left to walk, each string an O(1)
``isascii()`` test.
"""

from __future__ import annotations

from typing import Any

from singletable._values import InvalidValue, check_nested, check_text
from singletable.backends.local.errors import DynamoDBError

__all__ = ["MAX_DEPTH", "check_request"]

MAX_DEPTH = 100
"""JSON levels a request may have. The deepest valid requests (an AttributeValue 32
levels deep in a legacy ``Expected`` or ``AttributeUpdates``) take about 70."""

_Spec = dict[str, "_Spec | None"]
"""How to walk a request: member name -> None (skipped: validated on its own, see the
module docstring) or the spec of that member (a JSON object; ``"*"``: every member or
list element). Members a spec does not name are walked whole."""

_ITEM_REQUEST: _Spec = {"Item": None, "ExpressionAttributeValues": None}
_KEY_REQUEST: _Spec = {"Key": None, "ExpressionAttributeValues": None}
_VALUES_ONLY: _Spec = {"ExpressionAttributeValues": None}

# Keys go through TableDef.key_from_request: their names must be the table's key
# names (anything else is "The provided key element does not match the schema") and
# their values go through validate_value.
_PRECHECKED: dict[str, _Spec] = {
    "PutItem": _ITEM_REQUEST,
    "UpdateItem": _KEY_REQUEST,
    "DeleteItem": _KEY_REQUEST,
    "GetItem": {"Key": None},
    "Query": _VALUES_ONLY,
    "Scan": _VALUES_ONLY,
    "BatchWriteItem": {
        "RequestItems": {"*": {"*": {"PutRequest": {"Item": None}, "DeleteRequest": {"Key": None}}}}
    },
    "BatchGetItem": {"RequestItems": {"*": {"Keys": {"*": None}}}},
    # A transaction checks its keys' values but not their names before it binds them
    # (a wrong name is a cancellation reason), so its keys are walked here.
    "TransactWriteItems": {
        "TransactItems": {
            "*": {
                "Put": _ITEM_REQUEST,
                "Update": _VALUES_ONLY,
                "Delete": _VALUES_ONLY,
                "ConditionCheck": _VALUES_ONLY,
            }
        }
    },
}


def check_request(operation: str, request: dict[str, Any]) -> None:
    """Refuse a request holding a lone surrogate anywhere, or nested too deep.

    The engine runs it before every operation's handler, except for the operations
    whose handlers run it themselves once their fast path has not answered
    (``engine._UNCHECKED``: a compiled program's request passes these checks).

    Raises:
        DynamoDBError: ValidationException.
    """
    spec = _PRECHECKED.get(operation, _NOTHING_SKIPPED)
    for name, value in request.items():  # the top level inline: the common members are cheap
        kind = type(value)
        if type(name) is str and name.isascii():
            if kind is str:
                if value.isascii():
                    continue
            elif (
                kind in _OTHER_SCALARS
                or spec.get(name, False) is None
                or (kind is dict and _flat_ascii(value))  # ExpressionAttributeNames, say
            ):
                continue
        try:
            _walk({name: value}, spec, None, 1)
        except InvalidValue as error:
            raise DynamoDBError(error.code, error.message) from None


def _flat_ascii(node: dict[Any, Any]) -> bool:
    """Whether ``node`` maps ASCII strings to ASCII strings (nothing in it to check)."""
    for key, value in node.items():
        if type(key) is not str or type(value) is not str:
            return False
        if not key.isascii() or not value.isascii():
            return False
    return True


_NOTHING_SKIPPED: _Spec = {}
_OTHER_SCALARS = frozenset({int, float, bool, type(None)})

def _text(path: Any) -> str:
    """The message form of a path. Paths are built as cheap pairs on the way down,
    ``(parent, name)`` or ``(parent, position)`` in a list (None: the request), and
    written out only for a message: ``TransactItems[0].Put.Key``."""
    if path is None:
        return ""
    parent, part = path
    prefix = _text(parent)
    if type(part) is int:
        return f"{prefix}[{part}]"
    return f"{prefix}.{part}" if prefix else str(part)


def _walk(node: Any, spec: _Spec, path: Any, depth: int) -> None:
    """Walk ``node`` (the object or list ``spec`` describes) at ``depth``.

    On the way down the strings only get ``isascii()`` tests (O(1) in CPython) and
    the paths stay pairs: their text is only made for an error's message.
    """
    each = spec.get("*", False)
    if type(node) is list and each is not False:
        if each is None:
            return
        for position, element in enumerate(node):  # (_member, inlined)
            if type(element) is dict and type(each) is dict:
                _walk(element, each, (path, position), depth + 1)
            else:
                _member(element, each, (path, position), depth + 1)
        return
    if type(node) is not dict:
        _nested(node, path, MAX_DEPTH - depth + 1)
        return
    for name, value in node.items():
        if type(name) is str and not name.isascii():
            check_text(name, f"a member name in {_text(path) or 'the request'}")
        kind = type(value)
        if kind is str:
            if not value.isascii():
                where = f"the string at {_text(path)}.{name}" if path is not None else f"{name}"
                check_text(value, where)
            continue
        if kind in _OTHER_SCALARS:
            continue
        sub = spec.get(name, False) if each is False else each
        if sub is None:  # validated by the operation itself
            continue
        if type(sub) is dict:  # (_member, inlined)
            _walk(value, sub, (path, name), depth + 1)
        else:
            _nested(value, (path, name), MAX_DEPTH - depth)


def _nested(value: Any, path: Any, max_depth: int) -> None:
    """:func:`check_nested` of ``value``, its message naming ``path`` (made only if it fails)."""
    try:
        check_nested(value, "", max_depth)
    except InvalidValue:
        check_nested(value, _text(path) or "the request", max_depth)  # (raises, named)
        raise


def _member(value: Any, spec: _Spec | bool | None, path: Any, depth: int) -> None:
    if spec is False:
        _nested(value, path, MAX_DEPTH - depth + 1)
    elif spec is not None:
        assert isinstance(spec, dict)
        _walk(value, spec, path, depth)
