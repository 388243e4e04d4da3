"""Content codings: compressed request bodies, and compressed responses.

Requests. DynamoDB decodes ``Content-Encoding: gzip`` only (the encoding the
SDKs' request compression uses: https://docs.aws.amazon.com/sdkref/latest/guide/feature-compression.html).
Several gzip members one after another decode as one body (RFC 1952 2.2);
bytes after the last member that do not start another member are ignored, as
DynamoDB ignores them. Any other coding, a body that is not gzip, a member cut
short and an empty body are answered by DynamoDB with HTTP 500
``InternalServerError`` (ScyllaDB's Alternator test suite, written against the
live service, records each case: ``test/alternator/test_compressed_request.py``).
Here the decompressed size is bounded by the 16 MB request limit as it is
produced (a 413 past it), so a small request cannot expand without bound;
DynamoDB itself is documented by the same suite to accept far larger ones.

Responses. With ``Accept-Encoding`` naming ``gzip`` or ``deflate`` (the zlib
format, RFC 9110 8.4.1.2), DynamoDB compresses a response body of 4 KB or more
(4096 bytes) and leaves smaller ones alone. The choice among the codings a
client lists follows what the same suite observed: the highest quality wins
(``q`` clamped to 0..1, an unreadable ``q`` counting as 1, the first ``q`` of an
entry used); among equals, a coding named outright beats ``*``, and earlier
beats later; ``*`` stands for gzip before deflate; ``identity``, ``x-gzip`` and
unknown codings are ignored, and so are malformed entries. The ``x-amz-crc32``
header is the CRC32 of the body as sent, that is, of the compressed bytes: the
SDKs that accept gzip from DynamoDB check it before decompressing.
"""

from __future__ import annotations

import zlib

__all__ = ["COMPRESSION_THRESHOLD", "Undecodable", "choose_encoding", "compress", "decode_gzip"]

COMPRESSION_THRESHOLD = 4096
"""Responses of this many bytes or more are compressed when the client accepts it."""

_GZIP_MAGIC = b"\x1f\x8b"
_CODINGS = ("gzip", "deflate")


class Undecodable(Exception):
    """A request body that cannot be decoded per its ``Content-Encoding``."""


def decode_gzip(body: bytes, limit: int) -> bytes | None:
    """The body decoded from one or more gzip members; None if it decodes to more than
    ``limit`` bytes (decoding stops there).

    Raises:
        Undecodable: if the body is not gzip or a member is cut short.
    """
    if not body.startswith(_GZIP_MAGIC):
        raise Undecodable("the body is not gzip data")
    parts: list[bytes] = []
    size = 0
    rest = body
    while rest.startswith(_GZIP_MAGIC):
        decoder = zlib.decompressobj(16 + zlib.MAX_WBITS)
        try:
            data = decoder.decompress(rest, limit - size + 1)
        except zlib.error as error:
            raise Undecodable(f"the gzip data is corrupt ({error})") from None
        size += len(data)
        if size > limit:
            return None
        if not decoder.eof:
            raise Undecodable("the gzip data is cut short")
        parts.append(data)
        rest = decoder.unused_data
    return b"".join(parts)


def choose_encoding(accept: str) -> str | None:
    """The coding to compress a response with, from an ``Accept-Encoding`` value."""
    explicit: dict[str, tuple[float, int]] = {}  # coding -> (best quality, first position)
    wildcard: float | None = None
    for position, entry in enumerate(accept.split(",")):
        name, _, params = entry.partition(";")
        name = name.strip().lower()
        if name not in _CODINGS and name != "*":
            continue
        quality = _quality(params)
        if name == "*":
            wildcard = quality if wildcard is None else max(wildcard, quality)
        else:
            previous = explicit.get(name)
            explicit[name] = (
                (quality, position)
                if previous is None
                else (max(previous[0], quality), previous[1])
            )
    best: tuple[float, int, int] | None = None  # (quality, named outright, -order)
    choice = None
    for order, coding in enumerate(_CODINGS):
        if coding in explicit:
            quality, position = explicit[coding]
            rank = (quality, 1, -position)
        elif wildcard is not None:
            rank = (wildcard, 0, -order)
        else:
            continue
        if rank[0] > 0 and (best is None or rank > best):
            best, choice = rank, coding
    return choice


def _quality(params: str) -> float:
    for param in params.split(";"):
        key, sep, value = param.partition("=")
        if sep and key.strip().lower() == "q":
            try:
                quality = float(value.strip())
            except ValueError:
                return 1.0
            if quality != quality:  # NaN
                return 1.0
            return min(max(quality, 0.0), 1.0)
    return 1.0


def compress(data: bytes, coding: str) -> bytes:
    """``data`` compressed as ``gzip`` or ``deflate`` (zlib format)."""
    wbits = 16 + zlib.MAX_WBITS if coding == "gzip" else zlib.MAX_WBITS
    compressor = zlib.compressobj(6, zlib.DEFLATED, wbits)
    return compressor.compress(data) + compressor.flush()
