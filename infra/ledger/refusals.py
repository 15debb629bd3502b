"""Refused commands counted per day, outside the log (a refused command records nothing in it).

API.md "Business KPIs": the `price_mismatch` and `stock_shortfalls` exception counts come from this
operational counter, not from events. One table `o2c_refusals` (day, code) -> count in the service's
own database (the same place on SQLite and PostgreSQL), so the counts survive restarts and are shared
by every process. A count is added with one upsert in its own short transaction after the command was
refused (the refusal itself wrote nothing); a rebuild of the read models leaves it alone.

Counted: `price_mismatch` (one per refused command) and `insufficient_stock` refusals of orders that
allow no backorder (one per order line short of stock, `stock_shortfall`)."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import date

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from domain.errors import DomainError
from infra.schema import create_missing

log = logging.getLogger("o2c.refusals")

metadata = sa.MetaData()
refusals = sa.Table(
    "o2c_refusals",
    metadata,
    sa.Column("day", sa.String(10), primary_key=True),
    sa.Column("code", sa.String(50), primary_key=True),
    sa.Column("count", sa.BigInteger, nullable=False),
)

PRICE_MISMATCH = "price_mismatch"
STOCK_SHORTFALL = "stock_shortfall"


def counted(exc: BaseException) -> tuple[str, int] | None:
    """(counter, how many) a refusal adds, or None for a refusal not counted here."""
    if not isinstance(exc, DomainError):
        return None
    if exc.code == "price_mismatch":
        return PRICE_MISMATCH, 1
    lines = exc.facts.get("lines")
    if exc.code == "insufficient_stock" and isinstance(lines, list) and lines:
        return STOCK_SHORTFALL, len(lines)  # an order's lines short of stock, backorders not allowed
    return None  # a stock movement refused for stock (no `lines`) is not an order refusal


class RefusalCounter:
    """Adds refusals to `o2c_refusals` under the day of `today` (the service's clock)."""

    def __init__(self, engine: sa.Engine, today: Callable[[], date]) -> None:
        self.engine = engine
        self.today = today
        create_missing(engine, metadata)
        self._insert = postgresql.insert if engine.dialect.name == "postgresql" else sqlite.insert

    def add(self, code: str, n: int = 1, on: date | None = None) -> None:
        day = (on or self.today()).isoformat()
        stmt = self._insert(refusals).values(day=day, code=code, count=n)
        stmt = stmt.on_conflict_do_update(
            index_elements=[refusals.c.day, refusals.c.code], set_={"count": refusals.c.count + n}
        )
        with self.engine.begin() as conn:
            conn.execute(stmt)

    def note(self, exc: BaseException) -> None:
        """Count a refused command if it is one of the counted refusals; never fails the caller."""
        found = counted(exc)
        if found is None:
            return
        try:
            self.add(*found)
        except Exception:
            log.exception("could not count a refused command (%s)", found[0])

    def counts(self, start: date, end: date) -> dict[str, int]:
        return count_refusals(self.engine, start, end)


def count_refusals(engine: sa.Engine, start: date, end: date) -> dict[str, int]:
    """The counts per counter over the days from `start` to `end`, both inclusive (one row per day and code)."""
    query = (
        sa.select(refusals.c.code, sa.func.sum(refusals.c.count))
        .where(refusals.c.day >= start.isoformat(), refusals.c.day <= end.isoformat())
        .group_by(refusals.c.code)
    )
    with engine.connect() as conn:
        found = conn.execute(query).all()
    out = {PRICE_MISMATCH: 0, STOCK_SHORTFALL: 0}
    out.update({code: int(n or 0) for code, n in found})
    return out
