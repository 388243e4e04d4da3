"""Condition evaluation per type: comparisons, functions, nope attributes."""

from __future__ import annotations

import base64
import re
from typing import Any

import pytest

from singletable.expressions import ExpressionContext


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


ITEM: dict[str, Any] = {
    "s": {"S": "hello"},
    "n": {"N": "10"},
    "neg": {"N": "-2.5"},
    "b": {"B": b64(b"\x01\x02\x03")},
    "t": {"BOOL": True},
    "z": {"NULL": True},
    "ss": {"SS": ["a", "b"]},
    "ns": {"NS": ["1", "2.5"]},
    "bs": {"BS": [b64(b"\x01")]},
    "l": {"L": [{"S": "x"}, {"N": "3"}, {"M": {"k": {"S": "v"}}}]},
    "m": {"M": {"inn": {"M": {"deep": {"N": "7"}}}, "list": {"L": [{"S": "q"}]}}},
    "blank": {"S": ""},
    "accent": {"S": "\u00e9t\u00e9"},
}

VALUES: dict[str, Any] = {
    ":hello": {"S": "hello"},
    ":he": {"S": "he"},
    ":ell": {"S": "ell"},
    ":a": {"S": "a"},
    ":x": {"S": "x"},
    ":z": {"S": "z"},
    ":n10": {"N": "10"},
    ":n10b": {"N": "10"},
    ":n3": {"N": "3"},
    ":n5": {"N": "5"},
    ":n7": {"N": "7"},
    ":n2_5": {"N": "2.5"},
    ":n100": {"N": "100"},
    ":nm3": {"N": "-3"},
    ":b01": {"B": b64(b"\x01")},
    ":b0102": {"B": b64(b"\x01\x02")},
    ":b02": {"B": b64(b"\x02")},
    ":true": {"BOOL": True},
    ":null": {"NULL": True},
    ":ss": {"SS": ["b", "a"]},
    ":l3": {"L": [{"S": "x"}, {"N": "3"}, {"M": {"k": {"S": "v"}}}]},
    ":mk": {"M": {"k": {"S": "v"}}},
    ":tS": {"S": "S"},
    ":tN": {"S": "N"},
    ":tSS": {"S": "SS"},
    ":tM": {"S": "M"},
    ":tNULL": {"S": "NULL"},
    ":q": {"S": "q"},
    ":n2": {"N": "2"},
}

