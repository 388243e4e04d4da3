"""NoSQL Workbench interop: export a model as a data model JSON, import one as a module.

The export is checked against the structure NoSQL Workbench documents and writes
(Developer Guide, "Editing an existing data model" for facets; its exported files
for the rest) with a small schema below, independent of the module's own check.
The e-commerce example goes out to Workbench and back, and comes back the same.
"""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
import types
import typing
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from singletable.keys import base_type
from singletable.table import Table
from singletable.workbench import WorkbenchError, check_document, export_model, import_model

ROOT = Path(__file__).parents[2]
WHEN = datetime(2026, 3, 1, 9, 5, tzinfo=UTC)

# ------------------------------------------------------------ the format's structure

ITEM = ("item",)  # DynamoDB JSON: {name: {type: value}}
KEY = {"AttributeName": str, "AttributeType": ("S", "N", "B")}
TYPES = ("S", "N", "B", "BOOL", "NULL", "M", "L", "SS", "NS", "BS")
SCHEMA: dict[str, Any] = {
    "ModelName": str,
    "ModelMetadata": {
        "Author": str, "DateCreated": str, "DateLastModified": str, "Description": str,
        "AWSService": ("Amazon DynamoDB",), "Version": str,
    },
    "DataModel": [{
        "TableName": str,
        "KeyAttributes": {"PartitionKey": KEY, "SortKey?": KEY},
        "NonKeyAttributes": [{"AttributeName": str, "AttributeType": TYPES}],
        "TableFacets": [{
            "FacetName": str,
            "KeyAttributeAlias": {"PartitionKeyAlias": str, "SortKeyAlias?": str},
            "TableData": [ITEM],
            "NonKeyAttributes": [str],
            "DataAccess?": {"MySql": {}},
        }],
        "GlobalSecondaryIndexes": [{
            "IndexName": str,
            "KeyAttributes": {"PartitionKey": KEY, "SortKey?": KEY},
            "Projection": {"ProjectionType": ("ALL", "KEYS_ONLY", "INCLUDE"),
                           "NonKeyAttributes?": [str]},
        }],
        "TableData?": [ITEM],
        "DataAccess?": {"MySql": {}},
        "BillingMode?": ("PAY_PER_REQUEST", "PROVISIONED"),
    }],
}  # fmt: skip


def conform(value: Any, schema: Any, path: str = "$") -> list[str]:
    """Where ``value`` leaves ``schema`` (dict: these keys, ``?`` optional, no others;
    [s]: a list of s; a type; a tuple of allowed values; ITEM: an item)."""
    if schema is ITEM:
        ok = isinstance(value, dict) and all(
            isinstance(v, dict) and len(v) == 1 and next(iter(v)) in TYPES for v in value.values()
        )
        return [] if ok else [f"{path}: not an item"]
    if isinstance(schema, type):
        return [] if isinstance(value, schema) else [f"{path}: not a {schema.__name__}"]
    if isinstance(schema, tuple):
        return [] if value in schema else [f"{path}: {value!r} not one of {schema}"]
    if isinstance(schema, list):
        if not isinstance(value, list):
            return [f"{path}: not a list"]
        return [p for n, v in enumerate(value) for p in conform(v, schema[0], f"{path}[{n}]")]
    if not isinstance(value, dict):
        return [f"{path}: not an object"]
    problems = []
    keys = {k.rstrip("?"): k.endswith("?") for k in schema}
    for key, optional in keys.items():
        if key in value:
            spec = schema[key + "?"] if optional else schema[key]
            problems += conform(value[key], spec, f"{path}.{key}")
        elif not optional:
            problems.append(f"{path}: no {key}")
    problems += [f"{path}: unexpected {k}" for k in value if k not in keys]
    return problems


