"""Validation of parsed expressions, in two stages.

*Static* checks need only the text, so their verdict is cached with the parse:
unknown or misplaced functions, reserved words used as bare names, nesting depth,
operator count, IN operand count, repeated update sections.

*Binding* checks need the request's ``ExpressionAttributeNames`` and
``ExpressionAttributeValues``: undefined placeholders, operand counts, operand
types (``begins_with`` on a number), identical operands (``a = a``), BETWEEN bounds,
overlapping update/projection paths. They run per request, unless the same
expression passed them with the same names and value types (:class:`BindingRefs`).

Messages follow DynamoDB (cross-checked with DynamoDB Local's message table and
dynalite's grammar); all are details without the ``Invalid <Parameter>:`` prefix.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field

from singletable._values import AttributeValue, compare_values, value_type
from singletable.expressions import lexer
from singletable.expressions.errors import DetailError
from singletable.expressions.nodes import (
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
    Literal,
    Name,
    NameRef,
    Not,
    Operand,
    Or,
    Path,
    ProjectionExpression,
    SetAction,
    UpdateExpression,
    ValueRef,
)
from singletable.expressions.parser import REDUNDANT_PARENTHESES
from singletable.expressions.reserved import is_reserved

__all__ = [
    "CONDITION_FUNCTIONS",
    "UPDATE_FUNCTIONS",
    "Binder",
    "BindingRefs",
    "ResolvedPath",
    "binding_refs",
    "check_condition",
    "check_paths_disjoint",
    "check_update",
    "deep_expression_detail",
    "path_text",
    "static_condition",
    "static_projection",
    "static_update",
]

ResolvedPath = tuple[str | int, ...]

CONDITION_FUNCTIONS = {
    "attribute_exists": 1,
    "attribute_not_exists": 1,
    "attribute_type": 2,
    "begins_with": 2,
    "contains": 2,
}
UPDATE_FUNCTIONS = {"if_not_exists": 2, "list_append": 2}
_ALL_FUNCTIONS = {**CONDITION_FUNCTIONS, **UPDATE_FUNCTIONS, "size": 1}

MAX_NESTING = 32
MAX_OPERATORS = 300
MAX_IN_OPERANDS = 100
# DynamoDB's own listing order of type names in this message.
_TYPE_NAMES = ("B", "NULL", "SS", "BOOL", "L", "BS", "N", "NS", "S", "M")

# The types with an order, and the comparators that need one.
_ORDERABLE = frozenset({"S", "N", "B"})
_ORDERING = frozenset({"<", "<=", ">", ">="})

# Words for a value's type in update-operator messages ("operand type: STRING").
_TYPE_WORDS = {
    "S": "STRING",
    "N": "NUMBER",
    "B": "BINARY",
    "NULL": "NULL",
    "BOOL": "BOOLEAN",
    "L": "LIST",
    "M": "MAP",
}


def path_text(path: ResolvedPath) -> str:
    """``[a, b, [3]]``: how DynamoDB messages print a document path."""
    return "[" + ", ".join(f"[{p}]" if isinstance(p, int) else p for p in path) + "]"


# --------------------------------------------------------------------------- walking


def _operands_of(node: ConditionNode) -> Iterator[Operand]:
    if isinstance(node, Compare):
        yield from (node.left, node.right)
    elif isinstance(node, Between):
        yield from (node.operand, node.low, node.high)
    elif isinstance(node, In):
        yield node.operand
        yield from node.choices
    elif isinstance(node, Call):
        yield from node.args


def _children(node: ConditionNode) -> tuple[ConditionNode, ...]:
    if isinstance(node, And | Or):
        return node.conditions
    if isinstance(node, Not):
        return (node.condition,)
    return ()


def _walk_conditions(node: ConditionNode) -> Iterator[ConditionNode]:
    yield node
    for child in _children(node):
        yield from _walk_conditions(child)


def _walk_operand(operand: Operand) -> Iterator[Operand]:
    yield operand
    if isinstance(operand, Call):
        for arg in operand.args:
            yield from _walk_operand(arg)
    elif isinstance(operand, Arithmetic):
        yield from _walk_operand(operand.left)
        yield from _walk_operand(operand.right)


def _condition_operands(node: ConditionNode) -> Iterator[Operand]:
    for condition in _walk_conditions(node):
        for operand in _operands_of(condition):
            yield from _walk_operand(operand)


def _update_operands(node: UpdateExpression) -> Iterator[Operand]:
    for section in node.sections:
        for action in section.actions:
            yield action.path
            if isinstance(action, SetAction | AddAction | DeleteAction):
                yield from _walk_operand(action.value)


@dataclass(frozen=True, slots=True)
class BindingRefs:
    """The placeholders an expression uses, for caching its binding checks.

    The binding checks of an expression depend only on what its ``#names`` stand
    for and on the *types* of its ``:values``, except where a value's content is
    checked: BETWEEN's two constant bounds (their order) and attribute_type's type
    name (``value_dependent``). Such expressions are checked on every request.
    """

    names: tuple[str, ...]
    values: tuple[str, ...]
    value_dependent: bool


def binding_refs(node: ConditionNode | UpdateExpression) -> BindingRefs:
    """The :class:`BindingRefs` of a parsed condition or update expression."""
    if isinstance(node, UpdateExpression):
        operands = list(_update_operands(node))
        value_dependent = False
    else:
        operands = list(_condition_operands(node))
        value_dependent = any(
            isinstance(condition, Between)
            or (isinstance(condition, Call) and condition.name == "attribute_type")
            for condition in _walk_conditions(node)
        ) or any(isinstance(op, Call) and op.name == "attribute_type" for op in operands)
    names: dict[str, None] = {}
    values: dict[str, None] = {}
    for operand in operands:
        if isinstance(operand, Path):
            for element in operand.elements:
                if isinstance(element, NameRef):
                    names[element.ref] = None
        elif isinstance(operand, ValueRef):
            values[operand.ref] = None
    return BindingRefs(tuple(names), tuple(values), value_dependent)


# --------------------------------------------------------------------------- static


@dataclass
class _Problems:
    """First problem found per category; reported in a fixed priority order."""

    found: dict[str, str] = field(default_factory=dict)

    def add(self, category: str, message: str) -> None:
        self.found.setdefault(category, message)

    def raise_first(self, order: tuple[str, ...]) -> None:
        for category in order:
            if category in self.found:
                raise DetailError(self.found[category])


def _check_path_static(path: Path, problems: _Problems) -> None:
    for element in path.elements:
        if isinstance(element, Name) and is_reserved(element.name):
            problems.add(
                "reserved",
                f"Attribute name is a reserved keyword; reserved keyword: {element.name}",
            )
    if len(path.elements) > MAX_NESTING:
        problems.add(
            "nesting",
            f"The document path has too many nesting levels; nesting levels: {len(path.elements)}",
        )


def _check_call_static(call: Call, where: str, problems: _Problems) -> None:
    """``where``: "condition" (a condition by itself), "operand" or "update"."""
    name = call.name
    if name not in _ALL_FUNCTIONS:
        problems.add("function_name", f"Invalid function name; function: {name}")
    elif where == "update" and name not in UPDATE_FUNCTIONS:
        problems.add(
            "misused", f"The function is not allowed in an update expression; function: {name}"
        )
    elif where != "update" and name in UPDATE_FUNCTIONS:
        problems.add(
            "misused", f"The function is not allowed in a condition expression; function: {name}"
        )
    elif (where == "condition") != (name in CONDITION_FUNCTIONS):
        problems.add(
            "misused",
            f"The function is not allowed to be used this way in an expression; function: {name}",
        )


def _operator_count(node: ConditionNode) -> int:
    count = 0
    for condition in _walk_conditions(node):
        if isinstance(condition, And | Or):
            count += len(condition.conditions) - 1
        else:
            count += 1
        for operand in _operands_of(condition):
            count += sum(isinstance(o, Call) for o in _walk_operand(operand))
    return count


# DynamoDB stops counting at the first operator over the limit: an expression of 909
# operators is reported as "operator count: 301" (scylladb's alternator suite,
# test_limits.py test_deeply_nested_expression_2, which runs against DynamoDB).
_TOO_MANY_OPERATORS = (
    f"The expression contains too many operators; operator count: {MAX_OPERATORS + 1}"
)
_COMPARATOR_TOKENS = frozenset({"=", "<>", "<", "<=", ">", ">="})
_STATIC_ORDER = ("function_name", "misused", "reserved", "nesting", "operators", "in")


def static_condition(node: ConditionNode) -> None:
    """Text-only checks of a condition; raises :class:`DetailError`."""
    problems = _Problems()
    for condition in _walk_conditions(node):
        if isinstance(condition, Call):
            _check_call_static(condition, "condition", problems)
        if isinstance(condition, In) and len(condition.choices) > MAX_IN_OPERANDS:
            problems.add(
                "in",
                "The IN operator is provided with too many operands; "
                f"number of operands: {len(condition.choices)}",
            )
        for top in _operands_of(condition):
            for operand in _walk_operand(top):
                if isinstance(operand, Call):
                    _check_call_static(operand, "operand", problems)
                elif isinstance(operand, Path):
                    _check_path_static(operand, problems)
    if _operator_count(node) > MAX_OPERATORS:
        problems.add("operators", _TOO_MANY_OPERATORS)
    problems.raise_first(_STATIC_ORDER)


def static_update(node: UpdateExpression) -> None:
    """Text-only checks of an update expression; raises :class:`DetailError`."""
    problems = _Problems()
    seen: set[str] = set()
    for section in node.sections:
        if section.kind in seen:
            problems.add(
                "section",
                f'The "{section.kind}" section can only be used once in an update expression;',
            )
        seen.add(section.kind)
    for operand in _update_operands(node):
        if isinstance(operand, Call):
            _check_call_static(operand, "update", problems)
            if operand.name == "list_append" and any(
                isinstance(arg, Call) and arg.name == "list_append" for arg in operand.args
            ):
                # Parsed, then refused: DynamoDB does not take a list_append as an
                # operand of list_append (scylladb's alternator suite,
                # test_update_expression.py, run against DynamoDB, quotes this text).
                problems.add(
                    "misused",
                    "The function is not allowed to be used this way in an expression; "
                    "function: list_append",
                )
        elif isinstance(operand, Path):
            _check_path_static(operand, problems)
    problems.raise_first(("reserved", "function_name", "misused", "section", "nesting"))


def static_projection(node: ProjectionExpression) -> None:
    """Text-only checks of a projection expression; raises :class:`DetailError`."""
    problems = _Problems()
    for path in node.paths:
        _check_path_static(path, problems)
    problems.raise_first(("reserved", "nesting"))


# --------------------------------------------------------------------------- binding


class Binder:
    """Resolves placeholders against one request's maps, recording which were used."""

    def __init__(
        self,
        names: Mapping[str, str],
        values: Mapping[str, AttributeValue],
        used_names: set[str],
        used_values: set[str],
    ) -> None:
        self.names = names
        self.values = values
        self.used_names = used_names
        self.used_values = used_values

    def check_refs(self, operands: Iterator[Operand]) -> None:
        """Every placeholder defined (names first, then values); marks them used."""
        collected = list(operands)
        for operand in collected:
            if isinstance(operand, Path):
                for element in operand.elements:
                    if isinstance(element, NameRef):
                        self.name(element.ref)
        for operand in collected:
            if isinstance(operand, ValueRef):
                self.value(operand.ref)

    def name(self, ref: str) -> str:
        """The attribute name a ``#ref`` stands for."""
        if ref not in self.names:
            raise DetailError(
                "An expression attribute name used in the document path is not defined; "
                f"attribute name: {ref}"
            )
        self.used_names.add(ref)
        return self.names[ref]

    def value(self, ref: str) -> AttributeValue:
        """The value a ``:ref`` stands for."""
        if ref not in self.values:
            raise DetailError(
                "An expression attribute value used in expression is not defined; "
                f"attribute value: {ref}"
            )
        self.used_values.add(ref)
        return self.values[ref]

    def path(self, path: Path) -> ResolvedPath:
        """The path with every placeholder replaced by its name."""
        out: list[str | int] = []
        for element in path.elements:
            if isinstance(element, NameRef):
                out.append(self.name(element.ref))
            elif isinstance(element, Name):
                out.append(element.name)
            else:
                assert isinstance(element, Index)
                out.append(element.index)
        return tuple(out)

    def constant(self, operand: Operand) -> AttributeValue | None:
        """The value of a value operand; None for anything read from the item."""
        if isinstance(operand, ValueRef):
            return self.value(operand.ref)
        if isinstance(operand, Literal):
            return operand.value
        return None

    def static_type(self, operand: Operand) -> str | None:
        """The type an operand is known to have before looking at the item."""
        if isinstance(operand, Call) and operand.name == "size":
            return "N"
        value = self.constant(operand)
        return None if value is None else value_type(value)


