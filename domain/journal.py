"""Posting to finance: the journal entry each receivable event posts (API.md "Posting to finance").

Every issued invoice and credit note, every payment, every discount taken and every use of unapplied
credit posts one balanced entry `JE-<kind>-<id>`, on the accounts of the chart (`Accounts`, from
O2C_ACCOUNTS). The mapping is pure: the same event and accounts give the same entry, so a replay
proposes exactly the entry already posted, and the entry's stream (one per entry id) records it once.

    invoice             Dr ar total           / Cr revenue subtotal, Cr freight, Cr tax
    credit note         Dr revenue, Dr tax    / Cr ar the part applied to invoices, Cr unapplied the rest
    payment             Dr cash amount        / Cr ar applied, Cr unapplied the rest
    discount            Dr discounts          / Cr ar
    credit application  Dr unapplied          / Cr ar

Lines with a zero amount are left out; a negative amount (never produced by the events above, but
the mapping does not trust that) goes to the other side, so debits and credits are never negative.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from datetime import date
from decimal import Decimal
from typing import Literal

import msgspec

from domain.decider import Decider
from domain.errors import DomainError
from domain.events import Event, register
from domain.invoice.events import CreditNoteIssued, DiscountTaken, InvoiceIssued
from domain.payment import CreditApplied, PaymentReceived
from domain.values import MONEY, ZERO, format_money, subtract, sum_money

SourceKind = Literal["invoice", "credit_note", "payment", "discount", "credit_application"]
SOURCE_KINDS: tuple[SourceKind, ...] = ("invoice", "credit_note", "payment", "discount", "credit_application")


@dataclass(frozen=True)
class Accounts:
    """The chart of accounts the journal posts to: an account number per role."""

    ar: str = "1200"
    cash: str = "1000"
    unapplied: str = "2300"
    tax: str = "2200"
    revenue: str = "4000"
    freight: str = "4100"
    discounts: str = "4900"

    def by_role(self) -> dict[str, str]:
        return {role: getattr(self, role) for role in ROLES}


ROLES: tuple[str, ...] = tuple(f.name for f in fields(Accounts))
DEFAULT_ACCOUNTS = Accounts()


class EntrySource(msgspec.Struct, frozen=True, kw_only=True):
    """What an entry posts: the kind of event and the id of its document (the invoice's for a discount)."""

    kind: str
    id: str


class JournalLine(msgspec.Struct, frozen=True, kw_only=True):
    account: str
    debit: Decimal
    credit: Decimal


class JournalEntryPosted(Event, frozen=True, kw_only=True):
    """A balanced journal entry, on the day of the business event it posts."""

    entry_id: str
    posted_on: date
    source: EntrySource
    customer_id: str
    memo: str
    lines: list[JournalLine]


register(JournalEntryPosted)


class UnbalancedEntryError(DomainError):
    code = "unbalanced_entry"
    title = "The journal entry does not balance"


def entry_id_for(kind: SourceKind, source_id: str) -> str:
    return f"JE-{kind}-{source_id}"


def totals(entry: JournalEntryPosted) -> tuple[Decimal, Decimal]:
    """(debits, credits) of an entry."""
    return sum_money(ln.debit for ln in entry.lines), sum_money(ln.credit for ln in entry.lines)


def balanced(entry: JournalEntryPosted) -> bool:
    debit, credit = totals(entry)
    return debit == credit


# --- the mapping: a source event to its entry --------------------------------------------------------

Amounts = list[tuple[str, Decimal]]  # (account, amount) on one side


def _line(account: str, signed: Decimal) -> JournalLine:
    """A line for a signed amount: positive is a debit, negative a credit."""
    if signed > ZERO:
        return JournalLine(account=account, debit=signed, credit=ZERO)
    return JournalLine(account=account, debit=ZERO, credit=MONEY.minus(signed))


def _lines(debits: Amounts, credits: Amounts) -> list[JournalLine]:
    signed = [(a, amount) for a, amount in debits] + [(a, MONEY.minus(amount)) for a, amount in credits]
    return [_line(account, amount) for account, amount in signed if amount != ZERO]


def _entry(
    kind: SourceKind, source_id: str, customer_id: str, on: date, memo: str, debits: Amounts, credits: Amounts
) -> JournalEntryPosted:
    return JournalEntryPosted(
        entry_id=entry_id_for(kind, source_id),
        posted_on=on,
        source=EntrySource(kind=kind, id=source_id),
        customer_id=customer_id,
        memo=memo,
        lines=_lines(debits, credits),
    )


def invoice_entry(event: InvoiceIssued, accounts: Accounts, recorded_on: date) -> JournalEntryPosted:
    """Dr ar total / Cr revenue subtotal, Cr freight (total - subtotal - tax), Cr tax."""
    freight = subtract(subtract(event.total, event.subtotal), event.tax)
    return _entry(
        "invoice",
        event.invoice_id,
        event.customer_id,
        event.issued_on or recorded_on,
        f"Invoice {event.number} ({event.invoice_id}) for order {event.order_id}",
        [(accounts.ar, event.total)],
        [(accounts.revenue, event.subtotal), (accounts.freight, freight), (accounts.tax, event.tax)],
    )


def credit_note_entry(event: CreditNoteIssued, accounts: Accounts, recorded_on: date) -> JournalEntryPosted:
    """Dr revenue, Dr tax (the note's amounts are negative) / Cr ar what its invoices took, Cr unapplied the rest."""
    applied = sum_money(event.applies_to.values())
    return _entry(
        "credit_note",
        event.invoice_id,
        event.customer_id,
        recorded_on,
        f"Credit note {event.number} ({event.invoice_id}) for return {event.return_id}",
        [(accounts.revenue, MONEY.minus(event.subtotal)), (accounts.tax, MONEY.minus(event.tax))],
        [(accounts.ar, applied), (accounts.unapplied, event.unapplied)],
    )


def payment_entry(event: PaymentReceived, accounts: Accounts, recorded_on: date) -> JournalEntryPosted:
    """Dr cash amount / Cr ar what invoices took, Cr unapplied the rest."""
    applied = sum_money(a.amount for a in event.applied)
    return _entry(
        "payment",
        event.payment_id,
        event.customer_id,
        event.received_on or recorded_on,
        f"Payment {event.payment_id} of {format_money(event.amount)}",
        [(accounts.cash, event.amount)],
        [(accounts.ar, applied), (accounts.unapplied, event.unapplied)],
    )


def discount_entry(event: DiscountTaken, accounts: Accounts, recorded_on: date) -> JournalEntryPosted:
    """Dr discounts / Cr ar: the early-payment discount the payment's settlement left on the invoice."""
    return _entry(
        "discount",
        event.invoice_id,
        event.customer_id,
        event.on,
        f"Early-payment discount on {event.invoice_id} (payment {event.payment_id})",
        [(accounts.discounts, event.amount)],
        [(accounts.ar, event.amount)],
    )


def credit_application_entry(event: CreditApplied, accounts: Accounts, recorded_on: date) -> JournalEntryPosted:
    """Dr unapplied / Cr ar: unapplied credit put against open invoices."""
    count = len(event.applied)
    return _entry(
        "credit_application",
        event.application_id,
        event.customer_id,
        event.on,
        f"Unapplied credit {event.application_id} applied to {count} invoice{'' if count == 1 else 's'}",
        [(accounts.unapplied, event.amount)],
        [(accounts.ar, event.amount)],
    )


POSTS = (InvoiceIssued, CreditNoteIssued, PaymentReceived, DiscountTaken, CreditApplied)
POSTED_TOPICS = frozenset(cls.__name__ for cls in POSTS)


def entry_for(event: Event, accounts: Accounts, recorded_on: date) -> JournalEntryPosted | None:
    """The entry `event` posts (None: it posts nothing). `recorded_on` is the day the event was
    recorded: the entry's date for a credit note, and for an older event that carries no date."""
    match event:
        case InvoiceIssued():
            return invoice_entry(event, accounts, recorded_on)
        case CreditNoteIssued():
            return credit_note_entry(event, accounts, recorded_on)
        case PaymentReceived():
            return payment_entry(event, accounts, recorded_on)
        case DiscountTaken():
            return discount_entry(event, accounts, recorded_on)
        case CreditApplied():
            return credit_application_entry(event, accounts, recorded_on)
    return None


# --- the entry's stream: posted once ------------------------------------------------------------------


@dataclass(frozen=True)
class PostJournalEntry:
    """Record this entry on its stream (`entry.entry_id`) unless an entry is already posted there."""

    entry: JournalEntryPosted


def decide(command: PostJournalEntry, state: JournalEntryPosted | None) -> list[Event]:
    entry = command.entry
    if state is not None:
        return []  # posted before (a replay, a rebuild, a second process): the first posting stands
    debit, credit = totals(entry)
    if debit != credit:
        raise UnbalancedEntryError(
            f"Entry {entry.entry_id} does not balance: debits {format_money(debit)}, credits {format_money(credit)}",
            entry_id=entry.entry_id,
            debit=format_money(debit),
            credit=format_money(credit),
        )
    return [entry]


def evolve(state: JournalEntryPosted | None, event: Event) -> JournalEntryPosted | None:
    return event if isinstance(event, JournalEntryPosted) and state is None else state


def initial_state(entry_id: str) -> JournalEntryPosted | None:
    return None


decider: Decider[PostJournalEntry, JournalEntryPosted | None] = Decider(decide, evolve, initial_state)


def balance_of(debit: Decimal, credit: Decimal) -> Decimal:
    """An account's balance: debit - credit (negative: a credit balance)."""
    return subtract(debit, credit)
