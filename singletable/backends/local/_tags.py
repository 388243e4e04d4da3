"""Tagging: TagResource, UntagResource, ListTagsOfResource, and ``Tags`` on CreateTable.

Tags are the table's own (:attr:`TableDef.tags`, kept in the catalog, so a durable
engine keeps them); they appear in no other response (DescribeTable has none) and a
table restored from a backup starts without any, as in DynamoDB.

Rules (Developer Guide, "Tagging restrictions in DynamoDB"; API Reference, Tag):
at most 50 tags per table; a key of 1-128 and a value of 0-256 Unicode characters,
made of letters, numbers, white space and ``+ - = . _ : /``; the ``aws:`` prefix is
reserved; tagging an existing key replaces its value; untagging a key the table
does not have is not an error.

Messages: "Invalid TableArn", "Invalid TableArn: Invalid ResourceArn provided as input
<arn>", "Atleast one Tag (Key) needs to be provided as Input.", the "Value null at
'tags'" constraint and the ResourceNotFoundException texts are DynamoDB's, as dynalite
recorded them against the live service. DynamoDB refuses an ARN that does not start
with ``arn:`` with a ValidationException mentioning "ARNs must start with 'arn:'"
(ScyllaDB's Alternator suite, run against DynamoDB), and a bad tag key, value, count
or reserved prefix with a ValidationException; the full texts of those are not
documented, so the engine words them in DynamoDB's usual forms (marked below).
"""

from __future__ import annotations

import re
import unicodedata
from typing import TYPE_CHECKING, Any

from singletable.backends.local._params import Checks
from singletable.backends.local._schema import TableDef
from singletable.backends.local.errors import DynamoDBError, validation_error

if TYPE_CHECKING:
    from singletable.backends.local.engine import LocalEngine

__all__ = ["check_tags", "list_tags_of_resource", "tag_resource", "untag_resource"]

MAX_TAGS = 50
MAX_KEY_CHARS = 128
MAX_VALUE_CHARS = 256
PAGE_SIZE = 10
"""Tags per ListTagsOfResource page (DynamoDB does not document its page size)."""

_TABLE_ARN = re.compile(r"arn:aws:dynamodb:[^:]+:\d{12}:table/([a-zA-Z0-9_.-]{3,255})")
_SPECIAL = frozenset("+-=._:/")


def _serialization(name: str) -> DynamoDBError:
    return DynamoDBError("SerializationException", f"Unexpected value type in payload for {name}")


def _allowed(text: str) -> bool:
    """Letters, numbers, white space and ``+ - = . _ : /`` only."""
    # Letters, numbers and separators are Unicode categories L*, N* and Z*: the
    # \p{L}\p{Z}\p{N} of the pattern AWS documents for tag keys and values.
    return all(char in _SPECIAL or unicodedata.category(char)[0] in "LNZ" for char in text)


def check_tags(checks: Checks, raw: Any, member: str = "tags") -> dict[str, str]:
    """Shape- and rule-check a ``Tags`` list; returns it as ``{key: value}`` (last wins).

    Length violations are DynamoDB's model constraints, reported together through
    ``checks``; the character set, the reserved prefix and the count are service
    rules, checked after them.
    """
    tags = _shape(checks, raw, member)
    _rules(tags)
    return tags


def _shape(checks: Checks, raw: Any, member: str) -> dict[str, str]:
    if not isinstance(raw, list):
        raise DynamoDBError(
            "SerializationException", "Start of structure or map found where not expected."
        )
    tags: dict[str, str] = {}
    for position, tag in enumerate(raw, start=1):
        if not isinstance(tag, dict):
            raise _serialization("Tag")
        key, value = tag.get("Key"), tag.get("Value")
        where = f"{member}.{position}.member"
        if key is None:
            checks.fail(f"{where}.key", None, "Member must not be null")
        elif not isinstance(key, str):
            raise _serialization("Key")
        else:
            _key_length(checks, f"{where}.key", key)
        if value is None:
            checks.fail(f"{where}.value", None, "Member must not be null")
        elif not isinstance(value, str):
            raise _serialization("Value")
        elif len(value) > MAX_VALUE_CHARS:
            checks.fail(
                f"{where}.value",
                value,
                f"Member must have length less than or equal to {MAX_VALUE_CHARS}",
            )
        if isinstance(key, str) and isinstance(value, str):
            tags[key] = value
    checks.raise_if_any()
    return tags


def _key_length(checks: Checks, member: str, key: str) -> None:
    if not key:
        checks.fail(member, key, "Member must have length greater than or equal to 1")
    elif len(key) > MAX_KEY_CHARS:
        checks.fail(member, key, f"Member must have length less than or equal to {MAX_KEY_CHARS}")


