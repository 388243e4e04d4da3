"""Update semantics, projections and key conditions."""

from __future__ import annotations

import copy
import re
from typing import Any

import pytest

from singletable.expressions import ExpressionContext, ExpressionError, KeyTerm

VALUES: dict[str, Any] = {
    ":one": {"N": "1"},
    ":five": {"N": "5"},
    ":s": {"S": "new"},
    ":l": {"L": [{"S": "y"}]},
    ":empty": {"L": []},
    ":ss": {"SS": ["b", "c"]},
    ":ns": {"NS": ["1", "9"]},
    ":m": {"M": {"k": {"N": "1"}}},
    ":big": {"N": "9" * 38},
    ":tenth": {"N": "0.1"},
    ":huge": {"N": "9E+125"},
}

BASE: dict[str, Any] = {
    "pk": {"S": "p"},
    "n": {"N": "10"},
    "s": {"S": "old"},
    "l": {"L": [{"S": "a"}, {"S": "b"}, {"S": "c"}, {"S": "d"}]},
    "m": {"M": {"a": {"N": "1"}, "l": {"L": [{"N": "0"}]}}},
    "ss": {"SS": ["a", "b"]},
    "ns": {"NS": ["1", "2"]},
}


def uses(text: str, ref: str) -> bool:
    return re.search(re.escape(ref) + r"(?![A-Za-z0-9_])", text) is not None


def run(text: str, item: dict[str, Any] | None = None) -> dict[str, Any]:
    values = {k: v for k, v in VALUES.items() if uses(text, k)}
    ctx = ExpressionContext(None, values or None)
    update = ctx.update(text)
    ctx.check_unused()
    source = copy.deepcopy(BASE if item is None else item)
    before = copy.deepcopy(source)
    result = update.apply(source)
    assert source == before, "apply must not modify its input"
    return result


def changed(text: str, item: dict[str, Any] | None = None) -> dict[str, Any]:
    """The attributes that differ from the input (None for removed ones)."""
    source = BASE if item is None else item
    result = run(text, item)
    out = {k: v for k, v in result.items() if source.get(k) != v}
    out.update({k: None for k in source if k not in result})
    return out


UPDATES = [
    ("SET x = :s", {"x": {"S": "new"}}),
    ("SET s = :s", {"s": {"S": "new"}}),
    ("SET n = n + :one", {"n": {"N": "11"}}),
    ("SET n = :one - n", {"n": {"N": "-9"}}),
    ("SET x = n - :five", {"x": {"N": "5"}}),
    ("SET x = if_not_exists(x, :five)", {"x": {"N": "5"}}),
    ("SET n = if_not_exists(n, :five)", {}),
    ("SET x = if_not_exists(x, :five) + :one", {"x": {"N": "6"}}),
    ("SET l = list_append(l, :l)", {"l": {"L": [{"S": s} for s in "abcdy"]}}),
    ("SET l = list_append(:l, l)", {"l": {"L": [{"S": s} for s in "yabcd"]}}),
    ("SET x = list_append(if_not_exists(x, :empty), :l)", {"x": {"L": [{"S": "y"}]}}),
    ("SET m.b = :s", {"m": {"M": {"a": {"N": "1"}, "l": {"L": [{"N": "0"}]}, "b": {"S": "new"}}}}),
    ("SET m.l[0] = :s", {"m": {"M": {"a": {"N": "1"}, "l": {"L": [{"S": "new"}]}}}}),
    ("SET m.l[7] = :s", {"m": {"M": {"a": {"N": "1"}, "l": {"L": [{"N": "0"}, {"S": "new"}]}}}}),
    ("SET l[1] = :s", {"l": {"L": [{"S": "a"}, {"S": "new"}, {"S": "c"}, {"S": "d"}]}}),
    ("SET s = n, n = s", {"s": {"N": "10"}, "n": {"S": "old"}}),
    ("SET x = m", {"x": BASE["m"]}),
    ("REMOVE s, nope, m.nope, l[10]", {"s": None}),
    ("REMOVE l[1]", {"l": {"L": [{"S": "a"}, {"S": "c"}, {"S": "d"}]}}),
    ("REMOVE l[1], l[2]", {"l": {"L": [{"S": "a"}, {"S": "d"}]}}),
    ("REMOVE l[0], l[3]", {"l": {"L": [{"S": "b"}, {"S": "c"}]}}),
    ("REMOVE m.a, m.l[0]", {"m": {"M": {"l": {"L": []}}}}),
    ("ADD n :five", {"n": {"N": "15"}}),
    ("ADD x :five", {"x": {"N": "5"}}),
    ("ADD ss :ss", {"ss": {"SS": ["a", "b", "c"]}}),
    ("ADD x :ss", {"x": {"SS": ["b", "c"]}}),
    ("ADD ns :ns", {"ns": {"NS": ["1", "2", "9"]}}),
    ("ADD m.c :one", {"m": {"M": {"a": {"N": "1"}, "l": {"L": [{"N": "0"}]}, "c": {"N": "1"}}}}),
    ("DELETE ss :ss", {"ss": {"SS": ["a"]}}),
    ("DELETE ns :ns", {"ns": {"NS": ["2"]}}),
    ("DELETE x :ss", {}),
    (
        "SET s = :s REMOVE n ADD ss :ss DELETE ns :ns",
        {
            "s": {"S": "new"},
            "n": None,
            "ss": {"SS": ["a", "b", "c"]},
            "ns": {"NS": ["2"]},
        },
    ),
]


