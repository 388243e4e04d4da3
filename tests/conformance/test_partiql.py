"""PartiQL: ExecuteStatement (SELECT, INSERT, UPDATE, DELETE), parameters, paging, errors.

Developer Guide, "PartiQL - a SQL-compatible query language for Amazon DynamoDB" and
its statement pages (ql-reference.select/insert/update/delete). Texts not on those
pages are the forms other emulators recorded against DynamoDB (hectorvent/floci's
DynamoDbPartiQLIntegrationTest, paritysuite's grammar-messages suite); each test says.
Every test runs through boto3 routing, over HTTP and on a durable engine (the ``db``
fixture), and on moto where moto agrees.
"""

from __future__ import annotations

from typing import Any

import pytest
from ddbtest import Backend, raises

MOTO_DIFFERENCES = {
    "partiql": "moto 5's PartiQL (py-partiql-parser) returns no rows for a SELECT on a "
    "number sort key table, fails with internal errors (AttributeError, AssertionError, "
    "TypeError) on parameters in INSERT VALUE, BETWEEN, multi-clause UPDATE and DELETE "
    "with parameters, raises KeyError for a missing table and returns no ConsumedCapacity.",
    "duplicate-insert": "moto answers an INSERT over an existing item with "
    "ValidationException 'Duplicate primary key exists in table'; DynamoDB raises "
    "DuplicateItemException.",
    "write-key": "moto updates or deletes every item a WHERE matches; DynamoDB refuses a "
    "write whose WHERE does not fix every key attribute with '='.",
    "update-missing": "moto creates nothing but answers success for an UPDATE of a missing "
    "item; DynamoDB fails its condition (ConditionalCheckFailedException).",
    "returning": "moto ignores RETURNING; DynamoDB answers the old or new item in Items.",
    "grammar": "moto's PartiQL parser (py-partiql-parser) accepts or refuses other statements "
    "than DynamoDB's, with other texts.",
    "paging": "moto ignores Limit and NextToken on ExecuteStatement.",
    "order-by": "moto ignores ORDER BY ... DESC.",
    "functions": "moto's WHERE lacks some of DynamoDB's functions and predicates (size, "
    "attribute_type, IS MISSING, BETWEEN on paths, nested projections).",
    "set-functions": "moto does not apply set_add/set_delete/list_append in UPDATE.",
    "delete-predicate": "moto does not check the WHERE's other conditions on DELETE/UPDATE.",
    "index": 'moto does not read through a "table"."index" target.',
    "params": "moto does not check the number of parameters the same way.",
}

# moto cannot run this module's basic cases (see "partiql"); the tests marked one by
# one say where DynamoDB's behaviour is one moto has no notion of.
pytestmark = pytest.mark.moto_differs("partiql")

NOT_WELL_FORMED = "Statement wasn't well formed, can't be processed: "
LEFTOVER = NOT_WELL_FORMED + "Unexpected token after expression"
KEY_EQUALITY = "Where clause does not contain a mandatory equality on all key attributes"


def _items(ddb: Any, statement: str, *parameters: dict[str, Any], **extra: Any) -> list[Any]:
    request: dict[str, Any] = {"Statement": statement, **extra}
    if parameters:
        request["Parameters"] = list(parameters)
    items: list[Any] = ddb.execute_statement(**request)["Items"]
    return items


@pytest.fixture
def table(db: Backend) -> str:
    """A table keyed on PK (S) and SK (N), holding a/1..a/4 and b/1."""
    name = db.create_table("tbl", pk=("PK", "S"), sk=("SK", "N"))
    for pk, sk in (("a", 1), ("a", 2), ("a", 3), ("a", 4), ("b", 1)):
        db.put(
            {
                "PK": {"S": pk},
                "SK": {"N": str(sk)},
                "n": {"N": str(sk * 10)},
                "name": {"S": f"{pk}-{sk}"},
                "m": {"M": {"x": {"L": [{"N": "1"}, {"S": "two"}]}}},
            }
        )
    return name


def _keys(items: list[Any]) -> list[tuple[str, str]]:
    return [(item["PK"]["S"], item["SK"]["N"]) for item in items]


# ---------------------------------------------------------------------------- SELECT


def test_select_on_the_partition_key_reads_the_partition_in_key_order(ddb: Any, table: str) -> None:
    items = _items(ddb, 'SELECT * FROM "tbl" WHERE PK = ?', {"S": "a"})
    assert _keys(items) == [("a", "1"), ("a", "2"), ("a", "3"), ("a", "4")]
    assert items[0]["name"] == {"S": "a-1"}


