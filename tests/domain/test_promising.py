"""Promise dates: known supply, in date order then warehouse_id, goes to the queue of one SKU as the
backorder fill would give it; each line is promised the day its last part completes."""

from __future__ import annotations

import time
from datetime import date, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from domain import backorders, expected, transfer
from domain.promising import (
    Supply,
    Waiting,
    complete_on,
    incoming_of,
    promise,
    promised_dates,
    queue_of,
    supply_in_order,
)
from tests.projections.fold import at

TODAY = date(2026, 3, 2)
NOTHING: dict[str, int] = {}


def day(n: int) -> date:
    """March n, 2026 (today is March 2)."""
    return date(2026, 3, n)


def due(n: int, wh: str, qty: int) -> Supply:
    return Supply(day(n), wh, qty)


def waits(order_id: str, qty: int, pin: str | None = None, line_id: str = "1") -> Waiting:
    return Waiting(order_id, line_id, pin, qty)


# --- several backorders, in queue order ---------------------------------------------------------


def test_supply_goes_to_the_oldest_backorder_first_and_each_line_gets_the_day_it_completes() -> None:
    queue = [waits("SO-1", 5), waits("SO-2", 3), waits("SO-3", 4)]
    incoming = [due(9, "W-B", 6), due(5, "W-A", 6)]  # listed out of order: the rule takes them by date
    assert promised_dates(TODAY, NOTHING, incoming, queue) == {
        ("SO-1", "1"): day(5),  # 5 of the 6 due at W-A on the 5th
        ("SO-2", "1"): day(9),  # the last 1 at W-A, then 2 of W-B on the 9th
        ("SO-3", "1"): day(9),  # the 4 left at W-B
    }


def test_supply_arriving_earlier_than_planned_moves_the_promise_forward() -> None:
    queue = [waits("SO-1", 5), waits("SO-2", 3)]
    late = promised_dates(TODAY, NOTHING, [due(5, "W-A", 5), due(20, "W-A", 3)], queue)
    early = promised_dates(TODAY, NOTHING, [due(5, "W-A", 5), due(6, "W-A", 3)], queue)
    assert (late[("SO-2", "1")], early[("SO-2", "1")]) == (day(20), day(6))
    assert late[("SO-1", "1")] == early[("SO-1", "1")] == day(5)


def test_a_delayed_supply_lets_a_later_one_serve_the_queue_first() -> None:
    queue = [waits("SO-1", 4), waits("SO-2", 4)]
    on_time = promised_dates(TODAY, NOTHING, [due(5, "W-A", 4), due(8, "W-B", 4)], queue)
    delayed = promised_dates(TODAY, NOTHING, [due(12, "W-A", 4), due(8, "W-B", 4)], queue)
    assert on_time == {("SO-1", "1"): day(5), ("SO-2", "1"): day(8)}
    assert delayed == {("SO-1", "1"): day(8), ("SO-2", "1"): day(12)}


# --- pinned warehouses ------------------------------------------------------------------------


def test_a_pinned_line_takes_only_from_its_warehouse_and_others_pass_it_by() -> None:
    """EXAMPLES.md section 2, dated: SO-1 5 pinned to W-A, SO-2 3 anywhere; 4 due at W-B on the 4th,
    6 at W-A on the 6th."""
    queue = [waits("SO-1", 5, pin="W-A"), waits("SO-2", 3)]
    incoming = [due(4, "W-B", 4), due(6, "W-A", 6)]
    assert promised_dates(TODAY, NOTHING, incoming, queue) == {("SO-1", "1"): day(6), ("SO-2", "1"): day(4)}
    # what the queue leaves: 1 at W-B on the 4th, 1 at W-A on the 6th
    assert promise(TODAY, 1, "W-B", NOTHING, incoming, queue) == day(4)
    assert promise(TODAY, 1, None, NOTHING, incoming, queue) == day(4)
    assert promise(TODAY, 2, None, NOTHING, incoming, queue) == day(6)
    assert promise(TODAY, 2, "W-B", NOTHING, incoming, queue) is None
    assert promise(TODAY, 1, "W-A", NOTHING, incoming, queue) == day(6)


def test_a_line_pinned_to_a_warehouse_with_no_supply_is_never_complete() -> None:
    queue = [waits("SO-1", 2, pin="W-C"), waits("SO-2", 2)]
    dates = promised_dates(TODAY, {"W-A": 1}, [due(3, "W-A", 5)], queue)
    assert dates == {("SO-1", "1"): None, ("SO-2", "1"): day(3)}


