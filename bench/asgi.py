"""The cost of one bare request through the app's own layers, in process: no sockets, no server.

    python -m bench.asgi [--requests 3000] [--without-tenancy-guard] [--plain] [--atp]

Builds the app (workers off) on a fresh SQLite file and calls its ASGI callable for `GET /healthz`
directly, best of 5 rounds of N requests, so the figure is the middleware, guards and routing that
every request pays, without the HTTP server or the load generator sharing the cores. With
`--without-tenancy-guard` the app-level tenancy guard (api/tenancy.py) is replaced by one that does
nothing, to see what it costs. With `--plain` the plainest Litestar app (bench/plain.py, `GET /ping`) is
measured in the same alternating rounds: the in-process form of P0's ratio, without the server.
With `--atp` the app also runs its workers (so ATP is answered from memory, as `o2c serve` does) on
the benchmark's reference data and stock, and `GET /v1/atp/SKU-00001` with the admin key is
measured beside `GET /healthz`: P2's ratio in process.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import tempfile
import time
from typing import Any

import api.app as app_module
from bench.__main__ import stock
from bench.plain import app as plain_app
from bench.workload import setup
from infra.adapters import logs
from infra.service import Service
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
ATP = "ATP"
ATP_PATH = "/v1/atp/SKU-00001"


async def _nothing(connection: Any, handler: Any) -> None:
    return None


class Running:
    """One app with its lifespan started; `round(n)` answers the mean µs of n bare requests."""

    def __init__(self, app: Any, path: str = "/healthz", key: str | None = None) -> None:
        self.app = app
        headers = [*SCOPE["headers"], *([(b"authorization", f"Bearer {key}".encode())] if key else [])]
        self.scope = {**SCOPE, "path": path, "raw_path": path.encode(), "headers": headers}
        self.sent: list[dict[str, Any]] = []
        self.inbox: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        self.outbox: asyncio.Queue[dict[str, Any]] = asyncio.Queue()

    async def _receive(self) -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def _send(self, message: dict[str, Any]) -> None:
        self.sent.append(message)

    async def start(self, warm: bool = True) -> None:
        await self.inbox.put({"type": "lifespan.startup"})
        scope = {"type": "lifespan", "asgi": {"version": "3.0"}, "state": {}}
        self.life = asyncio.create_task(self.app(scope, self.inbox.get, self.outbox.put))
        await self.outbox.get()
        if warm:
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


def _app(workers: bool = False) -> Any:
    logs.configure("json", "info", open(os.devnull, "w"))  # as `o2c serve` logs, onto nothing
    folder = tempfile.mkdtemp(prefix="o2c-bench-asgi-")
    settings = Settings(database_url=f"sqlite:///{folder}/o2c.db", admin_key="bench")
    if workers:  # the reference data and stock the ATP read answers from
        svc = Service.start(settings)
        try:
            skus, _ = setup(svc, skus=2, customers=1)
            stock(svc, skus)
        finally:
            svc.close()
    return app_module.create_app(settings, workers=workers)


async def _caught_up(running: Running) -> None:
    """Wait until the app's ATP read model has read the stock (the workers follow the log)."""
    for _ in range(500):
        await running.round(1)
        if running.status == 200:
            return
        await asyncio.sleep(0.02)
    raise RuntimeError(f"GET {ATP_PATH} still answers {running.status}")


async def _compare(apps: dict[str, Any], requests: int, rounds: int) -> None:
    paths = {PLAIN: "/ping", ATP: ATP_PATH}
    running = {
        name: Running(app, paths.get(name, "/healthz"), key="bench" if name == ATP else None)
        for name, app in apps.items()
    }
    for name, r in running.items():
        if name == ATP:
            await r.start(warm=False)
            await _caught_up(r)
            await r.round(2000)
        else:
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
    if ATP in best:
        print(f"ATP / bare: {best['as built'] / best[ATP]:.2f} (the in-process P2 ratio)")
    if PLAIN not in best and ATP not in best and len(best) == 2:
        (a, x), (b, y) = best.items()
        print(f"difference {a} - {b}: {x - y:+.1f} µs per request ({(x - y) / y:+.1%})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--requests", type=int, default=3000)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--without-tenancy-guard", action="store_true")
    parser.add_argument("--plain", action="store_true", help="also the plain Litestar reference")
    parser.add_argument("--atp", action="store_true", help="also GET /v1/atp/{sku}, answered from memory")
    args = parser.parse_args()
    if args.without_tenancy_guard:
        app_module.tenancy_guard = _nothing  # type: ignore[assignment]
    apps = {"as built": _app()}
    if args.plain:
        apps[PLAIN] = plain_app
    if args.atp:
        apps[ATP] = _app(workers=True)
    asyncio.run(_compare(apps, args.requests, args.rounds))


if __name__ == "__main__":
    main()
