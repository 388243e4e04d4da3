"""An entity whose own validators reject the report's synthesized values (issue 13, item 9).

The report synthesizes example values from the field types; an entity's constraints
or validators may reject them. The example item then keeps the keys only, and the
report says so with a warning naming the entity and the validator's message, in the
model and in both renderings, instead of silently showing an item with no attributes.
"""

from __future__ import annotations

from typing import Annotated

import pydantic
from pydantic import Field

from singletable.entity import Entity, Keys
from singletable.patterns import Query
from singletable.report import build_report, render
from singletable.table import Table

shop = Table("strict")


class Coupon(Entity, table=shop):
    coupon_id: str
    code: Annotated[str, Field(pattern=r"^[A-Z]{3}-\d{4}$")]
    percent: int

    keys = Keys(pk="COUPON#{coupon_id}", sk="COUPON")
    by_id = Query()

    @pydantic.field_validator("percent")
    @classmethod
    def _percent_range(cls, value: int) -> int:
        if value % 5:
            raise ValueError("percent must be a multiple of 5")
        return value


class Plain(Entity, table=shop):
    plain_id: str
    note: str

    keys = Keys(pk="PLAIN#{plain_id}", sk="PLAIN")
    by_id = Query()


def test_rejected_examples_are_reported_with_the_validators_message() -> None:
    table = build_report([shop]).tables[0]
    coupon = next(e for e in table.entities if e.name == "Coupon")
    assert coupon.example_problem is not None
    assert "percent must be a multiple of 5" in coupon.example_problem
    assert "code" in coupon.example_problem  # the pattern constraint, by field
    warnings = [w for w in table.warnings if w.kind == "example values"]
    assert [w.subject for w in warnings] == ["Coupon"]
    assert "percent must be a multiple of 5" in warnings[0].reason
    assert "keys only" in warnings[0].reason
    # The entity whose values pass has its full example and no such warning.
    plain = next(e for e in table.entities if e.name == "Plain")
    assert plain.example_problem is None and "note" in plain.example_item


def test_both_renderings_show_the_warning() -> None:
    report = build_report([shop])
    for fmt in ("md", "html"):
        text = render(report, fmt)
        assert "example values" in text
        assert "percent must be a multiple of 5" in text
