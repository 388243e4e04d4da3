"""Fuzzing ``LocalEngine.call`` with hostile text, numbers and nesting (issue 13).

Unlike test_fuzz (random shapes), these strategies aim at what a parser in Python
gets wrong: lone surrogates, non-ASCII digits and other text Python's ``int`` and
``Decimal`` read but DynamoDB does not, integers beyond 32 bits, values nested past
the limit, over expression strings, AttributeValues and whole requests of the main
operations. The properties, for every request:

* it succeeds or raises :class:`DynamoDBError`, nothing else;
* after an error the stored data is exactly what it was;
* whatever is stored is valid Unicode and within DynamoDB's limits (it can be
  encoded as UTF-8 JSON, and no value is nested more than 32 levels).

Examples are bounded (``SINGLETABLE_FUZZ_EXAMPLES`` raises them for a run by hand);
in CI the suite's ``singletable-ci`` profile derandomizes them (tests/conftest.py).
"""

from __future__ import annotations

import json
import os
from typing import Any

from gsi_table import gsi_table_request
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from singletable.backends.local import DynamoDBError, LocalEngine

FUZZ = settings(
    max_examples=int(os.environ.get("SINGLETABLE_FUZZ_EXAMPLES", "120")),
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)

TABLE = "tbl"
SEED = [
    {"PK": {"S": "p"}, "SK": {"S": "a"}, "n": {"N": "1"}, "s": {"S": "x"}, "G": {"S": "g"},
     "l": {"L": [{"N": "1"}]}, "m": {"M": {"k": {"S": "v"}}}, "ss": {"SS": ["a"]}},
    {"PK": {"S": "p"}, "SK": {"S": "b"}, "n": {"N": "-2"}, "ns": {"NS": ["1", "2"]}},
]


def fresh_engine() -> LocalEngine:
    engine = LocalEngine(ttl_sweep_interval=None)
    engine.call("CreateTable", gsi_table_request(TABLE))
    for item in SEED:
        engine.call("PutItem", {"TableName": TABLE, "Item": item})
    return engine


def contents(engine: LocalEngine) -> list[Any]:
    """Every item of the table, and of its index, in a stable order."""
    table = engine.call("Scan", {"TableName": TABLE})["Items"]
    index = engine.call("Scan", {"TableName": TABLE, "IndexName": "gsi"})["Items"]
    return [sorted(table, key=repr), sorted(index, key=repr)]


def _depth(value: Any) -> int:
    """AttributeValue nesting of a stored value (lists and maps), iteratively."""
    deepest, stack = 0, [(value, 0)]
    while stack:
        node, level = stack.pop()
        deepest = max(deepest, level)
        if "L" in node:
            stack.extend((member, level + 1) for member in node["L"])
        elif "M" in node:
            stack.extend((member, level + 1) for member in node["M"].values())
    return deepest


def check(engine: LocalEngine, operation: str, request: dict[str, Any]) -> None:
    """The properties of the module docstring for one request."""
    before = contents(engine)
    try:
        engine.call(operation, request)
    except DynamoDBError as error:
        assert isinstance(error.code, str) and error.code
        error.message.encode("utf-8")  # printable whatever the request held
        assert contents(engine) == before, f"{operation} failed but changed the data"
        return
    after = contents(engine)
    json.dumps(after, ensure_ascii=False).encode("utf-8")  # no lone surrogate was stored
    for item in after[0]:
        assert all(_depth(value) <= 32 for value in item.values())


# --- strategies -------------------------------------------------------------------------

HOSTILE = [
    "\ud800", "\udfff", "a\udc00b", "\ud83d", "\ud83d\ude00", "\u00e9", "\x00",
    "\u0661\u0662", "\uff11", "1_000", "\u00b2", "1\u00a0", "\u0967", "1e\u0662", "\u066b5",
    "", " ", "#n", ":v", "PK", "SK", "n", "s", "l", "m", "gsi", "tbl",
]
# Any code point, lone surrogates included (st.text leaves them out by default).
any_char = st.characters(min_codepoint=0, max_codepoint=0x10FFFF, categories=None)
hostile_text = st.one_of(st.sampled_from(HOSTILE), st.text(any_char, max_size=6))

numbers = st.one_of(
    st.sampled_from(["1", "-0", "1E+2", "\u0661", "\uff11\uff12", "1_0", "\u0661\u0662", "1" * 39,
                     "NaN", "1e999", "\ud800"]),
    st.text(alphabet="0123456789.eE+-_\u0660\u0661\uff10\u00b2 ", max_size=8),
)