def _av_text(value: AttributeValue) -> str:
    kind, raw = next(iter(value.items()))
    return f"AttributeValue: {{{kind}:{raw}}}"


class _ConditionChecker:
    """Per-request semantic checks of one condition (see :func:`check_condition`)."""

    def __init__(self, binder: Binder) -> None:
        self.binder = binder
        self.problems = _Problems()

    def distinct(self, operator: str, first: Operand, rest: tuple[Operand, ...]) -> None:
        if not isinstance(first, Path):
            return
        resolved = self.binder.path(first)
        for other in rest:
            if isinstance(other, Path) and self.binder.path(other) == resolved:
                self.problems.add(
                    "distinct",
                    "The first operand must be distinct from the remaining operands for this "
                    f"operator or function; operator: {operator}, "
                    f"first operand: {path_text(resolved)}",
                )

    def operand_type(self, name: str, kind: str) -> None:
        self.problems.add(
            "function",
            "Incorrect operand type for operator or function; "
            f"operator or function: {name}, operand type: {kind}",
        )

    def call(self, call: Call) -> None:
        expected = _ALL_FUNCTIONS[call.name]
        if len(call.args) != expected:
            self.problems.add(
                "operand",
                "Incorrect number of operands for operator or function; "
                f"operator or function: {call.name}, number of operands: {len(call.args)}",
            )
            return
        if expected == 2:
            self.distinct(call.name, call.args[0], call.args[1:])
        getattr(self, "fn_" + call.name)(call)

    def fn_attribute_exists(self, call: Call) -> None:
        if not isinstance(call.args[0], Path):
            self.problems.add(
                "function",
                f"Operator or function requires a document path; operator or function: {call.name}",
            )

    fn_attribute_not_exists = fn_attribute_exists

    def fn_attribute_type(self, call: Call) -> None:
        kind = self.binder.static_type(call.args[1])
        if kind != "S":
            self.operand_type(call.name, kind or "{NS,SS,L,BS,N,M,B,BOOL,NULL,S}")
            return
        type_name = self.binder.constant(call.args[1])
        assert type_name is not None
        if type_name["S"] not in _TYPE_NAMES:
            self.problems.add(
                "function",
                f"Invalid attribute type name found; type: {type_name['S']}, "
                "valid types: {" + ",".join(_TYPE_NAMES) + "}",
            )

    def fn_begins_with(self, call: Call) -> None:
        for arg in call.args:
            kind = self.binder.static_type(arg)
            if kind is not None and kind not in ("S", "B"):
                self.operand_type(call.name, kind)
                return

    def fn_contains(self, call: Call) -> None:
        return

    def fn_size(self, call: Call) -> None:
        kind = self.binder.static_type(call.args[0])
        if kind in ("N", "BOOL", "NULL"):
            self.operand_type(call.name, kind)

    def orderable(self, operator: str, operands: tuple[Operand, ...]) -> None:
        """Request constants of ``<``, ``<=``, ``>``, ``>=``, BETWEEN and IN must be S, N or B.

        Only strings, numbers and binaries have an order (Developer Guide, "Comparison
        operator and function reference"); DynamoDB refuses a request constant of any
        other type as an operand type error. An item attribute of another type is
        not an error: the comparison is just false at evaluation.
        """
        for operand in operands:
            value = self.binder.constant(operand)
            if value is not None and (kind := value_type(value)) not in _ORDERABLE:
                self.operand_type(operator, kind)
                return

    def between(self, node: Between) -> None:
        self.orderable("BETWEEN", (node.operand, node.low, node.high))
        low, high = self.binder.constant(node.low), self.binder.constant(node.high)
        if low is None or high is None:
            return
        if value_type(low) != value_type(high):
            self.problems.add(
                "function",
                "The BETWEEN operator requires same data type for lower and upper bounds; "
                f"lower bound operand: {_av_text(low)}, upper bound operand: {_av_text(high)}",
            )
        elif (compare_values(low, high) or 0) > 0:
            self.problems.add(
                "function",
                "The BETWEEN operator requires upper bound to be greater than or equal to "
                f"lower bound; lower bound operand: {_av_text(low)}, "
                f"upper bound operand: {_av_text(high)}",
            )

    def run(self, node: ConditionNode) -> None:
        for condition in _walk_conditions(node):
            if isinstance(condition, Compare):
                self.distinct(condition.op, condition.left, (condition.right,))
                if condition.op in _ORDERING:
                    self.orderable(condition.op, (condition.left, condition.right))
            elif isinstance(condition, In):
                self.orderable("IN", (condition.operand, *condition.choices))
            elif isinstance(condition, Between):
                self.between(condition)
            elif isinstance(condition, Call):
                self.call(condition)
            for top in _operands_of(condition):
                for operand in _walk_operand(top):
                    if isinstance(operand, Call):
                        self.call(operand)
        self.problems.raise_first(("operand", "distinct", "function"))


