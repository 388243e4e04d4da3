"""UpdateItem and DeleteItem compiled per request shape: the fast path of a repeated write.

A request's *shape* is everything the checks of the request depend on except the
values it carries: its table (the very table, by ``table_id``), its members, its
expression texts, what each ``#name`` stands for, each ``:value``'s type, and its
option members (``ReturnValues``...). The first request of a shape takes the general
path (:func:`._items.update_item`), which checks all of it; once such a request has
passed every check that depends on its shape alone (its expressions bound from the
plan cache, see :attr:`._exprs.RequestExpressions.planned`), a :class:`Program` for
the shape is remembered here. A later request of that shape runs the program: it
checks what may differ (the key and the values' content), then reads the item,
evaluates the condition, applies the update and measures the change in one pass,
with no member checks and no binding.

Anything out of the ordinary sends the request back to the general path *before
anything changed*: a key or a value that fails a check, an update that cannot be
applied to the item (an error to report), a size over the limit, an index key that
needs its checks, an update of an item that does not exist and only removes. The
general path then runs the whole request and reports exactly what it always
reports. A program only ever ends in one of the general path's own outcomes: the
committed write (the response is made by the caller, as on the general path) or
ConditionalCheckFailedException. tests/engine/test_update_programs.py compares the
two paths request by request, good and bad.

One exception to "writes do not add to the shared decoded-item cache" (._records):
an item a program updated in a memory store is added there, as its record's item,
when its old version was there (a hot item stays hot: its next update, or shared
read, decodes nothing; about 3 us saved on a 1 KB item), or by the admission policy
of a read's miss when it was not (:func:`_admitted`). A cold item is decoded for the
update alone, not through the cache (a miss kept there only to be replaced cost
about 1 us).

A program's response with no item in it (ReturnValues NONE, UPDATED_OLD or
UPDATED_NEW, whose attributes it copies) is its caller's own: :data:`OWNED` tells
:meth:`LocalEngine.call` to skip its deep copy.
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING, Any

from singletable._values import (
    _NUMBERS,
    AttributeValue,
    InvalidValue,
    Item,
    _known_number,
    check_nesting,
    copy_value,
    item_size,
    validate_value,
    value_size,
)
from singletable.backends.local._collections import has_local_indexes
from singletable.backends.local._exprs import expression_value
from singletable.backends.local._records import SHARED, decode, unpack_size
from singletable.backends.local._write import Change, commit
from singletable.backends.local.errors import DynamoDBError
from singletable.backends.local.keycodec import (
    MAX_HASH_KEY_BYTES,
    MAX_RANGE_KEY_BYTES,
    encode_string,
)
from singletable.backends.local.storage import MemoryTableStore
from singletable.expressions import Condition, ExpressionError, Update, small_names
from singletable.expressions.evaluate import Env, PredicateFn

if TYPE_CHECKING:
    from singletable.backends.local._schema import TableDef
    from singletable.backends.local.engine import LocalEngine

__all__ = [
    "MAX_ITEM_BYTES",
    "OWNED",
    "Outcome",
    "Program",
    "program_for",
    "remember",
    "validated_values",
]

MAX_ITEM_BYTES = 400 * 1024
"""DynamoDB's largest item (names and values), for every write of the engine."""

# What a program hands back after its write: the table, the size its write units are
# counted from (the larger of the old and the new item), the Attributes to return
# (None: none) and the committed change (for index capacity).
Outcome = tuple["TableDef", int, "Item | None", Change]

# Members whose values a program checks itself (the others must equal the recorded ones).
_CHECKED_MEMBERS = frozenset(
    ("TableName", "Key", "ExpressionAttributeNames", "ExpressionAttributeValues")
)
# Members in the lookup key, with the table and the names.
_KEYED_MEMBERS = ("UpdateExpression", "ConditionExpression", "ReturnValues")
# The string members a program may be compiled for: the keyed ones and the options
# (enums, checked by the general path before a program is remembered). A request with
# any other member is never compiled: a program keeps its fixed members' values, and
# an unknown member's value could be of any size.
_KNOWN_MEMBERS = frozenset(
    (
        *_KEYED_MEMBERS,
        "ReturnConsumedCapacity",
        "ReturnItemCollectionMetrics",
        "ReturnValuesOnConditionCheckFailure",
    )
)

