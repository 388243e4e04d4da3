"""The programs in docs/examples/ run and do what the pages that include them say.

Each program is loaded from its file and its ``main()`` called; the outcomes are
checked here, so a snippet the docs show cannot silently stop working.
(examples/*.py, which the tutorial includes, are run by tests/examples.)
"""

from __future__ import annotations

import runpy
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

DOCS_EXAMPLES = Path(__file__).parents[2] / "docs" / "examples"


def run_main(name: str) -> dict[str, Any]:
    """Load docs/examples/<name>.py (not as __main__) and call its main()."""
    namespace = runpy.run_path(str(DOCS_EXAMPLES / f"{name}.py"), run_name=f"docs_{name}")
    result: dict[str, Any] = namespace["main"]()
    return result


@pytest.mark.parametrize(
    "name",
    [
        "first_steps",
        "guide",
        "engine_tour",
        "type_name_and_scan",
        "sharing",
        "from_pynamodb",
        "from_electrodb",
        "tracing",
    ],
)
def test_each_program_runs_as_a_script(name: str, capsys: pytest.CaptureFixture[str]) -> None:
    runpy.run_path(str(DOCS_EXAMPLES / f"{name}.py"), run_name="__main__")
    assert capsys.readouterr().out


def test_first_steps() -> None:
    seen = run_main("first_steps")
    assert seen == {"big": ["o1"], "status": "shipped", "shipped": ["o1"]}


def test_guide_conditions_select_what_the_page_says() -> None:
    seen = run_main("guide")
    assert seen["over_30"] == ["o1", "o3"]
    assert seen["pending"] == ["o1", "o4"]
    assert seen["open"] == ["o1", "o2", "o4"]
    assert seen["mid_range"] == ["o1", "o2", "o4"]  # between includes both ends (30)
    assert seen["noted_not_gift"] == ["o2"]  # o1 has a note but is a gift
    assert seen["a_name"] == ["o1", "o3"]  # "Ada's keyboard" and "Al"; "Bo" is too short
    assert seen["new_item"].endswith("the condition did not hold")  # o1 exists


def test_guide_updates_store_what_the_page_says() -> None:
    seen = run_main("guide")
    order = seen["updated"]
    assert order.status == "shipped" and seen["shipped"] == ["o1", "o2"]  # moved in GSI1
    assert order.views == 2  # if_not_exists started the counter at 0, then twice + 1
    assert order.total == Decimal("44.90")  # 49.90 - 5
    assert order.note is None and order.history == ["shipped"]
    assert order.tags == {"gift"} and order.flags is None  # the last flag removed: no set
    assert order.address is not None and order.address.city == "Bergen"
    assert order.address.street == "Storgata 1"  # the other member is kept


def test_guide_reads() -> None:
    seen = run_main("guide")
    assert seen["written"] == 5
    assert seen["found"] == ["o1", None]
    assert seen["newest"] == "o4" and seen["count"] == 4
    assert [row["order_id"] for row in seen["totals"]] == ["o4", "o3", "o2", "o1"]
    assert set(seen["totals"][0]) == {"order_id", "total"}
    assert seen["fresh"] == "o2" and seen["latest"] == ["o4", "o3", "o2", "o1"]
    refused = seen["gsi_consistent"]
    assert "Consistent reads are not supported on global secondary indexes" in refused
    assert "another query" in seen["foreign_cursor"]


def test_engine_tour() -> None:
    seen = run_main("engine_tour")
    assert seen["engine"]["item"] == {"Item": {"PK": {"S": "a"}, "SK": {"S": "b"}}}
    assert seen["engine"]["error"] == (
        "ValidationException",
        "One or more parameter values were invalid: Missing the key SK in the item",
    )
    assert seen["multi_attribute"] == ["m2"]  # round R1, bracket after B
    assert seen["streams"] == {"subscribed": ["INSERT"], "drained": "REMOVE"}
    assert seen["ttl_deleted"] == 1
    assert seen["routed_tables"] == ["app"] and seen["http_tables"] == ["app"]
    assert seen["backends"] == {
        "durable": "hello",
        "boto3": ["n1"],
        "aioboto3": "async",
        "wire": ["n1", "n2"],
        "wire_async": "on the wire",
    }


def test_type_name_is_the_stored_entity_type() -> None:
    seen = run_main("type_name_and_scan")
    assert seen["kinds"] == ({"S": "order"}, {"S": "Customer"})  # type_name=, the class name
    assert "both use entity type 'order' on table 'store'" in seen["clash"]


