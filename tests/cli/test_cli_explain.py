"""``singletable explain MODULE:PATTERN [FIELD=VALUE ...]`` (singletable.cli._explain).

The printed request must be the one the library sends: the JSON is compared
with ``DB().explain``, and the ``--format aws-cli`` line is run by the real AWS
CLI against our HTTP server, where it must find the items the ORM's query finds.
"""

from __future__ import annotations

import json
import os
import shlex
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import boto3
import pytest

from singletable import DB
from singletable.backends.boto3 import Boto3Backend
from singletable.cli import main
from singletable.server import Server

EXAMPLES = Path(__file__).parents[2] / "examples"


@pytest.fixture
def shop(monkeypatch: pytest.MonkeyPatch) -> Any:
    """The e-commerce example's model module, importable as ``ecommerce``."""
    monkeypatch.syspath_prepend(str(EXAMPLES))
    import ecommerce

    return ecommerce


def _explain(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    status = main(["explain", *argv])
    out, err = capsys.readouterr()
    return status, out, err


def test_json_is_the_request_the_library_sends(
    shop: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    status, out, err = _explain(
        capsys,
        "ecommerce:Order.placed_between",
        "user_id=alice",
        "placed_at=2026-03-01",
        "placed_at=2026-03-07T12:00:00+02:00",
    )
    assert status == 0 and err == ""
    low = datetime(2026, 3, 1, tzinfo=UTC)
    high = datetime(2026, 3, 7, 10, tzinfo=UTC)  # 12:00 at +02:00, rendered in UTC
    operation, request = DB().explain.query(
        shop.Order.placed_between, user_id="alice", placed_at=(low, high)
    )
    assert json.loads(out) == {"operation": operation, "request": request}
    values = request["ExpressionAttributeValues"]
    assert values[":sk1"]["S"].startswith("ORDER#2026-03-07T10:00:00.000000Z#")


def test_options_may_come_before_the_values(shop: Any, capsys: pytest.CaptureFixture[str]) -> None:
    status, out, _ = _explain(
        capsys, "ecommerce:Order.by_status", "--format", "json", "status=shipped"
    )
    assert status == 0
    request = json.loads(out)["request"]
    assert request["IndexName"] == "GSI1"
    assert request["ExpressionAttributeValues"][":pk"] == {"S": "STATUS#shipped"}


def test_missing_partition_fields_take_example_values_and_say_so(
    shop: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    status, out, err = _explain(capsys, "ecommerce:product_page")
    assert status == 0
    assert err == "singletable: product_id not given; using the example value 'product-1'\n"
    request = json.loads(out)["request"]
    assert request["ExpressionAttributeValues"] == {":pk": {"S": "PRODUCT#product-1"}}
    assert "#sk" not in request["ExpressionAttributeNames"]  # the whole partition


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["ecommerce"], "'ecommerce': expected MODULE:Entity.pattern or MODULE:collection"),
        (["ecommerce:Order.nope"], "Order.nope is not an access pattern (patterns of Order: "
         "by_status, for_user, placed_between)"),
        (["ecommerce:Nobody.x"], "module 'ecommerce' has no entity 'Nobody' (entities: "
         "Order, Product, Review, User)"),
        (["ecommerce:shop"], "ecommerce.shop is not a Collection (collections: product_page; "
         "or give Entity.pattern)"),
        (["ecommerce:Order.for_user", "colour=red"], "'colour=red': the entity has no field "
         "'colour' (fields: user_id, order_id, placed_at, product_id, quantity, total, status)"),
        (["ecommerce:Order.for_user", "user_id"], "'user_id': expected FIELD=VALUE"),
        (["ecommerce:Order.for_user", "placed_at=soon"], "placed_at='soon': Input should be a "
         "valid datetime or date"),
        (["ecommerce:Order.placed_between", "placed_at=2026-01-01", "placed_at=2026-01-02",
          "placed_at=2026-01-03"], "placed_at is given 3 times (at most twice: low and high)"),
        (["ecommerce:Order.for_user", "user_id=a", "order_id=o1"], "Order.for_user: sort fields "
         "must be given in the order of 'ORDER#{placed_at}#{order_id}'"),
        (["no_such_module_xyz:A.b"], "no module named 'no_such_module_xyz'"),
    ],
)  # fmt: skip
def test_bad_input_is_one_line_naming_what_is_wrong(
    shop: Any, capsys: pytest.CaptureFixture[str], argv: list[str], message: str
) -> None:
    status, out, err = _explain(capsys, *argv)
    assert status == 2 and out == ""
    assert err.startswith("singletable: error: " + message) and err.count("\n") == 1


def test_an_unknown_option_is_refused(shop: Any, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as stopped:
        main(["explain", "ecommerce:Order.for_user", "user_id=a", "--bogus"])
    assert stopped.value.code == 2
    assert "unrecognized arguments: --bogus" in capsys.readouterr().err


def test_the_aws_cli_line_finds_what_the_orm_finds(
    shop: Any, capsys: pytest.CaptureFixture[str], dynamodb_server: Server
) -> None:
    server = dynamodb_server
    client = boto3.client(
        "dynamodb",
        endpoint_url=server.url,
        region_name="us-east-1",
        aws_access_key_id="test",
        aws_secret_access_key="test",
    )
    with DB(Boto3Backend(client)) as db:
        db.create_table(shop.shop)
        db.put(shop.Product(product_id="kb-01", name="Keyboard", price=1, stock=9))
        placed = [datetime(2026, 3, day, 10, tzinfo=UTC) for day in (1, 4, 9)]
        for number, when in enumerate(placed):
            shop.place_order(
                db,
                shop.Order(user_id="alice", order_id=f"o{number}", placed_at=when,
                           product_id="kb-01", quantity=1, total=1),
            )  # fmt: skip
        expected = db.query(
            shop.Order.placed_between, user_id="alice", placed_at=(placed[0], placed[1])
        ).all()
    status, out, _ = _explain(
        capsys,
        "ecommerce:Order.placed_between",
        "--format=aws-cli",
        "user_id=alice",
        f"placed_at={placed[0].isoformat()}",
        f"placed_at={placed[1].isoformat()}",
    )
    assert status == 0
    words = shlex.split(out)
    assert words[:3] == ["aws", "dynamodb", "query"]
    env = {
        **os.environ,
        "AWS_ACCESS_KEY_ID": "test",
        "AWS_SECRET_ACCESS_KEY": "test",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_CONFIG_FILE": os.devnull,
        "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
    }
    result = subprocess.run(
        [sys.executable, "-m", "awscli", *words[1:], "--endpoint-url", server.url,
         "--output", "json"],
        capture_output=True, text=True, timeout=120, env=env,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    found = [item["order_id"]["S"] for item in json.loads(result.stdout)["Items"]]
    assert found == [order.order_id for order in expected] == ["o0", "o1"]
