"""The ``singletable explain`` commands the docs show run as shown, and print what the page says.

Every ```bash block of docs/*.md that holds a ``singletable explain`` line is run
line by line: ``cd DIR`` moves to DIR (relative to the repository root), and each
``singletable ...`` line runs the CLI with exactly those arguments (through
``python -m singletable.cli``, so the checkout's code is the one run). Each must
exit 0. When the page's next fenced block is ```json, it is the output the page
promises, and must equal what the command printed.

(explain never sends anything, so its commands are safe to run; the ``report``
and ``tables`` commands in the pages write files or need a model module of the
reader's, and are covered by tests/cli.)
"""

from __future__ import annotations

import json
import os
import shlex
import subprocess
import sys
from pathlib import Path

import pytest
from test_docs_code import PAGES, blocks

ROOT = Path(__file__).parents[2]


def shown_commands() -> list[tuple[str, int, list[str], str | None]]:
    """(page, line, the block's lines, the json block after it or None) for each
    bash block that runs ``singletable explain``."""
    found = []
    for page in PAGES:
        page_blocks = blocks(page)
        for i, (line, language, body) in enumerate(page_blocks):
            if language not in {"bash", "sh", "console"}:
                continue
            if not any(text.strip().startswith("singletable explain") for text in body):
                continue
            after = page_blocks[i + 1] if i + 1 < len(page_blocks) else None
            output = "\n".join(after[2]) if after is not None and after[1] == "json" else None
            found.append((page.name, line, body, output))
    return found


COMMANDS = shown_commands()


def test_the_tutorial_shows_an_explain_command() -> None:
    assert any(page == "tutorial.md" for page, *_ in COMMANDS)


@pytest.mark.parametrize(
    ("page", "line", "body", "output"), COMMANDS, ids=[f"{p}:{n}" for p, n, *_ in COMMANDS]
)
def test_explain_commands_run_as_shown(
    page: str, line: int, body: list[str], output: str | None
) -> None:
    cwd = ROOT
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    printed = ""
    for text in body:
        words = shlex.split(text, comments=True)
        if not words:
            continue
        if words[0] == "cd":
            cwd = (cwd / words[1]).resolve()
            continue
        assert words[0] == "singletable", f"{page}:{line}: not a singletable command: {text}"
        result = subprocess.run(
            [sys.executable, "-m", "singletable.cli", *words[1:]],
            cwd=cwd,
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert result.returncode == 0, f"{page}:{line}: {text}\n{result.stderr}"
        printed = result.stdout
    if output is not None:
        assert json.loads(printed) == json.loads(output), f"{page}:{line}: other output"
