"""Balances projection specs: given customer and credit events, then one row per customer."""

from __future__ import annotations

from decimal import Decimal

from domain.customer import (
    ContractPriceSet,
    CreditCommitted,
    CreditNoteBooked,
    CreditReleased,
    CustomerRegistered,
    CustomerRevised,
    PaymentBooked,
    ReceivableBooked,
)
from domain.events import Event
from domain.inventory import StockReceived
from projections.balances import BALANCES, balance_view
from tests.projections.fold import fold, table

BALANCES_TABLE = table(BALANCES.tables, "balances")


def registered(limit: str = "500.00", customer_id: str = "C1") -> CustomerRegistered:
    return CustomerRegistered(
        customer_id=customer_id, name="Acme", credit_limit=Decimal(limit), tax_region="CA", status="active"
    )


def committed(amount: str, order_id: str = "SO-1", customer_id: str = "C1") -> CreditCommitted:
    return CreditCommitted(customer_id=customer_id, order_id=order_id, amount=Decimal(amount))


def released(amount: str, order_id: str = "SO-1") -> CreditReleased:
    return CreditReleased(customer_id="C1", order_id=order_id, amount=Decimal(amount), reason="order_cancelled")


def balance_after(*events: Event) -> dict:
    rows = fold(BALANCES_TABLE, events)
    assert list(rows) == [("C1",)]
    return rows[("C1",)]


def test_a_registered_customer_has_its_credit_limit_and_nothing_owed() -> None:
    assert balance_after(registered("500.00")) == {
        "customer_id": "C1",
        "credit_limit": Decimal("500.00"),
        "unbilled": Decimal("0.00"),
        "open_ar": Decimal("0.00"),
        "unapplied_credit": Decimal("0.00"),
    }


def test_committed_credit_raises_unbilled_order_by_order() -> None:
    row = balance_after(registered(), committed("34.00"), committed("0.25", order_id="SO-2"))
    assert row["unbilled"] == Decimal("34.25")


def test_released_credit_lowers_unbilled() -> None:
    row = balance_after(registered(), committed("34.00"), committed("10.00", "SO-2"), released("34.00"))
    assert row["unbilled"] == Decimal("10.00")
    assert balance_after(registered(), committed("34.00"), released("34.00"))["unbilled"] == Decimal("0.00")


def test_a_revision_changes_the_credit_limit_and_keeps_unbilled() -> None:
    revised = CustomerRevised(
        customer_id="C1", name="Acme Inc", credit_limit=Decimal("900.00"), tax_region="NY", status="blocked"
    )
    row = balance_after(registered("500.00"), committed("34.00"), revised)
    assert (row["credit_limit"], row["unbilled"]) == (Decimal("900.00"), Decimal("34.00"))


def test_each_customer_has_its_own_row() -> None:
    rows = fold(
        BALANCES_TABLE,
        [registered(customer_id="C1"), registered("100.00", "C2"), committed("5.00", customer_id="C2")],
    )
    assert rows[("C1",)]["unbilled"] == Decimal("0.00")
    assert (rows[("C2",)]["credit_limit"], rows[("C2",)]["unbilled"]) == (Decimal("100.00"), Decimal("5.00"))


def test_events_that_are_not_about_credit_touch_no_balance() -> None:
    others: list[Event] = [
        ContractPriceSet(customer_id="C1", sku="BOLT-10", unit_price=Decimal("7.00")),
        StockReceived(sku="BOLT-10", warehouse_id="W-A", receipt_id="R-1", qty=3),
    ]
    assert [BALANCES_TABLE.keys_for(e) for e in others] == [[], []]
    assert balance_after(registered(), *others) == balance_after(registered())


def test_an_issued_invoice_moves_its_goods_value_from_unbilled_to_open_receivables() -> None:
    booked = ReceivableBooked(
        customer_id="C1", invoice_id="INV-SH-1", unbilled=Decimal("49.96"), amount=Decimal("61.63")
    )
    row = balance_after(registered(), committed("99.92"), booked)
    assert (row["unbilled"], row["open_ar"]) == (Decimal("49.96"), Decimal("61.63"))


def test_credit_notes_and_payments_lower_open_receivables_and_overpayment_is_unapplied_credit() -> None:
    booked = ReceivableBooked(
        customer_id="C1", invoice_id="INV-SH-1", unbilled=Decimal("49.96"), amount=Decimal("61.63")
    )
    credit = CreditNoteBooked(customer_id="C1", credit_note_id="CN-RET-1", amount=Decimal("-13.40"))
    paid = PaymentBooked(customer_id="C1", payment_id="PAY-1", applied=Decimal("48.23"), unapplied=Decimal("1.77"))
    row = balance_after(registered(), committed("49.96"), booked, credit, paid)
    assert (row["unbilled"], row["open_ar"], row["unapplied_credit"]) == (
        Decimal("0.00"),
        Decimal("0.00"),
        Decimal("1.77"),
    )


def test_a_credit_note_its_invoices_cannot_take_is_unapplied_credit_and_open_ar_stays_at_zero() -> None:
    """Issue 11: a 53.58 note for units of a paid invoice; the customer still owes 26.79 elsewhere."""
    first = ReceivableBooked(
        customer_id="C1", invoice_id="INV-SH-1", unbilled=Decimal("49.96"), amount=Decimal("61.63")
    )
    paid = PaymentBooked(customer_id="C1", payment_id="PAY-1", applied=Decimal("61.63"), unapplied=Decimal("0.00"))
    second = ReceivableBooked(
        customer_id="C1", invoice_id="INV-SH-2", unbilled=Decimal("24.98"), amount=Decimal("26.79")
    )
    credit = CreditNoteBooked(
        customer_id="C1", credit_note_id="CN-RMA-1", amount=Decimal("-53.58"), unapplied=Decimal("53.58")
    )
    row = balance_after(registered(), committed("74.94"), first, paid, second, credit)
    assert (row["open_ar"], row["unapplied_credit"]) == (Decimal("26.79"), Decimal("53.58"))
    view = balance_view(row, "USD")
    assert (view["open_ar"], view["exposure"], view["unapplied_credit"]) == ("26.79", "26.79", "53.58")


def test_balances_over_hundreds_of_the_largest_orders_are_exact() -> None:
    order_cents = 500 * 1_000_000_000 * 99999999999999  # 500 lines of 1e9 x 999,999,999,999.99
    orders = [committed(str(Decimal(order_cents).scaleb(-2)), f"SO-{n}") for n in range(201)]
    row = balance_after(registered("999999999999.99"), *orders)
    unbilled = 201 * order_cents
    assert row["unbilled"] == Decimal(unbilled).scaleb(-2)
    view = balance_view(row, "USD")
    assert view["unbilled"] == view["exposure"] == "100499999999998995000000000.00"
    whole, cents = divmod(unbilled - 99999999999999, 100)
    assert view["credit_available"] == f"-{whole}.{cents:02d}"


def test_balance_view_of_examples_md_section_4() -> None:
    """open_ar 320.00 and unbilled 100.00 against a 500.00 limit; a 90.00 order goes over."""
    row = {**balance_after(registered("500.00"), committed("100.00"), committed("90.00", "SO-2"))}
    row["open_ar"] = Decimal("320.00")
    assert balance_view(row, "USD") == {
        "customer_id": "C1",
        "currency": "USD",
        "credit_limit": "500.00",
        "open_ar": "320.00",
        "unbilled": "190.00",
        "exposure": "510.00",
        "credit_available": "-10.00",
        "unapplied_credit": "0.00",
    }
