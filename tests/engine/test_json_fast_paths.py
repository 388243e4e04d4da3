"""call_json's shortcuts decide exactly as the general code they stand for.

* Request bodies that are one JSON object from the first character to the last are
  parsed by json's scanner directly (``_encoding.loads``); everything else goes
  through ``json.loads``. The two must agree on every text: same value, same error.
* A GetItem answer of the item alone is assembled from the item's kept text; it must
  be the JSON of the whole response, as ``dumps`` writes it.
* A page of items is encoded run by run (items not shared encoded together): the
  same text as the items' own texts joined.
"""

from __future__ import annotations

import json
from typing import Any

from hypothesis import example, given, settings
from hypothesis import strategies as st

from singletable.backends.local import LocalEngine
from singletable.backends.local._encoding import _encode, dumps, encode_response, loads
from singletable.backends.local._records import SHARED, SharedItems, encode

_PIECES = st.sampled_from(
    ['{', '}', '[', ']', '"a"', '"\\ud800"', '"\\"', ":", ",", "1", "-0.5e3", "NaN", "true",
     "null", " ", "\n", "\t", "x", '{"TableName":"t"}', "{}"]
)


def _outcome(parse: Any, text: str | bytes) -> tuple[str, Any]:
    try:
        return "value", parse(text)
    except RecursionError:
        return "recursion", None
    except ValueError as error:  # json.JSONDecodeError, with its position
        return type(error).__name__, str(error)


@settings(max_examples=600, deadline=None)
@given(pieces=st.lists(_PIECES, max_size=12))
@example(pieces=['{"TableName":"t"}'])
@example(pieces=['{"a":'])  # the scanner stops with StopIteration inside an object
@example(pieces=["{", '"a"', ":", "[", "1", ","])
@example(pieces=['{"TableName":"t"}', " "])  # whitespace after: json.loads
@example(pieces=['{"TableName":"t"}', "x"])  # extra data
@example(pieces=["{}", "{}"])
@example(pieces=[" ", "{}"])
def test_loads_agrees_with_json_loads(pieces: list[str]) -> None:
    text = "".join(pieces)
    outcome = _outcome(loads, text)
    expected = _outcome(json.loads, text)
    if outcome[0] == "value" and expected[0] == "value":
        # NaN != NaN: compare the re-encoded values
        assert json.dumps(outcome[1]) == json.dumps(expected[1])
    else:
        assert outcome == expected


def test_loads_of_a_deep_object_fails_as_json_loads_does() -> None:
    deep = '{"a":' * 100_000 + "1" + "}" * 100_000
    assert _outcome(loads, deep) == _outcome(json.loads, deep)



def test_call_json_answers_a_deeply_nested_body_with_a_serialization_error() -> None:
    # json's decoder recurses per nesting level: a body nested past Python's limit
    # is malformed input, answered as DynamoDB answers a body it cannot read.
    engine = LocalEngine()
    deep_value = '{"TableName":"tbl","Key":{"pk":{"S":"a"}},"X":' + "[" * 100_000 + "}"
    for body in ("[" * 100_000, deep_value, deep_value.encode()):
        status, answer = engine.call_json("GetItem", body)
        assert status == 400
        assert json.loads(answer)["__type"].endswith("SerializationException")

_values = st.recursive(
    st.one_of(
        st.builds(lambda s: {"S": s}, st.text(max_size=5)),
        st.builds(lambda n: {"N": str(n)}, st.integers()),
        st.just({"BOOL": True}),
        st.just({"NULL": True}),
    ),
    lambda inner: st.one_of(
        st.builds(lambda items: {"L": items}, st.lists(inner, max_size=3)),
        st.builds(lambda m: {"M": m}, st.dictionaries(st.text(max_size=3), inner, max_size=3)),
    ),
    max_leaves=8,
)


