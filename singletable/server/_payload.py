"""Checks on a request body before it is parsed as JSON: its encoding and its depth.

Encoding. DynamoDB reads request bodies as UTF-8 and answers a body that is
not valid UTF-8 (a UTF-16 body, Latin-1 text, UTF-8-encoded surrogates) with
``SerializationException``, as SDK bug reports of mis-encoded bodies show
(aws/aws-sdk-js#46). Python's ``json.loads`` would instead guess UTF-16 or
UTF-32 from the first bytes and let encoded surrogates through, so the body is
decoded strictly here first.

Depth. Attribute values nest at most 32 levels (the Developer Guide's "Nested
attribute depth" in *Service, account, and table quotas*); in the JSON an
``M`` or ``L`` level is two levels of objects or arrays, and a request wraps the
values in a few more (``TransactItems`` / ``Put`` / ``Item`` / ...), so a valid
request needs fewer than 80. JSON nested deeper than :data:`MAX_JSON_DEPTH`
(over three times that) is a ``SerializationException`` before it is parsed,
so that the parser, which recurses once per level, never nears the
interpreter's recursion limit however deep the body (a 100,000-deep array is
refused the same way). Values nested too deep but within this limit get the
engine's "Nesting Levels have exceeded supported limits" ValidationException.
"""

from __future__ import annotations

import re
from itertools import accumulate, chain, zip_longest
from operator import neg

__all__ = ["MAX_JSON_DEPTH", "BadPayload", "decode_payload"]

MAX_JSON_DEPTH = 256
"""The deepest nesting of JSON objects and arrays a request body may have."""

_ESCAPE = re.compile(rb"\\.", re.DOTALL)
_NOT_STRUCTURE = bytes(b for b in range(256) if b not in b'[]{}"')
_BRACKETS = bytes.maketrans(b"{}", b"[]")  # the depth is the same with one kind
_STRING = re.compile(rb'"[^"]*+"?')  # after the reduction: a string holds brackets only
_OPENS = re.compile(rb"\[+")
_CLOSES = re.compile(rb"\]+")
_QUICK_ROUNDS = 8
_COUNT_FIRST = 8 * 1024  # bodies up to this long count their brackets before the check


class BadPayload(Exception):
    """The body cannot be JSON DynamoDB would read (answered SerializationException)."""


def decode_payload(payload: bytes) -> str:
    """The body as text, checked for encoding and depth.

    Raises:
        BadPayload: if the body is not UTF-8 or nests deeper than :data:`MAX_JSON_DEPTH`.
    """
    try:
        text = payload.decode("utf-8")
    except UnicodeDecodeError as error:
        raise BadPayload(f"The request body is not valid UTF-8 (at byte {error.start})") from None
    # Counting the brackets first spares a small body the check; a large body (a
    # batch) has more brackets than the limit anyway, so it goes straight to it.
    if len(payload) > _COUNT_FIRST or payload.count(b"[") + payload.count(b"{") > MAX_JSON_DEPTH:
        _check_depth(payload)
    return text


def _check_depth(payload: bytes) -> None:
    """Refuse brackets outside strings that nest deeper than :data:`MAX_JSON_DEPTH`.

    Every step runs in C but the last, which only runs for bodies deeper than
    a real request. Escapes are dropped, then everything but brackets (all made
    square: the depth is the same) and quotes; adjacent quotes go in pairs (an
    empty string, or two strings merged into one, which keeps the brackets inside
    strings inside one); the few strings left (those holding brackets) go. Then
    each round deletes the innermost pairs, one level a round, so ordinary
    depths empty in a few rounds; what is left after those is measured run by
    run (a run of opening brackets adds its length, a run of closing ones takes
    it away), which overestimates only for brackets that do not pair up, which
    the JSON parser refuses anyway.
    """
    if b"\\" in payload:
        payload = _ESCAPE.sub(b"", payload)
    reduced = payload.translate(_BRACKETS, _NOT_STRUCTURE).replace(b'""', b"")
    if b'"' in reduced:
        reduced = _STRING.sub(b"", reduced)
    rounds = 0
    while reduced and rounds < _QUICK_ROUNDS:
        shorter = reduced.replace(b"[]", b"")
        if len(shorter) == len(reduced):
            break  # brackets that do not pair up: measured below
        reduced = shorter
        rounds += 1
    opens = map(len, _OPENS.findall(reduced))
    closes = map(neg, map(len, _CLOSES.findall(reduced)))
    runs = chain.from_iterable(zip_longest(opens, closes, fillvalue=0))
    if rounds + max(accumulate(runs), default=0) > MAX_JSON_DEPTH:
        raise BadPayload(f"The request body nests JSON more than {MAX_JSON_DEPTH} levels deep")
