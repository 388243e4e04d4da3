"""Recursive-descent parser: expression text -> AST nodes (see :mod:`.nodes`).

One entry point per grammar: :func:`parse_condition` (ConditionExpression,
FilterExpression and KeyConditionExpression share it), :func:`parse_update` and
:func:`parse_projection`. Precedence, loosest first: OR < AND < NOT < comparison /
BETWEEN / IN < operand.

Errors are :class:`DetailError` without the ``Invalid <Parameter>:`` prefix; the
caller (:mod:`.context`) adds it. Syntax errors quote the offending token and the
text around it, as DynamoDB does. Redundant parentheses (``((a = :v))``) are not a
syntax error but a validation error DynamoDB reports only for an otherwise
well-formed expression, so the parser records them and raises after the parse.
"""

from __future__ import annotations

from dataclasses import dataclass

from singletable.expressions import lexer
from singletable.expressions.errors import DetailError
from singletable.expressions.nodes import (
    COMPARATORS,
    AddAction,
    And,
    Arithmetic,
    Between,
    Call,
    Compare,
    ConditionNode,
    DeleteAction,
    In,
    Index,
    Name,
    NameRef,
    Not,
    Operand,
    Or,
    Path,
    PathElement,
    ProjectionExpression,
    RemoveAction,
    Section,
    SetAction,
    UpdateAction,
    UpdateExpression,
    ValueRef,
)

__all__ = ["REDUNDANT_PARENTHESES", "parse_condition", "parse_projection", "parse_update"]

REDUNDANT_PARENTHESES = "The expression has redundant parentheses;"
# The largest list index DynamoDB parses (2**32 - 2): a[4294967295] is refused with
# "List index is not within the allowable range; index: [4294967295]", measured on
# DynamoDB (floci-io/floci#3073, scylladb/scylladb#25947).
MAX_LIST_INDEX = 4294967294

_CONDITION_KEYWORDS = frozenset({"AND", "OR", "NOT", "BETWEEN", "IN"})
_UPDATE_KEYWORDS = frozenset({"SET", "REMOVE", "ADD", "DELETE"})


@dataclass(frozen=True, slots=True)
class _Operand:
    """An operand met where a condition may start: ``(a) = :v`` parses ``(a`` first."""

    operand: Operand
    grouped: bool


@dataclass(frozen=True, slots=True)
class _Group:
    """A parenthesised condition (kept to detect ``((...))``)."""

    condition: ConditionNode


_Parsed = ConditionNode | _Operand | _Group


