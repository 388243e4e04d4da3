"""DynamoDB attribute values in wire shape: validation, numbers, sizes, equality, order.

An *AttributeValue* is the JSON-protocol shape DynamoDB sends and receives: a dict
with exactly one type key, ``{"S": "text"}``, ``{"N": "1.5"}``, ``{"B": "<base64>"}``,
``{"BOOL": True}``, ``{"NULL": True}``, ``{"L": [...]}``, ``{"M": {...}}``,
``{"SS": [...]}``, ``{"NS": [...]}``, ``{"BS": [...]}``. An *Item* maps attribute
names to AttributeValues.

Values that went through :func:`validate_value` are *canonical*: numbers in
DynamoDB's output form (``"1.0"`` -> ``"1"``, ``"1E+2"`` -> ``"100"``), binary
re-encoded in standard padded base64, sets free of duplicates. Equality of two
canonical scalars is therefore plain string equality.

Everything here is pure and used by the expression evaluator, the local engine
and (later) the ORM codec. Errors are :class:`InvalidValue`, carrying DynamoDB's
message text and the error code (``ValidationException`` unless the request
could not even be deserialized, which DynamoDB reports as
``SerializationException``).

Rules follow the Developer Guide pages "Supported data types and naming rules"
(38 significant digits, magnitude 1E-130 to 9.9999999999999999999999999999999999999E+125)
and "DynamoDB item sizes and formats" (the size formulas in :func:`value_size`).
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Iterable, Mapping
from decimal import Context, Decimal, InvalidOperation
from typing import Any, TypeAlias

__all__ = [
    "NESTING_MESSAGE",
    "SCALAR_TYPES",
    "AttributeValue",
    "InvalidValue",
    "Item",
    "add_numbers",
    "canonical_number",
    "check_nested",
    "check_nesting",
    "check_text",
    "compare_values",
    "copy_item",
    "copy_value",
    "decode_binary",
    "encode_binary",
    "format_number",
    "item_size",
    "subtract_numbers",
    "to_decimal",
    "utf8",
    "validate_item",
    "validate_item_sized",
    "validate_value",
    "value_size",
    "value_type",
    "values_equal",
]

AttributeValue: TypeAlias = dict[str, Any]
Item: TypeAlias = dict[str, AttributeValue]

TYPES = ("S", "N", "B", "BOOL", "NULL", "L", "M", "SS", "NS", "BS")
SCALAR_TYPES = frozenset({"S", "N", "B"})
_TYPE_SET = frozenset(TYPES)

MAX_DIGITS = 38
# DynamoDB's full text for an item nested deeper than 32 levels (as observed against
# DynamoDB; the TransactionCanceledException documentation quotes its first sentence).
NESTING_MESSAGE = (
    "Nesting Levels have exceeded supported limits: Attributes in the item have nested levels "
    "beyond supported limit"
)
MAX_ADJUSTED_EXPONENT = 125  # largest magnitude 9.99...E+125
MIN_ADJUSTED_EXPONENT = -130  # smallest magnitude 1E-130

# Arithmetic is done exactly (far more precision than any valid operand needs),
# then the result is checked against DynamoDB's limits by format_number.
_EXACT = Context(prec=400, Emax=999_999, Emin=-999_999)

# Java's BigDecimal grammar, which DynamoDB accepts: no whitespace, no underscores,
# no NaN/Infinity, and ASCII digits only (Python's Decimal would take all of them,
# and ``\d`` would match any Unicode digit: "\u0661\u0662" would be stored as 12).
_NUMBER_RE = re.compile(r"[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")
# Already canonical: an integer without leading zeros, short enough to need no checks.
_PLAIN_INT_RE = re.compile(r"-?[1-9][0-9]{0,36}|0")
# Already canonical: a decimal fraction without leading zeros before the point or
# trailing zeros after it. At most 38 characters long (checked before matching), it
# has at most 37 digits and a magnitude between 1E-36 and 1E+37: no checks needed.
_PLAIN_DECIMAL_RE = re.compile(r"-?(?:[1-9][0-9]*|0)\.[0-9]*[1-9]")
_PLAIN_DECIMAL_MAX = 38


def is_canonical_number(text: str) -> bool:
    """Whether ``text`` is a number already in canonical form that needs no checks
    (the fast case of :func:`canonical_number`, which returns such text unchanged)."""
    return bool(
        _PLAIN_INT_RE.fullmatch(text)
        or (len(text) <= _PLAIN_DECIMAL_MAX and _PLAIN_DECIMAL_RE.fullmatch(text))
    )


class InvalidValue(Exception):
    """A value DynamoDB would reject; ``message`` is DynamoDB's text."""

    def __init__(
        self, message: str, code: str = "ValidationException", family: str | None = None
    ) -> None:
        super().__init__(message)
        self.message = message
        self.code = code
        self.family = family
        """``"null"`` ({"NULL": false}), ``"set"`` (empty or duplicate set) or None.

        The engine uses it to tell which errors DynamoDB wraps in its
        request-validation envelope on PutItem/UpdateItem."""


