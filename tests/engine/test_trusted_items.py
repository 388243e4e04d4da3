"""A PutItem of a codec-built item (``CanonicalItem``) stores and fails as any PutItem.

The engine measures such an item instead of validating and rebuilding it
(backends/local/_trusted.py). For items the codec builds from Python values, good
and bad (empty key strings, wrong key and index key types, oversized items, long
attribute names, lone surrogates, nesting past 32 levels, numbers of more than 38
digits), the trusted path and the general path (the same item as a plain dict) must
give the same response or the same error, code and message, and store the same item.
"""

from __future__ import annotations

import contextlib
import copy
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from singletable._canonical import CanonicalItem
from singletable._values import validate_item_sized
from singletable.backends.local import LocalEngine
from singletable.backends.local._trusted import trusted_copy, trusted_size
from singletable.backends.local.errors import DynamoDBError
from singletable.codec import to_attribute

TABLE = "trusted"


def _engine() -> LocalEngine:
    engine = LocalEngine()
    engine.call(
        "CreateTable",
        {
            "TableName": TABLE,
            "KeySchema": [
                {"AttributeName": "PK", "KeyType": "HASH"},
                {"AttributeName": "SK", "KeyType": "RANGE"},
            ],
            "AttributeDefinitions": [
                {"AttributeName": "PK", "AttributeType": "S"},
                {"AttributeName": "SK", "AttributeType": "S"},
                {"AttributeName": "G1", "AttributeType": "S"},
                {"AttributeName": "G2", "AttributeType": "N"},
            ],
            "GlobalSecondaryIndexes": [
                {
                    "IndexName": "GSI1",
                    "KeySchema": [
                        {"AttributeName": "G1", "KeyType": "HASH"},
                        {"AttributeName": "G2", "KeyType": "RANGE"},
                    ],
                    "Projection": {"ProjectionType": "ALL"},
                }
            ],
            "BillingMode": "PAY_PER_REQUEST",
        },
    )
    return engine


def _outcome(engine: LocalEngine, item: dict[str, Any], **extra: Any) -> tuple[Any, ...]:
    request = {"TableName": TABLE, "Item": item, "ReturnConsumedCapacity": "TOTAL", **extra}
    try:
        response = engine.call("PutItem", request)
    except DynamoDBError as error:
        return ("error", error.code, error.message, error.extra)
    return ("ok", response)


def _stored(engine: LocalEngine, item: dict[str, Any]) -> Any:
    key = {name: item[name] for name in ("PK", "SK") if name in item}
    try:
        return engine.call("GetItem", {"TableName": TABLE, "Key": key}).get("Item")
    except DynamoDBError as error:
        return (error.code, error.message)


def _both(values: dict[str, Any], **extra: Any) -> None:
    """Put the codec's item for ``values`` both ways (each on its own engine, twice:
    a new item, then a replaced one) and compare everything."""
    try:
        item = {name: to_attribute(value, name) for name, value in values.items()}
    except Exception:  # the codec refuses it: nothing reaches the engine
        return
    trusted, general = _engine(), _engine()
    for _ in range(2):
        by_trust = _outcome(trusted, CanonicalItem(copy.deepcopy(item)), **extra)
        by_wire = _outcome(general, copy.deepcopy(item), **extra)
        assert by_trust == by_wire
        assert _stored(trusted, item) == _stored(general, item)
    scanned = [
        e.call("Scan", {"TableName": TABLE, "IndexName": "GSI1"}) for e in (trusted, general)
    ]
    assert scanned[0] == scanned[1]
    size = trusted_size(item)
    if size is not None:  # measured: the size and the item the general path gives
        assert (item, size) == validate_item_sized(copy.deepcopy(item))
        copied = trusted_copy(item)  # and the copy stored shares no container with it
        assert copied == (item, size)
        assert not _containers(copied[0]) & _containers(item)


def _containers(value: Any) -> set[int]:
    """The ids of every dict and list inside ``value``."""
    if isinstance(value, dict):
        return {id(value)}.union(*(_containers(v) for v in value.values()))
    if isinstance(value, list):
        return {id(value)}.union(*(_containers(v) for v in value))
    return set()


_names = st.sampled_from(["a", "b", "nested", "é", "x" * 70_000])
_text = st.one_of(
    st.text(st.sampled_from("ab#é\ud800\U0001f600"), max_size=5),
    st.text(max_size=5),
    st.just(""),
)
_numbers = st.one_of(
    st.integers(-(10**40), 10**40),
    st.decimals(allow_nan=False, allow_infinity=False),
    st.sampled_from([Decimal("1E+125"), Decimal("1E-130"), 10**50, -(10**38)]),
)
_leaves = st.one_of(st.none(), st.booleans(), _text, _numbers, st.binary(max_size=4))
_values = st.recursive(
    st.one_of(
        _leaves,
        st.sets(_text, min_size=1, max_size=3),
        st.sets(st.integers(-5, 5), min_size=1, max_size=3),
    ),
    lambda inner: st.one_of(st.lists(inner, max_size=3), st.dictionaries(_text, inner, max_size=3)),
    max_leaves=8,
)


