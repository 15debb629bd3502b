"""Order: lines, prices, allocations, backorders, shipments, cancellation, status."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from decimal import Decimal

import msgspec

from domain.errors import (
    ExceedsAllocationError,
    ExceedsShippedError,
    InsufficientStockError,
    OrderNotHeldError,
    OrderShippedError,
)
from domain.events import Event, register
from domain.values import line_amount, sum_money


class PlacedLine(msgspec.Struct, frozen=True, kw_only=True):
    line_id: str
    sku: str
    qty: int
    unit_price: Decimal
    amount: Decimal


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


class OrderPlaced(Event, frozen=True, kw_only=True):
    order_id: str
    customer_id: str
    channel: str
    warehouse_id: str | None
    allow_backorder: bool
    lines: list[PlacedLine]
    total: Decimal
    accepted_at: datetime


class OrderCreditHeld(Event, frozen=True, kw_only=True):
    order_id: str
    customer_id: str
    order_value: Decimal
    exposure: Decimal
    credit_limit: Decimal


class OrderCreditReleased(Event, frozen=True, kw_only=True):
    order_id: str
    customer_id: str


class OrderLinesAllocated(Event, frozen=True, kw_only=True):
    order_id: str
    allocations: list[LineAllocation]
    reason: str  # placement | hold_release | backorder_fill


class OrderCancelled(Event, frozen=True, kw_only=True):
    order_id: str
    customer_id: str
    reason: str
    lines: list[CancelledLine]
    amount: Decimal


class OrderShipmentRecorded(Event, frozen=True, kw_only=True):
    order_id: str
    shipment_id: str
    warehouse_id: str
    lines: list[LineQty]


class OrderDeliveryRecorded(Event, frozen=True, kw_only=True):
    order_id: str
    shipment_id: str
    delivered_at: datetime


class ReturnedLine(msgspec.Struct, frozen=True, kw_only=True):
    shipment_id: str
    line_id: str
    sku: str
    qty: int


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


register(
    OrderReturnRecorded,
    OrderLinesInvoiced,
    OrderPlaced,
    OrderCreditHeld,
    OrderCreditReleased,
    OrderLinesAllocated,
    OrderCancelled,
    OrderShipmentRecorded,
    OrderDeliveryRecorded,
)


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

    @property
    def amount(self) -> Decimal:
        return line_amount(self.qty, self.unit_price)

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

    @property
    def total(self) -> Decimal:
        return sum_money(line.amount for line in self.lines)

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


def evolve_order(state: Order | None, event: Event) -> Order | None:
    if isinstance(event, OrderPlaced):
        lines = tuple(Line(pl.line_id, pl.sku, pl.qty, pl.unit_price) for pl in event.lines)
        return Order(
            event.order_id,
            event.customer_id,
            event.channel,
            event.warehouse_id,
            event.allow_backorder,
            event.accepted_at,
            lines,
        )
    if state is None:
        return None
    match event:
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


@dataclass(frozen=True)
class OrderLineRequest:
    line_id: str
    sku: str
    qty: int
    unit_price: Decimal


@dataclass(frozen=True)
class PlaceOrder:
    order_id: str
    customer_id: str
    channel: str
    warehouse_id: str | None
    allow_backorder: bool
    lines: tuple[OrderLineRequest, ...]
    accepted_at: datetime

    @property
    def total(self) -> Decimal:
        return sum_money(line_amount(ln.qty, ln.unit_price) for ln in self.lines)


def _allocation_events(
    order_id: str,
    lines: tuple[OrderLineRequest, ...] | tuple[Line, ...],
    plan: Mapping[str, list[tuple[str, int]]],
    reason: str,
) -> list[Event]:
    allocations = [
        LineAllocation(line_id=ln.line_id, sku=ln.sku, warehouse_id=wh, qty=qty)
        for ln in lines
        for wh, qty in plan.get(ln.line_id, [])
    ]
    if not allocations:
        return []
    return [OrderLinesAllocated(order_id=order_id, allocations=allocations, reason=reason)]


def _check_all_or_nothing(
    wanted: list[tuple[str, int]], plan: Mapping[str, list[tuple[str, int]]], skus: Mapping[str, str]
) -> None:
    short = [
        {"sku": skus[line_id], "requested": qty, "available": sum(q for _, q in plan.get(line_id, []))}
        for line_id, qty in wanted
        if sum(q for _, q in plan.get(line_id, [])) < qty
    ]
    if short:
        detail = "; ".join(f"{s['sku']}: requested {s['requested']}, available {s['available']}" for s in short)
        raise InsufficientStockError(f"Not enough stock and backorders are not allowed ({detail})", lines=short)


def place(
    cmd: PlaceOrder,
    *,
    over_credit: bool,
    exposure: Decimal,
    credit_limit: Decimal,
    plan: Mapping[str, list[tuple[str, int]]],
) -> list[Event]:
    """Accept an order. Over the credit limit it is held and reserves nothing."""
    placed: list[Event] = [
        OrderPlaced(
            order_id=cmd.order_id,
            customer_id=cmd.customer_id,
            channel=cmd.channel,
            warehouse_id=cmd.warehouse_id,
            allow_backorder=cmd.allow_backorder,
            lines=[
                PlacedLine(
                    line_id=ln.line_id,
                    sku=ln.sku,
                    qty=ln.qty,
                    unit_price=ln.unit_price,
                    amount=line_amount(ln.qty, ln.unit_price),
                )
                for ln in cmd.lines
            ],
            total=cmd.total,
            accepted_at=cmd.accepted_at,
        )
    ]
    if over_credit:
        held = OrderCreditHeld(
            order_id=cmd.order_id,
            customer_id=cmd.customer_id,
            order_value=cmd.total,
            exposure=exposure,
            credit_limit=credit_limit,
        )
        return [*placed, held]
    if not cmd.allow_backorder:
        _check_all_or_nothing(
            [(ln.line_id, ln.qty) for ln in cmd.lines], plan, {ln.line_id: ln.sku for ln in cmd.lines}
        )
    return placed + _allocation_events(cmd.order_id, cmd.lines, plan, "placement")


def release_hold(state: Order, plan: Mapping[str, list[tuple[str, int]]]) -> list[Event]:
    if not state.on_hold or state.cancelled:
        raise OrderNotHeldError(f"Order {state.order_id} is not on credit hold", order_id=state.order_id)
    if not state.allow_backorder:
        _check_all_or_nothing(
            [(ln.line_id, ln.backordered) for ln in state.lines],
            plan,
            {ln.line_id: ln.sku for ln in state.lines},
        )
    released = OrderCreditReleased(order_id=state.order_id, customer_id=state.customer_id)
    return [released, *_allocation_events(state.order_id, state.lines, plan, "hold_release")]


def wanted_for_allocation(state: Order) -> list[tuple[str, str, int]]:
    """(line_id, sku, qty) still to be reserved."""
    return [(ln.line_id, ln.sku, ln.backordered) for ln in state.lines if ln.backordered > 0]


def fill_backorder(state: Order, line_id: str, warehouse_id: str, qty: int) -> list[Event]:
    line = state.line(line_id)
    take = min(qty, line.backordered)
    if take <= 0 or state.on_hold or state.cancelled:
        return []
    alloc = LineAllocation(line_id=line_id, sku=line.sku, warehouse_id=warehouse_id, qty=take)
    return [OrderLinesAllocated(order_id=state.order_id, allocations=[alloc], reason="backorder_fill")]


def cancel(state: Order, reason: str) -> list[Event]:
    """Cancel all unshipped qty; reservations are released by the positions in the same write."""
    open_lines = [ln for ln in state.lines if ln.open_qty > 0]
    if not open_lines:
        if any(ln.shipped for ln in state.lines) and not state.cancelled:
            raise OrderShippedError(f"Order {state.order_id} has shipped in full", order_id=state.order_id)
        return []  # already cancelled (possibly after a partial shipment): nothing more to record
    cancelled = [
        CancelledLine(
            line_id=ln.line_id,
            sku=ln.sku,
            qty=ln.open_qty,
            released=[
                LineAllocation(line_id=ln.line_id, sku=ln.sku, warehouse_id=wh, qty=q)
                for wh, q in sorted(ln.allocations.items())
            ],
        )
        for ln in open_lines
    ]
    amount = sum_money(line_amount(ln.open_qty, ln.unit_price) for ln in open_lines)
    return [
        OrderCancelled(
            order_id=state.order_id,
            customer_id=state.customer_id,
            reason=reason,
            lines=cancelled,
            amount=amount,
        )
    ]


def record_shipment(state: Order, shipment_id: str, warehouse_id: str, lines: list[tuple[str, int]]) -> list[Event]:
    """Ship (sku, qty) pairs from this order's allocation at the warehouse."""
    shipped: list[LineQty] = []
    for sku, qty in lines:
        line = state.line_for_sku(sku)
        held = line.allocations.get(warehouse_id, 0) if line else 0
        if line is None or qty > held:
            raise ExceedsAllocationError(
                f"{qty} x {sku} exceeds the {held} allocated to order {state.order_id} at {warehouse_id}",
                sku=sku,
                warehouse_id=warehouse_id,
                requested=qty,
                allocated=held,
            )
        shipped.append(LineQty(line_id=line.line_id, sku=sku, qty=qty))
    return [
        OrderShipmentRecorded(
            order_id=state.order_id, shipment_id=shipment_id, warehouse_id=warehouse_id, lines=shipped
        )
    ]


