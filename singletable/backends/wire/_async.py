"""The asyncio wire backend: the same core, its requests sent by an aiohttp session.

aiohttp is the HTTP client under aiobotocore, so the ``async`` extra
(``pip install singletable[async]``, aioboto3) already brings it: a pooled
keep-alive connector, TLS, per-phase timeouts, and a client session bound to the
event loop it was opened in. It is imported when the first request is sent, so
the sync backend needs none of it.
"""

from __future__ import annotations

import asyncio
import importlib
from typing import TYPE_CHECKING, Any

from singletable.backends.wire._core import (
    Core,
    HttpRequest,
    HttpResponse,
    Options,
    Sleep,
    TransportFailure,
)
from singletable.backends.wire._setup import build_core, tls_context
from singletable.errors import from_dynamodb

if TYPE_CHECKING:
    import aiohttp

__all__ = ["AsyncWireBackend"]


class AsyncWireBackend:
    """An :class:`~singletable.backends.base.AsyncBackend` that speaks DynamoDB's protocol.

    ::

        async with AsyncWireBackend() as backend:
            db = AsyncDB(backend)

    Takes the arguments of :class:`~singletable.backends.wire.WireBackend`. Its
    connections belong to the event loop of its first request: use it from that
    loop only.
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
            "aiohttp",
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
        self._tls = tls_context(core.endpoint, session, verify)
        endpoint = core.endpoint
        self._url = f"{endpoint.scheme}://{endpoint.host_header}"
        self._client: aiohttp.ClientSession | None = None
        self._aiohttp: Any = None

    def _open(self) -> aiohttp.ClientSession:
        try:
            module = importlib.import_module("aiohttp")
        except ImportError:  # pragma: no cover - the async extra is installed in the suite
            raise from_dynamodb(
                "ImportError",
                "the async wire backend needs aiohttp: pip install 'singletable[async]'",
            ) from None
        options = self.core.options
        connector = module.TCPConnector(
            limit=options.max_connections,
            ssl=self._tls if self._tls is not None else False,
        )
        client: aiohttp.ClientSession = module.ClientSession(
            self._url,
            connector=connector,
            timeout=module.ClientTimeout(
                total=None,
                sock_connect=options.connect_timeout,
                sock_read=options.read_timeout,
            ),
            auto_decompress=False,
        )
        self._aiohttp = module
        self._client = client
        return client

    async def call(self, operation: str, request: dict[str, Any]) -> dict[str, Any]:
        """Run ``operation``; returns the wire-shaped response.

        Raises:
            singletable.errors.DynamoDBServiceError: the subclass for the error code.
        """
        credentials = self.core.credentials
        if credentials.refresh_due():
            # the refresh calls STS, SSO or a metadata endpoint: not on the loop
            await asyncio.to_thread(credentials.keys)
        flow = self.core.exchange(operation, request)
        try:
            step = next(flow)
            while True:
                if isinstance(step, Sleep):
                    await asyncio.sleep(step.seconds)
                    step = flow.send(None)
                else:
                    step = flow.send(await self._send(step))
        except StopIteration as done:
            result: dict[str, Any] = done.value
            return result

    async def _send(self, request: HttpRequest) -> HttpResponse | TransportFailure:
        client = self._client or self._open()
        aiohttp = self._aiohttp
        try:
            async with client.post(
                request.path, data=request.body, headers=request.headers
            ) as response:
                body = await response.read()
                return HttpResponse(response.status, response.headers, body)
        except aiohttp.ClientSSLError as error:
            return TransportFailure("SSLError", str(error))
        except aiohttp.ClientConnectorError as error:
            return TransportFailure("EndpointConnectionError", str(error))
        except aiohttp.ConnectionTimeoutError as error:
            return TransportFailure("ConnectTimeoutError", str(error))
        except (TimeoutError, aiohttp.ServerTimeoutError) as error:
            return TransportFailure("ReadTimeoutError", str(error))
        except (aiohttp.ClientError, OSError) as error:
            return TransportFailure("ConnectionClosedError", str(error))

    async def close(self) -> None:
        """Close the connections (a later call opens new ones)."""
        client, self._client = self._client, None
        if client is not None:
            await client.close()

    async def __aenter__(self) -> AsyncWireBackend:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.close()

    def __repr__(self) -> str:
        return f"AsyncWireBackend({self.core.endpoint.url!r})"
