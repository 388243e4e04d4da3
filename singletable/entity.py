"""Entities: Pydantic v2 models bound to a :class:`~singletable.table.Table`.

::

    app = Table("app", indexes=[GlobalIndex("GSI1", pk="GSI1PK", sk="GSI1SK")])

    class Order(Entity, table=app):
        customer_id: str
        order_id: str
        created_at: datetime
        status: Literal["pending", "shipped"]
        total: Decimal

        keys = Keys(
            pk="CUSTOMER#{customer_id}",
            sk="ORDER#{created_at}#{order_id}",
            GSI1=("STATUS#{status}", "{created_at}"),
        )

When the class is created its key templates are compiled against its fields
(:mod:`singletable.keys`), field markers are found (``Annotated[int, Version]``,
``CreatedAt``, ``UpdatedAt``, ``TTL``), and the entity registers with its table,
which refuses key shapes that collide with another entity's. Every mistake is a
:class:`~singletable.errors.ModelError` naming the entity.

:meth:`Entity.to_item` renders an instance as a DynamoDB item (the table and
index key attributes, the entity-type attribute, every field that is not None);
:meth:`Entity.from_item` validates one back. An index is written only when every
field of its key templates has a value, else the item is left out of it (a
sparse index): an index key is written whole or not at all.
"""

from __future__ import annotations

import typing
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, ClassVar, Self

from pydantic import BaseModel, ConfigDict

from singletable._values import AttributeValue, Item
from singletable.codec import epoch_seconds, from_attribute, to_attribute
from singletable.conditions import FieldPathMeta, install_field_paths
from singletable.errors import InvalidValueError, ModelError
from singletable.keys import KeyTemplate, compile_template
from singletable.patterns import Query
from singletable.table import IndexSpec, Table

__all__ = ["TTL", "CreatedAt", "Entity", "EntityModel", "Keys", "UpdatedAt", "Version"]


class _Marker:
    """A field marker used in ``Annotated[...]`` (compared by identity)."""

    def __init__(self, name: str) -> None:
        self.name = name

    def __repr__(self) -> str:
        return self.name


Version = _Marker("Version")
"""``version: Annotated[int, Version] = 0``: optimistic locking (checked and bumped on writes)."""
CreatedAt = _Marker("CreatedAt")
"""``created: Annotated[datetime, CreatedAt]``: set when the item is first written."""
UpdatedAt = _Marker("UpdatedAt")
"""``updated: Annotated[datetime, UpdatedAt]``: set on every write."""
TTL = _Marker("TTL")
"""``expires: Annotated[datetime, TTL]``: stored as epoch seconds in the table's TTL attribute."""

_MARKERS = (Version, CreatedAt, UpdatedAt, TTL)


class Keys:
    """The key templates of an entity, for the table and for each index it is in.

    Args:
        pk: the table's partition key template.
        sk: the table's sort key template (required if the table has a sort key).
        **indexes: per index name, ``(pk, sk)`` for a global index with a sort key,
            ``pk`` alone for one without, and the sort key template alone for a local index.
    """

    def __init__(self, pk: str, sk: str | None = None, **indexes: str | tuple[str, str]) -> None:
        self.pk = pk
        self.sk = sk
        self.indexes = indexes


class _ClassOnly:
    """A class attribute that instances do not have (``Order.keys`` works; on an
    instance the name is absent, so ``dict(order)`` iterates fields, not ``keys()``)."""

    def __init__(self, value: Any) -> None:
        self.value = value

    def __get__(self, instance: object, owner: type[Any]) -> Any:
        if instance is not None:
            raise AttributeError("keys is declared on the entity class, not its instances")
        return self.value


@dataclass
class EntityModel:
    """What an entity class compiles to (``Order.__singletable__``)."""

    table: Table
    type_name: str
    keys: dict[str | None, tuple[KeyTemplate, KeyTemplate | None]]
    attributes: dict[str, str]
    """field name -> attribute name (the field's alias, if it has one)."""
    version: str | None = None
    created_at: str | None = None
    updated_at: str | None = None
    ttl: str | None = None
    key_fields: frozenset[str] = field(default_factory=frozenset)
    writes: tuple[tuple[str, str, str], ...] = ()
    """(field, attribute, "Entity.field" for messages) of every field, in order."""
    skip_attributes: frozenset[str] = field(default_factory=frozenset)
    """Attributes an item carries that are not fields (keys, the entity type)."""

    def index_keys(self, index: str | None) -> tuple[KeyTemplate, KeyTemplate | None]:
        """The templates of ``index`` (None: the table).

        Raises:
            ModelError: if the entity has no keys on that index.
        """
        try:
            return self.keys[index]
        except KeyError:
            where = "the table" if index is None else f"index {index!r}"
            raise ModelError(f"{self.type_name} has no key templates for {where}") from None


