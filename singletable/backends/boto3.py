"""The boto3 backend: a boto3 (botocore) DynamoDB client, for AWS or any compatible endpoint.

::

    backend = Boto3Backend(boto3.client("dynamodb"))          # the client stays yours
    backend = Boto3Backend.connect(endpoint_url=server.url)   # the backend owns the client

Requests and responses keep the modelling layer's wire shape (see
:mod:`singletable.backends.base`); botocore's client differs from it in three ways,
each undone here:

- binary: botocore wants ``bytes`` for ``B`` and ``BS`` values (it base64-encodes
  them itself; base64 text would be encoded twice) and returns ``bytes``.
  :func:`to_botocore` decodes the base64 text of every ``B``/``BS`` value in a
  request, :func:`from_botocore` encodes every ``bytes`` in a response (binary
  values are DynamoDB's only blobs). Both copy only the containers on the way to a
  changed value and return the very object they were given when there is nothing to
  change, so a request or response without binary is walked but never copied.
- timestamps (``CreationDateTime``, ...) come back as ``datetime``; they are turned
  back into the epoch seconds of the wire.
- errors: a ``ClientError`` becomes the :mod:`singletable.errors` class for its code
  (:func:`error_from_botocore`), with the modelled members of the error body
  (``Item``, ``CancellationReasons``) in ``details``, binary converted like a
  response's. A request botocore refuses before sending it (``ParamValidationError``)
  is a :class:`~singletable.errors.RequestError`; any other botocore failure
  (connection, timeout) a :class:`~singletable.errors.BackendError` whose code is
  botocore's exception name.

``ResponseMetadata`` is dropped. An operation is called by the client method
botocore maps to its API name (``BatchWriteItem`` -> ``batch_write_item``, from
``client.meta.method_to_api_mapping``); a name the client does not know is refused
as the local engine refuses it (``UnknownOperationException``). DynamoDB Streams
operations belong to another client and are not served.

The conversions and the error mapping are shared with
:mod:`singletable.backends.aioboto3`.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING, Any

from botocore.exceptions import BotoCoreError, ClientError, ParamValidationError

from singletable.errors import DynamoDBServiceError, from_dynamodb

if TYPE_CHECKING:
    from botocore.client import BaseClient

__all__ = [
    "Boto3Backend",
    "client_method",
    "error_from_botocore",
    "from_botocore",
    "method_names",
    "to_botocore",
]


class Boto3Backend:
    """A :class:`~singletable.backends.base.Backend` over a boto3 low-level DynamoDB client.

    Args:
        client: ``boto3.client("dynamodb", ...)`` (or a botocore client). The backend
            does not close a client it was given; see :meth:`connect`.
    """

    def __init__(self, client: BaseClient) -> None:
        self.client = client
        """The boto3 client requests go through."""
        self._methods = method_names(client)
        self._owns_client = False

    @classmethod
    def connect(cls, *, profile_name: str | None = None, **client_args: Any) -> Boto3Backend:
        """A backend over a new ``boto3.client("dynamodb", **client_args)``, which it owns.

        ``client_args`` are boto3's: ``endpoint_url``, ``region_name``, ``config``, ...
        ``profile_name`` takes credentials and settings from that profile of the AWS
        config files (a ``boto3.Session(profile_name=...)``); without it, boto3's
        default session and credential chain. :meth:`close` closes the client.
        """
        import boto3

        if profile_name is not None:
            client = boto3.Session(profile_name=profile_name).client("dynamodb", **client_args)
        else:
            client = boto3.client("dynamodb", **client_args)
        backend = cls(client)
        backend._owns_client = True
        return backend

    def call(self, operation: str, request: dict[str, Any]) -> dict[str, Any]:
        """Run ``operation`` through the client; returns the wire-shaped response.

        Raises:
            singletable.errors.DynamoDBServiceError: the subclass for the error code.
        """
        method = getattr(self.client, client_method(self._methods, operation))
        try:
            response: dict[str, Any] = method(**to_botocore(request))
        except (BotoCoreError, ClientError) as error:
            raise error_from_botocore(error, operation) from error
        response.pop("ResponseMetadata", None)
        converted: dict[str, Any] = from_botocore(response)
        return converted

    def close(self) -> None:
        """Close the client if this backend created it (:meth:`connect`)."""
        if self._owns_client:
            self.client.close()

    def __enter__(self) -> Boto3Backend:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"Boto3Backend({self.client.meta.endpoint_url!r})"


# -- shared with the aioboto3 backend --------------------------------------------------------


def method_names(client: Any) -> dict[str, str]:
    """API operation name -> the client's method name, for every operation it serves."""
    mapping: dict[str, str] = client.meta.method_to_api_mapping
    return {api: method for method, api in mapping.items()}


