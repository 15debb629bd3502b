"""A real webhook receiver for tests: an HTTP server on loopback that checks every request's signature
with the `standardwebhooks` library's own verifier and answers what the test tells it to."""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from standardwebhooks import Webhook
from standardwebhooks.webhooks import WebhookVerificationError


@dataclass
class Received:
    headers: dict[str, str]
    body: str
    verified: bool
    event: dict[str, Any] = field(default_factory=dict)


class Receiver:
    """Collects deliveries. `answers` is a queue of (status, headers) to answer with; empty: 200."""

    def __init__(self) -> None:
        self.secrets: list[str] = []  # a request verifies when any of these verifies it
        self.answers: list[tuple[int, dict[str, str]]] = []
        self.default: tuple[int, dict[str, str]] = (200, {})
        self.received: list[Received] = []
        self.lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("content-length") or 0)
                body = self.rfile.read(length).decode()
                headers = {k.lower(): v for k, v in self.headers.items()}
                receiver._take(headers, body)
                with receiver.lock:
                    status, extra = receiver.answers.pop(0) if receiver.answers else receiver.default
                self.send_response(status)
                for k, v in extra.items():
                    self.send_header(k, v)
                self.send_header("content-length", "0")
                self.end_headers()

            def log_message(self, *_: Any) -> None:
                return

        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.port = int(s.getsockname()[1])
        self.server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hook"

    def _take(self, headers: dict[str, str], body: str) -> None:
        verified = False
        for secret in list(self.secrets):
            try:
                Webhook(secret).verify(body, headers)
                verified = True
                break
            except WebhookVerificationError:
                continue
        event = json.loads(body) if body else {}
        with self.lock:
            self.received.append(Received(headers, body, verified, event))

    def verified_by(self, secret: str, item: Received) -> bool:
        try:
            Webhook(secret).verify(item.body, item.headers)
            return True
        except WebhookVerificationError:
            return False

    def events(self) -> list[dict[str, Any]]:
        with self.lock:
            return [r.event for r in self.received]

    def __enter__(self) -> Receiver:
        self.thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self.server.shutdown()
        self.server.server_close()


def receiving() -> Iterator[Receiver]:
    with Receiver() as r:
        yield r
