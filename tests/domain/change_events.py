"""What the order-change specs share: ChangeOrder with the plan placement's rule makes, and the
events a change records."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace
from datetime import UTC, date, datetime
from decimal import Decimal

from domain import order
from domain.allocation import plan_lines
from domain.events import Event
from domain.order import AddLine, ChangedLine, ChangeOrder, LineAllocation, OrderChanged, PlacedLine
from domain.pricing import Offer
from domain.values import ZERO, line_amount
from tests.domain.order_events import BOLT, LIMIT, NUT, allocated, state_of

CHANGED_AT = datetime(2025, 3, 4, 11, 0, tzinfo=UTC)
WASHER = Decimal("0.10")
PRICES: Mapping[str, Decimal] = {"BOLT-10": BOLT, "NUT-4": NUT, "WASHER-2": WASHER}


def offers(prices: Mapping[str, Decimal]) -> dict[str, Offer]:
    """Each SKU at its product price, sold in EA only (no contract, no price list)."""
    return {sku: Offer(price, sku=sku) for sku, price in prices.items()}


AFTER_NINE: Mapping[str, Mapping[str, int]] = {"BOLT-10": {"W-A": 0, "W-B": 3, "W-C": 2}}  # EXAMPLES.md 1, after SO-1


def changing(
    history: Sequence[Event],
    *lines: tuple[str, int],
    add: Sequence[AddLine] = (),
    stock: Mapping[str, Mapping[str, int]] = AFTER_NINE,
    exposure: Decimal = ZERO,
    credit_limit: Decimal | None = LIMIT,
    prices: Mapping[str, Decimal] = PRICES,
    change_id: str = "CH-1",
    reason: str = "customer asked",
) -> ChangeOrder:
    """ChangeOrder CH-1 of SO-1 after `history`, with the plan the allocation rule makes from `stock`
    for what the change increases (as the application layer builds it)."""
    cmd = ChangeOrder(
        "SO-1",
        change_id,
        reason,
        tuple(lines),
        tuple(add),
        CHANGED_AT,
        prices=offers(prices),
        exposure=exposure,
        credit_limit=credit_limit,
    )
    state = state_of(*history) if history else None
    if state is None:
        return cmd
    return replace(cmd, plan=plan_lines(order.wanted_for_change(state, cmd), stock, state.warehouse_id))


def line(
    line_id: str,
    sku: str,
    previous: int,
    qty: int,
    *,
    dropped: int = 0,
    released: Sequence[tuple[str, int]] = (),
    unit_price: Decimal | None = None,
) -> ChangedLine:
    """A ChangedLine; the unit price is the SKU's in PRICES unless given, the amount follows."""
    price = unit_price if unit_price is not None else PRICES[sku]
    return ChangedLine(
        line_id=line_id,
        sku=sku,
        previous_qty=previous,
        qty=qty,
        unit_price=price,
        amount=line_amount(qty, price),
        backorder_dropped=dropped,
        released=[LineAllocation(line_id=line_id, sku=sku, warehouse_id=wh, qty=q) for wh, q in released],
    )


def added(
    line_id: str, sku: str, qty: int, requested_date: date | None = None, customer_line_ref: str | None = None
) -> PlacedLine:
    price = PRICES[sku]
    return PlacedLine(
        line_id=line_id,
        sku=sku,
        qty=qty,
        unit_price=price,
        amount=line_amount(qty, price),
        requested_date=requested_date,
        customer_line_ref=customer_line_ref,
        base_uom="EA",
        ordered_uom="EA",
        ordered_qty=qty,
        price_source="product",
    )


def changed(
    *lines: ChangedLine,
    value_change: str,
    total: str,
    add: Sequence[PlacedLine] = (),
    change_id: str = "CH-1",
    reason: str = "customer asked",
) -> OrderChanged:
    return OrderChanged(
        order_id="SO-1",
        customer_id="C1",
        change_id=change_id,
        reason=reason,
        lines=list(lines),
        added=list(add),
        value_change=Decimal(value_change),
        total=Decimal(total),
        changed_at=CHANGED_AT,
    )


def allocated_by_change(*allocations: tuple[str, str, str, int]) -> Event:
    return allocated(*allocations, reason="order_change")


def parts(history: Sequence[Event], line_id: str = "1") -> tuple[int, int, int, int, int]:
    """(qty, allocated, backordered, shipped, cancelled) of a line after `history`."""
    ln = state_of(*history).line(line_id)
    return (ln.qty, ln.allocated, ln.backordered, ln.shipped, ln.cancelled)
