"""The command line's user-error type, in a module of its own.

It must be one class however the command starts: ``python -m singletable.cli`` runs
``cli.py`` as ``__main__``, and the subcommand modules that import
``singletable.cli.UsageError`` would otherwise get a second, different class.
"""

from __future__ import annotations

__all__ = ["UsageError"]


class UsageError(Exception):
    """A problem with the command's input: reported in one line, exit status 2."""
