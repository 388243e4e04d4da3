"""``singletable serve`` as users run it: a separate process, stopped by a signal."""

from __future__ import annotations

import http.client
import os
import re
import signal
import socket
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError

from singletable.backends.local.engine import LocalEngine

REGION = "us-east-1"
SERVING = re.compile(r"serving DynamoDB on (http://127\.0\.0\.1:(\d+)) \((.*)\)")


@contextmanager
def serve(
    *args: str, env: dict[str, str] | None = None
) -> Iterator[tuple[subprocess.Popen[str], str]]:
    """Run ``singletable serve --port 0 ARGS``; yields the process and its URL."""
    process = subprocess.Popen(
        [sys.executable, "-m", "singletable.cli", "serve", "--port", "0", *args],
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    try:
        assert process.stderr is not None
        line = process.stderr.readline()
        match = SERVING.search(line)
        assert match, f"unexpected first line: {line!r}"
        yield process, match.group(1)
    finally:
        if process.poll() is None:
            process.kill()
        process.wait(10)
        if process.stderr is not None:
            process.stderr.close()


def _client(url: str, **extra: Any) -> Any:
    return boto3.client("dynamodb", endpoint_url=url, region_name=REGION, **extra)


def _create(client: Any) -> None:
    client.create_table(
        TableName="tbl",
        KeySchema=[{"AttributeName": "PK", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "PK", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )


@pytest.mark.parametrize("stop_signal", [signal.SIGTERM, signal.SIGINT])
def test_durable_data_survives_a_signal_stop(tmp_path: Path, stop_signal: int) -> None:
    data = tmp_path / "app.db"
    with serve("--data", str(data)) as (process, url):
        client = _client(url)
        _create(client)
        with (
            boto3.resource("dynamodb", endpoint_url=url, region_name=REGION)
            .Table("tbl")
            .batch_writer() as batch
        ):
            for n in range(300):
                batch.put_item(Item={"PK": f"item-{n}", "n": n})
        process.send_signal(stop_signal)
        assert process.wait(10) == 0
        assert process.stderr is not None
        assert "stopped" in process.stderr.read()
    with LocalEngine(path=data) as engine:  # the file is closed and complete
        count = engine.call("Scan", {"TableName": "tbl", "Select": "COUNT"})["Count"]
        assert count == 300
    with serve("--data", str(data)) as (process, url):
        item = _client(url).get_item(TableName="tbl", Key={"PK": {"S": "item-7"}})["Item"]
        assert item == {"PK": {"S": "item-7"}, "n": {"N": "7"}}
        process.send_signal(signal.SIGTERM)
        assert process.wait(10) == 0


def test_in_memory_by_default_and_debug_logs_each_request() -> None:
    with serve("--log-level", "debug") as (process, url):
        client = _client(url)
        assert client.list_tables()["TableNames"] == []
        with pytest.raises(ClientError):
            client.describe_table(TableName="missing")
        process.send_signal(signal.SIGTERM)
        assert process.wait(10) == 0
        assert process.stderr is not None
        log = process.stderr.read()
    assert re.search(r"POST ListTables 200 \d+B [\d.]+ms", log)
    assert re.search(r"POST DescribeTable 400 \d+B [\d.]+ms", log)


def test_require_auth_takes_the_key_from_the_environment() -> None:
    env = {
        **os.environ,
        "SINGLETABLE_ACCESS_KEY_ID": "AKIDSERVE",
        "SINGLETABLE_SECRET_ACCESS_KEY": "s3cret",
    }
    with serve("--require-auth", env=env) as (process, url):
        ok = _client(url, aws_access_key_id="AKIDSERVE", aws_secret_access_key="s3cret")
        assert ok.list_tables()["TableNames"] == []
        bad = _client(url, aws_access_key_id="AKIDSERVE", aws_secret_access_key="guess")
        with pytest.raises(ClientError) as caught:
            bad.list_tables()
        assert caught.value.response["Error"]["Code"] == "InvalidSignatureException"
        process.send_signal(signal.SIGTERM)
        assert process.wait(10) == 0


def _run(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "singletable.cli", *args],
        capture_output=True,
        text=True,
        timeout=30,
        env=env,
    )


def test_a_taken_port_is_one_line_and_exit_status_2() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = _run("serve", "--port", str(port))
    assert result.returncode == 2
    assert result.stderr == (
        f"singletable: error: cannot listen on 127.0.0.1:{port}: Address already in use\n"
    )


def test_require_auth_without_a_key_is_refused() -> None:
    env = {
        name: value
        for name, value in os.environ.items()
        if not name.endswith(("ACCESS_KEY_ID", "SECRET_ACCESS_KEY"))
    }
    result = _run("serve", "--require-auth", env=env)
    assert result.returncode == 2
    assert result.stderr.startswith("singletable: error: --require-auth needs an access key id")


def test_a_data_file_that_is_not_ours_is_refused(tmp_path: Path) -> None:
    bogus = tmp_path / "notes.txt"
    bogus.write_text("not a database\n" * 100)
    result = _run("serve", "--port", "0", "--data", str(bogus))
    assert result.returncode == 2
    assert result.stderr.startswith("singletable: error: ")
    assert str(bogus) in result.stderr
    assert "Traceback" not in result.stderr


def test_the_connection_limits_are_options_of_serve() -> None:
    with serve("--idle-timeout", "0.5", "--header-timeout", "0.5", "--max-connections", "2") as (
        process,
        url,
    ):
        port = int(url.rsplit(":", 1)[1])
        with socket.create_connection(("127.0.0.1", port), timeout=10) as idle:
            idle.settimeout(5)
            assert idle.recv(1024) == b""  # closed by the server after 0.5 s idle
        assert _client(url).list_tables()["TableNames"] == []
        process.send_signal(signal.SIGTERM)
        assert process.wait(10) == 0


@pytest.mark.parametrize(
    "option", [("--max-connections", "0"), ("--idle-timeout", "0"), ("--header-timeout", "-2")]
)
def test_a_limit_that_is_not_positive_is_refused(option: tuple[str, str]) -> None:
    result = _run("serve", "--port", "0", *option)
    assert result.returncode == 2
    assert result.stderr.startswith("singletable: error: ")
    assert "must be" in result.stderr


def test_cors_origins_are_an_option_of_serve() -> None:
    with serve("--cors-origin", "http://localhost:3000") as (process, url):
        port = int(url.rsplit(":", 1)[1])
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        conn.request(
            "OPTIONS",
            "/",
            headers={"Origin": "http://localhost:3000", "Access-Control-Request-Method": "POST"},
        )
        response = conn.getresponse()
        response.read()
        assert response.status == 200
        assert response.getheader("Access-Control-Allow-Origin") == "http://localhost:3000"
        conn.close()
        process.send_signal(signal.SIGTERM)
        assert process.wait(10) == 0


def test_a_signal_right_after_start_stops_the_server() -> None:
    """The handler only sets a flag; the loop sees it even when the signal came
    before the loop started waiting (or was delivered to another thread)."""
    for stop_signal in (signal.SIGTERM, signal.SIGINT):
        with serve() as (process, _):
            process.send_signal(stop_signal)
            assert process.wait(10) == 0