_EMPTY: Item = {}


class _Owned(threading.local):
    """The last response a program made that shares nothing with stored data (per thread)."""

    response: dict[str, Any] | None = None


OWNED = _Owned()
"""``OWNED.response is response``: ``response`` (a program's) is its caller's own: its
Attributes were built for it (UPDATED_OLD, UPDATED_NEW, or none), so
:meth:`LocalEngine.call` hands it out without its deep copy (about 2 us on an
UpdateItem's response). Compared by identity: a response is marked only by the
program that made it, and the reference keeps its id from being reused."""

def validated_values(
    specs: tuple[tuple[str, str], ...], raw: dict[str, Any]
) -> dict[str, AttributeValue] | None:
    """A compiled request's ExpressionAttributeValues validated: ``specs`` are the
    recorded ``(:value, type)`` pairs, one per member of ``raw``. None when a value is
    invalid or of another type (the general path reports it). UpdateItem, DeleteItem
    and transaction programs share it; number texts go through the cache of seen
    numbers that item validation keeps (``_values._known_number``): the same few
    (``:one``, ``:max``) come in request after request."""
    values: dict[str, AttributeValue] = {}
    numbers = _NUMBERS
    for ref, tag in specs:
        value = raw.get(ref)
        if type(value) is not dict or len(value) != 1:
            return None
        text = value.get(tag)
        if type(text) is str:
            if tag == "S" and text.isascii():
                values[ref] = {"S": text}
                continue
            if tag == "N":
                known = numbers.get(text)
                if known is None:
                    try:
                        known = _known_number(text)
                    except InvalidValue:
                        return None
                values[ref] = {"N": known[0]}
                continue
        try:
            checked = expression_value(ref, value)
        except DynamoDBError:
            return None
        if tag not in checked:
            return None
        values[ref] = checked
    return values


def _value_size(value: AttributeValue) -> int:
    """:func:`value_size`, with a string's and a number's in short."""
    text = value.get("S")
    if text is not None:
        return len(text) if text.isascii() else len(text.encode("utf-8"))
    text = value.get("N")
    if text is not None:  # (_values._number_size of a canonical number, inlined)
        return (len(text.lstrip("-").replace(".", "").strip("0")) + 1) // 2 + 1
    return value_size(value)


_CONTAINERS = frozenset(("L", "M", "SS", "NS", "BS"))


# A full shared cache takes in one cold item updated in this many (as SharedItems.item
# keeps one miss in eight of its reads).
_ADMIT_ONE_IN = 8
_refused = [0]


def _admitted(old: Item | None) -> bool:
    """Whether the new version of an updated item that was not in the shared
    decoded-item cache goes in: always while the cache has room, then one in
    :data:`_ADMIT_ONE_IN`, the policy of a read's miss (._records). The old version
    was decoded for the update alone: putting it in only for the new one to replace
    it (what a read through the cache did) cost about 1 us."""
    if old is None:
        return False
    if SHARED.used + _COST_ESTIMATE < SHARED.budget:
        return True
    _refused[0] += 1
    return _refused[0] % _ADMIT_ONE_IN == 0


# What a cached 1 KB item costs the cache, about (._records._cost): only decides
# whether the cache counts as full.
_COST_ESTIMATE = 3 * 1024


def _lookup_key(table: TableDef, request: dict[str, Any]) -> tuple[object, ...]:
    """The key of a request's program (TypeError if a member cannot be hashed)."""
    names = request.get("ExpressionAttributeNames")
    return (
        table.table_id,
        request.get("UpdateExpression"),
        request.get("ConditionExpression"),
        request.get("ReturnValues"),
        tuple(names.items()) if type(names) is dict else names,
    )


# Programs by operation, then lookup key. Bounded: cleared when full (a new shape is
# compiled again from its next request).
_PROGRAMS: dict[str, dict[tuple[object, ...], Program]] = {"UpdateItem": {}, "DeleteItem": {}}
_PROGRAMS_MAX = 1024


