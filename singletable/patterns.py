"""Access patterns: named, declared queries that compile into key conditions.

::

    class Order(Entity, table=app):
        ...
        keys = Keys(pk="CUSTOMER#{customer_id}", sk="ORDER#{created_at}#{order_id}",
                    GSI1=("STATUS#{status}", "{created_at}"))

        for_customer = Query()                       # begins_with on the sort key
        since = Query(sort="gte", reverse=True)      # created_at >= ..., newest first
        by_status = Query(index="GSI1", sort="between")

    db.query(Order.for_customer, customer_id="c1")
    db.query(Order.since, customer_id="c1", created_at=yesterday)
    db.query(Order.by_status, status="shipped", created_at=(monday, friday))

A pattern names the index (None: the table) and the sort-key operation; the
fields of the index's partition template must all be given, and sort conditions
are given as field values, never as key strings:

``begins_with`` (default)
    the sort template's fields given, in order, fix a prefix (none: the
    template's literal start, which selects this entity's items).
``eq``
    every sort field is given.
``lt``, ``lte``, ``gt``, ``gte``
    the leading sort fields given are compared as a prefix of the key.
``between``
    the leading sort fields given, the last as a ``(low, high)`` pair.

Range conditions are clamped to the template's literal start, so other entity
types sharing the partition never leak into the results.

:class:`Collection` is a pattern over several entity types stored under one
partition (a customer with their orders and addresses): its results come split
into typed lists by the entity-type attribute.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Generic, Literal, TypeVar, overload

from singletable._keyargs import check_keywords, coerce
from singletable.errors import InvalidValueError, ModelError, UnknownKeywordError
from singletable.keys import KeyTemplate

if TYPE_CHECKING:
    from singletable.entity import Entity, EntityModel

__all__ = ["BoundPattern", "Collection", "KeyCondition", "Query", "SortOp", "declared_patterns"]

E = TypeVar("E", bound="Entity")
SortOp = Literal["begins_with", "eq", "lt", "lte", "gt", "gte", "between"]
_SORT_OPS = ("begins_with", "eq", "lt", "lte", "gt", "gte", "between")
_QUERY_METHODS = frozenset(
    {"limit", "page_size", "reverse", "consistent", "where", "after", "select"}
)
_MAX_CHAR = "\U0010ffff"  # sorts after every character DynamoDB can store (UTF-8 order)


@dataclass(frozen=True)
class KeyCondition:
    """A key condition in wire pieces (before placeholders)."""

    index: str | None
    pk_attribute: str
    pk_value: dict[str, Any]
    sk_attribute: str | None
    sk_op: str | None  # "=", "<", "<=", ">", ">=", "BETWEEN", "begins_with", None
    sk_values: tuple[dict[str, Any], ...]

    def expression(self) -> tuple[str, dict[str, str], dict[str, Any]]:
        """KeyConditionExpression text with its name and value maps."""
        names = {"#pk": self.pk_attribute}
        values: dict[str, Any] = {":pk": self.pk_value}
        text = "#pk = :pk"
        if self.sk_op is not None and self.sk_attribute is not None:
            names["#sk"] = self.sk_attribute
            if self.sk_op == "BETWEEN":
                text += " AND #sk BETWEEN :sk0 AND :sk1"
                values[":sk0"], values[":sk1"] = self.sk_values
            elif self.sk_op == "begins_with":
                text += " AND begins_with(#sk, :sk0)"
                values[":sk0"] = self.sk_values[0]
            else:
                text += f" AND #sk {self.sk_op} :sk0"
                values[":sk0"] = self.sk_values[0]
        return text, names, values


class Query:
    """Declares an access pattern on an entity (a class attribute of the entity).

    Args:
        index: the index that serves it (None: the table).
        sort: the sort-key operation (see the module docstring).
        reverse: highest sort key first (default False: ascending sort key order).
    """

    def __init__(
        self, index: str | None = None, *, sort: SortOp = "begins_with", reverse: bool = False
    ) -> None:
        if sort not in _SORT_OPS:
            raise ModelError(f"Query(sort={sort!r}): use one of {', '.join(_SORT_OPS)}")
        self.index = index
        self.sort: SortOp = sort
        self.reverse = reverse
        self.name = ""
        self._bound: dict[type[Any], BoundPattern[Any]] = {}

    def __set_name__(self, owner: type[Any], name: str) -> None:
        self.name = name

    def bind(self, entity: type[E]) -> BoundPattern[E]:
        """This pattern compiled for ``entity`` (done when the entity class is created)."""
        bound = self._bound.get(entity)
        if bound is None:
            bound = BoundPattern(self, entity)
            self._bound[entity] = bound
        return bound

    @overload
    def __get__(self, instance: None, owner: type[E]) -> BoundPattern[E]: ...
    @overload
    def __get__(self, instance: object, owner: type[E]) -> BoundPattern[E]: ...
    def __get__(self, instance: object, owner: type[E]) -> BoundPattern[E]:
        return self.bind(owner)


class BoundPattern(Generic[E]):
    """An access pattern of one entity, ready to build key conditions."""

    def __init__(self, pattern: Query, entity: type[E]) -> None:
        self.pattern = pattern
        self.entity = entity
        self.name = f"{entity.__name__}.{pattern.name}"
        model: EntityModel = entity.__singletable__
        self.spec = model.table.spec(pattern.index)
        pk, sk = model.index_keys(pattern.index)
        self.pk_template: KeyTemplate = pk
        self.sk_template: KeyTemplate | None = sk
        if sk is None and pattern.sort not in ("begins_with",):
            raise ModelError(
                f"{self.name}: sort={pattern.sort!r} needs a sort key, and "
                f"{self.spec.label} has none"
            )

    @property
    def partition_fields(self) -> tuple[str, ...]:
        """The fields that fix the partition."""
        return self.pk_template.fields

    def key_condition(self, values: Mapping[str, Any]) -> KeyCondition:
        """The key condition for the call's field values.

        Raises:
            InvalidValueError: a partition field is missing, a sort field is given out
                of order, or a value that does not belong to this pattern is given.
        """
        owner = self.entity.__name__
        sk_fields = self.sk_template.fields if self.sk_template is not None else ()
        _check_fields(self.name, self.pk_template, sk_fields, values)
        values = self._coerce(values, sk_fields)
        pk_value = _key_attr(self.pk_template, values, owner)
        sk = self.sk_template
        if sk is None or self.spec.sk is None:
            return KeyCondition(self.spec.name, self.spec.pk, pk_value, None, None, ())
        given = [f for f in sk.fields if values.get(f) is not None]
        leading = list(sk.fields[: len(given)])
        if given != leading:
            raise InvalidValueError(
                f"{self.name}: sort fields must be given in the order of {sk.source!r} "
                f"({', '.join(sk.fields)}); got {', '.join(given)}"
            )
        op = self.pattern.sort
        return KeyCondition(
            self.spec.name,
            self.spec.pk,
            pk_value,
            self.spec.sk,
            *self._sort(op, sk, values, given, owner),
        )

    def _coerce(self, values: Mapping[str, Any], sk_fields: tuple[str, ...]) -> Mapping[str, Any]:
        """The given values, validated and converted by their fields' types (the
        ``(low, high)`` pair of a ``between`` pattern element by element)."""
        given = {name: value for name, value in values.items() if value is not None}
        pairs: dict[str, tuple[Any, Any]] = {}
        if self.pattern.sort == "between":
            for name in sk_fields:
                pair = given.get(name)
                if isinstance(pair, tuple | list) and len(pair) == 2:
                    pairs[name] = (pair[0], pair[1])
                    del given[name]
        out = coerce(self.entity, given, self.name)
        if not pairs:
            return out
        both = dict(out)
        for name, (low, high) in pairs.items():
            both[name] = (
                coerce(self.entity, {name: low}, self.name)[name],
                coerce(self.entity, {name: high}, self.name)[name],
            )
        return both

    def _sort(
        self,
        op: SortOp,
        sk: KeyTemplate,
        values: Mapping[str, Any],
        given: list[str],
        owner: str,
    ) -> tuple[str | None, tuple[dict[str, Any], ...]]:
        if sk.typed:
            return self._typed_sort(op, sk, values, given, owner)
        start = sk.static_prefix
        if op == "eq":
            if len(given) != len(sk.fields):
                missing = ", ".join(f for f in sk.fields if f not in given)
                raise InvalidValueError(f"{self.name} (sort='eq') needs {missing} as well")
            return "=", ({"S": sk.render(values, owner)},)
        if op == "begins_with":
            prefix = sk.prefix(values, owner)
            return ("begins_with", ({"S": prefix},)) if prefix else (None, ())
        if not given:
            raise InvalidValueError(
                f"{self.name} (sort={op!r}) needs at least {sk.fields[0]} to compare"
            )
        if op == "between":
            last = given[-1]
            pair = values[last]
            if not (isinstance(pair, tuple | list) and len(pair) == 2):
                raise InvalidValueError(f"{self.name} (sort='between'): give {last}=(low, high)")
            low = sk.prefix({**values, last: pair[0]}, owner)
            high = sk.prefix({**values, last: pair[1]}, owner)
            return "BETWEEN", ({"S": low}, {"S": high + _MAX_CHAR})
        prefix = sk.prefix(values, owner)
        # Every range is clamped to keys that start with the template's literal start
        # (other entity types share the partition); BETWEEN is inclusive, so strict
        # bounds step just past (or before) every key that starts with the prefix.
        if op == "gte":
            low, high = prefix, start + _MAX_CHAR
        elif op == "gt":
            low, high = prefix + _MAX_CHAR, start + _MAX_CHAR
        elif op == "lte":
            low, high = start, prefix + _MAX_CHAR
        else:  # lt
            low, high = start, _before(prefix)
        if not start:  # no literal start to clamp to: a plain comparison
            symbol = {"gte": ">=", "gt": ">", "lte": "<=", "lt": "<"}[op]
            bound = {"gte": prefix, "gt": prefix + _MAX_CHAR, "lte": prefix + _MAX_CHAR}
            return symbol, ({"S": bound.get(op, prefix)},)
        return "BETWEEN", ({"S": low}, {"S": high})

    def _typed_sort(
        self,
        op: SortOp,
        sk: KeyTemplate,
        values: Mapping[str, Any],
        given: list[str],
        owner: str,
    ) -> tuple[str | None, tuple[dict[str, Any], ...]]:
        """The sort condition on a key that is a field's own value (a number key, or a
        plain key attribute): compared as the stored values are."""
        from singletable.codec import to_attribute

        if not given:
            if op in ("begins_with",):
                return None, ()
            raise InvalidValueError(f"{self.name} (sort={op!r}) needs {sk.fields[0]}")
        field = sk.fields[0]
        value = values[field]
        path = f"{owner}.{field}"
        if op == "between":
            if not (isinstance(value, tuple | list) and len(value) == 2):
                raise InvalidValueError(f"{self.name} (sort='between'): give {field}=(low, high)")
            low, high = value
            return "BETWEEN", (to_attribute(low, path), to_attribute(high, path))
        encoded = to_attribute(value, path)
        if op == "begins_with" and "N" not in encoded:
            return "begins_with", (encoded,)  # a prefix of a string or binary key
        symbol = {"eq": "=", "begins_with": "=", "lt": "<", "lte": "<=", "gt": ">", "gte": ">="}[op]
        return symbol, (encoded,)

    def __repr__(self) -> str:
        return f"<pattern {self.name}>"


def declared_patterns(entity: type[E]) -> list[BoundPattern[E]]:
    """The access patterns an entity declares (its own and inherited ``Query``
    attributes), bound to it, base classes' first, each once."""
    found: list[BoundPattern[E]] = []
    for klass in reversed(entity.__mro__):
        for value in vars(klass).values():
            if isinstance(value, Query):
                bound = value.bind(entity)
                if bound not in found:
                    found.append(bound)
    return found


