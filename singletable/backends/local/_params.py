"""Request-parameter checks shared by every operation, with DynamoDB's messages.

DynamoDB validates the shape of a request (types, lengths, enums, required
members) before it looks at any table, and reports every violation of that kind
in one message: ``1 validation error detected: Value 'x' at 'tableName' failed
to satisfy constraint: ...``. :class:`Checks` collects them in the same form.
boto3 catches most of these on the client; other SDKs and raw HTTP callers do not.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

from singletable.backends.local.errors import (
    DynamoDBError,
    request_validation_error,
    validation_error,
)

__all__ = [
    "EXPRESSION_RELATED",
    "MAX_ATTRIBUTE_NAME_BYTES",
    "Checks",
    "check_attribute_names",
    "check_nested_names",
    "member_name",
    "provisioned_throughput",
    "reject_unknown_mix",
    "uses_expressions",
]

_TABLE_NAME_RE = re.compile(r"[a-zA-Z0-9_.-]+")
_INT_MIN, _INT_MAX = -(2**31), 2**31 - 1  # Java's int


MAX_ATTRIBUTE_NAME_BYTES = 65535
# A name of more characters than this may be over the limit (at most 4 UTF-8 bytes
# a character); below it, no name needs to be measured.
_NAME_CHARS_SAFE = MAX_ATTRIBUTE_NAME_BYTES // 4


def check_attribute_names(names: Iterable[str]) -> None:
    """Attribute names are at most 65535 bytes (Developer Guide, "Naming rules").

    DynamoDB's text as measured against the service for PutItem and UpdateItem
    (ExtendDB/extenddb#365), where it is enveloped ("1 validation error detected: ").
    Only a name of over 16383 characters is measured, so the common case costs a
    length test per name.
    """
    for name in names:
        if len(name) > _NAME_CHARS_SAFE and len(name.encode("utf-8")) > MAX_ATTRIBUTE_NAME_BYTES:
            raise request_validation_error(
                "Attribute name is too large, must be less than 65536 bytes"
            )


def check_nested_names(value: Mapping[str, Any]) -> None:
    """:func:`check_attribute_names` on every map key inside a (validated) value.

    DynamoDB applies the limit at every depth (ExtendDB/extenddb#365: a nested map
    key of 65,536 bytes is refused with the same message).
    """
    pending = [value]
    while pending:
        current = pending.pop()
        fields = current.get("M")
        if fields is not None:
            check_attribute_names(fields)
            pending.extend(fields.values())
        elif "L" in current:
            pending.extend(current["L"])


def member_name(name: str) -> str:
    """The camelCase name DynamoDB uses in messages (``TableName`` -> ``tableName``)."""
    return name[:1].lower() + name[1:]


def _show(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


class Checks:
    """Collects constraint violations; :meth:`raise_if_any` reports them all at once."""

    def __init__(self, request: Mapping[str, Any]) -> None:
        self.request = request
        self.errors: list[str] = []

    def fail(self, member: str, value: Any, constraint: str) -> None:
        """Record that ``member`` (holding ``value``) broke ``constraint``."""
        self.errors.append(
            f"Value '{_show(value)}' at '{member}' failed to satisfy constraint: {constraint}"
            if value is not None
            else f"Value null at '{member}' failed to satisfy constraint: {constraint}"
        )

    def required(self, name: str) -> Any:
        """The request member ``name``; records a violation when it is absent."""
        value = self.request.get(name)
        if value is None:
            self.fail(member_name(name), None, "Member must not be null")
        return value

    def table_name(self, name: str = "TableName", *, required: bool = True) -> str | None:
        """Check a table name's type, length and characters."""
        value = self.required(name) if required else self.request.get(name)
        if value is None:
            return None
        member = member_name(name)
        if not isinstance(value, str):
            raise DynamoDBError(
                "SerializationException", f"Unexpected value type in payload for {name}"
            )
        if len(value) < 3:
            self.fail(member, value, "Member must have length greater than or equal to 3")
        if len(value) > 255:
            self.fail(member, value, "Member must have length less than or equal to 255")
        if not _TABLE_NAME_RE.fullmatch(value):
            self.fail(
                member, value, "Member must satisfy regular expression pattern: [a-zA-Z0-9_.-]+"
            )
        return value

    def enum(self, name: str, allowed: Iterable[str], default: str | None = None) -> str | None:
        """A member restricted to ``allowed`` values (``default`` when absent)."""
        value = self.request.get(name)
        if value is None:
            return default
        options = list(allowed)
        if value not in options:
            self.fail(
                member_name(name),
                value,
                f"Member must satisfy enum value set: [{', '.join(options)}]",
            )
            return default
        return str(value)

    def integer(self, name: str, low: int, high: int | None = None) -> int | None:
        """An integer member within ``[low, high]``."""
        value = self.request.get(name)
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, int):
            raise DynamoDBError(
                "SerializationException", f"Unexpected value type in payload for {name}"
            )
        if not _INT_MIN <= value <= _INT_MAX:
            # Every integer member of the API (Limit, Segment, TotalSegments...) is a
            # 32-bit Integer in DynamoDB's service model: a JSON number outside its range
            # (2**64, say) fails deserialization before any constraint is checked.
            # DynamoDB's deserializer reports a string there as "STRING_VALUE cannot be
            # converted to Integer" (dynamodb-toolbox issue #502); this text follows
            # that form for a number it cannot narrow (not captured).
            raise DynamoDBError(
                "SerializationException", "NUMBER_VALUE cannot be converted to Integer"
            )
        if value < low:
            self.fail(
                member_name(name), value, f"Member must have value greater than or equal to {low}"
            )
        elif high is not None and value > high:
            self.fail(
                member_name(name), value, f"Member must have value less than or equal to {high}"
            )
        return value

    def boolean(self, name: str, default: bool = False) -> bool:
        """A boolean member."""
        value = self.request.get(name)
        if value is None:
            return default
        if not isinstance(value, bool):
            raise DynamoDBError(
                "SerializationException", f"Unexpected value type in payload for {name}"
            )
        return value

    def mapping(self, name: str) -> dict[str, Any] | None:
        """A JSON object member."""
        value = self.request.get(name)
        if value is None:
            return None
        if not isinstance(value, dict):
            raise DynamoDBError(
                "SerializationException",
                "Start of list found where not expected"
                if isinstance(value, list)
                else f"Unexpected value type in payload for {name}",
            )
        return value

    def string(self, name: str) -> str | None:
        """A string member."""
        value = self.request.get(name)
        if value is None:
            return None
        if not isinstance(value, str):
            raise DynamoDBError(
                "SerializationException", f"Unexpected value type in payload for {name}"
            )
        return value

    def raise_if_any(self) -> None:
        """Raise one ValidationException listing every recorded violation."""
        if not self.errors:
            return
        count = len(self.errors)
        noun = "error" if count == 1 else "errors"
        raise validation_error(f"{count} validation {noun} detected: " + "; ".join(self.errors))


