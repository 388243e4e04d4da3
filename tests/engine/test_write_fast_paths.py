"""The write path's shortcuts answer exactly as the checking path does.

A PutItem of only ``TableName`` and ``Item`` skips the member checks
(``_items.put_item``'s plain case); key values that are plainly fine are encoded without
the limit checks (``TableDef.key_from_item``); index key values that are plainly
fine skip ``check_index_keys`` (``TableDef.index_keys_plain``). Each test sends
the same item as a plain PutItem and as one carrying a default option (which
takes the checking path) to two identical engines, and as a BatchWriteItem and a
TransactWriteItems Put, and compares what they answer and store.
"""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from singletable.backends.local import LocalEngine
from singletable.backends.local.errors import DynamoDBError

TABLE = "fast"


def _engine(sort_type: str = "S") -> LocalEngine:
    engine = LocalEngine(ttl_sweep_interval=None)
    engine.call(
        "CreateTable",
        {
            "TableName": TABLE,
            "BillingMode": "PAY_PER_REQUEST",
            "AttributeDefinitions": [
                {"AttributeName": "PK", "AttributeType": "S"},
                {"AttributeName": "SK", "AttributeType": sort_type},
                {"AttributeName": "GPK", "AttributeType": "S"},
                {"AttributeName": "GSK", "AttributeType": "N"},
                {"AttributeName": "LSK", "AttributeType": "B"},
            ],
            "KeySchema": [
                {"AttributeName": "PK", "KeyType": "HASH"},
                {"AttributeName": "SK", "KeyType": "RANGE"},
            ],
            "GlobalSecondaryIndexes": [
                {
                    "IndexName": "gsi",
                    "KeySchema": [
                        {"AttributeName": "GPK", "KeyType": "HASH"},
                        {"AttributeName": "GSK", "KeyType": "RANGE"},
                    ],
                    "Projection": {"ProjectionType": "ALL"},
                }
            ],
            "LocalSecondaryIndexes": [
                {
                    "IndexName": "lsi",
                    "KeySchema": [
                        {"AttributeName": "PK", "KeyType": "HASH"},
                        {"AttributeName": "LSK", "KeyType": "RANGE"},
                    ],
                    "Projection": {"ProjectionType": "KEYS_ONLY"},
                }
            ],
        },
    )
    return engine


def _answer(engine: LocalEngine, operation: str, request: dict[str, Any]) -> Any:
    try:
        engine.call(operation, request)
    except DynamoDBError as error:
        return (error.code, error.message)
    return "ok"


def _contents(engine: LocalEngine) -> Any:
    table = engine.call("Scan", {"TableName": TABLE})["Items"]
    index = engine.call("Scan", {"TableName": TABLE, "IndexName": "gsi"})["Items"]
    return sorted(map(repr, table)), sorted(map(repr, index))


# Lengths around the shortcut's bounds (a quarter of a limit) and the limits themselves.
_LENGTHS = st.sampled_from([0, 1, 255, 256, 257, 511, 512, 513, 1024, 1025, 2048, 2049])
_CHARS = st.sampled_from(["a", "\u00e9", "\U0001f600"])


@st.composite
def _strings(draw: st.DrawFn) -> str:
    return draw(_CHARS) * draw(_LENGTHS)


@st.composite
def _key_values(draw: st.DrawFn) -> Any:
    return draw(
        st.one_of(
            st.builds(lambda text: {"S": text}, _strings()),
            st.sampled_from([{"N": "1"}, {"N": "-0.5"}, {"B": "AAE="}, {"B": ""}, {"BOOL": True}]),
            st.none(),
        )
    )


@st.composite
def _items(draw: st.DrawFn) -> dict[str, Any]:
    item: dict[str, Any] = {"data": {"S": "x"}}
    for name in ("PK", "SK", "GPK", "GSK", "LSK"):
        value = draw(_key_values())
        if value is not None:
            item[name] = value
    return item


_BASE = {"PK": {"S": "p"}, "SK": {"S": "s"}, "GPK": {"S": "g"}, "GSK": {"N": "1"}}


@pytest.mark.parametrize("name", ["PK", "SK", "GPK"])
@pytest.mark.parametrize("char", ["a", "\u00e9", "\U0001f600"])
@pytest.mark.parametrize("length", [0, 256, 257, 512, 513, 1024, 1025, 2048, 2049])
def test_key_values_around_the_limits(name: str, char: str, length: int) -> None:
    _same_everywhere({**_BASE, name: {"S": char * length}}, "S")


