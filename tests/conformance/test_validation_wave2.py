"""Requests DynamoDB refuses that a first pass accepted: operand types, legacy members.

- Request constants of ``<``, ``<=``, ``>``, ``>=``, BETWEEN and IN must be of an
  ordered type (S, N, B); an item attribute of another type only makes the
  condition false (Developer Guide, "Comparison operator and function reference").
- The legacy forms check the same in their AttributeValueList, plus one type
  throughout (API Reference, "Condition"; texts recorded by dynalite).
- Expected, ConditionalOperator and AttributesToGet member rules.
"""

from __future__ import annotations

from typing import Any

import boto3
import pytest
from botocore.config import Config
from ddbtest import REGION, Backend, enveloped, raises

MOTO_DIFFERENCES = {
    "operand-types": "moto evaluates an ordering comparison against a map, list, set, BOOL "
    "or NULL constant as false (and raises a Python TypeError, a 500, for an item map "
    "compared with a number); DynamoDB refuses the constant with a ValidationException "
    "and evaluates the item attribute as false.",
    "legacy-validation": "moto accepts these legacy member combinations (or answers with "
    "other texts); DynamoDB refuses them as asserted here.",
}

KEY = {"PK": {"S": "p"}, "SK": {"S": "s"}}
INVALID = "One or more parameter values were invalid: "


def _operand_type(parameter: str, operator: str, kind: str) -> str:
    return (
        f"Invalid {parameter}: Incorrect operand type for operator or function; "
        f"operator or function: {operator}, operand type: {kind}"
    )


@pytest.fixture
def raw(db: Backend) -> Any:
    """A client that sends what boto3 would refuse on the client side."""
    return boto3.client("dynamodb", region_name=REGION, config=Config(parameter_validation=False))


@pytest.fixture
def item(db: Backend, table: str) -> None:
    db.put({**KEY, "n": {"N": "5"}, "t": {"BOOL": True}, "m": {"M": {"a": {"S": "x"}}}})


@pytest.mark.moto_differs("operand-types")
@pytest.mark.parametrize(
    ("condition", "value", "operator", "kind"),
    [
        ("n < :v", {"M": {}}, "<", "M"),
        ("n <= :v", {"L": []}, "<=", "L"),
        ("n > :v", {"SS": ["a"]}, ">", "SS"),
        ("n >= :v", {"BOOL": True}, ">=", "BOOL"),
        ("n BETWEEN :v AND :v", {"NULL": True}, "BETWEEN", "NULL"),
        ("n IN (:v)", {"NS": ["1"]}, "IN", "NS"),
    ],
)
def test_ordering_with_an_unordered_constant_is_refused(
    ddb: Any, item: None, condition: str, value: Any, operator: str, kind: str
) -> None:
    with raises(
        "ValidationException", enveloped(_operand_type("ConditionExpression", operator, kind))
    ):
        ddb.put_item(
            TableName="tbl",
            Item=KEY,
            ConditionExpression=condition,
            ExpressionAttributeValues={":v": value},
        )


@pytest.mark.moto_differs("operand-types")
def test_filter_with_an_unordered_constant_is_refused(ddb: Any, item: None) -> None:
    with raises("ValidationException", _operand_type("FilterExpression", "<", "M")):
        ddb.scan(
            TableName="tbl", FilterExpression="n < :v", ExpressionAttributeValues={":v": {"M": {}}}
        )


@pytest.mark.moto_differs("operand-types")
def test_an_item_attribute_of_an_unordered_type_is_just_false(ddb: Any, item: None) -> None:
    page = ddb.scan(
        TableName="tbl",
        FilterExpression="t < :n OR m > :n OR m BETWEEN :n AND :n",
        ExpressionAttributeValues={":n": {"N": "1"}},
    )
    assert page["Count"] == 0 and page["ScannedCount"] == 1


# ----------------------------------------------------------------------------- legacy


@pytest.mark.moto_differs("legacy-validation")
@pytest.mark.parametrize(
    ("operator", "values", "message"),
    [
        ("LT", [{"M": {}}], "ComparisonOperator LT is not valid for M AttributeValue type"),
        ("GE", [{"BOOL": True}], "ComparisonOperator GE is not valid for BOOL AttributeValue type"),
        ("IN", [{"L": []}], "ComparisonOperator IN is not valid for L AttributeValue type"),
        (
            "BETWEEN",
            [{"SS": ["a"]}, {"SS": ["b"]}],
            "ComparisonOperator BETWEEN is not valid for SS AttributeValue type",
        ),
        (
            "CONTAINS",
            [{"NULL": True}],
            "ComparisonOperator CONTAINS is not valid for NULL AttributeValue type",
        ),
        (
            "BEGINS_WITH",
            [{"N": "1"}],
            "ComparisonOperator BEGINS_WITH is not valid for N AttributeValue type",
        ),
        (
            "IN",
            [{"N": "1"}, {"S": "1"}],
            "AttributeValues inside AttributeValueList must be of same type",
        ),
        (
            "BETWEEN",
            [{"N": "1"}, {"S": "1"}],
            "AttributeValues inside AttributeValueList must be of same type",
        ),
    ],
)
def test_legacy_operand_types_are_checked(
    ddb: Any, item: None, operator: str, values: list[Any], message: str
) -> None:
    condition = {"ComparisonOperator": operator, "AttributeValueList": values}
    with raises("ValidationException", INVALID + message):
        ddb.scan(TableName="tbl", ScanFilter={"n": condition})
    with raises("ValidationException", INVALID + message):
        ddb.delete_item(TableName="tbl", Key=KEY, Expected={"n": condition})
    assert ddb.get_item(TableName="tbl", Key=KEY).get("Item") is not None


