"""The command line's shared options: ``--version``, a model given as a file path,
``--profile``/``--region``/``--endpoint-url`` (boto3's credential chain), and the
progress lines of ``data export`` (total, ETA, terminal or log)."""

from __future__ import annotations

import argparse
import io
import json
import os
import pty
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from singletable import cli
from singletable.backends.engine import LocalBackend
from singletable.cli import UsageError, _aws, _main, _progress
from singletable.server import Server

ROOT = Path(__file__).parents[2]
ENV = {**os.environ, "PYTHONPATH": str(ROOT)}


def _cli(*argv: str, cwd: Path = ROOT, stderr: int | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "singletable.cli", *argv],
        cwd=cwd,
        env=ENV,
        capture_output=stderr is None,
        stderr=stderr,
        text=True,
        timeout=120,
    )


# -- --version ------------------------------------------------------------------------------


def test_version_prints_the_installed_version() -> None:
    from importlib.metadata import version

    result = _cli("--version")
    assert result.returncode == 0
    assert result.stdout == f"singletable {version('singletable')}\n"


# -- a model as a file path -----------------------------------------------------------------

PACKAGE_MODEL = """
from singletable import Entity, Keys, Query, Table

from .shared import TABLE_NAME

app = Table(TABLE_NAME)


class Note(Entity, table=app):
    owner: str
    note_id: str
    keys = Keys(pk="OWNER#{owner}", sk="NOTE#{note_id}")
    for_owner = Query()
"""


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """A project whose model is a module in a package, with a relative import."""
    package = tmp_path / "proj" / "notesapp"
    package.mkdir(parents=True)
    (package / "__init__.py").write_text("")
    (package / "shared.py").write_text('TABLE_NAME = "notes"\n')
    (package / "models.py").write_text(textwrap.dedent(PACKAGE_MODEL))
    return tmp_path


def test_report_takes_a_file_path(project: Path) -> None:
    result = _cli("report", "proj/notesapp/models.py", cwd=project)
    assert result.returncode == 0, result.stderr
    assert "Note.for_owner" in result.stdout and "OWNER#{owner}" in result.stdout


def test_a_file_path_works_wherever_a_module_is_taken(project: Path) -> None:
    exported = _cli("tables", "export", "proj/notesapp/models.py:notes", "--format",
                    "cloudformation", cwd=project)  # fmt: skip
    assert exported.returncode == 0, exported.stderr
    assert json.loads(exported.stdout)["Resources"]["NotesTable"]["Properties"]["TableName"] == (
        "notes"
    )
    explained = _cli("explain", str(project / "proj/notesapp/models.py") + ":Note.for_owner",
                     "owner=o1", cwd=ROOT)  # fmt: skip
    assert explained.returncode == 0, explained.stderr
    assert json.loads(explained.stdout)["request"]["TableName"] == "notes"


def test_a_missing_file_is_one_line(tmp_path: Path) -> None:
    result = _cli("report", "nowhere/models.py", cwd=tmp_path)
    assert result.returncode == 2
    assert result.stderr == "singletable: error: no Python file at nowhere/models.py\n"


# -- --profile / --region / --endpoint-url ---------------------------------------------------

AWS_CONFIG = """
[profile tester]
region = eu-west-3
aws_access_key_id = AKIDPROFILETESTER
aws_secret_access_key = profile-secret
"""


