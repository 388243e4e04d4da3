"""The errors of singletable's modelling layer: one hierarchy, by cause.

Every error the ORM raises is a :class:`SingletableError`. The subclasses say
what went wrong, whatever the operation and whatever the backend: a DynamoDB
error code from the local engine, boto3 or aioboto3 becomes the same class
(:func:`from_dynamodb`), with DynamoDB's ``code`` and ``message`` kept.

::

    SingletableError
    ├── ModelError              a declaration is wrong (raised at class creation)
    ├── InvalidValueError       a value cannot be stored / a request cannot be built
    │   └── UnknownKeywordError     a keyword that is neither an option nor a key field
    ├── ItemValidationError     a stored item does not validate as its entity
    ├── CursorError             a pagination cursor is malformed, tampered with or foreign
    ├── ItemNotFoundError       one() / get(..., required) found no item
    └── DynamoDBServiceError    DynamoDB (or the engine) refused the request
        ├── ConditionFailedError        a condition (or version check) did not hold
        │   ├── VersionConflictError        the item's version changed since it was read
        │   └── UniqueConstraintError       a unique field's value is taken by another item
        ├── TransactionCanceledError    a transaction was canceled (per-action reasons)
        ├── TransactionConflictError    another transaction holds an item
        ├── ThrottledError              throughput or request-rate limits
        ├── TableNotFoundError          the table (or index, backup) does not exist
        ├── TableInUseError             the table exists or is being changed
        ├── RequestError                the request is invalid (ValidationException, ...)
        ├── AccessError                 credentials or signature refused
        └── BackendError                anything else (internal errors, unknown codes)
"""

from __future__ import annotations

from typing import Any

__all__ = [
    "AccessError",
    "BackendError",
    "ConditionFailedError",
    "CursorError",
    "DynamoDBServiceError",
    "InvalidValueError",
    "ItemNotFoundError",
    "ItemValidationError",
    "ModelError",
    "RequestError",
    "SingletableError",
    "TableInUseError",
    "TableNotFoundError",
    "ThrottledError",
    "TransactionCanceledError",
    "TransactionConflictError",
    "UniqueConstraintError",
    "UnknownKeywordError",
    "VersionConflictError",
    "from_dynamodb",
]


class SingletableError(Exception):
    """Base class of every error singletable's modelling layer raises."""


class ModelError(SingletableError):
    """A declaration is wrong (raised when the class is created, or when a pattern or
    collection is declared): a key template that names an unknown field or parses
    ambiguously, two entities whose keys collide."""


class InvalidValueError(SingletableError):
    """A value cannot be stored in DynamoDB or a request cannot be built from it
    (NaN, an empty set, a key field without a value, a key argument its field's type
    refuses, a key value holding its template's separator); the message names the
    entity, the field or path, and the value."""


class UnknownKeywordError(InvalidValueError, TypeError):
    """A call was given a keyword that is neither one of its options nor a key field
    it takes (``consistant=True``); the message names it and, when one is close, the
    intended name. Also a :class:`TypeError`, as Python's own unexpected keywords are."""


class ItemValidationError(SingletableError):
    """A stored item no longer validates as its entity (written by other code, or
    before the model changed): the message names the entity, the item's key and each
    field that failed. ``item`` is the item (wire shape) and ``errors`` Pydantic's list."""

    def __init__(self, message: str, item: dict[str, Any], errors: list[dict[str, Any]]) -> None:
        super().__init__(message)
        self.item = item
        self.errors = errors


class CursorError(SingletableError):
    """A pagination cursor is malformed, was tampered with, or belongs to another query."""


class ItemNotFoundError(SingletableError):
    """An operation that needs an item found none (the message names entity and key)."""


class DynamoDBServiceError(SingletableError):
    """DynamoDB refused the request.

    Attributes:
        code: DynamoDB's error code (``ConditionalCheckFailedException``, ...).
        message: DynamoDB's message.
        operation: the operation that failed (``PutItem``, ...).
        details: other members of DynamoDB's error body.
    """

    def __init__(
        self, code: str, message: str, *, operation: str = "", details: dict[str, Any] | None = None
    ) -> None:
        where = f" ({operation})" if operation else ""
        super().__init__(f"{code}{where}: {message}")
        self.code = code
        self.message = message
        self.operation = operation
        self.details: dict[str, Any] = details or {}


class ConditionFailedError(DynamoDBServiceError):
    """A ConditionExpression (or an optimistic-locking version check) did not hold.

    ``item`` is the stored item (wire shape) when it was asked for
    (``ReturnValuesOnConditionCheckFailure=ALL_OLD``), else None.
    """

    @property
    def item(self) -> dict[str, Any] | None:
        """The item as stored, if DynamoDB returned it."""
        item: dict[str, Any] | None = self.details.get("Item")
        return item


