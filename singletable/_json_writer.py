"""An entity's item as JSON text, compiled once per entity class.

A backend that speaks DynamoDB's JSON protocol itself encodes every item it sends:
``to_item`` builds a dict of AttributeValues (a dict per attribute), and the JSON
encoder walks it again. For a batch write through such a backend (see
:mod:`singletable._encoded`), :func:`json_writer` gives a function per class that
writes the text directly from the entity's ``__dict__``: exactly
``json.JSONEncoder().encode(entity.to_item())`` (the default separators
``", "`` and ``": "``, ASCII output), or the same error.

It follows the compiled ``to_item`` (:mod:`singletable._writer`) attribute by
attribute, in the same order, with the same tests: a value of its field's declared
type in the common case (a plain string, a bool, an int or Decimal whose ``str`` is
already canonical, a naive or zero-offset datetime, a non-empty set of plain
strings, a nested model the compiled writer encodes from its ``__dict__``) is
written as text; any other value is encoded by the codec as ``to_item`` encodes
it, then by the JSON encoder. Key attributes are rendered by the same templates.

tests/orm/test_writer.py checks the text against ``to_item`` then the encoder for
many entities, values and mistakes.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime
from decimal import Decimal
from json.encoder import encode_basestring_ascii
from typing import TYPE_CHECKING, Any

from singletable._values import MAX_DIGITS
from singletable._writer import _MISSING, _declared_type, _keys, _Source, plain_fields
from singletable.codec import _INT_LIMIT, to_attribute

if TYPE_CHECKING:
    from singletable.entity import Entity, EntityModel

__all__ = ["JsonWriter", "json_writer", "to_json"]

JsonWriter = Callable[[dict[str, Any]], str]
"""``write(values)``: the JSON text of the item of an entity's ``__dict__``."""

to_json = json.JSONEncoder(check_circular=False).encode
"""The JSON encoder the wire backends encode requests with (default separators)."""

_WRITERS: dict[type[Any], JsonWriter] = {}


def json_writer(cls: type[Entity]) -> JsonWriter:
    """The compiled JSON writer of ``cls`` (built on first use, then kept)."""
    built = _WRITERS.get(cls)
    if built is None:
        built = _WRITERS[cls] = _compile(cls, cls.__singletable__)
    return built


def _compile(cls: type[Entity], model: EntityModel) -> JsonWriter:
    owner = cls.__name__
    src = _Source()  # the compiled writer's, plus JSON's own helpers
    src.names.update(esc=encode_basestring_ascii, dumps=to_json)
    src.add(0, "def write(values):")
    src.add(1, "get = values.get")
    src.add(1, "parts = []")
    src.add(1, "add = parts.append")
    for field_name, attribute, path in model.writes:
        src.add(1, f"v = get({field_name!r})")
        src.add(1, "if v is not None:")
        head = encode_basestring_ascii(attribute) + ": "
        if field_name == model.ttl:
            src.add(2, f"add({head!r} + '{{\"N\": \"' + str(epoch_seconds(v, {path!r})) + '\"}}')")
            continue
        annotation = cls.model_fields[field_name].annotation
        _field(src, head, path, annotation)
    _keys(src, model, owner, _json_typed, _json_string)
    type_head = encode_basestring_ascii(model.table.type_attribute)
    src.add(1, f"add({type_head + ': ' + to_json({'S': model.type_name})!r})")
    if model.schema_version is not None:
        schema = to_json({"N": str(model.schema_version)})
        schema_head = encode_basestring_ascii(model.table.schema_attribute)
        src.add(1, f"add({schema_head + ': ' + schema!r})")
    src.add(1, "return '{' + ', '.join(parts) + '}'")
    function: JsonWriter = src.build(f"{owner}.to_item (compiled to JSON)")
    return function