def _invalid(message: str, family: str) -> InvalidValue:
    return InvalidValue("One or more parameter values were invalid: " + message, family=family)


# --------------------------------------------------------------------------- numbers


def to_decimal(text: str) -> Decimal:
    """The Decimal of a (canonical) number text."""
    return Decimal(text)


def format_number(value: Decimal) -> str:
    """Canonical text of ``value``; raises InvalidValue outside DynamoDB's limits."""
    sign, digits, exponent = value.as_tuple()
    if not isinstance(exponent, int):  # NaN or Infinity
        raise InvalidValue(f"The parameter cannot be converted to a numeric value: {value}")
    # Strip trailing zeros into the exponent; digits never carry leading zeros.
    count = len(digits)
    while count > 1 and digits[count - 1] == 0:
        count -= 1
        exponent += 1
    digits = digits[:count]
    if digits == (0,):
        return "0"
    if count > MAX_DIGITS:
        raise InvalidValue("Attempting to store more than 38 significant digits in a Number")
    adjusted = exponent + count - 1
    if adjusted > MAX_ADJUSTED_EXPONENT:
        raise InvalidValue(
            "Number overflow. Attempting to store a number with magnitude larger than "
            "supported range"
        )
    if adjusted < MIN_ADJUSTED_EXPONENT:
        raise InvalidValue(
            "Number underflow. Attempting to store a number with magnitude smaller than "
            "supported range"
        )
    text = "".join(map(str, digits))
    if exponent >= 0:
        text += "0" * exponent
    elif -exponent >= count:
        text = "0." + "0" * (-exponent - count) + text
    else:
        text = text[:exponent] + "." + text[exponent:]
    return "-" + text if sign else text


def canonical_number(text: Any) -> str:
    """Validate a number as sent on the wire and return its canonical text."""
    if type(text) is not str:
        raise _serialization(text, "String")
    if is_canonical_number(text):
        return text
    if not _NUMBER_RE.fullmatch(text):
        check_text(text, "a number")  # a lone surrogate gets its own message
        raise InvalidValue(f"The parameter cannot be converted to a numeric value: {text}")
    try:
        value = Decimal(text)
    except InvalidOperation:  # pragma: no cover - the regex admits only valid text
        raise InvalidValue(
            f"The parameter cannot be converted to a numeric value: {text}"
        ) from None
    return format_number(value)


def add_numbers(a: str, b: str) -> str:
    """``a + b`` exactly, as canonical text (limits checked)."""
    if len(a) < _SMALL_INT_CHARS and len(b) < _SMALL_INT_CHARS and "." not in a and "." not in b:
        try:  # two integers of at most 18 digits: the exact sum has at most 19
            return str(int(a) + int(b))
        except ValueError:  # (not canonical integers: the general way decides)
            pass
    return format_number(_EXACT.add(Decimal(a), Decimal(b)))


