"""Request bodies, exactly as API.md describes them. Unknown fields are rejected."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Literal

import msgspec
from msgspec import Meta

from domain.catalog import MAX_UNITS, UNIT_PATTERN
from domain.price_list import MAX_ITEMS
from domain.values import DOC_ID_PATTERN, ID_PATTERN, MAX_LINES, MAX_QTY, id_pattern

# Free text (names, reasons, references, addresses, ...) refuses the control characters U+0000-U+001F and U+007F
# (API.md, Corrections to the first edition). Every string a request body accepts carries a pattern; the free-text
# ones carry this one (tests/api/test_input_edge.py checks every body model for it).
TEXT_PATTERN = r"\A[^\x00-\x1f\x7f]*\Z"
# What a refused pattern means, in words (api/errors.py puts these in `errors[].message`).
PATTERN_MESSAGES = {
    TEXT_PATTERN: "must not contain control characters (U+0000-U+001F, U+007F)",
    ID_PATTERN: "must be 1-64 characters of A-Z a-z 0-9 . _ : -",
    UNIT_PATTERN: "must be 1-10 characters of A-Z 0-9",
}

Id = Annotated[str, Meta(pattern=ID_PATTERN, min_length=1, max_length=64)]
Qty = Annotated[int, Meta(gt=0, le=MAX_QTY)]
Price = Annotated[str, Meta(pattern=r"\A[0-9]{1,12}(\.[0-9]{1,2})?\Z", description="Money, a string with 2 places")]
Name = Annotated[str, Meta(min_length=1, max_length=200, pattern=TEXT_PATTERN)]
Text = Annotated[str, Meta(max_length=1000, pattern=TEXT_PATTERN)]
Reason = Annotated[str, Meta(min_length=1, max_length=1000, pattern=TEXT_PATTERN)]
Label = Annotated[str, Meta(max_length=200, pattern=TEXT_PATTERN)]  # carrier, tracking, signed_by
Uom = Annotated[str, Meta(min_length=1, max_length=16, pattern=TEXT_PATTERN)]
Timestamp = Annotated[str, Meta(min_length=10, max_length=64, pattern=TEXT_PATTERN)]  # parsed as RFC 3339 later


class Body(msgspec.Struct, forbid_unknown_fields=True, kw_only=True, frozen=True):
    """A request body; frozen, so a handler may name an instance as the default of its `data`."""


UnitUom = Annotated[str, Meta(pattern=UNIT_PATTERN, description="A unit of measure: 1-10 of A-Z 0-9")]


class ProductUnitRequest(Body):
    uom: UnitUom
    factor: Annotated[int, Meta(ge=2, le=MAX_QTY, description="Base units in one of this unit")]


class PutProductRequest(Body):
    name: Name
    unit_price: Price
    uom: Uom = "EA"
    units: Annotated[list[ProductUnitRequest], Meta(max_length=MAX_UNITS)] | None = None


class PutWarehouseRequest(Body):
    name: Name


class PutCustomerRequest(Body):
    name: Name
    credit_limit: Price
    tax_region: Annotated[str, Meta(pattern=id_pattern(32))]
    status: Literal["active", "blocked"]  # required (API.md): no default
    price_list_id: Id | None = None
    payment_terms_id: Id | None = None  # without terms, invoices are due on issue


class PutContractPriceRequest(Body):
    unit_price: Price


class PriceListItemRequest(Body):
    sku: Id
    unit_price: Price
    min_qty: Qty = 1  # in base units
    valid_from: date | None = None
    valid_to: date | None = None  # not before valid_from (checked by the domain: 422 invalid_request)


class PutPriceListRequest(Body):
    name: Name
    items: Annotated[list[PriceListItemRequest], Meta(max_length=MAX_ITEMS)]


class ReceiptLine(Body):
    sku: Id
    qty: Qty
    expected_id: Id | None = None  # the expected receipt this qty counts against (same warehouse and SKU)


class ReceiptRequest(Body):
    receipt_id: Id
    warehouse_id: Id
    lines: Annotated[list[ReceiptLine], Meta(min_length=1, max_length=MAX_LINES)]


class AdjustmentRequest(Body):
    adjustment_id: Id
    warehouse_id: Id
    sku: Id
    qty_delta: Annotated[int, Meta(ge=-MAX_QTY, le=MAX_QTY, extra_json_schema={"not": {"const": 0}})]
    reason: Reason


class CountRequest(Body):
    count_id: Id
    warehouse_id: Id
    sku: Id
    counted_qty: Annotated[int, Meta(ge=0, le=MAX_QTY)]


MAX_SNAPSHOT_LINES = 50_000  # a reconciliation's lines (an outside system's stock of one warehouse)


class SnapshotLine(Body):
    sku: Id
    qty: Annotated[int, Meta(ge=0, le=MAX_QTY)]


class ReconciliationRequest(Body):
    reconciliation_id: Id
    warehouse_id: Id
    # at most MAX_SNAPSHOT_LINES, refused past that with 413 by the route (a size limit, like the body's)
    lines: Annotated[list[SnapshotLine], Meta(description="At most 50,000 lines (more: 413 payload_too_large)")]
    complete: bool = False  # also list the SKUs on hand here that `lines` leaves out (their outside qty is 0)
    apply: bool = False  # record a count for each mismatched SKU, so on hand equals the outside figure


class TransferRequest(Body):
    transfer_id: Id
    from_warehouse_id: Id
    to_warehouse_id: Id
    sku: Id
    qty: Qty
    expected_on: date | None = None  # until received, supply at the destination on that day


Reference = Annotated[str, Meta(min_length=1, max_length=200, pattern=TEXT_PATTERN)]


class ExpectedReceiptRequest(Body):
    expected_id: Id
    warehouse_id: Id
    sku: Id
    qty: Qty
    expected_on: date
    reference: Reference | None = None


class ExpectedReceiptChangeRequest(Body):
    expected_on: date | None = None
    qty: Qty | None = None


class CloseRequest(Body):
    reason: Annotated[str, Meta(min_length=1, max_length=200, pattern=TEXT_PATTERN)]


class EmptyRequest(Body):
    pass


CustomerPo = Annotated[str, Meta(min_length=1, max_length=64, pattern=TEXT_PATTERN)]
LineRef = Annotated[str, Meta(min_length=1, max_length=20, pattern=TEXT_PATTERN)]
PostalCode = Annotated[str, Meta(min_length=1, max_length=20, pattern=TEXT_PATTERN)]
Country = Annotated[str, Meta(pattern=r"\A[A-Z]{2}\Z", description="ISO 3166-1 alpha-2")]
Gln = Annotated[str, Meta(pattern=r"\A[0-9]{13}\Z", description="GS1 Global Location Number")]


class ShipToRequest(Body):
    name: Name
    address: Annotated[list[Name], Meta(min_length=1, max_length=3)]
    city: Name
    postal_code: PostalCode
    country: Country
    region: Name | None = None
    gln: Gln | None = None


NO_BODY = EmptyRequest()  # what a route that takes nothing receives for no body at all (as for `{}`)


class OrderLineRequest(Body):
    sku: Id
    qty: Qty  # in `uom`
    line_id: Id | None = None
    unit_price: Price | None = None  # per `uom`
    requested_date: date | None = None  # a line without one inherits the order's
    customer_line_ref: LineRef | None = None
    uom: Uom | None = None  # a unit of the product or its base uom (else 422 unknown_uom); default the base uom


class PlaceOrderRequest(Body):
    customer_id: Id
    channel: Literal["web", "edi", "sales", "portal", "marketplace"]
    lines: Annotated[list[OrderLineRequest], Meta(min_length=1, max_length=MAX_LINES)]
    order_id: Id | None = None
    warehouse_id: Id | None = None
    allow_backorder: bool = True
    customer_po: CustomerPo | None = None
    requested_date: date | None = None
    ship_to: ShipToRequest | None = None


class ChangeLineRequest(Body):
    line_id: Id
    qty: Annotated[int, Meta(ge=0, le=MAX_QTY)]  # the line's new ordered qty; 0 cancels what is not shipped


class AddLineRequest(Body):
    sku: Id
    qty: Qty  # in `uom`
    line_id: Id | None = None
    unit_price: Price | None = None  # per `uom`
    requested_date: date | None = None
    customer_line_ref: LineRef | None = None
    uom: Uom | None = None


class ChangeOrderRequest(Body):
    change_id: Id
    reason: Reason
    lines: Annotated[list[ChangeLineRequest], Meta(max_length=MAX_LINES)] | None = None
    add_lines: Annotated[list[AddLineRequest], Meta(max_length=MAX_LINES)] | None = None


class CancelOrderRequest(Body):
    reason: Text = ""


NO_REASON = CancelOrderRequest()  # a cancel sent with no body at all


class ShipmentLineRequest(Body):
    sku: Id
    qty: Qty


class ShipmentRequest(Body):
    shipment_id: Id
    order_id: Id
    warehouse_id: Id
    lines: Annotated[list[ShipmentLineRequest], Meta(min_length=1, max_length=MAX_LINES)]
    carrier: Label | None = None
    tracking: Label | None = None
    freight: Price = "0.00"


class DeliveryRequest(Body):
    delivered_at: Timestamp
    signed_by: Label | None = None


class ReturnLineRequest(Body):
    sku: Id
    qty: Qty


class ReturnRequest(Body):
    return_id: Id
    order_id: Id
    warehouse_id: Id
    lines: Annotated[list[ReturnLineRequest], Meta(min_length=1, max_length=MAX_LINES)]
    restock: bool


class PaymentAllocationRequest(Body):
    invoice_id: Annotated[str, Meta(pattern=DOC_ID_PATTERN)]
    amount: Price


class PaymentRequest(Body):
    payment_id: Id
    customer_id: Id
    amount: Price
    allocations: Annotated[list[PaymentAllocationRequest], Meta(max_length=MAX_LINES)] | None = None
    received_on: date | None = None  # default: today (the service's clock)


Percent = Annotated[str, Meta(pattern=r"\A[0-9]{1,3}(\.[0-9]{1,2})?\Z", description="A percentage, e.g. '2.00'")]


class PutPaymentTermsRequest(Body):
    name: Name
    net_days: Annotated[int, Meta(ge=0, le=365)]
    end_of_month: bool = False
    discount_percent: Percent | None = None  # 0-100, with discount_days
    discount_days: Annotated[int, Meta(ge=0, le=365)] | None = None


class ApplyCreditRequest(Body):
    application_id: Id


class DunningRunRequest(Body):
    as_of: date | None = None  # default: today (the service's clock)


IsaQualifier = Annotated[
    str, Meta(pattern=r"\A[A-Z0-9]{2}\Z", description="ISA05/ISA07: 2 of A-Z 0-9, e.g. ZZ, 01, 12")
]
IsaId = Annotated[str, Meta(pattern=r"\A[A-Za-z0-9][A-Za-z0-9._-]{0,14}\Z", description="ISA06/ISA08: 1-15 characters")]
GsId = Annotated[str, Meta(pattern=r"\A[A-Za-z0-9][A-Za-z0-9._-]{1,14}\Z", description="GS02/GS03: 2-15 characters")]


class PutTradingPartnerRequest(Body):
    customer_id: Id
    isa_qualifier: IsaQualifier
    isa_id: IsaId
    gs_id: GsId
    our_isa_qualifier: IsaQualifier
    our_isa_id: IsaId
    our_gs_id: GsId
