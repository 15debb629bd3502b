"""The benchmark: the real service on SQLite and PostgreSQL, loaded over HTTP from another process.

    python -m bench [--stores sqlite,postgres] [--seconds 10] [--clients 64] [--record]

Per store it measures order intake (3-line orders), ATP reads next to a bare endpoint of the same
server, projection lag under intake, server RSS, and a rebuild of every read model. `--record`
appends the table to bench/RESULTS.md with the date and the command.
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

import httpx
import sqlalchemy as sa

from bench.workload import WAREHOUSES, setup
from infra.ledger import Context, UnitOfWork
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

    def handle(uow: UnitOfWork) -> tuple[int, dict[str, object]]:
        for wh in WAREHOUSES:
            commands.receive_stock(uow, f"BENCH-{wh}", wh, [(sku, 10_000_000) for sku in skus])
        return 201, {}

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


def bench_store(store: str, seconds: float, clients: int) -> dict[str, object]:
    temp_db = None
    if store == "postgres":
        temp_db = f"o2c_bench_{uuid.uuid4().hex[:8]}"
        admin = sa.create_engine("postgresql+psycopg://postgres@127.0.0.1:5432/postgres", isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(sa.text(f'CREATE DATABASE "{temp_db}"'))
        url = f"{PG}/{temp_db}"
    else:
        url = f"sqlite:///{tempfile.mkdtemp()}/bench.db"
    settings = Settings(database_url=url, admin_key=KEY)
    svc = Service.start(settings)
    skus, _ = setup(svc)
    stock(svc, skus)
    svc.close()

    port = free_port()
    env = {**os.environ, "O2C_DATABASE_URL": url, "O2C_ADMIN_KEY": KEY}
    server = subprocess.Popen(
        [sys.executable, "-m", "infra.cli", "serve", "--port", str(port), "--log-level", "warning"], env=env
    )
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(100):
            try:
                if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.2)
        result: dict[str, object] = {"store": store}
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
    finally:
        server.terminate()
        server.wait(30)
    svc = Service.start(settings)
    started = time.perf_counter()
    events = 0
    for projection in svc.read.projections.values():
        events = projection.rebuild()["events"]
    elapsed = time.perf_counter() - started
    result["rebuild_events"] = events
    result["rebuild_events_per_s"] = round(events * len(svc.read.projections) / elapsed)
    svc.close()
    if temp_db:
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{temp_db}" WITH (FORCE)'))
    return result


def table(results: list[dict[str, object]], clients: int) -> str:
    rows = ["| store | figure | value |", "|---|---|---|"]
    for r in results:
        o, a, b = r["orders"], r["atp"], r["bare"]  # type: ignore[assignment]
        s = r["store"]
        rows += [
            f"| {s} | order intake, {clients} clients (3-line orders) | {o['rps']} orders/s, p50 {o['p50_ms']} ms, p99 {o['p99_ms']} ms, statuses {o['statuses']} |",  # type: ignore[index]
            f"| {s} | ATP GET /v1/atp/{{sku}} | {a['rps']} req/s, p99 {a['p99_ms']} ms |",  # type: ignore[index]
            f"| {s} | bare GET /healthz (same server) | {b['rps']} req/s, p99 {b['p99_ms']} ms |",  # type: ignore[index]
            f"| {s} | ATP / bare | {a['rps'] / b['rps']:.0%} |",  # type: ignore[index,operator]
            f"| {s} | projection lag p99 under intake | {r['lag_p99_events']} events |",
            f"| {s} | server RSS after the run | {r['rss_mb']} MB |",
            f"| {s} | rebuild (all read models, per projection-event) | {r['rebuild_events_per_s']} events/s over {r['rebuild_events']} events |",
        ]
    return "\n".join(rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--stores", default="sqlite,postgres")
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--clients", type=int, default=64)
    parser.add_argument("--record", action="store_true", help="append the table to bench/RESULTS.md")
    args = parser.parse_args()
    results = [bench_store(s.strip(), args.seconds, args.clients) for s in args.stores.split(",") if s.strip()]
    text = table(results, args.clients)
    print(text)
    if args.record:
        command = "python -m bench " + " ".join(sys.argv[1:])
        with open(Path(__file__).parent / "RESULTS.md", "a") as f:
            f.write(f"\n### {datetime.now(UTC):%Y-%m-%d %H:%M} UTC — `{command}`\n\n{text}\n")


if __name__ == "__main__":
    main()
