"""Expression text -> AST, and syntax errors with DynamoDB's token/near quoting."""

from __future__ import annotations

import pytest

from singletable.expressions import (
    ExpressionContext,
    ExpressionError,
    parse_condition,
    parse_projection,
    parse_update,
)
from singletable.expressions.errors import DetailError
from singletable.expressions.nodes import (
    AddAction,
    And,
    Arithmetic,
    Between,
    Call,
    Compare,
    DeleteAction,
    In,
    Index,
    Name,
    NameRef,
    Not,
    Or,
    Path,
    ProjectionExpression,
    RemoveAction,
    Section,
    SetAction,
    UpdateExpression,
    ValueRef,
)


def p(*elements: str | int) -> Path:
    out: list[Name | NameRef | Index] = []
    for e in elements:
        if isinstance(e, int):
            out.append(Index(e))
        elif e.startswith("#"):
            out.append(NameRef(e))
        else:
            out.append(Name(e))
    return Path(tuple(out))


V = ValueRef

CONDITIONS = [
    ("a = :v", Compare("=", p("a"), V(":v"))),
    ("a<>:v", Compare("<>", p("a"), V(":v"))),
    (":v >= a.b[2].#c", Compare(">=", V(":v"), p("a", "b", 2, "#c"))),
    ("(a) < (:v)", Compare("<", p("a"), V(":v"))),
    ("a BETWEEN :lo AND :hi", Between(p("a"), V(":lo"), V(":hi"))),
    ("a in (:x,:y , :z)", In(p("a"), (V(":x"), V(":y"), V(":z")))),
    ("attribute_exists(#a)", Call("attribute_exists", (p("#a"),))),
    ("size(a) > :n", Compare(">", Call("size", (p("a"),)), V(":n"))),
    ("(size(a)) > :n", Compare(">", Call("size", (p("a"),)), V(":n"))),
    ("(begins_with(a, :p))", Call("begins_with", (p("a"), V(":p")))),
    (
        "a = :x OR b = :y AND c = :z",
        Or(
            (
                Compare("=", p("a"), V(":x")),
                And((Compare("=", p("b"), V(":y")), Compare("=", p("c"), V(":z")))),
            )
        ),
    ),
    (
        "(a = :x OR b = :y) AND c = :z",
        And(
            (
                Or((Compare("=", p("a"), V(":x")), Compare("=", p("b"), V(":y")))),
                Compare("=", p("c"), V(":z")),
            )
        ),
    ),
    (
        "NOT a = :x AND b = :y",
        And((Not(Compare("=", p("a"), V(":x"))), Compare("=", p("b"), V(":y")))),
    ),
    ("NOT NOT contains(a, :x)", Not(Not(Call("contains", (p("a"), V(":x")))))),
    (
        "a = :x and b = :y and c = :z",
        And(tuple(Compare("=", p(n), V(v)) for n, v in [("a", ":x"), ("b", ":y"), ("c", ":z")])),
    ),
    (
        "a = :x AND (b = :y AND c = :z)",
        And(
            (
                Compare("=", p("a"), V(":x")),
                And((Compare("=", p("b"), V(":y")), Compare("=", p("c"), V(":z")))),
            )
        ),
    ),
    ("\ta\n=\r\n:v ", Compare("=", p("a"), V(":v"))),
]


@pytest.mark.parametrize(("text", "expected"), CONDITIONS)
def test_condition_ast(text: str, expected: object) -> None:
    assert parse_condition(text) == expected


UPDATES = [
    ("SET a = :v", UpdateExpression((Section("SET", (SetAction(p("a"), V(":v")),)),))),
    (
        "set a = b + :one, c[1] = if_not_exists(c[1], :z) remove d, e.f ADD g :n DELETE h :s",
        UpdateExpression(
            (
                Section(
                    "SET",
                    (
                        SetAction(p("a"), Arithmetic("+", p("b"), V(":one"))),
                        SetAction(p("c", 1), Call("if_not_exists", (p("c", 1), V(":z")))),
                    ),
                ),
                Section("REMOVE", (RemoveAction(p("d")), RemoveAction(p("e", "f")))),
                Section("ADD", (AddAction(p("g"), V(":n")),)),
                Section("DELETE", (DeleteAction(p("h"), V(":s")),)),
            )
        ),
    ),
    (
        "SET a = (list_append(a, :l))",
        UpdateExpression(
            (Section("SET", (SetAction(p("a"), Call("list_append", (p("a"), V(":l")))),)),)
        ),
    ),
    (
        "SET a = (b) - (:c)",
        UpdateExpression((Section("SET", (SetAction(p("a"), Arithmetic("-", p("b"), V(":c"))),)),)),
    ),
]


