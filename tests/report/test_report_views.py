"""The report's pictures: item-collection views (table, GSIs, LSIs), the access-pattern
matrix, linked warnings, and the views drawn from data (--data FILE, --sample URL)."""

from __future__ import annotations

import argparse
import json
import re
from collections.abc import Iterator
from datetime import UTC, datetime
from decimal import Decimal
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest
import report_shop_model as model

from singletable.backends.engine import LocalBackend
from singletable.cli import UsageError, _report
from singletable.db import DB
from singletable.entity import Entity, Keys
from singletable.report import (
    Report,
    SampleError,
    SampleItem,
    build_report,
    render,
    sample_file,
    sample_table,
)
from singletable.report._samples import entity_of, select_items
from singletable.report._views import IndexView
from singletable.server import Server
from singletable.table import Table

GOLDEN = Path(__file__).parent / "golden"


@pytest.fixture(scope="module")
def report() -> Report:
    return build_report([model.shop], [model.customer_page])


def _views(report: Report) -> dict[str | None, IndexView]:
    return {v.index: v for v in report.tables[0].views}


def _rows(view: IndexView) -> list[tuple[str, str, str, list[str]]]:
    """(partition key, sort key, entity, attribute names) of every item drawn."""
    return [
        (block.pk, row.sk, row.entity, [chip.name for chip in row.chips])
        for block in view.diagram.blocks
        for row in block.rows
    ]


def test_the_table_view_shows_collections_of_several_items(report: Report) -> None:
    table = _views(report)[None]
    assert (table.kind, table.pk, table.sk) == ("table", "PK", "SK")
    rows = _rows(table)
    customer = [(sk, entity) for pk, sk, entity, _ in rows if pk == "CUSTOMER#customer-1"]
    # two orders of one customer, their lines, the profile: in sort key (UTF-8) order
    assert customer == [
        ("ORDER#2024-05-17T09:30:00.000000Z#order-1", "Order"),
        ("ORDER#2024-05-24T09:30:00.000000Z#order-2", "Order"),
        ("ORDER#order-1#LINE#007", "OrderLine"),
        ("ORDER#order-2#LINE#042", "OrderLine"),
        ("PROFILE", "Customer"),
    ]
    # text order, as DynamoDB sorts strings: the unpadded 42 comes before 7
    assert [sk for pk, sk, _, _ in rows if pk == "TOPSELLERS"] == ["SOLD#42#sku-2", "SOLD#7#sku-1"]
    # one Cart: the second example lands on the same key and is dropped
    assert [e for _, _, e, _ in rows].count("Cart") == 1
    # the view's own keys and the type attribute are columns and colours, not chips
    names = {name for *_, chips in rows for name in chips}
    assert not names & {"PK", "SK", "_type"} and {"GSI1PK", "status"} <= names
    assert (table.items, table.partitions) == (len(rows), 3)


def test_index_views_hold_what_the_index_holds(report: Report) -> None:
    views = _views(report)
    gsi1 = views["GSI1"]
    assert [(pk, sk, e) for pk, sk, e, _ in _rows(gsi1)] == [
        ("STATUS#pending", "2024-05-17T09:30:00.000000Z", "Order"),
        ("STATUS#shipped", "2024-05-24T09:30:00.000000Z", "Order"),
    ]
    # projection ALL: every attribute, the table's keys first
    assert _rows(gsi1)[0][3][:2] == ["PK", "SK"] and "total" in _rows(gsi1)[0][3]
    assert set(gsi1.left_out) == {"Customer", "OrderLine", "Cart", "TopSeller"}  # sparse
    assert gsi1.patterns == (("Order.by_status", "shop-pattern-Order.by_status"),)
    # INCLUDE total on a local index: the keys and total, nothing else
    lsi1 = views["LSI1"]
    assert (lsi1.kind, lsi1.pk, lsi1.projection) == ("local", "PK", "INCLUDE total")
    assert [(sk, chips) for _, sk, _, chips in _rows(lsi1)] == [
        ("TOTAL#19.99", ["PK", "SK", "total"]),
        ("TOTAL#99.5", ["PK", "SK", "total"]),
    ]
    # no entity writes GSI2's keys: an empty view, and every entity left out
    assert views["GSI2"].items == 0 and views["GSI2"].diagram.blocks == ()


def test_the_layout_fits_960_px_and_stacks_without_overlap(report: Report) -> None:
    for view in report.tables[0].views:
        diagram = view.diagram
        geometry = diagram.geometry
        assert diagram.width == 960
        assert geometry["attr_x"] + geometry["attr_w"] <= 960
        bottom = geometry["header_y"] + geometry["header_h"]
        for block in diagram.blocks:
            assert block.y >= bottom
            bottom = block.y + block.height
            assert bottom <= diagram.height
            for row in block.rows:
                assert block.y <= row.y and row.y + row.height <= block.y + block.height + 0.01
                for chip in row.chips:
                    assert chip.x + chip.width <= geometry["attr_w"] + 0.01
                    assert chip.y + geometry["chip_h"] <= row.height
        for entry in diagram.legend:
            assert entry.x + 28 + len(entry.entity) * 6.05 <= 960


