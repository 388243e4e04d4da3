"""Process-wide routing of botocore/aiobotocore DynamoDB requests to an engine.

See :mod:`singletable.testing` for the behaviour; this module is the mechanism:

* botocore event handlers (``before-call``, ``before-send``, ``choose-signer``,
  ``before-endpoint-resolution`` on DynamoDB's two services), put on every
  session made from now on (``botocore.handlers.BUILTIN_HANDLERS``, as moto
  does) and, lazily, on every client that makes a call while a context is
  active, whenever it was created (a wrapper of ``BaseClient._make_api_call``
  and of aiobotocore's ``AioBaseClient._make_api_call``);
* a guard on the network (``Endpoint._send``, ``AioEndpoint._send``): a request
  no handler answered (another AWS service) is refused while a context is
  active, unless it is addressed to a loopback host;
* the client's region: ``before-call`` marks each request with the region of the
  client that makes it (a header that never leaves the process), and the engine
  runs the request in that region when its ``call_json`` takes ``region=``
  (``LocalEngine``'s does; see ``singletable.backends.local._regions``);
* coexistence with moto: moto's ``before-send`` stubber, which botocore also
  calls for a request we answered, is told to leave those requests alone.
"""

from __future__ import annotations

import functools
import importlib
import inspect
import itertools
import os
import secrets
import sys
import threading
import zlib
from collections.abc import Callable, Generator, Iterator
from typing import Any, Protocol
from urllib.parse import urlsplit

import boto3
import botocore
import botocore.client
import botocore.endpoint
import botocore.handlers
from botocore.awsrequest import AWSPreparedRequest, AWSResponse

__all__ = [
    "ACTIVE",
    "LOCK",
    "Engine",
    "UnmockedServiceError",
    "activate",
    "deactivate",
    "install",
    "register",
]


class Engine(Protocol):
    """What ``local_dynamodb`` routes to: anything with the engine's ``call_json``.

    An engine whose ``call_json`` also takes a keyword ``region`` is given the
    region of the client that sent each request.
    """

    def call_json(self, operation: str, body: bytes | str) -> tuple[int, bytes]:
        """Run ``operation`` on a JSON request body; return the HTTP status and JSON body."""
        ...


@functools.lru_cache(maxsize=64)
def _takes_region(engine_class: type) -> bool:
    """Whether the engines of ``engine_class`` take ``region=`` in ``call_json``."""
    try:
        parameters = inspect.signature(getattr(engine_class, "call_json")).parameters  # noqa: B009
    except (AttributeError, TypeError, ValueError):
        return False
    return "region" in parameters


class UnmockedServiceError(Exception):
    """A request to an AWS service other than DynamoDB while ``local_dynamodb`` is active.

    Raised instead of sending it: nothing leaves the process from inside the
    context. ``service`` is the service's endpoint prefix (``s3``, ``sqs``...),
    ``url`` the request's address.
    """

    def __init__(self, service: str, method: str, url: str) -> None:
        self.service = service
        self.url = url
        super().__init__(
            f"local_dynamodb() is active: the {service!r} request ({method} {url}) was not "
            f"sent. Only DynamoDB and DynamoDB Streams are served in process, and no other "
            f"AWS request leaves the process while a local_dynamodb() context is active. "
            f"Mock {service!r} as well (moto's mock_aws() around or inside local_dynamodb() "
            f"serves every other service, DynamoDB staying with singletable), stub the client "
            f"(botocore.stub.Stubber), or give it an endpoint_url on 127.0.0.1/localhost "
            f"(e.g. LocalStack), which is let through."
        )


# The engines of the active contexts, innermost last. Appends and removals
# happen under LOCK; the request path only reads the last element.
ACTIVE: list[Engine] = []
LOCK = threading.Lock()
_installed = False

_SERVICES = ("dynamodb", "dynamodb-streams")  # service ids, as in event names
_SERVICE_NAMES = frozenset({"dynamodb", "dynamodbstreams"})  # as in service models
_PROBE_EVENT = "singletable-routing-probe"
_PROBE_ANSWER = "singletable.testing"
_UNIQUE_ID = "singletable.testing."
_ROUTED = "_singletable_routed"  # set on a client whose emitter carries the handlers
_ANSWERED = "_singletable_answered"  # set on a request the engine answered
_ACCOUNT_ID_BUILTIN = "AWS::Auth::AccountId"
_LOOPBACK = frozenset({"127.0.0.1", "localhost", "::1"})

_FAKE_CREDENTIALS = {
    "AWS_ACCESS_KEY_ID": "singletable-local",
    "AWS_SECRET_ACCESS_KEY": "singletable-local",
}
_FAKE_REGION = "us-east-1"
_saved_env: dict[str, str | None] = {}

_request_prefix = secrets.token_hex(16).upper()
_request_numbers = itertools.count(1)
_JSON_CONTENT_TYPE = "application/x-amz-json-1.0"
_REGION_HEADER = "x-singletable-region"  # set by _mark_region, read by _send


