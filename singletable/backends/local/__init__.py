"""The embedded local DynamoDB engine.

``LocalEngine().call(operation, request)`` takes a DynamoDB operation name and a
request in the JSON wire shape and returns the response in the same shape, or
raises :class:`DynamoDBError` carrying DynamoDB's error code and message.
"""

from singletable.backends.local._bulk import Seed
from singletable.backends.local._faults import Fault, Faults
from singletable.backends.local._snapshot import Snapshot
from singletable.backends.local._throttle import CapacityEnforcement
from singletable.backends.local.engine import LocalEngine
from singletable.backends.local.errors import DynamoDBError

__all__ = [
    "CapacityEnforcement",
    "DynamoDBError",
    "Fault",
    "Faults",
    "LocalEngine",
    "Seed",
    "Snapshot",
]
