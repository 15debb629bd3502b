"""Invoices and credit notes: opening, proof of delivery, issue, statuses and balances, and gap-free
numbers. Tax attempts, dead letters and tax to the cent are in test_invoice_tax.py."""

from __future__ import annotations

from decimal import Decimal
from functools import reduce

import pytest

from domain.events import Event
from domain.invoice import (
    InvoiceLine,
    InvoiceOpened,
    NumberAssigned,
    ShipmentProofReceived,
    apply_payment,
    awaits_tax,
    credit,
    evolve_sequence,
    fail_tax,
    issue,
    next_number,
    open_invoice,
    receive_proof,
)
from tests.domain.invoice_events import (
    DEAD,
    DELIVERED,
    LATER,
    NOTE,
    RATE,
    RETRY,
    WIDGETS,
    an_invoice,
    credited,
    failed,
    issued,
    opened,
    opening,
    paid,
    state_of,
)
from tests.spec import given

# --- opening and proof of delivery ----------------------------------------------------------------


def test_opening_an_invoice_records_its_lines_freight_and_subtotal_and_it_awaits_tax() -> None:
    state = an_invoice().when(lambda _: opening()).then(opened())
    assert state is not None
    assert (state.kind, state.status, state.number, state.tax, state.total) == (
        "invoice",
        "awaiting_tax",
        None,
        None,
        None,
    )
    assert awaits_tax(state)


def test_the_subtotal_is_the_sum_of_the_line_amounts_without_freight() -> None:
    nuts = InvoiceLine(sku="NUT-4", qty=10, unit_price=Decimal("0.25"), amount=Decimal("2.50"), line_id="2")
    events = open_invoice(
        invoice_id="INV-SH-1",
        order_id="SO-1",
        shipment_id="SH-1",
        customer_id="CAL",
        tax_region="CA",
        lines=[WIDGETS, nuts],
        freight=Decimal("7.50"),
        awaiting_proof=False,
    )
    assert isinstance(events[0], InvoiceOpened) and events[0].subtotal == Decimal("52.46")


def test_with_the_delivery_trigger_an_opened_invoice_awaits_shipment_proof_and_not_tax() -> None:
    state = an_invoice().when(lambda _: opening(awaiting_proof=True)).then(opened(awaiting_proof=True))
    assert state is not None and state.status == "awaiting_shipment_proof"
    assert not awaits_tax(state)


def test_proof_of_delivery_moves_the_invoice_on_to_awaiting_tax() -> None:
    state = (
        an_invoice(opened(awaiting_proof=True))
        .when(lambda s: receive_proof(s, DELIVERED))
        .then(ShipmentProofReceived(invoice_id="INV-SH-1", delivered_at=DELIVERED))
    )
    assert state is not None and state.status == "awaiting_tax" and awaits_tax(state)


def test_proof_of_delivery_twice_records_nothing_the_second_time() -> None:
    proof = ShipmentProofReceived(invoice_id="INV-SH-1", delivered_at=DELIVERED)
    an_invoice(opened(awaiting_proof=True), proof).when(lambda s: receive_proof(s, DELIVERED)).then()


def test_proof_of_delivery_for_an_invoice_that_never_waited_for_it_records_nothing() -> None:
    an_invoice(opened()).when(lambda s: receive_proof(s, DELIVERED)).then()


def test_an_invoice_awaiting_shipment_proof_is_not_issued_and_no_tax_failure_is_recorded() -> None:
    an_invoice(opened(awaiting_proof=True)).when(
        lambda s: issue(s, number=1, tax=Decimal("4.17"), tax_rate=RATE, attempt=1)
    ).then()
    an_invoice(opened(awaiting_proof=True)).when(lambda s: fail_tax(s, 1, "down", LATER, 5)).then()


def test_events_about_an_invoice_that_was_never_opened_change_nothing() -> None:
    assert an_invoice(failed(1), issued(), paid("1.00")).state is None