class _Parser:
    """Parser state: the token list, the cursor over significant tokens, flags."""

    def __init__(self, text: str, keywords: frozenset[str]) -> None:
        self.tokens = lexer.tokenize(text)
        self.significant = [i for i, t in enumerate(self.tokens) if t.kind != lexer.SPACE]
        self.pos = 0
        self.keywords = keywords
        self.redundant = False

    # -- cursor -------------------------------------------------------------------
    def peek(self, offset: int = 0) -> lexer.Token:
        index = min(self.pos + offset, len(self.significant) - 1)
        return self.tokens[self.significant[index]]

    def advance(self) -> lexer.Token:
        token = self.peek()
        if token.kind != lexer.EOF:
            self.pos += 1
        return token

    def syntax_error(self) -> DetailError:
        index = self.significant[self.pos]
        token = self.tokens[index]
        context = lexer.near(self.tokens, index)
        return DetailError(f'Syntax error; token: "{token.text}", near: "{context}"')

    def at_punct(self, text: str) -> bool:
        token = self.peek()
        return token.kind == lexer.PUNCT and token.text == text

    def at_keyword(self, word: str) -> bool:
        token = self.peek()
        return token.kind == lexer.WORD and token.text.upper() == word

    def expect_punct(self, text: str) -> None:
        if not self.at_punct(text):
            raise self.syntax_error()
        self.advance()

    def expect_keyword(self, word: str) -> None:
        if not self.at_keyword(word):
            raise self.syntax_error()
        self.advance()

    def expect_end(self) -> None:
        if self.peek().kind != lexer.EOF:
            raise self.syntax_error()

    # -- paths and operands -------------------------------------------------------------
    def name_element(self) -> Name | NameRef:
        token = self.peek()
        if token.kind == lexer.NAME_REF:
            self.advance()
            return NameRef(token.text)
        if token.kind == lexer.WORD and token.text.upper() not in self.keywords:
            self.advance()
            return Name(token.text)
        raise self.syntax_error()

    def path(self) -> Path:
        elements: list[PathElement] = [self.name_element()]
        while True:
            if self.at_punct("."):
                self.advance()
                elements.append(self.name_element())
            elif self.at_punct("["):
                self.advance()
                token = self.peek()
                if token.kind != lexer.NUMBER or not token.text.isdigit():
                    raise self.syntax_error()
                if int(token.text) > MAX_LIST_INDEX:
                    raise DetailError(
                        f"List index is not within the allowable range; index: [{int(token.text)}]"
                    )
                self.advance()
                elements.append(Index(int(token.text)))
                self.expect_punct("]")
            else:
                return Path(tuple(elements))

    def call(self) -> Call:
        name = self.advance().text
        self.expect_punct("(")
        args = [self.operand()]
        while self.at_punct(","):
            self.advance()
            args.append(self.operand())
        self.expect_punct(")")
        return Call(name, tuple(args))

    def operand(self) -> Operand:
        token = self.peek()
        if token.kind == lexer.PUNCT and token.text == "(":
            self.advance()
            if self.at_punct("("):
                self.redundant = True
            inner = self.operand()
            self.expect_punct(")")
            return inner
        if token.kind == lexer.VALUE_REF:
            self.advance()
            return ValueRef(token.text)
        if (
            token.kind == lexer.WORD
            and token.text.upper() not in self.keywords
            and self.peek(1).kind == lexer.PUNCT
            and self.peek(1).text == "("
        ):
            return self.call()
        return self.path()

    # -- conditions ---------------------------------------------------------------------
    def condition(self) -> ConditionNode:
        return _unwrap(self.or_(allow_operand=False))

    def or_(self, allow_operand: bool) -> _Parsed:
        first = self.and_(allow_operand)
        if isinstance(first, _Operand) or not self.at_keyword("OR"):
            return first
        items = [_unwrap(first)]
        while self.at_keyword("OR"):
            self.advance()
            items.append(_unwrap(self.and_(False)))
        return Or(tuple(items))

    def and_(self, allow_operand: bool) -> _Parsed:
        first = self.not_(allow_operand)
        if isinstance(first, _Operand) or not self.at_keyword("AND"):
            return first
        items = [_unwrap(first)]
        while self.at_keyword("AND"):
            self.advance()
            items.append(_unwrap(self.not_(False)))
        return And(tuple(items))

    def not_(self, allow_operand: bool) -> _Parsed:
        if self.at_keyword("NOT"):
            self.advance()
            return Not(_unwrap(self.not_(False)))
        return self.primary(allow_operand)

    def primary(self, allow_operand: bool) -> _Parsed:
        if not self.at_punct("("):
            return self.after_operand(self.operand(), allow_operand, grouped=False)
        self.advance()
        inner = self.or_(allow_operand=True)
        self.expect_punct(")")
        if isinstance(inner, _Operand):
            if inner.grouped:
                self.redundant = True
            return self.after_operand(inner.operand, allow_operand, grouped=True)
        if isinstance(inner, _Group):
            self.redundant = True
        return _Group(_unwrap(inner))

    def after_operand(self, operand: Operand, allow_operand: bool, grouped: bool) -> _Parsed:
        token = self.peek()
        if token.kind == lexer.PUNCT and token.text in COMPARATORS:
            self.advance()
            return Compare(token.text, operand, self.operand())
        if self.at_keyword("BETWEEN"):
            self.advance()
            low = self.operand()
            self.expect_keyword("AND")
            return Between(operand, low, self.operand())
        if self.at_keyword("IN"):
            self.advance()
            self.expect_punct("(")
            choices = [self.operand()]
            while self.at_punct(","):
                self.advance()
                choices.append(self.operand())
            self.expect_punct(")")
            return In(operand, tuple(choices))
        if allow_operand and self.at_punct(")"):
            return _Operand(operand, grouped)
        if isinstance(operand, Call):
            return _Group(operand) if grouped else operand
        raise self.syntax_error()

    # -- update -------------------------------------------------------------------------
    def update(self) -> UpdateExpression:
        sections: list[Section] = []
        while True:
            token = self.peek()
            kind = token.text.upper() if token.kind == lexer.WORD else ""
            if kind not in _UPDATE_KEYWORDS:
                raise self.syntax_error()
            self.advance()
            actions = [self.update_action(kind)]
            while self.at_punct(","):
                self.advance()
                actions.append(self.update_action(kind))
            sections.append(Section(kind, tuple(actions)))  # type: ignore[arg-type]
            if self.peek().kind == lexer.EOF:
                return UpdateExpression(tuple(sections))

    def update_action(self, kind: str) -> UpdateAction:
        path = self.path()
        if kind == "SET":
            self.expect_punct("=")
            return SetAction(path, self.set_value())
        if kind == "REMOVE":
            return RemoveAction(path)
        token = self.peek()
        if token.kind != lexer.VALUE_REF:
            raise self.syntax_error()
        self.advance()
        if kind == "ADD":
            return AddAction(path, ValueRef(token.text))
        return DeleteAction(path, ValueRef(token.text))

    def set_value(self) -> Operand:
        left = self.set_term()
        token = self.peek()
        if token.kind == lexer.PUNCT and token.text in "+-":
            if isinstance(left, Arithmetic):
                raise self.syntax_error()
            self.advance()
            start = self.pos
            right = self.set_term()
            if isinstance(right, Arithmetic):
                self.pos = start
                raise self.syntax_error()
            if token.text == "+":
                return Arithmetic("+", left, right)
            return Arithmetic("-", left, right)
        return left

    def set_term(self) -> Operand:
        if self.at_punct("("):
            self.advance()
            inner = self.set_value()
            self.expect_punct(")")
            return inner
        return self.operand()

    # -- projection -----------------------------------------------------------------------
    def projection(self) -> ProjectionExpression:
        paths = [self.path()]
        while self.at_punct(","):
            self.advance()
            paths.append(self.path())
        return ProjectionExpression(tuple(paths))


def _unwrap(parsed: _Parsed) -> ConditionNode:
    if isinstance(parsed, _Group):
        return parsed.condition
    if isinstance(parsed, _Operand):  # pragma: no cover - callers never pass one
        raise TypeError("operand where a condition was expected")
    return parsed


def _finish(parser: _Parser) -> None:
    parser.expect_end()
    if parser.redundant:
        raise DetailError(REDUNDANT_PARENTHESES)


def parse_condition(text: str) -> ConditionNode:
    """Parse a condition (also filter and key condition) expression into its AST."""
    parser = _Parser(text, _CONDITION_KEYWORDS)
    node = parser.condition()
    _finish(parser)
    return node


def parse_update(text: str) -> UpdateExpression:
    """Parse an update expression into its AST."""
    parser = _Parser(text, _UPDATE_KEYWORDS)
    node = parser.update()
    _finish(parser)
    return node


def parse_projection(text: str) -> ProjectionExpression:
    """Parse a projection expression into its AST."""
    parser = _Parser(text, frozenset())
    node = parser.projection()
    _finish(parser)
    return node
