"""InventoryPosition: one per SKU and warehouse. On hand, reserved, in transit, reservations."""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from domain.errors import ExceedsAllocationError, InsufficientStockError
from domain.events import Event, register


class PositionEvent(Event, frozen=True, kw_only=True):
    sku: str
    warehouse_id: str


class StockReceived(PositionEvent, frozen=True, kw_only=True):
    receipt_id: str
    qty: int


class StockAdjusted(PositionEvent, frozen=True, kw_only=True):
    adjustment_id: str
    qty_delta: int
    reason: str


class StockCounted(PositionEvent, frozen=True, kw_only=True):
    count_id: str
    counted_qty: int
    qty_delta: int


class StockReserved(PositionEvent, frozen=True, kw_only=True):
    order_id: str
    line_id: str
    qty: int


class ReservationReleased(PositionEvent, frozen=True, kw_only=True):
    order_id: str
    line_id: str
    qty: int
    reason: str


class StockShipped(PositionEvent, frozen=True, kw_only=True):
    shipment_id: str
    order_id: str
    line_id: str
    qty: int


class TransferDispatched(PositionEvent, frozen=True, kw_only=True):
    """Stock left this warehouse for another; it is in transit there."""

    transfer_id: str
    to_warehouse_id: str
    qty: int


class TransferExpected(PositionEvent, frozen=True, kw_only=True):
    """Stock is on its way to this warehouse."""

    transfer_id: str
    from_warehouse_id: str
    qty: int


class TransferArrived(PositionEvent, frozen=True, kw_only=True):
    transfer_id: str
    from_warehouse_id: str
    qty: int


class StockRestocked(PositionEvent, frozen=True, kw_only=True):
    """Returned goods put back on hand."""

    return_id: str
    order_id: str
    qty: int


register(
    StockReceived,
    StockAdjusted,
    StockCounted,
    StockReserved,
    ReservationReleased,
    StockShipped,
    TransferDispatched,
    TransferExpected,
    TransferArrived,
    StockRestocked,
)


@dataclass(frozen=True)
class Position:
    sku: str
    warehouse_id: str
    on_hand: int = 0
    reserved: int = 0
    in_transit: int = 0
    reservations: dict[tuple[str, str], int] = field(default_factory=dict)

    @property
    def available(self) -> int:
        return self.on_hand - self.reserved

    def reserved_for(self, order_id: str, line_id: str) -> int:
        return self.reservations.get((order_id, line_id), 0)


def _reserve(state: Position, key: tuple[str, str], delta: int) -> dict[tuple[str, str], int]:
    reservations = dict(state.reservations)
    left = reservations.get(key, 0) + delta
    if left:
        reservations[key] = left
    else:
        reservations.pop(key, None)
    return reservations


def evolve_position(state: Position, event: Event) -> Position:
    match event:
        case StockReceived(qty=qty) | StockRestocked(qty=qty):
            return replace(state, on_hand=state.on_hand + qty)
        case StockAdjusted(qty_delta=delta) | StockCounted(qty_delta=delta):
            return replace(state, on_hand=state.on_hand + delta)
        case StockReserved(order_id=o, line_id=line, qty=qty):
            return replace(state, reserved=state.reserved + qty, reservations=_reserve(state, (o, line), qty))
        case ReservationReleased(order_id=o, line_id=line, qty=qty):
            return replace(state, reserved=state.reserved - qty, reservations=_reserve(state, (o, line), -qty))
        case StockShipped(order_id=o, line_id=line, qty=qty):
            return replace(
                state,
                on_hand=state.on_hand - qty,
                reserved=state.reserved - qty,
                reservations=_reserve(state, (o, line), -qty),
            )
        case TransferDispatched(qty=qty):
            return replace(state, on_hand=state.on_hand - qty)
        case TransferExpected(qty=qty):
            return replace(state, in_transit=state.in_transit + qty)
        case TransferArrived(qty=qty):
            return replace(state, in_transit=state.in_transit - qty, on_hand=state.on_hand + qty)
    return state


def receive(state: Position, receipt_id: str, qty: int) -> list[Event]:
    return [StockReceived(sku=state.sku, warehouse_id=state.warehouse_id, receipt_id=receipt_id, qty=qty)]


