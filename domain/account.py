"""A customer's account: what counts against its credit (unbilled order value plus open
receivables), its unapplied credit, and its open invoices with their due dates (the overdue hold)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import assert_never

from domain.decider import Decider
from domain.events import Event, register
from domain.frozen import replace
from domain.payment import Allocation, CreditApplied
from domain.values import ZERO, add, subtract


class CreditCommitted(Event, frozen=True, kw_only=True):
    """An accepted order's value (or what a change added to it) now counts against the customer's credit."""

    customer_id: str
    order_id: str
    amount: Decimal


class CreditReleased(Event, frozen=True, kw_only=True):
    """Order value no longer counts against credit (cancelled qty, or what a change took off)."""

    customer_id: str
    order_id: str
    amount: Decimal
    reason: str


class ReceivableBooked(Event, frozen=True, kw_only=True):
    """An issued invoice moved order value from unbilled to open receivables."""

    customer_id: str
    invoice_id: str
    unbilled: Decimal  # the invoiced goods value leaving `unbilled`
    amount: Decimal  # the invoice total joining open receivables
    due_date: date | None = None  # the invoice's due date (None before issue 15): overdue holds read it


class CreditNoteBooked(Event, frozen=True, kw_only=True):
    """A credit note's total (negative): the part its invoices took lowers open receivables, the
    rest (`unapplied`, positive) is the customer's unapplied credit."""

    customer_id: str
    credit_note_id: str
    amount: Decimal
    unapplied: Decimal = ZERO
    applies_to: dict[str, Decimal] = {}  # invoice id -> the part that invoice took (empty before issue 15)


class PaymentBooked(Event, frozen=True, kw_only=True):
    customer_id: str
    payment_id: str
    applied: Decimal
    unapplied: Decimal
    allocations: list[Allocation] = []  # per invoice (empty before issue 15)


class DiscountBooked(Event, frozen=True, kw_only=True):
    """An early-payment discount taken on an invoice lowers open receivables by `amount`."""

    customer_id: str
    invoice_id: str
    payment_id: str
    amount: Decimal


register(CreditCommitted, CreditReleased, ReceivableBooked, CreditNoteBooked, PaymentBooked, DiscountBooked)


@dataclass(frozen=True)
class Account:
    """What counts against a customer's credit: unbilled order value plus open receivables."""

    customer_id: str
    unbilled: Decimal = ZERO  # accepted orders' value not yet billed or released (no per-order entry:
    # the state of a customer with a year of orders would carry, and copy per order, every one of them)
    open_ar: Decimal = ZERO
    unapplied_credit: Decimal = ZERO
    invoices: tuple[str, ...] = ()  # issued invoice ids, in issue order (payments go oldest first)
    due: dict[str, date] = field(default_factory=dict)  # open invoices (with terms dates) -> due date
    open_items: dict[str, Decimal] = field(default_factory=dict)  # those invoices' open amounts

    @property
    def exposure(self) -> Decimal:
        return add(self.unbilled, self.open_ar)

    def oldest_due(self) -> date | None:
        """The earliest due date of an invoice still open (None: nothing open with a due date)."""
        return min(self.due.values(), default=None)

    def days_past_due(self, today: date) -> int:
        oldest = self.oldest_due()
        return max((today - oldest).days, 0) if oldest is not None else 0


def _reduce_items(acc: Account, taken: dict[str, Decimal]) -> Account:
    """Invoices' open amounts fall by what was applied to them; a settled one leaves `due`."""
    items = dict(acc.open_items)
    due = dict(acc.due)
    for invoice_id, amount in taken.items():
        if invoice_id not in items:
            continue
        left = subtract(items[invoice_id], amount)
        if left > ZERO:
            items[invoice_id] = left
        else:
            items.pop(invoice_id)
            due.pop(invoice_id, None)
    return replace(acc, open_items=items, due=due)


def _by_invoice(allocations: list[Allocation]) -> dict[str, Decimal]:
    out: dict[str, Decimal] = {}
    for a in allocations:
        out[a.invoice_id] = add(out.get(a.invoice_id, ZERO), a.amount)
    return out


