"""Invoices and credit notes: opening, proof of delivery, tax attempts, dead letters, issue, numbers,
statuses and balances, and tax to the cent (EXAMPLES.md section 3)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from functools import reduce

import msgspec
import pytest

from domain.errors import NotDeadLetteredError
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
    NumberAssigned,
    PaymentApplied,
    ShipmentProofReceived,
    TaxAttemptFailed,
    apply_payment,
    awaits_tax,
    credit,
    effective_rate,
    evolve_invoice,
    evolve_sequence,
    fail_tax,
    issue,
    next_number,
    open_invoice,
    receive_proof,
    request_retry,
    round_tax,
    tax_from_rate,
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


# --- tax attempts, dead letters and retries ------------------------------------------------------------


def test_a_failed_tax_attempt_is_recorded_with_its_error_and_next_attempt_time() -> None:
    state = an_invoice(opened()).when(lambda s: fail_tax(s, 1, "tax engine answered 500", LATER, 5)).then(failed(1))
    assert state is not None
    assert (state.status, state.attempts, state.last_error, state.next_attempt_at) == (
        "awaiting_tax",
        1,
        "tax engine answered 500",
        LATER,
    )
    assert awaits_tax(state)


def test_a_second_failure_counts_as_attempt_two() -> None:
    state = (
        an_invoice(opened(), failed(1)).when(lambda s: fail_tax(s, 2, "timeout", LATER, 5)).then(failed(2, "timeout"))
    )
    assert state is not None and (state.attempts, state.last_error) == (2, "timeout")


@pytest.mark.parametrize("stale", [1, 3], ids=["an attempt already recorded", "an attempt that skips one"])
def test_fail_tax_ignores_an_attempt_number_that_is_not_the_next_one(stale: int) -> None:
    an_invoice(opened(), failed(1)).when(lambda s: fail_tax(s, stale, "late reply", LATER, 5)).then()


def test_the_last_allowed_failure_dead_letters_the_invoice() -> None:
    state = (
        an_invoice(opened(), failed(1), failed(2))
        .when(lambda s: fail_tax(s, 3, "tax engine answered 500", LATER, 3))
        .then(failed(3), DEAD)
    )
    assert state is not None
    assert (state.status, state.attempts, state.dead_lettered, state.dead_letter_open) == (
        "dead_lettered",
        3,
        True,
        True,
    )
    assert state.next_attempt_at is None
    assert not awaits_tax(state)


def test_a_failure_before_the_last_allowed_one_does_not_dead_letter() -> None:
    an_invoice(opened(), failed(1)).when(lambda s: fail_tax(s, 2, "tax engine answered 500", LATER, 3)).then(failed(2))


def test_with_a_single_allowed_attempt_the_first_failure_dead_letters() -> None:
    state = (
        an_invoice(opened())
        .when(lambda s: fail_tax(s, 1, "down", LATER, 1))
        .then(failed(1, "down"), InvoiceDeadLettered(invoice_id="INV-SH-1", attempts=1, last_error="down"))
    )
    assert state is not None and state.status == "dead_lettered"


def test_a_dead_lettered_invoice_takes_no_more_failures_and_is_not_issued() -> None:
    dead = an_invoice(opened(), failed(1), failed(2), failed(3), DEAD)
    dead.when(lambda s: fail_tax(s, 4, "down", LATER, 3)).then()
    dead.when(lambda s: issue(s, number=1, tax=Decimal("4.17"), tax_rate=RATE, attempt=4)).then()


def test_a_retry_of_a_dead_lettered_invoice_starts_its_attempts_again() -> None:
    state = an_invoice(opened(), failed(1), failed(2), failed(3), DEAD).when(request_retry).then(RETRY)
    assert state is not None
    assert (state.status, state.attempts, state.dead_lettered, state.next_attempt_at) == (
        "awaiting_tax",
        0,
        False,
        None,
    )
    assert state.dead_letter_open, "the entry stays listed until the retry issues the invoice"
    assert awaits_tax(state)


def test_a_retried_invoice_counts_its_attempts_from_one_again_and_can_be_dead_lettered_again() -> None:
    retried = an_invoice(opened(), failed(1), failed(2), failed(3), DEAD, RETRY)
    retried.when(lambda s: fail_tax(s, 4, "down", LATER, 3)).then()
    retried.when(lambda s: fail_tax(s, 1, "tax engine answered 500", LATER, 3)).then(failed(1))
    an_invoice(opened(), failed(1), failed(2), failed(3), DEAD, RETRY, failed(1), failed(2)).when(
        lambda s: fail_tax(s, 3, "tax engine answered 500", LATER, 3)
    ).then(failed(3), DEAD)


def test_a_second_retry_while_one_is_under_way_records_nothing() -> None:
    an_invoice(opened(), failed(1), failed(2), failed(3), DEAD, RETRY).when(request_retry).then()


def test_a_retry_of_an_invoice_that_is_not_dead_lettered_is_rejected() -> None:
    an_invoice(opened()).when(request_retry).then_raises(NotDeadLetteredError, invoice_id="INV-SH-1")
    an_invoice(opened(), failed(1)).when(request_retry).then_raises(NotDeadLetteredError, invoice_id="INV-SH-1")
    an_invoice(opened(), issued()).when(request_retry).then_raises(NotDeadLetteredError, invoice_id="INV-SH-1")


def test_a_retry_of_an_invoice_that_a_retry_already_issued_is_rejected() -> None:
    an_invoice(opened(), failed(1), DEAD, RETRY, issued(attempts=1)).when(request_retry).then_raises(
        NotDeadLetteredError, invoice_id="INV-SH-1"
    )


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


# --- tax to the cent (EXAMPLES.md section 3) ----------------------------------------------------


def test_tax_on_lines_and_freight_is_rounded_half_up_once_to_the_cent() -> None:
    tax = tax_from_rate(Decimal("49.96"), Decimal("7.50"), RATE)  # 57.46 x 0.0725 = 4.16585
    assert tax == Decimal("4.17")
    assert Decimal("49.96") + Decimal("7.50") + tax == Decimal("61.63")


def test_a_returned_unit_is_taxed_at_the_same_rate() -> None:
    assert tax_from_rate(Decimal("12.49"), Decimal("0.00"), RATE) == Decimal("0.91")  # 0.905525


@pytest.mark.parametrize(
    ("raw", "rounded"),
    [("4.165", "4.17"), ("4.175", "4.18"), ("0.005", "0.01"), ("4.16499", "4.16"), ("2.5", "2.50"), ("0", "0.00")],
)
def test_round_tax_rounds_half_up_not_half_even(raw: str, rounded: str) -> None:
    assert round_tax(Decimal(raw)) == Decimal(rounded)


def test_tax_is_rounded_once_per_document_not_per_line() -> None:
    # Three lines of 0.10 at 5 %: per line 0.005 would round to 0.01 each (0.03); once it is 0.015 -> 0.02.
    assert tax_from_rate(Decimal("0.30"), Decimal("0.00"), Decimal("0.05")) == Decimal("0.02")


def test_an_unknown_region_is_taxed_at_rate_zero() -> None:
    assert tax_from_rate(Decimal("49.96"), Decimal("7.50"), Decimal(0)) == Decimal("0.00")


def test_the_effective_rate_is_the_engines_tax_over_lines_and_freight() -> None:
    rate = effective_rate(Decimal("4.17"), Decimal("49.96"), Decimal("7.50"))
    assert rate == Decimal("0.0725722242")  # 4.17 / 57.46, to 10 places
    assert tax_from_rate(Decimal("49.96"), Decimal("7.50"), rate) == Decimal("4.17")
    assert round_tax(Decimal("12.49") * rate) == Decimal("0.91")


def test_the_effective_rate_of_a_document_with_nothing_to_tax_is_zero() -> None:
    assert effective_rate(Decimal("0.00"), Decimal("0.00"), Decimal("0.00")) == Decimal(0)


def test_tax_on_the_largest_invoices_is_exact_before_it_is_rounded_once() -> None:
    # 28 digits (Decimal's default) would round this product to 5 places first: ...67.82, not ...67.81.
    subtotal, rate = Decimal("339109996178384615547828.49"), Decimal("0.0725722242")
    tax_cents, rest = divmod(33910999617838461554782849 * 725722242, 10**10)
    assert 2 * rest < 10**10  # exactly, the rest is below half a cent
    assert tax_from_rate(subtotal, Decimal("0.00"), rate) == Decimal(tax_cents).scaleb(-2)
    assert tax_from_rate(subtotal, Decimal("0.00"), rate) == Decimal("24609966671118871513367.81")


def test_an_invoice_of_500_of_the_largest_lines_totals_exactly() -> None:
    line = InvoiceLine(sku="P", qty=1_000_000_000, unit_price=Decimal("999999999999.99"), amount=Decimal(0))
    lines = [msgspec.structs.replace(line, sku=f"P{n}", amount=Decimal("999999999999990000000.00")) for n in range(500)]
    events = open_invoice(
        invoice_id="INV-SH-1",
        order_id="SO-1",
        shipment_id="SH-1",
        customer_id="CAL",
        tax_region="CA",
        lines=lines,
        freight=Decimal("999999999999.99"),
        awaiting_proof=False,
    )
    state = state_of(*events)
    tax = tax_from_rate(state.subtotal, state.freight, RATE)
    [issued_event] = issue(state, number=1, tax=tax, tax_rate=RATE, attempt=1)
    cents = 500 * 1_000_000_000 * 99999999999999 + 99999999999999
    tax_cents, rest = divmod(cents * 725, 10_000)
    tax_cents += 1 if 2 * rest >= 10_000 else 0
    assert state.subtotal == Decimal("499999999999995000000000.00")
    assert isinstance(issued_event, InvoiceIssued) and issued_event.tax == Decimal(tax_cents).scaleb(-2)
    assert issued_event.total == Decimal(cents + tax_cents).scaleb(-2)


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