def client_method(methods: dict[str, str], operation: str) -> str:
    """The method name for ``operation`` in ``methods`` (from :func:`method_names`).

    Raises:
        singletable.errors.RequestError: ``UnknownOperationException``, as the engine says.
    """
    try:
        return methods[operation]
    except KeyError:
        raise from_dynamodb(
            "UnknownOperationException", f"Unknown operation: {operation}", operation=operation
        ) from None


def to_botocore(request: Any) -> Any:
    """``request`` (a wire request) with its ``B``/``BS`` values as bytes.

    Returns ``request`` itself when it holds no binary value; never changes it (only
    the containers on the way to a binary value are copied).

    Raises:
        singletable.errors.RequestError: a ``B``/``BS`` value is not base64 text.
    """
    if not isinstance(request, dict):
        return _any_to(request)
    return _each_value(_request_member_to, request)


def _request_member_to(name: str, member: Any) -> Any:
    convert = _TO.get(name)
    if convert is not None:
        return convert(member)
    if isinstance(member, dict | list):
        return _any_to(member)
    return member


def from_botocore(response: Any) -> Any:
    """``response`` (a botocore response, or part of one) in the wire shape.

    ``bytes`` become base64 text and ``datetime`` epoch seconds. Converts in place
    (a botocore response belongs to its caller) and returns ``response``.
    """
    if not isinstance(response, dict):
        return _any_from(response)
    for name, member in response.items():
        if name in _ITEM_MEMBERS:
            _map_from(member)
        elif name == "Items":
            for item in member:
                _map_from(item)
        elif name == "Responses" and isinstance(member, dict):  # BatchGetItem
            for items in member.values():
                for item in items:
                    _map_from(item)
        elif name == "Responses":  # TransactGetItems, ExecuteTransaction, BatchExecuteStatement
            for entry in member:
                from_botocore(entry)
        elif isinstance(member, dict | list):
            _any_from(member)
        elif isinstance(member, bytes | datetime):
            response[name] = _scalar(member)
    return response


# Requests. The members where item-shaped maps and write actions live have their own
# walkers (most of a request's size is there); every other member goes through
# _any_to, which finds binary values anywhere: a dict whose only key is "B" with a
# text value, or "BS" with a list of texts, is an attribute value wherever it is
# (an attribute or a table named B maps to a dict or a list, never to text).


def _av_to(av: Any) -> Any:
    if not isinstance(av, dict) or "S" in av or "N" in av:
        return av
    if "B" in av:
        binary = av["B"]
        return {"B": _b64decode(binary)} if isinstance(binary, str) else av
    if "BS" in av:
        binaries = av["BS"]
        if isinstance(binaries, list) and all(isinstance(b, str) for b in binaries):
            return {"BS": [_b64decode(b) for b in binaries]}
        return av
    if "M" in av:
        attributes = av["M"]
        converted = _map_to(attributes)
        return av if converted is attributes else {"M": converted}
    if "L" in av:
        values = av["L"]
        converted = _list_to(values)
        return av if converted is values else {"L": converted}
    return av


def _map_to(attributes: Any) -> Any:
    """A name -> attribute value map (an item, a key, ExpressionAttributeValues)."""
    if not isinstance(attributes, dict):
        return _any_to(attributes)
    return _each_value(lambda _, av: _av_to(av), attributes)


def _list_to(values: Any) -> Any:
    """A list of attribute values (an L value, PartiQL Parameters)."""
    return _each(_av_to, values)


def _maps_to(maps: Any) -> Any:
    """A list of maps (BatchGetItem's Keys)."""
    return _each(_map_to, maps)


def _actions_to(actions: Any) -> Any:
    """A list of write requests (BatchWriteItem) or transaction actions."""
    return _each(to_botocore, actions)


def _request_items_to(tables: Any) -> Any:
    """BatchWriteItem's (table -> write requests) or BatchGetItem's (table -> keys)."""
    if not isinstance(tables, dict):
        return _any_to(tables)
    return _each_value(
        lambda _, requests: (
            _actions_to(requests) if isinstance(requests, list) else to_botocore(requests)
        ),
        tables,
    )


