"""Tagging: TagResource, UntagResource, ListTagsOfResource and Tags on CreateTable.

Developer Guide, "Tagging restrictions in DynamoDB" (50 tags, key 1-128 and value 0-256
characters, letters/numbers/white space and ``+ - = . _ : /``, the ``aws:`` prefix
reserved, a key once per table); API Reference, TagResource/UntagResource/
ListTagsOfResource. Exact texts from dynalite's suite (recorded against DynamoDB) where
noted; ScyllaDB's Alternator suite (run against DynamoDB) for which cases are
ValidationException. Where DynamoDB's text is not documented the test matches only
the part that is known.
"""

from __future__ import annotations

import re
from typing import Any

import boto3
import pytest
from botocore.config import Config
from ddbtest import REGION, Backend, raises

MOTO_DIFFERENCES = {
    "tag-validation": "moto accepts tags DynamoDB refuses (over 50, bad characters, the aws: "
    "prefix, empty lists) or answers other errors for malformed ARNs.",
    "tag-merge": "moto appends a second tag with a key the table already has; DynamoDB "
    "replaces the value (one tag per key).",
    "tag-errors": "moto answers ResourceNotFoundException without DynamoDB's message, or "
    "raises Python errors for malformed ARNs.",
}


@pytest.fixture
def raw(db: Backend) -> Any:
    """A DynamoDB client without client-side parameter validation."""
    return boto3.client("dynamodb", region_name=REGION, config=Config(parameter_validation=False))


@pytest.fixture
def arn(db: Backend, table: str) -> str:
    value: str = db.client.describe_table(TableName="tbl")["Table"]["TableArn"]
    return value


def _tags(ddb: Any, arn: str) -> dict[str, str]:
    """Every tag of ``arn`` (all pages) as a dict."""
    found: dict[str, str] = {}
    request: dict[str, Any] = {"ResourceArn": arn}
    for _ in range(100):
        page = ddb.list_tags_of_resource(**request)
        for tag in page["Tags"]:
            assert tag["Key"] not in found, "a key listed twice"
            found[tag["Key"]] = tag["Value"]
        if "NextToken" not in page:
            return found
        request["NextToken"] = page["NextToken"]
    raise AssertionError("ListTagsOfResource kept returning NextToken")


def test_a_new_table_has_no_tags(ddb: Any, arn: str) -> None:
    response = ddb.list_tags_of_resource(ResourceArn=arn)
    assert response["Tags"] == []
    assert "NextToken" not in response


@pytest.mark.moto_differs("tag-merge")
def test_tag_untag_and_list(ddb: Any, arn: str) -> None:
    ddb.tag_resource(
        ResourceArn=arn,
        Tags=[
            {"Key": "env", "Value": "test"},
            {"Key": "team", "Value": "core"},
            {"Key": " ", "Value": "9"},
            {"Key": "empty", "Value": ""},
        ],
    )
    assert _tags(ddb, arn) == {"env": "test", "team": "core", " ": "9", "empty": ""}
    # An existing key gets the new value: one tag per key.
    ddb.tag_resource(ResourceArn=arn, Tags=[{"Key": "env", "Value": "prod"}])
    assert _tags(ddb, arn)["env"] == "prod"
    # Removing keys the table does not have is not an error.
    ddb.untag_resource(ResourceArn=arn, TagKeys=["team", "not-there"])
    assert _tags(ddb, arn) == {"env": "prod", " ": "9", "empty": ""}


def test_tags_on_create_table(db: Backend, ddb: Any) -> None:
    db.create_table(
        "tagged",
        Tags=[{"Key": "a", "Value": "1"}, {"Key": "b:c/d", "Value": "x+y=z._-"}],
    )
    arn = ddb.describe_table(TableName="tagged")["Table"]["TableArn"]
    assert _tags(ddb, arn) == {"a": "1", "b:c/d": "x+y=z._-"}


