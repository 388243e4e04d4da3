"""``Entity.to_item`` compiled once per entity class.

The general conversion (:func:`singletable.codec.to_attribute` per field, then
:func:`singletable.entity.key_item`) looks up each value's type in a table, loops
over the fields and the key plan, and unpacks tuples on every call. For an entity
class all of that is known when the class is first written: which fields there
are, in which order, what type each is declared with, which key attributes are
rendered from which templates and which index keys are sparse. :func:`writer`
turns that into the source of one straight-line Python function per class
(``exec``, as :mod:`dataclasses` builds ``__init__``), built on the first write
and kept on the class's :class:`~singletable.entity.EntityModel`.

The generated function does exactly what the general path does, in the same order
(fields in declaration order, then the key attributes in the key plan's order,
then the entity-type and schema-version attributes), with the same errors:

* a field whose value has exactly the type it is declared with is encoded by the
  codec's own encoder for that type (``codec._BY_TYPE``: the function
  ``to_attribute`` itself would pick), and for int, Decimal, datetime and sets
  the encoder's common case is inlined (a number whose ``str`` is already
  canonical, a naive or zero-offset datetime, a non-empty set of plain strings),
  its other cases left to the encoder; any other value goes through
  ``to_attribute``;
* a nested model of exactly its declared class whose fields are all of plain
  declared types (str, int, bool, Decimal, float, datetime, sets, lists and dicts of
  those; no serializers, computed fields, excluded fields or extra attributes; each
  under the name ``model_dump(by_alias=True)`` gives it) is
  encoded from its ``__dict__``: what ``model_dump(by_alias=True, exclude_none=True)``
  and ``codec._map`` give for it. Any other nested value, or one holding a value of
  another type than declared (``model_construct``), goes through ``to_attribute``;
* the key attributes are rendered by the same :class:`~singletable.keys.KeyTemplate`
  methods, sharing rendered slots as ``key_item`` does.

tests/orm/test_writer.py checks the generated function against the general path
(the codec per field, then ``key_item``) for many entities, values and mistakes.
"""

from __future__ import annotations

import typing
from collections.abc import Callable
from datetime import datetime, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel
from pydantic.functional_serializers import PlainSerializer, WrapSerializer

from singletable._annotations import nested_attribute
from singletable._values import MAX_DIGITS
from singletable.codec import _BY_TYPE, _INT_LIMIT, _set, epoch_seconds, to_attribute
from singletable.errors import InvalidValueError
from singletable.keys import base_type, render_datetime

if TYPE_CHECKING:
    from singletable._values import Item
    from singletable.entity import Entity, EntityModel

__all__ = ["Writer", "writer"]

Writer = Callable[[dict[str, Any], dict[str, Any]], "Item"]
"""``write(values, item)``: fills ``item`` (an empty dict) from an entity's ``__dict__``
and returns it."""


def writer(cls: type[Entity]) -> Writer:
    """The compiled ``to_item`` of ``cls`` (built on first use, then kept on its model)."""
    model = cls.__singletable__
    built: Writer | None = model.writer
    if built is None:
        built = model.writer = _compile(cls, model)
    return built


# --------------------------------------------------------------------------- compiling


class _Source:
    """The generated function's lines and the constants it refers to by name."""

    def __init__(self) -> None:
        self.lines: list[str] = []
        self.names: dict[str, Any] = {
            "to_attribute": to_attribute,
            "epoch_seconds": epoch_seconds,
            "no_key_value": _no_key_value,
            "encode_set": _set,
            "ZERO": timedelta(0),
        }

    def const(self, value: Any, hint: str) -> str:
        """A name the function can use for ``value``."""
        name = f"{hint}_{len(self.names)}"
        self.names[name] = value
        return name

    def add(self, indent: int, line: str) -> None:
        self.lines.append("    " * indent + line)

    def build(self, qualname: str) -> Any:
        """The function ``write`` the lines define, named ``qualname``."""
        namespace = dict(self.names)
        exec("\n".join(self.lines), namespace)  # (source built here from the model)
        function = namespace["write"]
        function.__qualname__ = qualname
        return function


