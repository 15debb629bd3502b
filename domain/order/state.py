"""The order as its events leave it: lines with their allocations, shipments, status; `evolve_order`."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal

from domain.events import Event
from domain.frozen import replace
from domain.order.events import (
    BackorderPromised,
    OrderCancelled,
    OrderChanged,
    OrderCreditHeld,
    OrderCreditReleased,
    OrderDeliveryRecorded,
    OrderLinesAllocated,
    OrderLinesInvoiced,
    OrderPlaced,
    OrderReturnRecorded,
    OrderShipmentRecorded,
    PlacedLine,
)
from domain.order.fields import ShipTo
from domain.pricing import PriceSource
from domain.values import line_amount, sum_money


@dataclass(frozen=True)
class Line:
    line_id: str
    sku: str
    qty: int
    unit_price: Decimal
    allocations: dict[str, int] = field(default_factory=dict)
    shipped: int = 0
    delivered: int = 0
    invoiced: int = 0
    returned: int = 0
    cancelled: int = 0
    requested_date: date | None = None  # the line's own, else the order's
    customer_line_ref: str | None = None
    promised_date: date | None = None  # as BackorderPromised last recorded it
    last_promised_date: date | None = None  # the promise a shipment is judged against (see promises.py)
    shipped_late: bool = False  # some shipment of it went after last_promised_date
    base_uom: str | None = None  # None: accepted before units of measure were recorded
    unit: str | None = None  # the unit the buyer ordered in (None: as base_uom)
    factor: int = 1  # base units in one `unit`
    price_source: PriceSource | None = None  # contract | price_list | product (None: accepted before it was recorded)

    @property
    def amount(self) -> Decimal:
        return line_amount(self.qty, self.unit_price)

    @property
    def ordered_uom(self) -> str | None:
        """The buyer's unit while qty is a whole number of it; else (a change cut 2 CS to 30) the base uom."""
        return self.unit if self.qty % self.factor == 0 else self.base_uom

    @property
    def ordered_qty(self) -> int:
        return self.qty // self.factor if self.qty % self.factor == 0 else self.qty

    @property
    def allocated(self) -> int:
        return sum(self.allocations.values())

    @property
    def backordered(self) -> int:
        return self.qty - self.allocated - self.shipped - self.cancelled

    @property
    def open_qty(self) -> int:
        """Quantity not yet shipped or cancelled."""
        return self.qty - self.shipped - self.cancelled


@dataclass(frozen=True)
class Order:
    order_id: str
    customer_id: str
    channel: str
    warehouse_id: str | None
    allow_backorder: bool
    accepted_at: datetime
    lines: tuple[Line, ...]
    on_hold: bool = False
    cancelled: bool = False
    shipments: dict[str, bool] = field(default_factory=dict)  # shipment id -> delivered
    shipped_lines: dict[str, dict[str, int]] = field(default_factory=dict)  # shipment -> line -> qty
    returned_lines: dict[str, dict[str, int]] = field(default_factory=dict)  # shipment -> line -> qty
    customer_po: str | None = None
    requested_date: date | None = None
    ship_to: ShipTo | None = None
    change_ids: tuple[str, ...] = ()  # accepted changes, oldest first

    @property
    def total(self) -> Decimal:
        return sum_money(line.amount for line in self.lines)

    @property
    def lines_shipped(self) -> int:
        """Lines that shipped anything: what promise accuracy counts."""
        return sum(1 for line in self.lines if line.shipped > 0)

    @property
    def lines_shipped_late(self) -> int:
        """Shipped lines some shipment of which went after the promise the line had."""
        return sum(1 for line in self.lines if line.shipped > 0 and line.shipped_late)

    def line(self, line_id: str) -> Line:
        return next(line for line in self.lines if line.line_id == line_id)

    def line_for_sku(self, sku: str) -> Line | None:
        return next((line for line in self.lines if line.sku == sku), None)

    @property
    def status(self) -> str:
        shipped = sum(line.shipped for line in self.lines)
        if shipped == 0:
            if self.cancelled:
                return "cancelled"
            if self.on_hold:
                return "credit_hold"
            if any(line.backordered > 0 for line in self.lines):
                return "backordered"
            return "allocated"
        if any(line.open_qty > 0 for line in self.lines):
            return "partially_shipped"
        if self.shipments and all(self.shipments.values()):
            return "delivered"
        return "shipped"


def initial_state(order_id: str) -> Order | None:
    """No order exists before its OrderPlaced."""
    return None


def _with_lines(state: Order, lines: Mapping[str, Line]) -> Order:
    return replace(state, lines=tuple(lines.get(line.line_id, line) for line in state.lines))


def _shift_allocation(line: Line, warehouse_id: str, delta: int) -> dict[str, int]:
    allocations = dict(line.allocations)
    left = allocations.get(warehouse_id, 0) + delta
    if left:
        allocations[warehouse_id] = left
    else:
        allocations.pop(warehouse_id, None)
    return allocations


