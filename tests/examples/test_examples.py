"""The programs in examples/ run, and do what their docstrings say.

Each example is loaded from its file (as ``python examples/<name>.py`` would run
it) and its ``main()`` is called: the outcomes it returns and the lines it
prints are checked against what the model must do (stock and balance
conditions, index keys rewritten, fan-out through the stream, TTL expiry on an
injected clock, atomic counters under concurrent requests). Some tests also
call an example's functions on a database of their own to check a behaviour
the scenario only passes through. The quick start (examples/quickstart.py) is
the README's first command.
"""

from __future__ import annotations

import runpy
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from singletable import DB, ConditionFailedError, RequestError, TransactionCanceledError

EXAMPLES = Path(__file__).parents[2] / "examples"


def load(name: str) -> dict[str, Any]:
    """The example's module namespace (its classes and functions; main() not run)."""
    return runpy.run_path(str(EXAMPLES / f"{name}.py"), run_name=f"example_{name}")


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("quickstart", "c1 placed 4 orders, newest first: ['o5', 'o4', 'o2', 'o1']"),
        ("ecommerce", "alice's orders, newest first: ['o4', 'o2', 'o1']"),
        ("bank_transfer", "t2: A-1 -> B-2 500.00 refused, reasons ['ConditionalCheckFailed'"),
        ("timeline", "4 posts fanned out as 6 timeline entries"),
        ("sessions_ttl", "TTL deleted 1 session(s); stored now: ['phone']"),
        ("async_service", "50 concurrent GET /l/"),
        ("two_regions", "after the partition healed, both regions agree: ('Bobby', 'Bobby')"),
    ],
)
def test_each_example_runs_as_a_script(
    name: str, expected: str, capsys: pytest.CaptureFixture[str]
) -> None:
    runpy.run_path(str(EXAMPLES / f"{name}.py"), run_name="__main__")
    assert expected in capsys.readouterr().out


# ---------------------------------------------------------------------- quick start


def test_quickstart_shows_each_step_with_counts_that_match(
    capsys: pytest.CaptureFixture[str],
) -> None:
    seen = load("quickstart")["main"]()
    out = capsys.readouterr().out.splitlines()
    # c1 has o1, o2, o4 and o5; o3 is c2's.
    assert seen["newest"] == ["o5", "o4", "o2", "o1"]
    assert seen["collection"] == ("Ada", ["o1", "o2", "o4", "o5"], Decimal("95.70"))
    assert seen["key"] == {
        "PK": {"S": "CUSTOMER#c1"},
        "SK": {"S": "ORDER#2026-05-01T09:00:00.000000Z#o1"},
    }
    # The index follows the status that db.update changed.
    assert seen["before"] == (["o1", "o2", "o3", "o4", "o5"], [])
    assert seen["after"] == (["o2", "o4", "o5"], ["o1", "o3"])
    assert seen["refused"] == "ConditionFailedError"
    assert out == [
        "wrote 2 customers and 5 orders",
        "o1 is stored under {'PK': 'CUSTOMER#c1', 'SK': 'ORDER#2026-05-01T09:00:00.000000Z#o1'}",
        "c1 placed 4 orders, newest first: ['o5', 'o4', 'o2', 'o1']",
        "c1's partition in one request: Ada, 4 orders, 95.70 in all",
        "before shipping: pending ['o1', 'o2', 'o3', 'o4', 'o5'] shipped []",
        "after shipping o1, o3: pending ['o2', 'o4', 'o5'] shipped ['o1', 'o3']",
        "shipping o1 again: refused (ConditionFailedError)",
    ]


def test_quickstart_items_carry_the_index_key_of_their_status() -> None:
    example = load("quickstart")
    order_cls = example["Order"]
    with DB() as db:
        db.create_table(example["shop"])
        at = example["MAY_1"]
        db.put(order_cls(customer_id="c9", order_id="o9", placed_at=at, total=Decimal(1)))
        key = order_cls.key(customer_id="c9", placed_at=at, order_id="o9")
        item = db.backend.call("GetItem", {"TableName": "shop", "Key": key})["Item"]
        assert item["GSI1PK"] == {"S": "STATUS#pending"}
        assert item["GSI1SK"] == {"S": "2026-05-01T09:00:00.000000Z#o9"}
        db.update(
            order_cls,
            example["Update"]().set(order_cls.status, "shipped"),
            customer_id="c9",
            placed_at=at,
            order_id="o9",
        )
        item = db.backend.call("GetItem", {"TableName": "shop", "Key": key})["Item"]
        assert item["GSI1PK"] == {"S": "STATUS#shipped"}


# ---------------------------------------------------------------------- e-commerce


