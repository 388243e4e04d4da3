"""A single table: key attribute names, indexes, settings, and the entities it holds.

:class:`Table` declares what DynamoDB needs to know about a table (its key
attributes and their types, global and local secondary indexes with their
projections, the TTL attribute, a stream) plus the attribute that records each
item's entity type. Entities register themselves when their class is created
(``class Order(Entity, table=app)``); the table then checks that no two
entities' key shapes collide on the table or on an index.

:meth:`Table.create_table_request` renders the CreateTable request the model
needs, with every index, for any backend.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

from singletable.errors import ModelError

if TYPE_CHECKING:
    from singletable.entity import Entity

__all__ = ["GlobalIndex", "IndexSpec", "KeyType", "LocalIndex", "Projection", "Table"]

KeyType = Literal["S", "N", "B"]
Projection = Literal["ALL", "KEYS_ONLY"] | Sequence[str]
"""``"ALL"``, ``"KEYS_ONLY"``, or the non-key attribute names to include."""


@dataclass(frozen=True)
class GlobalIndex:
    """A global secondary index: its own partition key and optional sort key."""

    name: str
    pk: str
    sk: str | None = None
    projection: Projection = "ALL"
    pk_type: KeyType | None = None
    sk_type: KeyType | None = None


@dataclass(frozen=True)
class LocalIndex:
    """A local secondary index: the table's partition key with another sort key."""

    name: str
    sk: str
    projection: Projection = "ALL"
    sk_type: KeyType | None = None


@dataclass(frozen=True)
class IndexSpec:
    """The key attributes of the table (``name`` None) or of one of its indexes."""

    name: str | None
    pk: str
    sk: str | None
    projection: Projection
    local: bool
    types: Mapping[str, KeyType] = field(compare=False, repr=False, default_factory=dict)
    """The table's key attribute types (shared, filled in as entities register)."""

    @property
    def pk_type(self) -> KeyType:
        """The partition key's type (``"S"`` until declared or given by a field)."""
        return self.types.get(self.pk, "S")

    @property
    def sk_type(self) -> KeyType:
        """The sort key's type (``"S"`` when there is none)."""
        return "S" if self.sk is None else self.types.get(self.sk, "S")

    @property
    def label(self) -> str:
        """``"table"`` or ``"index GSI1"``, for messages."""
        return "table" if self.name is None else f"index {self.name}"


