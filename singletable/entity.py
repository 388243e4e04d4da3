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
``CreatedAt``, ``UpdatedAt``, ``TTL``, ``Unique``), and the entity registers with its table,
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
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar, Self, TypeVar

from pydantic import BaseModel, ConfigDict, ValidationError

from singletable._keyargs import exact_types, key_arguments
from singletable._reader import Reader, decode_value, reader
from singletable._unique import guard_template
from singletable._upgrades import Upgrade, apply_upgrades, check_upgrades, remember_read
from singletable._values import AttributeValue, Item
from singletable._writer import writer
from singletable.codec import from_attribute, to_attribute
from singletable.conditions import FieldPathMeta, install_field_paths
from singletable.errors import InvalidValueError, ItemValidationError, ModelError
from singletable.keys import KeyTemplate, compile_template, key_kind, plain_template
from singletable.patterns import Query
from singletable.table import IndexSpec, KeyType, Table

__all__ = [
    "TTL",
    "CreatedAt",
    "Entity",
    "EntityModel",
    "Keys",
    "Unique",
    "UpdatedAt",
    "Version",
]


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

Unique = _Marker("Unique")
"""``email: Annotated[str, Unique]``: no two entities of the type hold the same value
(enforced by a guard item per value, written in the same transaction; see :mod:`._unique`)."""

_MARKERS = (Version, CreatedAt, UpdatedAt, TTL, Unique)
E = TypeVar("E", bound="Entity")


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


