"""The error the local engine raises: a DynamoDB error code and DynamoDB's message.

Every failure the engine reports is a :class:`DynamoDBError`. Its ``code`` is the
exception name DynamoDB uses on the wire (``ValidationException``,
``ConditionalCheckFailedException``, ...) and ``message`` follows DynamoDB's
wording, so that assertions written against real DynamoDB hold here too.
Extra members of the error body (``Item`` for a failed condition with
``ReturnValuesOnConditionCheckFailure=ALL_OLD``, ``CancellationReasons`` for a
cancelled transaction) travel in ``extra``.
"""

from __future__ import annotations

from typing import Any

__all__ = [
    "ENVELOPE",
    "DynamoDBError",
    "in_envelope",
    "request_validation_error",
    "transaction_cancelled",
    "validation_error",
]

_JSON_PREFIX = "com.amazonaws.dynamodb.v20120810#"

# HTTP status DynamoDB answers with, per error code (everything else is 400).
_STATUS = {
    "InternalServerError": 500,
    "ServiceUnavailable": 503,
}


class DynamoDBError(Exception):
    """A DynamoDB error: ``code`` is the wire exception name, ``message`` its text."""

    request_validation = False
    """True for the request-validation families DynamoDB wraps in :data:`ENVELOPE` on
    the operations that use it (set at the raising site, never read from the text)."""

    def __init__(self, code: str, message: str, **extra: Any) -> None:
        if not message.isascii():
            # A message quoting a request string that holds a lone surrogate shows it
            # escaped (\ud800): it stays printable and encodable (see ._request_check).
            message = message.encode("utf-8", "backslashreplace").decode("utf-8")
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message
        self.extra: dict[str, Any] = extra

    @property
    def status_code(self) -> int:
        """The HTTP status DynamoDB uses for this error."""
        return _STATUS.get(self.code, 400)

    def to_response(self) -> dict[str, Any]:
        """The JSON body DynamoDB sends for this error (JSON 1.0 protocol)."""
        body: dict[str, Any] = {"__type": _JSON_PREFIX + self.code, "message": self.message}
        body.update(self.extra)
        return body


def validation_error(message: str) -> DynamoDBError:
    """A ``ValidationException`` with ``message``."""
    return DynamoDBError("ValidationException", message)


ENVELOPE = "1 validation error detected: "
"""The prefix of DynamoDB's request-validation envelope for a single error."""


def request_validation_error(message: str) -> DynamoDBError:
    """A ``ValidationException`` of a request-validation family (see :func:`in_envelope`)."""
    error = DynamoDBError("ValidationException", message)
    error.request_validation = True
    return error


def in_envelope(error: DynamoDBError) -> DynamoDBError:
    """``error`` as an operation that uses the envelope reports it.

    A request-validation error comes back with DynamoDB's ``1 validation error
    detected: `` prefix; every other error (data-plane, structural, limit errors,
    and the constraint errors that already carry their "N validation errors
    detected" text) comes back unchanged.
    """
    if not error.request_validation:
        return error
    return DynamoDBError(error.code, ENVELOPE + error.message, **error.extra)


def transaction_cancelled(reasons: list[dict[str, Any]]) -> DynamoDBError:
    """TransactionCanceledException with one reason per action (``{"Code": "None"}``
    for the actions that did not fail), their codes listed in the message."""
    codes = ", ".join(reason["Code"] for reason in reasons)
    return DynamoDBError(
        "TransactionCanceledException",
        f"Transaction cancelled, please refer cancellation reasons for specific reasons [{codes}]",
        CancellationReasons=reasons,
    )
