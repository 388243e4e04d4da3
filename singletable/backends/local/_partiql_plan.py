"""PartiQL statements translated into the engine's own requests.

A statement runs as the operation DynamoDB runs for it: a SELECT whose WHERE
fixes every partition-key attribute of the table (or of the named index) with
``=`` is a Query, with a sort-key term (``=``, ``<``, ``<=``, ``>``, ``>=``,
``BETWEEN``, ``begins_with``) in the key condition too, so it costs O(log n +
page); any other SELECT is a Scan (Developer Guide, "PartiQL select statements
for DynamoDB": a full table scan unless the partition key is fixed). INSERT is a
PutItem that may not replace an item, UPDATE an UpdateItem on an item that must
exist, DELETE a DeleteItem. The WHERE, the projection and the SET/REMOVE clauses
become expression text with generated placeholders (``#n0``, ``:v0``), so the
expression layer checks and evaluates them exactly as it does for the API.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from weakref import WeakKeyDictionary

from singletable.backends.local._items import find_table
from singletable.backends.local._schema import TableDef
from singletable.backends.local.errors import DynamoDBError, validation_error
from singletable.partiql.nodes import (
    And,
    Arithmetic,
    Between,
    Call,
    Compare,
    Condition,
    Delete,
    Exists,
    In,
    Insert,
    IsMissing,
    IsNull,
    ListValue,
    Literal,
    MapValue,
    Not,
    Operand,
    Or,
    Param,
    Path,
    Select,
    SetFunction,
    Statement,
    Update,
    Value,
)

if TYPE_CHECKING:
    from singletable.backends.local.engine import LocalEngine

__all__ = [
    "KEY_EQUALITY",
    "PARTITION",
    "Plan",
    "Renderer",
    "plan_statement",
    "project",
    "project_select",
    "resolve",
    "split_key",
]

KEY_EQUALITY = "Where clause does not contain a mandatory equality on all key attributes"
_ON_INDEX = "This operation is not supported on an index"
_RETURN_VALUES = {
    "ALL OLD": "ALL_OLD",
    "MODIFIED OLD": "UPDATED_OLD",
    "ALL NEW": "ALL_NEW",
    "MODIFIED NEW": "UPDATED_NEW",
}
_VALUE_NODES = (Literal, Param, MapValue, ListValue)
_RANGE_OPERATORS = ("=", "<", "<=", ">", ">=")


@dataclass
class Plan:
    """One statement as an engine request.

    ``operation`` is ``Query``, ``Scan`` or ``GetItem`` (a SELECT), or ``PutItem``,
    ``UpdateItem``, ``DeleteItem``; ``request`` its wire request without the values
    (``key_nodes``, ``value_nodes``, ``item_node``: bound per call by :meth:`bind`)
    and without the per-call members (Limit, ConsistentRead, ReturnConsumedCapacity...);
    ``extra`` holds members a lone statement adds (ReturnValues). ``projection`` holds
    the SELECT's paths when they are applied after the read (by :func:`project`).
    A plan is shared by every call of its statement (see :func:`plan_statement`):
    nothing changes it after planning.
    """

    operation: str
    table: str
    request: dict[str, Any]
    statement: Statement
    projection: tuple[Path, ...] | None = None
    extra: dict[str, Any] = field(default_factory=dict)
    key_nodes: dict[str, Value] | None = None
    value_nodes: dict[str, Value] = field(default_factory=dict)
    item_node: Value | None = None
    cacheable: bool = True
    post_filter: Plan | None = None  # terms a Query cannot filter on (see _plan_select)
    partitions: tuple[Value, ...] | None = None  # PK IN [...]: one Query per value

    def bind(self, parameters: list[Any]) -> dict[str, Any]:
        """The wire request for these ``parameters`` (a new dict; the plan is shared)."""
        request = dict(self.request)
        if self.value_nodes:
            request["ExpressionAttributeValues"] = {
                name: resolve(node, parameters) for name, node in self.value_nodes.items()
            }
        if self.key_nodes is not None:
            request["Key"] = {
                name: resolve(node, parameters) for name, node in self.key_nodes.items()
            }
        if self.item_node is not None:
            value = resolve(self.item_node, parameters)
            if not (isinstance(value, dict) and isinstance(value.get("M"), dict)):
                raise validation_error(
                    "Statement wasn't well formed, can't be processed: Expected a tuple in VALUE"
                )
            request["Item"] = value["M"]
        return request


class Renderer:
    """Builds expression text, allocating ``#nN`` and ``:vN`` placeholders."""

    def __init__(self, parameters: list[Any]) -> None:
        self.parameters = parameters
        self.names: dict[str, str] = {}
        self.values: dict[str, Value] = {}
        self.cacheable = True  # False once a parameter's value shaped the text (IN ?)

    def name(self, name: str) -> str:
        placeholder = self.names.get(name)
        if placeholder is None:
            placeholder = self.names[name] = f"#n{len(self.names)}"
        return placeholder

    def path(self, path: Path) -> str:
        text = self.name(path.root)
        for part in path.parts[1:]:
            text += f"[{part}]" if isinstance(part, int) else "." + self.name(part)
        return text

    def value(self, node: Value) -> str:
        placeholder = f":v{len(self.values)}"
        self.values[placeholder] = node
        return placeholder

    def operand(self, node: Operand | Arithmetic | SetFunction) -> str:
        if isinstance(node, Path):
            return self.path(node)
        if isinstance(node, Call):
            args = ", ".join(self.operand(arg) for arg in node.args)
            return f"{node.name}({args})"
        if isinstance(node, (Arithmetic, SetFunction)):
            raise validation_error(_UNEXPECTED)
        return self.value(node)

    def condition(self, node: Condition) -> str:
        if isinstance(node, And):
            return f"({self.condition(node.left)}) AND ({self.condition(node.right)})"
        if isinstance(node, Or):
            return f"({self.condition(node.left)}) OR ({self.condition(node.right)})"
        if isinstance(node, Not):
            return f"NOT ({self.condition(node.operand)})"
        if isinstance(node, Compare):
            return f"{self.operand(node.left)} {node.op} {self.operand(node.right)}"
        if isinstance(node, Between):
            low, high = self.operand(node.low), self.operand(node.high)
            return f"{self.operand(node.operand)} BETWEEN {low} AND {high}"
        if isinstance(node, In):
            options = _in_options(node.options, self.parameters)
            if options is not node.options:
                self.cacheable = False
            texts = ", ".join(self.operand(option) for option in options)
            return f"{self.operand(node.operand)} IN ({texts})"
        if isinstance(node, IsMissing):
            function = "attribute_exists" if node.negated else "attribute_not_exists"
            return f"{function}({self.path(node.path)})"
        if isinstance(node, IsNull):
            # PartiQL: NULL and MISSING are both "null"; DynamoDB's PartiQL follows it.
            path = self.path(node.path)
            null = self.value(Literal({"S": "NULL"}))
            if node.negated:
                return f"(attribute_exists({path}) AND NOT attribute_type({path}, {null}))"
            return f"(attribute_not_exists({path}) OR attribute_type({path}, {null}))"
        return self.operand(node)  # a condition function: begins_with(...), contains(...)

    def finish(self, plan: Plan) -> Plan:
        """``plan`` with the placeholders used so far (values bound per call)."""
        if self.names:
            plan.request["ExpressionAttributeNames"] = {v: k for k, v in self.names.items()}
        plan.value_nodes = self.values
        plan.cacheable = self.cacheable
        return plan


