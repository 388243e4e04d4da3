"""Python values <-> DynamoDB AttributeValues (the JSON wire shape).

:func:`to_attribute` turns what a Pydantic model dumps (``model_dump(mode="python")``)
into an AttributeValue; :func:`from_attribute` turns one back into plain Python
values that Pydantic validates into the model's field types.

======================================  =======================================
Python                                  DynamoDB
======================================  =======================================
``str``                                 ``S``
``bool``                                ``BOOL``
``int``, ``Decimal``, ``float``         ``N`` (38 significant digits; NaN and
                                        infinities are refused)
``bytes``                               ``B`` (base64 on the wire)
``None``                                ``NULL`` (top-level None fields are left
                                        out of the item instead)
``list``, ``tuple``                     ``L``
``dict`` (str keys), nested models      ``M``
``set``/``frozenset`` of str            ``SS``
... of numbers                          ``NS``
... of bytes                            ``BS`` (empty sets are refused)
``datetime``                            ``S``, ISO-8601 (converted to UTC if aware)
``date``, ``time``, ``UUID``, ``Enum``  ``S`` (an Enum by its value's rules)
======================================  =======================================

Reading back, ``N`` becomes ``Decimal`` (exact), sets become ``set``; Pydantic
converts them to the declared types (``int``, ``set[int]``, ``datetime``, ...).
Errors are :class:`~singletable.errors.InvalidValueError` naming the path of the
value (``Order.lines[2].price``).
"""

from __future__ import annotations

import base64
import enum
import math
import uuid
from collections.abc import Mapping
from datetime import UTC, date, datetime, time
from decimal import Decimal
from typing import Any

from pydantic import BaseModel

from singletable._values import (
    MAX_DIGITS,
    AttributeValue,
    InvalidValue,
    canonical_number,
    decode_binary,
    format_number,
)
from singletable.errors import InvalidValueError

__all__ = ["epoch_seconds", "from_attribute", "from_item", "to_attribute"]


def to_attribute(value: Any, path: str) -> AttributeValue:
    """The AttributeValue for ``value``; ``path`` names it in errors."""
    encoder = _BY_TYPE.get(type(value))
    if encoder is not None:  # the common exact types, without the isinstance chain
        encoded: AttributeValue = encoder(value, path)
        return encoded
    return _to_attribute(value, path)


def _to_attribute(value: Any, path: str) -> AttributeValue:
    if isinstance(value, BaseModel):
        return to_attribute(value.model_dump(by_alias=True, exclude_none=True), path)
    if isinstance(value, str):
        # a str subclass (a StrEnum member, ...) as the plain string it holds: the
        # wire carries strings, and the local engine refuses anything else
        return {"S": str.__str__(value)}
    if isinstance(value, bool):
        return {"BOOL": value}
    if isinstance(value, int | Decimal | float):
        return {"N": _number(value, path)}
    if value is None:
        return {"NULL": True}
    if isinstance(value, Mapping):
        return _map(value, path)
    if isinstance(value, list | tuple):
        return _list(value, path)
    if isinstance(value, set | frozenset):
        return _set(value, path)
    if isinstance(value, bytes | bytearray | memoryview):
        return {"B": base64.b64encode(bytes(value)).decode()}
    if isinstance(value, datetime):
        # Aware datetimes are stored in UTC, so stored strings compare and sort as
        # the moments do; naive ones are stored as they are.
        if value.tzinfo is not None:
            value = value.astimezone(UTC)
        return {"S": value.isoformat()}
    if isinstance(value, date | time):
        return {"S": value.isoformat()}
    if isinstance(value, uuid.UUID):
        return {"S": str(value)}
    if isinstance(value, enum.Enum):
        return to_attribute(value.value, path)
    raise InvalidValueError(
        f"{path}: a {type(value).__name__} cannot be stored in DynamoDB ({value!r})"
    )


def _map(value: Mapping[Any, Any], path: str) -> AttributeValue:
    out: dict[str, AttributeValue] = {}
    for key, member in value.items():
        if type(key) is not str:
            if not isinstance(key, str):
                raise InvalidValueError(f"{path}: map keys must be strings, not {key!r}")
            key = str.__str__(key)  # (a StrEnum member as its string, as for values)
        kind = type(member)
        # strings and booleans inline: their encoding cannot fail, so the member's path
        # (only for messages) is not built for them
        if kind is str:
            out[key] = {"S": member}
        elif kind is bool:
            out[key] = {"BOOL": member}
        else:
            out[key] = to_attribute(member, f"{path}.{key}")
    return {"M": out}


def _list(value: list[Any] | tuple[Any, ...], path: str) -> AttributeValue:
    out: list[AttributeValue] = []
    for i, member in enumerate(value):
        kind = type(member)
        if kind is str:
            out.append({"S": member})
        elif kind is bool:
            out.append({"BOOL": member})
        else:
            out.append(to_attribute(member, f"{path}[{i}]"))
    return {"L": out}


def _int(value: int, path: str) -> AttributeValue:
    if -_INT_LIMIT < value < _INT_LIMIT:  # at most 38 digits: str() is canonical
        return {"N": str(value)}
    return {"N": _number(value, path)}


