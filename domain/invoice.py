"""Invoice and credit note: built from what shipped (or was returned), taxed, numbered, paid.

Numbers come from domain.sequence (re-exported here: `NumberAssigned`, `evolve_sequence`, `next_number`)."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime
from decimal import Decimal, Inexact
from typing import Literal

import msgspec

from domain.errors import NotDeadLetteredError
from domain.events import Event, register
from domain.sequence import NumberAssigned as NumberAssigned
from domain.sequence import evolve_sequence as evolve_sequence
from domain.sequence import next_number as next_number
from domain.values import CENT, MONEY, ZERO, add, money, quantize, subtract, sum_money, times

Kind = Literal["invoice", "credit_note"]
RATE_PLACES = Decimal("0.0000000001")
_RATE_DIVISION = MONEY.copy()  # a quotient is rarely exact: rounded far below RATE_PLACES, then to them
_RATE_DIVISION.traps[Inexact] = False


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


class InvoiceCredited(Event, frozen=True, kw_only=True):
    """Part of a credit note reduced this invoice's balance."""

    invoice_id: str
    credit_note_id: str
    amount: Decimal


class PaymentApplied(Event, frozen=True, kw_only=True):
    invoice_id: str
    payment_id: str
    amount: Decimal


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
)


@dataclass(frozen=True)
class Invoice:
    invoice_id: str
    kind: Kind
    order_id: str
    shipment_id: str | None
    customer_id: str
    tax_region: str
    lines: tuple[InvoiceLine, ...]
    freight: Decimal
    subtotal: Decimal
    awaiting_proof: bool = False
    tax: Decimal | None = None
    tax_rate: Decimal | None = None
    total: Decimal | None = None
    number: int | None = None
    attempts: int = 0
    last_error: str | None = None
    next_attempt_at: datetime | None = None
    dead_lettered: bool = False
    dead_letter_open: bool = False  # listed as a dead letter until a retry issues it
    paid: Decimal = ZERO
    credited: Decimal = ZERO
    return_id: str | None = None
    payments: dict[str, Decimal] = field(default_factory=dict)

    @property
    def issued(self) -> bool:
        return self.number is not None

    @property
    def balance(self) -> Decimal:
        if self.total is None or self.kind == "credit_note":
            return ZERO
        return subtract(subtract(self.total, self.paid), self.credited)

    @property
    def status(self) -> str:
        """`partially_paid` and `paid` need money received; a balance that credit notes alone
        brought to 0 is `credited`; an invoice of nothing stays `issued`."""
        if self.kind == "credit_note":
            return "issued"
        if not self.issued:
            if self.awaiting_proof:
                return "awaiting_shipment_proof"
            return "dead_lettered" if self.dead_lettered else "awaiting_tax"
        received = self.paid > ZERO
        if self.balance > ZERO:
            return "partially_paid" if received else "issued"
        if received:
            return "paid"
        return "credited" if self.credited > ZERO else "issued"


def evolve_invoice(state: Invoice | None, event: Event) -> Invoice | None:
    match event:
        case InvoiceOpened():
            return Invoice(
                event.invoice_id,
                "invoice",
                event.order_id,
                event.shipment_id,
                event.customer_id,
                event.tax_region,
                tuple(event.lines),
                event.freight,
                event.subtotal,
                awaiting_proof=event.awaiting_proof,
            )
        case CreditNoteIssued():
            return Invoice(
                event.invoice_id,
                "credit_note",
                event.order_id,
                None,
                event.customer_id,
                "",
                tuple(event.lines),
                ZERO,
                event.subtotal,
                tax=event.tax,
                total=event.total,
                number=event.number,
                return_id=event.return_id,
            )
    if state is None:
        return None
    match event:
        case ShipmentProofReceived():
            return replace(state, awaiting_proof=False)
        case TaxAttemptFailed():
            return replace(state, attempts=event.attempt, last_error=event.error, next_attempt_at=event.next_attempt_at)
        case InvoiceDeadLettered():
            return replace(state, dead_lettered=True, dead_letter_open=True, next_attempt_at=None)
        case InvoiceRetryRequested():
            return replace(state, dead_lettered=False, attempts=0, next_attempt_at=None)
        case InvoiceIssued():
            return replace(
                state,
                number=event.number,
                tax=event.tax,
                tax_rate=event.tax_rate,
                total=event.total,
                attempts=event.attempts,
                dead_lettered=False,
                dead_letter_open=False,
                next_attempt_at=None,
            )
        case InvoiceCredited():
            return replace(state, credited=add(state.credited, event.amount))
        case PaymentApplied():
            payments = {
                **state.payments,
                event.payment_id: add(state.payments.get(event.payment_id, ZERO), event.amount),
            }
            return replace(state, paid=add(state.paid, event.amount), payments=payments)
    return state


def round_tax(amount: Decimal) -> Decimal:
    """Tax is rounded half-up to the cent, once per document (exactly, at any size)."""
    return quantize(amount, CENT)


def tax_from_rate(subtotal: Decimal, freight: Decimal, rate: Decimal) -> Decimal:
    return round_tax(times(add(subtotal, freight), rate))


def effective_rate(tax: Decimal, subtotal: Decimal, freight: Decimal) -> Decimal:
    """The rate an outside engine applied, kept to tax credit notes alike."""
    base = add(subtotal, freight)
    return quantize(_RATE_DIVISION.divide(tax, base), RATE_PLACES) if base else ZERO


def open_invoice(
    *,
    invoice_id: str,
    order_id: str,
    shipment_id: str,
    customer_id: str,
    tax_region: str,
    lines: list[InvoiceLine],
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
            lines=lines,
            freight=freight,
            subtotal=subtotal,
            awaiting_proof=awaiting_proof,
        )
    ]


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


def issue(state: Invoice, *, number: int, tax: Decimal, tax_rate: Decimal, attempt: int) -> list[Event]:
    if not awaits_tax(state):
        return []
    return [
        InvoiceIssued(
            invoice_id=state.invoice_id,
            customer_id=state.customer_id,
            order_id=state.order_id,
            number=number,
            tax=tax,
            tax_rate=tax_rate,
            total=money(add(state.subtotal, state.freight, tax)),
            subtotal=state.subtotal,
            attempts=attempt,
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
