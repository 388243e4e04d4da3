"""Reading a NoSQL Workbench data model: its structure, and a starter model module from it.

See :mod:`singletable.workbench` for the format. Inference, per facet (entity):

- fields: the facet's non-key attributes, except the keys of the table and of its
  global indexes and the entity-type attribute; each typed from its values in the
  facet's sample items (ISO 8601 text becomes ``datetime`` or ``date``, integral
  numbers ``int``, other numbers ``Decimal``), else from its declared type; a
  field some items lack is optional;
- the table's key templates: the facet's key alias when it is a template
  (``USER#{user_id}``) or the constant every item has; else inferred from the items;
- a global index's templates: inferred from the items that have its key attributes
  (an entity none of whose items has them is not in the index).

A key value is inferred as a template by cutting it at ``#`` and taking each part
that equals (as text, as a number, or as the same instant) a field's value in the
same item as that field's slot, the other parts as literal text; the template must
fit every item of the facet. Nothing here runs the generated code.
"""

from __future__ import annotations

import itertools
import json
import keyword
import re
from collections.abc import Mapping, Sequence
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from singletable.errors import SingletableError
from singletable.keys import parse_slots

__all__ = ["WorkbenchError", "check_document", "module_source"]

_KEY_TYPES = ("S", "N", "B")
_TYPES = ("S", "N", "B", "BOOL", "NULL", "M", "L", "SS", "NS", "BS")
_PROJECTIONS = ("ALL", "KEYS_ONLY", "INCLUDE")
_MAX_CANDIDATES = 256


class WorkbenchError(SingletableError, ValueError):
    """A document that is not a NoSQL Workbench data model (the message says where)."""


# ------------------------------------------------------------------------- structure


def _need(condition: bool, where: str, what: str) -> None:
    if not condition:
        raise WorkbenchError(f"{where}: {what}")


def _key_schema(value: Any, where: str) -> None:
    _need(isinstance(value, dict), where, "expected an object")
    _need("PartitionKey" in value, where, "no PartitionKey")
    for role in ("PartitionKey", "SortKey"):
        if role in value:
            key = value[role]
            here = f"{where}.{role}"
            _need(isinstance(key, dict), here, "expected an object")
            _need(isinstance(key.get("AttributeName"), str), here, "no AttributeName")
            _need(key.get("AttributeType") in _KEY_TYPES, here, "AttributeType not S, N or B")


def _items(value: Any, where: str) -> None:
    _need(isinstance(value, list), where, "expected a list of items")
    for n, item in enumerate(value):
        typed = isinstance(item, dict) and all(
            isinstance(v, dict) and len(v) == 1 and next(iter(v)) in _TYPES
            for v in item.values()
        )
        _need(typed, f"{where}[{n}]", "expected an item in DynamoDB JSON ({name: {type: value}})")


