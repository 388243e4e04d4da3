"""ExecuteStatement, BatchExecuteStatement and ExecuteTransaction: PartiQL on the engine.

A statement is parsed by :mod:`singletable.partiql` (cached by text), planned
into one of the engine's own requests by :mod:`._partiql_plan`, then run by that
operation's handler, so reads, writes, conditions, capacity and errors are the
API's own. A batch runs each statement on its own (an error is that statement's
``Error``); a transaction becomes one TransactGetItems (all SELECTs) or one
TransactWriteItems (all writes), all-or-nothing, with ClientRequestToken
idempotency. (Developer Guide: "PartiQL - a SQL-compatible query language for
Amazon DynamoDB", "Running batch operations with PartiQL", "Performing
transactions with PartiQL".)
"""

from __future__ import annotations

import base64
import binascii
import json
from typing import TYPE_CHECKING, Any

from singletable.backends.local import _items, _reads, _transactions
from singletable.backends.local._exprs import RequestExpressions
from singletable.backends.local._items import find_table
from singletable.backends.local._params import Checks
from singletable.backends.local._partiql_plan import (
    PARTITION,
    Plan,
    Renderer,
    duplicate_item,
    plan_statement,
    project,
    project_select,
    resolve,
    split_key,
)
from singletable.backends.local.errors import (
    DynamoDBError,
    transaction_cancelled,
    validation_error,
)
from singletable.partiql import Parsed, PartiQLSyntaxError, parse
from singletable.partiql.nodes import Insert, Select

if TYPE_CHECKING:
    from singletable.backends.local.engine import LocalEngine

__all__ = ["batch_execute_statement", "execute_statement", "execute_transaction"]

_CAPACITY = ("INDEXES", "TOTAL", "NONE")
_WRITES = {
    "PutItem": _items.put_item,
    "UpdateItem": _items.update_item,
    "DeleteItem": _items.delete_item,
}
_READS = {"Query": _reads.query, "Scan": _reads.scan, "GetItem": _items.get_item}
MAX_BATCH = 25
MAX_TRANSACTION = 100
MAX_STATEMENT = 8192


# ------------------------------------------------------------------ request members


def _statement_text(checks: Checks, body: dict[str, Any], member: str) -> str | None:
    text = body.get("Statement")
    if text is None:
        checks.fail(f"{member}statement", None, "Member must not be null")
        return None
    if not isinstance(text, str):
        raise DynamoDBError(
            "SerializationException", "Unexpected value type in payload for Statement"
        )
    if not text:
        checks.fail(
            f"{member}statement", text, "Member must have length greater than or equal to 1"
        )
    elif len(text) > MAX_STATEMENT:
        checks.fail(
            f"{member}statement",
            text,
            f"Member must have length less than or equal to {MAX_STATEMENT}",
        )
    return text


def _parameters(checks: Checks, body: dict[str, Any], member: str) -> list[Any]:
    raw = body.get("Parameters")
    if raw is None:
        return []
    if not isinstance(raw, list):
        raise DynamoDBError(
            "SerializationException", "Unexpected value type in payload for Parameters"
        )
    if not raw:
        checks.fail(
            f"{member}parameters", "[]", "Member must have length greater than or equal to 1"
        )
    for value in raw:
        if not isinstance(value, dict):
            raise DynamoDBError(
                "SerializationException", "Unexpected value type in payload for Parameters"
            )
    return raw


def _parse(text: str, parameters: list[Any]) -> Parsed:
    try:
        parsed = parse(text)
    except PartiQLSyntaxError as error:
        raise validation_error(error.message) from None
    if parsed.parameters > len(parameters):
        # Too few is refused; too many are accepted (both as DynamoDB answers them).
        raise validation_error("Number of parameters in request and statement don't match.")
    return parsed


