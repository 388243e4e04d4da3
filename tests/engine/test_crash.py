"""Crash test of durable mode: SIGKILL a writing process at random moments, reopen, check.

A child process opens a durable engine and writes without pause: single PutItems,
DeleteItems of its own earlier items, BatchWriteItems and TransactWriteItems
(several Puts plus an ADD on a shared counter). After each call returns it prints
the acknowledged write on stdout (flushed). The parent kills it with SIGKILL at a
random moment, reopens the database and checks that

* every acknowledged write is there (every acknowledged delete is gone); an
  item whose delete had started when the kill came may be either;
* no batch or transaction is half-applied (all of its items or none), and the
  counter equals the number of transactions present: a transaction's Update and
  its Puts were committed together.

Then the next child continues on the same file; several rounds take a few seconds.
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import pytest

from singletable.backends.local.durable import DurableStorage
from singletable.backends.local.engine import LocalEngine

ROOT = Path(__file__).resolve().parents[2]

CHILD = r"""
import random, sys
from singletable.backends.local.durable import DurableStorage
from singletable.backends.local.engine import LocalEngine

path, run, seed = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
engine = LocalEngine(DurableStorage(path))
if "crash" not in engine.tables:
    engine.call("CreateTable", {
        "TableName": "crash", "BillingMode": "PAY_PER_REQUEST",
        "AttributeDefinitions": [{"AttributeName": "PK", "AttributeType": "S"},
                                 {"AttributeName": "SK", "AttributeType": "S"}],
        "KeySchema": [{"AttributeName": "PK", "KeyType": "HASH"},
                      {"AttributeName": "SK", "KeyType": "RANGE"}]})
transactions = "TransactWriteItems" in engine.operations
print("ready", int(transactions), flush=True)
rng = random.Random(seed)
puts = []
def item(pk, sk):
    return {"PK": {"S": pk}, "SK": {"S": sk}, "pad": {"S": "x" * rng.randrange(0, 2000)}}
for i in range(10**9):
    name = f"{run}-{i}"
    roll = rng.random()
    if roll < 0.35:
        engine.call("PutItem", {"TableName": "crash", "Item": item("single", name)})
        puts.append(name)
        print("put", name, flush=True)
    elif roll < 0.45 and puts:
        victim = puts.pop(rng.randrange(len(puts)))
        print("deleting", victim, flush=True)  # from here on it may be gone
        engine.call("DeleteItem", {"TableName": "crash",
                                   "Key": {"PK": {"S": "single"}, "SK": {"S": victim}}})
        print("del", victim, flush=True)
    elif roll < 0.7 or not transactions:
        count = rng.randrange(1, 26)
        engine.call("BatchWriteItem", {"RequestItems": {"crash": [
            {"PutRequest": {"Item": item("batch#" + name, str(j))}} for j in range(count)]}})
        print("batch", name, count, flush=True)
    else:
        count = rng.randrange(1, 10)
        actions = [{"Put": {"TableName": "crash", "Item": item("txn#" + name, str(j))}}
                   for j in range(count)]
        actions.append({"Update": {
            "TableName": "crash", "Key": {"PK": {"S": "counter"}, "SK": {"S": "txn"}},
            "UpdateExpression": "ADD n :one", "ExpressionAttributeValues": {":one": {"N": "1"}}}})
        engine.call("TransactWriteItems", {"TransactItems": actions})
        print("txn", name, count, flush=True)
