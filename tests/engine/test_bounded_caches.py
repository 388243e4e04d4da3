"""Caches fed by requests hold nothing whose size a client chooses.

Number texts seen before are remembered by their wire text (items and UpdateItem
values repeat their numbers); a valid number text can be padded to any length
(``"000...7"``), so only short texts are kept. UpdateItem programs keep the values
of their fixed members; a request with a member the engine does not know is never
compiled.
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
    assert max(map(len, update_programs._NUMBERS), default=0) <= _values.NUMBER_TEXT_MAX
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
