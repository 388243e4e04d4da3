"""Regions: each region has its own tables, as in DynamoDB.

A :class:`~singletable.backends.local.engine.LocalEngine` answers for its *home*
region (``LocalEngine(region=...)``, us-east-1 by default). A request for another
region (``engine.call(op, request, region="eu-west-1")``, a boto3 client made for
that region under ``local_dynamodb()``, a request signed for it over HTTP) runs on
that region's own engine object, made the first time the region is used. A region
engine is a ``LocalEngine`` of its own (catalog, streams, TTL, backups, storage), so
every operation handler works unchanged on it; what the regions of one engine share
is held by :class:`Regions`: the lock (writes in every region are ordered by one
lock, which is what lets replication apply a change to another region atomically),
the clock, the fault rules and capacity meters, and the underlying storage.

Storage per region:

* in memory, each region has its own :class:`MemoryStorage` (so a snapshot takes
  each region's state as it takes the home region's);
* any other storage (a durable file) is shared: the stores of a region are named
  ``<region>:<name>`` (a table name cannot hold ``:``, nor can a backup's or the
  PITR history's store name, so the prefix cannot collide). One region's stores
  carry no prefix: the region recorded in the file when it was first opened by this
  version, which is the home region of that first opening (so a file written before
  regions existed opens with its tables in the home region). :class:`NamespacedStorage`
  is the view of one region.

``shared_regions=True`` keeps a single catalog for every region (what DynamoDB Local
calls ``-sharedDb``): every request runs on the home engine, whatever its region, and
ARNs name the home region.

:class:`Regions` also holds the replication queues of global tables (._replication).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from typing import TYPE_CHECKING, Any

from singletable.backends.local._replication import Replication
from singletable.backends.local.errors import DynamoDBError
from singletable.backends.local.storage import MemoryStorage, Storage, TableStore

if TYPE_CHECKING:
    from singletable.backends.local.engine import LocalEngine

__all__ = ["REGION_PATTERN", "NamespacedStorage", "Regions", "check_region"]

# What a region name may look like: AWS's are lower-case words and digits joined by
# hyphens (us-east-1, eu-west-2); local tools also use "local" or "localhost".
REGION_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")
_EXTRA_KIND = "regions"
_UNPREFIXED = "unprefixed"


def check_region(region: object) -> str:
    """``region`` if it is a usable region name; ValueError otherwise (for constructors)."""
    if not isinstance(region, str) or REGION_PATTERN.fullmatch(region) is None:
        raise ValueError(f"not a region name: {region!r}")
    return region


def _bad_region(region: str) -> DynamoDBError:
    # What AWS answers for credentials scoped to a region it does not know; the local
    # engine knows every well-formed name, so only malformed ones get here.
    return DynamoDBError(
        "UnrecognizedClientException", "The security token included in the request is invalid."
    )


class NamespacedStorage(Storage):
    """The stores of one region inside a storage that holds several regions.

    Store ``name`` of the region is ``prefix + name`` in the base storage; with an
    empty prefix, the view holds the base's stores whose names have no ``:``.
    """

    def __init__(self, base: Storage, prefix: str) -> None:
        self.base = base
        self.prefix = prefix
        self.can_fail_commit = base.can_fail_commit
        self.keeps_indexes: bool = getattr(base, "keeps_indexes", False)
        copy_store = getattr(base, "copy_store", None)
        self.copy_store: Callable[[str, str, dict[str, Any]], None] | None = (
            None
            if copy_store is None
            else lambda source, target, meta: copy_store(prefix + source, prefix + target, meta)
        )

    def create_table(self, name: str, meta: dict[str, Any] | None = None) -> TableStore:
        return self.base.create_table(self.prefix + name, meta)

    def drop_table(self, name: str) -> None:
        self.base.drop_table(self.prefix + name)

    def table(self, name: str) -> TableStore:
        return self.base.table(self.prefix + name)

    def table_names(self) -> list[str]:
        prefix = self.prefix
        if not prefix:
            return [name for name in self.base.table_names() if ":" not in name]
        return [name[len(prefix) :] for name in self.base.table_names() if name.startswith(prefix)]

    def get_meta(self, name: str) -> dict[str, Any]:
        return self.base.get_meta(self.prefix + name)

    def set_meta(self, name: str, meta: dict[str, Any]) -> None:
        self.base.set_meta(self.prefix + name, meta)

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and (self.prefix + name) in self.base

    def atomic(self) -> AbstractContextManager[None]:
        return self.base.atomic()

    def on_rollback(self, undo: Callable[[], None]) -> None:
        self.base.on_rollback(undo)

    def close(self) -> None:
        """Nothing: the engine closes the base storage once, for every region."""


class Regions:
    """The region engines of one engine, and what they share.

    Made by the home engine's constructor; every region engine holds the same
    instance (``engine.regions``).
    """

    def __init__(
        self,
        home: LocalEngine,
        base: Storage,
        *,
        shared: bool,
        ttl_sweep_interval: float | None,
        factory: Callable[[Regions, str], LocalEngine],
        replication: str = "background",
        replication_delay: float = 0.02,
    ) -> None:
        self.home = home
        self._factory = factory
        self.base = base
        self.shared = shared
        self.ttl_sweep_interval = ttl_sweep_interval
        self._engines: dict[str, LocalEngine] = {home.region: home}
        self._detached: dict[str, LocalEngine] = {}
        # Called by a snapshot: each returns the function that puts its state back
        # (the replication queue registers one; see ._snapshot).
        self.snapshot_hooks: list[Callable[[], Callable[[], None]]] = []
        self._closed = False
        self.replication = Replication(self, replication, replication_delay)
        self._unprefixed = home.region
        if not isinstance(base, MemoryStorage):
            self._unprefixed = _unprefixed_region(base, home.region)

    # ----------------------------------------------------------------- lookup

    def engine(self, region: str) -> LocalEngine:
        """The engine of ``region`` (made on first use); the home engine if shared."""
        engine = self._engines.get(region)
        if engine is not None:
            return engine
        if self.shared:
            return self.home
        if not isinstance(region, str) or REGION_PATTERN.fullmatch(region) is None:
            raise _bad_region(str(region))
        with self.home.lock:
            engine = self._engines.get(region)
            if engine is None:
                if self._closed:
                    raise DynamoDBError("InternalServerError", "The engine is closed")
                engine = self._engines[region] = self._factory(self, region)
            return engine

    def engines(self) -> list[LocalEngine]:
        """Every region engine made so far, the home one first."""
        return list(self._engines.values())

    def __iter__(self) -> Iterator[LocalEngine]:
        return iter(self.engines())

    def names(self) -> list[str]:
        """The regions made so far, the home one first."""
        return list(self._engines)

    def storage_for(self, region: str) -> Storage:
        """The storage a new engine of ``region`` keeps its stores in."""
        base = self.base
        if isinstance(base, MemoryStorage):
            return base if region == self.home.region else MemoryStorage()
        return NamespacedStorage(base, "" if region == self._unprefixed else f"{region}:")

    def open_stored(self) -> None:
        """Make the engines of the regions a durable storage already holds stores of."""
        if isinstance(self.base, MemoryStorage) or self.shared:
            return
        regions = {self._unprefixed}
        regions.update(name.partition(":")[0] for name in self.base.table_names() if ":" in name)
        for region in sorted(regions):
            if REGION_PATTERN.fullmatch(region) is not None:
                self.engine(region)

    def forget(self, region: str) -> None:
        """Set aside a region engine made after a snapshot that is being restored (a
        later snapshot's restore may take it back: :meth:`adopt`)."""
        self._detached[region] = self._engines.pop(region)

    def adopt(self, engine: LocalEngine) -> None:
        """Take a region engine back (restoring a snapshot that holds it)."""
        self._detached.pop(engine.region, None)
        self._engines[engine.region] = engine

    # ----------------------------------------------------------------- closing

    def close(self) -> None:
        """Stop every region's background work, then release the storage."""
        self.replication.stop()
        with self.home.lock:
            self._closed = True
            for engine in [*self._engines.values(), *self._detached.values()]:
                for hook in engine.close_hooks:
                    hook()
                engine.close_hooks.clear()
            self.base.close()


def _unprefixed_region(base: Storage, home: str) -> str:
    """The region whose stores carry no prefix in ``base``: recorded there, or ``home``."""
    extras = getattr(base, "extras", None)
    put_extra = getattr(base, "put_extra", None)
    if extras is None or put_extra is None:
        return home
    recorded: bytes | None = extras(_EXTRA_KIND).get(_UNPREFIXED)
    if recorded is not None:
        return recorded.decode()
    put_extra(_EXTRA_KIND, _UNPREFIXED, home.encode())
    return home
