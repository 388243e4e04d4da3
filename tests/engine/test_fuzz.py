"""Fuzzing the local engine's request validation and expression parser.

Random and mutated requests sent straight to ``LocalEngine().call`` must either succeed
or raise :class:`DynamoDBError` (never another exception), and a write that is rejected
must leave the table exactly as it was (compared with a full Scan before and after).
"""

from __future__ import annotations

import os
import string
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from singletable.backends.local import DynamoDBError, LocalEngine

FUZZ = settings(
    # SINGLETABLE_FUZZ_EXAMPLES=3000 for a longer run by hand; CI keeps the suite fast.
    max_examples=int(os.environ.get("SINGLETABLE_FUZZ_EXAMPLES", "150")),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)

SEED_ITEMS: list[dict[str, Any]] = [
    {
        "PK": {"S": "p"},
        "SK": {"S": "a"},
        "n": {"N": "1"},
        "s": {"S": "x"},
        "l": {"L": [{"N": "1"}, {"S": "y"}]},
        "m": {"M": {"k": {"S": "v"}}},
        "ss": {"SS": ["a", "b"]},
    },
    {"PK": {"S": "p"}, "SK": {"S": "b"}, "n": {"N": "-2.5"}, "b": {"B": "AAE="}},
    {"PK": {"S": "q"}, "SK": {"S": "a"}, "ns": {"NS": ["1", "2"]}, "nul": {"NULL": True}},
]


def fresh_engine() -> LocalEngine:
    """An engine with table ``tbl`` (PK S, SK S) holding SEED_ITEMS."""
    engine = LocalEngine()
    engine.call(
        "CreateTable",
        {
            "TableName": "tbl",
            "KeySchema": [
                {"AttributeName": "PK", "KeyType": "HASH"},
                {"AttributeName": "SK", "KeyType": "RANGE"},
            ],
            "AttributeDefinitions": [
                {"AttributeName": "PK", "AttributeType": "S"},
                {"AttributeName": "SK", "AttributeType": "S"},
            ],
            "BillingMode": "PAY_PER_REQUEST",
        },
    )
    for item in SEED_ITEMS:
        engine.call("PutItem", {"TableName": "tbl", "Item": item})
    return engine


def contents(engine: LocalEngine) -> list[Any]:
    """Every item of table ``tbl``, in a stable order."""
    items: list[Any] = []
    request: dict[str, Any] = {"TableName": "tbl"}
    for _ in range(100):
        page = engine.call("Scan", request)
        items.extend(page["Items"])
        if "LastEvaluatedKey" not in page:
            return sorted(items, key=repr)
        request["ExclusiveStartKey"] = page["LastEvaluatedKey"]
    raise AssertionError("Scan kept returning LastEvaluatedKey")


# --- strategies -------------------------------------------------------------------------

junk = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=True) | st.text(max_size=8),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=4), inner, max_size=3)
    ),
    max_leaves=8,
)

numbers = st.one_of(
    st.sampled_from(
        [
            "0",
            "-0",
            "1.0",
            "1E+2",
            "1e-130",
            "1E126",
            "1E-131",
            "",
            "abc",
            "1..2",
            "+",
            "-",
            ".5",
            "5.",
            "Infinity",
            "NaN",
            "0x10",
            " 1",
            "1" * 39,
        ]
    ),
    st.decimals(allow_nan=False, allow_infinity=False).map(str),
    st.text(alphabet="0123456789.eE+-", max_size=12),
)

binaries = st.sampled_from(["", "AAE=", "not base64!", "AA", "////", "=", "YQ=="])

scalar_av = st.one_of(
    st.builds(lambda s: {"S": s}, st.text(max_size=6)),
    st.builds(lambda n: {"N": n}, numbers),
    st.builds(lambda b: {"B": b}, binaries),
    st.builds(lambda b: {"BOOL": b}, st.booleans() | st.text(max_size=2)),
    st.builds(lambda b: {"NULL": b}, st.booleans() | st.integers(0, 1)),
    st.builds(lambda s: {"SS": s}, st.lists(st.text(max_size=3), max_size=3)),
    st.builds(lambda s: {"NS": s}, st.lists(numbers, max_size=3)),
    st.builds(lambda s: {"BS": s}, st.lists(binaries, max_size=3)),
    st.builds(dict),  # no type at all
    st.builds(lambda s, n: {"S": s, "N": n}, st.text(max_size=2), numbers),  # two types
    st.builds(lambda t, v: {t: v}, st.sampled_from(["X", "s", "L", "M", "SS"]), junk),
    junk,
)

