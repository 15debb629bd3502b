"""The journal: given a receivable event, when it is posted, then this entry (API.md "Posting to finance").

Each kind has its rule: invoice Dr ar / Cr revenue, freight, tax; credit note Dr revenue, tax / Cr ar,
unapplied; payment Dr cash / Cr ar, unapplied; discount Dr discounts / Cr ar; credit application
Dr unapplied / Cr ar. Zero lines are left out, every entry balances, and an entry's stream records it once.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal as D

import pytest
from hypothesis import given as for_all
from hypothesis import settings
from hypothesis import strategies as st

from domain import journal
from domain.invoice.events import CreditNoteIssued, DiscountTaken, InvoiceIssued, InvoiceLine, PaymentApplied
from domain.journal import (
    DEFAULT_ACCOUNTS,
    Accounts,
    EntrySource,
    JournalEntryPosted,
    JournalLine,
    PostJournalEntry,
    UnbalancedEntryError,
    balanced,
    entry_for,
)
from domain.payment import Allocation, CreditApplied, PaymentReceived
from tests.spec import spec

RECORDED = date(2026, 12, 2)  # the day the source was recorded (the fallback date)
ISSUED = date(2026, 11, 30)


def dr(account: str, amount: str) -> JournalLine:
    return JournalLine(account=account, debit=D(amount), credit=D("0.00"))


def cr(account: str, amount: str) -> JournalLine:
    return JournalLine(account=account, debit=D("0.00"), credit=D(amount))


def issued(
    total: str = "119.26", subtotal: str = "100.00", tax: str = "7.26", on: date | None = ISSUED
) -> InvoiceIssued:
    return InvoiceIssued(
        invoice_id="INV-SH-1",
        customer_id="C1",
        order_id="SO-1",
        number=7,
        tax=D(tax),
        tax_rate=D("0.0725"),
        total=D(total),
        subtotal=D(subtotal),
        attempts=1,
        issued_on=on,
    )


def posted(event: object, accounts: Accounts = DEFAULT_ACCOUNTS) -> JournalEntryPosted:
    entry = entry_for(event, accounts, RECORDED)  # type: ignore[arg-type]
    assert entry is not None
    assert balanced(entry), entry
    assert all(ln.debit >= 0 and ln.credit >= 0 and (ln.debit == 0) != (ln.credit == 0) for ln in entry.lines)
    return entry


# --- invoices -----------------------------------------------------------------------------------


def test_an_invoice_debits_ar_its_total_and_credits_revenue_freight_and_tax() -> None:
    # 100.00 of goods + 12.00 freight, tax 7.26 on 112.00 (rounded once): total 119.26
    assert posted(issued()) == JournalEntryPosted(
        entry_id="JE-invoice-INV-SH-1",
        posted_on=ISSUED,
        source=EntrySource(kind="invoice", id="INV-SH-1"),
        customer_id="C1",
        memo="Invoice 7 (INV-SH-1) for order SO-1",
        lines=[dr("1200", "119.26"), cr("4000", "100.00"), cr("4100", "12.00"), cr("2200", "7.26")],
    )


def test_an_invoice_without_freight_or_tax_has_no_zero_lines() -> None:
    entry = posted(issued(total="100.00", tax="0.00"))
    assert entry.lines == [dr("1200", "100.00"), cr("4000", "100.00")]


def test_an_invoice_issued_before_terms_existed_is_posted_on_the_day_it_was_recorded() -> None:
    assert posted(issued(on=None)).posted_on == RECORDED


def test_an_invoice_of_nothing_posts_an_entry_without_lines() -> None:
    entry = posted(issued(total="0.00", subtotal="0.00", tax="0.00"))
    assert entry.entry_id == "JE-invoice-INV-SH-1" and entry.lines == []


def test_the_accounts_come_from_the_chart_given() -> None:
    chart = Accounts(ar="A1", cash="C1", unapplied="U1", tax="T1", revenue="R1", freight="F1", discounts="D1")
    assert posted(issued(), chart).lines == [
        dr("A1", "119.26"),
        cr("R1", "100.00"),
        cr("F1", "12.00"),
        cr("T1", "7.26"),
    ]


# --- credit notes -------------------------------------------------------------------------------


def credit_note(applies_to: dict[str, str], unapplied: str) -> CreditNoteIssued:
    return CreditNoteIssued(
        invoice_id="CN-RMA-1",
        return_id="RMA-1",
        order_id="SO-1",
        customer_id="C1",
        number=3,
        lines=[InvoiceLine(sku="BOLT-10", qty=-2, unit_price=D("10.00"), amount=D("-20.00"), line_id="1")],
        subtotal=D("-20.00"),
        tax=D("-1.45"),
        total=D("-21.45"),
        applies_to={k: D(v) for k, v in applies_to.items()},
        unapplied=D(unapplied),
    )


def test_a_credit_note_applied_in_full_debits_revenue_and_tax_and_credits_ar() -> None:
    assert posted(credit_note({"INV-SH-1": "21.45"}, "0.00")) == JournalEntryPosted(
        entry_id="JE-credit_note-CN-RMA-1",
        posted_on=RECORDED,  # credit notes carry no date of their own: the day they were recorded
        source=EntrySource(kind="credit_note", id="CN-RMA-1"),
        customer_id="C1",
        memo="Credit note 3 (CN-RMA-1) for return RMA-1",
        lines=[dr("4000", "20.00"), dr("2200", "1.45"), cr("1200", "21.45")],
    )


def test_a_credit_note_for_paid_invoices_credits_unapplied_what_they_could_not_take() -> None:
    entry = posted(credit_note({"INV-SH-1": "5.00", "INV-SH-2": "6.00"}, "10.45"))
    assert entry.lines == [dr("4000", "20.00"), dr("2200", "1.45"), cr("1200", "11.00"), cr("2300", "10.45")]


def test_a_credit_note_for_a_paid_invoice_credits_unapplied_alone() -> None:
    entry = posted(credit_note({}, "21.45"))
    assert entry.lines == [dr("4000", "20.00"), dr("2200", "1.45"), cr("2300", "21.45")]


# --- payments -----------------------------------------------------------------------------------


def payment(amount: str, applied: dict[str, str], unapplied: str, on: date | None = None) -> PaymentReceived:
    return PaymentReceived(
        payment_id="PAY-1",
        customer_id="C1",
        amount=D(amount),
        applied=[Allocation(invoice_id=k, amount=D(v)) for k, v in applied.items()],
        unapplied=D(unapplied),
        received_on=on,
    )


def test_a_payment_debits_cash_and_credits_ar_what_invoices_took_and_unapplied_the_rest() -> None:
    entry = posted(payment("150.00", {"INV-SH-1": "119.26", "INV-SH-2": "20.00"}, "10.74", on=date(2026, 12, 1)))
    assert (entry.entry_id, entry.posted_on, entry.source) == (
        "JE-payment-PAY-1",
        date(2026, 12, 1),
        EntrySource(kind="payment", id="PAY-1"),
    )
    assert entry.lines == [dr("1000", "150.00"), cr("1200", "139.26"), cr("2300", "10.74")]
    assert entry.memo == "Payment PAY-1 of 150.00"


def test_a_payment_that_fits_its_invoices_has_no_unapplied_line() -> None:
    assert posted(payment("119.26", {"INV-SH-1": "119.26"}, "0.00")).lines == [
        dr("1000", "119.26"),
        cr("1200", "119.26"),
    ]


def test_a_payment_with_nothing_open_goes_to_unapplied_alone_on_the_day_it_was_recorded() -> None:
    entry = posted(payment("50.00", {}, "50.00"))
    assert entry.lines == [dr("1000", "50.00"), cr("2300", "50.00")]
    assert entry.posted_on == RECORDED


# --- discounts and credit applications ----------------------------------------------------------


def test_a_discount_taken_debits_discounts_and_credits_ar_under_the_invoice_id() -> None:
    taken = DiscountTaken(invoice_id="INV-SH-1", customer_id="C1", payment_id="PAY-1", amount=D("2.39"), on=ISSUED)
    assert posted(taken) == JournalEntryPosted(
        entry_id="JE-discount-INV-SH-1",
        posted_on=ISSUED,
        source=EntrySource(kind="discount", id="INV-SH-1"),
        customer_id="C1",
        memo="Early-payment discount on INV-SH-1 (payment PAY-1)",
        lines=[dr("4900", "2.39"), cr("1200", "2.39")],
    )


def test_unapplied_credit_used_debits_unapplied_and_credits_ar_under_the_application_id() -> None:
    used = CreditApplied(
        application_id="APP-1",
        customer_id="C1",
        applied=[
            Allocation(invoice_id="INV-SH-2", amount=D("8.00")),
            Allocation(invoice_id="INV-SH-3", amount=D("2.45")),
        ],
        amount=D("10.45"),
        on=date(2026, 12, 3),
    )
    entry = posted(used)
    assert (entry.entry_id, entry.source, entry.posted_on) == (
        "JE-credit_application-APP-1",
        EntrySource(kind="credit_application", id="APP-1"),
        date(2026, 12, 3),
    )
    assert entry.lines == [dr("2300", "10.45"), cr("1200", "10.45")]
    assert entry.memo == "Unapplied credit APP-1 applied to 2 invoices"


def test_events_that_are_no_posting_post_nothing() -> None:
    applied = PaymentApplied(invoice_id="INV-SH-1", payment_id="PAY-1", amount=D("1.00"))
    assert entry_for(applied, DEFAULT_ACCOUNTS, RECORDED) is None


# --- the entry's stream: posted once, balanced ----------------------------------------------------

JOURNAL = spec(journal.decider, "JE-invoice-INV-SH-1")


def test_an_entry_is_posted_on_its_new_stream() -> None:
    entry = posted(issued())
    assert JOURNAL.when(PostJournalEntry(entry)).then(entry) == entry


def test_an_entry_already_posted_is_not_posted_again() -> None:
    entry = posted(issued())
    JOURNAL.given(entry).when(PostJournalEntry(entry)).then()


def test_a_replay_under_another_chart_posts_nothing_the_first_posting_stands() -> None:
    first = posted(issued())
    later = posted(issued(), Accounts(ar="1300"))
    assert JOURNAL.given(first).when(PostJournalEntry(later)).then() == first


def test_an_entry_that_does_not_balance_is_refused() -> None:
    entry = posted(issued())
    lopsided = JournalEntryPosted(
        entry_id=entry.entry_id,
        posted_on=entry.posted_on,
        source=entry.source,
        customer_id="C1",
        memo=entry.memo,
        lines=[dr("1200", "119.26"), cr("4000", "100.00")],
    )
    JOURNAL.when(PostJournalEntry(lopsided)).then_raises(
        UnbalancedEntryError, entry_id="JE-invoice-INV-SH-1", debit="119.26", credit="100.00"
    )


# --- any amounts: balanced, no zero lines, nothing negative ---------------------------------------

cents = st.integers(0, 10**14).map(lambda n: D(n) / 100)


@settings(max_examples=60, deadline=None)
@for_all(subtotal=cents, freight=cents, tax=cents, split=st.lists(cents, max_size=3), rest=cents)
def test_every_kind_balances_and_leaves_zero_lines_out(
    subtotal: D, freight: D, tax: D, split: list[D], rest: D
) -> None:
    total = subtotal + freight + tax
    applied = {f"INV-{i}": a for i, a in enumerate(split)}
    events: list[object] = [
        issued(total=str(total), subtotal=str(subtotal), tax=str(tax)),
        CreditNoteIssued(
            invoice_id="CN-1",
            return_id="R-1",
            order_id="SO-1",
            customer_id="C1",
            number=1,
            lines=[],
            subtotal=-(sum(split, D("0.00")) + rest),
            tax=D("0.00"),
            total=-(sum(split, D("0.00")) + rest),
            applies_to=applied,
            unapplied=rest,
        ),
        payment(str(sum(split, D("0.00")) + rest), {k: str(v) for k, v in applied.items()}, str(rest)),
    ]
    for event in events:
        entry = posted(event)
        assert all(ln.debit or ln.credit for ln in entry.lines), entry


@pytest.mark.parametrize("kind", journal.SOURCE_KINDS)
def test_entry_ids_are_the_kind_and_the_source_id(kind: journal.SourceKind) -> None:
    assert journal.entry_id_for(kind, "X-1") == f"JE-{kind}-X-1"