class _Content(bytes):
    """A response body that botocore reads as bytes and aiobotocore awaits.

    aiobotocore reads a body with ``await http_response.content`` (its
    ``AioAWSResponse``); botocore with ``http_response.content``. One object
    serves both: awaiting it gives the bytes, at once. This is what makes
    aioboto3 clients work in process (a plain ``AWSResponse``, as moto returns,
    fails with "object bytes can't be used in 'await' expression").
    """

    __slots__ = ()

    def __await__(self) -> Generator[Any, None, bytes]:
        return self
        yield  # a generator: awaiting it finishes at once  # pragma: no cover


class _Body:
    """The raw body: one bytes chunk, streamed without a copy."""

    __slots__ = ("_data",)

    def __init__(self, data: bytes) -> None:
        self._data = data

    def stream(self, **_: Any) -> Iterator[bytes]:
        return iter((self._data,))

    def read(self, amt: int | None = None) -> bytes:
        data, self._data = self._data, b""
        return data


def _send(request: AWSPreparedRequest, event_name: str, **_: Any) -> AWSResponse | None:
    """``before-send`` handler: answer a DynamoDB request from the active engine."""
    try:
        engine = ACTIVE[-1]
    except IndexError:  # no active context: let botocore send it
        return None
    operation = event_name[event_name.rfind(".") + 1 :]
    body: Any = request.body  # the JSON protocol always sends bytes (ASCII JSON)
    if isinstance(body, bytes):
        # As text, json.loads skips guessing the encoding.
        try:
            body = body.decode("utf-8")
        except UnicodeDecodeError:
            body = request.body  # as it came, for the engine's SerializationException
    region: Any = request.headers.get(_REGION_HEADER)  # bytes: botocore encodes headers
    if isinstance(region, bytes):
        region = region.decode("utf-8", "replace")
    if region is not None and _takes_region(type(engine)):
        status, payload = engine.call_json(operation, body or b"", region=region)  # type: ignore[call-arg]
    else:
        status, payload = engine.call_json(operation, body or b"")
    headers: Any = {  # AWSResponse wraps it in a HeadersDict (the stubs say HTTPHeaders)
        "x-amzn-RequestId": f"{_request_prefix}{next(_request_numbers):020d}",
        "x-amz-crc32": str(zlib.crc32(payload)),
        "Content-Type": _JSON_CONTENT_TYPE,
        "Content-Length": str(len(payload)),
    }
    response = AWSResponse(request.url, status, headers, _Body(payload))
    setattr(response, "_content", _Content(payload))  # noqa: B010 (read by botocore and aiobotocore)
    setattr(request, _ANSWERED, True)  # so that moto's stubber, called next, passes
    if not _moto_patched and _MOTO_STUBBER in sys.modules:  # moto imported since start
        _patch_moto()  # (the lock only once moto is there: this runs on every request)
    return response


def _mark_region(params: dict[str, Any], request_signer: Any = None, **_: Any) -> None:
    """``before-call`` handler: tell :func:`_send` the region of the client that calls."""
    if ACTIVE and request_signer is not None:
        region = getattr(request_signer, "region_name", None)
        if isinstance(region, str):
            params.setdefault("headers", {})[_REGION_HEADER] = region


def _choose_signer(**_: Any) -> object | None:
    """``choose-signer`` handler: routed requests are not signed (no credentials needed)."""
    return botocore.UNSIGNED if ACTIVE else None


def _no_account_id(builtins: dict[str, Any], **_: Any) -> None:
    """``before-endpoint-resolution`` handler: don't ask the credentials for an account id.

    DynamoDB's endpoint rules take the account id from the credentials; for
    refreshable credentials (SSO, assumed roles) reading it would fetch them
    over the network. Routed requests never use the endpoint anyway.
    """
    if ACTIVE:
        builtins[_ACCOUNT_ID_BUILTIN] = None


def _probe(**_: Any) -> str:
    """Answers the probe event: tells that an emitter already carries the handlers."""
    return _PROBE_ANSWER


def _late_patches(**_: Any) -> None:
    """``creating-client-class`` handler: patch aiobotocore and moto once they are imported."""
    if not (_aio_patched and _moto_patched):
        _patch_aiobotocore()
        _patch_moto()


def _handlers() -> list[tuple[str, Callable[..., Any]]]:
    specs: list[tuple[str, Callable[..., Any]]] = [
        (_PROBE_EVENT, _probe),
        ("creating-client-class", _late_patches),
    ]
    for service in _SERVICES:
        specs.append((f"before-call.{service}", _mark_region))
        specs.append((f"before-send.{service}", _send))
        specs.append((f"choose-signer.{service}", _choose_signer))
        specs.append((f"before-endpoint-resolution.{service}", _no_account_id))
    return specs


def _has_handlers(answers: Any) -> bool:
    return any(answer == _PROBE_ANSWER for _, answer in answers)


def register(events: Any) -> None:
    """Register the handlers on one (sync) event emitter, unless it already has them."""
    if _has_handlers(events.emit(_PROBE_EVENT)):
        return
    for event, handler in _handlers():
        events.register(event, handler, unique_id=_UNIQUE_ID + event)


