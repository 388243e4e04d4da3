"""``Entity.from_item``'s decoding compiled once per entity class.

Before Pydantic validates a stored item into an entity, :meth:`Entity.from_item`
turns its AttributeValues into the plain values validation takes: the key and type
attributes left out, strings and booleans as they are, numbers as ``Decimal``,
everything else through :func:`singletable.codec.from_attribute`. That loop over the
item's attributes is the same for every item of a class, so :func:`reader` builds
one straight-line function per class (``exec``, as :mod:`singletable._writer` does)
that looks up each field's attribute, tries first the wire type the field is
declared with, and counts what it found: an item holding any attribute that is
neither a field nor a key or type attribute (written by other code) is left to the
general loop (the function returns None), so the values handed to Pydantic are
always the general loop's. tests/orm/test_reader.py checks both against each other.
"""

from __future__ import annotations

import typing
from collections.abc import Callable, Mapping
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from annotated_types import BaseMetadata
from pydantic import AfterValidator, BaseModel, BeforeValidator, PlainValidator, WrapValidator

from singletable.codec import from_attribute
from singletable.keys import base_type

if TYPE_CHECKING:
    from singletable.entity import Entity

__all__ = ["Reader", "decode_value", "reader"]

Reader = Callable[[Mapping[str, Any]], "dict[str, Any] | None"]
"""``read(item)``: the values to validate, or None (the general loop decides)."""


def decode_value(value: Any) -> Any:
    """One attribute's value as ``from_item``'s general loop decodes it."""
    raw = value.get("S")
    if raw is not None and len(value) == 1:
        return raw
    kind, raw = next(iter(value.items()))
    if kind == "S" or kind == "BOOL":
        return raw  # Pydantic takes these as they are
    if kind == "N":
        return Decimal(raw)
    return from_attribute(value)


def reader(cls: type[Entity]) -> Reader:
    """The compiled decoding of ``cls``'s items (built on first use, kept on its model)."""
    model = cls.__singletable__
    built: Reader | None = model.reader
    if built is None:
        built = model.reader = _compile(cls)
    return built


_DECLARED_KIND = {str: "S", int: "N", Decimal: "N", float: "N", bool: "BOOL"}
_CONTAINER_KIND = {set: "SS", frozenset: "SS", dict: "M", list: "L", tuple: "L"}


def _declared_kind(annotation: Any) -> str:
    """The wire type to try first for a field (any type is decoded right either way)."""
    base = base_type(annotation)
    try:
        kind = _DECLARED_KIND.get(base)
    except TypeError:  # an unhashable annotation
        return "S"
    if kind is not None:
        return kind
    origin = typing.get_origin(base)
    if origin is not None:  # set[str], dict[str, int], list[X], ...
        kind = _CONTAINER_KIND.get(origin)
        if kind == "SS" and typing.get_args(base) not in ((str,),):
            kind = None  # a set of numbers or bytes is stored as NS or BS
        return kind or "S"
    if isinstance(base, type) and issubclass(base, BaseModel):
        return "M"  # a nested model
    return "S"


# How a value of the declared wire type becomes what the general loop gives it as
# (decode_value): "r" is its raw member; M and L go straight to from_attribute.
_TAKEN = {"S": "r", "BOOL": "r", "N": "Decimal(r)", "SS": "set(r)"}
# Where Pydantic alone sees a field's value (see _unseen), what it makes of the
# general loop's value is what it makes of a cheaper one: a plain int field's whole
# number text as the int Pydantic makes of its Decimal (validating an int is several
# times cheaper than validating a Decimal as an int), any other text as the general
# loop gives it; a string set's list as it is (Pydantic builds the set: the general
# loop's set(r) would be built twice). Entity.from_item decides a failure on the
# general loop's values.
_INT_TAKEN = "int(r) if r.isdecimal() else Decimal(r)"
_SET_TAKEN = "r"


def _plain_int(cls: type[Entity], field_name: str) -> bool:
    """Whether ``field_name`` is declared int (or Optional[int]) and :func:`_unseen`."""
    annotation = cls.model_fields[field_name].annotation
    return base_type(annotation) is int and _unseen(cls, field_name)


def _unseen(cls: type[Entity], field_name: str) -> bool:
    """Whether Pydantic's validation of ``field_name`` gives the same value for every
    input it converts to the same value: the field is not strict, and no validator
    sees the value before Pydantic converts it (a field or model validator in
    "before", "wrap" or "plain" mode, or one in the annotation), in a class with no
    schema version (upgrades see the values)."""
    if cls.__singletable__.schema_version is not None or cls.model_config.get("strict"):
        return False
    info = cls.model_fields[field_name]
    for meta in info.metadata:
        if getattr(meta, "strict", None) or _is_validator(meta):
            return False
    decorators = cls.__pydantic_decorators__
    for decorator in decorators.field_validators.values():
        fields = decorator.info.fields
        if (field_name in fields or "*" in fields) and decorator.info.mode != "after":
            return False
    return all(d.info.mode == "after" for d in decorators.model_validators.values())


def _is_validator(meta: Any) -> bool:
    return isinstance(meta, BeforeValidator | WrapValidator | PlainValidator) or (
        not isinstance(meta, BaseMetadata | AfterValidator)
    )


def _compile(cls: type[Entity]) -> Reader:
    model = cls.__singletable__
    names: dict[str, Any] = {
        "decode": decode_value,
        "Decimal": Decimal,
        "from_attribute": from_attribute,
    }
    lines = ["def read(item):", "    get = item.get", "    data = {}"]
    skipped = sorted(model.skip_attributes)
    counted = " + ".join(f"({a!r} in item)" for a in skipped) if skipped else "0"
    lines.append(f"    skipped = {counted}")
    for field_name, attribute in model.attributes.items():
        kind = _declared_kind(cls.model_fields[field_name].annotation)
        taken = _TAKEN.get(kind, "from_attribute(v)")
        if kind == "N" and _plain_int(cls, field_name):
            taken = _INT_TAKEN
        elif kind == "SS" and _unseen(cls, field_name):
            taken = _SET_TAKEN
        lines += [
            f"    v = get({attribute!r})",
            "    if v is not None:",
            f"        r = v.get({kind!r})",
            "        if r is not None and len(v) == 1:",
            f"            data[{attribute!r}] = {taken}",
            "        else:",
            f"            data[{attribute!r}] = decode(v)",
        ]
    # every attribute is a field found (one entry of data each) or a skipped one
    lines += ["    if len(data) + skipped != len(item):", "        return None", "    return data"]
    exec("\n".join(lines), names)  # (source built here from the model)
    read: Reader = names["read"]
    return read
