"""The backend protocols: what executes the modelling layer's DynamoDB requests.

The ORM builds requests and parses responses in DynamoDB's JSON wire shape (the
shape of the JSON 1.0 protocol: ``{"TableName": "app", "Item": {"PK": {"S": "a"},
"b": {"B": "<base64 text>"}}}``, numbers as strings, binary as base64 text) and
hands each one to a backend. A backend runs it and returns the response in the same
shape, without ``ResponseMetadata``, or raises the :mod:`singletable.errors` class
for DynamoDB's error code (:func:`singletable.errors.from_dynamodb`, with the other
members of the error body, such as ``Item`` and ``CancellationReasons``, in
``details``). Every backend raises the same class with the same code, message and
details for the same failure, so nothing above this line knows which one runs.

Backends:

- :class:`singletable.backends.engine.LocalBackend`: the embedded engine, in
  process, in memory or durable (no botocore in its path);
- :class:`singletable.backends.wire.WireBackend` and
  :class:`~singletable.backends.wire.AsyncWireBackend`: DynamoDB's protocol spoken
  directly (signing, retries and errors as the SDKs do them), for AWS or any
  compatible endpoint; the recommended backends for AWS;
- :class:`singletable.backends.boto3.Boto3Backend`: a boto3 DynamoDB client (AWS,
  or any endpoint that speaks DynamoDB's API);
- :class:`singletable.backends.aioboto3.AioBoto3Backend`: an aiobotocore/aioboto3
  client, for asyncio programs.

Anything else that implements :class:`Backend` or :class:`AsyncBackend` works too.

Responses are read-only: a backend may hand out data it shares with its storage
(the local backend does), so callers must copy before changing anything. Requests
are read-only to backends and to wrappers around them (tracing, recording, fault
injection): one that needs another request builds a new one (``{**request, ...}``)
instead of changing the one it was given. The local engine relies on it: a PutItem
item the codec built arrives marked as such (:mod:`singletable._canonical`) and is
measured, not re-validated.
"""

from __future__ import annotations

from typing import Any, Protocol

__all__ = ["AsyncBackend", "Backend"]


class Backend(Protocol):
    """A synchronous backend: runs one DynamoDB operation at a time per call."""

    def call(self, operation: str, request: dict[str, Any]) -> dict[str, Any]:
        """Run ``operation`` (``"PutItem"``, ...) on a wire-shaped request.

        Returns:
            The wire-shaped response (read-only; no ``ResponseMetadata``).

        Raises:
            singletable.errors.DynamoDBServiceError: the subclass for DynamoDB's error code.
        """
        ...

    def close(self) -> None:
        """Release what the backend owns (an engine or client it created)."""
        ...


class AsyncBackend(Protocol):
    """An asynchronous backend: :class:`Backend` with ``await``-able methods."""

    async def call(self, operation: str, request: dict[str, Any]) -> dict[str, Any]:
        """Run ``operation`` on a wire-shaped request (see :meth:`Backend.call`)."""
        ...

    async def close(self) -> None:
        """Release what the backend owns."""
        ...
