"""``singletable tables ...``: create, describe, delete and export the model's tables.

The model is named as ``MODULE[:TABLE]`` (``MODULE`` a dotted name or the path of
a ``.py`` file, :func:`import_model`): the module is imported and its
:class:`singletable.Table` objects are used, all of them or the one whose
variable name or table name is ``TABLE``.

- ``tables create MODULE[:TABLE]`` sends CreateTable with every index (and
  UpdateTimeToLive for a table with a TTL attribute) through
  :meth:`singletable.db.DB.create_table`.
- ``tables describe NAME...`` prints the DescribeTable responses as JSON.
- ``tables delete NAME...`` deletes tables by name.
- ``tables export MODULE[:TABLE] --format cloudformation|terraform|cdk-json``
  writes the tables' definitions: CloudFormation ``AWS::DynamoDB::Table``
  resources (JSON), Terraform ``aws_dynamodb_table`` resources (HCL), or the CDK
  ``TableProps`` (and index props for ``addGlobalSecondaryIndex`` /
  ``addLocalSecondaryIndex``) as JSON.

``create`` and ``delete`` wait (unless ``--no-wait``) until each table and its
global indexes are ACTIVE, or until it is gone, with a line on stderr each time
the state changes: on DynamoDB that takes seconds to minutes.

The backend is the embedded durable engine with ``--data PATH``, otherwise
boto3 (``--endpoint-url``, ``--region``, ``--profile``, or boto3's own
configuration; :mod:`._aws`).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
from typing import TYPE_CHECKING, Any

from singletable.cli import _aws
from singletable.cli._errors import UsageError
from singletable.cli._models import load_tables

if TYPE_CHECKING:
    from singletable.backends.base import Backend
    from singletable.table import IndexSpec, Table

__all__ = ["register", "run"]

_MODEL_HELP = "module (or .py file) holding the Table objects"
_FORMATS = ("cloudformation", "terraform", "cdk-json")


def register(commands: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """Add the ``tables`` command and its subcommands to ``commands``."""
    tables = commands.add_parser(
        "tables",
        help="create, describe, delete or export the model's tables",
        description="Manage the DynamoDB tables a model needs, on any backend.",
    )
    actions = tables.add_subparsers(dest="tables_command", required=True, metavar="ACTION")

    create = actions.add_parser(
        "create",
        help="create the model's tables with every index (and TTL)",
        description="Create the tables of MODULE (or the one named TABLE) with every index.",
    )
    create.add_argument("model", metavar="MODULE[:TABLE]", help=_MODEL_HELP)
    create.add_argument(
        "--exist-ok", action="store_true", help="a table that already exists is not an error"
    )
    _wait_arguments(create, "until each table and its global indexes are ACTIVE")
    _backend_arguments(create)

    describe = actions.add_parser(
        "describe", help="print DescribeTable as JSON", description="Print DescribeTable as JSON."
    )
    describe.add_argument("names", metavar="NAME", nargs="+", help="table name")
    _backend_arguments(describe)

    delete = actions.add_parser(
        "delete", help="delete tables by name", description="Delete tables and their items."
    )
    delete.add_argument("names", metavar="NAME", nargs="+", help="table name")
    _wait_arguments(delete, "until each table is gone")
    _backend_arguments(delete)

    export = actions.add_parser(
        "export",
        help="write the model's table definitions for infrastructure as code",
        description=(
            "Write the tables of MODULE (or the one named TABLE) as CloudFormation (JSON), "
            "Terraform (HCL) or CDK TableProps (JSON)."
        ),
    )
    export.add_argument("model", metavar="MODULE[:TABLE]", help=_MODEL_HELP)
    export.add_argument("--format", required=True, choices=_FORMATS, help="output format")
    export.add_argument("-o", "--output", metavar="FILE", help="write here (default: stdout)")


def _wait_arguments(parser: argparse.ArgumentParser, until: str) -> None:
    parser.add_argument(
        "--no-wait", dest="wait", action="store_false", help=f"return at once instead of {until}"
    )
    parser.add_argument(
        "--wait-timeout",
        metavar="SECONDS",
        type=float,
        default=600.0,
        help="give up waiting after this long (default 600)",
    )


def _backend_arguments(parser: argparse.ArgumentParser) -> None:
    _aws.add_arguments(parser)
    parser.add_argument(
        "--data", metavar="PATH", help="use the embedded engine, durable in this file"
    )


def run(args: argparse.Namespace) -> int:
    """Run a ``tables`` subcommand; returns the exit status.

    Raises:
        singletable.cli.UsageError: for an unknown module or table, conflicting
            options, or an error DynamoDB reports (one line).
    """
    from singletable.errors import SingletableError

    command = args.tables_command
    try:
        if command == "export":
            return _export(args)
        with _connect(args) as backend:
            if command == "create":
                return _create(args, backend)
            if command == "describe":
                return _describe(args, backend)
            if command == "delete":
                return _delete(args, backend)
    except SingletableError as error:
        raise UsageError(str(error)) from None
    raise UsageError(f"unknown tables command {command!r}")


class _Connection:
    def __init__(self, backend: Backend) -> None:
        self.backend = backend

    def __enter__(self) -> Backend:
        return self.backend

    def __exit__(self, *exc_info: object) -> None:
        self.backend.close()


def _connect(args: argparse.Namespace) -> _Connection:
    if args.data is not None:
        if _aws.given(args):
            options = "/".join(_aws.given(args))
            raise UsageError(f"--data uses the embedded engine: not with {options}")
        from singletable.backends.engine import LocalBackend
        from singletable.backends.local.durable import DurableStorageError
        from singletable.backends.local.errors import DynamoDBError

        if args.tables_command != "create" and not os.path.isfile(args.data):
            raise UsageError(f"no data file at {args.data}")  # only create makes one
        try:
            return _Connection(LocalBackend(path=args.data))
        except OSError as error:
            raise UsageError(f"cannot open {args.data}: {error.strerror}") from None
        except (DurableStorageError, DynamoDBError, ValueError) as error:
            raise UsageError(f"cannot open {args.data}: {error}") from None
    return _Connection(_aws.connect(args))


def _create(args: argparse.Namespace, backend: Backend) -> int:
    from singletable.db import DB

    db = DB(backend)
    tables = list(load_tables(args.model).values())
    for number, table in enumerate(tables, 1):
        _progress(f"{table.name}: creating (table {number} of {len(tables)})")
        created = db.create_table(table, exist_ok=args.exist_ok)
        waited = _wait(backend, table.name, args, gone=False) if args.wait else None
        outcome = "created" if created else "already exists"
        print(f"{table.name}: {outcome}" + _after(waited, "ACTIVE"))
    return 0


# Seconds between DescribeTable calls while waiting (tests set it to 0).
_POLL_SECONDS = 2.0


def _after(waited: float | None, state: str) -> str:
    """`` (ACTIVE after 12 s)`` when the wait took a second or more, else nothing."""
    return f" ({state} after {waited:.0f} s)" if waited is not None and waited >= 1 else ""


def _progress(line: str) -> None:
    print(line, file=sys.stderr, flush=True)


def _wait(backend: Backend, name: str, args: argparse.Namespace, *, gone: bool) -> float:
    """Poll DescribeTable until the table (and every global index) is ACTIVE, or, with
    ``gone``, until it no longer exists; a progress line whenever the state changes.
    Returns the seconds waited.

    Creating a table on DynamoDB takes seconds to minutes (longer with global
    indexes); the local engine answers ACTIVE at once, so this costs one call there.
    """
    import time

    from singletable.errors import TableNotFoundError

    started = time.monotonic()
    shown = ""
    while True:
        try:
            table = backend.call("DescribeTable", {"TableName": name})["Table"]
        except TableNotFoundError:
            if gone:
                return time.monotonic() - started
            raise
        elapsed = time.monotonic() - started
        state = _state(table)
        if not gone and state == "ACTIVE":
            return elapsed
        if state != shown:
            _progress(f"{name}: {state} ({elapsed:.0f} s)")
            shown = state
        if elapsed >= args.wait_timeout:
            raise UsageError(
                f"{name}: still {state} after {args.wait_timeout:g} s "
                "(raise --wait-timeout, or --no-wait)"
            )
        time.sleep(_POLL_SECONDS)


def _state(table: dict[str, Any]) -> str:
    """``ACTIVE``, or the table's status with each index that is not ACTIVE yet."""
    status = str(table.get("TableStatus", "ACTIVE"))
    pending = [
        f"{index['IndexName']} {index.get('IndexStatus', '?')}"
        for index in table.get("GlobalSecondaryIndexes", ())
        if index.get("IndexStatus", "ACTIVE") != "ACTIVE"
    ]
    if status == "ACTIVE" and not pending:
        return "ACTIVE"
    return "; ".join([status, *pending])


