"""The key encoding: byte order is DynamoDB's order, decoding inverts encoding.

DynamoDB orders S keys by UTF-8 bytes, N keys numerically and B keys by
unsigned bytes. The oracle below computes that order independently of the
codec (Python ``str``/``Decimal``/``bytes`` comparisons).
"""

from __future__ import annotations

import base64
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from singletable._values import AttributeValue, compare_values, format_number
from singletable.backends.local.keycodec import decode_key, encode_key, prefix_bounds

FAST = settings(deadline=None, max_examples=300)

# --------------------------------------------------------------------------- strategies


def _number(sign: int, digits: int, exponent: int) -> str:
    return format_number(Decimal((sign, tuple(int(c) for c in str(digits)), exponent)))


@st.composite
def numbers(draw: st.DrawFn) -> str:
    """Canonical number texts across DynamoDB's whole range (and near its edges)."""
    sign = draw(st.integers(0, 1))
    digits = draw(
        st.one_of(
            st.integers(1, 999),
            st.integers(1, 10**38 - 1),
            st.sampled_from([1, 9, 10**37, 10**38 - 1]),
        )
    )
    ndigits = len(str(digits))
    # Adjusted exponent (of the leading digit) in -130..125.
    adjusted = draw(st.one_of(st.integers(-3, 5), st.integers(-130, 125)))
    return _number(sign, digits, adjusted - ndigits + 1)


def _wire(kind: str, raw: Any) -> AttributeValue:
    return {kind: raw}


strings = st.text(max_size=12).map(lambda s: _wire("S", s))
# Small alphabets make shared prefixes and equal values common.
narrow_strings = st.text(alphabet="\x00ab\x7fé\U0001f600", max_size=6).map(lambda s: _wire("S", s))
binaries = st.binary(max_size=12).map(lambda b: _wire("B", base64.b64encode(b).decode()))
narrow_binaries = st.lists(st.sampled_from([0, 1, 0x7F, 0xFF]), max_size=6).map(
    lambda bs: _wire("B", base64.b64encode(bytes(bs)).decode())
)
number_values = st.one_of(
    numbers(), st.integers(-20, 20).map(str), st.sampled_from(["0", "0.5", "-0.5"])
).map(lambda n: _wire("N", n))

VALUES_BY_TYPE = {
    "S": st.one_of(strings, narrow_strings),
    "N": number_values,
    "B": st.one_of(binaries, narrow_binaries),
}
any_key_value = st.one_of(*VALUES_BY_TYPE.values())


def same_type_pair(kind: str) -> st.SearchStrategy[tuple[AttributeValue, AttributeValue]]:
    """Two values of one type, sometimes equal."""
    values = VALUES_BY_TYPE[kind]
    return st.one_of(st.tuples(values, values), values.map(lambda v: (v, dict(v))))


def _cmp(a: Any, b: Any) -> int:
    return int(a > b) - int(a < b)


def oracle(value: AttributeValue) -> Any:
    """DynamoDB's sort key of a value, computed without the codec."""
    ((kind, raw),) = value.items()
    if kind == "S":
        return raw.encode("utf-8")
    if kind == "N":
        return Decimal(raw)
    return base64.b64decode(raw)


# --------------------------------------------------------------------------- order


@pytest.mark.parametrize("kind", ["S", "N", "B"])
@FAST
@given(data=st.data())
def test_byte_order_is_dynamodb_order(kind: str, data: st.DataObject) -> None:
    a, b = data.draw(same_type_pair(kind))
    expected = _cmp(oracle(a), oracle(b))
    assert _cmp(encode_key(a), encode_key(b)) == expected
    assert compare_values(a, b) == expected  # the oracle agrees with the value rules


@FAST
@given(data=st.data())
def test_concatenated_encodings_order_like_tuples(data: st.DataObject) -> None:
    kinds = data.draw(st.lists(st.sampled_from(["S", "N", "B"]), min_size=1, max_size=3))
    first = [data.draw(VALUES_BY_TYPE[k]) for k in kinds]
    # The second tuple shares a random-length prefix with the first.
    shared = data.draw(st.integers(0, len(kinds)))
    second = first[:shared] + [data.draw(VALUES_BY_TYPE[k]) for k in kinds[shared:]]
    encoded_1 = b"".join(map(encode_key, first))
    encoded_2 = b"".join(map(encode_key, second))
    expected = _cmp(tuple(map(oracle, first)), tuple(map(oracle, second)))
    assert _cmp(encoded_1, encoded_2) == expected


