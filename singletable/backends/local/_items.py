"""Single-item operations: PutItem, GetItem, UpdateItem, DeleteItem.

Every write follows the same steps, all under the engine lock so that a
conditional write is linearizable: validate the whole request (values, key,
expressions, sizes) before touching anything, read the current item, evaluate
the condition, compute the new item, check its size, then store it. A request
that fails at any step leaves the table unchanged.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from singletable._canonical import CanonicalItem
from singletable._values import (
    AttributeValue,
    InvalidValue,
    Item,
    check_nesting,
    item_size,
    validate_item_sized,
    validate_value,
    value_size,
)
from singletable.backends.local._capacity import consumed, read_units, write_units
from singletable.backends.local._collections import collection_metrics
from singletable.backends.local._exprs import RequestExpressions, invalid_value
from singletable.backends.local._params import (
    MAX_ATTRIBUTE_NAME_BYTES,
    Checks,
    check_attribute_names,
    check_nested_names,
)
from singletable.backends.local._request_check import check_request
from singletable.backends.local._schema import TableDef
from singletable.backends.local._trusted import prepare_trusted
from singletable.backends.local._update import MAX_ITEM_BYTES, OWNED, program_for, remember
from singletable.backends.local._write import Change, commit
from singletable.backends.local.errors import DynamoDBError, validation_error
from singletable.expressions import Condition, ExpressionError, Update

if TYPE_CHECKING:
    from singletable.backends.local.engine import LocalEngine

__all__ = [
    "delete_item",
    "delete_item_unchecked",
    "find_table",
    "get_item",
    "prepare_item",
    "put_item",
    "put_item_unchecked",
    "update_item",
    "update_item_unchecked",
    "validated_item",
]

_CAPACITY_MODES = ("INDEXES", "TOTAL", "NONE")
_RETURN_VALUES = ("NONE", "ALL_OLD", "UPDATED_OLD", "ALL_NEW", "UPDATED_NEW")


class WriteOptions:
    """The members every write request shares."""

    def __init__(self, checks: Checks, allowed_returns: tuple[str, ...]) -> None:
        self.capacity = checks.enum("ReturnConsumedCapacity", _CAPACITY_MODES, "NONE")
        self.returns = checks.enum("ReturnValues", _RETURN_VALUES, "NONE") or "NONE"
        self.on_failure = checks.enum(
            "ReturnValuesOnConditionCheckFailure", ("ALL_OLD", "NONE"), "NONE"
        )
        self.metrics = checks.enum("ReturnItemCollectionMetrics", ("SIZE", "NONE"), "NONE")
        if self.returns not in allowed_returns:
            checks.raise_if_any()
            raise validation_error("Return values set to invalid value")


def table_for(engine: LocalEngine, checks: Checks) -> TableDef:
    """The table a data-plane request names (after its shape checks passed)."""
    name = checks.table_name()
    checks.raise_if_any()
    return find_table(engine, name)


def find_table(engine: LocalEngine, name: Any) -> TableDef:
    """The table ``name``, or DynamoDB's data-plane ResourceNotFoundException."""
    table = engine.tables.get(name) if isinstance(name, str) else None
    if table is None:
        raise DynamoDBError("ResourceNotFoundException", "Requested resource not found")
    return table


def check_condition(condition: Condition | None, old: Item | None, on_failure: str | None) -> None:
    """Raise ConditionalCheckFailedException unless ``condition`` holds for ``old``."""
    if condition is None or condition.matches(old or {}):
        return
    extra: dict[str, Any] = {}
    if on_failure == "ALL_OLD" and old is not None:
        extra["Item"] = old
    raise DynamoDBError(
        "ConditionalCheckFailedException", "The conditional request failed", **extra
    )


def _respond(
    table: TableDef,
    options: WriteOptions,
    units: float,
    attributes: Item | None,
    change: Change | None = None,
    collection: tuple[bytes, Any] | None = None,
) -> dict[str, Any]:
    """The response of a write; ``collection``: the encoded partition key of the item
    written and a Key or item holding its value (for ItemCollectionMetrics)."""
    response: dict[str, Any] = {}
    if attributes:
        response["Attributes"] = attributes
    if options.metrics == "SIZE" and collection is not None:
        metrics = collection_metrics("SIZE", table, *collection)
        if metrics is not None:
            response["ItemCollectionMetrics"] = metrics
    index_units = None
    if change is not None and table.indexes and options.capacity in ("TOTAL", "INDEXES"):
        index_units = table.index_write_costs(change.pk, change.sk, change.old, change.new)
    capacity = consumed(options.capacity, table.name, units, index_units=index_units)
    if capacity is not None:
        response["ConsumedCapacity"] = capacity
    return response


