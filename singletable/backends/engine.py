"""The embedded backend: the local engine, in this process, with no botocore in the path.

::

    backend = LocalBackend()                  # a fresh engine in memory
    backend = LocalBackend(path="app.db")     # durable: the data lives in this file
    backend = LocalBackend(engine)            # an engine you already have (left open)

Requests go straight to :meth:`LocalEngine.call` in the wire shape the engine speaks
natively, so nothing is converted or serialized. Responses come without the engine's
defensive deep copy (``copy=False``): they may share data with the stored items and
are read-only, as every backend's responses are (:mod:`singletable.backends.base`).
"""

from __future__ import annotations

import os
from typing import Any

from singletable.backends.local.engine import LocalEngine
from singletable.backends.local.errors import DynamoDBError
from singletable.errors import from_dynamodb

__all__ = ["LocalBackend"]


class LocalBackend:
    """A :class:`~singletable.backends.base.Backend` over an in-process :class:`LocalEngine`.

    Args:
        engine: the engine to use; it stays open when the backend closes. By default
            the backend makes its own (and closes it in :meth:`close`).
        path: make that engine durable, keeping the data in this file (created if
            missing, reopened with its tables if not); not together with ``engine``.
    """

    def __init__(
        self, engine: LocalEngine | None = None, *, path: str | os.PathLike[str] | None = None
    ) -> None:
        if engine is not None and path is not None:
            raise ValueError("give engine or path, not both")
        self._owns_engine = engine is None
        self.engine: LocalEngine = engine if engine is not None else LocalEngine(path=path)
        """The engine requests run on (for streams, TTL sweeps and other engine features)."""

    def call(self, operation: str, request: dict[str, Any]) -> dict[str, Any]:
        """Run ``operation`` on the engine; returns the (read-only) wire response.

        Raises:
            singletable.errors.DynamoDBServiceError: the subclass for the error code.
        """
        try:
            return self.engine.call(operation, request, copy=False)
        except DynamoDBError as error:
            raise from_dynamodb(
                error.code, error.message, operation=operation, details=error.extra
            ) from None

    def close(self) -> None:
        """Close the engine if this backend created it (flushing a durable one)."""
        if self._owns_engine:
            self.engine.close()

    def __enter__(self) -> LocalBackend:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"LocalBackend({self.engine.storage.__class__.__name__})"