def program_for(
    operation: str, engine: LocalEngine, request: dict[str, Any]
) -> tuple[Program, TableDef] | None:
    """The program of ``request``'s shape, with its table, if one was remembered."""
    get = request.get
    try:
        table = engine.tables.get(get("TableName"))  # type: ignore[arg-type]
        if table is None:
            return None
        names = get("ExpressionAttributeNames")  # (_lookup_key, inlined)
        key = (
            table.table_id,
            get("UpdateExpression"),
            get("ConditionExpression"),
            get("ReturnValues"),
            tuple(names.items()) if type(names) is dict else names,
        )
        program = _PROGRAMS[operation].get(key)
    except TypeError:  # (an unhashable member: the general path reports it)
        return None
    if program is None or request.keys() != program.members:  # (fits, inlined)
        return None
    if program.fixed and not program.fits(request):
        return None
    return program, table


def remember(
    operation: str,
    table: TableDef,
    request: dict[str, Any],
    options: Any,
    condition: Condition | None,
    update: Update | None = None,
) -> None:
    """Remember a program for ``request``'s shape.

    Only for a request that passed every check depending on its shape: the member
    checks, the table, its expressions (bound from the plan cache:
    ``RequestExpressions.planned``) and the update's key-attribute check.
    ``options``: its WriteOptions. A request asking for ItemCollectionMetrics of a
    table with an LSI is never compiled: the general path measures the collection.
    """
    if options.metrics == "SIZE" and has_local_indexes(table):
        return
    fixed: list[tuple[str, str]] = []
    for member, value in request.items():
        if member in _CHECKED_MEMBERS:
            continue
        if type(value) is not str or member not in _KNOWN_MEMBERS:
            return  # (unknown members: never compiled, nor kept)
        if member not in _KEYED_MEMBERS:
            fixed.append((member, value))
    names = request.get("ExpressionAttributeNames")
    values = request.get("ExpressionAttributeValues")
    specs: list[tuple[str, str]] = []
    if values is not None:
        for ref, value in values.items():
            (tag,) = value  # (the plan key only admits one-member values)
            specs.append((ref, tag))
    if update is not None and update.type_mismatch is not None:
        return  # (legacy AttributeUpdates: never planned)
    if not small_names(names):
        return  # (what a program keeps is bounded: see SHAPE_NAMES_MAX)
    try:
        key = _lookup_key(table, request)
    except TypeError:
        return
    program = Program(
        frozenset(request),
        tuple(fixed),
        dict(names) if names is not None else None,
        tuple(specs),
        values is not None,
        options,
        condition.predicate if condition is not None else None,
        update,
        table.key_names,
        _plain_key_names(table),
    )
    programs = _PROGRAMS[operation]
    if len(programs) >= _PROGRAMS_MAX:
        programs.clear()
    programs[key] = program


def _plain_key_names(table: TableDef) -> tuple[str, str] | None:
    """The key names of a table keyed by two S attributes (Program._plain_keys)."""
    if table.hash.type == "S" and table.range is not None and table.range.type == "S":
        return table.hash.name, table.range.name
    return None


