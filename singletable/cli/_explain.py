"""``singletable explain MODULE:PATTERN [FIELD=VALUE ...]``: the request a pattern sends.

``PATTERN`` is ``Entity.pattern`` (a :class:`~singletable.patterns.Query` declared
on an entity) or the variable name of a module-level
:class:`~singletable.patterns.Collection`. Field values are given as
``FIELD=VALUE`` and parsed by the field's type (so ``placed_at=2024-05-01``
becomes a datetime and is rendered into the key as the model renders it). A
``between`` pattern takes its last sort field twice, low then high. Partition
fields left out take the report's example values, and a line on stderr says so.

Nothing is sent: the request comes from ``DB().explain``, which builds the first
page's request exactly as a query would.
"""

from __future__ import annotations

import argparse
import json
import shlex
import sys
from typing import TYPE_CHECKING, Any

from singletable.cli._errors import UsageError
from singletable.cli._models import import_model, split_model

if TYPE_CHECKING:
    from singletable.patterns import BoundPattern, Collection

__all__ = ["register", "run"]

# The AWS CLI's option for each Query parameter the patterns produce.
_CLI_OPTIONS: dict[str, str | tuple[str, str]] = {
    "TableName": "--table-name",
    "IndexName": "--index-name",
    "KeyConditionExpression": "--key-condition-expression",
    "ExpressionAttributeNames": "--expression-attribute-names",
    "ExpressionAttributeValues": "--expression-attribute-values",
    "ScanIndexForward": ("--scan-index-forward", "--no-scan-index-forward"),
    "ConsistentRead": ("--consistent-read", "--no-consistent-read"),
    "FilterExpression": "--filter-expression",
    "ProjectionExpression": "--projection-expression",
    "Limit": "--limit",
    "ExclusiveStartKey": "--exclusive-start-key",
    "Select": "--select",
}


