"""Secondary-index definitions in CreateTable and UpdateTable: shapes, rules, limits.

Order and messages follow DynamoDB as recorded by dynalite and dynoxide (whose
messages were captured against the live service): member-level shape errors
first (collected into the "N validation errors detected" list with the table's
own), then the empty-list, LSI, GSI, duplicate-name, attribute-definition and
projection-limit rules, one at a time.

The messages for malformed multi-attribute key schemas (more than four HASH or
RANGE elements, HASH after RANGE, one attribute twice), for a PROVISIONED table's
GSI without ProvisionedThroughput and for a repeated NonKeyAttributes element
come from the catalogue of live DynamoDB texts mined by ack-api-quirks (us-west-2
and us-east-1, 2026); no emulator had them.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from singletable.backends.local._indexes import IndexDef
from singletable.backends.local._params import Checks, provisioned_throughput
from singletable.backends.local.errors import DynamoDBError, validation_error

if TYPE_CHECKING:
    from singletable.backends.local._schema import TableDef
    from singletable.backends.local.storage import Storage

__all__ = [
    "MAX_GSIS",
    "MAX_LSIS",
    "GsiUpdates",
    "IndexSpec",
    "attribute_definitions",
    "build_index",
    "check_index_specs",
    "check_key_attribute_name",
    "duplicate_definition",
    "index_specs",
    "key_schema",
]

MAX_GSIS = 20
MAX_LSIS = 5
MAX_PROJECTED = 100
MAX_KEY_ATTRIBUTES = 4  # per partition key and per sort key of a multi-attribute GSI


def _invalid(message: str) -> DynamoDBError:
    return validation_error("One or more parameter values were invalid: " + message)


def _serialization() -> DynamoDBError:
    return DynamoDBError(
        "SerializationException", "Start of structure or map found where not expected."
    )


def key_schema(checks: Checks, schema: Any, member: str, longest: int) -> list[tuple[str, str]]:
    """Shape-check a KeySchema list (at most ``longest`` elements); (name, type) pairs."""
    if schema is None:
        return []
    if not isinstance(schema, list):
        raise _serialization()
    if len(schema) < 1:
        checks.fail(member, "[]", "Member must have length greater than or equal to 1")
    if len(schema) > longest:
        checks.fail(
            member, _java_list(schema), f"Member must have length less than or equal to {longest}"
        )
    elements: list[tuple[str, str]] = []
    for position, element in enumerate(schema, start=1):
        element = element if isinstance(element, dict) else {}
        name, key_type = element.get("AttributeName"), element.get("KeyType")
        if name is None:
            checks.fail(
                f"{member}.{position}.member.attributeName", None, "Member must not be null"
            )
        else:
            check_key_attribute_name(checks, name, f"{member}.{position}.member.attributeName")
        if key_type is None:
            checks.fail(f"{member}.{position}.member.keyType", None, "Member must not be null")
        elif key_type not in ("HASH", "RANGE"):
            checks.fail(
                f"{member}.{position}.member.keyType",
                key_type,
                "Member must satisfy enum value set: [HASH, RANGE]",
            )
        elements.append((str(name), str(key_type)))
    return elements


MAX_KEY_NAME_BYTES = 255


def check_key_attribute_name(checks: Checks, name: Any, member: str) -> None:
    """A key (or attribute-definition, or projected) attribute name: 1 to 255 bytes.

    Checked with the request's other member constraints, so before any rule on how
    the key schema, definitions and indexes fit together (Developer Guide, "Naming
    rules": key and projected names are limited to 255 bytes; DynamoDB also refuses
    a base-table key name over 255, and reports the length before any incoherence
    between KeySchema and AttributeDefinitions: scylladb's alternator test_limits.py,
    run against DynamoDB).
    """
    if not isinstance(name, str):
        raise DynamoDBError("SerializationException", "Unexpected value type in payload")
    size = len(name.encode("utf-8"))
    if size < 1:
        checks.fail(member, name, "Member must have length greater than or equal to 1")
    elif size > MAX_KEY_NAME_BYTES:
        checks.fail(
            member, name, f"Member must have length less than or equal to {MAX_KEY_NAME_BYTES}"
        )


def attribute_definitions(checks: Checks, definitions: Any) -> tuple[dict[str, str], str | None]:
    """Shape-check an AttributeDefinitions list; ``({name: type}, a name given twice)``.

    The caller refuses a name given twice once the shape checks passed, as DynamoDB
    does ("Attribute Name is duplicated: x", scylladb/scylladb#13870, from DynamoDB):
    see :func:`duplicate_definition`.
    """
    defs: dict[str, str] = {}
    if definitions is None:
        return defs, None
    if not isinstance(definitions, list):
        raise DynamoDBError(
            "SerializationException", "Start of structure or map found where not expected."
        )
    duplicate: str | None = None
    for position, definition in enumerate(definitions, start=1):
        definition = definition if isinstance(definition, dict) else {}
        member = f"attributeDefinitions.{position}.member"
        name, attr_type = definition.get("AttributeName"), definition.get("AttributeType")
        if name is None:
            checks.fail(f"{member}.attributeName", None, "Member must not be null")
        else:
            check_key_attribute_name(checks, name, f"{member}.attributeName")
        if attr_type is None:
            checks.fail(f"{member}.attributeType", None, "Member must not be null")
        elif attr_type not in ("S", "N", "B"):
            checks.fail(
                f"{member}.attributeType",
                attr_type,
                "Member must satisfy enum value set: [B, N, S]",
            )
        if str(name) in defs and duplicate is None:
            duplicate = str(name)
        defs[str(name)] = str(attr_type)
    return defs, duplicate


def duplicate_definition(name: str | None) -> None:
    """Refuse an attribute defined twice (see :func:`attribute_definitions`)."""
    if name is not None:
        raise validation_error(f"Attribute Name is duplicated: {name}")


def _java_list(schema: list[Any]) -> str:
    """A KeySchema as DynamoDB shows it in a message: the Java SDK model's toString.

    ``[KeySchemaElement(attributeName=pk, keyType=HASH), ...]`` (captured by dynoxide,
    src/actions/create_table.rs, ``render_key_schema_java_toString``).
    """
    parts = []
    for element in schema:
        element = element if isinstance(element, dict) else {}
        name = element.get("AttributeName") or ""
        key_type = element.get("KeyType") or ""
        parts.append(f"KeySchemaElement(attributeName={name}, keyType={key_type})")
    return "[" + ", ".join(parts) + "]"


class IndexSpec:
    """One shape-checked GlobalSecondaryIndex / LocalSecondaryIndex request member."""

    def __init__(self, checks: Checks, raw: Any, member: str, is_global: bool) -> None:
        if not isinstance(raw, dict):
            raise _serialization()
        self.is_global = is_global
        self.name = raw.get("IndexName")
        self.schema = key_schema(
            checks,
            raw.get("KeySchema"),
            f"{member}.keySchema",
            2 * MAX_KEY_ATTRIBUTES if is_global else 2,
        )
        if raw.get("KeySchema") is None:
            checks.fail(f"{member}.keySchema", None, "Member must not be null")
        projection = raw.get("Projection")
        self.projection: dict[str, Any] = projection if isinstance(projection, dict) else {}
        if projection is None:
            checks.fail(f"{member}.projection", None, "Member must not be null")
        else:
            kind = self.projection.get("ProjectionType")
            if kind is not None and kind not in ("ALL", "KEYS_ONLY", "INCLUDE"):
                checks.fail(
                    f"{member}.projection.projectionType",
                    kind,
                    "Member must satisfy enum value set: [ALL, INCLUDE, KEYS_ONLY]",
                )
            non_key = self.projection.get("NonKeyAttributes")
            if non_key == []:
                checks.fail(
                    f"{member}.projection.nonKeyAttributes",
                    "[]",
                    "Member must have length greater than or equal to 1",
                )
            elif isinstance(non_key, list):
                for position, name in enumerate(non_key, start=1):
                    check_key_attribute_name(
                        checks, name, f"{member}.projection.nonKeyAttributes.{position}.member"
                    )
            elif non_key is not None:
                raise _serialization()
        if self.name is None:
            checks.fail(f"{member}.indexName", None, "Member must not be null")
        elif isinstance(self.name, str):
            _index_name(checks, self.name, f"{member}.indexName")
        self.throughput: tuple[int, int] | None = None
        if is_global:
            self.throughput = provisioned_throughput(
                checks, raw.get("ProvisionedThroughput"), f"{member}."
            )

    @property
    def key_names(self) -> list[str]:
        """The attribute names of the key schema, in order."""
        return [name for name, _ in self.schema]

    def check_projection(self) -> None:
        """ProjectionType / NonKeyAttributes agreement."""
        kind = self.projection.get("ProjectionType")
        non_key = self.projection.get("NonKeyAttributes")
        if kind is None:
            raise _invalid("Unknown ProjectionType: null")
        if kind in ("ALL", "KEYS_ONLY") and non_key is not None:
            raise _invalid(f"ProjectionType is {kind}, but NonKeyAttributes is specified")
        if kind == "INCLUDE" and non_key is None:
            raise _invalid("ProjectionType is INCLUDE, but NonKeyAttributes is not specified")
        seen: set[Any] = set()
        for name in non_key or ():
            if name in seen:
                raise _invalid(f"Duplicate element in NonKeyAttributes: {name}")
            seen.add(name)

    def check_schema(self) -> None:
        """Key-schema structure: HASH elements first, then RANGE; limits; no repeats."""
        schema = self.schema
        if schema[0][1] != "HASH":
            raise validation_error(
                "Invalid KeySchema: The first KeySchemaElement is not a HASH key type"
            )
        if len(schema) == 2 and schema[0][0] == schema[1][0]:
            raise validation_error(
                "Both the Hash Key and the Range Key element in the KeySchema have the same name"
            )
        kinds = [kind for _, kind in schema]
        hashes = kinds.count("HASH")
        if not self.is_global:
            if len(schema) == 2 and kinds[1] != "RANGE":
                raise validation_error(
                    "Invalid KeySchema: The second KeySchemaElement is not a RANGE key type"
                )
            return
        if kinds != ["HASH"] * hashes + ["RANGE"] * (len(kinds) - hashes):
            if len(schema) == 2:
                raise validation_error(
                    "Invalid KeySchema: The second KeySchemaElement is not a RANGE key type"
                )
            raise _invalid(
                "All HASH key attributes must precede RANGE key attributes in the KeySchema"
            )
        for kind, count in (("HASH", hashes), ("RANGE", len(kinds) - hashes)):
            if count > MAX_KEY_ATTRIBUTES:
                raise _invalid(
                    f"The KeySchema exceeds the maximum allowed number of {kind} key attributes"
                )
        names = self.key_names
        if len(set(names)) != len(names):
            raise validation_error(
                "The KeySchema contains multiple key attributes with the same name"
            )


def _index_name(checks: Checks, name: str, member: str) -> None:
    if not name or any(not (c.isascii() and (c.isalnum() or c in "_.-")) for c in name):
        checks.fail(member, name, "Member must satisfy regular expression pattern: [a-zA-Z0-9_.-]+")
    if len(name) < 3:
        checks.fail(member, name, "Member must have length greater than or equal to 3")
    if len(name) > 255:
        checks.fail(member, name, "Member must have length less than or equal to 255")


def index_specs(checks: Checks, request: dict[str, Any], member: str, is_global: bool) -> (
    list[IndexSpec] | None
):
    """Shape-check the list under ``member`` (GlobalSecondaryIndexes or LocalSecondaryIndexes)."""
    raw = request.get(member)
    if raw is None:
        return None
    if not isinstance(raw, list):
        raise _serialization()
    wire = member[0].lower() + member[1:]
    return [
        IndexSpec(checks, item, f"{wire}.{position}.member", is_global)
        for position, item in enumerate(raw, start=1)
    ]


def _missing_definitions(specs: Sequence[IndexSpec], defs: dict[str, str]) -> None:
    keys: list[str] = []
    for spec in specs:
        for name in spec.key_names:
            if name not in keys:
                keys.append(name)
    if any(name not in defs for name in keys):
        raise _invalid(
            "Some index key attributes are not defined in AttributeDefinitions. "
            f"Keys: [{', '.join(keys)}], AttributeDefinitions: [{', '.join(defs)}]"
        )


def _duplicates(specs: Sequence[IndexSpec], seen: set[str]) -> None:
    for spec in specs:
        if spec.name in seen:
            raise _invalid(f"Duplicate index name: {spec.name}")
        seen.add(str(spec.name))


def check_index_specs(
    gsis: list[IndexSpec] | None,
    lsis: list[IndexSpec] | None,
    table_schema: Sequence[tuple[str, str]],
    defs: dict[str, str],
    billing: str,
) -> None:
    """The CreateTable rules on secondary indexes (after the shape checks passed)."""
    if lsis == []:
        raise _invalid("List of LocalSecondaryIndexes is empty")
    if gsis == []:
        raise _invalid("List of GlobalSecondaryIndexes is empty")
    if lsis:
        if len(table_schema) < 2:
            raise _invalid(
                "Table KeySchema does not have a range key, which is required when specifying a "
                "LocalSecondaryIndex"
            )
        _missing_definitions(lsis, defs)
        for spec in lsis:
            spec.check_schema()
            if len(spec.schema) < 2:
                raise _invalid(f"Index KeySchema does not have a range key for index: {spec.name}")
            if spec.schema[0][0] != table_schema[0][0]:
                raise _invalid(
                    "Index KeySchema does not have the same leading hash key as table KeySchema "
                    f"for index: {spec.name}. index hash key: {spec.schema[0][0]}, table hash "
                    f"key: {table_schema[0][0]}"
                )
            spec.check_projection()
        _duplicates(lsis, set())
        if len(lsis) > MAX_LSIS:
            raise _invalid(
                f"Number of LocalSecondaryIndexes exceeds per-table limit of {MAX_LSIS}"
            )
    if gsis:
        _missing_definitions(gsis, defs)
        for spec in gsis:
            spec.check_schema()
            spec.check_projection()
        _duplicates(gsis, set())
        if len(gsis) > MAX_GSIS:
            raise _invalid(
                f"GlobalSecondaryIndex count exceeds the per-table limit of {MAX_GSIS}"
            )
        check_gsi_throughput(gsis, billing, creating_table=True)
    _duplicates((lsis or []) + (gsis or []), set())
    check_projected_total((lsis or []) + (gsis or []), [])


def check_gsi_throughput(
    gsis: Sequence[IndexSpec], billing: str, *, creating_table: bool = False
) -> None:
    """A GSI's ProvisionedThroughput must match the table's billing mode.

    A missing one reads "is not specified" in CreateTable and "must be specified" in
    UpdateTable (both in the ack-api-quirks catalogue of live texts).
    """
    for spec in gsis:
        if billing == "PAY_PER_REQUEST" and spec.throughput is not None:
            raise _invalid(
                f"ProvisionedThroughput should not be specified for index: {spec.name} when "
                "BillingMode is PAY_PER_REQUEST"
            )
        if billing == "PROVISIONED" and spec.throughput is None:
            verb = "is not" if creating_table else "must be"
            raise _invalid(f"ProvisionedThroughput {verb} specified for index: {spec.name}")


def check_projected_total(specs: Sequence[IndexSpec], existing: Sequence[IndexDef]) -> None:
    """At most 100 NonKeyAttributes over all indexes (the same name twice counts twice)."""
    total = sum(len(index.non_key) for index in existing)
    total += sum(len(spec.projection.get("NonKeyAttributes") or ()) for spec in specs)
    if total > MAX_PROJECTED:
        raise _invalid(
            f"Number of projected attributes in all indexes exceeds limit of {MAX_PROJECTED}"
        )


def build_index(spec: IndexSpec, defs: dict[str, str], table_keys: tuple[str, ...]) -> IndexDef:
    """The IndexDef a validated spec describes."""
    return IndexDef.build(
        str(spec.name),
        spec.is_global,
        spec.schema,
        defs,
        spec.projection,
        table_keys,
        spec.throughput or (0, 0),
    )


# --------------------------------------------------------------------------- UpdateTable


class GsiUpdates:
    """UpdateTable's GlobalSecondaryIndexUpdates (and the AttributeDefinitions they need).

    Checked in full by :meth:`validate` before :meth:`apply` changes anything. An
    added index is backfilled from the table's items in the same step (under the
    engine lock), so it is ACTIVE at once; the response reports it CREATING as
    DynamoDB's does. Messages captured from DynamoDB by dynoxide
    (src/actions/update_table.rs).
    """

    def __init__(self, checks: Checks, request: dict[str, Any]) -> None:
        raw = request.get("GlobalSecondaryIndexUpdates")
        self.creates: list[IndexSpec] = []
        self.deletes: list[str] = []
        self.updates: list[tuple[str, tuple[int, int] | None]] = []
        # An empty list asks for nothing, like no list (dynalite, from DynamoDB).
        self.given = bool(raw)
        self.defs: dict[str, str] = {}
        self.duplicate: str | None = None
        self.empty_action = False
        if raw is None:
            return
        if not isinstance(raw, list):
            raise _serialization()
        for position, action in enumerate(raw, start=1):
            if not isinstance(action, dict):
                raise _serialization()
            kinds = ("Create", "Update", "Delete")
            if not any(isinstance(action.get(kind), dict) for kind in kinds):
                self.empty_action = True
            member = f"globalSecondaryIndexUpdates.{position}.member"
            if isinstance(action.get("Create"), dict):
                self.creates.append(IndexSpec(checks, action["Create"], f"{member}.create", True))
            if isinstance(action.get("Delete"), dict):
                self.deletes.append(str(action["Delete"].get("IndexName")))
            if isinstance(action.get("Update"), dict):
                update = action["Update"]
                throughput = provisioned_throughput(
                    checks, update.get("ProvisionedThroughput"), f"{member}.update."
                )
                self.updates.append((str(update.get("IndexName")), throughput))
        self.defs, self.duplicate = attribute_definitions(
            checks, request.get("AttributeDefinitions")
        )

    def validate(self, table: TableDef, billing: str) -> None:
        """Every rule, against the table as it is (nothing changes here)."""
        duplicate_definition(self.duplicate)
        if self.empty_action:
            # dynalite's text, recorded from DynamoDB.
            raise _invalid(
                "One of GlobalSecondaryIndexUpdate.Update, GlobalSecondaryIndexUpdate.Create, "
                "GlobalSecondaryIndexUpdate.Delete must not be null"
            )
        named = [spec.name for spec in self.creates] + self.deletes
        named += [name for name, _ in self.updates]
        for position, name in enumerate(named):
            if name in named[:position]:
                raise _invalid(
                    "Only one global secondary index update per index is allowed "
                    f"simultaneously. Index: {name}"
                )
        existing = {index.name for index in table.indexes}
        for name, _ in self.updates:
            if name not in existing:
                raise validation_error(
                    "This operation cannot be performed with given input values. Please contact "
                    "DynamoDB service team for more info: Action Blocked: IndexUpdate"
                )
        if len(self.creates) + len(self.deletes) > 1 or (
            len(self.creates) + len(self.deletes) + len(self.updates) > 5
        ):
            raise DynamoDBError(
                "LimitExceededException",
                "Subscriber limit exceeded: Only 1 online index can be created or deleted "
                "simultaneously per table",
            )
        for spec in self.creates:
            if spec.name in existing:
                raise _invalid(f"Index already exists: {spec.name}")
            _missing_definitions([spec], self.defs)
            spec.check_schema()
            spec.check_projection()
            check_gsi_throughput([spec], billing)
            known = {d["AttributeName"]: d["AttributeType"] for d in table.attribute_definitions}
            for name in spec.key_names:
                if name in known and known[name] != self.defs[name]:
                    raise _invalid(
                        "Attributes cannot be redefined. Please check that your attribute has "
                        f"the same type as previously defined. Attribute: {name}"
                    )
        if self.creates:
            gsis = [index for index in table.indexes if index.is_global]
            if len(gsis) + len(self.creates) > MAX_GSIS:
                raise _invalid(
                    f"GlobalSecondaryIndex count exceeds the per-table limit of {MAX_GSIS}"
                )
            check_projected_total(self.creates, table.indexes)
        for name in self.deletes:
            if name not in {index.name for index in table.indexes if index.is_global}:
                raise DynamoDBError(
                    "ResourceNotFoundException",
                    f"Requested resource not found: Table: {name} not found",
                )

    def apply(self, table: TableDef, storage: Storage) -> tuple[dict[str, str], list[IndexDef]]:
        """Make the changes; returns the status to report per index, and the removed ones."""
        statuses: dict[str, str] = {}
        removed = [index for index in table.indexes if index.name in self.deletes]
        for name, throughput in self.updates:
            index = table.index(name)
            if index is not None and throughput is not None:
                index.read_units, index.write_units = throughput
            statuses[name] = "UPDATING"
        for spec in self.creates:
            known = {d["AttributeName"] for d in table.attribute_definitions}
            types = {d["AttributeName"]: d["AttributeType"] for d in table.attribute_definitions}
            for name in spec.key_names:
                if name not in known:
                    table.attribute_definitions.append(
                        {"AttributeName": name, "AttributeType": self.defs[name]}
                    )
                types.setdefault(name, self.defs[name])
            index = build_index(spec, types, table.key_names)
            table.attach_index(storage, index)  # filled from the table's items
            table.indexes.append(index)
            statuses[index.name] = "CREATING"
        for index in removed:
            table.detach_index(storage, index)
        for name in self.deletes:
            table.indexes = [index for index in table.indexes if index.name != name]
            statuses[name] = "DELETING"
        return statuses, removed