def _each_value(convert: Callable[[str, Any], Any], mapping: dict[str, Any]) -> dict[str, Any]:
    """``mapping`` with ``convert(key, value)`` applied to each value; ``mapping`` itself
    when nothing changed (copy on write: a request is never modified)."""
    changed: dict[str, Any] | None = None
    for key, value in mapping.items():
        new = convert(key, value)
        if new is not value:
            if changed is None:
                changed = dict(mapping)
            changed[key] = new
    return mapping if changed is None else changed


def _each(convert: Callable[[Any], Any], values: Any) -> Any:
    if not isinstance(values, list):
        return _any_to(values)
    changed: list[Any] | None = None
    for index, value in enumerate(values):
        new = convert(value)
        if new is not value:
            if changed is None:
                changed = list(values)
            changed[index] = new
    return values if changed is None else changed


def _any_to(value: Any) -> Any:
    if isinstance(value, dict):
        if len(value) == 1 and ("B" in value or "BS" in value):
            converted = _av_to(value)
            if converted is not value:
                return converted
        return _each_value(
            lambda _, member: _any_to(member) if isinstance(member, dict | list) else member,
            value,
        )
    if isinstance(value, list):
        return _each(_any_to, value)
    return value


_TO: dict[str, Callable[[Any], Any]] = {
    "Item": _map_to,
    "Key": _map_to,
    "ExclusiveStartKey": _map_to,
    "ExpressionAttributeValues": _map_to,
    "Keys": _maps_to,
    "Parameters": _list_to,
    "RequestItems": _request_items_to,
    "TransactItems": _actions_to,
    **dict.fromkeys(
        ("PutRequest", "DeleteRequest", "Put", "Update", "Delete", "ConditionCheck", "Get"),
        to_botocore,
    ),
}

# Responses. botocore returns bytes only for binary values (DynamoDB's one blob
# type), so _any_from may convert every bytes it meets; the item members just get
# there faster.

_ITEM_MEMBERS = frozenset({"Item", "Attributes", "LastEvaluatedKey"})


def _map_from(attributes: dict[str, Any]) -> None:
    for av in attributes.values():
        if "S" not in av and "N" not in av:
            _av_from(av)


def _av_from(av: dict[str, Any]) -> None:
    if "B" in av:
        av["B"] = _b64encode(av["B"])
    elif "BS" in av:
        av["BS"] = [_b64encode(binary) for binary in av["BS"]]
    elif "M" in av:
        _map_from(av["M"])
    elif "L" in av:
        for value in av["L"]:
            _av_from(value)


def _any_from(value: Any) -> Any:
    if isinstance(value, dict):
        for key, member in value.items():
            if isinstance(member, dict | list):
                _any_from(member)
            elif isinstance(member, bytes | datetime):
                value[key] = _scalar(member)
    elif isinstance(value, list):
        for index, member in enumerate(value):
            if isinstance(member, dict | list):
                _any_from(member)
            elif isinstance(member, bytes | datetime):
                value[index] = _scalar(member)
    elif isinstance(value, bytes | datetime):
        return _scalar(value)
    return value


def _scalar(value: bytes | datetime) -> str | float:
    if isinstance(value, bytes):
        return base64.b64encode(value).decode("ascii")
    return value.timestamp()


def _b64encode(value: Any) -> Any:
    return base64.b64encode(value).decode("ascii") if isinstance(value, bytes) else value


def _b64decode(text: str) -> bytes:
    try:
        return base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        # (the local engine's and DynamoDB's words)
        raise from_dynamodb(
            "SerializationException", "Base64 encoded binary value is not valid"
        ) from None


_NOT_DETAILS = frozenset({"Error", "ResponseMetadata", "message", "Message"})


def error_from_botocore(error: Exception, operation: str) -> DynamoDBServiceError:
    """The :mod:`singletable.errors` exception for a botocore exception.

    A ``ClientError`` keeps DynamoDB's code and message; the other members of the
    parsed error body (``Item``, ``CancellationReasons``) become ``details``.
    """
    if isinstance(error, ClientError):
        body = error.response
        info = body.get("Error", {})
        details = {key: value for key, value in body.items() if key not in _NOT_DETAILS}
        return from_dynamodb(
            str(info.get("Code", "")),
            str(info.get("Message", "")),
            operation=operation,
            details=from_botocore(details),
        )
    if isinstance(error, ParamValidationError):
        return from_dynamodb("ValidationException", str(error), operation=operation)
    return from_dynamodb(type(error).__name__, str(error), operation=operation)
