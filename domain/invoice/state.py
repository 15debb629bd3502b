"""An invoice or credit note as its events leave it: lines, tax, number, what was paid and credited."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Literal

from domain.events import Event
from domain.frozen import replace
from domain.invoice.events import (
    CreditNoteIssued,
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
from domain.values import ZERO, add, subtract

Kind = Literal["invoice", "credit_note"]


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
    issued_on: date | None = None
    due_date: date | None = None
    discount_until: date | None = None
    discount_amount: Decimal | None = None
    discount_taken: Decimal = ZERO

    @property
    def issued(self) -> bool:
        return self.number is not None

    @property
    def balance(self) -> Decimal:
        if self.total is None or self.kind == "credit_note":
            return ZERO
        return subtract(subtract(subtract(self.total, self.paid), self.credited), self.discount_taken)

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
                issued_on=event.issued_on,
                due_date=event.issued_on,  # credit notes are due on issue
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
                issued_on=event.issued_on,
                due_date=event.due_date or event.issued_on,
                discount_until=event.discount_until,
                discount_amount=event.discount_amount,
            )
        case DiscountTaken():
            return replace(state, discount_taken=add(state.discount_taken, event.amount))
        case InvoiceCredited():
            return replace(state, credited=add(state.credited, event.amount))
        case PaymentApplied():
            payments = {
                **state.payments,
                event.payment_id: add(state.payments.get(event.payment_id, ZERO), event.amount),
            }
            return replace(state, paid=add(state.paid, event.amount), payments=payments)
    return state


def initial_state(invoice_id: str) -> Invoice | None:
    return None
