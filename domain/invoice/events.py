"""The events of invoices and credit notes, and the lines they carry (their names and fields are stored)."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

import msgspec

from domain.events import Event, register
from domain.values import ZERO


class InvoiceLine(msgspec.Struct, frozen=True, kw_only=True):
    sku: str
    qty: int
    unit_price: Decimal
    amount: Decimal
    line_id: str = ""


class InvoiceOpened(Event, frozen=True, kw_only=True):
    """Billing started for a shipment: lines priced from the order, freight from the shipment."""

    invoice_id: str
    order_id: str
    shipment_id: str
    customer_id: str
    tax_region: str
    lines: list[InvoiceLine]
    freight: Decimal
    subtotal: Decimal
    awaiting_proof: bool


class ShipmentProofReceived(Event, frozen=True, kw_only=True):
    invoice_id: str
    delivered_at: datetime


class TaxAttemptFailed(Event, frozen=True, kw_only=True):
    invoice_id: str
    attempt: int
    error: str
    next_attempt_at: datetime


class InvoiceDeadLettered(Event, frozen=True, kw_only=True):
    invoice_id: str
    attempts: int
    last_error: str


class InvoiceRetryRequested(Event, frozen=True, kw_only=True):
    invoice_id: str


class InvoiceIssued(Event, frozen=True, kw_only=True):
    """Tax known, a number assigned: the invoice now counts as receivable."""

    invoice_id: str
    customer_id: str
    order_id: str
    number: int
    tax: Decimal
    tax_rate: Decimal
    total: Decimal
    subtotal: Decimal
    attempts: int
    # the customer's payment terms in force at issue (issue 15); None on invoices issued before terms existed
    issued_on: date | None = None
    due_date: date | None = None
    discount_until: date | None = None
    discount_amount: Decimal | None = None


class CreditNoteIssued(Event, frozen=True, kw_only=True):
    """A return credited: amounts negative, tax at the original invoices' rates."""

    invoice_id: str
    return_id: str
    order_id: str
    customer_id: str
    number: int
    lines: list[InvoiceLine]
    subtotal: Decimal
    tax: Decimal
    total: Decimal
    applies_to: dict[str, Decimal]  # original invoice id -> amount credited against its balance
    unapplied: Decimal = ZERO  # what no original's balance took: the customer's unapplied credit
    issued_on: date | None = None  # the service's day of the return (None on notes before issue 15)


class InvoiceCredited(Event, frozen=True, kw_only=True):
    """Part of a credit note reduced this invoice's balance."""

    invoice_id: str
    credit_note_id: str
    amount: Decimal


class PaymentApplied(Event, frozen=True, kw_only=True):
    invoice_id: str
    payment_id: str
    amount: Decimal


class DiscountTaken(Event, frozen=True, kw_only=True):
    """A payment within the discount window settled the invoice: the rest of its balance is discount."""

    invoice_id: str
    customer_id: str
    payment_id: str
    amount: Decimal
    on: date


register(
    InvoiceOpened,
    ShipmentProofReceived,
    TaxAttemptFailed,
    InvoiceDeadLettered,
    InvoiceRetryRequested,
    InvoiceIssued,
    CreditNoteIssued,
    InvoiceCredited,
    PaymentApplied,
    DiscountTaken,
)