def _describe(args: argparse.Namespace, backend: Backend) -> int:
    for name in args.names:
        response = backend.call("DescribeTable", {"TableName": name})
        print(json.dumps(response, indent=2, sort_keys=True, default=str))
    return 0


def _delete(args: argparse.Namespace, backend: Backend) -> int:
    for number, name in enumerate(args.names, 1):
        _progress(f"{name}: deleting (table {number} of {len(args.names)})")
        backend.call("DeleteTable", {"TableName": name})
        waited = _wait(backend, name, args, gone=True) if args.wait else None
        print(f"{name}: deleted" + _after(waited, "gone"))
    return 0


def _export(args: argparse.Namespace) -> int:

    tables = load_tables(args.model)
    if args.format == "cloudformation":
        text = json.dumps(_cloudformation(tables), indent=2) + "\n"
    elif args.format == "terraform":
        text = _terraform(tables)
    else:
        text = json.dumps(_cdk_json(tables), indent=2) + "\n"
    if args.output is None:
        sys.stdout.write(text)
        return 0
    try:
        with open(args.output, "w", encoding="utf-8") as out:
            out.write(text)
    except OSError as error:
        raise UsageError(f"cannot write {args.output}: {error.strerror}") from None
    print(f"wrote {len(tables)} table(s) to {args.output}", file=sys.stderr)
    return 0