def validated_item(raw_item: Any) -> tuple[Item, int]:
    """The one pass over a written item (PutItem, BatchWriteItem, TransactWriteItems):
    its values checked and made canonical, its size, its attribute names' lengths."""
    try:
        item, size = validate_item_sized(raw_item)
    except InvalidValue as error:
        raise invalid_value(error) from None
    if size > MAX_ATTRIBUTE_NAME_BYTES:  # only then can a name be too long
        _check_names(item)
    return item, size


def _check_names(item: Item) -> None:
    """The lengths of an item's attribute names, nested ones included."""
    check_attribute_names(item)
    for value in item.values():
        check_nested_names(value)


def prepare_item(table: TableDef, raw_item: Any) -> tuple[bytes, bytes, Item, int]:
    """Validate a whole item for ``table``: its encoded key, canonical form and size."""
    item, size = validated_item(raw_item)
    pk, sk = table.key_from_item(item)
    if size > MAX_ITEM_BYTES:
        raise validation_error("Item size has exceeded the maximum allowed size")
    return pk, sk, item, size


def _prepare(table: TableDef, raw_item: Any) -> tuple[bytes, bytes, Item, int]:
    """:func:`prepare_item`, or for an item the codec built, its measuring twin (._trusted)."""
    if type(raw_item) is CanonicalItem:
        return prepare_trusted(table, raw_item, prepare_item)
    return prepare_item(table, raw_item)


def put_item(engine: LocalEngine, request: dict[str, Any]) -> dict[str, Any]:
    """PutItem: create or replace a whole item."""
    response = _put_plain(engine, request)
    if response is not None:
        return response
    return _put_item(engine, request)


def put_item_unchecked(engine: LocalEngine, request: dict[str, Any]) -> dict[str, Any]:
    """PutItem, for a request the request checks (._request_check) have not seen yet
    (LocalEngine._dispatch): they run unless the request is a plain one, which they
    would pass (they leave its Item to the operation, and its TableName names a table)."""
    response = _put_plain(engine, request)
    if response is not None:
        return response
    check_request("PutItem", request)
    return _put_item(engine, request)


def _put_plain(engine: LocalEngine, request: dict[str, Any]) -> dict[str, Any] | None:
    """PutItem of a plain request (None: not one; the general path answers)."""
    # (an item the codec built is only measured, not rebuilt: see ._trusted)
    table = None
    # A plain request (TableName and Item only, both present, naming an existing table)
    # is one no member check can fail for and whose options are the defaults.
    if len(request) == 2:
        name = request.get("TableName")
        raw_item = request.get("Item")
        if type(name) is str and raw_item is not None:
            table = engine.tables.get(name)
    if table is not None:  # no options, no expressions: nothing else to check
        if type(raw_item) is CanonicalItem:
            pk, sk, item, size = prepare_trusted(table, raw_item, prepare_item)
        else:
            try:  # (validated_item, inlined)
                item, size = validate_item_sized(raw_item)
            except InvalidValue as error:
                raise invalid_value(error) from None
            if size > MAX_ATTRIBUTE_NAME_BYTES:  # only then can a name be too long
                _check_names(item)
            pk, sk = table.key_from_item(item)
            if size > MAX_ITEM_BYTES:
                raise validation_error("Item size has exceeded the maximum allowed size")
        with engine.lock:
            store = table.store
            old = store.get(pk, sk)
            if table.indexes and not table.index_keys_plain(item):
                table.check_index_keys(item)  # (raises DynamoDB's error)
            commit(engine, (Change(table, pk, sk, old, item, size),))
        return {}
    return None


def _put_item(engine: LocalEngine, request: dict[str, Any]) -> dict[str, Any]:
    """PutItem by the general path."""
    checks = Checks(request)
    raw_item = checks.required("Item")
    options = WriteOptions(checks, ("NONE", "ALL_OLD"))
    table = table_for(engine, checks)
    pk, sk, item, size = _prepare(table, raw_item)
    expressions = RequestExpressions(request)
    condition = expressions.condition()
    expressions.finish()
    with engine.lock:
        store = table.store
        old = store.get(pk, sk)
        if condition is not None:
            check_condition(condition, old, options.on_failure)
        old_size = store.size_of(pk, sk) if old is not None else 0
        if table.indexes and not table.index_keys_plain(item):
            table.check_index_keys(item)  # (raises DynamoDB's error)
        change = Change(table, pk, sk, old, item, size)
        commit(engine, (change,))
    units = write_units(max(size, old_size))
    returned = old if options.returns == "ALL_OLD" else None
    return _respond(table, options, units, returned, change, (pk, item))


