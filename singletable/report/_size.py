"""Upper bounds on an entity's item size, against DynamoDB's 400 KB item limit."""

from __future__ import annotations

import enum
import types
import typing
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from singletable.entity import Entity

__all__ = ["size_problem"]


# Item size: DynamoDB refuses an item over 400 KB, counted as the UTF-8 length of
# each attribute name plus its value's size. The sizes below are upper bounds, per
# https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/CapacityUnitCalculations.html
_ITEM_LIMIT = 400 * 1024
_NUMBER_SIZE = 21  # up to 38 significant digits: 1 byte per 2 digits, plus 1
_NESTED_OVERHEAD = 3  # a list or map value costs 3 bytes plus 1 per element
_KEY_LIMITS = (2048, 1024)  # partition and sort key values


@dataclass
class _Bound:
    """An upper bound on a value's size, and the parts that have none.

    A ``str`` without ``max_length`` counts 0 and is not listed: names, ids and
    short text are the norm, and flagging every one would bury the warnings that
    matter (collections and blobs that grow without bound).
    """

    size: int = 0
    unbounded: list[str] = field(default_factory=list)


def _max_length(metadata: Sequence[Any]) -> int | None:
    for item in metadata:
        limit = getattr(item, "max_length", None)
        if isinstance(limit, int):
            return limit
        nested = getattr(item, "metadata", None)  # a FieldInfo inside Annotated
        if isinstance(nested, list) and (found := _max_length(nested)) is not None:
            return found
    return None


def _value_bound(path: str, annotation: Any, metadata: Sequence[Any], depth: int = 0) -> _Bound:
    """The largest size a value of ``annotation`` can take (``metadata``: its constraints)."""
    from pydantic import BaseModel

    if typing.get_origin(annotation) is typing.Annotated:
        inner, *extra = typing.get_args(annotation)
        return _value_bound(path, inner, [*metadata, *extra], depth)
    origin = typing.get_origin(annotation)
    args = typing.get_args(annotation)
    limit = _max_length(metadata)
    if origin in (typing.Union, types.UnionType):
        bounds = [_value_bound(path, a, metadata, depth) for a in args if a is not type(None)]
        return _Bound(
            max((b.size for b in bounds), default=1),
            [name for b in bounds for name in b.unbounded],
        )
    if origin is typing.Literal:
        return _Bound(max(len(str(a).encode()) for a in args) if args else 1)
    if annotation is bool or annotation is type(None):
        return _Bound(1)
    if isinstance(annotation, type) and issubclass(annotation, enum.Enum):
        return _Bound(max((len(str(m.value).encode()) for m in annotation), default=1))
    if annotation in (int, float, Decimal):
        return _Bound(_NUMBER_SIZE)
    if isinstance(annotation, type) and issubclass(annotation, datetime):
        return _Bound(27)  # 2024-05-17T09:30:00.000000Z
    if isinstance(annotation, type) and issubclass(annotation, date):
        return _Bound(10)
    if annotation is uuid.UUID:
        return _Bound(36)
    if annotation is str:  # max_length counts characters: up to 4 UTF-8 bytes each
        return _Bound(4 * limit if limit is not None else 0)
    if annotation is bytes:
        return _Bound(limit) if limit is not None else _Bound(0, [path])
    if isinstance(annotation, type) and issubclass(annotation, BaseModel) and depth < 8:
        total = _Bound(_NESTED_OVERHEAD)
        for name, info in annotation.model_fields.items():
            inner = _value_bound(f"{path}.{name}", info.annotation, info.metadata, depth + 1)
            total.size += len(name.encode()) + inner.size + 1
            total.unbounded += inner.unbounded
        return total
    if origin is tuple and args and args[-1] is not Ellipsis:
        parts = [_value_bound(f"{path}[]", a, (), depth + 1) for a in args]
        return _Bound(
            _NESTED_OVERHEAD + sum(p.size + 1 for p in parts),
            [name for p in parts for name in p.unbounded],
        )
    if origin in (list, set, frozenset, tuple, dict) or annotation in (list, set, dict, tuple):
        if origin is dict and len(args) == 2:
            key = _value_bound(f"{path}{{}}", args[0], (), depth + 1)
            value = _value_bound(f"{path}{{}}", args[1], (), depth + 1)
            element = _Bound(key.size + value.size, key.unbounded + value.unbounded)
        elif args:
            element = _value_bound(f"{path}[]", args[0], (), depth + 1)
        else:
            element = _Bound(0, [f"{path}[]"])
        if limit is None:
            return _Bound(0, [path])
        return _Bound(_NESTED_OVERHEAD + limit * (element.size + 1), element.unbounded)
    return _Bound(0, [path])  # Any, or a type the codec stores as it finds it


def size_problem(entity: type[Entity]) -> str | None:
    """Why an item of ``entity`` can pass DynamoDB's 400 KB item limit, or None."""
    model = entity.__singletable__
    total = _Bound(len(model.table.type_attribute) + len(model.type_name.encode()))
    sizes: dict[str, int] = {}
    for name, info in entity.model_fields.items():
        bound = _value_bound(name, info.annotation, info.metadata)
        sizes[name] = bound.size
        total.size += len(model.attributes.get(name, name).encode()) + bound.size
        total.unbounded += bound.unbounded
    for index, templates in model.keys.items():
        spec = model.table.spec(index)
        names = (model.table.primary.pk if spec.local else spec.pk, spec.sk)
        for template, attribute, limit in zip(templates, names, _KEY_LIMITS, strict=True):
            if template is None or attribute is None:
                continue
            literal = sum(len(p.encode()) for p in template.parts if isinstance(p, str))
            value = literal + sum(sizes.get(f, limit) or limit for f in template.fields)
            total.size += len(attribute.encode()) + min(limit, value)
    if total.unbounded:
        fields = ", ".join(total.unbounded)
        return (
            f"{fields} can grow without limit, and DynamoDB refuses items over 400 KB; "
            "bound it (Field(max_length=...)) or store the elements as items of their "
            "own in the entity's partition"
        )
    if total.size > _ITEM_LIMIT:
        return (
            f"its declared limits allow items of up to {total.size:,} bytes, over "
            "DynamoDB's 400 KB (409,600 bytes) item limit; lower the max_length of its "
            "largest fields or move them to items of their own (or to S3)"
        )
    return None