def check_document(document: Any) -> None:
    """Check ``document`` against the structure of a NoSQL Workbench data model.

    Raises:
        WorkbenchError: the first thing that does not fit, with its path.
    """
    _need(isinstance(document, dict), "the model", "expected a JSON object")
    _need(isinstance(document.get("ModelName"), str), "the model", "no ModelName")
    tables = document.get("DataModel")
    _need(isinstance(tables, list) and bool(tables), "the model", "no DataModel tables")
    for t, table in enumerate(tables):
        where = f"DataModel[{t}]"
        _need(isinstance(table, dict), where, "expected an object")
        _need(isinstance(table.get("TableName"), str), where, "no TableName")
        _key_schema(table.get("KeyAttributes"), f"{where}.KeyAttributes")
        for n, attribute in enumerate(table.get("NonKeyAttributes", [])):
            here = f"{where}.NonKeyAttributes[{n}]"
            _need(isinstance(attribute, dict), here, "expected an object")
            _need(isinstance(attribute.get("AttributeName"), str), here, "no AttributeName")
            _need(attribute.get("AttributeType") in _TYPES, here, "unknown AttributeType")
        for n, facet in enumerate(table.get("TableFacets", [])):
            here = f"{where}.TableFacets[{n}]"
            _need(isinstance(facet, dict), here, "expected an object")
            _need(isinstance(facet.get("FacetName"), str), here, "no FacetName")
            alias = facet.get("KeyAttributeAlias")
            _need(isinstance(alias, dict), here, "no KeyAttributeAlias")
            _need(isinstance(alias.get("PartitionKeyAlias"), str), here, "no PartitionKeyAlias")
            names = facet.get("NonKeyAttributes", [])
            _need(isinstance(names, list) and all(isinstance(a, str) for a in names),
                  f"{here}.NonKeyAttributes", "expected a list of names")  # fmt: skip
            _items(facet.get("TableData", []), f"{here}.TableData")
        for n, index in enumerate(table.get("GlobalSecondaryIndexes", [])):
            here = f"{where}.GlobalSecondaryIndexes[{n}]"
            _need(isinstance(index, dict), here, "expected an object")
            _need(isinstance(index.get("IndexName"), str), here, "no IndexName")
            _key_schema(index.get("KeyAttributes"), f"{here}.KeyAttributes")
            projection = index.get("Projection", {"ProjectionType": "ALL"})
            _need(isinstance(projection, dict)
                  and projection.get("ProjectionType") in _PROJECTIONS,
                  f"{here}.Projection", "ProjectionType not ALL, KEYS_ONLY or INCLUDE")  # fmt: skip
        _items(table.get("TableData", []), f"{where}.TableData")


# --------------------------------------------------------------------------- names


def _q(value: Any) -> str:
    """A Python literal of a string, None or list of strings (double quotes, as ruff wants)."""
    if value is None:
        return "None"
    return json.dumps(value, ensure_ascii=False)


def _snake(name: str) -> str:
    """A Python name for an attribute or table name (``AccountId`` -> ``account_id``)."""
    text = re.sub(r"([a-z0-9])([A-Z])", r"\1_\2", name)
    text = re.sub(r"[^0-9A-Za-z]+", "_", text).strip("_").lower() or "value"
    if text[0].isdigit():
        text = "f_" + text
    if keyword.iskeyword(text) or text.startswith("model_") or text in ("keys", "self"):
        text += "_"
    return text


def _camel(name: str) -> str:
    parts = [p for p in re.split(r"[^0-9A-Za-z]+", name) if p]
    text = "".join(p[0].upper() + p[1:] for p in parts) or "Item"
    return "E" + text if text[0].isdigit() else text


def _unique(name: str, taken: set[str]) -> str:
    candidate, n = name, 2
    while candidate in taken:
        candidate, n = f"{name}{n}", n + 1
    taken.add(candidate)
    return candidate


# --------------------------------------------------------------------------- types


def _instant(text: str) -> datetime | None:
    if "T" not in text or not re.match(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}", text):
        return None
    try:
        return datetime.fromisoformat(text)
    except ValueError:
        return None


def _day(text: str) -> date | None:
    if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        return None


def _integral(text: str) -> bool:
    return re.fullmatch(r"-?\d+", text) is not None


def _type_of(values: Sequence[dict[str, Any]], declared: str | None) -> str:
    """A Python annotation for an attribute with these values (DynamoDB JSON)."""
    kinds = {next(iter(v)) for v in values} - {"NULL"}
    if not kinds:
        return _DECLARED.get(declared or "S", "Any")
    if len(kinds) > 1:
        return "Any"
    (kind,) = kinds
    raws = [v[kind] for v in values if kind in v]
    if kind == "S":
        if all(_instant(r) is not None for r in raws):
            return "datetime"
        if all(_day(r) is not None for r in raws):
            return "date"
        return "str"
    if kind == "N":
        return "int" if all(_integral(r) for r in raws) else "Decimal"
    if kind == "NS":
        numbers = [n for raw in raws for n in raw]
        return "set[int]" if all(_integral(n) for n in numbers) else "set[Decimal]"
    if kind == "L":
        inner = [e for r in raws for e in r]
        element = _type_of(inner, None) if inner else "Any"
        return f"list[{element if element in ('str', 'int', 'Decimal', 'bool') else 'Any'}]"
    return _DECLARED[kind]