def test_tags_appear_nowhere_else(db: Backend, ddb: Any) -> None:
    created = db.client.create_table(
        TableName="tagged",
        KeySchema=[{"AttributeName": "PK", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "PK", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
        Tags=[{"Key": "a", "Value": "1"}],
    )
    assert "Tags" not in created["TableDescription"]
    assert "Tags" not in ddb.describe_table(TableName="tagged")["Table"]
    assert "Tags" not in ddb.list_tables()


def test_list_pages_with_next_token(ddb: Any, arn: str) -> None:
    tags = {f"k{i:02}": f"v{i}" for i in range(50)}
    ddb.tag_resource(ResourceArn=arn, Tags=[{"Key": k, "Value": v} for k, v in tags.items()])
    first = ddb.list_tags_of_resource(ResourceArn=arn)
    assert "NextToken" in first and 0 < len(first["Tags"]) < 50
    assert _tags(ddb, arn) == tags
    # boto3's paginator follows NextToken too.
    pages = ddb.get_paginator("list_tags_of_resource").paginate(ResourceArn=arn)
    assert {t["Key"]: t["Value"] for page in pages for t in page["Tags"]} == tags


@pytest.mark.moto_differs("tag-validation")
def test_fifty_tags_at_most(ddb: Any, arn: str) -> None:
    # ScyllaDB's suite against DynamoDB: 30 + 20 overlapping keys fit (40 tags), and a
    # request that would bring the table past 50 is a ValidationException.
    ddb.tag_resource(ResourceArn=arn, Tags=[{"Key": str(i), "Value": "v"} for i in range(30)])
    ddb.tag_resource(ResourceArn=arn, Tags=[{"Key": str(i), "Value": "w"} for i in range(20, 40)])
    with raises("ValidationException", re.compile(r".*50.*")):
        ddb.tag_resource(
            ResourceArn=arn, Tags=[{"Key": str(i), "Value": "v"} for i in range(40, 60)]
        )
    assert len(_tags(ddb, arn)) == 40  # nothing of the refused request was kept
    ddb.tag_resource(ResourceArn=arn, Tags=[{"Key": str(i), "Value": "v"} for i in range(40, 50)])
    assert len(_tags(ddb, arn)) == 50


@pytest.mark.moto_differs("tag-validation")
def test_too_many_tags_on_create_table_creates_nothing(db: Backend, ddb: Any) -> None:
    with raises("ValidationException", re.compile(r".*50.*")):
        db.create_table("tagged", Tags=[{"Key": str(i), "Value": "v"} for i in range(51)])
    assert ddb.list_tables()["TableNames"] == []


@pytest.mark.moto_differs("tag-validation")
@pytest.mark.parametrize(
    ("key", "value", "message"),
    [
        pytest.param(
            "",
            "v",
            "1 validation error detected: Value '' at 'tags.1.member.key' failed to satisfy "
            "constraint: Member must have length greater than or equal to 1",
            id="empty-key",
        ),
        pytest.param(
            "x" * 129,
            "v",
            f"1 validation error detected: Value '{'x' * 129}' at 'tags.1.member.key' failed "
            "to satisfy constraint: Member must have length less than or equal to 128",
            id="long-key",
        ),
        pytest.param(
            "k",
            "x" * 257,
            f"1 validation error detected: Value '{'x' * 257}' at 'tags.1.member.value' failed "
            "to satisfy constraint: Member must have length less than or equal to 256",
            id="long-value",
        ),
        pytest.param("hi!", "v", re.compile(r".*hi!.*"), id="bad-key-character"),
        pytest.param("k", '"hello"', re.compile(r'.*"hello".*'), id="bad-value-character"),
        pytest.param("aws:owner", "v", re.compile(r".*aws:.*"), id="reserved-prefix"),
        pytest.param("AWS:owner", "v", re.compile(r".*aws:.*"), id="reserved-prefix-case"),
    ],
)
def test_bad_tags_are_refused(
    ddb: Any, raw: Any, arn: str, key: str, value: str, message: str | re.Pattern[str]
) -> None:
    with raises("ValidationException", message):
        raw.tag_resource(ResourceArn=arn, Tags=[{"Key": key, "Value": value}])
    assert _tags(ddb, arn) == {}


def test_unicode_letters_and_limits_count_characters(ddb: Any, arn: str) -> None:
    # 128 and 256 *characters* (not bytes) are allowed.
    tags = {"законные буквы": "ѮѮѮ", "א" * 128: "ב" * 256, "x" * 128: ""}
    ddb.tag_resource(ResourceArn=arn, Tags=[{"Key": k, "Value": v} for k, v in tags.items()])
    assert _tags(ddb, arn) == tags


@pytest.mark.moto_differs("tag-validation")
def test_empty_tag_lists_are_refused(ddb: Any, arn: str) -> None:
    # dynalite's suite, recorded against DynamoDB.
    with raises("ValidationException", "Atleast one Tag needs to be provided as Input."):
        ddb.tag_resource(ResourceArn=arn, Tags=[])
    with raises("ValidationException", "Atleast one Tag Key needs to be provided as Input."):
        ddb.untag_resource(ResourceArn=arn, TagKeys=[])


@pytest.mark.moto_differs("tag-validation")
def test_missing_members(raw: Any, arn: str) -> None:
    with raises("ValidationException", "Invalid TableArn"):
        raw.list_tags_of_resource()
    with raises(
        "ValidationException",
        "1 validation error detected: Value null at 'tags' failed to satisfy constraint: "
        "Member must not be null",
    ):
        raw.tag_resource(ResourceArn=arn)
    with raises(
        "ValidationException",
        "1 validation error detected: Value null at 'tagKeys' failed to satisfy constraint: "
        "Member must not be null",
    ):
        raw.untag_resource(ResourceArn=arn)


@pytest.mark.moto_differs("tag-errors")
def test_unknown_table_is_resource_not_found(ddb: Any, arn: str) -> None:
    # A well-formed ARN naming no table (ScyllaDB's suite; texts from dynalite's).
    missing = arn + "x"
    with raises(
        "ResourceNotFoundException", f"Requested resource not found: ResourcArn: {missing} not found"
    ):
        ddb.tag_resource(ResourceArn=missing, Tags=[{"Key": "k", "Value": "v"}])
    with raises(
        "ResourceNotFoundException", f"Requested resource not found: ResourcArn: {missing} not found"
    ):
        ddb.list_tags_of_resource(ResourceArn=missing)
    with raises("ResourceNotFoundException", "Requested resource not found"):
        ddb.untag_resource(ResourceArn=missing, TagKeys=["k"])


def test_a_deleted_table_loses_its_tags(db: Backend, ddb: Any, arn: str) -> None:
    ddb.tag_resource(ResourceArn=arn, Tags=[{"Key": "k", "Value": "v"}])
    ddb.delete_table(TableName="tbl")
    db.create_table()
    assert _tags(ddb, arn) == {}


@pytest.mark.moto_differs("tag-errors")
@pytest.mark.parametrize(
    "bad",
    [
        "arn:aws:dynamodb:us-east-1:123:table/tbl",  # account not 12 digits
        "arn:not/a/good/format",
        "arn:aws:dynamodb:us-east-1:000000000000:table/ab",  # name too short
    ],
)
def test_malformed_arns_are_validation_errors(ddb: Any, table: str, bad: str) -> None:
    # dynalite's suite (recorded against DynamoDB).
    message = f"Invalid TableArn: Invalid ResourceArn provided as input {bad}"
    with raises("ValidationException", message):
        ddb.tag_resource(ResourceArn=bad, Tags=[{"Key": "k", "Value": "v"}])
    with raises("ValidationException", message):
        ddb.list_tags_of_resource(ResourceArn=bad)
    with raises("ValidationException", message):
        ddb.untag_resource(ResourceArn=bad, TagKeys=["k"])


@pytest.mark.moto_differs("tag-errors")
def test_an_arn_must_start_with_arn(ddb: Any, table: str) -> None:
    # ScyllaDB's suite: DynamoDB answers a ValidationException saying "ARNs must start
    # with 'arn:'" (the rest of the text is not documented).
    with raises("ValidationException", re.compile(r".*ARNs must start with 'arn:'.*")):
        ddb.tag_resource(ResourceArn="I_do_not_exist", Tags=[{"Key": "k", "Value": "v"}])


@pytest.mark.moto_differs("tag-errors")
def test_index_arns_cannot_be_tagged(db: Backend, ddb: Any) -> None:
    db.create_table(
        "indexed",
        AttributeDefinitions=[
            {"AttributeName": "PK", "AttributeType": "S"},
            {"AttributeName": "SK", "AttributeType": "S"},
            {"AttributeName": "g", "AttributeType": "S"},
        ],
        GlobalSecondaryIndexes=[
            {
                "IndexName": "gsi",
                "KeySchema": [{"AttributeName": "g", "KeyType": "HASH"}],
                "Projection": {"ProjectionType": "KEYS_ONLY"},
            }
        ],
    )
    index_arn = ddb.describe_table(TableName="indexed")["Table"]["GlobalSecondaryIndexes"][0][
        "IndexArn"
    ]
    with raises(
        "ValidationException", f"Invalid TableArn: Invalid ResourceArn provided as input {index_arn}"
    ):
        ddb.tag_resource(ResourceArn=index_arn, Tags=[{"Key": "k", "Value": "v"}])
