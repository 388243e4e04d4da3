"""The HTML report, rendered in headless Chromium: what a reader sees.

Chromium is driven over the DevTools protocol on a pipe (``--remote-debugging-pipe``:
NUL-separated JSON on file descriptors 3 and 4), so the test needs no browser
driver package. It checks the rendered page, not the HTML source: the visible
text of each section, that the tables and warnings are laid out with a size,
that nothing is wider than the window except code blocks that scroll, and that
the page asked for nothing beyond its own file (one self-contained file). The
item-collection views are screenshotted one by one; their SVG must hold the
expected shapes, and every text in them must fit its box in the font the browser
really uses (the layout measures text by a character width, which this checks).
Every in-page link (the sidebar's, the warnings', the SVG legends') must name an
element of the page; printed, the sidebar goes and nothing is cut off.

Chromium comes from Debian's ``chromium`` package. ``.ci/run`` installs it in CI;
elsewhere the test is skipped when it is missing (and fails in CI, so a broken
install cannot pass silently).
"""

from __future__ import annotations

import fcntl
import json
import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import report_shop_model as model

from singletable.report import build_report, render

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")

if CHROMIUM is None:
    if os.environ.get("CI") == "true":
        pytest.fail("CI must have chromium (.ci/run installs Debian's package)", pytrace=False)
    pytest.skip("chromium is not installed (apt-get install chromium)", allow_module_level=True)

# The flags the workplace's browser tests use: no sandbox (root in a container), and
# no background connections, which this machine's closed network would refuse.
FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
    "--remote-debugging-pipe",
)


class DevTools:
    """A minimal DevTools-protocol client over Chromium's debugging pipe."""

    def __init__(self, process: subprocess.Popen[bytes], send: int, receive: int) -> None:
        self._process = process
        self._send = send
        self._receive = receive
        self._buffer = b""
        self._next_id = 0
        self.events: list[dict[str, Any]] = []

    def call(self, method: str, session: str | None = None, **params: Any) -> dict[str, Any]:
        """Send one command and wait for its answer (events seen meanwhile are kept)."""
        self._next_id += 1
        message: dict[str, Any] = {"id": self._next_id, "method": method, "params": params}
        if session is not None:
            message["sessionId"] = session
        os.write(self._send, json.dumps(message).encode() + b"\0")
        while True:
            reply = self._read()
            if reply.get("id") == self._next_id:
                if "error" in reply:
                    raise AssertionError(f"{method}: {reply['error']}")
                result: dict[str, Any] = reply["result"]
                return result
            self.events.append(reply)

    def wait_for(self, method: str) -> dict[str, Any]:
        """The first event named ``method`` (already seen, or the next to come)."""
        while True:
            for event in self.events:
                if event.get("method") == method:
                    self.events.remove(event)
                    return event
            self.events.append(self._read())

    def _read(self) -> dict[str, Any]:
        while b"\0" not in self._buffer:
            chunk = os.read(self._receive, 1 << 16)
            if not chunk:
                raise AssertionError(f"chromium closed the pipe (exit {self._process.poll()})")
            self._buffer += chunk
        message, _, self._buffer = self._buffer.partition(b"\0")
        decoded: dict[str, Any] = json.loads(message)
        return decoded


@pytest.fixture(scope="module")
def browser() -> Iterator[DevTools]:
    assert CHROMIUM is not None
    # Chromium reads commands from its fd 3 and writes replies to its fd 4.
    to_browser_r, to_browser_w = os.pipe()
    from_browser_r, from_browser_w = os.pipe()
    # Chromium's helper processes may still write to the profile while it is removed:
    # its files are the browser's, not the test's, so leftovers are not a failure.
    with tempfile.TemporaryDirectory(ignore_cleanup_errors=True) as profile:

        def wire_fds() -> None:  # in the child, before exec; 3 and 4 may be taken
            commands = fcntl.fcntl(to_browser_r, fcntl.F_DUPFD, 10)
            replies = fcntl.fcntl(from_browser_w, fcntl.F_DUPFD, 10)
            os.dup2(commands, 3)
            os.dup2(replies, 4)

        process = subprocess.Popen(
            [CHROMIUM, *FLAGS, f"--user-data-dir={profile}", "about:blank"],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            pass_fds=(3, 4),  # kept open across exec (the rest are closed)
            preexec_fn=wire_fds,  # only dup2 and fcntl: safe before exec
        )
        os.close(to_browser_r)
        os.close(from_browser_w)
        try:
            yield DevTools(process, to_browser_w, from_browser_r)
        finally:
            os.close(to_browser_w)
            os.close(from_browser_r)
            process.terminate()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