attribute_values = st.recursive(
    scalar_av,
    lambda inner: (
        st.builds(lambda xs: {"L": xs}, st.lists(inner, max_size=3))
        | st.builds(lambda m: {"M": m}, st.dictionaries(st.text(max_size=3), inner, max_size=3))
    ),
    max_leaves=6,
)

attr_names = st.sampled_from(["PK", "SK", "n", "s", "l", "m", "ss", "ns", "b", "x", "", "status"])

items = st.dictionaries(attr_names | st.text(max_size=4), attribute_values, max_size=5)

keys = st.one_of(
    st.fixed_dictionaries(
        {
            "PK": st.sampled_from([{"S": "p"}, {"S": "q"}, {"S": ""}, {"N": "1"}]),
            "SK": st.sampled_from([{"S": "a"}, {"S": "b"}, {"S": "new"}, {"B": "AAE="}]),
        }
    ),
    items,
)

TOKENS = [
    "SET",
    "REMOVE",
    "ADD",
    "DELETE",
    "AND",
    "OR",
    "NOT",
    "BETWEEN",
    "IN",
    "=",
    "<>",
    "<",
    "<=",
    ">",
    ">=",
    "+",
    "-",
    "(",
    ")",
    ",",
    ".",
    "[",
    "]",
    "[0]",
    "[1]",
    "[99]",
    "#n",
    "#m",
    "#bad",
    ":v",
    ":w",
    ":n",
    ":bad",
    "n",
    "s",
    "l",
    "m",
    "ss",
    "ns",
    "PK",
    "SK",
    "status",
    "attribute_exists",
    "attribute_not_exists",
    "attribute_type",
    "begins_with",
    "contains",
    "size",
    "if_not_exists",
    "list_append",
    "nofunc",
    "'",
    '"',
    "\u00e9",
    "\x00",
    " ",
    "",
]

expressions = st.one_of(
    st.lists(st.sampled_from(TOKENS), max_size=10).map(" ".join),
    st.lists(st.sampled_from(TOKENS), max_size=10).map("".join),
    st.text(alphabet=string.printable, max_size=20),
    st.sampled_from(
        [
            "SET n = n + :v",
            "SET l = list_append(l, :v)",
            "ADD ss :v",
            "DELETE ss :v",
            "REMOVE l[0], m.k",
            "SET m.k.deep = :v",
            "SET #n = if_not_exists(#n, :v)",
            "n BETWEEN :v AND :w",
            "size(l) > :n",
            "contains(ss, :v)",
            "attribute_type(s, :v)",
            "PK = :v AND begins_with(SK, :w)",
            "n IN (:v, :w, :n)",
            "NOT (n = :v OR s <> :w)",
        ]
    ),
)

names = st.one_of(
    st.none(),
    st.dictionaries(
        st.sampled_from(["#n", "#m", "#bad", "n", "#", "#1"]),
        st.sampled_from(["n", "m", "status", "", "SK", "l"]) | junk,
        max_size=3,
    ),
)
values = st.one_of(
    st.none(),
    st.dictionaries(
        st.sampled_from([":v", ":w", ":n", ":bad", "v", ":"]), attribute_values, max_size=3
    ),
)

write_ops = st.sampled_from(["PutItem", "UpdateItem", "DeleteItem"])
return_values = st.sampled_from(
    [None, "NONE", "ALL_OLD", "UPDATED_OLD", "ALL_NEW", "UPDATED_NEW", "BOGUS"]
)


def _drop_none(request: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in request.items() if v is not None}


@st.composite
def write_requests(draw: st.DrawFn) -> tuple[str, dict[str, Any]]:
    """A mostly well-formed write with random values, expressions and placeholders."""
    operation = draw(write_ops)
    request: dict[str, Any] = {
        "TableName": draw(st.sampled_from(["tbl", "tbl", "tbl", "nope", "t"]))
    }
    if operation == "PutItem":
        item = draw(items)
        if draw(st.booleans()):
            item.update({"PK": {"S": "p"}, "SK": {"S": draw(st.sampled_from(["a", "z"]))}})
        request["Item"] = item
    else:
        request["Key"] = draw(keys)
    if operation == "UpdateItem":
        request["UpdateExpression"] = draw(st.none() | expressions)
    request["ConditionExpression"] = draw(st.none() | expressions)
    request["ExpressionAttributeNames"] = draw(names)
    request["ExpressionAttributeValues"] = draw(values)
    request["ReturnValues"] = draw(return_values)
    request["ReturnValuesOnConditionCheckFailure"] = draw(st.sampled_from([None, "ALL_OLD"]))
    return operation, _drop_none(request)


