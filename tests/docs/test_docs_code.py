"""Code shown in the docs is taken from files that tests run.

Every ```python block in docs/*.md must consist of pymdownx.snippets includes
(``--8<-- "path:section"``) of Python files that the test suite runs: examples/
(tests/examples), docs/examples/ (tests/docs/test_docs_examples.py) or a test
file. A block written inline fails here, with the page and line. Shell, text
and Markdown blocks (commands, output, report excerpts) are not Python and may
be inline.

Every include, in any block, must name an existing file and section (mkdocs
build --strict checks that too; this test says which page is wrong without a
build). A line-range include (``path:START:END``) of a non-Python file must
cover a whole Markdown section, so that a regenerated golden file cannot shift
the excerpt silently.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).parents[2]
DOCS = ROOT / "docs"
PAGES = sorted(DOCS.glob("*.md"))

# Python blocks that may be written inline, each with the reason. Keep it empty
# if at all possible; a block here is code no test runs.
INLINE_ALLOWED: dict[tuple[str, int], str] = {}

# Where included Python must come from: files the test suite runs.
RUN_BY_TESTS = ("examples/", "docs/examples/", "tests/")

FENCE = re.compile(r"^(?P<indent>\s*)(?P<fence>`{3,}|~{3,})\s*(?P<info>[\w+-]*)")
SNIPPET = re.compile(r'^\s*-{1,}8<-{1,}\s+"(?P<target>[^"]+)"\s*$')
PYTHON = {"python", "py", "python3", "pycon"}


def blocks(page: Path) -> list[tuple[int, str, list[str]]]:
    """The fenced blocks of a page: (line number of the fence, language, body lines)."""
    found = []
    lines = page.read_text(encoding="utf-8").splitlines()
    i = 0
    while i < len(lines):
        match = FENCE.match(lines[i])
        if match is None:
            i += 1
            continue
        fence, start = match["fence"], i
        body = []
        i += 1
        while i < len(lines) and not lines[i].strip().startswith(fence):
            body.append(lines[i])
            i += 1
        found.append((start + 1, match["info"].lower(), body))
        i += 1
    return found


def includes(page: Path) -> list[tuple[int, str]]:
    """Every snippet include line of a page, with its line number."""
    return [
        (n, match["target"])
        for n, line in enumerate(page.read_text(encoding="utf-8").splitlines(), 1)
        if (match := SNIPPET.match(line))
    ]


def test_the_docs_have_pages() -> None:
    assert len(PAGES) >= 10, [p.name for p in PAGES]


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.name)
def test_python_blocks_are_snippet_includes(page: Path) -> None:
    inline = []
    for line, language, body in blocks(page):
        if language not in PYTHON or (page.name, line) in INLINE_ALLOWED:
            continue
        written = [text for text in body if text.strip() and not SNIPPET.match(text)]
        if written or not body:
            inline.append(f"{page.name}:{line}: {written[:1] or 'empty block'}")
        for text in body:
            match = SNIPPET.match(text)
            if match and not match["target"].startswith(RUN_BY_TESTS):
                inline.append(f"{page.name}:{line}: {match['target']} is not run by the tests")
    assert not inline, "python blocks must include code from tested files:\n" + "\n".join(inline)


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.name)
def test_includes_name_existing_files_and_sections(page: Path) -> None:
    for line, target in includes(page):
        path, _, selector = target.partition(":")
        source = ROOT / path
        assert source.is_file(), f"{page.name}:{line}: no file {path}"
        text = source.read_text(encoding="utf-8").splitlines()
        if not selector:
            continue
        if re.fullmatch(r"\d+:\d+", selector):
            start, end = (int(n) for n in selector.split(":"))
            assert source.suffix != ".py", f"{page.name}:{line}: use a named section in {path}"
            assert text[start - 1].startswith("#"), (
                f"{page.name}:{line}: {path} line {start} is not a heading: {text[start - 1]!r}"
            )
            after = text[end:]
            assert not after or (after[0] == "" and (len(after) == 1 or after[1][:1] == "#")), (
                f"{page.name}:{line}: {path} lines {start}-{end} stop inside a section"
            )
            continue
        starts = [n for n, t in enumerate(text) if f"--8<-- [start:{selector}]" in t]
        ends = [n for n, t in enumerate(text) if f"--8<-- [end:{selector}]" in t]
        assert len(starts) == 1 and len(ends) == 1 and starts[0] < ends[0], (
            f"{page.name}:{line}: {path} needs one [start:{selector}] before one [end:{selector}]"
        )


def test_the_api_reference_covers_every_public_name() -> None:
    import singletable

    api = (DOCS / "api.md").read_text(encoding="utf-8")
    listed = set(re.findall(r"(?:^:::\s+[\w.]+\.|^\s+-\s+)(\w+)\s*$", api, re.MULTILINE))
    missing = sorted(set(singletable.__all__) - listed)
    assert not missing, f"docs/api.md does not list {missing}"
