"""Scale-out on PostgreSQL: every projection and workflow runs in exactly one process at a time.

Each worker process competes for one advisory lock per follower (infra/workers/leader.py). The first test
drives two services' runners by hand in this process, each with its own lock connection, and
checks the hand-over both ways, including the ATP read model moving between memory and the tables.
The second starts real processes (two API-only servers, two workers), SIGKILLs the worker that
holds the locks under traffic, and checks that the other one carries on with nothing lost or doubled.
PostgreSQL only: on SQLite a single process runs everything.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest
import sqlalchemy as sa

from infra import commands
from infra.adapters.tax import make_tax_engine
from infra.readside.tracking import tracking
from infra.service import LeaderTaxWorker, Service, make_leadership
from infra.workers.leader import APPLICATION_NAME, Leadership, lock_holders
from infra.workers.runner import Runner
from tests.conftest import ADMIN_KEY, Api, _free_port, seed, wait_until
from tests.infra.readside import make_runner, rebuild_all, run, seed_reference, service, settle, snapshot
from tests.webhook_receiver import Receiver

REPO = Path(__file__).resolve().parents[2]
SKUS = {"BOLT-10": "8.50", "NUT-4": "0.25"}


@pytest.fixture
def pg_url(database_url: str) -> str:
    if database_url.startswith("sqlite"):
        pytest.skip("leader election is for PostgreSQL; on SQLite one process runs every worker")
    return database_url


# --- helpers ---------------------------------------------------------------------------------------


def elected(svc: Service, retry: float = 0.3) -> tuple[Leadership, Runner, LeaderTaxWorker]:
    """The workers `start_workers` runs, with their own lock connection, driven by hand."""
    leadership = make_leadership(svc.settings, svc.engine, svc.follower_names, retry)
    leadership.listeners.append(svc.read.follow)
    svc.leadership = leadership  # for worker_status; close() releases it
    runner = make_runner(svc)
    runner.leadership = leadership
    tax = LeaderTaxWorker(svc.app, svc.read, make_tax_engine(svc.settings), svc.settings, leadership=leadership)
    return leadership, runner, tax


def round_of_traffic(svc: Service, i: int) -> None:
    """A receipt, an order it covers, its shipment; every third round also a backorder to fill."""
    now = datetime.now(UTC)
    run(svc, lambda uow: commands.receive_stock(uow, f"R-{i}", "W-A", [("BOLT-10", 2), ("NUT-4", 3)]))
    lines = (commands.OrderLineInput("1", "BOLT-10", 2, None),)
    order = commands.PlaceOrderInput(f"SO-{i}", "C1", "edi", "W-A", True, lines, now)
    run(svc, lambda uow: commands.place_order(uow, order))
    shipment = commands.ShipInput(f"SH-{i}", f"SO-{i}", "W-A", (("BOLT-10", 2),), None, None, Decimal("0.00"), now)
    run(svc, lambda uow: commands.ship(uow, shipment))
    if i % 3 == 0:  # more NUT-4 than is free: backordered, filled by the next receipts
        waiting = commands.PlaceOrderInput(
            f"BO-{i}", "C1", "edi", "W-A", True, (commands.OrderLineInput("1", "NUT-4", 4, None),), now
        )
        run(svc, lambda uow: commands.place_order(uow, waiting))


def tracked(engine: sa.Engine) -> dict[str, int]:
    with engine.connect() as conn:
        return {r.name: r.position for r in conn.execute(sa.select(tracking))}


def terminate(engine: sa.Engine, backend_pid: int) -> None:
    """Kill one PostgreSQL session, as a dead process or a broken network would end it."""
    with engine.connect() as conn:
        assert conn.execute(sa.text("SELECT pg_terminate_backend(:pid)"), {"pid": backend_pid}).scalar()


def invoices(svc: Service) -> list[Any]:
    found, _ = svc.read.list_invoices(None, None, None, 1000, None)
    return found


def check_billing(svc: Service, shipments: int) -> None:
    """Exactly one invoice per shipment, issued once, numbered 1..N without gaps; the log agrees."""
    issued = invoices(svc)
    assert sorted(inv.invoice_id for inv in issued) == sorted(f"INV-SH-{i}" for i in range(shipments))
    assert sorted(inv.number for inv in issued) == list(range(1, shipments + 1)), [inv.number for inv in issued]
    events = Counter[tuple[str, str]]()
    for record in svc.store.read(0, 1_000_000):
        if record.topic in ("InvoiceOpened", "InvoiceIssued"):
            events[(record.topic, record.event.invoice_id)] += 1  # type: ignore[attr-defined]
    assert set(events.values()) == {1}, [k for k, n in events.items() if n > 1]
    assert len(events) == 2 * shipments


def check_read_models_equal_a_rebuild(svc: Service) -> None:
    incremental = snapshot(svc)
    assert incremental["atp.backorders"] == []  # every backorder was filled by the workflow
    assert rebuild_all(svc) == incremental


# --- the lock itself, two services in one process ----------------------------------------------------


def test_only_the_lock_holder_feeds_and_a_stand_by_takes_over_when_the_lock_connection_dies(pg_url: str) -> None:
    with service(pg_url) as a, service(pg_url) as b:
        la, ra, ta = elected(a)
        lb, rb, tb = elected(b)
        names = frozenset(a.follower_names)
        skus = sorted(SKUS)
        try:
            assert la.refresh() == names
            assert lb.refresh() == frozenset()
            assert a.worker_status() == dict.fromkeys(a.follower_names, "this process")
            assert b.worker_status() == dict.fromkeys(b.follower_names, "other")

            seed_reference(a, SKUS, {"C1": "100000000.00"})
            for i in range(4):
                round_of_traffic(a if i % 2 else b, i)
            assert rb.run_once() == 0 and tb.run_due() == 0  # the stand-by feeds nothing
            assert set(tracked(a.engine)) == set()
            settle(ra, ta)
            assert a.read.local and a.read.atp_ready_in_memory
            assert not b.read.local and not b.read.atp_ready_in_memory
            assert b.read.atp(skus, None, date.today()) == a.read.atp(
                skus, None, date.today()
            )  # the tables agree with A's memory
            assert a.metrics is not None and b.metrics is not None
            assert b'o2c_worker_lock_held{name="workflow:tax"} 1.0' in a.metrics.render()
            assert b'o2c_worker_lock_held{name="workflow:tax"} 0.0' in b.metrics.render()

            # A's lock connection dies: A stops feeding at its next pass, and does not compete at once.
            backend = la.backend_pid
            assert backend is not None
            terminate(a.engine, backend)
            for i in range(4, 8):
                round_of_traffic(b, i)
            before = tracked(a.engine)
            assert ra.run_once() == 0 and ta.run_due() == 0
            assert la.held() == frozenset() and not a.read.local and not a.read.atp_ready_in_memory
            assert tracked(a.engine) == before

            # B takes every lock within its retry interval and catches up; A, retrying, gets nothing.
            assert wait_until(lambda: lb.refresh() == names, timeout=5)
            assert b.read.local and b.read.atp_ready_in_memory
            settle(rb, tb)
            time.sleep(0.35)
            assert ra.run_once() == 0 and la.held() == frozenset()
            assert a.worker_status() == dict.fromkeys(a.follower_names, "other")
            assert a.read.atp(skus, None, date.today()) == b.read.atp(
                skus, None, date.today()
            )  # A now answers from the tables
            check_billing(b, 8)

            # B shuts down: A takes over and answers ATP from memory again, including what B wrote.
            lb.close()
            assert not b.read.atp_ready_in_memory
            assert wait_until(lambda: la.refresh() == names, timeout=5)
            assert a.read.atp_ready_in_memory and a.read.atp(skus, None, date.today()) == b.read.atp(
                skus, None, date.today()
            )
            for i in range(8, 10):
                round_of_traffic(a, i)
            settle(ra, ta)
            assert a.read.atp(skus, None, date.today()) == b.read.atp(skus, None, date.today())
            assert a.read.position("atp") == a.read["atp"].stored_position()  # not a position remembered from before
            check_billing(a, 10)
            check_read_models_equal_a_rebuild(a)
        finally:
            la.close()
            lb.close()


# --- real processes: two API servers, two workers, SIGKILL the leader --------------------------------


class Processes:
    """Child processes of the test, with their output in files; all killed at the end."""

    def __init__(self, database_url: str, logs: Path) -> None:
        self.env = {
            **os.environ,
            "PYTHONPATH": str(REPO),
            "O2C_DATABASE_URL": database_url,
            "O2C_ADMIN_KEY": ADMIN_KEY,
            "O2C_WEBHOOK_ALLOW_PRIVATE": "true",  # the test's receiver is on loopback
            "O2C_WEBHOOK_RETRY_SCHEDULE": "100ms,100ms,100ms,100ms,100ms",
        }
        self.logs = logs
        self.children: list[subprocess.Popen[bytes]] = []

    def start(self, name: str, *args: str) -> subprocess.Popen[bytes]:
        out = (self.logs / f"{name}.log").open("wb")
        child = subprocess.Popen(
            [sys.executable, "-m", "api.cli", *args], cwd=REPO, env=self.env, stdout=out, stderr=subprocess.STDOUT
        )
        self.children.append(child)
        return child

    def output(self) -> str:
        return "\n".join(f"--- {p.name}\n{p.read_text()[-3000:]}" for p in sorted(self.logs.glob("*.log")))

    def stop_all(self) -> None:
        for child in self.children:
            if child.poll() is None:
                child.kill()
        for child in self.children:
            child.wait(10)


def leaders(engine: sa.Engine, names: list[str]) -> dict[str, int]:
    """{follower name: OS pid of the process holding its lock}, from pg_locks and pg_stat_activity."""
    with engine.connect() as conn:
        backends = lock_holders(conn, names)
        found = conn.execute(sa.text("SELECT pid, application_name FROM pg_stat_activity")).all()
    apps = {int(r.pid): str(r.application_name or "") for r in found}
    return {
        n: int(apps[pid].split(":")[1]) for n, pid in backends.items() if apps.get(pid, "").startswith(APPLICATION_NAME)
    }


def competing(engine: sa.Engine, os_pid: int) -> bool:
    """The process has its lock connection open (it is a stand-by, or a holder)."""
    with engine.connect() as conn:
        found = conn.execute(
            sa.text("SELECT count(*) FROM pg_stat_activity WHERE application_name = :name"),
            {"name": f"{APPLICATION_NAME}:{os_pid}"},
        ).scalar()
    return bool(found)


def answers(base: str) -> bool:
    try:
        return httpx.get(f"{base}/healthz", timeout=1).status_code == 200
    except httpx.HTTPError:
        return False


def drive(api: Api, i: int) -> None:
    """Through the HTTP API: a receipt, an order it covers, its shipment; sometimes a backorder."""
    ok = (200, 201)
    r = api.post(
        "/v1/inventory/receipts",
        {
            "receipt_id": f"R-{i}",
            "warehouse_id": "W-A",
            "lines": [{"sku": "BOLT-10", "qty": 2}, {"sku": "NUT-4", "qty": 3}],
        },
    )
    assert r.status_code in ok, r.text
    order = {
        "order_id": f"SO-{i}",
        "customer_id": "C1",
        "channel": "web",
        "warehouse_id": "W-A",
        "lines": [{"sku": "BOLT-10", "qty": 2}],
    }
    r = api.post("/v1/orders", order, headers={"Idempotency-Key": f"order-{i}"})
    assert r.status_code in ok, r.text
    r = api.post(
        "/v1/shipments",
        {
            "shipment_id": f"SH-{i}",
            "order_id": f"SO-{i}",
            "warehouse_id": "W-A",
            "lines": [{"sku": "BOLT-10", "qty": 2}],
        },
    )
    assert r.status_code in ok, r.text
    if i % 3 == 0:
        waiting = {
            "order_id": f"BO-{i}",
            "customer_id": "C2",
            "channel": "edi",
            "warehouse_id": "W-A",
            "lines": [{"sku": "NUT-4", "qty": 4}],
        }
        r = api.post("/v1/orders", waiting, headers={"Idempotency-Key": f"bo-{i}"})
        assert r.status_code in ok, r.text


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with Receiver() as r:
        yield r


@pytest.fixture
def processes(pg_url: str, tmp_path: Path) -> Iterator[Processes]:
    procs = Processes(pg_url, tmp_path)
    try:
        yield procs
    finally:
        procs.stop_all()


def test_killing_the_worker_that_holds_the_locks_hands_everything_to_the_other_without_loss(
    pg_url: str, processes: Processes, receiver: Receiver
) -> None:
    ports = [_free_port(), _free_port()]
    for n, port in enumerate(ports):
        processes.start(f"api{n}", "serve", "--no-workers", "--port", str(port), "--log-level", "warning")
    first = processes.start("worker0", "worker")
    bases = [f"http://127.0.0.1:{port}" for port in ports]
    with service(pg_url) as svc:
        names = svc.follower_names
        assert wait_until(lambda: leaders(svc.engine, names) == dict.fromkeys(names, first.pid), timeout=30), (
            processes.output()
        )
        second = processes.start("worker1", "worker")
        assert wait_until(lambda: all(answers(b) for b in bases), timeout=30), processes.output()
        apis = [Api(httpx.Client(base_url=b, timeout=30)) for b in bases]
        seed(apis[0])
        hook = {"webhook_id": "crm", "url": receiver.url, "event_types": ["OrderPlaced", "InvoiceIssued"]}
        made = apis[1].post("/v1/webhooks", hook)
        assert made.status_code == 201, made.text
        receiver.secrets.append(made.json()["secret"])
        assert wait_until(lambda: competing(svc.engine, second.pid), timeout=30), processes.output()
        assert leaders(svc.engine, names) == dict.fromkeys(names, first.pid)  # the second one stands by

        for i in range(12):
            drive(apis[i % 2], i)
        holder = leaders(svc.engine, names)
        assert set(holder.values()) == {first.pid}
        first.send_signal(signal.SIGKILL)
        killed_at = time.monotonic()
        for i in range(12, 24):  # traffic goes on while the locks change hands
            drive(apis[i % 2], i)
        assert wait_until(lambda: leaders(svc.engine, names) == dict.fromkeys(names, second.pid), timeout=15), (
            processes.output()
        )
        took_over = time.monotonic() - killed_at

        # Everything is processed by the survivor: every invoice issued, read models caught up.
        def done() -> bool:
            issued = [inv for inv in invoices(svc) if inv.number is not None]
            head = svc.store.head()
            return len(issued) == 24 and all(p >= head for p in tracked(svc.engine).values())

        assert wait_until(done, timeout=30, interval=0.2), (svc.read.lag(), processes.output())
        print(f"locks moved to the stand-by {took_over:.2f}s after the SIGKILL")
        assert second.poll() is None, processes.output()
        ready = apis[1].client.get("/readyz").json()
        assert ready["workers"] == dict.fromkeys(names, "other"), ready
        check_billing(svc, 24)
        check_read_models_equal_a_rebuild(svc)
        # Webhooks: every matching event reached the receiver at least once, signed; none is lost.
        feed = apis[0].get("/v1/events", after=0, limit=1000).json()["events"]
        wanted = {e["id"] for e in feed if e["type"] in ("o2c.OrderPlaced", "o2c.InvoiceIssued")}
        assert len(wanted) == 24 + 8 + 24  # orders, backorders, invoices
        assert wait_until(lambda: wanted <= {r.headers["webhook-id"] for r in receiver.received}, timeout=30), (
            len(wanted - {r.headers["webhook-id"] for r in receiver.received}),
            processes.output(),
        )
        assert all(r.verified for r in receiver.received)
        for api in apis:
            api.client.close()
