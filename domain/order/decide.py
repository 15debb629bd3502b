"""Order decisions: guard clauses first, then the events they record. `decide` takes any order
command; the functions it dispatches to are also called directly by the application layer."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from decimal import Decimal
from typing import assert_never

from domain.customer import exceeds_credit
from domain.errors import (
    DuplicateIdError,
    ExceedsAllocationError,
    ExceedsShippedError,
    NotFoundError,
    OrderNotHeldError,
    OrderShippedError,
    UnknownOrderError,
)
from domain.events import Event
from domain.order.changes import change, ensure_valid_change
from domain.order.commands import (
    CancelOrder,
    ChangeOrder,
    FillBackorder,
    MarkShipmentInvoiced,
    OrderCommand,
    PlaceOrder,
    Plan,
    PromiseBackorders,
    RecordDelivery,
    RecordReturn,
    RecordShipment,
    ReleaseHold,
)
from domain.order.events import (
    CancelledLine,
    LineAllocation,
    LineQty,
    OrderCancelled,
    OrderCreditHeld,
    OrderCreditReleased,
    OrderDeliveryRecorded,
    OrderLinesAllocated,
    OrderLinesInvoiced,
    OrderPlaced,
    OrderReturnRecorded,
    OrderShipmentRecorded,
    ReturnedLine,
)
from domain.order.fields import FieldError, customer_po_errors, ensure_valid, line_ref_errors, ship_to_errors
from domain.order.lines import allocation_events, check_all_or_nothing, ensure_one_line_per_sku, placed_line
from domain.order.promises import late_lines, promise_events
from domain.order.state import Order
from domain.values import ZERO, line_amount, sum_money


def header_errors(cmd: PlaceOrder) -> list[FieldError]:
    """What is wrong with the buyer's references on an order (API.md "Order header and line fields")."""
    errors = customer_po_errors(cmd.customer_po) + ship_to_errors(cmd.ship_to)
    for i, ln in enumerate(cmd.lines):
        errors += line_ref_errors(ln.customer_line_ref, f"lines[{i}].customer_line_ref")
    return errors


def place(
    cmd: PlaceOrder,
    *,
    over_credit: bool,
    exposure: Decimal,
    credit_limit: Decimal,
    plan: Plan,
    overdue_days: int | None = None,
) -> list[Event]:
    """Accept an order. Over the credit limit, or with `overdue_days` (the customer has an invoice
    past due beyond the hold threshold), it is held and reserves nothing."""
    ensure_valid(header_errors(cmd))
    placed: list[Event] = [
        OrderPlaced(
            order_id=cmd.order_id,
            customer_id=cmd.customer_id,
            channel=cmd.channel,
            warehouse_id=cmd.warehouse_id,
            allow_backorder=cmd.allow_backorder,
            lines=[placed_line(ln, cmd.requested_date) for ln in cmd.lines],
            total=cmd.total,
            accepted_at=cmd.accepted_at,
            customer_po=cmd.customer_po,
            requested_date=cmd.requested_date,
            ship_to=cmd.ship_to,
        )
    ]
    if over_credit or overdue_days is not None:
        held = OrderCreditHeld(
            order_id=cmd.order_id,
            customer_id=cmd.customer_id,
            order_value=cmd.total,
            exposure=exposure,
            credit_limit=credit_limit,
            reason="overdue" if overdue_days is not None else "credit_limit",
            days_past_due=overdue_days,
        )
        return [*placed, held]
    if not cmd.allow_backorder:
        check_all_or_nothing([(ln.line_id, ln.qty) for ln in cmd.lines], plan, {ln.line_id: ln.sku for ln in cmd.lines})
    return placed + allocation_events(cmd.order_id, cmd.lines, plan, "placement")


