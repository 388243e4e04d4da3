"""Typed conditions on entity fields, rendered to expressions with placeholders.

Class-level access to a field of an entity is a :class:`FieldPath`, a document
path that knows the attribute name the item stores the field under (its alias),
the field's type, and how its values are stored::

    (Order.total > 100) & Order.status.is_in("pending", "paid")
    Order.address.city == "Oslo"              # nested model member
    Order.lines[0].price <= Order.budget      # list element, path-to-path comparison
    ~Order.note.exists() | Order.tags.contains("gift")
    Order.name.size() > 3                     # reserved words are fine: placeholders

Every operator builds an expression AST (:mod:`singletable.expressions.nodes`);
:func:`render_condition` turns it into text plus ``#n``/``:v`` placeholder maps, so
no expression string is ever written by hand and reserved words (``name``,
``status``, ``location``) need no care. Instance access (``order.total``) is
untouched: it returns the value.

Values are stored the way the item stores them: a value is first validated
against the field's type by Pydantic (``Order.status == "pending"`` becomes the
``Status.PENDING`` enum member, ``"x"`` for a ``Decimal`` field is refused), then
dumped and converted by :func:`singletable.codec.to_attribute`; the TTL field
compares as epoch seconds. A value that cannot be stored, or does not fit the
field, is an :class:`~singletable.errors.InvalidValueError` naming the entity and
field (``Order.total: ...``). ``None`` is refused: a field set to None is left out
of the item, so use ``.not_exists()``.

Static typing: ``FieldPath`` is generic in the field's value type, and its
operators are typed (``FieldPath[Decimal] > 100`` is a :class:`Condition`,
``> "x"`` is an error). Mypy sees class-level field access as the field's type
(``Decimal``) unless the plugin :mod:`singletable.mypy` is enabled; without it,
:func:`field_path` gives the typed view: ``field_path(Order.total) > 100``.

How class access works (:func:`install_field_paths`): Pydantic v2 keeps instance
values in the instance ``__dict__`` and removes field defaults from the class, so
a *non-data* descriptor per field on the class answers class access with the
field path while instance access keeps finding the value first. Pydantic's own
introspection of the class (``getattr(cls, field)`` while it builds a subclass,
``hasattr(base, field)`` for its shadowing warning) must not see the paths, or an
inherited field would take a path as its default: the descriptor answers code
running in Pydantic's modules, and classes whose fields are not yet collected,
with ``AttributeError``, exactly what they saw before.
"""

from __future__ import annotations

import sys
import typing
from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import TYPE_CHECKING, Any, Generic, Literal, TypeAlias, TypeVar, overload

from pydantic import BaseModel, TypeAdapter, ValidationError
from pydantic._internal._model_construction import ModelMetaclass

from singletable._annotations import (
    adapter,
    element_type,
    mapping_value_type,
    model_class,
    nested_attribute,
    strip_optional,
    type_name,
)
from singletable._values import AttributeValue
from singletable.codec import epoch_seconds, to_attribute
from singletable.errors import InvalidValueError
from singletable.expressions import nodes
from singletable.expressions.render import Rendered, render

if TYPE_CHECKING:
    from singletable.updates import Update, UpdateValue

__all__ = [
    "AttributeTypeName",
    "Condition",
    "Expr",
    "FieldPath",
    "FieldPathMeta",
    "attribute",
    "expression_parameters",
    "field_path",
    "install_field_paths",
    "projection",
    "render_condition",
]

T = TypeVar("T")
U = TypeVar("U")
Number: TypeAlias = int | float | Decimal
AttributeTypeName = Literal["S", "SS", "N", "NS", "B", "BS", "BOOL", "NULL", "L", "M"]
"""The type names ``attribute_type`` accepts."""

_ATTRIBUTE_TYPES = frozenset(typing.get_args(AttributeTypeName))


# --------------------------------------------------------------------------- conditions


