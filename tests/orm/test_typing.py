"""Static typing: mypy --strict, with the plugin ``singletable.mypy``, accepts every case in
``typing_cases.py`` and reports the mistakes below; without the plugin, ``field_path()``
gives the same types. Each check runs mypy in a subprocess with a fresh cache."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
CASES = Path(__file__).with_name("typing_cases.py")

BAD = """
from decimal import Decimal
from typing import Literal

from pydantic import BaseModel

from singletable.entity import Entity, Keys
from singletable.table import Table
from singletable.updates import Update


class Address(BaseModel):
    city: str


class Order(Entity, table=Table("bad")):
    order_id: str
    total: Decimal
    count: int = 0
    kind: Literal["web", "shop"] = "web"
    address: Address | None = None
    keys = Keys(pk="O#{order_id}", sk="O")


Order.total > "x"  # expect error
Order.count < 1.5  # expect error
Order.kind.is_in("phone")  # expect error
Order.address.nope  # expect error
Update().set(Order.total, "x")  # expect error
Order.order_id.between(1, 2)  # expect error
Order.total.size() > "x"  # expect error
"""

FALLBACK = """
from decimal import Decimal
from typing import assert_type

from singletable.conditions import Condition, FieldPath, field_path
from singletable.entity import Entity, Keys
from singletable.table import Table


class Order(Entity, table=Table("fallback")):
    order_id: str
    total: Decimal
    keys = Keys(pk="O#{order_id}", sk="O")


assert_type(Order.total, Decimal)  # without the plugin mypy sees the field's type
assert_type(Order.total > 1, bool)  # ... so a comparison looks like a bool
assert_type(field_path(Order.total), FieldPath[Decimal])
assert_type(field_path(Order.total) > 1, Condition)
"""


def _mypy(tmp_path: Path, *files: Path, plugin: bool) -> tuple[int, list[str]]:
    config = tmp_path / "mypy.ini"
    config.write_text(
        "[mypy]\nstrict = True\n" + ("plugins = singletable.mypy\n" if plugin else "")
    )
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "mypy",
            "--config-file",
            str(config),
            "--cache-dir",
            str(tmp_path / "cache"),
            "--no-error-summary",
            "--hide-error-context",
            *map(str, files),
        ],
        cwd=ROOT,
        env={**os.environ, "MYPYPATH": str(ROOT)},
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert "INTERNAL ERROR" not in result.stdout + result.stderr, result.stdout + result.stderr
    lines = [line for line in result.stdout.splitlines() if ": error: " in line]
    return result.returncode, lines


def test_the_plugin_types_field_paths_and_reports_mistakes(tmp_path: Path) -> None:
    bad = tmp_path / "bad_cases.py"
    bad.write_text(BAD)
    code, errors = _mypy(tmp_path, CASES, bad, plugin=True)
    assert code == 1
    assert not [e for e in errors if "typing_cases.py" in e], errors
    by_line: dict[int, list[str]] = {}
    for error in errors:
        match = re.search(r"bad_cases\.py:(\d+): error: (.*)", error)
        assert match, error
        by_line.setdefault(int(match[1]), []).append(match[2])
    expected = [n for n, line in enumerate(BAD.splitlines(), 1) if line.endswith("# expect error")]
    assert sorted(by_line) == expected, errors
    gt, lt, is_in, nope, set_, between, size = (by_line[n] for n in expected)
    assert 'No overload variant of "__gt__" of "Expr" matches argument type "str"' in gt[0]
    assert 'Unsupported operand types for < ("FieldPath[int]" and "float")' in lt[0]
    assert "Literal['phone']" in is_in[0]
    assert nope == [
        '"Address" has no field "nope" (a member of a FieldPath holding Address)  [misc]'
    ]
    assert 'of "set" of "Update"' in set_[0]
    assert len(between) == 2 and 'incompatible type "int"' in between[0]
    assert 'Unsupported operand types for > ("Expr[int]" and "str")' in size[0]


def test_without_the_plugin_field_path_gives_the_types(tmp_path: Path) -> None:
    fallback = tmp_path / "fallback_cases.py"
    fallback.write_text(FALLBACK)
    code, errors = _mypy(tmp_path, fallback, plugin=False)
    assert (code, errors) == (0, [])
