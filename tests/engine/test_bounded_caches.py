"""Caches fed by requests hold nothing whose size a client chooses.

Number texts seen before are remembered by their wire text (items and UpdateItem
values repeat their numbers); a valid number text can be padded to any length
(``"000...7"``), so only short texts are kept. UpdateItem programs keep the values
of their fixed members; a request with a member the engine does not know is never
compiled. Shape caches (expression plans, binding checks, key-condition shapes,
UpdateItem programs) keep no shape whose attribute names are long.
"""

from __future__ import annotations

from typing import Any

from singletable import _values
from singletable.backends.local import LocalEngine
from singletable.backends.local import _update as update_programs

TABLE = "bounded"
PADDED = "0" * 100_000 + "7"


def _engine() -> LocalEngine:
    engine = LocalEngine(ttl_sweep_interval=None)
    engine.call(
        "CreateTable",
        {
            "TableName": TABLE,
            "BillingMode": "PAY_PER_REQUEST",
            "AttributeDefinitions": [{"AttributeName": "PK", "AttributeType": "S"}],
            "KeySchema": [{"AttributeName": "PK", "KeyType": "HASH"}],
        },
    )
    return engine


def test_padded_number_texts_are_not_remembered() -> None:
    engine = _engine()
    item = {"PK": {"S": "k"}, "n": {"N": PADDED}}
    for _ in range(3):
        engine.call("PutItem", {"TableName": TABLE, "Item": item})
    update: dict[str, Any] = {
        "TableName": TABLE,
        "Key": {"PK": {"S": "k"}},
        "UpdateExpression": "SET m = :m",
        "ExpressionAttributeValues": {":m": {"N": PADDED}},
    }
    for _ in range(3):  # the first compiles a program, the next ones run it
        engine.call("UpdateItem", update)
    got = engine.call("GetItem", {"TableName": TABLE, "Key": {"PK": {"S": "k"}}})["Item"]
    assert got == {"PK": {"S": "k"}, "n": {"N": "7"}, "m": {"N": "7"}}
    assert max(map(len, _values._NUMBERS), default=0) <= _values.NUMBER_TEXT_MAX
    engine.close()


def test_a_request_with_an_unknown_member_is_never_compiled() -> None:
    engine = _engine()
    update: dict[str, Any] = {
        "TableName": TABLE,
        "Key": {"PK": {"S": "k"}},
        "UpdateExpression": "SET unknown_member_test = :v",
        "ExpressionAttributeValues": {":v": {"S": "x"}},
        "Junk": "x" * 100_000,
    }
    for _ in range(3):
        engine.call("UpdateItem", update)
    kept = [
        program
        for programs in update_programs._PROGRAMS.values()
        for program in programs.values()
        if any(member == "Junk" for member, _ in program.fixed)
    ]
    assert kept == []
    engine.close()


def _longest_text(value: object, seen: set[int] | None = None) -> int:
    """The longest string inside ``value`` (tuples, lists, dicts, sets, objects)."""
    seen = set() if seen is None else seen
    if id(value) in seen:
        return 0
    seen.add(id(value))
    if isinstance(value, str):
        return len(value)
    if isinstance(value, dict):
        parts: list[object] = [*value.keys(), *value.values()]
    elif isinstance(value, (tuple, list, set, frozenset)):
        parts = list(value)
    elif hasattr(value, "__slots__") or hasattr(value, "__dict__"):
        slots = getattr(type(value), "__slots__", ())
        parts = [getattr(value, name, None) for name in slots]
        parts += list(getattr(value, "__dict__", {}).values())
    else:
        return 0
    return max((_longest_text(part, seen) for part in parts), default=0)


def test_shapes_with_long_attribute_names_are_not_kept() -> None:
    # An attribute name may be 64 KB: a shape cache keyed by what #names stand for
    # would keep every such name of every shape (up to its count limit), hundreds of
    # MB pinned by a few requests. Such shapes are checked every time instead.
    from singletable.backends.local import _exprs
    from singletable.expressions import context

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
    long_names = {f"#n{i}": chr(ord("a") + i) * 20_000 for i in range(3)}
    for round_ in range(3):  # the first request of a shape records it, later ones reuse
        update: dict[str, Any] = {
            "TableName": TABLE,
            "Key": {"PK": {"S": "k"}, "SK": {"S": "s"}},
            "UpdateExpression": "SET #n0 = :v, #n1 = :v ADD #n2 :one",
            "ConditionExpression": "attribute_not_exists(#n0) OR #n1 = :v",
            "ExpressionAttributeNames": long_names,
            "ExpressionAttributeValues": {":v": {"S": "x"}, ":one": {"N": "1"}},
            "ReturnValues": "UPDATED_NEW",
        }
        answer = engine.call("UpdateItem", update)
        assert answer["Attributes"][long_names["#n2"]] == {"N": str(round_ + 1)}
        page = engine.call(
            "Query",
            {
                "TableName": TABLE,
                "KeyConditionExpression": "#pk = :k AND begins_with(#sk, :s)",
                "FilterExpression": "#n1 = :v",
                "ExpressionAttributeNames": {
                    "#pk": "PK",
                    "#sk": "SK",
                    "#n1": long_names["#n1"],
                },
                "ExpressionAttributeValues": {":k": {"S": "k"}, ":s": {"S": "s"}, ":v": {"S": "x"}},
            },
        )
        assert page["Count"] == 1
    caches = (
        _exprs._PLANS,
        update_programs._PROGRAMS,
        context._CHECKED,
        context._KEY_SHAPES,
    )
    assert max(_longest_text(cache) for cache in caches) < 20_000  # (no long name kept)
    engine.close()