@pytest.mark.moto_differs("legacy-validation")
def test_legacy_begins_with_on_a_number_key_is_refused(db: Backend, ddb: Any) -> None:
    db.create_table("nums", sk=("SK", "N"))
    with raises(
        "ValidationException",
        INVALID + "ComparisonOperator BEGINS_WITH is not valid for N AttributeValue type",
    ):
        ddb.query(
            TableName="nums",
            KeyConditions={
                "PK": {"ComparisonOperator": "EQ", "AttributeValueList": [{"S": "p"}]},
                "SK": {"ComparisonOperator": "BEGINS_WITH", "AttributeValueList": [{"N": "1"}]},
            },
        )


@pytest.mark.moto_differs("legacy-validation")
def test_legacy_between_bounds_must_be_ordered(ddb: Any, item: None) -> None:
    with raises(
        "ValidationException",
        "The BETWEEN condition was provided a range where the lower bound is greater than the "
        "upper bound",
    ):
        ddb.scan(
            TableName="tbl",
            ScanFilter={
                "n": {
                    "ComparisonOperator": "BETWEEN",
                    "AttributeValueList": [{"N": "9"}, {"N": "1"}],
                }
            },
        )


def test_legacy_eq_takes_any_type(ddb: Any, item: None) -> None:
    page = ddb.scan(
        TableName="tbl",
        ScanFilter={"t": {"ComparisonOperator": "EQ", "AttributeValueList": [{"BOOL": True}]}},
    )
    assert page["Count"] == 1


@pytest.mark.moto_differs("legacy-validation")
def test_expected_exists_with_comparison_operator_is_refused(ddb: Any, item: None) -> None:
    with raises(
        "ValidationException",
        INVALID + "Exists and ComparisonOperator cannot be used together for Attribute: n",
    ):
        ddb.delete_item(
            TableName="tbl",
            Key=KEY,
            Expected={"n": {"Exists": True, "ComparisonOperator": "NOT_NULL"}},
        )


@pytest.mark.moto_differs("legacy-validation")
def test_expected_value_with_attribute_value_list_is_refused(ddb: Any, item: None) -> None:
    with raises(
        "ValidationException",
        INVALID + "Value and AttributeValueList cannot be used together for Attribute: n",
    ):
        ddb.delete_item(
            TableName="tbl",
            Key=KEY,
            Expected={
                "n": {
                    "ComparisonOperator": "EQ",
                    "Value": {"N": "5"},
                    "AttributeValueList": [{"N": "5"}],
                }
            },
        )


def test_expected_value_serves_as_the_operand_of_a_comparison(ddb: Any, item: None) -> None:
    ddb.delete_item(
        TableName="tbl", Key=KEY, Expected={"n": {"ComparisonOperator": "GT", "Value": {"N": "1"}}}
    )
    assert ddb.get_item(TableName="tbl", Key=KEY).get("Item") is None


@pytest.mark.moto_differs("legacy-validation")
@pytest.mark.parametrize(
    ("extra", "message"),
    [
        ({}, "ConditionalOperator cannot be used without Filter or Expected"),
        (
            {"Expected": {}},
            "ConditionalOperator can only be used when Filter or Expected has two or more elements",
        ),
    ],
    ids=["no-expected", "empty-expected"],
)
def test_conditional_operator_needs_conditions(
    ddb: Any, item: None, extra: dict[str, Any], message: str
) -> None:
    with raises("ValidationException", message):
        ddb.delete_item(TableName="tbl", Key=KEY, ConditionalOperator="OR", **extra)
    assert ddb.get_item(TableName="tbl", Key=KEY).get("Item") is not None


@pytest.mark.moto_differs("legacy-validation")
def test_conditional_operator_needs_two_conditions(ddb: Any, item: None) -> None:
    # The DAX client's request validator (Amazon's, mirroring DynamoDB) refuses one.
    with raises(
        "ValidationException",
        "ConditionalOperator can only be used when Filter or Expected has two or more elements",
    ):
        ddb.scan(
            TableName="tbl",
            ScanFilter={"n": {"ComparisonOperator": "NOT_NULL"}},
            ConditionalOperator="AND",
        )
    page = ddb.scan(
        TableName="tbl",
        ScanFilter={
            "n": {"ComparisonOperator": "NOT_NULL"},
            "t": {"ComparisonOperator": "NULL"},
        },
        ConditionalOperator="OR",
    )
    assert page["Count"] == 1


@pytest.mark.moto_differs("legacy-validation")
def test_an_empty_expected_entry_says_exists_is_null(ddb: Any, item: None) -> None:
    with raises(
        "ValidationException",
        INVALID + "Value must be provided when Exists is null for Attribute: n",
    ):
        ddb.delete_item(TableName="tbl", Key=KEY, Expected={"n": {}})


@pytest.mark.moto_differs("legacy-validation")
def test_empty_attributes_to_get_is_refused(raw: Any, item: None) -> None:
    with raises(
        "ValidationException",
        "1 validation error detected: Value '[]' at 'attributesToGet' failed to satisfy "
        "constraint: Member must have length greater than or equal to 1",
    ):
        raw.get_item(TableName="tbl", Key=KEY, AttributesToGet=[])
