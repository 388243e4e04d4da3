"""Backups and point-in-time recovery, on every backend.

Messages: moto's texts (which follow DynamoDB's); DynamoDB's own could not be
confirmed for these errors (see singletable/backends/local/_backups.py).
"""

from __future__ import annotations

import time
from typing import Any

import pytest
from ddbtest import Backend, raises

MOTO_DIFFERENCES = {
    "pitr_rewind": "moto's RestoreTableToPointInTime copies the current items, whatever the time",
    "pitr_unavailable": "moto restores a table to a point in time even with PITR off",
    "backup_sizes": "moto reports BackupSizeBytes 123 and no item counts in a backup",
}


def _items(ddb: Any, table: str) -> dict[str, Any]:
    items = ddb.scan(TableName=table, ConsistentRead=True)["Items"]
    return {item["PK"]["S"] + "/" + item["SK"]["S"]: item for item in items}


def _gsi_table(db: Backend) -> str:
    return db.create_table(
        AttributeDefinitions=[
            {"AttributeName": "PK", "AttributeType": "S"},
            {"AttributeName": "SK", "AttributeType": "S"},
            {"AttributeName": "G", "AttributeType": "S"},
        ],
        GlobalSecondaryIndexes=[
            {
                "IndexName": "byG",
                "KeySchema": [{"AttributeName": "G", "KeyType": "HASH"}],
                "Projection": {"ProjectionType": "ALL"},
            }
        ],
    )


def test_backup_lifecycle(db: Backend, ddb: Any, table: str) -> None:
    db.put({"PK": {"S": "a"}, "SK": {"S": "1"}}, {"PK": {"S": "b"}, "SK": {"S": "1"}})
    details = ddb.create_backup(TableName=table, BackupName="nightly")["BackupDetails"]
    arn = details["BackupArn"]
    assert arn.startswith(ddb.describe_table(TableName=table)["Table"]["TableArn"] + "/backup/")
    assert details["BackupName"] == "nightly"
    assert details["BackupStatus"] == "AVAILABLE"
    assert details["BackupType"] == "USER"
    description = ddb.describe_backup(BackupArn=arn)["BackupDescription"]
    assert description["BackupDetails"]["BackupArn"] == arn
    assert description["SourceTableDetails"]["TableName"] == table
    summaries = ddb.list_backups(TableName=table)["BackupSummaries"]
    assert [s["BackupArn"] for s in summaries] == [arn]
    assert ddb.list_backups(TableName="other")["BackupSummaries"] == []
    deleted = ddb.delete_backup(BackupArn=arn)["BackupDescription"]
    assert deleted["BackupDetails"]["BackupStatus"] == "DELETED"
    assert ddb.list_backups()["BackupSummaries"] == []
    with raises("BackupNotFoundException", f"Backup not found: {arn}"):
        ddb.describe_backup(BackupArn=arn)
    with raises("BackupNotFoundException", f"Backup not found: {arn}"):
        ddb.delete_backup(BackupArn=arn)


@pytest.mark.moto_differs("backup_sizes")
def test_backup_reports_the_table_size(db: Backend, ddb: Any, table: str) -> None:
    db.put({"PK": {"S": "a"}, "SK": {"S": "1"}, "x": {"S": "12345"}})
    arn = ddb.create_backup(TableName=table, BackupName="bk1")["BackupDetails"]["BackupArn"]
    source = ddb.describe_backup(BackupArn=arn)["BackupDescription"]["SourceTableDetails"]
    size = ddb.describe_table(TableName=table)["Table"]["TableSizeBytes"]
    assert (source["ItemCount"], source["TableSizeBytes"]) == (1, size)


def test_restore_from_backup_is_a_snapshot_with_indexes(db: Backend, ddb: Any) -> None:
    table = _gsi_table(db)
    db.put(
        {"PK": {"S": "a"}, "SK": {"S": "1"}, "G": {"S": "g1"}},
        {"PK": {"S": "b"}, "SK": {"S": "1"}, "G": {"S": "g2"}},
        {"PK": {"S": "c"}, "SK": {"S": "1"}},
    )
    arn = ddb.create_backup(TableName=table, BackupName="snap")["BackupDetails"]["BackupArn"]
    # Later writes do not reach the backup.
    db.put({"PK": {"S": "d"}, "SK": {"S": "1"}, "G": {"S": "g1"}})
    ddb.delete_item(TableName=table, Key={"PK": {"S": "a"}, "SK": {"S": "1"}})
    restored = ddb.restore_table_from_backup(TargetTableName="restored", BackupArn=arn)
    description = restored["TableDescription"]
    assert description["TableName"] == "restored"
    assert description["RestoreSummary"]["SourceBackupArn"] == arn
    described = ddb.describe_table(TableName="restored")["Table"]
    assert described["RestoreSummary"]["SourceBackupArn"] == arn  # kept after the restore
    assert [i["IndexName"] for i in description["GlobalSecondaryIndexes"]] == ["byG"]
    assert sorted(_items(ddb, "restored")) == ["a/1", "b/1", "c/1"]
    byg = ddb.query(
        TableName="restored",
        IndexName="byG",
        KeyConditionExpression="G = :g",
        ExpressionAttributeValues={":g": {"S": "g1"}},
    )["Items"]
    assert [item["PK"]["S"] for item in byg] == ["a"]
    # The source table is unchanged by the restore.
    assert sorted(_items(ddb, table)) == ["b/1", "c/1", "d/1"]
    with raises("TableAlreadyExistsException", "Table already exists: restored"):
        ddb.restore_table_from_backup(TargetTableName="restored", BackupArn=arn)


