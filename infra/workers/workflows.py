"""Workflows: policies that follow the log and issue commands, idempotently."""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable, Sequence
from datetime import UTC, date, datetime, timedelta
from typing import Any

import sqlalchemy as sa

from domain import inventory, invoice, shipment
from domain.errors import DomainError
from infra import commands, tracing
from infra.adapters.tax import CircuitOpenError, TaxEngine, TaxUnavailableError
from infra.eventstore.codec import Recorded
from infra.eventstore.store import unreachable
from infra.ledger.kinds import INVOICE
from infra.ledger.ledger import StoreUnavailableError
from infra.ledger.unitofwork import Context
from infra.readside.batches import park
from infra.readside.readmodels import ReadModels
from infra.readside.storable import cannot_store
from infra.readside.tables import parked
from infra.readside.tracking import ensure_tables, read_position, save_position
from infra.settings import Settings
from infra.workers.runner import BackgroundLoop

log = logging.getLogger("o2c.workflows")
WORKFLOW_GENERATION = 0  # workflows have no generations; their parked events are kept under 0

# Events after which stock may be free at a warehouse.
_FREES_STOCK = (
    inventory.StockReceived,
    inventory.StockRestocked,
    inventory.TransferArrived,
    inventory.ReservationReleased,
)


def frees_stock(record: Recorded) -> bool:
    event = record.event
    if isinstance(event, _FREES_STOCK):
        return True
    return isinstance(event, inventory.StockAdjusted | inventory.StockCounted) and event.qty_delta > 0


def cannot_act(exc: BaseException) -> bool:
    """Retrying the same event cannot help: a business rule refused the workflow's command, or the
    store refused a value. Anything else (a lost connection, a conflict, a bug) is retried."""
    return isinstance(exc, DomainError) or cannot_store(exc)


class ParkingFollower:
    """What the follower workflows share: an event they cannot act on is parked in `o2c_parked`
    (under the workflow's name) and skipped, so one event never stops a workflow for good."""

    name: str
    engine: sa.Engine

    def _act(self, record: Recorded, action: Callable[[], object]) -> None:
        try:
            action()
        except Exception as exc:
            if not cannot_act(exc):
                raise
            self._park(record, exc)

    def _readable(self, record: Recorded, read: Callable[[Recorded], Any]) -> tuple[bool, Any]:
        """(True, what `read` finds in the event), or (False, None) for an event that cannot be decoded
        (decoding is pure: it would fail the same way every time), which is parked."""
        try:
            return True, read(record)
        except Exception as exc:  # noqa: BLE001 - parked, not fatal
            self._park(record, exc)
            return False, None

    def _park(self, record: Recorded, exc: Exception) -> None:
        error = f"{type(exc).__name__}: {exc}"
        with self.engine.begin() as conn:
            park(conn, self.name, WORKFLOW_GENERATION, [(record, error)])
        facts = {"follower": self.name, "position": record.position, "event_type": record.topic, "error": error}
        log.error("workflow parked an event it cannot act on", extra=facts)

    def parked(self) -> list[dict[str, Any]]:
        where = (parked.c.projection == self.name, parked.c.generation == WORKFLOW_GENERATION)
        with self.engine.connect() as conn:
            return [
                dict(r) for r in conn.execute(sa.select(parked).where(*where).order_by(parked.c.position)).mappings()
            ]


class BackorderFill(ParkingFollower):
    """Stock that becomes available fills open backorders of its SKU, first accepted first.

    The decision itself is state-based (`commands.fill_backorders`), so re-running it after a
    crash or on a replay records nothing new: at-least-once delivery is enough.
    """

    name = "workflow:backorder-fill"

    def __init__(self, app: commands.Application, engine: sa.Engine) -> None:
        self.app = app
        self.engine = engine
        ensure_tables(engine)

    def position(self) -> int:
        with self.engine.connect() as conn:
            return read_position(conn, self.name)

    def process(self, records: Sequence[Recorded], upto: int) -> None:
        triggers: dict[str, Recorded] = {}
        for record in records:
            readable, frees = self._readable(record, frees_stock)
            if readable and frees:
                triggers[record.event.sku] = record  # type: ignore[attr-defined]
        for sku, record in triggers.items():
            ctx = Context(
                actor="workflow:backorder-fill",
                correlation_id=record.meta.correlation_id,
                causation_id=f"event:{record.stream_id}:{record.version}",
                traceparent=record.meta.traceparent,  # the follow-on work stays in the event's trace
            )
            self._act(record, lambda ctx=ctx, sku=sku: self.app.execute(ctx, commands.FillBackorders(sku)))
        with self.engine.begin() as conn:
            save_position(conn, self.name, upto)


