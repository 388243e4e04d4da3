"""``python -m singletable.cli``: the ``singletable`` command."""

from __future__ import annotations

import sys

from singletable.cli._main import main

if __name__ == "__main__":
    sys.exit(main())
