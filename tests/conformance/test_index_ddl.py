"""CreateTable with secondary indexes: every rule and limit, and DescribeTable's index entries.

API Reference: https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/API_CreateTable.html
(GlobalSecondaryIndexes, LocalSecondaryIndexes), API_GlobalSecondaryIndexDescription,
API_LocalSecondaryIndexDescription, and the Developer Guide, "Quotas" (20 GSIs, 5 LSIs, 100
projected non-key attributes over all indexes, the same name twice counting twice).
Messages: dynalite's createTable validations and dynoxide's create_table.rs (both recorded
from the live service); where a rule is newer than both, the message catalogue mined from live
DynamoDB by ack-api-quirks (us-west-2 and us-east-1, 2026) -- noted per test.
"""

from __future__ import annotations

import re
from typing import Any

import boto3
import pytest
from botocore.config import Config
from ddbtest import REGION, Backend, raises

MOTO_DIFFERENCES = {
    "index-rules": "moto accepts several malformed index definitions DynamoDB rejects (an LSI "
    "whose hash key differs from the table's, a missing range key on an LSI, NonKeyAttributes "
    "with ALL/KEYS_ONLY, duplicate index names, more than 5 LSIs / 20 GSIs, more than 100 "
    "projected attributes) or rejects them with other texts.",
    "index-messages": "moto rejects the request but with another message than DynamoDB's.",
    "index-throughput": "moto does not check a GSI's ProvisionedThroughput against the "
    "table's billing mode (or reports it with other values).",
    "index-describe": "moto's index description differs (IndexArn, IndexSizeBytes or "
    "ItemCount missing or not maintained, or ProvisionedThroughput omitted on an on-demand "
    "table's GSI).",
}

PPR = {"BillingMode": "PAY_PER_REQUEST"}
THROUGHPUT = {"ReadCapacityUnits": 5, "WriteCapacityUnits": 7}
ERR = "ValidationException"
INVALID = "One or more parameter values were invalid: "


def _defs(**types: str) -> list[dict[str, str]]:
    return [{"AttributeName": name, "AttributeType": kind} for name, kind in types.items()]


def _schema(*elements: str) -> list[dict[str, str]]:
    """``_schema("G", "H:RANGE")``: a KeySchema (HASH unless ``:RANGE`` is given)."""
    out = []
    for element in elements:
        name, _, kind = element.partition(":")
        out.append({"AttributeName": name, "KeyType": kind or "HASH"})
    return out


def gsi(name: str, *keys: str, projection: dict[str, Any] | None = None, **extra: Any) -> Any:
    """A GlobalSecondaryIndex request member."""
    index = {
        "IndexName": name,
        "KeySchema": _schema(*keys),
        "Projection": projection if projection is not None else {"ProjectionType": "ALL"},
    }
    index.update(extra)
    return index


def lsi(name: str, sort: str, projection: dict[str, Any] | None = None, pk: str = "PK") -> Any:
    """A LocalSecondaryIndex request member keyed on ``pk`` and ``sort``."""
    return {
        "IndexName": name,
        "KeySchema": _schema(pk, f"{sort}:RANGE"),
        "Projection": projection if projection is not None else {"ProjectionType": "ALL"},
    }


def create(ddb: Any, defs: dict[str, str] | None = None, sk: bool = True, **extra: Any) -> Any:
    """CreateTable ``tbl`` (PK S, SK S when ``sk``) with ``defs`` added to its definitions."""
    types = {"PK": "S", **({"SK": "S"} if sk else {}), **(defs or {})}
    request: dict[str, Any] = {
        "TableName": "tbl",
        "KeySchema": _schema("PK", "SK:RANGE") if sk else _schema("PK"),
        "AttributeDefinitions": _defs(**types),
        **PPR,
    }
    request.update(extra)
    return ddb.create_table(**request)


@pytest.fixture
def raw(db: Backend) -> Any:
    """A client that sends what botocore's own parameter checks would refuse."""
    return boto3.client("dynamodb", region_name=REGION, config=Config(parameter_validation=False))


# --------------------------------------------------------------------------- valid tables


