"""PartiQL BatchExecuteStatement and ExecuteTransaction.

Developer Guide, "Running batch operations with PartiQL for DynamoDB" (up to 25
statements, each succeeding or failing on its own: a failure is that statement's
``Error`` with a Code and a Message) and "Performing transactions with PartiQL for
DynamoDB" (up to 100 statements, all reads or all writes, applied all or none,
ClientRequestToken idempotency, CancellationReasons). The short error codes
(``DuplicateItem``, ``ConditionalCheckFailed``, ``ValidationError``) and the
"Validation failed in TransactStatements[i]" form are the ones hectorvent/floci and
paritysuite recorded against DynamoDB.
"""

from __future__ import annotations

from typing import Any

import pytest
from ddbtest import Backend, raises

MOTO_DIFFERENCES = {
    "partiql": "moto 5's PartiQL (py-partiql-parser) cannot run these statements on a table "
    "with a number sort key (internal AttributeError/AssertionError, or no rows), and "
    "reports batch errors and transaction cancellations in other shapes.",
}
pytestmark = pytest.mark.moto_differs("partiql")

NOT_WELL_FORMED = "Statement wasn't well formed, can't be processed: "


@pytest.fixture
def table(db: Backend) -> str:
    name = db.create_table("tbl", pk=("PK", "S"), sk=("SK", "N"))
    db.put(
        {"PK": {"S": "a"}, "SK": {"N": "1"}, "n": {"N": "1"}},
        {"PK": {"S": "a"}, "SK": {"N": "2"}, "n": {"N": "2"}},
    )
    return name


def _batch(ddb: Any, *statements: str | tuple[str, list[Any]]) -> list[dict[str, Any]]:
    entries = []
    for statement in statements:
        if isinstance(statement, tuple):
            entries.append({"Statement": statement[0], "Parameters": statement[1]})
        else:
            entries.append({"Statement": statement})
    responses: list[dict[str, Any]] = ddb.batch_execute_statement(Statements=entries)["Responses"]
    return responses


def _transact(ddb: Any, *statements: str, **extra: Any) -> dict[str, Any]:
    response: dict[str, Any] = ddb.execute_transaction(
        TransactStatements=[{"Statement": s} for s in statements], **extra
    )
    return response


# -------------------------------------------------------------------------- batches


def test_batch_reads_items_by_key(ddb: Any, table: str) -> None:
    responses = _batch(
        ddb,
        ("SELECT * FROM tbl WHERE PK = ? AND SK = ?", [{"S": "a"}, {"N": "1"}]),
        "SELECT n FROM tbl WHERE PK = 'a' AND SK = 2",
        "SELECT * FROM tbl WHERE PK = 'zz' AND SK = 1",
    )
    assert responses[0]["TableName"] == "tbl"
    assert responses[0]["Item"]["n"] == {"N": "1"}
    assert responses[1]["Item"] == {"n": {"N": "2"}}
    assert "Item" not in responses[2] and "Error" not in responses[2]


def test_batch_writes_fail_one_by_one(db: Backend, ddb: Any, table: str) -> None:
    responses = _batch(
        ddb,
        "SLECT * FROM tbl WHERE PK = 'a'",
        "INSERT INTO tbl VALUE {'PK': 'a', 'SK': 1}",
        "UPDATE tbl SET n = 5 WHERE PK = 'a' AND SK = 2 AND n = 99",
        "INSERT INTO tbl VALUE {'PK': 'b', 'SK': 1}",
        "UPDATE tbl SET n = 7 WHERE PK = 'a' AND SK = 1",
    )
    assert responses[0]["Error"] == {
        "Code": "ValidationError",
        "Message": NOT_WELL_FORMED + "Expected data manipulation",
    }
    assert "TableName" not in responses[0]
    assert responses[1]["Error"]["Code"] == "DuplicateItem"
    assert responses[1]["Error"]["Message"] == "Duplicate primary key exists in table"
    assert responses[1]["TableName"] == "tbl"
    assert responses[2]["Error"]["Code"] == "ConditionalCheckFailed"
    assert "Error" not in responses[3] and "Error" not in responses[4]
    assert db.get({"PK": {"S": "b"}, "SK": {"N": "1"}}) is not None
    item = db.get({"PK": {"S": "a"}, "SK": {"N": "1"}})
    assert item is not None and item["n"] == {"N": "7"}


def test_batch_select_must_name_one_item(ddb: Any, table: str) -> None:
    # Not captured from DynamoDB: the form other emulators give this refusal.
    responses = _batch(ddb, "SELECT * FROM tbl WHERE PK = 'a'")
    assert responses[0]["Error"]["Code"] == "ValidationError"


def test_batch_is_all_reads_or_all_writes(db: Backend, ddb: Any, table: str) -> None:
    # API Reference, BatchExecuteStatement; the text is the page's (not captured).
    with raises(
        "ValidationException",
        "The entire batch must consist of either read statements or write statements",
    ):
        _batch(
            ddb,
            "SELECT * FROM tbl WHERE PK = 'a' AND SK = 1",
            "INSERT INTO tbl VALUE {'PK': 'c', 'SK': 1}",
        )
    assert db.get({"PK": {"S": "c"}, "SK": {"N": "1"}}) is None


def test_batch_takes_at_most_25_statements(ddb: Any, table: str) -> None:
    statements = [{"Statement": "SELECT * FROM tbl WHERE PK = 'a' AND SK = 1"}] * 26
    with raises(
        "ValidationException",
        "1 validation error detected: Value at 'statements' failed to satisfy constraint: "
        "Member must have length less than or equal to 25",
    ):
        ddb.batch_execute_statement(Statements=statements)


