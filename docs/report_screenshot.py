"""Make docs/img/report.png, the picture of the HTML report on the Reports page.

    python docs/report_screenshot.py [OUTPUT.png]

Renders the report of the page's example model (tests/report/report_shop_model.py)
with the command users run (``singletable report FILE --format html``), then has
headless Chromium (Debian's ``chromium``) draw it at 1280x1100 and save the PNG.
Run it again whenever the report's look changes, and commit the image;
tests/docs/test_docs_site.py checks that it still runs and that the page shows it.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).parents[1]
MODEL = "tests/report/report_shop_model.py"
SIZE = (1280, 1100)


def main(output: Path) -> None:
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if chromium is None:
        sys.exit("needs chromium (apt-get install chromium)")
    with tempfile.TemporaryDirectory() as work:
        html = Path(work) / "report.html"
        subprocess.run(
            [sys.executable, "-m", "singletable.cli", "report", MODEL, "--format", "html",
             "-o", str(html)],
            cwd=ROOT, check=True,
        )  # fmt: skip
        shot = Path(work) / "report.png"
        subprocess.run(
            [chromium, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
             "--disable-background-networking", "--disable-component-update",
             "--disable-sync", "--disable-dev-shm-usage", "--hide-scrollbars",
             f"--user-data-dir={work}/profile", f"--window-size={SIZE[0]},{SIZE[1]}",
             f"--screenshot={shot}", html.as_uri()],
            check=True, capture_output=True,
        )  # fmt: skip
        output.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(shot, output)
    print(f"wrote {output}")


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT / "docs" / "img" / "report.png")