def subtract_numbers(a: str, b: str) -> str:
    """``a - b`` exactly, as canonical text (limits checked)."""
    if len(a) < _SMALL_INT_CHARS and len(b) < _SMALL_INT_CHARS and "." not in a and "." not in b:
        try:
            return str(int(a) - int(b))
        except ValueError:
            pass
    return format_number(_EXACT.subtract(Decimal(a), Decimal(b)))


# Counters, the common operands of SET #c = #c + :n and ADD, are small integers: with
# fewer characters than this (sign included) the sum or difference of two of them is
# an integer of at most 19 digits, far inside DynamoDB's 38 digits and its range, and
# ``str(int)`` is its canonical text (no leading zeros, no "-0").
_SMALL_INT_CHARS = 19


def _number_size(canonical: str) -> int:
    """Bytes a number counts for: one per two significant digits, plus one."""
    return (_significant_digits(canonical) + 1) // 2 + 1


def _significant_digits(canonical: str) -> int:
    digits = canonical.lstrip("-").replace(".", "").strip("0")
    return len(digits)


# --------------------------------------------------------------------------- binary


def decode_binary(text: str) -> bytes:
    """Raw bytes of a base64 wire value."""
    return base64.b64decode(text)


def encode_binary(data: bytes) -> str:
    """Base64 wire text of raw bytes."""
    return base64.b64encode(data).decode("ascii")


def _canonical_binary(text: Any) -> str:
    if type(text) is not str:
        raise _serialization(text, "Blob")
    check_text(text, "a binary value")  # (only ASCII is base64; this names a lone surrogate)
    try:
        data = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        raise InvalidValue(
            "Base64 encoded binary value is not valid", "SerializationException"
        ) from None
    return base64.b64encode(data).decode("ascii")


# --------------------------------------------------------------------------- validation


def _serialization(value: Any, expected: str) -> InvalidValue:
    """DynamoDB's deserializer error for a JSON value of the wrong shape."""
    if isinstance(value, bool):
        token = "TRUE_VALUE" if value else "FALSE_VALUE"
        message = f"{token} cannot be converted to {expected}"
    elif isinstance(value, int | float):
        message = f"NUMBER_VALUE cannot be converted to {expected}"
    elif isinstance(value, dict):
        message = "Start of structure or map found where not expected."
    elif isinstance(value, list):
        message = "Start of list found where not expected"
    else:
        message = f"VALUE_STRING cannot be converted to {expected}"
    return InvalidValue(message, "SerializationException")


# --------------------------------------------------------------------------- text and nesting

# DynamoDB strings and names are Unicode in UTF-8 ("Supported data types and naming
# rules": "All names must be encoded using UTF-8"). A Python str can still hold a lone
# (unpaired) surrogate, from Python code or from a JSON "\\ud800" escape, and such a
# string has no UTF-8 form: it is refused, never stored or half-encoded. DynamoDB's own
# text for it is not documented (it cannot receive invalid UTF-8 at all); this message
# says what is wrong and where.


def _unencodable(text: str, where: str) -> InvalidValue:
    surrogate = next((char for char in text if "\ud800" <= char <= "\udfff"), "\ud800")
    return InvalidValue(
        f"One or more parameter values were invalid: {where} contains the unpaired "
        f"surrogate U+{ord(surrogate):04X}, which is not valid Unicode and has no UTF-8 form"
    )


def utf8(text: str, where: str) -> bytes:
    """``text`` in UTF-8; InvalidValue (naming ``where``) if it holds a lone surrogate."""
    try:
        return text.encode("utf-8")
    except UnicodeEncodeError:
        raise _unencodable(text, where) from None


def check_text(text: str, where: str) -> str:
    """``text`` itself, after checking that it has a UTF-8 form (see :func:`utf8`).

    ASCII strings (``str.isascii`` is a flag test in CPython) cost nothing.
    """
    if not text.isascii():
        utf8(text, where)
    return text


