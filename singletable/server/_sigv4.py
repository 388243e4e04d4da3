"""Verification of AWS Signature Version 4 on incoming requests (``--require-auth``).

:func:`verify` recomputes the signature of a request the way the SDKs compute it
(https://docs.aws.amazon.com/IAM/latest/UserGuide/create-signed-request.html):
canonical request, string to sign, and the HMAC chain over the secret key, the
date, the region and the service (the steps of ``singletable._sigv4``, which the
wire backends sign with), then compares it with the one sent. The
region is not checked (any region signs for the local endpoint); the service
must be ``dynamodb``, which is also the signing name of DynamoDB Streams.

:func:`signing_region` reads the region of the credential scope, signed or not
checked: the server runs each request in that region (each region has its own
tables, as in DynamoDB; see ``singletable.backends.local._regions``).

Failures use DynamoDB's error codes and texts: the checks and their order come
from dynalite's capture of the live service (``mhart/dynalite``, ``index.js``)
and dynoxide's (``nubo-db/dynoxide``, ``src/auth_material.rs``). A signature
older or newer than 15 minutes is rejected, as AWS does. Only header-based
signatures are accepted: SDKs never presign DynamoDB requests.
"""

from __future__ import annotations

import calendar
import functools
import hashlib
import hmac
import re
import time
from collections.abc import Mapping
from email.utils import parsedate_to_datetime
from urllib.parse import parse_qsl, quote, urlsplit

from singletable._sigv4 import (
    ALGORITHM,
    SERVICE,
    TERMINATOR,
    KeyedHash,
    canonical_request,
    signing_key,
    string_to_sign,
)
from singletable._sigv4 import amz_date as _stamp

__all__ = ["Credentials", "signing_region", "verify"]

Credentials = Mapping[str, str]
"""Access key id -> secret access key."""

_MAX_SKEW = 15 * 60
_MISSING_TOKEN = "Request is missing Authentication Token"
_BAD_SIGNATURE = (
    "The request signature we calculated does not match the signature you provided. "
    "Check your AWS Secret Access Key and signing method. "
    "Consult the service documentation for details."
)
_BAD_TOKEN = "The security token included in the request is invalid."

# Five slash-separated parts, the third (the region) not empty, then a comma, a
# space or the end.
_SCOPE = re.compile(r"[^/]*/[^/]*/([^/]+)/[^/]*/[^/]*")
_SEPARATORS = (" ", ",")  # what may end the text before a parameter of its own
_UNKNOWN = object()
_REMEMBERED = 256  # regions remembered by header text (forgotten all at once past it)
_REGIONS: dict[str, str | None] = {}  # header text before the signature -> region
# Values remembered (a date, a region, an Authorization header's text) are at most this
# long: what clients send, and a bound on what the caches can hold (sent before a request
# is authenticated, they must not let a client fill memory).
_SHORT = 512

Failure = tuple[str, str]
"""An error code and its message."""


def signing_region(authorization: str) -> str | None:
    """The region of an ``Authorization`` header's credential scope, None if it has none.

    ``Credential=<key id>/<date>/<region>/<service>/aws4_request``: the region the
    client was made for (every SDK signs each request, also for a local endpoint).
    The header is read as :func:`verify` reads it (the same ``Credential`` parameter
    when it is repeated), so a signed request runs in the region it was signed for.

    A client's headers differ from request to request only in the signature (and
    the date, daily in the scope): when the header ends in a ``Signature=`` of
    letters and digits that starts a parameter of its own, the region depends on
    the text before it alone, and is remembered by that text.
    """
    before, found, signature = authorization.rpartition("Signature=")
    if (
        found
        and len(before) <= _SHORT
        and signature.isalnum()
        and signature.isascii()
        and before[-1:] in _SEPARATORS
    ):
        region = _REGIONS.get(before, _UNKNOWN)
        if region is _UNKNOWN:
            region = _region_of(authorization)
            if len(_REGIONS) >= _REMEMBERED:
                _REGIONS.clear()
            _REGIONS[before] = region
        return region  # type: ignore[return-value]
    return _region_of(authorization)


def _region_of(authorization: str) -> str | None:
    """:func:`signing_region`, read from the whole header."""
    return _scope_region(_parameters(authorization)[1].get("Credential"))


def _scope_region(credential: str | None) -> str | None:
    """The region of a ``Credential`` parameter, None if it has none."""
    if credential is None:
        return None
    match = _SCOPE.fullmatch(credential.rstrip("/"))
    return None if match is None else match.group(1)