def test_the_schema_catches_what_it_should() -> None:
    good = {"ModelName": "m", "ModelMetadata": {"Author": "", "DateCreated": "d",
            "DateLastModified": "d", "Description": "", "AWSService": "Amazon DynamoDB",
            "Version": "3.0"}, "DataModel": []}  # fmt: skip
    assert conform(good, SCHEMA) == []
    assert conform({**good, "Extra": 1}, SCHEMA) == ["$: unexpected Extra"]
    bad = {**good, "DataModel": [{"TableName": "t", "KeyAttributes": {"PartitionKey": {
        "AttributeName": "PK", "AttributeType": "BOOL"}}, "NonKeyAttributes": [],
        "TableFacets": [], "GlobalSecondaryIndexes": []}]}  # fmt: skip
    assert conform(bad, SCHEMA) == [
        "$.DataModel[0].KeyAttributes.PartitionKey.AttributeType: 'BOOL' not one of ('S', 'N', 'B')"
    ]


# -------------------------------------------------------------------------- export


def _load(path: Path, name: str) -> types.ModuleType:
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def ecommerce() -> types.ModuleType:
    return _load(ROOT / "examples" / "ecommerce.py", "workbench_ecommerce")


@pytest.fixture(scope="module")
def exported(ecommerce: types.ModuleType) -> dict[str, Any]:
    return export_model([ecommerce.shop], name="ecommerce", now=WHEN)


def test_the_export_has_the_documented_structure(exported: dict[str, Any]) -> None:
    assert conform(exported, SCHEMA) == []
    check_document(exported)
    assert exported["ModelMetadata"]["DateCreated"] == "Mar 01, 2026, 09:05 AM"
    json.dumps(exported)  # JSON-ready as it is


def test_the_export_has_a_facet_per_entity_with_its_templates(exported: dict[str, Any]) -> None:
    (table,) = exported["DataModel"]
    assert table["KeyAttributes"] == {
        "PartitionKey": {"AttributeName": "PK", "AttributeType": "S"},
        "SortKey": {"AttributeName": "SK", "AttributeType": "S"},
    }
    facets = {f["FacetName"]: f for f in table["TableFacets"]}
    assert list(facets) == ["User", "Order", "Product", "Review"]
    assert facets["Order"]["KeyAttributeAlias"] == {
        "PartitionKeyAlias": "USER#{user_id}",
        "SortKeyAlias": "ORDER#{placed_at}#{order_id}",
    }
    assert facets["Product"]["KeyAttributeAlias"]["SortKeyAlias"] == "METADATA"
    # sample data: two orders (one shipped), each an item of that entity
    orders = facets["Order"]["TableData"]
    assert [o["_type"] for o in orders] == [{"S": "Order"}, {"S": "Order"}]
    assert {o["GSI1PK"]["S"] for o in orders} == {"STATUS#pending", "STATUS#shipped"}
    # every facet attribute is declared on the table, keys are not listed as non-key
    declared = {a["AttributeName"]: a["AttributeType"] for a in table["NonKeyAttributes"]}
    for facet in facets.values():
        assert set(facet["NonKeyAttributes"]) <= set(declared)
        assert not {"PK", "SK"} & set(facet["NonKeyAttributes"])
    assert (declared["total"], declared["placed_at"], declared["GSI1PK"]) == ("N", "S", "S")
    assert table["GlobalSecondaryIndexes"] == [{
        "IndexName": "GSI1",
        "KeyAttributes": {"PartitionKey": {"AttributeName": "GSI1PK", "AttributeType": "S"},
                          "SortKey": {"AttributeName": "GSI1SK", "AttributeType": "S"}},
        "Projection": {"ProjectionType": "ALL"},
    }]  # fmt: skip
    assert "Order.by_status: Query on index GSI1" in exported["ModelMetadata"]["Description"]