def test_select_with_a_sort_key_range_and_a_filter(ddb: Any, table: str) -> None:
    items = _items(ddb, "SELECT * FROM tbl WHERE PK = 'a' AND SK >= 2 AND n <> 30")
    assert _keys(items) == [("a", "2"), ("a", "4")]
    items = _items(
        ddb, "SELECT * FROM tbl WHERE PK = 'a' AND SK BETWEEN ? AND ?", {"N": "2"}, {"N": "3"}
    )
    assert _keys(items) == [("a", "2"), ("a", "3")]


@pytest.mark.moto_differs("order-by")
def test_select_with_two_sort_key_conditions_is_still_a_query(ddb: Any, table: str) -> None:
    # ORDER BY is refused on a Scan: this SELECT answers in key order, so it ran as a
    # Query (the second sort-key term filters the page, as a FilterExpression would).
    statement = "SELECT n FROM tbl WHERE PK = 'a' AND SK > 1 AND SK < 4 ORDER BY SK DESC"
    assert _items(ddb, statement) == [{"n": {"N": "30"}}, {"n": {"N": "20"}}]
    page = ddb.execute_statement(
        Statement="SELECT * FROM tbl WHERE PK = 'a' AND SK >= 1 AND SK <> 2", Limit=2
    )
    assert _keys(page["Items"]) == [("a", "1")]  # Limit counts the items read
    assert "NextToken" in page


@pytest.mark.moto_differs("paging")
@pytest.mark.parametrize("where", ["PK IN ['b', 'a', 'b']", "(PK = 'b' OR PK = 'a')"])
def test_select_on_several_partitions_queries_each(ddb: Any, table: str, where: str) -> None:
    # Developer Guide, "PartiQL select statements": IN (or OR) on the partition key is
    # not a full table scan. Each partition is a Query: two Queries of small items cost
    # one unit each (strongly consistent); a Scan of the table would cost more.
    response = ddb.execute_statement(
        Statement=f"SELECT * FROM tbl WHERE {where} AND SK < 3",
        ConsistentRead=True,
        ReturnConsumedCapacity="TOTAL",
    )
    assert _keys(response["Items"]) == [("b", "1"), ("a", "1"), ("a", "2")]
    assert response["ConsumedCapacity"]["CapacityUnits"] == 2.0
    seen: list[tuple[str, str]] = []
    request: dict[str, Any] = {"Statement": f"SELECT * FROM tbl WHERE {where}", "Limit": 2}
    for _ in range(6):
        page = ddb.execute_statement(**request)
        assert len(page["Items"]) <= 2
        seen.extend(_keys(page["Items"]))
        if "NextToken" not in page:
            break
        request["NextToken"] = page["NextToken"]
    assert seen == [("b", "1"), ("a", "1"), ("a", "2"), ("a", "3"), ("a", "4")]


def test_select_without_the_partition_key_scans(ddb: Any, table: str) -> None:
    items = _items(ddb, "SELECT * FROM tbl WHERE n >= 30 OR name = 'b-1'")
    assert sorted(_keys(items)) == [("a", "3"), ("a", "4"), ("b", "1")]
    assert len(_items(ddb, "SELECT * FROM tbl")) == 5


def test_a_repeated_statement_binds_new_parameters(db: Backend, ddb: Any, table: str) -> None:
    insert = "INSERT INTO tbl VALUE {'PK': ?, 'SK': ?, 'n': ?}"
    for pk, n in (("p1", "1"), ("p2", "2")):
        ddb.execute_statement(Statement=insert, Parameters=[{"S": pk}, {"N": "1"}, {"N": n}])
    select = "SELECT n FROM tbl WHERE PK = ? AND SK = ?"
    for pk, n in (("p1", "1"), ("p2", "2")):
        assert _items(ddb, select, {"S": pk}, {"N": "1"}) == [{"n": {"N": n}}]
    update = "UPDATE tbl SET n = ? WHERE PK = ? AND SK = 1"
    ddb.execute_statement(Statement=update, Parameters=[{"N": "7"}, {"S": "p1"}])
    ddb.execute_statement(Statement=update, Parameters=[{"N": "8"}, {"S": "p2"}])
    assert _items(ddb, select, {"S": "p2"}, {"N": "1"}) == [{"n": {"N": "8"}}]
    assert _items(ddb, select, {"S": "p1"}, {"N": "1"}) == [{"n": {"N": "7"}}]