_DECLARED = {
    "S": "str", "N": "Decimal", "B": "bytes", "BOOL": "bool", "NULL": "Any",
    "M": "dict[str, Any]", "L": "list[Any]", "SS": "set[str]", "NS": "set[Decimal]",
    "BS": "set[bytes]",
}  # fmt: skip


# ----------------------------------------------------------------------- templates


def _slots_for(part: str, values: Mapping[str, dict[str, Any]]) -> list[str]:
    """The slots (``{field}``, ``{field:03}``) whose item value ``part`` renders."""
    found = []
    for field, value in values.items():
        ((kind, raw),) = value.items()
        if kind == "S" and isinstance(raw, str):
            when = _instant(raw)
            if raw == part or (when is not None and _instant(part) == when):
                found.append(f"{{{field}}}")
        elif kind == "N" and re.fullmatch(r"-?\d+(\.\d+)?", part):
            try:
                same = Decimal(part) == Decimal(raw)
            except InvalidOperation:
                continue
            if not same:
                continue
            padded = part.lstrip("-").startswith("0") and len(part) > 1 and _integral(part)
            found.append(f"{{{field}:0{len(part)}}}" if padded else f"{{{field}}}")
    return found


def _literal(text: str) -> str:
    """Literal template text: key templates have no escape for braces, so a brace in a
    sample key (rare) becomes a parenthesis, and that key is not matched exactly."""
    return text.replace("{", "(").replace("}", ")")


def _candidates(key: str, values: Mapping[str, dict[str, Any]]) -> list[str]:
    """Templates that render ``key`` from ``values``, most slots first."""
    options = [[*_slots_for(part, values), _literal(part)] for part in key.split("#")]
    out = []
    for choice in itertools.islice(itertools.product(*options), _MAX_CANDIDATES):
        out.append("#".join(choice))
    return out


def _infer(keys: Sequence[str], values: Sequence[Mapping[str, dict[str, Any]]]) -> str | None:
    """The template that renders every key from its item's values (None if none does)."""
    common: list[str] | None = None
    for key, item_values in zip(keys, values, strict=True):
        mine = _candidates(key, item_values)
        common = mine if common is None else [c for c in common if c in mine]
        if not common:
            return None
    return common[0] if common else None


# -------------------------------------------------------------------------- module


class _Facet:
    """What the module needs to know of one facet: fields, keys, type name."""

    def __init__(self, name: str, class_name: str) -> None:
        self.name = name
        self.class_name = class_name
        self.type_name: str | None = None
        self.fields: dict[str, tuple[str, str, bool]] = {}  # field -> (attribute, type, opt)
        self.keys: dict[str | None, tuple[str, str | None]] = {}
        self.notes: list[str] = []
        self.key_types: dict[str, str] = {}


def module_source(document: Mapping[str, Any], source: str) -> str:
    """The Python source of a starter model module for a checked ``document``."""
    used_names: set[str] = {"Entity", "GlobalIndex", "Keys", "Query", "Table", "Field"}
    tables = [_table_source(table, used_names) for table in document["DataModel"]]
    imports = _imports("\n".join(tables))
    model = document.get("ModelName", "")
    header = (
        f'"""Model imported from the NoSQL Workbench data model {_q(model)} ({source}).\n\n'
        "Generated by ``singletable workbench import``: a starting point. Key templates and\n"
        "field types are inferred from the facets' key aliases and sample items; review\n"
        "them, and name the access patterns (each ``Query`` below is one per key).\n"
        '"""\n\nfrom __future__ import annotations\n\n'
    )
    return header + imports + "\n" + "\n\n".join(tables)


