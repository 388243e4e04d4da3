"""The access-pattern report: data model, warnings, Markdown/HTML goldens, the CLI."""

from __future__ import annotations

import argparse
import os
import re
import types
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Annotated, Any

import pydantic
import pytest
import report_shop_model as model
from pydantic import Field

from singletable.cli import UsageError, _report
from singletable.entity import Entity, Keys
from singletable.patterns import Query
from singletable.report import Report, build_report, render
from singletable.table import Table

GOLDEN = Path(__file__).parent / "golden"
REGENERATE = os.environ.get("SINGLETABLE_REGENERATE_GOLDEN") == "1"


@pytest.fixture(scope="module")
def report() -> Report:
    return build_report([model.shop], [model.customer_page])


def _warnings(report: Report) -> list[tuple[str, str, str]]:
    return [(w.kind, w.subject, w.reason) for w in report.tables[0].warnings]


def test_table_settings_and_indexes(report: Report) -> None:
    table = report.tables[0]
    assert (table.name, table.pk, table.sk) == ("shop", "PK", "SK")
    assert table.ttl_attribute == "expires"
    assert table.stream == "NEW_AND_OLD_IMAGES"
    by_name = {i.name: i for i in table.indexes}
    assert by_name["GSI2"].projection == "KEYS_ONLY"
    assert by_name["LSI1"].projection == "INCLUDE total"
    assert (by_name["LSI1"].kind, by_name["LSI1"].pk) == ("local", "PK")
    assert by_name["GSI1"].used_by == ("Order.by_status",)
    assert "customer_page" in by_name[None].used_by


def test_entity_fields_and_example_keys(report: Report) -> None:
    entities = {e.name: e for e in report.tables[0].entities}
    order = entities["Order"]
    fields = {f.name: f for f in order.fields}
    assert fields["status"].type == "Literal['pending', 'shipped']"
    assert fields["total"].type == "Decimal"
    assert {f.name: f.role for f in entities["Customer"].fields}["version"] == "version"
    assert {f.name: f.role for f in entities["Cart"].fields}["expires"] == "ttl"
    keys = {k.index: k for k in order.keys}
    assert keys[None].pk_example == "CUSTOMER#customer-1"
    assert keys[None].sk_example == "ORDER#2024-05-17T09:30:00.000000Z#order-1"
    assert (keys["GSI1"].pk_example, keys["GSI1"].sk_example) == (
        "STATUS#pending",
        "2024-05-17T09:30:00.000000Z",
    )
    assert keys["LSI1"].sk_example == "TOTAL#19.99"
    assert order.example_item["_type"] == {"S": "Order"}
    assert entities["Cart"].example_item["expires"] == {"N": "1715938200"}


def test_patterns_carry_the_exact_request(report: Report) -> None:
    patterns = {p.name: p for p in report.tables[0].patterns}
    assert set(patterns) == {
        "Order.for_customer",
        "Order.since",
        "Order.by_status",
        "OrderLine.of_order",
        "TopSeller.ranking",
        "customer_page",
    }
    since = patterns["Order.since"]
    assert since.operation == "Query"
    assert since.order == "descending"
    assert since.request["ScanIndexForward"] is False
    assert since.key_condition == "PK = :pk AND SK BETWEEN :sk0 AND :sk1"
    assert since.request["ExpressionAttributeValues"][":sk0"] == {
        "S": "ORDER#2024-05-17T09:30:00.000000Z#"
    }
    by_status = patterns["Order.by_status"]
    assert by_status.request["IndexName"] == "GSI1"
    assert by_status.example_values["created_at"].startswith("(2024-05-17")
    assert "global indexes are eventually consistent" in by_status.read_cost
    assert patterns["Order.for_customer"].key_condition == "PK = :pk AND begins_with(SK, :sk0)"
    assert patterns["customer_page"].target == "Customer, Order"