def _field(src: _Source, head: str, path: str, annotation: Any) -> None:
    """The lines writing ``v`` (not None) as ``head`` + its AttributeValue's JSON."""
    kind = _declared_type(annotation)
    general = f"add({head!r} + dumps(to_attribute(v, {path!r})))"
    string = f"add({head!r} + '{{\"S\": ' + esc(v) + '}}')"
    number = f"add({head!r} + '{{\"N\": \"' + t + '\"}}')"
    if kind is str or kind is None:
        src.add(2, "if type(v) is str:")
        src.add(3, string)
    elif kind is bool:
        src.add(2, "if type(v) is bool:")
        src.add(3, f"add({head!r} + ('{{\"BOOL\": true}}' if v else '{{\"BOOL\": false}}'))")
    elif kind is int:
        src.add(2, f"if type(v) is int and {-_INT_LIMIT!r} < v < {_INT_LIMIT!r}:")
        src.add(3, "t = str(v)")
        src.add(3, number)
    elif kind is Decimal:
        src.add(2, f"if type(v) is {src.const(Decimal, 'kind')} and v.is_finite() and ")
        src.lines[-1] += (
            f"len(t := str(v)) <= {MAX_DIGITS} and 'E' not in t and "
            "('.' not in t or t[-1] != '0') and t != '-0':"
        )
        src.add(3, number)
    elif kind is datetime:
        # (the isoformat of a datetime is ASCII digits and punctuation: nothing to escape)
        src.add(2, f"if type(v) is {src.const(datetime, 'kind')} and ")
        src.lines[-1] += "(v.tzinfo is None or v.utcoffset() == ZERO):"
        src.add(3, f"add({head!r} + '{{\"S\": \"' + v.isoformat() + '\"}}')")
    elif kind is set or kind is frozenset:
        src.add(2, f"if type(v) is {src.const(kind, 'kind')} and v and ")
        src.lines[-1] += "all([type(m) is str for m in v]):"
        src.add(3, f"add({head!r} + '{{\"SS\": [' + ', '.join(map(esc, sorted(v))) + ']}}')")
    else:
        nested = _plain_model_json(kind) if kind is not None else None
        if nested is None:
            src.add(2, "if type(v) is str:")
            src.add(3, string)
            src.add(2, "else:")
            src.add(3, general)
            return
        src.add(2, f"if type(v) is {src.const(kind, 'model')}:")
        src.add(3, f"add({head!r} + {src.const(nested, 'nested')}(v, {path!r}))")
    src.add(2, "elif type(v) is str:")
    src.add(3, string)
    src.add(2, "else:")
    src.add(3, general)


def _json_typed(attribute: str, value: str) -> str:
    head = encode_basestring_ascii(attribute) + ": "
    return f"add({head!r} + dumps({value}))"


def _json_string(attribute: str, text: str) -> str:
    head = encode_basestring_ascii(attribute) + ": "
    return f"add({head!r} + '{{\"S\": ' + esc({text}) + '}}')"


def _plain_model_json(kind: Any) -> Callable[[Any, str], str] | None:
    """The JSON text of what :func:`singletable._writer._plain_model_encoder` gives for
    instances of the model class ``kind`` (None where it gives no encoder)."""
    plain = plain_fields(kind)
    if plain is None:
        return None
    count = len(plain)
    heads = tuple(
        (name, attribute, encode_basestring_ascii(attribute) + ": ", kinds)
        for name, attribute, kinds in plain
    )

    def encode(value: Any, path: str) -> str:
        values = value.__dict__
        if len(values) != count:
            return to_json(to_attribute(value, path))
        out: list[str] = []
        for name, attribute, head, kinds in heads:
            member = values.get(name, _MISSING)
            if member is None:
                continue
            kind = type(member)
            if kind not in kinds:
                return to_json(to_attribute(value, path))
            if kind is str:
                out.append(head + '{"S": ' + encode_basestring_ascii(member) + "}")
            elif kind is bool:
                out.append(head + ('{"BOOL": true}' if member else '{"BOOL": false}'))
            else:
                out.append(head + to_json(to_attribute(member, f"{path}.{attribute}")))
        return '{"M": {' + ", ".join(out) + "}}"

    return encode
