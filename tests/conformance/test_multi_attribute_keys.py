"""Multi-attribute GSI keys (DynamoDB, November 2025): up to four HASH and four RANGE attributes.

Developer Guide, "Multi-attribute keys pattern" / GSI.MultiAttributeKeys: a GSI's partition
key and sort key may each be made of up to four attributes. A Query gives ``=`` on every
partition attribute and on the sort attributes left to right without a gap; only the last
sort attribute it names may carry a range condition (<, <=, >, >=, BETWEEN, begins_with).
Items sort by the sort attributes compared one after another (a tuple, not a concatenation).
An item missing any key attribute is not in the index. The query texts are the ones an
AWS-verified conformance suite asserts (eu-west-2 and us-east-1, 2026: "RANGE key attributes
b must have equality conditions specified ..."), the CreateTable texts come from the
ack-api-quirks catalogue of live DynamoDB messages.

botocore's model still caps a KeySchema at two elements, so the requests go through a client
with parameter validation off (as an up-to-date SDK would send them).
"""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import boto3
import pytest
from botocore.config import Config
from ddbtest import REGION, Backend, Item, raises

MOTO_DIFFERENCES = {
    "multi-attribute": "moto 5.2.5 has no multi-attribute GSI keys (it accepts at most one "
    "HASH and one RANGE element per index).",
}
pytestmark = pytest.mark.moto_differs("multi-attribute")

ERR = "ValidationException"
INVALID = "One or more parameter values were invalid: "


def _schema(hashes: list[str], ranges: list[str]) -> list[dict[str, str]]:
    return [{"AttributeName": n, "KeyType": "HASH"} for n in hashes] + [
        {"AttributeName": n, "KeyType": "RANGE"} for n in ranges
    ]


@pytest.fixture
def raw(db: Backend) -> Any:
    """A client without botocore's parameter checks (its model predates multi-attribute keys)."""
    return boto3.client("dynamodb", region_name=REGION, config=Config(parameter_validation=False))


def _create(raw: Any, indexes: list[Any], types: dict[str, str], name: str = "tbl") -> Any:
    return raw.create_table(
        TableName=name,
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        AttributeDefinitions=[
            {"AttributeName": n, "AttributeType": t} for n, t in {"pk": "S", **types}.items()
        ],
        BillingMode="PAY_PER_REQUEST",
        GlobalSecondaryIndexes=indexes,
    )


def _gsi(name: str, hashes: list[str], ranges: list[str], projection: str = "ALL") -> Any:
    return {
        "IndexName": name,
        "KeySchema": _schema(hashes, ranges),
        "Projection": {"ProjectionType": projection},
    }


# --------------------------------------------------------------------------- CreateTable


def test_create_with_two_to_four_hash_and_one_to_four_range_attributes(raw: Any) -> None:
    shapes = [(h, r) for h in (1, 2, 3, 4) for r in (0, 1, 2, 3, 4)]
    for hashes, ranges in shapes:
        hs = [f"h{i}" for i in range(hashes)]
        rs = [f"r{i}" for i in range(ranges)]
        name = f"t{hashes}{ranges}"
        types = {n: "S" for n in hs} | {n: "N" for n in rs}
        _create(raw, [_gsi("idx", hs, rs)], types, name=name)
        (index,) = raw.describe_table(TableName=name)["Table"]["GlobalSecondaryIndexes"]
        assert index["KeySchema"] == _schema(hs, rs), name
        assert index["IndexStatus"] == "ACTIVE"


def test_more_than_four_hash_or_range_attributes_rejected(raw: Any) -> None:
    names = [f"a{i}" for i in range(5)]
    types = {n: "S" for n in names} | {"b": "S"}
    for kind, hashes, ranges in (("HASH", names, []), ("RANGE", ["b"], names)):
        with raises(
            ERR,
            INVALID + f"The KeySchema exceeds the maximum allowed number of {kind} key attributes",
        ):
            _create(raw, [_gsi("idx", hashes, ranges)], types)
    assert raw.list_tables()["TableNames"] == []


