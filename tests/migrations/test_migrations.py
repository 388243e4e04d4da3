"""Migrations: schema versions and upgrades on read, ``migrate plan``, and ``migrate run``
from shop_v1 to shop_v2 (a changed GSI template, a renamed field, a table sort key
that gains a slot) on the embedded engine, a durable file and over HTTP; interrupted
and resumed, with concurrent writers; nothing lost, every pattern finds every item."""

from __future__ import annotations

import json
import os
import random
import runpy
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import boto3
import pytest
import shop_v1
import shop_v2

from singletable import DB, Entity, ItemValidationError, Keys, ModelError, Table
from singletable.backends.base import Backend
from singletable.backends.boto3 import Boto3Backend
from singletable.backends.engine import LocalBackend
from singletable.cli import main
from singletable.migrations import (
    MigrationInterrupted,
    MigrationRun,
    Models,
    Upgrade,
    plan,
    read_version,
    upgrade,
    write_back,
)
from singletable.server import Server

ROOT = Path(__file__).parents[2]
MODELS = ROOT / "docs" / "examples"  # shop_v1.py and shop_v2.py
REGION = "us-east-1"
CITIES = ["Auckland", "Wellington", "Dunedin"]
STATUSES = ["pending", "shipped"]
DAY = date(2026, 5, 1)


def seed(db: DB, customers: int, orders_each: int = 2) -> None:
    """Version 1 items: customers and their orders, plus one item of other code."""
    db.create_table(shop_v1.app, exist_ok=True)
    puts: list[Entity] = []
    for n in range(customers):
        cid = f"c{n:04d}"
        puts.append(shop_v1.Customer(customer_id=cid, full_name=f"Name {n}", city=CITIES[n % 3]))
        for k in range(orders_each):
            puts.append(
                shop_v1.Order(
                    customer_id=cid,
                    order_id=f"o{k}",
                    placed_on=DAY + timedelta(days=(n + k) % 30),
                    status=STATUSES[(n + k) % 2],
                    total=Decimal(n + k),
                )
            )
    db.write_many(puts=puts)


def check_all_found(db: DB, customers: int, orders_each: int = 2) -> None:
    """Every item, through every pattern of the new model."""
    by_city = [
        c
        for city in CITIES
        for c in db.query(shop_v2.Customer.by_city, country="NZ", city=city).all()
    ]
    assert len(by_city) == customers
    assert {c.customer_id for c in by_city} == {f"c{n:04d}" for n in range(customers)}
    by_status = [o for s in STATUSES for o in db.query(shop_v2.Order.by_status, status=s).all()]
    assert len(by_status) == customers * orders_each
    for n in range(customers):
        cid = f"c{n:04d}"
        orders = db.query(shop_v2.Order.for_customer, customer_id=cid).all()
        assert sorted(o.order_id for o in orders) == [f"o{k}" for k in range(orders_each)]
        assert [o.placed_on for o in orders] == sorted(o.placed_on for o in orders)
    raw = db.backend.call("Scan", {"TableName": "shop", "Select": "COUNT"})
    assert raw["Count"] == customers * (1 + orders_each)  # nothing doubled, nothing lost


def models() -> Models:
    return Models(shop_v1.app, shop_v2.app)


@pytest.fixture
def db() -> Iterator[DB]:
    with DB() as database:
        yield database


# --------------------------------------------------------------------------- the model


def test_reads_upgrade_old_items_and_write_back_stores_them(db: DB) -> None:
    seed(db, 3)
    customer = db.require(shop_v2.Customer, customer_id="c0001")
    assert customer.name == "Name 1" and customer.country == "NZ"
    assert read_version(customer) == 1
    # Not yet in the new index: its keys were written by version 1.
    assert db.query(shop_v2.Customer.by_city, country="NZ", city="Wellington").all() == []
    outcome = write_back(db, customer)
    assert outcome is not None and outcome.kind == "rewritten"
    found = db.query(shop_v2.Customer.by_city, country="NZ", city="Wellington").all()
    assert found == [customer]
    again = db.require(shop_v2.Customer, customer_id="c0001")
    assert read_version(again) is None and write_back(db, again) is None
    stored = db.backend.call(
        "GetItem", {"TableName": "shop", "Key": shop_v2.Customer.key(customer_id="c0001")}
    )["Item"]
    assert stored["_schema"] == {"N": "2"} and "full_name" not in stored


