"""``singletable data export|import``: a table's items as DynamoDB JSON lines.

The file format is the one of DynamoDB's export to S3: one line per item,
``{"Item": {"pk": {"S": "..."}, ...}}``, values in DynamoDB JSON (numbers as text,
binary as base64 text).

``export TABLE -o FILE`` scans the table page by page and appends each page's items;
after every page it records, in the sidecar ``FILE.state``, where the scan stands
(the page's ``LastEvaluatedKey``, the lines and bytes written). The sidecar is
removed when the export completes, so its presence means "interrupted":
``--resume`` then drops any incomplete last line of ``FILE`` and continues the scan
after the item on the last complete line.

``import TABLE -i FILE [--resume]`` reads the file twice, a line at a time (memory
stays bounded whatever the file's size). The first pass validates every line
(JSON, the ``{"Item": ...}`` shape, each AttributeValue, the item's size, and the
table's key attributes from DescribeTable: present, of the declared type, not
empty; index key attributes, when present, likewise) and stops at the first bad
one, naming its line, before anything is written. The second pass writes with
BatchWriteItem, 25 items a request, retrying unprocessed items with backoff; into
a local engine file (``--data``) it writes 1,000 items per commit through the
engine's bulk load instead (:meth:`LocalEngine.load`: the same checks as PutItem,
seen by streams, TTL and backups as puts, one transaction each). The sidecar
``FILE.import.state`` records the last line written (at most once a second), so
``--resume`` continues an interrupted import after it.

Both print their progress on stderr (:mod:`._progress`: a live line on a
terminal, a plain line every few seconds otherwise), export against DescribeTable's
``ItemCount`` (approximate) and import against the lines of the file, each with an
estimate of the time left. Ctrl-C stops either with one line giving the exact
command that resumes it (:mod:`._interrupt`) and exit status 130.

The data comes from DynamoDB through boto3 (AWS by default, with boto3's
credential chain; ``--endpoint-url``, ``--region`` and ``--profile`` as in
:mod:`._aws`) or from a durable local engine file (``--data``).
"""

from __future__ import annotations

import argparse
import json
import os
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import partial
from typing import IO, Any

from singletable.backends.base import Backend
from singletable.cli import _aws
from singletable.cli._errors import UsageError
from singletable.cli._interrupt import resumable, resume_hint
from singletable.cli._progress import Progress

__all__ = ["register", "run"]

_BATCH = 25  # BatchWriteItem's limit on requests per call
_LOCAL_BATCH = 1000  # items per commit of an import into a local engine file
_MAX_ITEM_BYTES = 400 * 1024
_MAX_KEY_BYTES = {"HASH": 2048, "RANGE": 1024}
_MAX_ATTEMPTS = 10  # calls of BatchWriteItem for one chunk before giving up
_SAVE_EVERY = 1.0  # seconds between saves of an import's state


