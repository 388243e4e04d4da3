"""Architecture guards: layers import downward only, and the public surface stays small."""

from __future__ import annotations

import ast
import importlib
import pkgutil
from pathlib import Path

import pytest

import singletable

PACKAGE = Path(singletable.__file__).parent

# module prefix -> prefixes it must never import
FORBIDDEN = {
    "singletable._values": (
        "singletable.expressions",
        "singletable.backends",
        "singletable.testing",
        "singletable._testing",
    ),
    "singletable.expressions": (
        "singletable.backends",
        "singletable.testing",
        "singletable._testing",
    ),
    "singletable.partiql": ("singletable.backends", "singletable.testing", "singletable._testing"),
    "singletable.backends.local": ("singletable.testing", "singletable._testing"),
    # The wire backends speak the protocol themselves: no SDK client, no ORM.
    "singletable.backends.wire": (
        "singletable.backends.boto3",
        "singletable.backends.aioboto3",
        "singletable.db",
        "boto3",
        "aioboto3",
        "aiobotocore",
        "singletable.testing",
        "singletable._testing",
    ),
    # The routing machinery sits below the public module that wraps it.
    "singletable._testing": ("singletable.testing",),
    # SigV4's steps, shared by the wire backends (signing) and the server (verifying).
    "singletable._sigv4": ("singletable.backends", "singletable.server", "singletable.testing"),
}


def _modules() -> list[tuple[str, Path]]:
    found = []
    for path in PACKAGE.rglob("*.py"):
        parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        found.append((name, path))
    return sorted(found)


def _imports(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


@pytest.mark.parametrize(("name", "path"), _modules(), ids=lambda v: str(v))
def test_layers_import_downward_only(name: str, path: Path) -> None:
    for layer, forbidden in FORBIDDEN.items():
        if name == layer or name.startswith(layer + "."):
            bad = {i for i in _imports(path) if i.startswith(forbidden)}
            assert not bad, f"{name} imports {sorted(bad)} (a higher layer)"


CLI = "singletable.cli"
# What a command module of the CLI may import from its package: the shared helpers.
# The commands never import each other, nor the entry point (the package's
# __init__, or _main, which imports every command).
CLI_SHARED = {"_aws", "_errors", "_interrupt", "_models", "_progress"}


def _cli_imports(path: Path) -> set[str]:
    """The modules of the CLI package ``path`` imports, by their name in the package;
    ``"__init__"`` for the package itself (``import singletable.cli``, or a name that
    is not a submodule taken from it)."""
    package = PACKAGE / "cli"
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name == CLI:
                    found.add("__init__")
                elif alias.name.startswith(CLI + "."):
                    found.add(alias.name.split(".")[2])
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            if node.module == CLI:
                for alias in node.names:
                    is_module = (package / f"{alias.name}.py").is_file()
                    found.add(alias.name if is_module else "__init__")
            elif node.module.startswith(CLI + "."):
                found.add(node.module.split(".")[2])
    return found


@pytest.mark.parametrize(("name", "path"), _modules(), ids=lambda v: str(v))
def test_the_library_never_imports_the_command_line(name: str, path: Path) -> None:
    if name == CLI or name.startswith(CLI + "."):
        return
    assert not _cli_imports(path), f"{name} imports the command line"


def test_cli_commands_import_only_the_shared_helpers() -> None:
    modules = sorted((PACKAGE / "cli").glob("*.py"))
    assert {path.stem for path in modules} >= CLI_SHARED | {"__init__", "_main"}
    allowed_above = {"__init__": {"_errors", "_main"}, "__main__": {"_main"}}
    for path in modules:
        imported = _cli_imports(path)
        if path.stem == "_main":  # the dispatcher: every command, never the package
            assert "__init__" not in imported, "cli/_main.py imports singletable.cli"
            continue
        allowed = allowed_above.get(path.stem, CLI_SHARED - {path.stem})
        assert imported <= allowed, f"cli/{path.name} imports {sorted(imported - allowed)}"


def test_every_module_imports_cleanly() -> None:
    for info in pkgutil.walk_packages(singletable.__path__, "singletable."):
        importlib.import_module(info.name)


@pytest.mark.parametrize(
    "module",
    ["singletable", "singletable.backends.local", "singletable.expressions", "singletable.testing"],
)
def test_public_modules_declare_a_sorted_all_without_private_names(module: str) -> None:
    imported = importlib.import_module(module)
    exported = list(imported.__all__)
    # isort-style order, as ruff's RUF022 keeps it: CONSTANTS, Classes, functions.
    assert exported == sorted(exported, key=lambda n: (not n.isupper(), not n[:1].isupper(), n))
    assert not [name for name in exported if name.startswith("_")]
    for name in exported:
        assert hasattr(imported, name), f"{module}.__all__ names missing {name}"
