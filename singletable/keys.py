"""Key templates: ``"ORDER#{created_at}#{order_id}"`` compiled into builders and parsers.

A template is literal text with ``{field}`` slots, each naming a field of the
entity. :func:`compile_template` checks it against the entity's field types once,
at class creation, and returns a :class:`KeyTemplate` that

* **renders** a key from field values (:meth:`KeyTemplate.render`), so that the
  string order of keys matches the order of the values where the template asks
  for it;
* renders the **prefix** a partly known key starts with, for ``begins_with``
  (:meth:`KeyTemplate.prefix`);
* **parses** a stored key back into field values (:meth:`KeyTemplate.parse`).

How values render (the slot's format after a colon picks a variant):

========================  ====================================================
field type                rendered as
========================  ====================================================
``str``, ``Literal``      as is; ``{name:upper}`` / ``{name:lower}`` change case
``int``                   decimal; ``{n:08}`` zero-pads to 8 digits so that key
                          order is number order (negative numbers and numbers
                          wider than the pad are refused when rendering)
``datetime``              ISO-8601 in UTC with microseconds, fixed width
                          (``2026-11-22T02:07:26.000000Z``): naive datetimes are
                          taken as UTC
``date``                  ``YYYY-MM-DD``
``bool``                  ``true`` / ``false``
``Enum``                  its value (rendered by the rules above)
``UUID``                  the canonical 36-character form
``Decimal``               its string (no order guarantee; the report warns)
========================  ====================================================

A key can also be a number (the table declares the key attribute as ``N``):
the template is then a single slot of a numeric field, ``"{version}"``.

A **plain** key is a field that is itself the key attribute (a table keyed by
``user_id``, with a ``user_id`` field): :func:`plain_template` makes its
one-slot template, whose value is the field's own attribute value (``S``, ``N``
or ``B``, by :func:`key_kind`), exactly as the field is stored.

Templates are checked when compiled: an unknown field, an unknown format, two
slots with nothing between them (unless the first has a fixed width, which
makes the split unambiguous) are errors that name the entity and the template.
When rendering, a value that contains the literal text that follows its slot
is refused (the key could not be parsed back), with the field named: that is an
:class:`~singletable.errors.InvalidValueError` (a value is wrong, on whichever
path it was given), while mistakes in a template are
:class:`~singletable.errors.ModelError` (raised when the entity class is created).
"""

from __future__ import annotations

import enum
import itertools
import re
import types
import typing
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any, Literal

from singletable.errors import InvalidValueError, ModelError

__all__ = [
    "KeyTemplate",
    "Slot",
    "base_type",
    "compile_template",
    "key_kind",
    "parse_slots",
    "plain_template",
]

_SLOT = re.compile(r"\{([^{}:]*)(?::([^{}]*))?\}")
_PAD = re.compile(r"0(\d+)d?")
_DATETIME_WIDTH = len("2026-11-22T02:07:26.000000Z")


@dataclass(frozen=True, slots=True)
class Slot:
    """One ``{field:format}`` of a template."""

    field: str
    format: str
    width: int | None
    """The rendered width when it is fixed (padded ints, datetimes, dates, UUIDs)."""
    render: Callable[[Any], str]


def parse_slots(template: str) -> list[str | tuple[str, str]]:
    """Split template text into literals and ``(field, format)`` slots (no type checks).

    Raises:
        ValueError: for a brace that does not open or close a slot.
    """
    parts: list[str | tuple[str, str]] = []
    position = 0
    for match in _SLOT.finditer(template):
        literal = template[position : match.start()]
        if "{" in literal or "}" in literal:
            raise ValueError(f"unbalanced brace in key template {template!r}")
        if literal:
            parts.append(literal)
        name = match.group(1).strip()
        if not name.isidentifier():
            raise ValueError(f"slot {match.group(0)!r} of key template {template!r} names no field")
        parts.append((name, (match.group(2) or "").strip()))
        position = match.end()
    tail = template[position:]
    if "{" in tail or "}" in tail:
        raise ValueError(f"unbalanced brace in key template {template!r}")
    if tail:
        parts.append(tail)
    return parts


