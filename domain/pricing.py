"""The price of each order line: the customer's contract price for the SKU, else the product's list
price. A line that sends a price must send exactly that one (API.md "Orders" rule 2)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from domain.customer import Customer, price_for
from domain.order import OrderLineRequest, SentLine, at_prices

__all__ = ["RequestedLine", "SentLine", "price_lines", "unit_prices"]


@dataclass(frozen=True)
class RequestedLine:
    line_id: str
    sku: str
    qty: int
    unit_price: Decimal | None = None
    requested_date: date | None = None
    customer_line_ref: str | None = None


def unit_prices(customer: Customer, skus: Iterable[str], list_prices: Mapping[str, Decimal]) -> dict[str, Decimal]:
    """What each SKU costs this customer now (contract price, else list price). A SKU without a list
    price is not in the catalog and is left out: the decision that needs it names it `unknown_sku`
    at its own place in the rules (a change's rule 2 comes before its prices, rule 4)."""
    return {sku: price_for(customer, sku, list_prices[sku]) for sku in skus if sku in list_prices}


def price_lines(
    customer: Customer, lines: Sequence[SentLine], list_prices: Mapping[str, Decimal]
) -> tuple[OrderLineRequest, ...]:
    """Each line at the customer's price (an unknown SKU: 422 unknown_sku, the first one listed).
    Any sent price that differs is refused: the problem names the first mismatch on top
    (`line_id`, `sku`, `expected_unit_price`) and lists all in `lines`."""
    return at_prices(lines, unit_prices(customer, [ln.sku for ln in lines], list_prices), customer.customer_id)