def test_projections_and_local_indexes() -> None:
    sys.path.insert(0, str(ROOT / "tests" / "report"))
    try:
        import report_shop_model as shop_model
    finally:
        sys.path.pop(0)
    document = export_model([shop_model.shop], now=WHEN)
    assert conform(document, SCHEMA) == []
    (table,) = document["DataModel"]
    indexes = {i["IndexName"]: i["Projection"] for i in table["GlobalSecondaryIndexes"]}
    assert indexes == {"GSI1": {"ProjectionType": "ALL"}, "GSI2": {"ProjectionType": "KEYS_ONLY"}}
    # Workbench has no local indexes: left out, and said so
    assert "local index LSI1 on LSI1SK" in document["ModelMetadata"]["Description"]


def test_facet_names_stay_unique_across_tables() -> None:
    from singletable.entity import Entity, Keys

    one, two = Table("one"), Table("two")
    types.new_class("Thing", (Entity,), {"table": one}, lambda ns: ns.update(
        __annotations__={"a": str}, keys=Keys(pk="A#{a}", sk="A")))  # fmt: skip
    types.new_class("Thing", (Entity,), {"table": two}, lambda ns: ns.update(
        __annotations__={"a": str}, keys=Keys(pk="A#{a}", sk="A")))  # fmt: skip
    document = export_model([one, two], now=WHEN)
    names = [f["FacetName"] for t in document["DataModel"] for f in t["TableFacets"]]
    assert names == ["Thing", "two.Thing"]


# --------------------------------------------------------------------------- import


def _imported(source: str, tmp_path: Path, name: str) -> types.ModuleType:
    path = tmp_path / f"{name}.py"
    path.write_text(source, encoding="utf-8")
    return _load(path, name)


def _shape(table: Table) -> dict[str, Any]:
    """What a round trip must keep: keys, indexes, entities, templates, field types."""
    entities = {}
    for entity in table.entities.values():
        model = entity.__singletable__
        keys = {index: (pk.source, sk.source if sk else None) for index, (pk, sk) in
                model.keys.items()}  # fmt: skip
        fields = {}
        for name, info in entity.model_fields.items():
            kind = base_type(info.annotation)
            fields[name] = str if typing.get_origin(kind) is typing.Literal else kind
        entities[entity.__name__] = (model.type_name, keys, fields)
    indexes = {n: (s.pk, s.sk, s.projection, s.local) for n, s in table.indexes.items()}
    return {"name": table.name, "keys": (table.primary.pk, table.primary.sk),
            "indexes": indexes, "entities": entities, "type": table.type_attribute}  # fmt: skip


def test_the_ecommerce_model_makes_the_round_trip(
    ecommerce: types.ModuleType, exported: dict[str, Any], tmp_path: Path
) -> None:
    source = import_model(exported)
    module = _imported(source, tmp_path, "round_trip_shop")
    assert _shape(module.shop) == _shape(ecommerce.shop)
    shape = _shape(module.shop)["entities"]
    assert shape["Order"][2]["placed_at"] is datetime and shape["Order"][2]["total"] is Decimal
    assert shape["Order"][1]["GSI1"] == ("STATUS#{status}", "{placed_at}#{order_id}")
    # and out again: the same Workbench model, but for what Literal types knew
    again = export_model([module.shop], name="ecommerce", now=WHEN)

    def keys_only(document: dict[str, Any]) -> Any:
        (table,) = document["DataModel"]
        return [(f["FacetName"], f["KeyAttributeAlias"], f["NonKeyAttributes"])
                for f in table["TableFacets"]], table["GlobalSecondaryIndexes"]  # fmt: skip

    assert keys_only(again) == keys_only(exported)