def test_select_projects_top_level_names(ddb: Any, table: str) -> None:
    items = _items(ddb, "SELECT SK, n FROM tbl WHERE PK = 'b'")
    assert items == [{"SK": {"N": "1"}, "n": {"N": "10"}}]


@pytest.mark.moto_differs("functions")
def test_select_projects_nested_paths_under_their_own_names(ddb: Any, table: str) -> None:
    # floci's recorded form: a document path answers under its last name (and indexes).
    items = _items(ddb, "SELECT SK, m.x[1] FROM tbl WHERE PK = 'b'")
    assert items == [{"SK": {"N": "1"}, "x[1]": {"S": "two"}}]


@pytest.mark.moto_differs("functions")
def test_select_where_functions_and_predicates(ddb: Any, table: str) -> None:
    def keys(where: str) -> list[tuple[str, str]]:
        return sorted(_keys(_items(ddb, f"SELECT * FROM tbl WHERE {where}")))

    assert keys("PK = 'a' AND begins_with(name, 'a-') AND n IN [10, 40]") == [
        ("a", "1"),
        ("a", "4"),
    ]
    assert keys("contains(name, 'b')") == [("b", "1")]
    assert keys("PK = 'a' AND attribute_type(n, 'N') AND size(name) = 3 AND SK < 2") == [("a", "1")]
    assert keys("PK = 'a' AND missing_attr IS MISSING AND n IS NOT MISSING AND SK = 3") == [
        ("a", "3")
    ]
    assert keys("NOT (PK = 'a') AND \"name\" IS NOT MISSING") == [("b", "1")]
    assert keys("PK = 'a' AND n BETWEEN 15 AND 35") == [("a", "2"), ("a", "3")]


@pytest.mark.moto_differs("order-by")
def test_select_order_by_the_sort_key_descending(ddb: Any, table: str) -> None:
    items = _items(ddb, "SELECT * FROM tbl WHERE PK = 'a' ORDER BY SK DESC")
    assert _keys(items) == [("a", "4"), ("a", "3"), ("a", "2"), ("a", "1")]


@pytest.mark.moto_differs("order-by")
def test_order_by_needs_a_partition_key_condition(ddb: Any, table: str) -> None:
    # DynamoDB Local's texts (not captured from DynamoDB).
    with raises(
        "ValidationException", "Must have WHERE clause in the statement when using ORDER BY clause."
    ):
        ddb.execute_statement(Statement="SELECT * FROM tbl ORDER BY SK")


@pytest.mark.moto_differs("paging")
def test_limit_and_next_token_page_through_a_select(ddb: Any, table: str) -> None:
    seen: list[tuple[str, str]] = []
    request: dict[str, Any] = {"Statement": "SELECT * FROM tbl WHERE PK = 'a'", "Limit": 3}
    for _ in range(5):
        page = ddb.execute_statement(**request)
        seen.extend(_keys(page["Items"]))
        if "NextToken" not in page:
            break
        request["NextToken"] = page["NextToken"]
    assert seen == [("a", "1"), ("a", "2"), ("a", "3"), ("a", "4")]


@pytest.mark.moto_differs("index")
def test_select_from_an_index(db: Backend, ddb: Any) -> None:
    db.create_table(
        "tbl",
        pk=("PK", "S"),
        sk=None,
        AttributeDefinitions=[
            {"AttributeName": "PK", "AttributeType": "S"},
            {"AttributeName": "g", "AttributeType": "S"},
        ],
        GlobalSecondaryIndexes=[
            {
                "IndexName": "byG",
                "KeySchema": [{"AttributeName": "g", "KeyType": "HASH"}],
                "Projection": {"ProjectionType": "ALL"},
            }
        ],
    )
    db.put({"PK": {"S": "1"}, "g": {"S": "x"}}, {"PK": {"S": "2"}, "g": {"S": "y"}})
    items = _items(ddb, 'SELECT PK FROM "tbl"."byG" WHERE g = ?', {"S": "x"})
    assert items == [{"PK": {"S": "1"}}]


def test_select_consumed_capacity(ddb: Any, table: str) -> None:
    response = ddb.execute_statement(
        Statement="SELECT * FROM tbl WHERE PK = 'b'",
        ReturnConsumedCapacity="TOTAL",
        ConsistentRead=True,
    )
    assert response["ConsumedCapacity"]["TableName"] == "tbl"
    assert response["ConsumedCapacity"]["CapacityUnits"] == 1.0