def _parameters(authorization: str) -> tuple[str, dict[str, str]]:
    """The algorithm of an ``Authorization`` header and its ``name=value`` parameters
    (separated by commas or white space; a repeated name: the last one counts)."""
    algorithm, _, rest = authorization.strip().partition(" ")
    params: dict[str, str] = {}
    for part in rest.replace(",", " ").split():
        name, sep, value = part.partition("=")
        if sep:
            params[name] = value
    return algorithm, params


def verify(
    credentials: Credentials,
    method: str,
    target: str,
    headers: Mapping[str, str],
    body: bytes,
    now: float,
) -> Failure | None:
    """Check the request's SigV4 signature; None if valid, else DynamoDB's error
    (:func:`authenticate`, without the region)."""
    return authenticate(credentials, method, target, headers, body, now)[0]


def authenticate(
    credentials: Credentials,
    method: str,
    target: str,
    headers: Mapping[str, str],
    body: bytes,
    now: float,
) -> tuple[Failure | None, str | None]:
    """Check the request's SigV4 signature: (None, the region it was signed for, as
    :func:`signing_region` reads it) if valid, else (DynamoDB's error, None). The
    header is read once for both.

    Args:
        credentials: the accepted access key ids and their secrets.
        method: the HTTP method.
        target: the request target (path and query) as sent.
        headers: the request headers, names in lower case.
        body: the body as sent (the signature covers the bytes on the wire; its hash is
            computed here, never taken from ``x-amz-content-sha256``).
        now: the current time, in seconds since the epoch.
    """
    result = _verify(credentials, method, target, headers, body, now)
    if isinstance(result, _Signed):
        return None, result.region
    return result, None


class _Signed:
    """A valid signature, for the region of its scope (None if empty)."""

    __slots__ = ("region",)

    def __init__(self, region: str | None) -> None:
        self.region = region


