"""DynamoDB's PartiQL dialect: tokens, AST and parser (no execution).

:func:`parse` turns a statement's text into a :mod:`.nodes` AST (cached by text;
``?`` parameters stay unresolved). The local engine runs the AST in
:mod:`singletable.backends.local._partiql`, translating it into the expression
language (:mod:`singletable.expressions`) that Query, Scan and the item writes
already evaluate.
"""

from singletable.partiql.lexer import PartiQLSyntaxError
from singletable.partiql.parser import Parsed, parse

__all__ = ["Parsed", "PartiQLSyntaxError", "parse"]
