"""Invoice tax: tax attempts, dead letters and retries, and tax to the cent (EXAMPLES.md section 3)."""

from __future__ import annotations

from decimal import Decimal

import msgspec
import pytest

from domain.errors import NotDeadLetteredError
from domain.invoice import (
    InvoiceDeadLettered,
    InvoiceIssued,
    InvoiceLine,
    awaits_tax,
    effective_rate,
    fail_tax,
    issue,
    open_invoice,
    request_retry,
    round_tax,
    tax_from_rate,
)
from tests.domain.invoice_events import (
    DEAD,
    LATER,
    RATE,
    RETRY,
    an_invoice,
    failed,
    issued,
    opened,
    state_of,
)

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
