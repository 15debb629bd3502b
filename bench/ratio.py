"""Ratios to plain Litestar (issue 21): the real `o2c serve` and the plainest Litestar app, side by
side in one run, both driven by wrk (a C load generator, not a Python client on the same cores).

    python -m bench.ratio [--stores sqlite,postgres] [--seconds 10] [--connections 64] [--rounds 1]
                          [--preload N] [--split] [--record]

Plain Litestar `GET /ping` (bench/plain.py) runs for the whole run. Per store: a fresh database with
the benchmark's reference data and stock (`--preload N`: N events of history first), `o2c serve` as
the README starts it (workers in process) beside the plain app, and wrk against plain `GET /ping`,
the bare `GET /healthz` and `GET /v1/atp/{sku}` in turn, `--rounds` times (each figure the best of
its rounds, so a drift of the machine's speed hits the figure and its reference alike), plain
Litestar slowed to ATP's rate (bench/plain.py `/spin`: its p99 is the tail a saturated server has at
that rate whatever the app), then `POST /v1/orders` (3-line orders). While orders load, a probe places one order
every 200 ms and reads it back with `min_position`: the time until that read answers is the
projection lag in milliseconds as a client sees it. Needs `wrk` on the PATH (Debian: apt install wrk).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import threading
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

import httpx

from bench.__main__ import KEY, free_port, prepare, rss_mb
from bench.db import temp_database

HERE = Path(__file__).parent
WRK = HERE / "wrk"


def wrk(base: str, script: str, args: list[str], seconds: float, connections: int) -> dict[str, float]:
    cmd = [
        "wrk",
        "-t2",
        f"-c{connections}",
        f"-d{max(int(seconds), 1)}s",
        "--latency",
        "-s",
        str(WRK / script),
        base,
        "--",
        *args,
    ]
    env = {**os.environ, "O2C_WRK_COMMON": str(WRK / "common.lua")}
    out = subprocess.run(cmd, capture_output=True, text=True, check=True, env=env).stdout
    return json.loads(out.strip().splitlines()[-1])  # type: ignore[no-any-return]


def wait_answering(url: str) -> None:
    for _ in range(300):
        try:
            if httpx.get(url, timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise SystemExit(f"{url} never answered")


class Plain:
    """The plain Litestar reference, answering for as long as the run lasts."""

    def __enter__(self) -> str:
        port = free_port()
        cmd = [sys.executable, "-m", "bench.plain", "--port", str(port)]
        self.server = subprocess.Popen(cmd, stderr=subprocess.DEVNULL)
        wait_answering(f"http://127.0.0.1:{port}/ping")
        return f"http://127.0.0.1:{port}"

    def __exit__(self, *_: object) -> None:
        self.server.terminate()
        self.server.wait(30)


def best(runs: list[dict[str, float]]) -> dict[str, float]:
    """The round with the most requests per second (its own p99 and errors with it)."""
    return max(runs, key=lambda run: run["rps"])


def probe_lag(base: str, stop: threading.Event, lags_ms: list[float]) -> None:
    """One order every 200 ms, then its read with min_position: milliseconds until the read answers."""
    headers = {"Authorization": f"Bearer {KEY}"}
    with httpx.Client(base_url=base, timeout=30, headers=headers) as client:
        while not stop.is_set():
            order_id = f"PROBE-{uuid.uuid4().hex[:12]}"
            body = {
                "order_id": order_id,
                "customer_id": "CUST-0000",
                "channel": "web",
                "lines": [{"sku": "SKU-00000", "qty": 1}],
            }
            try:
                placed = client.post("/v1/orders", json=body)
                started = time.perf_counter()
                read = client.get(f"/v1/orders/{order_id}", params={"min_position": placed.json()["position"]})
                if placed.status_code == 201 and read.status_code == 200:
                    lags_ms.append((time.perf_counter() - started) * 1000)
            except (httpx.HTTPError, KeyError, ValueError):
                pass
            stop.wait(0.2)


def pct(values: list[float], p: float) -> float | None:
    values = sorted(values)
    return round(values[min(int(len(values) * p), len(values) - 1)], 1) if values else None


def plain_at_rate(plain: str, result: dict[str, object], seconds: float, connections: int) -> dict[str, float]:
    """Plain Litestar slowed to ATP's rate: each request busy for what ATP costs beyond /ping
    (1/ATP's rate - 1/plain's rate), so its p99 is the tail any app has at that rate on this server."""
    atp, ping = result["atp"], result["plain"]
    assert isinstance(atp, dict) and isinstance(ping, dict)
    us = max(1e6 / atp["rps"] - 1e6 / ping["rps"], 0.0)
    return {**wrk(plain, "get.lua", [f"/spin/{{sku}}?us={us:.0f}", KEY], seconds, connections), "spin_us": us}


def oldest_generation_pauses(base: str) -> dict[str, float]:
    """How often the garbage collector ran on the oldest generation over the run, and for how long
    (`o2c_gc_pause_seconds`, infra/adapters/heap.py): each such run stops every request."""
    text = httpx.get(f"{base}/metrics", timeout=10).text
    found = {}
    for part in ("count", "sum"):
        match = re.search(rf'^o2c_gc_pause_seconds_{part}\{{generation="2"\}} (\S+)$', text, re.MULTILINE)
        found[part] = float(match.group(1)) if match else float("nan")
    return found


def o2c(
    store: str, plain: str, seconds: float, connections: int, rounds: int, preload: int, split: bool = False
) -> dict[str, object]:
    with temp_database(store) as url:
        events, _ = prepare(url, preload)
        port = free_port()
        env = {**os.environ, "O2C_DATABASE_URL": url, "O2C_ADMIN_KEY": KEY}
        cmd = [sys.executable, "-m", "api.cli", "serve", "--port", str(port)]  # as the README starts it: info logs
        worker = None
        if split:  # the projections and workflows in a process of their own (`o2c worker`)
            cmd.append("--no-workers")
            worker = subprocess.Popen([sys.executable, "-m", "api.cli", "worker"], env=env, stderr=subprocess.DEVNULL)
        server = subprocess.Popen(cmd, env=env, stderr=subprocess.DEVNULL)
        base = f"http://127.0.0.1:{port}"
        try:
            wait_answering(f"{base}/healthz")
            result: dict[str, object] = {"store": store, "events": events}
            runs: dict[str, list[dict[str, float]]] = {"plain": [], "bare": [], "atp": []}
            for _ in range(rounds):
                runs["plain"].append(wrk(plain, "get.lua", ["/ping", KEY], seconds, connections))
                runs["bare"].append(wrk(base, "get.lua", ["/healthz", KEY], seconds, connections))
                runs["atp"].append(wrk(base, "get.lua", ["/v1/atp/{sku}", KEY], seconds, connections))
            result.update({name: best(r) for name, r in runs.items()})
            result["plain_at_atp"] = plain_at_rate(plain, result, seconds, connections)
            stop, lags = threading.Event(), []  # type: ignore[var-annotated]
            prober = threading.Thread(target=probe_lag, args=(base, stop, lags))
            prober.start()
            result["orders"] = wrk(base, "orders.lua", [KEY, uuid.uuid4().hex[:8]], seconds, connections)
            stop.set()
            prober.join()
            result["lag_ms"] = {"p50": pct(lags, 0.5), "p99": pct(lags, 0.99), "samples": len(lags)}
            result["rss_mb"] = round(rss_mb(server.pid), 1)
            result["gc"] = oldest_generation_pauses(base)
            return result
        finally:
            for process in (server, worker):
                if process is not None:
                    process.terminate()
                    process.wait(30)


def table(results: list[dict[str, object]], connections: int) -> str:
    rows = ["| figure | req/s | p99 ms | ratio | |", "|---|---|---|---|---|"]
    for r in results:
        s, reference, bare, atp, orders = r["store"], r["plain"], r["bare"], r["atp"], r["orders"]
        assert isinstance(reference, dict) and isinstance(bare, dict)
        assert isinstance(atp, dict) and isinstance(orders, dict)
        lag, gc, at = r["lag_ms"], r["gc"], r["plain_at_atp"]
        assert isinstance(lag, dict) and isinstance(gc, dict) and isinstance(at, dict)
        ping = reference["rps"]
        rows += [
            f"| {s}: plain Litestar GET /ping, beside it | {ping:,.0f} | {reference['p99_ms']} | 1.00 | |",
            f"| {s}: bare GET /healthz | {bare['rps']:,.0f} | {bare['p99_ms']} | {bare['rps'] / ping:.2f} of plain | P0 >= 0.8 |",
            f"| {s}: ATP GET /v1/atp/{{sku}} | {atp['rps']:,.0f} | {atp['p99_ms']} | {atp['rps'] / bare['rps']:.2f} of bare | P2 >= 0.7, p99 <= 20 |",
            f"| {s}: plain Litestar at ATP's rate (busy {at['spin_us']:.0f} µs a request) | {at['rps']:,.0f} | {at['p99_ms']} | | the tail any app has at that rate |",
            f"| {s}: orders, {connections} connections | {orders['rps']:,.0f} | {orders['p99_ms']} | {orders['rps'] / ping:.3f} of plain | P1 >= 0.25, p99 <= 100 |",
            f"| {s}: projection lag under intake (probe) | | p50 {lag['p50']}, p99 {lag['p99']} ({lag['samples']} probes) | | P3 p99 <= 200 |",
            f"| {s}: garbage collector, oldest generation, whole run | {gc['count']:.0f} runs | {gc['sum'] * 1000:.0f} ms in all | | |",
            f"| {s}: server RSS after the run, {r['events']:,} events before | {r['rss_mb']} MB | | | P5 <= 250 MB |",
        ]
        bad = [
            f"{name}: {v['non_2xx']} non-2xx, {v['socket_errors']} socket errors"
            for name, v in (("bare", bare), ("atp", atp), ("orders", orders))
            if v["non_2xx"] or v["socket_errors"]
        ]
        if bad:
            rows.append(f"| {s}: errors | {'; '.join(bad)} | | | |")
    return "\n".join(rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--stores", default="sqlite,postgres")
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--connections", type=int, default=64)
    parser.add_argument("--rounds", type=int, default=1, help="plain, bare and ATP in turn, best of each")
    parser.add_argument("--preload", type=int, default=0)
    parser.add_argument("--split", action="store_true", help="serve with --no-workers beside an `o2c worker` process")
    parser.add_argument("--record", action="store_true", help="append the table to bench/RESULTS.md")
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is not on the PATH (Debian: apt install wrk)")
    stores = [s.strip() for s in args.stores.split(",") if s.strip()]
    with Plain() as plain:
        results = [o2c(s, plain, args.seconds, args.connections, args.rounds, args.preload, args.split) for s in stores]
    text = table(results, args.connections)
    print(text)
    if args.record:
        command = "python -m bench.ratio " + " ".join(sys.argv[1:])
        with open(HERE / "RESULTS.md", "a") as f:
            f.write(f"\n### {datetime.now(UTC):%Y-%m-%d %H:%M} UTC — `{command}`\n\n{text}\n")


if __name__ == "__main__":
    main()