def register(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the ``data`` command (subcommands ``export`` and ``import``) to ``commands``."""
    source = argparse.ArgumentParser(add_help=False)
    _aws.add_arguments(source)
    source.add_argument(
        "--data", metavar="PATH", help="a durable local engine file (instead of DynamoDB)"
    )

    data = commands.add_parser(
        "data",
        help="export or import a table's items as DynamoDB JSON lines",
        description=(
            "Export or import a table's items as DynamoDB JSON lines, one "
            '{"Item": {...}} per line (the format of DynamoDB\'s export to S3).'
        ),
    )
    actions = data.add_subparsers(dest="data_command", required=True, metavar="ACTION")
    export = actions.add_parser(
        "export",
        parents=[source],
        help="write every item of a table to a file",
        description=(
            "Scan TABLE page by page into FILE. If interrupted, FILE.state records how far "
            "it got and --resume continues from there; the state file is removed when done."
        ),
    )
    export.add_argument("table", metavar="TABLE")
    export.add_argument("-o", "--output", metavar="FILE", required=True, help="file to write")
    export.add_argument(
        "--resume",
        action="store_true",
        help="continue an interrupted export into FILE (needs FILE.state)",
    )
    export.add_argument(
        "--page-size", type=int, metavar="N", help="items per Scan call (default: 1 MB pages)"
    )
    load = actions.add_parser(
        "import",
        parents=[source],
        help="write the items of a file to a table",
        description=(
            "Validate every line of FILE against TABLE's keys first (a bad line is reported "
            "and nothing is written), then write the items with BatchWriteItem. If "
            "interrupted, FILE.import.state records the lines written and --resume continues "
            "after them; the state file is removed when done."
        ),
    )
    load.add_argument("table", metavar="TABLE")
    load.add_argument("-i", "--input", metavar="FILE", required=True, help="file to read")
    load.add_argument(
        "--resume",
        action="store_true",
        help="continue an interrupted import of FILE (needs FILE.import.state)",
    )


def run(args: argparse.Namespace) -> int:
    """Run ``data export`` or ``data import``; returns the exit status (0).

    Raises:
        singletable.cli.UsageError: a problem the user can fix (a missing file or
            table, a bad line, an export to resume that is not there, ...).
    """
    from singletable.errors import DynamoDBServiceError

    exporting = args.data_command == "export"
    state_path = args.output + ".state" if exporting else args.input + ".import.state"
    argv = getattr(args, "argv", None) or _command_words(args)
    with resumable(lambda: resume_hint(argv, state_path)):
        backend = _aws.backend(args)
        try:
            if exporting:
                _export(backend, args.table, args.output, resume=args.resume, limit=args.page_size)
            else:
                _import(backend, args.table, args.input, resume=args.resume)
        except DynamoDBServiceError as error:
            raise UsageError(str(error)) from None
        finally:
            backend.close()
    return 0


def _command_words(args: argparse.Namespace) -> list[str]:
    """The arguments of the command ``args`` came from, rebuilt (when ``main`` did not
    record them: the module's ``run`` called directly)."""
    words = ["data", args.data_command, args.table]
    if args.data_command == "export":
        words += ["-o", args.output]
        if args.page_size is not None:
            words += ["--page-size", str(args.page_size)]
    else:
        words += ["-i", args.input]
    for option in ("data", "endpoint_url", "region", "profile"):
        value = getattr(args, option)
        if value is not None:
            words += ["--" + option.replace("_", "-"), value]
    return words


# -- export ----------------------------------------------------------------------------------


def _export(backend: Backend, table: str, path: str, *, resume: bool, limit: int | None) -> None:

    if limit is not None and limit < 1:
        raise UsageError("--page-size must be at least 1")
    state_path = path + ".state"
    description = _describe(backend, table)
    key_names = [k["AttributeName"] for k in description["KeySchema"]]
    # ItemCount is refreshed about every six hours (DescribeTable in the API
    # Reference): a total to show progress against, marked approximate. 0 may just
    # mean "not counted yet", so it shows no total.
    estimate = description.get("ItemCount") or None
    start_key: dict[str, Any] | None = None
    count = 0
    if resume:
        state = _read_state(state_path, table)
        if not os.path.isfile(path):
            raise UsageError(f"nothing to resume: {path} does not exist")
        count, last_item = _truncate_to_last_line(path)
        if last_item is not None:
            start_key = {name: last_item[name] for name in key_names if name in last_item}
        else:
            start_key = state.get("LastEvaluatedKey")
        mode = "ab"
    else:
        if os.path.exists(state_path):
            raise UsageError(
                f"{state_path} exists: an export into {path} was interrupted; "
                "continue it with --resume or remove the state file"
            )
        mode = "wb"
    progress = Progress(table, "exported", estimate, approximate=True)
    if resume:
        progress.resumed(count, count)
    with open(path, mode) as out, _ending(progress):
        _write_state(state_path, table, start_key, count, out.tell())
        while True:
            request: dict[str, Any] = {"TableName": table}
            if limit is not None:
                request["Limit"] = limit
            if start_key is not None:
                request["ExclusiveStartKey"] = start_key
            page = backend.call("Scan", request)
            for item in page.get("Items", []):
                out.write(_line(item))
            count += len(page.get("Items", []))
            out.flush()
            os.fsync(out.fileno())
            start_key = page.get("LastEvaluatedKey")
            if start_key is None:
                break
            _write_state(state_path, table, start_key, count, out.tell())
            progress.update(count)
    os.remove(state_path)
    progress.update(count, final=True)


@contextmanager
def _ending(progress: Progress) -> Iterator[None]:
    """End the progress line if the work stops early (an error, Ctrl-C)."""
    try:
        yield
    except BaseException:
        progress.stop()
        raise


def _line(item: dict[str, Any]) -> bytes:
    text = json.dumps({"Item": item}, ensure_ascii=False, separators=(",", ":"))
    return (text + "\n").encode()


def _write_state(
    path: str, table: str, key: dict[str, Any] | None, lines: int, offset: int
) -> None:
    _save_state(
        path, {"TableName": table, "LastEvaluatedKey": key, "Lines": lines, "Bytes": offset}
    )


def _save_state(path: str, state: dict[str, Any]) -> None:
    """Write ``state`` as JSON, durably and atomically (a crash leaves old or new)."""
    temporary = path + ".tmp"
    with open(temporary, "w", encoding="utf-8") as out:
        json.dump(state, out)
        out.flush()
        os.fsync(out.fileno())
    os.replace(temporary, path)


def _read_state(path: str, table: str, what: str = "export") -> dict[str, Any]:

    try:
        with open(path, encoding="utf-8") as state_file:
            state = json.load(state_file)
    except FileNotFoundError:
        raise UsageError(
            f"nothing to resume: {path} does not exist (the {what} finished or never started)"
        ) from None
    except (OSError, ValueError) as error:
        raise UsageError(f"{path} is not a readable {what} state: {error}") from None
    if not isinstance(state, dict) or state.get("TableName") != table:
        raise UsageError(f"{path} is the state of an {what} of another table, not {table}")
    return state


def _truncate_to_last_line(path: str) -> tuple[int, dict[str, Any] | None]:
    """Drop an incomplete last line; returns (complete lines, the last line's item)."""

    count = 0
    end = 0
    last: bytes | None = None
    with open(path, "rb") as existing:
        for raw in existing:
            if not raw.endswith(b"\n"):
                break
            count += 1
            end += len(raw)
            last = raw
    os.truncate(path, end)
    if last is None:
        return 0, None
    try:
        item = json.loads(last)["Item"]
    except (ValueError, KeyError, TypeError):
        raise UsageError(f"{path}:{count}: not an exported item; cannot resume") from None
    if not isinstance(item, dict):
        raise UsageError(f"{path}:{count}: not an exported item; cannot resume")
    return count, item


# -- import ----------------------------------------------------------------------------------


def _import(backend: Backend, table: str, path: str, *, resume: bool) -> None:
    """Validate every line, then write the items in order, a chunk per BatchWriteItem.

    After each chunk (at most once a second) ``FILE.import.state`` records the last
    line written; every line before it is in the table. Puts overwrite, so lines
    written again after a resume leave the table as one uninterrupted run would.
    """

    if not os.path.isfile(path):
        raise UsageError(f"no file at {path}")
    state_path = path + ".import.state"
    done_line, count = 0, 0
    if resume:
        state = _read_state(state_path, table, "import")
        done_line, count = int(state.get("Line", 0)), int(state.get("Items", 0))
    elif os.path.exists(state_path):
        raise UsageError(
            f"{state_path} exists: an import of {path} was interrupted; "
            "continue it with --resume or remove the state file"
        )
    description = _describe(backend, table)
    checks = _key_checks(description)
    primary = [k["AttributeName"] for k in description["KeySchema"]]
    total = sum(1 for _ in _items(path, checks))  # validates every line, writes nothing
    progress = Progress(table, "imported", total)
    if resume:
        progress.resumed(count, done_line)
    written = done_line  # every line up to here is in the table
    saved = time.monotonic()
    try:
        progress.update(count)
        write, size = _writer(backend, table)
        for last_line, chunk in _chunks(_items(path, checks), primary, after=done_line, size=size):
            count += write(chunk)
            written = last_line
            progress.update(count)
            if time.monotonic() - saved >= _SAVE_EVERY:
                _save_state(state_path, {"TableName": table, "Line": written, "Items": count})
                saved = time.monotonic()
    except BaseException:  # throttled, interrupted, ...: record how far it got
        progress.stop()
        _save_state(state_path, {"TableName": table, "Line": written, "Items": count})
        raise
    if os.path.exists(state_path):
        os.remove(state_path)
    progress.update(count, final=True)


def _writer(backend: Backend, table: str) -> tuple[Callable[[list[dict[str, Any]]], int], int]:
    """How to write a chunk of items into ``table`` (returns how many it wrote), and
    the chunk size: BatchWriteItem calls, or the bulk load of a local engine."""
    from singletable.backends.engine import LocalBackend

    if not isinstance(backend, LocalBackend):
        return partial(_write_chunk, backend, table), _BATCH
    engine = backend.engine

    def load(chunk: list[dict[str, Any]]) -> int:
        from singletable.backends.local.errors import DynamoDBError

        try:
            return engine.load(table, chunk)
        except DynamoDBError as error:  # the file changed since it was checked, say
            raise UsageError(f"{error.code}: {error.message}") from None

    return load, _LOCAL_BATCH


def _chunks(
    items: Iterator[tuple[int, dict[str, Any]]],
    primary: list[str],
    *,
    after: int,
    size: int = _BATCH,
) -> Iterator[tuple[int, list[dict[str, Any]]]]:
    """The items of the lines past ``after`` in chunks of ``size``, each with the
    number of its last line. One request may not put the same key twice, so a
    repeated key starts a new chunk: a later line wins, as it would one at a time."""
    chunk: list[dict[str, Any]] = []
    keys: set[str] = set()
    last = after
    for number, item in items:
        if number <= after:
            continue
        key = json.dumps([item[name] for name in primary], sort_keys=True)
        if key in keys or len(chunk) == size:
            yield last, chunk
            chunk, keys = [], set()
        chunk.append(item)
        keys.add(key)
        last = number
    if chunk:
        yield last, chunk


def _describe(backend: Backend, table: str) -> dict[str, Any]:
    from singletable.errors import TableNotFoundError

    try:
        description: dict[str, Any] = backend.call("DescribeTable", {"TableName": table})["Table"]
    except TableNotFoundError:
        raise UsageError(f"table {table} not found") from None
    return description


def _key_checks(description: dict[str, Any]) -> dict[str, tuple[str, bool, int]]:
    """attribute -> (its type, required (a table key), the size limit of the value)."""
    types = {a["AttributeName"]: a["AttributeType"] for a in description["AttributeDefinitions"]}
    checks: dict[str, tuple[str, bool, int]] = {}
    indexes = [
        *description.get("GlobalSecondaryIndexes", []),
        *description.get("LocalSecondaryIndexes", []),
    ]
    for index in indexes:
        for element in index["KeySchema"]:
            name = element["AttributeName"]
            checks[name] = (types[name], False, _MAX_KEY_BYTES[element["KeyType"]])
    for element in description["KeySchema"]:
        name = element["AttributeName"]
        checks[name] = (types[name], True, _MAX_KEY_BYTES[element["KeyType"]])
    return checks


def _items(
    path: str, checks: dict[str, tuple[str, bool, int]]
) -> Iterator[tuple[int, dict[str, Any]]]:
    """Every item of the file with its line number, validated; UsageError names the
    first bad line."""

    with open(path, encoding="utf-8") as lines:
        number = 0
        while True:
            try:
                text = _next_line(lines)
            except UnicodeDecodeError as error:
                raise UsageError(f"{path}:{number + 1}: not UTF-8 text: {error}") from None
            if text is None:
                return
            number += 1
            if not text.strip():
                continue
            problem, item = _check_line(text, checks)
            if problem is not None:
                raise UsageError(f"{path}:{number}: {problem}")
            assert item is not None
            yield number, item


def _next_line(lines: IO[str]) -> str | None:
    text = lines.readline()
    return text if text else None


def _check_line(
    text: str, checks: dict[str, tuple[str, bool, int]]
) -> tuple[str | None, dict[str, Any] | None]:
    from singletable._values import InvalidValue, decode_binary, validate_item_sized

    try:
        record = json.loads(text)
    except ValueError as error:
        return f"not JSON: {error}", None
    if not isinstance(record, dict) or set(record) != {"Item"}:
        return 'expected {"Item": {...}} (one item in DynamoDB JSON)', None
    try:
        item, size = validate_item_sized(record["Item"])
    except InvalidValue as error:
        return error.message, None
    if size > _MAX_ITEM_BYTES:
        return f"item of {size} bytes, more than DynamoDB's 400 KB", None
    for name, (kind, required, limit) in checks.items():
        value = item.get(name)
        if value is None:
            if required:
                return f"missing the key attribute {name!r}", None
            continue
        actual = next(iter(value))
        if actual != kind:
            what = "key" if required else "index key"
            return f"{what} attribute {name!r} is of type {actual}, the table says {kind}", None
        if kind == "S":
            length = len(value["S"].encode())
        elif kind == "B":
            length = len(decode_binary(value["B"]))
        else:
            length = 1
        if length == 0:
            return f"key attribute {name!r} is empty", None
        if length > limit:
            return f"key attribute {name!r} is longer than {limit} bytes", None
    return None, item


def _write_chunk(backend: Backend, table: str, chunk: list[dict[str, Any]]) -> int:

    requests: list[dict[str, Any]] = [{"PutRequest": {"Item": item}} for item in chunk]
    for attempt in range(_MAX_ATTEMPTS):
        if attempt:
            time.sleep(min(0.05 * 2**attempt, 5.0))
        response = backend.call("BatchWriteItem", {"RequestItems": {table: requests}})
        requests = response.get("UnprocessedItems", {}).get(table, [])
        if not requests:
            return len(chunk)
    raise UsageError(
        f"{len(requests)} items still unprocessed after {_MAX_ATTEMPTS} BatchWriteItem calls "
        "(the table is throttled); continue with --resume"
    )
