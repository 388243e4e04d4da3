"""Failures on demand: rules that make chosen requests fail, stall or come back partial.

``engine.faults.inject(...)`` installs a :class:`Fault`, a rule with a selector
(operation, table, index, a key predicate, the Nth matching call, a seeded
probability) and an effect:

* an error, raised with DynamoDB's own code, message and HTTP status
  (:data:`ERRORS`); on TransactWriteItems/TransactGetItems, a conflict or a
  throughput error becomes what DynamoDB answers there, a
  TransactionCanceledException whose ``CancellationReasons`` name the actions hit;
* ``unprocessed=n``: a BatchWriteItem/BatchGetItem leaves ``n`` of the matching
  requests out and hands them back in ``UnprocessedItems``/``UnprocessedKeys``;
* ``latency=s``: the request waits ``s`` seconds first (outside the engine's lock).

A fault acts before the request is validated or run: the failed request changes
nothing, as a throttled request does not in DynamoDB. Rules are checked in the order
they were installed; the first that fires with an error or a partial batch decides.

The engine consults its rules only while some are installed (see
``LocalEngine._dispatch``): with none, a request costs one attribute check more.
"""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from typing import TYPE_CHECKING, Any

from singletable.backends.local.errors import DynamoDBError, transaction_cancelled

if TYPE_CHECKING:
    from singletable.backends.local.engine import LocalEngine

__all__ = [
    "ERRORS",
    "INDEX_THROUGHPUT",
    "Fault",
    "Faults",
    "KeyPredicate",
    "request_entries",
    "run_partial",
    "well_formed_batch",
]

KeyPredicate = Callable[[Mapping[str, Any]], bool]
Run = Callable[[str, dict[str, Any]], dict[str, Any]]

# DynamoDB's error codes and messages (the HTTP status is DynamoDBError's: 500 for
# InternalServerError, 503 for ServiceUnavailable, 400 otherwise). API Reference,
# "Common Errors" and each operation's Errors section; the messages are the ones
# DynamoDB sends, as captured in SDK error reports (they are not all documented).
ERRORS: dict[str, str] = {
    "ProvisionedThroughputExceededException": (
        "The level of configured provisioned throughput for the table was exceeded. "
        "Consider increasing your provisioning level with the UpdateTable API."
    ),
    "ThrottlingException": "Rate of requests exceeds the allowed throughput.",
    "RequestLimitExceeded": (
        "Throughput exceeds the current throughput limit for your account. "
        "Please contact AWS Support at https://aws.amazon.com/support request a limit increase"
    ),
    "InternalServerError": "Internal server error",
    "ServiceUnavailable": "The service is currently unavailable or busy.",
    "TransactionConflictException": "Transaction is ongoing for the item",
}

# The form DynamoDB uses when a global secondary index, not the table, ran out.
INDEX_THROUGHPUT = (
    "The level of configured provisioned throughput for one or more global secondary "
    "indexes of the table was exceeded. Consider increasing your provisioning level for "
    "the under-provisioned global secondary indexes with the UpdateTable API"
)

# In a transaction these errors are reported per action, as cancellation reasons
# (API Reference, TransactWriteItems: CancellationReason codes).
_REASON_CODES = {
    "TransactionConflictException": "TransactionConflict",
    "ProvisionedThroughputExceededException": "ProvisionedThroughputExceeded",
    "ThrottlingException": "ThrottlingError",
}
_TRANSACTIONS = frozenset({"TransactWriteItems", "TransactGetItems"})
_BATCHES = frozenset({"BatchWriteItem", "BatchGetItem"})
_TRANSACT_KINDS = ("Put", "Update", "Delete", "ConditionCheck", "Get")


