"""Customer balances: credit limit and what counts against it."""

from __future__ import annotations

from decimal import Decimal

from domain import customer, payment
from domain.events import Event
from domain.values import ZERO, add, format_money, subtract
from projections.base import Column, EventInfo, Key, ProjectionSpec, Row, TableSpec

_EVENTS = (
    customer.CustomerRegistered,
    customer.CustomerRevised,
    customer.CreditCommitted,
    customer.CreditReleased,
    customer.ReceivableBooked,
    customer.CreditNoteBooked,
    customer.PaymentBooked,
    customer.DiscountBooked,
    payment.CreditApplied,
)


def balance_keys(event: Event) -> list[Key]:
    if isinstance(event, _EVENTS):
        return [(event.customer_id,)]
    return []


def _empty(customer_id: str) -> Row:
    return {
        "customer_id": customer_id,
        "credit_limit": ZERO,
        "unbilled": ZERO,
        "open_ar": ZERO,
        "unapplied_credit": ZERO,
    }


def evolve_balance(row: Row | None, key: Key, event: Event, info: EventInfo) -> Row | None:
    row = dict(row) if row else _empty(key[0])
    match event:
        case customer.CustomerRegistered(credit_limit=limit) | customer.CustomerRevised(credit_limit=limit):
            row["credit_limit"] = limit
        case customer.CreditCommitted(amount=amount):
            row["unbilled"] = add(Decimal(row["unbilled"]), amount)
        case customer.CreditReleased(amount=amount):
            row["unbilled"] = subtract(Decimal(row["unbilled"]), amount)
        case customer.ReceivableBooked(unbilled=unbilled, amount=amount):
            row["unbilled"] = subtract(Decimal(row["unbilled"]), unbilled)
            row["open_ar"] = add(Decimal(row["open_ar"]), amount)
        case customer.CreditNoteBooked(amount=amount, unapplied=unapplied):
            # The part of the note its invoices took lowers open_ar; the rest is unapplied credit.
            row["open_ar"] = add(Decimal(row["open_ar"]), amount, unapplied)
            row["unapplied_credit"] = add(Decimal(row["unapplied_credit"]), unapplied)
        case customer.PaymentBooked(applied=applied, unapplied=unapplied):
            row["open_ar"] = subtract(Decimal(row["open_ar"]), applied)
            row["unapplied_credit"] = add(Decimal(row["unapplied_credit"]), unapplied)
        case customer.DiscountBooked(amount=amount):  # the discount settles its part of open_ar
            row["open_ar"] = subtract(Decimal(row["open_ar"]), amount)
        case payment.CreditApplied(amount=amount):  # unapplied credit moves onto open invoices
            row["open_ar"] = subtract(Decimal(row["open_ar"]), amount)
            row["unapplied_credit"] = subtract(Decimal(row["unapplied_credit"]), amount)
    return row


def balance_view(row: Row, currency: str) -> dict[str, object]:
    open_ar = Decimal(row["open_ar"])
    unbilled = Decimal(row["unbilled"])
    exposure = add(open_ar, unbilled)
    limit = Decimal(row["credit_limit"])
    return {
        "customer_id": row["customer_id"],
        "currency": currency,
        "credit_limit": format_money(limit),
        "open_ar": format_money(open_ar),
        "unbilled": format_money(unbilled),
        "exposure": format_money(exposure),
        "credit_available": format_money(subtract(limit, exposure)),
        "unapplied_credit": format_money(Decimal(row["unapplied_credit"])),
    }


BALANCES = ProjectionSpec(
    name="balances",
    tables=(
        TableSpec(
            "balances",
            ("customer_id",),
            (
                Column("customer_id", "str"),
                Column("credit_limit", "money"),
                Column("unbilled", "money"),
                Column("open_ar", "money"),
                Column("unapplied_credit", "money"),
            ),
            balance_keys,
            evolve_balance,
            _EVENTS,
        ),
    ),
)
