"""The package's public names: every one in __all__ resolves, lazily."""

from __future__ import annotations

import subprocess
import sys

import singletable


def test_every_public_name_resolves() -> None:
    for name in singletable.__all__:
        assert getattr(singletable, name) is not None, name


def test_the_server_does_not_import_the_modelling_layer() -> None:
    code = (
        "import sys, singletable.server, singletable.cli\n"
        "assert 'pydantic' not in sys.modules, 'pydantic imported'\n"
        "assert 'botocore' not in sys.modules, 'botocore imported'\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_an_unknown_name_is_an_attribute_error() -> None:
    try:
        singletable.Nope  # type: ignore[attr-defined]  # noqa: B018
    except AttributeError as error:
        assert "Nope" in str(error)
    else:
        raise AssertionError("no AttributeError")