@settings(max_examples=150, deadline=None)
@given(item=_items(), sort_type=st.sampled_from(["S", "N", "B"]))
def test_every_way_of_writing_an_item_answers_alike(item: dict[str, Any], sort_type: str) -> None:
    _same_everywhere(item, sort_type)


def _same_everywhere(item: dict[str, Any], sort_type: str) -> None:
    plain, checked, batch, transact = (_engine(sort_type) for _ in range(4))
    expected = _answer(
        checked, "PutItem", {"TableName": TABLE, "Item": item, "ReturnValues": "NONE"}
    )
    assert _answer(plain, "PutItem", {"TableName": TABLE, "Item": item}) == expected
    assert _contents(plain) == _contents(checked)
    batch_answer = _answer(
        batch, "BatchWriteItem", {"RequestItems": {TABLE: [{"PutRequest": {"Item": item}}]}}
    )
    assert batch_answer == expected
    assert _contents(batch) == _contents(checked)
    transact_answer = _answer(
        transact,
        "TransactWriteItems",
        {"TransactItems": [{"Put": {"TableName": TABLE, "Item": item}}]},
    )
    if expected == "ok":
        assert transact_answer == "ok"
    assert _contents(transact) == _contents(checked)


def test_a_plain_put_to_a_missing_table_or_with_a_null_member() -> None:
    engine = _engine()
    item = {"PK": {"S": "a"}, "SK": {"S": "b"}}
    assert _answer(engine, "PutItem", {"TableName": "nope", "Item": item}) == (
        "ResourceNotFoundException",
        "Requested resource not found",
    )
    code, message = _answer(engine, "PutItem", {"TableName": TABLE, "Item": None})
    assert code == "ValidationException"
    assert "Value null at 'item' failed to satisfy constraint" in message
    code, message = _answer(engine, "PutItem", {"TableName": 5, "Item": item})
    assert code == "SerializationException"


def test_a_transacted_put_refuses_an_attribute_name_over_65535_bytes() -> None:
    engine = _engine()
    item = {"PK": {"S": "a"}, "SK": {"S": "b"}, "n" * 65536: {"S": "x"}}
    expected = _answer(engine, "PutItem", {"TableName": TABLE, "Item": item})
    assert expected[0] == "ValidationException"
    assert "Attribute name is too large" in expected[1]
    answer = _answer(
        engine,
        "TransactWriteItems",
        {"TransactItems": [{"Put": {"TableName": TABLE, "Item": item}}]},
    )
    assert answer[0] == "ValidationException"
    assert "Attribute name is too large, must be less than 65536 bytes" in answer[1]
    assert engine.call("Scan", {"TableName": TABLE})["Items"] == []


def _encoded(action: Any) -> Any:
    try:
        return action()
    except DynamoDBError as error:
        return (error.code, error.message)


@pytest.mark.parametrize("sort_type", ["S", "N", "B"])
@pytest.mark.parametrize("name", ["PK", "SK"])
@pytest.mark.parametrize("char", ["a", "\u00e9", "\U0001f600"])
@pytest.mark.parametrize("length", [0, 1, 256, 257, 512, 513, 1024, 1025, 2048, 2049])
def test_the_key_shortcut_encodes_as_the_checks_do(
    sort_type: str, name: str, char: str, length: int
) -> None:
    from singletable.backends.local import _schema

    table = _engine(sort_type).tables[TABLE]
    sort = {"S": {"S": "s"}, "N": {"N": "1"}, "B": {"B": "AAE="}}[sort_type]
    item = {"PK": {"S": "p"}, "SK": sort, name: {"S": char * length}}
    if name == "SK" and sort_type == "B":
        item[name] = {"B": "QUFB" * length}
    expected = _encoded(
        lambda: table._encode(
            item, missing=_schema._missing_in_item, mismatch=_schema._mismatch_in_item
        )
    )
    assert _encoded(lambda: table.key_from_item(item)) == expected


@settings(max_examples=300, deadline=None)
@given(item=_items())
def test_index_keys_called_plain_pass_the_index_checks(item: dict[str, Any]) -> None:
    table = _engine().tables[TABLE]
    if table.index_keys_plain(item):
        table.check_index_keys(item)
        table.check_index_keys(item, updating=True)


