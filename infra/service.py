"""Wires the running service together: settings, database engine, event store, ledger, keys."""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field

import sqlalchemy as sa

from infra.groupcommit import GroupCommitter
from infra.keys import KeyRing
from infra.ledger import Ledger
from infra.metrics import Metrics
from infra.readmodels import ReadModels
from infra.runner import Runner
from infra.settings import Settings
from infra.snapshots import Snapshots
from infra.store import EventStore
from infra.workflows import TaxWorker


def make_engine(settings: Settings) -> sa.Engine:
    if settings.is_postgres:
        engine = sa.create_engine(settings.sqlalchemy_url(), pool_size=10, max_overflow=20, pool_pre_ping=True)
        # Batch executemany INSERTs into multi-row VALUES pages (read-model writes), not row by row.
        engine.dialect.use_insertmanyvalues_wo_returning = True  # type: ignore[attr-defined]
        return engine
    engine = sa.create_engine(settings.sqlalchemy_url(), connect_args={"timeout": 30, "check_same_thread": False})

    @sa.event.listens_for(engine, "connect")
    def _pragmas(dbapi_conn, _record):  # type: ignore[no-untyped-def]
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA busy_timeout=30000")
        cur.close()

    return engine


@dataclass
class Service:
    settings: Settings
    engine: sa.Engine
    store: EventStore
    ledger: Ledger
    keys: KeyRing
    read: ReadModels
    runner: Runner | None = None
    tax_worker: TaxWorker | None = None
    stopping: threading.Event = field(default_factory=threading.Event)
    metrics: Metrics | None = None
    background: list[threading.Thread] = field(default_factory=list)

    @classmethod
    def start(cls, settings: Settings) -> Service:
        engine = make_engine(settings)
        store = EventStore(settings, engine)
        snapshots = Snapshots(engine)
        ledger = Ledger(store, max_attempts=settings.command_retries, snapshots=snapshots)
        if settings.group_commit:
            ledger.group = GroupCommitter(ledger)
        keys = KeyRing(engine, settings.admin_key)
        read = ReadModels(engine, store)
        svc = cls(settings, engine, store, ledger, keys, read)
        svc.metrics = Metrics(svc)
        ledger.on_retry.append(svc.metrics.retries.inc)
        return svc

    def start_workers(self) -> Runner:
        """Run the projections and workflows of this process in a background thread."""
        from infra.tax import make_tax_engine
        from infra.workflows import BackorderFill, Billing

        followers = [
            *self.read.projections.values(),
            BackorderFill(self.ledger, self.engine),
            Billing(self.ledger, self.engine, self.settings.billing_trigger),
        ]
        self.runner = Runner(self.store, followers)
        self.read.local = True
        self.read.keep_atp_in_memory()
        self.tax_worker = TaxWorker(self.ledger, self.read, make_tax_engine(self.settings), self.settings)
        self.runner.after_pass.append(self.tax_worker.wake)
        self.tax_worker.start()
        self.ledger.after_commit.append(self.runner.wake)
        self.runner.start()
        return self.runner

    def in_background(self, name: str, target: Callable[[], object]) -> None:
        """Run a long job (a rebuild) in a thread that close() waits for."""
        thread = threading.Thread(target=target, name=name, daemon=True)
        self.background = [t for t in self.background if t.is_alive()] + [thread]
        thread.start()

    def close(self) -> None:
        self.stopping.set()
        for thread in self.background:
            thread.join(30)
        if self.tax_worker is not None:
            self.tax_worker.stop()
        if self.runner is not None:
            self.runner.stop()
        if self.ledger.group is not None:
            self.ledger.group.stop()
        if self.ledger.cache.snapshots is not None:
            self.ledger.cache.snapshots.stop()
        self.store.recorder.datastore.close()  # type: ignore[attr-defined]
        self.engine.dispose()