# ---------------------------------------------------------------------------- INSERT


def test_insert_with_parameters_and_literals(db: Backend, ddb: Any, table: str) -> None:
    ddb.execute_statement(
        Statement="INSERT INTO tbl VALUE {'PK': ?, 'SK': 9, 'tags': <<'x', 'y'>>, "
        "'doc': {'on': TRUE, 'none': NULL, 'l': [1, 'two']}}",
        Parameters=[{"S": "new"}],
    )
    item = db.get({"PK": {"S": "new"}, "SK": {"N": "9"}})
    assert item is not None
    assert sorted(item["tags"]["SS"]) == ["x", "y"]
    assert item["doc"] == {
        "M": {"on": {"BOOL": True}, "none": {"NULL": True}, "l": {"L": [{"N": "1"}, {"S": "two"}]}}
    }


@pytest.mark.moto_differs("duplicate-insert")
def test_insert_over_an_existing_item_is_refused(db: Backend, ddb: Any, table: str) -> None:
    # Developer Guide, "PartiQL insert statements": INSERT never replaces an item.
    with raises("DuplicateItemException", "Duplicate primary key exists in table"):
        ddb.execute_statement(Statement="INSERT INTO tbl VALUE {'PK': 'a', 'SK': 1}")
    item = db.get({"PK": {"S": "a"}, "SK": {"N": "1"}})
    assert item is not None and item["name"] == {"S": "a-1"}


def test_insert_into_a_missing_table(ddb: Any) -> None:
    with raises("ResourceNotFoundException", "Requested resource not found"):
        ddb.execute_statement(Statement="INSERT INTO nowhere VALUE {'PK': 'a'}")


# ---------------------------------------------------------------------------- UPDATE


def test_update_sets_and_removes(db: Backend, ddb: Any, table: str) -> None:
    ddb.execute_statement(
        Statement="UPDATE tbl SET n = n + ?, extra = 'e' REMOVE name WHERE PK = ? AND SK = 2",
        Parameters=[{"N": "5"}, {"S": "a"}],
    )
    item = db.get({"PK": {"S": "a"}, "SK": {"N": "2"}})
    assert item is not None
    assert item["n"] == {"N": "25"} and item["extra"] == {"S": "e"} and "name" not in item


@pytest.mark.moto_differs("set-functions")
def test_update_with_list_and_set_functions(db: Backend, ddb: Any, table: str) -> None:
    db.put({"PK": {"S": "s"}, "SK": {"N": "1"}, "ss": {"SS": ["a", "b"]}, "l": {"L": []}})
    ddb.execute_statement(
        Statement="UPDATE tbl SET ss = set_add(ss, <<'c'>>) SET l = list_append(l, [1]) "
        "WHERE PK = 's' AND SK = 1"
    )
    ddb.execute_statement(
        Statement="UPDATE tbl SET ss = set_delete(ss, <<'a'>>) WHERE PK = 's' AND SK = 1"
    )
    item = db.get({"PK": {"S": "s"}, "SK": {"N": "1"}})
    assert item is not None
    assert sorted(item["ss"]["SS"]) == ["b", "c"] and item["l"] == {"L": [{"N": "1"}]}


@pytest.mark.moto_differs("returning")
@pytest.mark.parametrize(
    ("returning", "expected"),
    [
        ("ALL OLD", {"n": {"N": "10"}, "name": {"S": "b-1"}}),
        ("MODIFIED OLD", {"n": {"N": "10"}}),
        ("ALL NEW", {"n": {"N": "11"}, "name": {"S": "b-1"}}),
        ("MODIFIED NEW", {"n": {"N": "11"}}),
    ],
)
def test_update_returning(ddb: Any, table: str, returning: str, expected: dict[str, Any]) -> None:
    items = _items(
        ddb, f"UPDATE tbl SET n = n + 1 WHERE PK = 'b' AND SK = 1 RETURNING {returning} *"
    )
    assert len(items) == 1
    for name, value in expected.items():
        assert items[0][name] == value
    if returning.startswith("MODIFIED"):
        assert set(items[0]) == {"n"}


@pytest.mark.moto_differs("update-missing")
def test_update_of_a_missing_item_fails_its_condition(db: Backend, ddb: Any, table: str) -> None:
    with raises("ConditionalCheckFailedException", "The conditional request failed"):
        ddb.execute_statement(Statement="UPDATE tbl SET n = 1 WHERE PK = 'zz' AND SK = 1")
    assert db.get({"PK": {"S": "zz"}, "SK": {"N": "1"}}) is None


