"""What the order specs share: the decider under test, commands and the events of a few histories."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from decimal import Decimal

from domain import order
from domain.allocation import plan_lines
from domain.events import Event
from domain.order import (
    CancelledLine,
    LineAllocation,
    LineQty,
    Order,
    OrderCancelled,
    OrderCommand,
    OrderCreditHeld,
    OrderDeliveryRecorded,
    OrderLineRequest,
    OrderLinesAllocated,
    OrderPlaced,
    OrderShipmentRecorded,
    PlacedLine,
    PlaceOrder,
)
from tests.spec import Spec, spec

ACCEPTED = datetime(2025, 3, 3, 9, 30, tzinfo=UTC)
DELIVERED = datetime(2025, 3, 5, 14, 0, tzinfo=UTC)
BOLT = Decimal("8.50")
NUT = Decimal("0.25")
STOCK: Mapping[str, Mapping[str, int]] = {"BOLT-10": {"W-A": 6, "W-B": 6, "W-C": 2}}  # EXAMPLES.md section 1
NO_STOCK: Mapping[str, Mapping[str, int]] = {}
EXPOSURE = Decimal("420.00")  # with a limit of 450.00, an order of 9 bolts (76.50) goes over
LIMIT = Decimal("450.00")

orders: Spec[OrderCommand, Order | None] = spec(order.decider)


def placing(
    *lines: tuple[str, str, int, Decimal],
    warehouse_id: str | None = None,
    backorder: bool = True,
    stock: Mapping[str, Mapping[str, int]] = STOCK,
    exposure: Decimal = Decimal("0.00"),
    credit_limit: Decimal | None = LIMIT,
) -> PlaceOrder:
    """PlaceOrder SO-1 for C1, with the plan the allocation rule makes from `stock`."""
    requested = tuple(OrderLineRequest(*line) for line in lines)
    plan = plan_lines([(ln.line_id, ln.sku, ln.qty) for ln in requested], stock, warehouse_id)
    return PlaceOrder(
        order_id="SO-1",
        customer_id="C1",
        channel="web",
        warehouse_id=warehouse_id,
        allow_backorder=backorder,
        lines=requested,
        accepted_at=ACCEPTED,
        exposure=exposure,
        credit_limit=credit_limit,
        plan=plan,
    )


BOLTS_9 = placing(("1", "BOLT-10", 9, BOLT))
BOLTS_AND_NUTS = placing(("1", "BOLT-10", 9, BOLT), ("2", "NUT-4", 10, NUT))


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


def cancelled(
    reason: str, amount: str, *lines: tuple[str, str, int, list[tuple[str, int]]], customer_id: str = "C1"
) -> OrderCancelled:
    """OrderCancelled of (line_id, sku, qty, [(warehouse released, qty)]) lines."""
    return OrderCancelled(
        order_id="SO-1",
        customer_id=customer_id,
        reason=reason,
        lines=[
            CancelledLine(
                line_id=ln,
                sku=sku,
                qty=qty,
                released=[LineAllocation(line_id=ln, sku=sku, warehouse_id=wh, qty=q) for wh, q in released],
            )
            for ln, sku, qty, released in lines
        ],
        amount=Decimal(amount),
    )


HELD = OrderCreditHeld(
    order_id="SO-1", customer_id="C1", order_value=Decimal("76.50"), exposure=EXPOSURE, credit_limit=LIMIT
)
NINE_ALLOCATED = allocated(("1", "BOLT-10", "W-A", 6), ("1", "BOLT-10", "W-B", 3))


def state_of(*events: Event) -> Order:
    state = orders.given(*events).state
    assert state is not None
    return state