def _call(engine: LocalEngine, operation: str, request: dict[str, Any]) -> bool:
    """True if the call succeeded; False if it raised DynamoDBError (anything else fails)."""
    try:
        engine.call(operation, request)
    except DynamoDBError as error:
        assert isinstance(error.code, str) and error.code
        assert isinstance(error.message, str)
        return False
    return True


@FUZZ
@given(write_requests())
def test_rejected_writes_change_nothing(case: tuple[str, dict[str, Any]]) -> None:
    operation, request = case
    engine = fresh_engine()
    before = contents(engine)
    if not _call(engine, operation, request):
        assert contents(engine) == before


@FUZZ
@given(
    st.sampled_from(["Query", "Scan", "GetItem"]),
    expressions,
    expressions,
    names,
    values,
    st.none() | st.integers(-1, 5),
    st.none() | keys,
)
def test_reads_with_random_expressions(
    operation: str,
    first: str,
    second: str,
    name_map: dict[str, Any] | None,
    value_map: dict[str, Any] | None,
    limit: int | None,
    start: dict[str, Any] | None,
) -> None:
    engine = fresh_engine()
    request: dict[str, Any] = {
        "TableName": "tbl",
        "ExpressionAttributeNames": name_map,
        "ExpressionAttributeValues": value_map,
        "ProjectionExpression": second if len(second) % 2 else None,
    }
    if operation == "Query":
        request.update(
            KeyConditionExpression=first,
            FilterExpression=second or None,
            Limit=limit,
            ExclusiveStartKey=start,
        )
    elif operation == "Scan":
        request.update(FilterExpression=first, Limit=limit, ExclusiveStartKey=start)
    else:
        request.update(Key=start or {"PK": {"S": "p"}, "SK": {"S": "a"}})
    before = contents(engine)
    _call(engine, operation, _drop_none(request))
    assert contents(engine) == before


OPERATIONS = [
    "CreateTable",
    "DescribeTable",
    "DeleteTable",
    "ListTables",
    "UpdateTable",
    "PutItem",
    "GetItem",
    "UpdateItem",
    "DeleteItem",
    "Query",
    "Scan",
    "NoSuchOperation",
]
PARAMETERS = [
    "TableName",
    "Item",
    "Key",
    "KeySchema",
    "AttributeDefinitions",
    "BillingMode",
    "ProvisionedThroughput",
    "UpdateExpression",
    "ConditionExpression",
    "FilterExpression",
    "KeyConditionExpression",
    "ProjectionExpression",
    "ExpressionAttributeNames",
    "ExpressionAttributeValues",
    "Limit",
    "ExclusiveStartKey",
    "Segment",
    "TotalSegments",
    "Select",
    "ReturnValues",
    "ReturnConsumedCapacity",
    "ConsistentRead",
    "ScanIndexForward",
    "Expected",
    "AttributeUpdates",
    "KeyConditions",
    "QueryFilter",
    "ScanFilter",
    "AttributesToGet",
    "ConditionalOperator",
    "ExclusiveStartTableName",
]


@FUZZ
@given(
    st.sampled_from(OPERATIONS),
    st.dictionaries(st.sampled_from(PARAMETERS), junk | attribute_values | expressions, max_size=6),
)
def test_arbitrary_requests_only_raise_dynamodb_errors(
    operation: str, request: dict[str, Any]
) -> None:
    engine = fresh_engine()
    if operation == "DeleteTable" or operation == "CreateTable":
        _call(engine, operation, request)
        return
    request.setdefault("TableName", "tbl")
    before = contents(engine)
    if not _call(engine, operation, request):
        assert contents(engine) == before


@FUZZ
@given(st.data())
def test_mutated_valid_requests(data: st.DataObject) -> None:
    """Take valid requests and break one part of them."""
    engine = fresh_engine()
    valid: list[tuple[str, dict[str, Any]]] = [
        (
            "PutItem",
            {"TableName": "tbl", "Item": {"PK": {"S": "p"}, "SK": {"S": "c"}, "v": {"N": "1"}}},
        ),
        (
            "UpdateItem",
            {
                "TableName": "tbl",
                "Key": {"PK": {"S": "p"}, "SK": {"S": "a"}},
                "UpdateExpression": "SET n = n + :v ADD ss :w",
                "ExpressionAttributeValues": {":v": {"N": "1"}, ":w": {"SS": ["c"]}},
            },
        ),
        (
            "DeleteItem",
            {
                "TableName": "tbl",
                "Key": {"PK": {"S": "p"}, "SK": {"S": "b"}},
                "ConditionExpression": "n < :v",
                "ExpressionAttributeValues": {":v": {"N": "0"}},
            },
        ),
        (
            "Query",
            {
                "TableName": "tbl",
                "KeyConditionExpression": "PK = :p AND SK > :s",
                "ExpressionAttributeValues": {":p": {"S": "p"}, ":s": {"S": "a"}},
            },
        ),
    ]
    operation, request = data.draw(st.sampled_from(valid))
    target = data.draw(st.sampled_from(sorted(request)))
    replacement = data.draw(junk | attribute_values | expressions | items)
    mutated = {**request, target: replacement}
    before = contents(engine)
    ok = _call(engine, operation, mutated)
    if not ok or operation == "Query":
        assert contents(engine) == before


