"""The cost of one bare request through the app's own layers, in process: no sockets, no server.

    python -m bench.asgi [--requests 3000] [--without-tenancy-guard] [--plain]

Builds the app (workers off) on a fresh SQLite file and calls its ASGI callable for `GET /healthz`
directly, best of 5 rounds of N requests, so the figure is the middleware, guards and routing that
every request pays, without the HTTP server or the load generator sharing the cores. With
`--without-tenancy-guard` the app-level tenancy guard (api/tenancy.py) is replaced by one that does
nothing, to see what it costs. With `--plain` the plainest Litestar app (bench/plain.py, `GET /ping`) is
measured in the same alternating rounds: the in-process form of P0's ratio, without the server.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import tempfile
import time
from typing import Any

import api.app as app_module
from bench.plain import app as plain_app
from infra.adapters import logs
from infra.settings import Settings

SCOPE: dict[str, Any] = {
    "type": "http",
    "asgi": {"version": "3.0"},
    "http_version": "1.1",
    "method": "GET",
    "scheme": "http",
    "path": "/healthz",
    "raw_path": b"/healthz",
    "query_string": b"",
    "root_path": "",
    "headers": [(b"host", b"bench")],
    "client": ("127.0.0.1", 1),
    "server": ("127.0.0.1", 80),
}


PLAIN = "plain Litestar"


async def _nothing(connection: Any, handler: Any) -> None:
    return None


class Running:
    """One app with its lifespan started; `round(n)` answers the mean µs of n bare requests."""

    def __init__(self, app: Any, path: str = "/healthz") -> None:
        self.app = app
        self.scope = {**SCOPE, "path": path, "raw_path": path.encode()}
        self.sent: list[dict[str, Any]] = []
        self.inbox: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        self.outbox: asyncio.Queue[dict[str, Any]] = asyncio.Queue()

    async def _receive(self) -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def _send(self, message: dict[str, Any]) -> None:
        self.sent.append(message)

    async def start(self) -> None:
        await self.inbox.put({"type": "lifespan.startup"})
        scope = {"type": "lifespan", "asgi": {"version": "3.0"}, "state": {}}
        self.life = asyncio.create_task(self.app(scope, self.inbox.get, self.outbox.put))
        await self.outbox.get()
        await self.round(2000)  # warm-up

    async def round(self, requests: int) -> float:
        started = time.perf_counter()
        for _ in range(requests):
            await self.app({**self.scope, "state": {}}, self._receive, self._send)
        self.sent = self.sent[-2:]  # the last answer: its start and its body
        return (time.perf_counter() - started) / requests * 1e6

    @property
    def status(self) -> int:
        return int([m["status"] for m in self.sent if m["type"] == "http.response.start"][-1])

    async def stop(self) -> None:
        await self.inbox.put({"type": "lifespan.shutdown"})
        await self.outbox.get()
        await self.life


def _app() -> Any:
    logs.configure("json", "info", open(os.devnull, "w"))  # as `o2c serve` logs, onto nothing
    folder = tempfile.mkdtemp(prefix="o2c-bench-asgi-")
    return app_module.create_app(Settings(database_url=f"sqlite:///{folder}/o2c.db", admin_key="bench"), workers=False)


async def _compare(apps: dict[str, Any], requests: int, rounds: int) -> None:
    running = {name: Running(app, "/ping" if name == PLAIN else "/healthz") for name, app in apps.items()}
    for r in running.values():
        await r.start()
    best = dict.fromkeys(running, float("inf"))
    for i in range(rounds):  # alternating, and in turn first, so drift of the machine's speed hits both alike
        order = list(running.items())
        for name, r in order if i % 2 == 0 else reversed(order):
            best[name] = min(best[name], await r.round(requests))
    for name, r in running.items():
        print(
            f"GET {r.scope['path']} in process, {name}: {best[name]:.1f} µs per request "
            f"(best of {rounds} x {requests}, status {r.status})"
        )
        await r.stop()
    if PLAIN in best:
        built = best["as built"]
        print(
            f"plain / as built: {best[PLAIN] / built:.2f} (the in-process P0 ratio; {built - best[PLAIN]:.1f} µs ours)"
        )
    elif len(best) == 2:
        (a, x), (b, y) = best.items()
        print(f"difference {a} - {b}: {x - y:+.1f} µs per request ({(x - y) / y:+.1%})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--requests", type=int, default=3000)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--without-tenancy-guard", action="store_true")
    parser.add_argument("--plain", action="store_true", help="also the plain Litestar reference")
    args = parser.parse_args()
    if args.without_tenancy_guard:
        app_module.tenancy_guard = _nothing  # type: ignore[assignment]
    apps = {"as built": _app()}
    if args.plain:
        apps[PLAIN] = plain_app
    asyncio.run(_compare(apps, args.requests, args.rounds))


if __name__ == "__main__":
    main()