@pytest.mark.moto_differs("delete-predicate")
def test_update_checks_the_rest_of_the_where(db: Backend, ddb: Any, table: str) -> None:
    with raises("ConditionalCheckFailedException", "The conditional request failed"):
        ddb.execute_statement(Statement="UPDATE tbl SET n = 1 WHERE PK = 'b' AND SK = 1 AND n > 99")
    item = db.get({"PK": {"S": "b"}, "SK": {"N": "1"}})
    assert item is not None and item["n"] == {"N": "10"}


@pytest.mark.moto_differs("write-key")
@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE tbl SET n = 1 WHERE PK = 'a'",
        "UPDATE tbl SET n = 1 WHERE PK = 'a' AND SK > 1",
        "UPDATE tbl SET n = 1 WHERE name = 'a-1'",
        "DELETE FROM tbl WHERE PK = 'a' OR SK = 1",
        "DELETE FROM tbl WHERE PK = 'a'",
    ],
)
def test_writes_need_an_equality_on_every_key_attribute(
    db: Backend, ddb: Any, table: str, statement: str
) -> None:
    with raises("ValidationException", KEY_EQUALITY):
        ddb.execute_statement(Statement=statement)
    assert len(db.scan_all()) == 5


# ---------------------------------------------------------------------------- DELETE


def test_delete_by_key(db: Backend, ddb: Any, table: str) -> None:
    ddb.execute_statement(
        Statement="DELETE FROM tbl WHERE PK = ? AND SK = ?", Parameters=[{"S": "a"}, {"N": "1"}]
    )
    assert db.get({"PK": {"S": "a"}, "SK": {"N": "1"}}) is None
    ddb.execute_statement(Statement="DELETE FROM tbl WHERE PK = 'a' AND SK = 1")  # a no-op


@pytest.mark.moto_differs("delete-predicate")
def test_delete_with_a_false_predicate_keeps_the_item(db: Backend, ddb: Any, table: str) -> None:
    # floci's recorded behaviour: a false predicate fails, a missing item is a no-op.
    with raises("ConditionalCheckFailedException", "The conditional request failed"):
        ddb.execute_statement(Statement="DELETE FROM tbl WHERE PK = 'a' AND SK = 1 AND n = 0")
    assert db.get({"PK": {"S": "a"}, "SK": {"N": "1"}}) is not None
    ddb.execute_statement(Statement="DELETE FROM tbl WHERE PK = 'zz' AND SK = 1 AND n = 0")


@pytest.mark.moto_differs("returning")
def test_delete_returning_all_old(ddb: Any, table: str) -> None:
    items = _items(ddb, "DELETE FROM tbl WHERE PK = 'b' AND SK = 1 RETURNING ALL OLD *")
    assert items[0]["name"] == {"S": "b-1"}
    # floci's recorded text.
    with raises(
        "ValidationException",
        "Invalid returning clause: RETURNING ALL NEW *. Only RETURNING ALL OLD * is allowed "
        "in DELETE statements.",
    ):
        ddb.execute_statement(
            Statement="DELETE FROM tbl WHERE PK = 'a' AND SK = 1 RETURNING ALL NEW *"
        )


# ---------------------------------------------------------------------------- errors