# --- issue ----------------------------------------------------------------------------------------------


def test_issuing_records_number_tax_rate_and_total_of_subtotal_freight_and_tax() -> None:
    state = (
        an_invoice(opened())
        .when(lambda s: issue(s, number=1, tax=Decimal("4.17"), tax_rate=RATE, attempt=1))
        .then(issued())
    )
    assert state is not None
    assert (state.status, state.number, state.tax, state.total, state.balance) == (
        "issued",
        1,
        Decimal("4.17"),
        Decimal("61.63"),
        Decimal("61.63"),
    )
    assert state.issued and not awaits_tax(state)


def test_an_invoice_issued_after_failures_records_the_attempt_that_succeeded() -> None:
    state = (
        an_invoice(opened(), failed(1), failed(2))
        .when(lambda s: issue(s, number=7, tax=Decimal("4.17"), tax_rate=RATE, attempt=3))
        .then(issued(number=7, attempts=3))
    )
    assert state is not None and (state.attempts, state.last_error) == (3, "tax engine answered 500")


def test_an_issued_invoice_is_never_issued_again() -> None:
    an_invoice(opened(), issued()).when(
        lambda s: issue(s, number=2, tax=Decimal("4.17"), tax_rate=RATE, attempt=2)
    ).then()


def test_a_tax_failure_reported_after_the_invoice_was_issued_records_nothing() -> None:
    an_invoice(opened(), issued()).when(lambda s: fail_tax(s, 2, "late", LATER, 5)).then()


def test_a_retried_dead_letter_that_is_issued_leaves_the_dead_letter_list() -> None:
    state = (
        an_invoice(opened(), failed(1), DEAD, RETRY)
        .when(lambda s: issue(s, number=1, tax=Decimal("4.17"), tax_rate=RATE, attempt=1))
        .then(issued())
    )
    assert state is not None
    assert (state.status, state.dead_lettered, state.dead_letter_open) == ("issued", False, False)


def test_zero_tax_is_a_valid_answer() -> None:
    an_invoice(opened()).when(lambda s: issue(s, number=1, tax=Decimal("0.00"), tax_rate=Decimal(0), attempt=1)).then(
        issued(tax="0.00", total="57.46", rate=Decimal(0))
    )


# --- statuses and balance -----------------------------------------------------------------------------


def test_the_balance_is_total_minus_paid_minus_credited() -> None:
    state = state_of(opened(), issued(), paid("10.00"), credited("13.40"), paid("5.00", "PAY-2"))
    assert (state.paid, state.credited) == (Decimal("15.00"), Decimal("13.40"))
    assert state.balance == Decimal("61.63") - Decimal("15.00") - Decimal("13.40") == Decimal("33.23")
    assert state.payments == {"PAY-1": Decimal("10.00"), "PAY-2": Decimal("5.00")}


def test_an_invoice_without_tax_yet_has_no_balance() -> None:
    assert state_of(opened()).balance == Decimal("0.00")
    assert state_of(opened(), failed(1), DEAD).balance == Decimal("0.00")


@pytest.mark.parametrize(
    ("events", "status"),
    [
        pytest.param((opened(awaiting_proof=True),), "awaiting_shipment_proof", id="awaiting_shipment_proof"),
        pytest.param((opened(),), "awaiting_tax", id="awaiting_tax"),
        pytest.param((opened(), failed(1)), "awaiting_tax", id="awaiting_tax after a failure"),
        pytest.param((opened(), failed(1), DEAD), "dead_lettered", id="dead_lettered"),
        pytest.param((opened(), failed(1), DEAD, RETRY), "awaiting_tax", id="awaiting_tax after a retry"),
        pytest.param((opened(), issued()), "issued", id="issued"),
        pytest.param((opened(), issued(), paid("0.01")), "partially_paid", id="partially_paid by a payment"),
        pytest.param((opened(), issued(), credited("13.40")), "issued", id="issued with a credit and nothing paid"),
        pytest.param((opened(), issued(), credited("53.58")), "issued", id="issued with freight and its tax left"),
        pytest.param((opened(), issued(), credited("61.63")), "credited", id="credited to 0 with nothing paid"),
        pytest.param((opened(), issued(), credited("13.40"), paid("1.00")), "partially_paid", id="credit and cash"),
        pytest.param((opened(), issued(), paid("61.63")), "paid", id="paid in full"),
        pytest.param((opened(), issued(), credited("13.40"), paid("48.23")), "paid", id="paid after a credit"),
        pytest.param((opened(), issued(), paid("8.05"), credited("53.58")), "paid", id="credited after a payment"),
        pytest.param((opened(), issued(tax="0.00", total="0.00")), "issued", id="an invoice of nothing"),
    ],
)
def test_an_invoice_reports_the_status_its_events_lead_to(events: tuple[Event, ...], status: str) -> None:
    assert state_of(*events).status == status