def test_on_one_day_the_lower_warehouse_id_is_taken_first() -> None:
    queue = [waits("SO-1", 3), waits("SO-2", 3, pin="W-A")]
    dates = promised_dates(TODAY, NOTHING, [due(5, "W-B", 3), due(5, "W-A", 3)], queue)
    assert dates == {("SO-1", "1"): day(5), ("SO-2", "1"): None}  # SO-1 took W-A's 3; W-B's are no use to SO-2


# --- today, past dates and stock available now -----------------------------------------------


def test_supply_due_in_the_past_counts_as_arriving_today() -> None:
    queue = [waits("SO-1", 5), waits("SO-2", 2)]
    incoming = [due(1, "W-A", 5), Supply(TODAY - timedelta(days=40), "W-B", 2)]
    assert promised_dates(TODAY, NOTHING, incoming, queue) == {("SO-1", "1"): TODAY, ("SO-2", "1"): TODAY}
    assert supply_in_order(TODAY, NOTHING, incoming) == [Supply(TODAY, "W-A", 5), Supply(TODAY, "W-B", 2)]


def test_stock_available_now_is_supply_dated_today_and_goes_to_the_queue_first() -> None:
    queue = [waits("SO-1", 3)]
    incoming = [due(5, "W-A", 5)]
    assert promised_dates(TODAY, {"W-A": 2}, incoming, queue) == {("SO-1", "1"): day(5)}
    assert promise(TODAY, 4, None, {"W-A": 2}, incoming, queue) == day(5)  # 2 now + 5 later - 3 owed to SO-1
    assert promise(TODAY, 5, None, {"W-A": 2}, incoming, queue) is None


def test_stock_waiting_for_the_fill_is_owed_to_older_backorders_not_to_a_new_order() -> None:
    queue = [waits("SO-1", 5)]
    assert promise(TODAY, 1, None, {"W-A": 6}, [], queue) == TODAY
    assert promise(TODAY, 2, None, {"W-A": 6}, [], queue) is None
    assert promise(TODAY, 2, None, {"W-A": 6}, [due(9, "W-B", 1)], queue) == day(9)


def test_negative_available_stock_supplies_nothing() -> None:
    assert promise(TODAY, 1, None, {"W-A": -3, "W-B": 0}, [], []) is None
    assert supply_in_order(TODAY, {"W-A": -3, "W-B": 0}, [due(4, "W-A", 0)]) == []


def test_supply_due_at_one_place_on_one_day_is_taken_together() -> None:
    incoming = [due(4, "W-A", 2), due(4, "W-A", 3), due(1, "W-A", 1)]
    assert supply_in_order(TODAY, {"W-A": 4}, incoming) == [Supply(TODAY, "W-A", 5), Supply(day(4), "W-A", 5)]


# --- a new order's promise ------------------------------------------------------------------


def test_a_new_order_covered_by_stock_available_now_is_promised_today() -> None:
    assert promise(TODAY, 9, None, {"W-A": 6, "W-B": 6}, [], []) == TODAY
    assert promise(TODAY, 6, "W-B", {"W-A": 6, "W-B": 6}, [], []) == TODAY


def test_a_new_order_not_covered_now_is_promised_the_day_supply_completes_it() -> None:
    assert promise(TODAY, 9, None, {"W-A": 6}, [due(7, "W-B", 2), due(8, "W-A", 1)], []) == day(8)
    assert promise(TODAY, 7, "W-B", {"W-A": 6}, [due(7, "W-B", 7)], []) == day(7)


def test_a_new_order_that_known_supply_never_completes_has_no_promise() -> None:
    assert promise(TODAY, 10, None, {"W-A": 6}, [due(7, "W-B", 2)], []) is None
    assert promise(TODAY, 1, "W-C", {"W-A": 6}, [due(7, "W-B", 2)], []) is None


def test_a_new_order_queues_behind_every_open_backorder() -> None:
    queue = [waits("SO-1", 4), waits("SO-2", 4, pin="W-B")]
    incoming = [due(3, "W-A", 4), due(5, "W-B", 6), due(9, "W-A", 3)]
    assert promise(TODAY, 2, None, NOTHING, incoming, queue) == day(5)
    assert promise(TODAY, 3, None, NOTHING, incoming, queue) == day(9)
    assert promise(TODAY, 2, "W-A", NOTHING, incoming, queue) == day(9)
    assert promise(TODAY, 0, None, NOTHING, incoming, queue) == TODAY


# --- lines that wait in parts, from the backorder book ----------------------------------------


