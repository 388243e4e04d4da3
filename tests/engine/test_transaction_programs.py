"""Compiled TransactWriteItems programs (``_tx_programs``) answer exactly as the general path.

Two identical engines get the same requests: the *fast* engine runs a request of a
shape it has seen through the shape's program, the *general* one never does (its
program lookup is switched off). After every request the answers (response, or
error code, message, extra members such as CancellationReasons) must be the same,
and so must both tables, the index and the tables' sizes. Hypothesis draws the
transactions from a few shapes (so that shapes repeat, with other values) with good
and bad items, keys, values, tokens and options; a spy checks that the programs
really answered many requests.
"""

from __future__ import annotations

import copy
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from gsi_table import ranged_gsi_table_request
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from singletable.backends.local import LocalEngine
from singletable.backends.local import _transactions as transactions
from singletable.backends.local import _tx_programs as programs
from singletable.backends.local.errors import DynamoDBError

TABLE = "txs"  # PK, SK strings; gsi on GPK (S), GSK (N), projecting ALL
NUMBERED = "tnum"  # PK a number


def _engine(path: Path | None = None) -> LocalEngine:
    engine = LocalEngine(path=path, ttl_sweep_interval=None)
    engine.call("CreateTable", ranged_gsi_table_request(TABLE))
    engine.call(
        "CreateTable",
        {
            "TableName": NUMBERED,
            "BillingMode": "PAY_PER_REQUEST",
            "AttributeDefinitions": [{"AttributeName": "PK", "AttributeType": "N"}],
            "KeySchema": [{"AttributeName": "PK", "KeyType": "HASH"}],
        },
    )
    for pk in ("a", "b"):
        engine.call(
            "PutItem",
            {
                "TableName": TABLE,
                "Item": {
                    "PK": {"S": pk},
                    "SK": {"S": "x"},
                    "GPK": {"S": "g"},
                    "GSK": {"N": "1"},
                    "count": {"N": "0"},
                    "status": {"S": "new"},
                    "tags": {"SS": ["a", "b"]},
                },
            },
        )
    engine.call("PutItem", {"TableName": NUMBERED, "Item": {"PK": {"N": "1"}, "n": {"N": "5"}}})
    return engine


