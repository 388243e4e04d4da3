"""Test-suite wide setup: a hermetic AWS environment and the project's markers.

Every test runs with fake credentials and a fixed region, and with every
variable that could point boto3 at a real endpoint, profile or config file
removed, so no test can reach AWS by accident (the only network allowed is
127.0.0.1).
"""

from __future__ import annotations

import contextlib
import importlib
import os
import warnings
from collections.abc import Iterator

import pytest
from hypothesis import settings

REGION = "us-east-1"

# Property tests judge behaviour, never speed: no per-example deadline, so a
# busy CI machine cannot turn a slow example into a failure. In CI (CI set, as CI
# services do) they are also derandomized: the same examples on every run, so a red
# build is reproducible and never a coin toss; locally they explore new examples.
settings.register_profile("singletable", deadline=None)
settings.register_profile("singletable-ci", deadline=None, derandomize=True, print_blob=True)
settings.load_profile("singletable-ci" if os.environ.get("CI") else "singletable")

_REMOVED = (
    "AWS_PROFILE",
    "AWS_DEFAULT_PROFILE",
    "AWS_ENDPOINT_URL",
    "AWS_ENDPOINT_URL_DYNAMODB",
    "AWS_CONFIG_FILE",
    "AWS_SHARED_CREDENTIALS_FILE",
    "AWS_ROLE_ARN",
    "AWS_WEB_IDENTITY_TOKEN_FILE",
    "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
    "AWS_CONTAINER_CREDENTIALS_FULL_URI",
)


def pytest_configure(config: pytest.Config) -> None:
    """Register the markers the suite uses (pytest runs with --strict-markers).

    Also pre-imports hypothesis's failure-patch writer: it imports libcst, which triggers
    a DeprecationWarning from mypy_extensions at import time; imported lazily while a
    failure is being reported, that warning (an error under ``filterwarnings = error``)
    turns a hypothesis failure into a pytest INTERNALERROR that hides the real failure.
    """
    with warnings.catch_warnings(), contextlib.suppress(ImportError):
        # (ImportError: hypothesis or libcst not installed, nothing to pre-import)
        warnings.simplefilter("ignore", DeprecationWarning)
        importlib.import_module("hypothesis.extra._patching")
    config.addinivalue_line(
        "markers",
        "moto_differs(key): skip on the moto backend; `key` names the entry of the test "
        "module's MOTO_DIFFERENCES that says what moto does and what DynamoDB does",
    )


@pytest.fixture(autouse=True)
def _empty_decoded_item_cache() -> None:
    """Every test starts with the engine's process-wide cache of decoded items empty.

    What a test reads decides what stays cached (a full cache keeps one miss in
    eight), so a test asserting that a read-only response shares a cached item would
    otherwise depend on what the tests before it left there.
    """
    from singletable.backends.local._records import SHARED

    SHARED.clear()


@pytest.fixture(autouse=True)
def _hermetic_aws_env(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Fake credentials, a fixed region, and no way to reach a real AWS endpoint."""
    for name in _REMOVED:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_SESSION_TOKEN", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", REGION)
    monkeypatch.setenv("AWS_CONFIG_FILE", "/dev/null")
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", "/dev/null")
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    yield
