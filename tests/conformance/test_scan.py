"""Scan: pagination, filters, Select, projections, parallel scan segments.

API Reference: https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/API_Scan.html;
Developer Guide "Parallel scan" (Segment/TotalSegments).
"""

from __future__ import annotations

from typing import Any

import pytest
from ddbtest import Backend, raises

MOTO_DIFFERENCES = {
    "segment-message": "moto 5.2.5 drops the tail of the Segment >= TotalSegments message "
    "('...must be less than parameter TotalSegments'); DynamoDB adds ': Segment: 4 is not "
    "less than TotalSegments: 4' (dynalite's recording; other emulators' 2026 conformance "
    "tests pin the same text).",
    "segments-max": "moto accepts TotalSegments=1000001; DynamoDB's limit is 1000000 "
    "(API_Scan: TotalSegments 'Maximum value of 1000000').",
    "scan-count": "moto's Scan with Select=COUNT still returns Items; DynamoDB returns only "
    "Count and ScannedCount (API_Scan, Select).",
    "one-mb-page": "moto ends a page of 100 KB items after 9 items; DynamoDB reads until the "
    "data read reaches 1 MB.",
}


@pytest.fixture
def filled(db: Backend) -> list[str]:
    """Table tbl with 40 items spread over 8 partitions; returns their 'id's."""
    db.create_table()
    ids = []
    for i in range(40):
        ident = f"{i:02d}"
        db.put(
            {
                "PK": {"S": f"p{i % 8}"},
                "SK": {"S": ident},
                "id": {"S": ident},
                "n": {"N": str(i)},
            }
        )
        ids.append(ident)
    return ids


def _ids(items: list[Any]) -> list[str]:
    return [item["id"]["S"] for item in items]


def test_scan_returns_everything(ddb: Any, filled: list[str]) -> None:
    response = ddb.scan(TableName="tbl")
    assert sorted(_ids(response["Items"])) == filled
    assert response["Count"] == response["ScannedCount"] == 40
    assert "LastEvaluatedKey" not in response


def test_scan_pagination_with_limit(ddb: Any, filled: list[str]) -> None:
    seen: list[str] = []
    request: dict[str, Any] = {"TableName": "tbl", "Limit": 7}
    for _ in range(1000):  # a pagination bug fails the test, not hangs it
        page = ddb.scan(**request)
        assert len(page["Items"]) <= 7
        seen.extend(_ids(page["Items"]))
        if "LastEvaluatedKey" not in page:
            break
        last = page["Items"][-1]
        assert page["LastEvaluatedKey"] == {"PK": last["PK"], "SK": last["SK"]}
        request["ExclusiveStartKey"] = page["LastEvaluatedKey"]
    assert sorted(seen) == filled
    assert len(seen) == len(set(seen))


def test_scan_paginator(ddb: Any, filled: list[str]) -> None:
    pages = ddb.get_paginator("scan").paginate(TableName="tbl", PaginationConfig={"PageSize": 6})
    seen = [i for page in pages for i in _ids(page["Items"])]
    assert sorted(seen) == filled
    assert len(seen) == 40


def test_scan_filter_and_counts(ddb: Any, filled: list[str]) -> None:
    response = ddb.scan(
        TableName="tbl",
        FilterExpression="n >= :lo AND n < :hi",
        ExpressionAttributeValues={":lo": {"N": "10"}, ":hi": {"N": "15"}},
    )
    assert sorted(_ids(response["Items"])) == ["10", "11", "12", "13", "14"]
    assert (response["Count"], response["ScannedCount"]) == (5, 40)


def test_scan_limit_counts_before_filter(ddb: Any, filled: list[str]) -> None:
    response = ddb.scan(
        TableName="tbl",
        Limit=10,
        FilterExpression="n < :zero",
        ExpressionAttributeValues={":zero": {"N": "0"}},
    )
    assert response["Items"] == []
    assert (response["Count"], response["ScannedCount"]) == (0, 10)
    assert "LastEvaluatedKey" in response


