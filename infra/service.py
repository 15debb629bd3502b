"""Wires the running service together: settings, database engine, event store, ledger, keys."""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa

from infra import tracing
from infra.adapters.keys import KeyRing
from infra.adapters.metrics import Metrics
from infra.clock import Clock
from infra.commands.application import Application
from infra.eventstore.engine import make_engine
from infra.eventstore.store import EventStore
from infra.ledger.groupcommit import GroupCommitter
from infra.ledger.ledger import Ledger
from infra.ledger.refusals import RefusalCounter
from infra.ledger.snapshots import Snapshots
from infra.readside.readmodels import ReadModels
from infra.readside.verifications import Verifications
from infra.settings import Settings
from infra.workers.leader import AdvisoryLocks, Leadership, SoleProcess, conninfo_for, lock_holders, one_at_a_time
from infra.workers.posting import Posting
from infra.workers.promising import Promising
from infra.workers.runner import Runner, stuck_followers
from infra.workers.verifying import VerificationWorker
from infra.workers.webhook_store import WebhookStore
from infra.workers.webhooks import NAME as WEBHOOKS
from infra.workers.webhooks import WebhookDeliveries, WebhookWorker
from infra.workers.workflows import BackorderFill, Billing, TaxWorker

TAX = "workflow:tax"  # the tax worker's lock name
WORKFLOWS = (BackorderFill.name, Billing.name, Promising.name, Posting.name, TAX, WEBHOOKS)


def make_leadership(settings: Settings, engine: sa.Engine, names: list[str], retry: float = 1.0) -> Leadership:
    """One lock per follower on PostgreSQL; on SQLite the one process runs everything."""
    if settings.is_postgres:
        return AdvisoryLocks(conninfo_for(engine.url), names, retry)
    return SoleProcess(names)


class LeaderTaxWorker(TaxWorker):
    """The tax worker, working only while this process holds the tax workflow's lock."""

    def __init__(self, *args: Any, leadership: Leadership) -> None:
        super().__init__(*args)
        self.leadership = leadership

    def run_due(self) -> int:
        if TAX not in self.leadership.refresh():
            return 0
        return super().run_due()