def test_describe_reports_gsis_and_lsis(db: Backend, ddb: Any) -> None:
    create(
        ddb,
        {"G": "S", "H": "N", "L": "B"},
        GlobalSecondaryIndexes=[
            gsi("byG", "G", "H:RANGE"),
            gsi("byH", "H", projection={"ProjectionType": "KEYS_ONLY"}),
        ],
        LocalSecondaryIndexes=[
            lsi("byL", "L", {"ProjectionType": "INCLUDE", "NonKeyAttributes": ["x", "y"]})
        ],
    )
    table = ddb.describe_table(TableName="tbl")["Table"]
    gsis = {index["IndexName"]: index for index in table["GlobalSecondaryIndexes"]}
    assert set(gsis) == {"byG", "byH"}
    assert gsis["byG"]["KeySchema"] == _schema("G", "H:RANGE")
    assert gsis["byG"]["Projection"] == {"ProjectionType": "ALL"}
    assert gsis["byH"]["Projection"] == {"ProjectionType": "KEYS_ONLY"}
    for index in gsis.values():
        assert index["IndexStatus"] == "ACTIVE"
    (local,) = table["LocalSecondaryIndexes"]
    assert local["IndexName"] == "byL"
    assert local["KeySchema"] == _schema("PK", "L:RANGE")
    assert local["Projection"] == {"ProjectionType": "INCLUDE", "NonKeyAttributes": ["x", "y"]}
    # An LSI has neither a status nor throughput of its own (API_LocalSecondaryIndexDescription).
    assert "IndexStatus" not in local
    assert "ProvisionedThroughput" not in local
    assert {d["AttributeName"] for d in table["AttributeDefinitions"]} == {
        "PK",
        "SK",
        "G",
        "H",
        "L",
    }


@pytest.mark.moto_differs("index-describe")
def test_index_arns_sizes_and_on_demand_throughput(db: Backend, ddb: Any) -> None:
    create(
        ddb,
        {"G": "S", "L": "S"},
        GlobalSecondaryIndexes=[gsi("byG", "G")],
        LocalSecondaryIndexes=[lsi("byL", "L")],
    )
    table = ddb.describe_table(TableName="tbl")["Table"]
    (global_,) = table["GlobalSecondaryIndexes"]
    (local,) = table["LocalSecondaryIndexes"]
    assert global_["IndexArn"] == table["TableArn"] + "/index/byG"
    assert local["IndexArn"] == table["TableArn"] + "/index/byL"
    # An on-demand table's GSI reports zero provisioned units.
    assert global_["ProvisionedThroughput"]["ReadCapacityUnits"] == 0
    assert global_["ProvisionedThroughput"]["WriteCapacityUnits"] == 0
    for index in (global_, local):
        assert index["IndexSizeBytes"] == 0 and index["ItemCount"] == 0


def test_provisioned_table_gsi_reports_its_throughput(db: Backend, ddb: Any) -> None:
    create(
        ddb,
        {"G": "S"},
        BillingMode="PROVISIONED",
        ProvisionedThroughput=THROUGHPUT,
        GlobalSecondaryIndexes=[
            gsi("byG", "G", ProvisionedThroughput={"ReadCapacityUnits": 3, "WriteCapacityUnits": 4})
        ],
    )
    (index,) = ddb.describe_table(TableName="tbl")["Table"]["GlobalSecondaryIndexes"]
    assert index["ProvisionedThroughput"]["ReadCapacityUnits"] == 3
    assert index["ProvisionedThroughput"]["WriteCapacityUnits"] == 4


@pytest.mark.moto_differs("index-describe")
def test_describe_counts_index_items_and_bytes(db: Backend, ddb: Any) -> None:
    create(
        ddb,
        {"G": "S", "L": "S"},
        GlobalSecondaryIndexes=[gsi("byG", "G", projection={"ProjectionType": "KEYS_ONLY"})],
        LocalSecondaryIndexes=[lsi("byL", "L")],
    )
    # Sizes (API Reference, "Item sizes"): name length + value length per attribute.
    ddb.put_item(TableName="tbl", Item={"PK": {"S": "a"}, "SK": {"S": "1"}, "G": {"S": "g"}})
    ddb.put_item(
        TableName="tbl",
        Item={"PK": {"S": "a"}, "SK": {"S": "2"}, "L": {"S": "l"}, "big": {"S": "x" * 100}},
    )
    ddb.put_item(TableName="tbl", Item={"PK": {"S": "b"}, "SK": {"S": "3"}})
    table = ddb.describe_table(TableName="tbl")["Table"]
    (global_,) = table["GlobalSecondaryIndexes"]
    (local,) = table["LocalSecondaryIndexes"]
    assert table["ItemCount"] == 3
    assert (global_["ItemCount"], global_["IndexSizeBytes"]) == (1, 2 * 3 + 2)
    assert (local["ItemCount"], local["IndexSizeBytes"]) == (1, 2 * 3 + 2 + 103)