def _imports(body: str) -> str:
    lines = []
    stdlib = []
    if re.search(r"\bdatetime\b", body) or re.search(r"\bdate\b", body):
        names = [n for n in ("date", "datetime") if re.search(rf"\b{n}\b", body)]
        stdlib.append(f"from datetime import {', '.join(names)}")
    if "Decimal" in body:
        stdlib.append("from decimal import Decimal")
    typing_names = [n for n in ("Annotated", "Any") if re.search(rf"\b{n}\b", body)]
    if typing_names:
        stdlib.append(f"from typing import {', '.join(typing_names)}")
    lines += stdlib
    if "Field(" in body:
        lines += ["", "from pydantic import Field"]
    used = [n for n in ("Entity", "GlobalIndex", "Keys", "Query", "Table") if n in body]
    lines += ["", f"from singletable import {', '.join(used)}"]
    return "\n".join(lines).lstrip("\n") + "\n"


def _table_source(table: Mapping[str, Any], used_names: set[str]) -> str:
    name = table["TableName"]
    keys = table["KeyAttributes"]
    pk = keys["PartitionKey"]
    sk = keys.get("SortKey")
    declared = {a["AttributeName"]: a["AttributeType"] for a in table.get("NonKeyAttributes", [])}
    indexes = table.get("GlobalSecondaryIndexes", [])
    index_keys = {
        index["IndexName"]: (
            index["KeyAttributes"]["PartitionKey"]["AttributeName"],
            index["KeyAttributes"].get("SortKey", {}).get("AttributeName"),
        )
        for index in indexes
    }
    not_fields = {pk["AttributeName"]} | ({sk["AttributeName"]} if sk else set())
    not_fields |= {a for pair in index_keys.values() for a in pair if a is not None}
    key_types = {
        key["AttributeName"]: key["AttributeType"]
        for schema in [keys, *(i["KeyAttributes"] for i in indexes)]
        for key in schema.values()
    }
    facets = table.get("TableFacets") or _data_facets(table)
    type_attribute = _type_attribute(facets, not_fields)
    if type_attribute is not None:
        not_fields.add(type_attribute)
    variable = _unique(_snake(name), used_names)
    lines = [f"{variable} = Table("]
    lines.append(f"    {_q(name)},")
    lines.append(f"    pk={_q(pk['AttributeName'])},")
    lines.append(f"    sk={_q(sk['AttributeName'] if sk else None)},")
    if pk["AttributeType"] != "S":
        lines.append(f"    pk_type={_q(pk['AttributeType'])},")
    if sk and sk["AttributeType"] != "S":
        lines.append(f"    sk_type={_q(sk['AttributeType'])},")
    if indexes:
        lines.append("    indexes=[")
        for index in indexes:
            lines.append(f"        {_index_source(index)},")
        lines.append("    ],")
    if type_attribute is not None and type_attribute != "_type":
        lines.append(f"    type_attribute={_q(type_attribute)},")
    lines.append(")")
    out = ["\n".join(lines)]
    for facet in facets:
        parsed = _facet(facet, table, declared, not_fields, index_keys, type_attribute, key_types)
        parsed.class_name = _unique(parsed.class_name, used_names)
        out.append(_class_source(parsed, variable, bool(sk)))
    return "\n\n\n".join(out) + "\n"


