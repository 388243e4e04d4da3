"""The command line's user-error type, in a module of its own.

Every command module raises it and :func:`singletable.cli.main` reports it, so it
lives below both: the commands import it from here, never from the entry point
(:mod:`singletable.cli`), which imports them.
"""

from __future__ import annotations

__all__ = ["UsageError"]


class UsageError(Exception):
    """A problem with the command's input: reported in one line, exit status 2."""