def check_nested(data: Any, where: str, max_depth: int) -> None:
    """Check every string (and dict key) of JSON-shaped ``data`` and its nesting depth.

    Walks level by level, never recursing, so any depth costs no stack: data nested
    deeper than ``max_depth`` levels raises the nesting InvalidValue, a lone
    surrogate the UTF-8 one (``where`` names the request member in its message).
    """
    level = [data]
    depth = 0
    while level:
        depth += 1
        if depth > max_depth:
            raise InvalidValue(NESTING_MESSAGE)
        below: list[Any] = []
        for node in level:
            kind = type(node)
            if kind is str:
                if not node.isascii():
                    utf8(node, f"a string in {where}")
            elif kind is dict:
                for key in node:
                    if type(key) is str and not key.isascii():
                        utf8(key, f"a member name in {where}")
                below.extend(node.values())
            elif kind is list:
                below.extend(node)
        level = below


def check_nesting(values: Iterable[AttributeValue | None]) -> None:
    """Raise the nesting InvalidValue if a (canonical) value nests more than 32 levels.

    For values built by the engine (an update placing a value under a document path),
    which :func:`validate_value` never saw whole. Iterative: no stack for any depth.
    """
    stack = [(value, 0) for value in values if value is not None]
    while stack:
        value, depth = stack.pop()
        members = value.get("L")
        if members is None:
            fields = value.get("M")
            if fields is None:
                continue
            members = fields.values()
        if depth >= MAX_NESTING:
            raise InvalidValue(NESTING_MESSAGE)
        stack.extend((member, depth + 1) for member in members)


def value_type(value: AttributeValue) -> str:
    """The type key of a (valid) AttributeValue."""
    for key in value:
        return key
    raise InvalidValue(
        "Supplied AttributeValue is empty, must contain exactly one of the supported datatypes"
    )


MAX_NESTING = 32  # "Nested attribute depth: 32" (Developer Guide, quotas)


def validate_value(value: Any, path: str = "", depth: int = 0) -> AttributeValue:
    """Check one AttributeValue as DynamoDB does and return its canonical form.

    ``path`` names where the value sits (for messages that mention it); ``depth``
    counts the lists and maps around it.
    """
    if type(value) is not dict:
        if value is None:
            raise InvalidValue(
                "Supplied AttributeValue is empty, must contain exactly one of the "
                "supported datatypes"
            )
        raise _serialization(value, "AttributeValue")
    # Unknown members and JSON nulls are dropped by DynamoDB's deserializer (their
    # strings and depth are still checked: the request must be valid Unicode).
    present = [key for key in value if key in _TYPE_SET and value[key] is not None]
    if len(value) != 1:
        for key, member in value.items():
            if key not in _TYPE_SET:
                check_nested({key: member}, f"the AttributeValue of {path or 'a value'}", 64)
    if len(present) != 1:
        if not present:
            raise InvalidValue(
                "Supplied AttributeValue is empty, must contain exactly one of the "
                "supported datatypes"
            )
        raise InvalidValue(
            "Supplied AttributeValue has more than one datatypes set, must contain exactly "
            "one of the supported datatypes"
        )
    kind = present[0]
    raw = value[kind]
    if kind == "S":
        if type(raw) is not str:
            raise _serialization(raw, "String")
        if not raw.isascii():
            utf8(raw, f"the value of {path or 'a string'}")
        return {"S": raw}
    if kind == "N":
        return {"N": canonical_number(raw)}
    if kind == "B":
        return {"B": _canonical_binary(raw)}
    if kind == "BOOL":
        if type(raw) is not bool:
            raise _serialization(raw, "Boolean")
        return {"BOOL": raw}
    if kind == "NULL":
        if type(raw) is not bool:
            raise _serialization(raw, "Boolean")
        if not raw:
            raise _invalid("Null attribute value types must have the value of true", "null")
        return {"NULL": True}
    if kind in ("L", "M"):
        if depth >= MAX_NESTING:  # checked before descending: recursion stops at 33
            raise InvalidValue(NESTING_MESSAGE)
        if kind == "L":
            if type(raw) is not list:
                raise _serialization(raw, "List")
            return {
                "L": [
                    validate_value(member, f"{path}[{i}]", depth + 1)
                    for i, member in enumerate(raw)
                ]
            }
        if type(raw) is not dict:
            raise _serialization(raw, "Map")
        fields: Item = {}
        for key, member in raw.items():
            if not key.isascii():
                utf8(key, f"an attribute name in {path or 'a map'}")
            fields[key] = validate_value(member, f"{path}.{key}", depth + 1)
        return {"M": fields}
    return {kind: _validate_set(kind, raw, path)}


