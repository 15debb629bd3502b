"""Payment terms (reference data) and the pure date arithmetic of due dates and early-payment discounts.

`net_days` counts from the issue date, or, with `end_of_month`, from the last day of the issue month
("net 30 EOM": an invoice of 15 January is due 2 March in a common year, 1 March in a leap year). The
discount window (`discount_days`) counts from the same base. The discount is total x percent / 100,
half-up to the cent, once per invoice."""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from typing import assert_never

from domain.decider import Decider
from domain.errors import InvalidRequestError
from domain.events import Event, register
from domain.values import CENT, ZERO, quantize, times

MAX_NET_DAYS = 365
HUNDRED = Decimal("100")
FieldError = dict[str, str]


class PaymentTermsSet(Event, frozen=True, kw_only=True):
    """Payment terms defined or replaced (invoices keep the terms in force when they were issued)."""

    terms_id: str
    name: str
    net_days: int
    end_of_month: bool = False
    discount_percent: Decimal | None = None
    discount_days: int | None = None


register(PaymentTermsSet)


@dataclass(frozen=True)
class PaymentTerms:
    terms_id: str
    name: str
    net_days: int
    end_of_month: bool = False
    discount_percent: Decimal | None = None
    discount_days: int | None = None

    @property
    def has_discount(self) -> bool:
        return self.discount_percent is not None and self.discount_percent > ZERO and self.discount_days is not None


@dataclass(frozen=True)
class PutPaymentTerms:
    terms_id: str
    name: str
    net_days: int
    end_of_month: bool = False
    discount_percent: Decimal | None = None
    discount_days: int | None = None


@dataclass(frozen=True)
class Dates:
    """What terms make of an invoice issued on `issued_on` for `total`."""

    issued_on: date
    due_date: date
    discount_until: date | None
    discount_amount: Decimal | None


def month_end(day: date) -> date:
    """The last day of `day`'s month."""
    return day.replace(day=calendar.monthrange(day.year, day.month)[1])


def base_date(issued_on: date, end_of_month: bool) -> date:
    return month_end(issued_on) if end_of_month else issued_on


def due_date(issued_on: date, terms: PaymentTerms | None) -> date:
    """issued_on + net_days (from the month's last day with end_of_month); no terms: due on issue."""
    if terms is None:
        return issued_on
    return base_date(issued_on, terms.end_of_month) + timedelta(days=terms.net_days)


def discount_amount(total: Decimal, percent: Decimal) -> Decimal:
    """total x percent / 100, half-up to the cent (the one rounding of a discount)."""
    return quantize(times(total, percent) / HUNDRED, CENT)


def invoice_dates(issued_on: date, total: Decimal, terms: PaymentTerms | None) -> Dates:
    due = due_date(issued_on, terms)
    if terms is None or not terms.has_discount or total <= ZERO:
        return Dates(issued_on, due, None, None)
    assert terms.discount_percent is not None and terms.discount_days is not None
    until = base_date(issued_on, terms.end_of_month) + timedelta(days=terms.discount_days)
    return Dates(issued_on, due, min(until, due), discount_amount(total, terms.discount_percent))


def terms_errors(cmd: PutPaymentTerms) -> list[FieldError]:
    errors: list[FieldError] = []
    if not 0 <= cmd.net_days <= MAX_NET_DAYS:
        errors.append({"field": "net_days", "message": f"must be from 0 to {MAX_NET_DAYS}"})
    pct = cmd.discount_percent
    if pct is not None and not ZERO <= pct <= HUNDRED:
        errors.append({"field": "discount_percent", "message": "must be from 0.00 to 100.00"})
    days = cmd.discount_days
    if days is not None and not 0 <= days <= MAX_NET_DAYS:
        errors.append({"field": "discount_days", "message": f"must be from 0 to {MAX_NET_DAYS}"})
    if (pct is None) != (days is None):
        field = "discount_days" if days is None else "discount_percent"
        errors.append({"field": field, "message": "discount_percent and discount_days go together"})
    return errors


def decide_put_terms(state: PaymentTerms | None, cmd: PutPaymentTerms) -> list[Event]:
    errors = terms_errors(cmd)
    if errors:
        raise InvalidRequestError(f"{errors[0]['field']} {errors[0]['message']}", errors=errors)
    new = PaymentTerms(cmd.terms_id, cmd.name, cmd.net_days, cmd.end_of_month, cmd.discount_percent, cmd.discount_days)
    if state == new:
        return []
    return [
        PaymentTermsSet(
            terms_id=cmd.terms_id,
            name=cmd.name,
            net_days=cmd.net_days,
            end_of_month=cmd.end_of_month,
            discount_percent=cmd.discount_percent,
            discount_days=cmd.discount_days,
        )
    ]


def evolve_terms(state: PaymentTerms | None, event: Event) -> PaymentTerms | None:
    if isinstance(event, PaymentTermsSet):
        return PaymentTerms(
            event.terms_id, event.name, event.net_days, event.end_of_month, event.discount_percent, event.discount_days
        )
    return state


def initial_terms(terms_id: str) -> PaymentTerms | None:
    return None


def decide_terms(command: PutPaymentTerms, state: PaymentTerms | None) -> list[Event]:
    match command:
        case PutPaymentTerms():
            return decide_put_terms(state, command)
    assert_never(command)


terms_decider: Decider[PutPaymentTerms, PaymentTerms | None] = Decider(decide_terms, evolve_terms, initial_terms)