@pytest.mark.moto_differs("grammar")
@pytest.mark.parametrize(
    ("statement", "message"),
    [
        ("SLECT * FROM tbl", NOT_WELL_FORMED + "Expected data manipulation"),
        (
            "SELECT * FROM tbl WHERE PK = 'a' foo",
            NOT_WELL_FORMED + "Unexpected token after expression",
        ),
        ("SELECT * FROM tbl WHERE", NOT_WELL_FORMED + "Unexpected term"),
        (
            "SELECT * FROM tbl WHERE PK = 'a' AND",
            NOT_WELL_FORMED + "Missing right-hand side expression of infix operator",
        ),
        ("SELECT * FROM tbl t WHERE PK = 'a'", "Aliasing is not supported"),
        ("UPDATE tbl AS t SET n = 1 WHERE PK = 'a' AND SK = 1", "Aliasing is not supported"),
        ("INSERT INTO tbl t VALUE {'PK': 'x', 'SK': 1}", LEFTOVER),
        ("DELETE FROM tbl WHERE PK = 'a' AND SK = 1 ORDER BY SK", LEFTOVER),
        ("SELECT * FROM tbl ORDER BY SK WHERE PK = 'a'", LEFTOVER),
        ("SELECT * FROM tbl WHERE PK = 'a')", LEFTOVER),
        ("SELECT * FROM tbl WHERE PK = 1 e5", LEFTOVER),
        ("SELECT * FROM tbl WHERE PK = 'a' # note", NOT_WELL_FORMED),
        ("SELECT * FROM tbl WHERE PK = 'a' /* note", NOT_WELL_FORMED),
        ("SELECT * FROM tbl WHERE NOT", NOT_WELL_FORMED + "Unexpected term"),
        ("SELECT * FROM tbl WHERE (", NOT_WELL_FORMED + "Unexpected term"),
        ("SELECT * FROM tbl WHERE;", NOT_WELL_FORMED + "Unexpected term"),
        ("SELECT * FROM", NOT_WELL_FORMED + "Unexpected term"),
        ("SELECT * FROM tbl WHERE ORDER BY SK", NOT_WELL_FORMED + "Unexpected keyword"),
        ("SELECT * FROM tbl WHERE IS NULL", NOT_WELL_FORMED + "Unexpected operator"),
        ("SELECT * FROM tbl WHERE PK = LIKE", NOT_WELL_FORMED + "Unexpected operator"),
        ("SELECT * FROM tbl WHERE PK = 'a' AND x IS FOO", NOT_WELL_FORMED + "Expected type name"),
        (
            "SELECT * FROM tbl WHERE PK = 'a' OR",
            NOT_WELL_FORMED + "Missing right-hand side expression of infix operator",
        ),
        ("DELETE FROM", NOT_WELL_FORMED + "Expected identifier for simple path"),
        ("SELECT * FROM \"\" WHERE PK = 'x'", "Path component cannot be an empty string"),
        (
            'SELECT * FROM "tbl"."i"."j" WHERE PK = \'x\'',
            "A path may contain at most 2 components in the FROM clause",
        ),
        (
            "INSERT INTO tbl.byG VALUE {'PK': 'x'}",
            "FROM clause may only contain a single table name",
        ),
        ("SELECT * FROM tbl WHERE PK = 'a' AND n = 1e2147483648", NOT_WELL_FORMED),
        (
            "INSERT INTO tbl VALUE {'PK': 'x', 'SK': 1, 'm': {'x': 1e126}}",
            "Number overflow. Attempting to store a number with magnitude larger than "
            "supported range under root.x",
        ),
        (
            "UPDATE tbl SET l = [1, 1e-131] WHERE PK = 'a' AND SK = 1",
            "Number underflow. Attempting to store a number with magnitude smaller than "
            "supported range under root[1]",
        ),
        ("DELETE FROM WHERE PK = 'a'", NOT_WELL_FORMED + "Expected identifier for simple path"),
        (
            "UPDATE tbl.byG SET n = 1 WHERE PK = 'a' AND SK = 1",
            "This operation is not supported on an index",
        ),
    ],
)
def test_refused_statements(ddb: Any, table: str, statement: str, message: str) -> None:
    # The texts paritysuite and floci recorded against DynamoDB.
    with raises("ValidationException", message):
        ddb.execute_statement(Statement=statement)


@pytest.mark.moto_differs("params")
def test_too_few_parameters(ddb: Any, table: str) -> None:
    with raises(
        "ValidationException", "Number of parameters in request and statement don't match."
    ):
        ddb.execute_statement(
            Statement="SELECT * FROM tbl WHERE PK = ? AND SK = ?", Parameters=[{"S": "a"}]
        )


def test_select_from_a_missing_table(ddb: Any) -> None:
    with raises("ResourceNotFoundException", "Requested resource not found"):
        ddb.execute_statement(Statement="SELECT * FROM nowhere WHERE PK = 'a'")


@pytest.mark.parametrize(
    "where",
    ["(" * 500 + "PK = 'a'" + ")" * 500, "NOT " * 500 + "PK = 'a'"],
    ids=["parentheses", "nots"],
)
def test_a_statement_nested_too_deeply_is_refused(ddb: Any, table: str, where: str) -> None:
    # The limit and its text are the engine's (DynamoDB documents neither); what matters
    # is a ValidationException, not a crash of the recursive parser.
    with raises("ValidationException", NOT_WELL_FORMED + "Expression nesting is too deep"):
        ddb.execute_statement(Statement=f"SELECT * FROM tbl WHERE {where}")
