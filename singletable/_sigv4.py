"""AWS Signature Version 4, the steps both sides take: the wire backends signing
(``singletable.backends.wire._signing``) and ``singletable serve --require-auth``
verifying (``singletable.server._sigv4``).

The steps are those of the IAM User Guide's "Create a signed AWS API request"
(https://docs.aws.amazon.com/IAM/latest/UserGuide/create-signed-request.html):
a canonical request (method, path, query, the signed headers, the hash of the
body), a string to sign naming the algorithm, the time and the credential scope,
and an HMAC-SHA256 under a key derived from the secret, the date, the region and
the service. What each side keeps between requests (one client's key, the
server's recent keys) is that side's business; nothing here remembers anything.
"""

from __future__ import annotations

import hashlib
import hmac
import time
from collections.abc import Sequence

__all__ = [
    "ALGORITHM",
    "SERVICE",
    "TERMINATOR",
    "KeyedHash",
    "amz_date",
    "canonical_request",
    "signing_key",
    "string_to_sign",
]

ALGORITHM = "AWS4-HMAC-SHA256"
SERVICE = "dynamodb"  # also the signing name of DynamoDB Streams
TERMINATOR = "aws4_request"


def amz_date(now: float) -> str:
    """``now`` (epoch seconds) as SigV4's ISO-8601 basic stamp, ``20260102T030405Z``."""
    return time.strftime("%Y%m%dT%H%M%SZ", time.gmtime(now))


def canonical_request(
    method: str,
    path: str,
    query: str,
    headers: Sequence[tuple[str, str]],
    payload_hash: str,
) -> tuple[str, str]:
    """The canonical request, and its signed-header list (``name;name...``).

    Args:
        path: the path, URI-encoded as SigV4 wants it.
        query: the canonical query string (``""`` for DynamoDB's ``POST /``).
        headers: the signed headers in their signed order (lower-case names, sorted),
            each with its value as sent; runs of white space become one space.
        payload_hash: the hex SHA-256 of the body.
    """
    signed = ";".join(name for name, _ in headers)
    lines = "".join(f"{name}:{' '.join(value.split())}\n" for name, value in headers)
    return f"{method}\n{path}\n{query}\n{lines}\n{signed}\n{payload_hash}", signed


def string_to_sign(stamp: str, scope: str, canonical: str) -> str:
    """What the signature signs: the algorithm, the request time (:func:`amz_date`'s
    form), the credential scope and the hash of the canonical request."""
    return f"{ALGORITHM}\n{stamp}\n{scope}\n{hashlib.sha256(canonical.encode()).hexdigest()}"


def signing_key(
    secret: str, date: str, region: str, service: str = SERVICE, terminator: str = TERMINATOR
) -> bytes:
    """The key that signs a day's requests of one scope: an HMAC chain over the secret,
    the date (``YYYYMMDD``), the region, the service and the terminator. The same for
    every request of that day: worth keeping (as a :class:`KeyedHash`)."""
    key = ("AWS4" + secret).encode()
    for part in (date, region, service, terminator):
        key = hmac.new(key, part.encode(), hashlib.sha256).digest()
    return key


class KeyedHash:
    """HMAC-SHA256 under one key, its padded key blocks hashed once (RFC 2104:
    ``H((K ^ opad) || H((K ^ ipad) || m))``); each message then costs two copies of
    those hash states. ``hmac.new`` builds its hash states anew for every message,
    which with OpenSSL 3 means looking the digest up in the provider store each
    time: twice the CPU of this on a request's string to sign. Threads may share
    one (a message never touches the kept states)."""

    __slots__ = ("_inner", "_outer")

    def __init__(self, key: bytes) -> None:
        if len(key) > 64:  # (a longer key is hashed first; a derived key is 32 bytes)
            key = hashlib.sha256(key).digest()
        block = key.ljust(64, b"\0")  # padded to SHA-256's block
        self._inner = hashlib.sha256(bytes(b ^ 0x36 for b in block))
        self._outer = hashlib.sha256(bytes(b ^ 0x5C for b in block))

    def hexdigest(self, message: bytes) -> str:
        """The hex HMAC-SHA256 of ``message`` under the key."""
        inner = self._inner.copy()
        inner.update(message)
        outer = self._outer.copy()
        outer.update(inner.digest())
        return outer.hexdigest()