@pytest.mark.parametrize(("text", "expected"), UPDATES)
def test_update(text: str, expected: dict[str, Any]) -> None:
    assert changed(text) == expected


def test_delete_last_members_removes_the_attribute() -> None:
    item = {"pk": {"S": "p"}, "ss": {"SS": ["b"]}}
    assert run("DELETE ss :ss", item) == {"pk": {"S": "p"}}


def test_top_level_names() -> None:
    update = ExpressionContext({"#a": "a"}, VALUES).update(
        "SET #a.b = :one, c = :s REMOVE d[1] ADD e :one DELETE f :ss"
    )
    assert update.top_level_names == frozenset({"a", "c", "d", "e", "f"})


RUNTIME_ERRORS = [
    (
        "SET x = nope",
        "The provided expression refers to an attribute that does not exist in the item",
    ),
    (
        "SET x = nope + :one",
        "The provided expression refers to an attribute that does not exist in the item",
    ),
    ("SET x = s + :one", "An operand in the update expression has an incorrect data type"),
    (
        "SET x = list_append(s, :l)",
        "An operand in the update expression has an incorrect data type",
    ),
    (
        "SET nope.a = :s",
        "The document path provided in the update expression is invalid for update",
    ),
    ("SET s.a = :s", "The document path provided in the update expression is invalid for update"),
    ("SET m[0] = :s", "The document path provided in the update expression is invalid for update"),
    (
        "SET nope[0] = :s",
        "The document path provided in the update expression is invalid for update",
    ),
    ("ADD s :one", "An operand in the update expression has an incorrect data type"),
    ("ADD ss :ns", "An operand in the update expression has an incorrect data type"),
    ("ADD n :ss", "An operand in the update expression has an incorrect data type"),
    ("DELETE ss :ns", "An operand in the update expression has an incorrect data type"),
    (
        "ADD nope.x :one",
        "The document path provided in the update expression is invalid for update",
    ),
]


@pytest.mark.parametrize(("text", "message"), RUNTIME_ERRORS)
def test_runtime_errors(text: str, message: str) -> None:
    with pytest.raises(ExpressionError) as info:
        run(text)
    assert info.value.message == message


def test_number_limits_apply_to_results() -> None:
    with pytest.raises(ExpressionError) as info:
        run("SET x = :big + :tenth", {})
    assert info.value.message == "Attempting to store more than 38 significant digits in a Number"
    with pytest.raises(ExpressionError) as info:
        run("SET x = :huge + :huge", {})
    assert info.value.message.startswith("Number overflow.")


# --------------------------------------------------------------------------- projection

PROJ_ITEM: dict[str, Any] = {
    "a": {"S": "1"},
    "b": {"M": {"x": {"N": "1"}, "y": {"L": [{"N": "1"}, {"N": "2"}, {"M": {"z": {"S": "z"}}}]}}},
    "c": {"L": [{"S": "c0"}, {"S": "c1"}, {"S": "c2"}]},
}


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("a", {"a": {"S": "1"}}),
        ("a, nope", {"a": {"S": "1"}}),
        ("b.x", {"b": {"M": {"x": {"N": "1"}}}}),
        ("b.y[2].z, b.y[0]", {"b": {"M": {"y": {"L": [{"N": "1"}, {"M": {"z": {"S": "z"}}}]}}}}),
        ("c[2], c[0], c[7]", {"c": {"L": [{"S": "c0"}, {"S": "c2"}]}}),
        ("c[7], b.q, a.x", {}),
        ("#b", {"b": PROJ_ITEM["b"]}),
    ],
)
def test_projection(text: str, expected: dict[str, Any]) -> None:
    names = {"#b": "b"} if "#b" in text else None
    projection = ExpressionContext(names, None).projection(text)
    assert projection.apply(PROJ_ITEM) == expected


def test_projection_top_level_names() -> None:
    projection = ExpressionContext({"#n": "name"}, None).projection("#n.given, c[1], a")
    assert projection.top_level_names == frozenset({"name", "c", "a"})


# --------------------------------------------------------------------------- key conditions

KEY_VALUES: dict[str, Any] = {":p": {"S": "p"}, ":a": {"S": "a"}, ":b": {"S": "b"}}


def key(
    text: str, hash_keys: tuple[str, ...] = ("PK",), range_keys: tuple[str, ...] = ("SK",)
) -> Any:
    values = {k: v for k, v in KEY_VALUES.items() if uses(text, k)}
    names = {"#k": "SK"} if "#k" in text else None
    return ExpressionContext(names, values or None).key_condition(text, hash_keys, range_keys)


