"""Business KPIs over the kpis read model's tallies (projections/kpi_tallies.py) and the refusal
counter, for a window of days: the window is cut into whole months and the days at its ends, and
every figure is read from the tally rows of those periods (by primary key), never from one row per
order or invoice nor from the log; the pure `kpis_of` makes the answer."""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from datetime import date
from typing import Any

import sqlalchemy as sa

from infra.ledger.refusals import PRICE_MISMATCH, STOCK_SHORTFALL, count_refusals
from infra.readside.projection import Projection
from projections.kpi_tallies import LEVELS, SUMS, level, periods, rank, walk
from projections.kpis import kpis_of


def _channel(sums: dict[tuple[str, str], int], channel: str) -> tuple[int, int, int, int, int]:
    """(orders, lines, filled, backordered, cancelled) of a channel."""
    orders, lines, filled, backordered, cancelled = (
        sums.get((figure, channel), 0) for figure in ("orders", "lines", "filled", "backordered", "cancelled")
    )
    return orders, lines, filled, backordered, cancelled


def _percentiles(conn: sa.Connection, t: sa.Table, figure: str, window: Sequence[str]) -> dict[str, int | None]:
    """Nearest-rank p50 and p90 of `figure`'s values in the window: at each level, from the widest
    buckets down, the bucket that holds the rank, then the values inside it."""

    def counts(width: int, within: tuple[int, int] | None) -> list[tuple[int, int]]:
        query = sa.select(t.c.value, sa.func.sum(t.c.n)).where(
            t.c.figure == level(figure, width), t.c.period.in_(window), t.c.part == ""
        )  # `part` is named so the key's index reaches `value`
        if within is not None:
            query = query.where(t.c.value.between(*within))
        return [(int(v), int(n)) for v, n in conn.execute(query.group_by(t.c.value).order_by(t.c.value))]

    widths = LEVELS[figure]
    top = counts(widths[0], None)
    total = sum(n for _, n in top)
    out: dict[str, int | None] = {}
    for p in (50, 90):
        if not total:
            out[f"p{p}"] = None
            continue
        found = walk(top, rank(total, p))
        for wider, width in itertools.pairwise(widths):
            assert found is not None
            bucket, k = found
            step = wider // width
            found = walk(counts(width, (bucket * step, bucket * step + step - 1)), k)
        assert found is not None  # the tallies of every level count the same values
        out[f"p{p}"] = found[0]
    return out


def _hours(centi: dict[str, int | None]) -> dict[str, float | None]:
    return {k: None if v is None else v / 100 for k, v in centi.items()}


class KpiReads:
    """The KPI query of ReadModels (infra/readside/readmodels.py)."""

    engine: sa.Engine
    projections: dict[str, Projection]

    def kpis(self, start: date, end: date) -> dict[str, Any]:
        p = self.projections["kpis"]
        p.refresh()  # a rebuild may have swapped in new tables
        o, i = p.tables["kpi_order_tally"], p.tables["kpi_invoice_tally"]
        window = periods(start, end)
        sums: dict[tuple[str, str], int] = {}
        with self.engine.connect() as conn:
            for t in (o, i):
                query = (
                    sa.select(t.c.figure, t.c.part, sa.func.sum(t.c.n))
                    .where(t.c.figure.in_(SUMS), t.c.period.in_(window))
                    .group_by(t.c.figure, t.c.part)
                )
                for figure, part, n in conn.execute(query):
                    sums[(figure, part)] = sums.get((figure, part), 0) + int(n)
            ship = _hours(_percentiles(conn, o, "ship", window))
            invoice = _hours(_percentiles(conn, i, "invoice", window))
            cash = _percentiles(conn, i, "cash", window)
        channels = sorted({part for figure, part in sums if figure == "orders"})
        by_channel = {c: _channel(sums, c) for c in channels}
        refused = count_refusals(self.engine, start, end)
        exceptions = {
            "price_mismatch": refused[PRICE_MISMATCH],
            "credit_holds": sums.get(("held", "credit_limit"), 0),
            "overdue_holds": sums.get(("held", "overdue"), 0),
            "tax_dead_letters": sums.get(("dead_letters", ""), 0),
            "stock_shortfalls": refused[STOCK_SHORTFALL],
        }
        shipped = (sums.get(("shipped_lines", ""), 0), sums.get(("late_lines", ""), 0))
        return kpis_of(start, end, by_channel, ship, invoice, cash, shipped, exceptions)
