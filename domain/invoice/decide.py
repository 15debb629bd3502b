"""Invoice decisions, the invoice lines of a shipment, and `decide` for the commands of one invoice."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import assert_never

from domain.customer import Customer
from domain.errors import NotDeadLetteredError, NotFoundError
from domain.events import Event
from domain.invoice.events import (
    DiscountTaken,
    InvoiceCredited,
    InvoiceDeadLettered,
    InvoiceIssued,
    InvoiceLine,
    InvoiceOpened,
    InvoiceRetryRequested,
    PaymentApplied,
    ShipmentProofReceived,
    TaxAttemptFailed,
)
from domain.invoice.state import Invoice
from domain.order import Order
from domain.shipment import Shipment
from domain.terms import PaymentTerms, invoice_dates
from domain.values import ZERO, add, line_amount, money, sum_money


def open_invoice(
    *,
    invoice_id: str,
    order_id: str,
    shipment_id: str,
    customer_id: str,
    tax_region: str,
    lines: Sequence[InvoiceLine],
    freight: Decimal,
    awaiting_proof: bool,
) -> list[Event]:
    subtotal = money(sum_money(ln.amount for ln in lines))
    return [
        InvoiceOpened(
            invoice_id=invoice_id,
            order_id=order_id,
            shipment_id=shipment_id,
            customer_id=customer_id,
            tax_region=tax_region,
            lines=list(lines),
            freight=freight,
            subtotal=subtotal,
            awaiting_proof=awaiting_proof,
        )
    ]


def lines_for_shipment(order: Order, shipment: Shipment) -> tuple[InvoiceLine, ...]:
    """What a shipment bills: each shipped SKU at its order line's price.

    Raises ValueError for a SKU the order does not have (a shipment only ships order lines)."""
    lines: list[InvoiceLine] = []
    for sl in shipment.lines:
        line = order.line_for_sku(sl.sku)
        if line is None:
            raise ValueError(f"Shipment {shipment.shipment_id} ships {sl.sku}, which order {order.order_id} lacks")
        amount = line_amount(sl.qty, line.unit_price)
        lines.append(
            InvoiceLine(sku=sl.sku, qty=sl.qty, unit_price=line.unit_price, amount=amount, line_id=line.line_id)
        )
    return tuple(lines)


def open_for_shipment(
    invoice_id: str, order: Order, shipment: Shipment, customer: Customer | None, *, needs_proof: bool
) -> list[Event]:
    """Open the shipment's invoice: taxed in the customer's region (none when it is unknown), and
    awaiting proof of delivery when billing waits for it and the shipment is not yet delivered."""
    return open_invoice(
        invoice_id=invoice_id,
        order_id=shipment.order_id,
        shipment_id=shipment.shipment_id,
        customer_id=shipment.customer_id,
        tax_region=customer.tax_region if customer else "",
        lines=lines_for_shipment(order, shipment),
        freight=shipment.freight,
        awaiting_proof=needs_proof and shipment.delivered_at is None,
    )


def receive_proof(state: Invoice, delivered_at: datetime) -> list[Event]:
    if not state.awaiting_proof:
        return []
    return [ShipmentProofReceived(invoice_id=state.invoice_id, delivered_at=delivered_at)]


def awaits_tax(state: Invoice) -> bool:
    return state.kind == "invoice" and not state.issued and not state.awaiting_proof and not state.dead_lettered


def fail_tax(state: Invoice, attempt: int, error: str, next_attempt_at: datetime, max_attempts: int) -> list[Event]:
    """Record a failed call to the tax engine; the last allowed failure dead-letters the invoice."""
    if not awaits_tax(state) or attempt != state.attempts + 1:
        return []  # someone else already recorded this attempt, or the invoice moved on
    failed = TaxAttemptFailed(
        invoice_id=state.invoice_id, attempt=attempt, error=error, next_attempt_at=next_attempt_at
    )
    if attempt >= max_attempts:
        return [failed, InvoiceDeadLettered(invoice_id=state.invoice_id, attempts=attempt, last_error=error)]
    return [failed]


def issue(
    state: Invoice,
    *,
    number: int,
    tax: Decimal,
    tax_rate: Decimal,
    attempt: int,
    issued_on: date | None = None,
    terms: PaymentTerms | None = None,
) -> list[Event]:
    """Issue with the next number; with `issued_on`, the dates and discount of the customer's terms
    (no terms: due on issue)."""
    if not awaits_tax(state):
        return []
    total = money(add(state.subtotal, state.freight, tax))
    dates = invoice_dates(issued_on, total, terms) if issued_on is not None else None
    return [
        InvoiceIssued(
            invoice_id=state.invoice_id,
            customer_id=state.customer_id,
            order_id=state.order_id,
            number=number,
            tax=tax,
            tax_rate=tax_rate,
            total=total,
            subtotal=state.subtotal,
            attempts=attempt,
            issued_on=issued_on,
            due_date=dates.due_date if dates else None,
            discount_until=dates.discount_until if dates else None,
            discount_amount=dates.discount_amount if dates else None,
        )
    ]


def take_discount(state: Invoice, payment_id: str, amount: Decimal, on: date) -> list[Event]:
    if amount <= ZERO:
        return []
    return [
        DiscountTaken(
            invoice_id=state.invoice_id, customer_id=state.customer_id, payment_id=payment_id, amount=amount, on=on
        )
    ]


def request_retry(state: Invoice) -> list[Event]:
    if not state.dead_lettered:
        if state.dead_letter_open:
            return []  # a retry is already under way
        raise NotDeadLetteredError(f"Invoice {state.invoice_id} is not dead-lettered", invoice_id=state.invoice_id)
    return [InvoiceRetryRequested(invoice_id=state.invoice_id)]


def credit(state: Invoice, credit_note_id: str, amount: Decimal) -> list[Event]:
    if amount <= ZERO:
        return []
    return [InvoiceCredited(invoice_id=state.invoice_id, credit_note_id=credit_note_id, amount=amount)]


def apply_payment(state: Invoice, payment_id: str, amount: Decimal) -> list[Event]:
    if amount <= ZERO:
        return []
    return [PaymentApplied(invoice_id=state.invoice_id, payment_id=payment_id, amount=amount)]


# --- the decider ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class OpenInvoice:
    """Bill a shipment; the order (its prices), the shipment and the customer are handed in."""

    invoice_id: str
    order: Order
    shipment: Shipment
    customer: Customer | None
    needs_proof: bool


@dataclass(frozen=True)
class ReceiveProof:
    invoice_id: str
    delivered_at: datetime


@dataclass(frozen=True)
class RecordTaxFailure:
    invoice_id: str
    attempt: int
    error: str
    next_attempt_at: datetime
    max_attempts: int


@dataclass(frozen=True)
class IssueInvoice:
    """Tax is known and `number` is the next of the invoice sequence."""

    invoice_id: str
    number: int
    tax: Decimal
    tax_rate: Decimal
    attempt: int
    issued_on: date | None = None
    terms: PaymentTerms | None = None


@dataclass(frozen=True)
class RetryDeadLetter:
    invoice_id: str


@dataclass(frozen=True)
class CreditInvoice:
    invoice_id: str
    credit_note_id: str
    amount: Decimal


@dataclass(frozen=True)
class ApplyPayment:
    invoice_id: str
    payment_id: str
    amount: Decimal


InvoiceCommand = (
    OpenInvoice | ReceiveProof | RecordTaxFailure | IssueInvoice | RetryDeadLetter | CreditInvoice | ApplyPayment
)


def _existing(state: Invoice | None, invoice_id: str) -> Invoice:
    if state is None:
        raise NotFoundError(f"Invoice {invoice_id} does not exist", invoice_id=invoice_id)
    return state


def decide(command: InvoiceCommand, state: Invoice | None) -> list[Event]:
    match command:
        case OpenInvoice(invoice_id=invoice_id, order=order, shipment=shipment, customer=customer):
            if state is not None:
                return []  # the invoice id derives from the shipment: opening it again is a repeat
            return open_for_shipment(invoice_id, order, shipment, customer, needs_proof=command.needs_proof)
        case ReceiveProof(invoice_id=invoice_id, delivered_at=delivered_at):
            return receive_proof(_existing(state, invoice_id), delivered_at)
        case RecordTaxFailure(invoice_id=invoice_id, attempt=attempt, error=error):
            return fail_tax(_existing(state, invoice_id), attempt, error, command.next_attempt_at, command.max_attempts)
        case IssueInvoice(invoice_id=invoice_id, number=number, tax=tax, tax_rate=tax_rate, attempt=attempt):
            return issue(
                _existing(state, invoice_id),
                number=number,
                tax=tax,
                tax_rate=tax_rate,
                attempt=attempt,
                issued_on=command.issued_on,
                terms=command.terms,
            )
        case RetryDeadLetter(invoice_id=invoice_id):
            return request_retry(_existing(state, invoice_id))
        case CreditInvoice(invoice_id=invoice_id, credit_note_id=credit_note_id, amount=amount):
            return credit(_existing(state, invoice_id), credit_note_id, amount)
        case ApplyPayment(invoice_id=invoice_id, payment_id=payment_id, amount=amount):
            return apply_payment(_existing(state, invoice_id), payment_id, amount)
    assert_never(command)