def test_known_orders() -> None:
    numbers_in_order = [
        "-" + "9" * 38 + "0" * 88,
        "-1" + "0" * 125,
        "-10",
        "-9.5",
        "-1.5",
        "-1",
        "-0.5",
        "-0.05",
        "-0." + "0" * 129 + "1",
        "0",
        "0." + "0" * 129 + "1",
        "0.001",
        "0.1",
        "0.105",
        "0.11",
        "1",
        "1.5",
        "2",
        "10",
        "11",
        "9" * 38,
        "9" * 38 + "0" * 88,
    ]
    encoded = [encode_key({"N": n}) for n in numbers_in_order]
    assert encoded == sorted(encoded)
    assert len(set(encoded)) == len(encoded)

    strings_in_order = ["", "\x00", "\x00\x00", "\x01", "A", "a", "a\x00", "a\x00b", "ab", "é"]
    encoded = [encode_key({"S": s}) for s in strings_in_order]
    assert encoded == sorted(encoded)
    # UTF-8 byte order, not UTF-16 order: in UTF-16 U+1F600 is the surrogate
    # pair D83D DE00 and would sort before U+FF61.
    assert encode_key({"S": "\uff61"}) < encode_key({"S": "\U0001f600"})

    blobs_in_order = [b"", b"\x00", b"\x00\xff", b"\x01", b"\x7f", b"\x80", b"\xff", b"\xff\x00"]
    encoded = [encode_key({"B": base64.b64encode(b).decode()}) for b in blobs_in_order]
    assert encoded == sorted(encoded)


def test_equal_numbers_encode_equally_whatever_their_text() -> None:
    assert encode_key({"N": "1.50"}) == encode_key({"N": "1.5"}) == encode_key({"N": "15E-1"})
    assert encode_key({"N": "-0"}) == encode_key({"N": "0.000"}) == encode_key({"N": "0"})
    assert encode_key({"N": "1E+2"}) == encode_key({"N": "100"})


# --------------------------------------------------------------------------- decoding


@FAST
@given(value=any_key_value)
def test_decode_inverts_encode(value: AttributeValue) -> None:
    encoded = encode_key(value)
    assert decode_key(encoded) == (value, len(encoded))


@FAST
@given(values=st.lists(any_key_value, min_size=1, max_size=4), junk=st.binary(max_size=3))
def test_decode_walks_a_concatenation(values: list[AttributeValue], junk: bytes) -> None:
    data = junk + b"".join(map(encode_key, values))
    offset = len(junk)
    decoded = []
    for _ in values:
        value, offset = decode_key(data, offset)
        decoded.append(value)
    assert decoded == values
    assert offset == len(data)


def test_decoded_numbers_are_canonical() -> None:
    for text in ["1.0", "100", "1E+2", "-0.50", "0.000", "12345678901234567890123456789012345678"]:
        canonical = format_number(Decimal(text))
        assert decode_key(encode_key({"N": text}))[0] == {"N": canonical}


@pytest.mark.parametrize(
    "data",
    [b"", b"X", b"Sabc", b"N\x07", b"N\x03\x82\x31", b"B\x00", b"S\xff\xfe\x00\x01"],
)
def test_malformed_encodings_raise_value_error(data: bytes) -> None:
    with pytest.raises(ValueError):
        decode_key(data)


@pytest.mark.parametrize(
    "value",
    [
        {"BOOL": True},
        {"N": "1E+126"},
        {"N": "1E-131"},
        {"N": "abc"},
        {"B": "not base64!"},
        {"S": "a", "N": "1"},
    ],
)
def test_unencodable_values_raise_value_error(value: AttributeValue) -> None:
    with pytest.raises(ValueError):
        encode_key(value)


# --------------------------------------------------------------------------- prefixes


@st.composite
def prefix_cases(draw: st.DrawFn) -> tuple[AttributeValue, list[AttributeValue]]:
    """A prefix and values of its type, some of which start with it."""
    kind = draw(st.sampled_from(["S", "B"]))
    if kind == "S":
        raw_text = st.text(alphabet="\x00ab\xff\U0001f600", max_size=4)
        prefix = draw(raw_text)
        values = draw(st.lists(st.one_of(raw_text, raw_text.map(lambda s: prefix + s))))
        return {"S": prefix}, [{"S": v} for v in values]
    raw_bytes = st.lists(st.sampled_from([0, 1, 0xFE, 0xFF]), max_size=4).map(bytes)
    prefix_b = draw(raw_bytes)
    blobs = draw(st.lists(st.one_of(raw_bytes, raw_bytes.map(lambda b: prefix_b + b))))

    def b64(data: bytes) -> str:
        return base64.b64encode(data).decode()

    return {"B": b64(prefix_b)}, [{"B": b64(b)} for b in blobs]


@FAST
@given(case=prefix_cases())
def test_prefix_bounds_hold_exactly_the_values_with_the_prefix(
    case: tuple[AttributeValue, list[AttributeValue]],
) -> None:
    prefix, values = case
    lo, hi = prefix_bounds(prefix)
    for value in values:
        inside = lo <= encode_key(value) and (hi is None or encode_key(value) < hi)
        assert inside == oracle(value).startswith(oracle(prefix))


def test_prefix_bounds_of_a_number_is_an_error() -> None:
    with pytest.raises(ValueError):
        prefix_bounds({"N": "1"})
