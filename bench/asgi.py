"""The cost of one bare request through the app's own layers, in process: no sockets, no server.

    python -m bench.asgi [--requests 3000] [--without-tenancy-guard]

Builds the app (workers off) on a fresh SQLite file and calls its ASGI callable for `GET /healthz`
directly, best of 5 rounds of N requests, so the figure is the middleware, guards and routing that
every request pays, without the HTTP server or the load generator sharing the cores. With
`--without-tenancy-guard` the app-level tenancy guard (api/tenancy.py) is replaced by one that does
nothing, to see what it costs.
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
import time
from typing import Any

import api.app as app_module
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


async def _nothing(connection: Any, handler: Any) -> None:
    return None


async def _measure(app: Any, requests: int) -> tuple[float, int]:
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    inbox: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
    outbox: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
    await inbox.put({"type": "lifespan.startup"})
    life = asyncio.create_task(
        app({"type": "lifespan", "asgi": {"version": "3.0"}, "state": {}}, inbox.get, outbox.put)
    )
    await outbox.get()
    for _ in range(2000):  # warm-up
        await app({**SCOPE, "state": {}}, receive, send)
    best = float("inf")
    for _ in range(5):
        started = time.perf_counter()
        for _ in range(requests):
            await app({**SCOPE, "state": {}}, receive, send)
        best = min(best, (time.perf_counter() - started) / requests)
    await inbox.put({"type": "lifespan.shutdown"})
    await outbox.get()
    await life
    status = [m["status"] for m in sent if m["type"] == "http.response.start"][-1]
    return best * 1e6, status


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--requests", type=int, default=3000)
    parser.add_argument("--without-tenancy-guard", action="store_true")
    args = parser.parse_args()
    if args.without_tenancy_guard:
        app_module.tenancy_guard = _nothing  # type: ignore[assignment]
    folder = tempfile.mkdtemp(prefix="o2c-bench-asgi-")
    app = app_module.create_app(Settings(database_url=f"sqlite:///{folder}/o2c.db", admin_key="bench"), workers=False)
    micros, status = asyncio.run(_measure(app, args.requests))
    print(f"GET /healthz in process: {micros:.1f} µs per request (best of 5 x {args.requests}, status {status})")


if __name__ == "__main__":
    main()
