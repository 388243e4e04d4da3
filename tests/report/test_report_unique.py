"""The report shows the guard items of unique fields: in the entity's description
(``guards``, and the ``unique`` role of the field) and in the item-collection view,
each guard in a partition of its own."""

from __future__ import annotations

import json
from typing import Annotated

from singletable.entity import Entity, Keys, Unique
from singletable.report import build_report, render
from singletable.table import Table

accounts = Table("accounts")


class Member(Entity, table=accounts):
    member_id: str
    email: Annotated[str, Unique]
    nickname: str = ""

    keys = Keys(pk="MEMBER#{member_id}", sk="PROFILE")


def test_the_guards_of_unique_fields_are_in_the_report() -> None:
    (table,) = build_report([accounts]).tables
    (member,) = table.entities
    roles = {f.name: f.role for f in member.fields}
    assert roles["email"] == "unique" and roles["nickname"] == ""
    (guard,) = member.guards
    assert guard.field == "email" and guard.template == "UNIQUE#Member#email#{email}"
    assert guard.example_key.startswith("UNIQUE#Member#email#")
    assert guard.example_item["_type"] == {"S": "_unique"}
    owner = json.loads(guard.example_item["_owner"]["S"])
    assert owner == {"PK": member.example_item["PK"], "SK": member.example_item["SK"]}
    partitions = {p.pk: p for p in table.partitions}
    (row,) = partitions[guard.example_key].items  # a partition of its own
    assert row.entity == "Member.email guard" and row.sk == guard.example_key
    markdown = render(build_report([accounts]), "md")
    assert "Member.email guard" in markdown and guard.example_key in markdown
    assert "Member.email guard" in render(build_report([accounts]), "html")


def test_the_table_view_draws_the_guards_linked_to_their_entity() -> None:
    from tests.report.test_report_views import _Page

    html = render(build_report([accounts]), "html")
    page = _Page()
    page.feed(html)
    assert [link for link in page.links if link[1:] not in page.ids] == []
    (table,) = build_report([accounts]).tables
    (view,) = [v for v in table.views if v.index is None]
    drawn = {row.entity for block in view.diagram.blocks for row in block.rows}
    assert drawn == {"Member", "Member.email guard"}
    legend = {entry.entity: entry.anchor for entry in view.diagram.legend}
    assert legend["Member.email guard"] == legend["Member"] is not None