def _compile(cls: type[Entity], model: EntityModel) -> Writer:
    owner = cls.__name__
    src = _Source()
    src.add(0, "def write(values, item):")
    src.add(1, "get = values.get")
    src.add(1, "cache = {}")  # the key renders' shared slots (KeyTemplate.render)
    slots = _datetime_slots(model)
    for field_name, attribute, path in model.writes:
        src.add(1, f"v = get({field_name!r})")
        src.add(1, "if v is not None:")
        target = f"item[{attribute!r}]"
        if field_name == model.ttl:
            src.add(2, f"{target} = {{'N': str(epoch_seconds(v, {path!r}))}}")
            continue
        annotation = cls.model_fields[field_name].annotation
        _field(src, target, path, annotation, field_name if field_name in slots else None)
    _keys(src, model, owner, cache_made=True)
    src.add(1, f"item[{model.table.type_attribute!r}] = {{'S': {model.type_name!r}}}")
    if model.schema_version is not None:
        schema = str(model.schema_version)
        src.add(1, f"item[{model.table.schema_attribute!r}] = {{'N': {schema!r}}}")
    src.add(1, "return item")
    function: Writer = src.build(f"{owner}.to_item (compiled)")
    return function


def _datetime_slots(model: EntityModel) -> set[str]:
    """The fields rendered in a datetime slot of a key template of the class."""
    return {
        slot.field
        for _, attributes in model.key_plan
        for _, template, check in attributes
        if not check
        for slot in template.slots
        if slot.render is render_datetime
    }


def _field(
    src: _Source, target: str, path: str, annotation: Any, slot: str | None = None
) -> None:
    """The lines encoding ``v`` (not None) into ``target`` (``slot``: the field, when a
    key template renders it in a datetime slot; see the datetime case)."""
    kind = _declared_type(annotation)
    nested = _plain_model_encoder(kind) if kind is not None else None
    if kind is str or kind is None:
        src.add(2, "if type(v) is str:")
        src.add(3, f"{target} = {{'S': v}}")
        src.add(2, "else:")
        src.add(3, f"{target} = to_attribute(v, {path!r})")
        return
    if kind is bool:
        src.add(2, "if type(v) is bool:")
        src.add(3, f"{target} = {{'BOOL': v}}")
    elif nested is not None:
        src.add(2, f"if type(v) is {src.const(kind, 'model')}:")
        src.add(3, f"{target} = {src.const(nested, 'nested')}(v, {path!r})")
    elif kind is int:
        # codec._int inline: at most 38 digits, str() is the canonical number
        src.add(2, "if type(v) is int:")
        src.add(3, f"if {-_INT_LIMIT!r} < v < {_INT_LIMIT!r}:")
        src.add(4, f"{target} = {{'N': str(v)}}")
        src.add(3, "else:")
        src.add(4, f"{target} = {src.const(_BY_TYPE[int], 'encode')}(v, {path!r})")
    elif kind is Decimal:
        # codec._number's already-canonical case inline (a finite Decimal whose str()
        # has no exponent, no trailing fraction zero, is not -0 and has at most 38
        # characters); any other goes through the codec's encoder
        src.add(2, f"if type(v) is {src.const(Decimal, 'kind')} and v.is_finite():")
        src.add(3, "t = str(v)")
        src.add(3, f"if len(t) <= {MAX_DIGITS} and 'E' not in t and "
                "('.' not in t or t[-1] != '0') and t != '-0':")
        src.add(4, f"{target} = {{'N': t}}")
        src.add(3, "else:")
        src.add(4, f"{target} = {src.const(_BY_TYPE[Decimal], 'encode')}(v, {path!r})")
    elif kind is datetime:
        # codec._datetime_text inline for naive datetimes and ones at offset zero
        # (their isoformat is the stored text); others are moved to UTC by the codec
        src.add(2, f"if type(v) is {src.const(datetime, 'kind')}:")
        encode = src.const(_BY_TYPE[datetime], "encode")
        if slot is None:
            src.add(3, "if v.tzinfo is None or v.utcoffset() == ZERO:")
            src.add(4, f"{target} = {{'S': v.isoformat()}}")
            src.add(3, "else:")
            src.add(4, f"{target} = {encode}(v, {path!r})")
        else:
            # The same text is what keys.render_datetime gives the field's key slot,
            # with the fraction always written and "Z" for the offset: the slot's text
            # is put in the renders' cache from it instead of formatted a second time.
            key = repr((slot, ""))
            src.add(3, "if v.tzinfo is None:")
            src.add(4, "t = v.isoformat()")
            src.add(4, f"{target} = {{'S': t}}")
            src.add(4, f"cache[{key}] = t + 'Z' if v.microsecond else t + '.000000Z'")
            src.add(3, "elif v.utcoffset() == ZERO:")
            src.add(4, "t = v.isoformat()")  # (ends in +00:00)
            src.add(4, f"{target} = {{'S': t}}")
            src.add(4, f"cache[{key}] = t[:-6] + 'Z' if v.microsecond else t[:-6] + '.000000Z'")
            src.add(3, "else:")
            src.add(4, f"{target} = {encode}(v, {path!r})")
    elif kind is set or kind is frozenset:
        # codec._set inline for a non-empty set of plain strings (sorted as they are)
        src.add(2, f"if type(v) is {src.const(kind, 'kind')}:")
        src.add(3, "for m in v:")
        src.add(4, "if type(m) is not str:")
        src.add(5, f"{target} = encode_set(v, {path!r})")
        src.add(5, "break")
        src.add(3, "else:")
        src.add(4, f"{target} = {{'SS': sorted(v)}} if v else encode_set(v, {path!r})")
    elif kind in _BY_TYPE:
        src.add(2, f"if type(v) is {src.const(kind, 'kind')}:")
        src.add(3, f"{target} = {src.const(_BY_TYPE[kind], 'encode')}(v, {path!r})")
    else:
        src.add(2, f"{target} = to_attribute(v, {path!r})")
        return
    src.add(2, "elif type(v) is str:")
    src.add(3, f"{target} = {{'S': v}}")
    src.add(2, "else:")
    src.add(3, f"{target} = to_attribute(v, {path!r})")


