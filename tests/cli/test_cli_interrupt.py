"""Ctrl-C during ``data export`` / ``data import``: a real SIGINT sent to the running
command. It stops with one line on stderr giving the exact command that resumes it,
no traceback, exit status 130; running that command finishes the job."""

from __future__ import annotations

import json
import os
import shlex
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import IO, Any

import pytest

from singletable.backends.engine import LocalBackend
from singletable.cli._interrupt import Interrupted, resumable, resume_hint

ROOT = Path(__file__).parents[2]
ENV = {**os.environ, "PYTHONPATH": str(ROOT)}
ITEMS = 500


def _create(backend: LocalBackend, name: str) -> None:
    backend.call(
        "CreateTable",
        {
            "TableName": name,
            "BillingMode": "PAY_PER_REQUEST",
            "KeySchema": [
                {"AttributeName": "pk", "KeyType": "HASH"},
                {"AttributeName": "sk", "KeyType": "RANGE"},
            ],
            "AttributeDefinitions": [
                {"AttributeName": "pk", "AttributeType": "S"},
                {"AttributeName": "sk", "AttributeType": "N"},
            ],
        },
    )


def _item(n: int) -> dict[str, Any]:
    return {"pk": {"S": f"p{n % 50}"}, "sk": {"N": str(n)}, "body": {"S": "x" * 40}}


@pytest.fixture(scope="module")
def data_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("interrupt") / "app.db"
    with LocalBackend(path=path) as backend:
        _create(backend, "Source")
        _create(backend, "Target")
        for start in range(0, ITEMS, 25):
            chunk = [{"PutRequest": {"Item": _item(n)}} for n in range(start, start + 25)]
            backend.call("BatchWriteItem", {"RequestItems": {"Source": chunk}})
    return path


def _start(argv: list[str], cwd: Path) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "singletable.cli", *argv],
        cwd=cwd,
        env=ENV,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _wait_for_line(stream: IO[str], prefix: str) -> str:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        line = stream.readline()
        assert line, "the command ended before printing progress"
        if line.startswith(prefix):
            return line
    raise AssertionError("no progress line within 60 s")


def _interrupt(process: subprocess.Popen[str], progress: str) -> tuple[int, str]:
    """Send SIGINT once the command printed a progress line; its status and stderr."""
    assert process.stderr is not None
    _wait_for_line(process.stderr, progress)
    process.send_signal(signal.SIGINT)
    _, rest = process.communicate(timeout=60)
    return process.returncode, rest


def _resume_command(stderr: str) -> list[str]:
    lines = [line for line in stderr.splitlines() if line.startswith("singletable:")]
    assert len(lines) == 1, stderr
    prefix = "singletable: interrupted; to resume run: "
    assert lines[0].startswith(prefix), stderr
    words = shlex.split(lines[0][len(prefix) :])
    assert words[0] == "singletable" and words[-1] == "--resume"
    return words[1:]


def _run(argv: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "singletable.cli", *argv],
        cwd=cwd,
        env=ENV,
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_sigint_stops_an_export_with_the_command_that_resumes_it(
    data_file: Path, tmp_path: Path
) -> None:
    argv = ["data", "export", "Source", "-o", "out file.jsonl", "--data", str(data_file),
            "--page-size", "2"]  # fmt: skip
    status, stderr = _interrupt(_start(argv, tmp_path), "Source: ")
    assert status == 130
    assert "Traceback" not in stderr and "KeyboardInterrupt" not in stderr
    resume = _resume_command(stderr)
    assert resume == [*argv, "--resume"]  # the exact command, quoted for the shell
    out = tmp_path / "out file.jsonl"
    assert (tmp_path / "out file.jsonl.state").exists()
    assert 0 < len(out.read_bytes().splitlines()) < ITEMS

    resumed = _run(resume, tmp_path)
    assert resumed.returncode == 0, resumed.stderr
    keys = sorted(int(json.loads(line)["Item"]["sk"]["N"]) for line in out.read_text().splitlines())
    assert keys == list(range(ITEMS))
    assert not (tmp_path / "out file.jsonl.state").exists()


def test_sigint_stops_an_import_with_the_command_that_resumes_it(
    data_file: Path, tmp_path: Path
) -> None:
    source = tmp_path / "in.jsonl"
    count = 20_000
    with source.open("w", encoding="utf-8") as lines:
        for n in range(count):
            lines.write(json.dumps({"Item": _item(n)}) + "\n")
    argv = ["data", "import", "Target", "-i", str(source), "--data", str(data_file)]
    # The first progress line comes after the file was validated, as writing starts.
    status, stderr = _interrupt(_start(argv, tmp_path), "Target: 0 of 20000")
    assert status == 130
    assert "Traceback" not in stderr
    resume = _resume_command(stderr)
    assert resume == [*argv, "--resume"]
    state = json.loads((tmp_path / "in.jsonl.import.state").read_text())
    assert state["Line"] < count

    resumed = _run(resume, tmp_path)
    assert resumed.returncode == 0, resumed.stderr
    assert f"resuming after line {state['Line']}" in resumed.stderr
    assert resumed.stderr.splitlines()[-1] == f"Target: {count} of {count} items imported (done)"
    with LocalBackend(path=data_file) as backend:
        described = backend.call("DescribeTable", {"TableName": "Target"})
    assert described["Table"]["ItemCount"] == count


def test_interrupted_before_anything_was_recorded_says_to_run_again(tmp_path: Path) -> None:
    with pytest.raises(Interrupted) as raised, resumable(
        lambda: resume_hint(["data", "export", "T", "-o", "x y"], str(tmp_path / "none"))
    ):
        raise KeyboardInterrupt
    assert str(raised.value) == (
        "interrupted before anything was recorded; run again: singletable data export T -o 'x y'"
    )


def test_a_resume_hint_never_repeats_the_flag(tmp_path: Path) -> None:
    state = tmp_path / "state"
    state.write_text("{}")
    hint = resume_hint(["data", "import", "T", "-i", "f", "--resume"], str(state))
    assert hint == "interrupted; to resume run: singletable data import T -i f --resume"
