"""Turn a request's expression members (or their legacy equivalents) into compiled objects.

One :class:`RequestExpressions` per request: it validates
``ExpressionAttributeValues`` (DynamoDB reports a bad value as
``ExpressionAttributeValues contains invalid value: <reason> for key :v``),
compiles each expression through :mod:`singletable.expressions` (parsed once
per text, cached there), checks that every name and value was used, and maps
expression errors to ``ValidationException``. Legacy parameters are rewritten
into expressions by :mod:`._legacy` and go through the very same path.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from singletable._values import AttributeValue, InvalidValue, canonical_number, validate_value
from singletable.backends.local import _legacy
from singletable.backends.local._params import (
    _LEGACY_PARAMS,
    EXPRESSION_RELATED,
    check_attribute_names,
    check_nested_names,
    reject_unknown_mix,
    uses_expressions,
)
from singletable.backends.local.errors import DynamoDBError, validation_error
from singletable.expressions import (
    Condition,
    ExpressionContext,
    ExpressionError,
    KeyCondition,
    Projection,
    Step,
    Update,
    replay_step,
    small_names,
)
from singletable.expressions.evaluate import Env

__all__ = ["RequestExpressions", "expression_value", "invalid_value"]

T = TypeVar("T")


def invalid_value(error: InvalidValue) -> DynamoDBError:
    """The DynamoDBError for a value DynamoDB rejects.

    {"NULL": false} and empty or duplicate sets are request-validation errors
    (enveloped on PutItem/UpdateItem); number, nesting and type errors stay bare.
    """
    result = DynamoDBError(error.code, error.message)
    result.request_validation = error.family is not None
    return result


def _values(raw: Any) -> dict[str, AttributeValue] | None:
    if raw is None:
        return None
    if not isinstance(raw, dict):
        raise DynamoDBError("SerializationException", "Start of list found where not expected")
    values: dict[str, AttributeValue] = {}
    for key, value in raw.items():
        if type(value) is dict and len(value) == 1:  # the common scalars, in short
            text = value.get("S")
            if type(text) is str and text.isascii():
                values[key] = {"S": text}
                continue
            text = value.get("N")
            if type(text) is str:
                try:
                    values[key] = {"N": canonical_number(text)}
                    continue
                except InvalidValue:
                    pass  # reported below, as for any other value
        values[key] = expression_value(key, value)
    return values


def expression_value(key: str, value: Any) -> AttributeValue:
    """The canonical form of the ExpressionAttributeValues member ``key``, or the
    DynamoDBError DynamoDB reports for it."""
    try:
        checked = validate_value(value, key)
        if "M" in checked or "L" in checked:
            check_nested_names(checked)
    except InvalidValue as error:
        if error.code != "ValidationException":
            raise invalid_value(error) from None
        raise _classified(
            f"ExpressionAttributeValues contains invalid value: {error.message} for key {key}",
            request_validation=error.family is not None,
        ) from None
    return checked


def _names(raw: Any) -> dict[str, str] | None:
    if raw is None:
        return None
    if not isinstance(raw, dict) or not all(isinstance(v, str) for v in raw.values()):
        raise DynamoDBError("SerializationException", "Unexpected value type in payload")
    check_attribute_names(raw.values())
    return raw


class RequestExpressions:
    """The compiled expressions of one request.

    Legacy members (Expected, QueryFilter, ...) are translated up front into
    expression text with generated placeholders, so both styles share one path.
    """

    # KeyConditions translated beside expressions (see __init__); a class default, so
    # the plain request's path sets nothing more.
    _key_context: ExpressionContext | None = None
    # A request of a shape seen before (see _plan_key): the recorded steps replayed
    # so far (position), and the request's placeholder maps.
    _steps: tuple[Step, ...] | None = None
    _position = 0
    _env: Env | None = None
    # A request of a plannable shape seen for the first time: its shape, to record.
    _plan_key: tuple[object, ...] | None = None
    _no_expressions = False
    planned = False
    """Set by :meth:`finish`: every check of the request's expressions depends on its
    shape alone (see :func:`_plan_key`; the values' content aside), so any request of
    the same shape passes them too (the engine's compiled writes, ._update)."""

    def __init__(self, request: dict[str, Any]) -> None:
        self.request = request
        if request.keys().isdisjoint(EXPRESSION_RELATED):
            # The common plain request: nothing to translate, bind or check.
            self.legacy = False
            self._texts: dict[str, Any] = {}
            self.context = _NO_EXPRESSIONS
            self._no_expressions = True
            return
        key = _plan_key(request)
        if key is not None:
            steps = _PLANS.get(key)
            if steps is not None:
                # Every check that does not look at the values' content passed for a
                # request of this shape: validate the values, replay the bindings.
                self.legacy = False
                self._texts = {member: request.get(member) for member in _MEMBERS}
                values = _values(request.get("ExpressionAttributeValues"))
                names = request.get("ExpressionAttributeNames")
                self._steps = steps
                self._env = Env(names or {}, values or {})
                return
            self._plan_key = key
        legacy = reject_unknown_mix(request)
        texts: dict[str, Any]
        if legacy and uses_expressions(request):
            # Legacy KeyConditions beside a FilterExpression/ProjectionExpression (the
            # one mix DynamoDB accepts): the key condition is translated with its own
            # generated placeholders, in a context of its own, so they can neither
            # clash with the request's ExpressionAttributeNames/Values nor count as
            # unused ones.
            translation = _legacy.Translation()
            key_text = translation.key_conditions(request.get("KeyConditions"))
            self._key_context = _guard(
                lambda: ExpressionContext(translation.names or None, translation.values or None)
            )
            legacy = False
            texts = {member: request.get(member) for member in _MEMBERS}
            texts["KeyConditionExpression"] = key_text
            names = _names(request.get("ExpressionAttributeNames"))
            values = _values(request.get("ExpressionAttributeValues"))
        elif legacy:
            _legacy.check_conditional_operator(request)
            translation = _legacy.Translation()
            operator = request.get("ConditionalOperator")
            texts = {
                "ConditionExpression": translation.conditions(
                    request.get("Expected"), operator, "Expected"
                ),
                "FilterExpression": translation.conditions(
                    request.get("QueryFilter", request.get("ScanFilter")),
                    operator,
                    "QueryFilter" if "QueryFilter" in request else "ScanFilter",
                ),
                "ProjectionExpression": translation.attributes_to_get(
                    request.get("AttributesToGet")
                ),
                "UpdateExpression": translation.attribute_updates(request.get("AttributeUpdates")),
                "KeyConditionExpression": translation.key_conditions(request.get("KeyConditions")),
            }
            names, values = translation.names or None, translation.values or None
        else:
            texts = {member: request.get(member) for member in _MEMBERS}
            names = _names(request.get("ExpressionAttributeNames"))
            values = _values(request.get("ExpressionAttributeValues"))
        self.legacy = legacy
        self._texts = texts
        record = self._plan_key is not None
        self.context = _guard(lambda: ExpressionContext(names, values, record=record))

    def _replay(self, kind: str, text: str, extra: str | None) -> Condition | Update | None:
        """The next recorded binding, if it is this one; otherwise (a request of this
        shape binding something else) go back to binding everything."""
        steps = self._steps
        assert steps is not None and self._env is not None
        position = self._position
        if position < len(steps):
            step = steps[position]
            if step[0] == kind and step[1] == text and step[2] == extra:
                self._position = position + 1
                return replay_step(step, self._env)
        self._steps = None
        env = self._env
        self.context = _guard(lambda: ExpressionContext(env.names or None, env.values or None))
        self.context.mark_replayed(steps[:position])
        return None

    def _text(self, member: str) -> str | None:
        value = self._texts.get(member)
        if value is None or isinstance(value, str):
            return value
        raise DynamoDBError(
            "SerializationException", f"Unexpected value type in payload for {member}"
        )

    def condition(self) -> Condition | None:
        """ConditionExpression, or Expected (+ ConditionalOperator)."""
        text = self._text("ConditionExpression")
        if text is None:
            return None
        if self._steps is not None:
            replayed = self._replay("C", text, "ConditionExpression")
            if replayed is not None:
                assert isinstance(replayed, Condition)
                return replayed
        return _bind(text, lambda: self.context.condition(text, "ConditionExpression"))

    def filter(self) -> Condition | None:
        """FilterExpression, or QueryFilter/ScanFilter (+ ConditionalOperator)."""
        text = self._text("FilterExpression")
        if text is None:
            return None
        if self._steps is not None:
            replayed = self._replay("C", text, "FilterExpression")
            if replayed is not None:
                assert isinstance(replayed, Condition)
                return replayed
        return _bind(text, lambda: self.context.condition(text, "FilterExpression"))

    def projection(self) -> Projection | None:
        """ProjectionExpression, or AttributesToGet."""
        text = self._text("ProjectionExpression")
        if text is None:
            return None
        if self._steps is not None:
            self._replay("P", text, None)  # (never recorded: binds as usual)
        return _bind(text, lambda: self.context.projection(text))

    def update(self) -> Update | None:
        """UpdateExpression, or AttributeUpdates."""
        text = self._text("UpdateExpression")
        # AttributeUpdates' ADD/DELETE of another type than the attribute's is worded
        # as DynamoDB words it for the legacy form (dynalite's recorded tests).
        mismatch = "Type mismatch for attribute to update" if self.legacy else None
        if text is None:
            return None
        if self._steps is not None:
            replayed = self._replay("U", text, mismatch)
            if replayed is not None:
                assert isinstance(replayed, Update)
                return replayed
        return _bind(text, lambda: self.context.update(text, type_mismatch=mismatch))

    def key_condition(self, hash_keys: Sequence[str], range_keys: Sequence[str]) -> KeyCondition:
        """KeyConditionExpression, or KeyConditions; one of them is required."""
        text = self._text("KeyConditionExpression")
        if text is None:
            raise validation_error(
                "Either the KeyConditions or KeyConditionExpression parameter must be specified "
                "in the request."
            )
        if self._steps is not None:
            self._replay("K", text, None)  # (never recorded: binds as usual)
        context = self.context if self._key_context is None else self._key_context
        return _bind(text, lambda: context.key_condition(text, hash_keys, range_keys))

    def finish(self) -> None:
        """Reject names and values that no expression of the request used."""
        steps = self._steps
        if steps is not None:
            if self._position == len(steps):
                # The recorded request used every name and value: so does this one.
                self.planned = True
                return
            self._replay("", "", None)  # (fewer bindings than recorded: check as usual)
        context = self.context
        _guard(context.check_unused)
        if self._no_expressions:
            self.planned = True
            return
        key = self._plan_key
        if key is not None and context.steps is not None and small_names(
            self.request.get("ExpressionAttributeNames")
        ):  # (what a plan keeps is bounded: SHAPE_NAMES_MAX)
            if len(_PLANS) >= _PLANS_MAX:
                _PLANS.clear()
            _PLANS[key] = tuple(context.steps)
            self.planned = True


# Binds nothing and records nothing: shared by every request without expressions.
_NO_EXPRESSIONS = ExpressionContext(None, None)

# The bindings of requests whose expressions all bound and passed finish(), by the
# request's shape (_plan_key): a request of a recorded shape validates its values and
# replays the bindings (the plan per expression text of issue 19).
_PLANS: dict[tuple[object, ...], tuple[Step, ...]] = {}
_PLANS_MAX = 1024
# Requests with these are never planned: legacy members are translated first, and
# key conditions and projections are bound on every request (never recorded).
_UNPLANNED = frozenset({"KeyConditionExpression", "ProjectionExpression", *_LEGACY_PARAMS})


def _plan_key(request: dict[str, Any]) -> tuple[object, ...] | None:
    """What every check of a request's expressions depends on, except its values'
    content: the expression texts, what each ``#name`` stands for, each ``:value``'s
    type. None for a request that cannot be planned (legacy members, members of
    unexpected types; they take the checking path, which reports them)."""
    if not request.keys().isdisjoint(_UNPLANNED):
        return None
    key: list[object] = []
    for member in _MEMBERS:
        text = request.get(member)
        if text is not None and type(text) is not str:
            return None
        key.append(text)
    names = request.get("ExpressionAttributeNames")
    if names is None:
        key.append(None)
    elif type(names) is dict:
        for pair in names.items():
            if type(pair[1]) is not str:
                return None
            key.append(pair)
    else:
        return None
    key.append(None)  # (names end here)
    values = request.get("ExpressionAttributeValues")
    if values is None:
        return tuple(key)
    if type(values) is not dict:
        return None
    key.append("values")  # (an empty map is not an absent one: it is refused)
    for ref, value in values.items():
        if type(value) is not dict or len(value) != 1:
            return None
        for tag in value:
            key.append((ref, tag))
    return tuple(key)

_MEMBERS = (
    "ConditionExpression",
    "FilterExpression",
    "ProjectionExpression",
    "UpdateExpression",
    "KeyConditionExpression",
)


def _classified(message: str, *, request_validation: bool) -> DynamoDBError:
    error = validation_error(message)
    error.request_validation = request_validation
    return error


def _guard(action: Callable[[], T], *, request_validation: bool = False) -> T:
    """Run ``action``; expression and value errors become DynamoDB errors.

    ``request_validation`` classifies the expression errors (see errors.in_envelope).
    Without it they stay bare: ExpressionAttributeNames/Values that are empty,
    have a bad key or go unused are reported bare on every operation
    (nubo-db/dynoxide PR #152, captured against DynamoDB in eu-west-2).
    """
    try:
        return action()
    except ExpressionError as error:
        raise _classified(error.message, request_validation=request_validation) from None
    except InvalidValue as error:
        raise invalid_value(error) from None


def _bind(text: str, action: Callable[[], T]) -> T:
    """Compile and bind one expression member.

    Its parse-time errors (syntax, size limit, overlapping paths, undefined
    #names/:values, ...) are request-validation errors; an empty expression
    ("The expression can not be empty;") is raised bare, as dynoxide (PR #152)
    raises it ahead of the parse.
    """
    return _guard(action, request_validation=text != "")
