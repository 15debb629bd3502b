"""Receivables: every dated movement of a customer's invoices and unapplied credit, one row each, so
aging and statements can be computed as of any date from what was dated up to it.

A row is one effect of one event: `open_delta` changes an invoice's open amount (+total at issue,
- what a payment, credit note, discount or credit application took), `credit_delta` changes the
customer's unapplied credit, `owed` is what the customer's statement shows (+ owes, - paid or
credited), and `statement` marks the rows that are statement lines. Dates are the business dates
(issued_on, received_on, on); events from before they were recorded fall back to the day recorded.
Pure: aging_of and statement_of turn rows into the API answers."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from domain import dunning, invoice, payment
from domain.events import Event
from domain.values import ZERO, add, format_money
from projections.base import Column, EventInfo, Key, ProjectionSpec, Row, TableSpec

BUCKETS = ("current", "days_1_30", "days_31_60", "days_61_90", "days_over_90")
_EVENTS = (
    invoice.InvoiceIssued,
    invoice.CreditNoteIssued,
    invoice.DiscountTaken,
    payment.PaymentReceived,
    payment.CreditApplied,
)


@dataclass(frozen=True)
class Entry:
    entry_id: str
    customer_id: str
    on: date | None  # None: the day the event was recorded
    kind: str
    ref: str
    invoice_id: str = ""
    number: int | None = None
    due_date: date | None = None
    open_delta: Decimal = ZERO
    credit_delta: Decimal = ZERO
    owed: Decimal = ZERO
    statement: bool = False


def entries(event: Event) -> list[Entry]:
    """The rows an event adds (an event is recorded once: its rows never change afterwards)."""
    match event:
        case invoice.InvoiceIssued():
            return [
                Entry(
                    f"invoice:{event.invoice_id}",
                    event.customer_id,
                    event.issued_on,
                    "invoice",
                    event.invoice_id,
                    event.invoice_id,
                    event.number,
                    event.due_date or event.issued_on,
                    open_delta=event.total,
                    owed=event.total,
                    statement=True,
                )
            ]
        case invoice.CreditNoteIssued():
            cn, on = event.invoice_id, event.issued_on
            note = Entry(
                f"credit_note:{cn}",
                event.customer_id,
                on,
                "credit_note",
                cn,
                credit_delta=event.unapplied,
                owed=event.total,
                statement=True,
            )
            applied = [
                Entry(f"credit_note:{cn}:{inv}", event.customer_id, on, "credit_note", cn, inv, open_delta=-amount)
                for inv, amount in event.applies_to.items()
            ]
            return [note, *applied]
        case invoice.DiscountTaken():
            inv = event.invoice_id
            return [
                Entry(
                    f"discount:{inv}:{event.payment_id}",
                    event.customer_id,
                    event.on,
                    "discount",
                    inv,
                    inv,
                    open_delta=-event.amount,
                    owed=-event.amount,
                    statement=True,
                )
            ]
        case payment.PaymentReceived():
            pid, on = event.payment_id, event.received_on
            paid = Entry(
                f"payment:{pid}",
                event.customer_id,
                on,
                "payment",
                pid,
                credit_delta=event.unapplied,
                owed=-event.amount,
                statement=True,
            )
            return [paid, *_allocations("payment", pid, event.customer_id, on, event.applied)]
        case payment.CreditApplied():
            aid = event.application_id
            used = Entry(
                f"credit_application:{aid}",
                event.customer_id,
                event.on,
                "credit_application",
                aid,
                credit_delta=-event.amount,
            )
            return [used, *_allocations("credit_application", aid, event.customer_id, event.on, event.applied)]
    return []


def _allocations(
    kind: str, ref: str, customer_id: str, on: date | None, applied: Iterable[payment.Allocation]
) -> list[Entry]:
    return [
        Entry(f"{kind}:{ref}:{a.invoice_id}", customer_id, on, kind, ref, a.invoice_id, open_delta=-a.amount)
        for a in applied
    ]


def entry_keys(event: Event) -> list[Key]:
    return [(e.entry_id,) for e in entries(event)]


def evolve_entry(row: Row | None, key: Key, event: Event, info: EventInfo) -> Row | None:
    if row is not None:
        return row  # a replayed event: its rows are already there
    found = next((e for e in entries(event) if e.entry_id == key[0]), None)
    if found is None:
        return row
    on = found.on or info.occurred_at.date()
    return {
        "entry_id": found.entry_id,
        "customer_id": found.customer_id,
        "day": on.isoformat(),
        "kind": found.kind,
        "ref": found.ref,
        "invoice_id": found.invoice_id,
        "number": found.number,
        "due_date": (found.due_date or on).isoformat() if found.kind == "invoice" else None,
        "open_delta": found.open_delta,
        "credit_delta": found.credit_delta,
        "owed": found.owed,
        "statement": found.statement,
        "seq": info.position,
    }


_DUNNING_EVENTS = (dunning.DunningNoticeIssued, dunning.DunningResolved)


def dunning_keys(event: Event) -> list[Key]:
    return [(event.customer_id,)] if isinstance(event, _DUNNING_EVENTS) else []


def evolve_dunning_row(row: Row | None, key: Key, event: Event, info: EventInfo) -> Row | None:
    level = event.level if isinstance(event, dunning.DunningNoticeIssued) else 0
    return {"customer_id": key[0], "level": level}


RECEIVABLES = ProjectionSpec(
    name="receivables",
    tables=(
        TableSpec(
            "ar_entries",
            ("entry_id",),
            (
                Column("entry_id", "str"),
                Column("customer_id", "str", index=True),
                Column("day", "str", index=True),
                Column("kind", "str"),
                Column("ref", "str"),
                Column("invoice_id", "str", index=True),
                Column("number", "int"),
                Column("due_date", "str"),
                Column("open_delta", "money"),
                Column("credit_delta", "money"),
                Column("owed", "money"),
                Column("statement", "bool"),
                Column("seq", "int", index=True),
            ),
            entry_keys,
            evolve_entry,
            _EVENTS,
        ),
        TableSpec(
            "dunning_levels",
            ("customer_id",),
            (Column("customer_id", "str"), Column("level", "int", index=True)),
            dunning_keys,
            evolve_dunning_row,
            _DUNNING_EVENTS,
        ),
    ),
)


# --- answers from rows (pure) ------------------------------------------------------------------


def bucket_of(days_past_due: int) -> str:
    if days_past_due <= 0:
        return "current"
    if days_past_due <= 30:
        return "days_1_30"
    if days_past_due <= 60:
        return "days_31_60"
    if days_past_due <= 90:
        return "days_61_90"
    return "days_over_90"


@dataclass(frozen=True)
class OpenItem:
    customer_id: str
    invoice_id: str
    number: int
    due_date: date
    open: Decimal


def open_items(rows: Iterable[Row], as_of: date) -> tuple[list[OpenItem], dict[str, Decimal]]:
    """Each invoice's open amount as of `as_of` (rows dated up to it), and each customer's unapplied credit."""
    day = as_of.isoformat()
    issued: dict[str, Row] = {}
    moved: dict[str, Decimal] = {}
    credit: dict[str, Decimal] = {}
    for r in rows:
        if r["day"] > day:
            continue
        cid = r["customer_id"]
        credit[cid] = add(credit.get(cid, ZERO), Decimal(r["credit_delta"]))
        if not r["invoice_id"]:
            continue
        if r["kind"] == "invoice":
            issued[r["invoice_id"]] = r
        moved[r["invoice_id"]] = add(moved.get(r["invoice_id"], ZERO), Decimal(r["open_delta"]))
    items = [
        OpenItem(r["customer_id"], inv, int(r["number"] or 0), date.fromisoformat(r["due_date"]), moved[inv])
        for inv, r in issued.items()
        if moved[inv] > ZERO
    ]
    return sorted(items, key=lambda i: (i.customer_id, i.due_date, i.number)), credit


def _money_row(values: dict[str, Decimal]) -> dict[str, str]:
    return {k: format_money(v) for k, v in values.items()}


def aging_of(rows: Iterable[Row], as_of: date, currency: str) -> dict[str, Any]:
    """GET /v1/ar/aging: open amounts by days past due per customer, and the totals."""
    items, credit = open_items(rows, as_of)
    per: dict[str, dict[str, Decimal]] = {}
    for item in items:
        sums = per.setdefault(item.customer_id, dict.fromkeys(BUCKETS, ZERO))
        bucket = bucket_of((as_of - item.due_date).days)
        sums[bucket] = add(sums[bucket], item.open)
    for cid, amount in credit.items():
        if amount != ZERO:
            per.setdefault(cid, dict.fromkeys(BUCKETS, ZERO))
    totals = dict.fromkeys((*BUCKETS, "total", "unapplied_credit"), ZERO)
    customers = []
    for cid in sorted(per):
        sums = {**per[cid], "total": add(*per[cid].values()), "unapplied_credit": credit.get(cid, ZERO)}
        for k, v in sums.items():
            totals[k] = add(totals[k], v)
        customers.append({"customer_id": cid, **_money_row(sums)})
    return {"as_of": as_of.isoformat(), "currency": currency, "customers": customers, "totals": _money_row(totals)}


def overdue_by_bucket(rows: Iterable[Row], as_of: date) -> dict[str, Decimal]:
    """Open amounts past due as of `as_of`, by bucket (current left out): the overdue gauges."""
    items, _ = open_items(rows, as_of)
    out = dict.fromkeys(BUCKETS[1:], ZERO)
    for item in items:
        bucket = bucket_of((as_of - item.due_date).days)
        if bucket != "current":
            out[bucket] = add(out[bucket], item.open)
    return out


def statement_of(rows: Iterable[Row], customer_id: str, start: date, end: date, currency: str) -> dict[str, Any]:
    """GET /v1/customers/{id}/statement: the opening balance (lines before `start`), the lines from
    `start` to `end` oldest first with the running balance, and the closing balance."""
    ordered = sorted((r for r in rows if r["statement"]), key=lambda r: (r["day"], r["seq"], r["entry_id"]))
    opening = ZERO
    balance = ZERO
    lines = []
    for r in ordered:
        day = date.fromisoformat(r["day"])
        if day > end:
            break
        amount = Decimal(r["owed"])
        if day < start:
            opening = add(opening, amount)
            balance = opening
            continue
        balance = add(balance, amount)
        lines.append(
            {
                "date": r["day"],
                "kind": r["kind"],
                "ref": r["ref"],
                "amount": format_money(amount),
                "balance": format_money(balance),
            }
        )
    return {
        "customer_id": customer_id,
        "currency": currency,
        "from": start.isoformat(),
        "to": end.isoformat(),
        "opening_balance": format_money(opening),
        "lines": lines,
        "closing_balance": format_money(balance),
    }