class Fault:
    """One installed rule (made by :meth:`Faults.inject`); a context manager that
    removes it when the ``with`` block ends.

    Attributes:
        matched: how many requests matched the selector so far.
        fired: how many of them the fault acted on.
    """

    def __init__(
        self,
        owner: Faults,
        error: str | None,
        *,
        operation: str | Iterable[str] | None,
        table: str | None,
        index: str | None,
        key: KeyPredicate | Mapping[str, Any] | None,
        nth: int | None,
        times: int | None,
        probability: float | None,
        seed: int | None,
        latency: float,
        unprocessed: int | None,
        message: str | None,
    ) -> None:
        self._owner = owner
        self.error = error
        self.operations = _operations(operation, owner.known_operations)
        self.table = table
        self.index = index
        self.key = _predicate(key)
        self.nth = nth
        self.times = times if times is not None else (1 if nth is not None else None)
        self.probability = probability
        self._random = random.Random(seed)
        self.latency = latency
        self.unprocessed = unprocessed
        self.message = message
        self.matched = 0
        self.fired = 0
        _check(self)

    def remove(self) -> None:
        """Uninstall the rule (again: nothing happens)."""
        self._owner.remove(self)

    def __enter__(self) -> Fault:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.remove()

    def __repr__(self) -> str:
        what = self.error or ("unprocessed" if self.unprocessed else "latency")
        return f"<Fault {what} matched={self.matched} fired={self.fired}>"

    # ----------------------------------------------------------------- selection

    def _selects(self, operation: str, request: dict[str, Any]) -> bool:
        if self.operations is not None and operation not in self.operations:
            return False
        if self.index is not None and request.get("IndexName") != self.index:
            return False
        if self.key is not None:
            return bool(self._hits(operation, request))
        if self.table is not None:
            return self.table in _tables(operation, request)
        return True

    def _hits(self, operation: str, request: dict[str, Any]) -> list[int]:
        """Positions (in :func:`_entries` order) of the entries the rule hits."""
        return [
            position
            for position, (table, key) in enumerate(request_entries(operation, request))
            if (self.table is None or table == self.table)
            and (self.key is None or _safe(self.key, key))
        ]

    def _fires(self) -> bool:
        """Count a match; True if the rule acts on it (nth, times, probability)."""
        self.matched += 1
        if self.nth is not None and self.matched < self.nth:
            return False
        if self.times is not None and self.fired >= self.times:
            return False
        if self.probability is not None and self._random.random() >= self.probability:
            return False
        self.fired += 1
        return True

    # ----------------------------------------------------------------- effects

    def _error(self, operation: str, request: dict[str, Any]) -> DynamoDBError:
        assert self.error is not None
        message = self.message or (
            INDEX_THROUGHPUT
            if self.index is not None and self.error == "ProvisionedThroughputExceededException"
            else ERRORS[self.error]
        )
        reason = _REASON_CODES.get(self.error)
        if operation not in _TRANSACTIONS or reason is None:
            return DynamoDBError(self.error, message)
        actions = request.get("TransactItems")
        count = len(actions) if isinstance(actions, list) else 0
        hit = set(self._hits(operation, request)) if self.table or self.key else set(range(count))
        reasons = [
            {"Code": reason, "Message": message} if position in hit else {"Code": "None"}
            for position in range(count)
        ]
        return transaction_cancelled(reasons)

    def _partial(self, operation: str, request: dict[str, Any], run: Run) -> dict[str, Any]:
        """Run the batch without ``unprocessed`` of its matching entries; hand them back."""
        assert self.unprocessed is not None
        if not well_formed_batch(operation, request["RequestItems"]):
            return run(operation, request)  # let the engine say what is wrong with it
        held = set(self._hits(operation, request)[-self.unprocessed :] if self.unprocessed else [])
        return run_partial(operation, request, held, run)


