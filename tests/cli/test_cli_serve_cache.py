"""``singletable serve --cache-size``: the item cache of a durable engine (issue 19)."""

from __future__ import annotations

import argparse
from pathlib import Path

import pytest

from singletable.backends.local.durable import DurableStorage
from singletable.cli import UsageError, _serve
from singletable.server import Server


def _args(*argv: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="singletable")
    _serve.register(parser.add_subparsers(dest="command", required=True))
    return parser.parse_args(["serve", *argv])


@pytest.mark.parametrize(
    ("text", "size"),
    [
        ("1048576", 1 << 20),
        ("512K", 512 << 10),
        ("64M", 64 << 20),
        ("2G", 2 << 30),
        ("1.5GiB", 3 << 29),
        ("64mb", 64 << 20),
    ],
)
def test_sizes_are_read_with_binary_units(text: str, size: int) -> None:
    assert _args("--data", "x.db", "--cache-size", text).cache_size == size


@pytest.mark.parametrize("text", ["big", "-1M", "inf", "nan", "1e30", ""])
def test_a_size_that_is_not_one_is_refused(text: str, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        _args("--data", "x.db", f"--cache-size={text}")
    assert "not a size" in capsys.readouterr().err


def test_a_cache_size_without_a_data_file_is_refused() -> None:
    with pytest.raises(UsageError, match=r"--cache-size .* --data"):
        _serve.run(_args("--port", "0", "--cache-size", "64M"))


def test_the_server_gives_the_size_to_its_durable_engine(tmp_path: Path) -> None:
    server = Server(data=tmp_path / "data.db", cache_bytes=8 << 20)
    try:
        storage = server.engine.regions.base
        assert isinstance(storage, DurableStorage)
        assert storage.cache.capacity == 8 << 20
    finally:
        server.stop()
