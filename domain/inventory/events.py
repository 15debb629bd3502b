"""The events of a stock position (their names and fields are stored)."""

from __future__ import annotations

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