_KeyGroup = tuple[tuple[str, ...], tuple[tuple[str, KeyTemplate, bool], ...]]
"""(fields a sparse index key needs, ((attribute, template, only check the field), ...))."""


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
    key_fields_sorted: list[str] = field(default_factory=list)
    """:attr:`key_fields` in order (what an update takes besides the table key)."""
    writes: tuple[tuple[str, str, str], ...] = ()
    """(field, attribute, "Entity.field" for messages) of every field, in order."""
    skip_attributes: frozenset[str] = field(default_factory=frozenset)
    """Attributes an item carries that are not fields (keys, the entity type)."""
    table_key_fields: tuple[str, ...] = ()
    """The fields of the table key (what get, update and delete take), in order."""
    table_key_set: frozenset[str] = field(default_factory=frozenset)
    key_exact: dict[str, type[Any]] = field(default_factory=dict)
    """Key fields whose values of exactly this type need no validating."""
    key_validator: Any = None
    """Validates key arguments (built by :mod:`._keyargs` when first needed)."""
    key_types: dict[str, tuple[KeyType, str]] = field(default_factory=dict)
    """Key attribute -> (its type, what fixes it), for the table to check."""
    plain: frozenset[str] = field(default_factory=frozenset)
    """Key attributes that are fields of this entity themselves."""
    schema_version: int | None = None
    """The version of the entity's model (``schema_version=``), stored on its items."""
    upgrades: dict[int, Upgrade] = field(default_factory=dict)
    """The upgrades of items of older versions, by the version each starts from."""
    unique: dict[str, KeyTemplate] = field(default_factory=dict)
    """Unique field -> the key template of its guard items (``UNIQUE#User#email#{email}``)."""
    table_key_attributes: tuple[str, ...] = ()
    """The table's key attributes (partition key, then sort key, if any)."""
    stamped_key: bool = False
    """Whether a field a write sets (version, created or updated time) is a table key field."""
    key_plan: tuple[_KeyGroup, ...] = ()
    """What :func:`key_item` does for a whole entity, worked out once per class: per
    key (the table's, then each index's), the fields that must all have a value for
    an index entry, and each key attribute with its template (or, for the table key
    attributes that are fields themselves, the field that must have a value)."""
    writer: Any = None
    """:meth:`Entity.to_item` compiled for the class (:mod:`singletable._writer`), built
    on the first write."""
    reader: Any = None
    """The decoding of :meth:`Entity.from_item` compiled for the class
    (:mod:`singletable._reader`), built on the first read."""
    write_conditions: dict[Any, Any] = field(default_factory=dict)
    """The expression members of the writes' own conditions (a put's mode and version
    check by shape; ``"update"``: an update's item-exists check), rendered once
    (:func:`singletable._requests._own_condition`, ``_with_exists``)."""

    def owns(self, item: Mapping[str, AttributeValue]) -> bool:
        """Whether ``item``'s table key has this entity's key shape (for items that
        carry no entity-type attribute: written by other code)."""
        spec = self.table.primary
        for attribute, template in zip((spec.pk, spec.sk), self.keys[None], strict=True):
            if attribute is None or template is None:
                continue
            value = item.get(attribute)
            if value is None:
                return False
            if template.typed:
                kind = self.key_types.get(attribute, ("S", ""))[0]
                if kind not in value:
                    return False
            elif "S" not in value or template.parse(value["S"]) is None:
                return False
        return True

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

    model_config = ConfigDict(
        ignored_types=(Keys, Query, _ClassOnly, Upgrade),
        populate_by_name=True,
        validate_assignment=True,
    )

    __singletable__: ClassVar[EntityModel]

    def __init_subclass__(cls, **kwargs: Any) -> None:
        # table= and type_name= are for __pydantic_init_subclass__, which runs once
        # the fields are known; object.__init_subclass__ takes no keywords.
        kwargs.pop("table", None)
        kwargs.pop("type_name", None)
        kwargs.pop("schema_version", None)
        super().__init_subclass__(**kwargs)

    @classmethod
    def __pydantic_init_subclass__(
        cls,
        *,
        table: Table | None = None,
        type_name: str | None = None,
        schema_version: int | None = None,
        **kwargs: Any,
    ) -> None:
        super().__pydantic_init_subclass__(**kwargs)
        install_field_paths(cls)  # Order.total -> a FieldPath for conditions and updates
        if table is None:
            if "__singletable__" not in cls.__dict__ and not hasattr(cls, "__singletable__"):
                return  # an abstract base: no table yet
            raise ModelError(f"{cls.__name__}: an entity subclass needs table=...")
        model = _compile(cls, table, type_name or cls.__name__)
        if schema_version is not None and (
            not isinstance(schema_version, int) or isinstance(schema_version, bool)
            or schema_version < 1
        ):
            raise ModelError(f"{cls.__name__}: schema_version must be an int of at least 1")
        model.schema_version = schema_version
        declared = [v for v in vars(cls).values() if isinstance(v, Upgrade)]
        model.upgrades = check_upgrades(cls.__name__, schema_version, declared)
        cls.__singletable__ = model
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
        # compiled once per class (singletable._writer); the general path is
        # singletable._writer.general_to_item, which it must equal
        cls = type(self)
        write = cls.__singletable__.writer or writer(cls)
        return write(self.__dict__, {})

    @classmethod
    def from_item(cls, item: Mapping[str, AttributeValue]) -> Self:
        """Validate a DynamoDB item back into this entity (key and type attributes are
        ignored; the fields carry every value)."""
        model = cls.__singletable__
        # compiled once per class (singletable._reader); None: an item with other
        # attributes, for the general loop
        data = (model.reader or reader(cls))(item)
        compiled = data is not None
        if data is None:
            data = _general_values(model, item)
        stored = None
        if model.schema_version is not None:
            stored = _stored_version(item, model)
            if stored < model.schema_version:
                try:
                    data = apply_upgrades(model.upgrades, data, stored, model.schema_version)
                except Exception as error:  # the user's upgrade function failed on this item
                    raise ItemValidationError(
                        f"stored {cls.__name__} ({_shown_key(cls, item)}) could not be upgraded "
                        f"from schema version {stored}: {type(error).__name__}: {error}",
                        dict(item),
                        [],
                    ) from error
            else:
                stored = None
        try:
            # what model_validate(data) runs, without its wrapper's keyword handling
            entity: Self = cls.__pydantic_validator__.validate_python(data)
        except ValidationError as error:
            if not (compiled and stored is None and model.schema_version is None):
                raise _invalid_item(cls, item, error) from None
            # decided on the general loop's values (the compiled decoding may hand
            # Pydantic an int or a list where the general loop hands it a Decimal or
            # a set, which reads differently in a message: singletable._reader)
            try:
                entity = cls.__pydantic_validator__.validate_python(_general_values(model, item))
            except ValidationError as general:
                raise _invalid_item(cls, item, general) from None
        if stored is not None:
            remember_read(entity, stored, item)
        return entity

    @classmethod
    def key(cls, **values: Any) -> Item:
        """The table key (wire shape) of the item these field values identify.

        Raises:
            UnknownKeywordError: a keyword that is not a table key field.
            InvalidValueError: a missing key field, or a value its field refuses.
        """
        return table_key(cls, key_arguments(cls, values, "key"))


