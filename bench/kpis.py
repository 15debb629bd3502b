"""KPI window benchmark: a year of history, the kpis read model filled by the real projection, and
the 365-day window query timed next to a plain reference on the same store.

    python -m bench.kpis --events 1000000 [--stores sqlite,postgres] [--rounds 20]

The history is the preload workload of bench/ (bench.workload: receipts, 3-line orders, cancels,
shipments) decided by the real domain and ledger in memory, spread evenly over the last 365 days
(each command recorded at its time), plus billing: each shipment's invoice opened with it, issued
0-48 hours later, 85% of them paid in full 0-60 days after issue. The events are kept in a pickle
under /tmp (the same history for every run and store), copied into a new database per store, and
the `kpis` read model is rebuilt from them (`o2c rebuild kpis`). Then, in interleaved rounds, the
window query (`ReadModels.kpis`, what GET /v1/ops/kpis runs after its wait) and the reference
`SELECT count(*)` of the per-order milestone table. The answer's digest shows two runs (before and
after a change) answered the same figures.
"""

from __future__ import annotations

import argparse
import hashlib
import heapq
import json
import pickle
import random
import statistics
import time
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from eventsourcing.persistence import InfrastructureFactory, StoredEvent
from eventsourcing.utils import Environment

from bench.db import temp_database
from bench.workload import WAREHOUSES, commands_stream, run_command, setup
from domain import payment
from domain.errors import DomainError
from infra.commands import billing
from infra.ledger.kinds import INVOICE
from infra.ledger.ledger import Ledger
from infra.ledger.unitofwork import Context, UnitOfWork
from infra.readside.rebuild import rebuild
from infra.service import Service
from infra.settings import Settings

Stored = tuple[Any, int, str, bytes]  # originator id (a UUID or text), version, topic, state


def _billing(svc: Service, at: datetime, kind: str, invoice_id: str) -> None:
    def handle(uow: UnitOfWork) -> None:
        inv = uow.get(INVOICE, invoice_id)
        if inv is None:
            return
        if kind == "issue":
            billing.issue_invoice(uow, invoice_id, Decimal("0.00"), Decimal("0"), 1, at.date())
        elif inv.issued and inv.balance > 0:
            pay = [payment.Allocation(invoice_id=invoice_id, amount=inv.balance)]
            billing.receive_payment(uow, f"PAY-{invoice_id}", inv.customer_id, inv.balance, pay, at.date())

    try:
        svc.ledger.run(
            Context(actor="bench", correlation_id="bench-billing", causation_id="bench", occurred_at=at), handle
        )
    except DomainError:
        pass


def _open(svc: Service, at: datetime, shipment_id: str) -> bool:
    def handle(uow: UnitOfWork) -> None:
        billing.open_invoice(uow, shipment_id, needs_proof=False)

    ctx = Context(actor="bench", correlation_id="bench-open", causation_id="bench", occurred_at=at)
    try:
        return svc.ledger.run(ctx, handle).position > 0
    except DomainError:
        return False


def decide_year(svc: Service, events: int, end: datetime) -> None:
    """The bench.workload stream over the 365 days before `end`, with billing (see the module doc)."""
    rng = random.Random(11)
    start = end - timedelta(days=365)
    skus, customers = setup(svc)
    pending: list[tuple[datetime, int, str, str]] = []  # (when, seq, issue|pay, invoice id)
    seq, position = 0, svc.store.head()
    for kind, command in commands_stream(skus, customers):
        at = start + (end - start) * min(position / events, 1.0)
        while pending and pending[0][0] <= at:
            when, _, action, invoice_id = heapq.heappop(pending)
            _billing(svc, when, action, invoice_id)
            if action == "issue" and rng.random() < 0.85:
                seq += 1
                heapq.heappush(pending, (when + timedelta(days=rng.randint(0, 60)), seq, "pay", invoice_id))
        payload = replace(command, accepted_at=at) if kind == "order" else command
        position = run_command(svc, kind, payload, at)
        if kind == "ship":
            for wh in WAREHOUSES:
                shipment_id = f"SH-{command}-{wh}"
                if _open(svc, at, shipment_id):
                    seq += 1
                    issue_at = at + timedelta(seconds=rng.randint(180, 48 * 3600))
                    heapq.heappush(pending, (issue_at, seq, "issue", billing.invoice_id_for(shipment_id)))
            position = svc.store.head()
        if position >= events:
            return


