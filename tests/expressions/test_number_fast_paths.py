"""The small-integer shortcuts of number arithmetic and ordering give the exact answers.

``add_numbers``/``subtract_numbers`` add two integers of at most 18 digits as Python
ints, and conditions order two such numbers as ints (``evaluate._ordered``); both
must agree with exact Decimal arithmetic checked against DynamoDB's limits
(``format_number``) and with ``compare_values``, for every canonical number,
integers near the cut-off and decimals and huge numbers that take the long way.
"""

from __future__ import annotations

from decimal import Context, Decimal

from hypothesis import given
from hypothesis import strategies as st

from singletable._values import (
    InvalidValue,
    add_numbers,
    canonical_number,
    compare_values,
    format_number,
    subtract_numbers,
)
from singletable.expressions.evaluate import _ordered

_EXACT = Context(prec=400, Emax=999_999, Emin=-999_999)

_INTEGERS = st.one_of(
    st.integers(-(10**18), 10**18),
    st.integers(-(10**40), 10**40),
    st.sampled_from([0, 1, -1, 10**17, 10**18 - 1, -(10**18 - 1), 10**18, 10**19, 10**38 - 1]),
).map(str)
_DECIMALS = st.decimals(allow_nan=False, allow_infinity=False, places=3).map(str)
_NUMBERS = st.one_of(_INTEGERS, _INTEGERS, _DECIMALS, st.sampled_from(["1E+125", "1E-130"]))


def _canonical(text: str) -> str | None:
    try:
        return canonical_number(text)
    except InvalidValue:
        return None


def _reference(a: str, b: str, subtract: bool) -> str:
    x, y = Decimal(a), Decimal(b)
    try:
        return format_number(_EXACT.subtract(x, y) if subtract else _EXACT.add(x, y))
    except InvalidValue as error:
        return f"error: {error.message}"


def _computed(a: str, b: str, subtract: bool) -> str:
    try:
        return subtract_numbers(a, b) if subtract else add_numbers(a, b)
    except InvalidValue as error:
        return f"error: {error.message}"


@given(_NUMBERS, _NUMBERS, st.booleans())
def test_arithmetic_matches_exact_decimal_arithmetic(a: str, b: str, subtract: bool) -> None:
    left, right = _canonical(a), _canonical(b)
    if left is None or right is None:
        return
    assert _computed(left, right, subtract) == _reference(left, right, subtract)


@given(_NUMBERS, _NUMBERS)
def test_ordering_matches_compare_values(a: str, b: str) -> None:
    left, right = _canonical(a), _canonical(b)
    if left is None or right is None:
        return
    assert _ordered({"N": left}, {"N": right}) == compare_values({"N": left}, {"N": right})
    assert _ordered({"N": left}, {"S": right}) is None
    assert _ordered(None, {"N": right}) is None


def test_the_shortcut_ends_where_an_int_could_pass_the_limits() -> None:
    nines = "9" * 18
    assert add_numbers(nines, nines) == "1" + "9" * 17 + "8"
    assert subtract_numbers("-" + nines, nines) == "-1" + "9" * 17 + "8"
    assert add_numbers("-5", "5") == "0"  # never "-0"
    assert add_numbers("9" * 38, "1") == "1" + "0" * 38  # (the long way: 39 digits)