def test_long_keys_wrap_and_are_kept_whole_in_the_title() -> None:
    from singletable.report._views import _wrap

    assert _wrap("ORDER#2024-05-17T09:30:00.000000Z#order-1", 250, 7.25, 3) == (
        "ORDER#2024-05-17T09:30:00.000000",
        "Z#order-1",
    )
    assert _wrap("A#" + "x" * 80, 100, 7.25, 2)[-1].endswith("…")
    assert _wrap("", 100, 7.25, 2) == ("",)


def test_the_matrix_puts_each_pattern_under_its_index(report: Report) -> None:
    rows = {row.pattern: row for row in report.tables[0].matrix}
    # columns: the table, GSI1, GSI2, LSI1 (declaration order)
    assert rows["Order.by_status"].column == 1
    assert rows["Order.by_status"].key_condition.startswith("GSI1PK = :pk AND GSI1SK BETWEEN")
    assert (rows["Order.since"].column, rows["Order.since"].order) == (0, "descending")
    assert rows["customer_page"].sort == "(whole partition)"
    assert "global indexes are eventually consistent" in rows["Order.by_status"].read_cost


def test_warnings_link_to_what_they_concern(report: Report) -> None:
    links = {(w.kind, w.subject): w.links for w in report.tables[0].warnings}
    assert links[("unused index", "index GSI2")] == (("GSI2", "shop-view-GSI2"),)
    assert links[("overlapping keys", "Order and OrderLine on the table")] == (
        ("Order", "shop-entity-Order"),
        ("OrderLine", "shop-entity-OrderLine"),
        ("table", "shop-view-table"),
    )
    assert links[("needs a scan", "Cart")] == (("Cart", "shop-entity-Cart"),)


class _Page(HTMLParser):
    """The ids, in-page links, SVG elements and external references of an HTML page."""

    def __init__(self) -> None:
        super().__init__()
        self.ids: list[str] = []
        self.links: list[str] = []
        self.tags: dict[str, int] = {}
        self.external: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags[tag] = self.tags.get(tag, 0) + 1
        for name, value in attrs:
            if name == "id" and value:
                self.ids.append(value)
            if name in ("href", "src", "xlink:href") and value:
                (self.links if value.startswith("#") else self.external).append(value)


def test_every_in_page_link_of_the_html_resolves(report: Report) -> None:
    page = _Page()
    page.feed(render(report, "html"))
    assert len(page.ids) == len(set(page.ids)), "duplicate ids"
    missing = [link for link in page.links if link[1:] not in page.ids]
    assert missing == [] and len(page.links) > 40
    assert page.external == []
    # one SVG per view with items (GSI2 has none), a block per partition
    assert page.tags["svg"] == 3
    assert page.tags["nav"] == 1
    assert "#shop-view-LSI1" in page.links and "#shop-entity-TopSeller" in page.links


def test_print_styles_hide_the_sidebar_and_keep_colours() -> None:
    html = render(build_report([model.shop]), "html")
    style = html[html.index("@media print") :]
    assert "nav.toc { display: none; }" in style and "print-color-adjust: exact" in style


# --------------------------------------------------------------------- from data


def _order(customer: str, n: int, status: str = "pending") -> dict[str, Any]:
    return model.Order(
        customer_id=customer,
        order_id=f"o{n}",
        created_at=datetime(2026, 1, n, tzinfo=UTC),
        status=status,  # type: ignore[arg-type]
        total=Decimal(n),
    ).to_item()


def _export(path: Path, items: list[dict[str, Any]]) -> Path:
    path.write_text("".join(json.dumps({"Item": i}) + "\n" for i in items), encoding="utf-8")
    return path


def test_select_items_is_bounded_and_keeps_collections_together() -> None:
    customers = [model.Customer(customer_id=f"c{n}", name="n", email="e").to_item()
                 for n in range(10)]  # fmt: skip
    orders = [_order(f"c{n % 10}", n % 28 + 1) for n in range(100)]
    stranger = {"PK": {"S": "ELSEWHERE"}, "SK": {"S": "X"}}
    items = [*customers, *orders, stranger]
    picked = select_items(items, model.shop, partitions=3, per_partition=4, limit=1000)
    by_entity: dict[str, set[str]] = {}
    for sample in picked:
        by_entity.setdefault(sample.entity, set()).add(sample.item["PK"]["S"])
    assert by_entity["Customer"] == {"CUSTOMER#c0", "CUSTOMER#c1", "CUSTOMER#c2"}
    # orders come from the customers' partitions (already chosen), at most 4 items each
    assert by_entity["Order"] <= by_entity["Customer"]
    per_partition: dict[str, int] = {}
    for sample in picked:
        per_partition[sample.item["PK"]["S"]] = per_partition.get(sample.item["PK"]["S"], 0) + 1
    assert max(per_partition.values()) == 4
    assert by_entity["(other)"] == {"ELSEWHERE"}


