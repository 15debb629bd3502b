"""What the API answers, as Structs: the resources of API.md with the fields api/views.py fills in.

The OpenAPI document takes its response schemas from these (api/openapi.py); GET routes return them, or
the read side's dicts of the same shape. A command answers its resource plus `position`, the log
position of its last public event (the `...Answer` Structs): its reply is recorded as text without
`position` (api/replies.py), and `render` appends it as the last member, the first time and on a repeat.
Objects stay open (no `additionalProperties: false`): API.md lets the service add response fields.
"""

from __future__ import annotations

from typing import Annotated, Literal, cast, get_args

import msgspec
from msgspec import UNSET, Meta, UnsetType

Money = Annotated[str, Meta(pattern=r"^-?[0-9]+\.[0-9]{2}$", description="Money, a decimal string with 2 places")]
Time = Annotated[str, Meta(extra_json_schema={"format": "date-time"})]
Position = Annotated[int, Meta(ge=0, description="A position in the event log")]
Day = Annotated[str, Meta(extra_json_schema={"format": "date"}, description="A UTC calendar day, YYYY-MM-DD")]

OrderStatus = Literal[
    "credit_hold", "backordered", "allocated", "partially_shipped", "shipped", "delivered", "cancelled"
]
ORDER_STATUSES: tuple[str, ...] = get_args(OrderStatus)  # the contract's statuses, in their order
InvoiceStatus = Literal[
    "awaiting_shipment_proof", "awaiting_tax", "issued", "partially_paid", "paid", "credited", "dead_lettered"
]


class Resource(msgspec.Struct):
    """The body of a success answer (or of a problem)."""


def answer_of(view: type[Resource]) -> type[Resource]:
    """How a command answers `view`: its fields, then `position` (`render` appends it to the recorded reply)."""
    fields = [("position", Position)]
    answer = msgspec.defstruct(f"{view.__name__}Answer", fields, bases=(view,), kw_only=True, module=__name__)
    return cast(type[Resource], answer)


class FieldError(Resource):
    field: str
    message: str


class Problem(Resource):
    """An RFC 9457 problem document"""

    type: str
    title: str
    status: Annotated[int, Meta(ge=400, le=599)]
    detail: str
    code: Annotated[str, Meta(min_length=1)]
    errors: list[FieldError] | UnsetType = UNSET


# --- reference data ---------------------------------------------------------------------------------


class ProductUnit(Resource):
    uom: str
    factor: int


class Product(Resource):
    sku: str
    name: str
    unit_price: Money
    uom: str
    currency: str
    units: list[ProductUnit]


class Warehouse(Resource):
    warehouse_id: str
    name: str


class CustomerPrice(Resource):
    sku: str
    unit_price: Money


class Customer(Resource):
    customer_id: str
    name: str
    credit_limit: Money
    tax_region: str
    status: Literal["active", "blocked"]
    currency: str
    contract_prices: list[CustomerPrice]
    price_list_id: str | None
    payment_terms_id: str | None = None


class PriceListItem(Resource):
    sku: str
    unit_price: Money
    min_qty: int
    valid_from: Day | None
    valid_to: Day | None


class PriceList(Resource):
    price_list_id: str
    name: str
    currency: str
    items: list[PriceListItem]


class ContractPrice(Resource):
    customer_id: str
    sku: str
    unit_price: Money
    currency: str


# --- orders -------------------------------------------------------------------------------------------


class Allocation(Resource):
    warehouse_id: str
    qty: int


class OrderLine(Resource):
    line_id: str
    sku: str
    qty: int
    unit_price: Money
    amount: Money
    allocated: int
    backordered: int
    shipped: int
    delivered: int
    invoiced: int
    returned: int
    cancelled: int
    allocations: list[Allocation]
    requested_date: Day | None  # its own, else the order's
    customer_line_ref: str | None
    promised_date: Day | None  # when known supply completes what it waits for (null: not known, or nothing waits)
    ordered_uom: str | None  # the unit the buyer ordered in (null: a line accepted before units were recorded)
    ordered_qty: int  # qty in ordered_uom: qty = ordered_qty x its factor
    price_source: Literal["contract", "price_list", "product"] | None  # null: accepted before it was recorded


class ShipTo(Resource):
    name: str
    address: list[str]
    city: str
    region: str | None
    postal_code: str
    country: str
    gln: str | None


class Order(Resource):
    order_id: str
    customer_id: str
    channel: Literal["web", "edi", "sales", "portal", "marketplace"]
    warehouse_id: str | None
    allow_backorder: bool
    status: OrderStatus
    currency: str
    total: Money
    accepted_at: Time
    customer_po: str | None
    requested_date: Day | None
    ship_to: ShipTo | None
    lines: list[OrderLine]


class OrderAtVersion(Order):
    """An order as it stood after the command that recorded `version`"""

    version: int
    position: Position


