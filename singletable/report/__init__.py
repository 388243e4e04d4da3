"""The access-pattern report: a design document rendered from the compiled model.

::

    from singletable.report import build_report, render

    print(render(build_report([app]), "md"))

:func:`build_report` computes a plain data model (:class:`Report`) from the tables,
their entities and access patterns: nothing in it is kept by hand. :func:`render`
turns it into Markdown (reads well on GitHub) or one self-contained HTML file.

The HTML file draws the example items as each index stores them (inline SVG, no
script), synthesized from the model, or read from data: pass ``samples={table.name:
sample_file("export.jsonl", table)}`` (a ``singletable data export`` file) or
``sample_table(backend, table)`` (a bounded Scan) to :func:`build_report`.
"""

from __future__ import annotations

import json
from typing import Any, Literal

import jinja2

from singletable.report._model import (
    EntityReport,
    IndexReport,
    PatternReport,
    Report,
    TableReport,
    Warning_,
    build_report,
)
from singletable.report._samples import SampleError, SampleItem, sample_file, sample_table
from singletable.report._views import PALETTE, anchor

__all__ = [
    "EntityReport",
    "IndexReport",
    "PatternReport",
    "Report",
    "SampleError",
    "SampleItem",
    "TableReport",
    "Warning_",
    "build_report",
    "render",
    "sample_file",
    "sample_table",
]


def _json(value: Any) -> str:
    return json.dumps(value, indent=2, sort_keys=True, ensure_ascii=False)


def _cell(value: Any) -> str:
    """Text safe in a Markdown table cell."""
    return str(value).replace("|", "\\|").replace("\n", " ")


def _px(value: float) -> str:
    """A coordinate for SVG: at most one decimal, no trailing zeros."""
    return f"{round(value, 1):g}"


def _colour(position: int) -> str:
    """The colour class of the entity at ``position`` in its table (as the views colour it)."""
    return f"e{position % PALETTE}"


def _environment(autoescape: bool) -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("singletable.report", "templates"),
        autoescape=autoescape,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        undefined=jinja2.StrictUndefined,
    )
    env.filters["tojson_pretty"] = _json
    env.filters["cell"] = _cell
    env.filters["anchor"] = anchor
    env.filters["px"] = _px
    env.filters["colour"] = _colour
    return env


def render(report: Report, format: Literal["md", "html"] = "md") -> str:
    """The report as Markdown (``"md"``) or as one self-contained HTML page (``"html"``).

    Raises:
        ValueError: for another format.
    """
    if format not in ("md", "html"):
        raise ValueError(f"unknown report format {format!r} (use 'md' or 'html')")
    env = _environment(autoescape=format == "html")
    return env.get_template(f"report.{format}.j2").render(report=report)