def test_transactions_with_much_text_are_not_kept() -> None:
    # Long attribute names are never planned (above); long expressions are valid
    # (4 KB each), but a shape of many actions holding them is not kept either: a
    # program keeps its shape's text, and 512 of them would pin hundreds of MB.
    from singletable.backends.local import _tx_programs

    engine = _engine()
    condition = " OR ".join(["attribute_not_exists(PK)"] * 140)  # ~3.9 KB
    assert len(condition) <= 4096
    _tx_programs._PROGRAMS.clear()
    for round_ in range(3):
        actions: list[dict[str, Any]] = [
            {
                "ConditionCheck": {
                    "TableName": TABLE,
                    "Key": {"PK": {"S": f"c{i}"}},
                    "ConditionExpression": condition,
                }
            }
            for i in range(8)
        ]
        actions.append({"Put": {"TableName": TABLE, "Item": {"PK": {"S": f"p{round_}"}}}})
        engine.call("TransactWriteItems", {"TransactItems": actions})
    assert engine.call("GetItem", {"TableName": TABLE, "Key": {"PK": {"S": "p2"}}})["Item"]
    assert not _tx_programs._PROGRAMS
    engine.close()

def test_transactions_with_long_attribute_names_are_not_kept() -> None:
    from singletable.backends.local import _tx_programs

    engine = _engine()
    long_name = "n" * 30_000
    for round_ in range(3):  # the first records a shape, later ones would reuse it
        engine.call(
            "TransactWriteItems",
            {
                "TransactItems": [
                    {
                        "Update": {
                            "TableName": TABLE,
                            "Key": {"PK": {"S": "k"}},
                            "UpdateExpression": "ADD #n :one",
                            "ExpressionAttributeNames": {"#n": long_name},
                            "ExpressionAttributeValues": {":one": {"N": "1"}},
                        }
                    },
                    {"Put": {"TableName": TABLE, "Item": {"PK": {"S": f"p{round_}"}}}},
                ]
            },
        )
    got = engine.call("GetItem", {"TableName": TABLE, "Key": {"PK": {"S": "k"}}})["Item"]
    assert got[long_name] == {"N": "3"}
    assert _longest_text(_tx_programs._PROGRAMS) < 30_000  # (no long name kept)
    engine.close()


def test_expressions_over_the_limit_and_long_placeholders_are_not_kept() -> None:
    # An expression over 4 KB is an error; the parse caches are keyed by the text,
    # so keeping its error would keep the text (a request may carry megabytes).
    from singletable.backends.local.errors import DynamoDBError
    from singletable.expressions import context

    engine = _engine()
    caches = (
        context._cached_condition_entry,
        context._cached_update_entry,
        context._cached_projection_entry,
    )
    engine.call(  # (the valid text used below, parsed and kept beforehand)
        "PutItem",
        {
            "TableName": TABLE,
            "Item": {"PK": {"S": "other"}},
            "ConditionExpression": "attribute_not_exists(#p)",
            "ExpressionAttributeNames": {"#p": "PK"},
        },
    )
    before = [cache.cache_info().currsize for cache in caches]
    long_text = "a" * 100_000
    requests: list[tuple[str, dict[str, Any]]] = [
        (
            "PutItem",
            {"Item": {"PK": {"S": "k"}}, "ConditionExpression": f"attribute_exists({long_text})"},
        ),
        ("UpdateItem", {"Key": {"PK": {"S": "k"}}, "UpdateExpression": f"REMOVE {long_text}"}),
        ("GetItem", {"Key": {"PK": {"S": "k"}}, "ProjectionExpression": long_text}),
        (  # a placeholder key of any length is well formed, and unused here
            "PutItem",
            {
                "Item": {"PK": {"S": "k"}},
                "ConditionExpression": "attribute_not_exists(#p)",
                "ExpressionAttributeNames": {"#p": "PK", f"#{long_text}": "x"},
            },
        ),
    ]
    for operation, request in requests:
        try:
            engine.call(operation, {"TableName": TABLE, **request})
        except DynamoDBError as error:
            assert error.code == "ValidationException"
        else:
            raise AssertionError(f"{operation} accepted an oversized expression or key")
    assert [cache.cache_info().currsize for cache in caches] == before
    assert max(map(len, context._GOOD_NAME_KEYS), default=0) <= 255
    engine.close()