class Condition:
    """A condition on an item (for ``ConditionExpression`` and ``FilterExpression``).

    Combine with ``&`` (and), ``|`` (or) and ``~`` (not). A condition has no truth
    value (``and``/``or``/``not`` and chained comparisons such as ``1 < Order.a < 5``
    raise ``TypeError``); the one exception is ``path == path``, true when both are
    the same path, so that field paths work as dict keys and in ``in`` tests.

    Attributes:
        node: the expression AST.
    """

    __slots__ = ("_same", "node")

    def __init__(self, node: nodes.ConditionNode, *, same: bool | None = None) -> None:
        self.node = node
        self._same = same

    def __and__(self, other: Condition) -> Condition:
        if not isinstance(other, Condition):
            return NotImplemented
        return Condition(
            nodes.And(_members(self.node, nodes.And) + _members(other.node, nodes.And))
        )

    def __or__(self, other: Condition) -> Condition:
        if not isinstance(other, Condition):
            return NotImplemented
        return Condition(nodes.Or(_members(self.node, nodes.Or) + _members(other.node, nodes.Or)))

    def __invert__(self) -> Condition:
        if isinstance(self.node, nodes.Not):
            return Condition(self.node.condition)
        return Condition(nodes.Not(self.node))

    def __bool__(self) -> bool:
        if self._same is not None:
            return self._same
        raise TypeError(
            "a Condition has no truth value: combine conditions with & | ~ "
            "(not and/or/not), and compare one bound at a time (no a < x < b)"
        )

    def render(self, name_prefix: str = "#n", value_prefix: str = ":v") -> Rendered:
        """The expression text and its placeholder maps."""
        return render(self.node, name_prefix, value_prefix)

    def __repr__(self) -> str:
        rendered = self.render()
        text = rendered.text
        for ref, name in sorted(rendered.names.items(), key=lambda kv: -len(kv[0])):
            text = text.replace(ref, name)
        return f"Condition({text!r}, values={rendered.values!r})"


def _members(
    node: nodes.ConditionNode, kind: type[nodes.And] | type[nodes.Or]
) -> tuple[nodes.ConditionNode, ...]:
    return node.conditions if isinstance(node, kind) else (node,)


def render_condition(
    condition: Condition, name_prefix: str = "#n", value_prefix: str = ":v"
) -> Rendered:
    """Text plus ``ExpressionAttributeNames``/``Values`` maps for a condition."""
    return render(condition.node, name_prefix, value_prefix)


# --------------------------------------------------------------------------- operands


