"""Compiled UpdateItem/DeleteItem programs (``_update``) answer exactly as the general path.

Two identical engines get the same requests: the *fast* engine runs a request of a
shape it has seen through the shape's program, the *general* one never does (its
program lookup is switched off). After every request the answers (response, or
error code, message and extra members) and the item it touched must be the same,
and at the end the whole table and its index. Hypothesis draws the requests from a
set of expression shapes with good and bad values, keys and options; a spy checks
that the programs really answered most of the good requests.
"""

from __future__ import annotations

import copy
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from gsi_table import ranged_gsi_table_request
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from singletable.backends.local import LocalEngine, _items
from singletable.backends.local import _update as programs
from singletable.backends.local._records import SHARED
from singletable.backends.local.errors import DynamoDBError

TABLE = "programs"


def _engine() -> LocalEngine:
    engine = LocalEngine(ttl_sweep_interval=None)
    engine.call("CreateTable", ranged_gsi_table_request(TABLE))
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
                    "list": {"L": [{"S": "one"}]},
                    "map": {"M": {"k": {"S": "v"}}},
                },
            },
        )
    return engine


class _Paths:
    """Two engines, one never running programs; counts the programs' answers."""

    def __init__(self) -> None:
        programs._PROGRAMS["UpdateItem"].clear()
        programs._PROGRAMS["DeleteItem"].clear()
        self.fast, self.general = _engine(), _engine()
        self.answered = 0

    @contextmanager
    def installed(self, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
        real = programs.program_for
        general = self.general

        def program_for(operation: str, engine: LocalEngine, request: dict[str, Any]) -> Any:
            return None if engine is general else real(operation, engine, request)

        def counted(run: Any) -> Any:
            def run_counted(*args: Any) -> Any:
                outcome = run(*args)
                self.answered += outcome is not None
                return outcome

            return run_counted

        with monkeypatch.context() as patch:
            patch.setattr(_items, "program_for", program_for)
            patch.setattr(programs.Program, "update", counted(programs.Program.update))
            patch.setattr(programs.Program, "delete", counted(programs.Program.delete))
            yield

    def same(self, operation: str, request: dict[str, Any]) -> Any:
        got = _outcome(self.fast, operation, request)
        expected = _outcome(self.general, operation, request)
        assert got == expected, (operation, request)
        key = request.get("Key")
        if isinstance(key, dict):
            get = {"TableName": TABLE, "Key": key, "ConsistentRead": True}
            assert _outcome(self.fast, "GetItem", get) == _outcome(self.general, "GetItem", get)
        return got

    def same_tables(self) -> None:
        # (TableSizeBytes: the sum of the sizes the writes measured)
        described = [
            engine.call("DescribeTable", {"TableName": TABLE})["Table"]
            for engine in (self.fast, self.general)
        ]
        for member in ("TableSizeBytes", "ItemCount"):
            assert described[0][member] == described[1][member]
        scan = {"TableName": TABLE}
        assert _outcome(self.fast, "Scan", scan) == _outcome(self.general, "Scan", scan)
        index = {"TableName": TABLE, "IndexName": "gsi"}
        assert _outcome(self.fast, "Scan", index) == _outcome(self.general, "Scan", index)


def _outcome(engine: LocalEngine, operation: str, request: dict[str, Any]) -> Any:
    try:
        return ("ok", engine.call(operation, copy.deepcopy(request)))
    except DynamoDBError as error:
        return ("error", error.code, error.message, error.extra, error.request_validation)


# --------------------------------------------------------------------------- shapes

# (UpdateExpression, ConditionExpression, names, {placeholder: kind of value})
UPDATES: list[tuple[str | None, str | None, dict[str, str] | None, dict[str, str]]] = [
    (
        "SET #c = #c + :one, #s = :s",
        "attribute_exists(PK) AND #c < :max",
        {"#c": "count", "#s": "status"},
        {":one": "N", ":s": "S", ":max": "N"},
    ),
    ("ADD #c :one SET #s = :s", None, {"#c": "count", "#s": "status"}, {":one": "N", ":s": "S"}),
    ("SET #c = if_not_exists(#c, :one) - :one", None, {"#c": "count"}, {":one": "N"}),
    (
        "REMOVE #s, tags",
        "attribute_exists(#s) OR #c = :one",
        {"#s": "status", "#c": "count"},
        {":one": "N"},
    ),
    ("SET #l = list_append(#l, :l)", None, {"#l": "list"}, {":l": "L"}),
    (
        "SET #m.#k = :s, #l[3] = :s",
        "size(#m) < :one",
        {"#m": "map", "#k": "k", "#l": "list"},
        {":s": "S", ":one": "N"},
    ),
    ("SET GPK = :s, GSK = :one", None, None, {":s": "S", ":one": "N"}),
    ("DELETE tags :ss ADD #n :ss", None, {"#n": "other"}, {":ss": "SS"}),
    ("SET payload = :s", "#c <> :one", {"#c": "count"}, {":s": "S", ":one": "N"}),
    ("SET #c = :s", None, {"#c": "count"}, {":s": "S"}),
    (
        "SET #c = :one",
        "begins_with(#s, :s)",
        {"#c": "count", "#s": "status"},
        {":one": "N", ":s": "S"},
    ),
    (None, None, None, {}),
    ("REMOVE #s", None, {"#s": "status"}, {}),
    ("SET PK = :s", None, None, {":s": "S"}),
    ("SET #c = :s", None, {"#c": "co\ud800unt"}, {":s": "S"}),
]

DELETES: list[tuple[str | None, dict[str, str] | None, dict[str, str]]] = [
    ("#c < :one", {"#c": "count"}, {":one": "N"}),
    ("attribute_exists(#s)", {"#s": "status"}, {}),
    (None, None, {}),
]

def _deep(levels: int) -> dict[str, Any]:
    """An L value nested ``levels`` deep (past 32: invalid; past 100: the request too)."""
    value: dict[str, Any] = {"S": "bottom"}
    for _ in range(levels):
        value = {"L": [value]}
    return value


NUMBERS = st.sampled_from(
    [
        "1",
        "-1",
        "0",
        "7",
        "999999999999999999",
        "-999999999999999999",
        "1.5",
        "1e3",
        "12345678901234567890123456789012345678",
        "9.9999999999999999999999999999999999999E+125",
        "1E-130",
        "abc",
        "",
        "1" + "0" * 40,
    ]
)
STRINGS = st.sampled_from(["x", "", "é", "new", "n" * 300_000, "a" * 10, "lone \ud800"])
GOOD_VALUES: dict[str, st.SearchStrategy[Any]] = {
    "N": NUMBERS.map(lambda n: {"N": n}),
    "S": STRINGS.map(lambda s: {"S": s}),
    "L": st.lists(st.sampled_from([{"S": "t"}, {"N": "1"}, {"L": []}]), max_size=3).map(
        lambda members: {"L": members}
    ),
    "SS": st.lists(st.sampled_from(["a", "b", "c"]), max_size=3).map(lambda m: {"SS": m}),
}
ODD_VALUES: st.SearchStrategy[Any] = st.sampled_from(
    [
        {"N": 1},
        {"S": 5},
        {"NULL": False},
        {"NULL": True},
        {"SS": []},
        {"SS": ["a", "a"]},
        {"S": "x", "N": "1"},
        {},
        None,
        {"BOOL": True},
        {"L": [{"S": "deep"}]},
        {"S": "\udc00"},
        {"L": [{"L": [{"L": []}]}]},
        {"M": {"k\ud800": {"S": "v"}}},
        _deep(40),
        _deep(120),
    ]
)
KEYS = st.sampled_from(
    [
        {"PK": {"S": "a"}, "SK": {"S": "x"}},
        {"PK": {"S": "b"}, "SK": {"S": "x"}},
        {"PK": {"S": "new"}, "SK": {"S": "x"}},
        {"PK": {"S": ""}, "SK": {"S": "x"}},
        {"PK": {"N": "1"}, "SK": {"S": "x"}},
        {"PK": {"S": "a"}},
        {"PK": {"S": "a"}, "SK": {"S": "x"}, "other": {"S": "y"}},
        {"PK": {"S": "é"}, "SK": {"S": "x"}},
        {"PK": {"S": "a\ud800"}, "SK": {"S": "x"}},
        {"PK": {"S": "k" * 2048}, "SK": {"S": "s" * 1024}},
        {"PK": {"S": "k" * 2049}, "SK": {"S": "x"}},
        {"PK": {"S": "a"}, "SK": {"S": "s" * 1025}},
        {"PK": {"S": "a\0b"}, "SK": {"S": "\0"}},
        {"PK": {"S": "a", "N": "1"}, "SK": {"S": "x"}},
        {"PK": {"S": "a"}, "SK": _deep(120)},
        [],
    ]
)
OPTIONS = st.fixed_dictionaries(
    {},
    optional={
        "ReturnItemCollectionMetrics": st.sampled_from(["NONE", "SIZE", "\ud800", [[["x"]]]]),
        "ReturnValues": st.sampled_from(
            ["NONE", "ALL_OLD", "UPDATED_OLD", "ALL_NEW", "UPDATED_NEW", "BAD"]
        ),
        "ReturnValuesOnConditionCheckFailure": st.sampled_from(["ALL_OLD", "NONE"]),
        "ReturnConsumedCapacity": st.sampled_from(["INDEXES", "TOTAL", "NONE"]),
    },
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


_NULLABLE = ("ConditionExpression", "ExpressionAttributeNames", "ExpressionAttributeValues")


def _nulls(draw: st.DrawFn, request: dict[str, Any]) -> dict[str, Any]:
    """Now and then a member sent as null (DynamoDB reads it as absent)."""
    for member in draw(st.lists(st.sampled_from(_NULLABLE), max_size=2)):
        request[member] = None
    return request


@st.composite
def _update_request(draw: st.DrawFn) -> dict[str, Any]:
    update, condition, names, kinds = draw(st.sampled_from(UPDATES))
    request: dict[str, Any] = {"TableName": TABLE, "Key": draw(KEYS), **draw(OPTIONS)}
    if update is not None:
        request["UpdateExpression"] = update
    if condition is not None:
        request["ConditionExpression"] = condition
    if names is not None:
        request["ExpressionAttributeNames"] = names
    values = draw(_values(kinds))
    if values is not None:
        request["ExpressionAttributeValues"] = values
    return _nulls(draw, request) if draw(st.integers(0, 5)) == 0 else request


@st.composite
def _delete_request(draw: st.DrawFn) -> dict[str, Any]:
    condition, names, kinds = draw(st.sampled_from(DELETES))
    request: dict[str, Any] = {"TableName": TABLE, "Key": draw(KEYS), **draw(OPTIONS)}
    if request.get("ReturnValues") not in (None, "ALL_OLD", "NONE"):
        del request["ReturnValues"]
    if condition is not None:
        request["ConditionExpression"] = condition
    if names is not None:
        request["ExpressionAttributeNames"] = names
    values = draw(_values(kinds))
    if values is not None:
        request["ExpressionAttributeValues"] = values
    return _nulls(draw, request) if draw(st.integers(0, 5)) == 0 else request


_REQUESTS = st.one_of(
    _update_request().map(lambda r: ("UpdateItem", r)),
    _update_request().map(lambda r: ("UpdateItem", r)),
    _delete_request().map(lambda r: ("DeleteItem", r)),
    _update_request().map(
        lambda r: (
            ("PutItem", {"TableName": TABLE, "Item": dict(r["Key"])})
            if isinstance(r["Key"], dict)
            else ("UpdateItem", r)
        )
    ),
)


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(st.lists(_REQUESTS, min_size=5, max_size=40))
def test_programs_answer_as_the_general_path(
    monkeypatch: pytest.MonkeyPatch, requests: list[tuple[str, dict[str, Any]]]
) -> None:
    paths = _Paths()
    with paths.installed(monkeypatch):
        for operation, request in requests:
            paths.same(operation, request)
            paths.same(operation, request)  # (again: now with the shape's program, if any)
        paths.same_tables()


def test_the_programs_answer_repeated_requests(monkeypatch: pytest.MonkeyPatch) -> None:
    """The spy sees the programs answer: the comparisons above compare something."""
    paths = _Paths()
    update, condition, names, _ = UPDATES[0]
    with paths.installed(monkeypatch):
        for count in range(5):
            request = {
                "TableName": TABLE,
                "Key": {"PK": {"S": "a"}, "SK": {"S": "x"}},
                "UpdateExpression": update,
                "ConditionExpression": condition,
                "ExpressionAttributeNames": names,
                "ExpressionAttributeValues": {
                    ":one": {"N": "1"},
                    ":s": {"S": f"s{count}"},
                    ":max": {"N": "3"},
                },
                "ReturnValues": "UPDATED_NEW",
            }
            outcome = paths.same("UpdateItem", request)
            if count < 3:
                assert outcome[1]["Attributes"] == {
                    "count": {"N": str(count + 1)},
                    "status": {"S": f"s{count}"},
                }
            else:
                assert outcome[:2] == ("error", "ConditionalCheckFailedException")
        delete = {
            "TableName": TABLE,
            "Key": {"PK": {"S": "b"}, "SK": {"S": "x"}},
            "ConditionExpression": "#c < :one",
            "ExpressionAttributeNames": {"#c": "count"},
            "ExpressionAttributeValues": {":one": {"N": "1"}},
            "ReturnValues": "ALL_OLD",
        }
        assert paths.same("DeleteItem", delete)[1]["Attributes"]["status"] == {"S": "new"}
        gone = paths.same("DeleteItem", delete)  # (no item: the condition fails)
        assert gone[:2] == ("error", "ConditionalCheckFailedException")
        paths.same_tables()
    # every request but the first of each shape (a failed condition raises: not counted)
    assert paths.answered == 2


def test_a_table_recreated_under_the_same_name_gets_new_programs() -> None:
    """Programs belong to one table (its table_id): a table of the same name with
    another key schema must not run the old table's program."""
    engine = _engine()
    request = {
        "TableName": TABLE,
        "Key": {"PK": {"S": "a"}, "SK": {"S": "x"}},
        "UpdateExpression": "SET #c = :one",
        "ExpressionAttributeNames": {"#c": "count"},
        "ExpressionAttributeValues": {":one": {"N": "1"}},
    }
    engine.call("UpdateItem", copy.deepcopy(request))
    engine.call("UpdateItem", copy.deepcopy(request))
    engine.call("DeleteTable", {"TableName": TABLE})
    engine.call(
        "CreateTable",
        {
            "TableName": TABLE,
            "BillingMode": "PAY_PER_REQUEST",
            "AttributeDefinitions": [
                {"AttributeName": "PK", "AttributeType": "S"},
                {"AttributeName": "count", "AttributeType": "S"},
            ],
            "KeySchema": [
                {"AttributeName": "PK", "KeyType": "HASH"},
                {"AttributeName": "count", "KeyType": "RANGE"},
            ],
        },
    )
    request["Key"] = {"PK": {"S": "a"}, "count": {"S": "x"}}
    with pytest.raises(DynamoDBError, match="Cannot update attribute count"):
        engine.call("UpdateItem", request)


def test_names_and_value_types_pick_their_own_program(monkeypatch: pytest.MonkeyPatch) -> None:
    """One expression text with other #names, or a :value of another type, is another
    shape: its own checks run (and its own program is compiled)."""
    paths = _Paths()

    def request(name: str, value: dict[str, Any]) -> dict[str, Any]:
        return {
            "TableName": TABLE,
            "Key": {"PK": {"S": "a"}, "SK": {"S": "x"}},
            "UpdateExpression": "SET #a = #a + :v",
            "ExpressionAttributeNames": {"#a": name},
            "ExpressionAttributeValues": {":v": value},
            "ReturnValues": "ALL_NEW",
        }

    with paths.installed(monkeypatch):
        for _ in range(2):
            assert paths.same("UpdateItem", request("count", {"N": "2"}))[0] == "ok"
            assert paths.same("UpdateItem", request("status", {"N": "2"}))[0] == "error"
            assert paths.same("UpdateItem", request("count", {"S": "2"}))[0] == "error"
            assert paths.same("UpdateItem", request("GSK", {"N": "2"}))[0] == "ok"
            assert paths.same("UpdateItem", request("count", {"N": "1E+30"}))[0] == "ok"
            assert paths.same("UpdateItem", request("count", {"N": "0.5"}))[0] == "ok"
            assert paths.same("UpdateItem", request("count", {"N": "1E+40"}))[0] == "error"
            assert paths.same("UpdateItem", request("count", {"N": "-1E+30"}))[0] == "ok"
        paths.same_tables()
    assert paths.answered > 0


def test_members_sent_as_null_are_part_of_the_shape(monkeypatch: pytest.MonkeyPatch) -> None:
    """A member sent as null counts as absent: a later request of the same members
    whose ExpressionAttributeValues are not null is another shape."""
    paths = _Paths()
    request = {
        "TableName": TABLE,
        "Key": {"PK": {"S": "a"}, "SK": {"S": "x"}},
        "UpdateExpression": "REMOVE #s",
        "ExpressionAttributeNames": {"#s": "status"},
        "ExpressionAttributeValues": None,
    }
    with paths.installed(monkeypatch):
        assert paths.same("UpdateItem", request)[0] == "ok"
        assert paths.same("UpdateItem", request)[0] == "ok"
        unused = {**request, "ExpressionAttributeValues": {":v": {"S": "x"}}}
        assert paths.same("UpdateItem", unused)[:2] == ("error", "ValidationException")
        deleting = {**request, "ConditionExpression": None}
        del deleting["UpdateExpression"]
        for _ in range(2):
            assert paths.same("DeleteItem", deleting)[:2] == ("error", "ValidationException")
    assert paths.answered == 1


@pytest.mark.parametrize("returns", ["NONE", "UPDATED_OLD", "UPDATED_NEW", "ALL_OLD", "ALL_NEW"])
@pytest.mark.parametrize("capacity", ["NONE", "INDEXES"])
def test_a_programs_response_is_its_callers_own(returns: str, capacity: str) -> None:
    """``call`` hands out a program's UPDATED_* response without its deep copy (it is
    built for the caller): changing it must change nothing stored, nor the next answer."""
    engine = _engine()
    key = {"PK": {"S": "a"}, "SK": {"S": "x"}}
    request = {
        "TableName": TABLE,
        "Key": key,
        "UpdateExpression": "SET #c = #c + :one, #s = :s, #t = :t, #l = :l",
        "ExpressionAttributeNames": {"#c": "count", "#s": "status", "#t": "tags", "#l": "list"},
        "ExpressionAttributeValues": {
            ":one": {"N": "1"},
            ":s": {"S": "s"},
            ":t": {"SS": ["x", "y"]},
            ":l": {"L": [{"S": "m"}]},
        },
        "ReturnValues": returns,
        "ReturnConsumedCapacity": capacity,
    }
    for count in range(1, 4):  # the first one compiles, the others run the program
        response = engine.call("UpdateItem", copy.deepcopy(request))
        if returns != "NONE":
            attributes = response["Attributes"]
            for value in attributes.values():
                kind = next(iter(value))
                if kind in ("L", "SS"):
                    value[kind].append({"S": "junk"} if kind == "L" else "junk")
                else:
                    value[kind] = "junk"
            attributes["extra"] = {"S": "junk"}
        if capacity != "NONE":
            response["ConsumedCapacity"]["CapacityUnits"] = -1
        stored = engine.call("GetItem", {"TableName": TABLE, "Key": key})["Item"]
        assert stored["count"] == {"N": str(count)}
        assert stored["status"] == {"S": "s"}
        assert stored["tags"] == {"SS": ["x", "y"]}
        assert stored["list"] == {"L": [{"S": "m"}]}
        assert "extra" not in stored
        shared = engine.call("GetItem", {"TableName": TABLE, "Key": key}, copy=False)["Item"]
        assert shared == stored


def test_a_programs_update_keeps_hot_items_in_the_shared_cache(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """An item updated by a program is in the shared decoded-item cache afterwards while
    the cache has room, whether its old version was there (hot) or not (cold, decoded
    for the update alone), and is the stored item; once the cache is full, a cold
    item's new version is not always kept (one in eight)."""
    engine = _engine()
    table = engine.tables[TABLE]
    request = {
        "TableName": TABLE,
        "Key": {"PK": {"S": "a"}, "SK": {"S": "x"}},
        "UpdateExpression": "SET #c = #c + :one",
        "ExpressionAttributeNames": {"#c": "count"},
        "ExpressionAttributeValues": {":one": {"N": "1"}},
    }
    pk, sk = table.key_from_request(request["Key"])

    def cached() -> Any:
        record = table.store.record(pk, sk)
        entry = SHARED.items.get(id(record))
        return entry[1] if entry is not None and entry[0] is record else None

    engine.call("UpdateItem", copy.deepcopy(request))  # (compiles the program)
    for count in range(2, 5):
        if count == 3:
            SHARED.clear()  # cold
        engine.call("UpdateItem", copy.deepcopy(request))
        item = cached()
        assert item is not None and item["count"] == {"N": str(count)}
        assert engine.call("GetItem", {"TableName": TABLE, "Key": request["Key"]}, copy=False)[
            "Item"
        ] is item
    monkeypatch.setattr(SHARED, "budget", 3000)  # full (room for this one item only)
    SHARED.clear()
    kept = 0
    for _ in range(16):
        engine.call("UpdateItem", copy.deepcopy(request))
        kept += cached() is not None
        SHARED.clear()
    assert kept == 2


def test_a_program_runs_before_the_request_checks_only_for_requests_that_pass_them(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """LocalEngine._dispatch tries an UpdateItem's or DeleteItem's program before the
    request checks (._request_check): a request of a known shape holding a lone
    surrogate or nesting too deep anywhere gets the checks' error, as without programs."""
    paths = _Paths()
    base = {
        "TableName": TABLE,
        "Key": {"PK": {"S": "a"}, "SK": {"S": "x"}},
        "UpdateExpression": "SET #c = :v",
        "ExpressionAttributeNames": {"#c": "count"},
        "ExpressionAttributeValues": {":v": {"S": "x"}},
        "ReturnItemCollectionMetrics": "NONE",
    }
    delete = {"TableName": TABLE, "Key": {"PK": {"S": "b"}, "SK": {"S": "x"}}}
    bad = [
        ("UpdateItem", {**base, "ReturnItemCollectionMetrics": "\ud800"}),
        ("UpdateItem", {**base, "ReturnItemCollectionMetrics": _deep(150)}),
        ("UpdateItem", {**base, "ExpressionAttributeNames": {"#c": "c\ud800"}}),
        ("UpdateItem", {**base, "ExpressionAttributeValues": {":v": {"S": "\ud800"}}}),
        ("UpdateItem", {**base, "ExpressionAttributeValues": {":v": _deep(150)}}),
        ("UpdateItem", {**base, "Key": {"PK": {"S": "\ud800"}, "SK": {"S": "x"}}}),
        ("DeleteItem", {**delete, "Key": {"PK": {"S": "b\udfff"}, "SK": {"S": "x"}}}),
        ("DeleteItem", {**delete, "Expected": _deep(150)}),
    ]
    with paths.installed(monkeypatch):
        for operation, request in (("UpdateItem", base), ("DeleteItem", delete)) * 2:
            paths.same(operation, request)
        answered = paths.answered
        for operation, request in bad:
            outcome = paths.same(operation, request)
            assert outcome[:2] == ("error", "ValidationException"), (request, outcome)
        assert paths.answered == answered == 2  # (the second of each: by its program)