class Program:
    """What one request shape compiles to (see the module docstring)."""

    __slots__ = (
        "counts",
        "fixed",
        "flat",
        "has_values",
        "key_names",
        "members",
        "names",
        "only_removes",
        "options",
        "owns",
        "plain_keys",
        "plan",
        "predicate",
        "returns",
        "specs",
        "touched",
        "updated",
        "written",
    )

    def __init__(
        self,
        members: frozenset[str],
        fixed: tuple[tuple[str, str], ...],
        names: dict[str, str] | None,
        specs: tuple[tuple[str, str], ...],
        has_values: bool,
        options: Any,
        predicate: PredicateFn | None,
        update: Update | None,
        key_names: tuple[str, ...],
        plain_keys: tuple[str, str] | None = None,
    ) -> None:
        self.members = members
        self.fixed = fixed
        self.names: dict[str, str] = names or {}
        self.specs = specs
        self.has_values = has_values
        self.options = options
        self.returns: str = options.returns
        # Whether a response shares nothing with stored items (see OWNED).
        self.owns = self.returns in ("NONE", "UPDATED_OLD", "UPDATED_NEW")
        # Whether a response reports ConsumedCapacity (else its units are not counted).
        self.counts = options.capacity in ("TOTAL", "INDEXES")
        self.predicate = predicate
        self.key_names = key_names
        # (hash, range) names of a table keyed by two S attributes (see _plain_keys).
        self.plain_keys = plain_keys
        self.plan = update.plan if update is not None else None
        self.updated = update.updated if update is not None else None
        self.only_removes = update is not None and update.only_removes
        self.flat = self.plan is not None and self.plan.flat
        # The top-level attributes the update touches, each with its name's size.
        names_touched = sorted(update.top_level_names) if update is not None else []
        self.touched = tuple((name, len(name.encode("utf-8"))) for name in names_touched)
        # The top-level names written, in the order ReturnValues UPDATED_* lists them.
        written: list[str] = []
        if self.plan is not None:
            for path in self.plan.written:
                if str(path[0]) not in written:
                    written.append(str(path[0]))
        self.written = tuple(written)

    def fits(self, request: dict[str, Any]) -> bool:
        """Whether ``request`` (found by its lookup key) has this program's shape, its
        values' types aside (checked as they are validated)."""
        if request.keys() != self.members:
            return False
        fixed = self.fixed  # (usually empty: the common members are in the lookup key)
        return not fixed or all(request[member] == value for member, value in fixed)

    # ----------------------------------------------------------------- checks

    def _plain_keys(self, key: Any) -> tuple[bytes, bytes] | None:
        """TableDef.key_from_request's common case (two non-empty ASCII strings within
        the limits, for a table keyed by two S attributes), inline; None: anything
        else, which key_from_request takes."""
        plain = self.plain_keys
        if plain is None or type(key) is not dict or len(key) != 2:
            return None
        hash_value, range_value = key.get(plain[0]), key.get(plain[1])
        if type(hash_value) is not dict or type(range_value) is not dict:
            return None
        if len(hash_value) != 1 or len(range_value) != 1:
            return None
        hash_text, range_text = hash_value.get("S"), range_value.get("S")
        if (
            type(hash_text) is str
            and type(range_text) is str
            and hash_text
            and range_text
            and len(hash_text) <= MAX_HASH_KEY_BYTES
            and len(range_text) <= MAX_RANGE_KEY_BYTES
            and hash_text.isascii()
            and range_text.isascii()
        ):
            return encode_string(hash_text), encode_string(range_text)
        return None

    def _keys(self, table: TableDef, request: dict[str, Any]) -> tuple[bytes, bytes] | None:
        try:
            return table.key_from_request(request["Key"])
        except DynamoDBError:
            return None

    def _values(self, request: dict[str, Any]) -> dict[str, AttributeValue] | None:
        """The request's ExpressionAttributeValues validated, if they are all valid and
        of the recorded types; None otherwise."""
        specs = self.specs
        raw = request.get("ExpressionAttributeValues")
        if not self.has_values:  # (recorded absent, or present as null)
            return {} if raw is None else None
        if type(raw) is not dict or len(raw) != len(specs):
            return None
        return validated_values(specs, raw)

    def _check(self, old: Item | None, values: dict[str, AttributeValue]) -> None:
        predicate = self.predicate
        if predicate is not None and not predicate(
            _EMPTY if old is None else old, Env(self.names, values)
        ):
            raise self._failed(old)

    def _failed(self, old: Item | None) -> DynamoDBError:
        """ConditionalCheckFailedException, as _items.check_condition raises it."""
        extra: dict[str, Any] = {}
        if self.options.on_failure == "ALL_OLD" and old is not None:
            extra["Item"] = old
        return DynamoDBError(
            "ConditionalCheckFailedException", "The conditional request failed", **extra
        )

    # ----------------------------------------------------------------- operations

    def update(
        self, engine: LocalEngine, table: TableDef, request: dict[str, Any]
    ) -> Outcome | None:
        """Run an UpdateItem of this shape; None: take the general path (nothing changed)."""
        keys = self._plain_keys(request["Key"])
        if keys is None:
            try:
                keys = table.key_from_request(request["Key"])
            except DynamoDBError:
                return None
        pk, sk = keys
        values = self._values(request)
        if values is None:
            return None
        plan = self.plan
        predicate = self.predicate
        with engine.lock:
            store = table.store
            shared = False  # (whether ``old`` is the shared decoded item of its record)
            if type(store) is MemoryTableStore:
                record = store.record(pk, sk)
                if record is None:
                    old, base_size = None, 0
                else:
                    entry = SHARED.items.get(id(record))
                    if entry is not None and entry[0] is record:  # a hot item: shared
                        old, base_size, shared = entry[1], entry[3], True
                    else:  # read for this update alone (see _admitted)
                        old, base_size = decode(record), unpack_size(record, -4)[0]
            else:
                old = store.get(pk, sk)
                base_size = store.size_of(pk, sk) if old is not None else 0
            if predicate is not None and not predicate(
                _EMPTY if old is None else old, Env(self.names, values)
            ):
                raise self._failed(old)
            if old is not None:
                base = old
            else:
                if self.only_removes:
                    return None  # (creates nothing: the general path answers)
                try:
                    key = request["Key"]
                    base = {name: validate_value(key[name], name) for name in self.key_names}
                except InvalidValue:  # pragma: no cover - key_from_request checked them
                    return None
                base_size = item_size(base)
            if plan is None:
                new = dict(base)
            else:
                try:
                    if self.flat:  # (a top-level value nests no deeper than it came)
                        new = plan.apply_flat(base, values)
                    else:
                        new = plan.apply(base, values, new_item=old is None)
                        check_nesting(new.get(name) for name, _ in self.touched)
                except (ExpressionError, InvalidValue):
                    return None  # (an error to report: the general path reports it)
            size = base_size
            for name, name_size in self.touched:  # (_value_size's common cases inline)
                before, after = base.get(name), new.get(name)
                if after is not before:
                    if after is not None:
                        text = after.get("S")
                        if text is not None and text.isascii():
                            size += name_size + len(text)
                        else:
                            size += name_size + _value_size(after)
                    if before is not None:
                        text = before.get("S")
                        if text is not None and text.isascii():
                            size -= name_size + len(text)
                        else:
                            size -= name_size + _value_size(before)
            if size > MAX_ITEM_BYTES:
                return None
            if table.indexes and not table.index_keys_plain(new):
                return None  # (the general path checks the index keys and reports)
            change = Change(table, pk, sk, old, new, size)
            commit(engine, (change,))
            if type(store) is MemoryTableStore and (shared or _admitted(old)):
                # A hot item's new version takes its place in the shared decoded-item
                # cache (._records): its next read or update decodes nothing.
                record = store.record(pk, sk)
                if record is not None:
                    if shared:
                        SHARED.replace(old, record, new)  # type: ignore[arg-type]
                    else:
                        SHARED.seed(record, new)
        counted = max(size, base_size if old is not None else 0)
        return table, counted, self._returned(old, new), change

    def _returned(self, old: Item | None, new: Item) -> Item | None:
        mode = self.returns
        if mode == "NONE":
            return None
        if mode == "ALL_NEW":
            return new
        if mode == "ALL_OLD":
            return old
        source = new if mode == "UPDATED_NEW" else old
        if source is None or self.updated is None:
            return None
        if not self.flat:
            return self.updated.apply(source)
        out: Item = {}
        for name in self.written:  # (as Projection.apply projects top-level paths)
            value = source.get(name)
            if value is not None:  # (copied, as Projection.apply copies: see OWNED)
                out[name] = dict(value) if _CONTAINERS.isdisjoint(value) else copy_value(value)
        return out

    def delete(
        self, engine: LocalEngine, table: TableDef, request: dict[str, Any]
    ) -> Outcome | None:
        """Run a DeleteItem of this shape; None: take the general path (nothing changed)."""
        keys = self._keys(table, request)
        if keys is None:
            return None
        values = self._values(request)
        if values is None:
            return None
        pk, sk = keys
        with engine.lock:
            store = table.store
            old = store.get(pk, sk)
            self._check(old, values)
            old_size = store.size_of(pk, sk)
            change = Change(table, pk, sk, old, None)
            commit(engine, (change,))
        return table, old_size, old if self.returns == "ALL_OLD" else None, change
