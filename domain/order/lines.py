"""Rules about an order's lines that placing and changing an order share: one line per SKU, the
unit and price each line must have, all-or-nothing allocation, and the allocations a plan records."""

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
from domain.pricing import Offer
from domain.values import MAX_QTY, format_money, line_amount, times


class SentLine(Protocol):
    """An order line as the client sent it: `qty` and `unit_price` in `uom` (None: the base uom;
    `unit_price` None: not sent)."""

    @property
    def line_id(self) -> str: ...
    @property
    def sku(self) -> str: ...
    @property
    def qty(self) -> int: ...
    @property
    def unit_price(self) -> Decimal | None: ...
    @property
    def uom(self) -> str | None: ...
    @property
    def requested_date(self) -> date | None: ...
    @property
    def customer_line_ref(self) -> str | None: ...


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
        base_uom=ln.base_uom,
        ordered_uom=ln.ordered_uom,
        ordered_qty=ln.ordered_qty,
        price_source=ln.price_source,
    )


def ensure_units(lines: Sequence[SentLine], offers: Mapping[str, Offer], field: str = "lines") -> None:
    """Each line's unit is one the product is sold in (422 unknown_uom, the first listed), and its
    qty in base units stays within the limit (422 invalid_request). SKUs not offered are left to
    the caller's unknown_sku."""
    for i, ln in enumerate(lines):
        offer = offers.get(ln.sku)
        if offer is not None and ln.qty * offer.factor(ln.uom) > MAX_QTY:
            message = f"{ln.qty} {ln.uom} is more than {MAX_QTY} {offer.base_uom}"
            raise InvalidRequestError(
                f"{field}[{i}].qty {message}", errors=[{"field": f"{field}[{i}].qty", "message": message}]
            )


def at_prices(
    lines: Sequence[SentLine], offers: Mapping[str, Offer], customer_id: str, day: date, field: str = "lines"
) -> tuple[OrderLineRequest, ...]:
    """Each line in base units at the customer's price on `day` (`Offer.quote`, the rule of
    domain.pricing). A line sent in another unit has qty = sent qty x factor; its price stays per
    base unit, and a sent `unit_price` (per the sent unit) must equal base price x factor exactly:
    nothing is divided, so nothing is rounded (a sent price that is no whole multiple of the factor
    in cents can never match). Any sent price that differs is refused: the problem names the first
    mismatch on top (`line_id`, `sku`, `expected_unit_price`, per the line's unit) and lists all in
    `lines`. A line's `requested_date` and `customer_line_ref` go with it."""
    missing = next((ln.sku for ln in lines if ln.sku not in offers), None)
    if missing is not None:
        raise UnknownSkuError(f"SKU {missing} is not in the catalog", sku=missing)
    ensure_units(lines, offers, field)
    priced: list[OrderLineRequest] = []
    mismatches: list[dict[str, str]] = []
    for ln in lines:
        offer = offers[ln.sku]
        factor = offer.factor(ln.uom)
        qty = ln.qty * factor
        quote = offer.quote(qty, day)
        expected = times(quote.unit_price, factor)
        uom = ln.uom or offer.base_uom
        if ln.unit_price is not None and ln.unit_price != expected:
            mismatch = {"line_id": ln.line_id, "sku": ln.sku}
            if factor > 1:  # the prices are per that unit: say which (base-unit lines keep API.md's shape)
                mismatch["uom"] = uom
            mismatch |= {"sent": format_money(ln.unit_price), "expected_unit_price": format_money(expected)}
            mismatches.append(mismatch)
        priced.append(
            OrderLineRequest(
                ln.line_id,
                ln.sku,
                qty,
                quote.unit_price,
                ln.requested_date,
                ln.customer_line_ref,
                ordered_uom=uom,
                ordered_qty=ln.qty,
                base_uom=offer.base_uom,
                price_source=quote.source,
            )
        )
    if mismatches:
        first = mismatches[0]
        per = f" per {first['uom']}" if "uom" in first else ""
        raise PriceMismatchError(
            f"Line {first['line_id']} ({first['sku']}): sent {first['sent']}{per}, the price for customer "
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
