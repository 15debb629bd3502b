"""The order stream's events and the line records they carry (their names and fields are stored)."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

import msgspec

from domain.events import Event, register
from domain.order.fields import ShipTo
from domain.pricing import PriceSource


class PlacedLine(msgspec.Struct, frozen=True, kw_only=True):
    """A line as accepted. `requested_date` is the line's own or, without one, the order's. `qty`
    is in base units (`base_uom`) and `unit_price` per base unit, as the price rule gave it
    (`price_source`: contract, price_list or product); `ordered_uom` and `ordered_qty` are what the
    buyer sent (qty = ordered_qty x the unit's factor). Lines recorded before these fields existed
    decode with None."""

    line_id: str
    sku: str
    qty: int
    unit_price: Decimal
    amount: Decimal
    requested_date: date | None = None
    customer_line_ref: str | None = None
    base_uom: str | None = None
    ordered_uom: str | None = None
    ordered_qty: int | None = None
    price_source: PriceSource | None = None


class LineAllocation(msgspec.Struct, frozen=True, kw_only=True):
    line_id: str
    sku: str
    warehouse_id: str
    qty: int


class LineQty(msgspec.Struct, frozen=True, kw_only=True):
    line_id: str
    sku: str
    qty: int


class CancelledLine(msgspec.Struct, frozen=True, kw_only=True):
    line_id: str
    sku: str
    qty: int
    released: list[LineAllocation]


class ChangedLine(msgspec.Struct, frozen=True, kw_only=True):
    """An existing line whose ordered qty a change moved from `previous_qty` to `qty` (at its own
    unit price). A reduction first drops `backorder_dropped` of the unreserved qty, then gives back
    `released` (warehouse_id descending); an increase is allocated by the OrderLinesAllocated
    (reason `order_change`) that follows, and what that leaves is backordered."""

    line_id: str
    sku: str
    previous_qty: int
    qty: int
    unit_price: Decimal
    amount: Decimal  # the line's amount at its new qty
    backorder_dropped: int
    released: list[LineAllocation]


class ReturnedLine(msgspec.Struct, frozen=True, kw_only=True):
    shipment_id: str
    line_id: str
    sku: str
    qty: int


class OrderPlaced(Event, frozen=True, kw_only=True):
    order_id: str
    customer_id: str
    channel: str
    warehouse_id: str | None
    allow_backorder: bool
    lines: list[PlacedLine]
    total: Decimal
    accepted_at: datetime
    customer_po: str | None = None
    requested_date: date | None = None
    ship_to: ShipTo | None = None


class OrderChanged(Event, frozen=True, kw_only=True):
    """One accepted change: the lines whose qty moved, the lines added (priced at the time of the
    change), and the order's value after it. `value_change` is signed (new total - old total)."""

    order_id: str
    customer_id: str
    change_id: str
    reason: str
    lines: list[ChangedLine]
    added: list[PlacedLine]
    value_change: Decimal
    total: Decimal
    changed_at: datetime


class OrderCreditHeld(Event, frozen=True, kw_only=True):
    order_id: str
    customer_id: str
    order_value: Decimal
    exposure: Decimal
    credit_limit: Decimal
    reason: str = "credit_limit"  # credit_limit | overdue (an invoice past due beyond O2C_OVERDUE_HOLD_DAYS)
    days_past_due: int | None = None  # with reason overdue: how far the oldest open invoice is past due


class OrderCreditReleased(Event, frozen=True, kw_only=True):
    order_id: str
    customer_id: str


class OrderLinesAllocated(Event, frozen=True, kw_only=True):
    order_id: str
    allocations: list[LineAllocation]
    reason: str  # placement | hold_release | backorder_fill | order_change


class OrderCancelled(Event, frozen=True, kw_only=True):
    order_id: str
    customer_id: str
    reason: str
    lines: list[CancelledLine]
    amount: Decimal


class OrderShipmentRecorded(Event, frozen=True, kw_only=True):
    """`late_line_ids`: the lines that shipped after the promised_date they had (see
    `Line.last_promised_date`), judged on `shipped_on`; shipments recorded before promises existed
    decode with neither."""

    order_id: str
    shipment_id: str
    warehouse_id: str
    lines: list[LineQty]
    shipped_on: date | None = None
    late_line_ids: list[str] = msgspec.field(default_factory=list)


class OrderDeliveryRecorded(Event, frozen=True, kw_only=True):
    order_id: str
    shipment_id: str
    delivered_at: datetime


class OrderReturnRecorded(Event, frozen=True, kw_only=True):
    order_id: str
    return_id: str
    warehouse_id: str
    restock: bool
    lines: list[ReturnedLine]


class OrderLinesInvoiced(Event, frozen=True, kw_only=True):
    order_id: str
    invoice_id: str
    lines: list[LineQty]


class BackorderPromised(Event, frozen=True, kw_only=True):
    """A line's promised date moved from `previous` to `promised_date`: the day known supply would
    complete its backordered qty (None: it would not, or nothing is backordered)."""

    order_id: str
    line_id: str
    sku: str
    promised_date: date | None
    previous: date | None


ORDER_EVENTS: tuple[type[Event], ...] = (
    OrderReturnRecorded,
    OrderLinesInvoiced,
    OrderPlaced,
    OrderCreditHeld,
    OrderCreditReleased,
    OrderLinesAllocated,
    OrderCancelled,
    OrderShipmentRecorded,
    OrderDeliveryRecorded,
    OrderChanged,
    BackorderPromised,
)
register(*ORDER_EVENTS)