@settings(max_examples=150, deadline=None)
@given(
    pk=st.one_of(_text, st.integers(0, 3)),
    sk=_text,
    g1=st.none() | _text | st.integers(0, 2),
    g2=st.none() | _numbers | _text,
    attributes=st.dictionaries(_names, _values, max_size=4),
)
def test_a_codec_built_item_is_stored_as_the_general_path_stores_it(
    pk: Any, sk: str, g1: Any, g2: Any, attributes: dict[str, Any]
) -> None:
    values: dict[str, Any] = {"PK": pk, "SK": sk, **attributes}
    if g1 is not None:
        values["G1"] = g1
    if g2 is not None:
        values["G2"] = g2
    _both(values)


def _nested(depth: int) -> Any:
    value: Any = "leaf"
    for _ in range(depth):
        value = [value]
    return value


@pytest.mark.parametrize(
    "values",
    [
        {"PK": "", "SK": "s"},  # an empty key string
        {"PK": "p", "SK": ""},
        {"PK": 5, "SK": "s"},  # a key of the wrong type
        {"SK": "s"},  # a key missing
        {"PK": "p", "SK": "s", "G1": "g", "G2": "not a number"},  # an index key's type
        {"PK": "p", "SK": "s", "G1": "", "G2": 1},  # an empty index key string
        {"PK": "p", "SK": "s", "G1": 1, "G2": 1},
        {"PK": "p", "SK": "s", "big": "x" * (400 * 1024)},  # over the item size limit
        {"PK": "p", "SK": "s", "big": "x" * 70_000},  # past 64 KB: names are checked
        {"PK": "p", "SK": "s", "x" * 65_536: "long name"},
        {"PK": "p", "SK": "s", "bad": "\ud800"},  # a lone surrogate
        {"PK": "p", "SK": "s", "bad": {"\ud800": "k"}},
        {"PK": "p", "SK": "s", "bad": {"\ud800"}},
        {"PK": "\ud800", "SK": "s"},
        {"PK": "p", "SK": "s", "\ud800": "name"},
        {"PK": "p", "SK": "s", "deep": _nested(32)},  # the deepest allowed
        {"PK": "p", "SK": "s", "deep": _nested(33)},  # one level too deep
        {"PK": "p", "SK": "s", "deep": {"m": _nested(32)}},
        {"PK": "p", "SK": "s", "n": 10**40 + 1},  # more than 38 digits (a TTL's text)
        {"PK": "p", "SK": "s", "n": 10**38},
        {"PK": "p", "SK": "s", "n": Decimal("1E+126")},
        {"PK": "p", "SK": "s", "ok": {"a": [1, "b", None, True, {"c"}, {1}, b"\x00"]}},
        {"PK": "p", "SK": "s", "G1": "g", "G2": Decimal("1.5")},
    ],
    ids=lambda values: ",".join(sorted(str(k)[:8] for k in values)),
)
def test_mistakes_fail_as_on_the_general_path(values: dict[str, Any]) -> None:
    _both(values)


def test_a_ttl_of_more_than_38_digits_is_refused_as_on_the_general_path() -> None:
    # a TTL is the one number the codec writes with str(int): never canonical-checked
    # by the codec, so a long one must not be taken as it is
    for text in ("1" + "0" * 50, "9" * 39, "1" * 38):
        item = {"PK": {"S": "p"}, "SK": {"S": "s"}, "ttl": {"N": text}}
        assert _outcome(_engine(), CanonicalItem(item)) == _outcome(_engine(), dict(item))


def test_conditions_and_returned_values_are_the_general_paths() -> None:
    item = {"PK": "p", "SK": "s", "n": 1}
    for extra in (
        {"ConditionExpression": "attribute_not_exists(PK)"},
        {"ConditionExpression": "n = :one", "ExpressionAttributeValues": {":one": {"N": "1"}}},
        {"ReturnValues": "ALL_OLD"},
        {
            "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
            "ConditionExpression": "n = :two",
            "ExpressionAttributeValues": {":two": {"N": "2"}},
        },
    ):
        _both(item, **extra)


