"""DescribeEndpoints and DescribeLimits: questions about the service, not a table.

API Reference, DescribeEndpoints (one endpoint, cached 1440 minutes) and DescribeLimits;
Developer Guide, "Quotas in Amazon DynamoDB" (default capacity quotas: 80,000 read and
write units per account, 40,000 per table).
"""

from __future__ import annotations

import os
from typing import Any
from urllib.parse import urlsplit

import pytest
from ddbtest import REGION, Backend

MOTO_DIFFERENCES = {
    "limits": "moto reports 20,000 (account) and 10,000 (table) units; DynamoDB's default quotas "
    "are 80,000 and 40,000.",
}


def test_describe_endpoints_answers_this_endpoint(db: Backend, ddb: Any) -> None:
    response = ddb.describe_endpoints()
    assert len(response["Endpoints"]) == 1
    endpoint = response["Endpoints"][0]
    assert endpoint["CachePeriodInMinutes"] == 1440
    if db.name == "http":
        # The server's own host and port: the endpoint this client is talking to.
        assert endpoint["Address"] == urlsplit(os.environ["AWS_ENDPOINT_URL_DYNAMODB"]).netloc
    else:
        assert endpoint["Address"] == f"dynamodb.{REGION}.amazonaws.com"


@pytest.mark.moto_differs("limits")
def test_describe_limits_reports_the_default_quotas(ddb: Any) -> None:
    response = ddb.describe_limits()
    assert {key: value for key, value in response.items() if key != "ResponseMetadata"} == {
        "AccountMaxReadCapacityUnits": 80000,
        "AccountMaxWriteCapacityUnits": 80000,
        "TableMaxReadCapacityUnits": 40000,
        "TableMaxWriteCapacityUnits": 40000,
    }
