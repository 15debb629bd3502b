"""Business KPIs over the kpis read model (projections/kpis.py) and the refusal counter, for a window
of days: SQL sums per channel over the orders accepted in it, and the durations of the orders,
invoices and payments that reached their later milestone in it (all by indexed day columns, never the
log); the pure `kpis_of` makes the answer."""

from __future__ import annotations

import json
from datetime import date
from typing import Any

import sqlalchemy as sa

from infra.ledger.refusals import PRICE_MISMATCH, STOCK_SHORTFALL, count_refusals
from infra.readside.projection import Projection
from projections.kpis import kpis_of


class KpiReads:
    """The KPI query of ReadModels (infra/readside/readmodels.py)."""

    engine: sa.Engine
    projections: dict[str, Projection]

    def kpis(self, start: date, end: date) -> dict[str, Any]:
        p = self.projections["kpis"]
        p.refresh()  # a rebuild may have swapped in new tables
        o, i = p.tables["kpi_orders"], p.tables["kpi_invoices"]
        a, b = start.isoformat(), end.isoformat()
        accepted = o.c.day.between(a, b)
        per_channel = sa.select(
            o.c.channel,
            sa.func.count(),
            sa.func.coalesce(sa.func.sum(o.c.lines), 0),
            sa.func.coalesce(sa.func.sum(o.c.filled), 0),
            sa.func.coalesce(sa.func.sum(o.c.backordered), 0),
            sa.func.count(sa.case((o.c.cancelled.is_(True), 1))),
        ).where(accepted)
        holds = sa.select(o.c.held, sa.func.count()).where(o.c.held_day.between(a, b)).group_by(o.c.held)
        with self.engine.connect() as conn:
            by_channel = {r[0]: tuple(int(v) for v in r[1:]) for r in conn.execute(per_channel.group_by(o.c.channel))}
            held = {reason: int(n) for reason, n in conn.execute(holds)}
            shipped, late = 0, 0
            lines = sa.select(o.c.shipped_lines, o.c.late_lines).where(accepted, o.c.ship_day.is_not(None))
            for shipped_lines, late_lines in conn.execute(lines):
                shipped += len(json.loads(shipped_lines or "[]"))
                late += len(json.loads(late_lines or "[]"))
            ship = conn.execute(
                sa.select(o.c.ship_seconds).where(o.c.ship_day.between(a, b), o.c.ship_seconds.is_not(None))
            ).scalars()
            ship_seconds = [int(v) for v in ship]
            issued = conn.execute(
                sa.select(i.c.issue_seconds).where(i.c.issue_day.between(a, b), i.c.issue_seconds.is_not(None))
            ).scalars()
            invoice_seconds = [int(v) for v in issued]
            paid = conn.execute(
                sa.select(i.c.cash_days).where(i.c.cash_day.between(a, b), i.c.cash_days.is_not(None))
            ).scalars()
            cash_days = [int(v) for v in paid]
            dead = conn.execute(sa.select(sa.func.count()).where(i.c.dead_day.between(a, b))).scalar()
        refused = count_refusals(self.engine, start, end)
        exceptions = {
            "price_mismatch": refused[PRICE_MISMATCH],
            "credit_holds": held.get("credit_limit", 0),
            "overdue_holds": held.get("overdue", 0),
            "tax_dead_letters": int(dead or 0),
            "stock_shortfalls": refused[STOCK_SHORTFALL],
        }
        return kpis_of(start, end, by_channel, ship_seconds, invoice_seconds, cash_days, (shipped, late), exceptions)