# What the test reads off the rendered page, in the page's own JavaScript.
READ_PAGE = """
(() => {
  const box = (e) => e.getBoundingClientRect();
  const shown = (e) => { const r = box(e); return r.width > 0 && r.height > 0; };
  const sections = [...document.querySelectorAll("h2, h3")].map((h) => h.innerText);
  const tables = [...document.querySelectorAll("table")];
  const warnings = [...document.querySelectorAll(".warning")];
  const tooWide = [...document.body.querySelectorAll("*")]
    .filter((e) => !e.closest("pre") && box(e).right > window.innerWidth + 1)
    .map((e) => e.tagName + (e.className ? "." + e.className : ""));
  const pres = [...document.querySelectorAll("pre")];
  return JSON.stringify({
    title: document.title,
    text: document.body.innerText,
    sections,
    tables: tables.length,
    tablesShown: tables.filter(shown).length,
    warnings: warnings.map((w) => w.innerText),
    warningsShown: warnings.filter(shown).length,
    warningColour: warnings.length ? getComputedStyle(warnings[0]).backgroundColor : null,
    tooWide,
    presScroll: pres.every((p) => getComputedStyle(p).overflowX === "auto"),
    pageWidth: document.documentElement.scrollWidth,
    windowWidth: window.innerWidth,
    fontSize: getComputedStyle(document.body).fontSize,
  });
})()
"""


# What the test reads off each item-collection view (inline SVG).
READ_VIEWS = """
(() => {
  const box = (e) => e.getBoundingClientRect();
  const links = [...document.querySelectorAll("a")].map((a) => a.getAttribute("href"));
  const unresolved = links.filter((h) => !h || !h.startsWith("#") ||
                                         !document.getElementById(h.slice(1)));
  const views = [...document.querySelectorAll(".view-box")].map((v) => {
    const svg = v.querySelector("svg.view");
    const r = box(v);
    const out = {id: v.id, x: r.left + scrollX, y: r.top + scrollY, width: r.width,
                 height: r.height, svg: !!svg};
    if (!svg) return out;
    const s = box(svg);
    out.svgRight = s.right;
    out.svgWidth = s.width;
    out.partitions = svg.querySelectorAll("g.partition").length;
    out.pkBoxes = svg.querySelectorAll("rect.pk").length;
    out.items = [...svg.querySelectorAll("g.item")].map((g) => g.dataset.entity);
    out.skFills = [...svg.querySelectorAll("rect.sk")].map((e) => getComputedStyle(e).fill);
    out.legend = [...svg.querySelectorAll("g.legend text")].map((t) => t.textContent);
    out.chips = svg.querySelectorAll("rect.chip").length;
    out.titles = svg.querySelectorAll("text title").length;
    // every text within its box: a chip's name and value, a key's lines in its column
    const misfits = [];
    for (const g of svg.querySelectorAll("g.item")) {
      const chips = [...g.querySelectorAll("rect.chip")];
      const values = [...g.querySelectorAll("text.value")];
      const names = [...g.querySelectorAll("text.name")];
      chips.forEach((c, i) => {
        const room = c.width.baseVal.value - 4;
        for (const t of [values[i], names[i]]) {
          if (t.getComputedTextLength() > room + 1) misfits.push(t.textContent);
        }
      });
      const sk = g.querySelector("rect.sk");
      for (const t of g.querySelectorAll("text.sk-value tspan, text.entity-label")) {
        if (t.getComputedTextLength() > sk.width.baseVal.value - 8) misfits.push(t.textContent);
      }
    }
    for (const p of svg.querySelectorAll("g.partition")) {
      const pk = p.querySelector("rect.pk");
      for (const t of p.querySelectorAll("text.pk-value tspan")) {
        if (t.getComputedTextLength() > pk.width.baseVal.value - 8) misfits.push(t.textContent);
      }
    }
    out.misfits = misfits;
    return out;
  });
  return JSON.stringify({links: links.length, unresolved, views});
})()
"""