_FROM_ITEM = Entity.from_item.__func__  # type: ignore[attr-defined]


def direct_decoding(cls: type[Entity]) -> tuple[Reader, Callable[[Any], Any]] | None:
    """What :meth:`Entity.from_item` runs for an item of ``cls``, for loops over many
    items (a query page): its compiled reader and Pydantic's ``validate_python``.

    A loop may use them only as ``from_item`` would: an item the reader leaves to
    the general loop (None) or whose values fail validation goes to ``from_item``
    itself, which then gives its own result or error. None (use ``from_item``) for a
    class that overrides ``from_item`` or has a schema version (upgrades to apply).
    """
    if cls.__singletable__.schema_version is not None:
        return None
    if getattr(cls.from_item, "__func__", None) is not _FROM_ITEM:
        return None
    return (cls.__singletable__.reader or reader(cls)), cls.__pydantic_validator__.validate_python


def validated(entity: E) -> E:
    """``entity`` validated again as a whole, as it will be written: an instance changed
    without validation (``model_copy(update=...)``, ``model_construct``) is refused
    instead of stored.

    Raises:
        InvalidValueError: naming the entity, its key and each field that fails.
    """
    cls = type(entity)
    try:
        return cls.__pydantic_validator__.validate_python(entity.__dict__)  # type: ignore[no-any-return]
    except ValidationError as error:
        problems = "; ".join(
            f"{'.'.join(str(part) for part in e['loc']) or '(entity)'}: {e['msg']}"
            + (f" (got {e['input']!r})" if e["type"] != "missing" else "")
            for e in error.errors()
        )
        values = entity.__dict__
        shown = ", ".join(
            f"{name}={values.get(name)!r}" for name in cls.__singletable__.table_key_fields
        )
        raise InvalidValueError(
            f"{cls.__name__} ({shown}) is not valid, so it was not written: {problems}"
        ) from None


def table_key(cls: type[Entity], values: Mapping[str, Any]) -> Item:
    """The table key (wire shape) of already checked key field values."""
    model = cls.__singletable__
    pk, sk = model.keys[None]
    spec = model.table.primary
    out = {spec.pk: _key_value(pk, values, cls.__name__)}
    if sk is not None and spec.sk is not None:
        out[spec.sk] = _key_value(sk, values, cls.__name__)
    return out


def _general_values(model: EntityModel, item: Mapping[str, AttributeValue]) -> dict[str, Any]:
    """``from_item``'s general loop: every attribute but the key and type ones, decoded."""
    skip = model.skip_attributes
    data = {}
    for name, value in item.items():
        if name in skip:
            continue  # key and type attributes: the fields carry their values
        data[name] = decode_value(value)
    return data