class KeyTemplate:
    """A compiled key template of one entity (see the module docstring)."""

    def __init__(
        self,
        source: str,
        parts: tuple[str | Slot, ...],
        *,
        numeric: bool = False,
        plain: bool = False,
    ) -> None:
        self.source = source
        self.parts = parts
        self.numeric = numeric
        self.plain = plain
        """The key attribute is the field itself (see :func:`plain_template`)."""
        self.typed = numeric or plain
        """The key is the field's own attribute value (N, B, or S as the field is stored),
        not a rendered string."""
        self.slots = tuple(part for part in parts if isinstance(part, Slot))
        self.fields = tuple(slot.field for slot in self.slots)
        self._regex = re.compile(self._pattern())
        # render's steps, worked out once: (literal, None, ...) or (slot, its cache key,
        # the separator its text must not contain (None: fixed width or nothing
        # follows), its position in parts)
        steps: list[tuple[str | Slot, tuple[str, str] | None, str | None, int]] = []
        for i, part in enumerate(parts):
            if isinstance(part, str):
                steps.append((part, None, None, i))
                continue
            following = parts[i + 1] if i + 1 < len(parts) else None
            separator = following[0] if isinstance(following, str) and part.width is None else None
            steps.append((part, (part.field, part.format), separator, i))
        self._steps = tuple(steps)
        self._fast: _FastRender | None = None  # built on the first render

    @property
    def static_prefix(self) -> str:
        """The literal text every key of this template starts with."""
        first = self.parts[0] if self.parts else ""
        return first if isinstance(first, str) else ""

    @property
    def is_constant(self) -> bool:
        """True if the template has no slots (every entity shares one key value)."""
        return not self.slots

    def shape(self) -> tuple[str, ...]:
        """The literal skeleton (``"ORDER#", "{}", "#", "{}"``), for collision checks."""
        return tuple(part if isinstance(part, str) else "{}" for part in self.parts)

    def render(
        self,
        values: Mapping[str, Any],
        owner: str,
        cache: dict[tuple[str, str], str] | None = None,
    ) -> str:
        """The key for ``values`` (every slot's field must be present and not None).

        ``cache`` (field, format) -> text lets several templates rendered from the same
        values render a shared slot once.

        Raises:
            InvalidValueError: a missing value, or one that cannot be rendered safely.
        """
        fast = self._fast
        if fast is None:
            fast = self._fast = _compile_fast(self)
        text = fast(values, cache)
        if text is not None:
            return text
        # the general path: also where every error of a render is raised
        out: list[str] = []
        parts = self.parts
        for part, slot_key, separator, i in self._steps:
            if slot_key is None:
                out.append(part)  # type: ignore[arg-type]  # (a literal)
                continue
            slot: Slot = part  # type: ignore[assignment]
            value = values.get(slot.field)
            if value is None:
                raise InvalidValueError(
                    f"{owner}: key template {self.source!r} needs field {slot.field!r}, "
                    "which has no value"
                )
            text = None if cache is None else cache.get(slot_key)
            if text is None:
                text = self._render_slot(slot, value, parts, i, owner)
                if cache is not None:
                    cache[slot_key] = text
            elif separator is not None and separator in text:
                self._check_separator(slot, text, value, parts, i, owner)  # raises
            out.append(text)
        return "".join(out)

    def fast_render(self) -> _FastRender:
        """:meth:`render`'s compiled fast path: ``fast(values, cache)`` gives the key,
        or None where :meth:`render` goes on to its general path (and its errors);
        generated code calls it directly (:mod:`singletable._writer`)."""
        fast = self._fast
        if fast is None:
            fast = self._fast = _compile_fast(self)
        return fast

    def prefix(self, values: Mapping[str, Any], owner: str) -> str:
        """The longest prefix of the key known from ``values``: literals and slots up
        to the first slot whose field is missing (for ``begins_with``)."""
        out: list[str] = []
        parts = self.parts
        for i, part in enumerate(parts):
            if isinstance(part, str):
                out.append(part)
                continue
            value = values.get(part.field)
            if value is None:
                break
            out.append(self._render_slot(part, value, parts, i, owner))
        return "".join(out)

    def parse(self, key: str) -> dict[str, str] | None:
        """The rendered slot values of ``key`` by field, or None if it does not fit."""
        match = self._regex.fullmatch(key)
        return None if match is None else match.groupdict()

    def _render_slot(
        self, slot: Slot, value: Any, parts: tuple[str | Slot, ...], index: int, owner: str
    ) -> str:
        try:
            text = slot.render(value)
        except (TypeError, ValueError, AttributeError) as error:
            raise InvalidValueError(
                f"{owner}.{slot.field}: {value!r} cannot be rendered in key template "
                f"{self.source!r}: {error}"
            ) from None
        self._check_separator(slot, text, value, parts, index, owner)
        return text

    def _check_separator(
        self,
        slot: Slot,
        text: str,
        value: Any,
        parts: tuple[str | Slot, ...],
        index: int,
        owner: str,
    ) -> None:
        following = parts[index + 1] if index + 1 < len(parts) else None
        if isinstance(following, str) and slot.width is None and following[0] in text:
            raise InvalidValueError(
                f"{owner}.{slot.field}: {value!r} contains {following[0]!r}, which separates "
                f"it from what follows in key template {self.source!r}; the key could not "
                "be read back"
            )

    def _pattern(self) -> str:
        pattern: list[str] = []
        for i, part in enumerate(self.parts):
            if isinstance(part, str):
                pattern.append(re.escape(part))
                continue
            following = self.parts[i + 1] if i + 1 < len(self.parts) else None
            if part.width is not None:
                body = f".{{{part.width}}}"
            elif isinstance(following, str):
                body = f"[^{re.escape(following[0])}]*"
            else:
                body = ".*"
            pattern.append(f"(?P<{part.field}>{body})")
        return "".join(pattern)

    def __repr__(self) -> str:
        return f"KeyTemplate({self.source!r})"


