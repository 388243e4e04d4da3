"""Secondary indexes under random writes: always the projection of the table, always queryable.

A hypothesis state machine drives ``LocalEngine.call`` with random PutItem, UpdateItem,
DeleteItem, BatchWriteItem and TransactWriteItems on a table with several GSIs and LSIs
(projections ALL, KEYS_ONLY and INCLUDE; sparse keys; two indexes sharing a key attribute; a
multi-attribute GSI). After every step each index's stored entries must equal the projection
of the table's items computed from scratch, and a random Query on any index must return
exactly what a brute-force filter and sort of the table gives, in both directions, with
Limit-sized pages stitching back to the same result.

Writes that DynamoDB rejects (an index key of the wrong type) are sent too: they must fail
with a ValidationException and change nothing.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule

from singletable.backends.local import DynamoDBError, LocalEngine

EXAMPLES = int(os.environ.get("SINGLETABLE_FUZZ_EXAMPLES", "40"))


@dataclass(frozen=True)
class Index:
    """What the test knows of an index: keys (name, type) and projected names (None: ALL)."""

    name: str
    hashes: tuple[tuple[str, str], ...]
    ranges: tuple[tuple[str, str], ...]
    include: tuple[str, ...] | None  # None: ALL; () : KEYS_ONLY
    is_global: bool = True

    def projected(self, item: dict[str, Any]) -> dict[str, Any]:
        if self.include is None:
            return item
        keep = {"PK", "SK", *self.include} | {n for n, _ in self.hashes + self.ranges}
        return {k: v for k, v in item.items() if k in keep}

    def holds(self, item: dict[str, Any]) -> bool:
        return all(name in item for name, _ in self.hashes + self.ranges)


INDEXES = [
    Index("gAll", (("g", "S"),), (("n", "N"),), None),
    Index("gKeys", (("g", "S"),), (), ()),  # shares g with gAll: many items per key
    Index("gIncl", (("h", "N"),), (("s", "S"),), ("x",)),
    Index("gMulti", (("g", "S"), ("h", "N")), (("s", "S"), ("n", "N")), ("y",)),
    Index("lIncl", (("PK", "S"),), (("s", "S"),), ("x",), is_global=False),
    Index("lAll", (("PK", "S"),), (("n", "N"),), None, is_global=False),
]
# Added and dropped by UpdateTable during a run.
LATE = Index("late", (("s", "S"),), (("h", "N"),), ("y",))
TYPES = {"g": "S", "h": "N", "s": "S", "n": "N"}

DOMAIN: dict[str, list[dict[str, Any]]] = {
    "g": [{"S": v} for v in ("a", "b")],
    "h": [{"N": v} for v in ("1", "2")],
    "s": [{"S": v} for v in ("a", "ab", "b", "é")],
    "n": [{"N": v} for v in ("-1", "0", "1.5", "2", "10")],
    "x": [{"S": "x1"}, {"N": "7"}, {"L": [{"S": "l"}]}],
    "y": [{"S": "y1"}, {"BOOL": True}],
    "z": [{"S": "zz" * 10}],
}
PKS = ["p0", "p1", "p2"]
SKS = ["0", "1", "2"]


def _key(pk: str, sk: str) -> dict[str, Any]:
    return {"PK": {"S": pk}, "SK": {"N": sk}}


def _order(value: dict[str, str]) -> Any:
    kind, raw = next(iter(value.items()))
    return Decimal(raw) if kind == "N" else raw.encode()


def _canon(item: dict[str, Any]) -> str:
    return repr(sorted(item.items()))


keys = st.tuples(st.sampled_from(PKS), st.sampled_from(SKS))
attrs = st.fixed_dictionaries(
    {},
    optional={name: st.sampled_from(values) for name, values in DOMAIN.items()},
)
bad_value = st.sampled_from(
    [
        ("g", {"N": "1"}),
        ("h", {"S": "1"}),
        ("s", {"N": "3"}),
        ("n", {"S": "n"}),
        ("g", {"S": ""}),
        ("s", {"NULL": True}),
    ]
)


class IndexMachine(RuleBasedStateMachine):
    """Random writes against the engine; the model is the table itself, read back in full."""

    def __init__(self) -> None:
        super().__init__()
        self.engine = LocalEngine(ttl_sweep_interval=None)
        self.engine.call("CreateTable", _create_request())
        self.indexes = list(INDEXES)  # plus LATE while UpdateTable has it added

    def teardown(self) -> None:
        self.engine.close()

    # ----------------------------------------------------------------- helpers

    def table_items(self) -> list[dict[str, Any]]:
        table = self.engine.tables["tbl"]
        return [dict(item) for _, _, item in table.store.scan()]

    def call_rejected(self, op: str, request: dict[str, Any]) -> None:
        before = sorted(map(_canon, self.table_items()))
        try:
            self.engine.call(op, request)
        except DynamoDBError as error:
            assert error.code in ("ValidationException", "TransactionCanceledException"), error
        else:
            raise AssertionError(f"{op} with a bad index key was accepted: {request}")
        assert sorted(map(_canon, self.table_items())) == before

    # ----------------------------------------------------------------- writes

    @rule(key=keys, values=attrs)
    def put(self, key: tuple[str, str], values: dict[str, Any]) -> None:
        self.engine.call("PutItem", {"TableName": "tbl", "Item": {**_key(*key), **values}})

    @rule(key=keys, values=attrs, remove=st.sets(st.sampled_from(sorted(DOMAIN)), max_size=3))
    def update(self, key: tuple[str, str], values: dict[str, Any], remove: set[str]) -> None:
        remove -= set(values)
        request = _update_request(key, values, remove)
        if request is not None:
            self.engine.call("UpdateItem", request)

    @rule(key=keys)
    def delete(self, key: tuple[str, str]) -> None:
        self.engine.call("DeleteItem", {"TableName": "tbl", "Key": _key(*key)})

    @rule(
        writes=st.dictionaries(keys, st.none() | attrs, min_size=1, max_size=6),
    )
    def batch(self, writes: dict[tuple[str, str], dict[str, Any] | None]) -> None:
        requests = [
            {"DeleteRequest": {"Key": _key(*key)}}
            if values is None
            else {"PutRequest": {"Item": {**_key(*key), **values}}}
            for key, values in writes.items()
        ]
        response = self.engine.call("BatchWriteItem", {"RequestItems": {"tbl": requests}})
        assert response["UnprocessedItems"] == {}

    @rule(
        writes=st.dictionaries(
            keys,
            st.tuples(st.sampled_from(["put", "update", "delete"]), attrs),
            min_size=1,
            max_size=4,
        )
    )
    def transact(self, writes: dict[tuple[str, str], tuple[str, dict[str, Any]]]) -> None:
        actions = []
        for key, (kind, values) in writes.items():
            if kind == "put":
                actions.append({"Put": {"TableName": "tbl", "Item": {**_key(*key), **values}}})
            elif kind == "delete":
                actions.append({"Delete": {"TableName": "tbl", "Key": _key(*key)}})
            else:
                update = _update_request(key, values or {"z": DOMAIN["z"][0]}, set())
                assert update is not None
                actions.append({"Update": update})
        self.engine.call("TransactWriteItems", {"TransactItems": actions})

    @rule(key=keys, values=attrs, bad=bad_value, how=st.sampled_from(["put", "update", "batch"]))
    def rejected_write(
        self, key: tuple[str, str], values: dict[str, Any], bad: tuple[str, Any], how: str
    ) -> None:
        name, value = bad
        item = {**_key(*key), **values, name: value}
        if how == "put":
            self.call_rejected("PutItem", {"TableName": "tbl", "Item": item})
        elif how == "update":
            request = _update_request(key, {name: value}, set())
            assert request is not None
            self.call_rejected("UpdateItem", request)
        else:
            other = {**_key("p9", "9"), "g": {"S": "a"}}
            self.call_rejected(
                "BatchWriteItem",
                {
                    "RequestItems": {
                        "tbl": [{"PutRequest": {"Item": other}}, {"PutRequest": {"Item": item}}]
                    }
                },
            )

    @rule()
    def add_or_drop_a_gsi(self) -> None:
        """UpdateTable: create LATE (backfilled from the items) or delete it again."""
        if LATE in self.indexes:
            update: dict[str, Any] = {"Delete": {"IndexName": LATE.name}}
            self.indexes.remove(LATE)
        else:
            update = {
                "Create": {
                    "IndexName": LATE.name,
                    "KeySchema": [
                        {"AttributeName": "s", "KeyType": "HASH"},
                        {"AttributeName": "h", "KeyType": "RANGE"},
                    ],
                    "Projection": {"ProjectionType": "INCLUDE", "NonKeyAttributes": ["y"]},
                }
            }
            self.indexes.append(LATE)
        self.engine.call(
            "UpdateTable",
            {
                "TableName": "tbl",
                "AttributeDefinitions": [
                    {"AttributeName": "s", "AttributeType": "S"},
                    {"AttributeName": "h", "AttributeType": "N"},
                ],
                "GlobalSecondaryIndexUpdates": [update],
            },
        )

    # ----------------------------------------------------------------- checks

    @invariant()
    def indexes_are_projections_of_the_table(self) -> None:
        items = self.table_items()
        table = self.engine.tables["tbl"]
        names = {index.name for index in table.indexes}
        assert names == {spec.name for spec in self.indexes}
        for spec in self.indexes:
            index = table.index(spec.name)
            assert index is not None
            stored = sorted(_canon(dict(entry)) for _, _, entry in index.store.scan())
            expected = sorted(_canon(spec.projected(i)) for i in items if spec.holds(i))
            assert stored == expected, spec.name
            assert index.store.item_count == len(expected)

    @rule(data=st.data())
    def query_matches_brute_force(self, data: st.DataObject) -> None:
        spec = data.draw(st.sampled_from(self.indexes))
        names: dict[str, str] = {}
        values: dict[str, Any] = {}
        clauses = []
        wanted: list[Any] = []  # predicates on the item

        def placeholder(value: Any) -> str:
            token = f":v{len(values)}"
            values[token] = value
            return token

        for name, _ in spec.hashes:
            names[f"#{name}"] = name
            domain = DOMAIN[name] if name != "PK" else [{"S": p} for p in PKS]
            value = data.draw(st.sampled_from(domain))
            clauses.append(f"#{name} = {placeholder(value)}")
            wanted.append(lambda i, n=name, v=value: i.get(n) == v)
        used = data.draw(st.integers(0, len(spec.ranges)))
        for position, (name, kind) in enumerate(spec.ranges[:used]):
            names[f"#{name}"] = name
            last = position == used - 1
            ops = ["="] + (["<", "<=", ">", ">=", "BETWEEN"] if last else [])
            if last and kind == "S":
                ops.append("begins_with")
            op = data.draw(st.sampled_from(ops))
            a = data.draw(st.sampled_from(DOMAIN[name] + ([{"S": "a"}] if kind == "S" else [])))
            clauses.append(_clause(name, op, a, placeholder, data, kind))
            wanted.append(_predicate(name, op, a, values, clauses[-1]))
        condition = " AND ".join(data.draw(st.permutations(clauses)))
        request = {
            "TableName": "tbl",
            "IndexName": spec.name,
            "KeyConditionExpression": condition,
            "ExpressionAttributeNames": names,
            "ExpressionAttributeValues": values,
        }
        matches = [
            spec.projected(i)
            for i in self.table_items()
            if spec.holds(i) and all(test(i) for test in wanted)
        ]
        range_names = [n for n, _ in spec.ranges]
        for forward in (True, False):
            whole = self.engine.call("Query", {**request, "ScanIndexForward": forward})
            got = whole["Items"]
            assert "LastEvaluatedKey" not in whole
            assert sorted(map(_canon, got)) == sorted(map(_canon, matches)), condition
            order = [tuple(_order(i[n]) for n in range_names) for i in got]
            assert order == sorted(order, reverse=not forward), condition
            limit = data.draw(st.integers(1, 4))
            assert _stitched(self.engine, {**request, "ScanIndexForward": forward}, limit) == got


def _clause(name: str, op: str, a: Any, placeholder: Any, data: st.DataObject, kind: str) -> str:
    if op == "begins_with":
        return f"begins_with(#{name}, {placeholder(a)})"
    if op == "BETWEEN":
        b = data.draw(st.sampled_from(DOMAIN[name]))
        lo, hi = sorted([a, b], key=_order)
        return f"#{name} BETWEEN {placeholder(lo)} AND {placeholder(hi)}"
    return f"#{name} {op} {placeholder(a)}"


def _predicate(name: str, op: str, a: Any, values: dict[str, Any], clause: str) -> Any:
    if op == "begins_with":
        return lambda i: name in i and i[name]["S"].startswith(a["S"])
    if op == "BETWEEN":
        lo, hi = (values[t] for t in clause.split() if t.startswith(":"))
        return lambda i: name in i and _order(lo) <= _order(i[name]) <= _order(hi)
    compare: Callable[[Any, Any], bool] = {
        "=": lambda x, y: x == y,
        "<": lambda x, y: x < y,
        "<=": lambda x, y: x <= y,
        ">": lambda x, y: x > y,
        ">=": lambda x, y: x >= y,
    }[op]
    return lambda i: name in i and compare(_order(i[name]), _order(a))


def _stitched(engine: LocalEngine, request: dict[str, Any], limit: int) -> list[Any]:
    items: list[Any] = []
    request = {**request, "Limit": limit}
    for _ in range(100):
        page = engine.call("Query", request)
        items.extend(page["Items"])
        assert len(page["Items"]) <= limit
        if "LastEvaluatedKey" not in page:
            return items
        request["ExclusiveStartKey"] = page["LastEvaluatedKey"]
    raise AssertionError("Query kept returning LastEvaluatedKey")


def _update_request(
    key: tuple[str, str], values: dict[str, Any], remove: set[str]
) -> dict[str, Any] | None:
    names: dict[str, str] = {}
    avs: dict[str, Any] = {}
    sets = []
    for i, (name, value) in enumerate(sorted(values.items())):
        names[f"#a{i}"] = name
        avs[f":a{i}"] = value
        sets.append(f"#a{i} = :a{i}")
    removes = []
    for i, name in enumerate(sorted(remove)):
        names[f"#r{i}"] = name
        removes.append(f"#r{i}")
    expression = " ".join(
        part
        for part in (
            "SET " + ", ".join(sets) if sets else "",
            "REMOVE " + ", ".join(removes) if removes else "",
        )
        if part
    )
    if not expression:
        return None
    request: dict[str, Any] = {
        "TableName": "tbl",
        "Key": _key(*key),
        "UpdateExpression": expression,
        "ExpressionAttributeNames": names,
    }
    if avs:
        request["ExpressionAttributeValues"] = avs
    return request


def _create_request() -> dict[str, Any]:
    def schema(spec: Index) -> list[dict[str, str]]:
        return [{"AttributeName": n, "KeyType": "HASH"} for n, _ in spec.hashes] + [
            {"AttributeName": n, "KeyType": "RANGE"} for n, _ in spec.ranges
        ]

    def projection(spec: Index) -> dict[str, Any]:
        if spec.include is None:
            return {"ProjectionType": "ALL"}
        if not spec.include:
            return {"ProjectionType": "KEYS_ONLY"}
        return {"ProjectionType": "INCLUDE", "NonKeyAttributes": list(spec.include)}

    members = [
        {"IndexName": s.name, "KeySchema": schema(s), "Projection": projection(s)} for s in INDEXES
    ]
    return {
        "TableName": "tbl",
        "KeySchema": [
            {"AttributeName": "PK", "KeyType": "HASH"},
            {"AttributeName": "SK", "KeyType": "RANGE"},
        ],
        "AttributeDefinitions": [
            {"AttributeName": "PK", "AttributeType": "S"},
            {"AttributeName": "SK", "AttributeType": "N"},
        ]
        + [{"AttributeName": n, "AttributeType": t} for n, t in TYPES.items()],
        "BillingMode": "PAY_PER_REQUEST",
        "GlobalSecondaryIndexes": [m for m, s in zip(members, INDEXES, strict=True) if s.is_global],
        "LocalSecondaryIndexes": [
            m for m, s in zip(members, INDEXES, strict=True) if not s.is_global
        ],
    }


IndexMachine.TestCase.settings = settings(
    max_examples=EXAMPLES,
    stateful_step_count=25,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
TestIndexMachine = IndexMachine.TestCase
