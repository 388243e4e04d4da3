"""``singletable.pytest_plugin.seed``: loading DynamoDB JSON lines, wire items or entities."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from singletable import Entity, Keys, Table
from singletable.backends.local import DynamoDBError, LocalEngine
from singletable.pytest_plugin import seed

things = Table("things")


class Thing(Entity, table=things):
    name: str

    keys = Keys(pk="THING#{name}", sk="THING")


def make(engine: LocalEngine) -> None:
    engine.call(
        "CreateTable",
        {
            "TableName": "tbl",
            "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}],
            "AttributeDefinitions": [{"AttributeName": "pk", "AttributeType": "S"}],
            "BillingMode": "PAY_PER_REQUEST",
        },
    )


def count(engine: LocalEngine, table: str) -> int:
    return int(engine.call("Scan", {"TableName": table, "Select": "COUNT"})["Count"])


def test_json_lines_in_batches(tmp_path: Path) -> None:
    path = tmp_path / "export.jsonl"
    lines = [json.dumps({"Item": {"pk": {"S": f"k{n}"}, "n": {"N": str(n)}}}) for n in range(60)]
    path.write_text("\n".join(lines) + "\n\n", encoding="utf-8")
    with LocalEngine(ttl_sweep_interval=None) as engine:
        make(engine)
        assert seed(engine, path, "tbl") == 60
        assert count(engine, "tbl") == 60


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("{not json", "line 2: Expecting property name"),
        ('{"pk": {"S": "a"}}', 'line 2: expected {"Item"'),
    ],
)
def test_bad_lines_are_named(tmp_path: Path, text: str, problem: str) -> None:
    path = tmp_path / "bad.jsonl"
    path.write_text('{"Item": {"pk": {"S": "ok"}}}\n' + text + "\n", encoding="utf-8")
    with LocalEngine(ttl_sweep_interval=None) as engine:
        make(engine)
        with pytest.raises(ValueError, match=problem):
            seed(engine, path, "tbl")


def test_wire_items_are_validated() -> None:
    with LocalEngine(ttl_sweep_interval=None) as engine:
        make(engine)
        with pytest.raises(DynamoDBError) as raised:
            seed(engine, [{"pk": {"N": "1"}}], "tbl")
        assert raised.value.code == "ValidationException"
        with pytest.raises(ValueError, match="give the table"):
            seed(engine, [{"pk": {"S": "1"}}])


def test_entities_create_their_table() -> None:
    with LocalEngine(ttl_sweep_interval=None) as engine:
        assert seed(engine, [Thing(name=f"t{n}") for n in range(30)]) == 30
        assert count(engine, "things") == 30
        with pytest.raises(ValueError, match="their own tables"):
            seed(engine, [Thing(name="x")], "tbl")