def _stored_version(item: Mapping[str, AttributeValue], model: EntityModel) -> int:
    """The schema version an item was written under (1 if it does not say)."""
    raw = item.get(model.table.schema_attribute, {}).get("N")
    try:
        return int(raw) if raw is not None else 1
    except ValueError:
        return 1


def _shown_key(cls: type[Entity], item: Mapping[str, AttributeValue]) -> str:
    spec = cls.__singletable__.table.primary
    return ", ".join(
        f"{name}={from_attribute(item[name])!r}"
        for name in (spec.pk, spec.sk)
        if name is not None and name in item
    )


def _invalid_item(
    cls: type[Entity], item: Mapping[str, AttributeValue], error: ValidationError
) -> ItemValidationError:
    key = _shown_key(cls, item)
    problems = "; ".join(
        f"{'.'.join(str(part) for part in e['loc']) or '(item)'}: {e['msg']}"
        f" (stored {e['input']!r})"
        if e["type"] != "missing"
        else f"{'.'.join(str(part) for part in e['loc'])}: missing"
        for e in error.errors()
    )
    return ItemValidationError(
        f"stored {cls.__name__} ({key}) does not validate: {problems}",
        dict(item),
        [dict(e) for e in error.errors()],
    )


def key_item(
    model: EntityModel,
    values: Mapping[str, Any],
    owner: str,
    *,
    indexes: tuple[str | None, ...] | None = None,
    plain: bool = False,
) -> Item:
    """The key attributes of the table and of every index the values fill in
    (only of ``indexes``, when given; None in it is the table). Key attributes that
    are fields themselves are left to the fields, unless ``plain``."""
    item: Item = {}
    cache: dict[tuple[str, str], str] = {}  # a slot rendered once, even if several keys use it
    if indexes is None and not plain:  # every key of the entity: the class's plan
        for needs, attributes in model.key_plan:
            if needs and any(values.get(f) is None for f in needs):
                continue  # sparse: an item is in an index only with every key field set
            for attribute, template, check in attributes:
                if check:
                    if values.get(template.fields[0]) is None:
                        raise InvalidValueError(
                            f"{owner}: key field {template.fields[0]!r} has no value"
                        )
                    continue
                item[attribute] = _key_value(template, values, owner, cache)
        return item
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
            if template.plain and not plain:  # the field is the attribute: a field writes it
                if index is None and values.get(template.fields[0]) is None:
                    raise InvalidValueError(
                        f"{owner}: key field {template.fields[0]!r} has no value"
                    )
                continue
            item[attribute] = _key_value(template, values, owner, cache)
    return item


def _key_value(
    template: KeyTemplate,
    values: Mapping[str, Any],
    owner: str,
    cache: dict[tuple[str, str], str] | None = None,
) -> AttributeValue:
    if template.typed:
        field_name = template.fields[0]
        value = values.get(field_name)
        if value is None:
            raise InvalidValueError(f"{owner}: key field {field_name!r} has no value")
        return to_attribute(value, f"{owner}.{field_name}")
    return {"S": template.render(values, owner, cache)}


