"""Order: releasing a credit hold, and backorder fills."""

from __future__ import annotations

from domain import order
from domain.allocation import plan_lines
from domain.errors import InsufficientStockError, NotFoundError, OrderNotHeldError
from domain.order import CancelOrder, FillBackorder, OrderCreditReleased, ReleaseHold
from tests.domain.order_events import (
    BOLT,
    BOLTS_AND_NUTS,
    HELD,
    NINE_ALLOCATED,
    STOCK,
    allocated,
    cancelled,
    orders,
    placed,
    placing,
    state_of,
)

RELEASED = OrderCreditReleased(order_id="SO-1", customer_id="C1")


def test_releasing_the_hold_allocates_the_order() -> None:
    plan = plan_lines([("1", "BOLT-10", 9)], STOCK)
    state = (
        orders.given(placed(), HELD)
        .when(ReleaseHold("SO-1", plan))
        .then(RELEASED, allocated(("1", "BOLT-10", "W-A", 6), ("1", "BOLT-10", "W-B", 3), reason="hold_release"))
    )
    assert state is not None and state.status == "allocated"


def test_releasing_the_hold_without_stock_leaves_the_order_backordered() -> None:
    state = orders.given(placed(), HELD).when(ReleaseHold("SO-1")).then(RELEASED)
    assert state is not None and state.status == "backordered"


def test_releasing_the_hold_of_an_order_without_backorders_needs_all_its_stock() -> None:
    cmd = placing(("1", "BOLT-10", 9, BOLT), backorder=False)
    plan = plan_lines([("1", "BOLT-10", 9)], {"BOLT-10": {"W-A": 4}})
    orders.given(placed(cmd), HELD).when(ReleaseHold("SO-1", plan)).then_raises(
        InsufficientStockError, lines=[{"sku": "BOLT-10", "requested": 9, "available": 4}]
    )


def test_releasing_an_order_that_is_not_held_is_rejected() -> None:
    error = (
        orders.given(placed(), NINE_ALLOCATED).when(ReleaseHold("SO-1")).then_raises(OrderNotHeldError, order_id="SO-1")
    )
    assert (error.category, error.code) == ("conflict", "not_on_hold")


def test_releasing_a_hold_twice_is_rejected() -> None:
    orders.given(placed(), HELD, RELEASED).when(ReleaseHold("SO-1")).then_raises(OrderNotHeldError)


def test_releasing_the_hold_of_a_cancelled_order_is_rejected() -> None:
    orders.given(placed(), HELD, cancelled("customer asked", "76.50", ("1", "BOLT-10", 9, []))).when(
        ReleaseHold("SO-1")
    ).then_raises(OrderNotHeldError)


def test_releasing_the_hold_of_an_order_that_does_not_exist_is_not_found() -> None:
    error = orders.when(ReleaseHold("SO-9")).then_raises(NotFoundError, order_id="SO-9")
    assert (error.category, error.detail) == ("not_found", "Order SO-9 does not exist")


# --- backorder fill --------------------------------------------------------------------------


def test_only_backordered_lines_are_wanted_for_allocation() -> None:
    state = state_of(placed(BOLTS_AND_NUTS), allocated(("1", "BOLT-10", "W-A", 6), ("2", "NUT-4", "W-A", 10)))
    assert order.wanted_for_allocation(state) == [("1", "BOLT-10", 3)]


def test_a_backorder_fill_allocates_the_line() -> None:
    state = (
        orders.given(placed(), allocated(("1", "BOLT-10", "W-A", 6)))
        .when(FillBackorder("SO-1", "1", "W-B", 3))
        .then(allocated(("1", "BOLT-10", "W-B", 3), reason="backorder_fill"))
    )
    assert state is not None and state.status == "allocated"


def test_a_backorder_fill_takes_no_more_than_the_line_still_lacks() -> None:
    orders.given(placed(), allocated(("1", "BOLT-10", "W-A", 6))).when(FillBackorder("SO-1", "1", "W-B", 5)).then(
        allocated(("1", "BOLT-10", "W-B", 3), reason="backorder_fill")
    )


def test_a_fully_allocated_line_takes_no_fill() -> None:
    orders.given(placed(), NINE_ALLOCATED).when(FillBackorder("SO-1", "1", "W-C", 2)).then()


def test_a_held_order_takes_no_fill() -> None:
    orders.given(placed(), HELD).when(FillBackorder("SO-1", "1", "W-C", 2)).then()


def test_a_cancelled_order_takes_no_fill() -> None:
    cancelling = order.decide(CancelOrder("SO-1", "customer asked"), state_of(placed()))
    orders.given(placed(), *cancelling).when(FillBackorder("SO-1", "1", "W-C", 2)).then()


def test_an_order_that_does_not_exist_takes_no_fill() -> None:
    orders.when(FillBackorder("SO-9", "1", "W-C", 2)).then()