@pytest.mark.parametrize("name", ["GPK", "LSK"])
@pytest.mark.parametrize("length", [256, 257, 512, 513, 1024, 1025, 2048, 2049])
def test_index_key_limits_are_checked(name: str, length: int) -> None:
    table = _engine().tables[TABLE]
    value = {"S": "\U0001f600" * length} if name == "GPK" else {"B": "QUFB" * length}
    item = {"PK": {"S": "p"}, "SK": {"S": "s"}, name: value}
    if table.index_keys_plain(item):
        table.check_index_keys(item)


class _Key(dict[str, Any]):
    """A Key that is not exactly a dict: takes key_from_request's checking path."""


_KEY_VALUES = [
    {"S": "a"},
    {"S": ""},
    {"S": "a" * 1024},
    {"S": "a" * 1025},
    {"S": "a" * 2048},
    {"S": "a" * 2049},
    {"S": "\u00e9" * 600},
    {"S": 5},
    {"N": "1"},
    {"N": "x"},
    {"B": "AAE="},
    {"S": "a", "N": "1"},
    {},
    None,
    "a",
]


@pytest.mark.parametrize("sort_type", ["S", "N"])
@pytest.mark.parametrize("hash_value", _KEY_VALUES)
@pytest.mark.parametrize("sort_value", _KEY_VALUES)
def test_the_request_key_shortcut_answers_as_the_checks_do(
    sort_type: str, hash_value: Any, sort_value: Any
) -> None:
    table = _engine(sort_type).tables[TABLE]
    for key in ({"PK": hash_value, "SK": sort_value}, {"PK": hash_value}, {"SK": sort_value}):
        expected = _encoded(lambda key=key: table.key_from_request(_Key(key)))
        assert _encoded(lambda key=key: table.key_from_request(key)) == expected
    extra = {"PK": hash_value, "SK": sort_value, "X": {"S": "x"}}
    assert _encoded(lambda: table.key_from_request(extra)) == _encoded(
        lambda: table.key_from_request(_Key(extra))
    )


@pytest.mark.parametrize("hash_value", _KEY_VALUES)
@pytest.mark.parametrize("sort_value", _KEY_VALUES)
def test_a_plain_get_answers_as_the_checked_get(hash_value: Any, sort_value: Any) -> None:
    # A GetItem of TableName and Key alone skips the member checks; with any other
    # member (here ConsistentRead at its default) the checks run. Same answers.
    engine = _engine()
    engine.call("PutItem", {"TableName": TABLE, "Item": {**_BASE, "data": {"S": "x"}}})
    keys: list[Any] = [
        {"PK": hash_value, "SK": sort_value},
        {"PK": hash_value},
        {"PK": hash_value, "SK": sort_value, "X": {"S": "x"}},
        {"PK": {"S": "p"}, "SK": {"S": "s"}},
        [{"PK": {"S": "p"}}],
        "PK",
    ]
    for key in keys:
        plain = {"TableName": TABLE, "Key": key}
        checked = {**plain, "ConsistentRead": False}
        assert _got(engine, plain) == _got(engine, checked), key
    missing = {"TableName": "missing", "Key": {"PK": {"S": "p"}, "SK": {"S": "s"}}}
    assert _got(engine, missing) == _got(engine, {**missing, "ConsistentRead": False})


def _got(engine: LocalEngine, request: dict[str, Any]) -> Any:
    try:
        return engine.call("GetItem", request)
    except DynamoDBError as error:
        return (error.code, error.message)


def _deep(levels: int) -> dict[str, Any]:
    value: dict[str, Any] = {"S": "bottom"}
    for _ in range(levels):
        value = {"L": [value]}
    return value


@pytest.mark.parametrize(
    "odd",
    [
        {"data": {"S": "lone \ud800"}},
        {"da\udc00ta": {"S": "x"}},
        {"data": {"M": {"k\ud800": {"S": "v"}}}},
        {"data": {"SS": ["a", "\ud800"]}},
        {"data": _deep(40)},
        {"data": _deep(150)},
        {"PK": {"S": "p\ud800"}},
    ],
)
def test_a_plain_put_runs_before_the_request_checks_and_answers_as_they_would(
    odd: dict[str, Any],
) -> None:
    """LocalEngine._dispatch tries a plain PutItem before the request checks
    (._request_check): a lone surrogate or deep nesting in its Item gets the error the
    checking path gives (the checks leave the Item to the operation)."""
    _same_everywhere({**_BASE, **odd}, "S")
    engine = _engine()
    answer = _answer(engine, "PutItem", {"TableName": "fa\ud800st", "Item": dict(_BASE)})
    assert answer[0] == "ValidationException"