def _declared_type(annotation: Any) -> Any:
    """The class values of a field declared ``annotation`` have once validated (the
    one the generated code tests first), or None when it is not one class."""
    base = base_type(annotation)
    origin = typing.get_origin(base)
    if origin is typing.Literal:
        values = typing.get_args(base)
        return str if all(type(v) is str for v in values) else None
    if origin in (set, frozenset, list, dict):
        return origin
    return base if isinstance(base, type) else None


def _item_typed(attribute: str, value: str) -> str:
    return f"item[{attribute!r}] = {value}"


def _item_string(attribute: str, text: str) -> str:
    return f"item[{attribute!r}] = {{'S': {text}}}"


def _keys(
    src: _Source,
    model: EntityModel,
    owner: str,
    typed: Callable[[str, str], str] = _item_typed,
    string: Callable[[str, str], str] = _item_string,
    *,
    cache_made: bool = False,
) -> None:
    """The lines of :func:`singletable.entity.key_item` for the class's key plan.

    ``typed(attribute, value)`` and ``string(attribute, text)`` give the line that
    writes a key attribute from the expression of its AttributeValue (a field's own
    typed value) or of its rendered text; the JSON writer passes its own.
    ``cache_made``: the function made the renders' ``cache`` already.
    """
    if not cache_made:
        src.add(1, "cache = {}")
    for needs, attributes in model.key_plan:
        indent = 1
        if needs:
            test = " and ".join(f"get({f!r}) is not None" for f in needs)
            src.add(1, f"if {test}:")
            indent = 2
        for attribute, template, check in attributes:
            if check:
                field_name = template.fields[0]
                src.add(indent, f"if get({field_name!r}) is None:")
                src.add(indent + 1, f"no_key_value({owner!r}, {field_name!r})")
                continue
            if template.typed:  # the field's own attribute value (entity._key_value)
                field_name = template.fields[0]
                src.add(indent, f"v = get({field_name!r})")
                src.add(indent, "if v is None:")
                src.add(indent + 1, f"no_key_value({owner!r}, {field_name!r})")
                path = f"{owner}.{field_name}"
                src.add(indent, typed(attribute, f"to_attribute(v, {path!r})"))
            else:
                # KeyTemplate.render, its fast path called here: the general render
                # (and its errors) where that gives None
                render = src.const(template.render, "render")
                fast = src.const(template.fast_render(), "fast")
                src.add(indent, f"k = {fast}(values, cache)")
                text = f"k if k is not None else {render}(values, {owner!r}, cache)"
                src.add(indent, string(attribute, text))
        if indent == 2 and not attributes:
            src.add(2, "pass")