@pytest.mark.parametrize(("text", "expected"), UPDATES)
def test_update_ast(text: str, expected: UpdateExpression) -> None:
    assert parse_update(text) == expected


def test_projection_ast() -> None:
    assert parse_projection("a, #b.c[0] , d") == ProjectionExpression(
        (p("a"), p("#b", "c", 0), p("d"))
    )


SYNTAX_ERRORS = [
    # Examples reported from real DynamoDB (aws-cdk #7591, dynoxide #12, dazn #242/#251).
    ("update", "ADD hits : incr", 'Syntax error; token: ":", near: "hits : incr"'),
    ("update", "INVALID SYNTAX HERE", 'Syntax error; token: "INVALID", near: "INVALID SYNTAX"'),
    ("update", "SET path = VALUE 1", 'Syntax error; token: "1", near: "VALUE 1"'),
    (
        "update",
        "SET #as, #LambdaPowertoolsContext = :v",
        'Syntax error; token: ",", near: "#as, #LambdaPowertoolsContext"',
    ),
    ("update", "SET a = :v, #, b = :w", 'Syntax error; token: "#", near: ", #,"'),
    ("update", "SET a =", 'Syntax error; token: "<EOF>", near: "="'),
    ("update", "SET a = b + c + d", 'Syntax error; token: "+", near: "c + d"'),
    ("update", "ADD a b", 'Syntax error; token: "b", near: "a b"'),
    ("condition", "a = ", 'Syntax error; token: "<EOF>", near: "= "'),
    ("condition", "a = :v;", 'Syntax error; token: ";", near: ":v;"'),
    ("condition", "a", 'Syntax error; token: "<EOF>", near: "a"'),
    ("condition", "a = :v AND", 'Syntax error; token: "<EOF>", near: "AND"'),
    ("condition", "(a = :v", 'Syntax error; token: "<EOF>", near: ":v"'),
    ("condition", "a = :v)", 'Syntax error; token: ")", near: ":v)"'),
    ("condition", "a BETWEEN :x OR :y", 'Syntax error; token: "OR", near: ":x OR :y"'),
    ("condition", "a[x] = :v", 'Syntax error; token: "x", near: "[x]"'),
    ("condition", "and = :v", 'Syntax error; token: "and", near: "and ="'),
    ("projection", "a,", 'Syntax error; token: "<EOF>", near: ","'),
    ("projection", "a b", 'Syntax error; token: "b", near: "a b"'),
]

PARSERS = {"update": parse_update, "condition": parse_condition, "projection": parse_projection}


@pytest.mark.parametrize(("grammar", "text", "detail"), SYNTAX_ERRORS)
def test_syntax_errors(grammar: str, text: str, detail: str) -> None:
    with pytest.raises(DetailError) as info:
        PARSERS[grammar](text)
    assert info.value.detail == detail


def test_syntax_error_message_names_the_parameter() -> None:
    with pytest.raises(ExpressionError) as info:
        ExpressionContext(None, None).condition("a = ", "FilterExpression")
    assert (
        info.value.message == 'Invalid FilterExpression: Syntax error; token: "<EOF>", near: "= "'
    )
    with pytest.raises(ExpressionError) as info:
        ExpressionContext(None, {":incr": {"N": "1"}}).update("ADD hits : incr")
    assert info.value.message == (
        'Invalid UpdateExpression: Syntax error; token: ":", near: "hits : incr"'
    )


@pytest.mark.parametrize(
    "text", ["((a = :v))", "((a)) = :v", "a = ((:v))", "NOT ((a = :v))", "(a = :v) AND ((b = :v))"]
)
def test_redundant_parentheses(text: str) -> None:
    with pytest.raises(ExpressionError) as info:
        ExpressionContext(None, {":v": {"S": "x"}}).condition(text, "ConditionExpression")
    assert info.value.message == (
        "Invalid ConditionExpression: The expression has redundant parentheses;"
    )


@pytest.mark.parametrize(
    "text", ["(a = :v)", "((a = :v) AND b = :v)", "(a) = (:v)", "NOT (a = :v)"]
)
def test_single_parentheses_are_fine(text: str) -> None:
    ExpressionContext(None, {":v": {"S": "x"}}).condition(text, "ConditionExpression")
