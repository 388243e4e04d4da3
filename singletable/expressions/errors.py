"""The one error the expression package raises.

:class:`ExpressionError` carries DynamoDB's full message text (``Invalid
ConditionExpression: Syntax error; token: ...``); the local engine turns it into a
``ValidationException`` with that message. Internally, checks that do not yet know
which request parameter they are validating raise :class:`DetailError` with the part
after ``Invalid <Parameter>: ``; :func:`invalid` adds the prefix.
"""

from __future__ import annotations

__all__ = ["DetailError", "ExpressionError", "invalid"]


class ExpressionError(Exception):
    """An expression DynamoDB would reject; ``message`` is DynamoDB's full message."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class DetailError(Exception):
    """A rejected expression whose message still lacks the ``Invalid <Parameter>:`` prefix."""

    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail


def invalid(parameter: str, detail: str) -> ExpressionError:
    """``ExpressionError("Invalid <parameter>: <detail>")``."""
    return ExpressionError(f"Invalid {parameter}: {detail}")