def test_backup_of_a_missing_table(ddb: Any) -> None:
    with raises("TableNotFoundException", "Table not found: nope"):
        ddb.create_backup(TableName="nope", BackupName="bk1")
    with raises("TableNotFoundException", "Table not found: nope"):
        ddb.describe_continuous_backups(TableName="nope")
    with raises("TableNotFoundException", "Table not found: nope"):
        ddb.update_continuous_backups(
            TableName="nope",
            PointInTimeRecoverySpecification={"PointInTimeRecoveryEnabled": True},
        )


def test_continuous_backups_on_and_off(ddb: Any, table: str) -> None:
    described = ddb.describe_continuous_backups(TableName=table)["ContinuousBackupsDescription"]
    assert described["ContinuousBackupsStatus"] == "ENABLED"
    pitr = described["PointInTimeRecoveryDescription"]
    assert pitr == {"PointInTimeRecoveryStatus": "DISABLED"}
    on = ddb.update_continuous_backups(
        TableName=table, PointInTimeRecoverySpecification={"PointInTimeRecoveryEnabled": True}
    )["ContinuousBackupsDescription"]["PointInTimeRecoveryDescription"]
    assert on["PointInTimeRecoveryStatus"] == "ENABLED"
    assert on["RecoveryPeriodInDays"] == 35
    assert on["EarliestRestorableDateTime"] <= on["LatestRestorableDateTime"]
    shorter = ddb.update_continuous_backups(
        TableName=table,
        PointInTimeRecoverySpecification={
            "PointInTimeRecoveryEnabled": True,
            "RecoveryPeriodInDays": 7,
        },
    )["ContinuousBackupsDescription"]["PointInTimeRecoveryDescription"]
    assert shorter["RecoveryPeriodInDays"] == 7
    off = ddb.update_continuous_backups(
        TableName=table, PointInTimeRecoverySpecification={"PointInTimeRecoveryEnabled": False}
    )["ContinuousBackupsDescription"]["PointInTimeRecoveryDescription"]
    assert off == {"PointInTimeRecoveryStatus": "DISABLED"}


@pytest.mark.moto_differs("pitr_unavailable")
def test_point_in_time_restore_needs_pitr(ddb: Any, table: str) -> None:
    with raises(
        "PointInTimeRecoveryUnavailableException",
        f"Point in time recovery is not enabled for table '{table}'",
    ):
        ddb.restore_table_to_point_in_time(
            SourceTableName=table, TargetTableName="back", UseLatestRestorableTime=True
        )


@pytest.mark.moto_differs("pitr_rewind")
def test_point_in_time_restore_rewinds_the_table(db: Backend, ddb: Any) -> None:
    table = _gsi_table(db)
    db.put({"PK": {"S": "keep"}, "SK": {"S": "1"}, "v": {"N": "1"}, "G": {"S": "g"}})
    ddb.update_continuous_backups(
        TableName=table, PointInTimeRecoverySpecification={"PointInTimeRecoveryEnabled": True}
    )
    db.put(
        {"PK": {"S": "keep"}, "SK": {"S": "1"}, "v": {"N": "2"}, "G": {"S": "g"}},
        {"PK": {"S": "gone"}, "SK": {"S": "1"}, "G": {"S": "g"}},
    )
    # boto3 sends RestoreDateTime in whole seconds: wait for the next second to begin.
    moment = int(time.time()) + 1
    time.sleep(moment - time.time() + 0.01)
    db.put({"PK": {"S": "keep"}, "SK": {"S": "1"}, "v": {"N": "3"}})  # leaves the index
    db.put({"PK": {"S": "new"}, "SK": {"S": "1"}})
    ddb.delete_item(TableName=table, Key={"PK": {"S": "gone"}, "SK": {"S": "1"}})
    ddb.restore_table_to_point_in_time(
        SourceTableName=table, TargetTableName="back", RestoreDateTime=moment
    )
    items = _items(ddb, "back")
    assert sorted(items) == ["gone/1", "keep/1"]
    assert items["keep/1"]["v"] == {"N": "2"}
    in_index = ddb.query(
        TableName="back",
        IndexName="byG",
        KeyConditionExpression="G = :g",
        ExpressionAttributeValues={":g": {"S": "g"}},
    )["Items"]
    assert sorted(item["PK"]["S"] for item in in_index) == ["gone", "keep"]
    latest = ddb.restore_table_to_point_in_time(
        SourceTableName=table, TargetTableName="now", UseLatestRestorableTime=True
    )
    assert latest["TableDescription"]["ItemCount"] == 2
    assert sorted(_items(ddb, "now")) == ["keep/1", "new/1"]
    with raises(
        "InvalidRestoreTimeException",
        "An invalid restore time was specified. RestoreDateTime must be between "
        "EarliestRestorableDateTime and LatestRestorableDateTime.",
    ):
        ddb.restore_table_to_point_in_time(
            SourceTableName=table, TargetTableName="older", RestoreDateTime=moment - 3600
        )
    with raises("TableAlreadyExistsException", "Table already exists: back"):
        ddb.restore_table_to_point_in_time(
            SourceTableName=table, TargetTableName="back", UseLatestRestorableTime=True
        )