_EXPRESSION_PARAMS = (
    "ProjectionExpression",
    "ConditionExpression",
    "FilterExpression",
    "KeyConditionExpression",
    "UpdateExpression",
)
_LEGACY_PARAMS = (
    "AttributesToGet",
    "Expected",
    "QueryFilter",
    "ScanFilter",
    "KeyConditions",
    "AttributeUpdates",
    "ConditionalOperator",
)


EXPRESSION_RELATED = frozenset(
    _EXPRESSION_PARAMS + _LEGACY_PARAMS + ("ExpressionAttributeNames", "ExpressionAttributeValues")
)


def reject_unknown_mix(request: Mapping[str, Any]) -> bool:
    """Reject requests mixing expression and legacy parameters; True if legacy ones are used.

    DynamoDB refuses the mix, and refuses ExpressionAttributeNames/Values in a
    request that has no expression (API Reference, "Legacy conditional parameters").
    The mix and stray ExpressionAttributeValues are request-validation errors
    (enveloped on PutItem/UpdateItem); stray ExpressionAttributeNames stay bare
    (nubo-db/dynoxide PR #152, captured in eu-west-2).
    """
    if request.keys().isdisjoint(EXPRESSION_RELATED):  # the common case: a plain request
        return False
    legacy = [name for name in _LEGACY_PARAMS if request.get(name) is not None]
    modern = [name for name in _EXPRESSION_PARAMS if request.get(name) is not None]
    if legacy and modern and _conflict(legacy, modern):
        raise request_validation_error(
            "Can not use both expression and non-expression parameters in the same request: "
            f"Non-expression parameters: {{{', '.join(legacy)}}} "
            f"Expression parameters: {{{', '.join(modern)}}}"
        )
    if not modern:
        if request.get("ExpressionAttributeNames") is not None:
            raise validation_error(
                "ExpressionAttributeNames can only be specified when using expressions"
            )
        if request.get("ExpressionAttributeValues") is not None:
            raise request_validation_error(
                "ExpressionAttributeValues can only be specified when using expressions"
            )
    return bool(legacy)


def _conflict(legacy: list[str], modern: list[str]) -> bool:
    """Whether these legacy and expression parameters may not be used together.

    Every legacy parameter conflicts with every expression parameter, except that
    KeyConditions only conflicts with KeyConditionExpression: a Query may pair legacy
    KeyConditions with a FilterExpression or ProjectionExpression (DynamoDB accepts
    it; issue 14 item 5, from a conformance suite run against DynamoDB).
    """
    if legacy != ["KeyConditions"]:
        return True
    return "KeyConditionExpression" in modern


def uses_expressions(request: Mapping[str, Any]) -> bool:
    """Whether ``request`` has an expression parameter (ProjectionExpression, ...)."""
    return any(request.get(name) is not None for name in _EXPRESSION_PARAMS)


def provisioned_throughput(checks: Checks, value: Any, prefix: str = "") -> tuple[int, int] | None:
    """Shape-check a ProvisionedThroughput member (a table's, or a GSI's under ``prefix``).

    Returns ``(read, write)`` units, None when the member is absent; member errors
    are collected in ``checks`` (the wire path is ``<prefix>provisionedThroughput...``).
    """
    if value is None:
        return None
    if not isinstance(value, dict):
        raise DynamoDBError("SerializationException", "Start of list found where not expected")
    units = []
    for name in ("ReadCapacityUnits", "WriteCapacityUnits"):
        member = f"{prefix}provisionedThroughput.{name[0].lower()}{name[1:]}"
        raw = value.get(name)
        if raw is None:
            checks.fail(member, None, "Member must not be null")
            units.append(0)
        elif isinstance(raw, bool) or not isinstance(raw, int):
            raise DynamoDBError(
                "SerializationException", f"Unexpected value type in payload for {name}"
            )
        elif not -(2**63) <= raw < 2**63:  # capacity units are Longs (see Checks.integer)
            raise DynamoDBError(
                "SerializationException", "NUMBER_VALUE cannot be converted to Long"
            )
        else:
            if raw < 1:
                checks.fail(member, raw, "Member must have value greater than or equal to 1")
            units.append(raw)
    return units[0], units[1]
