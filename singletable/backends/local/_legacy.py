"""Legacy conditional parameters, translated into expressions.

Older code still sends ``Expected``, ``AttributeUpdates``, ``KeyConditions``,
``QueryFilter``, ``ScanFilter``, ``AttributesToGet`` and ``ConditionalOperator``
(API Reference, "Legacy conditional parameters"). Rather than evaluate a second
language, each is rewritten into the equivalent expression text with generated
placeholders (``#l0``, ``:l0``) and compiled by the one expression engine. Mixing
them with expression parameters is refused in :mod:`._params`.
"""

from __future__ import annotations

from typing import Any

from singletable._values import AttributeValue, InvalidValue, compare_values, validate_value
from singletable.backends.local._params import check_attribute_names
from singletable.backends.local.errors import DynamoDBError, validation_error

__all__ = ["Translation", "check_conditional_operator"]

# operator -> (number of values, template); {a} is the attribute, {v0}.. the values.
_OPERATORS: dict[str, tuple[int | None, str]] = {
    "EQ": (1, "{a} = {v0}"),
    "NE": (1, "{a} <> {v0}"),
    "LE": (1, "{a} <= {v0}"),
    "LT": (1, "{a} < {v0}"),
    "GE": (1, "{a} >= {v0}"),
    "GT": (1, "{a} > {v0}"),
    "NOT_NULL": (0, "attribute_exists({a})"),
    "NULL": (0, "attribute_not_exists({a})"),
    "CONTAINS": (1, "contains({a}, {v0})"),
    "NOT_CONTAINS": (1, "NOT contains({a}, {v0})"),
    "BEGINS_WITH": (1, "begins_with({a}, {v0})"),
    "BETWEEN": (2, "{a} BETWEEN {v0} AND {v1}"),
    "IN": (None, "{a} IN ({vs})"),
}


# The types each operator takes in AttributeValueList (API Reference, "Condition":
# "AttributeValueList can contain only one AttributeValue of type String, Number,
# or Binary (not a set type)" and so on); EQ and NE take every type. An operator
# given another type is refused before any item is read, unlike an item attribute
# of another type, which makes the condition false.
_SCALARS = frozenset({"S", "N", "B"})
_VALUE_TYPES: dict[str, frozenset[str]] = {
    "LE": _SCALARS,
    "LT": _SCALARS,
    "GE": _SCALARS,
    "GT": _SCALARS,
    "CONTAINS": _SCALARS,
    "NOT_CONTAINS": _SCALARS,
    "BEGINS_WITH": frozenset({"S", "B"}),
    "IN": _SCALARS,
    "BETWEEN": _SCALARS,
}


def _invalid(message: str) -> DynamoDBError:
    return validation_error("One or more parameter values were invalid: " + message)