scalar_values = st.one_of(
    st.builds(lambda s: {"S": s}, hostile_text),
    st.builds(lambda n: {"N": n}, numbers),
    st.builds(lambda b: {"B": b}, st.sampled_from(["AAE=", "\ud800", "\u00e9", ""])),
    st.builds(lambda s: {"SS": s}, st.lists(hostile_text, min_size=1, max_size=3)),
    st.builds(lambda s: {"NS": s}, st.lists(numbers, min_size=1, max_size=3)),
    st.builds(lambda k, v: {"S": "x", k: v}, hostile_text, hostile_text),  # unknown member
    st.just({"NULL": True}),
)


def _nest(value: dict[str, Any], depth: int, as_map: bool) -> dict[str, Any]:
    for _ in range(depth):
        value = {"M": {"k": value}} if as_map else {"L": [value]}
    return value


values = st.one_of(
    st.recursive(
        scalar_values,
        lambda inner: st.builds(lambda xs: {"L": xs}, st.lists(inner, max_size=2))
        | st.builds(lambda m: {"M": m}, st.dictionaries(hostile_text, inner, max_size=2)),
        max_leaves=4,
    ),
    st.builds(_nest, scalar_values, st.sampled_from([30, 31, 32, 33, 40, 200, 3000]),
              st.booleans()),
)

names = st.one_of(st.sampled_from(["n", "s", "l", "m", "x", "G"]), hostile_text)
items = st.fixed_dictionaries(
    {"PK": st.sampled_from([{"S": "p"}, {"S": "q"}]), "SK": st.sampled_from([{"S": "a"}, {"S": "z"}])}
).flatmap(
    lambda key: st.dictionaries(names, values, max_size=3).map(lambda rest: {**rest, **key})
)
keys = st.one_of(
    st.fixed_dictionaries({"PK": st.just({"S": "p"}), "SK": st.sampled_from([{"S": "a"}, {"S": "b"}])}),
    st.fixed_dictionaries({"PK": values, "SK": values}),
    st.dictionaries(names, values, max_size=2),
)

TOKENS = ["SET", "REMOVE", "ADD", "DELETE", "=", "<", "AND", "OR", "(", ")", ",", "[0]",
          "[\u0661]", "[\uff11]", "#n", ":v", ":w", "n", "l", "m", "size", "contains",
          "attribute_exists", "begins_with", "if_not_exists", "list_append", "\ud800",
          "\u00e9", "\u0661", "1_0", "PK", "SK", ".", " "]
expressions = st.one_of(
    st.lists(st.sampled_from(TOKENS), max_size=8).map(" ".join),
    st.sampled_from(["SET n = :v", "n = :v", "PK = :v", "PK = :v AND SK < :w",
                     "SET #n = :v", "ADD ss :v", "l[0] = :v", "attribute_exists(#n)",
                     "SET l[\u0661] = :v", "contains(s, :v)"]),
    hostile_text,
)
name_maps = st.none() | st.dictionaries(st.sampled_from(["#n", "#\ud800", "#m"]), names, max_size=2)
value_maps = st.none() | st.dictionaries(st.sampled_from([":v", ":w", ":\ud800"]), values,
                                         min_size=1, max_size=2)
big_ints = st.sampled_from([1, 2, 0, -1, 2**31 - 1, 2**31, 2**63, 2**64, -(2**31) - 1, 10**30])
enums = st.sampled_from(["ALL_OLD", "ALL_NEW", "NONE", "\ud800", "ALL\u00e9", "TOTAL"])


def _clean(request: dict[str, Any]) -> dict[str, Any]:
    return {name: value for name, value in request.items() if value is not None}


