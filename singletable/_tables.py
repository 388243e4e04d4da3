"""The modelling layer's table operations, each one sans-I/O flow (see :mod:`._flows`):
creating a table with every index (and TTL) the model needs, and deleting it."""

from __future__ import annotations

from typing import TYPE_CHECKING

from singletable._flows import SLEEP, Flow
from singletable.errors import RequestError, TableInUseError

if TYPE_CHECKING:
    from singletable.table import Table

__all__ = ["create_table", "delete_table"]


def create_table(table: Table, *, exist_ok: bool = False) -> Flow[bool]:
    """CreateTable with every index the model needs, then TTL on the table's TTL
    attribute if it has one; False if the table existed (``exist_ok``)."""
    created = True
    try:
        yield "CreateTable", table.create_table_request()
    except TableInUseError:
        if not exist_ok:
            raise
        created = False
    if table.ttl_attribute is not None:
        # DynamoDB refuses UpdateTimeToLive while the table is CREATING: wait for ACTIVE
        # (the local engine creates tables ACTIVE, so this costs one DescribeTable there).
        for attempt in range(1, 121):
            described = yield "DescribeTable", {"TableName": table.name}
            if described.get("Table", {}).get("TableStatus") == "ACTIVE":
                break
            yield SLEEP, {"seconds": min(2.0, 0.1 * attempt)}
        request = {
            "TableName": table.name,
            "TimeToLiveSpecification": {"Enabled": True, "AttributeName": table.ttl_attribute},
        }
        try:
            yield "UpdateTimeToLive", request
        except RequestError as error:
            if created or "already enabled" not in error.message:
                raise  # an existing table with TTL already on is fine
    return created


def delete_table(table: Table) -> Flow[None]:
    """DeleteTable."""
    yield "DeleteTable", {"TableName": table.name}
