"""The one place where items change: :func:`commit`.

Every write the engine makes (PutItem, UpdateItem, DeleteItem, BatchWriteItem,
TransactWriteItems, TTL deletions, restores) is first computed as a list of
:class:`Change` objects, fully validated, and only then handed to :func:`commit`,
which applies them as one atomic step:

1. the table stores and every secondary index of each changed table are updated,
2. then the engine's change listeners (stream writers, TTL expiry tracking, the
   point-in-time-recovery history) see the changes, in order;

both inside :meth:`Storage.atomic`, so a durable storage logs the changes and
whatever the listeners record as one transaction: a crash keeps all of it or none.
If that transaction fails to commit (disk full, I/O error), everything is taken
back in memory too (:meth:`Storage.on_rollback`: the stores undo their own writes,
this module the index entries, each listener what it recorded) and the caller gets
the storage's error: reads then see exactly what they saw before.

The caller holds ``engine.lock`` for the whole read-check-commit sequence; that
is what makes conditional writes and transactions linearizable and keeps readers
from ever seeing half of a transaction.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import partial
from typing import TYPE_CHECKING, Any

from singletable._values import Item, item_size

if TYPE_CHECKING:
    from singletable.backends.local._schema import TableDef
    from singletable.backends.local.engine import LocalEngine

__all__ = ["SERVICE_IDENTITY", "Change", "ChangeListener", "commit"]

# The userIdentity DynamoDB puts on stream records of items that TTL deleted
# (Developer Guide, "DynamoDB Streams and Time to Live").
SERVICE_IDENTITY: dict[str, str] = {"Type": "Service", "PrincipalId": "dynamodb.amazonaws.com"}


@dataclass(slots=True)
class Change:
    """One item's change: ``old`` (None: it did not exist) becomes ``new`` (None: deleted).

    ``size`` is the DynamoDB size of ``new`` (0 for a deletion). ``pk``/``sk`` are
    the encoded table key. A change with ``old is None and new is None`` (deleting
    a missing item) is a no-op that listeners never see.
    """

    table: TableDef
    pk: bytes
    sk: bytes
    old: Item | None
    new: Item | None
    size: int = 0


# A listener receives the committed changes of one atomic step (no-ops left out)
# and the identity that made them (None for a user's request; SERVICE_IDENTITY for TTL).
ChangeListener = Callable[[Sequence[Change], "dict[str, Any] | None"], None]


def commit(
    engine: LocalEngine, changes: Sequence[Change], identity: dict[str, Any] | None = None
) -> None:
    """Apply ``changes`` atomically (tables and indexes), then notify the listeners.

    The caller must hold ``engine.lock`` and must have validated every change
    (index key types included): nothing here raises on account of the data.
    """
    effective = [change for change in changes if change.old is not None or change.new is not None]
    if not effective:
        return
    storage = engine.storage
    with storage.atomic():
        for change in effective:
            table = change.table
            if change.new is None:
                table.store.delete(change.pk, change.sk)
            else:
                table.store.put(change.pk, change.sk, change.new, change.size)
            if table.indexes:
                table.update_indexes(change.pk, change.sk, change.old, change.new, change.size)
                if storage.can_fail_commit:
                    storage.on_rollback(partial(_undo_indexes, change))
        # Inside the group: what a listener stores durably (the PITR history) is
        # committed with the change itself, never apart from it.
        for listener in engine.change_listeners:
            listener(effective, identity)


def _undo_indexes(change: Change) -> None:
    """Take a rolled-back change out of its table's indexes (the old entries come back)."""
    old = change.old
    change.table.update_indexes(
        change.pk, change.sk, change.new, old, item_size(old) if old is not None else 0
    )