class Entity(BaseModel, metaclass=FieldPathMeta):
    """Base class of entities: subclass with ``table=`` (and optionally ``type_name=``).

    Entities are ordinary Pydantic models; class attributes of type :class:`Keys`
    (and access patterns) are declarations, not fields.
    """

    model_config = ConfigDict(ignored_types=(Keys, Query, _ClassOnly), populate_by_name=True)

    __singletable__: ClassVar[EntityModel]

    def __init_subclass__(cls, **kwargs: Any) -> None:
        # table= and type_name= are for __pydantic_init_subclass__, which runs once
        # the fields are known; object.__init_subclass__ takes no keywords.
        kwargs.pop("table", None)
        kwargs.pop("type_name", None)
        super().__init_subclass__(**kwargs)

    @classmethod
    def __pydantic_init_subclass__(
        cls, *, table: Table | None = None, type_name: str | None = None, **kwargs: Any
    ) -> None:
        super().__pydantic_init_subclass__(**kwargs)
        install_field_paths(cls)  # Order.total -> a FieldPath for conditions and updates
        if table is None:
            if "__singletable__" not in cls.__dict__ and not hasattr(cls, "__singletable__"):
                return  # an abstract base: no table yet
            raise ModelError(f"{cls.__name__}: an entity subclass needs table=...")
        cls.__singletable__ = _compile(cls, table, type_name or cls.__name__)
        for name, value in list(vars(cls).items()):
            if isinstance(value, Keys):  # class-only, so dict(entity) does not see .keys
                setattr(cls, name, _ClassOnly(value))
        table.register(cls)
        for value in list(vars(cls).values()):
            if isinstance(value, Query):
                value.bind(cls)  # compile now: a pattern's mistakes surface at import

    # ------------------------------------------------------------------ items

    def to_item(self) -> Item:
        """This entity as a DynamoDB item: keys, entity type and every non-None field.

        Raises:
            InvalidValueError: a value DynamoDB cannot store, or an index key that
                only some of its fields fill in.
        """
        model = type(self).__singletable__
        values = self.__dict__
        item: Item = {}
        for field_name, attribute, path in model.writes:
            value = values.get(field_name)
            if value is None:
                continue
            if field_name == model.ttl:
                item[attribute] = {"N": str(epoch_seconds(value, path))}
                continue
            item[attribute] = to_attribute(value, path)
        item.update(key_item(model, values, type(self).__name__))
        item[model.table.type_attribute] = {"S": model.type_name}
        return item

    @classmethod
    def from_item(cls, item: Mapping[str, AttributeValue]) -> Self:
        """Validate a DynamoDB item back into this entity (key and type attributes are
        ignored; the fields carry every value)."""
        skip = cls.__singletable__.skip_attributes
        data: dict[str, Any] = {}
        for name, value in item.items():
            if name in skip:
                continue  # key and type attributes: the fields carry their values
            kind, raw = next(iter(value.items()))
            if kind == "S" or kind == "BOOL":
                data[name] = raw  # Pydantic takes these as they are
            elif kind == "N":
                data[name] = Decimal(raw)
            else:
                data[name] = from_attribute(value)
        return cls.model_validate(data)

    @classmethod
    def key(cls, **values: Any) -> Item:
        """The table key (wire shape) of the item these field values identify."""
        model = cls.__singletable__
        pk, sk = model.index_keys(None)
        spec = model.table.primary
        out = {spec.pk: _key_value(pk, values, cls.__name__)}
        if sk is not None and spec.sk is not None:
            out[spec.sk] = _key_value(sk, values, cls.__name__)
        return out


def key_item(
    model: EntityModel,
    values: Mapping[str, Any],
    owner: str,
    *,
    indexes: tuple[str | None, ...] | None = None,
) -> Item:
    """The key attributes of the table and of every index the values fill in
    (only of ``indexes``, when given; None in it is the table)."""
    item: Item = {}
    cache: dict[tuple[str, str], str] = {}  # a slot rendered once, even if several keys use it
    for index, (pk, sk) in model.keys.items():
        if indexes is not None and index not in indexes:
            continue
        spec = model.table.spec(index)
        templates = [(spec.pk, pk)]
        if sk is not None and spec.sk is not None:
            templates.append((spec.sk, sk))
        if index is not None and any(
            values.get(f) is None for _, template in templates for f in template.fields
        ):
            continue  # sparse: an item is in an index only with every key field set
        for attribute, template in templates:
            if index is not None and spec.local and attribute == spec.pk:
                continue  # a local index shares the table's partition key
            item[attribute] = _key_value(template, values, owner, cache)
    return item


