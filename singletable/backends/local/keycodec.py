"""Order-preserving, self-delimiting byte encoding of key values (S, N, B).

Storage keeps items ordered by the bytes this module produces, so the byte order
of two encodings must be DynamoDB's order of the two values: numbers by numeric
value, strings "in order of UTF-8 bytes", binary with "each byte ... as
unsigned" (API Reference, Query, ``ScanIndexForward``; Developer Guide, "Key
condition expressions for the Query operation"). Encodings are also *self-delimiting* (no
encoding is a proper prefix of another), so a concatenation of encodings
compares like the tuple of its values::

    encode_key(a1) + encode_key(b1) < encode_key(a2) + encode_key(b2)
        iff (a1, b1) < (a2, b2)

which is what index entries (index key followed by the table key) rely on. The
same bytes will serve the durable store, so the format is fixed:

* a type tag byte: ``B`` (0x42), ``N`` (0x4E) or ``S`` (0x53);
* **S / B**: the UTF-8 (S) or raw (B) bytes with every 0x00 written as 0x00 0xFF,
  then the terminator 0x00 0x01. The terminator sorts below any content byte
  and below an escaped zero, so "a" < "a\\x00" < "ab" hold bytewise, and
  escaping keeps the terminator unambiguous (the technique of FoundationDB's
  tuple layer, with a two-byte terminator so that no encoding prefixes another);
* **N**: a class byte, 0x01 negative, 0x02 zero, 0x03 positive; zero ends there.
  Otherwise the value is written as 0.d1d2...dk x 10**E (d1 != 0, no trailing
  zeros): one exponent byte ``E + 129`` (DynamoDB's range, 1E-130 to
  9.99...E+125, gives E in -129..126, exactly one byte), then the digits as
  ASCII, then the terminator 0x00, which sorts below every digit so that a
  shorter mantissa sorts first. A negative number writes the same bytes
  complemented (255 - b), which reverses their order; its terminator becomes
  0xFF.

Input values are assumed valid (the engine validates keys before encoding them);
anything that cannot be encoded raises ``ValueError``.
"""

from __future__ import annotations

import base64
import binascii

from singletable._values import AttributeValue, decode_binary

__all__ = [
    "MAX_HASH_KEY_BYTES",
    "MAX_RANGE_KEY_BYTES",
    "decode_key",
    "encode_key",
    "encode_string",
    "oversized_key",
    "prefix_bounds",
    "successor",
]

# Longest key values, of tables and indexes alike (Developer Guide, "Detecting and
# correcting index key violations"); a Number key is at most 38 digits, far below.
MAX_HASH_KEY_BYTES = 2048
MAX_RANGE_KEY_BYTES = 1024


def oversized_key(kind: str, raw: str, limit: int) -> int | None:
    """The size of a key value (S: UTF-8 bytes, B: decoded bytes) beyond ``limit``
    bytes, None when it fits. Cheap: only a value whose text is long enough to break
    the limit is measured (a character is at most 4 UTF-8 bytes, base64 text is
    longer than its bytes, a number is short)."""
    if len(raw) <= limit // 4:
        return None
    size = len(decode_binary(raw)) if kind == "B" else len(raw.encode("utf-8"))
    return size if size > limit else None

TAG_B = 0x42
TAG_N = 0x4E
TAG_S = 0x53

_PREFIX_B = bytes([TAG_B])
_PREFIX_S = bytes([TAG_S])
_ZERO = bytes([TAG_N, 0x02])
_POSITIVE = bytes([TAG_N, 0x03])
_NEGATIVE = bytes([TAG_N, 0x01])

_END = b"\x00\x01"  # terminator of S and B
_NUL = b"\x00"
_ESCAPED_NUL = b"\x00\xff"

_EXPONENT_BIAS = 129  # 0.1E-129 == 1E-130 is the smallest magnitude DynamoDB stores
_MIN_EXPONENT = -129
_MAX_EXPONENT = 126  # 0.999...E+126 == 9.99...E+125 is the largest

# Complement every byte: turns ascending order into descending order.
_INVERT = bytes(255 - b for b in range(256))


# --------------------------------------------------------------------------- encode


def encode_key(av: AttributeValue) -> bytes:
    """The order-preserving encoding of an S, N or B key value."""
    ((kind, raw),) = av.items()
    if kind == "S":  # (encode_string, inlined)
        text: str = raw
        if "\0" in text:
            return _PREFIX_S + text.encode("utf-8").replace(_NUL, _ESCAPED_NUL) + _END
        return b"S%b\0\1" % text.encode("utf-8")
    if kind == "N":
        return _encode_number(raw)
    if kind == "B":
        return _PREFIX_B + _b64decode(raw).replace(_NUL, _ESCAPED_NUL) + _END
    raise ValueError(f"not a key type: {kind}")


def encode_string(text: str) -> bytes:
    """:func:`encode_key` of ``{"S": text}`` (the write path's keys, given their text)."""
    if "\0" in text:
        return _PREFIX_S + text.encode("utf-8").replace(_NUL, _ESCAPED_NUL) + _END
    return b"S%b\0\1" % text.encode("utf-8")