def release_hold(state: Order, plan: Plan) -> list[Event]:
    if not state.on_hold or state.cancelled:
        raise OrderNotHeldError(f"Order {state.order_id} is not on credit hold", order_id=state.order_id)
    if not state.allow_backorder:
        check_all_or_nothing(
            [(ln.line_id, ln.backordered) for ln in state.lines],
            plan,
            {ln.line_id: ln.sku for ln in state.lines},
        )
    released = OrderCreditReleased(order_id=state.order_id, customer_id=state.customer_id)
    return [released, *allocation_events(state.order_id, state.lines, plan, "hold_release")]


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


def record_shipment(
    state: Order,
    shipment_id: str,
    warehouse_id: str,
    lines: Sequence[tuple[str, int]],
    shipped_on: date | None = None,
) -> list[Event]:
    """Ship (sku, qty) pairs from this order's allocation at the warehouse; on `shipped_on` (when
    given) a line shipping after the promise it had is recorded as late (domain.order.promises)."""
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
            order_id=state.order_id,
            shipment_id=shipment_id,
            warehouse_id=warehouse_id,
            lines=shipped,
            shipped_on=shipped_on,
            late_line_ids=late_lines(state, (sl.line_id for sl in shipped), shipped_on),
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


def plan_return(state: Order, lines: Sequence[tuple[str, int]]) -> list[ReturnedLine]:
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


def _existing(state: Order | None, order_id: str) -> Order:
    """The order a command names by path (404 when it does not exist)."""
    if state is None:
        raise NotFoundError(f"Order {order_id} does not exist", order_id=order_id)
    return state


def _referenced(state: Order | None, order_id: str) -> Order:
    """The order a command names in its body (422 unknown_order when it does not exist)."""
    if state is None:
        raise UnknownOrderError(f"Order {order_id} does not exist", order_id=order_id)
    return state


def _place(cmd: PlaceOrder, state: Order | None) -> list[Event]:
    ensure_one_line_per_sku(ln.sku for ln in cmd.lines)
    if state is not None:
        raise DuplicateIdError(f"Order {cmd.order_id} already exists", order_id=cmd.order_id)
    limit = cmd.credit_limit
    over = limit is not None and exceeds_credit(cmd.total, cmd.exposure, limit)
    return place(cmd, over_credit=over, exposure=cmd.exposure, credit_limit=limit or ZERO, plan=cmd.plan)


def decide(command: OrderCommand, state: Order | None) -> list[Event]:
    """The events an order command records against the order's own stream (none: nothing changes)."""
    match command:
        case PlaceOrder():
            return _place(command, state)
        case ReleaseHold(order_id=order_id, plan=plan):
            return release_hold(_existing(state, order_id), plan)
        case FillBackorder(line_id=line_id, warehouse_id=warehouse_id, qty=qty):
            return fill_backorder(state, line_id, warehouse_id, qty) if state is not None else []
        case CancelOrder(order_id=order_id, reason=reason):
            return cancel(_existing(state, order_id), reason)
        case RecordShipment(order_id=order_id, shipment_id=shipment_id, warehouse_id=warehouse_id, lines=lines):
            return record_shipment(_referenced(state, order_id), shipment_id, warehouse_id, lines, command.shipped_on)
        case RecordDelivery(order_id=order_id, shipment_id=shipment_id, delivered_at=delivered_at):
            return record_delivery(_existing(state, order_id), shipment_id, delivered_at)
        case MarkShipmentInvoiced(order_id=order_id, invoice_id=invoice_id, shipment_id=shipment_id):
            return invoice_lines(_existing(state, order_id), invoice_id, shipment_id)
        case ChangeOrder(order_id=order_id):
            ensure_valid_change(command)
            return change(_existing(state, order_id), command)
        case RecordReturn(order_id=order_id, return_id=return_id, warehouse_id=warehouse_id):
            the_order = _referenced(state, order_id)
            planned = plan_return(the_order, command.lines)
            return record_return(the_order, return_id, warehouse_id, command.restock, planned)
        case PromiseBackorders(dates=dates):
            return promise_events(state, dates) if state is not None else []  # no order: nothing to promise
    assert_never(command)