def test_index_key_may_be_a_table_key_attribute(db: Backend, ddb: Any) -> None:
    # A GSI keyed on the table's sort key (the "inverted index") and on the table's keys swapped.
    create(ddb, GlobalSecondaryIndexes=[gsi("inverted", "SK", "PK:RANGE"), gsi("bySK", "SK")])
    names = [
        i["IndexName"]
        for i in ddb.describe_table(TableName="tbl")["Table"]["GlobalSecondaryIndexes"]
    ]
    assert sorted(names) == ["bySK", "inverted"]


def test_twenty_gsis_and_five_lsis_are_allowed(db: Backend, ddb: Any) -> None:
    attrs = {f"g{i}": "S" for i in range(20)} | {f"l{i}": "S" for i in range(5)}
    create(
        ddb,
        attrs,
        GlobalSecondaryIndexes=[gsi(f"gsi{i}", f"g{i}") for i in range(20)],
        LocalSecondaryIndexes=[lsi(f"lsi{i}", f"l{i}") for i in range(5)],
    )
    table = ddb.describe_table(TableName="tbl")["Table"]
    assert len(table["GlobalSecondaryIndexes"]) == 20
    assert len(table["LocalSecondaryIndexes"]) == 5


def test_one_hundred_projected_attributes_are_allowed(db: Backend, ddb: Any) -> None:
    names = [f"a{i}" for i in range(50)]
    include = {"ProjectionType": "INCLUDE", "NonKeyAttributes": names}
    # The same attribute in two indexes counts twice: 50 + 50 = 100, the limit.
    create(
        ddb,
        {"G": "S", "H": "S"},
        GlobalSecondaryIndexes=[
            gsi("gs1", "G", projection=include),
            gsi("gs2", "H", projection=include),
        ],
    )


# --------------------------------------------------------------------------- limits


@pytest.mark.moto_differs("index-rules")
def test_more_than_twenty_gsis_rejected(db: Backend, ddb: Any) -> None:
    with raises(ERR, INVALID + "GlobalSecondaryIndex count exceeds the per-table limit of 20"):
        create(
            ddb,
            {f"g{i}": "S" for i in range(21)},
            GlobalSecondaryIndexes=[gsi(f"gsi{i}", f"g{i}") for i in range(21)],
        )
    assert ddb.list_tables()["TableNames"] == []


@pytest.mark.moto_differs("index-rules")
def test_more_than_five_lsis_rejected(db: Backend, ddb: Any) -> None:
    with raises(ERR, INVALID + "Number of LocalSecondaryIndexes exceeds per-table limit of 5"):
        create(
            ddb,
            {f"l{i}": "S" for i in range(6)},
            LocalSecondaryIndexes=[lsi(f"lsi{i}", f"l{i}") for i in range(6)],
        )
    assert ddb.list_tables()["TableNames"] == []


@pytest.mark.moto_differs("index-rules")
def test_more_than_one_hundred_projected_attributes_rejected(db: Backend, ddb: Any) -> None:
    # Developer Guide, "Quotas": 100 projected attributes over all of a table's indexes,
    # the same attribute in two indexes counting twice. Text as reported by users of the
    # live service (not in dynalite/dynoxide).
    include = {"ProjectionType": "INCLUDE", "NonKeyAttributes": [f"a{i}" for i in range(51)]}
    with raises(
        ERR, INVALID + "Number of projected attributes in all indexes exceeds limit of 100"
    ):
        create(
            ddb,
            {"G": "S", "L": "S"},
            GlobalSecondaryIndexes=[gsi("gs1", "G", projection=include)],
            LocalSecondaryIndexes=[
                lsi(
                    "ls1",
                    "L",
                    {"ProjectionType": "INCLUDE", "NonKeyAttributes": [f"a{i}" for i in range(50)]},
                )
            ],
        )
    assert ddb.list_tables()["TableNames"] == []


