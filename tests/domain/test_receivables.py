"""Receivables rules: allocation by earliest due date, settlement within the discount window,
applying unapplied credit, the account's open items (for the overdue hold) and dunning levels."""

from __future__ import annotations

from datetime import date
from decimal import Decimal as D

from domain import customer, dunning
from domain.customer import Account, DiscountBooked, PaymentBooked, ReceivableBooked, evolve_account
from domain.payment import (
    Allocation,
    CreditApplied,
    OpenInvoice,
    allocate_payment,
    apply_credit,
    discount_open,
    discounts,
)
from tests.spec import given

MAR_12 = date(2026, 3, 12)


def alloc(invoice_id: str, amount: str) -> Allocation:
    return Allocation(invoice_id=invoice_id, amount=D(amount))


def test_without_allocations_the_earliest_due_invoice_goes_first_then_the_lower_number() -> None:
    late_due = OpenInvoice("INV-1", 1, D("50.00"), date(2026, 5, 1))
    early_due = OpenInvoice("INV-2", 2, D("30.00"), date(2026, 4, 1))
    same_due = OpenInvoice("INV-3", 3, D("10.00"), date(2026, 4, 1))
    applied = allocate_payment(D("45.00"), [late_due, same_due, early_due], None)
    assert applied == [alloc("INV-2", "30.00"), alloc("INV-3", "10.00"), alloc("INV-1", "5.00")]


def test_within_the_window_an_invoice_needs_only_its_balance_less_the_discount() -> None:
    inv = OpenInvoice(
        "INV-1", 1, D("1109.56"), date(2026, 4, 1), discount_open(D("1109.56"), D("22.19"), MAR_12, date(2026, 3, 11))
    )
    nxt = OpenInvoice("INV-2", 2, D("10.00"), date(2026, 4, 2))
    applied = allocate_payment(D("1090.00"), [inv, nxt], None)
    assert applied == [alloc("INV-1", "1087.37"), alloc("INV-2", "2.63")]
    assert discounts([inv, nxt], applied) == {"INV-1": D("22.19")}


def test_after_the_window_there_is_no_discount() -> None:
    assert discount_open(D("1109.56"), D("22.19"), MAR_12, date(2026, 3, 13)) == D("0.00")
    assert discount_open(D("1109.56"), D("22.19"), MAR_12, MAR_12) == D("22.19")  # on the last day: yes
    assert discount_open(D("1109.56"), None, None, MAR_12) == D("0.00")


def test_an_explicit_allocation_that_reaches_the_need_settles_with_the_rest_as_discount() -> None:
    inv = OpenInvoice("INV-1", 1, D("100.00"), date(2026, 4, 1), D("2.00"))
    assert discounts([inv], [alloc("INV-1", "99.00")]) == {"INV-1": D("1.00")}
    assert discounts([inv], [alloc("INV-1", "97.99")]) == {}  # short of the need: no discount
    assert discounts([inv], [alloc("INV-1", "100.00")]) == {}  # paid in full: nothing to discount


def test_credit_is_applied_earliest_due_first_and_nothing_is_recorded_without_credit_or_open_invoices() -> None:
    a = OpenInvoice("INV-1", 1, D("40.00"), date(2026, 5, 1))
    b = OpenInvoice("INV-2", 2, D("25.00"), date(2026, 4, 1))
    events = apply_credit("APP-1", "C1", D("30.00"), [a, b], MAR_12)
    applied = [alloc("INV-2", "25.00"), alloc("INV-1", "5.00")]
    assert events == [
        CreditApplied(application_id="APP-1", customer_id="C1", applied=applied, amount=D("30.00"), on=MAR_12)
    ]
    assert apply_credit("APP-2", "C1", D("0.00"), [a, b], MAR_12) == []
    assert apply_credit("APP-3", "C1", D("5.00"), [], MAR_12) == []


# --- the account: open_ar, unapplied credit and open items with due dates ----------------------------


