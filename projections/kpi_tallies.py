"""The KPI tallies (decision 0026): counts per day and per month kept from the milestone rows of
projections/kpis.py, so a window query reads a few rows per day or month of the window, never one
per order or invoice.

A tally row is (figure, period, part, value) -> n, where period is a day (`2026-03-02`) or a month
(`2026-03`). Each milestone row counts in the day of its milestone and in that day's month:
- sums: `orders`, `lines`, `filled`, `backordered`, `cancelled` by channel (part), `shipped_lines`
  and `late_lines` of the shipped orders, `held` by reason (part), `dead_letters`;
- durations, exact: `ship` and `invoice` in hundredths of an hour (the answer's unit: rounding is
  monotone, so the k-th smallest rounded value is the rounded k-th smallest value), also counted
  per 100 and per 10,000 of them (`ship/100`, `ship/10000`) so a rank is found from the widest
  level down, reading one bucket's values per level; `cash` in days.
A tally is a pure function of the milestone rows (projections.base.tally_table), so a rebuild
makes the same rows and verify compares them like any other."""

from __future__ import annotations

import calendar
import json
import math
from collections.abc import Iterable
from datetime import date, timedelta

from projections.base import Column, Key, Row, TableSpec, tally_table

LEVELS = {"ship": (10_000, 100, 1), "invoice": (10_000, 100, 1), "cash": (1,)}  # bucket widths, widest first
SUMS = ("orders", "lines", "filled", "backordered", "cancelled", "shipped_lines", "late_lines", "held", "dead_letters")


def centi_hours(seconds: int) -> int:
    """Seconds as hundredths of an hour, rounded exactly as the answer rounds hours (2 places):
    `centi_hours(s) / 100 == round(s / 3600, 2)`."""
    return round(round(seconds / 3600, 2) * 100)


def _count(out: dict[Key, int], figure: str, day: str, part: str, value: int, n: int) -> None:
    if n:
        for period in (day, day[:7]):
            key = (figure, period, part, value)
            out[key] = out.get(key, 0) + n


def level(figure: str, width: int) -> str:
    """The tally figure counting `figure`'s values by buckets of `width`."""
    return figure if width == 1 else f"{figure}/{width}"


def _span(out: dict[Key, int], figure: str, day: str, value: int) -> None:
    for width in LEVELS[figure]:
        _count(out, level(figure, width), day, "", value // width, 1)


def order_tally(row: Row) -> dict[Key, int]:
    out: dict[Key, int] = {}
    day, channel = row["day"], row["channel"]
    _count(out, "orders", day, channel, 0, 1)
    for figure in ("lines", "filled", "backordered"):
        _count(out, figure, day, channel, 0, int(row[figure]))
    _count(out, "cancelled", day, channel, 0, 1 if row["cancelled"] else 0)
    if row["ship_day"] is not None:
        _count(out, "shipped_lines", day, "", 0, len(json.loads(row["shipped_lines"] or "[]")))
        _count(out, "late_lines", day, "", 0, len(json.loads(row["late_lines"] or "[]")))
        if row["ship_seconds"] is not None:
            _span(out, "ship", row["ship_day"], centi_hours(int(row["ship_seconds"])))
    if row["held_day"] is not None:
        _count(out, "held", row["held_day"], row["held"] or "", 0, 1)
    return out


def invoice_tally(row: Row) -> dict[Key, int]:
    out: dict[Key, int] = {}
    if row["dead_day"] is not None:
        _count(out, "dead_letters", row["dead_day"], "", 0, 1)
    if row["issue_day"] is not None and row["issue_seconds"] is not None:
        _span(out, "invoice", row["issue_day"], centi_hours(int(row["issue_seconds"])))
    if row["cash_day"] and row["cash_days"] is not None:
        _span(out, "cash", row["cash_day"], int(row["cash_days"]))
    return out


_KEY = (Column("figure", "str"), Column("period", "str"), Column("part", "str"), Column("value", "int"))
TALLIES: tuple[TableSpec, ...] = (
    tally_table("kpi_order_tally", _KEY, "kpi_orders", order_tally),
    tally_table("kpi_invoice_tally", _KEY, "kpi_invoices", invoice_tally),
)


def periods(start: date, end: date) -> list[str]:
    """The days and whole months that make up the window (both ends inclusive): a month wholly
    inside it is one period, the days at either end are one each (at most ~60 days)."""
    out: list[str] = []
    day = start
    while True:
        last = day.replace(day=calendar.monthrange(day.year, day.month)[1])
        if day.day == 1 and last <= end:
            out.append(day.isoformat()[:7])
            day = last
        else:
            out.append(day.isoformat())
        if day >= end:
            return out
        day += timedelta(days=1)


def rank(total: int, p: int) -> int:
    """The nearest rank of percentile p among `total` values (1-based)."""
    return max(math.ceil(p * total / 100), 1)


def walk(counts: Iterable[tuple[int, int]], k: int) -> tuple[int, int] | None:
    """In (value, n) pairs by ascending value, the value holding the k-th smallest and k's rank among
    that value's own (1..n); None when there are fewer than k."""
    seen = 0
    for value, n in counts:
        if seen + n >= k:
            return value, k - seen
        seen += n
    return None