def test_the_generated_module_is_clean_python(exported: dict[str, Any], tmp_path: Path) -> None:
    path = tmp_path / "generated.py"
    path.write_text(import_model(exported), encoding="utf-8")
    result = subprocess.run(
        [sys.executable, "-m", "ruff", "check", "--no-cache", "--config",
         str(ROOT / "pyproject.toml"), str(path)],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout


# A model as NoSQL Workbench users write it: plain key aliases, the templates only in
# the sample data (after the Developer Guide's credit card offers sample model).
CARDS: dict[str, Any] = {
    "ModelName": "Credit card offers",
    "ModelMetadata": {"Author": "", "DateCreated": "", "DateLastModified": "",
                      "Description": "", "AWSService": "Amazon DynamoDB", "Version": "3.0"},
    "DataModel": [{
        "TableName": "CreditCardOffers",
        "KeyAttributes": {"PartitionKey": {"AttributeName": "PK", "AttributeType": "S"},
                          "SortKey": {"AttributeName": "SK", "AttributeType": "S"}},
        "NonKeyAttributes": [
            {"AttributeName": "AccountId", "AttributeType": "N"},
            {"AttributeName": "FirstName", "AttributeType": "S"},
            {"AttributeName": "OfferId", "AttributeType": "N"},
            {"AttributeName": "Status", "AttributeType": "S"},
            {"AttributeName": "Since", "AttributeType": "S"},
            {"AttributeName": "GSI1SK", "AttributeType": "S"},
            {"AttributeName": "Addresses", "AttributeType": "M"},
        ],
        "TableFacets": [
            {"FacetName": "Accounts",
             "KeyAttributeAlias": {"PartitionKeyAlias": "AccountId", "SortKeyAlias": "Info"},
             "NonKeyAttributes": ["AccountId", "FirstName", "Addresses"],
             "TableData": [
                 {"PK": {"S": "ACCT#76584123"}, "SK": {"S": "INFO"}, "AccountId": {"N": "76584123"},
                  "FirstName": {"S": "Zhang"}, "Addresses": {"M": {"home": {"S": "1 Any St"}}}},
                 {"PK": {"S": "ACCT#11584123"}, "SK": {"S": "INFO"}, "AccountId": {"N": "11584123"},
                  "FirstName": {"S": "Li"}},
             ]},
            {"FacetName": "Account offers (A2)",
             "KeyAttributeAlias": {"PartitionKeyAlias": "AccountId", "SortKeyAlias": "OfferId"},
             "NonKeyAttributes": ["AccountId", "OfferId", "Status", "Since", "GSI1SK"],
             "TableData": [
                 {"PK": {"S": "ACCT#76584123"}, "SK": {"S": "OFFER#0042"},
                  "AccountId": {"N": "76584123"}, "OfferId": {"N": "42"},
                  "Status": {"S": "ACCEPTED"}, "Since": {"S": "2020-01-02T10:00:00Z"},
                  "GSI1SK": {"S": "OFFER#ACCEPTED#2020-01-02T10:00:00.000000Z"}},
                 {"PK": {"S": "ACCT#11584123"}, "SK": {"S": "OFFER#0007"},
                  "AccountId": {"N": "11584123"}, "OfferId": {"N": "7"},
                  "Status": {"S": "DECLINED"}, "Since": {"S": "2021-03-04T08:30:00Z"},
                  "GSI1SK": {"S": "OFFER#DECLINED#2021-03-04T08:30:00.000000Z"}},
             ]},
        ],
        "GlobalSecondaryIndexes": [{
            "IndexName": "GSI1",
            "KeyAttributes": {"PartitionKey": {"AttributeName": "PK", "AttributeType": "S"},
                              "SortKey": {"AttributeName": "GSI1SK", "AttributeType": "S"}},
            "Projection": {"ProjectionType": "INCLUDE", "NonKeyAttributes": ["Status"]},
        }],
        "DataAccess": {"MySql": {}},
        "BillingMode": "PAY_PER_REQUEST",
    }],
}  # fmt: skip


def test_templates_and_types_are_inferred_from_sample_data(tmp_path: Path) -> None:
    assert conform(CARDS, SCHEMA) == []
    module = _imported(import_model(CARDS), tmp_path, "cards_model")
    table = module.credit_card_offers
    assert (table.name, table.indexes["GSI1"].projection) == ("CreditCardOffers", ["Status"])
    accounts, offers = table.entities["Accounts"], table.entities["AccountOffersA2"]
    assert accounts.__singletable__.keys[None][0].source == "ACCT#{account_id}"
    assert accounts.__singletable__.keys[None][1].source == "INFO"  # constant in every item
    keys = offers.__singletable__.keys
    assert (keys[None][0].source, keys[None][1].source) == ("ACCT#{account_id}",
                                                            "OFFER#{offer_id:04}")  # fmt: skip
    assert keys["GSI1"][1].source == "OFFER#{status}#{since}"  # the same instant, any spelling
    assert "GSI1" not in accounts.__singletable__.keys  # none of its items is in the index
    fields = offers.model_fields
    assert fields["account_id"].alias == "AccountId" and fields["account_id"].annotation is int
    assert fields["since"].annotation is datetime
    assert accounts.model_fields["addresses"].is_required() is False  # one item lacks it
    # the entity writes the keys the sample items have
    item = CARDS["DataModel"][0]["TableFacets"][1]["TableData"][0]
    written = offers.from_item(item).to_item()
    assert {k: written[k] for k in ("PK", "SK", "GSI1SK")} == {
        k: item[k] for k in ("PK", "SK", "GSI1SK")
    }


def test_plain_aliases_without_data_name_the_key_fields(tmp_path: Path) -> None:
    document = {"ModelName": "songs", "DataModel": [{
        "TableName": "Songs",
        "KeyAttributes": {"PartitionKey": {"AttributeName": "Id", "AttributeType": "N"}},
        "NonKeyAttributes": [{"AttributeName": "Title", "AttributeType": "S"},
                             {"AttributeName": "Released", "AttributeType": "S"}],
        "TableFacets": [{"FacetName": "SongDetails",
                         "KeyAttributeAlias": {"PartitionKeyAlias": "SongId"},
                         "NonKeyAttributes": ["Title", "Released"]}],
    }]}  # fmt: skip
    source = import_model(document)
    assert 'pk_type="N"' in source and "sk=None" in source
    module = _imported(source, tmp_path, "songs_model")
    song = module.songs.entities["SongDetails"]
    assert song.__singletable__.keys[None][0].source == "{song_id}"
    assert song.model_fields["title"].annotation == str | None  # declared, no data: optional


@pytest.mark.parametrize(
    ("document", "message"),
    [
        ([], "the model: expected a JSON object"),
        ({"ModelName": "m", "DataModel": []}, "no DataModel tables"),
        ({"ModelName": "m", "DataModel": [{"TableName": "t"}]},
         r"DataModel\[0\].KeyAttributes: expected an object"),
        ({"ModelName": "m", "DataModel": [{"TableName": "t", "KeyAttributes": {
            "PartitionKey": {"AttributeName": "PK", "AttributeType": "S"}},
            "TableFacets": [{"FacetName": "F", "KeyAttributeAlias": {}}]}]},
         r"DataModel\[0\].TableFacets\[0\]: no PartitionKeyAlias"),
        ({"ModelName": "m", "DataModel": [{"TableName": "t", "KeyAttributes": {
            "PartitionKey": {"AttributeName": "PK", "AttributeType": "S"}},
            "TableData": [{"PK": "plain"}]}]},
         r"DataModel\[0\].TableData\[0\]: expected an item in DynamoDB JSON"),
    ],
)  # fmt: skip
def test_documents_that_are_not_workbench_models_are_refused(
    document: Any, message: str
) -> None:
    with pytest.raises(WorkbenchError, match=message):
        import_model(document)


# ------------------------------------------------------------------------------ CLI


def _cli(*argv: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "singletable.cli", *argv],
        capture_output=True, text=True, timeout=120, cwd=cwd,
        env={**__import__("os").environ, "PYTHONPATH": f"{ROOT}:{ROOT / 'examples'}"},
    )  # fmt: skip