def record_delivery(state: Order, shipment_id: str, delivered_at: datetime) -> list[Event]:
    if state.shipments.get(shipment_id):
        return []
    return [OrderDeliveryRecorded(order_id=state.order_id, shipment_id=shipment_id, delivered_at=delivered_at)]


def invoice_lines(state: Order, invoice_id: str, shipment_id: str) -> list[Event]:
    """Mark a shipment's quantities as invoiced on the order lines."""
    shipped = state.shipped_lines.get(shipment_id, {})
    lines = [LineQty(line_id=lid, sku=state.line(lid).sku, qty=qty) for lid, qty in sorted(shipped.items())]
    return [OrderLinesInvoiced(order_id=state.order_id, invoice_id=invoice_id, lines=lines)] if lines else []


def plan_return(state: Order, lines: list[tuple[str, int]]) -> list[ReturnedLine]:
    """Match returned (sku, qty) to shipments, oldest first; at most what shipped and is not yet back.

    Lines naming the same SKU twice draw on the same shipped quantity, never on it twice."""
    planned: list[ReturnedLine] = []
    taken: dict[tuple[str, str], int] = {}  # (shipment, line) -> taken by earlier lines of this return
    for sku, qty in lines:
        line = state.line_for_sku(sku)
        already = sum(n for (_, lid), n in taken.items() if line and lid == line.line_id)
        returnable = (line.shipped - line.returned - already) if line else 0
        if line is None or qty > returnable:
            raise ExceedsShippedError(
                f"{qty} x {sku} exceeds the {returnable} shipped and not yet returned on order {state.order_id}",
                sku=sku,
                requested=qty,
                returnable=returnable,
            )
        wanted = qty
        for sid, per_line in state.shipped_lines.items():  # insertion order = shipping order
            back = state.returned_lines.get(sid, {}).get(line.line_id, 0) + taken.get((sid, line.line_id), 0)
            take = min(wanted, per_line.get(line.line_id, 0) - back)
            if take > 0:
                planned.append(ReturnedLine(shipment_id=sid, line_id=line.line_id, sku=sku, qty=take))
                taken[(sid, line.line_id)] = taken.get((sid, line.line_id), 0) + take
                wanted -= take
            if wanted == 0:
                break
    return planned


def record_return(
    state: Order, return_id: str, warehouse_id: str, restock: bool, lines: list[ReturnedLine]
) -> list[Event]:
    return [
        OrderReturnRecorded(
            order_id=state.order_id, return_id=return_id, warehouse_id=warehouse_id, restock=restock, lines=lines
        )
    ]