class Table:
    """One DynamoDB table of a single-table design.

    Key attributes are either written from an entity's key templates
    (``pk="PK"`` with ``Keys(pk="USER#{user_id}")``) or are fields of the entity
    themselves (``Table("Users", pk="user_id")`` with a ``user_id`` field): a plain
    key attribute is typed by its field (``str`` is ``S``, ``int`` and ``Decimal``
    are ``N``, ``bytes`` is ``B``), so its type needs no declaring. A declared type
    must agree with every entity's use of the attribute.

    Args:
        name: the table name.
        pk: the partition key attribute.
        sk: the sort key attribute (None: the table has no sort key).
        pk_type: the partition key's type, ``"S"``, ``"N"`` or ``"B"`` (default: from
            the entities, ``"S"`` for templated keys).
        sk_type: the sort key's type (the same way).
        indexes: the :class:`GlobalIndex` and :class:`LocalIndex` of the table.
        type_attribute: the attribute that records each item's entity type.
        schema_attribute: the attribute that records the schema version of an item
            whose entity declares one (``schema_version=``; see
            :mod:`singletable.migrations`).
        ttl_attribute: the table's TTL attribute, if any.
        stream: a stream view type (``"NEW_AND_OLD_IMAGES"``, ...) to enable a stream.

    Raises:
        ModelError: for an index named twice, a local index on a table without a
            sort key, or a key attribute declared with two types.
    """

    def __init__(
        self,
        name: str,
        *,
        pk: str = "PK",
        sk: str | None = "SK",
        pk_type: KeyType | None = None,
        sk_type: KeyType | None = None,
        indexes: Sequence[GlobalIndex | LocalIndex] = (),
        type_attribute: str = "_type",
        schema_attribute: str = "_schema",
        ttl_attribute: str | None = None,
        stream: str | None = None,
    ) -> None:
        self.name = name
        self.type_attribute = type_attribute
        self.schema_attribute = schema_attribute
        self.ttl_attribute = ttl_attribute
        self.stream = stream
        self._key_types: dict[str, KeyType] = {}
        """Key attribute -> type, as declared or as the first entity using it gave it."""
        self._attributes: list[str] = []
        self._typed_by: dict[str, str] = {}
        """Key attribute -> what fixed its type (for messages)."""
        self.primary = IndexSpec(None, pk, sk, "ALL", False, self._key_types)
        self._declare(pk, pk_type, "the table's pk_type")
        if sk is not None:
            self._declare(sk, sk_type, "the table's sk_type")
        self.indexes: dict[str, IndexSpec] = {}
        for index in indexes:
            if index.name in self.indexes:
                raise ModelError(f"table {name!r}: index {index.name!r} is declared twice")
            if isinstance(index, LocalIndex):
                if sk is None:
                    raise ModelError(
                        f"table {name!r}: local index {index.name!r} needs a table with a sort key"
                    )
                spec = IndexSpec(index.name, pk, index.sk, index.projection, True, self._key_types)
                self._declare(index.sk, index.sk_type, f"index {index.name}")
            else:
                spec = IndexSpec(
                    index.name, index.pk, index.sk, index.projection, False, self._key_types
                )
                self._declare(index.pk, index.pk_type, f"index {index.name}")
                if index.sk is not None:
                    self._declare(index.sk, index.sk_type, f"index {index.name}")
            self.indexes[index.name] = spec
        self.entities: dict[str, type[Entity]] = {}

    def _declare(self, attribute: str, kind: KeyType | None, where: str) -> None:
        if attribute not in self._attributes:
            self._attributes.append(attribute)
        if kind is None:
            return
        if kind not in ("S", "N", "B"):
            raise ModelError(f"table {self.name!r}: {where} is {kind!r}; use 'S', 'N' or 'B'")
        known = self._key_types.setdefault(attribute, kind)
        if known != kind:
            raise ModelError(
                f"table {self.name!r}: key attribute {attribute!r} is declared as both "
                f"{known} and {kind}"
            )
        self._typed_by.setdefault(attribute, "declared")

    @property
    def key_attributes(self) -> frozenset[str]:
        """Every attribute that is a key of the table or of an index."""
        return frozenset(self._attributes)

    def key_type(self, attribute: str) -> KeyType | None:
        """The type of a key attribute, if declared or given by an entity yet."""
        return self._key_types.get(attribute)

    def check_key_types(self, claims: Mapping[str, tuple[KeyType, str]]) -> None:
        """Check that an entity's key attribute types (attribute -> (type, what gives
        it)) agree with the table's, without recording them.

        Raises:
            ModelError: naming the attribute, both types and where each comes from.
        """
        for attribute, (kind, source) in claims.items():
            known = self._key_types.get(attribute)
            if known is not None and known != kind:
                raise ModelError(
                    f"{source} makes key attribute {attribute!r} of table {self.name!r} "
                    f"{kind}, but it is {known} ({self._typed_by.get(attribute, 'declared')})"
                )

    def spec(self, index: str | None) -> IndexSpec:
        """The table's keys (``index`` None) or an index's.

        Raises:
            ModelError: if the table has no such index.
        """
        if index is None:
            return self.primary
        try:
            return self.indexes[index]
        except KeyError:
            known = ", ".join(sorted(self.indexes)) or "none"
            raise ModelError(
                f"table {self.name!r} has no index {index!r} (indexes: {known})"
            ) from None

    def register(self, entity: type[Entity]) -> None:
        """Add an entity class (called when the class is created).

        Raises:
            ModelError: if another entity has the same type name, or a key shape that
                collides with this one's on the table or on an index.
        """
        model = entity.__singletable__
        if model.type_name in self.entities and self.entities[model.type_name] is not entity:
            other = self.entities[model.type_name]
            raise ModelError(
                f"{entity.__name__} and {other.__name__} both use entity type "
                f"{model.type_name!r} on table {self.name!r} (give one type_name=...)"
            )
        for other in self.entities.values():
            if other is entity:
                continue
            _check_collision(entity, other)
        self.check_key_types(model.key_types)
        for attribute, (kind, source) in model.key_types.items():
            if attribute not in self._key_types:
                self._key_types[attribute] = kind
                self._typed_by[attribute] = source
        self.entities[model.type_name] = entity

    def create_table_request(self) -> dict[str, Any]:
        """The CreateTable request for this table and every index (on-demand billing).

        Only the key attributes go into ``AttributeDefinitions``, as DynamoDB requires.
        """
        primary = self.primary
        request: dict[str, Any] = {
            "TableName": self.name,
            "KeySchema": _key_schema(primary.pk, primary.sk),
            "AttributeDefinitions": [
                {"AttributeName": name, "AttributeType": self._key_types.get(name, "S")}
                for name in sorted(self._attributes)
            ],
            "BillingMode": "PAY_PER_REQUEST",
        }
        globals_ = [spec for spec in self.indexes.values() if not spec.local]
        locals_ = [spec for spec in self.indexes.values() if spec.local]
        if globals_:
            request["GlobalSecondaryIndexes"] = [_index_request(spec) for spec in globals_]
        if locals_:
            request["LocalSecondaryIndexes"] = [_index_request(spec) for spec in locals_]
        if self.stream is not None:
            request["StreamSpecification"] = {"StreamEnabled": True, "StreamViewType": self.stream}
        return request

    def __repr__(self) -> str:
        return f"Table({self.name!r})"


