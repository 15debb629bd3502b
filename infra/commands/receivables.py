"""Receivables: payment terms, applying unapplied credit, dunning runs."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from domain import customer, dunning, payment, terms
from domain.dunning import OverdueInvoice
from domain.errors import NotFoundError
from infra.commands.billing import open_invoices, settle
from infra.ledger.kinds import ACCOUNT, CUSTOMER, DUNNING, INVOICE, TERMS
from infra.ledger.unitofwork import UnitOfWork


@dataclass(frozen=True)
class ApplyCredit:
    application_id: str
    customer_id: str
    on: date


@dataclass(frozen=True)
class Applied:
    """What an application of credit did, and the customer's unapplied credit after it."""

    application_id: str
    applied: tuple[payment.Allocation, ...]
    unapplied_credit: Decimal


@dataclass(frozen=True)
class RunDunning:
    as_of: date
    customer_ids: tuple[str, ...]  # the customers to look at (those with something open or a level)
    thresholds: tuple[int, ...]


def put_payment_terms(uow: UnitOfWork, cmd: terms.PutPaymentTerms) -> tuple[bool, terms.PaymentTerms]:
    existing = uow.get(TERMS, cmd.terms_id)
    state = uow.record(TERMS, cmd.terms_id, terms.decide_terms(cmd, existing))
    assert state is not None
    return existing is None, state


def apply_credit(uow: UnitOfWork, cmd: ApplyCredit) -> Applied:
    """The customer's unapplied credit to its open invoices, earliest due first (discount included
    within a window), recorded on its account stream as CreditApplied."""
    if uow.get(CUSTOMER, cmd.customer_id) is None:
        raise NotFoundError(f"Customer {cmd.customer_id} does not exist", customer_id=cmd.customer_id)
    account = uow.get(ACCOUNT, cmd.customer_id) or customer.Account(cmd.customer_id)
    opened = open_invoices(uow, list(account.invoices), cmd.on)
    events = payment.apply_credit(cmd.application_id, cmd.customer_id, account.unapplied_credit, opened, cmd.on)
    applied: list[payment.Allocation] = []
    for event in events:
        assert isinstance(event, payment.CreditApplied)
        applied = list(event.applied)
    discounts = settle(uow, cmd.customer_id, cmd.application_id, cmd.on, opened, applied) if applied else []
    after = uow.record(ACCOUNT, cmd.customer_id, [*events, *discounts])
    return Applied(cmd.application_id, tuple(applied), after.unapplied_credit if after else account.unapplied_credit)


def overdue_of(uow: UnitOfWork, account: customer.Account, as_of: date) -> list[OverdueInvoice]:
    """The account's open invoices past due on `as_of` (amounts as the invoice streams hold them)."""
    out = []
    for invoice_id, due in account.due.items():
        if due >= as_of:
            continue
        inv = uow.get(INVOICE, invoice_id)
        if inv is None or inv.number is None or inv.balance <= 0:
            continue
        days = (as_of - due).days
        out.append(
            OverdueInvoice(invoice_id=invoice_id, number=inv.number, due_date=due, open=inv.balance, days_past_due=days)
        )
    return out


def run_dunning(uow: UnitOfWork, cmd: RunDunning) -> list[dunning.DunningNoticeIssued]:
    """One decision per customer; the notices this run recorded, in customer order."""
    notices: list[dunning.DunningNoticeIssued] = []
    for customer_id in sorted(set(cmd.customer_ids)):
        account = uow.get(ACCOUNT, customer_id)
        if account is None:
            continue
        state = uow.get(DUNNING, customer_id)
        events = dunning.run(state, cmd.as_of, overdue_of(uow, account, cmd.as_of), cmd.thresholds)
        uow.record(DUNNING, customer_id, events)
        notices += [e for e in events if isinstance(e, dunning.DunningNoticeIssued)]
    return notices
