"""Dunning: reminder levels by days past due, one notice per customer, level and date.

A customer's level is the highest level whose threshold (O2C_DUNNING_DAYS, e.g. 7, 21, 45 days past
due) its most overdue open invoice has reached. A run records a notice when that level is above the
one the customer was last noticed for; once nothing is past due, the level returns to 0."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import date
from decimal import Decimal

import msgspec

from domain.events import Event, register
from domain.values import sum_money


class OverdueInvoice(msgspec.Struct, frozen=True, kw_only=True):
    invoice_id: str
    number: int
    due_date: date
    open: Decimal
    days_past_due: int


class DunningNoticeIssued(Event, frozen=True, kw_only=True):
    customer_id: str
    level: int
    as_of: date
    invoices: list[OverdueInvoice]
    total_overdue: Decimal


class DunningResolved(Event, frozen=True, kw_only=True):
    """Nothing of the customer is past due any more: the level is back to 0."""

    customer_id: str
    as_of: date
    previous_level: int


register(DunningNoticeIssued, DunningResolved)


@dataclass(frozen=True)
class Dunning:
    customer_id: str
    level: int = 0
    notices: tuple[DunningNoticeIssued, ...] = field(default_factory=tuple)


def evolve_dunning(state: Dunning, event: Event) -> Dunning:
    if isinstance(event, DunningNoticeIssued):
        return replace(state, level=event.level, notices=(*state.notices, event))
    if isinstance(event, DunningResolved):
        return replace(state, level=0)
    return state


def initial_dunning(customer_id: str) -> Dunning:
    return Dunning(customer_id)


def level_for(days_past_due: int, thresholds: Sequence[int]) -> int:
    """The highest level (1-based) whose threshold `days_past_due` has reached; 0 below the first."""
    return sum(1 for t in thresholds if days_past_due >= t)


def run(state: Dunning, as_of: date, open_invoices: Sequence[OverdueInvoice], thresholds: Sequence[int]) -> list[Event]:
    """`open_invoices`: the customer's open invoices with their days past due as of `as_of`
    (only those past due count). Idempotent: the same date and level record nothing twice."""
    overdue = sorted((i for i in open_invoices if i.days_past_due > 0), key=lambda i: (i.due_date, i.number))
    if not overdue:
        if state.level == 0:
            return []
        return [DunningResolved(customer_id=state.customer_id, as_of=as_of, previous_level=state.level)]
    level = level_for(max(i.days_past_due for i in overdue), thresholds)
    if level <= state.level:
        return []
    if any(n.level == level and n.as_of == as_of for n in state.notices):
        return []
    return [
        DunningNoticeIssued(
            customer_id=state.customer_id,
            level=level,
            as_of=as_of,
            invoices=overdue,
            total_overdue=sum_money(i.open for i in overdue),
        )
    ]