def _by_program(
    operation: str, engine: LocalEngine, request: dict[str, Any]
) -> tuple[bool, dict[str, Any] | None]:
    """Whether a program (._update) of the request's shape is known, and its response
    if it answered (None: the general path answers, with its errors)."""
    found = program_for(operation, engine, request)
    if found is None:
        return False, None
    program, table = found
    run = program.delete if operation == "DeleteItem" else program.update
    outcome = run(engine, table, request)
    if outcome is None:
        return True, None
    if program.counts:
        units = write_units(outcome[1])
        response = _respond(outcome[0], program.options, units, outcome[2], outcome[3])
    else:  # (_respond without capacity)
        attributes = outcome[2]
        response = {"Attributes": attributes} if attributes else {}
    if program.owns and response:
        OWNED.response = response  # (its caller's own: LocalEngine.call makes no copy)
    return True, response


def delete_item(engine: LocalEngine, request: dict[str, Any]) -> dict[str, Any]:
    """DeleteItem."""
    known, response = _by_program("DeleteItem", engine, request)
    if response is not None:
        return response
    return _delete_item(engine, request, known)


def delete_item_unchecked(engine: LocalEngine, request: dict[str, Any]) -> dict[str, Any]:
    """DeleteItem, for a request the request checks (._request_check) have not seen yet:
    see :func:`update_item_unchecked`."""
    known, response = _by_program("DeleteItem", engine, request)
    if response is not None:
        return response
    check_request("DeleteItem", request)
    return _delete_item(engine, request, known)


def _delete_item(engine: LocalEngine, request: dict[str, Any], known: bool) -> dict[str, Any]:
    """DeleteItem by the general path (``known``: its shape has a program)."""
    checks = Checks(request)
    key = checks.required("Key")
    options = WriteOptions(checks, ("NONE", "ALL_OLD"))
    table = table_for(engine, checks)
    pk, sk = table.key_from_request(key)
    expressions = RequestExpressions(request)
    condition = expressions.condition()
    expressions.finish()
    if not known and expressions.planned:
        remember("DeleteItem", table, request, options, condition)
    with engine.lock:
        old = table.store.get(pk, sk)
        check_condition(condition, old, options.on_failure)
        old_size = table.store.size_of(pk, sk)
        change = Change(table, pk, sk, old, None)
        commit(engine, [change])
    units = write_units(old_size)
    returned = old if options.returns == "ALL_OLD" else None
    # A delete of a missing item reports its collection as well (it names one); not
    # confirmed against DynamoDB, whose docs say "item collections, if any, that were
    # affected".
    return _respond(table, options, units, returned, change, (pk, key))


def update_item(engine: LocalEngine, request: dict[str, Any]) -> dict[str, Any]:
    """UpdateItem: apply an update expression to an item, creating it if needed."""
    known, response = _by_program("UpdateItem", engine, request)
    if response is not None:
        return response
    return _update_item(engine, request, known)


def update_item_unchecked(engine: LocalEngine, request: dict[str, Any]) -> dict[str, Any]:
    """UpdateItem, for a request the request checks (._request_check) have not seen yet
    (LocalEngine._dispatch): they run only if the shape's program does not answer.

    A request a program answers passes them: every string in it outside its Key and
    ExpressionAttributeValues (which the program validates itself, as the general path
    does: the checks skip them) equals a string of the request the program was compiled
    from, which passed them (the table name, the expressions, the #names, the options),
    so it holds no lone surrogate and nests nothing.
    """
    known, response = _by_program("UpdateItem", engine, request)
    if response is not None:
        return response
    check_request("UpdateItem", request)
    return _update_item(engine, request, known)