class VersionConflictError(ConditionFailedError):
    """An optimistic-locking check failed: the item's version is not the one expected
    (it changed since it was read). ``expected`` is the version the write required,
    ``stored`` the item's version when the backend returned it (else None)."""

    @property
    def expected(self) -> int | None:
        """The version the write expected."""
        value = self.details.get("ExpectedVersion")
        return value if isinstance(value, int) else None

    @property
    def stored(self) -> int | None:
        """The stored version, if DynamoDB returned the item."""
        value = self.details.get("StoredVersion")
        return value if isinstance(value, int) else None


class UniqueConstraintError(ConditionFailedError):
    """A write would give a field declared ``Unique`` a value another item of the
    entity already holds (its guard item exists). ``entity``, ``field`` and
    ``value`` name the clash; ``holder`` is the table key (wire shape) of the item
    holding the value, when DynamoDB returned the guard. Raised instead of the
    transaction's :class:`TransactionCanceledError` when the guards were the only
    actions that failed."""

    @property
    def entity(self) -> str:
        """The entity's class name."""
        return str(self.details.get("Entity", ""))

    @property
    def field(self) -> str:
        """The unique field."""
        return str(self.details.get("Field", ""))

    @property
    def value(self) -> Any:
        """The value already taken."""
        return self.details.get("Value")

    @property
    def holder(self) -> dict[str, Any] | None:
        """The table key of the item holding the value, if known."""
        holder: dict[str, Any] | None = self.details.get("Holder")
        return holder


class TransactionCanceledError(DynamoDBServiceError):
    """A transaction was canceled; ``reasons`` has one entry per action, in order
    (``{"Code": "ConditionalCheckFailed", "Message": ..., "Item": ...}`` or
    ``{"Code": "None"}``)."""

    @property
    def reasons(self) -> list[dict[str, Any]]:
        """DynamoDB's CancellationReasons."""
        reasons: list[dict[str, Any]] = self.details.get("CancellationReasons", [])
        return reasons


class TransactionConflictError(DynamoDBServiceError):
    """Another transaction is using one of the items (retry later)."""


class ThrottledError(DynamoDBServiceError):
    """A throughput or request-rate limit was exceeded (retry with backoff)."""


class TableNotFoundError(DynamoDBServiceError):
    """The table, index or backup named does not exist (ResourceNotFoundException)."""


class TableInUseError(DynamoDBServiceError):
    """The table already exists or is being created, updated or deleted."""


class RequestError(DynamoDBServiceError):
    """The request is invalid (ValidationException, SerializationException, limits)."""


class AccessError(DynamoDBServiceError):
    """The credentials or the signature were refused."""


class BackendError(DynamoDBServiceError):
    """Any other failure: an internal server error, an unavailable service, a code
    singletable does not know."""


_BY_CODE: dict[str, type[DynamoDBServiceError]] = {
    "ConditionalCheckFailedException": ConditionFailedError,
    "TransactionCanceledException": TransactionCanceledError,
    "TransactionConflictException": TransactionConflictError,
    "TransactionInProgressException": TransactionConflictError,
    "ProvisionedThroughputExceededException": ThrottledError,
    "ThrottlingException": ThrottledError,
    "RequestLimitExceeded": ThrottledError,
    "LimitExceededException": ThrottledError,
    "ResourceNotFoundException": TableNotFoundError,
    "TableNotFoundException": TableNotFoundError,
    "BackupNotFoundException": TableNotFoundError,
    "ResourceInUseException": TableInUseError,
    "TableAlreadyExistsException": TableInUseError,
    "TableInUseException": TableInUseError,
    "ValidationException": RequestError,
    "SerializationException": RequestError,
    "ItemCollectionSizeLimitExceededException": RequestError,
    "IdempotentParameterMismatchException": RequestError,
    "UnknownOperationException": RequestError,
    "UnrecognizedClientException": AccessError,
    "InvalidSignatureException": AccessError,
    "MissingAuthenticationTokenException": AccessError,
    "IncompleteSignatureException": AccessError,
    "AccessDeniedException": AccessError,
    "ExpiredTokenException": AccessError,
}


def from_dynamodb(
    code: str, message: str, *, operation: str = "", details: dict[str, Any] | None = None
) -> DynamoDBServiceError:
    """The singletable error for a DynamoDB error code (unknown codes: :class:`BackendError`)."""
    cls = _BY_CODE.get(code, BackendError)
    return cls(code, message, operation=operation, details=details)
