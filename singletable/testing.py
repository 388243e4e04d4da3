"""Route unmodified boto3 code to the embedded engine: :func:`local_dynamodb`.

``local_dynamodb()`` is a drop-in for moto's ``mock_aws`` for DynamoDB::

    with local_dynamodb() as engine:        # a fresh LocalEngine
        ddb = boto3.client("dynamodb")
        ddb.create_table(...)               # handled in-process, no HTTP

    @local_dynamodb                         # or @local_dynamodb(), or (engine=...)
    def test_orders() -> None: ...          # sync or async def

    @local_dynamodb                         # every test of the class
    class TestOrders(unittest.TestCase): ...

    manager = local_dynamodb()              # setUp / tearDown style
    engine = manager.start(); ...; manager.stop()

Every ``dynamodb`` and ``dynamodbstreams`` client, boto3 or aioboto3
(aiobotocore), and every resource, sends its requests to the engine while a
context is active, whenever the client was created; requests to any other AWS
service are refused (:class:`UnmockedServiceError`) unless moto's ``mock_aws``
is active too, which then serves them.

How requests are caught
    botocore's event system. A ``before-send.dynamodb`` (and
    ``before-send.dynamodb-streams``) handler receives the prepared request,
    calls ``engine.call_json(operation, body)`` and returns a
    ``botocore.awsrequest.AWSResponse`` carrying the JSON body DynamoDB would
    send (errors: DynamoDB's JSON error body with its HTTP status), an
    ``x-amzn-RequestId`` and a correct ``x-amz-crc32``. botocore then parses,
    retries and raises ``ClientError`` exactly as it does for real responses.
    The body is a ``bytes`` that can also be awaited, which is what
    aiobotocore does with a response body (``await http_response.content``):
    aioboto3 clients work in process, with no server. The operation name is
    taken from the event name (``before-send.dynamodb.PutItem``). A
    ``choose-signer`` handler returns ``botocore.UNSIGNED`` so no request is
    signed (no credentials are needed), and a ``before-endpoint-resolution``
    handler keeps endpoint resolution from asking the credentials for an
    account id (which, for SSO or an assumed role, would fetch them: network).

Which clients are reached
    All of them, while a context is active, and none after. The first
    context appends the handlers to ``botocore.handlers.BUILTIN_HANDLERS``
    (as moto does), so every session created afterwards carries them, and
    wraps ``BaseClient._make_api_call`` (aiobotocore's ``AioBaseClient`` too),
    so that a client created earlier (a module-level client in application
    code, PynamoDB's cached connection, a client made before
    ``singletable.testing`` was imported) gets them on its first call inside a
    context. These stay installed for good, and are inert outside every
    context: DynamoDB requests then go out as usual, signed. Inside a context
    every DynamoDB client is routed, whatever its ``endpoint_url``.
    :func:`route` remains for registering the handlers ahead of time.

Other AWS services
    botocore's network call (``Endpoint._send``, aiobotocore's
    ``AioEndpoint._send``) is guarded while a context is active: a request
    that no handler answered raises :class:`UnmockedServiceError`, naming the
    service and what to do; requests to a loopback address (LocalStack on
    127.0.0.1, a local server) are let through. A client created *before* the
    context without any credentials fails to sign first (botocore's
    ``NoCredentialsError``); nothing is sent either way.

With moto's ``mock_aws``
    Either order of nesting works: other services' requests are answered by
    moto; DynamoDB and DynamoDB Streams requests only by the engine (our
    handler is more specific than moto's ``before-send`` stubber, so it runs
    first, and moto's stubber is told to skip the requests it answered, so
    moto's DynamoDB backend never sees them).

Nesting, re-entry and threads
    The routing is process-wide, as with moto: code under test often calls
    boto3 from worker threads, which a thread-local scope would miss. Active
    contexts form one stack; the innermost (most recently entered, still
    active) engine receives requests from every thread. Exiting a context
    removes its own entry, even out of order. A nested ``local_dynamodb()``
    has its own fresh engine (unlike a nested ``mock_aws``, which shares
    moto's global state): pass ``engine=`` to share one. Entering the same
    manager again (re-entry, or ``start()`` twice) stacks another fresh engine
    (the given one, with ``engine=``); each exit or ``stop()`` ends the most
    recent one; ``stop()`` without a ``start()`` raises ``RuntimeError``.
    A decorated function gets a fresh engine per call, even when called from
    inside another context. A decorated class gets one engine per test, shared
    by ``setUp``, the test, ``tearDown`` and helper methods.

Regions
    Each request runs in the region of the client that sends it, and each
    region has its own tables, as in DynamoDB (and moto): a table created
    through a ``us-east-1`` client is not seen through an ``eu-west-1`` one.
    ``engine.call(...)`` runs in the engine's home region (``region=`` names
    another). ``local_dynamodb(engine=LocalEngine(shared_regions=True))`` keeps
    one set of tables for every region instead.

Credentials and region variables
    While any context is active, if ``AWS_ACCESS_KEY_ID`` and
    ``AWS_SECRET_ACCESS_KEY`` are not both set, fake ones are placed in the
    environment, so that creating a client never walks the credential chain to
    the EC2 metadata endpoint (network); if ``AWS_DEFAULT_REGION`` is not set,
    it is set to ``us-east-1``. Exactly those variables are restored when the
    outermost context exits. Real credentials, when present, are left alone
    and never used for DynamoDB (requests are unsigned).

Cost
    Per request: one list lookup, the engine's JSON call, ``zlib.crc32`` and
    the response object; per client call, one check of the client's
    ``__dict__``. Nothing is set up per call.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from types import TracebackType
from typing import Any, Generic, TypeVar, overload

import boto3
import botocore.session

from singletable._testing import routing
from singletable._testing.decorating import decorate_class, decorate_function
from singletable._testing.routing import Engine, UnmockedServiceError
from singletable.backends.local import LocalEngine

__all__ = ["Engine", "LocalDynamoDB", "UnmockedServiceError", "local_dynamodb", "route"]

E = TypeVar("E", bound=Engine)
F = TypeVar("F", bound=Callable[..., Any])


def route(target: Any) -> None:
    """Register the routing on an object ahead of its first call: a client, resource or session.

    Not needed any more (every client is routed on its first call inside a
    context), kept for code that calls it. Accepts a boto3 client or resource,
    a ``boto3.Session`` or a botocore session. Calling it twice is harmless.
    """
    if isinstance(target, boto3.Session):
        events = target.events
    elif isinstance(target, botocore.session.Session):
        events = target.get_component("event_emitter")
    elif hasattr(target, "meta") and hasattr(target.meta, "events"):
        events = target.meta.events
    elif hasattr(target, "meta") and hasattr(target.meta, "client"):
        events = target.meta.client.meta.events
    else:
        raise TypeError(
            f"cannot route {type(target).__name__}: not a boto3 client/resource/session"
        )
    with routing.LOCK:
        routing.install()
    routing.register(events)


class LocalDynamoDB(Generic[E]):
    """The context manager / decorator :func:`local_dynamodb` returns.

    Entering it (``with``, ``async with`` or :meth:`start`) activates routing
    to an engine (the one given, else a fresh ``LocalEngine``) and returns
    that engine; exiting (or :meth:`stop`) deactivates it. As a decorator of
    a sync or async function, each call gets a fresh engine (or the given
    one); of a class, each test does (see the module docstring).
    """

    def __init__(self, engine: E | None = None, factory: Callable[[], E] | None = None) -> None:
        self._engine = engine
        self._factory = factory
        self._entered: list[E] = []

    def _recreate_cm(self) -> LocalDynamoDB[E]:
        return LocalDynamoDB(self._engine, self._factory)

    def _with_engine(self, engine: E) -> LocalDynamoDB[E]:
        return LocalDynamoDB(engine)

    @overload
    def __call__(self, func: type[Any]) -> type[Any]: ...
    @overload
    def __call__(self, func: F) -> F: ...
    def __call__(self, func: Any) -> Any:
        """Decorate a function (sync or async) or a test class."""
        if isinstance(func, type):
            return decorate_class(self, func)
        if inspect.isasyncgenfunction(func) or inspect.isgeneratorfunction(func):
            raise TypeError(
                "local_dynamodb() cannot decorate a generator function "
                "(it would end before the generator runs); use `with` inside it"
            )
        if not callable(func):
            raise TypeError(f"local_dynamodb() cannot decorate {type(func).__name__}")
        return decorate_function(self, func)

    def start(self) -> E:
        """Activate routing (as ``__enter__``); returns the engine. Pair with :meth:`stop`."""
        return self.__enter__()

    def stop(self) -> None:
        """Deactivate the most recent :meth:`start` of this manager."""
        if not self._entered:
            raise RuntimeError("local_dynamodb: stop() called without a matching start()")
        self.__exit__(None, None, None)

    def __enter__(self) -> E:
        engine = self._new_engine()
        routing.activate(engine)
        self._entered.append(engine)
        return engine

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        routing.deactivate(self._entered.pop())

    async def __aenter__(self) -> E:
        return self.__enter__()

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.__exit__(exc_type, exc, tb)

    def _new_engine(self) -> E:
        if self._engine is not None:
            return self._engine
        if self._factory is None:
            raise TypeError("LocalDynamoDB needs an engine or an engine factory")
        return self._factory()


@overload
def local_dynamodb(func: F, /) -> F: ...
@overload
def local_dynamodb() -> LocalDynamoDB[LocalEngine]: ...
@overload
def local_dynamodb(*, engine: E) -> LocalDynamoDB[E]: ...
def local_dynamodb(func: Any = None, /, *, engine: Any = None) -> Any:
    """Route boto3's and aioboto3's DynamoDB clients to an in-process engine (no HTTP).

    ``with local_dynamodb() as engine:`` yields a fresh ``LocalEngine`` (or
    ``engine`` when given); ``@local_dynamodb`` and ``@local_dynamodb()``
    decorate a sync or async function, or a test class, which then runs with
    its own fresh engine (per call, per test). See the module docstring for
    what is routed, nesting, and the differences from moto.
    """
    if engine is not None:
        return LocalDynamoDB(engine)
    manager: LocalDynamoDB[LocalEngine] = LocalDynamoDB(factory=LocalEngine)
    if func is None:
        return manager
    if not callable(func):
        raise TypeError("local_dynamodb() takes a function or class to decorate, or engine=...")
    return manager(func)
