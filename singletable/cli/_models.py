"""Finding the user's model: ``MODULE[:TABLE]`` to a module and its Table objects.

Shared by every command that takes a model (``report``, ``explain``, ``tables``,
``migrate``, ``workbench``). ``MODULE`` is a dotted name or the path of a ``.py``
file (:func:`import_model`); ``TABLE``, when given, picks the one table whose
variable name or table name it is (:func:`load_tables`).
"""

from __future__ import annotations

import importlib
import os
import sys
import types
from typing import TYPE_CHECKING

from singletable.cli._errors import UsageError

if TYPE_CHECKING:
    from singletable.table import Table

__all__ = ["import_model", "is_path", "load_tables", "split_model"]


def split_model(spec: str) -> tuple[str, str]:
    """``MODULE[:NAME]`` or ``path/to/file.py[:NAME]`` -> (module or path, NAME or "")."""
    if ".py:" in spec:  # a file path, perhaps with a drive letter's colon before it
        path, _, name = spec.rpartition(".py:")
        return path + ".py", name
    if spec.endswith(".py"):
        return spec, ""
    module, _, name = spec.partition(":")
    return module, name


def is_path(reference: str) -> bool:
    """Whether a model reference names a file rather than a module."""
    return reference.endswith(".py") or "/" in reference or os.sep in reference


def import_model(module_name: str) -> types.ModuleType:
    """Import the user's model module; a missing module or a failing import is a UsageError.

    ``module_name`` is a dotted name or a path to a ``.py`` file. The working
    directory is searched first, as ``python -m`` would (uvicorn and celery do the
    same), so ``singletable report app.models`` works from a project's root even
    though a console script's ``sys.path`` lacks it. A file is imported as the
    module it is within its package (the directories above it holding an
    ``__init__.py``), with the directory above the package searched first, so its
    own imports (relative ones too) work as they would in the project.
    """
    if is_path(module_name):
        module_name = _module_of_file(module_name)
    elif "" not in sys.path and os.getcwd() not in sys.path:
        sys.path.insert(0, os.getcwd())
    try:
        return importlib.import_module(module_name)
    except ModuleNotFoundError as error:
        if error.name is not None and (module_name + ".").startswith(error.name + "."):
            raise UsageError(f"no module named {module_name!r}") from None
        raise UsageError(f"importing {module_name!r} failed: {error}") from None
    except Exception as error:
        raise UsageError(
            f"importing {module_name!r} failed: {type(error).__name__}: {error}"
        ) from None


def _module_of_file(reference: str) -> str:
    """The dotted module name of a ``.py`` file, its package's parent put first on
    ``sys.path`` (pytest's "prepend" import mode does the same)."""
    path = os.path.abspath(reference)
    if not path.endswith(".py") or not os.path.isfile(path):
        raise UsageError(f"no Python file at {reference}")
    parts = [os.path.basename(path)[: -len(".py")]]
    root = os.path.dirname(path)
    while os.path.isfile(os.path.join(root, "__init__.py")):
        parts.insert(0, os.path.basename(root))
        root = os.path.dirname(root)
    name = ".".join(parts)
    loaded = sys.modules.get(name)
    where = getattr(loaded, "__file__", None)
    if loaded is not None and (where is None or os.path.abspath(where) != path):
        raise UsageError(f"{reference} would be imported as {name!r}, which is {where or name}")
    if root in sys.path:
        sys.path.remove(root)
    sys.path.insert(0, root)
    return name


def load_tables(spec: str) -> dict[str, Table]:
    """The Table objects of ``MODULE[:TABLE]``, by variable name, in definition order."""
    from singletable.table import Table

    module_name, wanted = split_model(spec)
    if not module_name:
        raise UsageError(f"{spec!r}: expected MODULE[:TABLE]")
    module = import_model(module_name)
    found: dict[str, Table] = {}
    for variable, value in vars(module).items():
        if isinstance(value, Table) and all(value is not seen for seen in found.values()):
            found[variable] = value
    if not found:
        raise UsageError(f"module {module_name!r} defines no singletable.Table")
    if not wanted:
        return found
    chosen = {var: table for var, table in found.items() if wanted in (var, table.name)}
    if not chosen:
        known = ", ".join(sorted(found))
        raise UsageError(f"module {module_name!r} has no table {wanted!r} (tables: {known})")
    return dict(list(chosen.items())[:1])