def _statement_list(checks: Checks, name: str, member: str, limit: int) -> list[Any]:
    raw = checks.required(name)
    if raw is None:
        return []
    if not isinstance(raw, list):
        raise DynamoDBError(
            "SerializationException", f"Unexpected value type in payload for {name}"
        )
    if not raw:
        checks.fail(member, "[]", "Member must have length greater than or equal to 1")
    elif len(raw) > limit:
        checks.errors.append(
            f"Value at '{member}' failed to satisfy constraint: "
            f"Member must have length less than or equal to {limit}"
        )
    for body in raw:
        if not isinstance(body, dict):
            raise DynamoDBError(
                "SerializationException", f"Unexpected value type in payload for {name}"
            )
    return raw


# ---------------------------------------------------------------------- NextToken


def _next_token(key: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(key, sort_keys=True).encode()).decode()


def _start_key(token: str) -> dict[str, Any]:
    try:
        key = json.loads(base64.urlsafe_b64decode(token.encode()))
    except (ValueError, binascii.Error, UnicodeDecodeError):
        key = None
    if not isinstance(key, dict):
        # Not captured from DynamoDB (its tokens are opaque); the form of its other
        # pagination refusals.
        raise validation_error("The provided NextToken is not valid")
    return key


# --------------------------------------------------------------------- one statement


def execute_statement(engine: LocalEngine, request: dict[str, Any]) -> dict[str, Any]:
    """ExecuteStatement: one PartiQL statement."""
    checks = Checks(request)
    text = _statement_text(checks, request, "")
    parameters = _parameters(checks, request, "")
    consistent = checks.boolean("ConsistentRead")
    token = checks.string("NextToken")
    capacity = checks.enum("ReturnConsumedCapacity", _CAPACITY)
    limit = checks.integer("Limit", 1)
    on_failure = checks.enum("ReturnValuesOnConditionCheckFailure", ("ALL_OLD", "NONE"))
    checks.raise_if_any()
    assert text is not None
    parsed = _parse(text, parameters)
    plan = plan_statement(engine, parsed.statement, parameters)
    if plan.operation == "ConditionCheck":
        raise validation_error(_EXISTS_ONLY)
    if plan.operation in _READS:
        return _read(engine, plan, parameters, limit, consistent, token, capacity)
    return _write(engine, plan, parameters, capacity, on_failure)


def _read(
    engine: LocalEngine,
    plan: Plan,
    parameters: list[Any],
    limit: int | None,
    consistent: bool,
    token: str | None,
    capacity: str | None,
) -> dict[str, Any]:
    request = plan.bind(parameters)
    if consistent:
        request["ConsistentRead"] = True
    if capacity is not None:
        request["ReturnConsumedCapacity"] = capacity
    if plan.operation != "GetItem":  # one item: no pages
        if limit is not None:
            request["Limit"] = limit
        if token is not None:
            request["ExclusiveStartKey"] = _start_key(token)
    if plan.partitions is not None:
        response = _query_partitions(engine, plan, parameters, request)
    else:
        response = _READS[plan.operation](engine, request)
    if plan.operation == "GetItem":
        items = [response["Item"]] if "Item" in response else []
    else:
        items = response["Items"]
    if plan.post_filter is not None:
        condition = RequestExpressions(plan.post_filter.bind(parameters)).filter()
        if condition is not None:
            items = [item for item in items if condition.matches(item)]
    if plan.projection is not None:
        items = project(items, plan.projection)
    result: dict[str, Any] = {"Items": items}
    last = response.get("LastEvaluatedKey")
    if last is not None:
        result["NextToken"] = _next_token(last)
        result["LastEvaluatedKey"] = last
    if "ConsumedCapacity" in response:
        result["ConsumedCapacity"] = response["ConsumedCapacity"]
    return result


