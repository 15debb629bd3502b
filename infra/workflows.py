"""Workflows: policies that follow the log and issue commands, idempotently."""

from __future__ import annotations

import logging
from collections.abc import Sequence

import sqlalchemy as sa

from domain import inventory
from infra import commands
from infra.codec import Recorded
from infra.ledger import Context, Ledger, UnitOfWork
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
