"""The account that credit checks read (EXAMPLES.md section 4): exposure = unbilled + open
receivables, as the booking events move it."""

from __future__ import annotations

import pickle
from decimal import Decimal as D

from domain.customer import (
    Account,
    CreditCommitted,
    CreditNoteBooked,
    CreditReleased,
    Customer,
    PaymentBooked,
    ReceivableBooked,
    evolve_account,
    is_over_limit,
)
from domain.events import Event
from tests.spec import given

# --- the account: exposure = unbilled + open receivables --------------------------------------------


def committed(order_id: str, amount: str) -> CreditCommitted:
    return CreditCommitted(customer_id="CAL", order_id=order_id, amount=D(amount))


def booked(invoice_id: str, unbilled: str, amount: str) -> ReceivableBooked:
    return ReceivableBooked(customer_id="CAL", invoice_id=invoice_id, unbilled=D(unbilled), amount=D(amount))


def account(*events: Event) -> Account:
    state = given(evolve_account, None, *events).state
    assert state is not None
    return state


CAL = Customer("CAL", "Cal Co", D("500.00"), "CA", "active")


def test_an_accepted_order_counts_as_unbilled() -> None:
    acc = account(committed("SO-1", "320.00"), committed("SO-2", "100.00"))
    assert (acc.unbilled, acc.open_ar, acc.exposure) == (D("420.00"), D("0.00"), D("420.00"))


def test_an_issued_invoice_moves_goods_value_from_unbilled_to_open_receivables_with_freight_and_tax() -> None:
    acc = account(committed("SO-1", "74.94"), booked("INV-SH-1", "49.96", "61.63"))
    assert (acc.unbilled, acc.open_ar, acc.exposure) == (D("24.98"), D("61.63"), D("86.61"))


def test_a_credit_note_lowers_open_receivables() -> None:
    acc = account(
        committed("SO-1", "49.96"),
        booked("INV-SH-1", "49.96", "61.63"),
        CreditNoteBooked(customer_id="CAL", credit_note_id="CN-RMA-1", amount=D("-13.40")),
    )
    assert (acc.unbilled, acc.open_ar, acc.exposure) == (D("0.00"), D("48.23"), D("48.23"))


def test_a_credit_note_bigger_than_what_its_invoices_owe_leaves_the_rest_as_unapplied_credit() -> None:
    """Issue 11: the invoice was paid; the 53.58 note takes nothing off it and all of it is credit."""
    acc = account(
        committed("SO-1", "74.94"),
        booked("INV-SH-1", "49.96", "61.63"),
        PaymentBooked(customer_id="CAL", payment_id="PAY-1", applied=D("61.63"), unapplied=D("0.00")),
        booked("INV-SH-2", "24.98", "26.79"),
        CreditNoteBooked(customer_id="CAL", credit_note_id="CN-RMA-1", amount=D("-53.58"), unapplied=D("53.58")),
    )
    assert (acc.open_ar, acc.unapplied_credit, acc.exposure) == (D("26.79"), D("53.58"), D("26.79"))


def test_a_credit_note_partly_applied_lowers_open_receivables_by_that_part_alone() -> None:
    acc = account(
        committed("SO-1", "49.96"),
        booked("INV-SH-1", "49.96", "61.63"),
        PaymentBooked(customer_id="CAL", payment_id="PAY-1", applied=D("50.00"), unapplied=D("0.00")),
        CreditNoteBooked(customer_id="CAL", credit_note_id="CN-RMA-1", amount=D("-53.58"), unapplied=D("41.95")),
    )
    assert (acc.open_ar, acc.unapplied_credit) == (D("0.00"), D("41.95"))


def test_a_payment_lowers_open_receivables_and_its_rest_is_unapplied_credit() -> None:
    acc = account(
        committed("SO-1", "49.96"),
        booked("INV-SH-1", "49.96", "61.63"),
        PaymentBooked(customer_id="CAL", payment_id="PAY-1", applied=D("61.63"), unapplied=D("8.37")),
    )
    assert (acc.open_ar, acc.unapplied_credit, acc.exposure) == (D("0.00"), D("8.37"), D("0.00"))


def test_released_credit_lowers_unbilled() -> None:
    acc = account(
        committed("SO-1", "100.00"), CreditReleased(customer_id="CAL", order_id="SO-1", amount=D("40.00"), reason="x")
    )
    assert (acc.unbilled, acc.exposure) == (D("60.00"), D("60.00"))


def test_the_account_does_not_grow_with_the_orders_it_has_seen() -> None:
    """What each order adds is in `unbilled`: a year of orders leaves the state as small as one."""
    release = [CreditReleased(customer_id="CAL", order_id=f"SO-{i}", amount=D("1.00"), reason="x") for i in range(500)]
    many = account(*[committed(f"SO-{i}", "3.00") for i in range(500)], *release)
    one = account(committed("SO-0", "1000.00"))
    assert many.unbilled == D("1000.00") == one.unbilled
    assert len(pickle.dumps(many)) == len(pickle.dumps(one))


def test_booking_events_open_an_account_that_did_not_exist_yet() -> None:
    acc = account(PaymentBooked(customer_id="CAL", payment_id="PAY-1", applied=D("0.00"), unapplied=D("20.00")))
    assert acc == Account("CAL", unapplied_credit=D("20.00"))


def example_4_account() -> Account:
    """Limit 500.00, issued and unpaid 320.00, accepted but not invoiced 100.00 (EXAMPLES.md section 4)."""
    return account(committed("SO-1", "320.00"), committed("SO-2", "100.00"), booked("INV-SH-1", "320.00", "320.00"))


def test_example_4_an_order_that_takes_exposure_over_the_limit_is_over_it() -> None:
    acc = example_4_account()
    assert (acc.open_ar, acc.unbilled, acc.exposure) == (D("320.00"), D("100.00"), D("420.00"))
    assert is_over_limit(CAL, acc, D("90.00"))
    held = evolve_account(acc, committed("SO-3", "90.00"))
    assert held is not None and held.exposure == D("510.00")
    assert CAL.credit_limit - held.exposure == D("-10.00")


def test_example_4_an_order_that_takes_exposure_exactly_to_the_limit_is_not_over_it() -> None:
    assert not is_over_limit(CAL, example_4_account(), D("80.00"))


def test_open_receivables_count_against_credit_until_they_are_paid() -> None:
    acc = example_4_account()
    paid = evolve_account(acc, PaymentBooked(customer_id="CAL", payment_id="P", applied=D("10.00"), unapplied=D(0)))
    assert paid is not None and paid.exposure == D("410.00")
    assert not is_over_limit(CAL, paid, D("90.00"))


def test_a_customer_without_an_account_has_no_exposure() -> None:
    assert not is_over_limit(CAL, None, D("500.00"))
    assert is_over_limit(CAL, None, D("500.01"))


def test_exposure_over_hundreds_of_the_largest_orders_is_exact_and_checked_exactly() -> None:
    order_cents = 500 * 1_000_000_000 * 99999999999999  # 500 lines of 1e9 x 999,999,999,999.99
    order_value = D(order_cents).scaleb(-2)
    acc = account(*(committed(f"SO-{n}", str(order_value)) for n in range(201)))
    assert acc.unbilled == acc.exposure == D(201 * order_cents).scaleb(-2)
    assert str(acc.exposure) == "100499999999998995000000000.00"
    limit = D(202 * order_cents).scaleb(-2)  # room for exactly one more such order
    big = Customer("CAL", "Cal Co", limit, "CA", "active")
    assert not is_over_limit(big, acc, order_value)
    assert is_over_limit(big, acc, order_value + D("0.01"))
