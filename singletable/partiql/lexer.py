"""Tokenizer for DynamoDB's PartiQL dialect.

Tokens: ``'strings'`` (``''`` escapes a quote), ``"quoted identifiers"`` (``""``
escapes), numbers, bare words, ``?`` and punctuation (``<<`` and ``>>`` open and
close a set literal). ``--`` starts a comment to the end of the line and
``/* ... */`` a block comment; an unterminated block comment, a ``#`` or any
other character no token starts with is a statement DynamoDB cannot read.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

__all__ = ["PartiQLSyntaxError", "Token", "tokenize"]

STRING: Final = "string"
QUOTED: Final = "quoted"
NUMBER: Final = "number"
WORD: Final = "word"
PUNCT: Final = "punct"
EOF: Final = "eof"

NOT_WELL_FORMED = "Statement wasn't well formed, can't be processed: "

_PUNCT_2 = ("<<", ">>", "<=", ">=", "<>", "!=", "||")
_PUNCT_1 = frozenset("=<>()[]{},.:*?+-/;")
_WORD_START = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ_$")
_WORD_CHARS = _WORD_START | frozenset("0123456789")
_DIGITS = frozenset("0123456789")


class PartiQLSyntaxError(Exception):
    """A statement DynamoDB refuses before running it; ``message`` is DynamoDB's text."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def malformed(detail: str = "") -> PartiQLSyntaxError:
    """DynamoDB's "wasn't well formed" refusal, with ``detail`` after the colon."""
    return PartiQLSyntaxError(NOT_WELL_FORMED + detail)


@dataclass(frozen=True, slots=True)
class Token:
    """One token: its kind and its text (unquoted for strings and quoted identifiers)."""

    kind: str
    text: str

    def is_word(self, *words: str) -> bool:
        """Whether this is a bare word equal (case-insensitively) to one of ``words``."""
        return self.kind == WORD and self.text.upper() in words

    def is_punct(self, *texts: str) -> bool:
        return self.kind == PUNCT and self.text in texts


def tokenize(source: str) -> list[Token]:
    """The tokens of ``source``, ending with an EOF token.

    Raises:
        PartiQLSyntaxError: a character no token starts with, an unterminated
            string, identifier or block comment.
    """
    tokens: list[Token] = []
    i, n = 0, len(source)
    while i < n:
        c = source[i]
        if c in " \t\r\n":
            i += 1
        elif source.startswith("--", i):
            end = source.find("\n", i)
            i = n if end < 0 else end + 1
        elif source.startswith("/*", i):
            end = source.find("*/", i + 2)
            if end < 0:
                raise malformed()
            i = end + 2
        elif c == "'" or c == '"':
            text, i = _quoted(source, i, c)
            tokens.append(Token(STRING if c == "'" else QUOTED, text))
        elif c in _DIGITS or (c == "." and i + 1 < n and source[i + 1] in _DIGITS):
            start = i
            while i < n and source[i] in _DIGITS:
                i += 1
            if i < n and source[i] == "." and i + 1 <= n:
                i += 1
                while i < n and source[i] in _DIGITS:
                    i += 1
            if i < n and source[i] in "eE":
                j = i + 1
                if j < n and source[j] in "+-":
                    j += 1
                if j < n and source[j] in _DIGITS:
                    i = j
                    while i < n and source[i] in _DIGITS:
                        i += 1
            tokens.append(Token(NUMBER, source[start:i]))
        elif c in _WORD_START:
            start = i
            while i < n and source[i] in _WORD_CHARS:
                i += 1
            tokens.append(Token(WORD, source[start:i]))
        elif source[i : i + 2] in _PUNCT_2:
            tokens.append(Token(PUNCT, source[i : i + 2]))
            i += 2
        elif c in _PUNCT_1:
            tokens.append(Token(PUNCT, c))
            i += 1
        else:
            raise malformed()
    tokens.append(Token(EOF, ""))
    return tokens


def _quoted(source: str, start: int, quote: str) -> tuple[str, int]:
    """The text of the quoted token at ``start`` (doubled quotes unescaped), and its end."""
    parts: list[str] = []
    i = start + 1
    while True:
        end = source.find(quote, i)
        if end < 0:
            raise malformed()
        parts.append(source[i:end])
        if source.startswith(quote * 2, end):
            parts.append(quote)
            i = end + 2
            continue
        return "".join(parts), end + 1