def _compile(cls: type[Entity], table: Table, type_name: str) -> EntityModel:
    owner = cls.__name__
    fields = cls.model_fields
    field_types = {name: info.annotation for name, info in fields.items()}
    attributes = {name: info.alias or name for name, info in fields.items()}
    plain = _plain_keys(owner, table, attributes, field_types)
    declared = [value for value in vars(cls).values() if isinstance(value, Keys)]
    if len(declared) > 1:
        raise ModelError(f"{owner}: more than one Keys(...) declared")
    spec = declared[0] if declared else None
    primary = table.primary
    if spec is not None and spec.sk is not None and primary.sk is None:
        raise ModelError(f"{owner}: table {table.name!r} has no sort key")
    build = _KeyBuilder(owner, table, field_types, plain)
    keys: dict[str | None, tuple[KeyTemplate, KeyTemplate | None]] = {}
    table_pk = build.key(primary.pk, spec.pk if spec else None, "the table's partition key")
    table_sk = (
        None
        if primary.sk is None
        else build.key(primary.sk, spec.sk if spec else None, "the table's sort key")
    )
    keys[None] = (table_pk, table_sk)
    given = dict(spec.indexes) if spec is not None else {}
    for index_name in given:
        table.spec(index_name)  # an unknown index is a ModelError naming the known ones
    for index_name, index in table.indexes.items():
        templates = build.index(index, given.get(index_name), table_pk)
        if templates is not None:
            keys[index_name] = templates
    model = EntityModel(table, type_name, keys, attributes)
    model.key_types = build.types
    model.plain = frozenset(plain)
    for name, info in fields.items():
        for marker in _markers(info.annotation, info.metadata):
            if marker is Unique:
                model.unique[name] = guard_template(owner, model, name, field_types)
                continue
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
    model.skip_attributes = (table.key_attributes - model.plain) | {
        table.type_attribute,
        table.schema_attribute,
    }
    model.writes = tuple((name, attr, f"{owner}.{name}") for name, attr in attributes.items())
    model.key_fields = frozenset(
        f for pk, sk in keys.values() for t in (pk, sk) if t is not None for f in t.fields
    )
    model.key_fields_sorted = sorted(model.key_fields)
    model.table_key_fields = tuple(
        dict.fromkeys(f for t in keys[None] if t is not None for f in t.fields)
    )
    model.table_key_set = frozenset(model.table_key_fields)
    model.key_exact = exact_types(cls, model.key_fields)
    model.key_plan = _key_plan(model)
    model.table_key_attributes = tuple(
        a for a, t in zip((primary.pk, primary.sk), keys[None], strict=True)
        if a is not None and t is not None
    )
    model.stamped_key = not model.table_key_set.isdisjoint(
        {model.version, model.created_at, model.updated_at} - {None}
    )
    return model


def _key_plan(model: EntityModel) -> tuple[_KeyGroup, ...]:
    """:attr:`EntityModel.key_plan`: the steps of :func:`key_item` for every key, in
    its order, with what depends only on the class done here."""
    plan: list[_KeyGroup] = []
    for index, (pk, sk) in model.keys.items():
        spec = model.table.spec(index)
        templates = [(spec.pk, pk)]
        if sk is not None and spec.sk is not None:
            templates.append((spec.sk, sk))
        needs = () if index is None else tuple(f for _, t in templates for f in t.fields)
        steps: list[tuple[str, KeyTemplate, bool]] = []
        for attribute, template in templates:
            if index is not None and spec.local and attribute == spec.pk:
                continue  # a local index shares the table's partition key
            if template.plain:  # the field is the attribute: a field writes it
                if index is None:
                    steps.append((attribute, template, True))
                continue
            steps.append((attribute, template, False))
        plan.append((needs, tuple(steps)))
    return tuple(plan)


def _plain_keys(
    owner: str, table: Table, attributes: Mapping[str, str], field_types: Mapping[str, Any]
) -> dict[str, str]:
    """Key attribute -> field, for the fields that are key attributes themselves."""
    plain: dict[str, str] = {}
    for name, attribute in attributes.items():
        if attribute in (table.type_attribute, table.schema_attribute):
            what = "entity-type" if attribute == table.type_attribute else "schema-version"
            raise ModelError(
                f"{owner}.{name}: attribute {attribute!r} is the {what} attribute of "
                f"table {table.name!r}; fields cannot use it"
            )
        if attribute not in table.key_attributes:
            continue
        if key_kind(field_types[name]) is None:
            raise ModelError(
                f"{owner}.{name}: attribute {attribute!r} is a key of table {table.name!r}, "
                f"so its type must be stored as S, N or B (str, int, Decimal, bytes, "
                f"datetime, date, UUID, a Literal or Enum of these), not "
                f"{getattr(field_types[name], '__name__', field_types[name])}"
            )
        plain[attribute] = name
    return plain


