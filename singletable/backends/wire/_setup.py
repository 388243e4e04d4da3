"""Making a wire backend: a botocore session's configuration turned into a :class:`Core`.

Runs once per backend, never per call. botocore is used here only for what it
reads from the environment and the shared config files (profiles, credentials,
the CA bundle); the requests themselves never go through it.
"""

from __future__ import annotations

import importlib.metadata
import platform
import ssl
import sys
from typing import Any

import botocore.httpsession
import botocore.session

from singletable.backends.wire._core import Core, Options
from singletable.backends.wire._credentials import CredentialSource
from singletable.backends.wire._endpoint import Endpoint, resolve_endpoint, resolve_region

__all__ = ["build_core", "tls_context"]


def build_core(
    http_client: str,
    *,
    endpoint_url: str | None,
    region_name: str | None,
    aws_access_key_id: str | None,
    aws_secret_access_key: str | None,
    aws_session_token: str | None,
    profile_name: str | None,
    session: Any,
    options: Options | None,
) -> tuple[Core, Any]:
    """The core of a backend, and the botocore session its settings came from."""
    if session is None:
        session = botocore.session.Session(profile=profile_name)
    region = resolve_region(session, region_name)
    endpoint = resolve_endpoint(session, region, endpoint_url)
    credentials = CredentialSource.resolve(
        session, aws_access_key_id, aws_secret_access_key, aws_session_token
    )
    options = options or Options()
    return Core(endpoint, region, credentials, options, _user_agent(http_client, options)), session


def tls_context(
    endpoint: Endpoint, session: Any, verify: bool | str | None
) -> ssl.SSLContext | None:
    """The TLS context of an https endpoint (None for http).

    ``verify``: True (the default) checks the server's certificate against the CA
    bundle botocore would use (``AWS_CA_BUNDLE``, the profile's ``ca_bundle``, else
    certifi's or botocore's own); a path names another bundle; False does not check.
    """
    if endpoint.scheme != "https":
        return None
    if verify is False:
        context = ssl.create_default_context()
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
        return context
    if verify is None or verify is True:
        bundle = session.get_config_variable("ca_bundle") or botocore.httpsession.get_cert_path(
            True
        )
    else:
        bundle = verify
    return ssl.create_default_context(cafile=bundle)


def _user_agent(http_client: str, options: Options) -> str:
    try:
        version = importlib.metadata.version("singletable")
    except importlib.metadata.PackageNotFoundError:  # pragma: no cover - run from a checkout
        version = "0"
    python = platform.python_version()
    agent = (
        f"singletable/{version} ua/2.1 os/{sys.platform} lang/python#{python} "
        f"md/pyimpl#{platform.python_implementation()} md/http#{http_client}"
    )
    return f"{agent} {options.user_agent_extra}" if options.user_agent_extra else agent
