"""mkdocs hook: write the stylesheet of the code highlighting, from Pygments, into the site.

Code blocks are highlighted when the site is built (``pymdownx.highlight`` with
``use_pygments``: each token becomes a ``<span class="k">``, ...), so the pages need
no JavaScript highlighter and load nothing from a CDN (the theme's highlight.js is
turned off in mkdocs.yml). The classes' colours come from the Pygments style below,
written as ``css/pygments.css`` (listed in ``extra_css``) at every build, so they
always match the installed Pygments.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

STYLE = "friendly"
PATH = "css/pygments.css"


def stylesheet() -> str:
    """The CSS of :data:`STYLE` for the ``.highlight`` blocks pymdownx.highlight writes."""
    from pygments.formatters import HtmlFormatter

    return str(HtmlFormatter(style=STYLE).get_style_defs(".highlight")) + "\n"


def on_post_build(config: Any) -> None:
    """mkdocs event: write the stylesheet into the built site."""
    target = Path(config["site_dir"]) / PATH
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(stylesheet(), encoding="utf-8")
