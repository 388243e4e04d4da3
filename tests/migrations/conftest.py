"""The model versions of these tests are the ones docs/migrations.md shows:
docs/examples/shop_v1.py and shop_v2.py, importable as top-level modules (as the
``singletable migrate`` commands import them)."""

from __future__ import annotations

import sys
from pathlib import Path

MODELS = Path(__file__).parents[2] / "docs" / "examples"
if str(MODELS) not in sys.path:
    sys.path.insert(0, str(MODELS))
