"""mkdocs hook: fill docs/cli.md with the ``--help`` text of every ``singletable`` command.

The reference is generated from the argparse parser (``singletable.cli._main._parser()``)
at build time, so it cannot drift from the CLI: a new subcommand or option shows
up on the next build. ``<!-- cli-reference -->`` in a page is replaced by one
section per command and subcommand, each holding that parser's help as a text block.
"""

from __future__ import annotations

import argparse
import os
from collections.abc import Iterator
from typing import Any

MARKER = "<!-- cli-reference -->"
# argparse wraps help at $COLUMNS; a fixed width keeps the output independent of the terminal.
WIDTH = "88"


def walk(parser: argparse.ArgumentParser) -> Iterator[argparse.ArgumentParser]:
    """``parser`` and, depth first in declaration order, every subcommand's parser."""
    yield parser
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            seen: set[int] = set()
            for sub in action.choices.values():
                if id(sub) not in seen:  # aliases map several names to one parser
                    seen.add(id(sub))
                    yield from walk(sub)


def reference() -> str:
    """The Markdown for every command: a heading with its ``prog`` and its help text."""
    from singletable.cli._main import _parser

    saved = os.environ.get("COLUMNS")
    os.environ["COLUMNS"] = WIDTH
    try:
        sections = []
        for parser in walk(_parser()):
            level = "#" * min(2 + parser.prog.count(" "), 6)
            sections.append(f"{level} `{parser.prog}`\n\n```text\n{parser.format_help()}```\n")
    finally:
        if saved is None:
            del os.environ["COLUMNS"]
        else:
            os.environ["COLUMNS"] = saved
    return "\n".join(sections)


def on_page_markdown(markdown: str, page: Any, config: Any, files: Any) -> str:
    """mkdocs event: replace the marker with the generated reference."""
    if MARKER not in markdown:
        return markdown
    return markdown.replace(MARKER, reference())
