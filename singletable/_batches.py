"""The modelling layer's batch reads and writes, each one sans-I/O flow (see :mod:`._flows`).

BatchGetItem and BatchWriteItem in DynamoDB's chunk sizes, unprocessed keys and
items retried with exponential backoff. Like :mod:`._operations`, nothing here
knows which backend runs it, or whether it runs sync or async.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, TypeVar

from singletable._encoded import EncodedItem, EncodedRequest
from singletable._flows import SLEEP, Flow
from singletable._json_writer import _WRITERS, json_writer
from singletable._requests import json_key, key_of
from singletable.entity import validated
from singletable.errors import InvalidValueError, ThrottledError

if TYPE_CHECKING:
    from singletable.entity import Entity

__all__ = ["BATCH_GET_SIZE", "BATCH_WRITE_SIZE", "MAX_BATCH_ATTEMPTS", "get_many", "write_many"]

E = TypeVar("E", bound="Entity")


BATCH_GET_SIZE = 100
BATCH_WRITE_SIZE = 25
MAX_BATCH_ATTEMPTS = 8


def _backoff(attempt: int) -> float:
    """Seconds to wait before retry ``attempt`` (1, 2, ...): exponential, capped at 2 s."""
    return float(min(2.0, 0.025 * 2 ** (attempt - 1)))


def get_many(
    cls: type[E], keys: Sequence[Mapping[str, Any]], *, consistent: bool = False
) -> Flow[list[E | None]]:
    """BatchGetItem in chunks of 100, retrying unprocessed keys with backoff; the
    entities in the order of ``keys`` (None where there is no item)."""
    model = cls.__singletable__
    table = model.table.name
    wire_keys = [key_of(cls, key, "get_many") for key in keys]
    primary = model.table.primary
    names = [primary.pk] + ([primary.sk] if primary.sk is not None else [])

    def identity(key: Mapping[str, Any]) -> str:
        return "\x00".join(json_key(key[name]) for name in names)

    found: dict[str, E] = {}
    unique = list({identity(k): k for k in wire_keys}.values())
    for start in range(0, len(unique), BATCH_GET_SIZE):
        pending: list[dict[str, Any]] = unique[start : start + BATCH_GET_SIZE]
        attempt = 0
        while pending:
            request: dict[str, Any] = {"Keys": pending}
            if consistent:
                request["ConsistentRead"] = True
            try:
                response = yield "BatchGetItem", {"RequestItems": {table: request}}
            except ThrottledError:
                # None of the batch could be read (API Reference, BatchGetItem): retried
                # with the same backoff, as the AWS SDKs retry it.
                response = {"UnprocessedKeys": {table: request}}
            for item in response.get("Responses", {}).get(table, ()):
                found[identity(item)] = cls.from_item(item)
            pending = response.get("UnprocessedKeys", {}).get(table, {}).get("Keys", [])
            if pending:
                attempt += 1
                if attempt >= MAX_BATCH_ATTEMPTS:
                    raise ThrottledError(
                        "ProvisionedThroughputExceededException",
                        f"{len(pending)} keys still unprocessed after {attempt} attempts",
                        operation="BatchGetItem",
                    )
                yield SLEEP, {"seconds": _backoff(attempt)}
    return [found.get(identity(k)) for k in wire_keys]


def write_many(
    puts: Sequence[Entity],
    deletes: Sequence[tuple[type[Entity], Mapping[str, Any]]],
    *,
    encoded: bool = False,
) -> Flow[int]:
    """BatchWriteItem in chunks of 25 writes (on one table or several), retrying
    unprocessed items with backoff; returns how many writes were made. No
    conditions, no versions: a batch write is unconditional in DynamoDB. Every
    entity and key is checked before the first request is sent.

    ``encoded``: the backend takes items as JSON text (:mod:`singletable._encoded`):
    each put's item is written as its JSON text, not built as a dict, and every
    request is an :class:`EncodedRequest`."""
    for cls in [type(e) for e in puts] + [c for c, _ in deletes]:
        fields = cls.__singletable__.unique
        if fields:
            raise InvalidValueError(
                f"{cls.__name__}: {', '.join(fields)} {'is' if len(fields) == 1 else 'are'} "
                "unique, and a batch write cannot keep guard items in step (it has no "
                "conditions and no transactions): write it with put or delete, or in a "
                "transaction"
            )
    requests: list[tuple[str, dict[str, Any]]] = []
    for entity in puts:
        cls = type(entity)
        table = cls.__singletable__.table.name
        stored = validated(entity)
        if encoded:
            item: Any = EncodedItem((_WRITERS.get(cls) or json_writer(cls))(stored.__dict__))
        else:
            item = stored.to_item()
        requests.append((table, {"PutRequest": {"Item": item}}))
    wrap = EncodedRequest if encoded else dict
    for cls, key in deletes:
        table = cls.__singletable__.table.name
        requests.append((table, {"DeleteRequest": {"Key": key_of(cls, key, "write_many")}}))
    for start in range(0, len(requests), BATCH_WRITE_SIZE):
        pending: dict[str, list[dict[str, Any]]] = {}
        for table, request in requests[start : start + BATCH_WRITE_SIZE]:
            pending.setdefault(table, []).append(request)
        attempt = 0
        while pending:
            try:
                response = yield "BatchWriteItem", wrap({"RequestItems": pending})
            except ThrottledError:
                # None of the batch could be written (API Reference, BatchWriteItem):
                # retried with the same backoff, as the AWS SDKs retry it.
                response = {"UnprocessedItems": pending}
            pending = {
                table: list(left)
                for table, left in response.get("UnprocessedItems", {}).items()
                if left
            }
            if pending:
                attempt += 1
                if attempt >= MAX_BATCH_ATTEMPTS:
                    count = sum(len(left) for left in pending.values())
                    raise ThrottledError(
                        "ProvisionedThroughputExceededException",
                        f"{count} writes still unprocessed after {attempt} attempts",
                        operation="BatchWriteItem",
                    )
                yield SLEEP, {"seconds": _backoff(attempt)}
    return len(requests)