def history(events: int) -> list[Stored]:
    """The year's events (decided once, then read from the pickle)."""
    cache = Path(f"/tmp/o2c-bench-kpis-{events}.pickle")
    if cache.exists():
        return pickle.loads(cache.read_bytes())  # type: ignore[no-any-return]
    end = datetime.now(UTC).replace(hour=12, minute=0, second=0, microsecond=0)
    with temp_database("sqlite") as url:
        svc = Service.start(Settings(database_url=url))
        try:
            recorder = InfrastructureFactory.construct(
                Environment(env={"PERSISTENCE_MODULE": "eventsourcing.popo"})
            ).application_recorder()
            original = svc.store.use_recorder(recorder)
            if svc.ledger.group is not None:
                svc.ledger.group.stop()
            svc.ledger = Ledger(svc.store)
            try:
                decide_year(svc, events, end)
            finally:
                svc.store.use_recorder(original)
        finally:
            svc.close()
    out: list[Stored] = []
    after = 0
    while batch := recorder.select_notifications(after, 5000, inclusive_of_start=False):
        out += [(n.originator_id, n.originator_version, n.topic, n.state) for n in batch]
        after = batch[-1].id
    cache.write_bytes(pickle.dumps(out))
    return out


def _ms(seconds: list[float]) -> str:
    return f"p50 {statistics.median(seconds) * 1000:.1f} ms, max {max(seconds) * 1000:.1f} ms"


def bench_store(store: str, stored: list[Stored], rounds: int) -> dict[str, Any]:
    with temp_database(store) as url:
        svc = Service.start(Settings(database_url=url))
        try:
            recorder = svc.store.recorder
            for i in range(0, len(stored), 5000):
                recorder.insert_events([StoredEvent(*s) for s in stored[i : i + 5000]])
            p = svc.read.projections["kpis"]
            t0 = time.perf_counter()
            rebuilt = rebuild(p)
            rebuild_s = time.perf_counter() - t0
            rows: dict[str, int] = {}
            with svc.read.engine.connect() as conn:
                for name, table in p.tables.by_name.items():
                    rows[name] = int(conn.execute(sa.select(sa.func.count()).select_from(table)).scalar() or 0)
            today = datetime.now(UTC).date()
            first = today - timedelta(days=364)
            reference = sa.select(sa.func.count()).select_from(p.tables["kpi_orders"])
            window: list[float] = []
            plain: list[float] = []
            answer: dict[str, Any] = {}
            for _ in range(rounds):
                t0 = time.perf_counter()
                with svc.read.engine.connect() as conn:
                    conn.execute(reference).scalar()
                plain.append(time.perf_counter() - t0)
                t0 = time.perf_counter()
                answer = svc.read.kpis(first, today)
                window.append(time.perf_counter() - t0)
        finally:
            svc.close()
    digest = hashlib.sha256(json.dumps(answer, sort_keys=True, default=str).encode()).hexdigest()[:12]
    return {
        "store": store,
        "events": len(stored),
        "rebuild": f"{rebuilt['events']:,} events in {rebuild_s:.1f} s ({rebuilt['events'] / rebuild_s:,.0f}/s)",
        "rows": rows,
        "window": _ms(window),
        "plain": _ms(plain),
        "ratio": f"{statistics.median(window) / statistics.median(plain):.2f}",
        "answer": {k: answer[k] for k in ("orders", "lines", "fill_rate", "order_to_ship_hours")},
        "more": {k: answer[k] for k in ("ship_to_invoice_hours", "invoice_to_cash_days", "promise_accuracy")},
        "digest": digest,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--stores", default="sqlite,postgres")
    parser.add_argument("--rounds", type=int, default=20)
    args = parser.parse_args()
    t0 = time.perf_counter()
    stored = history(args.events)
    print(f"history: {len(stored):,} events ({time.perf_counter() - t0:.0f} s to decide or load)", flush=True)
    for store in (s.strip() for s in args.stores.split(",") if s.strip()):
        result = bench_store(store, stored, args.rounds)
        for k, v in result.items():
            print(f"{store:>8} {k:<8} {v}", flush=True)


if __name__ == "__main__":
    main()