def test_a_payment_of_zero_or_less_records_nothing() -> None:
    an_invoice(opened(), issued()).when(lambda s: apply_payment(s, "PAY-1", Decimal("0.00"))).then()
    an_invoice(opened(), issued()).when(lambda s: apply_payment(s, "PAY-1", Decimal("-1.00"))).then()


def test_a_payment_is_applied_to_the_invoice() -> None:
    state = (
        an_invoice(opened(), issued()).when(lambda s: apply_payment(s, "PAY-1", Decimal("20.00"))).then(paid("20.00"))
    )
    assert state is not None and (state.status, state.balance) == ("partially_paid", Decimal("41.63"))


def test_a_credit_reduces_the_invoice_balance() -> None:
    state = (
        an_invoice(opened(), issued()).when(lambda s: credit(s, "CN-RMA-1", Decimal("13.40"))).then(credited("13.40"))
    )
    assert state is not None and state.balance == Decimal("48.23")


def test_a_credit_of_zero_records_nothing() -> None:
    an_invoice(opened(), issued(), paid("61.63")).when(lambda s: credit(s, "CN-RMA-1", Decimal("0.00"))).then()


def test_a_credit_note_is_issued_with_its_own_number_negative_amounts_and_no_balance() -> None:
    state = an_invoice().when(lambda _: [NOTE]).then(NOTE)
    assert state is not None
    assert (state.kind, state.status, state.number, state.return_id) == ("credit_note", "issued", 1, "RMA-1")
    assert state.lines[0].qty == 1 and state.lines[0].amount == Decimal("-12.49")
    assert (state.subtotal, state.tax, state.total) == (Decimal("-12.49"), Decimal("-0.91"), Decimal("-13.40"))
    assert state.balance == Decimal("0.00")
    assert not awaits_tax(state)


# --- gap-free numbers ------------------------------------------------------------------------------


def test_the_first_number_of_a_sequence_is_1() -> None:
    number, events = next_number(0, "invoices", "INV-SH-1")
    assert number == 1
    assert events == [NumberAssigned(sequence="invoices", number=1, document_id="INV-SH-1")]


def test_numbers_follow_each_other_without_gaps() -> None:
    state = 0
    numbers = []
    for i in range(1, 6):
        number, events = next_number(state, "invoices", f"INV-SH-{i}")
        numbers.append(number)
        state = reduce(evolve_sequence, events, state)
    assert numbers == [1, 2, 3, 4, 5] and state == 5


def test_the_sequence_state_is_the_last_number_assigned_and_other_events_leave_it() -> None:
    state = given(
        evolve_sequence,
        0,
        NumberAssigned(sequence="credit-notes", number=1, document_id="CN-1"),
        opened(),
        NumberAssigned(sequence="credit-notes", number=2, document_id="CN-2"),
    ).state
    assert state == 2
    given(evolve_sequence, state).when(lambda s: next_number(s, "credit-notes", "CN-3")[1]).then(
        NumberAssigned(sequence="credit-notes", number=3, document_id="CN-3")
    )