def test_select_items_reads_no_more_than_its_limit() -> None:
    read = 0

    def endless() -> Iterator[dict[str, Any]]:
        nonlocal read
        n = 0
        while True:
            n += 1
            read += 1
            yield model.Customer(customer_id=f"c{n}", name="n", email="e").to_item()

    picked = select_items(endless(), model.shop, partitions=3, limit=50)
    assert read == 50 and len(picked) == 3


def test_a_sampled_item_belongs_to_an_entity_as_a_change_record_does() -> None:
    # The rule ChangeParser and the migrations apply (singletable._identify): a type
    # name decides, and the key shape only speaks for an untyped item that exactly one
    # entity's key templates fit.
    untyped = {"PK": {"S": "CUSTOMER#c1"}, "SK": {"S": "PROFILE"}}
    ghost = {**untyped, model.shop.type_attribute: {"S": "Ghost"}}
    assert entity_of(untyped, model.shop) == "Customer"
    assert entity_of(ghost, model.shop) == "(other)"  # was Customer, by its key shape

    twins = Table("twins")

    class Note(Entity, table=twins):
        owner: str
        id: str
        keys = Keys(pk="OWNER#{owner}", sk="{id}")  # a whole-field sort key: fits any

    class Badge(Entity, table=twins):
        owner: str
        id: str
        keys = Keys(pk="OWNER#{owner}", sk="BADGE#{id}")

    badge = {"PK": {"S": "OWNER#1"}, "SK": {"S": "BADGE#7"}}
    assert entity_of(badge, twins) == "(other)"  # both fit (was Note, declared first)
    assert entity_of({**badge, twins.type_attribute: {"S": "Badge"}}, twins) == "Badge"
    assert entity_of({**badge, twins.type_attribute: {"S": "Note"}}, twins) == "Note"


def test_a_report_from_an_export_file(tmp_path: Path) -> None:
    items = [_order("alice", 1), _order("alice", 2, "shipped"), _order("bob", 3)]
    items.append(model.Customer(customer_id="alice", name="Alice", email="a@x").to_item())
    path = _export(tmp_path / "shop.jsonl", items)
    sample = sample_file(str(path), model.shop)
    assert [s.entity for s in sample] == ["Order", "Order", "Order", "Customer"]
    report = build_report([model.shop], [model.customer_page], {"shop": sample})
    table = report.tables[0]
    assert table.sampled
    views = _views(report)
    assert [(pk, e) for pk, _, e, _ in _rows(views[None])] == [
        ("CUSTOMER#alice", "Order"),
        ("CUSTOMER#alice", "Order"),
        ("CUSTOMER#alice", "Customer"),
        ("CUSTOMER#bob", "Order"),
    ]
    assert [pk for pk, *_ in _rows(views["GSI1"])] == [
        "STATUS#pending",
        "STATUS#pending",
        "STATUS#shipped",
    ]
    # the Markdown's item collections come from the data too
    assert [p.pk for p in table.partitions] == ["CUSTOMER#alice", "CUSTOMER#bob"]
    html = render(report, "html")
    assert "Items read from the table's data" in html and "Alice" in html
    _golden("shop_sampled.html", html)


def _golden(name: str, text: str) -> None:
    import os

    path = GOLDEN / name
    if os.environ.get("SINGLETABLE_REGENERATE_GOLDEN") == "1":
        path.write_text(text, encoding="utf-8")
    assert path.exists(), f"no golden {name}: run with SINGLETABLE_REGENERATE_GOLDEN=1"
    assert text == path.read_text(encoding="utf-8")


def test_bad_export_files_name_the_line(tmp_path: Path) -> None:
    path = tmp_path / "bad.jsonl"
    path.write_text('{"Item": {"PK": {"S": "a"}}}\n\nnot json\n', encoding="utf-8")
    with pytest.raises(SampleError, match=r"bad.jsonl, line 3: not JSON"):
        sample_file(str(path), model.shop)
    path.write_text('{"Item": {"PK": "a"}}\n', encoding="utf-8")
    with pytest.raises(SampleError, match=r"line 1: expected \{\"Item\""):
        sample_file(str(path), model.shop)
    with pytest.raises(SampleError, match="cannot read"):
        sample_file(str(tmp_path / "missing.jsonl"), model.shop)