_UNEXPECTED = "Statement wasn't well formed, can't be processed: Unexpected term"


def _in_options(options: tuple[Operand, ...], parameters: list[Any]) -> tuple[Operand, ...]:
    """``IN ?`` with a list parameter stands for that list's members."""
    if len(options) == 1 and isinstance(options[0], Param):
        value = _parameter(options[0], parameters)
        if isinstance(value, dict) and isinstance(value.get("L"), list):
            return tuple(Literal(member) for member in value["L"])
    return options


def _parameter(node: Param, parameters: list[Any]) -> Any:
    if node.index >= len(parameters):
        raise validation_error("Number of parameters in request and statement don't match.")
    return parameters[node.index]


def resolve(node: Value, parameters: list[Any]) -> Any:
    """The AttributeValue a value node stands for (checked later, where it is used)."""
    if isinstance(node, Literal):
        return node.value
    if isinstance(node, Param):
        return _parameter(node, parameters)
    if isinstance(node, MapValue):
        return {"M": {key: resolve(member, parameters) for key, member in node.members}}
    members = [resolve(member, parameters) for member in node.members]
    if not node.is_set:
        return {"L": members}
    kinds = {next(iter(member)) for member in members if isinstance(member, dict) and member}
    if len(kinds) != 1 or len(members) == 0 or next(iter(kinds)) not in ("S", "N", "B"):
        # Not captured from DynamoDB: a set literal must hold members of one scalar type.
        raise validation_error(
            "Statement wasn't well formed, can't be processed: "
            "A set must contain members of a single type: string, number or binary"
        )
    kind = kinds.pop()
    return {kind + "S": [member[kind] for member in members]}


