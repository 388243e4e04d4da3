"""Where requests go: the region and the endpoint URL, resolved once per backend.

The region, in order: the ``region_name`` argument, ``AWS_REGION`` (the variable
the AWS SDKs reference guide names, set by Lambda and ECS), then botocore's own
lookup (``AWS_DEFAULT_REGION``, then the profile's ``region``). boto3 reads only
the latter two, so set both alike if they must agree.

The endpoint, in botocore's order (the SDKs reference guide, "Service-specific
endpoints"): the ``endpoint_url`` argument; unless
``AWS_IGNORE_CONFIGURED_ENDPOINT_URLS`` (or the profile's
``ignore_configured_endpoint_urls``) is true, ``AWS_ENDPOINT_URL_DYNAMODB``,
``AWS_ENDPOINT_URL``, the ``dynamodb`` entry of the profile's ``services``
section and the profile's ``endpoint_url``; else DynamoDB's regional endpoint:
``https://dynamodb.<region>.amazonaws.com`` (``.amazonaws.com.cn`` in the China
regions), ``dynamodb-fips`` with ``use_fips_endpoint``, ``.api.aws`` with
``use_dualstack_endpoint``, and ``http://localhost:8000`` for the region
``local`` (DynamoDB Local), as botocore's endpoint rules give them.
Account-based endpoints (``<account>.ddb.<region>.amazonaws.com``) are not used:
the regional endpoint serves every account.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from singletable.errors import from_dynamodb

__all__ = ["Endpoint", "resolve_endpoint", "resolve_region"]

_DEFAULT_PORTS = {"http": 80, "https": 443}


@dataclass(frozen=True, slots=True)
class Endpoint:
    """An endpoint's parts, as the HTTP clients and the signature need them."""

    url: str
    """The URL as configured (error messages quote it, as botocore's do)."""
    scheme: str
    host: str
    port: int
    path: str
    """The path requests are sent to (``/`` unless the URL names one)."""
    host_header: str
    """The ``Host`` header: the host, and the port unless it is the scheme's default."""

    @classmethod
    def parse(cls, url: str) -> Endpoint:
        """Split an endpoint URL (``http://127.0.0.1:8000``).

        Raises:
            singletable.errors.BackendError: ``ValueError``, not an http(s) URL with a host.
        """
        try:
            parts = urlsplit(url)
            port = parts.port
        except ValueError as error:
            raise from_dynamodb("ValueError", f"Invalid endpoint: {url} ({error})") from None
        if parts.scheme not in _DEFAULT_PORTS or not parts.hostname:
            raise from_dynamodb("ValueError", f"Invalid endpoint: {url}")
        host = parts.hostname
        default = _DEFAULT_PORTS[parts.scheme]
        shown = f"[{host}]" if ":" in host else host
        return cls(
            url=url,
            scheme=parts.scheme,
            host=host,
            port=port if port is not None else default,
            path=parts.path or "/",
            host_header=shown if port in (None, default) else f"{shown}:{port}",
        )


def resolve_region(session: Any, region_name: str | None) -> str:
    """The region to sign for (see the module docstring for the order).

    Raises:
        singletable.errors.BackendError: ``NoRegionError``, as botocore words it.
    """
    region = region_name or os.environ.get("AWS_REGION") or session.get_config_variable("region")
    if not region:
        raise from_dynamodb("NoRegionError", "You must specify a region.")
    return str(region)


def resolve_endpoint(session: Any, region: str, endpoint_url: str | None) -> Endpoint:
    """The endpoint requests go to (see the module docstring for the order)."""
    url = endpoint_url or _configured(session) or _regional(session, region)
    return Endpoint.parse(url)


def _configured(session: Any) -> str | None:
    if _true(session.get_config_variable("ignore_configured_endpoint_urls")):
        return None
    for name in ("AWS_ENDPOINT_URL_DYNAMODB", "AWS_ENDPOINT_URL"):
        if os.environ.get(name):
            return os.environ[name]
    profile: dict[str, Any] = session.get_scoped_config()
    section = profile.get("services")
    if section:
        services = session.full_config.get("services", {}).get(section, {})
        configured = services.get("dynamodb", {}).get("endpoint_url")
        if configured:
            return str(configured)
    configured = profile.get("endpoint_url")
    return str(configured) if configured else None


def _regional(session: Any, region: str) -> str:
    if region == "local":
        return "http://localhost:8000"
    fips = _true(session.get_config_variable("use_fips_endpoint"))
    dualstack = _true(session.get_config_variable("use_dualstack_endpoint"))
    name = "dynamodb-fips" if fips else "dynamodb"
    if dualstack:
        domain = "api.amazonwebservices.com.cn" if region.startswith("cn-") else "api.aws"
    else:
        domain = "amazonaws.com.cn" if region.startswith("cn-") else "amazonaws.com"
    return f"https://{name}.{region}.{domain}"


def _true(value: Any) -> bool:
    return value is True or (isinstance(value, str) and value.lower() == "true")
