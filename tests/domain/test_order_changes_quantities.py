"""Changing an order, API.md rules 6-7 and what follows: reductions drop backorders first and then
release warehouse_id descending; increases and added lines allocate like placement; lines at 0
stay; an order at 0 everywhere is cancelled; a line cut to what shipped is complete."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

import msgspec

from domain import order
from domain.errors import InsufficientStockError, OrderClosedError
from domain.order import AddLine, CancelOrder, FillBackorder
from tests.domain.change_events import (
    added,
    allocated_by_change,
    changed,
    changing,
    line,
    parts,
)
from tests.domain.order_events import (
    BOLT,
    BOLTS_AND_NUTS,
    HELD,
    NINE_ALLOCATED,
    allocated,
    orders,
    placed,
    placing,
    shipped,
    state_of,
)

OPEN = [placed(), NINE_ALLOCATED]  # W-A 6, W-B 3
PART_BACKORDERED = [placed(), allocated(("1", "BOLT-10", "W-A", 6), ("1", "BOLT-10", "W-C", 2))]  # 1 backordered


# --- rule 6: a reduction drops the backordered qty first, then releases warehouse_id descending --


def test_a_reduction_drops_backordered_qty_before_any_reservation() -> None:
    history = [placed(), allocated(("1", "BOLT-10", "W-A", 6))]  # 3 backordered
    after = (
        orders.given(*history)
        .when(changing(history, ("1", 7)))
        .then(changed(line("1", "BOLT-10", 9, 7, dropped=2), value_change="-17.00", total="59.50"))
    )
    assert after is not None and after.line("1").allocations == {"W-A": 6}
    assert parts([*history, *order.decide(changing(history, ("1", 7)), state_of(*history))]) == (7, 6, 1, 0, 0)


def test_a_reduction_past_the_backorder_releases_the_highest_warehouse_id_first() -> None:
    orders.given(*PART_BACKORDERED).when(changing(PART_BACKORDERED, ("1", 3))).then(
        changed(
            line("1", "BOLT-10", 9, 3, dropped=1, released=[("W-C", 2), ("W-A", 3)]),
            value_change="-51.00",
            total="25.50",
        )
    )


def test_a_fully_reserved_line_releases_from_w_b_before_w_a() -> None:
    state = (
        orders.given(*OPEN)
        .when(changing(OPEN, ("1", 2)))
        .then(
            changed(line("1", "BOLT-10", 9, 2, released=[("W-B", 3), ("W-A", 4)]), value_change="-59.50", total="17.00")
        )
    )
    assert state is not None and state.line("1").allocations == {"W-A": 2}
    assert state.status == "allocated"


def test_a_held_order_has_nothing_reserved_so_a_reduction_only_drops() -> None:
    history = [placed(), HELD]
    orders.given(*history).when(changing(history, ("1", 4))).then(
        changed(line("1", "BOLT-10", 9, 4, dropped=5), value_change="-42.50", total="34.00")
    )


def test_a_line_at_qty_0_stays_on_the_order() -> None:
    history = [placed(BOLTS_AND_NUTS), NINE_ALLOCATED]
    state = (
        orders.given(*history)
        .when(changing(history, ("1", 0)))
        .then(
            changed(line("1", "BOLT-10", 9, 0, released=[("W-B", 3), ("W-A", 6)]), value_change="-76.50", total="2.50")
        )
    )
    assert state is not None
    assert [(ln.line_id, ln.qty) for ln in state.lines] == [("1", 0), ("2", 10)]
    assert (state.status, state.cancelled) == ("backordered", False)


def test_an_order_with_every_line_at_0_and_nothing_shipped_is_cancelled() -> None:
    state = (
        orders.given(*OPEN)
        .when(changing(OPEN, ("1", 0)))
        .then(
            changed(line("1", "BOLT-10", 9, 0, released=[("W-B", 3), ("W-A", 6)]), value_change="-76.50", total="0.00")
        )
    )
    assert state is not None and (state.status, state.cancelled) == ("cancelled", True)
    after = [*OPEN, *order.decide(changing(OPEN, ("1", 0)), state_of(*OPEN))]
    orders.given(*after).when(changing(after, ("1", 3), change_id="CH-2")).then_raises(OrderClosedError)
    orders.given(*after).when(CancelOrder("SO-1", "again")).then()  # cancelling it records nothing
    orders.given(*after).when(FillBackorder("SO-1", "1", "W-A", 3)).then()


def test_a_line_cut_to_its_shipped_qty_is_complete_and_the_order_shipped() -> None:
    history = [*OPEN, shipped("SH-1", "W-A", ("1", "BOLT-10", 6))]
    state = (
        orders.given(*history)
        .when(changing(history, ("1", 6)))
        .then(changed(line("1", "BOLT-10", 9, 6, released=[("W-B", 3)]), value_change="-25.50", total="51.00"))
    )
    assert state is not None and state.line("1").open_qty == 0
    assert state.status == "shipped"


def test_cutting_the_unshipped_line_of_a_partly_shipped_order_leaves_it_shipped_not_cancelled() -> None:
    history = [
        placed(BOLTS_AND_NUTS),
        allocated(("1", "BOLT-10", "W-A", 9), ("2", "NUT-4", "W-A", 10)),
        shipped("SH-1", "W-A", ("2", "NUT-4", 10)),
    ]
    after = order.decide(changing(history, ("1", 0)), state_of(*history))
    assert state_of(*history, *after).status == "shipped"


# --- rule 7: an increase or an added line allocates like placement -------------------------------


def test_an_increase_takes_the_most_available_warehouse_first() -> None:
    state = (
        orders.given(*OPEN)
        .when(changing(OPEN, ("1", 13)))  # stock left: W-B 3, W-C 2
        .then(
            changed(line("1", "BOLT-10", 9, 13), value_change="34.00", total="110.50"),
            allocated_by_change(("1", "BOLT-10", "W-B", 3), ("1", "BOLT-10", "W-C", 1)),
        )
    )
    assert state is not None and state.line("1").allocations == {"W-A": 6, "W-B": 6, "W-C": 1}


def test_an_increase_beyond_the_stock_backorders_the_rest() -> None:
    history = [*OPEN, *order.decide(changing(OPEN, ("1", 15)), state_of(*OPEN))]
    assert parts(history) == (15, 14, 1, 0, 0)
    assert state_of(*history).status == "backordered"


def test_a_pinned_order_allocates_its_increase_only_from_its_warehouse() -> None:
    pinned = placing(("1", "BOLT-10", 5, BOLT), warehouse_id="W-C")
    history = [placed(pinned), allocated(("1", "BOLT-10", "W-C", 2))]
    stock = {"BOLT-10": {"W-A": 6, "W-C": 1}}
    orders.given(*history).when(changing(history, ("1", 7), stock=stock)).then(
        changed(line("1", "BOLT-10", 5, 7), value_change="17.00", total="59.50"),
        allocated_by_change(("1", "BOLT-10", "W-C", 1)),
    )


def test_an_added_line_is_allocated_and_its_rest_backordered() -> None:
    stock = {"NUT-4": {"W-A": 4}}
    state = (
        orders.given(*OPEN)
        .when(changing(OPEN, add=[AddLine("2", "NUT-4", 10, customer_line_ref="20")], stock=stock))
        .then(
            changed(add=[added("2", "NUT-4", 10, customer_line_ref="20")], value_change="2.50", total="79.00"),
            allocated_by_change(("2", "NUT-4", "W-A", 4)),
        )
    )
    assert state is not None
    nut = state.line("2")
    assert (nut.qty, nut.allocated, nut.backordered, nut.customer_line_ref) == (10, 4, 6, "20")


def test_an_added_line_without_a_requested_date_takes_the_orders() -> None:
    may_1, may_9 = date(2025, 5, 1), date(2025, 5, 9)
    dated = [msgspec.structs.replace(placed(), requested_date=may_1), NINE_ALLOCATED]
    cmd = changing(dated, add=[AddLine("2", "NUT-4", 1), AddLine("3", "WASHER-2", 1, requested_date=may_9)], stock={})
    orders.given(*dated).when(cmd).then(
        changed(
            add=[added("2", "NUT-4", 1, requested_date=may_1), added("3", "WASHER-2", 1, requested_date=may_9)],
            value_change="0.35",
            total="76.85",
        )
    )


def test_without_backorders_an_increase_that_cannot_be_covered_is_refused() -> None:
    no_backorders = placing(("1", "BOLT-10", 9, BOLT), backorder=False)
    history = [placed(no_backorders), NINE_ALLOCATED]
    error = (
        orders.given(*history)
        .when(changing(history, ("1", 15)))
        .then_raises(InsufficientStockError, lines=[{"sku": "BOLT-10", "requested": 6, "available": 5}])
    )
    assert (error.category, error.code) == ("conflict", "insufficient_stock")
    orders.given(*history).when(changing(history, ("1", 14))).then(
        changed(line("1", "BOLT-10", 9, 14), value_change="42.50", total="119.00"),
        allocated_by_change(("1", "BOLT-10", "W-B", 3), ("1", "BOLT-10", "W-C", 2)),
    )


def test_without_backorders_an_added_line_must_be_covered_too() -> None:
    history = [placed(placing(("1", "BOLT-10", 9, BOLT), backorder=False)), NINE_ALLOCATED]
    cmd = changing(history, add=[AddLine("2", "NUT-4", 10)], stock={"NUT-4": {"W-A": 4}})
    orders.given(*history).when(cmd).then_raises(
        InsufficientStockError, lines=[{"sku": "NUT-4", "requested": 10, "available": 4}]
    )


def test_a_held_order_without_backorders_takes_an_increase_it_could_not_cover() -> None:
    history = [placed(placing(("1", "BOLT-10", 9, BOLT), backorder=False)), HELD]
    orders.given(*history).when(changing(history, ("1", 50))).then(
        changed(line("1", "BOLT-10", 9, 50), value_change="348.50", total="425.00")
    )


def test_a_plan_never_gives_a_line_more_than_the_change_added() -> None:
    generous = replace(changing(OPEN, ("1", 10)), plan={"1": [("W-B", 3), ("W-C", 2)]})
    orders.given(*OPEN).when(generous).then(
        changed(line("1", "BOLT-10", 9, 10), value_change="8.50", total="85.00"),
        allocated_by_change(("1", "BOLT-10", "W-B", 1)),
    )


def test_a_change_that_moves_no_qty_is_still_recorded_once() -> None:
    state = orders.given(*OPEN).when(changing(OPEN, ("1", 9))).then(changed(value_change="0.00", total="76.50"))
    assert state is not None and state.change_ids == ("CH-1",)


def test_the_decider_and_the_function_record_the_same_change() -> None:
    cmd = changing(OPEN, ("1", 13), add=[AddLine("2", "NUT-4", 3)], stock={"BOLT-10": {"W-B": 3}, "NUT-4": {"W-A": 3}})
    assert order.change(state_of(*OPEN), cmd) == order.decide(cmd, state_of(*OPEN))


# --- what the application layer asks of the domain -----------------------------------------------


def test_what_a_change_wants_reserved_is_its_increases_and_added_lines() -> None:
    cmd = changing([], ("1", 12), ("7", 4), add=[AddLine("2", "NUT-4", 10)])
    assert order.wanted_for_change(state_of(*OPEN), cmd) == [("1", "BOLT-10", 3), ("2", "NUT-4", 10)]
    assert order.wanted_for_change(state_of(*OPEN), changing([], ("1", 4))) == []
    assert order.wanted_for_change(state_of(placed(), HELD), cmd) == []


def test_added_lines_without_an_id_are_numbered_after_the_orders_lines() -> None:
    two = state_of(placed(BOLTS_AND_NUTS))
    assert order.assign_line_ids(two, [None, "4", None, None]) == ["3", "4", "5", "6"]
    assert order.assign_line_ids(two, ["3", None]) == ["3", "4"]
    assert order.assign_line_ids(two, []) == []


def test_a_change_survives_the_codec_and_the_order_document() -> None:
    cmd = changing(
        OPEN, ("1", 13), add=[AddLine("2", "NUT-4", 3, requested_date=date(2025, 6, 2), customer_line_ref="B")]
    )
    events = order.decide(cmd, state_of(*OPEN))
    assert [msgspec.json.decode(msgspec.json.encode(e), type=type(e)) for e in events] == events
    state = state_of(*OPEN, *events)
    assert msgspec.json.decode(msgspec.json.encode(state), type=order.Order) == state
