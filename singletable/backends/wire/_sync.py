"""The synchronous wire backend: the core's requests sent by a urllib3 connection pool.

urllib3 is the HTTP client under botocore (and so already installed with boto3):
a thread-safe pool of keep-alive connections, TLS through the standard library's
``ssl``, connect and read timeouts, and nothing else on the path. Its own retries
and redirects are off: the core decides retries with DynamoDB's policy.
"""

from __future__ import annotations

import importlib.metadata
import time
from typing import Any

import urllib3
from urllib3.exceptions import (
    ConnectTimeoutError,
    HTTPError,
    NewConnectionError,
    ProtocolError,
    ReadTimeoutError,
    SSLError,
)

from singletable.backends.wire._core import (
    Core,
    HttpRequest,
    HttpResponse,
    Options,
    Sleep,
    TransportFailure,
)
from singletable.backends.wire._setup import build_core, tls_context

__all__ = ["WireBackend"]


class WireBackend:
    """A :class:`~singletable.backends.base.Backend` that speaks DynamoDB's protocol itself.

    ::

        backend = WireBackend()                                   # AWS, as boto3 finds it
        backend = WireBackend(endpoint_url="http://127.0.0.1:8000")  # singletable serve, ...

    Args:
        endpoint_url: the endpoint; by default the configured one
            (``AWS_ENDPOINT_URL_DYNAMODB``, ...) or DynamoDB's in the region.
        region_name: the region; by default ``AWS_REGION``, ``AWS_DEFAULT_REGION`` or
            the profile's.
        aws_access_key_id: with ``aws_secret_access_key`` (and
            ``aws_session_token``), these keys instead of the credential chain.
        profile_name: the shared-config profile to read (``AWS_PROFILE`` by default).
        session: a botocore session to read settings and credentials from instead.
        options: timeouts, retries, pool size (:class:`Options`; botocore's defaults).
        verify: check the server's TLS certificate (True), against this CA bundle
            (a path), or not at all (False).

    Raises:
        singletable.errors.BackendError: no region (``NoRegionError``) or an invalid
            endpoint URL.
    """

    def __init__(
        self,
        *,
        endpoint_url: str | None = None,
        region_name: str | None = None,
        aws_access_key_id: str | None = None,
        aws_secret_access_key: str | None = None,
        aws_session_token: str | None = None,
        profile_name: str | None = None,
        session: Any = None,
        options: Options | None = None,
        verify: bool | str | None = None,
    ) -> None:
        core, session = build_core(
            f"urllib3#{importlib.metadata.version('urllib3')}",
            endpoint_url=endpoint_url,
            region_name=region_name,
            aws_access_key_id=aws_access_key_id,
            aws_secret_access_key=aws_secret_access_key,
            aws_session_token=aws_session_token,
            profile_name=profile_name,
            session=session,
            options=options,
        )
        self.core: Core = core
        """The sans-I/O core (endpoint, region, credentials, options)."""
        endpoint = core.endpoint
        options = core.options
        timeout = urllib3.Timeout(connect=options.connect_timeout, read=options.read_timeout)
        context = tls_context(endpoint, session, verify)
        self._pool: urllib3.HTTPConnectionPool
        if context is None:
            self._pool = urllib3.HTTPConnectionPool(
                endpoint.host,
                endpoint.port,
                timeout=timeout,
                maxsize=options.max_connections,
                block=False,
                retries=False,
            )
        else:
            self._pool = urllib3.HTTPSConnectionPool(
                endpoint.host,
                endpoint.port,
                timeout=timeout,
                maxsize=options.max_connections,
                block=False,
                retries=False,
                ssl_context=context,
            )

    def call(self, operation: str, request: dict[str, Any]) -> dict[str, Any]:
        """Run ``operation``; returns the wire-shaped response.

        Raises:
            singletable.errors.DynamoDBServiceError: the subclass for the error code.
        """
        flow = self.core.exchange(operation, request)
        try:
            step = next(flow)
            while True:
                if isinstance(step, Sleep):
                    time.sleep(step.seconds)
                    step = flow.send(None)
                else:
                    step = flow.send(self._send(step))
        except StopIteration as done:
            result: dict[str, Any] = done.value
            return result

    def _send(self, request: HttpRequest) -> HttpResponse | TransportFailure:
        try:
            response = self._pool.urlopen(
                request.method,
                request.path,
                body=request.body,
                headers=request.headers,
                retries=False,
                redirect=False,
                assert_same_host=False,
                preload_content=True,
                decode_content=False,
            )
        except NewConnectionError as error:  # (a ConnectTimeoutError subclass in urllib3 2)
            return TransportFailure("EndpointConnectionError", str(error))
        except ConnectTimeoutError as error:
            return TransportFailure("ConnectTimeoutError", str(error))
        except ReadTimeoutError as error:
            return TransportFailure("ReadTimeoutError", str(error))
        except SSLError as error:
            return TransportFailure("SSLError", str(error))
        except (ProtocolError, HTTPError, OSError) as error:
            return TransportFailure("ConnectionClosedError", str(error))
        return HttpResponse(response.status, response.headers, response.data)

    def close(self) -> None:
        """Close the pooled connections."""
        self._pool.close()

    def __enter__(self) -> WireBackend:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"WireBackend({self.core.endpoint.url!r})"
