"""Replayed expression plans (``_exprs._PLANS``) never change an answer.

A request whose shape (expression texts, what its ``#names`` stand for, its
``:values``' types) was seen before replays the recorded bindings and only
validates its values. Each test here sends a sequence of requests to an engine
whose plans and binding caches stay warm, and every request again to an engine
whose caches are emptied before each call: the responses and errors must be the
same, request by request.
"""

from __future__ import annotations

import copy
from typing import Any

import pytest

from singletable.backends.local import LocalEngine, _exprs
from singletable.backends.local import _update as update_programs
from singletable.backends.local.errors import DynamoDBError
from singletable.expressions import context as expression_context

TABLE = "plans"
KEY = {"PK": {"S": "a"}, "SK": {"S": "b"}}
NAMES = {"#c": "count", "#s": "status"}
VALUES = {":one": {"N": "1"}, ":s": {"S": "x"}, ":max": {"N": "100"}}
UPDATE = "SET #s = :s ADD #c :one"
CONDITION = "attribute_not_exists(PK) OR #c < :max"


def _engine() -> LocalEngine:
    engine = LocalEngine(ttl_sweep_interval=None)
    engine.call(
        "CreateTable",
        {
            "TableName": TABLE,
            "BillingMode": "PAY_PER_REQUEST",
            "AttributeDefinitions": [
                {"AttributeName": "PK", "AttributeType": "S"},
                {"AttributeName": "SK", "AttributeType": "S"},
            ],
            "KeySchema": [
                {"AttributeName": "PK", "KeyType": "HASH"},
                {"AttributeName": "SK", "KeyType": "RANGE"},
            ],
        },
    )
    return engine


def _forget() -> None:
    _exprs._PLANS.clear()
    expression_context._CHECKED.clear()
    expression_context._KEY_SHAPES.clear()
    for programs in update_programs._PROGRAMS.values():  # (compiled writes: ._update)
        programs.clear()


def _outcome(engine: LocalEngine, operation: str, request: dict[str, Any]) -> Any:
    try:
        return ("ok", engine.call(operation, copy.deepcopy(request)))
    except DynamoDBError as error:
        return ("error", error.code, error.message, error.extra)


def _same_answers(requests: list[tuple[str, dict[str, Any]]]) -> list[Any]:
    """Run ``requests`` warm and cold; assert equal outcomes; return them."""
    _forget()
    warm, cold = _engine(), _engine()
    outcomes = []
    for operation, request in requests:
        # warm: with what the previous request of the sequence recorded
        got = _outcome(warm, operation, request)
        _forget()
        expected = _outcome(cold, operation, request)
        assert got == expected, (operation, request)
        outcomes.append(got)
    return outcomes


def _update(**changes: Any) -> dict[str, Any]:
    request: dict[str, Any] = {
        "TableName": TABLE,
        "Key": KEY,
        "UpdateExpression": UPDATE,
        "ConditionExpression": CONDITION,
        "ExpressionAttributeNames": NAMES,
        "ExpressionAttributeValues": VALUES,
        "ReturnValues": "UPDATED_NEW",
    }
    for name, value in changes.items():
        if value is None:
            request.pop(name, None)
        else:
            request[name] = value
    return request


def test_a_replayed_update_uses_each_request_values() -> None:
    outcomes = _same_answers(
        [
            ("UpdateItem", _update()),
            ("UpdateItem", _update(ExpressionAttributeValues={**VALUES, ":one": {"N": "5"}})),
            ("UpdateItem", _update(ExpressionAttributeValues={**VALUES, ":s": {"S": "y"}})),
            ("UpdateItem", _update(ExpressionAttributeValues={**VALUES, ":max": {"N": "2"}})),
        ]
    )
    assert outcomes[0][1]["Attributes"] == {"count": {"N": "1"}, "status": {"S": "x"}}
    assert outcomes[1][1]["Attributes"] == {"count": {"N": "6"}, "status": {"S": "x"}}
    assert outcomes[2][1]["Attributes"] == {"count": {"N": "7"}, "status": {"S": "y"}}
    assert outcomes[3][:2] == ("error", "ConditionalCheckFailedException")