"""


class Expected:
    """What the acknowledged writes of all rounds so far promise."""

    def __init__(self) -> None:
        self.present: set[str] = set()
        self.deleted: set[str] = set()
        self.batches: dict[str, int] = {}
        self.transactions: dict[str, int] = {}
        self.used_transactions = False

    def acknowledge(self, line: str) -> None:
        kind, *args = line.split()
        if kind == "put":
            self.present.add(args[0])
        elif kind == "deleting":
            # A delete that may commit before the kill without being acknowledged:
            # the item may or may not be there.
            self.present.discard(args[0])
        elif kind == "del":
            self.present.discard(args[0])
            self.deleted.add(args[0])
        elif kind == "batch":
            self.batches[args[0]] = int(args[1])
        elif kind == "txn":
            self.transactions[args[0]] = int(args[1])
        elif kind == "ready":
            self.used_transactions = args[0] == "1"


def _run_child(path: Path, run: int, expected: Expected, kill_after: float) -> int:
    """Start a writer, SIGKILL it ``kill_after`` seconds after it is ready; returns acks seen."""
    env = dict(os.environ, PYTHONPATH=str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    child = subprocess.Popen(
        [sys.executable, "-c", CHILD, str(path), str(run), str(run * 7919)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
        cwd=ROOT,
    )
    assert child.stdout is not None and child.stderr is not None
    ready = threading.Event()
    lines: list[str] = []

    def read() -> None:
        assert child.stdout is not None
        for line in child.stdout:
            if line.endswith("\n"):  # a line cut by the kill is no acknowledgement
                lines.append(line.strip())
            ready.set()

    reader = threading.Thread(target=read)
    reader.start()
    try:
        if not ready.wait(30):
            child.kill()
            pytest.fail("the writer never became ready: " + child.stderr.read())
        time.sleep(kill_after)
        os.kill(child.pid, signal.SIGKILL)
        child.wait(10)
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()
        reader.join(10)
        child.stdout.close()
        stderr = child.stderr.read()
        child.stderr.close()
    assert child.returncode == -signal.SIGKILL, stderr
    for line in lines:
        expected.acknowledge(line)
    return len(lines) - 1


def _check(path: Path, expected: Expected) -> None:
    engine = LocalEngine(DurableStorage(path))
    try:
        table = engine.tables["crash"]
        keys: dict[str, set[str]] = {}
        counter = 0
        for _, _, item in table.store.scan():
            pk, sk = item["PK"]["S"], item["SK"]["S"]
            if pk == "counter":
                counter = int(item["n"]["N"])
                continue
            keys.setdefault(pk, set()).add(sk)
        singles = keys.pop("single", set())
        assert expected.present <= singles, expected.present - singles
        assert not (expected.deleted & singles), expected.deleted & singles
        transactions = 0
        for pk, sks in keys.items():
            group, name = pk.split("#")
            # All of a group or nothing: its sort keys are exactly 0..count-1.
            assert sks == {str(j) for j in range(len(sks))}, (pk, sorted(sks))
            promised = (expected.batches if group == "batch" else expected.transactions).get(name)
            if promised is not None:
                assert len(sks) == promised, (pk, len(sks), promised)
            if group == "txn":
                transactions += 1
        for name in expected.batches:
            assert f"batch#{name}" in keys, f"acknowledged batch {name} is missing"
        for name in expected.transactions:
            assert f"txn#{name}" in keys, f"acknowledged transaction {name} is missing"
        assert counter == transactions
    finally:
        engine.close()


def test_sigkill_never_loses_an_acknowledged_write(tmp_path: Path) -> None:
    path = tmp_path / "crash.db"
    rng = random.Random(20240601)
    expected = Expected()
    acknowledged = 0
    for run in range(1, 7):
        acknowledged += _run_child(path, run, expected, kill_after=rng.uniform(0.02, 0.3))
        _check(path, expected)
    # The test wrote enough to mean something (hundreds of acknowledged writes).
    assert acknowledged > 100, acknowledged
    assert expected.batches
    if expected.used_transactions:
        assert expected.transactions


def test_check_can_fail(tmp_path: Path) -> None:
    """The checker notices a missing acknowledged write and a half-applied batch."""
    path = tmp_path / "check.db"
    engine = LocalEngine(DurableStorage(path))
    engine.call(
        "CreateTable",
        {
            "TableName": "crash",
            "BillingMode": "PAY_PER_REQUEST",
            "AttributeDefinitions": [
                {"AttributeName": "PK", "AttributeType": "S"},
                {"AttributeName": "SK", "AttributeType": "S"},
            ],
            "KeySchema": [
                {"AttributeName": "PK", "KeyType": "HASH"},
                {"AttributeName": "SK", "KeyType": "RANGE"},
            ],
        },
    )
    item: dict[str, Any] = {"PK": {"S": "batch#1-1"}, "SK": {"S": "1"}}
    engine.call("PutItem", {"TableName": "crash", "Item": item})  # 1 without 0
    engine.close()
    with pytest.raises(AssertionError):
        _check(path, Expected())
    missing = Expected()
    missing.present.add("9-9")
    engine = LocalEngine(DurableStorage(path))
    engine.call("DeleteItem", {"TableName": "crash", "Key": item})
    engine.close()
    with pytest.raises(AssertionError):
        _check(path, missing)
