"""A suite written for moto's ``mock_aws``, converted by changing the decorator only.

``moto_suite/suite_for_moto.py`` is an existing-style test module: a
``unittest.TestCase`` class with ``setUp``/``tearDown``, a pytest class with
``setup_method``, PynamoDB models, an aioboto3 service, and module-level
clients in the application code it tests (``moto_suite/orders_app.py``),
imported before any mock. Each run below is a fresh interpreter running pytest
on a copy of it, so that the clients really exist before singletable (or moto)
is imported:

* converted: ``mock_aws`` replaced by ``local_dynamodb`` (the import line and
  the decorators; the text is otherwise the same), with no AWS variables at all
  in the environment: every test passes;
* as written, under moto, with what moto needs (moto imported before the
  application, ``-p moto.core.models``, and fake credentials in the
  environment): everything passes except the aioboto3 test, which fails with
  moto's known ``TypeError``.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

SUITE = Path(__file__).parent / "moto_suite"
ROOT = Path(__file__).parents[2]


def convert(text: str) -> str:
    """The migration: the import of ``mock_aws`` and the decorators, nothing else."""
    converted, imports = re.subn(
        r"^from moto import mock_aws$",
        "from singletable.testing import local_dynamodb",
        text,
        flags=re.MULTILINE,
    )
    converted, decorators = re.subn(
        r"^@mock_aws$", "@local_dynamodb", converted, flags=re.MULTILINE
    )
    assert (imports, decorators) == (1, 3)
    assert re.search(r"^(@mock_aws|from moto|import moto)", converted, flags=re.MULTILINE) is None
    return converted


def run_suite(tmp_path: Path, text: str, *options: str, env: dict[str, str]) -> str:
    shutil.copy(SUITE / "orders_app.py", tmp_path / "orders_app.py")
    (tmp_path / "test_suite.py").write_text(text)
    environment = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    environment["PYTHONPATH"] = os.pathsep.join([str(ROOT), str(tmp_path)])
    environment.update(env)
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *options, "test_suite.py"],
        cwd=tmp_path,
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
    )
    return done.stdout + done.stderr


def test_the_converted_suite_passes_under_local_dynamodb(tmp_path: Path) -> None:
    output = run_suite(tmp_path, convert((SUITE / "suite_for_moto.py").read_text()), env={})
    assert re.search(r"\b7 passed\b", output), output
    assert "failed" not in output and "error" not in output.lower(), output


def test_the_same_suite_under_moto(tmp_path: Path) -> None:
    fake = {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "eu-west-1",
    }
    output = run_suite(
        tmp_path, (SUITE / "suite_for_moto.py").read_text(), "-p", "moto.core.models", env=fake
    )
    assert re.search(r"\b1 failed, 6 passed\b", output), output
    assert "FAILED test_suite.py::test_loyalty_points_async" in output
    assert "object bytes can't be used in 'await' expression" in output
