"""The asyncio backend: an aiobotocore (aioboto3) DynamoDB client.

::

    session = aioboto3.Session()
    async with session.client("dynamodb") as client:
        backend = AioBoto3Backend(client)                   # the client stays yours
        await backend.call("GetItem", {...})

    async with await AioBoto3Backend.connect(endpoint_url=url) as backend:
        ...                                                  # the backend owns its client

Requests and responses are converted exactly as the boto3 backend converts them
(binary as base64 text, timestamps as epoch seconds, no ``ResponseMetadata``) and
errors map to the same :mod:`singletable.errors` classes, by the same code:
:func:`~singletable.backends.boto3.to_botocore`,
:func:`~singletable.backends.boto3.from_botocore` and
:func:`~singletable.backends.boto3.error_from_botocore`. aioboto3 is an optional
dependency (``pip install singletable[async]``); only :meth:`AioBoto3Backend.connect`
imports it.
"""

from __future__ import annotations

import importlib
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from singletable.backends.boto3 import (
    client_method,
    error_from_botocore,
    from_botocore,
    method_names,
    to_botocore,
)

__all__ = ["AioBoto3Backend"]


class AioBoto3Backend:
    """An :class:`~singletable.backends.base.AsyncBackend` over an aiobotocore DynamoDB client.

    Args:
        client: the client of ``async with session.client("dynamodb") as client``
            (aioboto3) or of aiobotocore's ``create_client``. The backend does not
            close a client it was given; see :meth:`connect`.
    """

    def __init__(self, client: Any) -> None:
        self.client: Any = client
        """The aiobotocore client requests go through."""
        self._methods = method_names(client)
        self._owns_client = False

    @classmethod
    async def connect(cls, *, session: Any = None, **client_args: Any) -> AioBoto3Backend:
        """A backend over a new aioboto3 DynamoDB client, which it owns and closes.

        ``client_args`` go to ``session.client("dynamodb", ...)`` (``endpoint_url``,
        ``region_name``, ``config``, ...). ``session`` is an ``aioboto3.Session``; a new
        one by default. Reusing one saves loading botocore's service model again
        (about 0.2 s per client).
        """
        if session is None:
            session = importlib.import_module("aioboto3").Session()
        client = await session.client("dynamodb", **client_args).__aenter__()
        backend = cls(client)
        backend._owns_client = True
        return backend

    async def call(self, operation: str, request: dict[str, Any]) -> dict[str, Any]:
        """Run ``operation`` through the client; returns the wire-shaped response.

        Raises:
            singletable.errors.DynamoDBServiceError: the subclass for the error code.
        """
        method = getattr(self.client, client_method(self._methods, operation))
        try:
            response: dict[str, Any] = await method(**to_botocore(request))
        except (BotoCoreError, ClientError) as error:
            raise error_from_botocore(error, operation) from error
        response.pop("ResponseMetadata", None)
        converted: dict[str, Any] = from_botocore(response)
        return converted

    async def close(self) -> None:
        """Close the client if this backend created it (:meth:`connect`)."""
        if self._owns_client:
            await self.client.close()

    async def __aenter__(self) -> AioBoto3Backend:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.close()

    def __repr__(self) -> str:
        return f"AioBoto3Backend({self.client.meta.endpoint_url!r})"