def test_scan_reads_the_whole_table_and_filters_on_the_type() -> None:
    seen = run_main("type_name_and_scan")
    orders, request = seen["scan"]
    assert orders == ["o0", "o1", "o2"]
    # The only filter is on the entity type (items without one are kept when their
    # key has the entity's shape: written by other code).
    assert request["FilterExpression"] == "#type = :type OR attribute_not_exists(#type)"
    assert request["ExpressionAttributeNames"] == {"#type": "kind"}
    assert request["ExpressionAttributeValues"] == {":type": {"S": "order"}}
    assert "KeyConditionExpression" not in request and "Limit" not in request
    assert seen["counts"] == (8, 3)  # read the 5 customers too; returned the 3 orders


def test_one_db_and_one_async_db_shared() -> None:
    assert run_main("sharing") == {"threads": 200, "tasks": 50}


def test_pynamodb_and_singletable_give_the_same_answers() -> None:
    seen = run_main("from_pynamodb")
    pynamodb, singletable = seen["pynamodb"], seen["singletable"]
    expected = {
        "create_again": "ConditionalCheckFailedException",
        "ada": "Ada",
        "place_again": ["ConditionalCheckFailed", None],  # o1 exists: the count is not bumped
        "order_count": 3,
        "first_week": ["o1", "o2"],
        "pages": [["o1", "o2"], ["o4"]],
        "ship_again": "ConditionalCheckFailedException",
        "status": "shipped",
        "stale": "ConditionalCheckFailedException",
        "o2": (15, 2),  # the stale write of 99 was refused
        "u2_orders": 4,  # o3 and the three of the batch
    }
    assert pynamodb == expected
    assert singletable == expected
    assert isinstance(singletable["o2"][0], Decimal) and isinstance(pynamodb["o2"][0], int | float)


def test_singletable_reads_the_tables_pynamodb_wrote() -> None:
    adopted = run_main("from_pynamodb")["adopted"]
    assert adopted["ada"] == ("Ada", 3)
    mar_1 = datetime(2026, 3, 1, 10, tzinfo=UTC)
    # o1 was shipped by a PynamoDB update (version 2), o2 saved twice (version 2).
    assert adopted["first_week"] == [("o1", mar_1, 2), ("o2", mar_1 + timedelta(days=3), 2)]
    assert adopted["order_date_text"] == {
        "o1": "2026-03-01T10:00:00.000000+0000",  # PynamoDB's UTCDateTimeAttribute
        "o9": "2026-03-01T10:00:00+00:00",  # singletable's plain datetime key
    }
    assert adopted["ending_at_o1"] == ["o9"]  # the range ending at 10:00 misses PynamoDB's o1
    assert "does not match format" in adopted["pynamodb_reads_o9"]
    assert adopted["pynamodb_reads_u3"] == "Alan"  # the _type attribute is ignored


# What docs/examples/from_electrodb.mjs printed when run with ElectroDB 3.9.3 against
# `singletable serve` (its stdout, the items, is docs/examples/from_electrodb_items.json).
ELECTRODB_ANSWERS = {
    "create_again": "ConditionalCheckFailedException",
    "ada": "Ada",
    "first_week": ["o1", "o2"],  # its between stops at the prefix: o4, at the upper end, is out
    "collection": (["Ada"], ["o1", "o2", "o4"]),
    "pages": [["o1", "o2"], ["o4"]],
    "ship_again": "ConditionalCheckFailedException",
    "shipped": ["o1"],
    "transaction": ["None", "ConditionalCheckFailed"],  # and canceled: true
}


def test_the_electrodb_design_in_singletable_gives_electrodb_s_answers() -> None:
    native = run_main("from_electrodb")["native"]
    differs = {"first_week": ["o1", "o2", "o4"]}  # between includes the whole last key
    assert native == {**ELECTRODB_ANSWERS, **differs, "o5": None}  # o5: not written


def test_singletable_reads_and_writes_electrodb_s_items() -> None:
    adopted = run_main("from_electrodb")["adopt"]
    assert adopted["first_week"] == ["o1", "o2", "o4"]
    assert adopted["collection"] == ELECTRODB_ANSWERS["collection"]
    assert adopted["shipped"] == ELECTRODB_ANSWERS["shipped"]
    # Attribute for attribute, what ElectroDB wrote (keys, __edb_e__, __edb_v__).
    assert adopted["o2_item"] == adopted["electrodb_o2_item"]


def test_tracing_sees_every_call() -> None:
    seen = run_main("tracing")
    assert seen["operations"] == ["CreateTable", "PutItem", "Query"]
    assert seen["patterns"] == [None, None, "Order.by_status"]
    assert seen["capacity"] == [None, 2.0, 0.5]  # a write with an index key; a read