# --------------------------------------------------------------------------- shapes


def test_empty_index_lists_rejected(db: Backend, ddb: Any) -> None:
    with raises(ERR, INVALID + "List of GlobalSecondaryIndexes is empty"):
        create(ddb, GlobalSecondaryIndexes=[])
    with raises(ERR, INVALID + "List of LocalSecondaryIndexes is empty"):
        create(ddb, LocalSecondaryIndexes=[])


@pytest.mark.moto_differs("index-messages")
def test_index_member_shape_errors_are_collected(db: Backend, raw: Any) -> None:
    # Member-level constraints are reported together, as for the table's own members.
    bad = {"IndexName": "ab", "KeySchema": [], "Projection": {"ProjectionType": "SOME"}}
    with raises(
        ERR,
        "3 validation errors detected: "
        "Value '[]' at 'globalSecondaryIndexes.1.member.keySchema' failed to satisfy "
        "constraint: Member must have length greater than or equal to 1; "
        "Value 'SOME' at 'globalSecondaryIndexes.1.member.projection.projectionType' failed to "
        "satisfy constraint: Member must satisfy enum value set: [ALL, INCLUDE, KEYS_ONLY]; "
        "Value 'ab' at 'globalSecondaryIndexes.1.member.indexName' failed to satisfy "
        "constraint: Member must have length greater than or equal to 3",
    ):
        create(raw, GlobalSecondaryIndexes=[bad])


@pytest.mark.moto_differs("index-messages")
def test_index_name_pattern(db: Backend, ddb: Any) -> None:
    with raises(
        ERR,
        "1 validation error detected: Value 'by G' at 'globalSecondaryIndexes.1.member.indexName' "
        "failed to satisfy constraint: Member must satisfy regular expression pattern: "
        "[a-zA-Z0-9_.-]+",
    ):
        create(ddb, {"G": "S"}, GlobalSecondaryIndexes=[gsi("by G", "G")])


@pytest.mark.moto_differs("index-messages")
def test_index_projection_required(db: Backend, raw: Any) -> None:
    index = {"IndexName": "byG", "KeySchema": _schema("G")}
    with raises(
        ERR,
        "1 validation error detected: Value null at 'globalSecondaryIndexes.1.member.projection' "
        "failed to satisfy constraint: Member must not be null",
    ):
        create(raw, {"G": "S"}, GlobalSecondaryIndexes=[index])


@pytest.mark.moto_differs("index-messages")
def test_empty_non_key_attributes_rejected(db: Backend, raw: Any) -> None:
    include = {"ProjectionType": "INCLUDE", "NonKeyAttributes": []}
    with raises(
        ERR,
        "1 validation error detected: Value '[]' at "
        "'globalSecondaryIndexes.1.member.projection.nonKeyAttributes' failed to satisfy "
        "constraint: Member must have length greater than or equal to 1",
    ):
        create(raw, {"G": "S"}, GlobalSecondaryIndexes=[gsi("byG", "G", projection=include)])


# --------------------------------------------------------------------------- rules


def test_gsi_key_without_attribute_definition(db: Backend, ddb: Any) -> None:
    with raises(
        ERR,
        INVALID + "Some index key attributes are not defined in AttributeDefinitions. "
        "Keys: [G], AttributeDefinitions: [PK, SK]",
    ):
        create(ddb, GlobalSecondaryIndexes=[gsi("byG", "G")])
    assert ddb.list_tables()["TableNames"] == []


@pytest.mark.moto_differs("index-messages")
def test_lsi_key_without_attribute_definition(db: Backend, ddb: Any) -> None:
    with raises(
        ERR,
        INVALID + "Some index key attributes are not defined in AttributeDefinitions. "
        "Keys: [PK, L], AttributeDefinitions: [PK, SK]",
    ):
        create(ddb, LocalSecondaryIndexes=[lsi("byL", "L")])


