"""Connecting a command to DynamoDB through boto3: the options every such command takes.

``--endpoint-url URL`` (optional: without it, AWS itself), ``--region REGION`` and
``--profile NAME``. Credentials come from boto3's usual chain (environment
variables, the shared credentials and config files, SSO, container and instance
roles), from the named profile's settings with ``--profile``. The region is
``--region``, else the one the environment or the profile configures; a command
pointed at an endpoint of its own (``--endpoint-url``, e.g. a local server) falls
back to ``us-east-1`` when none is configured, since such endpoints ignore it.

Commands that also read a durable local engine file take ``--data PATH`` instead of
these (:func:`backend` opens one or the other).
"""

from __future__ import annotations

import argparse
import os
from typing import TYPE_CHECKING, Any

from singletable.cli._errors import UsageError

if TYPE_CHECKING:
    from singletable.backends.base import Backend

__all__ = ["add_arguments", "backend", "connect", "given"]

_FALLBACK_REGION = "us-east-1"


def add_arguments(parser: argparse.ArgumentParser | argparse._ArgumentGroup) -> None:
    """Add ``--endpoint-url``, ``--region`` and ``--profile`` to ``parser``."""
    parser.add_argument(
        "--endpoint-url",
        metavar="URL",
        help="a DynamoDB-compatible endpoint (default: AWS, for the region)",
    )
    parser.add_argument(
        "--region",
        metavar="REGION",
        help="AWS region (default: the environment's or the profile's; us-east-1 with "
        "--endpoint-url if none is configured)",
    )
    parser.add_argument(
        "--profile",
        metavar="NAME",
        help="take credentials and settings from this profile of the AWS config files",
    )


def given(args: argparse.Namespace) -> list[str]:
    """The boto3 options among ``args`` that were given (to refuse them with ``--data``)."""
    names = {"endpoint_url": "--endpoint-url", "region": "--region", "profile": "--profile"}
    return [option for name, option in names.items() if getattr(args, name, None) is not None]


def connect(args: argparse.Namespace) -> Backend:
    """A :class:`~singletable.backends.boto3.Boto3Backend` for the options in ``args``.

    Raises:
        UsageError: an unknown profile, no region for AWS, a malformed endpoint URL.
    """
    import boto3
    from botocore.exceptions import BotoCoreError

    from singletable.backends.boto3 import Boto3Backend

    client_args: dict[str, Any] = {}
    try:
        region = args.region
        if region is None:
            region = boto3.Session(profile_name=args.profile).region_name
        if region is None and args.endpoint_url is not None:
            region = _FALLBACK_REGION
        if region is None:
            raise UsageError(
                "no AWS region: pass --region, set AWS_REGION, or set one in the profile"
            )
        client_args["region_name"] = region
        if args.endpoint_url is not None:
            client_args["endpoint_url"] = args.endpoint_url
        return Boto3Backend.connect(profile_name=args.profile, **client_args)
    except (BotoCoreError, ValueError) as error:  # an unknown profile, a bad endpoint URL, ...
        raise UsageError(f"cannot connect to DynamoDB: {error}") from None


def backend(args: argparse.Namespace) -> Backend:
    """The durable local engine file of ``--data`` (which must exist), else :func:`connect`.

    Raises:
        UsageError: ``--data`` with a boto3 option, a missing or unreadable data file,
            or what :func:`connect` refuses.
    """
    if args.data is not None:
        if given(args):
            options = "/".join(given(args))
            raise UsageError(f"--data reads a local engine file: not with {options}")
        from singletable.backends.engine import LocalBackend
        from singletable.backends.local.durable import DurableStorageError
        from singletable.backends.local.errors import DynamoDBError

        if not os.path.isfile(args.data):
            raise UsageError(f"no data file at {args.data}")
        try:
            return LocalBackend(path=args.data)
        except (DurableStorageError, DynamoDBError, ValueError) as error:
            raise UsageError(str(error)) from None
    return connect(args)
