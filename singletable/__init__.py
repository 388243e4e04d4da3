"""singletable: DynamoDB single-table design for Python.

The modelling layer (entities, key templates, access patterns) arrives in a later
issue; today the package provides the embedded local engine
(:mod:`singletable.backends.local`) and boto3 routing to it
(:mod:`singletable.testing`).
"""

__all__: list[str] = []
__version__ = "0.1.0"