class _Paths:
    """Two engines, one never running programs; counts the programs' answers."""

    def __init__(self, path: Path | None = None) -> None:
        programs._PROGRAMS.clear()
        self.fast, self.general = _engine(path), _engine()
        self.answered = 0

    @contextmanager
    def installed(self, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
        real_lookup = transactions.program_for
        real_run = transactions._by_program
        general = self.general

        def program_for(engine: LocalEngine, request: dict[str, Any]) -> Any:
            return None if engine is general else real_lookup(engine, request)

        def by_program(*args: Any) -> Any:
            response = real_run(*args)
            self.answered += response is not None
            return response

        with monkeypatch.context() as patch:
            patch.setattr(transactions, "program_for", program_for)
            patch.setattr(transactions, "_by_program", by_program)
            yield

    def same(self, request: dict[str, Any]) -> Any:
        got = _outcome(self.fast, "TransactWriteItems", request)
        expected = _outcome(self.general, "TransactWriteItems", request)
        assert got == expected, request
        self.same_tables()
        return got

    def same_tables(self) -> None:
        for table in (TABLE, NUMBERED):
            described = [
                engine.call("DescribeTable", {"TableName": table})["Table"]
                for engine in (self.fast, self.general)
            ]
            for member in ("TableSizeBytes", "ItemCount"):
                assert described[0][member] == described[1][member]
            scan = {"TableName": table}
            assert _outcome(self.fast, "Scan", scan) == _outcome(self.general, "Scan", scan)
        index = {"TableName": TABLE, "IndexName": "gsi"}
        assert _outcome(self.fast, "Scan", index) == _outcome(self.general, "Scan", index)


def _outcome(engine: LocalEngine, operation: str, request: dict[str, Any]) -> Any:
    try:
        return ("ok", engine.call(operation, copy.deepcopy(request)))
    except DynamoDBError as error:
        return ("error", error.code, error.message, error.extra, error.request_validation)


# --------------------------------------------------------------------------- values

KEYS = st.sampled_from(
    [
        {"PK": {"S": "a"}, "SK": {"S": "x"}},
        {"PK": {"S": "b"}, "SK": {"S": "x"}},
        {"PK": {"S": "c"}, "SK": {"S": "x"}},
        {"PK": {"S": "d"}, "SK": {"S": "y"}},
        {"PK": {"S": "a"}, "SK": {"S": "x"}},
        {"PK": {"S": "c"}, "SK": {"S": "x"}},
        {"PK": {"S": ""}, "SK": {"S": "x"}},
        {"PK": {"N": "1"}, "SK": {"S": "x"}},
        {"PK": {"S": "a"}},
        {"PK": {"S": "a"}, "SK": {"S": "x"}, "other": {"S": "y"}},
        {"PK": {"S": "é"}, "SK": {"S": "x"}},
        {"PK": {"S": "\ud800"}, "SK": {"S": "x"}},
        {"SK": {"S": "x"}, "PK": {"S": "b"}},
    ]
)
NUMBERED_KEYS = st.sampled_from(
    [
        {"PK": {"N": "1"}},
        {"PK": {"N": "2"}},
        {"PK": {"N": "1.0"}},  # the item of {"N": "1"}
        {"PK": {"N": "-7.5E3"}},
        {"PK": {"S": "1"}},
        {"PK": {"N": "x"}},
    ]
)
NUMBERS = st.sampled_from(["1", "-1", "0", "7", "1.5", "1e3", "abc", "", "1" + "0" * 40])
STRINGS = st.sampled_from(["x", "", "é", "new", "a" * 10, "\udc00"])
GOOD_VALUES: dict[str, st.SearchStrategy[Any]] = {
    "N": NUMBERS.map(lambda n: {"N": n}),
    "S": STRINGS.map(lambda s: {"S": s}),
    "SS": st.lists(st.sampled_from(["a", "b", "c"]), max_size=3).map(lambda m: {"SS": m}),
}
ODD_VALUES: st.SearchStrategy[Any] = st.sampled_from(
    [{"N": 1}, {"S": 5}, {"NULL": False}, {"NULL": True}, {"SS": []}, {}, None, {"BOOL": True}]
)


@st.composite
def _values(draw: st.DrawFn, kinds: dict[str, str]) -> dict[str, Any] | None:
    if not kinds:
        return None
    values = {}
    for ref, kind in kinds.items():
        odd = draw(st.integers(0, 9)) == 0
        values[ref] = draw(ODD_VALUES if odd else GOOD_VALUES[kind])
    return values


@st.composite
def _item(draw: st.DrawFn, key: dict[str, Any]) -> Any:
    if not isinstance(key, dict):
        return key
    item = dict(key)
    extra = draw(
        st.fixed_dictionaries(
            {},
            optional={
                "GPK": st.sampled_from([{"S": "g"}, {"S": "h"}, {"N": "1"}, {"S": ""}]),
                "GSK": st.sampled_from([{"N": "2"}, {"N": "3.50"}, {"S": "x"}]),
                "count": GOOD_VALUES["N"],
                "status": st.one_of(GOOD_VALUES["S"], ODD_VALUES),
                "payload": st.sampled_from([{"S": "p"}, {"S": "p" * 300_000}]),
                "big": st.sampled_from([{"S": "q" * 200_000}]),
            },
        )
    )
    item.update(extra)
    return item


# --------------------------------------------------------------------------- actions

# (kind, table, condition, update, names, {placeholder: kind of value})
_Template = tuple[str, str, str | None, str | None, dict[str, str] | None, dict[str, str]]
PUT: _Template = ("Put", TABLE, None, None, None, {})
PUT_NEW: _Template = ("Put", TABLE, "attribute_not_exists(PK)", None, None, {})
PUT_NUMBERED: _Template = ("Put", NUMBERED, None, None, None, {})
EXISTS: _Template = ("ConditionCheck", TABLE, "attribute_exists(PK)", None, None, {})
EXISTS_NUMBERED: _Template = ("ConditionCheck", NUMBERED, "attribute_exists(PK)", None, None, {})
KEY_EQUALS: _Template = ("ConditionCheck", TABLE, "SK = :s", None, None, {":s": "S"})
UNSTATUSED: _Template = (
    "ConditionCheck", TABLE, "attribute_not_exists(#s)", None, {"#s": "status"}, {}
)
BELOW: _Template = ("ConditionCheck", TABLE, "#c < :max", None, {"#c": "count"}, {":max": "N"})
COUNT: _Template = (
    "Update",
    TABLE,
    "attribute_exists(PK)",
    "SET #c = #c + :one, #s = :s",
    {"#c": "count", "#s": "status"},
    {":one": "N", ":s": "S"},
)
UNSET: _Template = ("Update", TABLE, None, "REMOVE #s DELETE tags :t", {"#s": "status"}, {":t": "SS"})
INDEXED: _Template = ("Update", TABLE, None, "SET GSK = :n, GPK = :g", None, {":n": "N", ":g": "S"})
ADD_NUMBERED: _Template = ("Update", NUMBERED, None, "ADD n :one", None, {":one": "N"})
DELETE: _Template = ("Delete", TABLE, None, None, None, {})
DELETE_IF: _Template = ("Delete", TABLE, "#s <> :s", None, {"#s": "status"}, {":s": "S"})

TRANSACTIONS: list[list[_Template]] = [
    [PUT, PUT, EXISTS],  # (the benchmark's)
    [COUNT, DELETE],
    [BELOW, PUT_NUMBERED],
    [ADD_NUMBERED, PUT_NEW],
    [PUT],
    [INDEXED, EXISTS_NUMBERED],
    [DELETE_IF, UNSET],
    [KEY_EQUALS, COUNT, PUT_NUMBERED],
    [UNSTATUSED, PUT],
]
TOKENS = st.sampled_from([None, None, "tok-1", "tok-2", "tok-3", "", "x" * 37, "é", "\ud800"])
OPTIONS = st.fixed_dictionaries(
    {},
    optional={
        "ReturnConsumedCapacity": st.sampled_from(["INDEXES", "TOTAL", "NONE", "BAD", None]),
        "ReturnItemCollectionMetrics": st.sampled_from(["SIZE", "NONE"]),
    },
)


@st.composite
def _action(draw: st.DrawFn, template: _Template) -> dict[str, Any]:
    kind, table, condition, update, names, kinds = template
    body: dict[str, Any] = {"TableName": table}
    key = draw(KEYS if table == TABLE else NUMBERED_KEYS)
    if kind == "Put":
        body["Item"] = draw(_item(key))
    else:
        body["Key"] = key
    if update is not None:
        body["UpdateExpression"] = update
    if condition is not None:
        body["ConditionExpression"] = condition
    if names is not None:
        body["ExpressionAttributeNames"] = names
    values = draw(_values(kinds))
    if values is not None:
        body["ExpressionAttributeValues"] = values
    if draw(st.integers(0, 3)) == 0:
        body["ReturnValuesOnConditionCheckFailure"] = draw(st.sampled_from(["ALL_OLD", "NONE"]))
    return {kind: body}


@st.composite
def _transaction(draw: st.DrawFn) -> dict[str, Any]:
    templates = draw(st.sampled_from(TRANSACTIONS))
    request: dict[str, Any] = {
        "TransactItems": [draw(_action(template)) for template in templates],
        **draw(OPTIONS),
    }
    token = draw(TOKENS)
    if token is not None:
        request["ClientRequestToken"] = token
    return request


@settings(
    max_examples=60,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(st.lists(_transaction(), min_size=5, max_size=30))
def test_programs_answer_as_the_general_path(
    monkeypatch: pytest.MonkeyPatch, requests: list[dict[str, Any]]
) -> None:
    paths = _Paths()
    with paths.installed(monkeypatch):
        for request in requests:
            paths.same(request)
            paths.same(request)  # (again: now by the shape's program, if it has one)


def _bench_request(n: int, check: str = "a") -> dict[str, Any]:
    puts = [
        {
            "Put": {
                "TableName": TABLE,
                "Item": {
                    "PK": {"S": f"C#{n}"},
                    "SK": {"S": f"O#{k}"},
                    "GPK": {"S": "g"},
                    "GSK": {"N": str(n)},
                    "payload": {"S": "x" * 900},
                },
            }
        }
        for k in range(2)
    ]
    key = {"PK": {"S": check}, "SK": {"S": "x"}}
    exists = {"TableName": TABLE, "Key": key, "ConditionExpression": "attribute_exists(PK)"}
    return {"TransactItems": [*puts, {"ConditionCheck": exists}]}


def test_the_programs_answer_repeated_requests(monkeypatch: pytest.MonkeyPatch) -> None:
    """The spy sees the programs answer: the comparisons above compare something."""
    paths = _Paths()
    with paths.installed(monkeypatch):
        for n in range(5):
            assert paths.same(_bench_request(n)) == ("ok", {})
        # a failed check: the general path's cancellation, nothing written
        cancelled = paths.same(_bench_request(9, check="zz"))
        assert cancelled[:2] == ("error", "TransactionCanceledException")
        assert [reason["Code"] for reason in cancelled[3]["CancellationReasons"]] == [
            "None",
            "None",
            "ConditionalCheckFailed",
        ]
        with_capacity = {**_bench_request(10), "ReturnConsumedCapacity": "INDEXES"}
        paths.same(with_capacity)
        consumed = paths.same({**with_capacity, "TransactItems": _bench_request(11)["TransactItems"]})
        assert consumed[1]["ConsumedCapacity"][0]["GlobalSecondaryIndexes"]["gsi"] == {
            "CapacityUnits": 2.0,
            "WriteCapacityUnits": 2.0,
        }
    assert paths.answered == 5  # (the first of each shape takes the general path)


def test_checks_of_large_items_are_charged_by_their_size(monkeypatch: pytest.MonkeyPatch) -> None:
    """A ConditionCheck costs the units of the item it reads (twice), whatever reads it."""
    paths = _Paths()
    with paths.installed(monkeypatch):
        for n, size in enumerate((10, 5000, 300_000)):
            item = {"PK": {"S": f"big{n}"}, "SK": {"S": "x"}, "p": {"S": "x" * size}}
            paths.general.call("PutItem", {"TableName": TABLE, "Item": item})
            paths.fast.call("PutItem", {"TableName": TABLE, "Item": item})
            request = {**_bench_request(n, check=f"big{n}"), "ReturnConsumedCapacity": "TOTAL"}
            consumed = paths.same(request)[1]["ConsumedCapacity"]
            # (two puts of under 1 KB, doubled, and their index entries: 6 units)
            assert consumed[0]["CapacityUnits"] == 6 + 2 * -(-(size + 10) // 1024)
    assert paths.answered == 2


def test_tokens_replay_the_same_success_on_either_path(monkeypatch: pytest.MonkeyPatch) -> None:
    """A token remembered by the general path is replayed by a program, and the
    reverse; other items under a remembered token are refused."""
    paths = _Paths()
    with paths.installed(monkeypatch):
        for token, n in (("t1", 0), ("t2", 1), ("t1", 0), ("t2", 1), ("t3", 2), ("t3", 2)):
            request = {**_bench_request(n), "ClientRequestToken": token}
            assert paths.same(request) == ("ok", {})
            again = {**request, "ReturnConsumedCapacity": "TOTAL"}
            assert paths.same(again)[1]["ConsumedCapacity"][0]["ReadCapacityUnits"] == 6.0
        other = {**_bench_request(20), "ClientRequestToken": "t1"}
        assert paths.same(other)[:2] == ("error", "IdempotentParameterMismatchException")
        # tokens the member checks refuse, in a shape whose program is known
        for bad in ("", "x" * 37, "\ud800"):
            refused = paths.same({**_bench_request(21), "ClientRequestToken": bad})
            assert refused[:2] == ("error", "ValidationException")
    assert paths.answered >= 4


def test_every_limit_takes_the_general_path(monkeypatch: pytest.MonkeyPatch) -> None:
    """Values that break a limit are reported as the general path reports them."""
    paths = _Paths()
    with paths.installed(monkeypatch):
        paths.same(_bench_request(0))
        paths.same(_bench_request(1))
        answered = paths.answered
        # two actions on one item
        twice = _bench_request(2)
        twice["TransactItems"][1]["Put"]["Item"]["SK"] = {"S": "O#0"}
        assert paths.same(twice)[1:3] == ("ValidationException", transactions._DUPLICATE)
        # an item over 400 KB, an attribute name over 64 KB
        big = _bench_request(3)
        big["TransactItems"][0]["Put"]["Item"]["payload"] = {"S": "x" * 410_000}
        assert paths.same(big)[:2] == ("error", "ValidationException")
        named = _bench_request(4)
        named["TransactItems"][0]["Put"]["Item"]["n" * 70_000] = {"S": "x"}
        assert paths.same(named)[:2] == ("error", "ValidationException")
        # a lone surrogate, in a key and in an item: the request checks' error
        bad_key = _bench_request(5, check="\ud800")
        refused = paths.same(bad_key)
        assert refused[:2] == ("error", "ValidationException")
        assert "TransactItems[2].ConditionCheck.Key contains the unpaired surrogate" in refused[2]
        bad_name = _bench_request(5)
        bad_name["TransactItems"][2]["ConditionCheck"]["Key"]["SK\udc00"] = {"S": "x"}
        assert "a member name in TransactItems[2]" in paths.same(bad_name)[2]
        bad_item = _bench_request(6)
        bad_item["TransactItems"][1]["Put"]["Item"]["payload"] = {"S": "\udfff"}
        assert paths.same(bad_item)[:2] == ("error", "ValidationException")
        # an index key of the wrong type: a cancellation reason
        typed = _bench_request(7)
        typed["TransactItems"][0]["Put"]["Item"]["GSK"] = {"S": "x"}
        reasons = paths.same(typed)[3]["CancellationReasons"]
        assert reasons[0]["Code"] == "ValidationError"
        assert paths.answered == answered
    # over 4 MB in all (eleven items of 390 KB): refused whole
    paths = _Paths()
    with paths.installed(monkeypatch):
        for n in range(2):
            request = {
                "TransactItems": [
                    {
                        "Put": {
                            "TableName": TABLE,
                            "Item": {
                                "PK": {"S": f"big{n}"},
                                "SK": {"S": str(k)},
                                "p": {"S": "x" * (390_000 if n else 1)},
                            },
                        }
                    }
                    for k in range(11)
                ]
            }
            outcome = paths.same(request)
        assert outcome[1:3] == ("ValidationException", transactions._TOO_BIG)
        assert paths.answered == 0


def test_a_table_recreated_under_the_same_name_gets_new_programs(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Programs belong to the very tables (their table_id): a table of the same name
    with another key schema must not run the old table's program."""
    paths = _Paths()
    with paths.installed(monkeypatch):
        paths.same(_bench_request(0))
        paths.same(_bench_request(1))
        for engine in (paths.fast, paths.general):
            engine.call("DeleteTable", {"TableName": TABLE})
            engine.call(
                "CreateTable",
                {
                    "TableName": TABLE,
                    "BillingMode": "PAY_PER_REQUEST",
                    "AttributeDefinitions": [{"AttributeName": "SK", "AttributeType": "S"}],
                    "KeySchema": [{"AttributeName": "SK", "KeyType": "HASH"}],
                },
            )
        answered = paths.answered
        outcome = _outcome(paths.fast, "TransactWriteItems", _bench_request(2))
        assert outcome == _outcome(paths.general, "TransactWriteItems", _bench_request(2))
        assert outcome[:2] == ("error", "TransactionCanceledException")
        assert paths.answered == answered
        # the new table's own program, from the next request of the shape
        request = {"TransactItems": [{"Put": {"TableName": TABLE, "Item": {"SK": {"S": "k"}}}}]}
        paths.same(request)
        paths.same(request)
        assert paths.answered == answered + 1


def test_each_engine_runs_its_own_programs() -> None:
    """Two engines with tables of the same names: each compiles and runs its own."""
    first, second = _engine(), _engine()
    for n in range(3):
        for engine in (first, second):
            engine.call("TransactWriteItems", _bench_request(n))
    stored = {"TableName": TABLE, "Key": {"PK": {"S": "C#2"}, "SK": {"S": "O#1"}}}
    assert first.call("GetItem", stored) == second.call("GetItem", stored)
    assert len(programs._PROGRAMS) >= 2


def test_programs_run_on_a_durable_engine_and_what_they_write_stays(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """On a durable store (no key-only checks: items are read), the same answers,
    and what the programs committed is there after reopening."""
    paths = _Paths(tmp_path / "db.sqlite")
    with paths.installed(monkeypatch):
        for n in range(4):
            assert paths.same(_bench_request(n)) == ("ok", {})
        assert paths.same(_bench_request(8, check="zz"))[:2] == (
            "error",
            "TransactionCanceledException",
        )
        counted = [COUNT, DELETE_IF]
        for n in range(3):
            request = {
                "TransactItems": [
                    {
                        "Update": {
                            "TableName": TABLE,
                            "Key": {"PK": {"S": "a"}, "SK": {"S": "x"}},
                            "UpdateExpression": counted[0][3],
                            "ConditionExpression": counted[0][2],
                            "ExpressionAttributeNames": counted[0][4],
                            "ExpressionAttributeValues": {":one": {"N": "1"}, ":s": {"S": f"s{n}"}},
                        }
                    },
                    {"Delete": {"TableName": TABLE, "Key": {"PK": {"S": f"C#{n}"}, "SK": {"S": "O#0"}}}},
                ],
                "ReturnConsumedCapacity": "INDEXES",
            }
            assert paths.same(request)[0] == "ok"
    assert paths.answered == 5
    paths.fast.close()
    reopened = LocalEngine(path=tmp_path / "db.sqlite", ttl_sweep_interval=None)
    for table in (TABLE, NUMBERED):
        scan = {"TableName": table}
        assert _outcome(reopened, "Scan", scan) == _outcome(paths.general, "Scan", scan)
    reopened.close()