def _conjuncts(node: Condition | None) -> list[Condition]:
    if node is None:
        return []
    if isinstance(node, And):
        return _conjuncts(node.left) + _conjuncts(node.right)
    return [node]


def _join(terms: list[Condition]) -> Condition | None:
    result: Condition | None = None
    for term in terms:
        result = term if result is None else And(result, term)
    return result


def _equality(term: Condition, name: str) -> Value | None:
    """The value of ``name = value`` (either way round), or None."""
    if isinstance(term, Compare) and term.op == "=":
        if term.left == Path((name,)) and isinstance(term.right, _VALUE_NODES):
            return term.right
        if term.right == Path((name,)) and isinstance(term.left, _VALUE_NODES):
            return term.left
    return None


def _range_term(term: Condition, name: str) -> bool:
    """Whether ``term`` can be a key condition on the sort key ``name``."""
    key = Path((name,))
    if isinstance(term, Compare) and term.op in _RANGE_OPERATORS:
        return term.left == key and isinstance(term.right, _VALUE_NODES)
    if isinstance(term, Between):
        return (
            term.operand == key
            and isinstance(term.low, _VALUE_NODES)
            and isinstance(term.high, _VALUE_NODES)
        )
    if isinstance(term, Call) and term.name == "begins_with" and len(term.args) == 2:
        return term.args[0] == key and isinstance(term.args[1], _VALUE_NODES)
    return False


def roots(node: object) -> set[str]:
    """The top-level attribute names a condition refers to."""
    if isinstance(node, Path):
        return {node.root}
    if isinstance(node, (And, Or)):
        return roots(node.left) | roots(node.right)
    if isinstance(node, Not):
        return roots(node.operand)
    if isinstance(node, Compare):
        return roots(node.left) | roots(node.right)
    if isinstance(node, Between):
        return roots(node.operand) | roots(node.low) | roots(node.high)
    if isinstance(node, In):
        found = roots(node.operand)
        for option in node.options:
            found |= roots(option)
        return found
    if isinstance(node, (IsMissing, IsNull)):
        return {node.path.root}
    if isinstance(node, Call):
        found = set()
        for arg in node.args:
            found |= roots(arg)
        return found
    return set()


def _key_names(table: TableDef) -> list[str]:
    names = [table.hash.name]
    if table.range is not None:
        names.append(table.range.name)
    return names


