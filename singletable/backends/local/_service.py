"""Operations about the service rather than a table: DescribeEndpoints, DescribeLimits.

DescribeEndpoints answers with the address of the endpoint that was asked, which is
:attr:`LocalEngine.endpoint_address`: ``dynamodb.<region>.amazonaws.com`` for the
in-process engine (the address a routed boto3 client sends to, so a client that
discovers endpoints keeps reaching the engine), and ``host:port`` of the HTTP server
when it serves the engine (set by :class:`singletable.server.Server`). The cache
period is DynamoDB's, 1440 minutes (API Reference, DescribeEndpoints, example).

DescribeLimits reports DynamoDB's default quotas for an account in most regions
(Developer Guide, "Quotas in Amazon DynamoDB": 80,000 read and write capacity units
per account, 40,000 per table); the engine enforces none of them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from singletable.backends.local.engine import LocalEngine

__all__ = ["describe_endpoints", "describe_limits"]

CACHE_PERIOD_MINUTES = 1440
ACCOUNT_MAX_UNITS = 80_000
TABLE_MAX_UNITS = 40_000


def describe_endpoints(engine: LocalEngine, request: dict[str, Any]) -> dict[str, Any]:
    """DescribeEndpoints: this endpoint's address."""
    return {
        "Endpoints": [
            {"Address": engine.endpoint_address, "CachePeriodInMinutes": CACHE_PERIOD_MINUTES}
        ]
    }


def describe_limits(engine: LocalEngine, request: dict[str, Any]) -> dict[str, Any]:
    """DescribeLimits: DynamoDB's default account and table capacity quotas."""
    return {
        "AccountMaxReadCapacityUnits": ACCOUNT_MAX_UNITS,
        "AccountMaxWriteCapacityUnits": ACCOUNT_MAX_UNITS,
        "TableMaxReadCapacityUnits": TABLE_MAX_UNITS,
        "TableMaxWriteCapacityUnits": TABLE_MAX_UNITS,
    }
