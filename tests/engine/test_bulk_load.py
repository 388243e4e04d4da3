"""``engine.load(table, items)`` and ``Seed``: bulk loading checked as PutItem checks,
all or nothing, seen by streams and TTL as PutItems; a Seed checked once per schema."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from singletable.backends.local import DynamoDBError, LocalEngine, Seed, _bulk
from singletable.pytest_plugin import seed


def create(engine: LocalEngine, name: str = "tbl", *, gsi_type: str = "S") -> None:
    engine.call(
        "CreateTable",
        {
            "TableName": name,
            "KeySchema": [
                {"AttributeName": "pk", "KeyType": "HASH"},
                {"AttributeName": "sk", "KeyType": "RANGE"},
            ],
            "AttributeDefinitions": [
                {"AttributeName": "pk", "AttributeType": "S"},
                {"AttributeName": "sk", "AttributeType": "S"},
                {"AttributeName": "g", "AttributeType": gsi_type},
            ],
            "GlobalSecondaryIndexes": [
                {
                    "IndexName": "by_g",
                    "KeySchema": [{"AttributeName": "g", "KeyType": "HASH"}],
                    "Projection": {"ProjectionType": "KEYS_ONLY"},
                }
            ],
            "StreamSpecification": {"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"},
            "BillingMode": "PAY_PER_REQUEST",
        },
    )


def item(n: int, **extra: Any) -> dict[str, Any]:
    value: dict[str, Any] = {"pk": {"S": f"P{n % 3}"}, "sk": {"S": f"S{n}"}, "g": {"S": f"G{n % 2}"}}
    value.update(extra)
    return value


@pytest.fixture
def engine() -> Iterator[LocalEngine]:
    with LocalEngine(ttl_sweep_interval=None, clock=lambda: 1_000_000.0) as engine:
        create(engine)
        yield engine


def count(engine: LocalEngine, **request: Any) -> int:
    return int(engine.call("Scan", {"TableName": "tbl", "Select": "COUNT", **request})["Count"])


def test_loaded_items_are_stored_and_indexed(engine: LocalEngine) -> None:
    assert engine.load("tbl", [item(n, num={"N": "007"}) for n in range(10)]) == 10
    assert count(engine) == 10
    assert count(engine, IndexName="by_g") == 10
    got = engine.call("GetItem", {"TableName": "tbl", "Key": {"pk": {"S": "P1"}, "sk": {"S": "S4"}}})
    assert got["Item"]["num"] == {"N": "7"}  # canonical, as PutItem stores it
    odd = engine.call(
        "Query",
        {
            "TableName": "tbl",
            "IndexName": "by_g",
            "KeyConditionExpression": "g = :g",
            "ExpressionAttributeValues": {":g": {"S": "G1"}},
        },
    )
    assert odd["Count"] == 5


@pytest.mark.parametrize(
    ("bad", "message"),
    [
        ({"pk": {"S": "x"}}, "item 3: One or more parameter values were invalid: Missing the key sk"),
        (
            {"pk": {"S": "x"}, "sk": {"S": "y"}, "g": {"N": "1"}},
            "item 3: One or more parameter values were invalid: Type mismatch for Index Key g",
        ),
        ({"pk": {"S": "x"}, "sk": {"S": "y"}, "v": {"Z": "1"}}, "item 3: "),
        ({"pk": {"S": "x"}, "sk": {"S": "y"}, "v": {"S": "x" * 410_000}}, "item 3: Item size"),
    ],
)
def test_a_refused_item_loads_nothing(engine: LocalEngine, bad: Any, message: str) -> None:
    items = [item(0), item(1), item(2), bad, item(4)]
    with pytest.raises(DynamoDBError) as raised:
        engine.load("tbl", items)
    assert raised.value.code == "ValidationException"
    assert raised.value.message.startswith(message)
    assert count(engine) == 0
    with pytest.raises(DynamoDBError) as raised:
        engine.call("PutItem", {"TableName": "tbl", "Item": bad})  # PutItem refuses it too
    assert raised.value.message.startswith(message.removeprefix("item 3: "))


def test_unknown_table(engine: LocalEngine) -> None:
    with pytest.raises(DynamoDBError) as raised:
        engine.load("nope", [item(0)])
    assert raised.value.code == "ResourceNotFoundException"


def test_a_later_item_replaces_an_earlier_one(engine: LocalEngine) -> None:
    engine.load("tbl", [item(1, v={"S": "old"})])
    engine.load("tbl", [item(1, v={"S": "first"}), item(1, v={"S": "second"}, g={"S": "Gx"})])
    assert count(engine) == 1
    assert count(engine, IndexName="by_g") == 1  # the index moved with the item
    key = {"pk": {"S": "P1"}, "sk": {"S": "S1"}}
    assert engine.call("GetItem", {"TableName": "tbl", "Key": key})["Item"]["v"] == {"S": "second"}


def test_streams_see_loads_as_puts(engine: LocalEngine) -> None:
    with engine.stream_records("tbl") as records:
        engine.load("tbl", [item(1), item(2)])
        engine.load("tbl", Seed([item(1, v={"S": "changed"})]))
        events = [record["eventName"] for record in records.drain()]
    assert events == ["INSERT", "INSERT", "MODIFY"]


def test_ttl_sees_loaded_items(engine: LocalEngine) -> None:
    engine.call(
        "UpdateTimeToLive",
        {"TableName": "tbl", "TimeToLiveSpecification": {"Enabled": True, "AttributeName": "exp"}},
    )
    engine.load("tbl", [item(1, exp={"N": "10"}), item(2, exp={"N": "9999999999"})])
    assert engine.sweep_ttl() == 1
    assert count(engine) == 1


def test_a_seed_is_checked_once_per_schema(monkeypatch: pytest.MonkeyPatch) -> None:
    checked: list[int] = []
    prepare = _bulk.prepare_item

    def counting(table: Any, raw: Any) -> Any:
        checked.append(1)
        return prepare(table, raw)

    monkeypatch.setattr(_bulk, "prepare_item", counting)
    data = Seed(item(n) for n in range(20))
    for _ in range(3):
        with LocalEngine(ttl_sweep_interval=None) as engine:
            create(engine)
            assert engine.load("tbl", data) == 20
            assert count(engine) == 20
    assert len(checked) == 20
    with LocalEngine(ttl_sweep_interval=None) as engine:
        create(engine, gsi_type="N")  # another schema: checked again, and refused
        with pytest.raises(DynamoDBError, match=r"item 0: .*Type mismatch for Index Key g"):
            engine.load("tbl", data)
        assert count(engine) == 0


def test_engines_loaded_from_one_seed_are_independent() -> None:
    data = Seed([item(1, v={"S": "seeded"})])
    engines = [LocalEngine(ttl_sweep_interval=None) for _ in range(2)]
    key = {"pk": {"S": "P1"}, "sk": {"S": "S1"}}
    for engine in engines:
        create(engine)
        engine.load("tbl", data)
    engines[0].call(
        "UpdateItem",
        {
            "TableName": "tbl",
            "Key": key,
            "UpdateExpression": "SET v = :v",
            "ExpressionAttributeValues": {":v": {"S": "changed"}},
        },
    )
    engines[0].call("DeleteItem", {"TableName": "tbl", "Key": key})
    assert engines[1].call("GetItem", {"TableName": "tbl", "Key": key})["Item"]["v"] == {
        "S": "seeded"
    }
    assert data.items[0]["v"] == {"S": "seeded"}
    for engine in engines:
        engine.close()


def test_durable_engine_loads(tmp_path: Path) -> None:
    path = tmp_path / "data.db"
    with LocalEngine(path=path, ttl_sweep_interval=None) as engine:
        create(engine)
        engine.load("tbl", [item(n) for n in range(5)])
    with LocalEngine(path=path, ttl_sweep_interval=None) as engine:
        assert count(engine) == 5
        assert count(engine, IndexName="by_g") == 5


def test_seed_files_are_read_once_while_unchanged(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    reads: list[str] = []
    from_file = Seed.from_file.__func__  # type: ignore[attr-defined]

    def counting(cls: type[Seed], path: Any) -> Seed:
        reads.append(str(path))
        return from_file(cls, path)  # type: ignore[no-any-return]

    monkeypatch.setattr(Seed, "from_file", classmethod(counting))
    path = tmp_path / "seed.jsonl"
    path.write_text("".join(json.dumps({"Item": item(n)}) + "\n" for n in range(4)), "utf-8")
    for _ in range(3):
        with LocalEngine(ttl_sweep_interval=None) as engine:
            create(engine)
            assert seed(engine, path, "tbl") == 4
    assert len(reads) == 1
    path.write_text("".join(json.dumps({"Item": item(n)}) + "\n" for n in range(6)), "utf-8")
    os.utime(path, ns=(1, 1))  # a new modification time, whatever the clock's resolution
    with LocalEngine(ttl_sweep_interval=None) as engine:
        create(engine)
        assert seed(engine, path, "tbl") == 6
    assert len(reads) == 2
