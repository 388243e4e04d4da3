"""``singletable migrate plan|run OLD:MODEL NEW:MODEL``: migrations when the model changes.

``plan`` imports two versions of a model module (``OLD`` and ``NEW``, each
``MODULE[:TABLE]``) and prints, per table and entity, what changes (key templates
per index, index membership, renamed, new and removed fields, type changes, the
schema version), which items a run rewrites and how, and what cannot be migrated
automatically (:mod:`singletable._migrate_plan`).

``run`` rewrites the affected items of each table of ``NEW`` on a DynamoDB
endpoint (``--endpoint-url``: AWS or any compatible service, through boto3) or a
durable local engine file (``--data``): parallel scan segments, conditional
writes that never overwrite a concurrent change (retried, else reported),
progress on stderr, a summary on stdout (:mod:`singletable._migrate_run`). It
records its state in ``--state`` (default ``singletable-migrate.state``, with
``.TABLE`` appended when the model has several tables), removed when it
completes; after an interruption (Ctrl-C stops it cleanly, exit status 130)
``--resume`` continues. ``--dry-run`` computes every rewrite and writes nothing.
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import sys
from typing import TYPE_CHECKING, Any

from singletable.cli import _aws
from singletable.cli._errors import UsageError
from singletable.cli._interrupt import EXIT_INTERRUPTED
from singletable.cli._models import load_tables

if TYPE_CHECKING:
    from singletable.table import Table

__all__ = ["register", "run"]

def register(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the ``migrate`` command (``plan`` and ``run``) to ``commands``."""
    migrate = commands.add_parser(
        "migrate",
        help="plan or run the migration of stored items to a new model",
        description=(
            "Compare two versions of a model module (plan), or rewrite the stored items "
            "of a table to the new one (run)."
        ),
    )
    actions = migrate.add_subparsers(dest="migrate_command", required=True, metavar="ACTION")
    models = argparse.ArgumentParser(add_help=False)
    models.add_argument("old", metavar="OLD", help="the old model: MODULE[:TABLE]")
    models.add_argument("new", metavar="NEW", help="the new model: MODULE[:TABLE]")
    plan = actions.add_parser(
        "plan",
        parents=[models],
        help="list what changes between two models and what a run will rewrite",
        description=(
            "Compare the key templates, index membership, fields and schema versions of "
            "every entity of two model modules; print what a run rewrites and what "
            "cannot be migrated automatically."
        ),
    )
    plan.add_argument("--format", choices=("text", "json"), default="text", help="output format")
    counting = plan.add_argument_group(
        "counting stored items",
        "with any of these, also count the stored items of each entity (a Scan)",
    )
    _aws.add_arguments(counting)
    counting.add_argument("--data", metavar="PATH", help="... in this durable local engine file")
    run_ = actions.add_parser(
        "run",
        parents=[models],
        help="rewrite the stored items of the new model's tables",
        description=(
            "Scan each table of NEW in parallel segments and rewrite every item the new "
            "model renders differently, with conditional writes. Resumable (--resume) "
            "after an interruption; Ctrl-C stops cleanly."
        ),
    )
    _aws.add_arguments(run_)
    run_.add_argument(
        "--data", metavar="PATH", help="a durable local engine file (instead of DynamoDB)"
    )
    run_.add_argument(
        "--segments", type=int, default=4, metavar="N", help="parallel scan segments (default 4)"
    )
    run_.add_argument(
        "--page-size", type=int, metavar="N", help="items per Scan call (default: 1 MB pages)"
    )
    run_.add_argument(
        "--state",
        default="singletable-migrate.state",
        metavar="FILE",
        help="where the run records its progress (default singletable-migrate.state)",
    )
    run_.add_argument("--resume", action="store_true", help="continue an interrupted run")
    run_.add_argument("--dry-run", action="store_true", help="compute the rewrites, write nothing")


def _tables(spec: str) -> list[Table]:
    return list(load_tables(spec).values())


def run(args: argparse.Namespace) -> int:
    """Run ``migrate plan`` or ``migrate run``; returns the exit status.

    Raises:
        singletable.cli.UsageError: a problem the user can fix.
    """
    from singletable.migrations import plan, render_plans

    old, new = _tables(args.old), _tables(args.new)
    if args.migrate_command == "plan":
        plans = plan(old, new)
        if args.data or _aws.given(args):
            _count(args, old, new, plans)
        if args.format == "json":
            print(json.dumps([p.to_json() for p in plans], indent=2))
        else:
            sys.stdout.write(render_plans(plans))
        return 0
    return _run(args, old, new)


def _count(args: argparse.Namespace, old: list[Table], new: list[Table], plans: list[Any]) -> None:
    """Fill in the plans' item counts from the data (one Scan of each table's keys)."""
    from singletable._flows import run
    from singletable.errors import DynamoDBServiceError
    from singletable.migrations import Models, count_entities

    backend = _aws.backend(args)
    by_name = {table.name: table for table in old}
    try:
        for table, table_plan in zip(new, plans, strict=True):
            counts = run(backend, count_entities(Models(by_name.get(table.name), table)))
            for entity in table_plan.entities:
                entity.stored = counts.get(entity.entity, 0)
            table_plan.unclaimed = counts.get("", 0)
    except DynamoDBServiceError as error:
        raise UsageError(str(error)) from None
    finally:
        backend.close()


def _run(args: argparse.Namespace, old: list[Table], new: list[Table]) -> int:
    from singletable.errors import DynamoDBServiceError, SingletableError
    from singletable.migrations import MigrationInterrupted, MigrationRun, Models

    if args.resume and args.dry_run:
        raise UsageError("--dry-run keeps no state, so there is nothing for --resume to continue")
    if args.segments < 1:
        raise UsageError("--segments must be at least 1")
    if args.page_size is not None and args.page_size < 1:
        raise UsageError("--page-size must be at least 1")
    backend = _aws.backend(args)
    by_name = {table.name: table for table in old}
    states = {t.name: args.state if len(new) == 1 else f"{args.state}.{t.name}" for t in new}
    if args.resume and len(new) > 1:  # tables that completed have no state left
        new = [t for t in new if os.path.exists(states[t.name])] or new
    status = 0
    try:
        for table in new:
            state = states[table.name]
            migration = MigrationRun(
                backend,
                Models(by_name.get(table.name), table),
                segments=args.segments,
                page_size=args.page_size,
                dry_run=args.dry_run,
                state_path=state,
                resume=args.resume,
            )
            try:
                summary = migration.run()
            except MigrationInterrupted as stopped:
                print("\n".join(stopped.summary.lines()))
                print(
                    f"singletable: {stopped}; resume with: {_resume_command(args)}",
                    file=sys.stderr,
                )
                return EXIT_INTERRUPTED
            print("\n".join(summary.lines()))
            if summary.counts["failed"] or summary.counts["conflict"]:
                status = 1
    except DynamoDBServiceError as error:
        raise UsageError(f"{error}; resume with: {_resume_command(args)}") from None
    except SingletableError as error:
        raise UsageError(str(error)) from None
    finally:
        backend.close()
    return status


def _resume_command(args: argparse.Namespace) -> str:
    words: list[Any] = ["singletable", "migrate", "run", args.old, args.new]
    if args.data is not None:
        words += ["--data", args.data]
    for option, value in (
        ("--endpoint-url", args.endpoint_url),
        ("--region", args.region),
        ("--profile", args.profile),
    ):
        if value is not None:
            words += [option, value]
    if args.page_size is not None:
        words += ["--page-size", args.page_size]
    words += ["--state", args.state, "--resume"]
    return " ".join(shlex.quote(str(word)) for word in words)
