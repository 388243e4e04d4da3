"""The HTML report, rendered in headless Chromium: what a reader sees.

Chromium is driven over the DevTools protocol on a pipe (``--remote-debugging-pipe``:
NUL-separated JSON on file descriptors 3 and 4), so the test needs no browser
driver package. It checks the rendered page, not the HTML source: the visible
text of each section, that the tables and warnings are laid out with a size,
that nothing is wider than the window except code blocks that scroll, and that
the page asked for nothing beyond its own file (one self-contained file).

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
    with tempfile.TemporaryDirectory() as profile:

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