def _query_partitions(
    engine: LocalEngine, plan: Plan, parameters: list[Any], request: dict[str, Any]
) -> dict[str, Any]:
    """``PK IN [...]``: a Query per partition (duplicates once), in the order written.

    ``Limit`` counts the items read across the Queries; a page that stops early
    answers the LastEvaluatedKey of the partition it stopped in, and the NextToken
    resumes there (a partition's position in the list is found from the key).
    """
    assert plan.partitions is not None
    values: list[Any] = []
    for node in plan.partitions:
        value = resolve(node, parameters)
        if value not in values:
            values.append(value)
    hash_name = _hash_name(engine, plan)
    start = request.pop("ExclusiveStartKey", None)
    first = 0
    if start is not None:
        first = next((i for i, v in enumerate(values) if start.get(hash_name) == v), -1)
        if first < 0:
            raise validation_error(
                "The provided starting key is outside query boundaries based on provided conditions"
            )
    limit = request.get("Limit")
    items: list[Any] = []
    capacity: dict[str, dict[str, Any]] = {}
    result: dict[str, Any] = {"Items": items}
    read = 0  # items read so far, which Limit counts
    for position in range(first, len(values)):
        query = dict(request)
        query["ExpressionAttributeValues"] = {
            **request.get("ExpressionAttributeValues", {}),
            PARTITION: values[position],
        }
        if position == first and start is not None:
            query["ExclusiveStartKey"] = start
        if limit is not None:
            query["Limit"] = limit - read
        response = _reads.query(engine, query)
        items.extend(response["Items"])
        read += response["ScannedCount"]
        _add_capacity(capacity, response.get("ConsumedCapacity"))
        if "LastEvaluatedKey" in response:
            result["LastEvaluatedKey"] = response["LastEvaluatedKey"]
            break
    if capacity:
        result["ConsumedCapacity"] = next(iter(capacity.values()))
    return result


def _hash_name(engine: LocalEngine, plan: Plan) -> str:
    table = find_table(engine, plan.table)
    index_name = plan.request.get("IndexName")
    index = table.index(index_name) if index_name is not None else None
    return index.hash_names[0] if index is not None else table.hash.name


def _write(
    engine: LocalEngine,
    plan: Plan,
    parameters: list[Any],
    capacity: str | None,
    on_failure: str | None,
) -> dict[str, Any]:
    request = plan.bind(parameters)
    request.update(plan.extra)
    if capacity is not None:
        request["ReturnConsumedCapacity"] = capacity
    if on_failure is not None and plan.operation != "PutItem":
        request["ReturnValuesOnConditionCheckFailure"] = on_failure
    try:
        response = _WRITES[plan.operation](engine, request)
    except DynamoDBError as error:
        if plan.operation == "PutItem" and error.code == "ConditionalCheckFailedException":
            raise duplicate_item() from None
        raise
    attributes = response.get("Attributes")
    result: dict[str, Any] = {"Items": [attributes] if attributes else []}
    if "ConsumedCapacity" in response:
        result["ConsumedCapacity"] = response["ConsumedCapacity"]
    return result


def _plan_get(engine: LocalEngine, statement: Select, parameters: list[Any], where: str) -> Plan:
    """A SELECT of one item by its full primary key, as a GetItem (batches, transactions)."""
    table = find_table(engine, statement.target.table)
    if statement.target.index is not None:
        if where == "transaction":
            # floci's recorded text (hectorvent/floci, DynamoDbPartiQLIntegrationTest).
            raise validation_error("Reads on indices are not supported within transactions.")
        raise validation_error(_GET_ONLY[where])
    key_nodes, rest = split_key(table, statement.where)
    if rest or statement.order_by:
        raise validation_error(_GET_ONLY[where])
    plan = Plan("GetItem", table.name, {"TableName": table.name}, statement, key_nodes=key_nodes)
    render = Renderer(parameters)
    project_select(statement, plan, render)
    return render.finish(plan)


# Not captured from DynamoDB; the form other emulators use for a read that is not a
# single-item lookup inside a batch or a transaction.
_GET_ONLY = {
    "batch": "Select statements within BatchExecuteStatement must specify the full primary "
    "key of a single item",
    "transaction": "Select statements within ExecuteTransaction must specify the full primary "
    "key of a single item",
}


# ------------------------------------------------------------------------ batches


def _short_code(code: str) -> str:
    """A batch member's error code: DynamoDB's exception name without "Exception"."""
    if code == "ValidationException":
        return "ValidationError"
    return code.removesuffix("Exception")