class Faults:
    """The fault rules installed on one engine (``engine.faults``)."""

    def __init__(self, engine: LocalEngine) -> None:
        self._engine = engine
        self._lock = threading.Lock()
        self.rules: list[Fault] = []
        self.known_operations = engine.operations

    def inject(
        self,
        error: str | None = None,
        *,
        operation: str | Iterable[str] | None = None,
        table: str | None = None,
        index: str | None = None,
        key: KeyPredicate | Mapping[str, Any] | None = None,
        nth: int | None = None,
        times: int | None = None,
        probability: float | None = None,
        seed: int | None = None,
        latency: float = 0.0,
        unprocessed: int | None = None,
        message: str | None = None,
    ) -> Fault:
        """Install a rule; returns it (use it as a ``with`` block to scope it).

        Args:
            error: the DynamoDB error code to answer with (a key of :data:`ERRORS`);
                None for a rule that only adds ``latency`` or ``unprocessed``.
            operation: the operation name(s) it applies to; None: every operation.
            table: only requests on this table (any table of a batch or transaction).
            index: only requests naming this index (Query and Scan ``IndexName``).
            key: only requests naming an item this predicate accepts: called with the
                ``Key`` (or the ``Item`` of a put) of the request, or of each entry of a
                batch or transaction; a mapping of attribute values matches the items
                holding them. Requests naming no item (Query, Scan) never match.
            nth: act from the ``nth`` matching request on (1 is the first).
            times: act on this many requests at most; by default once with ``nth``,
                unlimited without.
            probability: act on each matching request with this probability, drawn
                from a generator seeded with ``seed`` (reproducible).
            latency: seconds to wait before answering when the rule acts.
            unprocessed: on BatchWriteItem/BatchGetItem, leave this many of the
                matching entries (the last ones) unprocessed instead of failing.
            message: replace DynamoDB's message for ``error``.

        Raises:
            ValueError: an unknown error code or operation, or contradictory options.
        """
        fault = Fault(
            self,
            error,
            operation=operation,
            table=table,
            index=index,
            key=key,
            nth=nth,
            times=times,
            probability=probability,
            seed=seed,
            latency=latency,
            unprocessed=unprocessed,
            message=message,
        )
        with self._lock:
            self.rules.append(fault)
        self._engine._refresh_intercept()
        return fault

    def load(self, rules: Iterable[Mapping[str, Any]]) -> list[Fault]:
        """Install rules given as mappings of :meth:`inject`'s arguments (a JSON file's
        content, say: ``key`` is then a mapping of attribute values)."""
        return [self.inject(**dict(rule)) for rule in rules]

    def remove(self, fault: Fault) -> None:
        """Uninstall ``fault`` (if installed)."""
        with self._lock:
            if fault in self.rules:
                self.rules.remove(fault)
        self._engine._refresh_intercept()

    def clear(self) -> None:
        """Uninstall every rule."""
        with self._lock:
            self.rules.clear()
        self._engine._refresh_intercept()

    def __bool__(self) -> bool:
        return bool(self.rules)

    def apply(self, operation: str, request: Any, run: Run) -> dict[str, Any]:
        """Run ``request`` through ``run`` as the installed rules say."""
        if not isinstance(request, dict):
            return run(operation, request)
        acting: list[Fault] = []
        with self._lock:
            for fault in self.rules:
                if fault._selects(operation, request) and fault._fires():
                    acting.append(fault)
                    if fault.error is not None or fault.unprocessed is not None:
                        break
        delay = sum(fault.latency for fault in acting)
        if delay > 0:
            time.sleep(delay)
        decisive = acting[-1] if acting else None
        if decisive is not None and decisive.error is not None:
            raise decisive._error(operation, request)
        if (
            decisive is not None
            and decisive.unprocessed is not None
            and operation in _BATCHES
            and isinstance(request.get("RequestItems"), dict)
        ):
            return decisive._partial(operation, request, run)
        return run(operation, request)


# --------------------------------------------------------------------------- helpers


def _operations(
    operation: str | Iterable[str] | None, known: frozenset[str]
) -> frozenset[str] | None:
    if operation is None:
        return None
    names = frozenset([operation] if isinstance(operation, str) else operation)
    unknown = sorted(names - known)
    if unknown:
        raise ValueError(f"unknown operation(s): {', '.join(unknown)}")
    return names


def _predicate(key: KeyPredicate | Mapping[str, Any] | None) -> KeyPredicate | None:
    if key is None or callable(key):
        return key
    wanted = dict(key)
    return lambda item: all(item.get(name) == value for name, value in wanted.items())


def _check(fault: Fault) -> None:
    if fault.error is not None and fault.error not in ERRORS:
        raise ValueError(f"unknown error {fault.error!r}; one of: {', '.join(sorted(ERRORS))}")
    if fault.unprocessed is not None:
        if fault.error is not None:
            raise ValueError("give error or unprocessed, not both")
        if fault.unprocessed < 0:
            raise ValueError("unprocessed must be 0 or more")
        if fault.operations is None or not fault.operations <= _BATCHES:
            raise ValueError("unprocessed applies to BatchWriteItem and BatchGetItem only")
    if fault.error is None and fault.unprocessed is None and fault.latency <= 0:
        raise ValueError("a fault needs an error, unprocessed or latency")
    if fault.latency < 0:
        raise ValueError("latency must be 0 or more")
    if fault.nth is not None and fault.nth < 1:
        raise ValueError("nth counts from 1")
    if fault.probability is not None and not 0 <= fault.probability <= 1:
        raise ValueError("probability must be between 0 and 1")


