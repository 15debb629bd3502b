"""Who may order, and the customer's account: credit committed and released, receivables booked."""

from __future__ import annotations

from decimal import Decimal

import pytest

from domain.customer import (
    Account,
    BookCreditNote,
    BookPayment,
    BookReceivable,
    CommitCredit,
    CreditCommitted,
    CreditNoteBooked,
    CreditReleased,
    Customer,
    PaymentBooked,
    ReceivableBooked,
    ReleaseCredit,
    account_decider,
    commit_credit,
    ensure_exists,
    ensure_may_order,
    exceeds_credit,
    release_credit,
)
from domain.errors import CustomerBlockedError, UnknownCustomerError
from tests.spec import spec

ACTIVE = Customer("C1", "Acme", Decimal("500.00"), "CA", "active")
BLOCKED = Customer("C3", "Gone Ltd", Decimal("500.00"), "CA", "blocked")
accounts = spec(account_decider)
COMMITTED = CreditCommitted(customer_id="C1", order_id="SO-1", amount=Decimal("76.50"))

# --- who may order ---------------------------------------------------------------------------


def test_an_active_customer_may_order() -> None:
    assert ensure_may_order(ACTIVE, "C1") is ACTIVE


def test_an_unknown_customer_may_not_order() -> None:
    with pytest.raises(UnknownCustomerError) as caught:
        ensure_may_order(None, "C-NOPE")
    error = caught.value
    assert (error.code, error.category, error.detail, error.facts) == (
        "unknown_customer",
        "rejected",
        "Customer C-NOPE does not exist",
        {"customer_id": "C-NOPE"},
    )


def test_a_blocked_customer_may_not_order() -> None:
    with pytest.raises(CustomerBlockedError) as caught:
        ensure_may_order(BLOCKED, "C3")
    error = caught.value
    assert (error.code, error.category, error.detail, error.facts) == (
        "customer_blocked",
        "rejected",
        "Customer C3 is blocked",
        {"customer_id": "C3"},
    )


def test_a_known_customer_exists_whatever_its_status() -> None:
    assert ensure_exists(BLOCKED, "C3") is BLOCKED
    with pytest.raises(UnknownCustomerError):
        ensure_exists(None, "C9")


def test_credit_is_exceeded_only_past_the_limit() -> None:
    # EXAMPLES.md section 4: limit 500.00, exposure 420.00
    assert exceeds_credit(Decimal("90.00"), Decimal("420.00"), Decimal("500.00"))
    assert not exceeds_credit(Decimal("80.00"), Decimal("420.00"), Decimal("500.00"))


# --- the account decider ---------------------------------------------------------------------


def test_an_accepted_order_commits_its_value_and_opens_the_account() -> None:
    state = accounts.when(CommitCredit("C1", "SO-1", Decimal("76.50"))).then(COMMITTED)
    assert state == Account("C1", Decimal("76.50"))


def test_a_further_order_adds_to_the_exposure() -> None:
    state = (
        accounts.given(COMMITTED)
        .when(CommitCredit("C1", "SO-2", Decimal("2.50")))
        .then(CreditCommitted(customer_id="C1", order_id="SO-2", amount=Decimal("2.50")))
    )
    assert state is not None and state.exposure == Decimal("79.00")


def test_what_an_order_change_commits_adds_to_the_orders_commitment() -> None:
    state = (
        accounts.given(COMMITTED)
        .when(CommitCredit("C1", "SO-1", Decimal("17.00")))
        .then(CreditCommitted(customer_id="C1", order_id="SO-1", amount=Decimal("17.00")))
    )
    assert state is not None and (state.exposure, state.unbilled) == (Decimal("93.50"), Decimal("93.50"))


def test_a_cancellation_releases_the_cancelled_value() -> None:
    state = (
        accounts.given(COMMITTED)
        .when(ReleaseCredit("C1", "SO-1", Decimal("25.50"), "order_cancelled"))
        .then(CreditReleased(customer_id="C1", order_id="SO-1", amount=Decimal("25.50"), reason="order_cancelled"))
    )
    assert state is not None and (state.exposure, state.unbilled) == (Decimal("51.00"), Decimal("51.00"))


def test_an_issued_invoice_moves_value_from_unbilled_to_receivables() -> None:
    state = (
        accounts.given(COMMITTED)
        .when(BookReceivable("C1", "INV-SH-1", Decimal("76.50"), Decimal("82.81")))
        .then(
            ReceivableBooked(
                customer_id="C1", invoice_id="INV-SH-1", unbilled=Decimal("76.50"), amount=Decimal("82.81")
            )
        )
    )
    assert state is not None and (state.unbilled, state.open_ar, state.invoices) == (
        Decimal("0.00"),
        Decimal("82.81"),
        ("INV-SH-1",),
    )


def test_credit_notes_and_payments_are_booked_as_they_come() -> None:
    accounts.when(BookCreditNote("C1", "CN-RET-1", Decimal("-10.83"), Decimal("1.00"))).then(
        CreditNoteBooked(
            customer_id="C1", credit_note_id="CN-RET-1", amount=Decimal("-10.83"), unapplied=Decimal("1.00")
        )
    )
    accounts.when(BookPayment("C1", "PAY-1", Decimal("50.00"), Decimal("0.00"))).then(
        PaymentBooked(customer_id="C1", payment_id="PAY-1", applied=Decimal("50.00"), unapplied=Decimal("0.00"))
    )


def test_the_functions_infra_calls_record_what_the_decider_does() -> None:
    account = Account("C1")
    assert commit_credit(account, "SO-1", Decimal("76.50")) == [COMMITTED]
    assert release_credit(account, "SO-1", Decimal("1.00"), "order_cancelled") == [
        CreditReleased(customer_id="C1", order_id="SO-1", amount=Decimal("1.00"), reason="order_cancelled")
    ]