@settings(max_examples=200, deadline=None)
@given(
    item=st.dictionaries(st.text(max_size=4), _values, min_size=1, max_size=4),
    extra=st.sampled_from([None, {"ConsumedCapacity": {"TableName": "t", "CapacityUnits": 0.5}}]),
    projected=st.booleans(),
)
def test_a_get_item_answer_is_the_json_of_the_whole_response(
    item: dict[str, Any], extra: dict[str, Any] | None, projected: bool
) -> None:
    response: dict[str, Any] = {"Item": item, **(extra or {})}
    request: dict[str, Any] = {"TableName": "t", "Key": {}}
    if projected:
        request["ProjectionExpression"] = "a"
    body = encode_response("GetItem", request, response)
    assert body == dumps(response)
    assert json.loads(body) == response


def test_call_json_answers_as_call_does() -> None:
    engine = LocalEngine()
    engine.call(
        "CreateTable",
        {
            "TableName": "tbl",
            "AttributeDefinitions": [{"AttributeName": "pk", "AttributeType": "S"}],
            "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}],
            "BillingMode": "PAY_PER_REQUEST",
        },
    )
    item = {"pk": {"S": "k\u00e9"}, "n": {"N": "1"}, "l": {"L": [{"S": "x"}, {"NULL": True}]}}
    engine.call("PutItem", {"TableName": "tbl", "Item": item})
    for body in (
        '{"TableName":"tbl","Key":{"pk":{"S":"k\\u00e9"}}}',
        ' {"TableName":"tbl","Key":{"pk":{"S":"k\\u00e9"}}} ',
        '{"TableName":"tbl","Key":{"pk":{"S":"k\\u00e9"}},"ReturnConsumedCapacity":"TOTAL"}',
    ):
        status, answer = engine.call_json("GetItem", body)
        assert status == 200
        assert json.loads(answer) == engine.call("GetItem", json.loads(body))
    for body in ('{"TableName":"tbl","Key":', '{"TableName":"tbl"}x', "[]", ""):
        status, answer = engine.call_json("GetItem", body)
        assert status == 400
        assert json.loads(answer)["__type"].endswith(
            "SerializationException" if body not in ("",) else "ValidationException"
        ), (body, answer)


@settings(max_examples=150, deadline=None)
@given(
    page=st.lists(
        st.tuples(
            st.dictionaries(st.text(max_size=3), _values, min_size=1, max_size=3),
            st.sampled_from(["loose", "shared", "shared with text"]),
        ),
        max_size=8,
    )
)
def test_a_page_of_texts_is_the_items_texts_joined(page: list[tuple[dict[str, Any], str]]) -> None:
    """SharedItems.texts encodes runs of loose items together: the same text as each
    item's own, joined; shared items keep their text."""
    shared = SharedItems()
    items = []
    for number, (item, kind) in enumerate(page):
        if kind != "loose":
            record = encode(item, number)
            item = shared.item(record)
            if kind == "shared with text":
                shared.text(item, _encode)
        items.append(item)
    assert ",".join(shared.texts(items, _encode)) == ",".join(_encode(item) for item in items)
    assert "[" + ",".join(shared.texts(items, _encode)) + "]" == _encode(items)
    for item, (_, kind) in zip(items, page, strict=True):
        if kind != "loose":  # every shared item's text is now kept
            assert shared.text(item, lambda _: "not kept") == _encode(item)


@settings(max_examples=150, deadline=None)
@given(
    page=st.lists(
        st.tuples(
            st.dictionaries(st.text(max_size=3), _values, min_size=1, max_size=3),
            st.sampled_from(["loose", "shared", "shared with text"]),
        ),
        min_size=1,
        max_size=6,
    ),
    rest=st.sampled_from(
        [{}, {"Count": 1, "ScannedCount": 2}, {"Count": 1, "LastEvaluatedKey": {"k": {"S": "x"}}}]
    ),
    operation=st.sampled_from(["Query", "Scan"]),
)
def test_a_page_answer_is_the_json_of_the_whole_response(
    page: list[tuple[dict[str, Any], str]], rest: dict[str, Any], operation: str
) -> None:
    """encode_response joins the page's texts with its head and tail in one join: the
    body is still the JSON of the whole response, as dumps writes it."""
    items = []
    for number, (item, kind) in enumerate(page):
        if kind != "loose":
            item = SHARED.item(encode(item, number))
            if kind == "shared with text":
                SHARED.text(item, _encode)
        items.append(item)
    response = {"Items": items, **rest}
    assert encode_response(operation, {"TableName": "tbl"}, response) == dumps(response)