def _no_key_value(owner: str, field_name: str) -> None:
    raise InvalidValueError(f"{owner}: key field {field_name!r} has no value")


# --------------------------------------------------------------------------- nested models

_PLAIN_SCALARS = (str, int, bool, Decimal, float, datetime)
_PLAIN_COLLECTIONS = (set, frozenset, list, dict)


def _plain_model_encoder(kind: Any) -> Callable[[Any, str], Any] | None:
    """An encoder of instances of the model class ``kind`` from their ``__dict__``,
    or None if ``model_dump`` could give anything else than the field values as
    they are (see the module docstring)."""
    plain = plain_fields(kind)
    if plain is None:
        return None
    count = len(plain)

    def encode(value: Any, path: str) -> Any:
        values = value.__dict__
        if len(values) != count:
            return to_attribute(value, path)
        out: dict[str, Any] = {}
        for name, attribute, kinds in plain:
            member = values.get(name, _MISSING)
            if member is None:
                continue
            kind = type(member)
            if kind not in kinds:
                # a value model_dump would not give back as it is (or a missing one):
                # the general path, with whatever it does
                return to_attribute(value, path)
            if kind is str:
                out[attribute] = {"S": member}
            elif kind is bool:
                out[attribute] = {"BOOL": member}
            else:
                out[attribute] = to_attribute(member, f"{path}.{attribute}")
        return {"M": out}

    return encode


def plain_fields(kind: Any) -> tuple[tuple[str, str, tuple[type, ...]], ...] | None:
    """(field, attribute, (declared type,)) of each field of the model class ``kind``
    when its instances can be encoded from their ``__dict__`` (see the module
    docstring), else None."""
    if not (isinstance(kind, type) and issubclass(kind, BaseModel)):
        return None
    if kind.model_computed_fields or kind.model_config.get("extra") == "allow":
        return None
    decorators = kind.__pydantic_decorators__
    if decorators.field_serializers or decorators.model_serializers:
        return None
    if getattr(kind, "__pydantic_root_model__", False):
        return None
    fields: list[tuple[str, str, tuple[type, ...]]] = []
    for name, info in kind.model_fields.items():
        if info.exclude:
            return None
        if any(isinstance(m, PlainSerializer | WrapSerializer) for m in info.metadata):
            return None
        declared = _declared_type(info.annotation)
        if declared in _PLAIN_COLLECTIONS:
            # only collections of plain scalars: model_dump copies them as they are
            member = _member_type(info.annotation)
            if member not in _PLAIN_SCALARS:
                return None
        elif declared not in _PLAIN_SCALARS:
            return None
        fields.append((name, nested_attribute(name, info), (declared,)))
    return tuple(fields) if fields else None


_MISSING = object()


def _member_type(annotation: Any) -> Any:
    base = base_type(annotation)
    args = typing.get_args(base)
    if typing.get_origin(base) is dict:
        return str if len(args) == 2 and args[0] is str and args[1] in _PLAIN_SCALARS else None
    if len(args) != 1:
        return None
    return args[0] if isinstance(args[0], type) else None
