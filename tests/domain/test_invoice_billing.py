"""Billing a shipment: its invoice lines at the order's prices, the invoice it opens, and the invoice decider."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from domain import invoice
from domain.customer import Customer
from domain.errors import NotDeadLetteredError, NotFoundError
from domain.invoice import (
    ApplyPayment,
    CreditInvoice,
    InvoiceCredited,
    InvoiceDeadLettered,
    InvoiceIssued,
    InvoiceLine,
    InvoiceOpened,
    IssueInvoice,
    OpenInvoice,
    PaymentApplied,
    ReceiveProof,
    RecordTaxFailure,
    RetryDeadLetter,
    ShipmentProofReceived,
    TaxAttemptFailed,
    lines_for_shipment,
    open_for_shipment,
)
from domain.shipment import Shipment, ShipmentLine
from tests.domain.order_events import BOLTS_AND_NUTS, allocated, placed, shipped, state_of
from tests.spec import spec

SHIPPED_AT = datetime(2025, 3, 4, 8, 0, tzinfo=UTC)
DELIVERED_AT = SHIPPED_AT + timedelta(days=1)
NEXT_TRY = SHIPPED_AT + timedelta(seconds=2)
ORDER = state_of(
    placed(BOLTS_AND_NUTS),  # 9 x BOLT-10 at 8.50 (line 1), 10 x NUT-4 at 0.25 (line 2)
    allocated(("1", "BOLT-10", "W-A", 9), ("2", "NUT-4", "W-A", 10)),
    shipped("SH-1", "W-A", ("2", "NUT-4", 10), ("1", "BOLT-10", 4)),
)
SHIPMENT = Shipment(
    "SH-1",
    "SO-1",
    "C1",
    "W-A",
    (ShipmentLine(sku="NUT-4", qty=10), ShipmentLine(sku="BOLT-10", qty=4)),
    "UPS",
    None,
    Decimal("7.50"),
    SHIPPED_AT,
)
BUYER = Customer("C1", "Acme", Decimal("500.00"), "CA", "active")
LINES = [
    InvoiceLine(sku="NUT-4", qty=10, unit_price=Decimal("0.25"), amount=Decimal("2.50"), line_id="2"),
    InvoiceLine(sku="BOLT-10", qty=4, unit_price=Decimal("8.50"), amount=Decimal("34.00"), line_id="1"),
]


def opened(*, awaiting_proof: bool = False, tax_region: str = "CA") -> InvoiceOpened:
    return InvoiceOpened(
        invoice_id="INV-SH-1",
        order_id="SO-1",
        shipment_id="SH-1",
        customer_id="C1",
        tax_region=tax_region,
        lines=LINES,
        freight=Decimal("7.50"),
        subtotal=Decimal("36.50"),
        awaiting_proof=awaiting_proof,
    )


ISSUED = InvoiceIssued(
    invoice_id="INV-SH-1",
    customer_id="C1",
    order_id="SO-1",
    number=1,
    tax=Decimal("3.19"),
    tax_rate=Decimal("0.0725"),
    total=Decimal("47.19"),
    subtotal=Decimal("36.50"),
    attempts=1,
)
invoices = spec(invoice.decider)


# --- invoice lines of a shipment -------------------------------------------------------------


def test_a_shipment_bills_each_shipped_sku_at_its_order_lines_price_in_shipment_order() -> None:
    assert lines_for_shipment(ORDER, SHIPMENT) == tuple(LINES)


def test_a_shipment_of_a_sku_the_order_lacks_cannot_be_billed() -> None:
    stray = Shipment(
        "SH-9", "SO-1", "C1", "W-A", (ShipmentLine(sku="WASHER", qty=1),), None, None, Decimal("0"), SHIPPED_AT
    )
    with pytest.raises(ValueError, match="WASHER"):
        lines_for_shipment(ORDER, stray)


def test_the_shipments_invoice_is_taxed_in_the_customers_region_with_the_shipments_freight() -> None:
    assert open_for_shipment("INV-SH-1", ORDER, SHIPMENT, BUYER, needs_proof=False) == [opened()]


def test_an_unknown_customer_leaves_the_region_empty() -> None:
    assert open_for_shipment("INV-SH-1", ORDER, SHIPMENT, None, needs_proof=False) == [opened(tax_region="")]


def test_with_the_delivery_trigger_the_invoice_awaits_proof_unless_the_shipment_is_delivered() -> None:
    assert open_for_shipment("INV-SH-1", ORDER, SHIPMENT, BUYER, needs_proof=True) == [opened(awaiting_proof=True)]
    delivered = replace(SHIPMENT, delivered_at=DELIVERED_AT)
    assert open_for_shipment("INV-SH-1", ORDER, delivered, BUYER, needs_proof=True) == [opened()]


# --- the invoice decider ---------------------------------------------------------------------


def test_the_decider_opens_a_shipments_invoice_once() -> None:
    invoices.when(OpenInvoice("INV-SH-1", ORDER, SHIPMENT, BUYER, needs_proof=False)).then(opened())
    invoices.given(opened()).when(OpenInvoice("INV-SH-1", ORDER, SHIPMENT, BUYER, needs_proof=True)).then()


def test_the_decider_takes_proof_of_delivery() -> None:
    invoices.given(opened(awaiting_proof=True)).when(ReceiveProof("INV-SH-1", DELIVERED_AT)).then(
        ShipmentProofReceived(invoice_id="INV-SH-1", delivered_at=DELIVERED_AT)
    )


def test_the_decider_records_tax_failures_up_to_the_dead_letter() -> None:
    failed = TaxAttemptFailed(invoice_id="INV-SH-1", attempt=1, error="503", next_attempt_at=NEXT_TRY)
    invoices.given(opened()).when(RecordTaxFailure("INV-SH-1", 1, "503", NEXT_TRY, max_attempts=1)).then(
        failed, InvoiceDeadLettered(invoice_id="INV-SH-1", attempts=1, last_error="503")
    )


def test_the_decider_issues_credits_and_takes_payments() -> None:
    invoices.given(opened()).when(IssueInvoice("INV-SH-1", 1, Decimal("3.19"), Decimal("0.0725"), 1)).then(ISSUED)
    invoices.given(opened(), ISSUED).when(CreditInvoice("INV-SH-1", "CN-RET-1", Decimal("9.12"))).then(
        InvoiceCredited(invoice_id="INV-SH-1", credit_note_id="CN-RET-1", amount=Decimal("9.12"))
    )
    state = (
        invoices.given(opened(), ISSUED)
        .when(ApplyPayment("INV-SH-1", "PAY-1", Decimal("47.19")))
        .then(PaymentApplied(invoice_id="INV-SH-1", payment_id="PAY-1", amount=Decimal("47.19")))
    )
    assert state is not None and state.status == "paid"


def test_a_retry_of_an_invoice_that_is_not_dead_lettered_is_rejected_by_the_decider() -> None:
    invoices.given(opened()).when(RetryDeadLetter("INV-SH-1")).then_raises(NotDeadLetteredError, invoice_id="INV-SH-1")


@pytest.mark.parametrize(
    "command",
    [
        ReceiveProof("INV-9", DELIVERED_AT),
        RecordTaxFailure("INV-9", 1, "503", NEXT_TRY, 3),
        IssueInvoice("INV-9", 1, Decimal("0"), Decimal("0"), 1),
        RetryDeadLetter("INV-9"),
        CreditInvoice("INV-9", "CN-1", Decimal("1")),
        ApplyPayment("INV-9", "PAY-1", Decimal("1")),
    ],
    ids=lambda command: type(command).__name__,
)
def test_commands_for_an_invoice_that_does_not_exist_are_not_found(command: invoice.InvoiceCommand) -> None:
    error = invoices.when(command).then_raises(NotFoundError, invoice_id="INV-9")
    assert (error.category, error.detail) == ("not_found", "Invoice INV-9 does not exist")