@pytest.mark.parametrize(
    ("text", "terms"),
    [
        ("PK = :p", []),
        ("PK = :p AND SK = :a", [KeyTerm("SK", "=", ({"S": "a"},))]),
        (":a < #k AND :p = PK", [KeyTerm("SK", ">", ({"S": "a"},))]),
        ("PK = :p AND SK <= :a", [KeyTerm("SK", "<=", ({"S": "a"},))]),
        (
            "(PK = :p) AND (SK BETWEEN :a AND :b)",
            [KeyTerm("SK", "BETWEEN", ({"S": "a"}, {"S": "b"}))],
        ),
        ("begins_with(SK, :a) AND PK = :p", [KeyTerm("SK", "begins_with", ({"S": "a"},))]),
    ],
)
def test_key_condition(text: str, terms: list[KeyTerm]) -> None:
    condition = key(text)
    assert condition.hash_values == {"PK": {"S": "p"}}
    assert condition.range_terms == terms


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("PK = :p OR SK = :a", "Invalid operator used in KeyConditionExpression: OR"),
        ("NOT PK = :p", "Invalid operator used in KeyConditionExpression: NOT"),
        ("PK IN (:p)", "Invalid operator used in KeyConditionExpression: IN"),
        ("PK <> :p", "Invalid operator used in KeyConditionExpression: <>"),
        (
            "PK = :p AND contains(SK, :a)",
            "Invalid operator used in KeyConditionExpression: contains",
        ),
        (
            "attribute_exists(PK)",
            "Invalid operator used in KeyConditionExpression: attribute_exists",
        ),
        ("PK = :p AND size(SK) = :a", "KeyConditionExpressions cannot contain nested operations"),
        (
            "PK = SK",
            "Invalid condition in KeyConditionExpression: Multiple attribute names used in "
            "one condition",
        ),
        (":p = :a", "Invalid condition in KeyConditionExpression: No key attribute specified"),
        ("PK.x = :p", "KeyConditionExpressions cannot have conditions on nested attributes"),
        ("PK = :p AND PK = :a", "KeyConditionExpressions must only contain one condition per key"),
        ("SK = :a", "Query condition missed key schema element: PK"),
        ("PK = :p AND attr1 = :a", "Query condition missed key schema element: SK"),
        ("PK > :p", "Query key condition not supported"),
        ("begins_with(PK, :p)", "Query key condition not supported"),
        (
            "PK = :p AND :a BETWEEN SK AND :b",
            "Invalid condition in KeyConditionExpression: BETWEEN operator must have the key "
            "attribute as its first operand",
        ),
        (
            "PK = :p AND begins_with(:a, SK)",
            "Invalid condition in KeyConditionExpression: begins_with operator must have the key "
            "attribute as its first operand",
        ),
        (
            "PK = :p AND SK = :zz",
            "Invalid KeyConditionExpression: An expression attribute value "
            "used in expression is not defined; attribute value: :zz",
        ),
        (
            "PK = :p AND SK = ",
            'Invalid KeyConditionExpression: Syntax error; token: "<EOF>", near: "= "',
        ),
    ],
)
def test_key_condition_errors(text: str, message: str) -> None:
    with pytest.raises(ExpressionError) as info:
        key(text)
    assert info.value.message == message


def test_hash_only_table() -> None:
    assert key("PK = :p", range_keys=()).range_terms == []
    with pytest.raises(ExpressionError) as info:
        key("PK = :p AND SK = :a", range_keys=())
    assert info.value.message == "Query key condition not supported"


def test_multi_attribute_keys() -> None:
    values = {":1": {"S": "1"}, ":2": {"S": "2"}, ":3": {"S": "3"}, ":4": {"S": "4"}}
    ctx = ExpressionContext(None, values)
    condition = ctx.key_condition(
        "h1 = :1 AND h2 = :2 AND r1 = :3 AND r2 > :4", ("h1", "h2"), ("r1", "r2", "r3")
    )
    assert condition.hash_values == {"h1": {"S": "1"}, "h2": {"S": "2"}}
    assert [t.op for t in condition.range_terms] == ["=", ">"]
    with pytest.raises(ExpressionError) as info:
        ExpressionContext(None, values).key_condition("h1 = :1 AND r1 = :3", ("h1", "h2"), ("r1",))
    assert info.value.message == "Query condition missed key schema element: h2"
    with pytest.raises(ExpressionError) as info:
        ExpressionContext(None, values).key_condition(
            "h1 = :1 AND r1 > :3 AND r2 = :4", ("h1",), ("r1", "r2")
        )
    assert info.value.message == (
        "RANGE key attributes r1 must have equality conditions specified in the query because "
        "a condition is present on key attribute r2"
    )
    with pytest.raises(ExpressionError) as info:
        ExpressionContext(None, values).key_condition("h1 = :1 AND r2 = :4", ("h1",), ("r1", "r2"))
    assert info.value.message.startswith("RANGE key attributes r1 must have equality conditions")
