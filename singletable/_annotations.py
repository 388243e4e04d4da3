"""What the typed condition layer needs to know about a field's annotation.

Pydantic adapters cached per annotation, and the shapes a condition or update
looks through: ``Optional``/``Annotated`` wrappers, nested models, list and set
members, mapping values.
"""

from __future__ import annotations

import types
import typing
from collections.abc import Mapping, Sequence
from typing import Any

from pydantic import BaseModel, TypeAdapter

__all__ = [
    "adapter",
    "element_type",
    "mapping_value_type",
    "model_class",
    "nested_attribute",
    "strip_optional",
    "type_name",
]


def adapter(annotation: Any) -> TypeAdapter[Any]:
    """The Pydantic adapter of ``annotation``, built once per hashable annotation."""
    try:
        return _ADAPTERS[annotation]
    except KeyError:
        built: TypeAdapter[Any] = TypeAdapter(annotation)
        _ADAPTERS[annotation] = built
        return built
    except TypeError:  # an unhashable annotation
        return TypeAdapter(annotation)


_ADAPTERS: dict[Any, TypeAdapter[Any]] = {}


def strip_optional(annotation: Any) -> Any:
    origin = typing.get_origin(annotation)
    if origin is typing.Union or origin is types.UnionType:
        members = [a for a in typing.get_args(annotation) if a is not type(None)]
        if len(members) == 1:
            return strip_optional(members[0])
    if origin is typing.Annotated:
        return strip_optional(typing.get_args(annotation)[0])
    return annotation


def model_class(annotation: Any) -> type[BaseModel] | None:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    return None


def element_type(annotation: Any, *, lists_only: bool = False) -> Any | None:
    """The member type of a list (or, unless ``lists_only``, set) annotation; Any if
    unknown; None if the annotation is not a collection."""
    annotation = strip_optional(annotation)
    if annotation is Any:
        return Any
    origin = typing.get_origin(annotation) or annotation
    args = typing.get_args(annotation)
    if origin is tuple:
        return args[0] if len(args) == 2 and args[1] is Ellipsis else Any
    kinds: tuple[Any, ...] = (list, Sequence) if lists_only else (list, Sequence, set, frozenset)
    if origin in kinds:
        return args[0] if args else Any
    return None


def mapping_value_type(annotation: Any) -> Any | None:
    if annotation is Any:
        return Any
    origin = typing.get_origin(annotation) or annotation
    if origin in (dict, Mapping):
        args = typing.get_args(annotation)
        return args[1] if len(args) == 2 else Any
    return None


def nested_attribute(name: str, info: Any) -> str:
    """The attribute name ``model_dump(by_alias=True)`` writes for a nested field."""
    return str(info.serialization_alias or info.alias or name)


def type_name(annotation: Any) -> str:
    if isinstance(annotation, type):
        return annotation.__name__
    return repr(annotation).replace("typing.", "")