def test_sample_table_scans_in_bounded_pages() -> None:
    backend = LocalBackend()
    db = DB(backend)
    db.create_table(model.shop)
    for n in range(1, 29):
        db.put(model.Order(customer_id=f"c{n}", order_id="o", created_at=datetime(2026, 1, n,
               tzinfo=UTC), status="pending", total=Decimal(1)))  # fmt: skip
    calls: list[dict[str, Any]] = []
    original = backend.call

    def counting(operation: str, request: dict[str, Any]) -> dict[str, Any]:
        calls.append(request)
        return original(operation, request)

    backend.call = counting  # type: ignore[method-assign]
    sample = sample_table(backend, model.shop, limit=15)
    assert len(sample) == 3 and all(isinstance(s, SampleItem) for s in sample)
    assert len(calls) == 1 and calls[0]["Limit"] == 100  # one page held the 15 items


# --------------------------------------------------------------------------- CLI


def _parse(*argv: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    _report.register(parser.add_subparsers(dest="command"))
    return parser.parse_args(argv)


def test_cli_report_with_data(tmp_path: Path) -> None:
    path = _export(tmp_path / "shop.jsonl", [_order("zed", 5, "shipped")])
    out = tmp_path / "r.html"
    args = _parse("report", "report_shop_model", "--format", "html", "--data", str(path),
                  "-o", str(out))  # fmt: skip
    assert _report.run(args) == 0
    html = out.read_text(encoding="utf-8")
    pictures = "".join(re.findall(r"<svg.*?</svg>", html, flags=re.S))
    assert "CUSTOMER#zed" in pictures and "customer-1" not in pictures  # data, not examples


def test_cli_report_with_sample_from_an_endpoint(tmp_path: Path) -> None:
    with Server() as server:
        db = DB(LocalBackend(server.engine))
        db.create_table(model.shop)
        db.put(model.Customer(customer_id="remote", name="Ann", email="ann@x"))
        out = tmp_path / "r.html"
        args = _parse("report", "report_shop_model:shop", "--format", "html", "--sample",
                      server.url, "-o", str(out))  # fmt: skip
        assert _report.run(args) == 0
    html = out.read_text(encoding="utf-8")
    assert "CUSTOMER#remote" in html and "ann@x" in html


def test_cli_report_sample_errors(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="cannot read"):
        _report.run(_parse("report", "report_shop_model", "--data", str(tmp_path / "no")))
    with Server() as server, pytest.raises(UsageError, match="reading 'shop' at http"):
        _report.run(_parse("report", "report_shop_model", "--sample", server.url))  # none
    with pytest.raises(SystemExit):  # --data and --sample exclude each other
        _parse("report", "m", "--data", "f", "--sample", "u")


def test_numeric_keys_sort_by_value_and_a_table_without_sort_key() -> None:
    from singletable.entity import Entity, Keys
    from singletable.table import GlobalIndex, Table

    table = Table("counters", pk="n", sk=None, pk_type="N",
                  indexes=[GlobalIndex("byScore", pk="kind", sk="score", sk_type="N")])  # fmt: skip

    class Counter(Entity, table=table):
        n: int
        kind: str
        score: int

        keys = Keys(pk="{n}", byScore=("{kind}", "{score}"))

    items = [
        SampleItem("Counter", Counter(n=n, kind="k", score=s).to_item())
        for n, s in ((10, 3), (9, 20), (100, 1))
    ]
    report = build_report([table], samples={"counters": items})
    views = _views(report)
    assert [pk for pk, *_ in _rows(views[None])] == ["9", "10", "100"]  # numbers by value
    assert views[None].diagram.sk_label == "(no sort key)"
    assert [sk for _, sk, _, _ in _rows(views["byScore"])] == ["1", "3", "20"]
    # two tables in one report: every id once, every link to its own table's sections
    page = _Page()
    page.feed(render(build_report([model.shop, table], samples={"counters": items}), "html"))
    assert len(page.ids) == len(set(page.ids))
    assert [link for link in page.links if link[1:] not in page.ids] == []
    assert "#counters-view-byScore" in page.links and "#shop-view-GSI1" in page.links


def test_the_markdown_has_the_matrix_too(report: Report) -> None:
    text = render(report, "md")
    matrix = text[text.index("### Access-pattern matrix") :]
    assert "| Pattern | table | GSI1 | GSI2 | LSI1 | Read cost |" in matrix
    # by_status's cell is the second index column (GSI1), the table's is empty
    assert "| Order.by_status |  | `GSI1PK = :pk AND GSI1SK BETWEEN :sk0 AND :sk1` · between" in matrix
