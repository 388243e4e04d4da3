"""The wire backends: DynamoDB's JSON protocol spoken directly, without botocore's client.

::

    from singletable.backends.wire import AsyncWireBackend, WireBackend

    db = DB(WireBackend())             # AWS: credentials and region as boto3 finds them
    db = DB(WireBackend(endpoint_url="http://127.0.0.1:8000"))  # singletable serve, ...
    adb = AsyncDB(AsyncWireBackend())  # asyncio (the async extra)

The modelling layer's requests are already DynamoDB's JSON, so these backends
only sign them (SigV4), send them over a pooled keep-alive connection, check the
response's CRC32 and parse its JSON: none of botocore's per-call validation,
serialization, event hooks and response parsing. Everything else a production
client does is kept: botocore's credential chain and refresh, region and endpoint
resolution, DynamoDB's retry policy, timeouts, a user agent, and errors mapped to
the same :mod:`singletable.errors` classes, codes, messages and details as the
boto3 backend's.

One sans-I/O core (:mod:`._core`: request building, signing (:mod:`._signing`),
response reading, error mapping and retry decisions) serves both backends, which
only send its requests over HTTP/1.1 framed by :mod:`._http`: :class:`WireBackend`
on standard-library sockets (:mod:`._sync`), :class:`AsyncWireBackend` on asyncio
connections (:mod:`._async`). Credentials are in :mod:`._credentials`, the endpoint
and region in :mod:`._endpoint`.
"""

from __future__ import annotations

from singletable.backends.wire._async import AsyncWireBackend
from singletable.backends.wire._core import OPERATIONS, Options
from singletable.backends.wire._sync import WireBackend

__all__ = ["OPERATIONS", "AsyncWireBackend", "Options", "WireBackend"]
