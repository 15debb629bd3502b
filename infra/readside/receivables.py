"""Receivables queries over the receivables read model (never the log): aging and statements as of
any date, overdue totals for the dashboard and metrics, and the customers a dunning run looks at.

Each reads the dated movement rows up to the date asked (`day` is an ISO date: it compares as text)
and lets the pure functions of projections/receivables.py add them up, exactly."""

from __future__ import annotations

from collections.abc import Collection
from datetime import date
from decimal import Decimal
from typing import Any

import sqlalchemy as sa

from infra.readside.projection import Projection
from infra.readside.rowio import rows
from infra.readside.tables import Tables
from projections.base import Row
from projections.receivables import aging_of, overdue_by_bucket, statement_of


class ReceivableReads:
    """The receivables queries of ReadModels (infra/readside/readmodels.py)."""

    engine: sa.Engine
    projections: dict[str, Projection]

    def _receivables(self) -> Tables:
        p = self.projections["receivables"]
        p.refresh()  # a rebuild may have swapped in new tables
        return p.tables

    def ar_rows(self, upto: date, customers: Collection[str] | None = None) -> list[Row]:
        """The dated AR effects up to a day, of those customers (None: of all)."""
        t = self._receivables()["ar_entries"]
        where = [t.c.day <= upto.isoformat()]
        if customers is not None:
            where.append(t.c.customer_id.in_(sorted(customers)))
        with self.engine.connect() as conn:
            return rows(conn, t, where)

    def aging(self, as_of: date, customers: Collection[str] | None, currency: str) -> dict[str, Any]:
        return aging_of(self.ar_rows(as_of, customers), as_of, currency)

    def statement(self, customer_id: str, start: date, end: date, currency: str) -> dict[str, Any]:
        return statement_of(self.ar_rows(end, (customer_id,)), customer_id, start, end, currency)

    def overdue(self, today: date) -> dict[str, Decimal]:
        """Open amounts past due today, by aging bucket."""
        return overdue_by_bucket(self.ar_rows(today), today)

    def dunning_candidates(self) -> list[str]:
        """Customers with open receivables, or with a dunning level to resolve."""
        levels = self._receivables()["dunning_levels"]
        p = self.projections["balances"]
        p.refresh()
        balances = p.tables["balances"]
        with self.engine.connect() as conn:
            found = conn.execute(sa.select(balances.c.customer_id, balances.c.open_ar)).all()
            owing = [cid for cid, open_ar in found if open_ar is not None and open_ar > 0]  # money is text in SQL
            noticed = conn.execute(sa.select(levels.c.customer_id).where(levels.c.level > 0)).scalars().all()
        return sorted(set(owing) | set(noticed))