def test_hash_after_range_rejected(raw: Any) -> None:
    schema = _schema(["h1"], ["r1"]) + _schema(["h2"], [])
    with raises(
        ERR, INVALID + "All HASH key attributes must precede RANGE key attributes in the KeySchema"
    ):
        _create(
            raw,
            [{"IndexName": "idx", "KeySchema": schema, "Projection": {"ProjectionType": "ALL"}}],
            {"h1": "S", "r1": "S", "h2": "S"},
        )


def test_one_attribute_twice_rejected(raw: Any) -> None:
    with raises(ERR, "The KeySchema contains multiple key attributes with the same name"):
        _create(raw, [_gsi("idx", ["h1", "h2"], ["h1"])], {"h1": "S", "h2": "S"})


def test_undefined_attribute_of_a_multi_attribute_key(raw: Any) -> None:
    with raises(
        ERR,
        INVALID + "Some index key attributes are not defined in AttributeDefinitions. "
        "Keys: [h1, h2, r1], AttributeDefinitions: [pk, h1, r1]",
    ):
        _create(raw, [_gsi("idx", ["h1", "h2"], ["r1"])], {"h1": "S", "r1": "S"})


def test_lsi_keeps_one_hash_and_one_range_attribute(raw: Any) -> None:
    # Multi-attribute keys are a GSI feature; an LSI's KeySchema stays at two elements.
    with raises(
        ERR,
        "1 validation error detected: Value '[KeySchemaElement(attributeName=pk, keyType=HASH), "
        "KeySchemaElement(attributeName=a, keyType=RANGE), KeySchemaElement(attributeName=b, "
        "keyType=RANGE)]' at 'localSecondaryIndexes.1.member.keySchema' failed to satisfy "
        "constraint: Member must have length less than or equal to 2",
    ):
        raw.create_table(
            TableName="tbl",
            KeySchema=[
                {"AttributeName": "pk", "KeyType": "HASH"},
                {"AttributeName": "sk", "KeyType": "RANGE"},
            ],
            AttributeDefinitions=[
                {"AttributeName": n, "AttributeType": "S"} for n in ("pk", "sk", "a", "b")
            ],
            BillingMode="PAY_PER_REQUEST",
            LocalSecondaryIndexes=[
                {
                    "IndexName": "lsi",
                    "KeySchema": _schema(["pk"], ["a", "b"]),
                    "Projection": {"ProjectionType": "ALL"},
                }
            ],
        )


# --------------------------------------------------------------------------- Query


@pytest.fixture
def orders(db: Backend, raw: Any) -> list[Item]:
    """``tbl`` with GSI ``gsi`` (HASH h; RANGE a S, b S, c N, d S) and ``byTR`` (HASH t, r N).

    Items under h = o1, as the AWS-verified suite has them, plus tuple-order traps:
    a = "T" / "TT" (a concatenation "T"+"live" > "TT"+"a" would misorder them) and c
    numbers (9 < 10 numerically, not as text).
    """
    _create(
        raw,
        [
            _gsi("gsi", ["h"], ["a", "b", "c", "d"]),
            _gsi("byTR", ["t", "r"], ["c"], projection="KEYS_ONLY"),
        ],
        {"h": "S", "a": "S", "b": "S", "c": "N", "d": "S", "t": "S", "r": "N"},
    )
    rows = [
        ("p1", "T", "live", 10, "r1"),
        ("p2", "T", "live", 9, "r2"),
        ("p3", "T", "live", 9, "r1"),
        ("p4", "T", "draft", 11, "r1"),
        ("p5", "F", "live", 9, "r0"),
        ("p6", "TT", "a", 1, "r9"),
        ("p7", "T", "live", None, "r1"),  # no c: not in gsi
    ]
    items: list[Item] = []
    for pk, a, b, c, d in rows:
        entry: Item = {"pk": {"S": pk}, "h": {"S": "o1"}, "a": {"S": a}, "b": {"S": b}}
        entry["d"] = {"S": d}
        if c is not None:
            entry["c"] = {"N": str(c)}
            entry["t"] = {"S": "acme"}
            entry["r"] = {"N": "1" if pk in ("p1", "p2", "p3") else "2"}
        items.append(entry)
    items.append(
        {
            "pk": {"S": "p8"},
            "h": {"S": "o2"},
            "a": {"S": "T"},
            "b": {"S": "x"},
            "c": {"N": "1"},
            "d": {"S": "z"},
        }
    )
    for entry in items:
        raw.put_item(TableName="tbl", Item=entry)
    return items