_FastRender = Callable[[Mapping[str, Any], "dict[tuple[str, str], str] | None"], "str | None"]


def _compile_fast(template: KeyTemplate) -> _FastRender:
    """:meth:`KeyTemplate.render` for the case where nothing goes wrong, as one
    straight-line function (source built here, as :mod:`singletable._writer` does):
    each slot's renderer called as the general path calls it, its separator tested
    the same way. It returns None instead of raising: for a missing value, a
    renderer that raises, or a value holding its separator, the general path then
    renders again and raises its own error with its own message. A slot rendered
    by something else than ``str`` shares ``cache`` with the general path (stored
    only once its checks passed, as there)."""
    lines = ["def fast(values, cache):", "    get = values.get"]
    names: dict[str, Any] = {}
    pieces: list[str] = []
    for n, (part, slot_key, separator, _) in enumerate(template._steps):
        if slot_key is None:
            pieces.append(repr(part))
            continue
        slot: Slot = part  # type: ignore[assignment]
        render, value, text = f"render_{n}", f"x_{n}", f"t_{n}"
        names[render] = slot.render
        lines.append(f"    {value} = get({slot.field!r})")
        lines.append(f"    if {value} is None: return None")
        if slot.render is str:
            lines.append(f"    {text} = {value} if type({value}) is str else None")
            lines.append(f"    if {text} is None:")
            lines.append(f"        try: {text} = {render}({value})")
            lines.append("        except Exception: return None")
        else:
            key = repr(slot_key)
            lines.append(f"    {text} = None if cache is None else cache.get({key})")
            lines.append(f"    if {text} is None:")
            lines.append(f"        try: {text} = {render}({value})")
            lines.append("        except Exception: return None")
            if separator is not None:
                lines.append(f"        if {separator!r} in {text}: return None")
            lines.append(f"        if cache is not None: cache[{key}] = {text}")
        if separator is not None:
            lines.append(f"    if {separator!r} in {text}: return None")
        pieces.append(text)
    lines.append(f"    return {' + '.join(pieces) if pieces else repr('')}")
    exec("\n".join(lines), names)  # (source built here from the template)
    fast: _FastRender = names["fast"]
    return fast


