"""The docs site builds with ``mkdocs build --strict`` (no warnings: broken links,
missing snippet files or sections, docstrings mkdocstrings cannot parse, pages
left out of the nav), so running pytest alone catches a broken docs build.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).parents[2]


def test_mkdocs_build_strict(tmp_path: Path) -> None:
    site = tmp_path / "site"
    result = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(site)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr
    assert "WARNING" not in result.stderr, result.stderr
    cli = (site / "cli" / "index.html").read_text(encoding="utf-8")
    assert "singletable serve" in cli and "--require-auth" in cli  # the generated reference
    api = (site / "api" / "index.html").read_text(encoding="utf-8")
    assert 'id="singletable.db.DB"' in api  # mkdocstrings rendered the reference