def run_partial(
    operation: str, request: dict[str, Any], held: set[int], run: Run
) -> dict[str, Any]:
    """Run a BatchWriteItem/BatchGetItem without the entries at positions ``held``
    (in :func:`request_entries` order) and hand those back as unprocessed, merged with
    any the engine itself left (the batch must be well formed)."""
    if not held:
        return run(operation, request)
    kept: dict[str, Any] = {}
    back: dict[str, Any] = {}
    position = 0
    for table, body in request["RequestItems"].items():
        members = body if operation == "BatchWriteItem" else body.get("Keys", [])
        keep = [m for i, m in enumerate(members, position) if i not in held]
        hand_back = [m for i, m in enumerate(members, position) if i in held]
        position += len(members)
        if operation == "BatchWriteItem":
            if keep:
                kept[table] = keep
            if hand_back:
                back[table] = hand_back
        else:
            if keep:
                kept[table] = {**body, "Keys": keep}
            if hand_back:
                back[table] = {**body, "Keys": hand_back}
    if kept:
        response = dict(run(operation, {**request, "RequestItems": kept}))
    elif operation == "BatchWriteItem":
        response = {}
    else:
        response = {"Responses": {table: [] for table in request["RequestItems"]}}
    member = "UnprocessedItems" if operation == "BatchWriteItem" else "UnprocessedKeys"
    merged = dict(response.get(member) or {})
    for table, value in back.items():
        if operation == "BatchWriteItem":
            merged[table] = list(merged.get(table, ())) + value
        elif table in merged:
            merged[table] = {**value, "Keys": merged[table]["Keys"] + value["Keys"]}
        else:
            merged[table] = value
    response[member] = merged
    return response


def well_formed_batch(operation: str, items: dict[str, Any]) -> bool:
    if operation == "BatchWriteItem":
        return all(isinstance(body, list) for body in items.values())
    return all(
        isinstance(body, dict) and isinstance(body.get("Keys"), list) for body in items.values()
    )


def _safe(predicate: KeyPredicate, key: Mapping[str, Any]) -> bool:
    try:
        return bool(predicate(key))
    except (KeyError, TypeError, AttributeError, ValueError):
        return False  # a predicate written for another table's keys


def _tables(operation: str, request: dict[str, Any]) -> set[str]:
    name = request.get("TableName")
    tables = {name} if isinstance(name, str) else set()
    items = request.get("RequestItems")
    if isinstance(items, dict):
        tables.update(items)
    tables.update(table for table, _ in request_entries(operation, request) if table)
    return tables


def request_entries(
    operation: str, request: dict[str, Any]
) -> list[tuple[str | None, Mapping[str, Any]]]:
    """``(table, key or item)`` for every item the request names, in request order."""
    found: list[tuple[str | None, Mapping[str, Any]]] = []
    table = request.get("TableName")
    for member in ("Key", "Item"):
        value = request.get(member)
        if isinstance(value, dict):
            found.append((table if isinstance(table, str) else None, value))
    items = request.get("RequestItems")
    if isinstance(items, dict):
        for name, body in items.items():
            if operation == "BatchWriteItem" and isinstance(body, list):
                for entry in body:
                    found.append((name, _batch_write_key(entry)))
            elif isinstance(body, dict) and isinstance(body.get("Keys"), list):
                found.extend((name, key if isinstance(key, dict) else {}) for key in body["Keys"])
    actions = request.get("TransactItems")
    if isinstance(actions, list):
        for action in actions:
            found.append(_transact_key(action))
    return found


def _batch_write_key(entry: Any) -> Mapping[str, Any]:
    if isinstance(entry, dict):
        put, delete = entry.get("PutRequest"), entry.get("DeleteRequest")
        if isinstance(put, dict) and isinstance(put.get("Item"), dict):
            return put["Item"]  # type: ignore[no-any-return]
        if isinstance(delete, dict) and isinstance(delete.get("Key"), dict):
            return delete["Key"]  # type: ignore[no-any-return]
    return {}


def _transact_key(action: Any) -> tuple[str | None, Mapping[str, Any]]:
    if isinstance(action, dict):
        for kind in _TRANSACT_KINDS:
            body = action.get(kind)
            if isinstance(body, dict):
                table = body.get("TableName")
                key = body.get("Key", body.get("Item"))
                return (
                    table if isinstance(table, str) else None,
                    key if isinstance(key, dict) else {},
                )
    return None, {}
