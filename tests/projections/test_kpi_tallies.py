"""The KPI tallies: what a milestone row counts, the window's periods, the exact percentile walk."""

from __future__ import annotations

import itertools
import random
from datetime import date, timedelta

from projections.kpi_tallies import LEVELS, centi_hours, invoice_tally, level, order_tally, periods, rank, walk
from projections.kpis import days, hours


def test_hundredths_of_an_hour_are_the_answers_rounding_of_hours() -> None:
    for seconds in [*range(0, 200_000), *random.Random(3).sample(range(10**9), 20_000)]:
        assert centi_hours(seconds) / 100 == round(seconds / 3600, 2)


def test_a_window_is_its_whole_months_and_the_days_at_its_ends() -> None:
    assert periods(date(2026, 1, 30), date(2026, 3, 2)) == [
        "2026-01-30",
        "2026-01-31",
        "2026-02",
        "2026-03-01",
        "2026-03-02",
    ]
    assert periods(date(2026, 2, 1), date(2026, 2, 28)) == ["2026-02"]
    assert periods(date(2024, 2, 1), date(2024, 2, 28))[-1] == "2024-02-28"  # a leap year's February is 29 days
    assert periods(date(2026, 3, 5), date(2026, 3, 5)) == ["2026-03-05"]
    assert periods(date(9999, 12, 1), date(9999, 12, 31)) == ["9999-12"]
    assert periods(date(1, 1, 1), date(1, 1, 2)) == ["0001-01-01", "0001-01-02"]


def test_every_day_of_a_window_is_in_exactly_one_of_its_periods() -> None:
    rng = random.Random(5)
    for _ in range(300):
        start = date(2024, 1, 1) + timedelta(days=rng.randrange(900))
        end = start + timedelta(days=rng.randrange(1096))
        found = periods(start, end)
        covered = [p for p in found if len(p) == 10] + [
            (date.fromisoformat(p + "-01") + timedelta(days=i)).isoformat()
            for p in found
            if len(p) == 7
            for i in range(31)
            if (date.fromisoformat(p + "-01") + timedelta(days=i)).isoformat()[:7] == p
        ]
        assert sorted(covered) == [(start + timedelta(days=i)).isoformat() for i in range((end - start).days + 1)]
        assert len(found) <= 62 + 36


def _walk_levels(counts: dict[int, int], figure: str, p: int) -> int | None:
    """The walk the read side makes, over an in-memory tally of one period."""
    widths = LEVELS[figure]

    def at(width: int, low: int, high: int) -> list[tuple[int, int]]:
        out: dict[int, int] = {}
        for value, n in counts.items():
            if low <= value // width <= high:
                out[value // width] = out.get(value // width, 0) + n
        return sorted(out.items())

    top = at(widths[0], -(10**18), 10**18)
    total = sum(n for _, n in top)
    if not total:
        return None
    found = walk(top, rank(total, p))
    for wider, width in itertools.pairwise(widths):
        assert found is not None
        step = wider // width
        found = walk(at(width, found[0] * step, found[0] * step + step - 1), found[1])
    assert found is not None
    return found[0]


def test_the_walk_down_the_levels_is_the_nearest_rank_of_every_value() -> None:
    rng = random.Random(9)
    for size in (1, 2, 3, 10, 101, 1000):
        seconds = [rng.choice([rng.randrange(3600), rng.randrange(10**8)]) for _ in range(size)]
        counts: dict[int, int] = {}
        for s in seconds:
            counts[centi_hours(s)] = counts.get(centi_hours(s), 0) + 1
        walked = {f"p{p}": _walk_levels(counts, "ship", p) for p in (50, 90)}
        assert {k: None if v is None else v / 100 for k, v in walked.items()} == hours(seconds)
        whole = [rng.randrange(120) for _ in range(size)]
        tally = {v: whole.count(v) for v in set(whole)}
        assert {f"p{p}": _walk_levels(tally, "cash", p) for p in (50, 90)} == days(whole)


def _order(**changes: object) -> dict[str, object]:
    row: dict[str, object] = {
        "day": "2026-03-02", "channel": "web", "lines": 3, "filled": 2, "backordered": 1, "cancelled": False,
        "held": None, "held_day": None, "ship_day": None, "ship_seconds": None,
        "shipped_lines": "[]", "late_lines": "[]",
    }  # fmt: skip
    return {**row, **changes}


def test_an_order_counts_in_its_day_and_month_and_its_shipment_in_the_shipments_day() -> None:
    found = order_tally(_order(ship_day="2026-04-01", ship_seconds=7200, shipped_lines='["1","2"]', late_lines='["2"]'))
    for period in ("2026-03-02", "2026-03"):
        assert found[("orders", period, "web", 0)] == 1
        assert found[("lines", period, "web", 0)] == 3
        assert (found[("shipped_lines", period, "", 0)], found[("late_lines", period, "", 0)]) == (2, 1)
        assert ("cancelled", period, "web", 0) not in found  # a count of 0 is no row
    for period in ("2026-04-01", "2026-04"):
        assert [found[(level("ship", w), period, "", 200 // w)] for w in LEVELS["ship"]] == [1, 1, 1]
    held = order_tally(_order(held="credit_limit", held_day="2026-03-05", filled=0, backordered=0))
    assert held[("held", "2026-03-05", "credit_limit", 0)] == 1 and ("filled", "2026-03", "web", 0) not in held


def test_an_invoice_closed_by_a_credit_note_has_no_cash_figure() -> None:
    row = {"dead_day": "2026-03-02", "issue_day": "2026-03-03", "issue_seconds": 90, "cash_day": "", "cash_days": None}
    found = invoice_tally(row)
    assert found[("dead_letters", "2026-03", "", 0)] == 1
    assert found[("invoice", "2026-03-03", "", 3)] == 1  # 90 s: 0.025 h, rounded to 0.03
    assert not any(k[0] == "cash" for k in found)