# ------------------------------------------------------------------------------ exports


def _cloudformation(tables: dict[str, Table]) -> dict[str, Any]:
    """A CloudFormation template with an ``AWS::DynamoDB::Table`` resource per table."""
    resources: dict[str, Any] = {}
    for table in tables.values():
        request = table.create_table_request()
        properties: dict[str, Any] = {
            "TableName": table.name,
            "BillingMode": "PAY_PER_REQUEST",
            "AttributeDefinitions": request["AttributeDefinitions"],
            "KeySchema": request["KeySchema"],
        }
        for key in ("GlobalSecondaryIndexes", "LocalSecondaryIndexes"):
            if key in request:
                properties[key] = request[key]
        if table.ttl_attribute is not None:
            properties["TimeToLiveSpecification"] = {
                "AttributeName": table.ttl_attribute,
                "Enabled": True,
            }
        if table.stream is not None:
            # CloudFormation's StreamSpecification has no StreamEnabled: the view type enables it.
            properties["StreamSpecification"] = {"StreamViewType": table.stream}
        logical = _unique(_camel(table.name) + "Table", resources)
        resources[logical] = {"Type": "AWS::DynamoDB::Table", "Properties": properties}
    return {"AWSTemplateFormatVersion": "2010-09-09", "Resources": resources}


