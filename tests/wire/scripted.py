"""A scripted DynamoDB endpoint for the wire backends' tests: it answers each request
with the next canned response and records what it received."""

from __future__ import annotations

import json
import threading
import time
import zlib
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class Canned:
    """One response: status, JSON body (or raw bytes), and how to spoil it."""

    status: int = 200
    body: Any = field(default_factory=dict)
    raw: bytes | None = None
    bad_crc: bool = False
    delay: float = 0.0
    close: bool = False  # close the connection after the response, without saying so
    trickle: float = 0.0  # wait this long before the head, and before each half of the body
    headers: dict[str, str] = field(default_factory=dict)

    def payload(self) -> bytes:
        return self.raw if self.raw is not None else json.dumps(self.body).encode()


def error(code: str, message: str = "", status: int = 400, **members: Any) -> Canned:
    """A DynamoDB error response (``__type`` as DynamoDB writes it)."""
    body = {"__type": f"com.amazonaws.dynamodb.v20120810#{code}", "message": message, **members}
    return Canned(status, body)


@dataclass
class Received:
    headers: dict[str, str]
    body: bytes


class ScriptedServer:
    """``with ScriptedServer([Canned(...), ...]) as server:`` on 127.0.0.1; ``server.url``,
    ``server.received`` (one :class:`Received` per request), ``server.connections``
    (how many were opened). Past the script's end it repeats the last response."""

    def __init__(self, script: list[Canned]) -> None:
        self.script = list(script)
        self.received: list[Received] = []
        self.connections = 0
        outer = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def setup(self) -> None:
                outer.connections += 1
                super().setup()

            def do_POST(self) -> None:
                length = int(self.headers.get("content-length", "0"))
                body = self.rfile.read(length)
                outer.received.append(
                    Received({k.lower(): v for k, v in self.headers.items()}, body)
                )
                index = min(len(outer.received), len(outer.script)) - 1
                canned = outer.script[index]
                if canned.delay:
                    time.sleep(canned.delay)
                payload = canned.payload()
                crc = zlib.crc32(payload) ^ (1 if canned.bad_crc else 0)
                self.send_response(canned.status)
                self.send_header("Content-Type", "application/x-amz-json-1.0")
                self.send_header("x-amz-crc32", str(crc))
                self.send_header("x-amzn-RequestId", f"req-{len(outer.received)}")
                for name, value in canned.headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(payload)))
                if canned.trickle:
                    time.sleep(canned.trickle)
                self.end_headers()
                if canned.trickle:
                    half = len(payload) // 2
                    for part in (payload[:half], payload[half:]):
                        time.sleep(canned.trickle)
                        self.wfile.write(part)
                        self.wfile.flush()
                else:
                    self.wfile.write(payload)
                if canned.close:
                    self.close_connection = True

            def log_message(self, *args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.01}, daemon=True
        )

    def __enter__(self) -> ScriptedServer:
        self._thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(5)
