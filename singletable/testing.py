"""Route unmodified boto3 code to the embedded engine: :func:`local_dynamodb`.

``local_dynamodb()`` is a drop-in for moto's ``mock_aws`` for DynamoDB::

    with local_dynamodb() as engine:        # a fresh LocalEngine
        ddb = boto3.client("dynamodb")
        ddb.create_table(...)               # handled in-process, no HTTP

    @local_dynamodb                         # or @local_dynamodb(), or (engine=...)
    def test_orders() -> None: ...

Every ``dynamodb`` and ``dynamodbstreams`` client (and every resource, which
wraps a client) used inside the context sends its requests to the engine.

How requests are caught
    Only botocore's public event system. A ``before-send.dynamodb`` (and
    ``before-send.dynamodb-streams``) handler receives the prepared request,
    calls ``engine.call_json(operation, body)`` and returns a
    ``botocore.awsrequest.AWSResponse`` carrying the JSON body DynamoDB would
    send (errors: DynamoDB's JSON error body with its HTTP status), an
    ``x-amzn-RequestId`` and a correct ``x-amz-crc32``. botocore then parses,
    retries and raises ``ClientError`` exactly as it does for real responses.
    The operation name is taken from the event name
    (``before-send.dynamodb.PutItem``), which botocore builds from the same
    operation model as the ``X-Amz-Target`` header, so no header parsing is
    needed. A ``choose-signer`` handler returns ``botocore.UNSIGNED`` so no
    request is signed (no credentials are needed, and no signing cost is paid),
    and a ``before-endpoint-resolution`` handler keeps endpoint resolution from
    asking the credentials for an account id (which, for refreshable
    credentials such as SSO or an assumed role, would fetch them: network).

Which clients are reached (the choice, and why)
    botocore copies a session's event emitter into each client when the client
    is created, and a session registers ``botocore.handlers.BUILTIN_HANDLERS``
    when it is created. So, like moto, the first ``local_dynamodb()`` to be
    entered appends the handlers to ``BUILTIN_HANDLERS`` once, for good: every
    session created afterwards (``boto3.Session()``, ``boto3.client()`` making
    the default session, ``botocore.session.get_session()``) carries them. On
    every entry the handlers are also registered on ``boto3.DEFAULT_SESSION``
    if it already exists (idempotently: a probe event tells whether an emitter
    already has them, so a request is never handled twice). Clients created
    *before* the context by those sessions were given a copy of the old
    emitter; :func:`route` registers the handlers on such a client, resource or
    other existing session. Handlers are inert outside every context: they
    return ``None`` and botocore sends the request as usual. Requests of other
    services never reach them (they are registered on DynamoDB's events only).
    Inside the context *every* DynamoDB client is routed, whatever its
    ``endpoint_url``. aiobotocore clients are not supported. Don't nest it with
    moto's ``mock_aws``: botocore calls every ``before-send`` handler, so both
    would execute the request (the first registered answers).

Nesting and threads
    The routing is process-wide, as with moto: code under test often calls
    boto3 from worker threads, which a thread-local or context-variable scope
    would miss. Active contexts form one stack; the innermost (most recently
    entered, still active) engine receives requests from every thread. Exiting
    a context removes its own entry, even out of order.

Credentials and region
    While any context is active, if ``AWS_ACCESS_KEY_ID`` and
    ``AWS_SECRET_ACCESS_KEY`` are not both set, fake ones are placed in the
    environment, so that creating a client never walks the credential chain to
    the EC2 metadata endpoint (network); if ``AWS_DEFAULT_REGION`` is not set,
    it is set to ``us-east-1`` (a region named only in a config file is
    shadowed meanwhile; the engine has no regions).
    Exactly those variables are restored when the outermost context exits.
    Real credentials, when present, are left alone and never used for
    DynamoDB (requests are unsigned).

Cost
    Per request: one list lookup, the engine's JSON call (``json.loads``, the
    operation, one JSON encode of the engine's read-only data, with no defensive
    copy), ``zlib.crc32`` and the response object; nothing is set up per call,
    and the body is handed to botocore without copies.
"""

from __future__ import annotations

import inspect
import itertools
import os
import secrets
import threading
import zlib
from collections.abc import Callable, Iterator
from contextlib import ContextDecorator
from types import TracebackType
from typing import Any, Generic, Protocol, TypeVar, overload