def _terraform(tables: dict[str, Table]) -> str:
    """Terraform HCL with an ``aws_dynamodb_table`` resource per table."""
    blocks: list[str] = []
    names: dict[str, None] = {}
    for table in tables.values():
        label = _unique(_snake(table.name), names)
        names[label] = None
        lines = [f'resource "aws_dynamodb_table" "{label}" {{']
        lines.append(f"  name         = {_hcl(table.name)}")
        lines.append('  billing_mode = "PAY_PER_REQUEST"')
        lines.append(f"  hash_key     = {_hcl(table.primary.pk)}")
        if table.primary.sk is not None:
            lines.append(f"  range_key    = {_hcl(table.primary.sk)}")
        for definition in table.create_table_request()["AttributeDefinitions"]:
            lines.append("")
            lines.append("  attribute {")
            lines.append(f"    name = {_hcl(definition['AttributeName'])}")
            lines.append(f"    type = {_hcl(definition['AttributeType'])}")
            lines.append("  }")
        for spec in table.indexes.values():
            lines.append("")
            kind = "local_secondary_index" if spec.local else "global_secondary_index"
            lines.append(f"  {kind} {{")
            lines.append(f"    name            = {_hcl(spec.name or '')}")
            if not spec.local:
                lines.append(f"    hash_key        = {_hcl(spec.pk)}")
            if spec.sk is not None:
                lines.append(f"    range_key       = {_hcl(spec.sk)}")
            projection, non_key = _projection(spec)
            lines.append(f"    projection_type = {_hcl(projection)}")
            if non_key is not None:
                listed = ", ".join(_hcl(name) for name in non_key)
                lines.append(f"    non_key_attributes = [{listed}]")
            lines.append("  }")
        if table.ttl_attribute is not None:
            lines.append("")
            lines.append("  ttl {")
            lines.append(f"    attribute_name = {_hcl(table.ttl_attribute)}")
            lines.append("    enabled        = true")
            lines.append("  }")
        if table.stream is not None:
            lines.append("")
            lines.append("  stream_enabled   = true")
            lines.append(f"  stream_view_type = {_hcl(table.stream)}")
        lines.append("}")
        blocks.append("\n".join(lines) + "\n")
    return "\n".join(blocks)


def _cdk_json(tables: dict[str, Table]) -> dict[str, Any]:
    """The CDK ``TableProps`` of each table, with the props of each index for
    ``table.addGlobalSecondaryIndex`` / ``table.addLocalSecondaryIndex`` (enum
    members given by value: ``AttributeType.STRING`` is ``"S"``, ``BillingMode``
    ``"PAY_PER_REQUEST"``, ``StreamViewType`` and ``ProjectionType`` their names)."""
    documents: list[dict[str, Any]] = []
    for variable, table in tables.items():
        primary = table.primary
        props: dict[str, Any] = {
            "tableName": table.name,
            "partitionKey": {"name": primary.pk, "type": primary.pk_type},
            "billingMode": "PAY_PER_REQUEST",
        }
        if primary.sk is not None:
            props["sortKey"] = {"name": primary.sk, "type": primary.sk_type}
        if table.ttl_attribute is not None:
            props["timeToLiveAttribute"] = table.ttl_attribute
        if table.stream is not None:
            props["stream"] = table.stream
        globals_: list[dict[str, Any]] = []
        locals_: list[dict[str, Any]] = []
        for spec in table.indexes.values():
            index: dict[str, Any] = {"indexName": spec.name}
            if not spec.local:
                index["partitionKey"] = {"name": spec.pk, "type": spec.pk_type}
            if spec.sk is not None:
                index["sortKey"] = {"name": spec.sk, "type": spec.sk_type}
            projection, non_key = _projection(spec)
            index["projectionType"] = projection
            if non_key is not None:
                index["nonKeyAttributes"] = non_key
            (locals_ if spec.local else globals_).append(index)
        documents.append(
            {
                "id": _camel(variable) or _camel(table.name) or "Table",
                "props": props,
                "globalSecondaryIndexes": globals_,
                "localSecondaryIndexes": locals_,
            }
        )
    return {"tables": documents}


def _projection(spec: IndexSpec) -> tuple[str, list[str] | None]:
    if isinstance(spec.projection, str):
        return spec.projection, None
    return "INCLUDE", list(spec.projection)


def _camel(name: str) -> str:
    """Alphanumeric CamelCase (CloudFormation logical ids allow only [A-Za-z0-9])."""
    parts = [part for part in re.split(r"[^A-Za-z0-9]+", name) if part]
    return "".join(part[0].upper() + part[1:] for part in parts)


def _snake(name: str) -> str:
    label = re.sub(r"[^A-Za-z0-9_]+", "_", name).strip("_").lower() or "table"
    return label if not label[0].isdigit() else f"t_{label}"


def _unique(name: str, taken: dict[str, Any]) -> str:
    candidate, number = name, 2
    while candidate in taken:
        candidate, number = f"{name}{number}", number + 1
    return candidate


def _hcl(value: str) -> str:
    """A quoted HCL string (JSON's escapes, plus ``${`` and ``%{`` kept literal)."""
    return json.dumps(value).replace("${", "$${").replace("%{", "%%{")