def _new_line(pl: PlacedLine) -> Line:
    return Line(
        pl.line_id,
        pl.sku,
        pl.qty,
        pl.unit_price,
        requested_date=pl.requested_date,
        customer_line_ref=pl.customer_line_ref,
        base_uom=pl.base_uom,
        unit=pl.ordered_uom or pl.base_uom,
        factor=pl.qty // pl.ordered_qty if pl.ordered_qty else 1,
        price_source=pl.price_source,
    )


def _changed(state: Order, event: OrderChanged) -> Order:
    """New quantities, reservations given back, lines added; all lines at 0 with nothing shipped is
    a cancelled order (its value went with the change, so no OrderCancelled follows)."""
    changed: dict[str, Line] = {}
    for cl in event.lines:
        line = state.line(cl.line_id)
        for r in cl.released:
            line = replace(line, allocations=_shift_allocation(line, r.warehouse_id, -r.qty))
        changed[cl.line_id] = replace(line, qty=cl.qty)
    lines = (*_with_lines(state, changed).lines, *(_new_line(pl) for pl in event.added))
    emptied = all(line.qty == 0 for line in lines) and not any(line.shipped for line in lines)
    return replace(
        state,
        lines=lines,
        cancelled=state.cancelled or emptied,
        change_ids=(*state.change_ids, event.change_id),
    )


def evolve_order(state: Order | None, event: Event) -> Order | None:
    if isinstance(event, OrderPlaced):
        return Order(
            event.order_id,
            event.customer_id,
            event.channel,
            event.warehouse_id,
            event.allow_backorder,
            event.accepted_at,
            tuple(_new_line(pl) for pl in event.lines),
            customer_po=event.customer_po,
            requested_date=event.requested_date,
            ship_to=event.ship_to,
        )
    if state is None:
        return None
    match event:
        case OrderChanged():
            return _changed(state, event)
        case OrderCreditHeld():
            return replace(state, on_hold=True)
        case OrderCreditReleased():
            return replace(state, on_hold=False)
        case OrderLinesAllocated(allocations=allocations):
            changed: dict[str, Line] = {}
            for a in allocations:
                line = changed.get(a.line_id) or state.line(a.line_id)
                changed[a.line_id] = replace(line, allocations=_shift_allocation(line, a.warehouse_id, a.qty))
            return _with_lines(state, changed)
        case OrderCancelled(lines=cancelled_lines):
            changed = {}
            for cl in cancelled_lines:
                line = state.line(cl.line_id)
                for r in cl.released:
                    line = replace(line, allocations=_shift_allocation(line, r.warehouse_id, -r.qty))
                changed[cl.line_id] = replace(line, cancelled=line.cancelled + cl.qty)
            return replace(_with_lines(state, changed), cancelled=True)
        case OrderShipmentRecorded(shipment_id=sid, warehouse_id=wh, lines=shipped_lines):
            changed = {}
            for sl in shipped_lines:
                line = state.line(sl.line_id)
                changed[sl.line_id] = replace(
                    line,
                    allocations=_shift_allocation(line, wh, -sl.qty),
                    shipped=line.shipped + sl.qty,
                    shipped_late=line.shipped_late or sl.line_id in event.late_line_ids,
                )
            updated = _with_lines(state, changed)
            per_line = {sl.line_id: sl.qty for sl in shipped_lines}
            return replace(
                updated,
                shipments={**state.shipments, sid: False},
                shipped_lines={**state.shipped_lines, sid: per_line},
            )
        case OrderDeliveryRecorded(shipment_id=sid):
            changed = {
                line_id: replace(state.line(line_id), delivered=state.line(line_id).delivered + qty)
                for line_id, qty in state.shipped_lines.get(sid, {}).items()
            }
            return replace(_with_lines(state, changed), shipments={**state.shipments, sid: True})
        case OrderLinesInvoiced(lines=invoiced):
            changed = {}
            for li in invoiced:
                line = changed.get(li.line_id) or state.line(li.line_id)
                changed[li.line_id] = replace(line, invoiced=line.invoiced + li.qty)
            return _with_lines(state, changed)
        case BackorderPromised(line_id=line_id, promised_date=promised):
            line = state.line(line_id)
            # A promise withdrawn while the line still waits is no promise; one that lapses because
            # the line stopped waiting (filled) is the promise its shipment is judged against.
            last = promised if promised is not None or line.backordered > 0 else line.last_promised_date
            return _with_lines(state, {line_id: replace(line, promised_date=promised, last_promised_date=last)})
        case OrderReturnRecorded(lines=returned):
            changed = {}
            returned_lines = {sid: dict(per) for sid, per in state.returned_lines.items()}
            for rl in returned:
                line = changed.get(rl.line_id) or state.line(rl.line_id)
                changed[rl.line_id] = replace(line, returned=line.returned + rl.qty)
                per = returned_lines.setdefault(rl.shipment_id, {})
                per[rl.line_id] = per.get(rl.line_id, 0) + rl.qty
            return replace(_with_lines(state, changed), returned_lines=returned_lines)
    return state