class Expr(Generic[T]):
    """Something a condition can compare: a :class:`FieldPath` or ``path.size()``.

    ``T`` is the type of the values it holds; comparisons take a ``T`` (for numbers:
    any of ``int``, ``float``, ``Decimal``) or another expression.
    """

    __slots__ = ("_label", "_node")

    def __init__(self, node: nodes.Operand, label: str) -> None:
        self._node = node
        self._label = label

    @property
    def label(self) -> str:
        """How messages name it (``Order.address.city``, ``size(Order.tags)``)."""
        return self._label

    @property
    def node(self) -> nodes.Operand:
        """The operand's AST node."""
        return self._node

    def _encode(self, value: Any) -> AttributeValue:
        """``value`` as stored, for comparing with this expression."""
        if value is None:
            raise InvalidValueError(f"{self._label}: cannot compare with None")
        return to_attribute(value, self._label)

    def _operand(self, value: Any) -> nodes.Operand:
        if isinstance(value, Expr):
            return value._node
        if isinstance(value, Condition):
            raise InvalidValueError(f"{self._label}: cannot compare with a condition")
        return nodes.Literal(self._encode(value))

    def _compare(self, op: str, other: Any) -> Condition:
        return Condition(nodes.Compare(op, self._node, self._operand(other)))

    @overload  # type: ignore[override]
    def __eq__(self: Expr[Decimal], other: Number | Expr[Any]) -> Condition: ...
    @overload
    def __eq__(self: Expr[float], other: Number | Expr[Any]) -> Condition: ...
    @overload
    def __eq__(self, other: T | Expr[Any]) -> Condition: ...
    def __eq__(self, other: Any) -> Condition:
        """``=``."""
        same = isinstance(other, Expr) and other._node == self._node
        return Condition(nodes.Compare("=", self._node, self._operand(other)), same=same)

    @overload  # type: ignore[override]
    def __ne__(self: Expr[Decimal], other: Number | Expr[Any]) -> Condition: ...
    @overload
    def __ne__(self: Expr[float], other: Number | Expr[Any]) -> Condition: ...
    @overload
    def __ne__(self, other: T | Expr[Any]) -> Condition: ...
    def __ne__(self, other: Any) -> Condition:
        """``<>`` (true when the attribute is missing)."""
        same = isinstance(other, Expr) and other._node == self._node
        return Condition(nodes.Compare("<>", self._node, self._operand(other)), same=not same)

    def __hash__(self) -> int:
        return hash(self._node)

    @overload
    def __lt__(self: Expr[Decimal], other: Number | Expr[Any]) -> Condition: ...
    @overload
    def __lt__(self: Expr[float], other: Number | Expr[Any]) -> Condition: ...
    @overload
    def __lt__(self, other: T | Expr[Any]) -> Condition: ...
    def __lt__(self, other: Any) -> Condition:
        """``<``."""
        return self._compare("<", other)

    @overload
    def __le__(self: Expr[Decimal], other: Number | Expr[Any]) -> Condition: ...
    @overload
    def __le__(self: Expr[float], other: Number | Expr[Any]) -> Condition: ...
    @overload
    def __le__(self, other: T | Expr[Any]) -> Condition: ...
    def __le__(self, other: Any) -> Condition:
        """``<=``."""
        return self._compare("<=", other)

    @overload
    def __gt__(self: Expr[Decimal], other: Number | Expr[Any]) -> Condition: ...
    @overload
    def __gt__(self: Expr[float], other: Number | Expr[Any]) -> Condition: ...
    @overload
    def __gt__(self, other: T | Expr[Any]) -> Condition: ...
    def __gt__(self, other: Any) -> Condition:
        """``>``."""
        return self._compare(">", other)

    @overload
    def __ge__(self: Expr[Decimal], other: Number | Expr[Any]) -> Condition: ...
    @overload
    def __ge__(self: Expr[float], other: Number | Expr[Any]) -> Condition: ...
    @overload
    def __ge__(self, other: T | Expr[Any]) -> Condition: ...
    def __ge__(self, other: Any) -> Condition:
        """``>=``."""
        return self._compare(">=", other)

    @overload
    def between(
        self: Expr[Decimal], low: Number | Expr[Any], high: Number | Expr[Any]
    ) -> Condition: ...
    @overload
    def between(
        self: Expr[float], low: Number | Expr[Any], high: Number | Expr[Any]
    ) -> Condition: ...
    @overload
    def between(self, low: T | Expr[Any], high: T | Expr[Any]) -> Condition: ...
    def between(self, low: Any, high: Any) -> Condition:
        """``BETWEEN low AND high`` (both bounds included)."""
        return Condition(nodes.Between(self._node, self._operand(low), self._operand(high)))

    @overload
    def is_in(self: Expr[Decimal], *values: Number | Expr[Any]) -> Condition: ...
    @overload
    def is_in(self: Expr[float], *values: Number | Expr[Any]) -> Condition: ...
    @overload
    def is_in(self, *values: T | Expr[Any]) -> Condition: ...
    def is_in(self, *values: Any) -> Condition:
        """``IN (values...)``: one to 100 values (DynamoDB's limit)."""
        if not 1 <= len(values) <= 100:
            raise InvalidValueError(
                f"{self._label}: is_in() takes 1 to 100 values, not {len(values)}"
            )
        return Condition(nodes.In(self._node, tuple(self._operand(v) for v in values)))

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self._label})"


