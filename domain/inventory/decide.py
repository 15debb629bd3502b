"""Stock position decisions, and `decide` for the commands of one position."""

from __future__ import annotations

from dataclasses import dataclass
from typing import assert_never

from domain.errors import ExceedsAllocationError, InsufficientStockError
from domain.events import Event
from domain.inventory.events import (
    ReservationReleased,
    StockAdjusted,
    StockCounted,
    StockReceived,
    StockReserved,
    StockRestocked,
    StockShipped,
    TransferArrived,
    TransferDispatched,
    TransferExpected,
)
from domain.inventory.state import Position


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


def release(state: Position, order_id: str, line_id: str, reason: str, qty: int | None = None) -> list[Event]:
    """Give back what the order line holds here, or at most `qty` of it (an order change)."""
    held = state.reserved_for(order_id, line_id)
    qty = held if qty is None else min(qty, held)
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


def restock(state: Position, return_id: str, order_id: str, qty: int) -> list[Event]:
    """Returned goods go back on hand."""
    return [
        StockRestocked(sku=state.sku, warehouse_id=state.warehouse_id, return_id=return_id, order_id=order_id, qty=qty)
    ]


@dataclass(frozen=True)
class PositionCommand:
    sku: str
    warehouse_id: str


@dataclass(frozen=True)
class ReceiveStock(PositionCommand):
    receipt_id: str
    qty: int


@dataclass(frozen=True)
class AdjustStock(PositionCommand):
    adjustment_id: str
    qty_delta: int
    reason: str


@dataclass(frozen=True)
class CountStock(PositionCommand):
    count_id: str
    counted_qty: int


@dataclass(frozen=True)
class ReserveStock(PositionCommand):
    order_id: str
    line_id: str
    qty: int


@dataclass(frozen=True)
class ReleaseReservation(PositionCommand):
    """Release all the order line holds here, or at most `qty` of it."""

    order_id: str
    line_id: str
    reason: str
    qty: int | None = None


@dataclass(frozen=True)
class ShipStock(PositionCommand):
    shipment_id: str
    order_id: str
    line_id: str
    qty: int


@dataclass(frozen=True)
class DispatchTransfer(PositionCommand):
    transfer_id: str
    to_warehouse_id: str
    qty: int


@dataclass(frozen=True)
class ExpectTransfer(PositionCommand):
    transfer_id: str
    from_warehouse_id: str
    qty: int


@dataclass(frozen=True)
class ArriveTransfer(PositionCommand):
    transfer_id: str
    from_warehouse_id: str
    qty: int


@dataclass(frozen=True)
class RestockReturn(PositionCommand):
    return_id: str
    order_id: str
    qty: int


InventoryCommand = (
    ReceiveStock
    | AdjustStock
    | CountStock
    | ReserveStock
    | ReleaseReservation
    | ShipStock
    | DispatchTransfer
    | ExpectTransfer
    | ArriveTransfer
    | RestockReturn
)


def decide(command: InventoryCommand, state: Position) -> list[Event]:
    match command:
        case ReceiveStock(receipt_id=receipt_id, qty=qty):
            return receive(state, receipt_id, qty)
        case AdjustStock(adjustment_id=adjustment_id, qty_delta=delta, reason=reason):
            return adjust(state, adjustment_id, delta, reason)
        case CountStock(count_id=count_id, counted_qty=counted):
            return count(state, count_id, counted)
        case ReserveStock(order_id=order_id, line_id=line_id, qty=qty):
            return reserve(state, order_id, line_id, qty)
        case ReleaseReservation(order_id=order_id, line_id=line_id, reason=reason, qty=qty):
            return release(state, order_id, line_id, reason, qty)
        case ShipStock(shipment_id=shipment_id, order_id=order_id, line_id=line_id, qty=qty):
            return ship(state, shipment_id, order_id, line_id, qty)
        case DispatchTransfer(transfer_id=transfer_id, to_warehouse_id=to_wh, qty=qty):
            return dispatch_transfer(state, transfer_id, to_wh, qty)
        case ExpectTransfer(transfer_id=transfer_id, from_warehouse_id=from_wh, qty=qty):
            return expect_transfer(state, transfer_id, from_wh, qty)
        case ArriveTransfer(transfer_id=transfer_id, from_warehouse_id=from_wh, qty=qty):
            return arrive_transfer(state, transfer_id, from_wh, qty)
        case RestockReturn(return_id=return_id, order_id=order_id, qty=qty):
            return restock(state, return_id, order_id, qty)
    assert_never(command)