CASES = [
    # equality and ordering per scalar type
    ("s = :hello", True),
    ("s <> :hello", False),
    ("n = :n10b", True),
    ("n > :n5", True),
    ("n < :n100", True),
    ("neg < :n3", True),
    ("neg > :nm3", True),
    ("n >= :n10", True),
    ("n <= :n5", False),
    ("s > :he", True),
    ("s < :z", True),
    ("b > :b01", True),
    ("b < :b02", True),
    ("t = :true", True),
    ("z = :null", True),
    ("ss = :ss", True),
    ("l = :l3", True),
    ("l[2] = :mk", True),
    # type mismatches are false, <> is their negation
    ("s = :n10", False),
    ("s <> :n10", True),
    ("s < :n10", False),
    ("s > :n10", False),
    ("t < :n10", False),  # a BOOL attribute: false (a BOOL constant is an error)
    ("ss > :a", False),
    # nope attributes
    ("nope = :a", False),
    ("nope <> :a", True),
    ("nope < :a", False),
    ("nope BETWEEN :a AND :z", False),
    ("nope IN (:a)", False),
    ("m.nope = :a", False),
    ("s.subx = :a", False),
    ("l[9] = :a", False),
    ("m[0] = :a", False),
    # BETWEEN, IN
    ("n BETWEEN :n5 AND :n10", True),
    ("n BETWEEN :n10 AND :n100", True),
    ("n BETWEEN :n2_5 AND :n7", False),
    ("s BETWEEN :a AND :z", True),
    ("s BETWEEN :n3 AND :n5", False),
    ("n IN (:n3, :n10b)", True),
    ("n IN (:n3, :n5)", False),
    ("s IN (:a, :hello)", True),
    # nested paths
    ("m.inn.deep = :n7", True),
    ("m.#list[0] = :q", True),
    ("l[1] = :n3", True),
    ("l[2].k = :x", False),
    # functions
    ("attribute_exists(s)", True),
    ("attribute_exists(nope)", False),
    ("attribute_not_exists(nope)", True),
    ("attribute_exists(m.inn.deep)", True),
    ("attribute_not_exists(l[5])", True),
    ("attribute_exists(z)", True),
    ("attribute_type(s, :tS)", True),
    ("attribute_type(n, :tN)", True),
    ("attribute_type(ss, :tSS)", True),
    ("attribute_type(m, :tM)", True),
    ("attribute_type(z, :tNULL)", True),
    ("attribute_type(s, :tN)", False),
    ("attribute_type(nope, :tS)", False),
    ("begins_with(s, :he)", True),
    ("begins_with(s, :ell)", False),
    ("begins_with(b, :b0102)", True),
    ("begins_with(b, :b02)", False),
    ("begins_with(n, :he)", False),
    ("begins_with(nope, :he)", False),
    ("contains(s, :ell)", True),
    ("contains(s, :x)", False),
    ("contains(ss, :a)", True),
    ("contains(ss, :x)", False),
    ("contains(ns, :n2_5)", True),
    ("contains(ns, :n3)", False),
    ("contains(bs, :b01)", True),
    ("contains(l, :x)", True),
    ("contains(l, :n3)", True),
    ("contains(l, :mk)", True),
    ("contains(l, :a)", False),
    ("contains(n, :n10)", False),
    ("contains(m, :x)", False),
    ("contains(nope, :x)", False),
    ("size(s) = :n5", True),
    ("size(blank) = :n5", False),
    ("size(b) = :n3", True),
    ("size(accent) = :n5", True),
    ("size(ss) < :n3", True),
    ("size(ns) = :n2", True),
    ("size(l) = :n3", True),
    ("size(m) > :n3", False),
    ("size(n) = :n10", False),
    ("size(t) = :n10", False),
    ("size(nope) = :n3", False),
    ("size(nope) <> :n3", True),
    # logic
    ("s = :hello AND n = :n10", True),
    ("s = :hello AND n = :n5", False),
    ("s = :x OR n = :n10", True),
    ("NOT s = :x", True),
    ("NOT (s = :hello AND n = :n10)", False),
    ("NOT attribute_exists(nope) AND (n < :n3 OR s = :hello)", True),
]


@pytest.mark.parametrize(("text", "expected"), CASES)
def test_condition(text: str, expected: bool) -> None:
    values = {k: v for k, v in VALUES.items() if _uses(text, k)}
    ctx = ExpressionContext({"#list": "list"} if "#list" in text else None, values or None)
    condition = ctx.condition(text, "ConditionExpression")
    ctx.check_unused()
    assert condition.matches(ITEM) is expected


def _uses(text: str, ref: str) -> bool:
    return re.search(re.escape(ref) + r"(?![A-Za-z0-9_])", text) is not None


def test_no_item() -> None:
    ctx = ExpressionContext(None, {":a": {"S": "a"}})
    assert ctx.condition("attribute_not_exists(pk)", "ConditionExpression").matches({})
    assert not ctx.condition("attribute_exists(pk)", "ConditionExpression").matches({})
    assert ctx.condition("pk <> :a", "ConditionExpression").matches({})


def test_compiled_closure_is_shared_but_bindings_are_not() -> None:
    text = "#k = :v"
    first = ExpressionContext({"#k": "a"}, {":v": {"S": "1"}}).condition(text, "FilterExpression")
    second = ExpressionContext({"#k": "b"}, {":v": {"S": "2"}}).condition(text, "FilterExpression")
    item = {"a": {"S": "1"}, "b": {"S": "2"}}
    assert first.matches(item) and second.matches(item)
    assert not first.matches({"a": {"S": "2"}})
