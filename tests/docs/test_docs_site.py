"""The built docs site: code highlighted at build time, nothing loaded from elsewhere,
no table wider than the page, and the report page showing a picture of the report.

The layout is checked in headless Chromium (Debian's ``chromium``; skipped where it
is missing, required in CI): each page is loaded at a laptop and a narrow width
with a script appended that measures, after the theme's own scripts ran, every
table against the text column; ``--dump-dom`` prints the page with the result.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).parents[2]
sys.path.insert(0, str(ROOT / "docs" / "hooks"))
import pygments_css  # noqa: E402  (the docs hook, imported from its directory)

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("site")
    result = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(path)],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr
    return path


def _pages(site: Path) -> list[Path]:
    return sorted(p for p in site.rglob("index.html") if "search" not in p.parts)


def test_code_is_highlighted_at_build_time(site: Path) -> None:
    tutorial = (site / "tutorial" / "index.html").read_text(encoding="utf-8")
    # Pygments' token classes in the HTML itself: keywords, names, strings.
    assert re.search(r'<div class="highlight"><pre><span></span><code>', tutorial)
    for token in ('<span class="kn">import</span>', '<span class="k">', '<span class="s2">'):
        assert token in tutorial, token
    css = (site / "css" / "pygments.css").read_text(encoding="utf-8")
    assert css == pygments_css.stylesheet() and ".highlight .k " in css
    assert 'href="../css/pygments.css"' in tutorial


def test_no_page_loads_anything_from_elsewhere(site: Path) -> None:
    external = re.compile(r'<(?:script|link|img)\b[^>]*\b(?:src|href)="(?:https?:)?//', re.I)
    for page in _pages(site):
        html = page.read_text(encoding="utf-8")
        assert not external.search(html), page
        assert "highlight.js" not in html and "hljs" not in html, page


def test_the_report_page_shows_a_screenshot_of_the_html_report(site: Path) -> None:
    html = (site / "reports" / "index.html").read_text(encoding="utf-8")
    image = re.search(r'<img alt="([^"]+)" src="([^"]+)"', html)
    assert image is not None and "report" in image.group(1).lower()
    png = (site / "reports" / image.group(2)).resolve()
    assert png.read_bytes().startswith(b"\x89PNG")
    width = int.from_bytes(png.read_bytes()[16:20], "big")
    assert width >= 1000  # a real screenshot, at a laptop's width


MEASURE = """
<script>
window.addEventListener("load", () => setTimeout(() => {
  const column = document.querySelector(".rst-content").getBoundingClientRect();
  const tables = [...document.querySelectorAll(".rst-content table")].map((table) => {
    const scroller = table.closest(".wy-table-responsive") || table;
    const box = scroller.getBoundingClientRect();
    return {overflow: getComputedStyle(scroller).overflowX, right: box.right,
            width: box.width, scrolls: scroller.scrollWidth > scroller.clientWidth + 1,
            text: table.innerText.slice(0, 40)};
  });
  const out = document.createElement("pre");
  out.id = "measured";
  out.textContent = JSON.stringify({
    column: column.right, page: document.documentElement.scrollWidth,
    window: document.documentElement.clientWidth, tables});
  document.body.appendChild(out);
}, 0));
</script>
"""


def _measure(page: Path, width: int) -> dict[str, object]:
    assert CHROMIUM is not None
    measured_page = page.with_name("measured.html")
    measured_page.write_text(
        page.read_text(encoding="utf-8").replace("</body>", MEASURE + "</body>"), encoding="utf-8"
    )
    result = subprocess.run(
        [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--disable-dev-shm-usage", f"--window-size={width},900",
         "--virtual-time-budget=3000", "--dump-dom", measured_page.as_uri()],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    found = re.search(r'<pre id="measured">(.*?)</pre>', result.stdout, re.S)
    assert found is not None, result.stderr[-2000:]
    measured: dict[str, object] = json.loads(found.group(1).replace("&quot;", '"'))
    return measured


@pytest.mark.skipif(CHROMIUM is None and os.environ.get("CI") != "true", reason="no chromium")
@pytest.mark.parametrize("width", [1280, 760, 480])
@pytest.mark.parametrize("name", ["reports", "local-engine", "from-pynamodb", "concepts", "api"])
def test_no_table_is_wider_than_the_page(site: Path, name: str, width: int) -> None:
    measured = _measure(site / name / "index.html", width)
    tables = measured["tables"]
    assert isinstance(tables, list) and tables, name  # pages chosen for their tables
    assert measured["page"] == measured["window"]  # nothing widens the page (no scrollbar)
    column = measured["column"]
    assert isinstance(column, float | int)
    for table in tables:
        assert table["overflow"] == "auto", table  # a wide table scrolls in its box
        assert table["right"] <= column + 1, table  # and the box stays in the column