# --------------------------------------------------------------------- transactions


def test_transaction_writes_all(db: Backend, ddb: Any, table: str) -> None:
    _transact(
        ddb,
        "INSERT INTO tbl VALUE {'PK': 'b', 'SK': 1}",
        "UPDATE tbl SET n = n + 10 WHERE PK = 'a' AND SK = 1",
        "DELETE FROM tbl WHERE PK = 'a' AND SK = 2",
    )
    assert db.get({"PK": {"S": "b"}, "SK": {"N": "1"}}) is not None
    item = db.get({"PK": {"S": "a"}, "SK": {"N": "1"}})
    assert item is not None and item["n"] == {"N": "11"}
    assert db.get({"PK": {"S": "a"}, "SK": {"N": "2"}}) is None


def test_transaction_is_all_or_nothing(db: Backend, ddb: Any, table: str) -> None:
    message = (
        "Transaction cancelled, please refer cancellation reasons for specific reasons "
        "[None, DuplicateItem, ConditionalCheckFailed]"
    )
    with raises("TransactionCanceledException", message) as caught:
        _transact(
            ddb,
            "UPDATE tbl SET n = 100 WHERE PK = 'a' AND SK = 1",
            "INSERT INTO tbl VALUE {'PK': 'a', 'SK': 2}",
            "UPDATE tbl SET n = 1 WHERE PK = 'zz' AND SK = 1",
        )
    reasons = caught.response["CancellationReasons"]
    assert [reason["Code"] for reason in reasons] == [
        "None",
        "DuplicateItem",
        "ConditionalCheckFailed",
    ]
    assert reasons[1]["Message"] == "Duplicate primary key exists in table"
    item = db.get({"PK": {"S": "a"}, "SK": {"N": "1"}})
    assert item is not None and item["n"] == {"N": "1"}
    assert db.get({"PK": {"S": "zz"}, "SK": {"N": "1"}}) is None


def test_transaction_reads(ddb: Any, table: str) -> None:
    response = _transact(
        ddb,
        "SELECT n FROM tbl WHERE PK = 'a' AND SK = 1",
        "SELECT * FROM tbl WHERE PK = 'zz' AND SK = 1",
    )
    assert response["Responses"] == [{"Item": {"n": {"N": "1"}}}, {}]


def test_transaction_client_request_token_applies_once(db: Backend, ddb: Any, table: str) -> None:
    for _ in range(2):
        _transact(
            ddb, "UPDATE tbl SET n = n + 1 WHERE PK = 'a' AND SK = 1", ClientRequestToken="tok-1"
        )
    item = db.get({"PK": {"S": "a"}, "SK": {"N": "1"}})
    assert item is not None and item["n"] == {"N": "2"}


@pytest.mark.parametrize(
    ("statement", "message"),
    [
        (
            "UPDATE tbl SET n = 1 WHERE PK = 'a' AND SK = 1 RETURNING ALL NEW *",
            "RETURNING clause is not supported in ExecuteTransaction.",
        ),
        ("SELECT * FROM tbl WHERE", NOT_WELL_FORMED + "Unexpected term"),
        (
            "DELETE FROM tbl WHERE PK = 'a'",
            "Where clause does not contain a mandatory equality on all key attributes",
        ),
    ],
)
def test_transaction_refuses_a_bad_statement(
    db: Backend, ddb: Any, table: str, statement: str, message: str
) -> None:
    with raises("ValidationException", "Validation failed in TransactStatements[1]: " + message):
        _transact(ddb, "UPDATE tbl SET n = 50 WHERE PK = 'a' AND SK = 1", statement)
    item = db.get({"PK": {"S": "a"}, "SK": {"N": "1"}})
    assert item is not None and item["n"] == {"N": "1"}


def test_transaction_exists_checks_an_item(db: Backend, ddb: Any, table: str) -> None:
    # Developer Guide, "PartiQL functions: EXISTS": a condition in a transaction.
    check = "EXISTS(SELECT * FROM tbl WHERE PK = 'a' AND SK = 1 AND n = 1)"
    _transact(ddb, check, "UPDATE tbl SET n = 5 WHERE PK = 'a' AND SK = 2")
    item = db.get({"PK": {"S": "a"}, "SK": {"N": "2"}})
    assert item is not None and item["n"] == {"N": "5"}
    message = (
        "Transaction cancelled, please refer cancellation reasons for specific reasons "
        "[ConditionalCheckFailed, None]"
    )
    with raises("TransactionCanceledException", message):
        _transact(
            ddb,
            "EXISTS(SELECT * FROM tbl WHERE PK = 'zz' AND SK = 1)",
            "UPDATE tbl SET n = 6 WHERE PK = 'a' AND SK = 2",
        )
    item = db.get({"PK": {"S": "a"}, "SK": {"N": "2"}})
    assert item is not None and item["n"] == {"N": "5"}


def test_exists_outside_a_transaction_is_refused(ddb: Any, table: str) -> None:
    # Not captured from DynamoDB: the functions page says EXISTS is only valid there.
    with raises("ValidationException", "EXISTS is only supported in ExecuteTransaction"):
        ddb.execute_statement(Statement="EXISTS(SELECT * FROM tbl WHERE PK = 'a' AND SK = 1)")
