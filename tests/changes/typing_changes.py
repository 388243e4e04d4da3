"""Static type cases of change events, checked by mypy --strict in test_changes_typing.py
(not a test module: nothing here runs under pytest)."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Any, assert_type

from singletable import DB, Entity, Keys, Table
from singletable.changes import Change, ChangeHandler, ChangeParser, UnknownChange

app = Table("typing_changes", stream="NEW_AND_OLD_IMAGES")


class Order(Entity, table=app):
    order_id: str
    total: Decimal
    keys = Keys(pk="O#{order_id}", sk="O")


class Customer(Entity, table=app):
    customer_id: str
    keys = Keys(pk="C#{customer_id}", sk="C")


def _subscribe(db: DB) -> None:
    def on_order(change: Change[Order]) -> None:
        assert_type(change.new, Order | None)
        assert_type(change.old, Order | None)
        assert_type(change.entity, type[Order])
        if change.new is not None:
            assert_type(change.new.total, Decimal)

    db.subscribe(on_order, entities=[Order])


def _handler(handler: ChangeHandler) -> None:
    @handler.on(Customer)
    def on_customer(change: Change[Customer]) -> None:
        assert_type(change.new, Customer | None)

    assert_type(on_customer, Callable[[Change[Customer]], object])


def _parse(parser: ChangeParser, record: dict[str, object]) -> None:
    change = parser.parse(record)
    if isinstance(change, UnknownChange):
        assert_type(change.entity, None)
    else:
        assert_type(change, Change[Any])
