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
  and number texts being canonical already (:func:`singletable._values.is_canonical_number`:
  any other text, e.g. ``"01"`` or ``"1e5"``, takes the general path, which
  canonicalises it or refuses it).

The stored item is a deep copy: the request keeps its own containers, so nothing
done to the request afterwards (by a wrapper that ignores the read-only rule of
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

import marshal
from collections.abc import Callable
from typing import Any

from singletable._values import MAX_NESTING, Item, _number_size, is_canonical_number
from singletable.backends.local._params import MAX_ATTRIBUTE_NAME_BYTES
from singletable.backends.local._schema import TableDef

Prepare = Callable[[TableDef, Any], tuple[bytes, bytes, Item, int]]

__all__ = ["prepare_trusted", "trusted_size"]


def prepare_trusted(
    table: TableDef, raw_item: Any, general: Prepare
) -> tuple[bytes, bytes, Item, int]:
    """``general`` (:func:`._items.prepare_item`) for a codec-built item, measured
    instead of rebuilt (see the module docstring)."""
    size = trusted_size(raw_item)
    if size is None or size > MAX_ATTRIBUTE_NAME_BYTES:
        return general(table, dict(raw_item))  # the general path, with its errors
    # A plain dict is stored (the mark stays out of the table), sharing nothing with
    # the request: every value above is of an exact built-in type, so marshal copies it.
    item: Item = marshal.loads(marshal.dumps(dict(raw_item)))
    pk, sk = table.key_from_item(item)
    return pk, sk, item, size


def trusted_size(item: Any) -> int | None:
    """The DynamoDB size of a codec-built item (what ``item_size`` gives), or None if
    anything in it needs the general path's checks."""
    total = 0
    for name, value in item.items():
        if type(name) is not str or not name.isascii() or type(value) is not dict:
            return None
        raw = value.get("S")  # strings and numbers inline: most of any item
        if type(raw) is str and raw.isascii() and len(value) == 1:
            total += len(name) + len(raw)
            continue
        raw = value.get("N")
        if type(raw) is str and len(value) == 1 and is_canonical_number(raw):
            total += len(name) + _number_size(raw)
            continue
        size = _size(value, 0)
        if size is None:
            return None
        total += len(name) + size
    return total


def _size(value: Any, depth: int) -> int | None:
    """``value_size`` of one codec-built AttributeValue at ``depth`` (None: not one)."""
    if type(value) is not dict or len(value) != 1:
        return None
    for kind, raw in value.items():
        if kind == "S":
            return len(raw) if type(raw) is str and raw.isascii() else None
        if kind == "N":
            return _number_size(raw) if type(raw) is str and is_canonical_number(raw) else None
        if kind == "BOOL":
            return 1 if type(raw) is bool else None
        if kind == "NULL":
            return 1 if raw is True else None
        if kind == "SS" or kind == "NS":
            return _set_size(raw, kind == "NS")
        if depth >= MAX_NESTING:  # the general path refuses it (or B/BS: it measures them)
            return None
        if kind == "M" and type(raw) is dict:
            total = 3
            for key, member in raw.items():
                size = _member_size(member, depth)
                if size is None or type(key) is not str or not key.isascii():
                    return None
                total += len(key) + size + 1
            return total
        if kind == "L" and type(raw) is list:
            total = 3
            for member in raw:
                size = _member_size(member, depth)
                if size is None:
                    return None
                total += size + 1
            return total
    return None


def _member_size(member: Any, depth: int) -> int | None:
    if type(member) is dict and len(member) == 1:  # a string member inline
        raw = member.get("S")
        if type(raw) is str and raw.isascii():
            return len(raw)
    return _size(member, depth + 1)


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