class _KeyBuilder:
    """Compiles an entity's key attributes: a field of the same name (plain) or a
    template, and records the type each gives its attribute."""

    def __init__(
        self, owner: str, table: Table, field_types: Mapping[str, Any], plain: dict[str, str]
    ) -> None:
        self.owner = owner
        self.table = table
        self.field_types = field_types
        self.plain = plain
        self.types: dict[str, tuple[KeyType, str]] = {}

    def key(self, attribute: str, source: str | None, what: str) -> KeyTemplate:
        """The template of ``attribute`` (``source``: the declared template, if any).

        Raises:
            ModelError: no template and no field for it, or a template for a field
                that is the attribute itself.
        """
        field_name = self.plain.get(attribute)
        if field_name is not None:
            if source is not None and source.strip() != "{" + field_name + "}":
                raise ModelError(
                    f"{self.owner}.{field_name} is {what} ({attribute!r}) itself; "
                    f"the template {source!r} would overwrite it (drop the template)"
                )
            kind = key_kind(self.field_types[field_name])
            assert kind is not None  # _plain_keys refused the others
            self._claim(attribute, kind, f"{self.owner}.{field_name}")
            return plain_template(field_name, kind)
        if source is None:
            raise ModelError(
                f"{self.owner}: {what} is the attribute {attribute!r}: give its key "
                f"template in keys = Keys(...), or a field named {attribute!r}"
            )
        numeric = self.table.key_type(attribute) == "N"
        template = compile_template(source, self.field_types, self.owner, numeric=numeric)
        self._claim(attribute, "N" if numeric else "S", f"{self.owner}'s template {source!r}")
        return template

    def _claim(self, attribute: str, kind: KeyType, source: str) -> None:
        self.table.check_key_types({attribute: (kind, source)})
        self.types.setdefault(attribute, (kind, source))

    def index(
        self, index: IndexSpec, given: str | tuple[str, str] | None, table_pk: KeyTemplate
    ) -> tuple[KeyTemplate, KeyTemplate | None] | None:
        """The templates of ``index`` (None: the entity is not in it)."""
        what = f"index {index.name}"
        plain = self.plain
        if given is None:  # in the index only if its key attributes are fields
            attributes = [index.sk] if index.local else [index.pk, index.sk]
            if not all(a is None or a in plain for a in attributes):
                return None
            pk_source: str | None = None
            sk_source: str | None = None
        elif index.local:
            if not isinstance(given, str):
                raise ModelError(
                    f"{self.owner}: {index.name} is a local index: give only its sort key template"
                )
            return table_pk, self.key(index.sk or "", given, f"the sort key of {what}")
        elif isinstance(given, str):
            if index.sk is None:
                pk_source, sk_source = given, None
            elif index.pk in plain and index.sk not in plain:
                pk_source, sk_source = None, given
            elif index.sk in plain and index.pk not in plain:
                pk_source, sk_source = given, None
            else:
                raise ModelError(
                    f"{self.owner}: index {index.name} has a sort key: give (pk, sk) templates"
                )
        else:
            if index.sk is None:
                raise ModelError(
                    f"{self.owner}: index {index.name} has no sort key: give only its pk template"
                )
            pk_source, sk_source = given
        if index.local:
            return table_pk, self.key(index.sk or "", None, f"the sort key of {what}")
        pk = self.key(index.pk, pk_source, f"the partition key of {what}")
        if index.sk is None:
            return pk, None
        return pk, self.key(index.sk, sk_source, f"the sort key of {what}")


def _markers(annotation: Any, metadata: list[Any]) -> list[_Marker]:
    found = [m for m in metadata if any(m is marker for marker in _MARKERS)]
    if typing.get_origin(annotation) is typing.Annotated:
        found += [m for m in typing.get_args(annotation)[1:] if any(m is x for x in _MARKERS)]
    return found
