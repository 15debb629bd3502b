"""Crash safety: `o2c serve` as a real process, killed with SIGKILL in the middle of concurrent intake,
restarted on the same database, twice. Every command answered 2xx is in the log, no command is half
recorded, and the read models converge to a rebuild of the log.
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx

from tests.conftest import ADMIN_KEY, Api, _free_port, make_settings, seed, wait_until
from tests.reliability.harness import check_invariants, serve

REPO = Path(__file__).resolve().parents[2]
SKUS = ("BOLT-10", "NUT-4")
WAREHOUSES = ("W-A", "W-B")
CLIENTS = 16


@contextmanager
def o2c_serve(database_url: str, log: Path) -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    """`o2c serve` in its own process; yields its base URL and the process."""
    port = _free_port()
    env = {
        **os.environ,
        "PYTHONPATH": str(REPO),
        "O2C_DATABASE_URL": database_url,
        "O2C_ADMIN_KEY": ADMIN_KEY,
        "O2C_TAX_RATES": "CA=0.0725",
    }
    with log.open("ab") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "api.cli", "serve", "--port", str(port), "--log-level", "warning"],
            cwd=REPO,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    base = f"http://127.0.0.1:{port}"
    try:

        def up() -> bool:
            assert proc.poll() is None, log.read_text()[-3000:]
            try:
                return httpx.get(f"{base}/healthz", timeout=1).status_code == 200
            except httpx.HTTPError:
                return False

        assert wait_until(up, timeout=60, interval=0.1), "o2c serve did not start"
        yield base, proc
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.wait(30)


@dataclass
class Acks:
    """Commands the server answered 2xx (so promised to keep), and requests cut off by the crash."""

    orders: dict[str, dict[str, Any]] = field(default_factory=dict)
    receipts: dict[str, tuple[dict[str, Any], int]] = field(default_factory=dict)  # id -> (body, position)
    shipments: dict[str, dict[str, Any]] = field(default_factory=dict)
    cut_off: int = 0
    server_errors: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)


def intake(base: str, acks: Acks, n: int, cycle: int, stop: threading.Event) -> None:
    """One client: orders, receipts and shipments until the server dies under it."""
    rng = random.Random(cycle * 100 + n)
    with httpx.Client(base_url=base, timeout=30) as http:
        api = Api(http)
        i = 0
        while not stop.is_set():
            i += 1
            tag = f"{cycle}-{n}-{i}"
            try:
                roll = rng.random()
                if roll < 0.6:
                    body = {
                        "order_id": f"SO-{tag}",
                        "customer_id": "C1",
                        "channel": "edi",
                        "allow_backorder": True,
                        "lines": [{"sku": s, "qty": rng.randint(1, 4)} for s in rng.sample(SKUS, rng.choice((1, 2)))],
                    }
                    r = api.post("/v1/orders", body, headers={"Idempotency-Key": f"key-{tag}"})
                    if r.is_success:
                        with acks.lock:
                            acks.orders[body["order_id"]] = body
                elif roll < 0.85:
                    wh = rng.choice(WAREHOUSES)
                    body = {
                        "receipt_id": f"R-{tag}",
                        "warehouse_id": wh,
                        "lines": [{"sku": rng.choice(SKUS), "qty": 3}],
                    }
                    r = api.post("/v1/inventory/receipts", body)
                    if r.is_success:
                        with acks.lock:
                            acks.receipts[body["receipt_id"]] = (body, r.json()["position"])
                else:
                    with acks.lock:
                        placed = list(acks.orders)
                    if not placed:
                        continue
                    order_id = rng.choice(placed)
                    got = api.get(f"/v1/orders/{order_id}").json()
                    held = [(ln["sku"], a) for ln in got["lines"] for a in ln["allocations"]]
                    if not held:
                        continue
                    sku, alloc = rng.choice(held)
                    body = {
                        "shipment_id": f"SH-{tag}",
                        "order_id": order_id,
                        "warehouse_id": alloc["warehouse_id"],
                        "lines": [{"sku": sku, "qty": alloc["qty"]}],
                    }
                    r = api.post("/v1/shipments", body)
                    if r.is_success:
                        with acks.lock:
                            acks.shipments[body["shipment_id"]] = body
                if r.is_server_error:
                    with acks.lock:
                        acks.server_errors.append(f"{r.status_code} {r.text[:300]}")
            except httpx.TransportError:
                with acks.lock:
                    acks.cut_off += 1  # the server died under this request: no promise was made
                return


def load_then_kill(base: str, proc: subprocess.Popen[bytes], acks: Acks, cycle: int) -> None:
    stop = threading.Event()
    before = len(acks.orders)
    threads = [threading.Thread(target=intake, args=(base, acks, n, cycle, stop)) for n in range(CLIENTS)]
    for t in threads:
        t.start()
    # Kill once intake is well under way (a few dozen orders in), without waiting for a quiet moment.
    assert wait_until(lambda: len(acks.orders) >= before + 40, timeout=60, interval=0.01), "no intake"
    proc.send_signal(signal.SIGKILL)
    proc.wait(30)
    stop.set()
    for t in threads:
        t.join(60)
    assert acks.cut_off > 0, "the kill cut no request off: it was not mid-load"
    assert acks.server_errors == [], acks.server_errors[:5]


def assert_everything_acknowledged_is_recorded(api: Api, acks: Acks) -> None:
    for order_id, body in acks.orders.items():
        got = api.get(f"/v1/orders/{order_id}")
        assert got.status_code == 200, (order_id, got.text)
        assert [(ln["sku"], ln["qty"]) for ln in got.json()["lines"]] == [
            (ln["sku"], ln["qty"]) for ln in body["lines"]
        ]
    for receipt_id, (body, position) in acks.receipts.items():
        again = api.post("/v1/inventory/receipts", body)  # answered from its record: the same position
        assert again.status_code == 201 and again.json()["position"] == position, (receipt_id, again.text)
    for shipment_id in acks.shipments:
        got = api.get(f"/v1/shipments/{shipment_id}")
        assert got.status_code == 200, (shipment_id, got.text)


def test_sigkill_mid_intake_loses_no_acknowledged_command_and_leaves_none_half_recorded(
    database_url: str, tmp_path: Path
) -> None:
    log = tmp_path / "serve.log"
    acks = Acks()
    for cycle in (1, 2):
        with o2c_serve(database_url, log) as (base, proc), httpx.Client(base_url=base, timeout=30) as c:
            api = Api(c)
            if cycle == 1:
                seed(api)
                for i, (sku, wh) in enumerate((s, w) for s in SKUS for w in WAREHOUSES):
                    body = {"receipt_id": f"R-0-{i}", "warehouse_id": wh, "lines": [{"sku": sku, "qty": 60}]}
                    assert api.post("/v1/inventory/receipts", body).status_code == 201
            load_then_kill(base, proc, acks, cycle)

    # Restarted on the same database: everything it acknowledged is there, and the workers catch up.
    with o2c_serve(database_url, log) as (base, proc), httpx.Client(base_url=base, timeout=30) as c:
        api = Api(c)
        assert_everything_acknowledged_is_recorded(api, acks)
        assert wait_until(lambda: httpx.get(f"{base}/readyz").status_code == 200, timeout=30)
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(30) == 0

    # The read models the killed processes left, taken up by a new one, equal a rebuild; no order is
    # half recorded (each line adds up; reservations are exactly the orders' allocations).
    with serve(make_settings(database_url, tax_rates={"CA": Decimal("0.0725")})) as app:
        rows = check_invariants(app.svc)
        assert {r["order_id"] for r in rows["orders.orders"]} >= set(acks.orders)
        assert {r["shipment_id"] for r in rows["invoices.invoices"] if r["kind"] == "invoice"} >= set(acks.shipments)
    print(f"crash: {len(acks.orders)} orders, {len(acks.receipts)} receipts, {len(acks.shipments)} shipments acked")
