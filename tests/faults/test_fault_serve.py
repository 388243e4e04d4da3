"""``singletable serve --faults FILE``: fault rules for a served engine, off by default
and refused where anyone could reach them."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

SERVING = re.compile(r"serving DynamoDB on (http://127\.0\.0\.1:\d+) \((.*)\)")


@contextmanager
def serve(*args: str) -> Iterator[str]:
    """Run ``singletable serve --port 0 ARGS``; yields its URL, killed after."""
    process = subprocess.Popen(
        [sys.executable, "-m", "singletable.cli", "serve", "--port", "0", *args],
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stderr is not None
        line = process.stderr.readline()
        match = SERVING.search(line)
        assert match, f"unexpected first line: {line!r}"
        assert "1 fault rule(s) injected" in match.group(2)
        yield match.group(1)
    finally:
        process.kill()
        process.wait(10)
        if process.stderr is not None:
            process.stderr.close()


def _rules(tmp_path: Path, rules: Any) -> str:
    path = tmp_path / "faults.json"
    path.write_text(json.dumps(rules), encoding="utf-8")
    return str(path)


def test_served_engine_answers_with_the_injected_fault(tmp_path: Path) -> None:
    rules = _rules(
        tmp_path,
        [{"error": "ProvisionedThroughputExceededException", "operation": "PutItem", "nth": 2}],
    )
    with serve("--faults", rules) as url:
        client = boto3.client(
            "dynamodb",
            endpoint_url=url,
            region_name="us-east-1",
            config=Config(retries={"total_max_attempts": 1, "mode": "standard"}),
        )
        client.create_table(
            TableName="tbl",
            KeySchema=[{"AttributeName": "PK", "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": "PK", "AttributeType": "S"}],
            BillingMode="PAY_PER_REQUEST",
        )
        client.put_item(TableName="tbl", Item={"PK": {"S": "a"}})
        with pytest.raises(ClientError) as raised:
            client.put_item(TableName="tbl", Item={"PK": {"S": "b"}})
        error = raised.value.response
        assert error["Error"]["Code"] == "ProvisionedThroughputExceededException"
        assert error["ResponseMetadata"]["HTTPStatusCode"] == 400
        client.put_item(TableName="tbl", Item={"PK": {"S": "c"}})
        assert client.scan(TableName="tbl", Select="COUNT")["Count"] == 2
        client.close()


def _refused(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "singletable.cli", "serve", "--port", "0", *args],
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_faults_on_a_public_address_need_auth(tmp_path: Path) -> None:
    rules = _rules(tmp_path, [{"error": "ThrottlingException"}])
    result = _refused("--host", "0.0.0.0", "--faults", rules)
    assert result.returncode != 0
    assert "--faults on 0.0.0.0 (not a loopback address) needs --require-auth" in result.stderr


@pytest.mark.parametrize(
    ("rules", "problem"),
    [
        ({"error": "ThrottlingException"}, "expected a JSON list of objects"),
        ([{"error": "Nope"}], "unknown error 'Nope'"),
        ([{"eror": "ThrottlingException"}], "unexpected keyword argument"),
    ],
)
def test_bad_rule_files_are_refused(tmp_path: Path, rules: Any, problem: str) -> None:
    result = _refused("--faults", _rules(tmp_path, rules))
    assert result.returncode != 0
    assert problem in result.stderr