def split_key(table: TableDef, where: Condition | None) -> tuple[dict[str, Value], list[Condition]]:
    """The full primary key a write's WHERE fixes with ``=``, and its other terms.

    Raises:
        DynamoDBError: the WHERE does not fix every key attribute with ``=``.
    """
    terms = _conjuncts(where)
    key: dict[str, Value] = {}
    rest: list[Condition] = []
    for term in terms:
        for name in _key_names(table):
            if name not in key:
                value = _equality(term, name)
                if value is not None:
                    key[name] = value
                    break
        else:
            rest.append(term)
    if len(key) != len(_key_names(table)):
        raise validation_error(KEY_EQUALITY)
    return key, rest


def plan_statement(engine: LocalEngine, statement: Statement, parameters: list[Any]) -> Plan:
    """The engine request ``statement`` runs as (nothing is read or written here).

    Raises:
        DynamoDBError: an unknown table or index, a write without its full key,
            a bad RETURNING clause, too few parameters...
    """
    table = find_table(engine, statement.target.table)
    plans = _PLANS.get(engine)
    if plans is None:
        plans = _PLANS[engine] = {}
    cache_key = (id(statement), id(table))
    cached = plans.get(cache_key)
    if cached is not None and cached[0] is statement and cached[1] is table:
        return cached[2]
    plan = _plan(table, statement, parameters)
    if plan.cacheable:
        if len(plans) >= _MAX_PLANS:
            plans.clear()
        plans[cache_key] = (statement, table, plan)
    return plan


# Plans per engine (gone with it), by (statement, table) identity: a statement repeated
# with new parameters is only bound (Plan.bind), not planned again. Entries hold their
# statement and table, so an id is never reused while its entry lives.
_PLANS: WeakKeyDictionary[LocalEngine, dict[tuple[int, int], tuple[Statement, TableDef, Plan]]]
_PLANS = WeakKeyDictionary()
_MAX_PLANS = 4096


def _plan(table: TableDef, statement: Statement, parameters: list[Any]) -> Plan:
    if isinstance(statement, Select):
        return _plan_select(table, statement, parameters)
    if isinstance(statement, Exists):
        return _plan_exists(table, statement, parameters)
    if isinstance(statement, Insert):
        if statement.target.index is not None:
            # floci's recorded text (hectorvent/floci, DynamoDbPartiQLIntegrationTest).
            raise validation_error("FROM clause may only contain a single table name")
        return _plan_insert(table, statement, parameters)
    if statement.target.index is not None:
        raise validation_error(_ON_INDEX)
    if isinstance(statement, Update):
        return _plan_update(table, statement, parameters)
    return _plan_delete(table, statement, parameters)


def _plan_insert(table: TableDef, statement: Insert, parameters: list[Any]) -> Plan:
    request = {
        "TableName": table.name,
        "ConditionExpression": "attribute_not_exists(#n0)",
        "ExpressionAttributeNames": {"#n0": table.hash.name},
    }
    plan = Plan("PutItem", table.name, request, statement, item_node=statement.value)
    plan.bind(parameters)  # a VALUE that is not a tuple is refused now
    return plan