def _b64decode(text: str) -> bytes:
    try:
        return base64.b64decode(text, validate=True)
    except binascii.Error:
        raise ValueError(f"invalid base64 binary value: {text!r}") from None


def _encode_number(text: str) -> bytes:
    """Encode a decimal number text (canonical or not, exponent allowed)."""
    negative = text.startswith("-")
    body = text[1:] if negative or text.startswith("+") else text
    exponent = 0
    if "e" in body or "E" in body:
        body, _, exp_text = body.upper().partition("E")
        exponent = int(exp_text)
    whole, _, fraction = body.partition(".")
    all_digits = whole + fraction
    digits = all_digits.lstrip("0")
    if not (all_digits.isascii() and all_digits.isdigit()):
        raise ValueError(f"not a number: {text!r}")
    if not digits:
        return _ZERO
    # value = 0.<digits> * 10**point: every leading zero moves the point left.
    point = len(whole) - (len(all_digits) - len(digits)) + exponent
    if not _MIN_EXPONENT <= point <= _MAX_EXPONENT:
        raise ValueError(f"number out of DynamoDB's range: {text!r}")
    mantissa = bytes([point + _EXPONENT_BIAS]) + digits.rstrip("0").encode("ascii") + _NUL
    if negative:
        return _NEGATIVE + mantissa.translate(_INVERT)
    return _POSITIVE + mantissa


# --------------------------------------------------------------------------- decode


def decode_key(data: bytes, offset: int = 0) -> tuple[AttributeValue, int]:
    """Decode the key value encoded at ``data[offset:]``.

    Returns the value (canonical wire shape: numbers as DynamoDB prints them,
    binary as standard base64) and the offset just past its encoding.
    """
    try:
        tag = data[offset]
        if tag == TAG_S:
            raw, end = _decode_bytes(data, offset + 1)
            return {"S": raw.decode("utf-8")}, end
        if tag == TAG_N:
            return _decode_number(data, offset + 1)
        if tag == TAG_B:
            raw, end = _decode_bytes(data, offset + 1)
            return {"B": base64.b64encode(raw).decode("ascii")}, end
    except (IndexError, UnicodeDecodeError) as exc:
        raise ValueError(f"malformed key encoding at offset {offset}") from exc
    raise ValueError(f"unknown key type tag {tag:#04x} at offset {offset}")


def _decode_bytes(data: bytes, start: int) -> tuple[bytes, int]:
    # Inside the body every 0x00 is followed by 0xFF, so the first 0x00 0x01
    # is the terminator.
    end = data.find(_END, start)
    if end < 0:
        raise ValueError("unterminated string or binary key encoding")
    return data[start:end].replace(_ESCAPED_NUL, _NUL), end + 2


def _decode_number(data: bytes, start: int) -> tuple[AttributeValue, int]:
    cls = data[start]
    if cls == 0x02:
        return {"N": "0"}, start + 1
    if cls == 0x03:
        end = data.find(_NUL, start + 2)
        body = data[start + 1 : end]
        sign = ""
    elif cls == 0x01:
        end = data.find(b"\xff", start + 2)
        body = data[start + 1 : end].translate(_INVERT)
        sign = "-"
    else:
        raise ValueError(f"bad number class byte {cls:#04x}")
    if end < 0:
        raise ValueError("unterminated number key encoding")
    point = body[0] - _EXPONENT_BIAS
    digits = body[1:].decode("ascii")
    return {"N": sign + _plain(digits, point)}, end + 1


def _plain(digits: str, point: int) -> str:
    """Text of 0.<digits> * 10**point without an exponent (DynamoDB's output form)."""
    if point <= 0:
        return "0." + "0" * -point + digits
    if point < len(digits):
        return digits[:point] + "." + digits[point:]
    return digits + "0" * (point - len(digits))


# --------------------------------------------------------------------------- prefixes


def prefix_bounds(av: AttributeValue) -> tuple[bytes, bytes | None]:
    """Byte range ``[lo, hi)`` holding exactly the encodings of values with prefix ``av``.

    For ``begins_with`` on an S or B sort key: a value starts with the prefix
    iff ``lo <= encode_key(value) < hi``. ``hi`` is None when unbounded (which
    the type tag rules out in practice).
    """
    ((kind, raw),) = av.items()
    if kind == "S":
        lo = _PREFIX_S + raw.encode("utf-8").replace(_NUL, _ESCAPED_NUL)
    elif kind == "B":
        lo = _PREFIX_B + _b64decode(raw).replace(_NUL, _ESCAPED_NUL)
    else:
        raise ValueError(f"begins_with needs an S or B value, not {kind}")
    return lo, successor(lo)


def successor(prefix: bytes) -> bytes | None:
    """The smallest byte string greater than every string starting with ``prefix``."""
    stripped = prefix.rstrip(b"\xff")
    if not stripped:
        return None
    return stripped[:-1] + bytes([stripped[-1] + 1])
