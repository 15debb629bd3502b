"""Promise KPIs from the orders read model, counted in SQL (never from the log, never a limited list).

- `promises_late(today)`: backordered lines whose `promised_date` is before today (the signal of API.md;
  the same rule as domain.order.promises.promises_late): rows of `backordered_lines` with qty still
  waiting and an ISO date (`YYYY-MM-DD` compares as text) before today's.
- `promise_accuracy()`: the share of shipped lines that shipped on or before the promise they had.
  Each order row counts its lines that shipped anything (`lines_shipped`) and those that went after
  their promise (`lines_shipped_late`, decided when the shipment was recorded: domain.order.promises);
  a line never backordered, or never promised a date, is on time. `share` is None while nothing shipped.

`ReadModels` takes these as `PromiseReads` (its `engine` and `projections`): "today" is the caller's,
from the service's clock.
"""

from __future__ import annotations

from datetime import date
from typing import Any

import sqlalchemy as sa

from infra.readside.projection import Projection
from infra.readside.tables import Tables


def count_promises_late(conn: sa.Connection, lines: sa.Table, today: date) -> int:
    query = (
        sa.select(sa.func.count())
        .select_from(lines)
        .where(lines.c.backordered > 0, lines.c.promised_date.is_not(None), lines.c.promised_date < today.isoformat())
    )
    return int(conn.execute(query).scalar() or 0)


def accuracy_of(shipped: int, late: int) -> dict[str, Any]:
    """{share, shipped_lines, on_time, late}; share = on_time / shipped_lines, None when nothing shipped."""
    on_time = shipped - late
    return {
        "share": on_time / shipped if shipped else None,
        "shipped_lines": shipped,
        "on_time": on_time,
        "late": late,
    }


def count_accuracy(conn: sa.Connection, orders: sa.Table) -> dict[str, Any]:
    shipped = sa.func.coalesce(sa.func.sum(orders.c.lines_shipped), 0)
    late = sa.func.coalesce(sa.func.sum(orders.c.lines_shipped_late), 0)
    found = conn.execute(sa.select(shipped, late).select_from(orders)).one()
    return accuracy_of(int(found[0]), int(found[1]))


class PromiseReads:
    """The promise queries of ReadModels (infra/readside/readmodels.py), over its orders tables."""

    engine: sa.Engine
    projections: dict[str, Projection]

    def _orders_tables(self) -> Tables:
        p = self.projections["orders"]
        p.refresh()  # a rebuild may have swapped in new tables
        return p.tables

    def promises_late(self, today: date) -> int:
        """Backordered lines whose promised_date is before `today`."""
        lines = self._orders_tables()["backordered_lines"]
        with self.engine.connect() as conn:
            return count_promises_late(conn, lines, today)

    def promise_accuracy(self) -> dict[str, Any]:
        """{share, shipped_lines, on_time, late} over every shipped order line."""
        orders = self._orders_tables()["orders"]
        with self.engine.connect() as conn:
            return count_accuracy(conn, orders)