def _verify(
    credentials: Credentials,
    method: str,
    target: str,
    headers: Mapping[str, str],
    body: bytes,
    now: float,
) -> Failure | _Signed:
    authorization = headers.get("authorization")
    if "X-Amz-Algorithm=" in target:
        if authorization is not None:
            return (
                "InvalidSignatureException",
                "Found both 'X-Amz-Algorithm' as a query-string param and "
                "'Authorization' as HTTP header.",
            )
        return "MissingAuthenticationTokenException", _MISSING_TOKEN
    if authorization is None or not authorization.strip().startswith("AWS4-"):
        return "MissingAuthenticationTokenException", _MISSING_TOKEN
    algorithm, params = _parameters(authorization)
    missing = [
        f"Authorization header requires '{name}' parameter."
        for name in ("Credential", "Signature", "SignedHeaders")
        if name not in params
    ]
    amz_date = headers.get("x-amz-date")
    http_date = headers.get("date")
    if amz_date is None and http_date is None:
        missing.append(
            "Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header."
        )
    if missing:
        return "IncompleteSignatureException", " ".join(
            [*missing, f"Authorization={authorization}"]
        )
    if len(amz_date or "") + len(http_date or "") <= _SHORT:  # what clients send
        request_time, stamp = _parse_remembered(amz_date, http_date)
    else:
        request_time, stamp = _parse_date(amz_date, http_date)
    if request_time is None:
        got = amz_date if amz_date is not None else http_date
        return (
            "IncompleteSignatureException",
            f"Date must be in ISO-8601 'basic format'. Got '{got}'. "
            "See http://en.wikipedia.org/wiki/ISO_8601",
        )
    if request_time < now - _MAX_SKEW:
        return (
            "InvalidSignatureException",
            f"Signature expired: {stamp} is now earlier than {_stamp(now - _MAX_SKEW)} "
            f"({_stamp(now)} - 15 min.)",
        )
    if request_time > now + _MAX_SKEW:
        return (
            "InvalidSignatureException",
            f"Signature not yet current: {stamp} is still later than {_stamp(now + _MAX_SKEW)} "
            f"({_stamp(now)} + 15 min.)",
        )
    signed_headers = params["SignedHeaders"].split(";")
    if "host" not in signed_headers:
        return (
            "InvalidSignatureException",
            "'Host' must be a 'SignedHeader' in the AWS Authorization.",
        )
    if algorithm != ALGORITHM:
        return (
            "IncompleteSignatureException",
            f"Unsupported AWS 'algorithm': '{algorithm}' (only {ALGORITHM} for now). ",
        )
    credential = params["Credential"]
    scope_parts = credential.rstrip("/").split("/")
    if len(scope_parts) != 5:
        return (
            "IncompleteSignatureException",
            "Credential must have exactly 5 slash-delimited elements, "
            f"e.g. keyid/date/region/service/term, got '{credential}'",
        )
    key_id, date, region, service, terminator = scope_parts
    problems = []
    if service != SERVICE:
        problems.append(f"Credential should be scoped to correct service: '{SERVICE}'. ")
    if terminator != TERMINATOR:
        problems.append(
            f"Credential should be scoped with a valid terminator: '{TERMINATOR}', "
            f"not '{terminator}'. "
        )
    if date != stamp[:8]:
        problems.append(
            "Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date "
            f"from HTTP: '{date}' != '{stamp[:8]}', from '{stamp}'."
        )
    if problems:
        return "InvalidSignatureException", "".join(problems).strip()
    secret = credentials.get(key_id)
    if secret is None:
        return "UnrecognizedClientException", _BAD_TOKEN
    # The payload hash is always the hash of the body received: a header claiming
    # another body's hash (a signed request replayed with a forged body) is refused,
    # as AWS refuses it (the message is AWS's known form, e.g. S3's; DynamoDB's own
    # text for it is not documented).
    payload_hash = hashlib.sha256(body).hexdigest()
    claimed = headers.get("x-amz-content-sha256")
    if claimed is not None and claimed.strip().lower() != payload_hash:
        return (
            "InvalidSignatureException",
            "The provided 'x-amz-content-sha256' header does not match what was computed.",
        )
    canonical = _canonical_request(method, target, headers, signed_headers, payload_hash)
    scope = f"{date}/{region}/{service}/{terminator}"
    to_sign = string_to_sign(stamp, scope, canonical)
    if len(region) <= _SHORT:
        keyed = _remembered_key(secret, date, region, service, terminator)
    else:  # not worth remembering (a client can send any region)
        keyed = _keyed(secret, date, region, service, terminator)
    expected = keyed.hexdigest(to_sign.encode())
    if not hmac.compare_digest(expected, params["Signature"]):
        return (
            "InvalidSignatureException",
            f"{_BAD_SIGNATURE}\n\nThe Canonical String for this request should have been\n"
            f"'{canonical}'\n\nThe String-to-Sign should have been\n'{to_sign}'\n",
        )
    # The scope has five parts here: _scope_region's reading, without the regex.
    return _Signed(region or None)


def _keyed(secret: str, date: str, region: str, service: str, terminator: str) -> KeyedHash:
    """The HMAC under the key that signs a day's requests of one scope, the same for
    every request of that day (remembered: :func:`_remembered_key`)."""
    return KeyedHash(signing_key(secret, date, region, service, terminator))


_remembered_key = functools.lru_cache(maxsize=64)(_keyed)


def _parse_date(amz_date: str | None, http_date: str | None) -> tuple[float | None, str]:
    """The request time and its ISO-8601 basic stamp, from X-Amz-Date or else Date
    (remembered for short values, :func:`_parse_remembered`: a client's requests of
    the same second carry the same date)."""
    if amz_date is not None:
        try:
            parsed = time.strptime(amz_date, "%Y%m%dT%H%M%SZ")
        except ValueError:
            return None, amz_date
        return float(calendar.timegm(parsed)), amz_date
    assert http_date is not None
    try:
        moment = parsedate_to_datetime(http_date).timestamp()
    except (TypeError, ValueError):
        return None, http_date
    return moment, _stamp(moment)


_parse_remembered = functools.lru_cache(maxsize=64)(_parse_date)


def _canonical_request(
    method: str,
    target: str,
    headers: Mapping[str, str],
    signed_headers: list[str],
    payload_hash: str,
) -> str:
    """The canonical request SigV4 signs (as botocore builds it for the same request)."""
    if target == "/":  # what every SDK sends
        path, query = "/", ""
    else:
        split = urlsplit(target)
        path = quote(split.path or "/", safe="/~")
        query = "&".join(
            f"{quote(name, safe='-_.~')}={quote(value, safe='-_.~')}"
            for name, value in sorted(parse_qsl(split.query, keep_blank_values=True))
        )
    signed = [(name, headers.get(name, "")) for name in signed_headers]
    return canonical_request(method, path, query, signed, payload_hash)[0]
