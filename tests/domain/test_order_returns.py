"""Returns: which shipments a return comes back from (oldest first), and at most what shipped and
is not back yet."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from decimal import Decimal as D

from domain import order
from domain.errors import ExceedsShippedError
from domain.events import Event
from domain.order import (
    LineAllocation,
    LineQty,
    Order,
    OrderLinesAllocated,
    OrderPlaced,
    OrderReturnRecorded,
    OrderShipmentRecorded,
    PlacedLine,
    ReturnedLine,
    evolve_order,
)
from tests.spec import Given, given

# --- returns: at most what shipped and is not back, oldest shipment first ------------------------------

ACCEPTED = datetime(2025, 3, 3, 9, 30, tzinfo=UTC)
PLACED = OrderPlaced(
    order_id="SO-1",
    customer_id="CAL",
    channel="web",
    warehouse_id=None,
    allow_backorder=True,
    lines=[
        PlacedLine(line_id="1", sku="WIDGET", qty=6, unit_price=D("12.49"), amount=D("74.94")),
        PlacedLine(line_id="2", sku="NUT-4", qty=10, unit_price=D("0.25"), amount=D("2.50")),
    ],
    total=D("77.44"),
    accepted_at=ACCEPTED,
)
ALLOCATED = OrderLinesAllocated(
    order_id="SO-1",
    allocations=[
        LineAllocation(line_id="1", sku="WIDGET", warehouse_id="W-A", qty=6),
        LineAllocation(line_id="2", sku="NUT-4", warehouse_id="W-A", qty=10),
    ],
    reason="placement",
)


def shipped(shipment_id: str, *lines: tuple[str, str, int]) -> OrderShipmentRecorded:
    return OrderShipmentRecorded(
        order_id="SO-1",
        shipment_id=shipment_id,
        warehouse_id="W-A",
        lines=[LineQty(line_id=ln, sku=sku, qty=q) for ln, sku, q in lines],
    )


def returned(return_id: str, *lines: tuple[str, str, str, int], restock: bool = True) -> OrderReturnRecorded:
    return OrderReturnRecorded(
        order_id="SO-1",
        return_id=return_id,
        warehouse_id="W-A",
        restock=restock,
        lines=[ReturnedLine(shipment_id=sid, line_id=ln, sku=sku, qty=q) for sid, ln, sku, q in lines],
    )


SH_1 = shipped("SH-1", ("1", "WIDGET", 2), ("2", "NUT-4", 10))
SH_2 = shipped("SH-2", ("1", "WIDGET", 3))


def an_order(*events: Event) -> Given[Order | None]:
    return given(evolve_order, None, PLACED, ALLOCATED, *events)


def return_of(return_id: str, *lines: tuple[str, int], restock: bool = True) -> Callable[[Order | None], list[Event]]:
    def decide(state: Order | None) -> list[Event]:
        assert state is not None
        return order.record_return(state, return_id, "W-A", restock, order.plan_return(state, list(lines)))

    return decide


def test_a_return_comes_back_from_the_oldest_shipment_first() -> None:
    state = (
        an_order(SH_1, SH_2)
        .when(return_of("RMA-1", ("WIDGET", 4)))
        .then(returned("RMA-1", ("SH-1", "1", "WIDGET", 2), ("SH-2", "1", "WIDGET", 2)))
    )
    assert state is not None
    assert state.line("1").returned == 4
    assert state.returned_lines == {"SH-1": {"1": 2}, "SH-2": {"1": 2}}


def test_a_later_return_skips_what_already_came_back_from_the_oldest_shipment() -> None:
    an_order(SH_1, SH_2, returned("RMA-1", ("SH-1", "1", "WIDGET", 1))).when(
        return_of("RMA-2", ("WIDGET", 2), restock=False)
    ).then(returned("RMA-2", ("SH-1", "1", "WIDGET", 1), ("SH-2", "1", "WIDGET", 1), restock=False))


def test_a_return_of_several_skus_plans_each_line() -> None:
    an_order(SH_1, SH_2).when(return_of("RMA-1", ("NUT-4", 3), ("WIDGET", 1))).then(
        returned("RMA-1", ("SH-1", "2", "NUT-4", 3), ("SH-1", "1", "WIDGET", 1))
    )


def test_everything_shipped_can_come_back() -> None:
    an_order(SH_1, SH_2).when(return_of("RMA-1", ("WIDGET", 5))).then(
        returned("RMA-1", ("SH-1", "1", "WIDGET", 2), ("SH-2", "1", "WIDGET", 3))
    )


def test_returning_more_than_shipped_is_rejected() -> None:
    an_order(SH_1).when(return_of("RMA-1", ("WIDGET", 3))).then_raises(
        ExceedsShippedError, sku="WIDGET", requested=3, returnable=2
    )


def test_returning_more_than_shipped_and_not_yet_returned_is_rejected() -> None:
    an_order(SH_1, SH_2, returned("RMA-1", ("SH-1", "1", "WIDGET", 2), ("SH-2", "1", "WIDGET", 1))).when(
        return_of("RMA-2", ("WIDGET", 3))
    ).then_raises(ExceedsShippedError, sku="WIDGET", requested=3, returnable=2)


def test_returning_an_allocated_but_unshipped_line_is_rejected() -> None:
    an_order(SH_2).when(return_of("RMA-1", ("NUT-4", 1))).then_raises(
        ExceedsShippedError, sku="NUT-4", requested=1, returnable=0
    )


def test_returning_a_sku_the_order_does_not_have_is_rejected() -> None:
    an_order(SH_1).when(return_of("RMA-1", ("BOLT-10", 1))).then_raises(
        ExceedsShippedError, sku="BOLT-10", requested=1, returnable=0
    )


def test_a_rejected_line_rejects_the_whole_return() -> None:
    an_order(SH_1).when(return_of("RMA-1", ("WIDGET", 1), ("NUT-4", 11))).then_raises(
        ExceedsShippedError, sku="NUT-4", requested=11, returnable=10
    )


def test_the_same_sku_twice_in_one_return_counts_both_lines_against_what_shipped() -> None:
    # 2 shipped: two lines of 2 would bring back 4.
    an_order(SH_1).when(return_of("RMA-1", ("WIDGET", 2), ("WIDGET", 2))).then_raises(ExceedsShippedError, sku="WIDGET")


def test_the_same_sku_twice_in_one_return_within_what_shipped_comes_back_from_distinct_units() -> None:
    an_order(SH_1, SH_2).when(return_of("RMA-1", ("WIDGET", 2), ("WIDGET", 1))).then(
        returned("RMA-1", ("SH-1", "1", "WIDGET", 2), ("SH-2", "1", "WIDGET", 1))
    )
