"""examples/seed_tables.py: the seed documents' plain-attribute tables (Users, Orders
with CustomerIndex, Accounts) beside a single-table design, in one DB, on every
backend of tests/orm/conftest.py, with a transaction and batches across tables."""

from __future__ import annotations

import runpy
from decimal import Decimal
from pathlib import Path

import pytest

from singletable import DB
from singletable.backends.base import Backend

EXAMPLE = Path(__file__).parents[2] / "examples" / "seed_tables.py"


def test_the_seed_designs_run_as_a_script(capsys: pytest.CaptureFixture[str]) -> None:
    runpy.run_path(str(EXAMPLE), run_name="__main__")
    out = capsys.readouterr().out
    assert "user123's orders in March 2026: ['o1', 'o2']" in out
    assert "user123's balance 400" in out
    assert "A=70 B=80" in out


def test_the_seed_designs_on_every_backend(backend: Backend) -> None:
    example = runpy.run_path(str(EXAMPLE), run_name="seed_tables")
    seen = example["main"](DB(backend))
    assert seen["march"] == ["o1", "o2"]  # o3 is in April, o4 is grace's
    assert seen["user_balance"] == Decimal(400)
    assert seen["refused"] == ["ConditionalCheckFailed", "None"]
    assert seen["balances"] == {"A": Decimal(70), "B": Decimal(80)}
    assert seen["page"] == (1, 2)
    # The tables are keyed by the plain attributes, typed by the fields.
    users = backend.call("DescribeTable", {"TableName": "Users"})["Table"]
    assert sorted(
        (d["AttributeName"], d["AttributeType"]) for d in users["AttributeDefinitions"]
    ) == [("created_at", "N"), ("user_id", "S")]
    item = backend.call(
        "GetItem",
        {"TableName": "Accounts", "Key": {"AccountID": {"S": "A"}}},
    )["Item"]
    assert item["AccountID"] == {"S": "A"} and item["Balance"] == {"N": "70"}
