"""Changing an order (API.md "Changing an order"): the order decides (domain/order/changes.py);
this saves the order, the stock positions and backorder books it touches and the customer's
account in one atomic write, retried on conflicts like placement."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, datetime
from decimal import Decimal

from domain import allocation, backorders, customer, inventory, order
from infra.commands.backorders import serve_the_queue_first
from infra.commands.lookups import position_of, record_position, require_order
from infra.commands.orders import availability, offers_for, reserve_plan
from infra.ledger.kinds import ACCOUNT, BOOK, CUSTOMER, ORDER
from infra.ledger.unitofwork import UnitOfWork

REASON = "order_changed"


@dataclass(frozen=True)
class AddLineInput:
    line_id: str | None  # None: numbered on from the order's lines
    sku: str
    qty: int
    unit_price: Decimal | None
    requested_date: date | None = None
    customer_line_ref: str | None = None
    uom: str | None = None  # qty and unit_price in this unit (None: the product's base uom)


@dataclass(frozen=True)
class ChangeOrderInput:
    order_id: str
    change_id: str
    reason: str
    lines: tuple[tuple[str, int], ...]  # (line_id, new qty)
    add_lines: tuple[AddLineInput, ...]
    changed_at: datetime


def _draft(uow: UnitOfWork, state: order.Order, cmd: ChangeOrderInput) -> order.ChangeOrder:
    """The change with the facts of other streams: added lines' ids and prices, the credit position."""
    buyer = uow.get(CUSTOMER, state.customer_id)
    assert buyer is not None  # an order's customer exists
    ids = order.assign_line_ids(state, [a.line_id for a in cmd.add_lines])
    added = tuple(
        order.AddLine(lid, a.sku, a.qty, a.unit_price, a.requested_date, a.customer_line_ref, a.uom)
        for lid, a in zip(ids, cmd.add_lines, strict=True)
    )
    account = uow.get(ACCOUNT, state.customer_id)
    return order.ChangeOrder(
        order_id=cmd.order_id,
        change_id=cmd.change_id,
        reason=cmd.reason,
        lines=cmd.lines,
        add_lines=added,
        changed_at=cmd.changed_at,
        prices=offers_for(uow, buyer, [a.sku for a in added]),
        exposure=account.exposure if account else Decimal("0.00"),
        credit_limit=buyer.credit_limit,
    )


def change_order(uow: UnitOfWork, cmd: ChangeOrderInput) -> order.Order:
    state = require_order(uow, cmd.order_id)
    draft = _draft(uow, state, cmd)
    skus = list(dict.fromkeys(sku for _, sku, _ in order.wanted_for_change(state, draft)))
    if skus:  # older backorders take freed stock before this change can (API.md corrections)
        serve_the_queue_first(uow, skus)
        state = require_order(uow, cmd.order_id)  # the fills may have allocated this order's own lines
    wanted = order.wanted_for_change(state, draft)
    plan = allocation.plan_lines(wanted, availability(uow, skus, state.warehouse_id), state.warehouse_id)
    events = order.change(state, replace(draft, plan=plan))
    new_state = uow.record(ORDER, cmd.order_id, events)
    assert new_state is not None
    effects = order.effects_of_change(new_state, events)
    for r in effects.released:  # reductions: reservations back to the positions, warehouse_id descending
        pos = position_of(uow, r.sku, r.warehouse_id)
        record_position(uow, r.sku, r.warehouse_id, inventory.release(pos, cmd.order_id, r.line_id, REASON, qty=r.qty))
    for w in effects.withdrawn:
        book = uow.get(BOOK, w.sku)
        uow.record(BOOK, w.sku, backorders.withdraw(book, cmd.order_id, w.line_id, REASON, qty=w.qty))
    reserve_plan(uow, new_state, events)
    for q in effects.queued:  # the rest of an increase waits behind every older backorder
        book = uow.get(BOOK, q.sku)
        uow.record(BOOK, q.sku, backorders.queue(book, cmd.order_id, q.line_id, q.warehouse_id, q.qty, q.accepted_at))
    account = uow.get(ACCOUNT, new_state.customer_id) or customer.Account(new_state.customer_id)
    if effects.value_change > 0:
        uow.record(ACCOUNT, new_state.customer_id, customer.commit_credit(account, cmd.order_id, effects.value_change))
    elif effects.value_change < 0:
        released = customer.release_credit(account, cmd.order_id, -effects.value_change, REASON)
        uow.record(ACCOUNT, new_state.customer_id, released)
    serve_the_queue_first(uow, [sku for sku, _ in effects.freed])
    return new_state
