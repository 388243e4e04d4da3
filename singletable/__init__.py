"""singletable: DynamoDB single-table design for Python.

Declare a :class:`Table`, bind Pydantic :class:`Entity` models to it with key
templates (:class:`Keys`) and access patterns (:class:`Query`, :class:`Collection`),
and run them through :class:`DB` (sync) or :class:`AsyncDB` (async) on any
backend: the embedded engine (the default), boto3 or aioboto3::

    from singletable import DB, Entity, Keys, Query, Table

    app = Table("app")

    class Order(Entity, table=app):
        customer_id: str
        order_id: str
        keys = Keys(pk="CUSTOMER#{customer_id}", sk="ORDER#{order_id}")
        for_customer = Query()

    db = DB()                      # the embedded engine, in memory
    db.create_table(app)
    db.put(Order(customer_id="c1", order_id="o1"))
    orders = db.query(Order.for_customer, customer_id="c1").all()

The embedded engine itself is :mod:`singletable.backends.local`; boto3 routing for
test suites is :mod:`singletable.testing`; the HTTP endpoint is :mod:`singletable.server`.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from singletable.conditions import Condition, FieldPath, attribute
    from singletable.db import DB, AsyncDB
    from singletable.entity import TTL, CreatedAt, Entity, Keys, Unique, UpdatedAt, Version
    from singletable.errors import (
        AccessError,
        BackendError,
        ConditionFailedError,
        CursorError,
        DynamoDBServiceError,
        InvalidValueError,
        ItemNotFoundError,
        ItemValidationError,
        ModelError,
        RequestError,
        SingletableError,
        TableInUseError,
        TableNotFoundError,
        ThrottledError,
        TransactionCanceledError,
        TransactionConflictError,
        UniqueConstraintError,
        UnknownKeywordError,
        VersionConflictError,
    )
    from singletable.patterns import Collection, Query
    from singletable.table import GlobalIndex, LocalIndex, Table
    from singletable.updates import Update, if_not_exists

_LAZY = {
    "AccessError": "singletable.errors",
    "AsyncDB": "singletable.db",
    "BackendError": "singletable.errors",
    "Collection": "singletable.patterns",
    "Condition": "singletable.conditions",
    "ConditionFailedError": "singletable.errors",
    "CreatedAt": "singletable.entity",
    "CursorError": "singletable.errors",
    "DB": "singletable.db",
    "DynamoDBServiceError": "singletable.errors",
    "Entity": "singletable.entity",
    "FieldPath": "singletable.conditions",
    "GlobalIndex": "singletable.table",
    "InvalidValueError": "singletable.errors",
    "ItemNotFoundError": "singletable.errors",
    "ItemValidationError": "singletable.errors",
    "Keys": "singletable.entity",
    "LocalIndex": "singletable.table",
    "ModelError": "singletable.errors",
    "Query": "singletable.patterns",
    "RequestError": "singletable.errors",
    "SingletableError": "singletable.errors",
    "TTL": "singletable.entity",
    "Table": "singletable.table",
    "TableInUseError": "singletable.errors",
    "TableNotFoundError": "singletable.errors",
    "ThrottledError": "singletable.errors",
    "TransactionCanceledError": "singletable.errors",
    "TransactionConflictError": "singletable.errors",
    "Unique": "singletable.entity",
    "UniqueConstraintError": "singletable.errors",
    "UnknownKeywordError": "singletable.errors",
    "VersionConflictError": "singletable.errors",
    "Update": "singletable.updates",
    "UpdatedAt": "singletable.entity",
    "Version": "singletable.entity",
    "attribute": "singletable.conditions",
    "if_not_exists": "singletable.updates",
}

__all__ = [
    "DB",
    "TTL",
    "AccessError",
    "AsyncDB",
    "BackendError",
    "Collection",
    "Condition",
    "ConditionFailedError",
    "CreatedAt",
    "CursorError",
    "DynamoDBServiceError",
    "Entity",
    "FieldPath",
    "GlobalIndex",
    "InvalidValueError",
    "ItemNotFoundError",
    "ItemValidationError",
    "Keys",
    "LocalIndex",
    "ModelError",
    "Query",
    "RequestError",
    "SingletableError",
    "Table",
    "TableInUseError",
    "TableNotFoundError",
    "ThrottledError",
    "TransactionCanceledError",
    "TransactionConflictError",
    "Unique",
    "UniqueConstraintError",
    "UnknownKeywordError",
    "Update",
    "UpdatedAt",
    "Version",
    "VersionConflictError",
    "attribute",
    "if_not_exists",
]
__version__ = "0.1.0"


def __getattr__(name: str) -> Any:
    """Import the public names lazily: ``import singletable.server`` (the HTTP endpoint,
    the CLI) must not pay for the modelling layer's imports (pydantic)."""
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'singletable' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value
