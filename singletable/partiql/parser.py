"""A recursive-descent parser for DynamoDB's PartiQL statements.

Grammar (the subset DynamoDB runs; Developer Guide, "PartiQL statements for DynamoDB")::

    statement := select | insert | update | delete | EXISTS '(' select ')' [';']
    select    := SELECT ('*' | path {',' path}) FROM target [WHERE cond]
                 [ORDER BY path [ASC|DESC] {',' path [ASC|DESC]}]
    insert    := INSERT INTO target VALUE value
    update    := UPDATE target (SET assign {',' assign} | REMOVE path {',' path})+
                 WHERE cond [returning]
    delete    := DELETE FROM target WHERE cond [returning]
    returning := RETURNING (ALL|MODIFIED) (OLD|NEW) '*'
    target    := name ['.' name]            (a name: "quoted" or bare)
    cond      := cond OR cond | cond AND cond | NOT cond | '(' cond ')'
               | operand (= | <> | != | < | <= | > | >=) operand
               | operand [NOT] BETWEEN operand AND operand | operand [NOT] IN list
               | path IS [NOT] (MISSING | NULL) | function '(' operand {',' operand} ')'
    operand   := path | value | function call (size...)
    value     := 'string' | number | TRUE | FALSE | NULL | ? | [..] | <<..>> | {'k': value, ...}

Refusals carry DynamoDB's texts ("Statement wasn't well formed, can't be
processed: ..."); the details ("Unexpected token after expression", "Unexpected
term", "Missing right-hand side expression of infix operator", "Expected data
manipulation") and "Aliasing is not supported" are the forms recorded against
DynamoDB by other emulators' conformance suites (not in the reference pages).
"""

from __future__ import annotations

from functools import lru_cache

from singletable._values import InvalidValue, canonical_number
from singletable.partiql.lexer import (
    EOF,
    NUMBER,
    PUNCT,
    QUOTED,
    STRING,
    WORD,
    PartiQLSyntaxError,
    Token,
    malformed,
    tokenize,
)
from singletable.partiql.nodes import (
    And,
    Arithmetic,
    Between,
    Call,
    Compare,
    Condition,
    Delete,
    Exists,
    In,
    Insert,
    IsMissing,
    IsNull,
    ListValue,
    Literal,
    MapValue,
    Not,
    Operand,
    Or,
    Param,
    Path,
    Select,
    SetAssign,
    SetFunction,
    SetValue,
    Statement,
    Target,
    Update,
    Value,
)

__all__ = ["MAX_DEPTH", "MAX_OPERATORS", "Parsed", "parse"]

MAX_DEPTH = 64
"""Levels of parentheses, NOTs, calls and collection literals a statement may nest
(more than the 32 levels an item's values may have). Not a limit DynamoDB documents:
it keeps the recursive parser, and everything that walks its tree, shallow."""
MAX_OPERATORS = 300
"""ANDs and ORs a statement may hold: the expression language's operator limit, which
the translated conditions would meet anyway."""
_TOO_DEEP = "Expression nesting is too deep"  # not captured from DynamoDB
_TOO_MANY = "Too many operators in the expression"  # not captured from DynamoDB

_KEYWORDS = frozenset(
    (
        *("SELECT", "FROM", "WHERE", "AND", "OR", "NOT", "IN", "BETWEEN", "IS", "MISSING"),
        *("NULL", "TRUE", "FALSE", "INSERT", "INTO", "VALUE", "UPDATE", "SET", "REMOVE"),
        *("DELETE", "RETURNING", "ORDER", "BY", "ASC", "DESC", "AS"),
    )
)
_COMPARISONS = ("=", "<>", "!=", "<", "<=", ">", ">=")
_CONDITION_FUNCTIONS = frozenset(
    ("begins_with", "contains", "attribute_type", "attribute_exists", "attribute_not_exists")
)
_SET_FUNCTIONS = frozenset(("list_append", "set_add", "set_delete"))


class Parsed:
    """A parsed statement and the number of ``?`` parameters it takes."""

    __slots__ = ("parameters", "statement")

    def __init__(self, statement: Statement, parameters: int) -> None:
        self.statement = statement
        self.parameters = parameters


@lru_cache(maxsize=2048)
def parse(text: str) -> Parsed:
    """Parse one statement (cached by text: parameters are bound later).

    Raises:
        PartiQLSyntaxError: with DynamoDB's message.
    """
    parser = _Parser(tokenize(text))
    statement = parser.statement()
    return Parsed(statement, parser.parameters)