@dataclass
class Service:
    settings: Settings
    engine: sa.Engine
    store: EventStore
    ledger: Ledger
    keys: KeyRing
    read: ReadModels
    app: Application  # the application service: commands in, domain results out
    runner: Runner | None = None
    tax_worker: TaxWorker | None = None
    stopping: threading.Event = field(default_factory=threading.Event)
    metrics: Metrics | None = None
    leadership: Leadership | None = None
    background: list[threading.Thread] = field(default_factory=list)
    clock: Clock = field(default_factory=Clock)  # "now" and "today" for every part (tests fix it)
    webhooks: WebhookStore | None = None
    webhook_worker: WebhookWorker | None = None
    verifier: VerificationWorker | None = None  # runs pending verifications while this process feeds every read model

    @classmethod
    def start(cls, settings: Settings) -> Service:
        tracing.configure(settings.otlp_endpoint)
        engine = make_engine(settings)
        with one_at_a_time(engine, "o2c:create-tables"):  # processes starting together on a fresh database
            store = EventStore(settings, engine)
            snapshots = Snapshots(engine)
            keys = KeyRing(engine, settings.admin_key)
            read = ReadModels(engine, store)
            hooks = WebhookStore(engine)
            refusals = RefusalCounter(engine, Clock().today)
        ledger = Ledger(store, max_attempts=settings.command_retries, snapshots=snapshots)
        if settings.group_commit:
            ledger.group = GroupCommitter(ledger)
        svc = cls(settings, engine, store, ledger, keys, read, Application(ledger, settings), webhooks=hooks)
        refusals.today = lambda: svc.clock.today()
        svc.app.refusals = refusals  # refused orders counted per day, outside the log
        keys.now = lambda: svc.clock.now()  # expiry and grace by the service's clock (tests fix it)
        svc.metrics = Metrics(read, svc)
        svc.metrics.watch_webhooks(hooks)
        ledger.on_retry.append(svc.metrics.retries.inc)
        return svc

    @property
    def follower_names(self) -> list[str]:
        """Every projection and workflow: each runs in exactly one process at a time."""
        return [*self.read.projections, *WORKFLOWS]

    def start_workers(self) -> Runner:
        """Run the projections and workflows in background threads, each only while this process
        holds its lock (PostgreSQL); a stand-by process takes over within seconds of a holder dying."""
        from infra.adapters.tax import make_tax_engine

        self.leadership = make_leadership(self.settings, self.engine, self.follower_names)
        self.leadership.listeners.append(self.read.follow)
        hooks = self.webhooks = self.webhooks or WebhookStore(self.engine)
        self.webhook_worker = WebhookWorker(
            hooks, self.store, self.settings, lambda: self.clock, leadership=self.leadership
        )
        followers = [
            *self.read.projections.values(),
            BackorderFill(self.app, self.engine),
            Billing(self.app, self.engine, self.settings.billing_trigger),
            Promising(self.app, self.read, self.engine, lambda: self.clock),
            Posting(self.app, self.engine, self.settings.accounts),
            WebhookDeliveries(hooks, self.engine, lambda: self.clock, self.webhook_worker.wake),
        ]
        self.runner = Runner(self.store, followers, leadership=self.leadership)
        self.leadership.refresh()  # take what is free now, before the threads start
        tax = make_tax_engine(self.settings)
        self.tax_worker = LeaderTaxWorker(self.app, self.read, tax, self.settings, leadership=self.leadership)
        self.tax_worker.today = lambda: self.clock.today()  # invoices are issued on the service's day
        self.runner.after_pass.append(self.tax_worker.wake)
        self.tax_worker.start()
        self.webhook_worker.start()
        self.ledger.after_commit.append(self.runner.wake)
        self.verifier = VerificationWorker(
            Verifications(self.engine), list(self.read.projections.values()), self.store, self.held
        )
        self.runner.start()
        self.verifier.start()
        return self.runner

    def worker_status(self) -> dict[str, str]:
        """Who runs each projection and workflow: "this process", "other" (another process holds
        its lock) or "none" (nobody does: no worker is up). SQLite cannot see another process's
        workers, so there a name not run here is "unknown"."""
        mine = self.held()
        if not self.settings.is_postgres:
            return {n: "this process" if n in mine else "unknown" for n in self.follower_names}
        with self.engine.connect() as conn:
            holders = lock_holders(conn, self.follower_names)
        where = {n: "other" if n in holders else "none" for n in self.follower_names}
        return {n: "this process" if n in mine else where[n] for n in self.follower_names}

    def held(self) -> frozenset[str]:
        """The projections and workflows this process runs now (holds the lock of); no I/O."""
        return self.leadership.held() if self.leadership is not None else frozenset()

    def stuck(self) -> dict[str, str]:
        """Read models and workflows stuck on an error, here or in another process (infra/workers/runner.py)."""
        return stuck_followers(self.engine, self.runner, self.held())

    def mirror_atp(self) -> None:
        """Keep ATP in memory here even while another process runs its projection (the web process
        of `o2c serve --no-workers` beside `o2c worker`, or a stand-by on PostgreSQL)."""
        mirror = self.read.mirror_atp()
        self.in_background("o2c-atp-mirror", lambda: mirror.run(self.stopping))

    def in_background(self, name: str, target: Callable[[], object]) -> None:
        """Run a long job (a rebuild) in a thread that close() waits for."""
        thread = threading.Thread(target=target, name=name, daemon=True)
        self.background = [t for t in self.background if t.is_alive()] + [thread]
        thread.start()

    def close(self) -> None:
        self.stopping.set()
        for thread in self.background:
            thread.join(30)
        if self.verifier is not None:
            self.verifier.stop()
        if self.tax_worker is not None:
            self.tax_worker.stop()
        if self.webhook_worker is not None:
            self.webhook_worker.stop()
        if self.runner is not None:
            self.runner.stop()
        if self.leadership is not None:
            self.leadership.close()  # frees the locks at once for a stand-by
        if self.ledger.group is not None:
            self.ledger.group.stop()
        if self.ledger.cache.snapshots is not None:
            self.ledger.cache.snapshots.stop()
        self.store.recorder.datastore.close()  # type: ignore[attr-defined]
        self.engine.dispose()
        tracing.shutdown()  # sends the spans still buffered
