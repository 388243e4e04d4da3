"""AWS Signature Version 4 for DynamoDB's JSON requests, as the SDKs sign them.

The steps are those of the IAM User Guide's "Create a signed AWS API request"
(https://docs.aws.amazon.com/IAM/latest/UserGuide/create-signed-request.html):
a canonical request (method, path, query, the signed headers, the hash of the
body), a string to sign naming the algorithm, the time and the credential scope,
and an HMAC-SHA256 under a key derived from the secret, the date, the region and
the service. DynamoDB requests are always ``POST /`` without a query, and the
signed headers are the ones botocore signs for them (``content-type``, ``host``,
``x-amz-date``, ``x-amz-security-token`` when there is a session token, and
``x-amz-target``), so a request signed here carries the canonical request botocore
would build (tests/wire/test_wire_signing.py compares the two).

The derived key depends only on the secret, the day and the region: it is kept
between calls (:class:`Signer`), so a call costs two SHA-256 and one HMAC instead
of five HMACs (and the key's padded blocks are hashed once, see :class:`_KeyedHash`).
"""

from __future__ import annotations

import hashlib
import hmac
import time

__all__ = ["ALGORITHM", "SERVICE", "Signer", "amz_date", "canonical_request"]

ALGORITHM = "AWS4-HMAC-SHA256"
SERVICE = "dynamodb"
_TERMINATOR = "aws4_request"


def amz_date(now: float) -> str:
    """``now`` (epoch seconds) as SigV4's ISO-8601 basic stamp, ``20260102T030405Z``."""
    return time.strftime("%Y%m%dT%H%M%SZ", time.gmtime(now))


def canonical_request(
    headers: list[tuple[str, str]], payload_hash: str, method: str = "POST", path: str = "/"
) -> tuple[str, str]:
    """The canonical request of a request without a query, and its signed-header list.

    Args:
        headers: the headers to sign, names in lower case, sorted by name.
        payload_hash: the hex SHA-256 of the body.
    """
    signed = ";".join(name for name, _ in headers)
    lines = "".join(f"{name}:{' '.join(value.split())}\n" for name, value in headers)
    return f"{method}\n{path}\n\n{lines}\n{signed}\n{payload_hash}", signed


class Signer:
    """Signs requests for one region with whatever credentials each call brings.

    Args:
        region: the region in the credential scope (any region signs for a local
            endpoint; AWS checks it).
    """

    def __init__(self, region: str) -> None:
        self.region = region
        # (secret, date, keyed hashes) in one attribute: threads share a signer, and
        # one assignment is atomic where two would not be
        self._cached: tuple[str, str, _KeyedHash | None] = ("", "", None)

    def _signing_key(self, secret: str, date: str) -> _KeyedHash:
        cached_secret, cached_date, keyed = self._cached
        if keyed is None or cached_secret != secret or cached_date != date:
            key = ("AWS4" + secret).encode()
            for part in (date, self.region, SERVICE, _TERMINATOR):
                key = hmac.new(key, part.encode(), hashlib.sha256).digest()
            keyed = _KeyedHash(key)
            self._cached = (secret, date, keyed)
        return keyed

    def authorization(
        self,
        headers: list[tuple[str, str]],
        body: bytes,
        stamp: str,
        access_key: str,
        secret_key: str,
    ) -> str:
        """The ``Authorization`` header for a ``POST /`` with ``headers`` and ``body``.

        Args:
            headers: every header to sign (lower-case names, sorted), ``x-amz-date``
                (``stamp``) among them.
            stamp: the request time, as :func:`amz_date` gives it.
        """
        canonical, signed = canonical_request(headers, hashlib.sha256(body).hexdigest())
        date = stamp[:8]
        scope = f"{date}/{self.region}/{SERVICE}/{_TERMINATOR}"
        to_sign = (
            f"{ALGORITHM}\n{stamp}\n{scope}\n{hashlib.sha256(canonical.encode()).hexdigest()}"
        )
        signature = self._signing_key(secret_key, date).hexdigest(to_sign.encode())
        return (
            f"{ALGORITHM} Credential={access_key}/{scope}, "
            f"SignedHeaders={signed}, Signature={signature}"
        )


class _KeyedHash:
    """HMAC-SHA256 under one key, its padded key blocks hashed once (RFC 2104:
    ``H((K ^ opad) || H((K ^ ipad) || m))``); each message then costs two copies of
    those hash states. ``hmac.new`` builds its hash states anew for every message,
    which with OpenSSL 3 means looking the digest up in the provider store each
    time: twice the CPU of this on a request's string to sign."""

    __slots__ = ("_inner", "_outer")

    def __init__(self, key: bytes) -> None:
        if len(key) > 64:  # (a longer key is hashed first; a derived key is 32 bytes)
            key = hashlib.sha256(key).digest()
        block = key.ljust(64, b"\0")  # padded to SHA-256's block
        self._inner = hashlib.sha256(bytes(b ^ 0x36 for b in block))
        self._outer = hashlib.sha256(bytes(b ^ 0x5C for b in block))

    def hexdigest(self, message: bytes) -> str:
        inner = self._inner.copy()
        inner.update(message)
        outer = self._outer.copy()
        outer.update(inner.digest())
        return outer.hexdigest()