def test_a_line_raised_by_a_change_waits_at_two_places_and_is_promised_when_both_complete() -> None:
    book = backorders.Book("NUT-4")
    for event in (
        backorders.BackorderQueued(
            sku="NUT-4", order_id="SO-1", line_id="1", warehouse_id=None, qty=2, accepted_at=at(0)
        ),
        backorders.BackorderQueued(
            sku="NUT-4", order_id="SO-2", line_id="1", warehouse_id=None, qty=3, accepted_at=at(1)
        ),
        backorders.BackorderQueued(
            sku="NUT-4", order_id="SO-1", line_id="1", warehouse_id=None, qty=4, accepted_at=at(2)
        ),
    ):
        book = backorders.evolve_book(book, event)
    queue = queue_of(book)
    assert queue == [waits("SO-1", 2), waits("SO-2", 3), waits("SO-1", 4)]
    incoming = [due(3, "W-A", 5), due(6, "W-A", 4)]
    assert complete_on(TODAY, NOTHING, incoming, queue) == [day(3), day(3), day(6)]
    assert promised_dates(TODAY, NOTHING, incoming, queue) == {("SO-1", "1"): day(6), ("SO-2", "1"): day(3)}
    assert promised_dates(TODAY, NOTHING, incoming[:1], queue) == {("SO-1", "1"): None, ("SO-2", "1"): day(3)}


def test_an_empty_queue_promises_nothing() -> None:
    assert promised_dates(TODAY, {"W-A": 4}, [due(3, "W-A", 5)], []) == {}


# --- where incoming supply comes from ---------------------------------------------------------


def test_incoming_supply_is_the_open_rest_of_open_expected_receipts_and_dated_transfers_in_transit() -> None:
    open_one = expected.ExpectedReceipt("EXP-1", "W-A", "NUT-4", 10, day(5), received=4)
    closed_one = expected.ExpectedReceipt("EXP-2", "W-A", "NUT-4", 10, day(6), status="closed")
    dated = transfer.Transfer("T-1", "NUT-4", "W-A", "W-B", 3, expected_on=day(4))
    undated = transfer.Transfer("T-2", "NUT-4", "W-A", "W-B", 3)
    arrived = transfer.Transfer("T-3", "NUT-4", "W-A", "W-B", 3, received=True, expected_on=day(4))
    assert incoming_of([open_one, closed_one], [dated, undated, arrived]) == [due(5, "W-A", 6), due(4, "W-B", 3)]


# --- cheap: linear in the queue and the supply, and the same as the rule read literally -------------


def _literally(
    today: date, available: dict[str, int], incoming: list[Supply], queue: list[Waiting]
) -> list[date | None]:
    """The rule as API.md words it, one piece of supply at a time over the whole queue (quadratic)."""
    wanted = [w.qty for w in queue]
    done: list[date | None] = [None] * len(queue)
    for s in supply_in_order(today, available, incoming):
        left = s.qty
        for i, w in enumerate(queue):
            if left and wanted[i] and w.warehouse_id in (None, s.warehouse_id):
                take = min(left, wanted[i])
                wanted[i] -= take
                left -= take
                if wanted[i] == 0:
                    done[i] = s.on
    return done


WAREHOUSES = st.sampled_from(["W-A", "W-B", "W-C"])


@settings(max_examples=300, deadline=None)
@given(
    queue=st.lists(st.tuples(st.one_of(st.none(), WAREHOUSES), st.integers(1, 6)), max_size=12),
    available=st.dictionaries(WAREHOUSES, st.integers(-2, 6)),
    incoming=st.lists(st.tuples(st.integers(-3, 10), WAREHOUSES, st.integers(1, 6)), max_size=10),
)
def test_the_one_pass_gives_what_the_rule_read_literally_gives(
    queue: list[tuple[str | None, int]], available: dict[str, int], incoming: list[tuple[int, str, int]]
) -> None:
    parts = [Waiting(f"SO-{i}", "1", pin, qty) for i, (pin, qty) in enumerate(queue)]
    supply = [Supply(TODAY + timedelta(days=d), wh, qty) for d, wh, qty in incoming]
    assert complete_on(TODAY, available, supply, parts) == _literally(TODAY, available, supply, parts)


def test_a_long_queue_and_many_deliveries_are_promised_in_one_pass() -> None:
    n = 20_000
    queue = [waits(f"SO-{i}", 2, pin="W-A" if i % 3 == 0 else None) for i in range(n)]
    incoming = [Supply(TODAY + timedelta(days=i // 100), "W-A" if i % 2 else "W-B", 3) for i in range(n)]
    started = time.perf_counter()
    dates = promised_dates(TODAY, NOTHING, incoming, queue)
    assert time.perf_counter() - started < 5.0  # a quadratic pass would take minutes
    assert len(dates) == n and all(d is not None for d in dates.values())
