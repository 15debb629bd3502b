"""Payments and returns: cash received and goods coming back."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

import msgspec

from domain.errors import InvalidAllocationError
from domain.events import Event, register
from domain.values import ZERO, format_money, subtract, sum_money


class Allocation(msgspec.Struct, frozen=True, kw_only=True):
    invoice_id: str
    amount: Decimal


class PaymentReceived(Event, frozen=True, kw_only=True):
    payment_id: str
    customer_id: str
    amount: Decimal
    applied: list[Allocation]
    unapplied: Decimal
    received_on: date | None = None  # None on payments recorded before issue 15


class CreditApplied(Event, frozen=True, kw_only=True):
    """Unapplied credit of a customer put against open invoices (POST /v1/customers/{id}/apply-credit)."""

    application_id: str
    customer_id: str
    applied: list[Allocation]
    amount: Decimal  # the sum of applied
    on: date


register(PaymentReceived, CreditApplied)


@dataclass(frozen=True)
class OpenInvoice:
    invoice_id: str
    number: int
    balance: Decimal
    due_date: date | None = None  # None: issued before terms existed (sorts first, by number)
    discount: Decimal = ZERO  # the early-payment discount still open on the day of the payment

    @property
    def need(self) -> Decimal:
        """What settles it: the balance, less the discount while its window is open."""
        return subtract(self.balance, self.discount)


def discount_open(balance: Decimal, discount_amount: Decimal | None, discount_until: date | None, on: date) -> Decimal:
    """The discount a payment dated `on` may take: the whole discount_amount up to discount_until
    (none once the balance no longer exceeds it)."""
    if discount_amount is None or discount_until is None or on > discount_until:
        return ZERO
    return discount_amount if balance > discount_amount else ZERO


def due_order(inv: OpenInvoice) -> tuple[date, int]:
    return (inv.due_date or date.min, inv.number)


def allocate_payment(
    amount: Decimal, open_invoices: Sequence[OpenInvoice], requested: Sequence[Allocation] | None
) -> list[Allocation]:
    """Explicit allocations are checked; without them, oldest open invoice (by number) first."""
    if amount <= ZERO:
        raise InvalidAllocationError("The payment amount must be greater than 0.00", amount=format_money(amount))
    by_id = {inv.invoice_id: inv for inv in open_invoices}
    if requested is not None:
        seen: set[str] = set()
        for alloc in requested:
            inv = by_id.get(alloc.invoice_id)
            if alloc.invoice_id in seen:
                raise InvalidAllocationError(
                    f"Invoice {alloc.invoice_id} is allocated twice", invoice_id=alloc.invoice_id
                )
            seen.add(alloc.invoice_id)
            if inv is None:
                raise InvalidAllocationError(
                    f"Invoice {alloc.invoice_id} is not an open invoice of this customer", invoice_id=alloc.invoice_id
                )
            if alloc.amount <= ZERO or alloc.amount > inv.balance:
                raise InvalidAllocationError(
                    f"{format_money(alloc.amount)} does not fit invoice {alloc.invoice_id}'s balance of "
                    f"{format_money(inv.balance)}",
                    invoice_id=alloc.invoice_id,
                    balance=format_money(inv.balance),
                )
        total = sum_money(a.amount for a in requested)
        if total > amount:
            raise InvalidAllocationError(
                f"Allocations sum to {format_money(total)}, more than the payment of {format_money(amount)}",
                allocated=format_money(total),
                amount=format_money(amount),
            )
        return list(requested)
    left = amount
    applied = []
    for inv in sorted(open_invoices, key=due_order):
        if left <= ZERO:
            break
        take = min(left, inv.need)
        if take > ZERO:
            applied.append(Allocation(invoice_id=inv.invoice_id, amount=take))
            left = subtract(left, take)
    return applied


def discounts(open_invoices: Sequence[OpenInvoice], applied: Sequence[Allocation]) -> dict[str, Decimal]:
    """The invoices these allocations settle within their discount window: invoice id -> the rest
    of its balance, taken as discount."""
    by_id = {inv.invoice_id: inv for inv in open_invoices}
    out: dict[str, Decimal] = {}
    for alloc in applied:
        inv = by_id[alloc.invoice_id]
        if inv.discount > ZERO and alloc.amount >= inv.need and alloc.amount < inv.balance:
            out[alloc.invoice_id] = subtract(inv.balance, alloc.amount)
    return out


def receive_payment(
    payment_id: str, customer_id: str, amount: Decimal, applied: list[Allocation], received_on: date | None = None
) -> list[Event]:
    unapplied = subtract(amount, sum_money(a.amount for a in applied))
    return [
        PaymentReceived(
            payment_id=payment_id,
            customer_id=customer_id,
            amount=amount,
            applied=applied,
            unapplied=unapplied,
            received_on=received_on,
        )
    ]


def apply_credit(
    application_id: str, customer_id: str, credit: Decimal, open_invoices: Sequence[OpenInvoice], on: date
) -> list[Event]:
    """Unapplied credit to open invoices, earliest due first, each taking what it needs (nothing
    recorded when there is no credit or nothing open)."""
    if credit <= ZERO:
        return []
    applied = allocate_payment(credit, open_invoices, None)
    if not applied:
        return []
    total = sum_money(a.amount for a in applied)
    return [CreditApplied(application_id=application_id, customer_id=customer_id, applied=applied, amount=total, on=on)]