@pytest.mark.moto_differs("index-messages")
def test_unused_attribute_definition_rejected(db: Backend, ddb: Any) -> None:
    with raises(
        ERR,
        INVALID + "Number of attributes in KeySchema does not exactly match number of "
        "attributes defined in AttributeDefinitions",
    ):
        create(ddb, {"G": "S", "unused": "S"}, GlobalSecondaryIndexes=[gsi("byG", "G")])


@pytest.mark.moto_differs("index-rules")
def test_lsi_needs_a_table_range_key(db: Backend, ddb: Any) -> None:
    with raises(
        ERR,
        INVALID + "Table KeySchema does not have a range key, which is required when "
        "specifying a LocalSecondaryIndex",
    ):
        create(ddb, {"L": "S"}, sk=False, LocalSecondaryIndexes=[lsi("byL", "L")])


@pytest.mark.moto_differs("index-rules")
def test_lsi_needs_its_own_range_key(db: Backend, ddb: Any) -> None:
    index = {
        "IndexName": "byL",
        "KeySchema": _schema("PK"),
        "Projection": {"ProjectionType": "ALL"},
    }
    with raises(ERR, INVALID + "Index KeySchema does not have a range key for index: byL"):
        create(ddb, LocalSecondaryIndexes=[index])


@pytest.mark.moto_differs("index-rules")
def test_lsi_hash_key_must_be_the_tables(db: Backend, ddb: Any) -> None:
    with raises(
        ERR,
        INVALID + "Index KeySchema does not have the same leading hash key as table KeySchema "
        "for index: byL. index hash key: O, table hash key: PK",
    ):
        create(ddb, {"O": "S", "L": "S"}, LocalSecondaryIndexes=[lsi("byL", "L", pk="O")])


@pytest.mark.moto_differs("index-messages")
def test_index_key_schema_order_rules(db: Backend, ddb: Any) -> None:
    with raises(ERR, "Invalid KeySchema: The first KeySchemaElement is not a HASH key type"):
        create(ddb, {"G": "S", "H": "S"}, GlobalSecondaryIndexes=[gsi("byG", "G:RANGE", "H")])
    with raises(ERR, "Invalid KeySchema: The first KeySchemaElement is not a HASH key type"):
        create(
            ddb,
            {"L": "S"},
            LocalSecondaryIndexes=[
                {
                    "IndexName": "byL",
                    "KeySchema": _schema("L:RANGE", "PK"),
                    "Projection": {"ProjectionType": "ALL"},
                }
            ],
        )
    with raises(ERR, "Invalid KeySchema: The second KeySchemaElement is not a RANGE key type"):
        create(
            ddb,
            {"L": "S"},
            LocalSecondaryIndexes=[
                {
                    "IndexName": "byL",
                    "KeySchema": _schema("PK", "L"),
                    "Projection": {"ProjectionType": "ALL"},
                }
            ],
        )
    with raises(
        ERR, "Both the Hash Key and the Range Key element in the KeySchema have the same name"
    ):
        create(ddb, {"G": "S"}, GlobalSecondaryIndexes=[gsi("byG", "G", "G:RANGE")])
    assert ddb.list_tables()["TableNames"] == []


PROJECTION_CASES: list[tuple[dict[str, Any], str]] = [
    (
        {"ProjectionType": "ALL", "NonKeyAttributes": ["x"]},
        "ProjectionType is ALL, but NonKeyAttributes is specified",
    ),
    (
        {"ProjectionType": "KEYS_ONLY", "NonKeyAttributes": ["x"]},
        "ProjectionType is KEYS_ONLY, but NonKeyAttributes is specified",
    ),
    ({"NonKeyAttributes": ["x"]}, "Unknown ProjectionType: null"),
    ({}, "Unknown ProjectionType: null"),
    (
        {"ProjectionType": "INCLUDE"},
        "ProjectionType is INCLUDE, but NonKeyAttributes is not specified",
    ),
]


@pytest.mark.moto_differs("index-rules")
def test_projection_rules(db: Backend, ddb: Any) -> None:
    for projection, message in PROJECTION_CASES:
        with raises(ERR, INVALID + message):
            create(ddb, {"G": "S"}, GlobalSecondaryIndexes=[gsi("idx", "G", projection=projection)])
        with raises(ERR, INVALID + message):
            create(ddb, {"L": "S"}, LocalSecondaryIndexes=[lsi("idx", "L", projection)])
    assert ddb.list_tables()["TableNames"] == []


