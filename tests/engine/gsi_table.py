"""The tables most engine tests use: PK/SK strings, a global index ``gsi`` keyed on
``G`` or on ``GPK``/``GSK`` (projecting everything), on-demand billing (imported by
the test modules of this folder; not a test module)."""

from __future__ import annotations

from typing import Any


def gsi_table_request(name: str, *, stream: bool = False) -> dict[str, Any]:
    """The CreateTable request of the table ``name`` (with a NEW_AND_OLD_IMAGES
    stream if ``stream``)."""
    request: dict[str, Any] = {
        "TableName": name,
        "KeySchema": [
            {"AttributeName": "PK", "KeyType": "HASH"},
            {"AttributeName": "SK", "KeyType": "RANGE"},
        ],
        "AttributeDefinitions": [
            {"AttributeName": "PK", "AttributeType": "S"},
            {"AttributeName": "SK", "AttributeType": "S"},
            {"AttributeName": "G", "AttributeType": "S"},
        ],
        "GlobalSecondaryIndexes": [
            {
                "IndexName": "gsi",
                "KeySchema": [{"AttributeName": "G", "KeyType": "HASH"}],
                "Projection": {"ProjectionType": "ALL"},
            }
        ],
        "BillingMode": "PAY_PER_REQUEST",
    }
    if stream:
        request["StreamSpecification"] = {
            "StreamEnabled": True,
            "StreamViewType": "NEW_AND_OLD_IMAGES",
        }
    return request


def ranged_gsi_table_request(name: str) -> dict[str, Any]:
    """The CreateTable request of the table ``name`` the compiled-write tests share:
    PK/SK strings and a global index ``gsi`` keyed on GPK (S) and GSK (N), like the
    benchmarks' table."""
    return {
        "TableName": name,
        "BillingMode": "PAY_PER_REQUEST",
        "AttributeDefinitions": [
            {"AttributeName": attribute, "AttributeType": kind}
            for attribute, kind in (("PK", "S"), ("SK", "S"), ("GPK", "S"), ("GSK", "N"))
        ],
        "KeySchema": [
            {"AttributeName": "PK", "KeyType": "HASH"},
            {"AttributeName": "SK", "KeyType": "RANGE"},
        ],
        "GlobalSecondaryIndexes": [
            {
                "IndexName": "gsi",
                "KeySchema": [
                    {"AttributeName": "GPK", "KeyType": "HASH"},
                    {"AttributeName": "GSK", "KeyType": "RANGE"},
                ],
                "Projection": {"ProjectionType": "ALL"},
            }
        ],
    }