# Printed (print media, A4-ish width): the sidebar is gone and nothing is cut off.
READ_PRINT = """
(() => JSON.stringify({
  nav: getComputedStyle(document.querySelector("nav.toc")).display,
  svgsFit: [...document.querySelectorAll("svg.view")].every(
    (s) => s.getBoundingClientRect().right <= window.innerWidth + 1),
  pageWidth: document.documentElement.scrollWidth,
  windowWidth: window.innerWidth,
}))()
"""


def _evaluate(browser: DevTools, session: str, expression: str) -> dict[str, Any]:
    result = browser.call("Runtime.evaluate", session, expression=expression, returnByValue=True)
    value: dict[str, Any] = json.loads(result["result"]["value"])
    return value


def _view_screenshots(
    browser: DevTools, session: str, views: list[dict[str, Any]]
) -> dict[str, bytes]:
    """A PNG of each view, clipped to it (from the whole page, not only the window)."""
    import base64

    shots = {}
    for view in views:
        clip = {key: view[key] for key in ("x", "y", "width", "height")} | {"scale": 1}
        data = browser.call("Page.captureScreenshot", session, format="png", clip=clip,
                            captureBeyondViewport=True)["data"]  # fmt: skip
        shots[view["id"]] = base64.b64decode(data)
        if os.environ.get("SINGLETABLE_SCREENSHOT"):
            stem = Path(os.environ["SINGLETABLE_SCREENSHOT"])
            stem.with_name(f"{stem.stem}-{view['id']}.png").write_bytes(shots[view["id"]])
    return shots