@pytest.mark.moto_differs("index-rules")
def test_duplicate_non_key_attribute_rejected(db: Backend, ddb: Any) -> None:
    # Message from the ack-api-quirks catalogue of live DynamoDB texts (2026).
    include = {"ProjectionType": "INCLUDE", "NonKeyAttributes": ["x", "y", "x"]}
    with raises(ERR, INVALID + "Duplicate element in NonKeyAttributes: x"):
        create(ddb, {"G": "S"}, GlobalSecondaryIndexes=[gsi("byG", "G", projection=include)])


@pytest.mark.moto_differs("index-rules")
def test_duplicate_index_names_rejected(db: Backend, ddb: Any) -> None:
    with raises(ERR, INVALID + "Duplicate index name: idx"):
        create(ddb, {"G": "S", "H": "S"}, GlobalSecondaryIndexes=[gsi("idx", "G"), gsi("idx", "H")])
    with raises(ERR, INVALID + "Duplicate index name: idx"):
        create(ddb, {"L": "S", "M": "S"}, LocalSecondaryIndexes=[lsi("idx", "L"), lsi("idx", "M")])
    # GSIs and LSIs share one namespace.
    with raises(ERR, INVALID + "Duplicate index name: idx"):
        create(
            ddb,
            {"G": "S", "L": "S"},
            GlobalSecondaryIndexes=[gsi("idx", "G")],
            LocalSecondaryIndexes=[lsi("idx", "L")],
        )
    assert ddb.list_tables()["TableNames"] == []


@pytest.mark.moto_differs("index-throughput")
def test_gsi_throughput_on_on_demand_table_rejected(db: Backend, ddb: Any) -> None:
    with raises(
        ERR,
        INVALID + "ProvisionedThroughput should not be specified for index: byG when "
        "BillingMode is PAY_PER_REQUEST",
    ):
        create(
            ddb,
            {"G": "S"},
            GlobalSecondaryIndexes=[gsi("byG", "G", ProvisionedThroughput=THROUGHPUT)],
        )


@pytest.mark.moto_differs("index-throughput")
def test_gsi_without_throughput_on_provisioned_table_rejected(db: Backend, ddb: Any) -> None:
    # Text from the ack-api-quirks catalogue of live DynamoDB messages (CreateTable says
    # "is not specified"; UpdateTable's billing switch says "must be specified").
    with raises(ERR, INVALID + "ProvisionedThroughput is not specified for index: byG"):
        create(
            ddb,
            {"G": "S"},
            BillingMode="PROVISIONED",
            ProvisionedThroughput=THROUGHPUT,
            GlobalSecondaryIndexes=[gsi("byG", "G")],
        )
    assert ddb.list_tables()["TableNames"] == []


@pytest.mark.moto_differs("index-messages")
def test_gsi_throughput_members_checked(db: Backend, raw: Any) -> None:
    with raises(
        ERR,
        "1 validation error detected: Value '0' at "
        "'globalSecondaryIndexes.1.member.provisionedThroughput.readCapacityUnits' failed to "
        "satisfy constraint: Member must have value greater than or equal to 1",
    ):
        create(
            raw,
            {"G": "S"},
            BillingMode="PROVISIONED",
            ProvisionedThroughput=THROUGHPUT,
            GlobalSecondaryIndexes=[
                gsi(
                    "byG",
                    "G",
                    ProvisionedThroughput={"ReadCapacityUnits": 0, "WriteCapacityUnits": 1},
                )
            ],
        )


def test_lsi_only_table_accepts_writes_and_reads_back(db: Backend, ddb: Any) -> None:
    # A sanity check that a created index table is usable at once.
    create(ddb, {"L": "N"}, LocalSecondaryIndexes=[lsi("byL", "L")])
    ddb.put_item(TableName="tbl", Item={"PK": {"S": "p"}, "SK": {"S": "s"}, "L": {"N": "1"}})
    page = ddb.query(
        TableName="tbl",
        IndexName="byL",
        KeyConditionExpression="PK = :p",
        ExpressionAttributeValues={":p": {"S": "p"}},
    )
    assert page["Count"] == 1
    assert re.fullmatch(r"\d+", page["Items"][0]["L"]["N"])
