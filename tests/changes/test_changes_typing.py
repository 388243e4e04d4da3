"""mypy --strict types change events: ``Change[Order]`` carries ``Order`` to ``new`` and
``old``, and a handler of one entity's changes cannot be subscribed to another's."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
CASES = Path(__file__).with_name("typing_changes.py")

BAD = """
from singletable import DB
from typing_changes import Customer, Order
from singletable.changes import Change


def on_customer(change: Change[Customer]) -> None: ...


def wrong(db: DB, change: Change[Order]) -> None:
    db.subscribe(on_customer, entities=[Order])  # expect error
    change.new.total  # expect error
"""


def test_mypy_types_change_events(tmp_path: Path) -> None:
    config = tmp_path / "mypy.ini"
    config.write_text("[mypy]\nstrict = True\nplugins = singletable.mypy\n")
    bad = tmp_path / "bad_changes.py"
    bad.write_text(BAD)
    cases = tmp_path / CASES.name  # both files as top-level modules, side by side
    cases.write_text(CASES.read_text())
    result = subprocess.run(
        [sys.executable, "-m", "mypy", "--config-file", str(config), "--cache-dir",
         str(tmp_path / "cache"), "--no-error-summary", str(cases), str(bad)],
        cwd=tmp_path,
        env={**os.environ, "MYPYPATH": str(ROOT)},
        capture_output=True,
        text=True,
        timeout=300,
    )  # fmt: skip
    errors = [line for line in result.stdout.splitlines() if ": error: " in line]
    assert not [e for e in errors if "bad_changes.py" not in e], errors  # the cases hold
    lines = sorted({int(e.split(":")[1]) for e in errors})
    expected = [n for n, line in enumerate(BAD.splitlines(), 1) if line.endswith("# expect error")]
    assert lines == expected, result.stdout
    assert any('"Callable[[Change[Customer]], None]"' in e for e in errors), errors
    assert any('Item "None" of "Order | None" has no attribute "total"' in e for e in errors)
