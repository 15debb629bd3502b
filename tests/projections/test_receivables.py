"""The receivables read model: dated movement rows, and aging and statements computed from them as of
any date (what was dated up to it), exact to the cent."""

from __future__ import annotations

from datetime import date
from decimal import Decimal as D

from domain import invoice
from domain.payment import Allocation, CreditApplied, PaymentReceived
from projections.receivables import RECEIVABLES, aging_of, overdue_by_bucket, statement_of
from tests.projections.fold import fold

TABLE = RECEIVABLES.tables[0]
MAR_2 = date(2026, 3, 2)


def issued(
    invoice_id: str, number: int, total: str, on: date, due: date, customer_id: str = "C1"
) -> invoice.InvoiceIssued:
    return invoice.InvoiceIssued(
        invoice_id=invoice_id, customer_id=customer_id, order_id="SO-1", number=number, tax=D("0.00"),
        tax_rate=D("0"), total=D(total), subtotal=D(total), attempts=1, issued_on=on, due_date=due,
    )  # fmt: skip


def paid(payment_id: str, amount: str, on: date, *applied: tuple[str, str]) -> PaymentReceived:
    allocations = [Allocation(invoice_id=i, amount=D(a)) for i, a in applied]
    left = D(amount) - sum((D(a) for _, a in applied), D("0.00"))
    return PaymentReceived(
        payment_id=payment_id, customer_id="C1", amount=D(amount), applied=allocations, unapplied=left, received_on=on
    )


def credit_note(cn: str, total: str, on: date, applies_to: dict[str, str], unapplied: str) -> invoice.CreditNoteIssued:
    return invoice.CreditNoteIssued(
        invoice_id=cn, return_id=cn[3:], order_id="SO-1", customer_id="C1", number=1, lines=[], subtotal=D(total),
        tax=D("0.00"), total=D(total), applies_to={k: D(v) for k, v in applies_to.items()}, unapplied=D(unapplied),
        issued_on=on,
    )  # fmt: skip


EVENTS = [
    issued("INV-1", 1, "100.00", MAR_2, date(2026, 4, 1)),
    issued("INV-2", 2, "50.00", date(2026, 3, 5), date(2026, 3, 5)),  # due on issue
    paid("P-1", "120.00", date(2026, 4, 10), ("INV-1", "100.00"), ("INV-2", "20.00")),
    credit_note("CN-R1", "-40.00", date(2026, 4, 20), {"INV-2": "30.00"}, "10.00"),
]


def rows() -> list[dict[str, object]]:
    return list(fold(TABLE, EVENTS).values())


def test_aging_as_of_a_past_date_counts_only_what_was_dated_up_to_it() -> None:
    before = aging_of(rows(), date(2026, 3, 31), "USD")
    c1 = before["customers"][0]
    assert (c1["current"], c1["days_1_30"], c1["total"], c1["unapplied_credit"]) == (
        "100.00",
        "50.00",
        "150.00",
        "0.00",
    )
    later = aging_of(rows(), date(2026, 4, 15), "USD")["customers"][0]  # P-1 is in: INV-2 has 30.00 left, 41 days
    assert (later["days_31_60"], later["current"], later["total"]) == ("30.00", "0.00", "30.00")
    settled = aging_of(rows(), date(2026, 4, 30), "USD")
    assert settled["customers"][0]["total"] == "0.00" and settled["customers"][0]["unapplied_credit"] == "10.00"
    assert settled["totals"]["unapplied_credit"] == "10.00"


def test_customers_with_nothing_open_and_no_credit_are_left_out_and_buckets_follow_days_past_due() -> None:
    assert aging_of(rows(), date(2026, 3, 1), "USD")["customers"] == []
    old = [issued(f"INV-{d}", d, "1.00", date(2026, 1, 1), date(2026, 1, 1), "C9") for d in (1, 2)]
    found = fold(TABLE, old)
    for as_of, bucket in [(date(2026, 1, 1), "current"), (date(2026, 1, 31), "days_1_30"),
                          (date(2026, 3, 2), "days_31_60"), (date(2026, 4, 1), "days_61_90"),
                          (date(2026, 4, 2), "days_over_90")]:  # fmt: skip
        assert aging_of(found.values(), as_of, "USD")["totals"][bucket] == "2.00", (as_of, bucket)
    assert overdue_by_bucket(found.values(), date(2026, 4, 2)) == {
        "days_1_30": D("0.00"), "days_31_60": D("0.00"), "days_61_90": D("0.00"), "days_over_90": D("2.00"),
    }  # fmt: skip


def test_statement_lines_run_oldest_first_with_opening_and_closing_balances() -> None:
    body = statement_of(rows(), "C1", date(2026, 3, 3), date(2026, 4, 30), "USD")
    assert body["opening_balance"] == "100.00"
    lines = [(ln["date"], ln["kind"], ln["ref"], ln["amount"], ln["balance"]) for ln in body["lines"]]
    assert lines == [
        ("2026-03-05", "invoice", "INV-2", "50.00", "150.00"),
        ("2026-04-10", "payment", "P-1", "-120.00", "30.00"),
        ("2026-04-20", "credit_note", "CN-R1", "-40.00", "-10.00"),
    ]
    assert body["closing_balance"] == "-10.00"
    empty = statement_of(rows(), "C1", date(2026, 5, 1), date(2026, 5, 31), "USD")
    assert (empty["opening_balance"], empty["lines"], empty["closing_balance"]) == ("-10.00", [], "-10.00")


def test_a_discount_and_a_credit_application_show_where_they_belong() -> None:
    more = [
        issued("INV-3", 3, "100.00", MAR_2, date(2026, 4, 1)),
        paid("P-2", "98.00", date(2026, 3, 10), ("INV-3", "98.00")),
        invoice.DiscountTaken(invoice_id="INV-3", customer_id="C1", payment_id="P-2", amount=D("2.00"), on=date(2026, 3, 10)),
        issued("INV-4", 4, "30.00", MAR_2, date(2026, 4, 1)),
        paid("P-3", "50.00", date(2026, 3, 3)),
        CreditApplied(application_id="A-1", customer_id="C1", applied=[Allocation(invoice_id="INV-4", amount=D("30.00"))], amount=D("30.00"), on=date(2026, 3, 11)),
    ]  # fmt: skip
    found = list(fold(TABLE, more).values())
    mid = aging_of(found, date(2026, 3, 10), "USD")["customers"][0]
    assert (mid["total"], mid["unapplied_credit"]) == ("30.00", "50.00")
    end = aging_of(found, date(2026, 3, 11), "USD")["customers"][0]
    assert (end["total"], end["unapplied_credit"]) == ("0.00", "20.00")
    kinds = [ln["kind"] for ln in statement_of(found, "C1", MAR_2, date(2026, 3, 31), "USD")["lines"]]
    assert kinds == ["invoice", "invoice", "payment", "payment", "discount"]  # no line for applying credit
    assert statement_of(found, "C1", MAR_2, date(2026, 3, 31), "USD")["closing_balance"] == "-20.00"
