"""The server's shortcuts for the common request shape decide exactly as the general rules.

Each shortcut (header names and methods checked without a regular expression,
Content-Length without one, the region remembered by the Authorization header's
text, large bodies sent straight to the depth check, SigV4's date and signing key
remembered) is compared here with the rule it stands for, on generated inputs
that include the shapes the shortcut must not take.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from typing import Any

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from singletable.server import _sigv4
from singletable.server._payload import MAX_JSON_DEPTH, BadPayload, decode_payload
from singletable.server._sigv4 import authenticate, signing_region
from singletable.server._wire import BadRequest, read_body, read_request

_TOKEN = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")  # RFC 9110 token, as the rule


class _Buffered:
    """What read_request/read_body read from: a buffer already filled."""

    def __init__(self, data: bytes) -> None:
        self._buffer = bytearray(data)

    def _fill(self, deadline: float) -> None:
        raise ConnectionError("nothing more")

    def exactly(self, size: int, deadline: float) -> bytes:
        data = bytes(self._buffer[:size])
        del self._buffer[:size]
        return data


# -- header names and methods ------------------------------------------------------

_NAME_CHARS = st.sampled_from([*"abzAZ09-_.!~`|", " ", "@", "\xe9", "(", "\x7f", "\x00"])
_names = st.one_of(
    st.sampled_from(["Host", "X-Amz-Target", "content-type", "Content-Length", ""]),
    st.text(_NAME_CHARS, min_size=0, max_size=6),
)
_methods = st.one_of(
    st.sampled_from(["POST", "GET", "OPTIONS", "PUT", "P@ST", "GE T", "get", ""]),
    st.text(_NAME_CHARS, min_size=0, max_size=5),
)


def _expected(method: str, lines: list[tuple[str, str]]) -> dict[str, str] | None:
    """The rule: a token method, and every header line a token name, a colon, a value."""
    if " " in method or not _TOKEN.fullmatch(method):
        return None
    headers: dict[str, str] = {}
    for name, value in lines:
        if not _TOKEN.fullmatch(name):
            return None
        key = name.lower()
        value = value.strip(" \t")
        headers[key] = f"{headers[key]}, {value}" if key in headers else value
    return headers


@settings(max_examples=400, deadline=None)
@given(
    method=_methods,
    lines=st.lists(
        st.tuples(_names, st.sampled_from(["v", " v ", "", "a:b", "\tx\t", "\xe9"])), max_size=6
    ),
)
@example(method="POST", lines=[("X-Amz-Target", "a"), ("x-amz-target", "b")])
@example(method="POST", lines=[("Good-Name", "v"), ("", "v")])
@example(method="POST", lines=[("Na\xe9me", "v")])
@example(method="P@ST", lines=[("Host", "h")])
def test_header_names_and_methods_are_checked_as_tokens(
    method: str, lines: list[tuple[str, str]]
) -> None:
    head = f"{method} / HTTP/1.1\r\n" + "".join(f"{n}:{v}\r\n" for n, v in lines) + "\r\n"
    expected = _expected(method, lines)
    reader: Any = _Buffered(head.encode("latin-1"))
    if expected is None:
        with pytest.raises(BadRequest):
            read_request(reader, 1.0, 1.0)
    else:
        request = read_request(reader, 1.0, 1.0)
        assert request is not None
        assert (request.method, request.headers) == (method, expected)


_LENGTH_CHARS = st.sampled_from([*"0129", " ", "\x0b", "+", "-", "\xb2", "\xbd", "a"])


@settings(max_examples=300, deadline=None)
@given(length=st.text(_LENGTH_CHARS, min_size=0, max_size=4))
@example(length="1" * 19)  # 19 digits: over every limit, but well formed (drained or 400)
@example(length="1" * 20)  # 20 digits: malformed
@example(length="\xb2")  # a digit to str.isdigit(), not to HTTP
@example(length="\x0b12\x0b")  # white space the regex's strip() removes
def test_content_length_is_digits_only(length: str) -> None:
    well_formed = re.fullmatch(rb"[0-9]{1,19}", length.strip().encode("latin-1")) is not None
    reader: Any = _Buffered(b"x" * 10_000)
    try:
        body = read_body(reader, {"content-length": length}, 1.0)
    except BadRequest as error:
        malformed = str(error).startswith("Malformed Content-Length")
        assert malformed == (not well_formed)
        return
    assert well_formed
    assert body == b"x" * int(length)


# -- the region, remembered by the header's text -----------------------------------

_SEPARATOR = st.sampled_from([" ", ",", ", ", "\t", "\x0b", ""])
_credential = st.builds(
    lambda parts: "/".join(parts),
    st.lists(
        st.sampled_from(["AKID", "20260101", "us-east-1", "eu-west-2", "", "dynamodb", "x y"]),
        min_size=1,
        max_size=6,
    ),
)
_parameter = st.one_of(
    st.builds(lambda c: f"Credential={c}", _credential),
    st.sampled_from(["SignedHeaders=host", "XCredential=A/d/ap-east-1/s/t", "junk"]),
)
_signature = st.sampled_from(
    [
        "ab12",
        "ffff",
        "",
        "a b",
        "ab,Credential=K/d/sa-east-1/s/t",
        "ab Credential=K/d/x/s/t",
        "\xe9",
    ]
)


@settings(max_examples=400, deadline=None)
@given(
    algorithm=st.sampled_from(["AWS4-HMAC-SHA256", "", "AWS4"]),
    parts=st.lists(st.tuples(_SEPARATOR, _parameter), max_size=4),
    last=_SEPARATOR,
    first=_signature,
    second=_signature,
)
@example(
    algorithm="AWS4-HMAC-SHA256",
    parts=[(" ", "Credential=K/d/us-east-1/s/t")],
    last=", ",
    first="ab12",
    second="ab Credential=K/d/eu-west-1/s/t",
)
def test_a_remembered_region_is_the_one_the_whole_header_names(
    algorithm: str, parts: list[tuple[str, str]], last: str, first: str, second: str
) -> None:
    prefix = algorithm + "".join(sep + part for sep, part in parts) + last
    _sigv4._REGIONS.clear()
    for signature in (first, second, first):  # the second and third may be remembered
        header = f"{prefix}Signature={signature}"
        assert signing_region(header) == _sigv4._region_of(header), header


def test_a_long_header_is_read_whole_and_not_remembered() -> None:
    # What is remembered comes from requests not yet authenticated: only short texts.
    _sigv4._REGIONS.clear()
    padding = "X" * 600
    header = f"AWS4-HMAC-SHA256 Junk={padding}, Credential=K/d/eu-west-1/s/t, Signature=ab"
    assert signing_region(header) == "eu-west-1"
    assert not _sigv4._REGIONS


def _signed(region: str, stamp: str, secret: str = "secret") -> dict[str, str]:
    headers = {"host": "h", "x-amz-date": stamp}
    canonical = "\n".join(
        ["POST", "/", "", "host:h\nx-amz-date:" + stamp + "\n", "host;x-amz-date", ""]
    )
    canonical += hashlib.sha256(b"{}").hexdigest()
    scope = f"{stamp[:8]}/{region}/dynamodb/aws4_request"
    to_sign = "\n".join(
        ["AWS4-HMAC-SHA256", stamp, scope, hashlib.sha256(canonical.encode()).hexdigest()]
    )
    key = ("AWS4" + secret).encode()
    for part in (stamp[:8], region, "dynamodb", "aws4_request"):
        key = hmac.new(key, part.encode(), hashlib.sha256).digest()
    signature = hmac.new(key, to_sign.encode(), hashlib.sha256).hexdigest()
    authorization = (
        f"AWS4-HMAC-SHA256 Credential=K/{scope}, SignedHeaders=host;x-amz-date, "
        f"Signature={signature}"
    )
    return {**headers, "authorization": authorization}


@pytest.mark.parametrize("region", ["us-east-1", "eu-west-3", ""])
def test_authentication_reads_the_region_signing_region_reads(region: str) -> None:
    stamp = "20260101T120000Z"
    noon = 1767268800.0
    headers = _signed(region, stamp)
    failure, found = authenticate({"K": "secret"}, "POST", "/", headers, b"{}", noon)
    assert failure is None
    assert found == signing_region(headers["authorization"]) == (region or None)


def test_a_remembered_signing_key_follows_the_secret() -> None:
    stamp = "20260101T120000Z"
    noon = 1767268800.0
    headers = _signed("us-east-1", stamp, secret="old")
    assert authenticate({"K": "old"}, "POST", "/", headers, b"{}", noon)[0] is None
    failure, region = authenticate({"K": "new"}, "POST", "/", headers, b"{}", noon)
    assert failure is not None and failure[0] == "InvalidSignatureException"
    assert region is None


def test_a_query_string_is_still_part_of_what_was_signed() -> None:
    stamp = "20260101T120000Z"
    headers = _signed("us-east-1", stamp)  # signed for "/"
    failure, _ = authenticate({"K": "secret"}, "POST", "/?a=b", headers, b"{}", 1767268800.0)
    assert failure is not None and failure[0] == "InvalidSignatureException"


# -- the depth check: counted first, or straight to it -----------------------------


@settings(max_examples=300, deadline=None)
@given(
    pieces=st.lists(
        st.sampled_from(["[", "]", "{", "}", '"', "\\", "a", "[" * 40, "]" * 40, '"[["']),
        max_size=60,
    )
)
@example(pieces=["[" * 40] * 7 + ["]" * 40] * 7)  # 280 deep
@example(pieces=["[" * 40] * 6 + ["[" * 16] + ["]" * 40] * 6 + ["]" * 16])  # 256 deep
def test_a_large_body_is_refused_exactly_when_a_small_one_is(pieces: list[str]) -> None:
    body = "".join(pieces).encode()

    def refused(payload: bytes) -> bool:
        try:
            decode_payload(payload)
        except BadPayload:
            return True
        return False

    # Padding changes no depth, but takes a body over the size that counts first.
    assert refused(body) == refused(body + b" " * 9000)


def test_a_large_deep_body_is_refused_and_a_large_shallow_one_passes() -> None:
    deep = b"[" * (MAX_JSON_DEPTH + 1) + b"]" * (MAX_JSON_DEPTH + 1)
    with pytest.raises(BadPayload):
        decode_payload(deep + b" " * 20_000)
    shallow = b"[" + b"[1]," * 5000 + b"[1]]"  # 5,000 brackets, 2 deep
    assert decode_payload(shallow) == shallow.decode()


# -- the server's budget for the cache of decoded items ----------------------------


def test_a_server_raises_the_decoded_item_cache_budget_and_never_lowers_it() -> None:
    from singletable.backends.local._records import SHARED
    from singletable.server import SHARED_ITEMS_BYTES, Server

    saved = SHARED.budget
    try:
        SHARED.budget = 1024 * 1024
        Server().stop()
        assert SHARED.budget == SHARED_ITEMS_BYTES
        SHARED.budget = 2 * SHARED_ITEMS_BYTES
        Server().stop()
        assert SHARED.budget == 2 * SHARED_ITEMS_BYTES
    finally:
        SHARED.budget = saved
