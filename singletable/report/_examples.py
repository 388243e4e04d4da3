"""Example values synthesized from field types, and AttributeValues as a reader writes them."""

from __future__ import annotations

import enum
import json
import types
import typing
import uuid
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from singletable.keys import base_type

if TYPE_CHECKING:
    from singletable.entity import Entity

__all__ = ["entity_values", "example_item", "example_value", "text", "type_name"]


_EXAMPLE_TIME = datetime(2024, 5, 17, 9, 30, tzinfo=UTC)


def example_value(name: str, annotation: Any, second: bool = False) -> Any:
    """A deterministic example value of a field's type (``second``: a larger one)."""
    base = base_type(annotation)
    origin = typing.get_origin(base)
    if origin is typing.Literal:
        choices = typing.get_args(base)
        return choices[min(1, len(choices) - 1)] if second else choices[0]
    if isinstance(base, type) and issubclass(base, enum.Enum):
        members = list(base)
        return members[min(1, len(members) - 1)] if second else members[0]
    if base is bool:
        return not second
    if isinstance(base, type) and issubclass(base, int):
        return 42 if second else 7
    if base is float:
        return 2.5 if second else 1.5
    if base is Decimal:
        return Decimal("99.50") if second else Decimal("19.99")
    if isinstance(base, type) and issubclass(base, datetime):
        return _EXAMPLE_TIME + timedelta(days=7) if second else _EXAMPLE_TIME
    if isinstance(base, type) and issubclass(base, date):
        return date(2024, 5, 24) if second else date(2024, 5, 17)
    if base is uuid.UUID:
        return uuid.UUID(int=2 if second else 1)
    if base is bytes:
        return b"\x00\x01"
    if origin in (list, set, frozenset, tuple) or base in (list, set, frozenset, tuple):
        return [] if origin in (list, tuple) or base in (list, tuple) else set()
    if origin is dict or base is dict:
        return {}
    stem = name.removesuffix("_id").replace("_", "-")
    return f"{stem}-{'2' if second else '1'}"


def type_name(annotation: Any) -> str:
    """A short, readable name of a field's type."""
    origin = typing.get_origin(annotation)
    if origin is typing.Annotated:
        return type_name(typing.get_args(annotation)[0])
    if origin in (typing.Union, types.UnionType):
        args = typing.get_args(annotation)
        return " | ".join(type_name(a) for a in args)
    if origin is typing.Literal:
        return "Literal[" + ", ".join(repr(a) for a in typing.get_args(annotation)) + "]"
    if origin is not None:
        inner = ", ".join(type_name(a) for a in typing.get_args(annotation))
        return f"{getattr(origin, '__name__', str(origin))}[{inner}]"
    if annotation is type(None):
        return "None"
    return getattr(annotation, "__name__", str(annotation).replace("typing.", ""))


def text(value: dict[str, Any]) -> str:
    """An AttributeValue as a reader writes it: scalars bare, the rest as JSON."""
    ((kind, raw),) = value.items()
    return str(raw) if kind in ("S", "N", "B") else _json_text(value)


def _json_text(value: dict[str, Any]) -> str:
    """JSON text of an AttributeValue's plain value (numbers exactly as stored)."""
    ((kind, raw),) = value.items()
    if kind in ("S", "B"):
        return json.dumps(raw, ensure_ascii=False)
    if kind == "N":
        return str(raw)
    if kind == "BOOL":
        return "true" if raw else "false"
    if kind == "NULL":
        return "null"
    if kind == "L":
        return "[" + ", ".join(_json_text(v) for v in raw) + "]"
    if kind == "M":
        fields = (f"{json.dumps(k, ensure_ascii=False)}: {_json_text(v)}" for k, v in raw.items())
        return "{" + ", ".join(fields) + "}"
    element = kind[0]  # SS, NS, BS: a list of S, N or B
    return "[" + ", ".join(_json_text({element: v}) for v in raw) + "]"




def entity_values(entity: type[Entity]) -> dict[str, Any]:
    return {
        name: example_value(name, info.annotation) for name, info in entity.model_fields.items()
    }


def example_item(
    entity: type[Entity], values: dict[str, Any]
) -> tuple[dict[str, Any], str | None]:
    """The example item, and None; or its keys alone, and why the whole item could not be made.

    The synthesized values follow the field types, not the entity's own constraints
    and validators; when those reject them, the example keeps the keys only and the
    report says so (see :func:`_example_warnings`), never silently.
    """
    from singletable.entity import key_item

    try:
        return entity.model_validate(values).to_item(), None
    except Exception as error:  # constraints the synthesized values miss: keys only
        model = entity.__singletable__
        item = key_item(model, values, entity.__name__, plain=True)
        item[model.table.type_attribute] = {"S": model.type_name}
        return item, _problem(error)


def _problem(error: Exception) -> str:
    """A one-paragraph account of a validation failure (pydantic's, or any exception)."""
    errors = getattr(error, "errors", None)
    if callable(errors):
        try:
            parts = [
                f"{'.'.join(str(p) for p in e.get('loc', ())) or 'the model'}: {e.get('msg')}"
                for e in errors()
            ]
        except Exception:  # not pydantic's errors() after all
            parts = []
        if parts:
            return "; ".join(parts)
    return f"{type(error).__name__}: {error}".strip()