import boto3
import botocore
import botocore.handlers
import botocore.session
from botocore.awsrequest import AWSPreparedRequest, AWSResponse

from singletable.backends.local import LocalEngine

__all__ = ["Engine", "LocalDynamoDB", "local_dynamodb", "route"]


class Engine(Protocol):
    """What ``local_dynamodb`` routes to: anything with the engine's ``call_json``."""

    def call_json(self, operation: str, body: bytes | str) -> tuple[int, bytes]:
        """Run ``operation`` on a JSON request body; return the HTTP status and JSON body."""
        ...


E = TypeVar("E", bound=Engine)
F = TypeVar("F", bound=Callable[..., Any])

# The engines of the active contexts, innermost last. Appends and removals
# happen under _LOCK; the request path only reads the last element.
_ACTIVE: list[Engine] = []
_LOCK = threading.Lock()
_INSTALLED = False

_SERVICES = ("dynamodb", "dynamodb-streams")
_PROBE_EVENT = "singletable-routing-probe"
_PROBE_ANSWER = "singletable.testing"
_UNIQUE_ID = "singletable.testing."
_ACCOUNT_ID_BUILTIN = "AWS::Auth::AccountId"

_FAKE_CREDENTIALS = {
    "AWS_ACCESS_KEY_ID": "singletable-local",
    "AWS_SECRET_ACCESS_KEY": "singletable-local",
}
_FAKE_REGION = "us-east-1"
_saved_env: dict[str, str | None] = {}

# Engine responses are trees of fresh dicts and lists: no cycle check (~20% faster).
_request_prefix = secrets.token_hex(16).upper()
_request_numbers = itertools.count(1)
_JSON_CONTENT_TYPE = "application/x-amz-json-1.0"


class _Body:
    """The raw body botocore reads: one bytes chunk, streamed without a copy."""

    __slots__ = ("_data",)

    def __init__(self, data: bytes) -> None:
        self._data = data

    def stream(self, **_: Any) -> Iterator[bytes]:
        """Yield the body (``AWSResponse.content`` joins this; one chunk is not copied)."""
        return iter((self._data,))

    def read(self, amt: int | None = None) -> bytes:
        """The whole remaining body (for callers that read instead of stream)."""
        data, self._data = self._data, b""
        return data


def _send(request: AWSPreparedRequest, event_name: str, **_: Any) -> AWSResponse | None:
    """``before-send`` handler: answer a DynamoDB request from the active engine."""
    try:
        engine = _ACTIVE[-1]
    except IndexError:  # no active context: let botocore send it
        return None
    operation = event_name[event_name.rfind(".") + 1 :]
    body: Any = request.body  # the JSON protocol always sends bytes
    status, payload = engine.call_json(operation, body or b"")
    headers: Any = {  # AWSResponse wraps it in a HeadersDict (the stubs say HTTPHeaders)
        "x-amzn-RequestId": f"{_request_prefix}{next(_request_numbers):020d}",
        "x-amz-crc32": str(zlib.crc32(payload)),
        "Content-Type": _JSON_CONTENT_TYPE,
        "Content-Length": str(len(payload)),
    }
    return AWSResponse(request.url, status, headers, _Body(payload))


def _choose_signer(**_: Any) -> object | None:
    """``choose-signer`` handler: routed requests are not signed (no credentials needed)."""
    return botocore.UNSIGNED if _ACTIVE else None


def _no_account_id(builtins: dict[str, Any], **_: Any) -> None:
    """``before-endpoint-resolution`` handler: don't ask the credentials for an account id.

    DynamoDB's endpoint rules take the account id from the credentials;
    for refreshable credentials (SSO, assumed roles) reading it would fetch
    them over the network. Routed requests never use the endpoint anyway.
    """
    if _ACTIVE:
        builtins[_ACCOUNT_ID_BUILTIN] = None


def _probe(**_: Any) -> str:
    """Answers the probe event: tells that an emitter already carries the handlers."""
    return _PROBE_ANSWER


def _handlers() -> list[tuple[str, Callable[..., Any]]]:
    specs: list[tuple[str, Callable[..., Any]]] = [(_PROBE_EVENT, _probe)]
    for service in _SERVICES:
        specs.append((f"before-send.{service}", _send))
        specs.append((f"choose-signer.{service}", _choose_signer))
        specs.append((f"before-endpoint-resolution.{service}", _no_account_id))
    return specs


