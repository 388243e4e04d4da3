"""AWS Signature Version 4 for DynamoDB's JSON requests, as the SDKs sign them.

The steps (canonical request, string to sign, derived key, HMAC) are the shared
ones of ``singletable._sigv4``, which the server's verifier uses too. DynamoDB
requests are always ``POST /`` without a query, and the signed headers are the
ones botocore signs for them (``content-type``, ``host``, ``x-amz-date``,
``x-amz-security-token`` when there is a session token, and ``x-amz-target``), so
a request signed here carries the canonical request botocore would build
(tests/wire/test_wire_signing.py compares the two).

The derived key depends only on the secret, the day and the region: it is kept
between calls (:class:`Signer`), so a call costs two SHA-256 and one HMAC instead
of five HMACs (and the key's padded blocks are hashed once, see
:class:`singletable._sigv4.KeyedHash`).
"""

from __future__ import annotations

import hashlib

from singletable._sigv4 import (
    ALGORITHM,
    SERVICE,
    TERMINATOR,
    KeyedHash,
    amz_date,
    canonical_request,
    signing_key,
    string_to_sign,
)

__all__ = ["Signer", "amz_date"]


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
        self._cached: tuple[str, str, KeyedHash | None] = ("", "", None)

    def _signing_key(self, secret: str, date: str) -> KeyedHash:
        cached_secret, cached_date, keyed = self._cached
        if keyed is None or cached_secret != secret or cached_date != date:
            keyed = KeyedHash(signing_key(secret, date, self.region))
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
        canonical, signed = canonical_request(
            "POST", "/", "", headers, hashlib.sha256(body).hexdigest()
        )
        date = stamp[:8]
        scope = f"{date}/{self.region}/{SERVICE}/{TERMINATOR}"
        to_sign = string_to_sign(stamp, scope, canonical)
        signature = self._signing_key(secret_key, date).hexdigest(to_sign.encode())
        return (
            f"{ALGORITHM} Credential={access_key}/{scope}, "
            f"SignedHeaders={signed}, Signature={signature}"
        )
