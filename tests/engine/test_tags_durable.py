"""Tags are part of a table's catalog entry: a durable engine keeps them across a reopen,
with every change (TagResource, UntagResource, Tags on CreateTable) written through."""

from __future__ import annotations

from pathlib import Path

from singletable.backends.local.engine import LocalEngine

TABLE = {
    "TableName": "tbl",
    "KeySchema": [{"AttributeName": "PK", "KeyType": "HASH"}],
    "AttributeDefinitions": [{"AttributeName": "PK", "AttributeType": "S"}],
    "BillingMode": "PAY_PER_REQUEST",
}


def _tags(engine: LocalEngine, arn: str) -> dict[str, str]:
    tags = engine.call("ListTagsOfResource", {"ResourceArn": arn})["Tags"]
    return {tag["Key"]: tag["Value"] for tag in tags}


def test_tags_survive_a_reopen(tmp_path: Path) -> None:
    path = tmp_path / "data.db"
    with LocalEngine(path=path, ttl_sweep_interval=None) as engine:
        created = engine.call("CreateTable", {**TABLE, "Tags": [{"Key": "a", "Value": "1"}]})
        arn = created["TableDescription"]["TableArn"]
        engine.call("TagResource", {"ResourceArn": arn, "Tags": [{"Key": "b", "Value": "2"}]})
    with LocalEngine(path=path, ttl_sweep_interval=None) as engine:
        assert _tags(engine, arn) == {"a": "1", "b": "2"}
        engine.call("UntagResource", {"ResourceArn": arn, "TagKeys": ["a"]})
    with LocalEngine(path=path, ttl_sweep_interval=None) as engine:
        assert _tags(engine, arn) == {"b": "2"}
        assert "Tags" not in engine.call("DescribeTable", {"TableName": "tbl"})["Table"]


def test_a_restored_table_starts_without_tags(tmp_path: Path) -> None:
    # Developer Guide, "Restoring a DynamoDB table from a backup": tags are among the
    # settings to set up again by hand on the restored table.
    with LocalEngine(path=tmp_path / "data.db", ttl_sweep_interval=None) as engine:
        created = engine.call("CreateTable", {**TABLE, "Tags": [{"Key": "a", "Value": "1"}]})
        backup = engine.call("CreateBackup", {"TableName": "tbl", "BackupName": "backup1"})
        engine.call(
            "RestoreTableFromBackup",
            {
                "TargetTableName": "restored",
                "BackupArn": backup["BackupDetails"]["BackupArn"],
            },
        )
        restored = engine.call("DescribeTable", {"TableName": "restored"})["Table"]["TableArn"]
        assert _tags(engine, restored) == {}
        assert _tags(engine, created["TableDescription"]["TableArn"]) == {"a": "1"}
