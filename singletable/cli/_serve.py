"""``singletable serve``: a DynamoDB-compatible HTTP endpoint over the local engine.

It runs :class:`singletable.server.Server` until SIGINT or SIGTERM, then stops
accepting connections, lets requests being answered finish, and closes the
engine (flushing durable data) before it exits with status 0. A port already
taken, a data file that is not singletable's, a missing secret, a faults file
that does not parse: each is a :class:`~singletable.cli._errors.UsageError`.
"""

from __future__ import annotations

import argparse
import ipaddress
import json
import logging
import os
import signal
from collections.abc import Sequence
from types import FrameType
from typing import Any

from singletable.cli._errors import UsageError

__all__ = ["register", "run"]

_ACCESS_KEY_VARS = ("SINGLETABLE_ACCESS_KEY_ID", "AWS_ACCESS_KEY_ID")
_SECRET_KEY_VARS = ("SINGLETABLE_SECRET_ACCESS_KEY", "AWS_SECRET_ACCESS_KEY")


def register(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the ``serve`` command to ``commands``."""
    serve = commands.add_parser(
        "serve",
        help="run a DynamoDB-compatible HTTP endpoint over the local engine",
        description=(
            "Serve DynamoDB's JSON API over HTTP for any AWS SDK or the AWS CLI "
            "(--endpoint-url http://HOST:PORT). In memory unless --data is given."
        ),
    )
    serve.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    serve.add_argument(
        "--port", type=int, default=8000, help="TCP port (default 8000; 0 picks a free one)"
    )
    serve.add_argument(
        "--data", metavar="PATH", help="keep the data durably in this file (default: in memory)"
    )
    serve.add_argument(
        "--cache-size",
        type=_byte_size,
        metavar="SIZE",
        help=(
            "with --data, the memory for recently used items (e.g. 512M, 2G; default an "
            "eighth of the machine's memory); the rest stay in the file"
        ),
    )
    serve.add_argument(
        "--region",
        default="us-east-1",
        help=(
            "the region of unsigned requests (default us-east-1); a signed request runs in "
            "the region of its credential scope, and each region has its own tables"
        ),
    )
    serve.add_argument(
        "--shared-regions",
        action="store_true",
        help=(
            "one set of tables for every region, as DynamoDB Local's -sharedDb "
            "(the behaviour before regions were kept apart)"
        ),
    )
    serve.add_argument(
        "--require-auth",
        action="store_true",
        help=(
            "verify every request's SigV4 signature against one access key; the key comes "
            "from --access-key-id/--secret-access-key, else SINGLETABLE_ACCESS_KEY_ID/"
            "SINGLETABLE_SECRET_ACCESS_KEY, else AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY"
        ),
    )
    serve.add_argument("--access-key-id", help="the access key id accepted with --require-auth")
    serve.add_argument(
        "--secret-access-key", help="its secret (prefer the environment: argv is visible)"
    )
    serve.add_argument(
        "--max-connections",
        type=int,
        default=256,
        metavar="N",
        help="connections served at once; further clients wait until one closes (default 256)",
    )
    serve.add_argument(
        "--header-timeout",
        type=float,
        default=10.0,
        metavar="SECONDS",
        help=(
            "time for a request's headers to arrive, from their first byte; a body gets "
            "as long again plus a second per 64 KiB (default 10)"
        ),
    )
    serve.add_argument(
        "--idle-timeout",
        type=float,
        default=60.0,
        metavar="SECONDS",
        help="close a kept-alive connection after this long without a request (default 60)",
    )
    serve.add_argument(
        "--cors-origin",
        action="append",
        default=[],
        metavar="ORIGIN",
        help=(
            "let web pages from ORIGIN (e.g. http://localhost:3000) call the endpoint from a "
            "browser; repeat for several, or '*' for any page (default: none)"
        ),
    )
    serve.add_argument(
        "--faults",
        metavar="PATH",
        help=(
            "testing: inject the fault rules of this JSON file (a list of "
            "LocalEngine.faults.inject arguments); refused on a non-loopback --host "
            "without --require-auth"
        ),
    )
    serve.add_argument(
        "--enforce-capacity",
        action="store_true",
        help=(
            "testing: throttle requests beyond the tables' provisioned throughput (with "
            "burst capacity), the on-demand table quota and the per-partition-key limits, "
            "as DynamoDB does (default: off)"
        ),
    )
    serve.add_argument(
        "--log-level",
        default="info",
        choices=["debug", "info", "warning", "error"],
        help="debug logs one line per request (default info)",
    )


_UNITS = {"": 1, "K": 1 << 10, "M": 1 << 20, "G": 1 << 30, "T": 1 << 40}


def _byte_size(text: str) -> int:
    """A size in bytes from ``1048576``, ``512K``, ``64M``, ``2G`` (binary units; a
    trailing ``B``/``iB`` is allowed)."""
    value = text.strip().upper().removesuffix("IB").removesuffix("B")
    unit = value[-1:] if value[-1:] in _UNITS else ""
    number = value[: len(value) - len(unit)]
    try:
        amount = float(number)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a size: {text!r} (e.g. 512M, 2G)") from None
    if not 0 <= amount < 1 << 62:  # also NaN and infinity
        raise argparse.ArgumentTypeError(f"not a size: {text!r} (e.g. 512M, 2G)")
    return int(amount * _UNITS[unit])


def _credentials(args: argparse.Namespace) -> dict[str, str] | None:
    if not args.require_auth:
        if args.access_key_id or args.secret_access_key:
            raise UsageError("--access-key-id and --secret-access-key need --require-auth")
        return None
    key_id = args.access_key_id or _first_env(_ACCESS_KEY_VARS)
    secret = args.secret_access_key or _first_env(_SECRET_KEY_VARS)
    if not key_id or not secret:
        raise UsageError(
            "--require-auth needs an access key id and a secret access key "
            "(--access-key-id/--secret-access-key or SINGLETABLE_ACCESS_KEY_ID/"
            "SINGLETABLE_SECRET_ACCESS_KEY)"
        )
    return {key_id: secret}


def _fault_rules(args: argparse.Namespace) -> list[dict[str, Any]]:
    """The rules of ``--faults`` (none without it); refused where anyone could reach them."""
    if not args.faults:
        return []
    if not args.require_auth and not _is_loopback(args.host):
        raise UsageError(f"--faults on {args.host} (not a loopback address) needs --require-auth")
    try:
        with open(args.faults, encoding="utf-8") as file:
            rules = json.load(file)
    except (OSError, ValueError) as error:
        raise UsageError(f"--faults {args.faults}: {error}") from None
    if not isinstance(rules, list) or not all(isinstance(rule, dict) for rule in rules):
        raise UsageError(f"--faults {args.faults}: expected a JSON list of objects")
    return rules


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False  # a host name: it may resolve anywhere


def _first_env(names: Sequence[str]) -> str | None:
    for name in names:
        value = os.environ.get(name)
        if value:
            return value
    return None


def run(args: argparse.Namespace) -> int:
    """Serve until SIGINT or SIGTERM; returns the exit status (0)."""
    from singletable.backends.local.durable import DurableStorageError
    from singletable.backends.local.errors import DynamoDBError
    from singletable.server import Server

    logging.basicConfig(
        level=args.log_level.upper(), format="%(asctime)s %(name)s %(levelname)s %(message)s"
    )
    credentials = _credentials(args)
    rules = _fault_rules(args)
    if args.cache_size is not None and args.data is None:
        raise UsageError("--cache-size is the item cache of a durable engine: give --data too")
    try:
        server = Server(
            host=args.host,
            port=args.port,
            data=args.data,
            credentials=credentials,
            max_connections=args.max_connections,
            header_timeout=args.header_timeout,
            idle_timeout=args.idle_timeout,
            cors_origins=args.cors_origin,
            region=args.region,
            shared_regions=args.shared_regions,
            cache_bytes=args.cache_size,
        )
    except OSError as error:
        raise UsageError(f"cannot listen on {args.host}:{args.port}: {error.strerror}") from None
    except (DurableStorageError, DynamoDBError, ValueError) as error:
        raise UsageError(str(error)) from None
    try:
        server.engine.faults.load(rules)
    except (TypeError, ValueError) as error:
        server.stop()
        raise UsageError(f"--faults {args.faults}: {error}") from None
    if args.enforce_capacity:
        server.engine.enforce_capacity()

    def _stop(signum: int, frame: FrameType | None) -> None:
        # Only a flag: a handler runs between two bytecodes of the main thread, which
        # may hold a lock at that moment (starting a thread or taking one here could
        # deadlock). The signal itself wakes the accept loop (Server.serve_forever).
        server.request_stop()

    signal.signal(signal.SIGINT, _stop)
    signal.signal(signal.SIGTERM, _stop)
    where = f"durable at {args.data}" if args.data else "in memory"
    auth = "SigV4 required" if credentials else "any credentials accepted"
    if rules:
        auth += f"; {len(rules)} fault rule(s) injected"
    if args.enforce_capacity:
        auth += "; capacity enforced"
    logging.getLogger("singletable.server").info(
        "serving DynamoDB on %s (%s; %s)", server.url, where, auth
    )
    server.serve_forever()  # returns once a signal asked it to
    server.stop()
    logging.getLogger("singletable.server").info("stopped")
    return 0