def _values(**values: Any) -> dict[str, Any]:
    return {f":{k}": {"N": str(v)} if isinstance(v, int) else {"S": v} for k, v in values.items()}


def _q(raw: Any, condition: str, index: str = "gsi", **extra: Any) -> list[str]:
    values = extra.pop("values")
    page = raw.query(
        TableName="tbl",
        IndexName=index,
        KeyConditionExpression=condition,
        ExpressionAttributeValues=values,
        **extra,
    )
    return [i["pk"]["S"] for i in page["Items"]]


# Tuple order of (a, b, c, d) under h = o1:
# p5 (F, live, 9, r0) < p4 (T, draft, 11, r1) < p3 (T, live, 9, r1) < p2 (T, live, 9, r2)
#   < p1 (T, live, 10, r1) < p6 (TT, a, 1, r9)
ORDER = ["p5", "p4", "p3", "p2", "p1", "p6"]


def test_partition_alone_returns_the_index_in_tuple_order(raw: Any, orders: list[Item]) -> None:
    assert _q(raw, "h = :h", values=_values(h="o1")) == ORDER
    assert _q(raw, "h = :h", values=_values(h="o1"), ScanIndexForward=False) == ORDER[::-1]
    assert _q(raw, "h = :h", values=_values(h="o2")) == ["p8"]


QUERY_CASES: list[tuple[str, dict[str, Any], list[str]]] = [
    ("h = :h AND a = :a", {"a": "T"}, ["p4", "p3", "p2", "p1"]),
    ("h = :h AND a = :a AND b = :b", {"a": "T", "b": "live"}, ["p3", "p2", "p1"]),
    ("h = :h AND a = :a AND b = :b AND c = :c", {"a": "T", "b": "live", "c": 9}, ["p3", "p2"]),
    ("h = :h AND a = :a AND b = :b AND c > :c", {"a": "T", "b": "live", "c": 9}, ["p1"]),
    (
        "h = :h AND a = :a AND b = :b AND c >= :c",
        {"a": "T", "b": "live", "c": 9},
        ["p3", "p2", "p1"],
    ),
    ("h = :h AND a = :a AND b = :b AND c < :c", {"a": "T", "b": "live", "c": 10}, ["p3", "p2"]),
    ("h = :h AND a = :a AND b = :b AND c <= :c", {"a": "T", "b": "live", "c": 9}, ["p3", "p2"]),
    (
        "h = :h AND a = :a AND b = :b AND c BETWEEN :x AND :y",
        {"a": "T", "b": "live", "x": 9, "y": 9},
        ["p3", "p2"],
    ),
    (
        "h = :h AND a = :a AND b = :b AND c = :c AND begins_with(d, :d)",
        {"a": "T", "b": "live", "c": 9, "d": "r"},
        ["p3", "p2"],
    ),
    (
        "h = :h AND a = :a AND b = :b AND c = :c AND d BETWEEN :x AND :y",
        {"a": "T", "b": "live", "c": 9, "x": "r1", "y": "r1"},
        ["p3"],
    ),
    (
        "h = :h AND a = :a AND b = :b AND c = :c AND d > :d",
        {"a": "T", "b": "live", "c": 9, "d": "r1"},
        ["p2"],
    ),
    ("h = :h AND a = :a AND b < :b", {"a": "T", "b": "live"}, ["p4"]),
    ("h = :h AND a > :a", {"a": "T"}, ["p6"]),
    ("h = :h AND a >= :a", {"a": "T"}, ["p4", "p3", "p2", "p1", "p6"]),
    ("h = :h AND begins_with(a, :a)", {"a": "T"}, ["p4", "p3", "p2", "p1", "p6"]),
    ("h = :h AND a BETWEEN :x AND :y", {"x": "A", "y": "T"}, ["p5", "p4", "p3", "p2", "p1"]),
    ("b = :b AND h = :h AND a = :a", {"a": "T", "b": "live"}, ["p3", "p2", "p1"]),
]