class Translation:
    """Accumulates the placeholders of one request's translated legacy members."""

    def __init__(self) -> None:
        self.names: dict[str, str] = {}
        self.values: dict[str, AttributeValue] = {}

    def _name(self, attribute: str) -> str:
        check_attribute_names((attribute,))
        placeholder = f"#l{len(self.names)}"
        self.names[placeholder] = attribute
        return placeholder

    def _value(self, value: Any) -> str:
        try:
            checked = validate_value(value)
        except InvalidValue as error:
            raise DynamoDBError(error.code, error.message) from None
        placeholder = f":l{len(self.values)}"
        self.values[placeholder] = checked
        return placeholder

    def _comparison(self, attribute: str, spec: Any) -> str:
        if not isinstance(spec, dict):
            raise DynamoDBError("SerializationException", "Unexpected value type in payload")
        operator = spec.get("ComparisonOperator")
        if operator not in _OPERATORS:
            raise validation_error(
                f"1 validation error detected: Value '{operator}' at 'comparisonOperator' failed "
                "to satisfy constraint: Member must satisfy enum value set: [IN, NULL, BETWEEN, "
                "LT, NOT_CONTAINS, EQ, GT, NOT_NULL, NE, LE, BEGINS_WITH, GE, CONTAINS]"
            )
        count, template = _OPERATORS[operator]
        values = spec.get("AttributeValueList")
        if values is None:  # Expected may give its one operand as Value
            values = [spec["Value"]] if spec.get("Value") is not None else []
        if (count is not None and len(values) != count) or (count is None and not values):
            raise _invalid(f"Invalid number of argument(s) for the {operator} ComparisonOperator")
        placeholders = [self._value(value) for value in values]
        _check_operand_types(operator, [self.values[p] for p in placeholders])
        return template.format(
            a=self._name(attribute),
            vs=", ".join(placeholders),
            **{f"v{i}": p for i, p in enumerate(placeholders)},
        )

    def conditions(self, spec: Any, operator: Any, member: str) -> str | None:
        """Expected / QueryFilter / ScanFilter (joined by ConditionalOperator) as a condition."""
        if spec is None:
            return None
        if not isinstance(spec, dict):
            raise DynamoDBError("SerializationException", "Unexpected value type in payload")
        _check_operator_value(operator)
        if operator is not None and len(spec) < 2:
            # Texts of the request validator in Amazon's DAX client, which mirrors
            # DynamoDB's (amazon-dax-client, RequestValidator).
            raise validation_error(
                "ConditionalOperator can only be used when Filter or Expected has two or "
                "more elements"
            )
        parts = []
        for attribute, condition in spec.items():
            if member == "Expected" and isinstance(condition, dict):
                _check_expected_members(attribute, condition)
                if "ComparisonOperator" not in condition:
                    parts.append(self._expected(attribute, condition))
                    continue
            parts.append(self._comparison(attribute, condition))
        if not parts:
            return None
        return f" {operator or 'AND'} ".join(f"({part})" for part in parts)

    def _expected(self, attribute: str, condition: dict[str, Any]) -> str:
        exists = condition.get("Exists", True)
        value = condition.get("Value")
        if exists is False:
            if value is not None:
                raise _invalid(
                    f"Value cannot be used when Exists is false for Attribute: {attribute}"
                )
            return f"attribute_not_exists({self._name(attribute)})"
        if value is None:
            # An entry with neither Exists nor Value says "null" (dynalite's recorded text).
            shown = "true" if condition.get("Exists") is not None else "null"
            raise _invalid(
                f"Value must be provided when Exists is {shown} for Attribute: {attribute}"
            )
        return f"{self._name(attribute)} = {self._value(value)}"

    def key_conditions(self, spec: Any) -> str | None:
        """KeyConditions as a key condition expression."""
        if spec is None:
            return None
        if not isinstance(spec, dict):
            raise DynamoDBError("SerializationException", "Unexpected value type in payload")
        return (
            " AND ".join(
                self._comparison(attribute, condition) for attribute, condition in spec.items()
            )
            or None
        )

    def attributes_to_get(self, spec: Any) -> str | None:
        """AttributesToGet as a projection expression."""
        if spec is None:
            return None
        if not isinstance(spec, list) or not all(isinstance(name, str) for name in spec):
            raise DynamoDBError("SerializationException", "Unexpected value type in payload")
        if not spec:
            raise validation_error(
                "1 validation error detected: Value '[]' at 'attributesToGet' failed to satisfy "
                "constraint: Member must have length greater than or equal to 1"
            )
        if len(set(spec)) != len(spec):
            raise _invalid(f"Duplicate value in attribute name: {spec}")
        return ", ".join(self._name(name) for name in spec) or None

    def attribute_updates(self, spec: Any) -> str | None:
        """AttributeUpdates as an update expression."""
        if spec is None:
            return None
        if not isinstance(spec, dict):
            raise DynamoDBError("SerializationException", "Unexpected value type in payload")
        clauses: dict[str, list[str]] = {"SET": [], "REMOVE": [], "ADD": [], "DELETE": []}
        for attribute, update in spec.items():
            update = update if isinstance(update, dict) else {}
            action = update.get("Action", "PUT")
            value = update.get("Value")
            if action not in ("PUT", "DELETE", "ADD"):
                raise validation_error(
                    f"1 validation error detected: Value '{action}' at "
                    f"'attributeUpdates.{attribute}.member.action' failed to satisfy constraint: "
                    "Member must satisfy enum value set: [ADD, PUT, DELETE]"
                )
            if value is None and action != "DELETE":
                raise _invalid(
                    "Only DELETE action is allowed when no attribute value is "
                    f"specified: {attribute}"
                )
            name = self._name(attribute)
            if action == "PUT":
                clauses["SET"].append(f"{name} = {self._value(value)}")
            elif action == "DELETE":
                if value is None:
                    clauses["REMOVE"].append(name)
                else:
                    clauses["DELETE"].append(f"{name} {self._value(value)}")
            elif isinstance(value, dict) and "L" in value:
                # Legacy ADD appends to a list, which the ADD clause cannot express.
                empty = self._value({"L": []})
                clauses["SET"].append(
                    f"{name} = list_append(if_not_exists({name}, {empty}), {self._value(value)})"
                )
            else:
                clauses["ADD"].append(f"{name} {self._value(value)}")
        text = " ".join(
            f"{clause} {', '.join(parts)}" for clause, parts in clauses.items() if parts
        )
        return text or None