@pytest.fixture(scope="module")
def page(browser: DevTools, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """The report of the test model, rendered at 1280x900; what the page shows."""
    html = render(build_report([model.shop], [model.customer_page]), "html")
    path = tmp_path_factory.mktemp("report") / "report.html"
    path.write_text(html, encoding="utf-8")
    target = browser.call("Target.createTarget", url="about:blank")["targetId"]
    session = browser.call("Target.attachToTarget", targetId=target, flatten=True)["sessionId"]
    browser.call("Emulation.setDeviceMetricsOverride", session, width=1280, height=900,
                 deviceScaleFactor=1, mobile=False)  # fmt: skip
    browser.call("Network.enable", session)
    browser.call("Page.enable", session)
    browser.call("Page.navigate", session, url=path.as_uri())
    browser.wait_for("Page.loadEventFired")
    requested = [
        event["params"]["request"]["url"]
        for event in browser.events
        if event.get("method") == "Network.requestWillBeSent"
    ]
    result = browser.call("Runtime.evaluate", session, expression=READ_PAGE, returnByValue=True)
    shown: dict[str, Any] = json.loads(result["result"]["value"])
    shown["requested"] = requested
    shot = browser.call("Page.captureScreenshot", session, format="png")["data"]
    shown["screenshot"] = shot
    shown["views"] = _evaluate(browser, session, READ_VIEWS)
    shown["view_shots"] = _view_screenshots(browser, session, shown["views"]["views"])
    browser.call("Emulation.setEmulatedMedia", session, media="print")
    browser.call("Emulation.setDeviceMetricsOverride", session, width=794, height=1123,
                 deviceScaleFactor=1, mobile=False)  # fmt: skip  (A4 at 96 dpi)
    shown["print"] = _evaluate(browser, session, READ_PRINT)
    pdf = browser.call("Page.printToPDF", session, printBackground=True)["data"]
    shown["pdf"] = pdf
    if os.environ.get("SINGLETABLE_SCREENSHOT"):  # to look at it: a path to write the PNG
        import base64

        Path(os.environ["SINGLETABLE_SCREENSHOT"]).write_bytes(base64.b64decode(shot))
    return shown


def test_the_page_loads_nothing_but_itself(page: dict[str, Any]) -> None:
    assert len(page["requested"]) == 1 and page["requested"][0].startswith("file://")


def test_every_section_shows_with_its_content(page: dict[str, Any]) -> None:
    assert page["title"] == "Access-pattern report"
    sections = page["sections"]
    assert "Table shop" in sections
    for heading in ("Indexes", "Warnings", "Entities", "Access patterns", "Item collections"):
        assert any(s.startswith(heading) for s in sections), (heading, sections)
    text = page["text"]
    # the table's settings, an entity's key templates with an example, a pattern's request
    assert "NEW_AND_OLD_IMAGES" in text and "expires" in text
    assert "CUSTOMER#{customer_id}" in text and "CUSTOMER#customer-1" in text
    assert "Order.by_status" in text and '"IndexName": "GSI1"' in text
    assert "up to 128 RCU per 1 MB page" in text


def test_tables_and_warnings_are_laid_out(page: dict[str, Any]) -> None:
    assert page["tables"] >= 5 and page["tablesShown"] == page["tables"]
    assert page["warningsShown"] == len(page["warnings"]) >= 6
    assert any(w.startswith("hot partition") for w in page["warnings"])
    assert any(w.startswith("item size") for w in page["warnings"])
    assert page["warningColour"] not in (None, "rgba(0, 0, 0, 0)")  # set off from the text


def test_nothing_is_wider_than_the_window(page: dict[str, Any]) -> None:
    assert page["tooWide"] == []
    assert page["pageWidth"] <= page["windowWidth"]
    assert page["presScroll"]  # long requests scroll inside their block
    assert page["fontSize"] == "16px"


def test_a_screenshot_is_taken(page: dict[str, Any]) -> None:
    import base64

    png = base64.b64decode(page["screenshot"])
    assert png.startswith(b"\x89PNG") and len(png) > 10_000


def test_every_in_page_link_resolves(page: dict[str, Any]) -> None:
    views = page["views"]
    assert views["links"] > 40  # the sidebar, indexes, matrix, warnings, legends
    assert views["unresolved"] == []


def test_each_view_is_drawn_with_its_items(page: dict[str, Any]) -> None:
    views = {v["id"]: v for v in page["views"]["views"]}
    assert list(views) == ["shop-view-table", "shop-view-GSI1", "shop-view-GSI2", "shop-view-LSI1"]
    table = views["shop-view-table"]
    assert table["partitions"] == table["pkBoxes"] == 3
    assert table["items"].count("Order") == 2 and table["items"].count("Customer") == 1
    assert set(table["legend"]) == {"Cart", "Customer", "Order", "OrderLine", "TopSeller"}
    assert table["chips"] > 30 and table["titles"] >= len(table["items"])
    # coloured by entity: as many fills as entities, set off from white
    assert len(set(table["skFills"])) == 5 and "rgb(255, 255, 255)" not in table["skFills"]
    assert views["shop-view-GSI1"]["items"] == ["Order", "Order"]
    assert views["shop-view-GSI1"]["partitions"] == 2
    assert views["shop-view-LSI1"]["items"] == ["Order", "Order"]
    assert not views["shop-view-GSI2"]["svg"]  # nothing in it: a sentence, no picture


def test_views_fit_the_window_and_their_text_fits_its_boxes(page: dict[str, Any]) -> None:
    for view in page["views"]["views"]:
        if not view["svg"]:
            continue
        assert view["svgRight"] <= page["windowWidth"], view["id"]
        assert view["svgWidth"] >= 900, view["id"]  # drawn at its size, not shrunk
        assert view["misfits"] == [], view["id"]


def test_each_view_has_a_screenshot(page: dict[str, Any]) -> None:
    for name, png in page["view_shots"].items():
        assert png.startswith(b"\x89PNG") and len(png) > 2_000, name
    assert len(page["view_shots"]["shop-view-table"]) > len(page["view_shots"]["shop-view-GSI2"])


def test_printed_the_sidebar_goes_and_nothing_is_cut(page: dict[str, Any]) -> None:
    printed = page["print"]
    assert printed["nav"] == "none"
    assert printed["svgsFit"]
    assert printed["pageWidth"] <= printed["windowWidth"]
    import base64

    assert base64.b64decode(page["pdf"]).startswith(b"%PDF")
