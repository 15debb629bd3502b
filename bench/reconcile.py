"""A large stock reconciliation over HTTP: one snapshot of N lines against a real `o2c serve`.

    python -m bench.reconcile [--lines 50000] [--stores sqlite,postgres] [--record]

Per store: a fresh database with N products, each with stock at W-1 (seeded through the ledger, in
chunks), then `o2c serve` in its own process, waiting until its read models have taken in that
history (they compete for the same cores otherwise), then one POST /v1/inventory/reconciliations of all N
lines in each form (JSON, CSV) without and with `apply` (one line in ten differs, so `apply` records
N/10 counts). Prints the seconds per request, the body size and the answer's counts; `--record`
appends the table to bench/RESULTS.md.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import httpx

from bench.__main__ import KEY, free_port
from bench.db import temp_database
from domain import catalog
from infra import commands
from infra.ledger.unitofwork import Context, UnitOfWork
from infra.service import Service
from infra.settings import Settings

WAREHOUSE = "W-1"
CHUNK = 5_000


def seed(url: str, lines: int) -> float:
    """N products with 100 + i % 50 on hand at W-1; returns the seconds it took."""
    started = time.perf_counter()
    svc = Service.start(Settings(database_url=url, admin_key=KEY))
    ctx = Context(actor="bench", correlation_id="bench-reconcile", causation_id="bench")
    try:
        svc.ledger.run(ctx, lambda uow: commands.put_warehouse(uow, catalog.PutWarehouse(WAREHOUSE, "Bench")))
        for low in range(0, lines, CHUNK):
            skus = [f"SKU-{i:06d}" for i in range(low, min(low + CHUNK, lines))]

            def products(uow: UnitOfWork, skus: list[str] = skus) -> None:
                for sku in skus:
                    commands.put_product(uow, catalog.PutProduct(sku, sku, Decimal("1.00"), "EA"))

            def stock(uow: UnitOfWork, skus: list[str] = skus, low: int = low) -> None:
                commands.receive_stock(uow, f"R-{low}", WAREHOUSE, [(s, 100 + int(s[4:]) % 50) for s in skus])

            svc.ledger.run(ctx, products)
            svc.ledger.run(ctx, stock)
    finally:
        svc.close()
    return time.perf_counter() - started


def snapshot(lines: int, more: int = 1) -> list[tuple[str, int]]:
    """Every SKU with its seeded on hand, except one in ten, which is `more` more."""
    return [(f"SKU-{i:06d}", 100 + i % 50 + (more if i % 10 == 0 else 0)) for i in range(lines)]


def post(client: httpx.Client, rid: str, form: str, apply: bool, lines: list[tuple[str, int]]) -> dict[str, object]:
    path = "/v1/inventory/reconciliations"
    headers = {"Authorization": f"Bearer {KEY}"}
    if form == "json":
        body = {"reconciliation_id": rid, "warehouse_id": WAREHOUSE, "lines": [{"sku": s, "qty": q} for s, q in lines]}
        raw = json.dumps({**body, "apply": apply}, separators=(",", ":")).encode()
        headers["Content-Type"] = "application/json"
        params: dict[str, str] = {}
    else:
        raw = ("sku,qty\n" + "".join(f"{s},{q}\n" for s, q in lines)).encode()
        headers["Content-Type"] = "text/csv"
        params = {"reconciliation_id": rid, "warehouse_id": WAREHOUSE, "apply": "true" if apply else "false"}
    started = time.perf_counter()
    r = client.post(path, content=raw, headers=headers, params=params)
    elapsed = time.perf_counter() - started
    answer = r.json()
    return {
        "form": form,
        "apply": apply,
        "status": r.status_code,
        "seconds": round(elapsed, 2),
        "body_kib": round(len(raw) / 1024),
        "matched": answer.get("matched"),
        "mismatched": answer.get("mismatched"),
        "applied": answer.get("applied"),
    }


def bench_store(store: str, lines: int) -> list[dict[str, object]]:
    with temp_database(store) as url:
        seeded = seed(url, lines)
        port = free_port()
        env = {**os.environ, "O2C_DATABASE_URL": url, "O2C_ADMIN_KEY": KEY}
        cmd = [sys.executable, "-m", "api.cli", "serve", "--port", str(port), "--log-level", "warning"]
        server = subprocess.Popen(cmd, env=env, stderr=subprocess.DEVNULL)
        base = f"http://127.0.0.1:{port}"
        rows: list[dict[str, object]] = []
        try:
            with httpx.Client(base_url=base, timeout=120) as client:
                for _ in range(300):
                    try:
                        if client.get("/healthz", timeout=1).status_code == 200:
                            break
                    except httpx.HTTPError:
                        time.sleep(0.2)
                caught_up = time.perf_counter()
                while time.perf_counter() - caught_up < 600:  # the read models take in the seeded history first
                    lag = client.get("/readyz").json().get("projection_lag") or {}
                    if lag and max(lag.values()) == 0:
                        break
                    time.sleep(1)
                print(f"read models caught up in {time.perf_counter() - caught_up:.0f} s", flush=True)
                # without apply first (both see the seeded stock), then JSON applies +1 on one line in
                # ten and CSV +2 on the same lines: each applied run records lines / 10 counts
                runs = [("json", False, 1), ("csv", False, 1), ("json", True, 1), ("csv", True, 2)]
                for n, (form, apply, more) in enumerate(runs):
                    row = post(client, f"REC-{n}", form, apply, snapshot(lines, more))
                    rows.append({"store": store, "seed_s": round(seeded, 1), **row})
                    print(json.dumps(rows[-1]), flush=True)
        finally:
            server.terminate()
            try:
                server.wait(30)
            except subprocess.TimeoutExpired:  # workers still busy with the seeded history
                server.kill()
                server.wait(30)
    return rows


def table(rows: list[dict[str, object]], lines: int) -> str:
    out = [
        f"| store | form | apply | status | seconds | body | matched / mismatched | applied | ({lines:,} lines) |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        out.append(
            f"| {r['store']} | {r['form']} | {r['apply']} | {r['status']} | {r['seconds']} | {r['body_kib']} KiB "
            f"| {r['matched']} / {r['mismatched']} | {r['applied']} | |"
        )
    return "\n".join(out)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--lines", type=int, default=50_000)
    parser.add_argument("--stores", default="sqlite,postgres")
    parser.add_argument("--record", action="store_true", help="append the table to bench/RESULTS.md")
    args = parser.parse_args()
    rows = [r for s in args.stores.split(",") if s.strip() for r in bench_store(s.strip(), args.lines)]
    text = table(rows, args.lines)
    print(text)
    if args.record:
        command = "python -m bench.reconcile " + " ".join(sys.argv[1:])
        with open(Path(__file__).parent / "RESULTS.md", "a") as f:
            f.write(f"\n### {datetime.now(UTC):%Y-%m-%d %H:%M} UTC — `{command}`\n\n{text}\n")


if __name__ == "__main__":
    main()