def _plan_update(table: TableDef, statement: Update, parameters: list[Any]) -> Plan:
    key_nodes, rest = split_key(table, statement.where)
    render = Renderer(parameters)
    sets: list[str] = []
    adds: list[str] = []
    deletes: list[str] = []
    for assign in statement.sets:
        target = render.path(assign.path)
        value = assign.value
        if isinstance(value, SetFunction) and value.name in ("set_add", "set_delete"):
            # DynamoDB's set_add/set_delete change the set in place: ADD / DELETE.
            if value.args[0] != assign.path or not isinstance(value.args[1], _VALUE_NODES):
                raise validation_error(_UNEXPECTED)
            clause = adds if value.name == "set_add" else deletes
            clause.append(f"{target} {render.value(value.args[1])}")
        elif isinstance(value, SetFunction):
            first, second = (render.operand(arg) for arg in value.args)
            sets.append(f"{target} = list_append({first}, {second})")
        elif isinstance(value, Arithmetic):
            left, right = render.operand(value.left), render.operand(value.right)
            sets.append(f"{target} = {left} {value.op} {right}")
        else:
            sets.append(f"{target} = {render.operand(value)}")
    clauses = []
    if sets:
        clauses.append("SET " + ", ".join(sets))
    if statement.removes:
        clauses.append("REMOVE " + ", ".join(render.path(path) for path in statement.removes))
    if adds:
        clauses.append("ADD " + ", ".join(adds))
    if deletes:
        clauses.append("DELETE " + ", ".join(deletes))
    # UPDATE changes an existing item only (a missing one fails the condition).
    condition = f"attribute_exists({render.name(table.hash.name)})"
    rest_condition = _join(rest)
    if rest_condition is not None:
        condition += f" AND ({render.condition(rest_condition)})"
    request = {
        "TableName": table.name,
        "UpdateExpression": " ".join(clauses),
        "ConditionExpression": condition,
    }
    plan = render.finish(Plan("UpdateItem", table.name, request, statement, key_nodes=key_nodes))
    if statement.returning is not None:
        plan.extra["ReturnValues"] = _RETURN_VALUES[statement.returning]
    return plan


def _plan_exists(table: TableDef, statement: Exists, parameters: list[Any]) -> Plan:
    """EXISTS(SELECT ...): the item must exist and meet the rest of the WHERE.

    Developer Guide, "PartiQL functions: EXISTS": valid in transactions only, where it
    is a ConditionCheck on one item named by its full key.
    """
    if statement.target.index is not None:
        raise validation_error(_ON_INDEX)
    key_nodes, rest = split_key(table, statement.select.where)
    render = Renderer(parameters)
    condition = f"attribute_exists({render.name(table.hash.name)})"
    rest_condition = _join(rest)
    if rest_condition is not None:
        condition += f" AND ({render.condition(rest_condition)})"
    request = {"TableName": table.name, "ConditionExpression": condition}
    plan = Plan("ConditionCheck", table.name, request, statement, key_nodes=key_nodes)
    return render.finish(plan)


def _plan_delete(table: TableDef, statement: Delete, parameters: list[Any]) -> Plan:
    if statement.returning is not None and statement.returning != "ALL OLD":
        # floci's recorded text (hectorvent/floci, DynamoDbPartiQLIntegrationTest).
        raise validation_error(
            f"Invalid returning clause: RETURNING {statement.returning} *. "
            "Only RETURNING ALL OLD * is allowed in DELETE statements."
        )
    key_nodes, rest = split_key(table, statement.where)
    render = Renderer(parameters)
    request: dict[str, Any] = {"TableName": table.name}
    rest_condition = _join(rest)
    if rest_condition is not None:
        # A DELETE of a key holding no item does nothing, whatever else the WHERE says.
        hash_name = render.name(table.hash.name)
        request["ConditionExpression"] = (
            f"attribute_not_exists({hash_name}) OR ({render.condition(rest_condition)})"
        )
    plan = render.finish(Plan("DeleteItem", table.name, request, statement, key_nodes=key_nodes))
    if statement.returning is not None:
        plan.extra["ReturnValues"] = "ALL_OLD"
    return plan


