"""Property: after any sequence of commands (orders, shipments and their invoices, payments with the
early-payment discounts of C1's terms, returns and their credit notes, applications of unapplied credit), every journal entry balances, each source posted exactly one, the trial
balance balances, the `ar` balance equals the sum of the customers' `open_ar` and the `unapplied`
balance equals minus the sum of their `unapplied_credit`; a rebuild of the journal gives the same rows.

The commands are those of the rebuild property (tests/infra/test_property_rebuild.py: prices and
quantities far past 28 digits included), run in process with the posting workflow; few examples.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, Phase, example, given, settings
from hypothesis import strategies as st

from domain import customer, terms
from domain.errors import DomainError
from domain.journal import POSTED_TOPICS, JournalEntryPosted, balanced, entry_id_for
from domain.values import sum_money
from infra import commands
from infra.commands.receivables import ApplyCredit
from infra.readside.rebuild import rebuild
from infra.service import Service
from tests.infra import test_property_rebuild as base
from tests.infra.readside import (
    ctx,
    fresh_database,
    make_runner,
    make_tax_worker,
    run,
    scratch_dir,
    seed_reference,
    service,
    settle,
    snapshot,
    store_of,
)

KINDS = ["sale"] * 4 + ["order", "receive", "ship"] * 2 + ["pay"] * 3 + ["return"] * 3 + ["settle", "cancel"]
KINDS += ["apply", "pay_on_time"] * 2
PARAMS = {**base.PARAMS, "apply": (st.sampled_from(["C1", "C2"]),), "pay_on_time": (st.sampled_from(["C1", "C2"]),)}
OPS = st.sampled_from(KINDS).flatmap(lambda kind: st.tuples(st.just(kind), *PARAMS[kind]))
# The id each kind of source posts under (API.md): a discount under its invoice's id.
SOURCE_OF = {
    "InvoiceIssued": ("invoice", "invoice_id"),
    "CreditNoteIssued": ("credit_note", "invoice_id"),
    "PaymentReceived": ("payment", "payment_id"),
    "DiscountTaken": ("discount", "invoice_id"),
    "CreditApplied": ("credit_application", "application_id"),
}


def expected_entry_id(topic: str, event: Any) -> str:
    kind, field = SOURCE_OF[topic]
    return entry_id_for(kind, getattr(event, field))  # type: ignore[arg-type]


@dataclass
class Receivables(base.History):
    """The rebuild property's history, applications of a customer's unapplied credit, and payments
    of what is owed dated today (inside C1's discount window: the discount is taken)."""

    applications: int = 0

    def apply(self, op: tuple[Any, ...]) -> None:
        if op[0] not in ("apply", "pay_on_time"):
            return super().apply(op)
        settle(self.runner, self.tax)  # so that invoices are issued and payments booked
        self.applications += 1
        today, cid = self.svc.clock.today(), op[1]
        try:
            if op[0] == "apply":
                self.svc.app.execute(ctx(), ApplyCredit(f"APP-{self.applications}", cid, today))
            elif (owed := (self.svc.read.balance(cid) or {}).get("open_ar", Decimal(0))) > 0:
                pay = f"PAY-ON-TIME-{self.applications}"
                run(self.svc, lambda uow: commands.receive_payment(uow, pay, cid, owed, None, today))
        except DomainError:
            pass
        return None


def with_discount_terms(svc: Service) -> None:
    """C1 buys on 2/10 net 30, so a payment on the day of issue (the tests' day) takes the discount."""
    svc.app.execute(ctx(), terms.PutPaymentTerms("2-10", "2/10 net 30", 30, False, Decimal("2.00"), 10))
    limit = Decimal(base.CUSTOMERS["C1"])
    svc.app.execute(ctx(), customer.PutCustomer("C1", "Customer C1", limit, "CA", "active", None, "2-10"))


def check_journal(svc: Service) -> None:
    records = svc.store.read(0, 1_000_000)
    entries = [r.event for r in records if isinstance(r.event, JournalEntryPosted)]
    assert all(balanced(e) for e in entries), [e for e in entries if not balanced(e)]
    sources = [expected_entry_id(r.topic, r.event) for r in records if r.topic in POSTED_TOPICS]
    assert [e.entry_id for e in entries] == sources  # one each, in log order

    accounts = svc.settings.accounts
    days = [*sorted({e.posted_on for e in entries}), date.max]
    for day in days:
        totals = svc.read.trial_balance(day, accounts)
        assert sum_money(t.debit for t in totals) == sum_money(t.credit for t in totals), day
    balance = {t.role: t.balance for t in svc.read.trial_balance(date.max, accounts)}
    rows = snapshot(svc, ("balances",))["balances.balances"]
    assert balance["ar"] == sum_money(Decimal(r["open_ar"]) for r in rows)
    assert balance["unapplied"] == -sum_money(Decimal(r["unapplied_credit"]) for r in rows)
    assert balance["cash"] == sum_money(r.event.amount for r in records if r.topic == "PaymentReceived")  # type: ignore[attr-defined]

    before = snapshot(svc, ("journal",))
    rebuild(svc.read["journal"])
    assert snapshot(svc, ("journal",)) == before


def run_property(database_url: str, scratch: Path, examples: int) -> None:
    @settings(
        max_examples=examples,
        deadline=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
        phases=[Phase.explicit, Phase.reuse, Phase.generate],  # each example costs a database: no shrinking
    )
    @given(ops=st.lists(OPS, min_size=4, max_size=16), batch_size=st.integers(1, 40))
    # a sale paid in full, part of it returned (credit on a paid invoice), then an overpayment
    @example(
        ops=[("sale", "W-A", "S1", 3), ("pay", "C1", None), ("return", 0, 0, True), ("pay", "C1", 10**6)],
        batch_size=3,
    )
    # an overpayment leaves unapplied credit, a later invoice takes it by apply-credit
    @example(ops=[("pay", "C1", 10**6), ("sale", "W-A", "S1", 2), ("apply", "C1")], batch_size=2)
    # paid in full on the day of issue: the discount is taken and what it spared is unapplied credit
    @example(
        ops=[("sale", "W-A", "S1", 3), ("pay_on_time", "C1"), ("sale", "W-B", "S2", 1), ("apply", "C1")], batch_size=4
    )
    def journal_agrees_with_the_balances(ops: list[tuple[Any, ...]], batch_size: int) -> None:
        with (
            fresh_database(store_of(database_url), scratch) as url,
            service(url, tax_rates={"CA": base.TAX_RATE}) as svc,
        ):
            seed_reference(svc, base.SKUS, base.CUSTOMERS)
            with_discount_terms(svc)
            runner = make_runner(svc, batch_size, journal=True)
            history = Receivables(svc, runner, make_tax_worker(svc))
            for op in ops:
                history.apply(op)
            settle(runner, history.tax)
            check_journal(svc)

    journal_agrees_with_the_balances()


def test_the_journal_balances_and_its_ar_and_unapplied_are_the_customers_balances(
    database_url: str, tmp_path: Path
) -> None:
    with scratch_dir(tmp_path) as scratch:
        run_property(database_url, scratch, 8 if store_of(database_url) == "sqlite" else 3)