def _check_expected_members(attribute: str, condition: dict[str, Any]) -> None:
    """The member combinations an Expected entry may not have (API Reference,
    "ExpectedAttributeValue"; texts as DynamoDB answers them, recorded by dynalite)."""
    if "Value" in condition and "AttributeValueList" in condition:
        raise _invalid(
            f"Value and AttributeValueList cannot be used together for Attribute: {attribute}"
        )
    if "ComparisonOperator" not in condition:
        if "AttributeValueList" in condition:
            raise _invalid(
                "AttributeValueList can only be used with a ComparisonOperator for Attribute: "
                f"{attribute}"
            )
        return
    if "Exists" in condition:
        raise _invalid(
            f"Exists and ComparisonOperator cannot be used together for Attribute: {attribute}"
        )


def _check_operand_types(operator: str, values: list[AttributeValue]) -> None:
    """AttributeValueList: one type throughout, one the operator takes, BETWEEN ordered."""
    if not values:
        return
    kinds = [next(iter(value)) for value in values]
    if any(kind != kinds[0] for kind in kinds):
        raise _invalid("AttributeValues inside AttributeValueList must be of same type")
    allowed = _VALUE_TYPES.get(operator)
    if allowed is not None and kinds[0] not in allowed:
        raise _invalid(
            f"ComparisonOperator {operator} is not valid for {kinds[0]} AttributeValue type"
        )
    if operator == "BETWEEN" and (compare_values(values[0], values[1]) or 0) > 0:
        raise validation_error(
            "The BETWEEN condition was provided a range where the lower bound is greater than "
            "the upper bound"
        )


def _check_operator_value(operator: Any) -> None:
    if operator not in (None, "AND", "OR"):
        raise validation_error(
            f"1 validation error detected: Value '{operator}' at 'conditionalOperator' failed "
            "to satisfy constraint: Member must satisfy enum value set: [OR, AND]"
        )


def check_conditional_operator(request: dict[str, Any]) -> None:
    """ConditionalOperator needs conditions to join: Expected, QueryFilter or ScanFilter.

    Text of the request validator in Amazon's DAX client, which mirrors DynamoDB's
    (amazon-dax-client, RequestValidator).
    """
    operator = request.get("ConditionalOperator")
    if operator is None:
        return
    _check_operator_value(operator)
    if all(request.get(member) is None for member in ("Expected", "QueryFilter", "ScanFilter")):
        raise validation_error("ConditionalOperator cannot be used without Filter or Expected")
