"""Order cancellation: all unshipped qty, with the reservations it releases and the value it frees."""

from __future__ import annotations

from domain import order
from domain.errors import NotFoundError, OrderShippedError
from domain.order import CancelOrder
from tests.domain.order_events import (
    BOLTS_AND_NUTS,
    HELD,
    NINE_ALLOCATED,
    allocated,
    cancelled,
    orders,
    placed,
    shipped,
    state_of,
)


def test_cancelled_order_releases_its_reservations() -> None:
    state = (
        orders.given(placed(), NINE_ALLOCATED)
        .when(CancelOrder("SO-1", "customer asked"))
        .then(cancelled("customer asked", "76.50", ("1", "BOLT-10", 9, [("W-A", 6), ("W-B", 3)])))
    )
    assert state is not None
    line = state.line("1")
    assert (line.allocated, line.backordered, line.shipped, line.cancelled) == (0, 0, 0, 9)
    assert state.status == "cancelled"


def test_cancelling_a_backordered_line_cancels_its_backordered_qty_too() -> None:
    state = (
        orders.given(placed(), allocated(("1", "BOLT-10", "W-A", 6)))
        .when(CancelOrder("SO-1", "customer asked"))
        .then(cancelled("customer asked", "76.50", ("1", "BOLT-10", 9, [("W-A", 6)])))
    )
    assert state is not None and state.line("1").backordered == 0


def test_cancelling_a_held_order_releases_nothing_but_cancels_its_whole_value() -> None:
    state = (
        orders.given(placed(), HELD)
        .when(CancelOrder("SO-1", "credit refused"))
        .then(cancelled("credit refused", "76.50", ("1", "BOLT-10", 9, [])))
    )
    assert state is not None and state.status == "cancelled"


def test_cancelling_twice_records_nothing_the_second_time() -> None:
    first = order.cancel(state_of(placed(), NINE_ALLOCATED), "customer asked")
    orders.given(placed(), NINE_ALLOCATED, *first).when(CancelOrder("SO-1", "again")).then()


def test_cancelling_a_fully_shipped_order_is_rejected() -> None:
    error = (
        orders.given(
            placed(),
            NINE_ALLOCATED,
            shipped("SH-1", "W-A", ("1", "BOLT-10", 6)),
            shipped("SH-2", "W-B", ("1", "BOLT-10", 3)),
        )
        .when(CancelOrder("SO-1", "too late"))
        .then_raises(OrderShippedError, order_id="SO-1")
    )
    assert (error.category, error.code) == ("conflict", "order_shipped")


def test_cancelling_after_a_partial_shipment_cancels_the_rest_and_the_order_counts_as_shipped() -> None:
    state = (
        orders.given(placed(), NINE_ALLOCATED, shipped("SH-1", "W-A", ("1", "BOLT-10", 6)))
        .when(CancelOrder("SO-1", "rest not needed"))
        .then(cancelled("rest not needed", "25.50", ("1", "BOLT-10", 3, [("W-B", 3)])))
    )
    assert state is not None
    line = state.line("1")
    assert (line.allocated, line.backordered, line.shipped, line.cancelled) == (0, 0, 6, 3)
    assert state.status == "shipped"


def test_cancelling_a_partly_shipped_and_cancelled_order_again_records_nothing() -> None:
    history = [placed(), NINE_ALLOCATED, shipped("SH-1", "W-A", ("1", "BOLT-10", 6))]
    first = order.cancel(state_of(*history), "rest not needed")
    orders.given(*history, *first).when(CancelOrder("SO-1", "again")).then()


def test_cancelling_leaves_fully_shipped_lines_alone() -> None:
    orders.given(
        placed(BOLTS_AND_NUTS),
        allocated(("1", "BOLT-10", "W-A", 6), ("2", "NUT-4", "W-A", 10)),
        shipped("SH-1", "W-A", ("2", "NUT-4", 10)),
    ).when(CancelOrder("SO-1", "bolts not needed")).then(
        cancelled("bolts not needed", "76.50", ("1", "BOLT-10", 9, [("W-A", 6)]))
    )


def test_cancelling_an_order_that_does_not_exist_is_not_found() -> None:
    error = orders.when(CancelOrder("SO-9", "typo")).then_raises(NotFoundError, order_id="SO-9")
    assert (error.category, error.code) == ("not_found", "not_found")