def compile_template(
    source: str,
    field_types: Mapping[str, Any],
    owner: str,
    *,
    numeric: bool = False,
) -> KeyTemplate:
    """Compile ``source`` for an entity whose fields have ``field_types``.

    Args:
        source: the template text.
        field_types: field name -> annotation.
        owner: the entity's name (for messages).
        numeric: the key attribute is a number (``N``): the template must be one slot.

    Raises:
        ModelError: naming ``owner`` and the template.
    """
    try:
        raw = parse_slots(source)
    except ValueError as error:
        raise ModelError(f"{owner}: {error}") from None
    parts: list[str | Slot] = []
    seen: set[str] = set()
    for part in raw:
        if isinstance(part, str):
            parts.append(part)
            continue
        name, fmt = part
        if name not in field_types:
            known = ", ".join(sorted(field_types)) or "none"
            raise ModelError(
                f"{owner}: key template {source!r} names unknown field {name!r} (fields: {known})"
            )
        if name in seen:
            raise ModelError(f"{owner}: key template {source!r} uses field {name!r} twice")
        seen.add(name)
        parts.append(_slot(name, fmt, field_types[name], source, owner))
    for before, after in itertools.pairwise(parts):
        if isinstance(before, Slot) and isinstance(after, Slot) and before.width is None:
            raise ModelError(
                f"{owner}: key template {source!r} is ambiguous: nothing separates "
                f"{{{before.field}}} from {{{after.field}}} (put a literal such as '#' "
                "between them)"
            )
    if numeric:
        if len(parts) != 1 or not isinstance(parts[0], Slot):
            raise ModelError(
                f"{owner}: key template {source!r} is for a number key (N): it must be a "
                "single slot such as '{version}'"
            )
        base = base_type(field_types[parts[0].field])
        if not (isinstance(base, type) and issubclass(base, int | Decimal)) or base is bool:
            raise ModelError(
                f"{owner}: key template {source!r} is for a number key (N), but field "
                f"{parts[0].field!r} is not an int or Decimal"
            )
    return KeyTemplate(source, tuple(parts), numeric=numeric)


def key_kind(annotation: Any) -> Literal["S", "N", "B"] | None:
    """The key attribute type a field of this type is stored as, if it can be a key:
    ``N`` for int and Decimal, ``B`` for bytes, ``S`` for str and what is stored as
    text (Literal of str, str Enums, datetime, date, UUID); None otherwise."""
    base = base_type(annotation)
    if typing.get_origin(base) is typing.Literal:
        values = typing.get_args(base)
        if all(isinstance(v, str) for v in values):
            return "S"
        if all(isinstance(v, int) and not isinstance(v, bool) for v in values):
            return "N"
        return None
    if not isinstance(base, type) or base is bool:
        return None
    if issubclass(base, enum.Enum):
        kinds = {key_kind(type(member.value)) for member in base}
        return kinds.pop() if len(kinds) == 1 else None
    if issubclass(base, int | Decimal):
        return "N"
    if issubclass(base, bytes):
        return "B"
    if issubclass(base, str | datetime | date | uuid.UUID):
        return "S"
    return None


def plain_template(field: str, kind: Literal["S", "N", "B"]) -> KeyTemplate:
    """The template of a field that is itself a key attribute of type ``kind``."""
    slot = Slot(field, "", None, str)
    return KeyTemplate("{" + field + "}", (slot,), numeric=kind == "N", plain=True)


def base_type(annotation: Any) -> Any:
    """The type behind Optional[...] / Annotated[...] (None stays out of keys)."""
    origin = typing.get_origin(annotation)
    if origin is typing.Annotated:
        return base_type(typing.get_args(annotation)[0])
    if origin in (typing.Union, types.UnionType):
        args = [arg for arg in typing.get_args(annotation) if arg is not type(None)]
        if len(args) == 1:
            return base_type(args[0])
    return annotation


