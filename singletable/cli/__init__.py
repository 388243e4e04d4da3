"""The ``singletable`` command: an adapter over the library (argparse, standard library only).

``singletable`` (the console script) and ``python -m singletable.cli`` both run
:func:`main`; a command's user errors are :class:`UsageError`. The parser and the
dispatch are in :mod:`._main`, each command in a module of its own (see there).
"""

from __future__ import annotations

from singletable.cli._errors import UsageError
from singletable.cli._main import main

__all__ = ["UsageError", "main"]
