"""Workflows: policies that follow the log and issue commands, idempotently."""

from __future__ import annotations

import logging
import random
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa

from domain import inventory, invoice, shipment
from infra import billing, commands
from infra.codec import Recorded
from infra.ledger import INVOICE, Context, Ledger, UnitOfWork
from infra.readmodels import ReadModels
from infra.runner import BackgroundLoop
from infra.settings import Settings
from infra.tax import CircuitOpenError, TaxEngine, TaxUnavailableError
from infra.tracking import ensure_tables, read_position, save_position

log = logging.getLogger("o2c.workflows")

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


class BackorderFill:
    """Stock that becomes available fills open backorders of its SKU, first accepted first.

    The decision itself is state-based (`commands.fill_backorders`), so re-running it after a
    crash or on a replay records nothing new: at-least-once delivery is enough.
    """

    name = "workflow:backorder-fill"

    def __init__(self, ledger: Ledger, engine: sa.Engine) -> None:
        self.ledger = ledger
        self.engine = engine
        ensure_tables(engine)

    def position(self) -> int:
        with self.engine.connect() as conn:
            return read_position(conn, self.name)

    def process(self, records: Sequence[Recorded], upto: int) -> None:
        triggers: dict[str, Recorded] = {}
        for record in records:
            if frees_stock(record):
                triggers[record.event.sku] = record  # type: ignore[attr-defined]
        for sku, record in triggers.items():
            ctx = Context(
                actor="workflow:backorder-fill",
                correlation_id=record.meta.correlation_id,
                causation_id=f"event:{record.stream_id}:{record.version}",
            )

            def handle(uow: UnitOfWork, sku: str = sku) -> tuple[int, dict[str, object]]:
                return 200, {"filled": commands.fill_backorders(uow, sku)}

            self.ledger.run(ctx, handle)
        with self.engine.begin() as conn:
            save_position(conn, self.name, upto)


class Billing:
    """Every shipment gets its invoice (`INV-<shipment_id>`); with the delivery trigger the invoice
    waits for proof of delivery. Idempotent by the deterministic invoice id."""

    name = "workflow:billing"

    def __init__(self, ledger: Ledger, engine: sa.Engine, trigger: str) -> None:
        self.ledger = ledger
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
            event = record.event
            ctx = Context(
                actor=self.name,
                correlation_id=record.meta.correlation_id,
                causation_id=f"event:{record.stream_id}:{record.version}",
            )
            if isinstance(event, shipment.ShipmentConfirmed):

                def handle(
                    uow: UnitOfWork, sid: str = event.shipment_id, proof: bool = needs_proof
                ) -> tuple[int, dict[str, object]]:
                    billing.open_invoice(uow, sid, proof)
                    return 200, {}

                self.ledger.run(ctx, handle)
            elif isinstance(event, shipment.ShipmentDelivered) and self.trigger == "delivery":

                def proof(uow: UnitOfWork, e: shipment.ShipmentDelivered = event) -> tuple[int, dict[str, object]]:
                    billing.receive_proof(uow, e.shipment_id, e.delivered_at)
                    return 200, {}

                self.ledger.run(ctx, proof)
        with self.engine.begin() as conn:
            save_position(conn, self.name, upto)


class TaxWorker(BackgroundLoop):
    """Takes invoices awaiting tax, asks the tax engine, and issues them; a failure parks the
    invoice with exponential backoff and jitter, and the last allowed attempt dead-letters it.
    Runs in its own thread so a slow or dead engine never holds up orders or read models."""

    thread_name = "o2c-tax"

    def __init__(self, ledger: Ledger, read: ReadModels, engine: TaxEngine, settings: Settings) -> None:
        super().__init__()
        self.ledger = ledger
        self.read = read
        self.tax = engine
        self.settings = settings
        self.last_error: str | None = None

    def backoff(self, attempt: int) -> float:
        delay = min(self.settings.tax_retry_base * 2 ** (attempt - 1), self.settings.tax_retry_max)
        return delay * random.uniform(0.5, 1.5)

    def run_due(self) -> int:
        """Handle every invoice whose next attempt is due; returns how many were tried."""
        tried = 0
        for invoice_id in self.read.due_for_tax(datetime.now(UTC), limit=50):
            if self._stop.is_set():
                break
            tried += self._attempt(invoice_id)
        return tried

    def _attempt(self, invoice_id: str) -> int:
        inv, _ = self.ledger.load(INVOICE, invoice_id)
        if inv is None or not invoice.awaits_tax(inv):
            return 0
        attempt = inv.attempts + 1
        ctx = Context(actor="workflow:tax", correlation_id=f"tax-{invoice_id}", causation_id=f"tax-attempt:{attempt}")
        try:
            result = self.tax.calculate(inv, self.settings.currency)
        except CircuitOpenError:
            return 0  # no call was made: nothing to count, the invoice waits for the breaker
        except TaxUnavailableError as exc:
            error = str(exc)[:500]
            next_at = datetime.now(UTC) + timedelta(seconds=self.backoff(attempt))

            def failed(uow: UnitOfWork) -> tuple[int, dict[str, object]]:
                billing.fail_tax(uow, invoice_id, attempt, error, next_at, self.settings.tax_max_attempts)
                return 200, {}

            done = self.ledger.run(ctx, failed)
            self.last_error = error
            facts = {"invoice_id": invoice_id, "attempt": attempt, "position": done.position, "error": error}
            facts.update(correlation_id=ctx.correlation_id, actor=ctx.actor)
            log.warning("tax attempt failed", extra=facts)
            if attempt >= self.settings.tax_max_attempts:
                log.error("invoice dead-lettered", extra=facts)
            return 1

        def issued(uow: UnitOfWork) -> tuple[int, dict[str, object]]:
            billing.issue_invoice(uow, invoice_id, result.tax, result.rate, attempt)
            return 200, {}

        done = self.ledger.run(ctx, issued)
        facts = {"invoice_id": invoice_id, "attempt": attempt, "position": done.position}
        log.info("invoice issued", extra={**facts, "correlation_id": ctx.correlation_id, "actor": ctx.actor})
        return 1

    def _loop(self) -> None:
        while not self._stop.is_set():
            self._wake.clear()
            try:
                self.run_due()
            except Exception:
                log.exception("tax worker pass failed")
            self._wake.wait(0.25)