def test_warnings_name_the_problem_and_the_reason(report: Report) -> None:
    warnings = _warnings(report)
    kinds = {(kind, subject) for kind, subject, _ in warnings}
    assert ("unused index", "index GSI2") in kinds
    assert ("unused index", "index LSI1") in kinds
    assert ("unused index", "index GSI1") not in kinds
    hot = [w for w in warnings if w[0] == "hot partition"]
    assert [w[1] for w in hot] == [
        "Order on index GSI1: partition key 'STATUS#{status}'",
        "TopSeller on the table: partition key 'TOPSELLERS'",
    ]
    assert "shard" in hot[1][2]
    sort = [w for w in warnings if w[0] == "sort order"]
    assert {w[1] for w in sort} == {
        "Order on index LSI1: sort key 'TOTAL#{total}'",
        "TopSeller on the table: sort key 'SOLD#{sold}#{sku}'",
    }
    assert any("10 comes before 9" in w[2] and "{sold:010}" in w[2] for w in sort)
    overlap = [w for w in warnings if w[0] == "overlapping keys"]
    assert [w[1] for w in overlap] == ["Order and OrderLine on the table"]
    assert "begins_with('ORDER#') for Order also reads OrderLine" in overlap[0][2]
    assert [w[1] for w in warnings if w[0] == "needs a scan"] == ["Cart"]
    assert [(w[1], w[2][:30]) for w in warnings if w[0] == "item size"] == [
        ("Cart", "items can grow without limit, ")
    ]
    # padded ints, datetimes and fixed literals raise nothing
    assert not any("OrderLine" in subject for kind, subject, _ in warnings if kind == "sort order")


def test_without_the_collection_customer_needs_a_scan() -> None:
    warnings = _warnings(build_report([model.shop]))
    assert {s for k, s, _ in warnings if k == "needs a scan"} == {"Cart", "Customer"}


def test_item_collections_group_example_items_by_partition(report: Report) -> None:
    partitions = {p.pk: p for p in report.tables[0].partitions}
    customer = partitions["CUSTOMER#customer-1"]
    assert [(r.entity, r.sk) for r in customer.items] == [
        ("Order", "ORDER#2024-05-17T09:30:00.000000Z#order-1"),
        ("OrderLine", "ORDER#order-1#LINE#007"),
        ("Customer", "PROFILE"),
    ]
    assert customer.items[0].attributes["status"] == "pending"
    assert "GSI1PK" not in customer.items[0].attributes
    assert set(partitions) == {"CART#customer-1", "CUSTOMER#customer-1", "TOPSELLERS"}
    assert partitions["CART#customer-1"].items[0].attributes["items"] == "[]"  # JSON, not wire


def test_nested_values_show_as_json_with_numbers_as_stored() -> None:
    from singletable.report._model import _text

    value = {"M": {"a": {"L": [{"N": "1.50"}, {"NULL": True}, {"BOOL": False}]},
                   "s": {"SS": ["x", "é"]}, "n": {"NS": ["10"]}, "b": {"BS": ["AQ=="]}}}  # fmt: skip
    assert _text(value) == '{"a": [1.50, null, false], "s": ["x", "é"], "n": [10], "b": ["AQ=="]}'
    assert _text({"S": "plain"}) == "plain" and _text({"N": "7"}) == "7"


def _golden(name: str, text: str) -> None:
    path = GOLDEN / name
    if REGENERATE:
        path.write_text(text, encoding="utf-8")
    assert path.exists(), f"no golden {name}: run with SINGLETABLE_REGENERATE_GOLDEN=1"
    assert text == path.read_text(encoding="utf-8")


def test_markdown_golden(report: Report) -> None:
    text = render(report, "md")
    _golden("shop.md", text)
    assert "| GSI2 | global | `GSI2PK` (S) | `GSI2SK` (S) | KEYS_ONLY | (no pattern) |" in text