@pytest.fixture
def aws_config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An AWS config file with a profile ``tester`` (its own key, region eu-west-3)."""
    path = tmp_path / "aws-config"
    path.write_text(textwrap.dedent(AWS_CONFIG))
    monkeypatch.setenv("AWS_CONFIG_FILE", str(path))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "no-credentials"))
    return path


def _args(*argv: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    _aws.add_arguments(parser)
    return parser.parse_args(argv)


def test_the_profile_signs_the_requests(aws_config: Path, tmp_path: Path) -> None:
    # The server accepts only the profile's key: the command gets through with
    # --profile, and is refused with the environment's key without it.
    with Server(credentials={"AKIDPROFILETESTER": "profile-secret"}) as server:
        LocalBackend(server.engine).call(
            "CreateTable",
            {
                "TableName": "things",
                "BillingMode": "PAY_PER_REQUEST",
                "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}],
                "AttributeDefinitions": [{"AttributeName": "pk", "AttributeType": "S"}],
            },
        )
        env_key = os.environ["AWS_ACCESS_KEY_ID"]
        assert env_key != "AKIDPROFILETESTER"
        where = ["--endpoint-url", server.url]
        assert cli.main(["tables", "describe", "things", *where, "--profile", "tester"]) == 0
        assert cli.main(["tables", "describe", "things", *where]) == 2
        out = tmp_path / "things.jsonl"
        argv = ["data", "export", "things", "-o", str(out), *where, "--profile", "tester"]
        assert cli.main(argv) == 0
        assert out.read_text() == ""


def test_region_comes_from_the_option_the_profile_or_the_endpoint_fallback(
    aws_config: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("AWS_DEFAULT_REGION", raising=False)
    monkeypatch.delenv("AWS_REGION", raising=False)
    # Nothing is sent: these only build the client and look at where it would go.
    with _aws.connect(_args("--profile", "tester")) as backend:
        assert backend.client.meta.region_name == "eu-west-3"
        assert backend.client.meta.endpoint_url == "https://dynamodb.eu-west-3.amazonaws.com"
    with _aws.connect(_args("--profile", "tester", "--region", "ap-south-1")) as backend:
        assert backend.client.meta.region_name == "ap-south-1"
    local = _args("--endpoint-url", "http://127.0.0.1:9")
    with _aws.connect(local) as backend:
        assert backend.client.meta.region_name == "us-east-1"  # the endpoint ignores it
        assert backend.client.meta.endpoint_url == "http://127.0.0.1:9"
    with pytest.raises(UsageError, match="no AWS region"):
        _aws.connect(_args())
    with pytest.raises(UsageError, match=r"cannot connect to DynamoDB: .*nobody"):
        _aws.connect(_args("--profile", "nobody", "--region", "eu-west-1"))


def test_every_command_with_an_endpoint_takes_profile_and_region() -> None:
    parser = _main._parser()
    for argv in (["data", "export", "T", "-o", "f"], ["data", "import", "T", "-i", "f"],
                 ["tables", "create", "m"], ["tables", "describe", "T"],
                 ["tables", "delete", "T"]):  # fmt: skip
        args = parser.parse_args([*argv, "--profile", "p", "--region", "r"])
        assert (args.profile, args.region, args.endpoint_url) == ("p", "r", None)
    for argv in (["migrate", "plan", "a", "b"], ["migrate", "run", "a", "b"]):
        args = parser.parse_args([*argv, "--profile", "p", "--region", "r"])
        assert (args.profile, args.region, args.endpoint_url) == ("p", "r", None)
    # report reads a sample at an endpoint (--sample URL) or in DynamoDB (--sample)
    args = parser.parse_args(["report", "m", "--sample", "--profile", "p", "--region", "r"])
    assert (args.profile, args.region, args.sample) == ("p", "r", "aws")
    args = parser.parse_args(["report", "m", "--sample", "http://127.0.0.1:9", "--region", "r"])
    assert (args.region, args.sample) == ("r", "http://127.0.0.1:9")


def test_report_samples_with_the_profile(aws_config: Path, tmp_path: Path) -> None:
    with Server(credentials={"AKIDPROFILETESTER": "profile-secret"}) as server:
        LocalBackend(server.engine).call(
            "CreateTable",
            {
                "TableName": "things",
                "BillingMode": "PAY_PER_REQUEST",
                "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}],
                "AttributeDefinitions": [{"AttributeName": "pk", "AttributeType": "S"}],
            },
        )
        model = tmp_path / "things_model.py"
        model.write_text(
            "from singletable import Entity, Keys, Table\n"
            "things = Table('things', pk='pk', sk=None)\n"
            "class Thing(Entity, table=things):\n"
            "    thing_id: str\n"
            "    keys = Keys(pk='THING#{thing_id}')\n"
        )
        argv = ["report", str(model), "--sample", server.url, "-o", str(tmp_path / "r.md")]
        assert cli.main([*argv, "--profile", "tester"]) == 0
        assert cli.main(argv) == 2  # the environment's key is refused


# -- progress ------------------------------------------------------------------------------


@pytest.fixture
def data_file(tmp_path: Path) -> Path:
    path = tmp_path / "app.db"
    with LocalBackend(path=path) as backend:
        backend.call(
            "CreateTable",
            {
                "TableName": "Tab",
                "BillingMode": "PAY_PER_REQUEST",
                "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}],
                "AttributeDefinitions": [{"AttributeName": "pk", "AttributeType": "S"}],
            },
        )
        for n in range(40):
            backend.call("PutItem", {"TableName": "Tab", "Item": {"pk": {"S": f"k{n}"}}})
    return path


def test_export_progress_in_a_log_is_plain_periodic_lines(
    data_file: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:  # fmt: skip
    monkeypatch.setattr(_progress, "PLAIN_EVERY", 0.0)  # a line per page
    out = tmp_path / "out.jsonl"
    argv = ["data", "export", "Tab", "-o", str(out), "--data", str(data_file), "--page-size", "10"]
    assert cli.main(argv) == 0
    err = capsys.readouterr().err
    assert "\r" not in err
    lines = err.splitlines()
    # The total is DescribeTable's ItemCount, marked approximate; an ETA until done.
    assert lines[0].startswith("Tab: 10 of ~40 items exported (25%, ETA ")
    assert lines[1].startswith("Tab: 20 of ~40 items exported (50%, ETA ")
    assert lines[-1] == "Tab: 40 of ~40 items exported (done)"
    assert len(lines) == 5  # pages of 10, 20, 30 and 40 (the last is the final line)


def test_export_progress_in_a_log_is_throttled(
    data_file: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "out.jsonl"
    argv = ["data", "export", "Tab", "-o", str(out), "--data", str(data_file), "--page-size", "1"]
    assert cli.main(argv) == 0
    lines = capsys.readouterr().err.splitlines()
    assert len(lines) == 2  # the first page, then (well within 5 s) the final line
    assert lines[-1] == "Tab: 40 of ~40 items exported (done)"


def test_export_progress_on_a_terminal_is_one_live_line(data_file: Path, tmp_path: Path) -> None:
    controller, terminal = pty.openpty()
    try:
        result = _cli("data", "export", "Tab", "-o", str(tmp_path / "out.jsonl"), "--data",
                      str(data_file), "--page-size", "10", stderr=terminal)  # fmt: skip
        os.close(terminal)
        terminal = -1
        shown = b""
        while True:
            try:
                chunk = os.read(controller, 4096)
            except OSError:  # EIO: the other side is closed and everything was read
                break
            if not chunk:
                break
            shown += chunk
    finally:
        os.close(controller)
        if terminal != -1:
            os.close(terminal)
    assert result.returncode == 0
    text = shown.decode().replace("\r\n", "\n")  # the terminal turns \n into \r\n
    assert text.startswith("\rTab: 10 of ~40 items exported (25%, ETA ")
    assert text.rstrip(" \n").endswith("\rTab: 40 of ~40 items exported (done)")
    assert text.endswith("\n")
    assert text.count("\n") == 1  # updates rewrite the line in place


def test_a_live_line_is_blanked_and_ended() -> None:
    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    stream = Terminal()
    progress = _progress.Progress("Tab", "exported", 1000, approximate=True, stream=stream)
    progress.update(500)
    progress.stop()  # interrupted: the line is ended before the message that follows
    assert stream.getvalue().startswith("\rTab: 500 of ~1000 items exported (50%")
    assert stream.getvalue().endswith(")\n")
    stream = Terminal()
    progress = _progress.Progress("Tab", "exported", None, stream=stream)
    progress.update(1234567890)
    progress.update(7, final=True)  # blanks what the longer line before it left
    assert stream.getvalue() == "\rTab: 1234567890 items exported\rTab: 7 items exported (done)  \n"


def test_the_eta_is_hours_minutes_seconds() -> None:
    assert _progress._clock(5) == "0:05"
    assert _progress._clock(125) == "2:05"
    assert _progress._clock(3 * 3600 + 61) == "3:01:01"
