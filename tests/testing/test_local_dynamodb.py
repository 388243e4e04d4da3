"""``local_dynamodb`` as a replacement for moto's ``mock_aws``: every form of use,
every client (created before or inside, sync or async), other services, moto alongside.
"""

from __future__ import annotations

import asyncio
import io
import unittest
from typing import Any

import aioboto3
import boto3
import botocore.config
import botocore.exceptions
import pytest
from aiobotocore.awsrequest import AioAWSResponse
from botocore.awsrequest import AWSResponse
from moto import mock_aws
from moto.backends import get_backend
from pynamodb.attributes import NumberAttribute, UnicodeAttribute
from pynamodb.models import Model

from singletable.backends.local import LocalEngine
from singletable.testing import UnmockedServiceError, local_dynamodb

REGION = "us-east-1"
MOTO_ACCOUNT = "123456789012"


def _create(client: Any, name: str = "orders") -> None:
    client.create_table(
        TableName=name,
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )


def _tables(client: Any) -> list[str]:
    return list(client.list_tables()["TableNames"])


class _Raw:
    def __init__(self, data: bytes) -> None:
        self._data = data

    def stream(self, **_: Any) -> Any:
        yield self._data

    async def read(self) -> bytes:  # aiobotocore's AioAWSResponse awaits raw.read()
        return self._data


class Wire:
    """A ``before-send`` handler that stands for the network: records, answers canned JSON."""

    response_class: Any = AWSResponse

    def __init__(self, body: bytes = b'{"TableNames": ["wire"]}') -> None:
        self.requests: list[Any] = []
        self.body = body

    def __call__(self, request: Any, **_: Any) -> AWSResponse:
        self.requests.append(request)
        headers: Any = {}
        return self.response_class(request.url, 200, headers, _Raw(self.body))


class AioWire(Wire):
    """The same for aiobotocore, which awaits a response's body."""

    response_class = AioAWSResponse


# -- forms of use -------------------------------------------------------------------


def test_async_function_decorator_gives_each_call_a_fresh_engine() -> None:
    seen: list[list[str]] = []

    @local_dynamodb
    async def work(name: str) -> str:
        async with aioboto3.Session().client("dynamodb", region_name=REGION) as client:
            seen.append((await client.list_tables())["TableNames"])
            await client.create_table(
                TableName=name,
                KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
                AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
                BillingMode="PAY_PER_REQUEST",
            )
            return str((await client.describe_table(TableName=name))["Table"]["TableName"])

    assert asyncio.run(work("first")) == "first"
    assert asyncio.run(work("second")) == "second"
    assert seen == [[], []]
    assert work.__name__ == "work"


def test_async_with() -> None:
    async def work() -> list[str]:
        async with local_dynamodb() as engine:
            engine.call("CreateTable", _table_request("orders"))
            return _tables(boto3.client("dynamodb", region_name=REGION))

    assert asyncio.run(work()) == ["orders"]


def _table_request(name: str) -> dict[str, Any]:
    return {
        "TableName": name,
        "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}],
        "AttributeDefinitions": [{"AttributeName": "pk", "AttributeType": "S"}],
        "BillingMode": "PAY_PER_REQUEST",
    }


# --8<-- [start:start-stop]
def test_start_and_stop() -> None:
    client = boto3.client("dynamodb", region_name=REGION)
    wire = Wire()
    client.meta.events.register("before-send", wire)
    manager = local_dynamodb()
    engine = manager.start()
    assert isinstance(engine, LocalEngine)
    _create(client)
    assert _tables(client) == ["orders"]
    again = manager.start()  # stacks a second, fresh engine
    assert again is not engine and _tables(client) == []
    manager.stop()
    assert _tables(client) == ["orders"]
    manager.stop()
    assert _tables(client) == ["wire"]  # stopped: goes out again
    with pytest.raises(RuntimeError, match="without a matching start"):
        manager.stop()


# --8<-- [end:start-stop]


def test_nested_contexts_are_separate_engines_unless_shared() -> None:
    client = boto3.client("dynamodb", region_name=REGION)
    with local_dynamodb() as outer:
        _create(client, "outer")
        with local_dynamodb():
            assert _tables(client) == []
        with local_dynamodb(engine=outer):
            assert _tables(client) == ["outer"]
        assert _tables(client) == ["outer"]