def test_upgrade_functions_run_in_version_order() -> None:
    table = Table("versions")

    class Note(Entity, table=table, schema_version=3):
        note_id: str
        body: str
        words: int

        keys = Keys(pk="NOTE#{note_id}", sk="NOTE")

        from_v1 = Upgrade(1, rename={"text": "body"})

        @upgrade(2)
        @staticmethod
        def count_words(data: dict[str, Any]) -> dict[str, Any]:
            data["words"] = len(data["body"].split())
            return data

    item = {
        "PK": {"S": "NOTE#n"},
        "SK": {"S": "NOTE"},
        "note_id": {"S": "n"},
        "text": {"S": "a b c"},
    }
    note = Note.from_item(item)
    assert (note.body, note.words) == ("a b c", 3)
    assert read_version(note) == 1
    assert Note(note_id="n", body="x", words=1).to_item()["_schema"] == {"N": "3"}
    with pytest.raises(ItemValidationError) as failed:  # the function's KeyError, wrapped
        Note.from_item({"PK": {"S": "NOTE#m"}, "SK": {"S": "NOTE"}, "note_id": {"S": "m"}})
    assert str(failed.value) == (
        "stored Note (PK='NOTE#m', SK='NOTE') could not be upgraded from schema version 1: "
        "KeyError: 'body'"
    )
    with pytest.raises(ModelError, match="not schema_version"):

        class Loose(Entity, table=Table("loose")):
            loose_id: str
            keys = Keys(pk="L#{loose_id}", sk="L")
            up = Upgrade(1)

    with pytest.raises(
        ModelError, match="upgrades from version 2, but the entity's schema_version is 2"
    ):

        class Ahead(Entity, table=Table("ahead"), schema_version=2):
            ahead_id: str
            keys = Keys(pk="A#{ahead_id}", sk="A")
            up = Upgrade(2)


# --------------------------------------------------------------------------- plan


def test_plan_lists_changes_rewrites_and_manual_steps(capsys: pytest.CaptureFixture[str]) -> None:
    (table_plan,) = plan([shop_v1.app], [shop_v2.app])
    customer, order = table_plan.entities
    assert customer.entity == "Customer" and customer.status == "changed"
    assert (
        "key templates on index GSI1: 'CITY#{city} / NAME#{full_name}' -> "
        "'COUNTRY#{country}#CITY#{city} / NAME#{name}'"
    ) in customer.changes
    assert "field full_name renamed to name" in customer.changes
    assert "new field country: str = 'NZ'" in customer.changes
    assert "attribute 'full_name' renamed to 'name'" in customer.rewrite
    assert customer.manual == []
    assert order.rewrite[0].startswith("each item moves to its new table key")
    assert table_plan.needs_run

    # What cannot be migrated automatically: a new required field, a removed one, a type change.
    before, after = Table("p"), Table("p", indexes=[])

    class Item1(Entity, table=before, type_name="Item"):
        item_id: str
        size: int
        colour: str
        keys = Keys(pk="I#{item_id}", sk="I")

    class Item2(Entity, table=after, type_name="Item"):
        item_id: str
        size: str
        weight: Decimal
        keys = Keys(pk="I#{item_id}", sk="I")

    (manual,) = plan([before], [after])
    notes = " | ".join(manual.entities[0].manual)
    assert "weight is required and has no default, and no upgrade sets it" in notes
    assert "the values of colour are dropped" in notes
    assert "type of size: int -> str" in manual.entities[0].changes

    assert main(["migrate", "plan", "shop_v1", "shop_v2"]) == 0
    text = capsys.readouterr().out
    assert "## Customer: changed" in text and "`singletable migrate run` rewrites" in text
    assert main(["migrate", "plan", "shop_v1", "shop_v2", "--format", "json"]) == 0
    assert json.loads(capsys.readouterr().out)[0]["needs_run"] is True


# --------------------------------------------------------------------------- run, in process