def _rules(tags: dict[str, str]) -> None:
    # Service-side rules; their texts are this engine's (DynamoDB does not document them).
    for key, value in tags.items():
        if key.lower().startswith("aws:"):
            raise validation_error(
                "One or more parameter values were invalid: "
                f"Tag keys starting with the reserved prefix 'aws:' are not allowed: {key}"
            )
        if not _allowed(key) or not _allowed(value):
            raise validation_error(
                "One or more parameter values were invalid: Tag keys and values may only "
                "contain letters, numbers, white space and the characters + - = . _ : / "
                f"(Key: {key}, Value: {value})"
            )
    if len(tags) > MAX_TAGS:
        raise _too_many()


def _too_many() -> DynamoDBError:
    # ScyllaDB's Alternator suite, run against DynamoDB, gets a ValidationException for
    # a 51st tag; the text is this engine's.
    return validation_error(
        "One or more parameter values were invalid: The number of tags exceeds the limit of "
        f"{MAX_TAGS} per resource"
    )


def _arn(request: dict[str, Any]) -> str:
    arn = request.get("ResourceArn")
    if arn is None:
        raise validation_error("Invalid TableArn")
    if not isinstance(arn, str):
        raise _serialization("ResourceArn")
    if not arn.startswith("arn:"):
        # The wording around "ARNs must start with 'arn:'" is this engine's.
        raise validation_error(f"Invalid Arn: ARNs must start with 'arn:': {arn}")
    return arn


def _required(request: dict[str, Any], name: str) -> Any:
    value = request.get(name)
    if value is None:
        raise validation_error(
            f"1 validation error detected: Value null at '{name[0].lower()}{name[1:]}' failed to "
            "satisfy constraint: Member must not be null"
        )
    if not isinstance(value, list):
        raise DynamoDBError(
            "SerializationException", "Start of structure or map found where not expected."
        )
    return value


def _table_name(arn: str) -> str:
    """The table an ARN names; a GSI/LSI or stream ARN, or a malformed one, is refused."""
    match = _TABLE_ARN.fullmatch(arn)
    if match is None:
        raise validation_error(f"Invalid TableArn: Invalid ResourceArn provided as input {arn}")
    return match.group(1)


def _not_found(arn: str) -> str:
    return f"Requested resource not found: ResourcArn: {arn} not found"


def _find(engine: LocalEngine, arn: str, name: str, message: str) -> TableDef:
    table = engine.tables.get(name)
    if table is None or table.arn != arn:
        raise DynamoDBError("ResourceNotFoundException", message)
    return table


def tag_resource(engine: LocalEngine, request: dict[str, Any]) -> dict[str, Any]:
    """TagResource: add tags to a table, or replace the values of keys it has."""
    arn = _arn(request)
    raw = _required(request, "Tags")
    tags = _shape(Checks(request), raw, "tags")
    name = _table_name(arn)
    if not raw:
        raise validation_error("Atleast one Tag needs to be provided as Input.")
    _rules(tags)
    with engine.lock:
        table = _find(engine, arn, name, _not_found(arn))
        merged = {**table.tags, **tags}
        if len(merged) > MAX_TAGS:
            raise _too_many()
        if merged != table.tags:
            table.tags = merged
            engine.save_table(table)
    return {}


def untag_resource(engine: LocalEngine, request: dict[str, Any]) -> dict[str, Any]:
    """UntagResource: remove tag keys from a table (keys it does not have are ignored)."""
    arn = _arn(request)
    keys = _required(request, "TagKeys")
    checks = Checks(request)
    for position, key in enumerate(keys, start=1):
        if not isinstance(key, str):
            raise _serialization("TagKeys")
        _key_length(checks, f"tagKeys.{position}.member", key)
    checks.raise_if_any()
    name = _table_name(arn)
    if not keys:
        raise validation_error("Atleast one Tag Key needs to be provided as Input.")
    with engine.lock:
        table = _find(engine, arn, name, "Requested resource not found")
        drop = set(keys)
        remaining = {key: value for key, value in table.tags.items() if key not in drop}
        if remaining != table.tags:
            table.tags = remaining
            engine.save_table(table)
    return {}


def list_tags_of_resource(engine: LocalEngine, request: dict[str, Any]) -> dict[str, Any]:
    """ListTagsOfResource: a table's tags in key order, :data:`PAGE_SIZE` a page.

    ``NextToken`` is the last key of a page; the next page starts after it.
    """
    arn = _arn(request)
    token = request.get("NextToken")
    if token is not None and not isinstance(token, str):
        raise _serialization("NextToken")
    name = _table_name(arn)
    with engine.lock:
        table = _find(engine, arn, name, _not_found(arn))
        keys = sorted(table.tags)
        if token is not None:
            keys = [key for key in keys if key > token]
        page = keys[:PAGE_SIZE]
        tags = [{"Key": key, "Value": table.tags[key]} for key in page]
    response: dict[str, Any] = {"Tags": tags}
    if len(keys) > PAGE_SIZE:
        response["NextToken"] = page[-1]
    return response
