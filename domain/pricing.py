"""The price of each order line: the customer's contract price for the SKU, else the product's list
price. A line that sends a price must send exactly that one (API.md "Orders" rule 2)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Protocol

from domain.customer import Customer, price_for
from domain.errors import PriceMismatchError, UnknownSkuError
from domain.order import OrderLineRequest
from domain.values import format_money


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


@dataclass(frozen=True)
class RequestedLine:
    line_id: str
    sku: str
    qty: int
    unit_price: Decimal | None = None


def _list_price(list_prices: Mapping[str, Decimal], sku: str) -> Decimal:
    price = list_prices.get(sku)
    if price is None:
        raise UnknownSkuError(f"SKU {sku} is not in the catalog", sku=sku)
    return price


def price_lines(
    customer: Customer, lines: Sequence[SentLine], list_prices: Mapping[str, Decimal]
) -> tuple[OrderLineRequest, ...]:
    """Each line at the customer's price. Any sent price that differs is refused: the problem names
    the first mismatch on top (`line_id`, `sku`, `expected_unit_price`) and lists all in `lines`."""
    priced: list[OrderLineRequest] = []
    mismatches: list[dict[str, str]] = []
    for ln in lines:
        expected = price_for(customer, ln.sku, _list_price(list_prices, ln.sku))
        if ln.unit_price is not None and ln.unit_price != expected:
            mismatches.append(
                {
                    "line_id": ln.line_id,
                    "sku": ln.sku,
                    "sent": format_money(ln.unit_price),
                    "expected_unit_price": format_money(expected),
                }
            )
        priced.append(OrderLineRequest(ln.line_id, ln.sku, ln.qty, expected))
    if mismatches:
        first = mismatches[0]
        raise PriceMismatchError(
            f"Line {first['line_id']} ({first['sku']}): sent {first['sent']}, the price for customer "
            f"{customer.customer_id} is {first['expected_unit_price']}",
            line_id=first["line_id"],
            sku=first["sku"],
            expected_unit_price=first["expected_unit_price"],
            lines=mismatches,
        )
    return tuple(priced)