def test_run_on_the_embedded_engine_rewrites_everything_and_keeps_other_attributes(
    db: DB,
) -> None:
    seed(db, 40)
    extra = shop_v1.Customer(customer_id="x", full_name="Extra", city="Auckland").to_item()
    extra["loyalty"] = {"N": "7"}  # written by other code: kept
    db.backend.call("PutItem", {"TableName": "shop", "Item": extra})
    stranger = {"PK": {"S": "AUDIT#1"}, "SK": {"S": "LOG"}, "_type": {"S": "Audit"}}
    db.backend.call("PutItem", {"TableName": "shop", "Item": stranger})

    dry = MigrationRun(db.backend, models(), segments=3, page_size=7, dry_run=True, progress=None)
    counts = dry.run().counts
    assert (counts["rewritten"], counts["moved"], counts["skipped"]) == (41, 80, 1)
    assert db.query(shop_v2.Customer.by_city, country="NZ", city="Auckland").all() == []

    summary = MigrationRun(db.backend, models(), segments=3, page_size=7, progress=None).run()
    assert summary.complete
    assert (summary.counts["rewritten"], summary.counts["moved"]) == (41, 80)
    assert summary.counts["failed"] == summary.counts["conflict"] == 0
    db.backend.call(
        "DeleteItem", {"TableName": "shop", "Key": {"PK": {"S": "AUDIT#1"}, "SK": {"S": "LOG"}}}
    )
    kept = db.backend.call(
        "GetItem", {"TableName": "shop", "Key": shop_v2.Customer.key(customer_id="x")}
    )
    assert kept["Item"]["loyalty"] == {"N": "7"} and kept["Item"]["name"] == {"S": "Extra"}
    db.delete(shop_v2.Customer, customer_id="x")
    check_all_found(db, 40)
    again = MigrationRun(db.backend, models(), segments=2, progress=None).run()
    assert again.counts["unchanged"] == 120 and again.counts["rewritten"] == 0


class Meddler:
    """A backend that lets another writer change an item between the migration's read
    (its Scan page) and its write: the write must not overwrite that change."""

    def __init__(self, backend: Backend, db: DB) -> None:
        self.backend, self.db = backend, db
        self.meddled = False

    def call(self, operation: str, request: dict[str, Any]) -> dict[str, Any]:
        response = self.backend.call(operation, request)
        if operation == "Scan" and not self.meddled:
            self.meddled = True
            customer = self.db.require(shop_v2.Customer, customer_id="c0002")  # upgraded read
            self.db.put(customer.model_copy(update={"name": "Renamed meanwhile"}))
            order = self.db.backend.call(
                "UpdateItem",
                {
                    "TableName": "shop",
                    "Key": {"PK": {"S": "CUSTOMER#c0003"}, "SK": {"S": "ORDER#o1"}},
                    "UpdateExpression": "SET #s = :s",
                    "ExpressionAttributeNames": {"#s": "status"},
                    "ExpressionAttributeValues": {":s": {"S": "cancelled"}},
                },
            )
            assert order is not None
        return response

    def close(self) -> None:
        self.backend.close()


def test_a_concurrent_change_is_never_overwritten(db: DB) -> None:
    seed(db, 5)
    meddler = Meddler(db.backend, db)
    summary = MigrationRun(meddler, models(), segments=1, progress=None).run()  # type: ignore[arg-type]
    # Both were read again: the customer is then current (the writer put it in the new
    # shape), the order is moved with the writer's status.
    assert meddler.meddled and summary.retried == 2 and summary.counts["unchanged"] == 1
    assert db.require(shop_v2.Customer, customer_id="c0002").name == "Renamed meanwhile"
    (order,) = [
        o for o in db.query(shop_v2.Order.for_customer, customer_id="c0003") if o.order_id == "o1"
    ]
    assert order.status == "cancelled"


class Interrupter:
    """A backend whose n-th write raises KeyboardInterrupt (a Ctrl-C mid-run)."""

    def __init__(self, backend: Backend, after: int) -> None:
        self.backend, self.after, self.writes = backend, after, 0
        self.lock = threading.Lock()

    def call(self, operation: str, request: dict[str, Any]) -> dict[str, Any]:
        if operation in ("UpdateItem", "TransactWriteItems"):
            with self.lock:
                self.writes += 1
                if self.writes == self.after:
                    raise KeyboardInterrupt
        return self.backend.call(operation, request)

    def close(self) -> None:
        self.backend.close()


def test_an_interrupted_run_resumes_where_it_stopped(db: DB, tmp_path: Path) -> None:
    seed(db, 60)
    state = str(tmp_path / "migrate.state")
    broken = Interrupter(db.backend, after=70)
    first = MigrationRun(
        broken, models(), segments=3, page_size=10, state_path=state, progress=None
    )  # type: ignore[arg-type]
    with pytest.raises(MigrationInterrupted) as stopped:
        first.run()
    done = stopped.value.summary.counts
    assert 0 < done["rewritten"] + done["moved"] < 180
    assert os.path.exists(state)
    with pytest.raises(Exception, match="was interrupted; continue it with resume"):
        MigrationRun(db.backend, models(), state_path=state, progress=None).run()
    resumed = MigrationRun(db.backend, models(), state_path=state, resume=True, progress=None)
    assert resumed.segments == 3  # from the state
    summary = resumed.run()
    assert summary.complete and not os.path.exists(state)
    # Counts carry over: every item was written exactly once across both runs.
    assert summary.counts["rewritten"] + summary.counts["moved"] == 180
    check_all_found(db, 60)