def test_html_golden_is_self_contained(report: Report) -> None:
    text = render(report, "html")
    _golden("shop.html", text)
    assert text.startswith("<!DOCTYPE html>")
    assert not re.search(r"<(link|script)\b|src=|https?://", text)
    assert "<style>" in text
    # values are escaped: the Literal's quotes and the JSON request
    assert "Literal[&#39;pending&#39;, &#39;shipped&#39;]" in text
    assert '"KeyConditionExpression"' not in text
    assert "&#34;KeyConditionExpression&#34;" in text


def test_render_refuses_an_unknown_format(report: Report) -> None:
    with pytest.raises(ValueError, match="unknown report format 'pdf'"):
        render(report, "pdf")  # type: ignore[arg-type]


def _parse(*argv: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    _report.register(parser.add_subparsers(dest="command"))
    return parser.parse_args(argv)


def test_cli_writes_the_report(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "shop.html"
    assert (
        _report.run(
            _parse("report", "report_shop_model:shop", "--format", "html", "-o", str(out))
        )
        == 0
    )
    assert out.read_text(encoding="utf-8") == (GOLDEN / "shop.html").read_text(encoding="utf-8")
    assert _report.run(_parse("report", "report_shop_model")) == 0
    assert capsys.readouterr().out == (GOLDEN / "shop.md").read_text(encoding="utf-8")


def test_cli_user_errors(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="no table 'nope'"):
        _report.run(_parse("report", "report_shop_model:nope"))
    with pytest.raises(UsageError, match="cannot write"):
        _report.run(_parse("report", "report_shop_model", "-o", str(tmp_path / "x" / "y")))


def _entity_warnings(kind: str, *fields: tuple[str, Any], sk: str = "X") -> list[str]:
    """The reasons of ``kind`` warnings for a one-entity table with ``fields``."""
    table = Table("t")

    def body(namespace: dict[str, Any]) -> None:
        namespace["__annotations__"] = {"thing_id": str, **dict(fields)}
        namespace["keys"] = Keys(pk="THING#{thing_id}", sk=sk)
        namespace["everything"] = Query()

    types.new_class("Thing", (Entity,), {"table": table}, body)
    return [w.reason for w in build_report([table]).tables[0].warnings if w.kind == kind]


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        # collections and blobs without max_length can grow past 400 KB
        ([("tags", list[str])], "tags can grow without limit"),
        ([("blob", bytes)], "blob can grow without limit"),
        ([("counts", dict[str, int])], "counts can grow without limit"),
        ([("nested", "Inner")], "nested.lines can grow without limit"),
        # declared limits that add up past 400 KB
        ([("body", Annotated[str, Field(max_length=120_000)])], "up to 48"),
        ([("rows", Annotated[list[Annotated[bytes, Field(max_length=5000)]],
                            Field(max_length=100)])], "up to 50"),
        # bounded, and well under the limit: nothing
        ([("tags", Annotated[list[str], Field(max_length=20)])], None),
        ([("title", str), ("price", Decimal), ("when", datetime)], None),
        ([("body", Annotated[str, Field(max_length=50_000)])], None),
    ],
)  # fmt: skip
def test_items_that_may_pass_400_kb_are_warned_of(
    fields: list[tuple[str, Any]], expected: str | None
) -> None:
    resolved = [
        (name, Inner if annotation == "Inner" else annotation) for name, annotation in fields
    ]
    reasons = _entity_warnings("item size", *resolved)
    if expected is None:
        assert reasons == []
    else:
        assert len(reasons) == 1 and expected in reasons[0], reasons
        assert "400 KB" in reasons[0]


class Inner(pydantic.BaseModel):
    label: str
    lines: list[int]


def test_dates_kept_as_text_in_a_sort_key_are_warned_of() -> None:
    reasons = _entity_warnings("sort order", ("created_at", str), sk="AT#{created_at}")
    assert len(reasons) == 1 and "ISO 8601 in one zone" in reasons[0]
    assert _entity_warnings("sort order", ("created_at", datetime), sk="AT#{created_at}") == []
    assert _entity_warnings("sort order", ("category", str), sk="C#{category}") == []
