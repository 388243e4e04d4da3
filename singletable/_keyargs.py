"""Key arguments: the field values a call identifies an item or a partition by.

``db.get(Order, customer_id="c1", created_at="2026-03-01T00:00:00Z", order_id="o1")``
names the item by field values given as keywords, mixed with the method's own
options (``consistent=True``). Before anything is built or sent:

* every keyword must be an option of the method or a key field of what it reads
  (the table key of the entity, or the fields a pattern takes); anything else is
  :class:`~singletable.errors.UnknownKeywordError`, with the closest known name
  when one is close (``consistant`` -> ``consistent``);
* every value is validated, and coerced, by its field's type exactly as Pydantic
  would validate the field (``"2026-03-01T00:00:00Z"`` becomes a datetime, a
  ``Literal`` refuses what it does not list); a wrong one is
  :class:`~singletable.errors.InvalidValueError` naming the entity, the field and
  the value.

One validator is built per entity, the first time it is needed (a Pydantic model
of the entity's key fields with their annotations, constraints and field
validators); values of their field's exact plain type skip it.
"""

from __future__ import annotations

import copy
import difflib
import inspect
import typing
from collections.abc import Iterable, Mapping
from datetime import date, datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any
from uuid import UUID

from pydantic import ValidationError, create_model, field_validator

from singletable.errors import InvalidValueError, UnknownKeywordError

if TYPE_CHECKING:
    from singletable.entity import Entity

__all__ = ["check_keywords", "coerce", "exact_types", "key_arguments", "suggest"]

_PLAIN = frozenset({str, int, Decimal, bytes, datetime, date, UUID})
"""Types whose exact instances pass a field of that same plain type unchanged."""


def exact_types(cls: type[Entity], fields: Iterable[str]) -> dict[str, type[Any]]:
    """The fields among ``fields`` whose values pass unchanged when they have exactly
    the field's plain type: no constraints, no field validators of the entity."""
    validated: set[str] = set()
    for decorator in cls.__pydantic_decorators__.field_validators.values():
        validated.update(decorator.info.fields)
    if "*" in validated:
        return {}
    out: dict[str, type[Any]] = {}
    for name in fields:
        info = cls.model_fields[name]
        annotation = info.annotation
        if annotation in _PLAIN and not info.metadata and name not in validated:
            out[name] = annotation
    return out


class _KeyValidator:
    """Validates key field values of one entity as its own fields would: a model of
    the entity's key fields (same annotations, constraints and field validators),
    each optional, so that any subset validates alone."""

    def __init__(self, cls: type[Entity], fields: Iterable[str]) -> None:
        definitions: dict[str, Any] = {}
        for name in fields:
            info = copy.copy(cls.model_fields[name])
            info.default = None  # never validated: only given values are
            info.default_factory = None
            definitions[name] = (info.annotation, info)
        validators: dict[str, Any] = {}
        for name, decorator in cls.__pydantic_decorators__.field_validators.items():
            wanted = decorator.info.fields
            covered = [f for f in definitions if "*" in wanted or f in wanted]
            if not covered:
                continue
            func: Any = decorator.func
            if inspect.ismethod(func):  # a classmethod bound to the entity: rebind
                func = classmethod(func.__func__)
            validators[name] = field_validator(
                *covered, mode=decorator.info.mode, check_fields=False
            )(func)
        model = create_model(f"{cls.__name__}KeyFields", __validators__=validators, **definitions)
        self._validate = model.__pydantic_validator__.validate_python
        self.exact = cls.__singletable__.key_exact

    def __call__(self, values: Mapping[str, Any]) -> Mapping[str, Any]:
        exact = self.exact
        for name, value in values.items():
            if exact.get(name) is not type(value):
                break
        else:
            return values  # every value already has its field's exact type
        validated = self._validate(dict(values))
        return {name: getattr(validated, name) for name in values}


