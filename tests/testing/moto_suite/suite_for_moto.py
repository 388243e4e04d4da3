"""A test module written for moto's ``mock_aws`` (the "before" of the migration page).

tests/testing/test_moto_suite.py runs it twice in a fresh interpreter: as it is,
under moto, and converted by replacing ``mock_aws`` with ``local_dynamodb``
(the import line and the decorators, nothing else). ``orders_app`` is imported
first, so its clients exist before either mock is even imported.
"""

# --8<-- [start:suite]
import asyncio
import unittest
from decimal import Decimal

import orders_app  # creates its clients at import time
from moto import mock_aws


@mock_aws
class TestOrders(unittest.TestCase):
    def setUp(self) -> None:
        orders_app.create_orders_table()

    def tearDown(self) -> None:
        orders_app.client.delete_table(TableName="orders")

    def test_totals(self) -> None:
        orders_app.place_order("ada", "o1", Decimal("12.50"))
        orders_app.place_order("ada", "o2", Decimal("7.50"))
        orders_app.place_order("bob", "o3", Decimal("1"))
        self.assertEqual(orders_app.customer_total("ada"), Decimal("20"))

    def test_an_order_is_placed_once(self) -> None:
        orders_app.place_order("ada", "o1", Decimal("1"))
        with self.assertRaises(orders_app.client.exceptions.ConditionalCheckFailedException):
            orders_app.place_order("ada", "o1", Decimal("2"))

    def test_starts_empty(self) -> None:
        self.assertEqual(orders_app.customer_total("ada"), Decimal("0"))


@mock_aws
class TestCustomers:
    def setup_method(self, method: object) -> None:
        orders_app.Customer.create_table(wait=True)

    def test_find_by_email(self) -> None:
        orders_app.Customer(customer_id="c1", email="ada@example.com").save()
        found = list(orders_app.Customer.by_email.query("ada@example.com"))
        assert [c.customer_id for c in found] == ["c1"]

    def test_visits_are_counted(self) -> None:
        customer = orders_app.Customer(customer_id="c1", email="ada@example.com")
        customer.save()
        customer.update(actions=[orders_app.Customer.visits.add(1)])
        assert orders_app.Customer.get("c1").visits == 1

    def test_each_test_starts_empty(self) -> None:
        assert orders_app.Customer.count() == 0


@mock_aws
def test_loyalty_points_async() -> None:
    service = orders_app.LoyaltyService()

    async def scenario() -> list[int]:
        await service.create_table()
        return [await service.add_points("ada", 10), await service.add_points("ada", 5)]

    assert asyncio.run(scenario()) == [10, 15]


# --8<-- [end:suite]