class OrderList(Resource):
    items: list[Order]
    next_after: str | None
    position: Position


# --- inventory and fulfilment -------------------------------------------------------------------------


class SkuQty(Resource):
    sku: str
    qty: int


class Receipt(Resource):
    receipt_id: str
    warehouse_id: str
    lines: list[SkuQty]


class StockPosition(Resource, kw_only=True):  # keyword-only: these fields follow a subclass's own
    sku: str
    warehouse_id: str
    on_hand: int
    reserved: int
    available: int
    in_transit: int


class Adjustment(StockPosition):
    adjustment_id: str
    qty_delta: int
    reason: str


class Count(StockPosition):
    count_id: str
    counted_qty: int
    qty_delta: int


class ReconciledLine(Resource):
    sku: str
    external_qty: int
    on_hand: int  # before anything is applied
    difference: int  # external_qty - on_hand


class Reconciliation(Resource):
    reconciliation_id: str
    warehouse_id: str
    lines: list[ReconciledLine]
    matched: int
    mismatched: int
    applied: bool


class Transfer(Resource):
    transfer_id: str
    sku: str
    from_warehouse_id: str
    to_warehouse_id: str
    qty: int
    status: Literal["in_transit", "received"]
    expected_on: Day | None


class ExpectedReceipt(Resource):
    expected_id: str
    warehouse_id: str
    sku: str
    qty: int
    received: int
    open: int
    expected_on: Day
    reference: str | None
    status: Literal["open", "closed"]


class ExpectedReceiptWithPosition(ExpectedReceipt, kw_only=True):
    position: Position


class Shipment(Resource):
    shipment_id: str
    order_id: str
    warehouse_id: str
    lines: list[SkuQty]
    carrier: str | None
    tracking: str | None
    freight: Money
    currency: str
    shipped_at: Time
    delivered_at: Time | None
    signed_by: str | None
    invoice_id: str | None


# --- billing ------------------------------------------------------------------------------------------


class InvoiceLine(Resource):
    sku: str
    qty: int
    unit_price: Money
    amount: Money


class Invoice(Resource, kw_only=True):
    """An invoice or a credit note (`kind`); `number` once issued"""

    invoice_id: str
    kind: Literal["invoice", "credit_note"]
    number: Annotated[int, Meta(ge=1)] | UnsetType = UNSET
    order_id: str
    shipment_id: str | None
    return_id: str | None
    customer_id: str
    status: InvoiceStatus
    currency: str
    lines: list[InvoiceLine]
    freight: Money
    subtotal: Money
    tax: Money | None
    total: Money | None
    paid: Money
    credited: Money
    balance: Money
    tax_attempts: int
    last_tax_error: str | None
    issued_on: Day | None = None
    due_date: Day | None = None
    discount_until: Day | None = None
    discount_amount: Money | None = None
    discount_taken: Money = "0.00"


class InvoiceWithPosition(Invoice, kw_only=True):
    """An invoice, and the position of the log the answer reflects"""

    position: Position


class InvoiceList(Resource):
    items: list[Invoice]
    next_after: str | None
    position: Position


class Applied(Resource):
    invoice_id: str
    amount: Money


class Payment(Resource):
    payment_id: str
    customer_id: str
    amount: Money
    currency: str
    applied: list[Applied]
    unapplied: Money
    received_on: Day | None = None


class Return(Resource):
    return_id: str
    order_id: str
    warehouse_id: str
    restock: bool
    lines: list[SkuQty]
    credit_note_id: str
    credit_note: Invoice


class DeadLetter(Resource):
    id: str
    kind: str
    subject: str
    attempts: int
    last_error: str | None
    parked_at: Time | None
    status: str


class DeadLetters(Resource):
    items: list[DeadLetter]
    next_after: None


class DeadLetterRetry(Resource):
    id: str
    kind: str
    subject: str
    status: str
    invoice: Invoice


# --- what the commands answer: the resource and `position` -------------------------------------------

ProductAnswer = answer_of(Product)
WarehouseAnswer = answer_of(Warehouse)
CustomerAnswer = answer_of(Customer)
ContractPriceAnswer = answer_of(ContractPrice)
PriceListAnswer = answer_of(PriceList)
OrderAnswer = answer_of(Order)
ReceiptAnswer = answer_of(Receipt)
AdjustmentAnswer = answer_of(Adjustment)
CountAnswer = answer_of(Count)
ReconciliationAnswer = answer_of(Reconciliation)
TransferAnswer = answer_of(Transfer)
ShipmentAnswer = answer_of(Shipment)
PaymentAnswer = answer_of(Payment)
ReturnAnswer = answer_of(Return)
DeadLetterRetryAnswer = answer_of(DeadLetterRetry)
ExpectedReceiptAnswer = answer_of(ExpectedReceipt)