def _validator(cls: type[Entity]) -> _KeyValidator:
    model = cls.__singletable__
    validator: _KeyValidator | None = model.key_validator
    if validator is None:
        validator = model.key_validator = _KeyValidator(cls, model.key_fields)
    return validator


def coerce(cls: type[Entity], values: Mapping[str, Any], where: str) -> Mapping[str, Any]:
    """``values`` (key field -> value) validated and converted by ``cls``'s field types
    (``values`` itself when nothing needs converting; never changed in place).

    Raises:
        InvalidValueError: naming ``where`` (the entity or pattern), the field and the value.
    """
    validator = _validator(cls)
    try:
        return validator(values)
    except ValidationError as error:
        first = error.errors()[0]
        field = str(first["loc"][0]) if first["loc"] else "?"
        value = values.get(field, first.get("input"))
        raise InvalidValueError(
            f"{where}: {value!r} is not a valid {cls.__name__}.{field} "
            f"({_type_name(cls, field)}): {first['msg']}"
        ) from None


def _type_name(cls: type[Entity], field: str) -> str:
    info = cls.model_fields.get(field)
    annotation = info.annotation if info is not None else None
    name = getattr(annotation, "__name__", None)
    if isinstance(name, str) and typing.get_origin(annotation) is None:
        return name
    return str(annotation).replace("typing.", "")


def suggest(name: str, known: Iterable[str]) -> str:
    """`` (did you mean 'x'?)`` when a known name is close to ``name``, else ``""``."""
    close = difflib.get_close_matches(name, list(known), n=1, cutoff=0.6)
    return f" (did you mean {close[0]!r}?)" if close else ""


def check_keywords(
    where: str,
    given: Iterable[str],
    fields: Iterable[str],
    options: Iterable[str] = (),
    aliases: Mapping[str, str] | None = None,
) -> None:
    """Refuse a keyword that is neither one of ``fields`` nor one of ``options``
    (``aliases``: attribute name -> field name, to point from one to the other).

    Raises:
        UnknownKeywordError: naming the keyword, the close match and what is taken.
    """
    fields = tuple(fields)
    unknown = [name for name in given if name not in fields]
    if not unknown:
        return
    name = unknown[0]
    options = tuple(options)
    field = (aliases or {}).get(name)
    if field is not None and field in fields:
        hint = f" (that is the attribute name; the field is {field!r})"
    else:
        hint = suggest(name, (*options, *fields))
    takes = ", ".join(fields) or "no fields"
    extra = f"; options: {', '.join(options)}" if options else ""
    raise UnknownKeywordError(
        f"{where}: unknown keyword {name!r}{hint}; it takes the key fields {takes}{extra}"
    )


def key_arguments(
    cls: type[Entity],
    values: Mapping[str, Any],
    operation: str,
    options: Iterable[str] = (),
    *,
    extra: Iterable[str] = (),
) -> Mapping[str, Any]:
    """The table key field values of ``cls`` in ``values``, checked and coerced
    (``values`` itself when it is exactly the key, in the fields' own types).

    Every table key field must be given; the ``extra`` fields may be (an update
    takes the other fields of an index key it rewrites); no other keyword is taken.

    Raises:
        UnknownKeywordError: a keyword that is not a key field.
        InvalidValueError: a missing key field, or a value its field's type refuses.
    """
    model = cls.__singletable__
    fields = model.table_key_fields
    if not extra and values.keys() == model.table_key_set:
        exact = model.key_exact  # the common case: the key, in its own types
        for field in fields:
            if exact.get(field) is not type(values[field]):
                break
        else:
            return values
    where = f"{cls.__name__} ({operation})"
    allowed = (*fields, *(f for f in extra if f not in fields))
    aliases = {attr: name for name, attr in model.attributes.items() if attr != name}
    check_keywords(where, values, allowed, options, aliases)
    for field in fields:
        if values.get(field) is None:
            raise InvalidValueError(f"{where}: key field {field!r} has no value")
    given = {field: values[field] for field in allowed if values.get(field) is not None}
    return coerce(cls, given, where)
