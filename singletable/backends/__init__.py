"""Backends: engines that execute DynamoDB wire requests (local, boto3, aioboto3)."""
