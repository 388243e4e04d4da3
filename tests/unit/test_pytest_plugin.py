"""The pytest plugin's fixtures, used as any project would use them (the plugin is
registered through the pytest11 entry point of the installed package)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import boto3
import pytest

from singletable import DB, Entity, Keys, Query, Table
from singletable.backends.local.engine import LocalEngine
from singletable.server import Server

app = Table("plugin_app", ttl_attribute=None)


class Note(Entity, table=app):
    user_id: str
    note_id: str
    text: str

    keys = Keys(pk="USER#{user_id}", sk="NOTE#{note_id}")
    for_user = Query()


def test_the_plugin_is_registered(pytestconfig: pytest.Config) -> None:
    assert pytestconfig.pluginmanager.has_plugin("singletable")


def test_singletable_db_creates_the_tables_entities_need(
    singletable_db: Callable[..., DB], dynamodb_engine: LocalEngine
) -> None:
    db = singletable_db(Note, app)  # the same table twice: created once
    db.put(Note(user_id="u1", note_id="n1", text="hello"))
    assert [n.text for n in db.query(Note.for_user, user_id="u1")] == ["hello"]
    assert dynamodb_engine.call("ListTables", {})["TableNames"] == ["plugin_app"]


def test_each_test_gets_a_fresh_engine(dynamodb_engine: LocalEngine) -> None:
    assert dynamodb_engine.call("ListTables", {})["TableNames"] == []


def test_dynamodb_client_routes_boto3_code_to_the_engine(
    dynamodb_client: Any, dynamodb_engine: LocalEngine
) -> None:
    dynamodb_client.create_table(**app.create_table_request())
    other = boto3.client("dynamodb", region_name="us-east-1")  # code under test's own client
    assert other.list_tables()["TableNames"] == ["plugin_app"]
    assert "plugin_app" in dynamodb_engine.tables


def test_dynamodb_server_is_a_running_endpoint(dynamodb_server: Server) -> None:
    client = boto3.client("dynamodb", endpoint_url=dynamodb_server.url, region_name="us-east-1")
    assert client.list_tables()["TableNames"] == []