@pytest.mark.parametrize(
    "changes",
    [
        # value content the shape does not capture
        {"ExpressionAttributeValues": {**VALUES, ":one": {"N": "1.5e999"}}},
        {"ExpressionAttributeValues": {**VALUES, ":one": {"N": 1}}},
        {"ExpressionAttributeValues": {**VALUES, ":s": {"S": 5}}},
        {"ExpressionAttributeValues": {**VALUES, ":s": {"SS": []}}},
        {"ExpressionAttributeValues": {**VALUES, ":s": {"NULL": False}}},
        # another type: the binding checks run again
        {"ExpressionAttributeValues": {**VALUES, ":one": {"S": "1"}}},
        {"ExpressionAttributeValues": {**VALUES, ":max": {"S": "1"}}},
        # placeholders missing, extra, renamed, empty maps, maps absent
        {"ExpressionAttributeValues": {":one": {"N": "1"}, ":s": {"S": "x"}}},
        {"ExpressionAttributeValues": {**VALUES, ":extra": {"S": "x"}}},
        {"ExpressionAttributeNames": {**NAMES, "#extra": "x"}},
        {"ExpressionAttributeNames": {"#c": "count", "#s": "count"}},
        {"ExpressionAttributeNames": {"#c": "count", "#s": "PK"}},
        {"ExpressionAttributeNames": {"#c": "count", "#s": "status", "bad": "x"}},
        {"ExpressionAttributeNames": {}},
        {"ExpressionAttributeValues": {}},
        {"ExpressionAttributeNames": None},
        {"ExpressionAttributeValues": None},
        {"ExpressionAttributeNames": {"#c": 5, "#s": "status"}},
        {"ExpressionAttributeValues": [1]},
        # members removed or added
        {"ConditionExpression": None},
        {"UpdateExpression": None},
        {"ConditionExpression": ""},
        {"ConditionExpression": 5},
        {"ProjectionExpression": "#c"},
        {"Expected": {"count": {"Exists": False}}},
        {"ReturnValues": "ALL_OLD"},
    ],
)
def test_a_request_unlike_the_recorded_one_gets_its_own_answer(changes: dict[str, Any]) -> None:
    _same_answers([("UpdateItem", _update()), ("UpdateItem", _update(**changes))])


def test_a_shape_recorded_by_one_operation_replayed_by_another() -> None:
    shared = {
        "ConditionExpression": CONDITION,
        "ExpressionAttributeNames": NAMES,
        "ExpressionAttributeValues": VALUES,
    }
    # PutItem and DeleteItem bind only the condition: #s, :one and :s go unused,
    # and an UpdateExpression member is not theirs to bind.
    put = {"TableName": TABLE, "Item": dict(KEY), **shared, "UpdateExpression": UPDATE}
    delete = {"TableName": TABLE, "Key": KEY, **shared, "UpdateExpression": UPDATE}
    outcomes = _same_answers(
        [
            ("UpdateItem", _update()),
            ("PutItem", put),
            ("DeleteItem", delete),
            ("UpdateItem", _update()),
        ]
    )
    assert outcomes[1][0] == "error"
    assert "unused in expressions" in outcomes[1][2]


def test_value_dependent_conditions_are_never_replayed() -> None:
    def between(low: str, high: str) -> dict[str, Any]:
        return _update(
            ConditionExpression="#c BETWEEN :lo AND :hi OR attribute_not_exists(PK)",
            ExpressionAttributeValues={
                ":one": {"N": "1"},
                ":s": {"S": "x"},
                ":lo": {"N": low},
                ":hi": {"N": high},
            },
        )

    outcomes = _same_answers([("UpdateItem", between("0", "9")), ("UpdateItem", between("9", "0"))])
    assert outcomes[1][0] == "error"
    assert "upper bound" in outcomes[1][2]


def test_transactions_and_filters_replay_alike() -> None:
    check = {
        "ConditionCheck": {
            "TableName": TABLE,
            "Key": KEY,
            "ConditionExpression": "#c < :max",
            "ExpressionAttributeNames": {"#c": "count"},
            "ExpressionAttributeValues": {":max": {"N": "100"}},
        }
    }
    failing = copy.deepcopy(check)
    failing["ConditionCheck"]["ExpressionAttributeValues"] = {":max": {"N": "0"}}
    update = {"Update": _update(ReturnValues=None, ConditionExpression=None)}
    unused = copy.deepcopy(update)
    unused["Update"]["ExpressionAttributeValues"] = VALUES  # :max unused without the condition
    scan = {
        "TableName": TABLE,
        "FilterExpression": "#c < :max",
        "ExpressionAttributeNames": {"#c": "count"},
        "ExpressionAttributeValues": {":max": {"N": "100"}},
    }
    _same_answers(
        [
            ("UpdateItem", _update()),
            ("TransactWriteItems", {"TransactItems": [check]}),
            ("TransactWriteItems", {"TransactItems": [failing]}),
            ("TransactWriteItems", {"TransactItems": [update]}),
            ("TransactWriteItems", {"TransactItems": [unused]}),
            ("Scan", scan),
            ("Scan", {**scan, "ExpressionAttributeValues": {":max": {"N": "0"}}}),
            ("Scan", {**scan, "ExpressionAttributeValues": {":max": {"S": "0"}}}),
        ]
    )


def test_an_update_replayed_on_items_of_other_types() -> None:
    text = "SET #c = #c + :one, tags = list_append(if_not_exists(tags, :empty), :tag)"
    values = {":one": {"N": "1"}, ":empty": {"L": []}, ":tag": {"L": [{"S": "t"}]}}
    request = _update(
        UpdateExpression=text,
        ConditionExpression=None,
        ExpressionAttributeNames={"#c": "count"},
        ExpressionAttributeValues=values,
        ReturnValues="ALL_NEW",
    )
    overwrite = {"TableName": TABLE, "Item": {**KEY, "count": {"S": "text"}, "tags": {"N": "1"}}}
    outcomes = _same_answers(
        [
            ("PutItem", {"TableName": TABLE, "Item": {**KEY, "count": {"N": "1"}}}),
            ("UpdateItem", request),
            ("UpdateItem", request),
            ("PutItem", overwrite),
            ("UpdateItem", request),
        ]
    )
    assert outcomes[2][1]["Attributes"]["tags"] == {"L": [{"S": "t"}, {"S": "t"}]}
    assert outcomes[4][:2] == ("error", "ValidationException")


