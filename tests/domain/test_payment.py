"""Payments: allocating cash to open invoices, oldest first or as the payment says. The account that
credit checks read is in test_account_exposure.py, which shipments a return comes back from in
test_order_returns.py."""

from __future__ import annotations

from decimal import Decimal as D

import pytest

from domain.errors import InvalidAllocationError
from domain.payment import Allocation, OpenInvoice, PaymentReceived, allocate_payment, receive_payment
from tests.spec import given

INV_1 = OpenInvoice("INV-SH-1", 1, D("61.63"))
INV_2 = OpenInvoice("INV-SH-2", 2, D("24.98"))
INV_3 = OpenInvoice("INV-SH-3", 3, D("10.00"))


def alloc(invoice_id: str, amount: str) -> Allocation:
    return Allocation(invoice_id=invoice_id, amount=D(amount))


# --- allocation without instructions: oldest number first ----------------------------------------


def test_a_payment_goes_to_the_oldest_invoice_by_number_first() -> None:
    applied = allocate_payment(D("70.00"), [INV_3, INV_2, INV_1], None)
    assert applied == [alloc("INV-SH-1", "61.63"), alloc("INV-SH-2", "8.37")]


def test_a_payment_smaller_than_the_oldest_balance_goes_to_the_oldest_invoice_alone() -> None:
    assert allocate_payment(D("0.01"), [INV_2, INV_1], None) == [alloc("INV-SH-1", "0.01")]


def test_a_payment_that_exactly_clears_every_invoice_leaves_nothing_over() -> None:
    applied = allocate_payment(D("96.61"), [INV_1, INV_2, INV_3], None)
    assert applied == [alloc("INV-SH-1", "61.63"), alloc("INV-SH-2", "24.98"), alloc("INV-SH-3", "10.00")]


def test_what_no_open_invoice_takes_is_left_unapplied() -> None:
    applied = allocate_payment(D("100.00"), [INV_1, INV_2, INV_3], None)
    assert sum((a.amount for a in applied), D(0)) == D("96.61")
    [received] = receive_payment("PAY-1", "CAL", D("100.00"), applied)
    assert isinstance(received, PaymentReceived) and received.unapplied == D("3.39")


def test_a_payment_with_no_open_invoices_is_all_unapplied_credit() -> None:
    applied = allocate_payment(D("25.00"), [], None)
    assert applied == []
    given(lambda s, e: s, None).when(lambda _: receive_payment("PAY-1", "CAL", D("25.00"), applied)).then(
        PaymentReceived(payment_id="PAY-1", customer_id="CAL", amount=D("25.00"), applied=[], unapplied=D("25.00"))
    )


def test_an_invoice_with_nothing_left_to_pay_takes_nothing() -> None:
    settled = OpenInvoice("INV-SH-0", 0, D("0.00"))
    assert allocate_payment(D("5.00"), [settled, INV_1], None) == [alloc("INV-SH-1", "5.00")]


def test_the_payment_event_records_what_was_applied_and_the_rest() -> None:
    applied = [alloc("INV-SH-1", "61.63"), alloc("INV-SH-2", "8.37")]
    given(lambda s, e: s, None).when(lambda _: receive_payment("PAY-1", "CAL", D("70.00"), applied)).then(
        PaymentReceived(payment_id="PAY-1", customer_id="CAL", amount=D("70.00"), applied=applied, unapplied=D("0.00"))
    )


# --- explicit allocations -------------------------------------------------------------------------------


def test_explicit_allocations_are_applied_as_asked_whatever_the_invoice_age() -> None:
    asked = [alloc("INV-SH-3", "10.00"), alloc("INV-SH-1", "5.00")]
    assert allocate_payment(D("20.00"), [INV_1, INV_2, INV_3], asked) == asked


def test_explicit_allocations_may_each_take_a_whole_balance_and_sum_to_the_whole_amount() -> None:
    asked = [alloc("INV-SH-2", "24.98"), alloc("INV-SH-3", "10.00")]
    assert allocate_payment(D("34.98"), [INV_1, INV_2, INV_3], asked) == asked


def test_an_empty_allocation_list_leaves_the_whole_payment_unapplied() -> None:
    assert allocate_payment(D("20.00"), [INV_1], []) == []


def test_an_allocation_above_the_invoices_balance_is_rejected() -> None:
    with pytest.raises(InvalidAllocationError) as caught:
        allocate_payment(D("100.00"), [INV_1, INV_3], [alloc("INV-SH-3", "10.01")])
    assert caught.value.facts == {"invoice_id": "INV-SH-3", "balance": "10.00"}


def test_allocations_summing_to_more_than_the_payment_are_rejected() -> None:
    with pytest.raises(InvalidAllocationError) as caught:
        allocate_payment(D("15.00"), [INV_1, INV_3], [alloc("INV-SH-1", "10.00"), alloc("INV-SH-3", "5.01")])
    assert caught.value.facts == {"allocated": "15.01", "amount": "15.00"}


@pytest.mark.parametrize("amount", ["0.00", "-1.00"])
def test_an_allocation_of_zero_or_less_is_rejected(amount: str) -> None:
    with pytest.raises(InvalidAllocationError) as caught:
        allocate_payment(D("5.00"), [INV_1], [alloc("INV-SH-1", amount)])
    assert caught.value.facts["invoice_id"] == "INV-SH-1"


def test_an_allocation_to_an_unknown_or_not_open_invoice_is_rejected() -> None:
    with pytest.raises(InvalidAllocationError) as caught:
        allocate_payment(D("5.00"), [INV_1], [alloc("INV-NOPE", "1.00")])
    assert caught.value.facts == {"invoice_id": "INV-NOPE"}


def test_the_same_invoice_allocated_twice_is_rejected() -> None:
    with pytest.raises(InvalidAllocationError) as caught:
        allocate_payment(D("5.00"), [INV_1], [alloc("INV-SH-1", "1.00"), alloc("INV-SH-1", "1.00")])
    assert caught.value.facts == {"invoice_id": "INV-SH-1"}


@pytest.mark.parametrize("amount", ["0.00", "-0.01", "-50.00"])
@pytest.mark.parametrize("requested", [None, [alloc("INV-SH-1", "1.00")]], ids=["oldest first", "explicit"])
def test_a_payment_of_zero_or_less_is_rejected(amount: str, requested: list[Allocation] | None) -> None:
    with pytest.raises(InvalidAllocationError) as caught:
        allocate_payment(D(amount), [INV_1], requested)
    assert caught.value.code == "invalid_allocation" and caught.value.category == "rejected"