def check_condition(node: ConditionNode, binder: Binder) -> None:
    """Per-request checks of a statically valid condition; raises :class:`DetailError`."""
    binder.check_refs(_condition_operands(node))
    _ConditionChecker(binder).run(node)


def condition_paths(node: ConditionNode, binder: Binder) -> list[ResolvedPath]:
    """Every document path a (checked) condition reads, placeholders resolved."""
    return [binder.path(op) for op in _condition_operands(node) if isinstance(op, Path)]


def check_paths_disjoint(paths: list[ResolvedPath]) -> None:
    """No path may equal, contain or conflict with another (updates, projections)."""
    problems = _Problems()
    for i, second in enumerate(paths):
        for first in paths[:i]:
            _compare_paths(first, second, problems)
    problems.raise_first(("overlap", "conflict"))


def _compare_paths(first: ResolvedPath, second: ResolvedPath, problems: _Problems) -> None:
    for a, b in zip(first, second, strict=False):
        if isinstance(a, int) != isinstance(b, int):
            problems.add(
                "conflict",
                "Two document paths conflict with each other; must remove or rewrite one of "
                f"these paths; path one: {path_text(first)}, path two: {path_text(second)}",
            )
            return
        if a != b:
            return
    problems.add(
        "overlap",
        "Two document paths overlap with each other; must remove or rewrite one of these "
        f"paths; path one: {path_text(first)}, path two: {path_text(second)}",
    )