def batch_execute_statement(engine: LocalEngine, request: dict[str, Any]) -> dict[str, Any]:
    """BatchExecuteStatement: up to 25 statements, each succeeding or failing on its own."""
    checks = Checks(request)
    bodies = _statement_list(checks, "Statements", "statements", MAX_BATCH)
    capacity = checks.enum("ReturnConsumedCapacity", _CAPACITY)
    for i, body in enumerate(bodies):
        _statement_text(checks, body, f"statements.{i + 1}.member.")
        _parameters(checks, body, f"statements.{i + 1}.member.")
    checks.raise_if_any()
    _reads_or_writes(bodies)
    responses: list[dict[str, Any]] = []
    consumed: dict[str, dict[str, Any]] = {}
    for body in bodies:
        table: str | None = None
        try:
            parameters = body.get("Parameters") or []
            parsed = _parse(body["Statement"], parameters)
            statement = parsed.statement
            table = statement.target.table
            if isinstance(statement, Select):
                plan = _plan_get(engine, statement, parameters, "batch")
                result = _read(
                    engine,
                    plan,
                    parameters,
                    None,
                    body.get("ConsistentRead") is True,
                    None,
                    capacity,
                )
                entry: dict[str, Any] = {"TableName": plan.table}
                if result["Items"]:
                    entry["Item"] = result["Items"][0]
            else:
                plan = plan_statement(engine, statement, parameters)
                if plan.operation == "ConditionCheck":
                    raise validation_error(_EXISTS_ONLY)
                on_failure = body.get("ReturnValuesOnConditionCheckFailure")
                result = _write(
                    engine,
                    plan,
                    parameters,
                    capacity,
                    on_failure if on_failure == "ALL_OLD" else None,
                )
                entry = {"TableName": plan.table}
            _add_capacity(consumed, result.get("ConsumedCapacity"))
        except DynamoDBError as error:
            entry = {"Error": {"Code": _short_code(error.code), "Message": error.message}}
            item = error.extra.get("Item")
            if item is not None:
                entry["Error"]["Item"] = item
            if table is not None and table in engine.tables:
                entry["TableName"] = table
        responses.append(entry)
    response: dict[str, Any] = {"Responses": responses}
    if capacity in ("TOTAL", "INDEXES"):
        response["ConsumedCapacity"] = list(consumed.values())
    return response


def _reads_or_writes(bodies: list[Any]) -> None:
    """A batch is all SELECTs or all writes (API Reference, BatchExecuteStatement).

    The statements that do not parse are left to fail on their own.
    """
    kinds = set()
    for body in bodies:
        try:
            kinds.add(isinstance(parse(body["Statement"]).statement, Select))
        except PartiQLSyntaxError:
            continue
    if len(kinds) > 1:
        # The API Reference's wording; DynamoDB's own text was not captured.
        raise validation_error(
            "The entire batch must consist of either read statements or write statements"
        )


def _add_capacity(total: dict[str, dict[str, Any]], capacity: dict[str, Any] | None) -> None:
    """Sum one statement's ConsumedCapacity into the batch's, per table."""
    if capacity is None:
        return
    name = capacity["TableName"]
    entry = total.setdefault(name, {"TableName": name, "CapacityUnits": 0.0})
    for member in ("CapacityUnits", "ReadCapacityUnits", "WriteCapacityUnits"):
        if member in capacity:
            entry[member] = entry.get(member, 0.0) + capacity[member]
    if "Table" in capacity:
        table = entry.setdefault("Table", {})
        for member, units in capacity["Table"].items():
            table[member] = table.get(member, 0.0) + units


# ------------------------------------------------------------------- transactions


def _in_transaction(position: int, error: DynamoDBError) -> DynamoDBError:
    """A statement's validation error, named by its place (floci's recorded form)."""
    if error.code != "ValidationException":
        return error
    return validation_error(f"Validation failed in TransactStatements[{position}]: {error.message}")