def _before(text: str) -> str:
    """The greatest string that sorts before ``text`` among the keys we render
    (used as an inclusive upper bound for ``<``)."""
    if not text:
        return text
    last = text[-1]
    if last == "\x00":
        return text[:-1]
    return text[:-1] + chr(ord(last) - 1) + _MAX_CHAR


def _check_fields(
    owner: str, partition: KeyTemplate, sort_fields: tuple[str, ...], values: Mapping[str, Any]
) -> None:
    """Every partition field is given, and nothing the pattern does not take.

    Raises:
        InvalidValueError: naming the pattern and the fields.
    """
    takes = partition.fields + sort_fields
    for name in values:
        if name in takes:
            continue
        if name in _QUERY_METHODS:
            raise UnknownKeywordError(
                f"{owner}: unknown keyword {name!r}: {name} is a method of the query "
                f"(db.query(...).{name}(...)); the pattern takes {', '.join(takes)}"
            )
        check_keywords(owner, [name], takes)
    missing = [f for f in partition.fields if values.get(f) is None]
    if missing:
        raise InvalidValueError(
            f"{owner} needs {', '.join(missing)} (the partition key {partition.source!r})"
        )


def _key_attr(template: KeyTemplate, values: Mapping[str, Any], owner: str) -> dict[str, Any]:
    if template.typed:
        from singletable.codec import to_attribute

        field = template.fields[0]
        return to_attribute(values[field], f"{owner}.{field}")
    return {"S": template.render(values, owner)}