def test_ecommerce_access_patterns(capsys: pytest.CaptureFixture[str]) -> None:
    seen = load("ecommerce")["main"]()
    out = capsys.readouterr().out
    # 5 keyboards: o1 takes 1, o3 takes 3; o5 (2 more) is refused by the stock check,
    # the second action of its transaction, and its order is not written.
    assert seen["refused"] == ["None", "ConditionalCheckFailed"]
    assert seen["keyboards_left"] == 1
    assert seen["newest_first"] == ["o4", "o2", "o1"]
    assert seen["first_week"] == ["o1", "o2"]  # o4 is on day 10
    assert seen["pages"] == [["o4", "o2"], ["o1"]]
    assert seen["shipped"] == ["o1", "o3"] and seen["pending"] == ["o2", "o4"]
    assert seen["pending_over_30"] == ["o2"]
    assert seen["reviews"] == (2, [5, 3])
    assert "Keyboard: 2 reviews, ratings [5, 3], average 4.0" in out
    assert "shipping o1 again: ConditionalCheckFailedException" in out
    request = seen["explained"]
    assert request["KeyConditionExpression"] == "#pk = :pk AND #sk BETWEEN :sk0 AND :sk1"
    assert request["ExpressionAttributeValues"][":sk0"] == {
        "S": "ORDER#2026-03-01T10:00:00.000000Z#"
    }


def test_ecommerce_items_are_laid_out_as_the_docstring_says() -> None:
    example = load("ecommerce")
    order_cls, product_cls = example["Order"], example["Product"]
    with DB() as db:
        db.create_table(example["shop"])
        db.put(product_cls(product_id="kb-01", name="Keyboard", price=Decimal("49.90"), stock=1))
        order = order_cls(
            user_id="alice",
            order_id="o1",
            placed_at=example["DAY1"],
            product_id="kb-01",
            quantity=1,
            total=Decimal("49.90"),
        )
        example["place_order"](db, order)
        key = order_cls.key(user_id="alice", placed_at=example["DAY1"], order_id="o1")
        item = db.backend.call("GetItem", {"TableName": "shop", "Key": key})["Item"]
        assert item["PK"] == {"S": "USER#alice"}
        assert item["SK"] == {"S": "ORDER#2026-03-01T10:00:00.000000Z#o1"}
        assert item["GSI1PK"] == {"S": "STATUS#pending"}
        assert item["GSI1SK"] == {"S": "2026-03-01T10:00:00.000000Z#o1"}
        assert item["_type"] == {"S": "Order"}
        example["ship"](db, order)
        item = db.backend.call("GetItem", {"TableName": "shop", "Key": key})["Item"]
        assert item["GSI1PK"] == {"S": "STATUS#shipped"}  # the index key followed the status
        # The stock is gone, so the next order fails as a whole: no order item is left.
        again = order.model_copy(update={"order_id": "o2"})
        with pytest.raises(TransactionCanceledError, match=r"update Product \(product_id="):
            example["place_order"](db, again)
        assert db.query(order_cls.for_user, user_id="alice").count() == 1


# -------------------------------------------------------------------- bank transfer


def test_bank_transfer_moves_money_only_when_covered(capsys: pytest.CaptureFixture[str]) -> None:
    seen = load("bank_transfer")["main"]()
    out = capsys.readouterr().out
    assert seen["outcomes"] == [
        "t1: A-1 -> B-2 30.00 done",
        "t2: A-1 -> B-2 500.00 refused, reasons ['ConditionalCheckFailed', 'None', 'None']",
        "t3: B-2 -> Z-9 5.00 refused, reasons ['None', 'ConditionalCheckFailed', 'None']",
        "t1: A-1 -> B-2 30.00 done",  # the retry: same token, not applied twice
    ]
    assert seen["balances"] == {"A-1": "70.00", "B-2": "50.00"}  # 120 in all, as opened
    assert seen["history"] == ["t1"]
    assert "update Account (account_id='A-1'): ConditionalCheckFailed" in out
    assert "update Account (account_id='Z-9'): ConditionalCheckFailed" in out
    debit = seen["explained"]
    assert debit["ConditionExpression"] == "attribute_exists(#c0) AND #c1 >= :c0"
    assert debit["ExpressionAttributeNames"]["#c1"] == "balance"
    assert debit["ExpressionAttributeValues"][":c0"] == {"N": "1"}


def test_a_transfer_id_reused_for_another_transfer_is_refused() -> None:
    example = load("bank_transfer")
    account = example["Account"]
    with DB() as db:
        db.create_table(example["bank"])
        db.put(account(account_id="a", owner="A", balance=Decimal(10)))
        db.put(account(account_id="b", owner="B", balance=Decimal(0)))
        at = datetime(2026, 4, 1, tzinfo=UTC)
        example["transfer"](db, "x1", "a", "b", Decimal(4), at)
        example["transfer"](db, "x1", "a", "b", Decimal(4), at)  # a retry: applied once
        assert example["balances"](db, "a", "b") == {"a": "6.00", "b": "4.00"}
        # The same id (the token) with another amount is not a retry: DynamoDB refuses it.
        with pytest.raises(RequestError, match="IdempotentParameterMismatch"):
            example["transfer"](db, "x1", "a", "b", Decimal(5), at)
        assert example["balances"](db, "a", "b") == {"a": "6.00", "b": "4.00"}


# ------------------------------------------------------------------------- timeline


