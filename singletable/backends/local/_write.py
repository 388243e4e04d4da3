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
from singletable.backends.local.storage import Storage

if TYPE_CHECKING:
    from singletable.backends.local._indexes import IndexDef
    from singletable.backends.local._schema import TableDef
    from singletable.backends.local.engine import LocalEngine

__all__ = [
    "SERVICE_IDENTITY",
    "Change",
    "ChangeListener",
    "commit",
    "register_listener",
    "set_listening",
]

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


def register_listener(engine: LocalEngine, listener: ChangeListener, live: bool = True) -> None:
    """Give ``engine`` the change listener ``listener``, called by :func:`commit` while it
    is live (see :func:`set_listening`); listeners are called in the order registered."""
    engine.listener_order.append(listener)
    if live:
        set_listening(engine, listener, True)


def set_listening(engine: LocalEngine, listener: ChangeListener, live: bool) -> None:
    """Whether :func:`commit` calls ``listener`` (registered by :func:`register_listener`).

    An idle listener (no stream or subscriber, no table with TTL) is left out of
    ``engine.change_listeners`` instead of being called to find it has nothing to do:
    a write then pays nothing for it. Its owner makes it live before it has anything
    to record; a live listener with nothing to do still returns at once. The list is
    replaced, never changed in place (a commit iterating it is not disturbed).
    """
    current = engine.change_listeners
    if (listener in current) == live:
        return
    order = engine.listener_order
    wanted = [
        known
        for known in order
        if (live and known == listener) or (known != listener and known in current)
    ]
    wanted += [other for other in current if other not in order]  # (appended directly)
    engine.change_listeners = wanted


def commit(
    engine: LocalEngine, changes: Sequence[Change], identity: dict[str, Any] | None = None
) -> None:
    """Apply ``changes`` atomically (tables and indexes), then notify the listeners.

    The caller must hold ``engine.lock`` and must have validated every change
    (index key types included): nothing here raises on account of the data.
    """
    if len(changes) == 1:  # (most writes: no list to build)
        change = changes[0]
        if change.old is None and change.new is None:
            return
        effective = changes
    else:
        effective = [c for c in changes if c.old is not None or c.new is not None]
        if not effective:
            return
    storage = engine.storage
    if type(storage).atomic is _NO_GROUPS:  # in memory: each write is atomic already
        _apply(engine, effective, identity, False)
    else:
        with storage.atomic():
            _apply(engine, effective, identity, storage.can_fail_commit)


_NO_GROUPS = Storage.atomic  # (what a storage that does not group writes inherits)


def _apply(
    engine: LocalEngine,
    changes: Sequence[Change],
    identity: dict[str, Any] | None,
    undoable: bool,
) -> None:
    """The body of :func:`commit`: the stores, the indexes, then the listeners
    (``undoable``: prepare taking the index entries back, see Storage.on_rollback)."""
    for change in changes:
        table = change.table
        new = change.new
        if new is None:
            table.store.delete(change.pk, change.sk)
        else:
            table.store.write(change.pk, change.sk, new, change.size)
        indexes = table.indexes
        if indexes:
            if len(indexes) == 1:
                indexes[0].replace(change.pk, change.sk, change.old, new, change.size)
            else:  # those projecting ALL first: they share the record just stored
                for index in _by_projection(indexes):
                    index.replace(change.pk, change.sk, change.old, new, change.size)
            if undoable:
                engine.storage.on_rollback(partial(_undo_indexes, change))
    # Inside the group: what a listener stores durably (the PITR history) is
    # committed with the change itself, never apart from it.
    for listener in engine.change_listeners:
        listener(changes, identity)


def _by_projection(indexes: list[IndexDef]) -> list[IndexDef]:
    """``indexes``, those projecting ALL first. A memory store recognizes the item it
    stored last and stores its record again instead of a copy (see
    :class:`.storage.MemoryTableStore`): the table's item, until a projection is stored."""
    return [i for i in indexes if i.projected is None] + [
        i for i in indexes if i.projected is not None
    ]


def _undo_indexes(change: Change) -> None:
    """Take a rolled-back change out of its table's indexes (the old entries come back)."""
    old = change.old
    change.table.update_indexes(
        change.pk, change.sk, change.new, old, item_size(old) if old is not None else 0
    )