class FieldPath(Expr[T]):
    """A document path into an entity's items: a field, a nested member, a list element.

    ``Order.address.city`` is the ``city`` member of the ``address`` map (attribute
    names are the fields' aliases); ``Order.lines[0]`` an element of a list;
    ``Order.meta["size"]`` a map member by name, for names that are also methods
    here. Created by class-level access to an entity's field (see
    :func:`install_field_paths`) or by :func:`attribute`.
    """

    __slots__ = ("_adapter", "_annotation", "_entity", "_required", "_ttl")

    def __init__(
        self,
        entity: str,
        path: nodes.Path,
        label: str,
        annotation: Any = Any,
        *,
        required: bool = False,
        ttl: bool = False,
    ) -> None:
        super().__init__(path, label)
        self._entity = entity
        self._annotation = annotation
        self._required = required
        self._ttl = ttl
        self._adapter: TypeAdapter[Any] | None = None

    # ---------------------------------------------------------------- description

    @property
    def path(self) -> nodes.Path:
        """The document path (bare attribute names, rendered into placeholders)."""
        node = self._node
        assert isinstance(node, nodes.Path)
        return node

    @property
    def entity(self) -> str:
        """The entity class name (empty for :func:`attribute` paths)."""
        return self._entity

    @property
    def annotation(self) -> Any:
        """The Python type of the values at this path (``Any`` when unknown)."""
        return self._annotation

    @property
    def required(self) -> bool:
        """The model requires a value here (a required field or model member)."""
        return self._required

    @property
    def is_ttl(self) -> bool:
        """This is the entity's TTL field (stored as epoch seconds)."""
        return self._ttl

    @property
    def top_field(self) -> str:
        """The label's first field name (``address`` for ``Order.address.city``)."""
        rest = self._label.split(".", 1)[-1] if self._entity else self._label
        for i, char in enumerate(rest):
            if char in ".[":
                return rest[:i]
        return rest

    # ---------------------------------------------------------------- navigation

    def __getattr__(self, name: str) -> FieldPath[Any]:
        if name.startswith("_"):
            raise AttributeError(name)
        return self._member(name, as_attribute=True)

    @overload
    def __getitem__(self: FieldPath[list[U]], key: int) -> FieldPath[U]: ...
    @overload
    def __getitem__(self: FieldPath[dict[str, U]], key: str) -> FieldPath[U]: ...
    @overload
    def __getitem__(self, key: int | str) -> FieldPath[Any]: ...
    def __getitem__(self, key: int | str) -> FieldPath[Any]:
        """``path[3]``: a list element; ``path["name"]``: a map member by name."""
        if isinstance(key, str):
            return self._member(key, as_attribute=False)
        if isinstance(key, bool) or not isinstance(key, int) or key < 0:
            raise InvalidValueError(f"{self._label}: a list index must be an int >= 0, not {key!r}")
        element = element_type(self._annotation, lists_only=True)
        if element is None:
            raise InvalidValueError(
                f"{self._label} holds {type_name(self._annotation)}, not a list: "
                "it has no elements to index"
            )
        return FieldPath(
            self._entity,
            nodes.Path((*self.path.elements, nodes.Index(key))),
            f"{self._label}[{key}]",
            element,
        )

    def _member(self, name: str, *, as_attribute: bool) -> FieldPath[Any]:
        annotation = strip_optional(self._annotation)
        model = model_class(annotation)
        if model is not None:
            fields = model.model_fields
            info = fields.get(name)
            if info is None:
                by_attribute = {nested_attribute(n, i): n for n, i in fields.items()}
                if name in by_attribute:
                    info, name = fields[by_attribute[name]], by_attribute[name]
                else:
                    error = AttributeError if as_attribute else InvalidValueError
                    raise error(
                        f"{self._label} ({model.__name__}) has no field {name!r} "
                        f"(fields: {', '.join(fields)})"
                    )
            return FieldPath(
                self._entity,
                nodes.Path((*self.path.elements, nodes.Name(nested_attribute(name, info)))),
                f"{self._label}.{name}",
                info.annotation,
                required=info.is_required(),
            )
        value_type = mapping_value_type(annotation)
        if value_type is None:
            error = AttributeError if as_attribute else InvalidValueError
            raise error(
                f"{self._label} holds {type_name(self._annotation)}, not a map or model: "
                f"it has no member {name!r}"
            )
        return FieldPath(
            self._entity,
            nodes.Path((*self.path.elements, nodes.Name(name))),
            f"{self._label}.{name}",
            value_type,
        )

    # ---------------------------------------------------------------- values

    def validate(self, value: Any) -> Any:
        """``value`` validated against this path's type (Pydantic, lax mode).

        Raises:
            InvalidValueError: the value does not fit, naming the entity and field.
        """
        if self._annotation is Any:
            return value
        if self._adapter is None:
            self._adapter = adapter(self._annotation)
        try:
            return self._adapter.validate_python(value)
        except ValidationError as error:
            problem = "; ".join(e["msg"] for e in error.errors())
            raise InvalidValueError(
                f"{self._label}: {value!r} is not a valid {type_name(self._annotation)} "
                f"({problem})"
            ) from None

    def encode(self, value: Any) -> AttributeValue:
        """``value`` as the item stores it at this path (validated, dumped, converted).

        Raises:
            InvalidValueError: None, a value that does not fit the field or that
                DynamoDB cannot store; the message names the entity and field.
        """
        if value is None:
            raise InvalidValueError(
                f"{self._label}: cannot compare with None (a field set to None is left out "
                f"of the item; use {self._label}.not_exists())"
            )
        validated = self.validate(value)
        if self._ttl:
            return {"N": str(epoch_seconds(validated, self._label))}
        return to_attribute(validated, self._label)

    def _encode(self, value: Any) -> AttributeValue:
        return self.encode(value)

    def _element_path(self, what: str) -> FieldPath[Any]:
        """A path-like view typed by the element type, for encoding members."""
        element = element_type(self._annotation)
        if element is None:
            raise InvalidValueError(f"{self._label} holds {type_name(self._annotation)}: {what}")
        return FieldPath(self._entity, self.path, self._label, element)

    # ---------------------------------------------------------------- functions

    def exists(self) -> Condition:
        """``attribute_exists(path)``."""
        return Condition(nodes.Call("attribute_exists", (self._node,)))

    def not_exists(self) -> Condition:
        """``attribute_not_exists(path)``."""
        return Condition(nodes.Call("attribute_not_exists", (self._node,)))

    def attribute_type(self, type_name: AttributeTypeName) -> Condition:
        """``attribute_type(path, :t)``: the stored value has DynamoDB type ``type_name``."""
        if type_name not in _ATTRIBUTE_TYPES:
            raise InvalidValueError(
                f"{self._label}: attribute_type takes one of {', '.join(sorted(_ATTRIBUTE_TYPES))}"
                f", not {type_name!r}"
            )
        return Condition(
            nodes.Call("attribute_type", (self._node, nodes.Literal({"S": type_name})))
        )

    def begins_with(self, prefix: str | bytes) -> Condition:
        """``begins_with(path, :prefix)`` for string (or binary) values."""
        if not isinstance(prefix, str | bytes):
            raise InvalidValueError(
                f"{self._label}: begins_with takes a str or bytes prefix, not {prefix!r}"
            )
        value = to_attribute(prefix, self._label)
        return Condition(nodes.Call("begins_with", (self._node, nodes.Literal(value))))

    def contains(self, value: Any) -> Condition:
        """``contains(path, :v)``: a substring of a string, a member of a set or list.

        The value is validated against the element type for set and list fields,
        and must be a str (or bytes) for scalar fields.
        """
        if isinstance(value, Expr):
            return Condition(nodes.Call("contains", (self._node, value._node)))
        if element_type(self._annotation) is not None:
            encoded = self._element_path("").encode(value)
        elif isinstance(value, str | bytes):
            encoded = to_attribute(value, self._label)
        else:
            raise InvalidValueError(
                f"{self._label}: contains() takes a substring (str or bytes) here, not {value!r}"
            )
        return Condition(nodes.Call("contains", (self._node, nodes.Literal(encoded))))

    def size(self) -> Expr[int]:
        """``size(path)``: the length of a string/binary, the member count of a set, list
        or map; compare it with ints."""
        return Expr(nodes.Call("size", (self._node,)), f"size({self._label})")

    # ---------------------------------------------------------------- update arithmetic

    @overload
    def __add__(self: FieldPath[Decimal], other: Number | Expr[Any]) -> UpdateValue[Decimal]: ...
    @overload
    def __add__(self: FieldPath[float], other: Number | Expr[Any]) -> UpdateValue[float]: ...
    @overload
    def __add__(self, other: T | Expr[Any]) -> UpdateValue[T]: ...
    def __add__(self, other: Any) -> UpdateValue[Any]:
        """``path + value``, the value of a SET action (numbers only)."""
        from singletable.updates import arithmetic

        return arithmetic(self, "+", other)

    @overload
    def __sub__(self: FieldPath[Decimal], other: Number | Expr[Any]) -> UpdateValue[Decimal]: ...
    @overload
    def __sub__(self: FieldPath[float], other: Number | Expr[Any]) -> UpdateValue[float]: ...
    @overload
    def __sub__(self, other: T | Expr[Any]) -> UpdateValue[T]: ...
    def __sub__(self, other: Any) -> UpdateValue[Any]:
        """``path - value``, the value of a SET action (numbers only)."""
        from singletable.updates import arithmetic

        return arithmetic(self, "-", other)

    def __radd__(self, other: Any) -> UpdateValue[T]:
        from singletable.updates import arithmetic

        return arithmetic(other, "+", self)

    def __rsub__(self, other: Any) -> UpdateValue[T]:
        from singletable.updates import arithmetic

        return arithmetic(other, "-", self)