_EMPTY_SET_MESSAGES = {
    "SS": "An string set  may not be empty",
    "NS": "An number set  may not be empty",
    "BS": "Binary sets should not be empty",
}


def _validate_set(kind: str, raw: Any, path: str) -> list[str]:
    if type(raw) is not list:
        raise _serialization(raw, "List")
    if not raw:
        raise _invalid(_EMPTY_SET_MESSAGES[kind], "set")
    if kind == "SS":
        members = []
        for member in raw:
            if type(member) is not str:
                raise _serialization(member, "String")
            if not member.isascii():
                utf8(member, f"a member of {path or 'a string set'}")
            members.append(member)
    elif kind == "NS":
        members = [canonical_number(member) for member in raw]
    else:
        members = [_canonical_binary(member) for member in raw]
    if len(set(members)) != len(members):
        shown = ", ".join(str(member) for member in raw)
        raise _invalid(f"Input collection [{shown}] contains duplicates.", "set")
    return members


def validate_item(item: Any) -> Item:
    """Validate every attribute of an item; returns the canonical item."""
    return validate_item_sized(item)[0]


_NUMBERS: dict[str, tuple[str, int]] = {}
"""Number texts of written items already seen: wire text -> (canonical text, size).
Items repeat their numbers (counters, flags, prices): a known text costs one lookup
instead of the regular expressions and the digit count. Bounded by :data:`_NUMBERS_MAX`
(cleared when full) and :data:`NUMBER_TEXT_MAX`; only valid texts get in."""
_NUMBERS_MAX = 4096
NUMBER_TEXT_MAX = 64
"""The longest number text kept in a cache of seen texts. A canonical number fits in
about 45 characters; a valid text can be longer only by padding (leading zeros, say),
which is not worth keeping, and keys of any length would let a client fill memory."""


def _known_number(raw: str) -> tuple[str, int]:
    """(canonical text, size) of a wire number text (raises InvalidValue as
    :func:`canonical_number` does); remembered in :data:`_NUMBERS`."""
    known = _NUMBERS.get(raw)
    if known is None:
        number = canonical_number(raw)
        known = (number, _number_size(number))
        if len(raw) <= NUMBER_TEXT_MAX:
            if len(_NUMBERS) >= _NUMBERS_MAX:
                _NUMBERS.clear()
            _NUMBERS[raw] = known
    return known


def validate_item_sized(item: Any) -> tuple[Item, int]:
    """Validate an item and measure it in one pass: (canonical item, item_size).

    Strings, numbers and string sets, most of any item, take a fast path;
    everything else goes through :func:`validate_value` and :func:`value_size`.
    """
    if type(item) is not dict:
        raise _serialization(item, "Map")
    out: Item = {}
    total = 0
    numbers = _NUMBERS
    for name, value in item.items():
        if type(name) is not str:  # (only from Python callers: JSON keys are strings)
            raise _serialization(name, "String")
        total += len(name) if name.isascii() else len(utf8(name, "an attribute name"))
        if type(value) is dict and len(value) == 1:
            raw = value.get("S")
            if type(raw) is str:
                out[name] = {"S": raw}
                total += len(raw) if raw.isascii() else len(utf8(raw, f"the value of {name}"))
                continue
            raw = value.get("N")
            if type(raw) is str:
                known = numbers.get(raw)
                if known is None:
                    known = _known_number(raw)
                out[name] = {"N": known[0]}
                total += known[1]
                continue
            raw = value.get("SS")
            if type(raw) is list and raw:  # ASCII members, no duplicates: as sent
                size = 0
                for member in raw:
                    if type(member) is not str or not member.isascii():
                        break
                    size += len(member)
                else:
                    if len(set(raw)) == len(raw):
                        out[name] = {"SS": raw.copy()}
                        total += size
                        continue
        checked = validate_value(value, name)
        out[name] = checked
        total += value_size(checked)
    return out, total