def execute_transaction(engine: LocalEngine, request: dict[str, Any]) -> dict[str, Any]:
    """ExecuteTransaction: up to 100 statements, all SELECTs or all writes, all or nothing."""
    checks = Checks(request)
    bodies = _statement_list(checks, "TransactStatements", "transactStatements", MAX_TRANSACTION)
    capacity = checks.enum("ReturnConsumedCapacity", _CAPACITY)
    token = request.get("ClientRequestToken")
    for i, body in enumerate(bodies):
        _statement_text(checks, body, f"transactStatements.{i + 1}.member.")
        _parameters(checks, body, f"transactStatements.{i + 1}.member.")
    checks.raise_if_any()
    plans: list[tuple[Plan, list[Any]]] = []
    for position, body in enumerate(bodies):
        parameters = body.get("Parameters") or []
        try:
            statement = _parse(body["Statement"], parameters).statement
            if isinstance(statement, Select):
                plans.append((_plan_get(engine, statement, parameters, "transaction"), parameters))
                continue
            if not isinstance(statement, Insert) and statement.returning is not None:
                # floci's recorded text (hectorvent/floci, DynamoDbPartiQLIntegrationTest).
                raise validation_error("RETURNING clause is not supported in ExecuteTransaction.")
            plans.append((plan_statement(engine, statement, parameters), parameters))
        except DynamoDBError as error:
            raise _in_transaction(position, error) from None
    reads = [entry for entry in plans if entry[0].operation == "GetItem"]
    if reads and len(reads) != len(plans):
        # Not captured from DynamoDB ("a transaction is either all reads or all writes").
        raise validation_error(
            "Transactions must contain either all read statements or all write statements"
        )
    if reads:
        return _transact_reads(engine, reads, capacity)
    return _transact_writes(engine, plans, capacity, token)


def _transact_reads(
    engine: LocalEngine, plans: list[tuple[Plan, list[Any]]], capacity: str | None
) -> dict[str, Any]:
    request: dict[str, Any] = {"TransactItems": [{"Get": p.bind(values)} for p, values in plans]}
    if capacity is not None:
        request["ReturnConsumedCapacity"] = capacity
    response = _transactions.transact_get_items(engine, request)
    responses = response["Responses"]
    for (plan, _), entry in zip(plans, responses, strict=True):
        if plan.projection is not None and "Item" in entry:
            entry["Item"] = project([entry["Item"]], plan.projection)[0]
    result: dict[str, Any] = {"Responses": responses}
    if "ConsumedCapacity" in response:
        result["ConsumedCapacity"] = response["ConsumedCapacity"]
    return result


_TRANSACT_KIND = {
    "PutItem": "Put",
    "UpdateItem": "Update",
    "DeleteItem": "Delete",
    "ConditionCheck": "ConditionCheck",
}
# Not captured from DynamoDB (the functions page: "only valid in transactional operations").
_EXISTS_ONLY = "EXISTS is only supported in ExecuteTransaction"


def _transact_writes(
    engine: LocalEngine, plans: list[tuple[Plan, list[Any]]], capacity: str | None, token: Any
) -> dict[str, Any]:
    request: dict[str, Any] = {
        "TransactItems": [
            {_TRANSACT_KIND[plan.operation]: plan.bind(values)} for plan, values in plans
        ]
    }
    if token is not None:
        request["ClientRequestToken"] = token
    if capacity is not None:
        request["ReturnConsumedCapacity"] = capacity
    try:
        response = _transactions.transact_write_items(engine, request)
    except DynamoDBError as error:
        reasons = error.extra.get("CancellationReasons")
        if error.code != "TransactionCanceledException" or not isinstance(reasons, list):
            raise
        # An INSERT over an existing item is a DuplicateItem, not a failed condition.
        for (plan, _), reason in zip(plans, reasons, strict=False):
            if plan.operation == "PutItem" and reason.get("Code") == "ConditionalCheckFailed":
                reason.clear()
                reason.update({"Code": "DuplicateItem", "Message": duplicate_item().message})
        raise transaction_cancelled(reasons) from None
    result: dict[str, Any] = {}
    if "ConsumedCapacity" in response:
        result["ConsumedCapacity"] = response["ConsumedCapacity"]
    return result