def adjust(state: Position, adjustment_id: str, qty_delta: int, reason: str) -> list[Event]:
    if state.on_hand + qty_delta < 0:
        raise InsufficientStockError(
            f"Adjusting {state.sku} at {state.warehouse_id} by {qty_delta} would leave "
            f"{state.on_hand + qty_delta} on hand",
            sku=state.sku,
            warehouse_id=state.warehouse_id,
            on_hand=state.on_hand,
            qty_delta=qty_delta,
        )
    return [
        StockAdjusted(
            sku=state.sku,
            warehouse_id=state.warehouse_id,
            adjustment_id=adjustment_id,
            qty_delta=qty_delta,
            reason=reason,
        )
    ]


def count(state: Position, count_id: str, counted_qty: int) -> list[Event]:
    """A physical count records the difference to what the ledger holds (possibly zero)."""
    return [
        StockCounted(
            sku=state.sku,
            warehouse_id=state.warehouse_id,
            count_id=count_id,
            counted_qty=counted_qty,
            qty_delta=counted_qty - state.on_hand,
        )
    ]


def reserve(state: Position, order_id: str, line_id: str, qty: int) -> list[Event]:
    if qty > state.available:
        raise InsufficientStockError(
            f"Only {max(state.available, 0)} of {state.sku} available at {state.warehouse_id}",
            lines=[{"sku": state.sku, "requested": qty, "available": max(state.available, 0)}],
        )
    return [StockReserved(sku=state.sku, warehouse_id=state.warehouse_id, order_id=order_id, line_id=line_id, qty=qty)]


def release(state: Position, order_id: str, line_id: str, reason: str) -> list[Event]:
    qty = state.reserved_for(order_id, line_id)
    if qty <= 0:
        return []
    return [
        ReservationReleased(
            sku=state.sku,
            warehouse_id=state.warehouse_id,
            order_id=order_id,
            line_id=line_id,
            qty=qty,
            reason=reason,
        )
    ]


def ship(state: Position, shipment_id: str, order_id: str, line_id: str, qty: int) -> list[Event]:
    held = state.reserved_for(order_id, line_id)
    if qty > held:
        raise ExceedsAllocationError(
            f"{qty} x {state.sku} exceeds the {held} allocated to order {order_id} at {state.warehouse_id}",
            sku=state.sku,
            warehouse_id=state.warehouse_id,
            requested=qty,
            allocated=held,
        )
    if qty > state.on_hand:  # an over-allocated position ships at most what is really there
        raise InsufficientStockError(
            f"Only {max(state.on_hand, 0)} of {state.sku} on hand at {state.warehouse_id}; cannot ship {qty}",
            sku=state.sku,
            warehouse_id=state.warehouse_id,
            requested=qty,
            on_hand=max(state.on_hand, 0),
            lines=[{"sku": state.sku, "requested": qty, "available": max(state.on_hand, 0)}],
        )
    return [
        StockShipped(
            sku=state.sku,
            warehouse_id=state.warehouse_id,
            shipment_id=shipment_id,
            order_id=order_id,
            line_id=line_id,
            qty=qty,
        )
    ]


def dispatch_transfer(state: Position, transfer_id: str, to_warehouse_id: str, qty: int) -> list[Event]:
    """Only available (unreserved) stock may leave on a transfer."""
    if qty > state.available:
        raise InsufficientStockError(
            f"Only {max(state.available, 0)} of {state.sku} available to transfer from {state.warehouse_id}",
            lines=[{"sku": state.sku, "requested": qty, "available": max(state.available, 0)}],
        )
    return [
        TransferDispatched(
            sku=state.sku,
            warehouse_id=state.warehouse_id,
            transfer_id=transfer_id,
            to_warehouse_id=to_warehouse_id,
            qty=qty,
        )
    ]


def expect_transfer(state: Position, transfer_id: str, from_warehouse_id: str, qty: int) -> list[Event]:
    return [
        TransferExpected(
            sku=state.sku,
            warehouse_id=state.warehouse_id,
            transfer_id=transfer_id,
            from_warehouse_id=from_warehouse_id,
            qty=qty,
        )
    ]


def arrive_transfer(state: Position, transfer_id: str, from_warehouse_id: str, qty: int) -> list[Event]:
    return [
        TransferArrived(
            sku=state.sku,
            warehouse_id=state.warehouse_id,
            transfer_id=transfer_id,
            from_warehouse_id=from_warehouse_id,
            qty=qty,
        )
    ]