# --------------------------------------------------------------------------- the command


def test_cli_run_on_a_durable_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    data = str(tmp_path / "shop.db")
    with DB(LocalBackend(path=data)) as db:
        seed(db, 10)
        db.backend.call(
            "PutItem", {"TableName": "shop", "Item": {"PK": {"S": "X"}, "SK": {"S": "Y"}}}
        )
    assert main(["migrate", "plan", "shop_v1", "shop_v2", "--data", data]) == 0
    text = capsys.readouterr().out
    assert "10 Customer items stored." in text and "20 Order items stored." in text
    assert "1 stored items are of no entity of the new model" in text
    with DB(LocalBackend(path=data)) as db:
        db.backend.call(
            "DeleteItem", {"TableName": "shop", "Key": {"PK": {"S": "X"}, "SK": {"S": "Y"}}}
        )
    state = str(tmp_path / "m.state")
    args = ["migrate", "run", "shop_v1", "shop_v2", "--data", data, "--state", state]
    assert main([*args, "--dry-run"]) == 0
    out = capsys.readouterr()
    assert "migration complete (dry run: nothing written)" in out.out
    assert main(args) == 0
    out = capsys.readouterr()
    assert (
        "10  rewritten in place (same key)" in out.out and "20  moved to a new table key" in out.out
    )
    assert "shop: 30 scanned" in out.err and "items/s" in out.err
    with DB(LocalBackend(path=data)) as db:
        check_all_found(db, 10)
    assert main([*args, "--resume"]) == 2
    assert "nothing to resume" in capsys.readouterr().err
    assert main([*args, "--resume", "--dry-run"]) == 2
    assert "--dry-run keeps no state" in capsys.readouterr().err


def test_cli_run_over_http_with_a_concurrent_writer(
    dynamodb_server: Server, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    client = boto3.client("dynamodb", endpoint_url=dynamodb_server.url, region_name=REGION)
    db = DB(Boto3Backend(client))
    seed(db, 150)
    expected: dict[str, str] = {}
    stop = threading.Event()

    def writer() -> None:  # code of the new model, deployed while the migration runs
        writes = DB(
            Boto3Backend(
                boto3.client("dynamodb", endpoint_url=dynamodb_server.url, region_name=REGION)
            )
        )
        rng = random.Random(7)
        while not stop.is_set():
            cid = f"c{rng.randrange(150):04d}"
            customer = writes.require(shop_v2.Customer, customer_id=cid)
            name = f"{customer.name}+"
            writes.put(customer.model_copy(update={"name": name}))
            expected[cid] = name

    thread = threading.Thread(target=writer)
    thread.start()
    try:
        status = main([
            "migrate", "run", "shop_v1", "shop_v2", "--endpoint-url", dynamodb_server.url,
            "--segments", "3", "--page-size", "10", "--state", str(tmp_path / "s"),
        ])  # fmt: skip
    finally:
        stop.set()
        thread.join()
    assert status == 0, capsys.readouterr()
    assert expected  # the writer wrote during the run
    for cid, name in expected.items():
        assert db.require(shop_v2.Customer, customer_id=cid).name == name  # never overwritten
    check_all_found(db, 150)


def test_ctrl_c_stops_the_command_cleanly_and_resume_finishes(
    dynamodb_server: Server, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    url = dynamodb_server.url
    db = DB(Boto3Backend(boto3.client("dynamodb", endpoint_url=url, region_name=REGION)))
    seed(db, 600)
    state = str(tmp_path / "ctrl-c.state")
    command = [
        sys.executable, "-m", "singletable.cli", "migrate", "run", "shop_v1", "shop_v2",
        "--endpoint-url", url, "--segments", "2", "--page-size", "10", "--state", state,
    ]  # fmt: skip
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), str(MODELS)])}
    process = subprocess.Popen(
        command, cwd=tmp_path, env=env, stderr=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )
    assert process.stderr is not None
    while True:  # progress lines, until the run is under way
        line = process.stderr.readline()
        assert "scanned" in line, line
        if not line.startswith("shop: 0 scanned"):
            break
    process.send_signal(signal.SIGINT)
    out, err = process.communicate(timeout=60)
    assert process.returncode == 130, (out, err)
    assert "Traceback" not in err
    assert "resume with: singletable migrate run shop_v1 shop_v2 --endpoint-url" in err
    assert "migration interrupted" in out
    assert os.path.exists(state)
    status = main([
        "migrate", "run", "shop_v1", "shop_v2", "--endpoint-url", url, "--state", state, "--resume",
    ])  # fmt: skip
    assert status == 0, capsys.readouterr()
    assert not os.path.exists(state)
    check_all_found(db, 600)