def test_a_decorated_function_called_inside_a_context_gets_its_own_engine() -> None:
    @local_dynamodb
    def helper() -> list[str]:
        return _tables(boto3.client("dynamodb", region_name=REGION))

    with local_dynamodb():
        _create(boto3.client("dynamodb", region_name=REGION))
        assert helper() == []


# -- class decoration -----------------------------------------------------------------


@local_dynamodb
class _UnitOrders(unittest.TestCase):
    """Run by the test below with unittest's own runner (not collected by pytest)."""

    seen: list[tuple[str, list[str]]] = []

    def setUp(self) -> None:
        self.client = boto3.client("dynamodb", region_name=REGION)
        self.seen.append(("setUp", _tables(self.client)))
        _create(self.client)

    def tearDown(self) -> None:
        self.seen.append(("tearDown", _tables(self.client)))

    def helper(self) -> list[str]:
        return _tables(self.client)

    def test_one(self) -> None:
        self.client.put_item(TableName="orders", Item={"pk": {"S": "one"}})
        self.seen.append(("test_one", self.helper()))

    def test_two(self) -> None:
        count = self.client.scan(TableName="orders")["Count"]
        self.seen.append(("test_two", [str(count)]))


def test_unittest_class_one_engine_per_test_shared_by_setup_and_teardown() -> None:
    _UnitOrders.seen.clear()
    result = unittest.TextTestRunner(stream=io.StringIO(), verbosity=0).run(
        unittest.defaultTestLoader.loadTestsFromTestCase(_UnitOrders)
    )
    assert result.wasSuccessful(), result.errors + result.failures
    assert _UnitOrders.seen == [
        ("setUp", []),  # a fresh engine for each test
        ("test_one", ["orders"]),  # setUp's table, seen from the test and its helper
        ("tearDown", ["orders"]),
        ("setUp", []),
        ("test_two", ["0"]),  # test_one's item is gone
        ("tearDown", ["orders"]),
    ]


@local_dynamodb
class _AsyncOrders(unittest.IsolatedAsyncioTestCase):
    async def asyncSetUp(self) -> None:
        self.session = aioboto3.Session()
        async with self.session.client("dynamodb", region_name=REGION) as client:
            await client.create_table(**_table_request("orders"))

    async def test_put_and_get(self) -> None:
        async with self.session.client("dynamodb", region_name=REGION) as client:
            await client.put_item(TableName="orders", Item={"pk": {"S": "a"}})
            got = await client.get_item(TableName="orders", Key={"pk": {"S": "a"}})
            assert got["Item"] == {"pk": {"S": "a"}}


def test_isolated_asyncio_test_case() -> None:
    result = unittest.TextTestRunner(stream=io.StringIO(), verbosity=0).run(
        unittest.defaultTestLoader.loadTestsFromTestCase(_AsyncOrders)
    )
    assert result.wasSuccessful(), result.errors + result.failures
    assert result.testsRun == 1


@local_dynamodb
class TestPytestClass:
    """A plain pytest class, collected and run by pytest itself."""

    def setup_method(self, method: Any) -> None:
        self.client = boto3.client("dynamodb", region_name=REGION)
        assert _tables(self.client) == []  # fresh per test
        _create(self.client)

    def teardown_method(self, method: Any) -> None:
        assert _tables(self.client) == ["orders"]

    @staticmethod
    def items(client: Any) -> int:  # static: left alone
        return int(client.scan(TableName="orders")["Count"])

    @pytest.fixture
    def item(self) -> dict[str, Any]:  # a fixture: left alone
        return {"pk": {"S": "a"}}

    def test_setup_tables_are_there(self, item: dict[str, Any]) -> None:
        self.client.put_item(TableName="orders", Item=item)
        assert self.items(self.client) == 1

    def test_and_the_next_test_starts_empty(self) -> None:
        assert self.items(self.client) == 0


@local_dynamodb
class TestSetupMethodWithoutArgument:
    """pytest passes ``method`` only to a setup_method that takes it (moto's wrapper breaks this)."""

    def setup_method(self) -> None:
        _create(boto3.client("dynamodb", region_name=REGION))

    def test_setup_ran_on_this_tests_engine(self) -> None:
        assert _tables(boto3.client("dynamodb", region_name=REGION)) == ["orders"]


