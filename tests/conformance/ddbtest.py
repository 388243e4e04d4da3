"""Helpers for the behaviour (conformance) suite.

The suite drives a DynamoDB backend through unmodified boto3 and checks what
DynamoDB does: results, error codes and DynamoDB's exact message texts. The
same tests run on every backend (``local``: boto3 routed in-process to the
embedded engine by ``singletable.testing.local_dynamodb()``; ``moto``: moto's
``mock_aws`` as a cross-check). Where moto is known to differ from DynamoDB, a
test carries ``@pytest.mark.moto_differs(key)`` and its module's
``MOTO_DIFFERENCES[key]`` says what moto does and what DynamoDB does.

boto3 clients are typed ``Any`` here on purpose: the suite sends deliberately
malformed requests that the stubs' TypedDicts would (rightly) reject.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import pytest
from botocore.exceptions import ClientError

__all__ = ["ENVELOPE", "Backend", "Item", "enveloped", "key_of", "raises"]

Item = dict[str, Any]
"""An item in the wire shape: attribute name -> AttributeValue."""

REGION = "us-east-1"

ENVELOPE = "1 validation error detected: "
"""DynamoDB's request-validation envelope: since 2026, PutItem and UpdateItem wrap their
request-validation errors in it (https://github.com/nubo-db/dynoxide/pull/152)."""


def enveloped(message: str | re.Pattern[str]) -> str | re.Pattern[str]:
    """``message`` inside :data:`ENVELOPE` (an exact text or a whole-message pattern)."""
    if isinstance(message, re.Pattern):
        return re.compile(re.escape(ENVELOPE) + message.pattern)
    return ENVELOPE + message


@dataclass
class ErrorInfo:
    """The error a ``raises`` block caught (filled in when the block exits)."""

    error: ClientError | None = None

    @property
    def response(self) -> dict[str, Any]:
        """The parsed error response botocore produced."""
        assert self.error is not None, "the block did not raise"
        return dict(self.error.response)


@contextmanager
def raises(code: str, message: str | re.Pattern[str]) -> Iterator[ErrorInfo]:
    """Expect a DynamoDB error with exactly ``code`` and ``message``.

    ``message`` is either the exact text (compared with ``==``) or a compiled
    regular expression that must match the whole message (used where the full
    DynamoDB text could not be confirmed; the test says so).
    """
    info = ErrorInfo()
    with pytest.raises(ClientError) as caught:
        yield info
    info.error = caught.value
    error = caught.value.response["Error"]
    actual = error.get("Message", "")
    assert error.get("Code") == code, f"expected {code}, got {error.get('Code')}: {actual!r}"
    if isinstance(message, re.Pattern):
        assert message.fullmatch(actual), f"{actual!r} does not match {message.pattern!r}"
    else:
        assert actual == message, f"{actual!r} != {message!r}"


def key_of(item: Item, *names: str) -> Item:
    """The key attributes ``names`` of ``item``."""
    return {name: item[name] for name in names}


@dataclass
class Backend:
    """One backend under test: a boto3 client plus a few conveniences."""

    name: str
    client: Any
    engine: Any | None = None
    _tables: dict[str, tuple[str, ...]] = field(default_factory=dict)

    def resource(self) -> Any:
        """A boto3 DynamoDB service resource on this backend."""
        import boto3

        return boto3.resource("dynamodb", region_name=REGION)

    def create_table(
        self,
        name: str = "tbl",
        pk: tuple[str, str] = ("PK", "S"),
        sk: tuple[str, str] | None = ("SK", "S"),
        **extra: Any,
    ) -> str:
        """Create an on-demand table keyed on ``pk`` (and ``sk``); return its name."""
        schema = [{"AttributeName": pk[0], "KeyType": "HASH"}]
        defs = [{"AttributeName": pk[0], "AttributeType": pk[1]}]
        if sk is not None:
            schema.append({"AttributeName": sk[0], "KeyType": "RANGE"})
            defs.append({"AttributeName": sk[0], "AttributeType": sk[1]})
        request: dict[str, Any] = {
            "TableName": name,
            "KeySchema": schema,
            "AttributeDefinitions": defs,
            "BillingMode": "PAY_PER_REQUEST",
        }
        request.update(extra)
        self.client.create_table(**request)
        self._tables[name] = (pk[0],) if sk is None else (pk[0], sk[0])
        return name

    def put(self, *items: Item, table: str = "tbl") -> None:
        """Put ``items`` (wire shape) into ``table``."""
        for item in items:
            self.client.put_item(TableName=table, Item=item)

    def get(self, key: Item, table: str = "tbl", **extra: Any) -> Item | None:
        """GetItem with a strongly consistent read; the item or None."""
        response = self.client.get_item(TableName=table, Key=key, ConsistentRead=True, **extra)
        item: Item | None = response.get("Item")
        return item

    def scan_all(self, table: str = "tbl") -> list[Item]:
        """Every item of ``table`` (all pages), in a stable order."""
        items: list[Item] = []
        request: dict[str, Any] = {"TableName": table}
        for _ in range(1000):  # a pagination bug fails the test, not hangs it
            page = self.client.scan(**request)
            items.extend(page["Items"])
            if "LastEvaluatedKey" not in page:
                break
            request["ExclusiveStartKey"] = page["LastEvaluatedKey"]
        else:
            raise AssertionError("Scan kept returning LastEvaluatedKey")
        return sorted(items, key=repr)