def register(commands: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """Add the ``explain`` subcommand to ``commands``."""
    explain = commands.add_parser(
        "explain",
        help="print the request an access pattern sends",
        description=(
            "Print the first request an access pattern sends (nothing is sent). PATTERN is "
            "MODULE:Entity.pattern or MODULE:collection. Give field values as FIELD=VALUE, "
            "parsed by the field's type; a 'between' pattern takes its last sort field twice "
            "(low, then high). Partition fields left out take example values."
        ),
    )
    explain.add_argument(
        "pattern",
        metavar="MODULE:PATTERN",
        help="e.g. app.models:Order.by_status (or app/models.py:Order.by_status)",
    )
    explain.add_argument(
        "values", metavar="FIELD=VALUE", nargs="*", help="the pattern's key field values"
    )
    explain.add_argument(
        "--format",
        choices=("json", "aws-cli"),
        default="json",
        help="json: the operation and its request (default); aws-cli: an 'aws dynamodb' command",
    )


def run(args: argparse.Namespace) -> int:
    """Run ``explain``; user errors raise :class:`~singletable.cli._errors.UsageError`."""
    from singletable.db import DB
    from singletable.errors import SingletableError
    from singletable.patterns import Collection

    target = _resolve(args.pattern)
    given = _parse_values(target, args.values)
    values = _with_examples(target, given)
    try:
        if isinstance(target, Collection):
            operation, request = DB().explain.collection(target, **values)
        else:
            operation, request = DB().explain.query(target, **values)
    except SingletableError as error:
        raise UsageError(str(error)) from None
    if args.format == "json":
        text = json.dumps({"operation": operation, "request": request}, indent=2, default=str)
    else:
        text = _aws_cli(operation, request)
    sys.stdout.write(text + "\n")
    return 0


def _resolve(spec: str) -> BoundPattern[Any] | Collection:
    """The pattern ``MODULE:Entity.pattern`` or collection ``MODULE:name`` names."""
    from singletable.entity import Entity
    from singletable.patterns import BoundPattern, Collection

    module_name, path = split_model(spec)
    if not module_name or not path:
        raise UsageError(f"{spec!r}: expected MODULE:Entity.pattern or MODULE:collection")
    module = import_model(module_name)
    owner_name, _, attribute = path.partition(".")
    owner = getattr(module, owner_name, None)
    if not attribute:
        if isinstance(owner, Collection):
            return owner
        raise UsageError(
            f"{module_name}.{owner_name} is not a Collection "
            f"(collections: {_names(module, Collection)}; or give Entity.pattern)"
        )
    if not (isinstance(owner, type) and issubclass(owner, Entity)):
        raise UsageError(
            f"module {module_name!r} has no entity {owner_name!r} "
            f"(entities: {_names(module, Entity)})"
        )
    bound = getattr(owner, attribute, None)
    if not isinstance(bound, BoundPattern):
        known = ", ".join(
            sorted(n for n in dir(owner) if isinstance(getattr(owner, n, None), BoundPattern))
        )
        raise UsageError(
            f"{owner_name}.{attribute} is not an access pattern "
            f"(patterns of {owner_name}: {known or 'none'})"
        )
    return bound


def _names(module: Any, kind: type) -> str:
    found = sorted(
        name
        for name, value in vars(module).items()
        if isinstance(value, kind)
        or (isinstance(value, type) and issubclass(value, kind) and value is not kind)
    )
    return ", ".join(found) or "none"


def _fields(target: BoundPattern[Any] | Collection) -> dict[str, Any]:
    """The field annotations of the target's entity (a collection's first entity)."""
    from singletable.patterns import Collection

    entity = target.entities[0] if isinstance(target, Collection) else target.entity
    return {name: info.annotation for name, info in entity.model_fields.items()}


def _parse_values(target: BoundPattern[Any] | Collection, raw: list[str]) -> dict[str, Any]:
    """``FIELD=VALUE`` arguments parsed by each field's type; a repeated field is a pair."""
    from pydantic import TypeAdapter, ValidationError

    annotations = _fields(target)
    strings: dict[str, list[str]] = {}
    for argument in raw:
        name, equals, text = argument.partition("=")
        if not equals or not name:
            raise UsageError(f"{argument!r}: expected FIELD=VALUE")
        if name not in annotations:
            raise UsageError(
                f"{argument!r}: the entity has no field {name!r} (fields: {', '.join(annotations)})"
            )
        strings.setdefault(name, []).append(text)
    values: dict[str, Any] = {}
    for name, texts in strings.items():
        if len(texts) > 2:
            raise UsageError(f"{name} is given {len(texts)} times (at most twice: low and high)")
        adapter: TypeAdapter[Any] = TypeAdapter(annotations[name])
        try:
            parsed = [adapter.validate_strings(text) for text in texts]
        except ValidationError as error:
            reason = error.errors()[0]["msg"]
            raise UsageError(f"{name}={texts[0]!r}: {reason}") from None
        values[name] = parsed[0] if len(parsed) == 1 else tuple(parsed)
    return values


def _with_examples(target: BoundPattern[Any] | Collection, given: dict[str, Any]) -> dict[str, Any]:
    """``given`` plus example values for the partition fields it leaves out."""
    from singletable.report._model import example_value

    annotations = _fields(target)
    values = dict(given)
    for name in target.pk_template.fields:
        if name not in values:
            values[name] = example_value(name, annotations[name])
            print(
                f"singletable: {name} not given; using the example value {values[name]!r}",
                file=sys.stderr,
            )
    return values


def _aws_cli(operation: str, request: dict[str, Any]) -> str:
    """``request`` as an ``aws dynamodb`` command line (POSIX shell quoting)."""
    words = [
        "aws",
        "dynamodb",
        "".join("-" + c.lower() if c.isupper() else c for c in operation)[1:],
    ]
    for key, value in request.items():
        option = _CLI_OPTIONS.get(key)
        if option is None:  # a parameter without a flag of its own: skip nothing silently
            raise UsageError(f"no AWS CLI option for {key}; use --format json")
        if not isinstance(option, str):
            words.append(option[0] if value else option[1])
        elif isinstance(value, dict | list):
            words += [option, json.dumps(value, separators=(",", ":"))]
        else:
            words += [option, str(value)]
    return " ".join(shlex.quote(word) for word in words)