# --------------------------------------------------------------------------- entities


def _field_path(owner: type[BaseModel], name: str) -> FieldPath[Any]:
    info = owner.model_fields[name]
    model = owner.__dict__.get("__singletable__")
    attributes: Mapping[str, str] = getattr(model, "attributes", {})
    attribute = attributes.get(name) or info.alias or name
    return FieldPath(
        owner.__name__,
        nodes.Path((nodes.Name(attribute),)),
        f"{owner.__name__}.{name}",
        info.annotation,
        required=info.is_required(),
        ttl=getattr(model, "ttl", None) == name,
    )


class _FieldDescriptor:
    """A non-data descriptor: class access gives the field path, instances their value."""

    __slots__ = ("name",)

    def __init__(self, name: str) -> None:
        self.name = name

    def __get__(self, instance: Any, owner: type[BaseModel]) -> Any:
        if instance is not None:  # only reached when the instance lacks the value
            raise AttributeError(self.name)
        caller = sys._getframe(1).f_globals.get("__name__", "")
        if caller.startswith("pydantic.") or "__pydantic_fields__" not in owner.__dict__:
            # Pydantic introspecting the class, or a subclass still being built:
            # they must see what they would see without us.
            raise AttributeError(self.name)
        cache = owner.__dict__.get("__singletable_paths__")
        if cache is None:
            cache = {}
            type.__setattr__(owner, "__singletable_paths__", cache)
        path = cache.get(self.name)
        if path is None:
            if self.name not in owner.model_fields:  # a subclass turned it into a non-field
                raise AttributeError(self.name)
            path = cache[self.name] = _field_path(owner, self.name)
        return path


