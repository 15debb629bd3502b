"""What the invoice specs (test_invoice*.py) share: the events of a few invoice histories and the
invoice they evolve to."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

from domain.events import Event
from domain.invoice import (
    CreditNoteIssued,
    Invoice,
    InvoiceCredited,
    InvoiceDeadLettered,
    InvoiceIssued,
    InvoiceLine,
    InvoiceOpened,
    InvoiceRetryRequested,
    PaymentApplied,
    TaxAttemptFailed,
    evolve_invoice,
    open_invoice,
)
from tests.spec import Given, given

NOW = datetime(2025, 3, 3, 9, 30, tzinfo=UTC)
LATER = NOW + timedelta(seconds=2)
DELIVERED = datetime(2025, 3, 5, 14, 0, tzinfo=UTC)
RATE = Decimal("0.0725")
WIDGETS = InvoiceLine(sku="WIDGET", qty=4, unit_price=Decimal("12.49"), amount=Decimal("49.96"), line_id="1")


def opened(*, awaiting_proof: bool = False, invoice_id: str = "INV-SH-1") -> InvoiceOpened:
    return InvoiceOpened(
        invoice_id=invoice_id,
        order_id="SO-1",
        shipment_id=invoice_id.removeprefix("INV-"),
        customer_id="CAL",
        tax_region="CA",
        lines=[WIDGETS],
        freight=Decimal("7.50"),
        subtotal=Decimal("49.96"),
        awaiting_proof=awaiting_proof,
    )


def failed(attempt: int, error: str = "tax engine answered 500") -> TaxAttemptFailed:
    return TaxAttemptFailed(invoice_id="INV-SH-1", attempt=attempt, error=error, next_attempt_at=LATER)


def issued(
    number: int = 1, attempts: int = 1, tax: str = "4.17", total: str = "61.63", rate: Decimal = RATE
) -> InvoiceIssued:
    return InvoiceIssued(
        invoice_id="INV-SH-1",
        customer_id="CAL",
        order_id="SO-1",
        number=number,
        tax=Decimal(tax),
        tax_rate=rate,
        total=Decimal(total),
        subtotal=Decimal("49.96"),
        attempts=attempts,
    )


def paid(amount: str, payment_id: str = "PAY-1") -> PaymentApplied:
    return PaymentApplied(invoice_id="INV-SH-1", payment_id=payment_id, amount=Decimal(amount))


def credited(amount: str, credit_note_id: str = "CN-RMA-1") -> InvoiceCredited:
    return InvoiceCredited(invoice_id="INV-SH-1", credit_note_id=credit_note_id, amount=Decimal(amount))


DEAD = InvoiceDeadLettered(invoice_id="INV-SH-1", attempts=3, last_error="tax engine answered 500")
RETRY = InvoiceRetryRequested(invoice_id="INV-SH-1")
NOTE = CreditNoteIssued(
    invoice_id="CN-RMA-1",
    return_id="RMA-1",
    order_id="SO-1",
    customer_id="CAL",
    number=1,
    lines=[InvoiceLine(sku="WIDGET", qty=1, unit_price=Decimal("12.49"), amount=Decimal("-12.49"), line_id="1")],
    subtotal=Decimal("-12.49"),
    tax=Decimal("-0.91"),
    total=Decimal("-13.40"),
    applies_to={"INV-SH-1": Decimal("13.40")},
)


def an_invoice(*events: Event) -> Given[Invoice | None]:
    return given(evolve_invoice, None, *events)


def state_of(*events: Event) -> Invoice:
    state = an_invoice(*events).state
    assert state is not None
    return state


def opening(awaiting_proof: bool = False) -> list[Event]:
    return open_invoice(
        invoice_id="INV-SH-1",
        order_id="SO-1",
        shipment_id="SH-1",
        customer_id="CAL",
        tax_region="CA",
        lines=[WIDGETS],
        freight=Decimal("7.50"),
        awaiting_proof=awaiting_proof,
    )
