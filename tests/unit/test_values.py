"""Number and type rules of DynamoDB attribute values (singletable._values)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from singletable._values import (
    InvalidValue,
    add_numbers,
    canonical_number,
    check_nested,
    check_nesting,
    compare_values,
    copy_item,
    format_number,
    item_size,
    subtract_numbers,
    validate_item,
    validate_item_sized,
    validate_value,
    value_size,
    values_equal,
)


@pytest.mark.parametrize(
    ("text", "canonical"),
    [
        ("1", "1"),
        ("1.0", "1"),
        ("-0", "0"),
        ("0.000", "0"),
        ("+5", "5"),
        ("1E+2", "100"),
        ("1e2", "100"),
        ("0.00100", "0.001"),
        ("-1.5e-3", "-0.0015"),
        ("00012", "12"),
        (".5", "0.5"),
        ("5.", "5"),
        ("12345678901234567890123456789012345678", "12345678901234567890123456789012345678"),
        ("1E-130", "0." + "0" * 129 + "1"),
        ("9.9999999999999999999999999999999999999E+125", "99999999999999999999999999999999999999" + "0" * 88),
    ],
)
def test_numbers_come_back_canonical(text: str, canonical: str) -> None:
    assert canonical_number(text) == canonical


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("123456789012345678901234567890123456789", "Attempting to store more than 38 significant digits in a Number"),
        ("1E+126", "Number overflow. Attempting to store a number with magnitude larger than supported range"),
        ("-1E+126", "Number overflow. Attempting to store a number with magnitude larger than supported range"),
        ("1E-131", "Number underflow. Attempting to store a number with magnitude smaller than supported range"),
        ("NaN", "The parameter cannot be converted to a numeric value: NaN"),
        ("Infinity", "The parameter cannot be converted to a numeric value: Infinity"),
        ("1_000", "The parameter cannot be converted to a numeric value: 1_000"),
        (" 1", "The parameter cannot be converted to a numeric value:  1"),
        ("", "The parameter cannot be converted to a numeric value: "),
        ("0x10", "The parameter cannot be converted to a numeric value: 0x10"),
    ],
)
def test_invalid_numbers_are_rejected_with_dynamodbs_message(text: str, message: str) -> None:
    with pytest.raises(InvalidValue) as caught:
        canonical_number(text)
    assert caught.value.message == message
    assert caught.value.code == "ValidationException"


def test_trailing_zeros_do_not_count_as_significant_digits() -> None:
    assert canonical_number("1" + "0" * 100) == "1" + "0" * 100
    assert canonical_number("1.2345678901234567890123456789012345678000") == (
        "1.2345678901234567890123456789012345678"
    )


def test_arithmetic_is_exact_and_checked() -> None:
    assert add_numbers("0.1", "0.2") == "0.3"
    assert subtract_numbers("1", "1.000") == "0"
    assert add_numbers("99999999999999999999999999999999999999", "1") == "1" + "0" * 38
    with pytest.raises(InvalidValue, match="38 significant digits"):
        add_numbers("99999999999999999999999999999999999999", "0.1")
    with pytest.raises(InvalidValue, match="overflow"):
        add_numbers("9E+125", "9E+125")


@given(st.decimals(allow_nan=False, allow_infinity=False, places=None).filter(
    lambda d: d == 0 or -130 <= d.adjusted() <= 125))
def test_canonical_form_is_stable_and_numerically_equal(value: Decimal) -> None:
    try:
        text = canonical_number(str(value))
    except InvalidValue as error:
        assert "38 significant digits" in error.message
        return
    assert Decimal(text) == value
    assert canonical_number(text) == text
    assert "E" not in text and "e" not in text


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ({}, "Supplied AttributeValue is empty, must contain exactly one of the supported datatypes"),
        ({"S": "a", "N": "1"}, "Supplied AttributeValue has more than one datatypes set, must contain exactly one of the supported datatypes"),
        ({"SS": []}, "One or more parameter values were invalid: An string set  may not be empty"),
        ({"NS": []}, "One or more parameter values were invalid: An number set  may not be empty"),
        ({"BS": []}, "One or more parameter values were invalid: Binary sets should not be empty"),
        ({"SS": ["a", "a"]}, "One or more parameter values were invalid: Input collection [a, a] contains duplicates."),
        ({"NS": ["1", "1.0"]}, "One or more parameter values were invalid: Input collection [1, 1.0] contains duplicates."),
        ({"NULL": False}, "One or more parameter values were invalid: Null attribute value types must have the value of true"),
    ],
)
def test_invalid_attribute_values(value: dict[str, object], message: str) -> None:
    with pytest.raises(InvalidValue) as caught:
        validate_value(value)
    assert caught.value.message == message


def test_wrong_json_shapes_are_serialization_errors() -> None:
    with pytest.raises(InvalidValue) as caught:
        validate_value({"S": 5})
    assert caught.value.code == "SerializationException"
    assert caught.value.message == "NUMBER_VALUE cannot be converted to String"


def test_all_ten_types_validate_and_canonicalize() -> None:
    item = validate_item({
        "s": {"S": ""},
        "n": {"N": "1.50"},
        "b": {"B": "AAE="},
        "bool": {"BOOL": False},
        "null": {"NULL": True},
        "l": {"L": [{"N": "2.0"}, {"S": "x"}]},
        "m": {"M": {"k": {"NS": ["1.0", "2"]}}},
        "ss": {"SS": ["a", "b"]},
        "ns": {"NS": ["10", "-1"]},
        "bs": {"BS": ["AQ==", "Ag=="]},
    })
    assert item["n"] == {"N": "1.5"}
    assert item["l"] == {"L": [{"N": "2"}, {"S": "x"}]}
    assert item["m"] == {"M": {"k": {"NS": ["1", "2"]}}}


def test_sizes_follow_the_developer_guide() -> None:
    assert value_size({"S": "héllo"}) == 6
    assert value_size({"N": "123"}) == 3  # 2 bytes for 3 digits + 1
    assert value_size({"N": "0"}) == 1
    assert value_size({"B": "AAEC"}) == 3
    assert value_size({"BOOL": True}) == 1
    assert value_size({"NULL": True}) == 1
    assert value_size({"L": []}) == 3
    assert value_size({"L": [{"S": "ab"}]}) == 3 + 2 + 1
    assert value_size({"M": {"k": {"S": "ab"}}}) == 3 + 1 + 2 + 1
    assert value_size({"SS": ["a", "bc"]}) == 3
    assert item_size({"name": {"S": "abc"}, "n": {"N": "1"}}) == 4 + 3 + 1 + 2


def test_equality_and_order() -> None:
    assert values_equal({"SS": ["a", "b"]}, {"SS": ["b", "a"]})
    assert not values_equal({"S": "1"}, {"N": "1"})
    assert values_equal({"M": {"a": {"L": [{"N": "1"}]}}}, {"M": {"a": {"L": [{"N": "1"}]}}})
    assert compare_values({"N": "-10"}, {"N": "9"}) == -1
    assert compare_values({"S": "Z"}, {"S": "a"}) == -1
    assert compare_values({"S": "\uffff"}, {"S": "\U0001f600"}) == -1  # UTF-8 byte order
    assert compare_values({"B": "/w=="}, {"B": "AQ=="}) == 1  # unsigned bytes
    assert compare_values({"S": "a"}, {"N": "1"}) is None


def test_copies_are_deep() -> None:
    item = {"m": {"M": {"l": {"L": [{"S": "x"}]}}}}
    copied = copy_item(item)
    copied["m"]["M"]["l"]["L"].append({"S": "y"})
    assert item == {"m": {"M": {"l": {"L": [{"S": "x"}]}}}}


def test_nesting_is_limited_to_32_levels() -> None:
    value: dict[str, object] = {"S": "leaf"}
    for _ in range(32):
        value = {"L": [value]}
    validate_value(value)
    with pytest.raises(InvalidValue, match="Nesting Levels have exceeded supported limits"):
        validate_value({"M": {"x": value}})


@given(st.dictionaries(
    st.text(min_size=1, max_size=5),
    st.one_of(
        st.builds(lambda s: {"S": s}, st.text(max_size=20)),
        st.builds(lambda n: {"N": str(n)}, st.integers(-10**20, 10**20)),
        st.builds(lambda n: {"N": str(n)}, st.decimals(allow_nan=False, allow_infinity=False,
                                                       min_value=-10**6, max_value=10**6, places=4)),
        st.just({"BOOL": True}),
        st.builds(lambda xs: {"L": [{"S": x} for x in xs]}, st.lists(st.text(max_size=3), max_size=3)),
        st.builds(lambda xs: {"SS": sorted(xs)}, st.sets(st.text(max_size=3), min_size=1, max_size=3)),
    ),
    max_size=6,
))
def test_the_one_pass_validator_agrees_with_the_general_one(item: dict[str, Any]) -> None:
    checked, size = validate_item_sized(item)
    assert checked == {name: validate_value(value) for name, value in item.items()}
    assert size == item_size(checked)


# --------------------------------------------------------------------------- issue 13


@pytest.mark.parametrize(
    "text", ["\u0661\u0662", "1\u0662", "\uff11", "1_000", "\u00b2", "1e\u0662", "\u0967.5"]
)
def test_numbers_with_digits_python_reads_but_dynamodb_does_not(text: str) -> None:
    with pytest.raises(InvalidValue) as caught:
        canonical_number(text)
    assert caught.value.message.startswith("The parameter cannot be converted to a numeric value")


@pytest.mark.parametrize(
    "value",
    [
        {"S": "\ud800"},
        {"SS": ["a", "b\udfff"]},
        {"M": {"\ud800": {"N": "1"}}},
        {"L": [{"M": {"k": {"S": "x\udc00"}}}]},
        {"N": "\ud800"},
        {"B": "\ud800"},
        {"S": "ok", "unknown\ud800": "x"},
    ],
)
def test_lone_surrogates_are_invalid_values(value: dict[str, Any]) -> None:
    with pytest.raises(InvalidValue) as caught:
        validate_value(value, "attr")
    assert "unpaired surrogate" in caught.value.message
    with pytest.raises(InvalidValue):
        validate_item({"attr": value})


def test_lone_surrogate_names_are_invalid() -> None:
    with pytest.raises(InvalidValue, match="unpaired surrogate U\\+D800"):
        validate_item_sized({"\ud800": {"S": "x"}})
    # Paired surrogates written as a str of code points are fine (one emoji).
    assert validate_item({"\U0001f600": {"S": "\U0001f600"}})


def test_check_nested_walks_any_depth_without_recursion() -> None:
    deep: list[Any] = []
    for _ in range(200_000):
        deep = [deep]
    with pytest.raises(InvalidValue, match="Nesting Levels"):
        check_nested(deep, "x", 100)
    check_nested({"a": [[["fine", {"b": 1}]]]}, "x", 100)
    with pytest.raises(InvalidValue, match="a string in x"):
        check_nested({"a": [["\ud800"]]}, "x", 100)
    with pytest.raises(InvalidValue, match="a member name in x"):
        check_nested({"a": {"\udfff": 1}}, "x", 100)


def test_check_nesting_counts_lists_and_maps() -> None:
    value: dict[str, Any] = {"S": "x"}
    for level in range(40):
        if level <= 32:  # 32 lists and maps around the leaf are allowed
            check_nesting([value])
        else:
            with pytest.raises(InvalidValue, match="Nesting Levels"):
                check_nesting([value])
        value = {"M": {"k": value}} if level % 2 else {"L": [value]}


# --------------------------------------------------------------------------- issue 19 fast paths


@given(
    st.integers(0, 10**40),
    st.integers(0, 40),
    st.integers(0, 3),
    st.integers(0, 3),
    st.booleans(),
)
def test_plain_decimal_texts_take_the_general_path_s_canonical_form(
    digits: int, point: int, leading: int, trailing: int, negative: bool
) -> None:
    """Decimal texts as clients send them (leading and trailing zeros, minus zero,
    up to 41 digits) come back exactly as the Decimal-based path formats them."""
    body = str(digits).rjust(point + 1, "0")
    text = "0" * leading + body[: len(body) - point] + "." + body[len(body) - point :]
    text = ("-" if negative else "") + text + "0" * trailing
    try:
        expected: str | None = format_number(Decimal(text))
    except InvalidValue:
        expected = None
    if expected is None:
        with pytest.raises(InvalidValue):
            canonical_number(text)
    else:
        assert canonical_number(text) == expected


@pytest.mark.parametrize(
    "members",
    [["a", "b", "a"], ["a", "\u00e9"], ["a", "\ud800"], ["a", 1], ["x", "y"], ["\u00e9", "\u00e9"]],
)
def test_the_one_pass_validator_treats_string_sets_as_the_general_one(members: list[Any]) -> None:
    item = {"tags": {"SS": members}}
    try:
        expected = ({"tags": validate_value(item["tags"], "tags")}, None)
    except InvalidValue as error:
        expected = (None, (error.code, error.message, error.family))
    try:
        checked, size = validate_item_sized(item)
        assert expected == (checked, None)
        assert size == item_size(checked)
    except InvalidValue as error:
        assert expected == (None, (error.code, error.message, error.family))