def test_pytest_class_methods_share_the_engine_of_their_test() -> None:
    first, second = TestPytestClass(), TestPytestClass()
    first.setup_method(None)
    second.setup_method(None)  # another test: another engine
    first.test_setup_tables_are_there({"pk": {"S": "a"}})  # setup_method's table is there
    with pytest.raises(AssertionError):  # the same test's engine: the item is there
        first.test_and_the_next_test_starts_empty()
    second.test_and_the_next_test_starts_empty()
    first.teardown_method(None)
    assert "__singletable_local_dynamodb__" not in vars(TestPytestClass)["items"].__func__.__dict__


# -- which clients are routed -----------------------------------------------------------


class Order(Model):
    class Meta:
        table_name = "pynamodb-orders"
        region = REGION

    pk = UnicodeAttribute(hash_key=True)
    total = NumberAttribute(default=0)


def test_pynamodb_connection_made_before_is_routed_inside_only() -> None:
    client = (
        Order._get_connection().connection.client
    )  # PynamoDB's cached botocore client, made now
    wire = Wire()
    client.meta.events.register("before-send", wire)
    with local_dynamodb() as engine:
        Order.create_table(billing_mode="PAY_PER_REQUEST", wait=True)
        Order(pk="o1", total=3).save()
        assert Order.get("o1").total == 3
        assert engine.call("Scan", {"TableName": "pynamodb-orders"})["Count"] == 1
    # after: not routed (answered by the stand-in for the network)
    assert client.list_tables()["TableNames"] == ["wire"]


def test_aioboto3_client_made_before_is_routed_inside_only() -> None:
    async def work() -> tuple[list[str], list[str], list[str]]:
        wire = AioWire()
        async with aioboto3.Session().client("dynamodb", region_name=REGION) as client:
            client.meta.events.register("before-send", wire)
            before = (await client.list_tables())["TableNames"]
            async with local_dynamodb():
                await client.create_table(**_table_request("orders"))
                inside = (await client.list_tables())["TableNames"]
            after = (await client.list_tables())["TableNames"]
        return before, inside, after

    assert asyncio.run(work()) == (["wire"], ["orders"], ["wire"])


def test_aioboto3_errors_are_client_errors() -> None:
    async def work() -> dict[str, Any]:
        async with local_dynamodb(), aioboto3.Session().client("dynamodb") as client:
            try:
                await client.describe_table(TableName="missing")
            except client.exceptions.ResourceNotFoundException as error:
                return dict(error.response["Error"])
        raise AssertionError("no error")

    assert asyncio.run(work())["Code"] == "ResourceNotFoundException"


def test_each_client_region_has_its_own_tables() -> None:
    with local_dynamodb() as engine:
        _create(boto3.client("dynamodb", region_name="eu-west-1"))
        assert _tables(boto3.client("dynamodb", region_name="eu-west-1")) == ["orders"]
        assert _tables(boto3.client("dynamodb", region_name="us-east-1")) == []
        assert engine.call("ListTables", {}, region="eu-west-1")["TableNames"] == ["orders"]


def test_shared_regions_share_one_catalog() -> None:
    with local_dynamodb(engine=LocalEngine(shared_regions=True)) as engine:
        _create(boto3.client("dynamodb", region_name="us-east-1"))
        assert _tables(boto3.client("dynamodb", region_name="eu-west-1")) == ["orders"]
    engine.close()


def test_aioboto3_clients_use_their_region() -> None:
    async def work() -> list[str]:
        session = aioboto3.Session()
        async with session.client("dynamodb", region_name="eu-west-1") as client:
            names: list[str] = (await client.list_tables())["TableNames"]
            return names

    with local_dynamodb() as engine:
        _create(boto3.client("dynamodb", region_name="eu-west-1"))
        assert asyncio.run(work()) == ["orders"]
        assert engine.call("ListTables", {})["TableNames"] == []


# -- other services -----------------------------------------------------------------------


def test_other_services_are_refused_with_a_clear_error() -> None:
    early_sqs = boto3.client("sqs", region_name=REGION)  # made before: refused too
    with local_dynamodb():
        with pytest.raises(UnmockedServiceError) as caught:
            boto3.client("s3", region_name=REGION).list_buckets()
        message = str(caught.value)
        assert caught.value.service == "s3"
        assert "'s3'" in message and "mock_aws" in message and "endpoint_url" in message
        with pytest.raises(UnmockedServiceError, match="'sqs'"):
            early_sqs.list_queues()


