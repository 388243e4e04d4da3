"""The public modules of change events and migrations declare a sorted ``__all__`` of
names that exist, none private (the rule tests/unit/test_layers.py applies to the
package's other public modules)."""

from __future__ import annotations

import importlib

import pytest


@pytest.mark.parametrize("module", ["singletable.changes", "singletable.migrations"])
def test_public_modules_declare_a_sorted_all_without_private_names(module: str) -> None:
    imported = importlib.import_module(module)
    exported = list(imported.__all__)
    assert exported == sorted(exported, key=lambda n: (not n.isupper(), not n[:1].isupper(), n))
    assert not [name for name in exported if name.startswith("_")]
    for name in exported:
        assert hasattr(imported, name), f"{module}.__all__ names missing {name}"