def test_an_empty_map_is_not_an_absent_one() -> None:
    remove = _update(
        UpdateExpression="REMOVE #s",
        ConditionExpression=None,
        ExpressionAttributeNames={"#s": "status"},
        ExpressionAttributeValues=None,
    )
    outcomes = _same_answers(
        [
            ("UpdateItem", remove),
            ("UpdateItem", {**remove, "ExpressionAttributeValues": {}}),
            ("UpdateItem", remove),
        ]
    )
    assert outcomes[0][0] == "ok"
    assert "ExpressionAttributeValues must not be empty" in outcomes[1][2]


def _query(condition: str, values: dict[str, Any], **more: Any) -> tuple[str, dict[str, Any]]:
    return (
        "Query",
        {
            "TableName": TABLE,
            "KeyConditionExpression": condition,
            "ExpressionAttributeValues": values,
            **more,
        },
    )


def test_checked_key_conditions_bind_each_request_values() -> None:
    # A key condition checked once is not checked again for the same names and value
    # types: only its values are taken. Every answer must equal a cold engine's.
    put = {"TableName": TABLE, "Item": {**KEY, "n": {"N": "1"}}}
    keyed = "PK = :p AND SK = :s"
    outcomes = _same_answers(
        [
            ("PutItem", put),
            ("PutItem", {**put, "Item": {"PK": {"S": "a"}, "SK": {"S": "c"}}}),
            _query(keyed, {":p": {"S": "a"}, ":s": {"S": "b"}}),
            _query(keyed, {":p": {"S": "a"}, ":s": {"S": "c"}}),  # other values
            _query(keyed, {":p": {"S": "z"}, ":s": {"S": "b"}}),
            _query(keyed, {":p": {"N": "1"}, ":s": {"S": "b"}}),  # another type: checked
            _query(keyed, {":p": {"S": "a"}}),  # :s undefined
            _query(keyed, {":p": {"S": "a"}, ":s": {"S": "b"}, ":x": {"S": "unused"}}),
            _query(":s = SK AND :p = PK", {":p": {"S": "a"}, ":s": {"S": "c"}}),  # reversed
            _query("PK = :p AND begins_with(SK, :s)", {":p": {"S": "a"}, ":s": {"S": "b"}}),
            _query("PK = :p AND begins_with(SK, :s)", {":p": {"S": "a"}, ":s": {"S": ""}}),
            _query("PK = :p AND begins_with(SK, :s)", {":p": {"S": "a"}, ":s": {"N": "1"}}),
            _query("PK = :p AND SK BETWEEN :a AND :b", {":p": {"S": "a"}, ":a": {"S": "a"}, ":b": {"S": "c"}}),
            _query("PK = :p AND SK BETWEEN :a AND :b", {":p": {"S": "a"}, ":a": {"S": "c"}, ":b": {"S": "a"}}),
            _query("#k = :p", {":p": {"S": "a"}}, ExpressionAttributeNames={"#k": "PK"}),
            _query("#k = :p", {":p": {"S": "a"}}, ExpressionAttributeNames={"#k": "SK"}),
            _query("#k = :p", {":p": {"S": "a"}}, ExpressionAttributeNames={"#k": "PK"}),
            _query("PK = :p AND SK > :s", {":p": {"S": "a"}, ":s": {"S": "b"}}, ScanIndexForward=False),
            _query("PK = :p AND SK > :s", {":p": {"S": "a"}, ":s": {"S": "a"}}),
        ]
    )  # fmt: skip
    counts = [outcome[1]["Count"] if outcome[0] == "ok" else outcome[1] for outcome in outcomes[2:]]
    error = "ValidationException"
    assert counts == [1, 1, 0, error, error, error, 1, 1, error, error, 2, error, 2, error, 2, 1, 2]


def test_one_value_object_under_two_placeholders_is_bound_by_name() -> None:
    # A Python caller of the expression layer may hand the same dict for two
    # placeholders; a checked shape must still bind each placeholder to its own value
    # on the next request (the engine's own requests always hold distinct values).
    _forget()
    same = {"S": "b"}
    condition = "PK = :p AND SK = :s"
    first = expression_context.ExpressionContext(None, {":p": same, ":s": same})
    assert first.key_condition(condition, ("PK",), ("SK",)).hash_values == {"PK": same}
    second = expression_context.ExpressionContext(None, {":p": {"S": "b"}, ":s": {"S": "c"}})
    bound = second.key_condition(condition, ("PK",), ("SK",))
    assert bound.hash_values == {"PK": {"S": "b"}}
    assert bound.range_terms[0].values == ({"S": "c"},)
