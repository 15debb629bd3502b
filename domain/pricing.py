"""The price of an order line (API.md "Orders" rule 2, as "Price lists and units of measure" extends
it), as one pure rule, `line_price`:

1. the customer's contract price for the SKU, if it has one ("contract"); else
2. of the customer's price list items for the SKU valid on the order date (valid_from <= day <=
   valid_to, bounds optional), the one with the largest `min_qty` <= the line's qty in base units,
   the lowest price among items with that `min_qty` ("price_list"); else
3. the product's `unit_price` ("product").

Every price here is per base unit. A line sent in another unit (a case of 12) is priced at its base
qty (so a case counts as 12 towards the breaks) and checked per that unit: per-unit price = base
price x factor, exact (see domain.order.lines.at_prices).

`Offer` gathers the facts the rule reads for one SKU and one customer, so a decision gets them on
its command and reads no other stream.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Literal

from domain.catalog import Product, ProductUnit
from domain.customer import Customer
from domain.errors import UnknownUomError
from domain.price_list import PriceList, PriceListItem

__all__ = ["Offer", "PriceSource", "Quote", "line_price", "offers"]

PriceSource = Literal["contract", "price_list", "product"]


@dataclass(frozen=True)
class Quote:
    """A line's unit price (per base unit) and which rule gave it."""

    unit_price: Decimal
    source: PriceSource


def line_price(
    base_qty: int,
    day: date,
    *,
    product_price: Decimal,
    contract_price: Decimal | None = None,
    items: Iterable[PriceListItem] = (),
) -> Quote:
    """THE price rule: contract > best price list item valid on `day` for `base_qty` > product.

    `items` are the customer's price list items for the line's SKU (others are ignored by the caller)."""
    if contract_price is not None:
        return Quote(contract_price, "contract")
    best: PriceListItem | None = None
    for item in items:
        if item.min_qty > base_qty or not item.valid_on(day):
            continue
        if best is None or (item.min_qty, -item.unit_price) > (best.min_qty, -best.unit_price):
            best = item
    if best is not None:
        return Quote(best.unit_price, "price_list")
    return Quote(product_price, "product")


@dataclass(frozen=True)
class Offer:
    """What prices one SKU for one customer: the product's price and units, the customer's contract
    price and price list items for it. `quote` applies `line_price`; `factor` resolves a line's unit."""

    product_price: Decimal
    base_uom: str = "EA"
    units: Sequence[ProductUnit] = ()
    contract_price: Decimal | None = None
    items: tuple[PriceListItem, ...] = ()
    sku: str = ""

    def quote(self, base_qty: int, day: date) -> Quote:
        return line_price(
            base_qty, day, product_price=self.product_price, contract_price=self.contract_price, items=self.items
        )

    def factor(self, uom: str | None) -> int:
        """Base units in one `uom` (None or the base uom: 1); 422 unknown_uom for a unit the product lacks."""
        if uom is None or uom == self.base_uom:
            return 1
        for unit in self.units:
            if unit.uom == uom:
                return unit.factor
        known = ", ".join([self.base_uom, *(u.uom for u in self.units)])
        raise UnknownUomError(f"SKU {self.sku} is not sold in {uom} (units: {known})", sku=self.sku, uom=uom)


def offers(
    customer: Customer, price_list: PriceList | None, products: Mapping[str, Product | None]
) -> dict[str, Offer]:
    """The offer of each SKU in the catalog (a SKU without a product is left out: the decision that
    needs it names it `unknown_sku` at its own place in the rules)."""
    found: dict[str, Offer] = {}
    for sku, product in products.items():
        if product is None:
            continue
        found[sku] = Offer(
            product_price=product.unit_price,
            base_uom=product.uom,
            units=product.units,
            contract_price=customer.prices.get(sku),
            items=price_list.items_for(sku) if price_list is not None else (),
            sku=sku,
        )
    return found