def _check_update_operand(operand: Operand, binder: Binder, problems: _Problems) -> None:
    if isinstance(operand, Arithmetic):
        for side in (operand.left, operand.right):
            kind = binder.static_type(side)
            if kind is not None and kind != "N":
                problems.add("function", _operand_type_message(operand.op, kind))
                break
        return
    if not isinstance(operand, Call):
        return
    if len(operand.args) != 2:
        problems.add(
            "function",
            "Incorrect number of operands for operator or function; "
            f"operator or function: {operand.name}, number of operands: {len(operand.args)}",
        )
    elif operand.name == "if_not_exists" and not isinstance(operand.args[0], Path):
        problems.add(
            "function",
            "Operator or function requires a document path; operator or function: if_not_exists",
        )
    elif operand.name == "list_append":
        for arg in operand.args:
            kind = binder.static_type(arg)
            if kind is not None and kind != "L":
                problems.add("function", _operand_type_message("list_append", kind))
                break


def _operand_type_message(name: str, kind: str) -> str:
    return (
        "Incorrect operand type for operator or function; "
        f"operator or function: {name}, operand type: {kind}"
    )


def check_update(node: UpdateExpression, binder: Binder) -> list[ResolvedPath]:
    """Per-request checks of an update expression; returns each action's resolved path."""
    binder.check_refs(_update_operands(node))
    problems = _Problems()
    paths: list[ResolvedPath] = []
    for section in node.sections:
        for action in section.actions:
            paths.append(binder.path(action.path))
            if isinstance(action, AddAction | DeleteAction):
                _check_add_delete(section.kind, binder.static_type(action.value), problems)
            elif isinstance(action, SetAction):
                for operand in _walk_operand(action.value):
                    _check_update_operand(operand, binder, problems)
    try:
        check_paths_disjoint(paths)
    except DetailError as error:
        problems.add("paths", error.detail)
    problems.raise_first(("paths", "operand", "function"))
    return paths


