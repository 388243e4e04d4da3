"""The singletable command's report subcommand, run as users run it."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

EXAMPLES = Path(__file__).parents[2] / "examples"


def test_report_renders_an_example_model_to_a_file(tmp_path: Path) -> None:
    out = tmp_path / "shop.html"
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "singletable.cli",
            "report",
            "ecommerce",
            "--format",
            "html",
            "-o",
            str(out),
        ],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=EXAMPLES,
    )
    assert result.returncode == 0, result.stderr
    html = out.read_text()
    assert html.lstrip().lower().startswith("<!doctype html>")
    assert "Order.by_status" in html and "GSI1" in html
    assert "<link" not in html and "<script src" not in html  # one self-contained file


def test_report_of_an_unknown_module_is_one_line() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "singletable.cli", "report", "no_such_module_xyz", "--format", "md"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2
    assert result.stderr.startswith("singletable: error: ") and result.stderr.count("\n") == 1