def test_the_migrations_page_program(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)  # its state file goes here, and is removed at the end
    seen = runpy.run_path(str(MODELS / "migrations_tour.py"), run_name="docs_tour")["main"]()
    out = capsys.readouterr().out
    assert "Ada Lovelace NZ read from version 1" in out
    assert seen["before"] == ["Ada Lovelace"]
    assert seen["after"] == ["Ada Lovelace", "Bea Smith"]
    assert seen["orders"] == ["o1"]
    assert (seen["counts"]["rewritten"], seen["counts"]["moved"]) == (1, 1)
    assert list(tmp_path.iterdir()) == []


def test_items_that_cannot_be_rewritten_are_reported_with_their_key(
    db: DB, capsys: pytest.CaptureFixture[str]
) -> None:
    seed(db, 2)
    bad = shop_v1.Order(
        customer_id="c0000", order_id="o9", placed_on=DAY, status="pending", total=Decimal(1)
    ).to_item()
    bad["total"] = {"S": "a lot"}  # does not validate as an Order
    db.backend.call("PutItem", {"TableName": "shop", "Item": bad})
    # A version 2 order already at the key c0001/o0 moves to: the move must not clobber it.
    taken = shop_v2.Order(
        customer_id="c0001", order_id="o0", placed_on=DAY + timedelta(days=1), status="x",
        total=Decimal(0),
    )  # fmt: skip
    db.put(taken)
    summary = MigrationRun(db.backend, models(), segments=2, progress=None).run()
    assert summary.counts["failed"] == 2
    text = "\n".join(summary.lines())
    assert "failed: Order (PK='CUSTOMER#c0000', SK='ORDER#o9'): stored Order" in text
    assert "total" in text
    assert (
        "failed: Order (PK='CUSTOMER#c0001', SK='ORDER#o0'): its new key "
        "PK='CUSTOMER#c0001', SK='ORDER#2026-05-02#o0' is taken by another item"
    ) in text
    assert (
        db.require(shop_v2.Order, customer_id="c0001", order_id="o0", placed_on=taken.placed_on)
        == taken
    )
    old_key = {"PK": {"S": "CUSTOMER#c0001"}, "SK": {"S": "ORDER#o0"}}
    assert "Item" in db.backend.call("GetItem", {"TableName": "shop", "Key": old_key})  # kept


def test_stream_changes_of_old_items_are_upgraded(db: DB) -> None:
    from singletable.changes import Change, ChangeParser

    image = shop_v1.Customer(customer_id="c1", full_name="Ada", city="Auckland").to_item()
    record = {"eventName": "INSERT", "dynamodb": {"NewImage": image, "Keys": {}}}
    change = ChangeParser(shop_v2.app).parse(record)
    assert isinstance(change, Change) and change.new is not None
    assert (change.new.name, change.new.country) == ("Ada", "NZ")


def test_write_back_on_the_async_api(db: DB) -> None:
    import asyncio

    from singletable import AsyncDB
    from singletable.backends.aioboto3 import AioBoto3Backend
    from singletable.migrations import awrite_back
    from singletable.testing import local_dynamodb

    seed(db, 1)
    assert isinstance(db.backend, LocalBackend)

    async def work() -> str:
        async with AsyncDB(await AioBoto3Backend.connect(region_name=REGION)) as adb:
            customer = await adb.require(shop_v2.Customer, customer_id="c0000")
            outcome = await awrite_back(adb, customer)
            assert outcome is not None
            return outcome.kind

    with local_dynamodb(engine=db.backend.engine):
        assert asyncio.run(work()) == "rewritten"
    assert db.query(shop_v2.Customer.by_city, country="NZ", city="Auckland").all()
