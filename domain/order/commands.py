"""What may be asked of an order, as values. Each carries the facts its decision needs from
elsewhere (prices, the credit position, an allocation plan), so `decide` reads no other stream."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal

from domain.order.fields import ShipTo
from domain.pricing import Offer, PriceSource
from domain.values import ZERO, line_amount, sum_money

Plan = Mapping[str, Sequence[tuple[str, int]]]  # line id -> [(warehouse id, qty)], from domain.allocation


@dataclass(frozen=True)
class OrderLineRequest:
    """An order line at its price (see domain.pricing): `qty` in base units, `unit_price` per base
    unit, `ordered_uom`/`ordered_qty` as the buyer sent them (None: the base uom, qty as is) and
    `price_source` the rule that priced it. Without a `requested_date` it inherits the order's."""

    line_id: str
    sku: str
    qty: int
    unit_price: Decimal
    requested_date: date | None = None
    customer_line_ref: str | None = None
    ordered_uom: str | None = None
    ordered_qty: int | None = None
    base_uom: str | None = None
    price_source: PriceSource | None = None


@dataclass(frozen=True)
class PlaceOrder:
    """Accept an order. `exposure` and `credit_limit` are the customer's (no limit: never held);
    `plan` is where each line's stock comes from, ignored when the order is held."""

    order_id: str
    customer_id: str
    channel: str
    warehouse_id: str | None
    allow_backorder: bool
    lines: tuple[OrderLineRequest, ...]
    accepted_at: datetime
    exposure: Decimal = ZERO
    credit_limit: Decimal | None = None
    plan: Plan = field(default_factory=dict)
    customer_po: str | None = None
    requested_date: date | None = None
    ship_to: ShipTo | None = None

    @property
    def total(self) -> Decimal:
        return sum_money(line_amount(ln.qty, ln.unit_price) for ln in self.lines)


@dataclass(frozen=True)
class AddLine:
    """A line as sent (one a change adds, or one of a new order): `qty` and `unit_price` in `uom`
    (None: the product's base uom); `unit_price` None when the client sent none."""

    line_id: str
    sku: str
    qty: int
    unit_price: Decimal | None = None
    requested_date: date | None = None
    customer_line_ref: str | None = None
    uom: str | None = None


@dataclass(frozen=True)
class ChangeOrder:
    """Set existing lines to a new qty (`lines`: (line_id, qty), 0 allowed) and add lines.

    The facts come from elsewhere, as on PlaceOrder: `prices` holds what prices each added SKU for
    this customer (`pricing.Offer`: product price and units, contract price, price list items; a
    SKU not in it is not in the catalog), priced on the day of `changed_at`; `exposure` and
    `credit_limit` are the customer's (no limit: never refused), and `plan` is where the increases'
    stock comes from (`wanted_for_change`), ignored while the order is held."""

    order_id: str
    change_id: str
    reason: str
    lines: tuple[tuple[str, int], ...]
    add_lines: tuple[AddLine, ...]
    changed_at: datetime
    prices: Mapping[str, Offer] = field(default_factory=dict)
    exposure: Decimal = ZERO
    credit_limit: Decimal | None = None
    plan: Plan = field(default_factory=dict)


@dataclass(frozen=True)
class ReleaseHold:
    order_id: str
    plan: Plan = field(default_factory=dict)


@dataclass(frozen=True)
class FillBackorder:
    """Stock freed at `warehouse_id` goes to a backordered line (at most what it still lacks)."""

    order_id: str
    line_id: str
    warehouse_id: str
    qty: int


@dataclass(frozen=True)
class CancelOrder:
    order_id: str
    reason: str


@dataclass(frozen=True)
class RecordShipment:
    """Ship (sku, qty) pairs from the order's allocation at the warehouse."""

    order_id: str
    shipment_id: str
    warehouse_id: str
    lines: tuple[tuple[str, int], ...]
    shipped_on: date | None = None  # the day it ships: judges each line against its promise


@dataclass(frozen=True)
class PromiseBackorders:
    """Record the promised dates known supply gives the order's lines now (line_id -> date, None:
    not completed); see domain.order.promises. Lines not named keep theirs, unless they no longer wait."""

    order_id: str
    dates: Mapping[str, date | None]


@dataclass(frozen=True)
class RecordDelivery:
    order_id: str
    shipment_id: str
    delivered_at: datetime


@dataclass(frozen=True)
class MarkShipmentInvoiced:
    """The shipment's invoice was issued: its quantities count as invoiced on the order lines."""

    order_id: str
    invoice_id: str
    shipment_id: str


@dataclass(frozen=True)
class RecordReturn:
    """Returned (sku, qty) pairs, matched to the order's shipments oldest first."""

    order_id: str
    return_id: str
    warehouse_id: str
    restock: bool
    lines: tuple[tuple[str, int], ...]


OrderCommand = (
    PlaceOrder
    | ReleaseHold
    | FillBackorder
    | CancelOrder
    | RecordShipment
    | RecordDelivery
    | MarkShipmentInvoiced
    | RecordReturn
    | ChangeOrder
    | PromiseBackorders
)