def test_other_services_are_refused_for_aioboto3_too() -> None:
    async def work() -> None:
        async with local_dynamodb(), aioboto3.Session().client("sqs", region_name=REGION) as sqs:
            await sqs.list_queues()

    with pytest.raises(UnmockedServiceError, match="'sqs'"):
        asyncio.run(work())


def test_loopback_endpoints_are_let_through() -> None:
    config = botocore.config.Config(retries={"max_attempts": 0}, connect_timeout=2)
    s3 = boto3.client("s3", endpoint_url="http://127.0.0.1:9", config=config)
    with local_dynamodb(), pytest.raises(botocore.exceptions.EndpointConnectionError):
        s3.list_buckets()  # sent (nothing listens on port 9), not refused


def test_refusal_ends_with_the_context() -> None:
    wire = Wire(b"<ListAllMyBucketsResult></ListAllMyBucketsResult>")
    s3 = boto3.client("s3", region_name=REGION)
    with local_dynamodb(), pytest.raises(UnmockedServiceError):
        s3.list_buckets()
    s3.meta.events.register("before-send", wire)
    s3.list_buckets()  # answered by the stand-in, no refusal outside
    assert len(wire.requests) == 1


# -- with moto's mock_aws ------------------------------------------------------------------


def _moto_tables() -> list[str]:
    return list(get_backend("dynamodb")[MOTO_ACCOUNT][REGION].tables)


def _bucket_round_trip() -> list[str]:
    s3 = boto3.client("s3", region_name=REGION)
    s3.create_bucket(Bucket="singletable-bucket")
    return [bucket["Name"] for bucket in s3.list_buckets()["Buckets"]]


def test_moto_outside_serves_other_services_and_dynamodb_stays_local() -> None:
    with mock_aws():
        client = boto3.client("dynamodb", region_name=REGION)
        with local_dynamodb() as engine:
            _create(client, "local-table")
            streams = boto3.client("dynamodbstreams", region_name=REGION)
            assert streams.list_streams()["Streams"] == []
            assert _bucket_round_trip() == ["singletable-bucket"]
            assert _moto_tables() == []  # moto never saw the DynamoDB requests
        assert engine.call("ListTables", {})["TableNames"] == ["local-table"]
        assert _tables(client) == []  # moto's own, after the inner context
        _create(client, "moto-table")
        assert _moto_tables() == ["moto-table"]


# --8<-- [start:moto-inside]
def test_moto_inside_serves_other_services_and_dynamodb_stays_local() -> None:
    with local_dynamodb() as engine:
        client = boto3.client("dynamodb", region_name=REGION)
        with mock_aws():
            _create(client, "local-table")
            assert _bucket_round_trip() == ["singletable-bucket"]
            assert _moto_tables() == []
        assert _tables(client) == ["local-table"]
        with pytest.raises(UnmockedServiceError):  # moto gone: refused again
            boto3.client("s3", region_name=REGION).list_buckets()
    assert engine.call("ListTables", {})["TableNames"] == ["local-table"]


# --8<-- [end:moto-inside]


def test_routed_bodies_reach_the_engine_as_text_and_bytes_that_are_not_utf8_as_sent() -> None:
    # botocore sends ASCII JSON; the routing hands it to the engine as text. A body
    # that is not UTF-8 (only a handler of the caller's could send one) still gets
    # the engine's answer to it, not an exception from the routing.
    with local_dynamodb() as engine:
        client = boto3.client("dynamodb", region_name=REGION)
        _create(client)
        seen: list[Any] = []
        call_json = engine.call_json

        def spy(operation: str, body: Any, **kwargs: Any) -> Any:
            seen.append(body)
            return call_json(operation, body, **kwargs)

        engine.call_json = spy  # type: ignore[method-assign]
        client.put_item(TableName="orders", Item={"pk": {"S": "é"}})
        assert seen == ['{"TableName": "orders", "Item": {"pk": {"S": "\\u00e9"}}}']

        def garble(request: Any, **_: Any) -> None:
            request.body = b'{"TableName": "orders", "Key": {"pk": {"S": "\xff"}}}'

        client.meta.events.register_first("before-send.dynamodb.GetItem", garble)
        with pytest.raises(botocore.exceptions.ClientError) as raised:
            client.get_item(TableName="orders", Key={"pk": {"S": "x"}})
        assert raised.value.response["Error"]["Code"] == "SerializationException"
        assert seen[-1] == b'{"TableName": "orders", "Key": {"pk": {"S": "\xff"}}}'