def test_the_common_item_is_measured_not_rebuilt() -> None:
    item = {
        "PK": {"S": "p"},
        "SK": {"S": "s"},
        "n": {"N": "12.5"},
        "ok": {"BOOL": True},
        "none": {"NULL": True},
        "tags": {"SS": ["a", "b"]},
        "ns": {"NS": ["1", "2"]},
        "m": {"M": {"a": {"S": "x"}, "l": {"L": [{"N": "1"}, {"S": "y"}]}}},
    }
    assert trusted_size(item) == validate_item_sized(item)[1]
    copied = trusted_copy(item)
    assert copied == (item, validate_item_sized(item)[1])
    assert not _containers(copied[0]) & _containers(item)
    # and what it cannot vouch for goes the general path
    for odd in ({"S": "\ud800"}, {"B": "AA=="}, {"SS": ["a", "a"]}, {"N": "1" * 39}, {"S": 5}):
        assert trusted_size({**item, "odd": odd}) is None


@pytest.mark.parametrize(
    "number",
    [{"N": "abc"}, {"N": "01"}, {"N": "1e5"}, {"N": "-0"}, {"N": "1.50"}, {"NS": ["1", "1.0"]}],
)
def test_number_texts_the_codec_never_writes_take_the_general_path(
    number: dict[str, Any],
) -> None:
    # Found in review: any short text was taken as a canonical number, so "01" was
    # stored as "01" (the general path stores 1) and "abc" was stored at all.
    item = {"PK": {"S": "p"}, "SK": {"S": "s"}, "n": number, "l": {"L": [number]}}
    assert trusted_size(item) is None
    trusted, general = _engine(), _engine()
    by_trust = _outcome(trusted, CanonicalItem(copy.deepcopy(item)))
    assert by_trust == _outcome(general, copy.deepcopy(item))
    assert _stored(trusted, item) == _stored(general, item)


@settings(max_examples=300, deadline=None)
@given(
    st.one_of(
        st.decimals(allow_nan=False, allow_infinity=False).map(str),
        st.integers(-(10**40), 10**40).map(str),
        st.from_regex(r"-?0*[0-9]{0,4}(\.[0-9]{0,4})?([eE][-+]?[0-9]{1,2})?", fullmatch=True),
    ),
    st.booleans(),
)
def test_number_texts_seen_by_the_general_path_first_are_judged_the_same(
    text: str, warm: bool
) -> None:
    # The trusted path reads the general path's cache of seen number texts
    # (._values._NUMBERS): a text cached with another canonical form ("1.50" -> "1.5")
    # must still take the general path, and a canonical one be measured the same.
    item = {"PK": {"S": "p"}, "SK": {"S": "s"}, "n": {"N": text}}
    if warm:
        with contextlib.suppress(Exception):
            validate_item_sized(copy.deepcopy(item))  # (fills the cache, if valid)
    size = trusted_size(item)
    if size is not None:
        assert (item, size) == validate_item_sized(copy.deepcopy(item))
    trusted, general = _engine(), _engine()
    by_trust = _outcome(trusted, CanonicalItem(copy.deepcopy(item)))
    assert by_trust == _outcome(general, copy.deepcopy(item))
    assert _stored(trusted, item) == _stored(general, item)


def test_the_stored_item_shares_nothing_with_the_request() -> None:
    # Found in review: the trusted path stored a shallow copy, so a later change to
    # the request's nested values showed in Query and call_json (not in GetItem).
    item = {
        "PK": {"S": "p"},
        "SK": {"S": "s"},
        "G1": {"S": "g"},
        "G2": {"N": "1"},
        "v": {"S": "orig"},
        "l": {"L": [{"S": "a"}]},
        "m": {"M": {"k": {"S": "b"}}},
        "ss": {"SS": ["x"]},
    }
    engine = _engine()
    request = CanonicalItem(copy.deepcopy(item))
    engine.call("PutItem", {"TableName": TABLE, "Item": request})
    request["v"]["S"] = "changed"
    request["l"]["L"].append({"S": "z"})
    request["m"]["M"]["k"]["S"] = "changed"
    request["ss"]["SS"].append("y")
    query = {
        "TableName": TABLE,
        "KeyConditionExpression": "PK = :p",
        "ExpressionAttributeValues": {":p": {"S": "p"}},
    }
    assert engine.call("Query", query, copy=False)["Items"] == [item]
    assert engine.call(
        "Query",
        {
            **query,
            "IndexName": "GSI1",
            "ExpressionAttributeValues": {":p": {"S": "g"}},
            "KeyConditionExpression": "G1 = :p",
        },
        copy=False,
    )["Items"] == [item]
    status, body = engine.call_json("Scan", b'{"TableName": "trusted"}')
    assert status == 200 and b"changed" not in body and b'"z"' not in body
