"""Ctrl-C in a long command: one line saying how to continue, no traceback, exit 130.

A command that can be resumed (``data export``, ``data import``, and later
``migrate``) runs its work inside :func:`resumable`; a ``KeyboardInterrupt`` (the
SIGINT of Ctrl-C) becomes :class:`Interrupted`, whose message is the command to
run next, and :func:`singletable.cli.main` prints it on one line and exits with
130 (128 + SIGINT, the shell's status for a command stopped by Ctrl-C)::

    with resumable(lambda: resume_hint(args.argv, state_path)):
        _export(...)

The hint is computed when the interrupt arrives, so it can depend on what the
command had recorded by then: with a state file on disk the command to run is the
same one with ``--resume``; without one (interrupted before anything was
recorded) it is the same command again.

The command's own cleanup (``finally`` blocks, ``except BaseException`` that
save state and re-raise) runs before the conversion, as the interrupt unwinds.
"""

from __future__ import annotations

import os
import shlex
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager

__all__ = ["EXIT_INTERRUPTED", "Interrupted", "resumable", "resume_hint"]

EXIT_INTERRUPTED = 130
"""The exit status of a command stopped by SIGINT (128 + 2), as shells report it."""


class Interrupted(Exception):
    """The command was stopped by Ctrl-C; the message says how to continue."""


@contextmanager
def resumable(hint: Callable[[], str]) -> Iterator[None]:
    """Turn a ``KeyboardInterrupt`` inside the block into :class:`Interrupted`
    carrying ``hint()``."""
    try:
        yield
    except KeyboardInterrupt:
        raise Interrupted(hint()) from None


def resume_hint(
    argv: Sequence[str], state_path: str, *, flag: str = "--resume", prog: str = "singletable"
) -> str:
    """The line to print: the exact command to continue, given where its state lives.

    ``argv`` is the command's arguments as given (without the program name). With a
    state file at ``state_path``, the command to run is ``argv`` with ``flag`` (once);
    without one, nothing was recorded and the command is run again from the start
    (without ``flag``, which would find nothing to resume).
    """
    words = [word for word in argv if word != flag]
    if os.path.exists(state_path):
        return f"interrupted; to resume run: {shlex.join([prog, *words, flag])}"
    return f"interrupted before anything was recorded; run again: {shlex.join([prog, *words])}"
