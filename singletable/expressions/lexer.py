"""Tokenizer for DynamoDB expressions; keeps every token's position.

Whitespace is kept as tokens too, because DynamoDB's syntax errors quote the text
around the offending token (``Syntax error; token: ":", near: "hits : incr"``): the
previous token (with the one before it when the previous one is whitespace), the
offending token, and the next token (with the one after it when the next one is
whitespace). :func:`near` computes exactly that from the token list.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

__all__ = ["Token", "near", "tokenize"]

# Token kinds.
WORD: Final = "word"  # identifier or keyword: [A-Za-z][A-Za-z0-9_]*
NUMBER: Final = "number"  # starts with a digit: list index (or an invalid name)
NAME_REF: Final = "name_ref"  # #name
VALUE_REF: Final = "value_ref"  # :value
PUNCT: Final = "punct"  # ( ) [ ] . , = <> < <= > >= + -
SPACE: Final = "space"
ERROR: Final = "error"  # a character no token can start with
EOF: Final = "eof"

_WORD_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_")
_SPACE_CHARS = frozenset(" \t\r\n")
_SINGLE = frozenset("()[].,=+-")


@dataclass(frozen=True, slots=True)
class Token:
    """One token: its kind, its text and its ``[start, end)`` offsets in the source."""

    kind: str
    text: str
    start: int
    end: int


def _scan_word(text: str, start: int) -> int:
    end = start
    while end < len(text) and text[end] in _WORD_CHARS:
        end += 1
    return end


def _next_token(text: str, pos: int) -> Token:
    char = text[pos]
    if char in _SPACE_CHARS:
        end = pos
        while end < len(text) and text[end] in _SPACE_CHARS:
            end += 1
        return Token(SPACE, text[pos:end], pos, end)
    if char == "_":
        # A name (or function name) may not start with an underscore: DynamoDB's
        # tokenizer has no token that starts with one, so it is a syntax error at
        # the "_" (as for any character no token starts with; the quoted token is
        # our reading of its form, not captured).
        return Token(ERROR, char, pos, pos + 1)
    if char in _WORD_CHARS:
        end = _scan_word(text, pos)
        kind = NUMBER if char.isdigit() else WORD
        return Token(kind, text[pos:end], pos, end)
    if char in "#:":
        end = _scan_word(text, pos + 1)
        if end == pos + 1:  # a bare '#' or ':' is not a token
            return Token(ERROR, char, pos, pos + 1)
        return Token(NAME_REF if char == "#" else VALUE_REF, text[pos:end], pos, end)
    if char in "<>":
        two = text[pos : pos + 2]
        if two in ("<>", "<=", ">="):
            return Token(PUNCT, two, pos, pos + 2)
        return Token(PUNCT, char, pos, pos + 1)
    if char in _SINGLE:
        return Token(PUNCT, char, pos, pos + 1)
    return Token(ERROR, char, pos, pos + 1)


def tokenize(text: str) -> list[Token]:
    """All tokens of ``text``, whitespace included, ending with an EOF token."""
    tokens: list[Token] = []
    pos = 0
    while pos < len(text):
        token = _next_token(text, pos)
        tokens.append(token)
        pos = token.end
    tokens.append(Token(EOF, "<EOF>", len(text), len(text)))
    return tokens


def near(tokens: list[Token], index: int) -> str:
    """The ``near`` text DynamoDB quotes for a syntax error at ``tokens[index]``."""
    parts: list[str] = []
    if index >= 1:
        previous = tokens[index - 1]
        if previous.kind == SPACE and index >= 2:
            parts.append(tokens[index - 2].text)
        parts.append(previous.text)
    current = tokens[index]
    if current.kind != EOF:
        parts.append(current.text)
        following = tokens[index + 1]
        if following.kind != EOF:
            parts.append(following.text)
            if following.kind == SPACE and tokens[index + 2].kind != EOF:
                parts.append(tokens[index + 2].text)
    return "".join(parts)