def _slot(name: str, fmt: str, annotation: Any, source: str, owner: str) -> Slot:
    base = base_type(annotation)
    literal_values = typing.get_args(base) if typing.get_origin(base) is typing.Literal else None

    def bad_format() -> ModelError:
        return ModelError(
            f"{owner}: key template {source!r}: format {fmt!r} does not apply to field "
            f"{name!r} ({getattr(base, '__name__', base)})"
        )

    if literal_values is not None and all(isinstance(v, str) for v in literal_values):
        base = str
    if isinstance(base, type) and issubclass(base, enum.Enum):
        return Slot(name, fmt, None, _enum_renderer(fmt, bad_format))
    if base is bool:
        if fmt:
            raise bad_format()
        return Slot(name, fmt, None, lambda v: "true" if v else "false")
    if isinstance(base, type) and issubclass(base, int):
        if not fmt:
            return Slot(name, fmt, None, lambda v: str(int(v)))
        pad = _PAD.fullmatch(fmt)
        if pad is None:
            raise bad_format()
        width = int(pad.group(1))
        return Slot(name, fmt, width, _padded(width))
    if isinstance(base, type) and issubclass(base, datetime):
        if fmt:
            raise bad_format()
        return Slot(name, fmt, _DATETIME_WIDTH, render_datetime)
    if isinstance(base, type) and issubclass(base, date):
        if fmt:
            raise bad_format()
        return Slot(name, fmt, 10, lambda v: v.isoformat())
    if base is uuid.UUID:
        if fmt:
            raise bad_format()
        return Slot(name, fmt, 36, str)
    if base is Decimal:
        if fmt:
            raise bad_format()
        return Slot(name, fmt, None, _decimal_text)
    if base is str:
        return Slot(name, fmt, None, _str_renderer(fmt, bad_format))
    raise ModelError(
        f"{owner}: key template {source!r}: field {name!r} has type "
        f"{getattr(base, '__name__', base)!r}, which cannot be part of a key "
        "(use str, int, datetime, date, bool, an Enum, a Literal, UUID or Decimal)"
    )


def render_datetime(value: datetime) -> str:
    """ISO-8601 in UTC with microseconds (fixed width); naive datetimes are UTC."""
    if value.tzinfo is None:  # (as it would be once made UTC, without making it so)
        text = value.isoformat()
    else:
        offset = value.utcoffset()
        if offset is None or offset:  # not already UTC time (a zero offset is UTC's wall time)
            value = value.astimezone(UTC)
        # isoformat of an aware datetime at offset zero ends in "+00:00"
        text = value.isoformat()[:-6]
    # isoformat() leaves the fraction out when it is zero; the key always has it.
    # (Faster than strftime, and than isoformat(timespec=...): keyword parsing.)
    return text + "Z" if value.microsecond else text + ".000000Z"


def _padded(width: int) -> Callable[[Any], str]:
    def render(value: Any) -> str:
        number = int(value)
        if number < 0:
            raise ValueError("a zero-padded number must not be negative")
        text = str(number).zfill(width)
        if len(text) > width:
            raise ValueError(f"it has more than {width} digits")
        return text

    return render


def _decimal_text(value: Any) -> str:
    number = Decimal(value)
    if not number.is_finite():
        raise ValueError("not a finite number")
    return format(number.normalize(), "f")


def _str_renderer(fmt: str, bad_format: Callable[[], ModelError]) -> Callable[[Any], str]:
    if fmt == "":
        return str
    if fmt == "upper":
        return lambda v: str(v).upper()
    if fmt == "lower":
        return lambda v: str(v).lower()
    raise bad_format()


def _enum_renderer(fmt: str, bad_format: Callable[[], ModelError]) -> Callable[[Any], str]:
    text = _str_renderer(fmt, bad_format)

    def render(value: Any) -> str:
        raw = value.value if isinstance(value, enum.Enum) else value
        return text(raw)

    return render