class _Parser:
    def __init__(self, tokens: list[Token]) -> None:
        self.tokens = tokens
        self.pos = 0
        self.parameters = 0
        self.depth = 0  # open parentheses, NOTs, calls and collection literals
        self.operators = 0  # ANDs and ORs

    def enter(self) -> None:
        """One level deeper; refuses nesting past :data:`MAX_DEPTH`."""
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise malformed(_TOO_DEEP)

    def count_operator(self) -> None:
        self.operators += 1
        if self.operators > MAX_OPERATORS:
            raise malformed(_TOO_MANY)

    # ------------------------------------------------------------------ helpers

    @property
    def token(self) -> Token:
        return self.tokens[self.pos]

    def advance(self) -> Token:
        token = self.tokens[self.pos]
        if token.kind != EOF:
            self.pos += 1
        return token

    def accept_word(self, *words: str) -> bool:
        if self.token.is_word(*words):
            self.pos += 1
            return True
        return False

    def accept_punct(self, *texts: str) -> bool:
        if self.token.is_punct(*texts):
            self.pos += 1
            return True
        return False

    def expect_word(self, word: str) -> None:
        if not self.accept_word(word):
            raise self.unexpected()

    def expect_punct(self, text: str) -> None:
        if not self.accept_punct(text):
            raise self.unexpected()

    def unexpected(self) -> PartiQLSyntaxError:
        token = self.token
        if token.kind == WORD and token.text.upper() in _KEYWORDS:
            return malformed("Unexpected keyword")
        return malformed("Unexpected term")

    def end(self) -> None:
        self.accept_punct(";")
        if self.token.kind != EOF:
            raise malformed("Unexpected token after expression")

    # --------------------------------------------------------------- statements

    def statement(self) -> Statement:
        token = self.token
        result: Statement
        if token.is_word("SELECT"):
            result = self.select()
        elif token.is_word("INSERT"):
            result = self.insert()
        elif token.is_word("UPDATE"):
            result = self.update()
        elif token.is_word("DELETE"):
            result = self.delete()
        elif token.is_word("EXISTS") and self.tokens[self.pos + 1].is_punct("("):
            self.pos += 2
            if not self.token.is_word("SELECT"):
                raise self.unexpected()
            result = Exists(self.select())
            self.expect_punct(")")
        else:
            raise malformed("Expected data manipulation")
        self.end()
        return result

    def select(self) -> Select:
        self.advance()
        projection: tuple[Path, ...] | None
        if self.accept_punct("*"):
            projection = None
        else:
            paths = [self.path()]
            while self.accept_punct(","):
                paths.append(self.path())
            projection = tuple(paths)
        self.expect_word("FROM")
        target = self.target()
        self.no_alias()
        where = self.where(required=False)
        order: list[tuple[Path, bool]] = []
        if self.accept_word("ORDER"):
            self.expect_word("BY")
            while True:
                path = self.path()
                descending = False
                if self.accept_word("DESC"):
                    descending = True
                else:
                    self.accept_word("ASC")
                order.append((path, descending))
                if not self.accept_punct(","):
                    break
        return Select(projection, target, where, tuple(order))

    def insert(self) -> Insert:
        self.advance()
        self.expect_word("INTO")
        target = self.target()
        if not self.accept_word("VALUE"):
            # paritysuite's capture: an alias on an INSERT is a token left over.
            raise malformed("Unexpected token after expression")
        return Insert(target, self.value(_TUPLE))

    def update(self) -> Update:
        self.advance()
        target = self.target()
        self.no_alias()
        sets: list[SetAssign] = []
        removes: list[Path] = []
        while True:
            if self.accept_word("SET"):
                sets.append(self.assign())
                while self.accept_punct(","):
                    sets.append(self.assign())
            elif self.accept_word("REMOVE"):
                removes.append(self.path())
                while self.accept_punct(","):
                    removes.append(self.path())
            else:
                break
        if not sets and not removes:
            raise self.unexpected()
        where = self.where(required=False)
        return Update(target, tuple(sets), tuple(removes), where, self.returning())

    def delete(self) -> Delete:
        self.advance()
        self.expect_word("FROM")
        if self.token.kind not in (WORD, QUOTED) or self.token.is_word("WHERE"):
            raise malformed("Expected identifier for simple path")
        target = self.target()
        self.no_alias()
        where = self.where(required=False)
        return Delete(target, where, self.returning())

    def returning(self) -> str | None:
        if not self.accept_word("RETURNING"):
            return None
        first = self.advance()
        second = self.advance()
        if not (first.is_word("ALL", "MODIFIED") and second.is_word("OLD", "NEW")):
            raise malformed("Unexpected term")
        self.expect_punct("*")
        return f"{first.text.upper()} {second.text.upper()}"

    def no_alias(self) -> None:
        if self.token.is_word("AS") or (
            self.token.kind == WORD and self.token.text.upper() not in _KEYWORDS
        ):
            raise PartiQLSyntaxError("Aliasing is not supported")

    def target(self) -> Target:
        table = self.name(for_target=True)
        index = None
        if self.accept_punct("."):
            index = self.name(for_target=True)
            if self.token.is_punct("."):
                raise PartiQLSyntaxError(
                    "A path may contain at most 2 components in the FROM clause"
                )
        return Target(table, index)

    def name(self, for_target: bool = False) -> str:
        token = self.token
        if token.kind == QUOTED:
            self.advance()
            if for_target and not token.text:
                raise PartiQLSyntaxError("Path component cannot be an empty string")
            return token.text
        if token.kind == WORD and token.text.upper() not in _KEYWORDS:
            self.advance()
            return token.text
        if for_target:
            raise malformed("Unexpected term")
        raise self.unexpected()

    def where(self, *, required: bool) -> Condition | None:
        if not self.accept_word("WHERE"):
            if required:
                raise self.unexpected()
            return None
        return self.condition()

    # ------------------------------------------------------------------- update

    def assign(self) -> SetAssign:
        path = self.path()
        self.expect_punct("=")
        value: SetValue
        left = self.set_operand()
        if self.token.is_punct("+", "-"):
            op = self.advance().text
            if isinstance(left, (Arithmetic, SetFunction)):
                raise malformed("Unexpected term")
            value = Arithmetic(op, left, self.plain_operand())
        else:
            value = left
        return SetAssign(path, value)

    def set_operand(self) -> SetValue:
        token = self.token
        if (
            token.kind == WORD
            and token.text.lower() in _SET_FUNCTIONS
            and self.tokens[self.pos + 1].is_punct("(")
        ):
            name = self.advance().text.lower()
            self.advance()
            args = [self.plain_operand()]
            while self.accept_punct(","):
                args.append(self.plain_operand())
            self.expect_punct(")")
            if len(args) != 2:
                raise malformed("Unexpected term")
            return SetFunction(name, tuple(args))
        return self.plain_operand()

    def plain_operand(self) -> Path | Value:
        if self.token.kind in (WORD, QUOTED) and not self.token.is_word(
            "TRUE", "FALSE", "NULL", "MISSING"
        ):
            return self.path()
        return self.value()

    # --------------------------------------------------------------- conditions

    def condition(self) -> Condition:
        left = self.conjunction()
        while self.accept_word("OR"):
            self.count_operator()
            left = Or(left, self.infix_right(self.conjunction))
        return left

    def conjunction(self) -> Condition:
        left = self.negation()
        while self.accept_word("AND"):
            self.count_operator()
            left = And(left, self.infix_right(self.negation))
        return left

    def infix_right(self, rule: object) -> Condition:
        if self.token.kind == EOF or self.token.is_punct(";"):
            raise malformed("Missing right-hand side expression of infix operator")
        assert callable(rule)
        result: Condition = rule()
        return result

    def negation(self) -> Condition:
        if self.accept_word("NOT"):
            self.enter()
            negated = Not(self.negation())
            self.depth -= 1
            return negated
        return self.predicate()

    def predicate(self) -> Condition:
        if self.token.is_punct("("):
            # A parenthesised condition, or an operand in parentheses: try the condition.
            self.advance()
            self.enter()
            inner = self.condition()
            self.expect_punct(")")
            self.depth -= 1
            return inner
        if self.token.kind == EOF or self.token.is_punct(";"):
            raise malformed("Unexpected term")
        if self.token.is_word("IS") or self.token.is_punct(*_COMPARISONS):
            raise malformed("Unexpected operator")
        left = self.operand()
        token = self.token
        if token.is_punct(*_COMPARISONS):
            op = self.advance().text
            if self.token.is_word("LIKE") or self.token.is_punct(*_COMPARISONS):
                raise malformed("Unexpected operator")
            return Compare("<>" if op == "!=" else op, left, self.operand())
        negated = self.accept_word("NOT")
        if self.accept_word("BETWEEN"):
            low = self.operand()
            self.expect_word("AND")
            between: Condition = Between(left, low, self.operand())
            return Not(between) if negated else between
        if self.accept_word("IN"):
            options = self.in_list()
            member: Condition = In(left, options)
            return Not(member) if negated else member
        if negated:
            raise self.unexpected()
        if self.accept_word("IS"):
            is_not = self.accept_word("NOT")
            if not isinstance(left, Path):
                raise malformed("Unexpected term")
            if self.accept_word("MISSING"):
                return IsMissing(left, is_not)
            if self.accept_word("NULL"):
                return IsNull(left, is_not)
            raise malformed("Expected type name")
        if isinstance(left, Call) and left.name in _CONDITION_FUNCTIONS:
            return left
        raise self.unexpected()

    def in_list(self) -> tuple[Operand, ...]:
        if self.accept_punct("["):
            close = "]"
        elif self.accept_punct("("):
            close = ")"
        elif self.token.kind == PUNCT and self.token.text == "?":
            # ``IN ?`` with a list parameter.
            self.advance()
            self.parameters += 1
            return (Param(self.parameters - 1),)
        else:
            raise self.unexpected()
        options = [self.operand()]
        while self.accept_punct(","):
            options.append(self.operand())
        self.expect_punct(close)
        return tuple(options)

    def operand(self) -> Operand:
        token = self.token
        if token.kind == WORD and self.tokens[self.pos + 1].is_punct("("):
            name = token.text.lower()
            if name not in _CONDITION_FUNCTIONS and name != "size":
                raise malformed("Unexpected term")
            self.pos += 2
            self.enter()
            args = [self.operand()]
            while self.accept_punct(","):
                args.append(self.operand())
            self.expect_punct(")")
            self.depth -= 1
            return Call(name, tuple(args))
        if token.kind == QUOTED or (token.kind == WORD and token.text.upper() not in _KEYWORDS):
            return self.path()
        if token.kind == EOF:
            raise malformed("Unexpected term")
        return self.value()

    # -------------------------------------------------------------------- paths

    def path(self) -> Path:
        parts: list[str | int] = [self.name()]
        while True:
            if self.accept_punct("."):
                parts.append(self.name())
            elif self.accept_punct("["):
                token = self.advance()
                if token.kind == NUMBER and token.text.isdigit():
                    parts.append(int(token.text))
                elif token.kind == STRING:
                    parts.append(token.text)
                else:
                    raise malformed("Unexpected term")
                self.expect_punct("]")
            else:
                return Path(tuple(parts))

    # ------------------------------------------------------------------- values

    def value(self, where: str = "root") -> Value:
        """A value; ``where`` names its place in a literal, for number messages."""
        token = self.advance()
        if token.kind == STRING:
            return Literal({"S": token.text})
        if token.kind == NUMBER:
            return Literal({"N": _number(token.text, where)})
        if token.is_punct("-") and self.token.kind == NUMBER:
            return Literal({"N": _number("-" + self.advance().text, where)})
        if token.is_punct("?"):
            self.parameters += 1
            return Param(self.parameters - 1)
        if token.is_word("TRUE", "FALSE"):
            return Literal({"BOOL": token.text.upper() == "TRUE"})
        if token.is_word("NULL"):
            return Literal({"NULL": True})
        if token.is_punct("["):
            return ListValue(self.members("]", where))
        if token.is_punct("<<"):
            return ListValue(self.members(">>", where), is_set=True)
        if token.is_punct("{"):
            return self.map_value(where)
        self.pos -= 1 if token.kind != EOF else 0
        raise self.unexpected()

    def members(self, close: str, where: str) -> tuple[Value, ...]:
        items: list[Value] = []
        if self.accept_punct(close):
            return ()
        self.enter()
        items.append(self.value(f"{where}[0]"))
        while self.accept_punct(","):
            items.append(self.value(f"{where}[{len(items)}]"))
        self.expect_punct(close)
        self.depth -= 1
        return tuple(items)

    def map_value(self, where: str) -> MapValue:
        members: list[tuple[str, Value]] = []
        if self.accept_punct("}"):
            return MapValue(())
        self.enter()
        while True:
            key = self.advance()
            if key.kind != STRING:
                raise malformed("Unexpected term")
            self.expect_punct(":")
            # The VALUE tuple's attributes are each a root (paritysuite: "under root.x"
            # for {'m': {'x': 1e126}}).
            inner = "root" if where == _TUPLE else f"{where}.{key.text}"
            members.append((key.text, self.value(inner)))
            if self.accept_punct("}"):
                self.depth -= 1
                return MapValue(tuple(members))
            self.expect_punct(",")


def _number(text: str, where: str) -> str:
    """A number literal in canonical form, or DynamoDB's refusal naming its place.

    An exponent beyond a 32-bit integer is a statement the parser cannot read (nothing
    after the colon); a number outside DynamoDB's range or precision gets the number
    message with ``under <place>`` appended (both as paritysuite recorded them).
    """
    mantissa, _, exponent = text.lower().partition("e")
    if exponent:
        scale = len(mantissa.partition(".")[2]) - int(exponent)
        if not (_INT_MIN <= int(exponent) <= _INT_MAX and _INT_MIN <= scale <= _INT_MAX):
            raise malformed()
    try:
        return canonical_number(text)
    except InvalidValue as error:
        place = "root" if where == _TUPLE else where
        raise PartiQLSyntaxError(f"{error.message} under {place}") from None


_INT_MIN, _INT_MAX = -(2**31), 2**31 - 1
_TUPLE = "<tuple>"  # where an INSERT's VALUE sits (its attributes are roots)