class Collection:
    """A pattern over several entity types stored under one partition.

    Args:
        *entities: the entity types the collection returns; they must share the
            partition template on ``index`` (checked when first used).
        index: the index that serves it (None: the table).
        name: the collection's name (for reports and cursors).
    """

    def __init__(self, *entities: type[Entity], index: str | None = None, name: str = "") -> None:
        if not entities:
            raise ModelError("Collection() needs at least one entity type")
        self.entities = entities
        self.index = index
        self.name = name or "+".join(e.__name__ for e in entities)
        first = entities[0].__singletable__
        self.table = first.table
        pk, _ = first.index_keys(index)
        self.pk_template = pk
        self.spec = self.table.spec(index)
        for entity in entities[1:]:
            model = entity.__singletable__
            if model.table is not self.table:
                raise ModelError(
                    f"collection {self.name}: {entity.__name__} is on table "
                    f"{model.table.name!r}, not {self.table.name!r}"
                )
            other, _ = model.index_keys(index)
            if other.shape() != pk.shape():
                raise ModelError(
                    f"collection {self.name}: {entity.__name__}'s partition key "
                    f"{other.source!r} differs from {entities[0].__name__}'s {pk.source!r}"
                )
        self.by_type: dict[str, type[Entity]] = {e.__singletable__.type_name: e for e in entities}

    def key_condition(self, values: Mapping[str, Any]) -> KeyCondition:
        """The key condition selecting the whole partition."""
        owner = f"collection {self.name}"
        _check_fields(owner, self.pk_template, (), values)
        values = coerce(self.entities[0], dict(values), owner)
        return KeyCondition(
            self.spec.name, self.spec.pk, _key_attr(self.pk_template, values, owner), None, None, ()
        )
