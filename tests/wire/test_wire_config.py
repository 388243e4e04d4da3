"""Where the wire backends send requests, and with which keys: region and endpoint
resolution (arguments, environment, shared config) and credentials (the chain, and
refreshing ones renewed before they expire)."""

from __future__ import annotations

import asyncio
import itertools
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import botocore.session
import pytest
from botocore.credentials import RefreshableCredentials
from scripted import Canned, ScriptedServer

from singletable.backends.wire import AsyncWireBackend, WireBackend
from singletable.errors import BackendError


def _endpoint(**kwargs: Any) -> tuple[str, str]:
    with WireBackend(**kwargs) as backend:
        return backend.core.endpoint.url, backend.core.region


def test_region_and_endpoint_from_arguments_and_environment(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    assert _endpoint() == ("https://dynamodb.us-east-1.amazonaws.com", "us-east-1")
    assert _endpoint(region_name="cn-north-1")[0] == "https://dynamodb.cn-north-1.amazonaws.com.cn"
    assert _endpoint(region_name="local") == ("http://localhost:8000", "local")
    monkeypatch.setenv("AWS_REGION", "eu-west-3")  # the SDKs' variable, first
    assert _endpoint() == ("https://dynamodb.eu-west-3.amazonaws.com", "eu-west-3")
    assert _endpoint(region_name="ap-south-1")[1] == "ap-south-1"
    monkeypatch.setenv("AWS_USE_FIPS_ENDPOINT", "true")
    assert _endpoint()[0] == "https://dynamodb-fips.eu-west-3.amazonaws.com"
    monkeypatch.delenv("AWS_USE_FIPS_ENDPOINT")
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:9000")
    assert _endpoint()[0] == "http://127.0.0.1:9000"
    monkeypatch.setenv("AWS_ENDPOINT_URL_DYNAMODB", "http://localhost:8001/base")
    with WireBackend() as backend:
        endpoint = backend.core.endpoint
    assert (endpoint.url, endpoint.host_header, endpoint.port, endpoint.path) == (
        "http://localhost:8001/base",
        "localhost:8001",
        8001,
        "/base",
    )
    assert _endpoint(endpoint_url="https://example.test")[0] == "https://example.test"
    monkeypatch.setenv("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS", "true")
    assert _endpoint()[0] == "https://dynamodb.eu-west-3.amazonaws.com"


def test_no_region_and_bad_endpoints_are_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("AWS_DEFAULT_REGION")
    with pytest.raises(BackendError) as caught:
        WireBackend()
    assert (caught.value.code, caught.value.message) == (
        "NoRegionError",
        "You must specify a region.",
    )
    for url in ("ftp://x", "http://", "http://host:notaport"):
        with pytest.raises(BackendError, match="Invalid endpoint"):
            WireBackend(region_name="us-east-1", endpoint_url=url)


def test_profiles_give_region_endpoint_and_keys(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    config = tmp_path / "config"
    config.write_text(
        "[profile dev]\nregion = eu-north-1\nservices = local-dynamo\n"
        "aws_access_key_id = AKIDDEV\naws_secret_access_key = devsecret\n\n"
        "[services local-dynamo]\ndynamodb =\n  endpoint_url = http://127.0.0.1:8123\n\n"
        "[profile global]\nregion = sa-east-1\nendpoint_url = http://127.0.0.1:8124\n"
    )
    monkeypatch.setenv("AWS_CONFIG_FILE", str(config))
    monkeypatch.delenv("AWS_DEFAULT_REGION")
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"):
        monkeypatch.delenv(name)
    with WireBackend(profile_name="dev") as backend:
        core = backend.core
        assert (core.endpoint.url, core.region) == ("http://127.0.0.1:8123", "eu-north-1")
        assert core.credentials.keys().access_key == "AKIDDEV"
    assert _endpoint(profile_name="global") == ("http://127.0.0.1:8124", "sa-east-1")
    monkeypatch.setenv("AWS_PROFILE", "dev")
    assert _endpoint() == ("http://127.0.0.1:8123", "eu-north-1")


def test_without_credentials_calls_fail_as_botocores_do(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"):
        monkeypatch.delenv(name)
    with (
        ScriptedServer([Canned()]) as server,
        WireBackend(endpoint_url=server.url) as backend,
        pytest.raises(BackendError) as caught,
    ):
        backend.call("ListTables", {})
    assert (caught.value.code, caught.value.message) == (
        "NoCredentialsError",
        "Unable to locate credentials",
    )
    assert server.received == []


def _expiring_session(lifetime: timedelta) -> tuple[Any, list[str]]:
    """A botocore session whose credentials expire after ``lifetime`` and are renewed
    with a new key each time (the keys handed out, in order)."""
    issued: list[str] = []
    counter = itertools.count(1)

    def refresh() -> dict[str, str]:
        key = f"AKIDROTATED{next(counter)}"
        issued.append(key)
        return {
            "access_key": key,
            "secret_key": "s",
            "token": "t",
            "expiry_time": (datetime.now(UTC) + lifetime).isoformat(),
        }

    credentials = RefreshableCredentials.create_from_metadata(
        refresh(), refresh_using=refresh, method="test"
    )
    session = botocore.session.Session()
    session._credentials = credentials  # what get_credentials() returns
    return session, issued


def _keys_used(server: ScriptedServer) -> list[str]:
    return [
        r.headers["authorization"].split("Credential=")[1].split("/")[0] for r in server.received
    ]


def test_expiring_credentials_are_renewed_before_they_expire() -> None:
    # a lifetime inside botocore's mandatory refresh window: every call renews them
    session, issued = _expiring_session(timedelta(minutes=5))
    with ScriptedServer([Canned(body={})]) as server:
        with WireBackend(endpoint_url=server.url, session=session) as backend:
            backend.call("ListTables", {})
            backend.call("ListTables", {})

        async def calls() -> None:
            async with AsyncWireBackend(endpoint_url=server.url, session=session) as aio:
                assert aio.core.credentials.refresh_due()
                await aio.call("ListTables", {})

        asyncio.run(calls())
    used = _keys_used(server)
    assert len(set(used)) == 3  # a new key for each call
    assert set(used) <= set(issued)
    assert used[:2] == issued[1:3]  # (the first key was issued when the session was made)
    # long-lived ones are asked for their keys, and keep them
    session, _ = _expiring_session(timedelta(hours=2))
    with (
        ScriptedServer([Canned(body={})]) as server,
        WireBackend(endpoint_url=server.url, session=session) as backend,
    ):
        backend.call("ListTables", {})
        backend.call("ListTables", {})
    assert _keys_used(server) == ["AKIDROTATED1", "AKIDROTATED1"]
