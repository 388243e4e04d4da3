"""``singletable.testing.local_dynamodb()``: unmodified boto3 code routed to the engine.

Two halves. The routing mechanics (what is routed, what is not, nesting,
threads, credentials, the response's headers) use a recording fake engine, so
they check the routing alone. The rest drives the real ``LocalEngine`` through
boto3's client API, resource API, conditions, paginators, waiters and
``batch_writer``, and checks that engine errors arrive as botocore
``ClientError`` with the engine's code and message.
"""

from __future__ import annotations

import json
import os
import threading
import zlib
from collections.abc import Iterator
from typing import Any

import boto3
import botocore
import botocore.credentials
import botocore.handlers
import botocore.session
import pytest
from boto3.dynamodb.conditions import Attr, Key
from botocore.awsrequest import AWSResponse
from botocore.exceptions import ClientError
from ddbtest import REGION

from singletable.backends.local import DynamoDBError, LocalEngine
from singletable.testing import LocalDynamoDB, local_dynamodb, route

# -- helpers ------------------------------------------------------------------------


class FakeEngine:
    """Records every call; answers DescribeTable, fails on a table named ``missing``."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, dict[str, Any]]] = []
        self.error: Exception | None = None

    def call_json(self, operation: str, body: bytes | str) -> tuple[int, bytes]:
        try:
            response = self.call(operation, json.loads(body) if body else {})
        except DynamoDBError as error:
            return error.status_code, json.dumps(error.to_response()).encode()
        return 200, json.dumps(response).encode()

    def call(self, operation: str, request: dict[str, Any]) -> dict[str, Any]:
        self.calls.append((operation, request))
        if self.error is not None:
            raise self.error
        if request.get("TableName") == "missing":
            raise DynamoDBError("ResourceNotFoundException", "Requested resource not found")
        return {"Table": {"TableName": request.get("TableName", "?"), "TableStatus": "ACTIVE"}}


class _Raw:
    def __init__(self, data: bytes) -> None:
        self._data = data

    def stream(self, **_: Any) -> Iterator[bytes]:
        yield self._data


class Wire:
    """A ``before-send`` handler registered after ours: sees what would go on the wire.

    It answers with a canned body (``{"Table": {"TableName": "wire"}}``, or an
    S3 XML list), so a request that reached it shows up in the result.
    """

    def __init__(self) -> None:
        self.requests: list[Any] = []

    def __call__(self, request: Any, **_: Any) -> AWSResponse:
        self.requests.append(request)
        if "amazonaws.com" in request.url and "s3" in request.url:
            body = b"<ListAllMyBucketsResult></ListAllMyBucketsResult>"
        else:
            body = b'{"Table": {"TableName": "wire"}}'
        headers: Any = {}
        return AWSResponse(request.url, 200, headers, _Raw(body))

    def attach(self, client: Any) -> Any:
        client.meta.events.register("before-send", self)
        return client


def _described(client: Any, name: str = "tbl") -> str:
    return str(client.describe_table(TableName=name)["Table"]["TableName"])


@pytest.fixture
def fake() -> Iterator[FakeEngine]:
    """A fake engine routed to for the duration of the test."""
    engine = FakeEngine()
    with local_dynamodb(engine=engine):
        yield engine


@pytest.fixture
def local() -> Iterator[LocalEngine]:
    """A fresh real engine routed to for the duration of the test."""
    with local_dynamodb() as engine:
        yield engine


# -- mechanics ----------------------------------------------------------------------


def test_client_requests_reach_the_engine_as_wire_requests(fake: FakeEngine) -> None:
    client = boto3.client("dynamodb", region_name=REGION)
    client.get_item(TableName="tbl", Key={"PK": {"S": "a"}, "n": {"N": "1.50"}})
    assert fake.calls == [
        ("GetItem", {"TableName": "tbl", "Key": {"PK": {"S": "a"}, "n": {"N": "1.50"}}})
    ]


def test_streams_client_is_routed(fake: FakeEngine) -> None:
    client = boto3.client("dynamodbstreams", region_name=REGION)
    client.list_streams(TableName="orders")
    assert fake.calls == [("ListStreams", {"TableName": "orders"})]


def test_response_has_request_id_and_correct_crc32(fake: FakeEngine) -> None:
    client = boto3.client("dynamodb", region_name=REGION)
    seen: list[Any] = []
    client.meta.events.register("after-call", lambda http_response, **_: seen.append(http_response))
    response = client.describe_table(TableName="tbl")
    headers = seen[0].headers
    assert int(headers["x-amz-crc32"]) == zlib.crc32(seen[0].content)
    assert headers["content-type"] == "application/x-amz-json-1.0"
    request_id = response["ResponseMetadata"]["RequestId"]
    assert len(request_id) == 52 and request_id.isalnum() and request_id.upper() == request_id
    assert response["ResponseMetadata"]["RetryAttempts"] == 0


def test_each_request_gets_its_own_request_id(fake: FakeEngine) -> None:
    client = boto3.client("dynamodb", region_name=REGION)
    ids = {
        client.describe_table(TableName="tbl")["ResponseMetadata"]["RequestId"] for _ in range(3)
    }
    assert len(ids) == 3


def test_engine_error_becomes_client_error(fake: FakeEngine) -> None:
    client = boto3.client("dynamodb", region_name=REGION)
    with pytest.raises(client.exceptions.ResourceNotFoundException) as caught:
        client.describe_table(TableName="missing")
    response = caught.value.response
    assert response["Error"] == {
        "Code": "ResourceNotFoundException",
        "Message": "Requested resource not found",
    }
    assert response["ResponseMetadata"]["HTTPStatusCode"] == 400
    assert len(fake.calls) == 1  # a client error is not retried


def test_server_error_status_is_passed_on(fake: FakeEngine) -> None:
    fake.error = DynamoDBError("InternalServerError", "boom")
    client = boto3.client(
        "dynamodb", region_name=REGION, config=botocore.config.Config(retries={"max_attempts": 0})
    )
    with pytest.raises(ClientError) as caught:
        client.describe_table(TableName="tbl")
    assert caught.value.response["ResponseMetadata"]["HTTPStatusCode"] == 500
    assert caught.value.response["Error"]["Code"] == "InternalServerError"


def test_engine_bug_surfaces_as_itself_and_is_not_retried(fake: FakeEngine) -> None:
    fake.error = RuntimeError("engine bug")
    client = boto3.client("dynamodb", region_name=REGION)
    with pytest.raises(RuntimeError, match="engine bug"):
        client.describe_table(TableName="tbl")
    assert len(fake.calls) == 1


def test_requests_outside_the_context_go_out_untouched() -> None:
    wire = Wire()
    client = wire.attach(boto3.client("dynamodb", region_name=REGION))
    engine = FakeEngine()
    assert _described(client) == "wire"
    with local_dynamodb(engine=engine):
        inside = wire.attach(boto3.client("dynamodb", region_name=REGION))
        assert _described(inside) == "tbl"
        assert "Authorization" not in wire.requests[-1].headers  # routed requests are unsigned
    assert _described(inside) == "wire"  # a client made inside, used after the exit
    assert "Authorization" in wire.requests[-1].headers  # signed as usual
    assert wire.requests[-1].headers["X-Amz-Target"] == b"DynamoDB_20120810.DescribeTable"
    assert len(engine.calls) == 1


def test_other_services_are_not_routed(fake: FakeEngine) -> None:
    wire = Wire()
    s3 = wire.attach(boto3.client("s3", region_name=REGION))
    s3.list_buckets()
    assert fake.calls == []
    assert "Authorization" in wire.requests[-1].headers


def test_resource_is_routed(fake: FakeEngine) -> None:
    boto3.resource("dynamodb", region_name=REGION).Table("tbl").load()
    assert fake.calls == [("DescribeTable", {"TableName": "tbl"})]


def test_new_sessions_are_routed(fake: FakeEngine) -> None:
    session = boto3.Session(region_name=REGION)
    assert _described(session.client("dynamodb")) == "tbl"
    assert _described(botocore.session.get_session().create_client("dynamodb", REGION)) == "tbl"
    assert len(fake.calls) == 2


def test_existing_default_session_is_routed_exactly_once() -> None:
    boto3.setup_default_session(region_name=REGION)  # created before the context
    for _ in range(2):  # entering twice must not register the handlers twice
        engine = FakeEngine()
        with local_dynamodb(engine=engine):
            _described(boto3.client("dynamodb"))
        assert len(engine.calls) == 1


def _without_routing(monkeypatch: pytest.MonkeyPatch) -> None:
    """Make sessions as if created before ``singletable.testing`` installed its handlers."""
    builtin = [
        h
        for h in botocore.handlers.BUILTIN_HANDLERS
        if not h[1].__module__.startswith("singletable._testing")
    ]
    monkeypatch.setattr(botocore.handlers, "BUILTIN_HANDLERS", builtin)


def test_clients_made_before_the_handlers_were_installed_are_routed(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    with monkeypatch.context() as patch:
        _without_routing(patch)
        wire = Wire()
        session = boto3.Session(region_name=REGION)
        client = wire.attach(session.client("dynamodb"))
        resource = session.resource("dynamodb")
        wire.attach(resource.meta.client)
        other = boto3.Session(region_name=REGION)
    assert _described(client) == "wire"  # before: goes out
    with local_dynamodb(engine=FakeEngine()) as engine:
        assert _described(client) == "tbl"  # no route() needed
        route(client)  # still accepted, and harmless: one engine call per request
        route(resource)
        route(other)
        assert _described(client) == "tbl"
        assert resource.Table("tbl").table_status == "ACTIVE"
        assert _described(other.client("dynamodb")) == "tbl"
        assert len(engine.calls) == 4
    assert _described(client) == "wire"  # after: goes out again, signed
    assert "Authorization" in wire.requests[-1].headers


def test_route_rejects_other_objects() -> None:
    with pytest.raises(TypeError, match="cannot route"):
        route(object())


def test_nested_contexts_innermost_wins() -> None:
    outer, inner = FakeEngine(), FakeEngine()
    client = boto3.client("dynamodb", region_name=REGION)
    with local_dynamodb(engine=outer) as got_outer:
        assert got_outer is outer
        _described(client)
        with local_dynamodb(engine=inner):
            _described(client)
        _described(client)
    assert [len(outer.calls), len(inner.calls)] == [2, 1]


def test_contexts_exited_out_of_order() -> None:
    first, second = FakeEngine(), FakeEngine()
    client = boto3.client("dynamodb", region_name=REGION)
    a, b = local_dynamodb(engine=first), local_dynamodb(engine=second)
    a.__enter__()
    b.__enter__()
    a.__exit__(None, None, None)  # e.g. another thread's context ends first
    _described(client)
    b.__exit__(None, None, None)
    assert [len(first.calls), len(second.calls)] == [0, 1]


def test_other_threads_are_routed(fake: FakeEngine) -> None:
    errors: list[BaseException] = []

    def work() -> None:
        try:
            _described(boto3.Session(region_name=REGION).client("dynamodb"))
        except BaseException as error:  # pragma: no cover - reported below
            errors.append(error)

    threads = [threading.Thread(target=work) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert len(fake.calls) == 4


def test_no_credentials_or_region_needed(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"):
        monkeypatch.delenv(name)
    monkeypatch.delenv("AWS_DEFAULT_REGION")
    monkeypatch.delenv("AWS_REGION", raising=False)
    with local_dynamodb(engine=FakeEngine()) as engine:
        assert _described(boto3.Session().client("dynamodb")) == "tbl"
    assert len(engine.calls) == 1
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_DEFAULT_REGION"):
        assert name not in os.environ


def test_credentials_are_never_consulted(fake: FakeEngine) -> None:
    def fetch() -> dict[str, Any]:
        raise AssertionError("credentials were fetched (SSO or STS: network)")

    class Deferred(botocore.credentials.CredentialProvider):
        """Like an SSO profile: credentials fetched on first use."""

        METHOD = "test-deferred"

        def load(self) -> botocore.credentials.Credentials:
            return botocore.credentials.DeferredRefreshableCredentials(fetch, self.METHOD)

    session = botocore.session.get_session()
    session.get_component("credential_provider").insert_before("env", Deferred())
    assert _described(session.create_client("dynamodb", REGION)) == "tbl"


def test_existing_credentials_and_region_are_left_alone() -> None:
    before = {name: os.environ[name] for name in ("AWS_ACCESS_KEY_ID", "AWS_DEFAULT_REGION")}
    with local_dynamodb(engine=FakeEngine()):
        assert {name: os.environ[name] for name in before} == before


def test_decorator_gives_each_call_a_fresh_engine() -> None:
    seen: list[list[str]] = []

    @local_dynamodb
    def bare() -> None:
        client = boto3.client("dynamodb", region_name=REGION)
        seen.append(client.list_tables()["TableNames"])
        _create(client, "tbl")

    @local_dynamodb()
    def called() -> None:
        client = boto3.client("dynamodb", region_name=REGION)
        seen.append(client.list_tables()["TableNames"])
        _create(client, "other")

    bare()
    bare()
    called()
    called()
    assert seen == [[], [], [], []]
    assert bare.__name__ == "bare"


def test_decorator_with_a_given_engine_reuses_it() -> None:
    engine = FakeEngine()

    @local_dynamodb(engine=engine)
    def work() -> None:
        _described(boto3.client("dynamodb", region_name=REGION))

    work()
    work()
    assert len(engine.calls) == 2


def test_decorating_a_generator_function_is_refused() -> None:
    async def agen() -> Any:
        yield 1

    def gen() -> Any:
        yield 1

    for func in (agen, gen):
        with pytest.raises(TypeError, match="generator function"):
            local_dynamodb()(func)


def test_the_manager_is_typed_by_its_engine() -> None:
    manager = local_dynamodb()
    assert isinstance(manager, LocalDynamoDB)
    with manager as engine:
        assert isinstance(engine, LocalEngine)


@local_dynamodb
def test_a_pytest_test_can_be_decorated() -> None:
    client = boto3.client("dynamodb", region_name=REGION)
    _create(client, "tbl")
    assert client.list_tables()["TableNames"] == ["tbl"]


# -- the real engine through boto3 ---------------------------------------------------


def _create(client: Any, name: str = "tbl") -> None:
    client.create_table(
        TableName=name,
        KeySchema=[
            {"AttributeName": "PK", "KeyType": "HASH"},
            {"AttributeName": "SK", "KeyType": "RANGE"},
        ],
        AttributeDefinitions=[
            {"AttributeName": "PK", "AttributeType": "S"},
            {"AttributeName": "SK", "AttributeType": "S"},
        ],
        BillingMode="PAY_PER_REQUEST",
    )


def _orders(n: int) -> list[dict[str, Any]]:
    return [
        {"PK": {"S": "CUSTOMER#c1"}, "SK": {"S": f"ORDER#{i:03d}"}, "n": {"N": str(i)}}
        for i in range(n)
    ]


def test_client_api(local: LocalEngine) -> None:
    client = boto3.client("dynamodb", region_name=REGION)
    _create(client)
    client.put_item(TableName="tbl", Item={"PK": {"S": "a"}, "SK": {"S": "b"}, "n": {"N": "1.0"}})
    item = client.get_item(TableName="tbl", Key={"PK": {"S": "a"}, "SK": {"S": "b"}})["Item"]
    assert item == {"PK": {"S": "a"}, "SK": {"S": "b"}, "n": {"N": "1"}}
    direct = local.call(
        "GetItem", {"TableName": "tbl", "Key": {"PK": {"S": "a"}, "SK": {"S": "b"}}}
    )
    assert direct["Item"] == item  # the same engine as the one yielded


def test_conditional_failure_is_a_client_error(local: LocalEngine) -> None:
    client = boto3.client("dynamodb", region_name=REGION)
    _create(client)
    item = {"PK": {"S": "a"}, "SK": {"S": "b"}}
    client.put_item(TableName="tbl", Item=item)
    with pytest.raises(client.exceptions.ConditionalCheckFailedException) as caught:
        client.put_item(
            TableName="tbl",
            Item=item,
            ConditionExpression="attribute_not_exists(PK)",
            ReturnValuesOnConditionCheckFailure="ALL_OLD",
        )
    assert caught.value.response["Error"] == {
        "Code": "ConditionalCheckFailedException",
        "Message": "The conditional request failed",
    }
    response: Any = caught.value.response
    assert response["Item"] == item  # the error's extra member survives


@pytest.mark.parametrize(
    ("operation", "method", "request_"),
    [
        ("DescribeTable", "describe_table", {"TableName": "nope"}),
        ("GetItem", "get_item", {"TableName": "nope", "Key": {"PK": {"S": "a"}}}),
        ("GetItem", "get_item", {"TableName": "tbl", "Key": {"PK": {"S": "a"}}}),
        ("Query", "query", {"TableName": "tbl", "KeyConditionExpression": "PK = :v"}),
        (
            "PutItem",
            "put_item",
            {
                "TableName": "tbl",
                "Item": {"PK": {"S": "a"}, "SK": {"S": "b"}, "name": {"S": "x"}},
                "ConditionExpression": "name = :v",
                "ExpressionAttributeValues": {":v": {"S": "x"}},
            },
        ),
    ],
)
def test_errors_carry_the_engines_code_and_message(
    local: LocalEngine, operation: str, method: str, request_: dict[str, Any]
) -> None:
    client = boto3.client("dynamodb", region_name=REGION)
    _create(client)
    with pytest.raises(DynamoDBError) as direct:
        local.call(operation, request_)
    with pytest.raises(ClientError) as routed:
        getattr(client, method)(**request_)
    error = routed.value.response["Error"]
    assert (error["Code"], error["Message"]) == (direct.value.code, direct.value.message)


def test_resource_api_with_conditions(local: LocalEngine) -> None:
    dynamodb = boto3.resource("dynamodb", region_name=REGION)
    table = dynamodb.create_table(
        TableName="orders",
        KeySchema=[
            {"AttributeName": "PK", "KeyType": "HASH"},
            {"AttributeName": "SK", "KeyType": "RANGE"},
        ],
        AttributeDefinitions=[
            {"AttributeName": "PK", "AttributeType": "S"},
            {"AttributeName": "SK", "AttributeType": "S"},
        ],
        BillingMode="PAY_PER_REQUEST",
    )
    table.put_item(Item={"PK": "CUSTOMER#c1", "SK": "PROFILE", "name": "Ada"})
    for i, status in enumerate(["pending", "shipped", "shipped"]):
        table.put_item(Item={"PK": "CUSTOMER#c1", "SK": f"ORDER#{i}", "status": status, "total": i})
    orders = table.query(
        KeyConditionExpression=Key("PK").eq("CUSTOMER#c1") & Key("SK").begins_with("ORDER#"),
        FilterExpression=Attr("status").eq("shipped"),
    )
    assert [o["SK"] for o in orders["Items"]] == ["ORDER#1", "ORDER#2"]
    assert (orders["Count"], orders["ScannedCount"]) == (2, 3)
    scanned = table.scan(FilterExpression=Attr("total").gte(1) & Attr("status").exists())
    assert sorted(str(o["SK"]) for o in scanned["Items"]) == ["ORDER#1", "ORDER#2"]
    updated = table.update_item(
        Key={"PK": "CUSTOMER#c1", "SK": "ORDER#0"},
        UpdateExpression="SET #s = :s ADD #t :one",
        ConditionExpression=Attr("status").eq("pending"),
        ExpressionAttributeNames={"#s": "status", "#t": "total"},
        ExpressionAttributeValues={":s": "shipped", ":one": 1},
        ReturnValues="ALL_NEW",
    )
    assert updated["Attributes"]["status"] == "shipped"
    assert updated["Attributes"]["total"] == 1
    with pytest.raises(ClientError) as caught:
        table.delete_item(
            Key={"PK": "CUSTOMER#c1", "SK": "ORDER#0"},
            ConditionExpression=Attr("status").eq("pending"),
        )
    assert caught.value.response["Error"]["Code"] == "ConditionalCheckFailedException"


def test_paginators(local: LocalEngine) -> None:
    client = boto3.client("dynamodb", region_name=REGION)
    _create(client)
    for item in _orders(23):
        client.put_item(TableName="tbl", Item=item)
    pages = list(
        client.get_paginator("query").paginate(
            TableName="tbl",
            KeyConditionExpression="PK = :pk",
            ExpressionAttributeValues={":pk": {"S": "CUSTOMER#c1"}},
            PaginationConfig={"PageSize": 5},
        )
    )
    assert [len(p["Items"]) for p in pages] == [5, 5, 5, 5, 3]
    assert [i["SK"]["S"] for p in pages for i in p["Items"]] == [
        f"ORDER#{i:03d}" for i in range(23)
    ]
    scanned = client.get_paginator("scan").paginate(
        TableName="tbl", PaginationConfig={"PageSize": 7}
    )
    assert sum(len(p["Items"]) for p in scanned) == 23
    limited = client.get_paginator("scan").paginate(
        TableName="tbl", PaginationConfig={"PageSize": 4, "MaxItems": 10}
    )
    assert len(limited.build_full_result()["Items"]) == 10


def test_waiters(local: LocalEngine) -> None:
    client = boto3.client("dynamodb", region_name=REGION)
    _create(client)
    client.get_waiter("table_exists").wait(
        TableName="tbl", WaiterConfig={"Delay": 0, "MaxAttempts": 3}
    )
    client.delete_table(TableName="tbl")
    client.get_waiter("table_not_exists").wait(
        TableName="tbl", WaiterConfig={"Delay": 0, "MaxAttempts": 3}
    )
    assert client.list_tables()["TableNames"] == []


def test_batch_writer(local: LocalEngine) -> None:
    try:
        local.call("BatchWriteItem", {})
    except DynamoDBError as error:
        if error.code == "UnknownOperationException":
            pytest.skip("the engine does not implement BatchWriteItem yet")
    table = boto3.resource("dynamodb", region_name=REGION).Table("tbl")
    _create(table.meta.client)
    with table.batch_writer() as batch:
        for i in range(60):  # more than one BatchWriteItem request (25 at most each)
            batch.put_item(Item={"PK": "CUSTOMER#c1", "SK": f"ORDER#{i:03d}"})
        batch.delete_item(Key={"PK": "CUSTOMER#c1", "SK": "ORDER#000"})
    assert table.scan(Select="COUNT")["Count"] == 59