def test_timeline_is_filled_by_the_stream_handler(capsys: pytest.CaptureFixture[str]) -> None:
    seen = load("timeline")["main"]()
    out = capsys.readouterr().out
    # p1 and p3 (ada) reach bob and cy, p2 (bob) reaches cy, p4 (cy) reaches ada.
    assert seen["delivered"] == 6
    assert seen["bob"] == ["08:09 ada: Shipping the engine today", "08:00 ada: Hello, world"]
    assert seen["cy"] == [
        "08:09 ada: Shipping the engine today",
        "08:05 bob: Coffee first",
        "08:00 ada: Hello, world",
    ]
    assert seen["ada"] == ["08:20 cy: Who wants lunch?"]
    assert seen["early"] == ["p1", "p2"]
    assert seen["ada_posts"] == ["p3", "p1"]
    assert seen["after_close"] == ["08:09 ada: Shipping the engine today"]  # p5 not fanned out
    # The Lambda form: cy's post p6 reaches ada (cy's one follower) through the event.
    assert seen["lambda"] == ({"batchItemFailures": []}, ["09:00 cy: Back"])
    assert "ada's followers: ['bob', 'cy']" in out


def test_the_fan_out_handler_ignores_other_records() -> None:
    example = load("timeline")
    with DB() as db:
        db.create_table(example["social"])
        handler = example["lambda_handler_for"](db)
        db.put(example["Follow"](follower="bob", followee="ada"))
        post = example["Post"](
            author="ada", post_id="p1", posted_at=datetime(2026, 5, 1, tzinfo=UTC), text="hi"
        )
        image = post.to_item()
        follow_image = example["Follow"](follower="cy", followee="ada").to_item()

        def record(event: str, new: dict[str, Any], sequence: str) -> dict[str, Any]:
            return {"eventName": event, "dynamodb": {"NewImage": new, "SequenceNumber": sequence}}

        answer = handler({"Records": [record("MODIFY", image, "1"), record("INSERT", follow_image, "2")]})
        assert answer == {"batchItemFailures": []}
        assert example["timeline"](db, "bob") == []  # an edit and a follow: no fan-out
        assert handler({"Records": [record("INSERT", image, "3")]}) == {"batchItemFailures": []}
        assert example["timeline"](db, "bob") == ["00:00 ada: hi"]


# ------------------------------------------------------------------------- sessions


def test_sessions_expire_with_ttl(capsys: pytest.CaptureFixture[str]) -> None:
    seen = load("sessions_ttl")["main"]()
    out = capsys.readouterr().out
    expiry = datetime(2026, 6, 1, 9, 30, tzinfo=UTC)
    assert seen["stored_expiry"] == {"N": str(int(expiry.timestamp()))}
    assert seen["phone_expires"] == datetime(2026, 6, 1, 9, 50, tzinfo=UTC)
    # 09:35: the laptop's session expired at 09:30 but is not deleted yet.
    assert seen["at_0935"] == (False, True, ["phone"])
    assert seen["swept"] == (1, ["phone"])
    assert seen["phone_at_1035"] is False
    assert seen["final_sweep"] == 1
    assert "09:20 the phone is used: it now expires at 09:50" in out


def test_an_expired_session_cannot_be_touched() -> None:
    example = load("sessions_ttl")
    clock = example["Clock"](datetime(2026, 6, 1, tzinfo=UTC))
    with DB() as db:
        db.create_table(example["auth"])
        session = example["log_in"](db, clock, "ada", "web")
        clock.advance(timedelta(minutes=31))
        with pytest.raises(ConditionFailedError, match="did not meet the condition"):
            example["touch"](db, clock, session)
        assert example["sessions_of"](db, clock, "ada") == []


# -------------------------------------------------------------------- async service


def test_async_service_under_concurrent_requests(capsys: pytest.CaptureFixture[str]) -> None:
    seen = load("async_service")["main"]()
    out = capsys.readouterr().out
    assert [status for status, _ in seen["created"]] == [201] * 5
    codes = seen["codes"]
    assert len(set(codes)) == 5
    # Fifty concurrent atomic increments: each request saw a different count.
    assert seen["click_counts"] == list(range(1, 51))
    assert [len(page) for page in seen["pages"]] == [2, 2, 1]
    assert [code for page in seen["pages"] for code in page] == sorted(codes)
    assert seen["missing"] == 404
    assert seen["foreign_cursor"] == 400
    assert "DynamoDB endpoint at http://127.0.0.1:" in out


# ---------------------------------------------------------------------- two regions


def test_two_regions_read_locally_then_converge(capsys: pytest.CaptureFixture[str]) -> None:
    seen = load("two_regions")["main"]()
    assert seen["replicas"] == [("eu-west-1", "ACTIVE")]
    assert seen["local_reads"] == ("ada", "bob")  # each region reads its own write at once
    assert seen["before_replication"] == (None, None)  # the other region's, not yet
    assert seen["after_replication"] == ("bob", "ada")
    assert seen["conflict"] == ("Countess", "Countess")  # the later write, in both regions
    assert seen["partitioned"] == ("Bobby", "bob")
    assert seen["healed"] == ("Bobby", "Bobby")
    assert "last writer wins: ('Countess', 'Countess')" in capsys.readouterr().out