# --------------------------------------------------------------------------- sizes


def value_size(value: AttributeValue) -> int:
    """Bytes a value counts for, per "DynamoDB item sizes and formats"."""
    for kind, raw in value.items():
        if kind == "S":
            return len(raw.encode("utf-8")) if not raw.isascii() else len(raw)
        if kind == "N":
            return _number_size(raw)
        if kind == "B":
            return len(decode_binary(raw))
        if kind in ("BOOL", "NULL"):
            return 1
        if kind == "L":
            return 3 + sum(value_size(member) + 1 for member in raw)
        if kind == "M":
            return 3 + sum(
                len(key.encode("utf-8")) + value_size(member) + 1 for key, member in raw.items()
            )
        if kind == "SS":
            return sum(len(member.encode("utf-8")) for member in raw)
        if kind == "NS":
            return sum(map(_number_size, raw))
        if kind == "BS":
            return sum(len(decode_binary(member)) for member in raw)
    return 0


def item_size(item: Mapping[str, AttributeValue]) -> int:
    """Bytes an item counts for: attribute names plus values."""
    return sum(len(name.encode("utf-8")) + value_size(value) for name, value in item.items())


# --------------------------------------------------------------------------- equality & order


def values_equal(a: AttributeValue, b: AttributeValue) -> bool:
    """DynamoDB equality of two canonical values (sets compare unordered)."""
    ((kind_a, raw_a),) = a.items()
    ((kind_b, raw_b),) = b.items()
    if kind_a != kind_b:
        return False
    if kind_a in ("SS", "NS", "BS"):
        return set(raw_a) == set(raw_b)
    if kind_a == "L":
        return len(raw_a) == len(raw_b) and all(map(values_equal, raw_a, raw_b))
    if kind_a == "M":
        return raw_a.keys() == raw_b.keys() and all(
            values_equal(member, raw_b[key]) for key, member in raw_a.items()
        )
    return bool(raw_a == raw_b)


def compare_values(a: AttributeValue, b: AttributeValue) -> int | None:
    """-1/0/1 ordering of two S, two N or two B values; None for anything else."""
    ((kind_a, raw_a),) = a.items()
    ((kind_b, raw_b),) = b.items()
    if kind_a != kind_b:
        return None
    if kind_a == "S":
        # Python compares str by code point, which is the order of their UTF-8 bytes.
        return int(raw_a > raw_b) - int(raw_a < raw_b)
    if kind_a == "N":
        if raw_a == raw_b:
            return 0
        da, db = Decimal(raw_a), Decimal(raw_b)
        return (da > db) - (da < db)
    if kind_a == "B":
        ba, bb = decode_binary(raw_a), decode_binary(raw_b)
        return (ba > bb) - (ba < bb)
    return None


# --------------------------------------------------------------------------- copies


def copy_value(value: AttributeValue) -> AttributeValue:
    """A deep copy of a value (scalars are immutable and shared)."""
    for kind, raw in value.items():
        if kind == "M":
            return {"M": {key: copy_value(member) for key, member in raw.items()}}
        if kind == "L":
            return {"L": [copy_value(member) for member in raw]}
        if kind in ("SS", "NS", "BS"):
            return {kind: list(raw)}
        return {kind: raw}
    return {}


def copy_item(item: Mapping[str, AttributeValue]) -> Item:
    """A deep copy of an item."""
    return {name: copy_value(value) for name, value in item.items()}
