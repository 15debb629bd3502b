"""Payments and returns: allocating cash to open invoices, the account that credit checks read
(EXAMPLES.md section 4), and which shipments a return comes back from."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from decimal import Decimal

import pytest

from domain import order
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
from domain.errors import ExceedsShippedError, InvalidAllocationError
from domain.events import Event
from domain.order import (
    LineAllocation,
    LineQty,
    Order,
    OrderLinesAllocated,
    OrderPlaced,
    OrderReturnRecorded,
    OrderShipmentRecorded,
    PlacedLine,
    ReturnedLine,
    evolve_order,
)
from domain.payment import Allocation, OpenInvoice, PaymentReceived, allocate_payment, receive_payment
from tests.spec import Given, given

D = Decimal
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
    assert (acc.unbilled, acc.exposure, acc.committed) == (D("60.00"), D("60.00"), {"SO-1": D("60.00")})


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


# --- returns: at most what shipped and is not back, oldest shipment first ------------------------------

ACCEPTED = datetime(2025, 3, 3, 9, 30, tzinfo=UTC)
PLACED = OrderPlaced(
    order_id="SO-1",
    customer_id="CAL",
    channel="web",
    warehouse_id=None,
    allow_backorder=True,
    lines=[
        PlacedLine(line_id="1", sku="WIDGET", qty=6, unit_price=D("12.49"), amount=D("74.94")),
        PlacedLine(line_id="2", sku="NUT-4", qty=10, unit_price=D("0.25"), amount=D("2.50")),
    ],
    total=D("77.44"),
    accepted_at=ACCEPTED,
)
ALLOCATED = OrderLinesAllocated(
    order_id="SO-1",
    allocations=[
        LineAllocation(line_id="1", sku="WIDGET", warehouse_id="W-A", qty=6),
        LineAllocation(line_id="2", sku="NUT-4", warehouse_id="W-A", qty=10),
    ],
    reason="placement",
)


def shipped(shipment_id: str, *lines: tuple[str, str, int]) -> OrderShipmentRecorded:
    return OrderShipmentRecorded(
        order_id="SO-1",
        shipment_id=shipment_id,
        warehouse_id="W-A",
        lines=[LineQty(line_id=ln, sku=sku, qty=q) for ln, sku, q in lines],
    )


def returned(return_id: str, *lines: tuple[str, str, str, int], restock: bool = True) -> OrderReturnRecorded:
    return OrderReturnRecorded(
        order_id="SO-1",
        return_id=return_id,
        warehouse_id="W-A",
        restock=restock,
        lines=[ReturnedLine(shipment_id=sid, line_id=ln, sku=sku, qty=q) for sid, ln, sku, q in lines],
    )


SH_1 = shipped("SH-1", ("1", "WIDGET", 2), ("2", "NUT-4", 10))
SH_2 = shipped("SH-2", ("1", "WIDGET", 3))


def an_order(*events: Event) -> Given[Order | None]:
    return given(evolve_order, None, PLACED, ALLOCATED, *events)


def return_of(return_id: str, *lines: tuple[str, int], restock: bool = True) -> Callable[[Order | None], list[Event]]:
    def decide(state: Order | None) -> list[Event]:
        assert state is not None
        return order.record_return(state, return_id, "W-A", restock, order.plan_return(state, list(lines)))

    return decide


def test_a_return_comes_back_from_the_oldest_shipment_first() -> None:
    state = (
        an_order(SH_1, SH_2)
        .when(return_of("RMA-1", ("WIDGET", 4)))
        .then(returned("RMA-1", ("SH-1", "1", "WIDGET", 2), ("SH-2", "1", "WIDGET", 2)))
    )
    assert state is not None
    assert state.line("1").returned == 4
    assert state.returned_lines == {"SH-1": {"1": 2}, "SH-2": {"1": 2}}


def test_a_later_return_skips_what_already_came_back_from_the_oldest_shipment() -> None:
    an_order(SH_1, SH_2, returned("RMA-1", ("SH-1", "1", "WIDGET", 1))).when(
        return_of("RMA-2", ("WIDGET", 2), restock=False)
    ).then(returned("RMA-2", ("SH-1", "1", "WIDGET", 1), ("SH-2", "1", "WIDGET", 1), restock=False))


def test_a_return_of_several_skus_plans_each_line() -> None:
    an_order(SH_1, SH_2).when(return_of("RMA-1", ("NUT-4", 3), ("WIDGET", 1))).then(
        returned("RMA-1", ("SH-1", "2", "NUT-4", 3), ("SH-1", "1", "WIDGET", 1))
    )


def test_everything_shipped_can_come_back() -> None:
    an_order(SH_1, SH_2).when(return_of("RMA-1", ("WIDGET", 5))).then(
        returned("RMA-1", ("SH-1", "1", "WIDGET", 2), ("SH-2", "1", "WIDGET", 3))
    )


def test_returning_more_than_shipped_is_rejected() -> None:
    an_order(SH_1).when(return_of("RMA-1", ("WIDGET", 3))).then_raises(
        ExceedsShippedError, sku="WIDGET", requested=3, returnable=2
    )


def test_returning_more_than_shipped_and_not_yet_returned_is_rejected() -> None:
    an_order(SH_1, SH_2, returned("RMA-1", ("SH-1", "1", "WIDGET", 2), ("SH-2", "1", "WIDGET", 1))).when(
        return_of("RMA-2", ("WIDGET", 3))
    ).then_raises(ExceedsShippedError, sku="WIDGET", requested=3, returnable=2)


def test_returning_an_allocated_but_unshipped_line_is_rejected() -> None:
    an_order(SH_2).when(return_of("RMA-1", ("NUT-4", 1))).then_raises(
        ExceedsShippedError, sku="NUT-4", requested=1, returnable=0
    )


def test_returning_a_sku_the_order_does_not_have_is_rejected() -> None:
    an_order(SH_1).when(return_of("RMA-1", ("BOLT-10", 1))).then_raises(
        ExceedsShippedError, sku="BOLT-10", requested=1, returnable=0
    )


def test_a_rejected_line_rejects_the_whole_return() -> None:
    an_order(SH_1).when(return_of("RMA-1", ("WIDGET", 1), ("NUT-4", 11))).then_raises(
        ExceedsShippedError, sku="NUT-4", requested=11, returnable=10
    )


def test_the_same_sku_twice_in_one_return_counts_both_lines_against_what_shipped() -> None:
    # 2 shipped: two lines of 2 would bring back 4.
    an_order(SH_1).when(return_of("RMA-1", ("WIDGET", 2), ("WIDGET", 2))).then_raises(ExceedsShippedError, sku="WIDGET")


def test_the_same_sku_twice_in_one_return_within_what_shipped_comes_back_from_distinct_units() -> None:
    an_order(SH_1, SH_2).when(return_of("RMA-1", ("WIDGET", 2), ("WIDGET", 1))).then(
        returned("RMA-1", ("SH-1", "1", "WIDGET", 2), ("SH-2", "1", "WIDGET", 1))
    )


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
