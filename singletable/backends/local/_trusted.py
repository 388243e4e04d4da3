"""PutItem of an item built by trusted code (:class:`singletable._canonical.CanonicalItem`).

The general path (:func:`._items.prepare_item`) validates every value of an item
and rebuilds it in canonical form (:func:`singletable._values.validate_item_sized`),
because a request's item can be anything. An item the codec built is canonical by
construction (the module docstring of :mod:`singletable._canonical` lists why), so
rebuilding it would give an equal item and checking its values would find nothing:
:func:`prepare_trusted` only measures it, and checks what construction cannot rule
out, while measuring:

* the nesting depth (a user's nested dicts and lists can go past 32 levels);
* every name and string being ASCII (non-ASCII text may hold a lone surrogate,
  which has no UTF-8 form: the general path checks and measures it);
* each AttributeValue having the shape the codec gives it (one member of a known
  type; ``B``/``BS``, which the codec seldom builds, are left to the general path),
  and number texts being canonical already (:func:`singletable._values.is_canonical_number`,
  or at the top level a text the general path's cache of seen numbers,
  ``_values._NUMBERS``, holds as its own canonical form: any other text, e.g.
  ``"01"`` or ``"1e5"``, takes the general path, which canonicalises it or refuses it).

The stored item is a deep copy, made in the same pass as the checks and the measure
(:func:`trusted_copy`): the request keeps its own containers, so nothing done to the
request afterwards (by a wrapper that ignores the read-only rule of
``backends/base.py``) can reach what is stored or read.

Anything else (and any item of more than 64 KB, where attribute names need their
length checks) goes the general path, so errors are always the general path's own.
The key (:meth:`TableDef.key_from_item`: missing keys, wrong key types, empty key
strings), the item size limit, the index key types and the condition are checked
by the same code as for any PutItem. The stored item is a plain dict equal to what
the general path stores; tests/engine/test_trusted_items.py checks both against each
other (items, sizes, errors).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from singletable._values import (
    _NUMBERS,
    MAX_NESTING,
    Item,
    _known_number,
    _number_size,
    is_canonical_number,
)
from singletable.backends.local._params import MAX_ATTRIBUTE_NAME_BYTES
from singletable.backends.local._schema import TableDef

Prepare = Callable[[TableDef, Any], tuple[bytes, bytes, Item, int]]

__all__ = ["prepare_trusted", "trusted_copy", "trusted_size"]


def prepare_trusted(
    table: TableDef, raw_item: Any, general: Prepare
) -> tuple[bytes, bytes, Item, int]:
    """``general`` (:func:`._items.prepare_item`) for a codec-built item, measured
    (and copied, in the same pass) instead of rebuilt: see the module docstring."""
    found = trusted_copy(raw_item)
    if found is None or found[1] > MAX_ATTRIBUTE_NAME_BYTES:
        return general(table, dict(raw_item))  # the general path, with its errors
    item, size = found
    pk, sk = table.key_from_item(item)
    return pk, sk, item, size


def trusted_size(item: Any) -> int | None:
    """The DynamoDB size of a codec-built item (what ``item_size`` gives), or None if
    anything in it needs the general path's checks."""
    found = trusted_copy(item)
    return None if found is None else found[1]


def trusted_copy(item: Any) -> tuple[Item, int] | None:
    """A codec-built item as the plain dict to store, sharing no dict or list with
    ``item``, and its DynamoDB size (what ``item_size`` gives); None if anything in
    it needs the general path's checks. One pass: every value is checked, measured
    and copied at once (a fresh one-member dict per AttributeValue, a fresh list per
    set or list; strings are immutable and shared)."""
    out: Item = {}
    total = 0
    numbers = _NUMBERS
    for name, value in item.items():
        if type(value) is not dict or len(value) != 1:
            return None
        if type(name) is not str or not name.isascii():
            return None
        raw = value.get("S")  # strings, numbers and string sets inline: most of any item
        if raw is not None:
            if type(raw) is not str or not raw.isascii():
                return None
            out[name] = {"S": raw}
            total += len(name) + len(raw)
            continue
        raw = value.get("N")
        if raw is not None:
            if type(raw) is not str:
                return None
            # the general path's cache of seen number texts (._values._NUMBERS): a
            # text it holds as its own canonical form is one the general path
            # stores as it is, with that size
            known = numbers.get(raw)
            if known is None:
                if not is_canonical_number(raw):
                    return None
                known = _known_number(raw)  # (canonical already: cannot fail)
            if known[0] != raw:
                return None
            out[name] = {"N": raw}
            total += len(name) + known[1]
            continue
        raw = value.get("SS")
        if type(raw) is list and raw:
            size = 0
            for member in raw:
                if type(member) is not str or not member.isascii():
                    return None
                size += len(member)
            if len(set(raw)) != len(raw):
                return None
            out[name] = {"SS": raw.copy()}
            total += len(name) + size
            continue
        copied = _copy(value, 0)
        if copied is None:
            return None
        out[name] = copied[0]
        total += len(name) + copied[1]
    return out, total


def _copy(value: Any, depth: int) -> tuple[Any, int] | None:
    """One codec-built AttributeValue at ``depth``, copied, and its ``value_size``
    (None: not one the codec builds, or one the general path must check)."""
    if type(value) is not dict or len(value) != 1:
        return None
    for kind, raw in value.items():
        if kind == "S":
            return ({"S": raw}, len(raw)) if type(raw) is str and raw.isascii() else None
        if kind == "N":
            if type(raw) is str and is_canonical_number(raw):
                return {"N": raw}, _number_size(raw)
            return None
        if kind == "BOOL":
            return ({"BOOL": raw}, 1) if type(raw) is bool else None
        if kind == "NULL":
            return ({"NULL": True}, 1) if raw is True else None
        if kind == "SS" or kind == "NS":
            size = _set_size(raw, kind == "NS")
            return None if size is None else ({kind: list(raw)}, size)
        if depth >= MAX_NESTING:  # the general path refuses it (or B/BS: it measures them)
            return None
        if kind == "M" and type(raw) is dict:
            total = 3
            members: dict[str, Any] = {}
            for key, member in raw.items():
                if type(key) is not str or not key.isascii():
                    return None
                if type(member) is dict and len(member) == 1:  # a string member inline
                    text = member.get("S")
                    if type(text) is str and text.isascii():
                        members[key] = {"S": text}
                        total += len(key) + len(text) + 1
                        continue
                copied = _copy(member, depth + 1)
                if copied is None:
                    return None
                members[key] = copied[0]
                total += len(key) + copied[1] + 1
            return {"M": members}, total
        if kind == "L" and type(raw) is list:
            total = 3
            elements: list[Any] = []
            for member in raw:
                copied = _copy(member, depth + 1)
                if copied is None:
                    return None
                elements.append(copied[0])
                total += copied[1] + 1
            return {"L": elements}, total
    return None


def _set_size(raw: Any, numbers: bool) -> int | None:
    if type(raw) is not list or not raw or len(set(raw)) != len(raw):
        return None
    total = 0
    for member in raw:
        if type(member) is not str:
            return None
        if numbers:
            if not is_canonical_number(member):  # so distinct texts are distinct numbers
                return None
            total += _number_size(member)
        elif member.isascii():
            total += len(member)
        else:
            return None
    return total
