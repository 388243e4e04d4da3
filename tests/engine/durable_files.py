"""Helpers for tests of durable files: tracing their SQL, failing their commits."""

from __future__ import annotations

import sqlite3
from typing import Any

import pytest

from singletable.backends.local import _durable_file


def traced(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The SQL statements of every durable file opened from now on."""
    statements: list[str] = []
    connect = sqlite3.connect

    def tracing(*args: Any, **kwargs: Any) -> sqlite3.Connection:
        conn = connect(*args, **kwargs)
        conn.set_trace_callback(statements.append)
        return conn

    monkeypatch.setattr(_durable_file.sqlite3, "connect", tracing)
    return statements


def reads_items(statements: list[str]) -> list[str]:
    """The statements that read keys or bodies (not the one step to the last body id)."""
    return [
        sql
        for sql in statements
        if ("FROM keys" in sql or "FROM bodies" in sql or "FROM items" in sql)
        and "max(id)" not in sql
    ]


class FailingConnection:
    """An sqlite3 connection whose COMMITs fail while ``armed``."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self._conn = conn
        self.armed = False

    def execute(self, sql: str, *args: Any) -> Any:
        if self.armed and sql.strip().upper() == "COMMIT":
            raise sqlite3.OperationalError("database or disk is full")
        return self._conn.execute(sql, *args)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._conn, name)