def booked(invoice_id: str, amount: str, due: date) -> ReceivableBooked:
    return ReceivableBooked(customer_id="C1", invoice_id=invoice_id, unbilled=D(amount), amount=D(amount), due_date=due)


def test_the_account_keeps_the_oldest_due_date_of_what_is_still_open() -> None:
    acc = given(
        evolve_account,
        None,
        customer.CreditCommitted(customer_id="C1", order_id="SO-1", amount=D("150.00")),
        booked("INV-1", "100.00", date(2026, 3, 1)),
        booked("INV-2", "50.00", date(2026, 3, 20)),
    ).state
    assert acc is not None and acc.oldest_due() == date(2026, 3, 1)
    assert acc.days_past_due(date(2026, 3, 11)) == 10
    paid = evolve_account(
        acc,
        PaymentBooked(customer_id="C1", payment_id="P-1", applied=D("98.00"), unapplied=D("0.00"),
                      allocations=[alloc("INV-1", "98.00")]),
    )  # fmt: skip
    assert paid is not None and paid.oldest_due() == date(2026, 3, 1)  # 2.00 still open
    settled = evolve_account(
        paid, DiscountBooked(customer_id="C1", invoice_id="INV-1", payment_id="P-1", amount=D("2.00"))
    )
    assert settled is not None and settled.oldest_due() == date(2026, 3, 20)
    assert settled.open_ar == D("50.00")


def test_applied_credit_moves_from_unapplied_credit_to_open_receivables() -> None:
    acc = Account(
        "C1", open_ar=D("40.00"), unapplied_credit=D("30.00"), due={"INV-1": MAR_12}, open_items={"INV-1": D("40.00")}
    )
    used = evolve_account(
        acc,
        CreditApplied(
            application_id="A", customer_id="C1", applied=[alloc("INV-1", "30.00")], amount=D("30.00"), on=MAR_12
        ),
    )
    assert used is not None
    assert (used.open_ar, used.unapplied_credit, used.open_items) == (D("10.00"), D("0.00"), {"INV-1": D("10.00")})


# --- dunning ---------------------------------------------------------------------------------------


def overdue(days: int, open_: str = "100.00", invoice_id: str = "INV-1") -> dunning.OverdueInvoice:
    due = date.fromordinal(MAR_12.toordinal() - days)
    return dunning.OverdueInvoice(invoice_id=invoice_id, number=1, due_date=due, open=D(open_), days_past_due=days)


THRESHOLDS = (7, 21, 45)


def test_levels_follow_the_most_overdue_invoice() -> None:
    assert [dunning.level_for(d, THRESHOLDS) for d in (0, 6, 7, 20, 21, 44, 45, 400)] == [0, 0, 1, 1, 2, 2, 3, 3]


def test_a_notice_is_issued_once_per_level_and_date_and_resolved_when_nothing_is_past_due() -> None:
    state = dunning.Dunning("C1")
    first = dunning.run(state, MAR_12, [overdue(8), overdue(1, "20.00", "INV-2")], THRESHOLDS)
    notice = dunning.DunningNoticeIssued(
        customer_id="C1",
        level=1,
        as_of=MAR_12,
        invoices=[overdue(8), overdue(1, "20.00", "INV-2")],
        total_overdue=D("120.00"),
    )
    assert first == [notice]
    state = dunning.evolve_dunning(state, notice)
    assert dunning.run(state, MAR_12, [overdue(8), overdue(1, "20.00", "INV-2")], THRESHOLDS) == []  # run twice
    assert dunning.run(state, MAR_12, [overdue(3)], THRESHOLDS) == []  # not past a new level
    resolved = dunning.run(state, MAR_12, [overdue(0)], THRESHOLDS)
    assert resolved == [dunning.DunningResolved(customer_id="C1", as_of=MAR_12, previous_level=1)]
    assert dunning.evolve_dunning(state, resolved[0]).level == 0
    assert dunning.run(dunning.Dunning("C2"), MAR_12, [], THRESHOLDS) == []
