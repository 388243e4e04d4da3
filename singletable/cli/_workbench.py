"""``singletable workbench export|import``: NoSQL Workbench data models.

``export MODULE[:TABLE] -o FILE.json`` writes the model's tables as a NoSQL Workbench
data model (one facet per entity, its key templates as the facet's key aliases,
sample items synthesized from the model or, with ``--data FILE``, read from a
``singletable data export`` file). ``import FILE.json -o model.py`` writes a starter
model module (see :mod:`singletable.workbench`); it then imports the module it
wrote, and says on stderr if that fails (two facets with one key shape, say), so
the user knows what to fix.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import sys
import tempfile
from pathlib import Path
from typing import Any

from singletable.cli import _models
from singletable.cli._errors import UsageError

__all__ = ["register", "run"]


def register(commands: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """Add the ``workbench`` command (``export`` and ``import``) to ``commands``."""
    workbench = commands.add_parser(
        "workbench",
        help="export a model to, or import one from, a NoSQL Workbench data model",
        description="Move a design between singletable and NoSQL Workbench for DynamoDB.",
    )
    actions = workbench.add_subparsers(dest="workbench_command", required=True, metavar="ACTION")
    export = actions.add_parser(
        "export",
        help="write a model as a NoSQL Workbench data model (JSON)",
        description=(
            "Write the tables of MODULE (or the one named) as a NoSQL Workbench data model: "
            "one facet per entity with its key templates and sample items."
        ),
    )
    export.add_argument("model", metavar="MODULE[:TABLE]", help="module holding the Table objects")
    export.add_argument("-o", "--output", metavar="FILE", help="write here (default: stdout)")
    export.add_argument("--name", help="the model's name in Workbench (default: the module's)")
    export.add_argument(
        "--data",
        metavar="FILE",
        help="sample items from this 'singletable data export' file (default: synthesized)",
    )
    load = actions.add_parser(
        "import",
        help="write a starter model module from a NoSQL Workbench data model",
        description=(
            "Write a model module (tables, entities with key templates, fields typed from "
            "the sample data) from a NoSQL Workbench data model JSON file."
        ),
    )
    load.add_argument("input", metavar="FILE", help="the data model (JSON)")
    load.add_argument("-o", "--output", metavar="FILE", help="write here (default: stdout)")
    load.add_argument(
        "--force", action="store_true", help="overwrite the output file if it exists"
    )


def run(args: argparse.Namespace) -> int:
    """Run ``workbench export`` or ``workbench import``; user errors raise UsageError."""
    if args.workbench_command == "export":
        return _export(args)
    return _import(args)


def _export(args: argparse.Namespace) -> int:
    from singletable.patterns import Collection
    from singletable.report import SampleError, sample_file
    from singletable.workbench import export_model

    tables = list(_models.load_tables(args.model).values())
    samples = {}
    if args.data is not None:
        if len(tables) != 1:
            names = ", ".join(t.name for t in tables)
            raise UsageError(f"--data holds one table's items; the module has {names} "
                             "(name one: MODULE:TABLE)")  # fmt: skip
        try:
            samples[tables[0].name] = sample_file(args.data, tables[0])
        except SampleError as error:
            raise UsageError(str(error)) from None
    module_name = args.model.partition(":")[0]
    module = _models.import_model(module_name)  # imported already: cached
    collections = [v for v in vars(module).values() if isinstance(v, Collection)]
    document = export_model(
        tables, collections=collections, name=args.name or module_name, samples=samples
    )
    _write(args.output, json.dumps(document, indent=2, ensure_ascii=False) + "\n", force=True)
    if args.output is not None:
        print(f"wrote {len(tables)} table(s) to {args.output}", file=sys.stderr)
    return 0


def _import(args: argparse.Namespace) -> int:
    from singletable.workbench import WorkbenchError, import_model

    try:
        document: Any = json.loads(Path(args.input).read_text(encoding="utf-8"))
    except OSError as error:
        raise UsageError(f"cannot read {args.input}: {error.strerror or error}") from None
    except ValueError as error:
        raise UsageError(f"{args.input} is not JSON: {error}") from None
    try:
        source = import_model(document, source=Path(args.input).name)
    except WorkbenchError as error:
        raise UsageError(f"{args.input}: not a NoSQL Workbench data model: {error}") from None
    _write(args.output, source, force=args.force)
    problem = _check_imports(source)
    if problem is not None:
        print(
            f"singletable: warning: the module written does not import as it is ({problem}); "
            "edit it where it says",
            file=sys.stderr,
        )
    elif args.output is not None:
        print(f"wrote {args.output}", file=sys.stderr)
    return 0


def _write(output: str | None, text: str, *, force: bool) -> None:

    if output is None:
        sys.stdout.write(text)
        return
    path = Path(output)
    if path.exists() and not force:
        raise UsageError(f"{output} exists (--force to overwrite it)")
    try:
        path.write_text(text, encoding="utf-8")
    except OSError as error:
        raise UsageError(f"cannot write {output}: {error.strerror or error}") from None


def _check_imports(source: str) -> str | None:
    """Why the generated module fails to import (None if it imports)."""
    with tempfile.TemporaryDirectory() as scratch:
        path = Path(scratch) / "_singletable_workbench_check.py"
        path.write_text(source, encoding="utf-8")
        spec = importlib.util.spec_from_file_location("_singletable_workbench_check", path)
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        sys.modules[spec.name] = module  # pydantic resolves the annotations through it
        try:
            spec.loader.exec_module(module)
        except Exception as error:  # the user's data made a model singletable refuses
            return f"{type(error).__name__}: {error}"
        finally:
            sys.modules.pop(spec.name, None)
    return None
