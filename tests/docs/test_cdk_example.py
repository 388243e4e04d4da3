"""The CDK example (examples/cdk, docs/deploying.md) consumes what ``tables export
--format cdk-json`` writes.

No CDK toolchain runs here (it needs npm packages), so the contract is checked
from both sides: the file the app reads is the export of the example model as it
is today, the app reads that file and the members the export writes, and every
key and enum value the export can produce is one the CDK constructs take
(aws-cdk-lib, aws-dynamodb/lib/table.ts and shared.ts: TableProps,
GlobalSecondaryIndexProps, LocalSecondaryIndexProps, and the string enums
AttributeType, BillingMode, ProjectionType, StreamViewType).
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).parents[2]
CDK = ROOT / "examples" / "cdk"

# The CDK's property names for what the export describes.
TABLE_PROPS = {"tableName", "partitionKey", "sortKey", "billingMode", "timeToLiveAttribute",
               "stream"}  # fmt: skip
GSI_PROPS = {"indexName", "partitionKey", "sortKey", "projectionType", "nonKeyAttributes"}
LSI_PROPS = {"indexName", "sortKey", "projectionType", "nonKeyAttributes"}
# The CDK's enums are string enums whose values are these (AttributeType.STRING = "S").
ATTRIBUTE_TYPES = {"S", "N", "B"}
BILLING_MODES = {"PAY_PER_REQUEST", "PROVISIONED"}
PROJECTION_TYPES = {"ALL", "KEYS_ONLY", "INCLUDE"}
STREAM_VIEW_TYPES = {"NEW_IMAGE", "OLD_IMAGE", "NEW_AND_OLD_IMAGES", "KEYS_ONLY"}

FULL_MODEL = """
from singletable.table import GlobalIndex, LocalIndex, Table

events = Table(
    "events",
    pk_type="S",
    sk="at",
    sk_type="N",
    indexes=[
        GlobalIndex("ByKind", pk="kind", sk="score", sk_type="N", projection=["title"]),
        GlobalIndex("ByOwner", pk="owner", pk_type="B", projection="KEYS_ONLY"),
        LocalIndex("ByCreated", sk="created", projection="KEYS_ONLY"),
    ],
    ttl_attribute="expires",
    stream="NEW_AND_OLD_IMAGES",
)
plain = Table("plain", sk=None)
"""


def _export(model: str, cwd: Path = ROOT) -> dict[str, Any]:
    result = subprocess.run(
        [sys.executable, "-m", "singletable.cli", "tables", "export", model, "--format",
         "cdk-json"],
        cwd=cwd, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    exported: dict[str, Any] = json.loads(result.stdout)
    return exported


def test_the_file_the_app_reads_is_what_the_export_writes() -> None:
    committed = json.loads((CDK / "tables.json").read_text(encoding="utf-8"))
    assert committed == _export("examples/ecommerce.py"), (
        "examples/cdk/tables.json is stale: run "
        "`singletable tables export ../ecommerce.py --format cdk-json -o tables.json` there"
    )


def test_the_app_reads_that_file_and_those_members() -> None:
    app = (CDK / "bin" / "app.ts").read_text(encoding="utf-8")
    construct = (CDK / "lib" / "singletable-tables.ts").read_text(encoding="utf-8")
    assert '"tables.json"' in app and "new SingletableTables(" in app
    assert 'data.tables["Shop"]' in app  # the id the export gives examples/ecommerce.py's table
    for member in ("exported.tables", "spec.id", "spec.props", "spec.globalSecondaryIndexes",
                   "spec.localSecondaryIndexes"):  # fmt: skip
        assert member in construct, member
    assert "new dynamodb.Table(this, spec.id, spec.props)" in construct
    assert "table.addGlobalSecondaryIndex(index)" in construct
    assert "table.addLocalSecondaryIndex(index)" in construct
    config = json.loads((CDK / "cdk.json").read_text(encoding="utf-8"))
    assert "bin/app.ts" in config["app"]


@pytest.fixture
def full_model(tmp_path: Path) -> Path:
    path = tmp_path / "full_model.py"
    path.write_text(textwrap.dedent(FULL_MODEL), encoding="utf-8")
    return path


def test_every_key_and_value_the_export_writes_is_the_cdks(full_model: Path) -> None:
    document = _export(str(full_model))
    assert set(document) == {"tables"}
    seen_tables = set()
    for table in document["tables"]:
        assert set(table) == {"id", "props", "globalSecondaryIndexes", "localSecondaryIndexes"}
        props = table["props"]
        seen_tables |= set(props)
        assert set(props) <= TABLE_PROPS, set(props) - TABLE_PROPS
        assert props["billingMode"] in BILLING_MODES
        assert props.get("stream", "NEW_IMAGE") in STREAM_VIEW_TYPES
        for key in ("partitionKey", "sortKey"):
            if key in props:
                assert set(props[key]) == {"name", "type"}
                assert props[key]["type"] in ATTRIBUTE_TYPES
        for index, allowed in [(i, GSI_PROPS) for i in table["globalSecondaryIndexes"]] + [
            (i, LSI_PROPS) for i in table["localSecondaryIndexes"]
        ]:
            assert set(index) <= allowed, set(index) - allowed
            assert index["projectionType"] in PROJECTION_TYPES
            for key in ("partitionKey", "sortKey"):
                if key in index:
                    assert index[key]["type"] in ATTRIBUTE_TYPES
    assert seen_tables == TABLE_PROPS  # the model above uses every one
    events = document["tables"][0]
    assert events["globalSecondaryIndexes"][0]["nonKeyAttributes"] == ["title"]
    assert events["globalSecondaryIndexes"][1]["partitionKey"] == {"name": "owner", "type": "B"}
    assert events["localSecondaryIndexes"][0]["sortKey"]["name"] == "created"