def _register(events: Any) -> None:
    """Register the handlers on one event emitter, unless it already has them."""
    answers = events.emit(_PROBE_EVENT)
    if any(answer == _PROBE_ANSWER for _, answer in answers):
        return
    for event, handler in _handlers():
        events.register(event, handler, unique_id=_UNIQUE_ID + event)


def _install() -> None:
    """Reach sessions created from now on (once) and the existing default session."""
    global _INSTALLED
    if not _INSTALLED:
        botocore.handlers.BUILTIN_HANDLERS.extend(_handlers())
        _INSTALLED = True
    if boto3.DEFAULT_SESSION is not None:
        _register(boto3.DEFAULT_SESSION.events)


def route(target: Any) -> None:
    """Route an object created before the context: a client, resource or session.

    Accepts a boto3 client or resource, a ``boto3.Session`` or a botocore
    session. Its DynamoDB requests go to the innermost active engine while a
    :func:`local_dynamodb` context is active, and out as usual otherwise.
    Calling it twice is harmless.
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
    with _LOCK:
        _install()
    _register(events)


def _fake_environment() -> None:
    """Fake credentials and a region where the environment has none (first entry)."""
    env = os.environ
    if not ("AWS_ACCESS_KEY_ID" in env and "AWS_SECRET_ACCESS_KEY" in env):
        for name, value in _FAKE_CREDENTIALS.items():
            _saved_env[name] = env.get(name)
            env[name] = value
    if "AWS_DEFAULT_REGION" not in env:  # the variable botocore reads (not AWS_REGION)
        _saved_env["AWS_DEFAULT_REGION"] = None
        env["AWS_DEFAULT_REGION"] = _FAKE_REGION


def _restore_environment() -> None:
    """Undo :func:`_fake_environment` (last exit)."""
    for name, value in _saved_env.items():
        if value is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = value
    _saved_env.clear()


class LocalDynamoDB(ContextDecorator, Generic[E]):
    """The context manager / decorator :func:`local_dynamodb` returns.

    Entering it activates routing to an engine (the one given, else a fresh
    ``LocalEngine``) and yields that engine; exiting deactivates it. Used as a
    decorator, each call of the decorated function gets a fresh engine (or the
    given one).
    """

    def __init__(self, engine: E | None = None, factory: Callable[[], E] | None = None) -> None:
        self._engine = engine
        self._factory = factory
        self._entered: list[E] = []

    def _recreate_cm(self) -> LocalDynamoDB[E]:
        return LocalDynamoDB(self._engine, self._factory)

    def __call__(self, func: F) -> F:
        """Decorate a sync function (a test): it runs inside a fresh context."""
        if (
            isinstance(func, type)
            or inspect.iscoroutinefunction(func)
            or inspect.isasyncgenfunction(func)
        ):
            raise TypeError("local_dynamodb() decorates sync functions only; use `with` inside")
        return super().__call__(func)

    def __enter__(self) -> E:
        engine = self._new_engine()
        with _LOCK:
            _install()
            if not _ACTIVE:
                _fake_environment()
            _ACTIVE.append(engine)
        self._entered.append(engine)
        return engine

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        engine = self._entered.pop()
        with _LOCK:
            for index in range(len(_ACTIVE) - 1, -1, -1):
                if _ACTIVE[index] is engine:
                    del _ACTIVE[index]
                    break
            if not _ACTIVE:
                _restore_environment()

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
    """Route boto3's DynamoDB clients to an in-process engine (no HTTP).

    ``with local_dynamodb() as engine:`` yields a fresh ``LocalEngine`` (or
    ``engine`` when given); ``@local_dynamodb`` and ``@local_dynamodb()``
    decorate a sync function or test, which then runs with its own fresh
    engine. See the module docstring for what is routed and how.
    """
    if engine is not None:
        return LocalDynamoDB(engine)
    manager: LocalDynamoDB[LocalEngine] = LocalDynamoDB(factory=LocalEngine)
    if func is None:
        return manager
    if not callable(func):
        raise TypeError("local_dynamodb() takes a function to decorate or engine=...")
    return manager(func)
