"""Crashes of the runner lose and duplicate nothing; a bad event is parked, not fatal.

A batch is written with its tracking position in one transaction: a crash before the commit leaves
neither rows nor position behind, and a restarted runner applies the batch exactly once.
"""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import sys
import threading
from collections import Counter
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

import infra.readside.batches
import projections.atp
from domain import inventory
from infra import commands
from infra.ledger.unitofwork import UnitOfWork
from infra.readside.rebuild import rebuild
from infra.readside.tracking import read_position, tracking
from infra.service import Service
from infra.workers.runner import Runner
from projections import ALL
from projections.orders import decode_state
from tests.conftest import Api, wait_until
from tests.infra.readside import (
    fold_log,
    make_runner,
    rebuild_all,
    run,
    seed_reference,
    service,
    settle,
    snapshot,
)

REPO = Path(__file__).resolve().parents[2]
SKUS = {"BOLT-10": "8.50", "NUT-4": "0.25"}


class SimulatedCrash(Exception):
    """The process 'dies' here: the open transaction is never committed."""


def place(order_id: str, sku: str, qty: int, warehouse_id: str | None = None) -> Any:
    cmd = commands.PlaceOrderInput(
        order_id=order_id,
        customer_id="C1",
        channel="edi",
        warehouse_id=warehouse_id,
        allow_backorder=True,
        lines=(commands.OrderLineInput("1", sku, qty, None),),
        accepted_at=datetime.now(UTC),
    )
    return lambda uow: commands.place_order(uow, cmd)


def ship(shipment_id: str, order_id: str, warehouse_id: str, sku: str, qty: int) -> Any:
    cmd = commands.ShipInput(
        shipment_id, order_id, warehouse_id, ((sku, qty),), None, None, Decimal("0.00"), datetime.now(UTC)
    )
    return lambda uow: commands.ship(uow, cmd)


def small_history(svc: Service) -> None:
    """About forty events touching every read model: stock, orders, a backorder, a cancel, a count."""
    seed_reference(svc, SKUS, {"C1": "100000.00"})
    run(svc, lambda uow: commands.receive_stock(uow, "R-1", "W-A", [("BOLT-10", 6), ("NUT-4", 50)]))
    run(svc, lambda uow: commands.receive_stock(uow, "R-2", "W-B", [("BOLT-10", 6)]))
    run(svc, place("SO-1", "BOLT-10", 9))
    run(svc, place("SO-2", "NUT-4", 60, "W-A"))
    run(svc, ship("SH-1", "SO-1", "W-A", "BOLT-10", 6))
    run(svc, lambda uow: commands.cancel_order(uow, "SO-2", "customer"))
    run(svc, lambda uow: commands.count_stock(uow, "CNT-1", "W-B", "BOLT-10", 5))
    run(svc, lambda uow: commands.start_transfer(uow, "T-1", "W-A", "W-C", "NUT-4", 20))
    run(svc, lambda uow: commands.receive_transfer(uow, "T-1"))


def expected_rows(svc: Service, name: str, upto: int | None = None) -> dict[str, list[dict[str, Any]]]:
    """What the pure spec gives for the log (up to a position)."""
    records = svc.store.read(0, 1_000_000)
    if upto is not None:
        records = [r for r in records if (r.position or 0) <= upto]
    return fold_log(ALL[name], records)


def stored_position(svc: Service, name: str) -> int:
    with svc.engine.connect() as conn:
        return read_position(conn, svc.read[name].tracking_name)