def test_cli_export_then_import(tmp_path: Path) -> None:
    exported = tmp_path / "shop.json"
    result = _cli("workbench", "export", "ecommerce", "-o", str(exported), cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stderr == f"wrote 1 table(s) to {exported}\n"
    document = json.loads(exported.read_text(encoding="utf-8"))
    assert conform(document, SCHEMA) == [] and document["ModelName"] == "ecommerce"
    description = document["ModelMetadata"]["Description"]
    assert "- product_page: Query on the table (a partition of Product, Review)" in description
    model = tmp_path / "shop_model.py"
    result = _cli("workbench", "import", str(exported), "-o", str(model), cwd=tmp_path)
    assert result.returncode == 0 and result.stderr == f"wrote {model}\n", result.stderr
    assert "class Order(Entity, table=shop):" in model.read_text(encoding="utf-8")
    # the written module is a model the other commands take
    result = _cli("report", "shop_model", cwd=tmp_path)
    assert result.returncode == 0 and "Order.by_gsi1" in result.stdout, result.stderr
    # not over an existing file without --force
    result = _cli("workbench", "import", str(exported), "-o", str(model), cwd=tmp_path)
    assert result.returncode == 2 and "exists (--force to overwrite it)" in result.stderr
    result = _cli("workbench", "import", str(exported), "-o", str(model), "--force", cwd=tmp_path)
    assert result.returncode == 0


def test_cli_export_with_data(tmp_path: Path, ecommerce: types.ModuleType) -> None:
    user = ecommerce.User(user_id="ada", name="Ada", email="ada@example.com",
                          joined=datetime(2026, 1, 2, tzinfo=UTC))  # fmt: skip
    data = tmp_path / "shop.jsonl"
    data.write_text(json.dumps({"Item": user.to_item()}) + "\n", encoding="utf-8")
    result = _cli("workbench", "export", "ecommerce:shop", "--data", str(data), cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    facets = {f["FacetName"]: f for f in json.loads(result.stdout)["DataModel"][0]["TableFacets"]}
    assert [i["PK"] for i in facets["User"]["TableData"]] == [{"S": "USER#ada"}]
    assert facets["Order"]["TableData"] == []  # the data has no order


def test_cli_import_errors_and_warnings(tmp_path: Path) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text('{"ModelName": "m"}', encoding="utf-8")
    result = _cli("workbench", "import", str(bad), cwd=tmp_path)
    assert result.returncode == 2
    assert result.stderr == (
        f"singletable: error: {bad}: not a NoSQL Workbench data model: "
        "the model: no DataModel tables\n"
    )
    bad.write_text("{", encoding="utf-8")
    assert "is not JSON" in _cli("workbench", "import", str(bad), cwd=tmp_path).stderr
    # two facets that look alike and no data: written, with a warning saying why it fails
    twins = {"ModelName": "m", "DataModel": [{"TableName": "t", "KeyAttributes": {
        "PartitionKey": {"AttributeName": "PK", "AttributeType": "S"},
        "SortKey": {"AttributeName": "SK", "AttributeType": "S"}},
        "TableFacets": [
            {"FacetName": "A", "KeyAttributeAlias": {"PartitionKeyAlias": "Id",
                                                     "SortKeyAlias": "Sk"}},
            {"FacetName": "B", "KeyAttributeAlias": {"PartitionKeyAlias": "Id",
                                                     "SortKeyAlias": "Sk"}}]}]}  # fmt: skip
    path = tmp_path / "twins.json"
    path.write_text(json.dumps(twins), encoding="utf-8")
    result = _cli("workbench", "import", str(path), "-o", str(tmp_path / "twins.py"), cwd=tmp_path)
    assert result.returncode == 0 and (tmp_path / "twins.py").exists()
    assert result.stderr.startswith("singletable: warning: the module written does not import")
    assert "ModelError" in result.stderr


def test_dates_in_sample_data_become_dates(tmp_path: Path) -> None:
    document = json.loads(json.dumps(CARDS))
    facet = document["DataModel"][0]["TableFacets"][0]
    for n, item in enumerate(facet["TableData"]):
        item["Opened"] = {"S": f"2020-0{n + 1}-15"}
    module = _imported(import_model(document), tmp_path, "cards_dates")
    field = module.credit_card_offers.entities["Accounts"].model_fields["opened"]
    assert field.annotation is date


@pytest.mark.parametrize(
    ("values", "declared", "expected"),
    [
        ([{"S": "a"}, {"S": "2020-01-01"}], "S", "str"),
        ([{"S": "2020-01-01T00:00:00Z"}, {"S": "2021-05-06T07:08:09.5+02:00"}], "S", "datetime"),
        ([{"N": "1"}, {"N": "-20"}], "N", "int"),
        ([{"N": "1"}, {"N": "2.5"}], "N", "Decimal"),
        ([{"NS": ["1", "2"]}], "NS", "set[int]"),
        ([{"NS": ["1.5"]}], "NS", "set[Decimal]"),
        ([{"L": [{"S": "x"}]}, {"L": []}], "L", "list[str]"),
        ([{"L": [{"S": "x"}, {"N": "1"}]}], "L", "list[Any]"),
        ([{"M": {}}], "M", "dict[str, Any]"),
        ([{"BOOL": True}, {"NULL": True}], "BOOL", "bool"),
        ([{"S": "a"}, {"N": "1"}], "S", "Any"),
        ([], "N", "Decimal"),
        ([], "SS", "set[str]"),
    ],
)  # fmt: skip
def test_field_types_from_values(values: list[Any], declared: str, expected: str) -> None:
    from singletable._workbench_import import _type_of

    assert _type_of(values, declared) == expected


@pytest.mark.parametrize("with_type", [True, False], ids=["type-attribute", "key-prefixes"])
def test_a_table_without_facets_is_split_by_its_items(
    exported: dict[str, Any], ecommerce: types.ModuleType, tmp_path: Path, with_type: bool
) -> None:
    """Workbench users often keep all sample items in the table's TableData, with no
    facets: the entities come from an entity-type attribute, else from key prefixes."""
    document = json.loads(json.dumps(exported))
    (table,) = document["DataModel"]
    items = [item for facet in table.pop("TableFacets") for item in facet["TableData"]]
    if not with_type:
        for item in items:
            del item["_type"]
    table["TableData"] = items
    module = _imported(import_model(document), tmp_path, f"facetless_{with_type}")
    original = _shape(ecommerce.shop)["entities"]
    entities = _shape(module.shop)["entities"]
    assert set(entities) == set(original) == {"User", "Order", "Product", "Review"}
    for name, (_, keys, fields) in entities.items():
        assert keys == original[name][1], name
        assert fields == {f: t for f, t in original[name][2].items() if f in fields}, name


def test_keys_that_spell_instants_otherwise_keep_text_fields(tmp_path: Path) -> None:
    """A datetime field would write its keys as singletable spells instants (UTC,
    microseconds, Z); when the data's keys spell them otherwise, the field stays text
    so that the entity's keys are the data's."""
    document = json.loads(json.dumps(CARDS))
    offers = document["DataModel"][0]["TableFacets"][1]["TableData"]
    for item in offers:
        item["GSI1SK"]["S"] = item["GSI1SK"]["S"].replace(".000000Z", "Z")
    module = _imported(import_model(document), tmp_path, "cards_text")
    entity = module.credit_card_offers.entities["AccountOffersA2"]
    assert entity.model_fields["since"].annotation is str
    written = entity.from_item(offers[0]).to_item()
    assert written["GSI1SK"] == offers[0]["GSI1SK"]