def _plan_select(table: TableDef, statement: Select, parameters: list[Any]) -> Plan:
    index_name = statement.target.index
    if index_name is None:
        hash_names: tuple[str, ...] = (table.hash.name,)
        range_names: tuple[str, ...] = (table.range.name,) if table.range is not None else ()
    else:
        index = table.index(index_name)
        if index is None:
            raise validation_error(f"The table does not have the specified index: {index_name}")
        hash_names, range_names = index.hash_names, index.range_names
    terms = _conjuncts(statement.where)
    hash_terms: list[Condition] = []
    for name in hash_names:
        found = next((term for term in terms if _equality(term, name) is not None), None)
        if found is None:
            break
        hash_terms.append(found)
    key_terms: list[Condition] = []
    partitions: tuple[Value, ...] | None = None
    if len(hash_terms) != len(hash_names) and len(hash_names) == 1:
        # PK IN [...] or PK = a OR PK = b: one Query per partition (Developer Guide,
        # "PartiQL select statements": neither is a full table scan).
        for term in terms:
            partitions = _alternatives(term, hash_names[0])
            if partitions is not None:
                hash_terms = [term]
                break
    if len(hash_terms) == len(hash_names):
        key_terms = list(hash_terms)
        rest = [term for term in terms if all(term is not used for used in key_terms)]
        if len(range_names) == 1:
            found = next((t for t in rest if _range_term(t, range_names[0])), None)
            if found is not None:
                key_terms.append(found)
                rest = [term for term in rest if term is not found]
    render = Renderer(parameters)
    request: dict[str, Any] = {"TableName": table.name}
    if index_name is not None:
        request["IndexName"] = index_name
    plan = Plan("Scan", table.name, request, statement)
    if key_terms and _one_item(table, index_name, key_terms, terms, statement):
        # The full primary key and nothing else: one item, read as GetItem reads it.
        plan.operation = "GetItem"
        plan.key_nodes = {
            name: _equality_value(term, name)
            for term, name in zip(key_terms, _key_names(table), strict=True)
        }
        project_select(statement, plan, render)
        return render.finish(plan)
    if key_terms:
        plan.operation = "Query"
        if partitions is not None:
            # The partition's value is bound per Query as :pk (see Plan.partitions).
            plan.partitions = partitions
            text = f"{render.name(hash_names[0])} = {PARTITION}"
            if len(key_terms) > 1:
                text += f" AND {render.condition(key_terms[1])}"
            request["KeyConditionExpression"] = text
        else:
            key_condition = _join(key_terms)
            assert key_condition is not None
            request["KeyConditionExpression"] = render.condition(key_condition)
        rest = [term for term in terms if all(term is not used for used in key_terms)]
        # Query refuses key attributes in its FilterExpression (SK > 1 AND SK < 5 leaves
        # one of them over): those terms filter the page after the read, as the filter
        # would have (a filter never changes what a page reads), so the SELECT stays a
        # Query. The page is then read whole and projected here.
        key_attributes = set(hash_names) | set(range_names)
        post = [term for term in rest if roots(term) & key_attributes]
        if post:
            rest = [term for term in rest if not roots(term) & key_attributes]
            post_render = Renderer(parameters)
            post_condition = _join(post)
            assert post_condition is not None
            text = post_render.condition(post_condition)
            post_plan = Plan("Filter", table.name, {"FilterExpression": text}, statement)
            plan.post_filter = post_render.finish(post_plan)
            plan.cacheable = post_plan.cacheable
    else:
        rest = terms
    filter_ = _join(rest)
    if filter_ is not None:
        request["FilterExpression"] = render.condition(filter_)
    if plan.post_filter is not None and statement.projection is not None:
        plan.projection = statement.projection  # projected after the post-filter
    else:
        project_select(statement, plan, render)
    _order(statement, plan, hash_names, range_names)
    cacheable = plan.cacheable
    render.finish(plan)
    plan.cacheable = plan.cacheable and cacheable
    return plan


PARTITION = ":pk"
"""The placeholder of the partition key's value in a Query per partition."""
_MAX_PARTITIONS = 100


def _alternatives(term: Condition, name: str) -> tuple[Value, ...] | None:
    """The values of ``name IN [a, b]`` or ``name = a OR name = b``, or None."""
    if isinstance(term, In):
        options = term.options
        if (
            term.operand != Path((name,))
            or not all(isinstance(option, _VALUE_NODES) for option in options)
            or (len(options) == 1 and isinstance(options[0], Param))  # IN ?: a list
            or len(options) > _MAX_PARTITIONS
        ):
            return None
        return tuple(option for option in options if isinstance(option, _VALUE_NODES))
    if not isinstance(term, Or):
        return None
    values: list[Value] = []
    pending: list[Condition] = [term]
    while pending:
        node = pending.pop()
        if isinstance(node, Or):
            pending += [node.right, node.left]
            continue
        value = _equality(node, name)
        if value is None:
            return None
        values.append(value)
    return tuple(values)