async def _register_async(events: Any) -> None:
    """:func:`register` for aiobotocore's emitter, whose ``emit`` is a coroutine."""
    if _has_handlers(await events.emit(_PROBE_EVENT)):
        return
    for event, handler in _handlers():
        events.register(event, handler, unique_id=_UNIQUE_ID + event)


def _refuse(endpoint: Any, request: AWSPreparedRequest) -> None:
    """Raise :class:`UnmockedServiceError` for a request about to go out, unless loopback."""
    if ACTIVE and urlsplit(request.url).hostname not in _LOOPBACK:
        service = getattr(endpoint, "_endpoint_prefix", None) or "unknown"
        raise UnmockedServiceError(service, request.method, request.url)


def _patch_botocore() -> None:
    """Wrap ``BaseClient._make_api_call`` and ``Endpoint._send`` (for good; inert when idle)."""
    client_class: Any = botocore.client.BaseClient
    endpoint_class: Any = botocore.endpoint.Endpoint
    make_api_call = client_class._make_api_call

    @functools.wraps(make_api_call)
    def _make_api_call(self: Any, operation_name: str, api_params: Any) -> Any:
        # A client created before the handlers were installed (a module-level
        # client, PynamoDB's cached connection) gets them on its first call.
        if ACTIVE and _ROUTED not in self.__dict__:
            if self.meta.service_model.service_name in _SERVICE_NAMES:
                register(self.meta.events)
            self.__dict__[_ROUTED] = True
        return make_api_call(self, operation_name, api_params)

    send = endpoint_class._send

    @functools.wraps(send)
    def _guarded_send(self: Any, request: AWSPreparedRequest) -> Any:
        _refuse(self, request)
        return send(self, request)

    client_class._make_api_call = _make_api_call
    endpoint_class._send = _guarded_send


_aio_patched = False
_moto_patched = False
_PATCH_LOCK = threading.Lock()
_MOTO_STUBBER = "moto.core.botocore_stubber"


def _patch_aiobotocore() -> None:
    """The same wrappers on aiobotocore's client and endpoint, once it is imported."""
    global _aio_patched
    with _PATCH_LOCK:
        if _aio_patched or "aiobotocore.endpoint" not in sys.modules:
            return
        _aio_patched = True
    client_class: Any = importlib.import_module("aiobotocore.client").AioBaseClient
    endpoint_class: Any = importlib.import_module("aiobotocore.endpoint").AioEndpoint
    make_api_call = client_class._make_api_call

    @functools.wraps(make_api_call)
    async def _make_api_call(self: Any, operation_name: str, api_params: Any) -> Any:
        if ACTIVE and _ROUTED not in self.__dict__:
            if self.meta.service_model.service_name in _SERVICE_NAMES:
                await _register_async(self.meta.events)
            self.__dict__[_ROUTED] = True
        return await make_api_call(self, operation_name, api_params)

    send = endpoint_class._send

    @functools.wraps(send)
    async def _guarded_send(self: Any, request: AWSPreparedRequest) -> Any:
        _refuse(self, request)
        return await send(self, request)

    client_class._make_api_call = _make_api_call
    endpoint_class._send = _guarded_send


def _patch_moto() -> None:
    """Make moto's ``before-send`` stubber pass on requests the engine answered.

    botocore calls every ``before-send`` handler and keeps the first answer;
    ours (registered on ``before-send.dynamodb``) is more specific than moto's
    (``before-send``), so it runs first. Without this, moto would execute the
    same DynamoDB request on its own backend as well.
    """
    global _moto_patched
    with _PATCH_LOCK:
        if _moto_patched or _MOTO_STUBBER not in sys.modules:
            return
        _moto_patched = True
    stubber_class: Any = importlib.import_module(_MOTO_STUBBER).BotocoreStubber

    call = stubber_class.__call__

    @functools.wraps(call)
    def __call__(self: Any, event_name: str, request: Any, **kwargs: Any) -> Any:
        if getattr(request, _ANSWERED, False):
            return None
        return call(self, event_name, request, **kwargs)

    stubber_class.__call__ = __call__


def install() -> None:
    """Reach sessions and clients: once for good, plus what was imported since."""
    global _installed
    if not _installed:
        botocore.handlers.BUILTIN_HANDLERS.extend(_handlers())
        _patch_botocore()
        _installed = True
    _patch_aiobotocore()
    _patch_moto()
    if boto3.DEFAULT_SESSION is not None:
        register(boto3.DEFAULT_SESSION.events)


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


def activate(engine: Engine) -> None:
    """Make ``engine`` the innermost active one (installing the routing if needed)."""
    with LOCK:
        install()
        if not ACTIVE:
            _fake_environment()
        ACTIVE.append(engine)


def deactivate(engine: Engine) -> None:
    """Remove the innermost activation of ``engine`` (even out of order)."""
    with LOCK:
        for index in range(len(ACTIVE) - 1, -1, -1):
            if ACTIVE[index] is engine:
                del ACTIVE[index]
                break
        if not ACTIVE:
            _restore_environment()
