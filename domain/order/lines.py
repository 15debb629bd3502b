"""Rules about an order's lines that placing and changing an order share: one line per SKU, the
price each line must have, all-or-nothing allocation, and the allocations a plan records."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from datetime import date
from decimal import Decimal
from typing import Protocol

from domain.errors import InsufficientStockError, InvalidRequestError, PriceMismatchError, UnknownSkuError
from domain.events import Event
from domain.order.commands import OrderLineRequest, Plan
from domain.order.events import LineAllocation, OrderLinesAllocated, PlacedLine
from domain.values import format_money, line_amount


class SentLine(Protocol):
    """An order line as the client sent it (`unit_price` None: not sent)."""

    @property
    def line_id(self) -> str: ...
    @property
    def sku(self) -> str: ...
    @property
    def qty(self) -> int: ...
    @property
    def unit_price(self) -> Decimal | None: ...


class Planned(Protocol):
    @property
    def line_id(self) -> str: ...
    @property
    def sku(self) -> str: ...


def ensure_one_line_per_sku(skus: Iterable[str]) -> None:
    """An order names each SKU on one line only; the first SKU seen twice is named."""
    listed = list(skus)
    counts = Counter(listed)
    dup = next((sku for sku in listed if counts[sku] > 1), None)
    if dup is not None:
        raise InvalidRequestError(
            f"SKU {dup} appears on more than one line", errors=[{"field": "lines", "message": f"duplicate sku {dup}"}]
        )


def placed_line(ln: OrderLineRequest, requested_date: date | None) -> PlacedLine:
    """A line as accepted; without a requested date of its own it takes the order's."""
    return PlacedLine(
        line_id=ln.line_id,
        sku=ln.sku,
        qty=ln.qty,
        unit_price=ln.unit_price,
        amount=line_amount(ln.qty, ln.unit_price),
        requested_date=ln.requested_date or requested_date,
        customer_line_ref=ln.customer_line_ref,
    )


def at_prices(
    lines: Sequence[SentLine], prices: Mapping[str, Decimal], customer_id: str
) -> tuple[OrderLineRequest, ...]:
    """Each line at `prices[sku]` (the customer's price). Any sent price that differs is refused: the
    problem names the first mismatch on top (`line_id`, `sku`, `expected_unit_price`) and lists all
    in `lines`. A line's `requested_date` and `customer_line_ref`, where it has them, go with it."""
    priced: list[OrderLineRequest] = []
    mismatches: list[dict[str, str]] = []
    for ln in lines:
        expected = prices.get(ln.sku)
        if expected is None:
            raise UnknownSkuError(f"SKU {ln.sku} is not in the catalog", sku=ln.sku)
        if ln.unit_price is not None and ln.unit_price != expected:
            mismatches.append(
                {
                    "line_id": ln.line_id,
                    "sku": ln.sku,
                    "sent": format_money(ln.unit_price),
                    "expected_unit_price": format_money(expected),
                }
            )
        extras = {name: getattr(ln, name, None) for name in ("requested_date", "customer_line_ref")}
        priced.append(OrderLineRequest(ln.line_id, ln.sku, ln.qty, expected, **extras))
    if mismatches:
        first = mismatches[0]
        raise PriceMismatchError(
            f"Line {first['line_id']} ({first['sku']}): sent {first['sent']}, the price for customer "
            f"{customer_id} is {first['expected_unit_price']}",
            line_id=first["line_id"],
            sku=first["sku"],
            expected_unit_price=first["expected_unit_price"],
            lines=mismatches,
        )
    return tuple(priced)


def allocation_events(order_id: str, lines: Sequence[Planned], plan: Plan, reason: str) -> list[Event]:
    allocations = [
        LineAllocation(line_id=ln.line_id, sku=ln.sku, warehouse_id=wh, qty=qty)
        for ln in lines
        for wh, qty in plan.get(ln.line_id, [])
    ]
    if not allocations:
        return []
    return [OrderLinesAllocated(order_id=order_id, allocations=allocations, reason=reason)]


def check_all_or_nothing(wanted: Sequence[tuple[str, int]], plan: Plan, skus: Mapping[str, str]) -> None:
    """Without backorders every wanted (line_id, qty) must be planned in full (409 insufficient_stock)."""
    short = [
        {"sku": skus[line_id], "requested": qty, "available": sum(q for _, q in plan.get(line_id, []))}
        for line_id, qty in wanted
        if sum(q for _, q in plan.get(line_id, [])) < qty
    ]
    if short:
        detail = "; ".join(f"{s['sku']}: requested {s['requested']}, available {s['available']}" for s in short)
        raise InsufficientStockError(f"Not enough stock and backorders are not allowed ({detail})", lines=short)