def install_field_paths(cls: type[BaseModel]) -> None:
    """Make class-level access to each field of ``cls`` return its :class:`FieldPath`.

    Call once the class's fields are known (``__pydantic_init_subclass__``); the
    paths are built on first access and use ``cls.__singletable__.attributes`` (the
    fields' aliases) and ``.ttl`` when the class has them. Instances, validation,
    ``model_dump``, equality, copying, pickling and subclassing are not affected.
    """
    for name in cls.model_fields:
        if not isinstance(cls.__dict__.get(name), _FieldDescriptor):
            type.__setattr__(cls, name, _FieldDescriptor(name))
    if "__singletable_paths__" in cls.__dict__:
        type.__delattr__(cls, "__singletable_paths__")


class FieldPathMeta(ModelMetaclass):
    """A Pydantic model metaclass whose class-level ``AttributeError`` names the fields.

    ``Order.nope`` raises ``AttributeError: Order has no field 'nope' (fields: ...)``
    instead of Pydantic's bare ``nope``. Use as the entity base's metaclass.
    """

    def __getattr__(cls, item: str) -> Any:
        try:
            return super().__getattr__(item)  # type: ignore[misc]
        except AttributeError:
            fields = cls.__dict__.get("__pydantic_fields__")
            if item.startswith("_") or fields is None:
                raise
            raise AttributeError(
                f"{cls.__name__} has no field {item!r} (fields: {', '.join(fields)})"
            ) from None


