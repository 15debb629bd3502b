"""Shared parts of the reliability tests: a served app with its service, a TCP proxy that can cut the
database off, and the invariants every fault must leave intact."""

from __future__ import annotations

import socket
import threading
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import httpx
import sqlalchemy as sa
import uvicorn

from api.app import create_app
from infra.ledger.kinds import POSITION, position_key
from infra.service import Service
from infra.settings import Settings
from projections.invoices import decode_state as decode_invoice
from projections.orders import decode_state as decode_order
from tests.conftest import _admin_engine, _free_port, settle, wait_until
from tests.infra.readside import rebuild_all, snapshot


@dataclass
class Served:
    base: str
    svc: Service


@contextmanager
def serve(settings: Settings) -> Iterator[Served]:
    """The real app under uvicorn in a thread, with its Service (projections and workflows running)."""
    app = create_app(settings)
    port = _free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    base = f"http://127.0.0.1:{port}"

    def answers() -> bool:
        try:
            return httpx.get(f"{base}/healthz", timeout=1).status_code == 200
        except httpx.HTTPError:
            return False

    assert wait_until(answers, timeout=20), "server did not start"
    try:
        yield Served(base, app.state.service)
    finally:
        server.should_exit = True
        thread.join(30)


def is_problem(r: httpx.Response, status: int, code: str) -> bool:
    return (
        r.status_code == status
        and r.headers.get("content-type", "").startswith("application/problem+json")
        and r.json().get("code") == code
    )


def unavailable(r: httpx.Response) -> bool:
    """The answer a client may retry: 503 store_unavailable with Retry-After."""
    return is_problem(r, 503, "store_unavailable") and int(r.headers.get("retry-after", "0")) > 0


class Proxy:
    """A TCP forwarder in front of PostgreSQL. `cut()` drops every open connection and refuses new
    ones (the service sees the database vanish); `restore()` forwards again."""

    def __init__(self, target: tuple[str, int]) -> None:
        self.target = target
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = int(self.listener.getsockname()[1])
        self.forwarding = True
        self._pairs: list[tuple[socket.socket, socket.socket]] = []
        self._lock = threading.Lock()
        self._closed = False
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while not self._closed:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            if not self.forwarding:
                client.close()
                continue
            try:
                upstream = socket.create_connection(self.target, timeout=5)
                upstream.settimeout(None)
            except OSError:
                client.close()
                continue
            with self._lock:
                self._pairs.append((client, upstream))
            threading.Thread(target=self._pump, args=(client, upstream), daemon=True).start()
            threading.Thread(target=self._pump, args=(upstream, client), daemon=True).start()

    @staticmethod
    def _pump(source: socket.socket, sink: socket.socket) -> None:
        try:
            while data := source.recv(65536):
                sink.sendall(data)
        except OSError:
            pass
        finally:
            for s in (source, sink):
                try:
                    s.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass

    def cut(self) -> None:
        self.forwarding = False
        with self._lock:
            pairs, self._pairs = self._pairs, []
        for pair in pairs:
            for s in pair:
                try:
                    s.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
                s.close()

    def restore(self) -> None:
        self.forwarding = True

    def close(self) -> None:
        self._closed = True
        self.cut()
        self.listener.close()


def terminate_backends(database: str) -> int:
    """Kill every server process connected to `database` (this test's own database only)."""
    admin = _admin_engine()
    try:
        with admin.connect() as conn:
            killed = conn.execute(
                sa.text(
                    "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                    "WHERE datname = :db AND pid <> pg_backend_pid()"
                ),
                {"db": database},
            ).scalar()
        return int(killed or 0)
    finally:
        admin.dispose()


def database_name(url: str) -> str:
    return url.rsplit("/", 1)[1]


def settled(svc: Service, timeout: float = 30.0) -> int:
    """Wait for the workers to go idle, including invoices waiting for their tax and number."""
    deadline = time.monotonic() + timeout
    while True:
        head = settle(svc)
        if _unnumbered(svc) == 0 and settle(svc) == head:
            return head
        assert time.monotonic() < deadline, "invoices were left without a number"
        time.sleep(0.1)


def _unnumbered(svc: Service) -> int:
    rows = snapshot(svc, ("invoices",)).get("invoices.invoices", [])
    return sum(1 for r in rows if r["kind"] == "invoice" and r["number"] is None)


def check_invariants(
    svc: Service, recounted: set[tuple[str, str]] | None = None, rebuild: bool = True
) -> dict[str, Any]:
    """Every invariant of the ledger, once the workers are idle; returns the read models' rows.

    Reserved never exceeds on hand (except where a count or adjustment may have taken stock from
    under reservations), reservations are the orders' allocations, every order line adds up, the
    read models equal a rebuild from the log, one invoice per shipment, numbers gap-free 1..N.
    """
    settled(svc)
    assert svc.runner is not None and svc.runner.errors == {}, svc.runner.errors if svc.runner else None
    assert {name: p.parked() for name, p in svc.read.projections.items()} == {n: [] for n in svc.read.projections}
    rows = snapshot(svc)

    allocated: Counter[tuple[str, str]] = Counter()
    for row in rows["orders.orders"]:
        state = decode_order(row["doc"])
        for line in state.lines:
            assert min(line.allocated, line.backordered, line.shipped, line.cancelled) >= 0, (row["order_id"], line)
            assert line.qty == line.allocated + line.backordered + line.shipped + line.cancelled, (
                row["order_id"],
                line,
            )
            assert line.allocated == sum(line.allocations.values()), (row["order_id"], line)
            for warehouse, qty in line.allocations.items():
                allocated[(line.sku, warehouse)] += qty
    positions = {(r["sku"], r["warehouse_id"]): r for r in rows["atp.positions"]}
    for key, row in positions.items():
        state, _ = svc.ledger.load(POSITION, position_key(*key))
        assert (row["on_hand"], row["reserved"]) == (state.on_hand, state.reserved), (key, row, state)
        assert row["reserved"] == allocated[key], (key, row, allocated[key])
        if key not in (recounted or set()):
            assert 0 <= row["reserved"] <= row["on_hand"], (key, row)
    assert set(allocated) <= set(positions)

    invoices = [decode_invoice(r["doc"]) for r in rows.get("invoices.invoices", []) if r["kind"] == "invoice"]
    per_shipment = Counter(r["shipment_id"] for r in rows.get("invoices.invoices", []) if r["kind"] == "invoice")
    assert all(n == 1 for n in per_shipment.values()), per_shipment.most_common(3)
    numbers = sorted(i.number for i in invoices if i.number is not None)
    assert numbers == list(range(1, len(numbers) + 1)), numbers

    if rebuild:
        assert rebuild_all(svc) == rows
    return rows
