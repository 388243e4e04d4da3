"""The ``singletable`` command's entry point: the parser, dispatch, and exit statuses.

Each command is a module of this package with ``register(commands)``, which adds
its subparser, and ``run(args)``, which runs it and returns the exit status:
``serve`` (:mod:`._serve`), ``report`` (:mod:`._report`), ``explain``
(:mod:`._explain`), ``tables create|describe|delete|export`` (:mod:`._tables`),
``data export|import`` (:mod:`._data`), ``migrate plan|run`` (:mod:`._migrate`)
and ``workbench export|import`` (:mod:`._workbench`). They share
:mod:`._errors`, :mod:`._models`, :mod:`._aws`, :mod:`._progress` and
:mod:`._interrupt`, and never import this module or each other.

Errors the user can fix (a port already taken, a data file that is not
singletable's, a missing secret) are raised as :class:`UsageError` and become one
line on stderr and exit status 2. Ctrl-C stops any command with one line on
stderr (for ``data export|import``, the command that resumes it;
:mod:`._interrupt`) and exit status 130.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from typing import Protocol

from singletable.cli import (
    _data,
    _explain,
    _migrate,
    _report,
    _serve,
    _tables,
    _workbench,
)
from singletable.cli._errors import UsageError
from singletable.cli._interrupt import EXIT_INTERRUPTED, Interrupted

__all__ = ["main"]


class _Command(Protocol):
    """What a command module provides (mypy checks each module against it)."""

    def register(self, commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
        """Add the command's subparser to ``commands``."""

    def run(self, args: argparse.Namespace) -> int:
        """Run the command; returns its exit status (user errors raise UsageError)."""


# The commands by name, in the order ``singletable --help`` lists them.
_COMMANDS: dict[str, _Command] = {
    "serve": _serve,
    "report": _report,
    "explain": _explain,
    "tables": _tables,
    "data": _data,
    "migrate": _migrate,
    "workbench": _workbench,
}


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="singletable", description="DynamoDB single-table design toolkit."
    )
    parser.add_argument(
        "--version", action="version", version=f"singletable {_version()}", help="print the version"
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for command in _COMMANDS.values():
        command.register(commands)
    return parser


def _version() -> str:
    """The installed distribution's version, else the package's own (a bare checkout)."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("singletable")
    except PackageNotFoundError:
        from singletable import __version__

        return __version__


def main(argv: Sequence[str] | None = None) -> int:
    """Run the ``singletable`` command; returns its exit status."""
    parser = _parser()
    argv = list(sys.argv[1:] if argv is None else argv)
    # explain's FIELD=VALUE arguments may follow its options (--format json a=1 b=2).
    args, extra = parser.parse_known_args(argv)
    if extra and args.command == "explain" and not any(a.startswith("-") for a in extra):
        args.values += extra
    elif extra:
        parser.error(f"unrecognized arguments: {' '.join(extra)}")
    args.argv = argv  # as given: a resumable command prints it back (_interrupt)
    try:
        status = _COMMANDS[args.command].run(args)
    except UsageError as error:
        print(f"singletable: error: {error}", file=sys.stderr)
        return 2
    except Interrupted as stopped:
        print(f"singletable: {stopped}", file=sys.stderr)
        return EXIT_INTERRUPTED
    except KeyboardInterrupt:  # Ctrl-C in a command with nothing to resume
        print("singletable: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    return status