def evolve_account(state: Account | None, event: Event) -> Account | None:
    if isinstance(event, CreditCommitted):
        acc = state or Account(event.customer_id)
        return replace(acc, unbilled=add(acc.unbilled, event.amount))
    if isinstance(event, ReceivableBooked | CreditNoteBooked | PaymentBooked | DiscountBooked | CreditApplied):
        acc = state or Account(event.customer_id)
        if isinstance(event, ReceivableBooked):
            booked = replace(
                acc,
                unbilled=subtract(acc.unbilled, event.unbilled),
                open_ar=add(acc.open_ar, event.amount),
                invoices=(*acc.invoices, event.invoice_id),
            )
            if event.due_date is None or event.amount <= ZERO:
                return booked
            return replace(
                booked,
                due={**acc.due, event.invoice_id: event.due_date},
                open_items={**acc.open_items, event.invoice_id: event.amount},
            )
        if isinstance(event, CreditNoteBooked):
            credited = replace(
                acc,
                open_ar=add(acc.open_ar, event.amount, event.unapplied),
                unapplied_credit=add(acc.unapplied_credit, event.unapplied),
            )
            return _reduce_items(credited, event.applies_to)
        if isinstance(event, DiscountBooked):
            discounted = replace(acc, open_ar=subtract(acc.open_ar, event.amount))
            return _reduce_items(discounted, {event.invoice_id: event.amount})
        if isinstance(event, CreditApplied):
            used = replace(
                acc,
                open_ar=subtract(acc.open_ar, event.amount),
                unapplied_credit=subtract(acc.unapplied_credit, event.amount),
            )
            return _reduce_items(used, _by_invoice(event.applied))
        paid = replace(
            acc,
            open_ar=subtract(acc.open_ar, event.applied),
            unapplied_credit=add(acc.unapplied_credit, event.unapplied),
        )
        return _reduce_items(paid, _by_invoice(event.allocations))
    if isinstance(event, CreditReleased) and state is not None:
        return replace(state, unbilled=subtract(state.unbilled, event.amount))
    return state


def exceeds_credit(order_value: Decimal, exposure: Decimal, credit_limit: Decimal) -> bool:
    """An order is held when its value plus the customer's exposure is over the credit limit."""
    return add(order_value, exposure) > credit_limit


def commit_credit(account: Account, order_id: str, amount: Decimal) -> list[Event]:
    """An accepted order's whole value (held or not) now counts against the customer's credit."""
    return [CreditCommitted(customer_id=account.customer_id, order_id=order_id, amount=amount)]


def release_credit(account: Account, order_id: str, amount: Decimal, reason: str) -> list[Event]:
    """Order value that will not be billed (cancelled qty) no longer counts against credit."""
    return [CreditReleased(customer_id=account.customer_id, order_id=order_id, amount=amount, reason=reason)]


def book_receivable(account: Account, invoice_id: str, unbilled: Decimal, amount: Decimal) -> list[Event]:
    return [ReceivableBooked(customer_id=account.customer_id, invoice_id=invoice_id, unbilled=unbilled, amount=amount)]


def book_credit_note(account: Account, credit_note_id: str, amount: Decimal, unapplied: Decimal) -> list[Event]:
    return [
        CreditNoteBooked(
            customer_id=account.customer_id, credit_note_id=credit_note_id, amount=amount, unapplied=unapplied
        )
    ]


def book_payment(account: Account, payment_id: str, applied: Decimal, unapplied: Decimal) -> list[Event]:
    return [PaymentBooked(customer_id=account.customer_id, payment_id=payment_id, applied=applied, unapplied=unapplied)]


# --- deciders: commands as values, one `decide` per aggregate ---------------------------------


@dataclass(frozen=True)
class CommitCredit:
    customer_id: str
    order_id: str
    amount: Decimal


@dataclass(frozen=True)
class ReleaseCredit:
    customer_id: str
    order_id: str
    amount: Decimal
    reason: str


@dataclass(frozen=True)
class BookReceivable:
    customer_id: str
    invoice_id: str
    unbilled: Decimal
    amount: Decimal


@dataclass(frozen=True)
class BookCreditNote:
    customer_id: str
    credit_note_id: str
    amount: Decimal
    unapplied: Decimal = ZERO


@dataclass(frozen=True)
class BookPayment:
    customer_id: str
    payment_id: str
    applied: Decimal
    unapplied: Decimal


AccountCommand = CommitCredit | ReleaseCredit | BookReceivable | BookCreditNote | BookPayment


def initial_account(customer_id: str) -> Account | None:
    """An account stream starts empty; its first event opens it."""
    return None


def decide_account(command: AccountCommand, state: Account | None) -> list[Event]:
    account = state or Account(command.customer_id)
    match command:
        case CommitCredit(order_id=order_id, amount=amount):
            return commit_credit(account, order_id, amount)
        case ReleaseCredit(order_id=order_id, amount=amount, reason=reason):
            return release_credit(account, order_id, amount, reason)
        case BookReceivable(invoice_id=invoice_id, unbilled=unbilled, amount=amount):
            return book_receivable(account, invoice_id, unbilled, amount)
        case BookCreditNote(credit_note_id=credit_note_id, amount=amount, unapplied=unapplied):
            return book_credit_note(account, credit_note_id, amount, unapplied)
        case BookPayment(payment_id=payment_id, applied=applied, unapplied=unapplied):
            return book_payment(account, payment_id, applied, unapplied)
    assert_never(command)


account_decider: Decider[AccountCommand, Account | None] = Decider(decide_account, evolve_account, initial_account)