def test_equality_prefix_and_a_range_on_the_last_attribute(raw: Any, orders: list[Item]) -> None:
    for condition, values, expected in QUERY_CASES:
        avs = _values(h="o1", **values)
        assert _q(raw, condition, values=avs) == expected, condition
        assert _q(raw, condition, values=avs, ScanIndexForward=False) == expected[::-1], condition


def test_multi_attribute_partition_key(raw: Any, orders: list[Item]) -> None:
    # p2 and p3 share every index key attribute (c = 9): their relative order is not
    # specified by DynamoDB, so only the position of p1 (c = 10) is asserted.
    values = _values(t="acme", r=1)
    for condition in ("t = :t AND r = :r", "r = :r AND t = :t"):
        found = _q(raw, condition, "byTR", values=values)
        assert sorted(found[:2]) == ["p2", "p3"] and found[2:] == ["p1"]
    assert _q(raw, "t = :t AND r = :r", "byTR", values=_values(t="acme", r=2)) == ["p6", "p5", "p4"]
    page = raw.query(
        TableName="tbl",
        IndexName="byTR",
        KeyConditionExpression="t = :t AND r = :r AND c > :c",
        ExpressionAttributeValues=_values(t="acme", r=1, c=9),
    )
    # KEYS_ONLY: the index keys and the table key.
    assert page["Items"] == [
        {"pk": {"S": "p1"}, "t": {"S": "acme"}, "r": {"N": "1"}, "c": {"N": "10"}}
    ]


def test_missing_partition_attribute_rejected(raw: Any, orders: list[Item]) -> None:
    with raises(ERR, "Query condition missed key schema element: r"):
        _q(raw, "t = :t", "byTR", values=_values(t="acme"))
    with raises(ERR, "Query condition missed key schema element: t"):
        _q(raw, "r = :r AND c = :c", "byTR", values=_values(r=1, c=1))


def test_range_condition_on_a_partition_attribute_rejected(raw: Any, orders: list[Item]) -> None:
    # A part of a multi-attribute partition key names itself (see keycondition.py).
    with raises(ERR, "HASH key attributes r must have equality conditions"):
        _q(raw, "t = :t AND r > :r", "byTR", values=_values(t="acme", r=1))


def test_skipped_sort_attribute_rejected(raw: Any, orders: list[Item]) -> None:
    with raises(
        ERR,
        "RANGE key attributes b must have equality conditions specified in the query because "
        "a condition is present on key attribute c",
    ):
        _q(raw, "h = :h AND a = :a AND c = :c", values=_values(h="o1", a="T", c=9))
    with raises(
        ERR,
        "RANGE key attributes a must have equality conditions specified in the query because "
        "a condition is present on key attribute b",
    ):
        _q(raw, "h = :h AND b = :b", values=_values(h="o1", b="live"))


def test_range_condition_before_the_last_attribute_rejected(raw: Any, orders: list[Item]) -> None:
    # Live DynamoDB answers this with the same text as for a gap (AWS-verified suite).
    with raises(
        ERR,
        "RANGE key attributes b must have equality conditions specified in the query because "
        "a condition is present on key attribute c",
    ):
        _q(
            raw,
            "h = :h AND a = :a AND b > :b AND c = :c",
            values=_values(h="o1", a="T", b="live", c=9),
        )


def test_two_conditions_on_one_attribute_rejected(raw: Any, orders: list[Item]) -> None:
    with raises(ERR, "KeyConditionExpressions must only contain one condition per key"):
        _q(raw, "h = :h AND a > :x AND a < :y", values=_values(h="o1", x="A", y="Z"))


