"""Helpers for read-side tests: run commands through the ledger, drive the runner, snapshot tables."""

from __future__ import annotations

import os
import tempfile
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from domain import catalog, customer
from domain.errors import DomainError
from infra import commands
from infra.adapters.tax import make_tax_engine
from infra.eventstore.codec import Recorded
from infra.ledger.unitofwork import Context, Outcome, UnitOfWork
from infra.readside.rebuild import rebuild
from infra.readside.rowio import rows
from infra.service import Service
from infra.workers.posting import Posting
from infra.workers.promising import Promising
from infra.workers.runner import Runner
from infra.workers.workflows import BackorderFill, Billing, TaxWorker
from projections.base import EventInfo, Key, ProjectionSpec, Row
from tests.conftest import create_pg_database, drop_pg_database, make_settings
from tests.projections.fold import stored

WAREHOUSES = ("W-A", "W-B", "W-C")


def ctx(actor: str = "test") -> Context:
    return Context(actor=actor, correlation_id=str(uuid.uuid4()), causation_id="test")


def run(svc: Service, action: Callable[[UnitOfWork], object]) -> Outcome[None]:
    """Run one command in the ledger; its domain errors propagate."""

    def handler(uow: UnitOfWork) -> None:
        action(uow)

    return svc.ledger.run(ctx(), handler)


def attempt(svc: Service, action: Callable[[UnitOfWork], object]) -> Outcome[None] | None:
    """Run one command; a domain rejection (insufficient stock, ...) answers None."""
    try:
        return run(svc, action)
    except DomainError:
        return None


def seed_reference(svc: Service, skus: dict[str, str], customers: dict[str, str]) -> None:
    """Warehouses W-A..W-C, products {sku: unit price}, customers {id: credit limit}."""
    for wh in WAREHOUSES:
        run(svc, lambda uow, wh=wh: commands.put_warehouse(uow, catalog.PutWarehouse(wh, f"Warehouse {wh}")))
    for sku, price in skus.items():
        run(svc, lambda uow, s=sku, p=price: commands.put_product(uow, catalog.PutProduct(s, s, Decimal(p))))
    for cid, limit in customers.items():
        cmd = customer.PutCustomer(cid, f"Customer {cid}", Decimal(limit), "CA", "active")
        run(svc, lambda uow, c=cmd: commands.put_customer(uow, c))


def make_runner(svc: Service, batch_size: int = 500, promising: bool = True, journal: bool = False) -> Runner:
    """A runner with the followers `start_workers` runs (projections, backorder fill, billing,
    promising), driven by hand. Without `promising`, a test records promises itself; with `journal`,
    the posting workflow posts the journal too."""
    followers = [
        *svc.read.projections.values(),
        BackorderFill(svc.app, svc.engine),
        Billing(svc.app, svc.engine, svc.settings.billing_trigger),
    ]
    if promising:
        followers.append(Promising(svc.app, svc.read, svc.engine, lambda: svc.clock))
    if journal:
        followers.append(Posting(svc.app, svc.engine, svc.settings.accounts))
    return Runner(svc.store, followers, batch_size)


def settle(runner: Runner, tax: TaxWorker | None = None, max_passes: int = 200) -> None:
    """Run until nothing is left to read and no invoice is due for tax (workflows may record more
    events on the way)."""
    for _ in range(max_passes):
        if runner.run_once() == 0:
            assert runner.errors == {}, runner.errors
            if tax is None or tax.run_due() == 0:
                return
    raise AssertionError(f"runner did not settle in {max_passes} passes: {runner.errors}")


def make_tax_worker(svc: Service) -> TaxWorker:
    """The tax worker of `start_workers`, not started: `settle` runs its due work by hand."""
    return TaxWorker(svc.app, svc.read, make_tax_engine(svc.settings), svc.settings)


def _utc(row: Row) -> Row:
    """SQLite hands back naive datetimes; the read models store UTC."""
    return {k: v.replace(tzinfo=UTC) if isinstance(v, datetime) and v.tzinfo is None else v for k, v in row.items()}


def snapshot(svc: Service, names: tuple[str, ...] | None = None) -> dict[str, list[Row]]:
    """Every row of every read-model table of the active generations, sorted by key."""
    out: dict[str, list[Row]] = {}
    with svc.engine.connect() as conn:
        for name, projection in svc.read.projections.items():
            if names is not None and name not in names:
                continue
            for spec in projection.spec.tables:
                found = [_utc(r) for r in rows(conn, projection.tables[spec.name])]
                out[f"{name}.{spec.name}"] = sorted(found, key=lambda r, k=spec.key: tuple(r[c] for c in k))
    return out


def fold_log(spec: ProjectionSpec, records: list[Recorded]) -> dict[str, list[Row]]:
    """The rows the pure spec gives for these records, in the shape of `snapshot`."""
    tables: dict[str, dict[Key, Row]] = {t.name: {} for t in spec.tables}
    for record in records:
        info = EventInfo(position=record.position or 0, occurred_at=record.meta.occurred_at)
        for t in spec.tables:
            for key in t.keys_for(record.event):
                row = t.evolve(tables[t.name].get(key), key, record.event, info)
                if row is None:
                    tables[t.name].pop(key, None)
                else:
                    tables[t.name][key] = row
    for t in spec.tables:  # a tally table: the sums of tally(row) over its source table's rows
        if t.source is not None and t.tally is not None:
            counts: dict[Key, int] = {}
            for source_row in tables[t.source].values():
                for k, n in t.tally(source_row).items():
                    counts[k] = counts.get(k, 0) + n
            tables[t.name] = {k: {**dict(zip(t.key, k, strict=True)), "n": n} for k, n in counts.items() if n}
    return {
        f"{spec.name}.{t.name}": [stored(t, tables[t.name][k]) for k in sorted(tables[t.name])] for t in spec.tables
    }


def rebuild_all(svc: Service) -> dict[str, list[Row]]:
    """Rebuild every read model from the log (generation g+1) and snapshot the result."""
    for projection in svc.read.projections.values():
        before = projection.generation
        rebuild(projection)
        assert projection.generation == before + 1
    return snapshot(svc)


@contextmanager
def scratch_dir(fallback: Path) -> Iterator[Path]:
    """A directory for throw-away SQLite files: tmpfs when there is one (commits are fsync-bound)."""
    shm = Path("/dev/shm")
    if not (shm.is_dir() and os.access(shm, os.W_OK)):
        yield fallback
        return
    with tempfile.TemporaryDirectory(dir=shm, prefix="o2c-test-") as path:
        yield Path(path)


@contextmanager
def fresh_database(store: str, root: Path) -> Iterator[str]:
    """A new, empty database on `store` (a file under `root`, or a PostgreSQL database)."""
    if store == "sqlite":
        path = root / f"o2c-{uuid.uuid4().hex[:10]}.db"
        yield f"sqlite:///{path}"
        return
    name, url = create_pg_database("o2c_prop")
    try:
        yield url
    finally:
        drop_pg_database(name)


@contextmanager
def service(database_url: str, **overrides: Any) -> Iterator[Service]:
    svc = Service.start(make_settings(database_url, **overrides))
    try:
        yield svc
    finally:
        svc.close()


def store_of(database_url: str) -> str:
    return "sqlite" if database_url.startswith("sqlite") else "postgres"
