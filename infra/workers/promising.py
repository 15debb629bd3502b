"""The promising workflow: every change in supply or demand for a SKU re-promises its backorders.

It follows the log; for each SKU whose stock positions, backorder book, expected receipts or
transfers changed in a batch, it runs the promise rule (domain/promising.py) over the SKU's rows in
the ATP read model (stock available now, incoming supply, the queue) once that read model has
processed the batch, and records `BackorderPromised` on each order whose line's date changes
(`order.PromiseBackorders` records only changes). The cost is per SKU changed, never a rescan.

"Today" is the service's clock. A day passing alone re-promises nothing: a promise whose date has
gone by is late (`promises_late` in signals) until supply or demand for its SKU changes.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from datetime import date

import sqlalchemy as sa

from domain import order, promising
from infra import commands
from infra.clock import Clock
from infra.eventstore.codec import Recorded
from infra.ledger.unitofwork import Context
from infra.readside.atp_rows import SkuRows
from infra.readside.readmodels import ReadModels
from infra.readside.tracking import ensure_tables, read_position, save_position
from infra.workers.workflows import ParkingFollower
from projections.atp import available_from_rows, incoming_from_rows, queue_from_rows

log = logging.getLogger("o2c.promising")
SUPPLY_AND_DEMAND = frozenset({"position", "backorders", "expected-receipt", "transfer"})  # stream kinds
READ_MODEL_PATIENCE = 10.0  # seconds to wait for the ATP read model to reach the batch, else retry later


class ReadModelBehindError(Exception):
    """The ATP or orders read model has not processed the batch yet (it runs in another process)."""


class Promising(ParkingFollower):
    name = "workflow:promising"

    def __init__(
        self, app: commands.Application, read: ReadModels, engine: sa.Engine, clock: Callable[[], Clock]
    ) -> None:
        self.app = app
        self.read = read
        self.engine = engine
        self.clock = clock  # the service's clock, asked each time (tests put a fixed one in its place)
        self.recorded = 0  # PromiseBackorders commands sent (each to an order whose dates differ)
        ensure_tables(engine)

    def position(self) -> int:
        with self.engine.connect() as conn:
            return read_position(conn, self.name)

    def process(self, records: Sequence[Recorded], upto: int) -> None:
        touched: dict[str, Recorded] = {}
        for record in records:
            if record.meta.kind not in SUPPLY_AND_DEMAND:
                continue
            readable, sku = self._readable(record, lambda r: getattr(r.event, "sku", None))
            if readable and isinstance(sku, str):
                touched[sku] = record
        if touched:
            self._wait_for_read_models(upto)
            today = self.clock().today()
            skus = sorted(touched)
            supply = self.read.atp_rows(skus)  # one read of the ATP rows and one of the promises held
            held = self.read.promised_lines(skus)
            for sku in skus:
                self._promise(sku, touched[sku], today, supply.of(sku), held[sku])
        with self.engine.begin() as conn:
            save_position(conn, self.name, upto)

    def _wait_for_read_models(self, upto: int) -> None:
        deadline = time.monotonic() + READ_MODEL_PATIENCE
        while min(self.read.position("atp"), self.read.position("orders")) < upto:
            if time.monotonic() > deadline:
                raise ReadModelBehindError(f"the ATP and orders read models have not reached position {upto}")
            time.sleep(0.02)

    def _promise(
        self, sku: str, record: Recorded, today: date, found: SkuRows, held: dict[tuple[str, str], date | None]
    ) -> None:
        if not found.waiting and not held:
            return  # nothing waits for this SKU and no promise stands: nothing to say
        dates = promising.promised_dates(
            today,
            available_from_rows(found.positions),
            incoming_from_rows(found.incoming),
            queue_from_rows(found.waiting),
        )
        changed: dict[str, dict[str, date | None]] = {}
        for key in dates.keys() | held.keys():
            new = dates.get(key)
            if key not in held or held[key] != new:
                changed.setdefault(key[0], {})[key[1]] = new
        ctx = Context(
            actor=self.name,
            correlation_id=record.meta.correlation_id,
            causation_id=f"promise:{sku}",
            traceparent=record.meta.traceparent,
        )
        for order_id, lines in sorted(changed.items()):
            command = order.PromiseBackorders(order_id, lines)
            self._act(record, lambda command=command: self.app.execute(ctx, command))
            self.recorded += 1