def _key_value(
    template: KeyTemplate,
    values: Mapping[str, Any],
    owner: str,
    cache: dict[tuple[str, str], str] | None = None,
) -> AttributeValue:
    if template.numeric:
        field_name = template.fields[0]
        value = values.get(field_name)
        if value is None:
            raise InvalidValueError(f"{owner}: key field {field_name!r} has no value")
        return to_attribute(value, f"{owner}.{field_name}")
    try:
        return {"S": template.render(values, owner, cache)}
    except ModelError as error:
        raise InvalidValueError(str(error)) from None


def _compile(cls: type[Entity], table: Table, type_name: str) -> EntityModel:
    owner = cls.__name__
    fields = cls.model_fields
    field_types = {name: info.annotation for name, info in fields.items()}
    attributes = {name: info.alias or name for name, info in fields.items()}
    reserved = table.key_attributes | {table.type_attribute}
    for name, attribute in attributes.items():
        if attribute in reserved:
            raise ModelError(
                f"{owner}.{name}: attribute {attribute!r} is a key or the entity-type "
                f"attribute of table {table.name!r}; fields cannot use it"
            )
    declared = [value for value in vars(cls).values() if isinstance(value, Keys)]
    if len(declared) != 1:
        raise ModelError(
            f"{owner}: declare the key templates once, as keys = Keys(pk=..., sk=...)"
            if not declared
            else f"{owner}: more than one Keys(...) declared"
        )
    spec = declared[0]
    keys: dict[str | None, tuple[KeyTemplate, KeyTemplate | None]] = {}
    primary = table.primary
    if (spec.sk is None) != (primary.sk is None):
        raise ModelError(
            f"{owner}: table {table.name!r} "
            + ("has a sort key; give sk=..." if primary.sk is not None else "has no sort key")
        )
    keys[None] = (
        compile_template(spec.pk, field_types, owner, numeric=primary.pk_type == "N"),
        None
        if spec.sk is None
        else compile_template(spec.sk, field_types, owner, numeric=primary.sk_type == "N"),
    )
    for index_name, templates in spec.indexes.items():
        index = table.spec(index_name)
        keys[index_name] = _index_templates(index, templates, keys[None][0], field_types, owner)
    model = EntityModel(table, type_name, keys, attributes)
    for name, info in fields.items():
        for marker in _markers(info.annotation, info.metadata):
            slot = {
                Version: "version",
                CreatedAt: "created_at",
                UpdatedAt: "updated_at",
                TTL: "ttl",
            }
            attr = slot[marker]
            if getattr(model, attr) is not None:
                raise ModelError(f"{owner}: two fields are marked {marker!r}")
            setattr(model, attr, name)
    if model.ttl is not None and table.ttl_attribute != attributes[model.ttl]:
        raise ModelError(
            f"{owner}.{model.ttl} is the TTL field, but table {table.name!r} has "
            f"ttl_attribute={table.ttl_attribute!r} (set it to {attributes[model.ttl]!r})"
        )
    model.skip_attributes = table.key_attributes | {table.type_attribute}
    model.writes = tuple((name, attr, f"{owner}.{name}") for name, attr in attributes.items())
    model.key_fields = frozenset(
        f for pk, sk in keys.values() for t in (pk, sk) if t is not None for f in t.fields
    )
    return model


def _index_templates(
    index: IndexSpec,
    templates: str | tuple[str, str],
    table_pk: KeyTemplate,
    field_types: Mapping[str, Any],
    owner: str,
) -> tuple[KeyTemplate, KeyTemplate | None]:
    if index.local:
        if not isinstance(templates, str):
            raise ModelError(
                f"{owner}: {index.name} is a local index: give only its sort key template"
            )
        return table_pk, compile_template(
            templates, field_types, owner, numeric=index.sk_type == "N"
        )
    if isinstance(templates, str):
        if index.sk is not None:
            raise ModelError(f"{owner}: index {index.name} has a sort key: give (pk, sk) templates")
        return compile_template(templates, field_types, owner, numeric=index.pk_type == "N"), None
    pk, sk = templates
    if index.sk is None:
        raise ModelError(f"{owner}: index {index.name} has no sort key: give only its pk template")
    return (
        compile_template(pk, field_types, owner, numeric=index.pk_type == "N"),
        compile_template(sk, field_types, owner, numeric=index.sk_type == "N"),
    )


def _markers(annotation: Any, metadata: list[Any]) -> list[_Marker]:
    found = [m for m in metadata if any(m is marker for marker in _MARKERS)]
    if typing.get_origin(annotation) is typing.Annotated:
        found += [m for m in typing.get_args(annotation)[1:] if any(m is x for x in _MARKERS)]
    return found