@overload
def field_path(value: FieldPath[T]) -> FieldPath[T]: ...
@overload
def field_path(value: T) -> FieldPath[T]: ...
def field_path(value: Any) -> FieldPath[Any]:
    """The typed view of a class-level field access, for mypy without the plugin.

    ``field_path(Order.total) > 100``: at runtime ``Order.total`` already is the
    path (this checks it); statically it turns the field's type ``Decimal`` into
    ``FieldPath[Decimal]`` (and with the plugin, a ``FieldPath`` stays as it is).
    """
    if not isinstance(value, FieldPath):
        raise TypeError(
            f"field_path() takes a class-level field access such as Order.total, not {value!r}"
        )
    return value


def attribute(name: str, annotation: Any = Any) -> FieldPath[Any]:
    """A path to a raw attribute that is not an entity field (a key, the type attribute)."""
    if not name:
        raise InvalidValueError("an attribute name must not be empty")
    return FieldPath("", nodes.Path((nodes.Name(name),)), name, annotation)


# --------------------------------------------------------------------------- requests


def projection(*paths: FieldPath[Any] | str) -> nodes.ProjectionExpression:
    """A projection of field paths (or raw attribute names, such as the key attributes)."""
    if not paths:
        raise InvalidValueError("a projection needs at least one path")
    out: list[nodes.Path] = []
    for path in paths:
        node = attribute(path).path if isinstance(path, str) else path.path
        if node not in out:
            out.append(node)
    return nodes.ProjectionExpression(tuple(out))


_make_projection = projection

_PREFIXES = {
    "KeyConditionExpression": ("#k", ":k"),
    "ConditionExpression": ("#c", ":c"),
    "FilterExpression": ("#f", ":f"),
    "UpdateExpression": ("#u", ":u"),
    "ProjectionExpression": ("#p", ":p"),
}


def expression_parameters(
    *,
    condition: Condition | None = None,
    filter: Condition | None = None,
    update: Update | None = None,
    projection: Sequence[FieldPath[Any] | str] | nodes.ProjectionExpression | None = None,
    key_condition: Condition | nodes.ConditionNode | None = None,
) -> dict[str, Any]:
    """The expression members of one request, with merged placeholder maps.

    Each expression gets its own placeholder prefixes (``#c0``/``:c0`` for the
    condition, ``#f``/``:f`` filter, ``#u``/``:u`` update, ``#p`` projection, ``#k``/``:k``
    key condition), so their maps merge without clashes and every placeholder is
    used. ``ExpressionAttributeNames``/``Values`` are left out when empty.
    """
    parts: dict[str, nodes.ConditionNode | nodes.UpdateExpression | nodes.ProjectionExpression]
    parts = {}
    if key_condition is not None:
        parts["KeyConditionExpression"] = (
            key_condition.node if isinstance(key_condition, Condition) else key_condition
        )
    if condition is not None:
        parts["ConditionExpression"] = condition.node
    if filter is not None:
        parts["FilterExpression"] = filter.node
    if update is not None:
        parts["UpdateExpression"] = update.expression()
    if projection is not None:
        parts["ProjectionExpression"] = (
            projection
            if isinstance(projection, nodes.ProjectionExpression)
            else _make_projection(*projection)
        )
    out: dict[str, Any] = {}
    names: dict[str, str] = {}
    values: dict[str, AttributeValue] = {}
    for member, node in parts.items():
        name_prefix, value_prefix = _PREFIXES[member]
        rendered = render(node, name_prefix, value_prefix)
        out[member] = rendered.text
        names.update(rendered.names)
        values.update(rendered.values)
    if names:
        out["ExpressionAttributeNames"] = names
    if values:
        out["ExpressionAttributeValues"] = values
    return out
