"""Order: placement, credit hold, allocation, cancellation, shipment, delivery and the status it reports."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from decimal import Decimal

import pytest

from domain import order
from domain.allocation import plan_lines
from domain.errors import ExceedsAllocationError, InsufficientStockError, OrderNotHeldError, OrderShippedError
from domain.events import Event
from domain.order import (
    CancelledLine,
    LineAllocation,
    LineQty,
    Order,
    OrderCancelled,
    OrderCreditHeld,
    OrderCreditReleased,
    OrderDeliveryRecorded,
    OrderLineRequest,
    OrderLinesAllocated,
    OrderPlaced,
    OrderShipmentRecorded,
    PlacedLine,
    PlaceOrder,
    evolve_order,
)
from tests.spec import Given, given

ACCEPTED = datetime(2025, 3, 3, 9, 30, tzinfo=UTC)
DELIVERED = datetime(2025, 3, 5, 14, 0, tzinfo=UTC)
BOLT = Decimal("8.50")
NUT = Decimal("0.25")
STOCK = {"BOLT-10": {"W-A": 6, "W-B": 6, "W-C": 2}}  # EXAMPLES.md section 1
NO_STOCK: Mapping[str, Mapping[str, int]] = {}


def request(
    *lines: tuple[str, str, int, Decimal], warehouse_id: str | None = None, backorder: bool = True
) -> PlaceOrder:
    return PlaceOrder(
        order_id="SO-1",
        customer_id="C1",
        channel="web",
        warehouse_id=warehouse_id,
        allow_backorder=backorder,
        lines=tuple(OrderLineRequest(*line) for line in lines),
        accepted_at=ACCEPTED,
    )


BOLTS_9 = request(("1", "BOLT-10", 9, BOLT))
BOLTS_AND_NUTS = request(("1", "BOLT-10", 9, BOLT), ("2", "NUT-4", 10, NUT))


def placed(cmd: PlaceOrder = BOLTS_9) -> OrderPlaced:
    return OrderPlaced(
        order_id=cmd.order_id,
        customer_id=cmd.customer_id,
        channel=cmd.channel,
        warehouse_id=cmd.warehouse_id,
        allow_backorder=cmd.allow_backorder,
        lines=[
            PlacedLine(
                line_id=ln.line_id, sku=ln.sku, qty=ln.qty, unit_price=ln.unit_price, amount=ln.unit_price * ln.qty
            )
            for ln in cmd.lines
        ],
        total=cmd.total,
        accepted_at=cmd.accepted_at,
    )


def allocated(*allocations: tuple[str, str, str, int], reason: str = "placement") -> OrderLinesAllocated:
    return OrderLinesAllocated(
        order_id="SO-1",
        allocations=[LineAllocation(line_id=ln, sku=sku, warehouse_id=wh, qty=q) for ln, sku, wh, q in allocations],
        reason=reason,
    )


def shipped(shipment_id: str, warehouse_id: str, *lines: tuple[str, str, int]) -> OrderShipmentRecorded:
    return OrderShipmentRecorded(
        order_id="SO-1",
        shipment_id=shipment_id,
        warehouse_id=warehouse_id,
        lines=[LineQty(line_id=ln, sku=sku, qty=q) for ln, sku, q in lines],
    )


def delivered(shipment_id: str) -> OrderDeliveryRecorded:
    return OrderDeliveryRecorded(order_id="SO-1", shipment_id=shipment_id, delivered_at=DELIVERED)


HELD = OrderCreditHeld(
    order_id="SO-1",
    customer_id="C1",
    order_value=Decimal("76.50"),
    exposure=Decimal("420.00"),
    credit_limit=Decimal("450.00"),
)
NINE_ALLOCATED = allocated(("1", "BOLT-10", "W-A", 6), ("1", "BOLT-10", "W-B", 3))


def an_order(*events: Event) -> Given[Order | None]:
    return given(evolve_order, None, *events)


def place(cmd: PlaceOrder, stock: Mapping[str, Mapping[str, int]] = STOCK, *, over_credit: bool = False) -> list[Event]:
    plan = plan_lines([(ln.line_id, ln.sku, ln.qty) for ln in cmd.lines], stock, cmd.warehouse_id)
    return order.place(
        cmd, over_credit=over_credit, exposure=Decimal("420.00"), credit_limit=Decimal("450.00"), plan=plan
    )


def state_of(*events: Event) -> Order:
    state = an_order(*events).state
    assert state is not None
    return state


# --- placement -------------------------------------------------------------------------------


def test_a_placed_order_records_every_fact_a_reader_needs() -> None:
    stock = {"BOLT-10": {"W-A": 9}, "NUT-4": {"W-B": 10}}
    an_order().when(lambda _: place(BOLTS_AND_NUTS, stock)).then(
        OrderPlaced(
            order_id="SO-1",
            customer_id="C1",
            channel="web",
            warehouse_id=None,
            allow_backorder=True,
            lines=[
                PlacedLine(line_id="1", sku="BOLT-10", qty=9, unit_price=BOLT, amount=Decimal("76.50")),
                PlacedLine(line_id="2", sku="NUT-4", qty=10, unit_price=NUT, amount=Decimal("2.50")),
            ],
            total=Decimal("79.00"),
            accepted_at=ACCEPTED,
        ),
        allocated(("1", "BOLT-10", "W-A", 9), ("2", "NUT-4", "W-B", 10)),
    )


def test_an_order_of_9_is_allocated_6_from_w_a_and_3_from_w_b() -> None:
    state = an_order().when(lambda _: place(BOLTS_9)).then(placed(), NINE_ALLOCATED)
    assert state is not None
    line = state.line("1")
    assert (line.allocated, line.backordered, line.shipped, line.cancelled) == (9, 0, 0, 0)
    assert line.allocations == {"W-A": 6, "W-B": 3}
    assert state.status == "allocated"


def test_the_next_order_of_6_allocates_what_exists_and_backorders_1() -> None:
    after_first = {"BOLT-10": {"W-A": 0, "W-B": 3, "W-C": 2}}
    six = request(("1", "BOLT-10", 6, BOLT))
    state = (
        an_order()
        .when(lambda _: place(six, after_first))
        .then(placed(six), allocated(("1", "BOLT-10", "W-B", 3), ("1", "BOLT-10", "W-C", 2)))
    )
    assert state is not None
    line = state.line("1")
    assert (line.allocated, line.backordered) == (5, 1)
    assert state.status == "backordered"


def test_the_next_order_of_6_without_backorders_is_rejected_with_what_is_available() -> None:
    after_first = {"BOLT-10": {"W-A": 0, "W-B": 3, "W-C": 2}}
    six = request(("1", "BOLT-10", 6, BOLT), backorder=False)
    error = (
        an_order()
        .when(lambda _: place(six, after_first))
        .then_raises(InsufficientStockError, lines=[{"sku": "BOLT-10", "requested": 6, "available": 5}])
    )
    assert error.status == 409


def test_without_backorders_one_short_line_rejects_the_whole_order() -> None:
    cmd = request(("1", "BOLT-10", 9, BOLT), ("2", "NUT-4", 10, NUT), backorder=False)
    an_order().when(lambda _: place(cmd, {**STOCK, "NUT-4": {"W-A": 4}})).then_raises(
        InsufficientStockError, lines=[{"sku": "NUT-4", "requested": 10, "available": 4}]
    )


def test_without_backorders_a_fully_available_order_is_allocated() -> None:
    cmd = request(("1", "BOLT-10", 9, BOLT), backorder=False)
    an_order().when(lambda _: place(cmd)).then(placed(cmd), NINE_ALLOCATED)


def test_an_order_with_no_stock_anywhere_is_placed_fully_backordered() -> None:
    state = an_order().when(lambda _: place(BOLTS_9, NO_STOCK)).then(placed())
    assert state is not None
    assert (state.line("1").allocated, state.line("1").backordered) == (0, 9)
    assert state.status == "backordered"


def test_a_pinned_order_is_allocated_only_from_its_warehouse() -> None:
    pinned = request(("1", "BOLT-10", 5, BOLT), warehouse_id="W-C")
    state = an_order().when(lambda _: place(pinned)).then(placed(pinned), allocated(("1", "BOLT-10", "W-C", 2)))
    assert state is not None
    assert state.warehouse_id == "W-C"
    assert (state.line("1").allocations, state.line("1").backordered) == ({"W-C": 2}, 3)


def test_an_order_over_the_credit_limit_is_held_and_reserves_nothing() -> None:
    state = an_order().when(lambda _: place(BOLTS_9, over_credit=True)).then(placed(), HELD)
    assert state is not None
    assert state.status == "credit_hold"
    line = state.line("1")
    assert (line.allocated, line.backordered) == (0, 9)  # held qty is reported as backordered


def test_a_held_order_is_recorded_even_when_backorders_are_not_allowed_and_stock_is_short() -> None:
    cmd = request(("1", "BOLT-10", 9, BOLT), backorder=False)
    an_order().when(lambda _: place(cmd, NO_STOCK, over_credit=True)).then(placed(cmd), HELD)


# --- credit hold release -----------------------------------------------------------------------


def test_releasing_the_hold_allocates_the_order() -> None:
    plan = plan_lines([("1", "BOLT-10", 9)], STOCK)
    state = (
        an_order(placed(), HELD)
        .when(lambda s: order.release_hold(s, plan))
        .then(
            OrderCreditReleased(order_id="SO-1", customer_id="C1"),
            allocated(("1", "BOLT-10", "W-A", 6), ("1", "BOLT-10", "W-B", 3), reason="hold_release"),
        )
    )
    assert state is not None and state.status == "allocated"


def test_releasing_the_hold_without_stock_leaves_the_order_backordered() -> None:
    state = (
        an_order(placed(), HELD)
        .when(lambda s: order.release_hold(s, {}))
        .then(OrderCreditReleased(order_id="SO-1", customer_id="C1"))
    )
    assert state is not None and state.status == "backordered"


def test_releasing_the_hold_of_an_order_without_backorders_needs_all_its_stock() -> None:
    cmd = request(("1", "BOLT-10", 9, BOLT), backorder=False)
    plan = plan_lines([("1", "BOLT-10", 9)], {"BOLT-10": {"W-A": 4}})
    an_order(placed(cmd), HELD).when(lambda s: order.release_hold(s, plan)).then_raises(
        InsufficientStockError, lines=[{"sku": "BOLT-10", "requested": 9, "available": 4}]
    )


def test_releasing_an_order_that_is_not_held_is_rejected() -> None:
    error = (
        an_order(placed(), NINE_ALLOCATED)
        .when(lambda s: order.release_hold(s, {}))
        .then_raises(OrderNotHeldError, order_id="SO-1")
    )
    assert (error.status, error.code) == (409, "not_on_hold")


def test_releasing_a_hold_twice_is_rejected() -> None:
    an_order(placed(), HELD, OrderCreditReleased(order_id="SO-1", customer_id="C1")).when(
        lambda s: order.release_hold(s, {})
    ).then_raises(OrderNotHeldError)


def test_releasing_the_hold_of_a_cancelled_order_is_rejected() -> None:
    cancelled = OrderCancelled(
        order_id="SO-1",
        customer_id="C1",
        reason="customer asked",
        lines=[CancelledLine(line_id="1", sku="BOLT-10", qty=9, released=[])],
        amount=Decimal("76.50"),
    )
    an_order(placed(), HELD, cancelled).when(lambda s: order.release_hold(s, {})).then_raises(OrderNotHeldError)


# --- backorder fill --------------------------------------------------------------------------


def test_only_backordered_lines_are_wanted_for_allocation() -> None:
    state = state_of(placed(BOLTS_AND_NUTS), allocated(("1", "BOLT-10", "W-A", 6), ("2", "NUT-4", "W-A", 10)))
    assert order.wanted_for_allocation(state) == [("1", "BOLT-10", 3)]


def test_a_backorder_fill_allocates_the_line() -> None:
    state = (
        an_order(placed(), allocated(("1", "BOLT-10", "W-A", 6)))
        .when(lambda s: order.fill_backorder(s, "1", "W-B", 3))
        .then(allocated(("1", "BOLT-10", "W-B", 3), reason="backorder_fill"))
    )
    assert state is not None and state.status == "allocated"


def test_a_backorder_fill_takes_no_more_than_the_line_still_lacks() -> None:
    an_order(placed(), allocated(("1", "BOLT-10", "W-A", 6))).when(
        lambda s: order.fill_backorder(s, "1", "W-B", 5)
    ).then(allocated(("1", "BOLT-10", "W-B", 3), reason="backorder_fill"))


def test_a_fully_allocated_line_takes_no_fill() -> None:
    an_order(placed(), NINE_ALLOCATED).when(lambda s: order.fill_backorder(s, "1", "W-C", 2)).then()


def test_a_held_order_takes_no_fill() -> None:
    an_order(placed(), HELD).when(lambda s: order.fill_backorder(s, "1", "W-C", 2)).then()


def test_a_cancelled_order_takes_no_fill() -> None:
    cancelled = order.cancel(state_of(placed()), "customer asked")
    an_order(placed(), *cancelled).when(lambda s: order.fill_backorder(s, "1", "W-C", 2)).then()


# --- cancellation ----------------------------------------------------------------------------


def test_cancelled_order_releases_its_reservations() -> None:
    state = (
        an_order(placed(), NINE_ALLOCATED)
        .when(lambda s: order.cancel(s, "customer asked"))
        .then(
            OrderCancelled(
                order_id="SO-1",
                customer_id="C1",
                reason="customer asked",
                lines=[
                    CancelledLine(
                        line_id="1",
                        sku="BOLT-10",
                        qty=9,
                        released=[
                            LineAllocation(line_id="1", sku="BOLT-10", warehouse_id="W-A", qty=6),
                            LineAllocation(line_id="1", sku="BOLT-10", warehouse_id="W-B", qty=3),
                        ],
                    )
                ],
                amount=Decimal("76.50"),
            )
        )
    )
    assert state is not None
    line = state.line("1")
    assert (line.allocated, line.backordered, line.shipped, line.cancelled) == (0, 0, 0, 9)
    assert state.status == "cancelled"


def test_cancelling_a_backordered_line_cancels_its_backordered_qty_too() -> None:
    state = (
        an_order(placed(), allocated(("1", "BOLT-10", "W-A", 6)))
        .when(lambda s: order.cancel(s, "customer asked"))
        .then(
            OrderCancelled(
                order_id="SO-1",
                customer_id="C1",
                reason="customer asked",
                lines=[
                    CancelledLine(
                        line_id="1",
                        sku="BOLT-10",
                        qty=9,
                        released=[LineAllocation(line_id="1", sku="BOLT-10", warehouse_id="W-A", qty=6)],
                    )
                ],
                amount=Decimal("76.50"),
            )
        )
    )
    assert state is not None and state.line("1").backordered == 0


def test_cancelling_a_held_order_releases_nothing_but_cancels_its_whole_value() -> None:
    state = (
        an_order(placed(), HELD)
        .when(lambda s: order.cancel(s, "credit refused"))
        .then(
            OrderCancelled(
                order_id="SO-1",
                customer_id="C1",
                reason="credit refused",
                lines=[CancelledLine(line_id="1", sku="BOLT-10", qty=9, released=[])],
                amount=Decimal("76.50"),
            )
        )
    )
    assert state is not None and state.status == "cancelled"


def test_cancelling_twice_records_nothing_the_second_time() -> None:
    first = order.cancel(state_of(placed(), NINE_ALLOCATED), "customer asked")
    an_order(placed(), NINE_ALLOCATED, *first).when(lambda s: order.cancel(s, "again")).then()


def test_cancelling_a_fully_shipped_order_is_rejected() -> None:
    error = (
        an_order(
            placed(),
            NINE_ALLOCATED,
            shipped("SH-1", "W-A", ("1", "BOLT-10", 6)),
            shipped("SH-2", "W-B", ("1", "BOLT-10", 3)),
        )
        .when(lambda s: order.cancel(s, "too late"))
        .then_raises(OrderShippedError, order_id="SO-1")
    )
    assert (error.status, error.code) == (409, "order_shipped")


def test_cancelling_after_a_partial_shipment_cancels_the_rest_and_the_order_counts_as_shipped() -> None:
    state = (
        an_order(placed(), NINE_ALLOCATED, shipped("SH-1", "W-A", ("1", "BOLT-10", 6)))
        .when(lambda s: order.cancel(s, "rest not needed"))
        .then(
            OrderCancelled(
                order_id="SO-1",
                customer_id="C1",
                reason="rest not needed",
                lines=[
                    CancelledLine(
                        line_id="1",
                        sku="BOLT-10",
                        qty=3,
                        released=[LineAllocation(line_id="1", sku="BOLT-10", warehouse_id="W-B", qty=3)],
                    )
                ],
                amount=Decimal("25.50"),
            )
        )
    )
    assert state is not None
    line = state.line("1")
    assert (line.allocated, line.backordered, line.shipped, line.cancelled) == (0, 0, 6, 3)
    assert state.status == "shipped"


def test_cancelling_a_partly_shipped_and_cancelled_order_again_records_nothing() -> None:
    history = [placed(), NINE_ALLOCATED, shipped("SH-1", "W-A", ("1", "BOLT-10", 6))]
    first = order.cancel(state_of(*history), "rest not needed")
    an_order(*history, *first).when(lambda s: order.cancel(s, "again")).then()


def test_cancelling_leaves_fully_shipped_lines_alone() -> None:
    history = [
        placed(BOLTS_AND_NUTS),
        allocated(("1", "BOLT-10", "W-A", 6), ("2", "NUT-4", "W-A", 10)),
        shipped("SH-1", "W-A", ("2", "NUT-4", 10)),
    ]
    an_order(*history).when(lambda s: order.cancel(s, "bolts not needed")).then(
        OrderCancelled(
            order_id="SO-1",
            customer_id="C1",
            reason="bolts not needed",
            lines=[
                CancelledLine(
                    line_id="1",
                    sku="BOLT-10",
                    qty=9,
                    released=[LineAllocation(line_id="1", sku="BOLT-10", warehouse_id="W-A", qty=6)],
                )
            ],
            amount=Decimal("76.50"),
        )
    )


# --- shipment and delivery -------------------------------------------------------------------


def test_a_shipment_from_the_allocation_is_recorded_and_the_order_is_partially_shipped() -> None:
    state = (
        an_order(placed(), NINE_ALLOCATED)
        .when(lambda s: order.record_shipment(s, "SH-1", "W-A", [("BOLT-10", 4)]))
        .then(shipped("SH-1", "W-A", ("1", "BOLT-10", 4)))
    )
    assert state is not None
    line = state.line("1")
    assert (line.allocated, line.allocations, line.shipped) == (5, {"W-A": 2, "W-B": 3}, 4)
    assert state.status == "partially_shipped"


def test_a_shipment_may_carry_several_lines() -> None:
    history = [placed(BOLTS_AND_NUTS), allocated(("1", "BOLT-10", "W-A", 6), ("2", "NUT-4", "W-A", 10))]
    an_order(*history).when(lambda s: order.record_shipment(s, "SH-1", "W-A", [("NUT-4", 10), ("BOLT-10", 6)])).then(
        shipped("SH-1", "W-A", ("2", "NUT-4", 10), ("1", "BOLT-10", 6))
    )


def test_shipping_more_than_the_allocation_at_the_warehouse_is_rejected() -> None:
    error = (
        an_order(placed(), NINE_ALLOCATED)
        .when(lambda s: order.record_shipment(s, "SH-1", "W-B", [("BOLT-10", 4)]))
        .then_raises(ExceedsAllocationError, sku="BOLT-10", warehouse_id="W-B", requested=4, allocated=3)
    )
    assert (error.status, error.code) == (409, "exceeds_allocation")


def test_shipping_from_a_warehouse_that_holds_nothing_for_the_order_is_rejected() -> None:
    an_order(placed(), NINE_ALLOCATED).when(
        lambda s: order.record_shipment(s, "SH-1", "W-C", [("BOLT-10", 1)])
    ).then_raises(ExceedsAllocationError, warehouse_id="W-C", requested=1, allocated=0)


def test_shipping_a_sku_the_order_does_not_have_is_rejected() -> None:
    an_order(placed(), NINE_ALLOCATED).when(
        lambda s: order.record_shipment(s, "SH-1", "W-A", [("NUT-4", 1)])
    ).then_raises(ExceedsAllocationError, sku="NUT-4", requested=1, allocated=0)


def test_shipping_a_held_order_is_rejected() -> None:
    an_order(placed(), HELD).when(lambda s: order.record_shipment(s, "SH-1", "W-A", [("BOLT-10", 1)])).then_raises(
        ExceedsAllocationError, allocated=0
    )


def test_one_bad_line_rejects_the_whole_shipment() -> None:
    history = [placed(BOLTS_AND_NUTS), allocated(("1", "BOLT-10", "W-A", 6), ("2", "NUT-4", "W-A", 10))]
    an_order(*history).when(
        lambda s: order.record_shipment(s, "SH-1", "W-A", [("NUT-4", 10), ("BOLT-10", 7)])
    ).then_raises(ExceedsAllocationError, sku="BOLT-10", requested=7, allocated=6)


def test_a_delivery_is_recorded_once() -> None:
    history = [placed(), NINE_ALLOCATED, shipped("SH-1", "W-A", ("1", "BOLT-10", 6))]
    an_order(*history).when(lambda s: order.record_delivery(s, "SH-1", DELIVERED)).then(delivered("SH-1"))
    an_order(*history, delivered("SH-1")).when(lambda s: order.record_delivery(s, "SH-1", DELIVERED)).then()


# --- status and the line invariant -----------------------------------------------------------

SHIP_ALL = (shipped("SH-1", "W-A", ("1", "BOLT-10", 6)), shipped("SH-2", "W-B", ("1", "BOLT-10", 3)))
CANCEL_ALL = OrderCancelled(
    order_id="SO-1",
    customer_id="C1",
    reason="customer asked",
    lines=[
        CancelledLine(
            line_id="1",
            sku="BOLT-10",
            qty=9,
            released=[
                LineAllocation(line_id="1", sku="BOLT-10", warehouse_id="W-A", qty=6),
                LineAllocation(line_id="1", sku="BOLT-10", warehouse_id="W-B", qty=3),
            ],
        )
    ],
    amount=Decimal("76.50"),
)
CANCEL_REST = OrderCancelled(
    order_id="SO-1",
    customer_id="C1",
    reason="rest not needed",
    lines=[
        CancelledLine(
            line_id="1",
            sku="BOLT-10",
            qty=3,
            released=[LineAllocation(line_id="1", sku="BOLT-10", warehouse_id="W-B", qty=3)],
        )
    ],
    amount=Decimal("25.50"),
)
HISTORIES: dict[str, tuple[str, list[Event]]] = {
    "held": ("credit_hold", [placed(), HELD]),
    "nothing in stock": ("backordered", [placed()]),
    "partly allocated": ("backordered", [placed(), allocated(("1", "BOLT-10", "W-A", 6))]),
    "fully allocated": ("allocated", [placed(), NINE_ALLOCATED]),
    "filled from backorder": (
        "allocated",
        [
            placed(),
            allocated(("1", "BOLT-10", "W-A", 6)),
            allocated(("1", "BOLT-10", "W-C", 3), reason="backorder_fill"),
        ],
    ),
    "released from hold": (
        "allocated",
        [placed(), HELD, OrderCreditReleased(order_id="SO-1", customer_id="C1"), NINE_ALLOCATED],
    ),
    "one shipment of two": ("partially_shipped", [placed(), NINE_ALLOCATED, SHIP_ALL[0]]),
    "partly shipped and backordered": (
        "partially_shipped",
        [placed(), allocated(("1", "BOLT-10", "W-A", 6)), SHIP_ALL[0]],
    ),
    "partly shipped and delivered": ("partially_shipped", [placed(), NINE_ALLOCATED, SHIP_ALL[0], delivered("SH-1")]),
    "all shipped": ("shipped", [placed(), NINE_ALLOCATED, *SHIP_ALL]),
    "all shipped, one delivered": ("shipped", [placed(), NINE_ALLOCATED, *SHIP_ALL, delivered("SH-1")]),
    "all shipped and delivered": (
        "delivered",
        [placed(), NINE_ALLOCATED, *SHIP_ALL, delivered("SH-1"), delivered("SH-2")],
    ),
    "partly shipped, rest cancelled": ("shipped", [placed(), NINE_ALLOCATED, SHIP_ALL[0], CANCEL_REST]),
    "partly shipped, rest cancelled, delivered": (
        "delivered",
        [placed(), NINE_ALLOCATED, SHIP_ALL[0], CANCEL_REST, delivered("SH-1")],
    ),
    "cancelled": ("cancelled", [placed(), NINE_ALLOCATED, CANCEL_ALL]),
    "cancelled while held": (
        "cancelled",
        [
            placed(),
            HELD,
            OrderCancelled(
                order_id="SO-1",
                customer_id="C1",
                reason="x",
                lines=[CancelledLine(line_id="1", sku="BOLT-10", qty=9, released=[])],
                amount=Decimal("76.50"),
            ),
        ],
    ),
}


@pytest.mark.parametrize("history", HISTORIES.values(), ids=HISTORIES.keys())
def test_the_order_reports_the_status_its_history_implies(history: tuple[str, list[Event]]) -> None:
    status, events = history
    assert state_of(*events).status == status


@pytest.mark.parametrize("history", HISTORIES.values(), ids=HISTORIES.keys())
def test_every_line_qty_is_allocated_plus_backordered_plus_shipped_plus_cancelled(
    history: tuple[str, list[Event]],
) -> None:
    for line in state_of(*history[1]).lines:
        parts = (line.allocated, line.backordered, line.shipped, line.cancelled)
        assert min(parts) >= 0
        assert sum(parts) == line.qty


def test_every_status_of_the_contract_is_reachable() -> None:
    reached = {status for status, _ in HISTORIES.values()}
    assert reached == {
        "credit_hold",
        "backordered",
        "allocated",
        "partially_shipped",
        "shipped",
        "delivered",
        "cancelled",
    }


def test_the_order_total_is_the_sum_of_its_line_amounts() -> None:
    assert state_of(placed(BOLTS_AND_NUTS)).total == Decimal("79.00")