@pytest.mark.moto_differs("scan-count")
def test_scan_select_count_and_projection(ddb: Any, filled: list[str]) -> None:
    counted = ddb.scan(TableName="tbl", Select="COUNT")
    assert "Items" not in counted
    assert counted["Count"] == 40
    projected = ddb.scan(TableName="tbl", ProjectionExpression="id")
    assert all(set(item) == {"id"} for item in projected["Items"])


@pytest.mark.parametrize("total", [1, 2, 3, 4, 7])
def test_parallel_scan_covers_each_item_exactly_once(
    ddb: Any, filled: list[str], total: int
) -> None:
    seen: list[str] = []
    for segment in range(total):
        request: dict[str, Any] = {
            "TableName": "tbl",
            "Segment": segment,
            "TotalSegments": total,
            "Limit": 5,
        }
        for _ in range(1000):  # a pagination bug fails the test, not hangs it
            page = ddb.scan(**request)
            seen.extend(_ids(page["Items"]))
            if "LastEvaluatedKey" not in page:
                break
            request["ExclusiveStartKey"] = page["LastEvaluatedKey"]
    assert sorted(seen) == filled


def test_parallel_scan_keeps_a_partition_in_one_segment(ddb: Any, filled: list[str]) -> None:
    owners: dict[str, set[int]] = {}
    for segment in range(4):
        page = ddb.scan(TableName="tbl", Segment=segment, TotalSegments=4)
        for item in page["Items"]:
            owners.setdefault(item["PK"]["S"], set()).add(segment)
    assert all(len(segments) == 1 for segments in owners.values())


@pytest.mark.parametrize(
    ("params", "message"),
    [
        pytest.param(
            {"Segment": 4, "TotalSegments": 4},
            "The Segment parameter is zero-based and must be less than parameter TotalSegments: "
            "Segment: 4 is not less than TotalSegments: 4",
            marks=pytest.mark.moto_differs("segment-message"),
        ),
        (
            {"Segment": 1},
            "The TotalSegments parameter is required but was not present in the request when "
            "Segment parameter is present",
        ),
        (
            {"TotalSegments": 2},
            "The Segment parameter is required but was not present in the request when "
            "parameter TotalSegments is present",
        ),
        pytest.param(
            {"Segment": 0, "TotalSegments": 1000001},
            "1 validation error detected: Value '1000001' at 'totalSegments' failed to satisfy "
            "constraint: Member must have value less than or equal to 1000000",
            marks=pytest.mark.moto_differs("segments-max"),
        ),
    ],
)
def test_invalid_segments_are_rejected(
    ddb: Any, filled: list[str], params: dict[str, int], message: str
) -> None:
    with raises("ValidationException", message):
        ddb.scan(TableName="tbl", **params)


@pytest.mark.moto_differs("one-mb-page")
def test_scan_page_stops_at_one_megabyte(db: Backend, ddb: Any) -> None:
    db.create_table()
    blob = "x" * (100 * 1024)
    for i in range(25):
        db.put({"PK": {"S": f"p{i}"}, "SK": {"S": "s"}, "d": {"S": blob}})
    first = ddb.scan(TableName="tbl", ProjectionExpression="PK")
    assert 10 <= first["Count"] <= 11
    assert "LastEvaluatedKey" in first
    rest = ddb.scan(
        TableName="tbl", ProjectionExpression="PK", ExclusiveStartKey=first["LastEvaluatedKey"]
    )
    seen = [i["PK"]["S"] for i in first["Items"] + rest["Items"]]
    for _ in range(100):
        if "LastEvaluatedKey" not in rest:
            break
        rest = ddb.scan(
            TableName="tbl", ProjectionExpression="PK", ExclusiveStartKey=rest["LastEvaluatedKey"]
        )
        seen.extend(i["PK"]["S"] for i in rest["Items"])
    assert sorted(seen) == sorted(f"p{i}" for i in range(25))


def test_scan_missing_table(ddb: Any, db: Backend) -> None:
    with raises("ResourceNotFoundException", "Requested resource not found"):
        ddb.scan(TableName="nope")


def test_scan_empty_table(ddb: Any, table: str) -> None:
    response = ddb.scan(TableName="tbl")
    assert (response["Items"], response["Count"], response["ScannedCount"]) == ([], 0, 0)
