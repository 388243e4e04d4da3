"""Fixtures of the HTTP endpoint's tests: a running ``singletable serve`` per test.

The server is the pytest plugin's ``dynamodb_server`` (singletable.pytest_plugin).
"""

from __future__ import annotations

from typing import Any

import boto3
import pytest

from singletable.server import Server

REGION = "us-east-1"


@pytest.fixture
def server(dynamodb_server: Server) -> Server:
    """A fresh in-memory server on a free port of 127.0.0.1, stopped after the test."""
    return dynamodb_server


@pytest.fixture
def client(server: Server) -> Any:
    """A boto3 DynamoDB client pointed at ``server``."""
    return boto3.client("dynamodb", endpoint_url=server.url, region_name=REGION)
