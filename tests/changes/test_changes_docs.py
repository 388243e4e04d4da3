"""docs/examples/change_events.py (included by docs/change-events.md) does what the page says."""

from __future__ import annotations

import runpy
from pathlib import Path

import pytest

PROGRAM = Path(__file__).parents[2] / "docs" / "examples" / "change_events.py"


def test_the_change_events_page_program(capsys: pytest.CaptureFixture[str]) -> None:
    seen = runpy.run_path(str(PROGRAM), run_name="docs_change_events")["main"]()
    out = capsys.readouterr().out
    assert seen["shipped"] == ["o1"]
    assert seen["handled"] == ["Bea"]
    assert "INSERT Customer {'customer_id': 'c1'} customer_id='c1' name='Ada'" in out
    assert "unknown: unknown entity type 'Audit' on table 'shop'" in out
    # Every change so far, then (from the checkpoint) only the one made after it.
    assert seen["stream"] == [
        ("INSERT", "Order"),
        ("MODIFY", "Order"),
        ("INSERT", "Customer"),
        ("INSERT", None),
        ("INSERT", "Customer"),
        ("INSERT", "Customer"),
        ("INSERT", "Customer"),
    ]
    assert seen["later"] == [("MODIFY", "Customer")]