class Billing(ParkingFollower):
    """Every shipment gets its invoice (`INV-<shipment_id>`); with the delivery trigger the invoice
    waits for proof of delivery. Idempotent by the deterministic invoice id."""

    name = "workflow:billing"

    def __init__(self, app: commands.Application, engine: sa.Engine, trigger: str) -> None:
        self.app = app
        self.engine = engine
        self.trigger = trigger
        ensure_tables(engine)

    def position(self) -> int:
        with self.engine.connect() as conn:
            return read_position(conn, self.name)

    def process(self, records: Sequence[Recorded], upto: int) -> None:
        needs_proof = self.trigger == "delivery"
        for record in records:
            if record.topic not in ("ShipmentConfirmed", "ShipmentDelivered"):
                continue
            readable, event = self._readable(record, lambda r: r.event)
            if not readable:
                continue
            ctx = Context(
                actor=self.name,
                correlation_id=record.meta.correlation_id,
                causation_id=f"event:{record.stream_id}:{record.version}",
                traceparent=record.meta.traceparent,  # the follow-on work stays in the event's trace
            )
            command: object = None
            if isinstance(event, shipment.ShipmentConfirmed):
                command = commands.OpenInvoice(event.shipment_id, needs_proof)
            elif isinstance(event, shipment.ShipmentDelivered) and self.trigger == "delivery":
                command = commands.ReceiveProof(event.shipment_id, event.delivered_at)
            if command is not None:
                self._act(record, lambda ctx=ctx, command=command: self.app.execute(ctx, command))
        with self.engine.begin() as conn:
            save_position(conn, self.name, upto)


class TaxWorker(BackgroundLoop):
    """Takes invoices awaiting tax, asks the tax engine, and issues them; a failure parks the
    invoice with exponential backoff and jitter, and the last allowed attempt dead-letters it.
    Runs in its own thread so a slow or dead engine never holds up orders or read models."""

    thread_name = "o2c-tax"

    def __init__(self, app: commands.Application, read: ReadModels, engine: TaxEngine, settings: Settings) -> None:
        super().__init__()
        self.app = app
        self.read = read
        self.tax = engine
        self.settings = settings
        self.last_error: str | None = None
        self._not_before: dict[str, float] = {}  # invoices whose last try failed unexpectedly wait (monotonic)
        self.today: Callable[[], date] = lambda: datetime.now(UTC).date()  # the service puts its clock's here

    def backoff(self, attempt: int) -> float:
        delay: float = min(self.settings.tax_retry_base * 2.0 ** (attempt - 1), self.settings.tax_retry_max)
        return delay * random.uniform(0.5, 1.5)

    def run_due(self) -> int:
        """Handle every invoice whose next attempt is due; returns how many were tried."""
        tried = 0
        now = time.monotonic()
        self._not_before = {k: t for k, t in self._not_before.items() if t > now}
        for invoice_id in self.read.due_for_tax(datetime.now(UTC), limit=50):
            if self._stop.is_set():
                break
            if invoice_id in self._not_before:
                continue
            try:
                tried += self._attempt(invoice_id)
            except Exception as exc:
                if unreachable(exc) or isinstance(exc, StoreUnavailableError):
                    raise  # the store is away: this pass ends, the loop tries again later
                # One invoice that cannot be handled (a bug, a refused write) must not stop the others
                # behind it: it waits a backoff in memory and the pass goes on.
                self.last_error = f"{type(exc).__name__}: {exc}"[:500]
                self._not_before[invoice_id] = time.monotonic() + self.backoff(1)
                log.exception("tax attempt could not be handled", extra={"invoice_id": invoice_id})
        return tried

    def _attempt(self, invoice_id: str) -> int:
        inv, _ = self.app.ledger.load(INVOICE, invoice_id)
        if inv is None or not invoice.awaits_tax(inv):
            return 0
        attempt = inv.attempts + 1
        parent = self._trace_of(invoice_id)
        ctx = Context(
            actor="workflow:tax",
            correlation_id=f"tax-{invoice_id}",
            causation_id=f"tax-attempt:{attempt}",
            traceparent=parent,
        )
        try:
            with tracing.span("tax call", parent, o2c__invoice_id=invoice_id, o2c__attempt=attempt) as span:
                try:
                    result = self.tax.calculate(inv, self.settings.currency)
                except Exception as exc:
                    span.error(f"{type(exc).__name__}: {exc}"[:200])
                    raise
        except CircuitOpenError:
            return 0  # no call was made: nothing to count, the invoice waits for the breaker's trial
        except Exception as exc:  # noqa: BLE001 - any failed call is an attempt (API.md: every call counts)
            error = (str(exc) if isinstance(exc, TaxUnavailableError) else f"{type(exc).__name__}: {exc}")[:500]
            next_at = datetime.now(UTC) + timedelta(seconds=self.backoff(attempt))
            failed = commands.FailTax(invoice_id, attempt, error, next_at, self.settings.tax_max_attempts)
            done = self.app.execute(ctx, failed)
            self.last_error = error
            facts = {"invoice_id": invoice_id, "attempt": attempt, "position": done.position, "error": error}
            facts.update(correlation_id=ctx.correlation_id, actor=ctx.actor)
            log.warning("tax attempt failed", extra=facts)
            if attempt >= self.settings.tax_max_attempts:
                log.error("invoice dead-lettered", extra=facts)
            return 1
        done = self.app.execute(ctx, commands.IssueInvoice(invoice_id, result.tax, result.rate, attempt, self.today()))
        facts = {"invoice_id": invoice_id, "attempt": attempt, "position": done.position}
        log.info("invoice issued", extra={**facts, "correlation_id": ctx.correlation_id, "actor": ctx.actor})
        return 1

    def _trace_of(self, invoice_id: str) -> str | None:
        """The trace of the invoice's latest traced event (the shipment's request, through billing)."""
        for record in reversed(self.app.ledger.store.history(INVOICE.stream_id(invoice_id))):
            if record.meta.traceparent is not None:
                return record.meta.traceparent
        return None

    def _loop(self) -> None:
        while not self._stop.is_set():
            self._wake.clear()
            try:
                self.run_due()
            except Exception:
                log.exception("tax worker pass failed")
            self._wake.wait(0.25)