def _data_facets(table: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Facets for a table that has sample items but no facets: the items grouped by an
    attribute named like a type (``entityType``, ``_type``) that every item has, else
    by the literal start of their keys (``ORDER#...`` under ``USER#...``: Order;
    ``USER#...`` with a constant sort key such as ``PROFILE``: User)."""
    items: list[dict[str, Any]] = list(table.get("TableData", []))
    if not items:
        return []
    keys = table["KeyAttributes"]
    pk = keys["PartitionKey"]["AttributeName"]
    sk = keys.get("SortKey", {}).get("AttributeName")
    marker = next(
        (a for a, v in items[0].items()
         if "type" in a.lower() and "S" in v and all("S" in i.get(a, {}) for i in items)),
        None,
    )  # fmt: skip
    groups: dict[str, list[dict[str, Any]]] = {}
    for item in items:
        if marker is not None:
            name = str(item[marker]["S"])
        else:
            pk_text = str(next(iter(item.get(pk, {"S": "item"}).values())))
            sk_text = str(next(iter(item[sk].values()))) if sk and sk in item else ""
            start = sk_text if "#" in sk_text else pk_text
            name = _camel(start.split("#", 1)[0].lower())
        groups.setdefault(name, []).append(item)
    return [
        {"FacetName": name, "KeyAttributeAlias": {}, "TableData": members, "NonKeyAttributes": []}
        for name, members in groups.items()
    ]


def _index_source(index: Mapping[str, Any]) -> str:
    keys = index["KeyAttributes"]
    parts = [_q(index["IndexName"]), f"pk={_q(keys['PartitionKey']['AttributeName'])}"]
    if "SortKey" in keys:
        parts.append(f"sk={_q(keys['SortKey']['AttributeName'])}")
    projection = index.get("Projection", {"ProjectionType": "ALL"})
    if projection["ProjectionType"] == "KEYS_ONLY":
        parts.append('projection="KEYS_ONLY"')
    elif projection["ProjectionType"] == "INCLUDE":
        parts.append(f"projection={_q(list(projection.get('NonKeyAttributes', [])))}")
    for role, key in (("pk_type", "PartitionKey"), ("sk_type", "SortKey")):
        if key in keys and keys[key]["AttributeType"] != "S":
            parts.append(f"{role}={_q(keys[key]['AttributeType'])}")
    return f"GlobalIndex({', '.join(parts)})"


def _type_attribute(facets: Sequence[Mapping[str, Any]], keys: set[str]) -> str | None:
    """The attribute naming each item's entity: text, the same in every item of a facet,
    different between facets (a name with "type" in it preferred)."""
    with_data = [f for f in facets if f.get("TableData")]
    if not with_data:
        return None
    found = []
    first = with_data[0]["TableData"][0]
    for attribute, value in first.items():
        if attribute in keys or "S" not in value:
            continue
        constants = []
        for facet in with_data:
            seen = {_json_key(item.get(attribute)) for item in facet["TableData"]}
            if len(seen) != 1 or None in seen:
                break
            constants.append(seen.pop())
        else:
            named = [f"S:{_q(f['FacetName'].rsplit('.', 1)[-1])}" for f in with_data]
            if len(set(constants)) == len(constants) and (
                constants == named or "type" in attribute.lower()
            ):
                found.append(attribute)
    found.sort(key=lambda a: "type" not in a.lower())
    return found[0] if found else None


def _json_key(value: Any) -> str | None:
    """A hashable form of an AttributeValue (None for a missing one)."""
    if value is None:
        return None
    ((kind, raw),) = value.items()
    return f"{kind}:{_q(raw)}"


def _facet(
    facet: Mapping[str, Any],
    table: Mapping[str, Any],
    declared: Mapping[str, str],
    not_fields: set[str],
    index_keys: Mapping[str, tuple[str, str | None]],
    type_attribute: str | None,
    key_types: dict[str, str],
) -> _Facet:
    name = facet["FacetName"]
    parsed = _Facet(name, _camel(name.rsplit(".", 1)[-1]))
    parsed.key_types = key_types
    items: list[dict[str, Any]] = list(facet.get("TableData", []))
    attributes = [a for a in facet.get("NonKeyAttributes", []) if a not in not_fields]
    for item in items:
        attributes += [a for a in item if a not in not_fields and a not in attributes]
    taken: set[str] = set()
    by_attribute: dict[str, str] = {}
    for attribute in attributes:
        field = _unique(_snake(attribute), taken)
        by_attribute[attribute] = field
        values = [item[attribute] for item in items if attribute in item]
        optional = len(values) < len(items) or not items
        annotation = _type_of(values, declared.get(attribute))
        parsed.fields[field] = (attribute, annotation, optional)
    values_of = [
        {
            by_attribute[a]: v
            for a, v in item.items()
            if a in by_attribute and next(iter(v)) in ("S", "N")
        }
        for item in items
    ]
    alias = facet["KeyAttributeAlias"]
    keys = table["KeyAttributes"]
    table_sk = keys.get("SortKey", {}).get("AttributeName")
    wanted: list[tuple[str | None, str, str | None, str | None, str | None]] = [
        (None, keys["PartitionKey"]["AttributeName"], table_sk,
         alias.get("PartitionKeyAlias"), alias.get("SortKeyAlias")),
    ]  # fmt: skip
    wanted += [(index, ipk, isk, None, None) for index, (ipk, isk) in index_keys.items()]
    for index, pk_attribute, sk_attribute, pk_alias, sk_alias in wanted:
        holding = [
            n for n, item in enumerate(items)
            if pk_attribute in item and (sk_attribute is None or sk_attribute in item)
        ]  # fmt: skip
        if index is not None and not holding:
            continue  # no item of the facet is in this index
        chosen_values = [values_of[n] for n in holding]
        pk_template = _template(pk_alias, pk_attribute, [items[n][pk_attribute] for n in holding],
                                chosen_values, parsed)  # fmt: skip
        sk_template = None
        if sk_attribute is not None:
            sk_template = _template(sk_alias, sk_attribute,
                                    [items[n][sk_attribute] for n in holding],
                                    chosen_values, parsed)  # fmt: skip
        parsed.keys[index] = (pk_template, sk_template)
    if type_attribute is not None and items and type_attribute in items[0]:
        parsed.type_name = str(items[0][type_attribute].get("S"))
    return parsed


def _template(
    alias: str | None,
    attribute: str,
    keys: Sequence[dict[str, Any]],
    values: Sequence[Mapping[str, dict[str, Any]]],
    facet: _Facet,
) -> str:
    """The key template of ``attribute`` for ``facet`` (adds the fields it needs)."""
    if alias is not None and any(isinstance(p, tuple) for p in _slots(alias)):
        template = alias  # the alias is a template (singletable's export writes them)
    else:
        texts = [str(next(iter(k.values()))) for k in keys]
        numeric = bool(keys) and all("N" in k for k in keys)
        inferred = _infer(texts, values) if keys else None
        if numeric:
            inferred = inferred if inferred and re.fullmatch(r"\{\w+\}", inferred) else None
        if alias is not None and texts and all(t == alias for t in texts):
            template = _literal(alias)  # a constant key, as the alias says
        elif inferred is not None:
            template = inferred
        elif (
            texts
            and len(set(texts)) == 1
            and not numeric
            and (len(texts) > 1 or re.fullmatch(r"[A-Z][A-Z0-9_]*(#[A-Z][A-Z0-9_]*)*", texts[0]))
        ):
            template = _literal(texts[0])  # the same in every item (or a constant's spelling)
        else:
            template = _fallback(alias, attribute, keys, texts, facet)
    key_type = {"N": "int", "B": "bytes"}.get(facet.key_types.get(attribute, "S"))
    for part in _slots(template):
        if isinstance(part, tuple) and part[0] not in facet.fields:
            kind = key_type or ("int" if re.fullmatch(r"0?\d+d?", part[1] or "x") else "str")
            facet.fields[part[0]] = (part[0], kind, False)
    _keep_keys_exact(template, [str(next(iter(k.values()))) for k in keys], facet)
    return template


# How singletable writes a datetime in a key (keys.py): UTC, microseconds, "Z".
_CANONICAL = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z")


def _keep_keys_exact(template: str, texts: Sequence[str], facet: _Facet) -> None:
    """Type a ``datetime`` field of ``template`` ``str`` when the sample keys spell its
    instants otherwise than singletable writes them: its keys must stay the data's."""
    parts = _slots(template)
    pattern = "".join(
        f"(?P<s{n}>.+?)" if isinstance(part, tuple) else re.escape(part)
        for n, part in enumerate(parts)
    )
    for text in texts:
        match = re.fullmatch(pattern, text)
        if match is None:
            continue
        for n, part in enumerate(parts):
            if not isinstance(part, tuple) or part[0] not in facet.fields:
                continue
            attribute, annotation, optional = facet.fields[part[0]]
            if annotation == "datetime" and not _CANONICAL.fullmatch(match[f"s{n}"]):
                facet.fields[part[0]] = (attribute, "str", optional)


def _fallback(
    alias: str | None,
    attribute: str,
    keys: Sequence[dict[str, Any]],
    texts: Sequence[str],
    facet: _Facet,
) -> str:
    """A template when no other attribute's value makes the key: the key attribute
    is a field of its own (``{field}``, its alias the attribute), or, for keys that
    start alike (``USER#...``), that start and a new field (a guess, said in a note)."""
    field = _unique(_snake(alias or attribute), set(facet.fields))
    prefixes = {t.rpartition("#")[0] for t in texts}
    if len(prefixes) == 1 and (prefix := prefixes.pop()):
        facet.fields[field] = (field, "str", False)
        template = _literal(prefix + "#") + f"{{{field}}}"
        facet.notes.append(
            f"{attribute}: no other attribute makes its values; {_q(template)} is a guess"
        )
        return template
    kind = facet.key_types.get(attribute, "S")
    annotation = _type_of(list(keys), kind) if keys else {"N": "int", "B": "bytes"}.get(kind, "str")
    facet.fields[field] = (attribute, annotation, False)
    return f"{{{field}}}"


def _slots(template: str) -> list[str | tuple[str, str]]:
    try:
        return parse_slots(template)
    except ValueError:
        return [template]


def _class_source(facet: _Facet, table: str, has_sk: bool) -> str:
    header = f"class {facet.class_name}(Entity, table={table}"
    if facet.type_name is not None and facet.type_name != facet.class_name:
        header += f", type_name={_q(facet.type_name)}"
    lines = [header + "):"]
    if facet.name != facet.class_name:
        lines.append(f'    """The facet {_q(facet.name)}."""')
        lines.append("")
    for field, (attribute, annotation, optional) in facet.fields.items():
        shown = f"{annotation} | None" if optional else annotation
        if attribute != field:  # the alias inside Annotated: pydantic ignores it on a union
            shown = f"Annotated[{shown}, Field(alias={_q(attribute)})]"
        lines.append(f"    {field}: {shown} = None" if optional else f"    {field}: {shown}")
    for note in facet.notes:
        lines.append(f"    # {note}")
    key_parts = []
    table_keys = facet.keys.get(None)
    if table_keys is not None:
        key_parts.append(f"pk={_q(table_keys[0])}")
        if has_sk and table_keys[1] is not None:
            key_parts.append(f"sk={_q(table_keys[1])}")
    odd = {}
    for index, (pk, sk) in facet.keys.items():
        if index is None:
            continue
        value = _q(pk) if sk is None else f"({_q(pk)}, {_q(sk)})"
        if index.isidentifier() and not keyword.iskeyword(index) and index not in ("pk", "sk"):
            key_parts.append(f"{index}={value}")
        else:
            odd[index] = value
    if odd:
        key_parts.append("**{" + ", ".join(f"{_q(k)}: {v}" for k, v in odd.items()) + "}")
    one_line = f"    keys = Keys({', '.join(key_parts)})"
    if len(one_line) <= 99:
        lines += ["", one_line, ""]
    else:
        lines += ["", "    keys = Keys(", *(f"        {part}," for part in key_parts), "    )", ""]
    taken = set(facet.fields)
    lines.append(f"    {_unique('by_key', taken)} = Query()")
    for index in facet.keys:
        if index is not None:
            lines.append(f"    {_unique('by_' + _snake(index), taken)} = Query(index={_q(index)})")
    return "\n".join(lines)
