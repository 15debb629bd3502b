"""Orders: place (price, credit check, allocate, reserve, backorder), release a hold, cancel."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from domain import allocation, backorders, customer, inventory, order, pricing
from domain.errors import (
    DuplicateIdError,
)
from infra.commands.backorders import serve_the_queue_first
from infra.commands.lookups import (
    INDEX_KEY,
    check_skus,
    position_of,
    record_position,
    require_order,
    require_warehouse,
)
from infra.ledger.kinds import ACCOUNT, BOOK, CUSTOMER, ORDER, PRICE_LIST, PRODUCT, WAREHOUSE_INDEX
from infra.ledger.unitofwork import UnitOfWork


@dataclass(frozen=True)
class OrderLineInput:
    """A line as sent: `qty` and `unit_price` in `uom` (None: the product's base uom)."""

    line_id: str
    sku: str
    qty: int
    unit_price: Decimal | None
    requested_date: date | None = None
    customer_line_ref: str | None = None
    uom: str | None = None


@dataclass(frozen=True)
class PlaceOrderInput:
    order_id: str
    customer_id: str
    channel: str
    warehouse_id: str | None
    allow_backorder: bool
    lines: tuple[OrderLineInput, ...]
    accepted_at: datetime
    customer_po: str | None = None
    requested_date: date | None = None
    ship_to: order.ShipTo | None = None


def availability(uow: UnitOfWork, skus: Sequence[str], pin: str | None) -> dict[str, dict[str, int]]:
    warehouses = (pin,) if pin else uow.get(WAREHOUSE_INDEX, INDEX_KEY)
    return {sku: {wh: position_of(uow, sku, wh).available for wh in warehouses} for sku in skus}


def reserve_plan(uow: UnitOfWork, state: order.Order, events: list) -> None:  # type: ignore[type-arg]
    for event in events:
        if isinstance(event, order.OrderLinesAllocated):
            for a in event.allocations:
                pos = position_of(uow, a.sku, a.warehouse_id)
                record_position(uow, a.sku, a.warehouse_id, inventory.reserve(pos, state.order_id, a.line_id, a.qty))


def _queue_backorders(uow: UnitOfWork, state: order.Order) -> None:
    for line in state.lines:
        if line.backordered > 0:
            book = uow.get(BOOK, line.sku)
            queued = book.entries.get((state.order_id, line.line_id))
            missing = line.backordered - (queued.qty if queued else 0)
            uow.record(
                BOOK,
                line.sku,
                backorders.queue(book, state.order_id, line.line_id, state.warehouse_id, missing, state.accepted_at),
            )


def overdue_days(account: customer.Account | None, today: date, hold_days: int | None) -> int | None:
    """Days past due of the customer's oldest open invoice when it is beyond `hold_days` (the
    overdue hold), else None. Read from the account state the credit check loads anyway."""
    if hold_days is None or account is None:
        return None
    days = account.days_past_due(today)
    return days if days > hold_days else None


def offers_for(uow: UnitOfWork, buyer: customer.Customer, skus: Sequence[str]) -> dict[str, pricing.Offer]:
    """What prices these SKUs for the buyer: its products, contract prices and price list, all
    streams the state cache holds (one price list per order, never a query per line)."""
    sheet = uow.get(PRICE_LIST, buyer.price_list_id) if buyer.price_list_id is not None else None
    return pricing.offers(buyer, sheet, {sku: uow.get(PRODUCT, sku) for sku in skus})


def place_order(uow: UnitOfWork, cmd: PlaceOrderInput, overdue_hold_days: int | None = None) -> order.Order:
    # The buyer's references are part of the request: judged before whom and what it names.
    errors = order.customer_po_errors(cmd.customer_po) + order.ship_to_errors(cmd.ship_to)
    for i, ln in enumerate(cmd.lines):
        errors += order.line_ref_errors(ln.customer_line_ref, f"lines[{i}].customer_line_ref")
    order.ensure_valid(errors)
    buyer = customer.ensure_may_order(uow.get(CUSTOMER, cmd.customer_id), cmd.customer_id)
    check_skus(uow, [ln.sku for ln in cmd.lines])
    skus = [ln.sku for ln in cmd.lines]
    order.ensure_one_line_per_sku(skus)
    if cmd.warehouse_id is not None:
        require_warehouse(uow, cmd.warehouse_id)
    if uow.get(ORDER, cmd.order_id) is not None:
        raise DuplicateIdError(f"Order {cmd.order_id} already exists", order_id=cmd.order_id)

    priced = order.at_prices(cmd.lines, offers_for(uow, buyer, skus), buyer.customer_id, cmd.accepted_at.date())
    place = order.PlaceOrder(
        cmd.order_id,
        cmd.customer_id,
        cmd.channel,
        cmd.warehouse_id,
        cmd.allow_backorder,
        tuple(priced),
        cmd.accepted_at,
        customer_po=cmd.customer_po,
        requested_date=cmd.requested_date,
        ship_to=cmd.ship_to,
    )
    account = uow.get(ACCOUNT, cmd.customer_id)
    overdue = overdue_days(account, cmd.accepted_at.date(), overdue_hold_days)
    over = customer.is_over_limit(buyer, account, place.total) or overdue is not None
    if not over:
        serve_the_queue_first(uow, skus)
    plan = (
        {}
        if over
        else allocation.plan_lines(
            [(ln.line_id, ln.sku, ln.qty) for ln in priced],
            availability(uow, skus, cmd.warehouse_id),
            cmd.warehouse_id,
        )
    )
    events = order.place(
        place,
        over_credit=over,
        exposure=account.exposure if account else Decimal("0.00"),
        credit_limit=buyer.credit_limit,
        plan=plan,
        overdue_days=overdue,
    )
    state = uow.record(ORDER, cmd.order_id, events)
    assert state is not None
    reserve_plan(uow, state, events)
    uow.record(
        ACCOUNT,
        cmd.customer_id,
        customer.commit_credit(account or customer.Account(cmd.customer_id), cmd.order_id, place.total),
    )
    if not over:
        _queue_backorders(uow, state)
    return state


def release_hold(uow: UnitOfWork, order_id: str) -> order.Order:
    state = require_order(uow, order_id)
    wanted = order.wanted_for_allocation(state)
    serve_the_queue_first(uow, [sku for _, sku, _ in wanted])
    plan = allocation.plan_lines(
        wanted, availability(uow, [sku for _, sku, _ in wanted], state.warehouse_id), state.warehouse_id
    )
    events = order.release_hold(state, plan)
    state = uow.record(ORDER, order_id, events)
    assert state is not None
    reserve_plan(uow, state, events)
    _queue_backorders(uow, state)
    return state


def cancel_order(uow: UnitOfWork, order_id: str, reason: str) -> tuple[order.Order, list[tuple[str, str]]]:
    """Returns the order and the (sku, warehouse) positions whose stock became free."""
    state = require_order(uow, order_id)
    events = order.cancel(state, reason)
    freed: list[tuple[str, str]] = []
    for event in events:
        if isinstance(event, order.OrderCancelled):
            for cl in event.lines:
                for r in cl.released:
                    pos = position_of(uow, r.sku, r.warehouse_id)
                    record_position(
                        uow, r.sku, r.warehouse_id, inventory.release(pos, order_id, r.line_id, "order_cancelled")
                    )
                    freed.append((r.sku, r.warehouse_id))
                book = uow.get(BOOK, cl.sku)
                uow.record(BOOK, cl.sku, backorders.withdraw(book, order_id, cl.line_id, "order_cancelled"))
            uow.record(
                ACCOUNT,
                state.customer_id,
                customer.release_credit(
                    uow.get(ACCOUNT, state.customer_id) or customer.Account(state.customer_id),
                    order_id,
                    event.amount,
                    "order_cancelled",
                ),
            )
    new_state = uow.record(ORDER, order_id, events)
    assert new_state is not None
    serve_the_queue_first(uow, [sku for sku, _ in freed])
    return new_state, freed


def promise_backorders(uow: UnitOfWork, cmd: order.PromiseBackorders) -> order.Order | None:
    """Record the promised dates of an order's lines (only those that change; an unknown order records nothing)."""
    state = uow.get(ORDER, cmd.order_id)
    if state is None:
        return None
    return uow.record(ORDER, cmd.order_id, order.decide(cmd, state))
