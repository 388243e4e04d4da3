"""docs/examples/reads.py and docs/examples/unique_values.py run and do what
docs/modelling.md says ("Scans, refresh and find", "Unique values")."""

from __future__ import annotations

import runpy
from pathlib import Path
from typing import Any

import pytest

DOCS_EXAMPLES = Path(__file__).parents[2] / "docs" / "examples"


def run_main(name: str) -> dict[str, Any]:
    namespace = runpy.run_path(str(DOCS_EXAMPLES / f"{name}.py"), run_name=f"docs_{name}")
    result: dict[str, Any] = namespace["main"]()
    return result


@pytest.mark.parametrize("name", ["reads", "unique_values"])
def test_each_program_runs_as_a_script(name: str, capsys: pytest.CaptureFixture[str]) -> None:
    runpy.run_path(str(DOCS_EXAMPLES / f"{name}.py"), run_name="__main__")
    assert capsys.readouterr().out


def test_scans_refresh_and_find_do_what_the_page_says() -> None:
    seen = run_main("reads")
    assert seen["big"] == ["o09", "o10", "o11"]
    assert seen["count"] == (12, 12) and seen["paged"] == 12
    assert seen["parallel"] == [f"o{n:02}" for n in range(12)] and seen["share"]
    assert seen["refresh"] == ("shipped", "returned")
    assert seen["shipped"] == ["o03", "o09"]
    assert seen["reasons"] == (
        "Order.for_customer (table): key from customer_id; filter on status",
        "the index GSI1 key: key from status, order_id",
    )
    assert seen["by_total"] == (True, ["o07"])
    assert "no access pattern is keyed on total" in seen["refused"]
    assert "allow_scan=True" in seen["refused"]
    assert seen["async"] == ["o00", "o01", "12"]


def test_unique_values_do_what_the_page_says() -> None:
    seen = run_main("unique_values")
    holder = {"PK": {"S": "USER#u1"}, "SK": {"S": "PROFILE"}}
    assert seen["clash"] == ("User", "email", "ada@example.com", holder)
    assert "User.email 'ada@example.com' is already taken" in seen["message"]
    assert seen["guard"] == ({"S": "_unique"}, {"S": '{"PK":{"S":"USER#u1"},"SK":{"S":"PROFILE"}}'})
    assert "a batch write cannot keep guard items in step" in seen["batch"]
    assert seen["users"] == [("u2", "ada@example.com"), ("u3", "ada@new.example")]
    operation, request = seen["create"]
    assert operation == "TransactWriteItems"
    assert [a["Put"]["Item"]["PK"]["S"] for a in request["TransactItems"]] == [
        "USER#u9",
        "UNIQUE#User#email#x@y",
    ]