_INT_LIMIT = 10**38
_BY_TYPE: dict[type, Any] = {
    str: lambda v, p: {"S": v},
    bool: lambda v, p: {"BOOL": v},
    int: _int,
    Decimal: lambda v, p: {"N": _number(v, p)},
    float: lambda v, p: {"N": _number(v, p)},
    type(None): lambda v, p: {"NULL": True},
    dict: _map,
    list: _list,
    set: lambda v, p: _set(v, p),
    frozenset: lambda v, p: _set(v, p),
    bytes: lambda v, p: {"B": base64.b64encode(v).decode()},
    datetime: lambda v, p: {"S": _datetime_text(v)},
}


def _datetime_text(value: datetime) -> str:
    # Aware datetimes are stored in UTC (see _to_attribute); one already at offset
    # zero is UTC's wall time, and its isoformat is the UTC one's ("+00:00")
    if value.tzinfo is not None:
        offset = value.utcoffset()
        if offset is None or offset:
            value = value.astimezone(UTC)
    return value.isoformat()


def epoch_seconds(value: Any, path: str) -> int:
    """A TTL value as epoch seconds: a datetime (naive ones are UTC) or a number."""
    if isinstance(value, datetime):
        moment = value if value.tzinfo is not None else value.replace(tzinfo=UTC)
        return int(moment.timestamp())
    if isinstance(value, int | float | Decimal) and not isinstance(value, bool):
        try:
            return int(value)
        except (OverflowError, ValueError):  # inf, nan
            raise InvalidValueError(
                f"{path}: {value!r} cannot be a TTL (epoch seconds are finite)"
            ) from None
    raise InvalidValueError(f"{path}: a TTL must be a datetime or epoch seconds, not {value!r}")


def _number(value: int | Decimal | float, path: str) -> str:
    if isinstance(value, float):
        if not math.isfinite(value):
            raise InvalidValueError(
                f"{path}: {value!r} cannot be stored (DynamoDB numbers are finite)"
            )
        value = Decimal(repr(value))
    elif isinstance(value, Decimal) and not value.is_finite():
        raise InvalidValueError(f"{path}: {value!r} cannot be stored (DynamoDB numbers are finite)")
    try:
        if isinstance(value, Decimal):
            text = str(value)
            if (
                len(text) <= MAX_DIGITS
                and "E" not in text
                and ("." not in text or text[-1] != "0")
                and text != "-0"
            ):
                # Already canonical: str() of a finite Decimal without an exponent is
                # plain notation without leading zeros; with no trailing fraction zero
                # and no negative zero there is nothing to strip, and at most 38
                # characters are at most 38 digits, far inside DynamoDB's magnitudes
                # (what format_number would return; tests/unit/test_codec_numbers.py).
                return text
            # format_number(value) is canonical_number(str(value)) without the text
            # round trip: str() of a finite Decimal is exact, and parses back to the
            # same sign, digits and exponent
            return format_number(value)
        return canonical_number(str(value))
    except InvalidValue as error:
        raise InvalidValueError(f"{path}: {value!r} cannot be stored: {error.message}") from None


def _set(value: set[Any] | frozenset[Any], path: str) -> AttributeValue:
    if not value:
        raise InvalidValueError(
            f"{path}: an empty set cannot be stored (DynamoDB sets need at least one "
            "element; leave the field out or use None)"
        )
    members = list(value)
    if all(isinstance(m, str) for m in members):
        return {"SS": sorted(map(str.__str__, members))}  # (str subclasses as plain strings)
    if all(isinstance(m, bytes | bytearray) for m in members):
        return {"BS": sorted(base64.b64encode(bytes(m)).decode() for m in members)}
    if all(isinstance(m, int | Decimal | float) and not isinstance(m, bool) for m in members):
        numbers = {_number(m, path) for m in members}
        return {"NS": sorted(numbers, key=Decimal)}
    kinds = sorted({type(m).__name__ for m in members})
    raise InvalidValueError(
        f"{path}: a set must hold only strings, only numbers or only bytes (got {', '.join(kinds)})"
    )


def from_attribute(value: AttributeValue) -> Any:
    """The Python value of an AttributeValue (N -> Decimal, sets -> set, B -> bytes)."""
    ((kind, raw),) = value.items()
    if kind == "S":
        return raw
    if kind == "N":
        return Decimal(raw)
    if kind == "M":
        out: dict[str, Any] = {}
        for key, member in raw.items():
            text = member.get("S")
            # a string member taken as it is (the commonest), without a call per member
            out[key] = text if text is not None and len(member) == 1 else from_attribute(member)
        return out
    if kind == "L":
        return [from_attribute(member) for member in raw]
    if kind == "BOOL":
        return raw
    if kind == "NULL":
        return None
    if kind == "SS":
        return set(raw)
    if kind == "NS":
        return {Decimal(n) for n in raw}
    if kind == "B":
        return decode_binary(raw)
    if kind == "BS":
        return {decode_binary(b) for b in raw}
    raise InvalidValueError(f"unknown AttributeValue type {kind!r}")


def from_item(item: Mapping[str, AttributeValue]) -> dict[str, Any]:
    """An item's attributes as Python values."""
    return {name: from_attribute(value) for name, value in item.items()}
