"""mkdocs hook: render the reST markup our docstrings use (cross-reference roles, ``::``).

The docstrings say ``:class:`~singletable.Table``` and the like (they read well
in the source and in ``help()``); mkdocstrings shows roles as literal text. This
hook turns each role in a rendered page into plain code: ``~a.b.C`` shows as
``C``, ``a.b.C`` as it is, as Sphinx would show them. A paragraph that ends in
``::`` (which introduces a literal block in reST) ends in ``:``, and a paragraph
that is only ``::`` is dropped.
"""

from __future__ import annotations

import re
from typing import Any

ROLE = re.compile(
    r":(?:class|meth|func|mod|data|attr|exc|obj|const|py:\w+):<code>(?P<tilde>~?)(?P<target>[^<]+)</code>"
)


def _show(match: re.Match[str]) -> str:
    target = match["target"]
    if match["tilde"]:
        target = target.rsplit(".", 1)[-1]
    return f"<code>{target}</code>"


LITERAL_ONLY = re.compile(r"<p>\s*::\s*</p>")
LITERAL_END = re.compile(r"(?<=\S)::</p>")


def on_page_content(html: str, page: Any, config: Any, files: Any) -> str:
    """mkdocs event: rewrite the reST markup in the page's HTML."""
    html = ROLE.sub(_show, html)
    html = LITERAL_ONLY.sub("", html)
    return LITERAL_END.sub(":</p>", html)