def _equality_value(term: Condition, name: str) -> Value:
    value = _equality(term, name)
    assert value is not None
    return value


def _one_item(
    table: TableDef,
    index_name: str | None,
    key_terms: list[Condition],
    terms: list[Condition],
    statement: Select,
) -> bool:
    """Whether a SELECT names one item of the table by its full key, and nothing more."""
    names = _key_names(table)
    return (
        index_name is None
        and not statement.order_by
        and len(terms) == len(key_terms) == len(names)
        and all(_equality(t, n) is not None for t, n in zip(key_terms, names, strict=True))
    )


def project_select(statement: Select, plan: Plan, render: Renderer) -> None:
    """The SELECT list: a ProjectionExpression of top-level names, else reshaped after.

    A nested path (``m.x[1]``) answers under its own name (:func:`label`), not
    nested as a ProjectionExpression would answer it, so such a SELECT reads whole
    items and :func:`project` picks the paths from them.
    """
    paths = statement.projection
    if paths is None:
        return
    if any(len(path.parts) > 1 for path in paths):
        plan.projection = paths
    else:
        plan.request["ProjectionExpression"] = ", ".join(render.path(p) for p in paths)


def _order(
    statement: Select, plan: Plan, hash_names: tuple[str, ...], range_names: tuple[str, ...]
) -> None:
    """ORDER BY: on key attributes of a Query only (descending: a backward Query)."""
    if not statement.order_by:
        return
    if plan.operation != "Query":
        # The texts DynamoDB Local gives (its PartiQL translator); not captured from DynamoDB.
        if statement.where is None:
            raise validation_error(
                "Must have WHERE clause in the statement when using ORDER BY clause."
            )
        raise validation_error(
            "Must have at least one non-optional hash key condition in WHERE clause when "
            "using ORDER BY clause."
        )
    for path, descending in statement.order_by:
        if len(path.parts) != 1 or path.root not in hash_names + range_names:
            raise validation_error(
                f"Variable reference [{path.root}] must refer to hash or range key "
                "when using ORDER BY clause."
            )
        if path.root in range_names and descending:
            plan.request["ScanIndexForward"] = False


def label(path: Path) -> str:
    """The attribute name a projected path answers under: its last name and any indexes.

    ``SELECT profile.sub, tags[1]`` answers ``{"sub": ..., "tags[1]": ...}`` (the form
    hectorvent/floci records for DynamoDB; not in the reference pages).
    """
    text = ""
    for part in reversed(path.parts):
        if isinstance(part, int):
            text = f"[{part}]" + text
        else:
            return part + text
    return text


def _value_at(item: dict[str, Any], path: Path) -> Any:
    value: Any = {"M": item}
    for part in path.parts:
        if isinstance(part, int):
            members = value.get("L") if isinstance(value, dict) else None
            if not isinstance(members, list) or part >= len(members):
                return None
            value = members[part]
        else:
            members = value.get("M") if isinstance(value, dict) else None
            if not isinstance(members, dict) or part not in members:
                return None
            value = members[part]
    return value


def project(items: list[dict[str, Any]], paths: tuple[Path, ...]) -> list[dict[str, Any]]:
    """Reshape items read with a nested projection: each path under its :func:`label`."""
    result = []
    for item in items:
        shaped = {}
        for path in paths:
            value = _value_at(item, path)
            if value is not None:
                shaped[label(path)] = value
        result.append(shaped)
    return result


def duplicate_item() -> DynamoDBError:
    """INSERT over an existing item (Developer Guide, "PartiQL insert statements")."""
    return DynamoDBError("DuplicateItemException", "Duplicate primary key exists in table")