def test_sparse_multi_attribute_index(raw: Any, orders: list[Item]) -> None:
    scanned = raw.scan(TableName="tbl", IndexName="gsi")["Items"]
    assert sorted(i["pk"]["S"] for i in scanned) == sorted([*ORDER, "p8"])  # p7 has no c
    # Removing one sort attribute takes the item out; putting it back restores it.
    key = {"pk": {"S": "p3"}}
    raw.update_item(TableName="tbl", Key=key, UpdateExpression="REMOVE d")
    assert "p3" not in _q(raw, "h = :h", values=_values(h="o1"))
    raw.update_item(
        TableName="tbl",
        Key=key,
        UpdateExpression="SET d = :d",
        ExpressionAttributeValues={":d": {"S": "r1"}},
    )
    assert _q(raw, "h = :h", values=_values(h="o1")) == ORDER


def test_wrong_type_in_one_key_attribute_rejected(
    db: Backend, raw: Any, orders: list[Item]
) -> None:
    with raises(
        ERR, INVALID + "Type mismatch for Index Key c Expected: N Actual: S IndexName: byTR"
    ):
        raw.put_item(TableName="tbl", Item={"pk": {"S": "p9"}, "c": {"S": "x"}})
    with raises(
        ERR,
        "One or more parameter values are not valid. A value specified for a secondary index "
        "key is not supported. The AttributeValue for a key attribute cannot contain an empty "
        "string value. IndexName: gsi, IndexKey: b",
    ):
        raw.put_item(TableName="tbl", Item={"pk": {"S": "p9"}, "b": {"S": ""}})
    assert raw.get_item(TableName="tbl", Key={"pk": {"S": "p9"}}).get("Item") is None


def _pages(raw: Any, request: dict[str, Any]) -> Iterator[Any]:
    for _ in range(100):
        page = raw.query(**request)
        yield page
        if "LastEvaluatedKey" not in page:
            return
        request = {**request, "ExclusiveStartKey": page["LastEvaluatedKey"]}
    raise AssertionError("kept returning LastEvaluatedKey")


def test_pages_carry_every_key_attribute_and_stitch(raw: Any, orders: list[Item]) -> None:
    for forward in (True, False):
        for condition, values, expected in [*QUERY_CASES[:2], ("h = :h", {}, ORDER)]:
            request = {
                "TableName": "tbl",
                "IndexName": "gsi",
                "KeyConditionExpression": condition,
                "ExpressionAttributeValues": _values(h="o1", **values),
                "ScanIndexForward": forward,
                "Limit": 2,
            }
            seen: list[str] = []
            for page in _pages(raw, request):
                seen.extend(i["pk"]["S"] for i in page["Items"])
                if "LastEvaluatedKey" in page:
                    assert sorted(page["LastEvaluatedKey"]) == ["a", "b", "c", "d", "h", "pk"]
            assert seen == (expected if forward else expected[::-1]), condition


def test_start_key_missing_an_index_attribute_rejected(raw: Any, orders: list[Item]) -> None:
    start = {
        "pk": {"S": "p3"},
        "h": {"S": "o1"},
        "a": {"S": "T"},
        "b": {"S": "live"},
        "c": {"N": "9"},
    }
    with raises(
        ERR,
        "The provided starting key is invalid: The provided key element does not match the schema",
    ):
        raw.query(
            TableName="tbl",
            IndexName="gsi",
            KeyConditionExpression="h = :h",
            ExpressionAttributeValues=_values(h="o1"),
            ExclusiveStartKey=start,
        )


def test_numbers_in_a_multi_attribute_key_compare_numerically(raw: Any, orders: list[Item]) -> None:
    for n in ("-1", "1E+1", "0.5", "100", "9.99"):
        raw.put_item(
            TableName="tbl",
            Item={
                "pk": {"S": f"n{n}"},
                "h": {"S": "o3"},
                "a": {"S": "x"},
                "b": {"S": "y"},
                "c": {"N": n},
                "d": {"S": "z"},
            },
        )
    page = raw.query(
        TableName="tbl",
        IndexName="gsi",
        KeyConditionExpression="h = :h AND a = :a AND b = :b",
        ExpressionAttributeValues=_values(h="o3", a="x", b="y"),
    )
    numbers = [Decimal(i["c"]["N"]) for i in page["Items"]]
    assert numbers == sorted(numbers)
    assert len(numbers) == 5