PATHS = [
    "n",
    "s",
    "l",
    "l[0]",
    "l[1]",
    "l[7]",
    "m",
    "m.k",
    "m.k.deep",
    "m.fresh",
    "ss",
    "ns",
    "b",
    "x",
    "nul",
    "SK",
]

valid_scalars = st.one_of(
    st.builds(lambda s: {"S": s}, st.text(max_size=4)),
    st.builds(lambda n: {"N": str(n)}, st.integers(-5, 5)),
    st.builds(lambda b: {"B": b}, st.sampled_from(["", "AAE=", "YQ=="])),
    st.builds(lambda b: {"BOOL": b}, st.booleans()),
    st.just({"NULL": True}),
    st.builds(lambda s: {"SS": sorted(s)}, st.sets(st.text(max_size=2), min_size=1, max_size=3)),
    st.builds(
        lambda s: {"NS": sorted(map(str, s))}, st.sets(st.integers(-3, 3), min_size=1, max_size=3)
    ),
)
valid_values = st.recursive(
    valid_scalars,
    lambda inner: (
        st.builds(lambda xs: {"L": xs}, st.lists(inner, max_size=3))
        | st.builds(
            lambda m: {"M": m},
            st.dictionaries(st.sampled_from(["k", "deep", "z"]), inner, max_size=2),
        )
    ),
    max_leaves=4,
)


@st.composite
def grammatical_updates(draw: st.DrawFn) -> dict[str, Any]:
    """Well-formed UpdateItem requests (every placeholder defined and used) that reach the
    evaluation stage, where runtime errors (types, paths, sizes, conditions) happen."""
    values: dict[str, Any] = {}

    def value() -> str:
        name = f":v{len(values)}"
        values[name] = draw(valid_values)
        return name

    sections: dict[str, list[str]] = {}
    for _ in range(draw(st.integers(1, 4))):
        verb = draw(st.sampled_from(["SET", "REMOVE", "ADD", "DELETE"]))
        path = draw(st.sampled_from(PATHS))
        if verb == "SET":
            shape = draw(st.integers(0, 4))
            other = draw(st.sampled_from(PATHS))
            if shape == 0:
                operand = value()
            elif shape == 1:
                operand = f"{other} + {value()}"
            elif shape == 2:
                operand = f"{value()} - {other}"
            elif shape == 3:
                operand = f"if_not_exists({other}, {value()})"
            else:
                operand = f"list_append({other}, {value()})"
            action = f"{path} = {operand}"
        elif verb == "REMOVE":
            action = path
        else:
            action = f"{path} {value()}"
        sections.setdefault(verb, []).append(action)
    expression = " ".join(f"{verb} {', '.join(actions)}" for verb, actions in sections.items())
    request: dict[str, Any] = {
        "TableName": "tbl",
        "Key": {
            "PK": {"S": draw(st.sampled_from(["p", "q"]))},
            "SK": {"S": draw(st.sampled_from(["a", "b", "new"]))},
        },
        "UpdateExpression": expression,
        "ReturnValues": draw(return_values.filter(lambda r: r != "BOGUS")),
    }
    if draw(st.booleans()):
        request["ConditionExpression"] = draw(
            st.sampled_from(
                [
                    f"attribute_exists({draw(st.sampled_from(PATHS))})",
                    f"size({draw(st.sampled_from(PATHS))}) > {value()}",
                    f"{draw(st.sampled_from(PATHS))} < {value()}",
                    f"contains({draw(st.sampled_from(PATHS))}, {value()})",
                ]
            )
        )
    if values:
        request["ExpressionAttributeValues"] = values
    return _drop_none(request)


@FUZZ
@given(grammatical_updates())
def test_rejected_updates_change_nothing(request: dict[str, Any]) -> None:
    engine = fresh_engine()
    before = contents(engine)
    if not _call(engine, "UpdateItem", request):
        assert contents(engine) == before
