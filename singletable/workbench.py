"""NoSQL Workbench data models: export a model to one, import one as a starter model.

NoSQL Workbench for DynamoDB saves a data model as JSON (its "NoSQL Workbench model
format", Developer Guide: "Exporting a data model", and for facets "Editing an
existing data model")::

    {"ModelName": ..., "ModelMetadata": {"Author", "DateCreated", "DateLastModified",
                                          "Description", "AWSService", "Version"},
     "DataModel": [{"TableName": ...,
                    "KeyAttributes": {"PartitionKey": {"AttributeName", "AttributeType"},
                                      "SortKey": {...}},            # SortKey optional
                    "NonKeyAttributes": [{"AttributeName", "AttributeType"}, ...],
                    "TableFacets": [{"FacetName", "KeyAttributeAlias":
                                         {"PartitionKeyAlias", "SortKeyAlias"},
                                     "TableData": [item, ...], "NonKeyAttributes": [name],
                                     "DataAccess": {"MySql": {}}}],
                    "GlobalSecondaryIndexes": [{"IndexName", "KeyAttributes",
                                                "Projection": {"ProjectionType",
                                                               "NonKeyAttributes"}}],
                    "TableData": [item, ...], "DataAccess": {"MySql": {}},
                    "BillingMode": "PAY_PER_REQUEST"}]}

Items are in DynamoDB JSON. A facet is Workbench's view of one kind of item; its
key aliases are the names it shows for the table's keys. :func:`export_model`
writes one facet per entity, with the entity's key templates as the aliases
(``USER#{user_id}``), so Workbench shows the design's templates over its sample
items. :func:`import_model` reads them back: a template alias is taken as the
key template; a plain alias (``UserId``) is not one, and the template is inferred
from the facet's sample items instead (which parts of each key value are other
attributes of the item). Global index templates are inferred from the items in
the same way; field types come from the items' values.

The format has no local secondary indexes and no access patterns: the export
lists a model's in its description, and the import declares a ``Query`` per key
an entity has (to review).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from singletable._workbench_import import WorkbenchError, check_document, module_source

if TYPE_CHECKING:
    from singletable.patterns import Collection
    from singletable.report import SampleItem
    from singletable.table import IndexSpec, Table

__all__ = ["WorkbenchError", "check_document", "export_model", "import_model"]

_VERSION = "3.0"  # the ModelMetadata.Version of the files NoSQL Workbench writes today


def export_model(
    tables: Sequence[Table],
    *,
    collections: Sequence[Collection] = (),
    name: str = "singletable model",
    samples: Mapping[str, Sequence[SampleItem]] | None = None,
    description: str | None = None,
    now: datetime | None = None,
) -> dict[str, Any]:
    """The NoSQL Workbench data model of ``tables`` (a JSON-ready dict).

    Args:
        tables: the tables, with their entities.
        collections: collections to list with the access patterns in the description.
        name: the model's name in Workbench.
        samples: sample items by table name (``singletable.report.sample_file``);
            without them, each entity's facet gets two items synthesized from its
            field types (the ones the HTML report draws).
        description: the model's description (default: its access patterns).
        now: the creation time written in the metadata (default: now).
    """
    from singletable.report._samples import model_items

    when = (now or datetime.now(UTC)).strftime("%b %d, %Y, %I:%M %p")
    samples = samples or {}
    taken: set[str] = set()
    data_model = []
    for table in tables:
        items = samples.get(table.name)
        data_model.append(
            _table(table, model_items(table) if items is None else list(items), taken)
        )
    return {
        "ModelName": name,
        "ModelMetadata": {
            "Author": "",
            "DateCreated": when,
            "DateLastModified": when,
            "Description": (
                description if description is not None else _description(tables, collections)
            ),
            "AWSService": "Amazon DynamoDB",
            "Version": _VERSION,
        },
        "DataModel": data_model,
    }


def import_model(document: Mapping[str, Any], *, source: str = "the data model") -> str:
    """The Python source of a starter model module for a NoSQL Workbench data model.

    Raises:
        WorkbenchError: the document is not a NoSQL Workbench data model (what is wrong
            and where).
    """
    check_document(document)
    return module_source(document, source)


def _description(tables: Sequence[Table], collections: Sequence[Collection]) -> str:
    from singletable.patterns import declared_patterns

    lines = ["Exported by singletable. Access patterns:"]
    for table in tables:
        for entity in table.entities.values():
            for bound in declared_patterns(entity):
                where = f"index {bound.spec.name}" if bound.spec.name else "the table"
                lines.append(f"- {bound.name}: Query on {where} ({bound.pattern.sort})")
        for collection in collections:
            if collection.table is table:
                where = f"index {collection.spec.name}" if collection.spec.name else "the table"
                names = ", ".join(e.__name__ for e in collection.entities)
                lines.append(f"- {collection.name}: Query on {where} (a partition of {names})")
        for name, spec in table.indexes.items():
            if spec.local:
                lines.append(
                    f"- (table {table.name}: local index {name} on {spec.sk}; NoSQL Workbench "
                    "models have no local indexes, so it is not in this file)"
                )
    return "\n".join(lines)


def _key(attribute: str, kind: str) -> dict[str, str]:
    return {"AttributeName": attribute, "AttributeType": kind}


def _key_attributes(spec: IndexSpec) -> dict[str, Any]:
    keys: dict[str, Any] = {"PartitionKey": _key(spec.pk, spec.pk_type)}
    if spec.sk is not None:
        keys["SortKey"] = _key(spec.sk, spec.sk_type)
    return keys


def _table(table: Table, items: list[SampleItem], taken: set[str]) -> dict[str, Any]:
    key_names = {table.primary.pk, table.primary.sk}
    kinds: dict[str, str] = {}  # attribute -> its type, in first-seen order
    for spec in table.indexes.values():
        if not spec.local:
            kinds.setdefault(spec.pk, spec.pk_type)
            if spec.sk is not None:
                kinds.setdefault(spec.sk, spec.sk_type)
    facets = []
    for entity in table.entities.values():
        model = entity.__singletable__
        mine = [s.item for s in items if s.entity == entity.__name__]
        names: list[str] = []
        for item in mine:
            for attribute, value in item.items():
                if attribute not in key_names:
                    kinds.setdefault(attribute, next(iter(value)))
                    if attribute not in names:
                        names.append(attribute)
        for attribute in [*model.attributes.values(), table.type_attribute]:
            if attribute not in key_names and attribute not in names:
                names.append(attribute)
                kinds.setdefault(attribute, "S")
        pk, sk = model.keys[None]
        alias = {"PartitionKeyAlias": pk.source}
        if sk is not None and table.primary.sk is not None:
            alias["SortKeyAlias"] = sk.source
        facet_name = entity.__name__
        if facet_name in taken:  # facet names are unique across a model
            facet_name = f"{table.name}.{entity.__name__}"
        taken.add(facet_name)
        facets.append(
            {
                "FacetName": facet_name,
                "KeyAttributeAlias": alias,
                "TableData": mine,
                "NonKeyAttributes": names,
                "DataAccess": {"MySql": {}},
            }
        )
    document: dict[str, Any] = {
        "TableName": table.name,
        "KeyAttributes": _key_attributes(table.primary),
        "NonKeyAttributes": [
            {"AttributeName": name, "AttributeType": kind} for name, kind in kinds.items()
        ],
        "TableFacets": facets,
        "GlobalSecondaryIndexes": [
            {
                "IndexName": name,
                "KeyAttributes": _key_attributes(spec),
                "Projection": _projection(spec),
            }
            for name, spec in table.indexes.items()
            if not spec.local
        ],
        # items no entity claims (data read from the table) belong to no facet
        "TableData": [s.item for s in items if not _claimed(table, s.entity)],
        "DataAccess": {"MySql": {}},
        "BillingMode": "PAY_PER_REQUEST",
    }
    return document


def _claimed(table: Table, entity: str) -> bool:
    return any(e.__name__ == entity for e in table.entities.values())


def _projection(spec: IndexSpec) -> dict[str, Any]:
    if isinstance(spec.projection, str):
        return {"ProjectionType": spec.projection}
    return {"ProjectionType": "INCLUDE", "NonKeyAttributes": list(spec.projection)}
