"""DynamoDB's expression language: parse, validate, evaluate, apply, render.

One AST (:mod:`singletable.expressions.nodes`) serves both directions. The local
engine parses expression text and evaluates it through :class:`ExpressionContext`;
the ORM builds nodes in Python and turns them into text plus placeholder maps with
:func:`render`.

Pipeline: :mod:`.lexer` (tokens with positions) -> :mod:`.parser` (one entry point
per grammar) -> :mod:`.validate` (text-only checks, then per-request placeholder
binding and value checks) -> :mod:`.evaluate` (conditions compiled to closures),
:mod:`.update` (update semantics), :mod:`.keycondition`, projections in
:mod:`.context`. Parse results and compiled closures are cached by text.
"""

from singletable.expressions.context import (
    Condition,
    ExpressionContext,
    Projection,
    Step,
    Update,
    replay_step,
    small_names,
)
from singletable.expressions.errors import ExpressionError
from singletable.expressions.keycondition import KeyCondition, KeyTerm
from singletable.expressions.parser import parse_condition, parse_projection, parse_update
from singletable.expressions.render import Rendered, render, to_text
from singletable.expressions.reserved import RESERVED_WORDS, is_reserved

__all__ = [
    "RESERVED_WORDS",
    "Condition",
    "ExpressionContext",
    "ExpressionError",
    "KeyCondition",
    "KeyTerm",
    "Projection",
    "Rendered",
    "Step",
    "Update",
    "is_reserved",
    "parse_condition",
    "parse_projection",
    "parse_update",
    "render",
    "replay_step",
    "small_names",
    "to_text",
]