@st.composite
def requests(draw: st.DrawFn) -> tuple[str, dict[str, Any]]:
    """A request of one of the main operations, mostly well formed, with hostile parts."""
    operation = draw(st.sampled_from([
        "PutItem", "GetItem", "UpdateItem", "DeleteItem", "Query", "Scan",
        "BatchWriteItem", "BatchGetItem", "TransactWriteItems", "TransactGetItems",
    ]))
    table = draw(st.sampled_from([TABLE, TABLE, TABLE, "tb\ud800l", "tbl\u00e9"]))
    common = {
        "ExpressionAttributeNames": draw(name_maps),
        "ExpressionAttributeValues": draw(value_maps),
    }
    if operation == "PutItem":
        request = {"TableName": table, "Item": draw(items), "ReturnValues": draw(st.none() | enums),
                   "ConditionExpression": draw(st.none() | expressions), **common}
    elif operation in ("GetItem", "DeleteItem"):
        request = {"TableName": table, "Key": draw(keys), **common,
                   "ProjectionExpression" if operation == "GetItem" else "ConditionExpression":
                       draw(st.none() | expressions)}
    elif operation == "UpdateItem":
        request = {"TableName": table, "Key": draw(keys), "UpdateExpression": draw(expressions),
                   "ConditionExpression": draw(st.none() | expressions),
                   "ReturnValues": draw(st.none() | enums), **common}
    elif operation in ("Query", "Scan"):
        request = {"TableName": table, "Limit": draw(st.none() | big_ints),
                   "IndexName": draw(st.none() | st.sampled_from(["gsi", "gs\ud800"])),
                   "FilterExpression": draw(st.none() | expressions),
                   "ExclusiveStartKey": draw(st.none() | keys), **common}
        if operation == "Query":
            request["KeyConditionExpression"] = draw(expressions)
        else:
            request["Segment"] = draw(st.none() | big_ints)
            request["TotalSegments"] = draw(st.none() | big_ints)
    elif operation == "BatchWriteItem":
        writes = draw(st.lists(
            st.one_of(st.builds(lambda i: {"PutRequest": {"Item": i}}, items),
                      st.builds(lambda k: {"DeleteRequest": {"Key": k}}, keys)),
            min_size=1, max_size=3))
        request = {"RequestItems": {table: writes}}
    elif operation == "BatchGetItem":
        request = {"RequestItems": {table: {"Keys": draw(st.lists(keys, min_size=1, max_size=2)),
                                            "ProjectionExpression": draw(st.none() | expressions)}}}
    elif operation == "TransactWriteItems":
        action = draw(st.sampled_from(["Put", "Update", "Delete", "ConditionCheck"]))
        body: dict[str, Any] = {"TableName": table, **_clean(common)}
        if action == "Put":
            body["Item"] = draw(items)
        else:
            body["Key"] = draw(keys)
        if action == "Update":
            body["UpdateExpression"] = draw(expressions)
        if action == "ConditionCheck" or draw(st.booleans()):
            body["ConditionExpression"] = draw(expressions)
        request = {"TransactItems": [{action: body}],
                   "ClientRequestToken": draw(st.none() | hostile_text)}
    else:
        request = {"TransactItems": [{"Get": {"TableName": table, "Key": draw(keys)}}]}
    return operation, _clean(request)


# --- properties ---------------------------------------------------------------------------


@FUZZ
@given(requests())
def test_hostile_requests_only_raise_dynamodb_errors(case: tuple[str, dict[str, Any]]) -> None:
    operation, request = case
    check(fresh_engine(), operation, request)


@FUZZ
@given(st.sampled_from(["condition", "update", "filter", "projection", "key"]), expressions,
       name_maps, value_maps)
def test_hostile_expressions(
    member: str, text: str, name_map: dict[str, Any] | None, value_map: dict[str, Any] | None
) -> None:
    engine = fresh_engine()
    extra = _clean({"ExpressionAttributeNames": name_map, "ExpressionAttributeValues": value_map})
    key = {"PK": {"S": "p"}, "SK": {"S": "a"}}
    if member == "condition":
        check(engine, "DeleteItem", {"TableName": TABLE, "Key": key, "ConditionExpression": text,
                                     **extra})
    elif member == "update":
        check(engine, "UpdateItem", {"TableName": TABLE, "Key": key, "UpdateExpression": text,
                                     **extra})
    elif member == "filter":
        check(engine, "Scan", {"TableName": TABLE, "FilterExpression": text, **extra})
    elif member == "projection":
        check(engine, "GetItem", {"TableName": TABLE, "Key": key, "ProjectionExpression": text,
                                  **extra})
    else:
        check(engine, "Query", {"TableName": TABLE, "KeyConditionExpression": text, **extra})


@FUZZ
@given(names, values)
def test_hostile_attribute_values(name: str, value: dict[str, Any]) -> None:
    engine = fresh_engine()
    key = {"PK": {"S": "p"}, "SK": {"S": "a"}}
    check(engine, "PutItem", {"TableName": TABLE, "Item": {**key, name: value}})
    check(engine, "UpdateItem", {"TableName": TABLE, "Key": key, "UpdateExpression": "SET #a = :v",
                                 "ExpressionAttributeNames": {"#a": name},
                                 "ExpressionAttributeValues": {":v": value}})
    check(engine, "UpdateItem", {"TableName": TABLE, "Key": key,
                                 "UpdateExpression": "SET m.k.#a = :v",
                                 "ExpressionAttributeNames": {"#a": name},
                                 "ExpressionAttributeValues": {":v": value}})
    check(engine, "Query", {"TableName": TABLE, "KeyConditionExpression": "PK = :v",
                            "ExpressionAttributeValues": {":v": value}})
