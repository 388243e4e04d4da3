"""``singletable report MODULE[:TABLE] --format md|html [-o FILE]``: the access-pattern report.

The module (a dotted name or a ``.py`` file's path) is imported; its
:class:`~singletable.table.Table` objects (or the one named) and the
:class:`~singletable.patterns.Collection` objects it defines make
the report.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

__all__ = ["register", "run"]


def register(commands: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """Add the ``report`` subcommand to ``commands``."""
    report = commands.add_parser(
        "report",
        help="render the access-pattern report of a model",
        description="Render the access-pattern report (tables, entities, patterns, warnings).",
    )
    report.add_argument(
        "model", metavar="MODULE[:TABLE]", help="module (or .py file) holding the Table objects"
    )
    report.add_argument("--format", choices=("md", "html"), default="md", help="output format")
    report.add_argument("-o", "--output", metavar="FILE", help="write here (default: stdout)")


def run(args: argparse.Namespace) -> int:
    """Run ``report``; user errors raise :class:`singletable._usage.UsageError`."""
    from singletable._cli_tables import _load_tables, import_model, split_model
    from singletable._usage import UsageError
    from singletable.patterns import Collection
    from singletable.report import build_report, render

    tables = list(_load_tables(args.model).values())
    module = import_model(split_model(args.model)[0])  # imported already: cached
    collections = [value for value in vars(module).values() if isinstance(value, Collection)]
    text = render(build_report(tables, collections), args.format)
    if args.output is None:
        sys.stdout.write(text)
        return 0
    try:
        Path(args.output).write_text(text, encoding="utf-8")
    except OSError as error:
        raise UsageError(f"cannot write {args.output}: {error.strerror or error}") from None
    return 0