def _key_schema(pk: str, sk: str | None) -> list[dict[str, str]]:
    schema = [{"AttributeName": pk, "KeyType": "HASH"}]
    if sk is not None:
        schema.append({"AttributeName": sk, "KeyType": "RANGE"})
    return schema


def _index_request(spec: IndexSpec) -> dict[str, Any]:
    projection: dict[str, Any]
    if isinstance(spec.projection, str):
        projection = {"ProjectionType": spec.projection}
    else:
        projection = {"ProjectionType": "INCLUDE", "NonKeyAttributes": list(spec.projection)}
    return {
        "IndexName": spec.name,
        "KeySchema": _key_schema(spec.pk, spec.sk),
        "Projection": projection,
    }


def _check_collision(entity: type[Entity], other: type[Entity]) -> None:
    """Two entities collide on an index if an item key could be read as either:
    their partition templates can produce the same value and so can their sort
    templates (compared by literal skeleton: same literals, same slots)."""
    mine, theirs = entity.__singletable__, other.__singletable__
    for index, keys in mine.keys.items():
        their_keys = theirs.keys.get(index)
        if their_keys is None:
            continue
        pk, sk = keys
        other_pk, other_sk = their_keys
        if not _may_overlap(pk.shape(), other_pk.shape()):
            continue
        if sk is None or other_sk is None:
            same = sk is None and other_sk is None
        else:
            same = _may_overlap(sk.shape(), other_sk.shape()) and sk.shape() == other_sk.shape()
        if same:
            where = "the table" if index is None else f"index {index}"
            described = pk.source if sk is None else f"{pk.source} / {sk.source}"
            other_described = (
                other_pk.source if other_sk is None else f"{other_pk.source} / {other_sk.source}"
            )
            raise ModelError(
                f"{entity.__name__} and {other.__name__} have colliding keys on "
                f"{where}: {described!r} and {other_described!r} can produce the same key "
                f"(start one of them with a literal of its own, such as "
                f"'{entity.__name__.upper()}#')"
            )


def _may_overlap(a: tuple[str, ...], b: tuple[str, ...]) -> bool:
    """Whether two template skeletons could render the same text (a cheap, safe test:
    their leading literals must agree as far as both go)."""
    prefix_a = a[0] if a and a[0] != "{}" else ""
    prefix_b = b[0] if b and b[0] != "{}" else ""
    if not prefix_a or not prefix_b:
        return True
    return prefix_a.startswith(prefix_b) or prefix_b.startswith(prefix_a)