def _update_item(engine: LocalEngine, request: dict[str, Any], known: bool) -> dict[str, Any]:
    """UpdateItem by the general path (``known``: its shape has a program)."""
    checks = Checks(request)
    key = checks.required("Key")
    options = WriteOptions(checks, _RETURN_VALUES)
    table = table_for(engine, checks)
    pk, sk = table.key_from_request(key)
    expressions = RequestExpressions(request)
    update = expressions.update()
    condition = expressions.condition()
    expressions.finish()
    if update is not None:
        for name in table.key_names:
            if name in update.top_level_names:
                raise validation_error(
                    "One or more parameter values were invalid: Cannot update attribute "
                    f"{name}. This attribute is part of the key"
                )
    if not known and expressions.planned:
        remember("UpdateItem", table, request, options, condition, update)
    with engine.lock:
        store = table.store
        old = store.get(pk, sk)
        check_condition(condition, old, options.on_failure)
        if old is None and update is not None and update.only_removes:
            # Removing attributes from (or deleting set members of) an item that does
            # not exist creates nothing: no item, no stream record, no Attributes.
            # API Reference, AttributeValueUpdate: "If no item with the specified key
            # is found: ... DELETE - Nothing happens; there is no attribute to delete."
            # The expression forms (REMOVE, DELETE) behave the same (issue 14 item 2;
            # ScyllaDB issue 5862, checked against DynamoDB). An UpdateItem with no
            # update at all still creates the key-only item.
            return _respond(table, options, write_units(0), None, None, (pk, key))
        if old is not None:
            base, base_size = old, store.size_of(pk, sk)
        else:
            base = {name: validate_value(key[name], name) for name in table.key_names}
            base_size = item_size(base)
        try:
            new = update.apply(base, new_item=old is None) if update is not None else dict(base)
            if update is not None:  # a value set under a path can nest past 32 levels
                check_nesting(new.get(name) for name in update.top_level_names)
        except InvalidValue as error:
            # Errors found while applying the update are data-plane errors: bare.
            raise DynamoDBError(error.code, error.message) from None
        except ExpressionError as error:
            raise validation_error(error.message) from None
        size = base_size
        if update is not None:
            # Only the attributes the update touches can change size.
            for name in update.top_level_names:
                before, after = base.get(name), new.get(name)
                if after is not before:
                    size += _attribute_size(name, after) - _attribute_size(name, before)
        if size > MAX_ITEM_BYTES:
            raise validation_error("Item size to update has exceeded the maximum allowed size")
        if table.indexes and not table.index_keys_plain(new):
            table.check_index_keys(new, updating=True)  # (raises DynamoDB's error)
        change = Change(table, pk, sk, old, new, size)
        commit(engine, [change])
    units = write_units(max(size, base_size if old is not None else 0))
    returned = _returned(options.returns, old, new, update)
    return _respond(table, options, units, returned, change, (pk, key))


def _attribute_size(name: str, value: AttributeValue | None) -> int:
    if value is None:
        return 0
    return (len(name) if name.isascii() else len(name.encode("utf-8"))) + value_size(value)


def _returned(mode: str, old: Item | None, new: Item, update: Update | None) -> Item | None:
    if mode == "ALL_OLD":
        return old
    if mode == "ALL_NEW":
        return new
    if mode in ("UPDATED_OLD", "UPDATED_NEW") and update is not None:
        source = old if mode == "UPDATED_OLD" else new
        if source is None:
            return None
        return update.updated_attributes(source)
    return None


def get_item(engine: LocalEngine, request: dict[str, Any]) -> dict[str, Any]:
    """GetItem."""
    # A plain request (TableName and a Key map only, naming an existing table): no
    # member check can fail for it and its options are the defaults; only its key is
    # checked, by the same code as any GetItem's.
    if len(request) == 2:
        name, key = request.get("TableName"), request.get("Key")
        table = engine.tables.get(name) if type(name) is str and type(key) is dict else None
        if table is not None:
            pk, sk = table.key_from_request(key)
            with engine.lock:
                item = table.store.get(pk, sk)
            return {} if item is None else {"Item": item}
    checks = Checks(request)
    key = checks.required("Key")
    capacity_mode = checks.enum("ReturnConsumedCapacity", _CAPACITY_MODES, "NONE")
    consistent = checks.boolean("ConsistentRead")
    table = table_for(engine, checks)
    pk, sk = table.key_from_request(key)
    expressions = RequestExpressions(request)
    projection = expressions.projection()
    expressions.finish()
    with engine.lock:
        item = table.store.get(pk, sk)
    response: dict[str, Any] = {}
    if item is not None:
        response["Item"] = projection.apply(item) if projection is not None else item
    if capacity_mode in ("TOTAL", "INDEXES"):
        units = read_units(item_size(item) if item else 0, consistent)
        response["ConsumedCapacity"] = consumed(capacity_mode, table.name, units)
    return response