def test_a_crash_before_the_commit_leaves_no_row_of_the_batch_and_the_position_unmoved(
    database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    with service(database_url) as svc:
        small_history(svc)
        records = svc.store.read(0, 10_000)
        batches = [records[i : i + 7] for i in range(0, len(records), 7)]
        assert len(batches) >= 4
        atp = svc.read["atp"]
        for batch in batches[:2]:
            atp.process(batch, batch[-1].position or 0)
        done = batches[1][-1].position or 0
        assert snapshot(svc, ("atp",)) == expected_rows(svc, "atp", done)

        written: list[list[dict[str, Any]]] = []
        real_save = infra.readside.batches.save_position

        def crash_after_writing(conn: sa.Connection, name: str, position: int, **kw: Any) -> None:
            table = atp.tables["positions"]
            found = conn.execute(sa.select(table).order_by(table.c.sku, table.c.warehouse_id)).mappings()
            written.append([dict(r) for r in found])
            raise SimulatedCrash(f"killed before saving {name} at {position}")

        monkeypatch.setattr(infra.readside.batches, "save_position", crash_after_writing)
        crashing = batches[2] + batches[3]
        upto = crashing[-1].position or 0
        with pytest.raises(SimulatedCrash):
            atp.process(crashing, upto)
        # The batch's rows were all in the transaction when it died ...
        assert written == [expected_rows(svc, "atp", upto)["atp.positions"]]
        assert written[0] != expected_rows(svc, "atp", done)["atp.positions"]
        # ... and none of them outlived it.

        assert stored_position(svc, "atp") == done
        assert atp.position() == done
        assert snapshot(svc, ("atp",)) == expected_rows(svc, "atp", done)

        monkeypatch.setattr(infra.readside.batches, "save_position", real_save)

    with service(database_url) as restarted:  # a new process on the same database
        assert restarted.read.position("atp") == done
        settle(make_runner(restarted, batch_size=5))
        expected = {name: expected_rows(restarted, name) for name in ALL}
        incremental = snapshot(restarted)
        assert incremental == {k: v for rows in expected.values() for k, v in rows.items()}
        assert rebuild_all(restarted) == incremental


def test_a_runner_whose_projection_crashes_once_retries_it_and_applies_every_event_once(
    database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    with service(database_url) as svc:
        small_history(svc)
        real_save = infra.readside.batches.save_position
        crashes = Counter[str]()

        def crash_once_per_projection(conn: sa.Connection, name: str, position: int, **kw: Any) -> None:
            projection = name.split("@")[0]
            if position > 20 and not crashes[projection]:
                crashes[projection] += 1
                raise SimulatedCrash(f"{name} dies at {position}")
            real_save(conn, name, position, **kw)

        monkeypatch.setattr(infra.readside.batches, "save_position", crash_once_per_projection)
        runner = make_runner(svc, batch_size=6)
        for _ in range(50):
            if runner.run_once() == 0:
                break
        assert {"atp", "orders", "balances"} <= set(crashes)
        assert runner.errors == {}
        expected = {k: v for name in ALL for k, v in expected_rows(svc, name).items()}
        assert snapshot(svc) == expected
        monkeypatch.setattr(infra.readside.batches, "save_position", real_save)
        assert rebuild_all(svc) == expected


class AlwaysFailing:
    """A follower whose downstream is down: every batch fails (not an evolve error, so not parked)."""

    name = "always-failing"

    def position(self) -> int:
        return 0

    def process(self, records: Any, upto: int) -> None:
        raise RuntimeError("downstream is down")


def test_a_follower_that_keeps_failing_does_not_hold_the_others_back(
    database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(logging.getLogger("o2c.runner"), "disabled", True)  # one traceback per retry
    with service(database_url) as svc:
        small_history(svc)
        head = svc.store.head()
        runner = Runner(svc.store, [*svc.read.projections.values(), AlwaysFailing()], batch_size=5)
        returned = threading.Event()
        thread = threading.Thread(target=lambda: (runner.run_once(), returned.set()), daemon=True)
        thread.start()
        wait_until(lambda: returned.is_set() or all(p.position() >= head for p in svc.read.projections.values()), 3)
        finished = returned.wait(1)
        runner.stop()  # ends a pass that is still going round
        thread.join(10)

        assert {name: p.stored_position() for name, p in svc.read.projections.items()} == {name: head for name in ALL}
        assert finished, "run_once kept re-reading the failing follower's batch instead of returning"
        assert runner.errors["always-failing"] == "RuntimeError: downstream is down"


def test_a_batch_read_before_a_rebuild_swapped_in_is_not_applied_twice(database_url: str) -> None:
    """The runner reads a projection's position and the log, a rebuild takes the same events and
    swaps in, then the runner hands its batch over: it must not be applied on top again."""
    with service(database_url) as svc:
        small_history(svc)
        atp = svc.read["atp"]
        head = svc.store.head()
        first = svc.store.read(0, 10)
        atp.process(first, first[-1].position or 0)

        mine = atp.position()  # what the runner saw ...
        batch = svc.store.read(mine, 500)  # ... and read
        rebuild(atp)  # meanwhile: catches up to the head and swaps in
        atp.process(batch, batch[-1].position or mine)  # the runner goes on with its batch

        assert atp.stored_position() == head
        assert snapshot(svc, ("atp",)) == expected_rows(svc, "atp")


# --- a real process, killed with SIGKILL -------------------------------------------------------

ORDERS, RECEIPTS = 200, 1500  # about 3,600 events: several batches of the worker's 500
WORKER = """
import sys, time
from infra.workers.runner import Runner
from infra.service import Service
from infra.settings import Settings
svc = Service.start(Settings(database_url=sys.argv[1]))
svc.start_workers()
print("started", flush=True)
time.sleep(600)
"""


def backlog(svc: Service, orders: int, receipts: int) -> None:
    """Orders that wait for stock, then many small receipts (each one event) that fill them."""
    seed_reference(svc, SKUS, {"C1": "100000000.00"})

    def place_many(uow: UnitOfWork) -> None:
        for i in range(orders):
            place(f"SO-{i}", "BOLT-10" if i % 2 else "NUT-4", 3, "W-B" if i % 5 == 0 else None)(uow)

    def receive_many(uow: UnitOfWork) -> None:
        for i in range(receipts):
            commands.receive_stock(uow, f"R-{i}", ("W-A", "W-B", "W-C")[i % 3], [("BOLT-10", 1), ("NUT-4", 1)])

    run(svc, place_many)
    run(svc, receive_many)


def positions(engine: sa.Engine) -> dict[str, int]:
    with engine.connect() as conn:
        return {r.name: r.position for r in conn.execute(sa.select(tracking))}


def test_a_runner_killed_with_sigkill_mid_way_resumes_without_losing_or_duplicating(database_url: str) -> None:
    with service(database_url) as svc:
        backlog(svc, orders=ORDERS, receipts=RECEIPTS)
        head = svc.store.head()
        engine = svc.engine

        env = {**os.environ, "PYTHONPATH": str(REPO)}
        worker = subprocess.Popen(
            [sys.executable, "-c", WORKER, database_url],
            cwd=REPO,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        try:
            names = [f"{n}@{p.generation}" for n, p in svc.read.projections.items()]
            started = wait_until(
                lambda: any(0 < positions(engine).get(n, 0) for n in names), timeout=60, interval=0.005
            )
            assert started, worker.stderr.read().decode() if worker.poll() is not None else "worker made no progress"
        finally:
            worker.send_signal(signal.SIGKILL)
            worker.wait(10)
        at_kill = positions(engine)
        assert any(at_kill.get(n, 0) < head for n in names), f"the worker finished before the kill: {at_kill}"

        # Whatever each projection committed is exactly the log up to its position: no half batch.
        for name in ALL:
            upto = stored_position(svc, name)
            assert snapshot(svc, (name,)) == expected_rows(svc, name, upto), name

    with service(database_url) as restarted:
        settle(make_runner(restarted))
        incremental = snapshot(restarted)
        assert incremental == {k: v for name in ALL for k, v in expected_rows(restarted, name).items()}
        assert rebuild_all(restarted) == incremental

        # Every receipt counted once, and every reservation belongs to exactly one order allocation.
        stock = Counter[tuple[str, str]]()
        for row in incremental["atp.positions"]:
            stock[(row["sku"], row["warehouse_id"])] = row["on_hand"]
        assert sum(stock.values()) == 2 * RECEIPTS
        allocated = Counter[tuple[str, str]]()
        for row in incremental["orders.orders"]:
            for line in decode_state(row["doc"]).lines:
                for wh, qty in line.allocations.items():
                    allocated[(line.sku, wh)] += qty
        assert {(r["sku"], r["warehouse_id"]): r["reserved"] for r in incremental["atp.positions"]} == {
            key: allocated[key] for key in stock
        }
        assert sum(allocated.values()) == ORDERS * 3  # enough stock arrived for every order
        assert incremental["atp.backorders"] == []


# --- a bad event is parked ---------------------------------------------------------------------


def test_an_event_whose_evolve_raises_is_parked_and_the_others_still_apply(
    seeded: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    api = seeded
    svc: Service = api.client.app.state.service  # type: ignore[union-attr]

    def broken(event: inventory.StockCounted) -> tuple[int, int, int]:
        raise ValueError(f"cannot read count {event.count_id}")

    monkeypatch.setitem(projections.atp._DELTAS, inventory.StockCounted, broken)
    receipt = {"receipt_id": "R-1", "warehouse_id": "W-A", "lines": [{"sku": "BOLT-10", "qty": 10}]}
    assert api.post("/v1/inventory/receipts", receipt).status_code == 201
    count = api.post(
        "/v1/inventory/counts", {"count_id": "CNT-1", "warehouse_id": "W-A", "sku": "BOLT-10", "counted_qty": 7}
    )
    assert count.status_code == 201, count.text
    receipt = {"receipt_id": "R-2", "warehouse_id": "W-A", "lines": [{"sku": "BOLT-10", "qty": 5}]}
    last = api.post("/v1/inventory/receipts", receipt).json()["position"]

    atp = api.get("/v1/atp/BOLT-10", min_position=last).json()
    assert atp["on_hand"] == 15  # both receipts; the parked count is skipped
    parked = svc.read["atp"].parked()
    history = api.get("/v1/inventory/W-A/BOLT-10/history").json()["events"]
    counted_at = next(e["position"] for e in history if e["type"] == "StockCounted")
    assert [(p["event_type"], p["position"]) for p in parked] == [("StockCounted", counted_at)]
    assert "cannot read count CNT-1" in parked[0]["error"]
    signals = api.get("/v1/ops/signals", min_position=last).json()
    assert signals["parked_events"] == {name: int(name == "atp") for name in ALL}
    assert signals["projection_lag"]["atp"] == 0

    # Fixed code, rebuilt read model: the count applies and nothing is parked any more.
    monkeypatch.undo()
    generation = svc.read["atp"].generation
    assert api.post("/v1/admin/projections/atp/rebuild").status_code == 202
    assert wait_until(lambda: svc.read["atp"].generation == generation + 1, timeout=10)
    assert api.get("/v1/atp/BOLT-10").json()["on_hand"] == 12
    assert svc.read["atp"].parked() == []
    assert api.get("/v1/ops/signals").json()["parked_events"]["atp"] == 0