def _check_add_delete(kind: str, value_kind: str | None, problems: _Problems) -> None:
    if value_kind is None or value_kind in ("SS", "NS", "BS"):
        return
    if kind == "ADD" and value_kind == "N":
        return
    problems.add(
        "operand",
        "Incorrect operand type for operator or function; "
        f"operator: {kind}, operand type: {_TYPE_WORDS[value_kind]}",
    )


# --------------------------------------------------------------------------- too deep to parse


def deep_expression_detail(text: str) -> str:
    """What DynamoDB reports for an expression nested too deeply for our parser.

    The parser recurses once per parenthesis, NOT or function call, so a 4 KB
    expression can nest deeper than Python's recursion limit. DynamoDB rejects
    such an expression for its syntax, its parentheses, its functions or its
    operator count -- never as item nesting -- so this reads the tokens instead of
    the tree, in DynamoDB's order: unbalanced parentheses are a syntax error; two
    opening parentheses in a row are redundant (``"(" * 2046 + "a<b" + ")" * 2046``
    is, on DynamoDB: scylladb's alternator test_limits.py); then an unknown
    function name; otherwise deep nesting needs an operator per level.
    """
    tokens = lexer.tokenize(text)
    significant = [i for i, token in enumerate(tokens) if token.kind != lexer.SPACE]
    depth = 0
    redundant = False
    unknown: str | None = None
    count = 0
    for position, index in enumerate(significant[:-1]):  # the last one is EOF
        token = tokens[index]
        following = tokens[significant[position + 1]]
        opens = following.kind == lexer.PUNCT and following.text == "("
        if token.kind == lexer.PUNCT:
            if token.text == "(":
                depth += 1
                redundant = redundant or opens
            elif token.text == ")":
                depth -= 1
                if depth < 0:
                    return _syntax_error(tokens, index)
            count += token.text in _COMPARATOR_TOKENS
        elif token.kind == lexer.WORD:
            word = token.text.upper()
            if word in ("AND", "OR", "NOT", "IN"):
                count += 1  # a BETWEEN is counted by its AND
            elif word != "BETWEEN" and opens:
                count += 1  # a function call
                if unknown is None and token.text not in _ALL_FUNCTIONS:
                    unknown = token.text
    if depth > 0:
        return _syntax_error(tokens, len(tokens) - 1)
    if redundant:
        return REDUNDANT_PARENTHESES
    if unknown is not None:
        return f"Invalid function name; function: {unknown}"
    return _TOO_MANY_OPERATORS if count > MAX_OPERATORS else REDUNDANT_PARENTHESES


def _syntax_error(tokens: list[lexer.Token], index: int) -> str:
    return f'Syntax error; token: "{tokens[index].text}", near: "{lexer.near(tokens, index)}"'
