"""The benchmark: the real service on SQLite and PostgreSQL, loaded over HTTP from another process.

    python -m bench [--stores sqlite,postgres] [--seconds 10] [--clients 64] [--preload N] [--record]

Per store it measures order intake (3-line orders), ATP reads next to a bare endpoint of the same
server, projection lag under intake, server RSS, a 365-day GET /v1/ops/kpis after the run, and a
one-pass rebuild of every read model.
`--preload N` first fills the store with N events of realistic history (read models caught up),
to compare the figures at 10,000 and 1,000,000 events. `--record` appends the table to
bench/RESULTS.md with the date and the command.
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import subprocess
import sys
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx

from bench.db import temp_database
from bench.rebuild import generate
from bench.workload import WAREHOUSES, setup
from infra.ledger.unitofwork import Context, UnitOfWork
from infra.readside.rebuild import rebuild_together
from infra.service import Service
from infra.settings import Settings

KEY = "bench-admin-key"
PG = "postgresql://postgres@127.0.0.1:5432"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def stock(svc: Service, skus: list[str]) -> None:
    from infra import commands

    def handle(uow: UnitOfWork) -> None:
        for wh in WAREHOUSES:
            commands.receive_stock(uow, f"BENCH-{wh}", wh, [(sku, 10_000_000) for sku in skus])

    svc.ledger.run(Context(actor="bench", correlation_id="bench", causation_id="bench"), handle)


def load(url: str, mode: str, path: str, clients: int, seconds: float) -> dict[str, object]:
    out = subprocess.run(
        [
            sys.executable,
            "-m",
            "bench.load",
            "--url",
            url,
            "--mode",
            mode,
            "--path",
            path,
            "--clients",
            str(clients),
            "--seconds",
            str(seconds),
            "--key",
            KEY,
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(out.stdout)  # type: ignore[no-any-return]


def kpi_window(url: str, runs: int = 20) -> dict[str, object]:
    """GET /v1/ops/kpis over the last 365 days (the whole preloaded history), one request at a time:
    the window query's cost (API.md "Business KPIs": per day of the window, not per event)."""
    today = datetime.now(UTC).date()
    params = {"from": (today - timedelta(days=364)).isoformat(), "to": today.isoformat()}
    times: list[float] = []
    with httpx.Client(base_url=url, timeout=60, headers={"Authorization": f"Bearer {KEY}"}) as client:
        orders = 0
        for _ in range(runs):
            started = time.perf_counter()
            r = client.get("/v1/ops/kpis", params=params)
            times.append((time.perf_counter() - started) * 1000)
            r.raise_for_status()
            orders = int(r.json()["orders"])
    times.sort()
    return {"orders": orders, "p50_ms": round(times[len(times) // 2], 1), "max_ms": round(times[-1], 1)}


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def sample_lag(url: str, stop: threading.Event, samples: list[int]) -> None:
    with httpx.Client(timeout=5) as client:
        while not stop.is_set():
            try:
                lag = client.get(f"{url}/readyz").json().get("projection_lag", {})
                samples.append(max(lag.values()) if lag else 0)
            except (httpx.HTTPError, ValueError):
                pass
            time.sleep(0.1)


def prepare(url: str, preload: int) -> tuple[int, float]:
    """Reference data, ample stock, and `preload` events of history with read models caught up.
    Returns the events in the store and the seconds preloading took."""
    started = time.perf_counter()
    svc = Service.start(Settings(database_url=url, admin_key=KEY))
    try:
        if preload:
            generate(svc, preload)  # sets up the same SKUs and customers the load uses
            rebuild_together(list(svc.read.projections.values()))
            skus = [f"SKU-{i:05d}" for i in range(200)]
        else:
            skus, _ = setup(svc)
    finally:
        svc.close()
    svc = Service.start(Settings(database_url=url, admin_key=KEY))
    try:
        stock(svc, skus)
        if preload:
            catch_up(svc)  # the workflows (backorder fill, billing, tax) act on the history once
        return svc.store.head(), time.perf_counter() - started
    finally:
        svc.close()


def catch_up(svc: Service, quiet: float = 1.0) -> None:
    """Run the workers until every follower is at the head and the head stays still for `quiet` s."""
    runner = svc.start_workers()
    last = -1
    while True:
        head = svc.store.head()
        if all(f.position() >= head for f in runner.followers) and head == last:
            return
        last = head if all(f.position() >= head for f in runner.followers) else -1
        time.sleep(quiet)


def bench_store(store: str, seconds: float, clients: int, preload: int = 0) -> dict[str, object]:
    with temp_database(store) as url:
        events, prepared = prepare(url, preload)
        port = free_port()
        env = {**os.environ, "O2C_DATABASE_URL": url, "O2C_ADMIN_KEY": KEY}
        cmd = [sys.executable, "-m", "api.cli", "serve", "--port", str(port), "--log-level", "warning"]
        server = subprocess.Popen(cmd, env=env, stderr=subprocess.DEVNULL)
        base = f"http://127.0.0.1:{port}"
        result: dict[str, object] = {"store": store, "events_before": events, "prepare_s": round(prepared, 1)}
        try:
            for _ in range(300):
                try:
                    if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                        break
                except httpx.HTTPError:
                    time.sleep(0.2)
            result["bare"] = load(base, "get", "/healthz", clients, seconds / 2)
            result["atp"] = load(base, "get", "/v1/atp/{sku}", clients, seconds / 2)
            stop, lags = threading.Event(), []
            sampler = threading.Thread(target=sample_lag, args=(base, stop, lags))
            sampler.start()
            result["orders"] = load(base, "orders", "", clients, seconds)
            stop.set()
            sampler.join()
            lags.sort()
            result["lag_p99_events"] = lags[min(int(len(lags) * 0.99), len(lags) - 1)] if lags else None
            result["rss_mb"] = round(rss_mb(server.pid), 1)
            result["kpis"] = kpi_window(base)
        finally:
            server.terminate()
            server.wait(30)
        svc = Service.start(Settings(database_url=url))
        try:
            started = time.perf_counter()
            rebuilt = rebuild_together(list(svc.read.projections.values()))
            elapsed = time.perf_counter() - started
        finally:
            svc.close()
        events = max(r["events"] for r in rebuilt.values())
        result["rebuild_events"] = events
        result["rebuild_events_per_s"] = round(events / elapsed)
    return result


def table(results: list[dict[str, object]], clients: int) -> str:
    rows = ["| store | figure | value |", "|---|---|---|"]
    for r in results:
        o, a, b = r["orders"], r["atp"], r["bare"]  # type: ignore[assignment]
        s = r["store"]
        rows += [
            f"| {s} | events in the store before the run | {r['events_before']:,} (prepared in {r['prepare_s']} s) |",
            f"| {s} | order intake, {clients} clients (3-line orders) | {o['rps']} orders/s, p50 {o['p50_ms']} ms, p99 {o['p99_ms']} ms, statuses {o['statuses']} |",  # type: ignore[index]
            f"| {s} | ATP GET /v1/atp/{{sku}} | {a['rps']} req/s, p99 {a['p99_ms']} ms |",  # type: ignore[index]
            f"| {s} | bare GET /healthz (same server) | {b['rps']} req/s, p99 {b['p99_ms']} ms |",  # type: ignore[index]
            f"| {s} | ATP / bare | {a['rps'] / b['rps']:.0%} |",  # type: ignore[index,operator]
            f"| {s} | projection lag p99 under intake | {r['lag_p99_events']} events |",
            f"| {s} | server RSS after the run | {r['rss_mb']} MB |",
            f"| {s} | GET /v1/ops/kpis, 365-day window | p50 {r['kpis']['p50_ms']} ms, max {r['kpis']['max_ms']} ms over {r['kpis']['orders']:,} orders |",  # type: ignore[index]
            f"| {s} | rebuild (all read models, one pass) | {r['rebuild_events_per_s']} log events/s over {r['rebuild_events']} events |",
        ]
    return "\n".join(rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--stores", default="sqlite,postgres")
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--clients", type=int, default=64)
    parser.add_argument("--preload", type=int, default=0, help="events of history in the store before the run")
    parser.add_argument("--record", action="store_true", help="append the table to bench/RESULTS.md")
    args = parser.parse_args()
    stores = [s.strip() for s in args.stores.split(",") if s.strip()]
    results = [bench_store(s, args.seconds, args.clients, args.preload) for s in stores]
    text = table(results, args.clients)
    print(text)
    if args.record:
        command = "python -m bench " + " ".join(sys.argv[1:])
        with open(Path(__file__).parent / "RESULTS.md", "a") as f:
            f.write(f"\n### {datetime.now(UTC):%Y-%m-%d %H:%M} UTC — `{command}`\n\n{text}\n")


if __name__ == "__main__":
    main()
