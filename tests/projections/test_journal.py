"""The journal read model: one row per entry (posting order, its day, its document), and per account
and day the debits and credits posted, from which the trial balance as of any day is summed."""

from __future__ import annotations

from datetime import date
from decimal import Decimal as D

from domain.journal import DEFAULT_ACCOUNTS, Accounts, EntrySource, JournalEntryPosted, JournalLine
from projections.journal import JOURNAL, AccountTotal, decode_entry, entry_view, trial_balance, trial_balance_view
from tests.projections.fold import fold

ENTRIES, DAYS = JOURNAL.tables
ZERO = D("0.00")


def entry(entry_id: str, on: date, *lines: tuple[str, str, str], customer_id: str = "C1") -> JournalEntryPosted:
    kind, _, source_id = entry_id.removeprefix("JE-").partition("-")
    return JournalEntryPosted(
        entry_id=entry_id,
        posted_on=on,
        source=EntrySource(kind=kind, id=source_id),
        customer_id=customer_id,
        memo=f"memo of {entry_id}",
        lines=[JournalLine(account=a, debit=D(d), credit=D(c)) for a, d, c in lines],
    )


INVOICE = entry(
    "JE-invoice-INV-1",
    date(2026, 12, 1),
    ("1200", "107.25", "0.00"),
    ("4000", "0.00", "100.00"),
    ("2200", "0.00", "7.25"),
)
PAYMENT = entry(
    "JE-payment-PAY-1",
    date(2026, 12, 3),
    ("1000", "120.00", "0.00"),
    ("1200", "0.00", "107.25"),
    ("2300", "0.00", "12.75"),
)
SECOND = entry(
    "JE-invoice-INV-2", date(2026, 12, 3), ("1200", "10.00", "0.00"), ("4000", "0.00", "10.00"), customer_id="C2"
)


def test_each_entry_is_a_row_in_posting_order_with_its_day_and_document() -> None:
    rows = fold(ENTRIES, [INVOICE, PAYMENT, SECOND])
    assert [(r["entry_id"], r["seq"], r["posted_on"], r["customer_id"]) for r in rows.values()] == [
        ("JE-invoice-INV-1", 1, "2026-12-01", "C1"),
        ("JE-payment-PAY-1", 2, "2026-12-03", "C1"),
        ("JE-invoice-INV-2", 3, "2026-12-03", "C2"),
    ]
    assert decode_entry(rows[("JE-payment-PAY-1",)]["doc"]) == PAYMENT
    assert (rows[("JE-payment-PAY-1",)]["source_kind"], rows[("JE-payment-PAY-1",)]["source_id"]) == (
        "payment",
        "PAY-1",
    )


def test_an_entry_seen_twice_keeps_its_first_row() -> None:
    assert fold(ENTRIES, [INVOICE, INVOICE]) == fold(ENTRIES, [INVOICE])


def test_days_sum_the_debits_and_credits_of_each_account() -> None:
    rows = fold(DAYS, [INVOICE, PAYMENT, SECOND])
    assert rows[("1200", "2026-12-01")] == {
        "account": "1200",
        "posted_on": "2026-12-01",
        "debit": D("107.25"),
        "credit": ZERO,
    }
    assert rows[("1200", "2026-12-03")] == {
        "account": "1200",
        "posted_on": "2026-12-03",
        "debit": D("10.00"),
        "credit": D("107.25"),
    }
    assert rows[("4000", "2026-12-03")]["credit"] == D("10.00")
    assert sorted(rows) == [
        ("1000", "2026-12-03"),
        ("1200", "2026-12-01"),
        ("1200", "2026-12-03"),
        ("2200", "2026-12-01"),
        ("2300", "2026-12-03"),
        ("4000", "2026-12-01"),
        ("4000", "2026-12-03"),
    ]


def test_the_trial_balance_lists_every_account_of_the_chart_and_balances() -> None:
    days = list(fold(DAYS, [INVOICE, PAYMENT, SECOND]).values())
    totals = {t.account: t for t in trial_balance(days, DEFAULT_ACCOUNTS)}
    assert list(totals) == sorted(DEFAULT_ACCOUNTS.by_role().values())
    assert totals["1200"] == AccountTotal("1200", "ar", D("117.25"), D("107.25"))
    assert totals["1200"].balance == D("10.00")
    assert totals["4900"] == AccountTotal("4900", "discounts", ZERO, ZERO)
    view = trial_balance_view(list(totals.values()), "2026-12-31", "USD")
    assert view["totals"] == {"debit": "237.25", "credit": "237.25"}
    assert {"account": "2300", "role": "unapplied", "debit": "0.00", "credit": "12.75", "balance": "-12.75"} in view[
        "accounts"
    ]  # type: ignore[operator]


def test_the_trial_balance_as_of_a_day_sums_the_days_up_to_it() -> None:
    days = [r for r in fold(DAYS, [INVOICE, PAYMENT]).values() if r["posted_on"] <= "2026-12-02"]
    totals = {t.account: t for t in trial_balance(days, DEFAULT_ACCOUNTS)}
    assert totals["1200"].balance == D("107.25") and totals["1000"].balance == ZERO


def test_an_account_the_chart_no_longer_names_is_still_listed_without_a_role() -> None:
    days = list(fold(DAYS, [INVOICE]).values())
    chart = Accounts(ar="1300")
    totals = {t.account: t for t in trial_balance(days, chart)}
    assert totals["1200"] == AccountTotal("1200", None, D("107.25"), ZERO)
    assert totals["1300"] == AccountTotal("1300", "ar", ZERO, ZERO)


def test_an_entry_answers_with_money_as_two_place_strings() -> None:
    assert entry_view(PAYMENT) == {
        "entry_id": "JE-payment-PAY-1",
        "posted_on": "2026-12-03",
        "source": {"kind": "payment", "id": "PAY-1"},
        "customer_id": "C1",
        "memo": "memo of JE-payment-PAY-1",
        "lines": [
            {"account": "1000", "debit": "120.00", "credit": "0.00"},
            {"account": "1200", "debit": "0.00", "credit": "107.25"},
            {"account": "2300", "debit": "0.00", "credit": "12.75"},
        ],
    }
