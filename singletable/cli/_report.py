"""``singletable report MODULE[:TABLE] --format md|html [-o FILE]``: the access-pattern report.

The module (a dotted name or a ``.py`` file's path) is imported; its
:class:`~singletable.table.Table` objects (or the one named) and the
:class:`~singletable.patterns.Collection` objects it defines make
the report.

The item-collection views draw example items synthesized from the model, or items
read from data: ``--data FILE`` (a ``singletable data export`` file of the table)
or ``--sample URL`` (a bounded Scan of the table at that DynamoDB endpoint). Either
reads a few partitions per entity, never the whole table.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from singletable.cli._aws import connect
from singletable.cli._errors import UsageError
from singletable.cli._models import import_model, load_tables, split_model

if TYPE_CHECKING:
    from singletable.report import SampleItem
    from singletable.table import Table

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
    source = report.add_mutually_exclusive_group()
    source.add_argument(
        "--data",
        metavar="FILE",
        help="draw the item collections from this 'singletable data export' file of the table",
    )
    source.add_argument(
        "--sample",
        metavar="URL",
        nargs="?",
        const=_AWS,
        help="draw the item collections from items read (a bounded Scan) at this endpoint; "
        "without URL, from DynamoDB itself (AWS, for --region/--profile)",
    )
    report.add_argument(
        "--region",
        metavar="REGION",
        help="the region of the table --sample reads (default: the environment's or the "
        "profile's; us-east-1 with a URL if none is configured)",
    )
    report.add_argument(
        "--profile",
        metavar="NAME",
        help="take --sample's credentials and settings from this profile of the AWS config files",
    )
    report.add_argument(
        "--sample-limit",
        type=int,
        default=2000,
        metavar="N",
        help="read at most N items for --data/--sample (default 2000)",
    )


_AWS = "aws"  # --sample without a URL: DynamoDB itself


def run(args: argparse.Namespace) -> int:
    """Run ``report``; user errors raise :class:`~singletable.cli._errors.UsageError`."""
    from singletable.patterns import Collection
    from singletable.report import build_report, render

    tables = list(load_tables(args.model).values())
    module = import_model(split_model(args.model)[0])  # imported already: cached
    collections = [value for value in vars(module).values() if isinstance(value, Collection)]
    samples = _samples(args, tables)
    text = render(build_report(tables, collections, samples), args.format)
    if args.output is None:
        sys.stdout.write(text)
        return 0
    try:
        Path(args.output).write_text(text, encoding="utf-8")
    except OSError as error:
        raise UsageError(f"cannot write {args.output}: {error.strerror or error}") from None
    return 0


def _samples(args: argparse.Namespace, tables: list[Table]) -> dict[str, list[SampleItem]]:
    """The items ``--data`` or ``--sample`` name, by table name (none without either)."""
    from singletable.errors import SingletableError
    from singletable.report import SampleError, sample_file, sample_table

    data = getattr(args, "data", None)
    url = getattr(args, "sample", None)
    if data is None and url is None:
        return {}
    if len(tables) != 1:
        names = ", ".join(t.name for t in tables)
        raise UsageError(
            f"{'--data' if data else '--sample'} reads one table; the module has {names} "
            "(name one: MODULE:TABLE)"
        )
    (table,) = tables
    limit = max(1, args.sample_limit)
    if data is not None:
        try:
            return {table.name: sample_file(data, table, limit=limit)}
        except SampleError as error:
            raise UsageError(str(error)) from None
    endpoint = None if url == _AWS else url
    where = "DynamoDB" if endpoint is None else endpoint
    options = argparse.Namespace(endpoint_url=endpoint, region=args.region, profile=args.profile)
    backend = connect(options)  # the credentials chain, profile and region as `data` takes them
    try:
        return {table.name: sample_table(backend, table, limit=limit)}
    except SingletableError as error:
        raise UsageError(f"reading {table.name!r} at {where}: {error}") from None
    finally:
        backend.close()
