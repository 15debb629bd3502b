"""Business KPIs (API.md "Business KPIs"): one milestone row per order and per invoice, each dated by
the day it reached a milestone, so a window query reads the rows of its days (indexed), never the log.

- `kpi_orders`: the day an order was accepted, its channel, its lines with non-zero qty, how many of
  them were fully allocated / had qty backordered at placement (a credit hold allocates nothing and
  backorders nothing), its credit hold (reason and day), whether it ended cancelled, its first shipment
  (day and seconds since acceptance) and the lines that shipped (and those that shipped after their
  promise: promise accuracy, as domain.order.promises decides it at the shipment).
- `kpi_invoices`: when billing opened it (the shipment's billing start: in the shipment's own write with
  the delivery trigger, by the billing workflow right after it with the shipment trigger), the first
  day it was dead-lettered for tax, its issue (day, seconds since opened), its open amount, and the
  day a payment (with its discount, or unapplied cash applied to it) brought the open amount to 0.

Every row is a function of the events of its order or invoice alone: a rebuild makes the same rows.
The tallies of projections/kpi_tallies.py count these rows per day and month for the window query.
Pure: `kpis_of` turns the window's figures into the API answer."""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Mapping
from datetime import UTC, date, datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from domain import invoice, order, payment
from domain.events import Event
from domain.values import ZERO, add
from projections.base import Column, EventInfo, Key, ProjectionSpec, Row, TableSpec
from projections.kpi_tallies import TALLIES
from projections.receivables import entries

_ORDER_EVENTS = (
    order.OrderPlaced,
    order.OrderLinesAllocated,
    order.OrderCreditHeld,
    order.OrderCancelled,
    order.OrderShipmentRecorded,
)
_INVOICE_EVENTS = (
    invoice.InvoiceOpened,
    invoice.InvoiceDeadLettered,
    invoice.InvoiceIssued,
    invoice.CreditNoteIssued,
    invoice.DiscountTaken,
    payment.PaymentReceived,
    payment.CreditApplied,
)
_CASH = frozenset({"payment", "credit_application", "discount"})  # what "the payment" closing an invoice is


def _utc(value: datetime) -> datetime:
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def _ids(text: str | None) -> list[str]:
    return list(json.loads(text)) if text else []


def order_keys(event: Event) -> list[Key]:
    return [(event.order_id,)] if isinstance(event, _ORDER_EVENTS) else []


def evolve_order(row: Row | None, key: Key, event: Event, info: EventInfo) -> Row | None:
    if isinstance(event, order.OrderPlaced):
        if row is not None:
            return row  # placed once
        qtys = {ln.line_id: ln.qty for ln in event.lines if ln.qty > 0}
        return {
            "order_id": event.order_id,
            "day": _utc(event.accepted_at).date().isoformat(),
            "accepted_at": _utc(event.accepted_at),
            "channel": event.channel,
            "lines": len(qtys),
            "filled": 0,
            "backordered": len(qtys),  # until the placement allocation says otherwise
            "qtys": json.dumps(qtys, sort_keys=True),
            "held": None,
            "held_day": None,
            "cancelled": False,
            "ship_day": None,
            "ship_seconds": None,
            "shipped_lines": "[]",
            "late_lines": "[]",
        }
    if row is None:
        return None  # an order placed before the log began: nothing to date it by
    row = dict(row)
    match event:
        case order.OrderLinesAllocated(reason="placement"):
            qtys: dict[str, int] = json.loads(row["qtys"])
            got: dict[str, int] = {}
            for a in event.allocations:
                got[a.line_id] = got.get(a.line_id, 0) + a.qty
            row["filled"] = sum(1 for line_id, qty in qtys.items() if got.get(line_id, 0) >= qty)
            row["backordered"] = row["lines"] - row["filled"]
        case order.OrderCreditHeld():
            row["held"] = event.reason
            row["held_day"] = _utc(info.occurred_at).date().isoformat()
            row["filled"] = row["backordered"] = 0
        case order.OrderCancelled():
            row["cancelled"] = True
        case order.OrderShipmentRecorded():
            if row["ship_day"] is None:
                shipped_at = _utc(info.occurred_at)
                row["ship_day"] = (event.shipped_on or shipped_at.date()).isoformat()
                row["ship_seconds"] = max(int((shipped_at - _utc(row["accepted_at"])).total_seconds()), 0)
            shipped = set(_ids(row["shipped_lines"])) | {ln.line_id for ln in event.lines if ln.qty > 0}
            late = set(_ids(row["late_lines"])) | (set(event.late_line_ids) & shipped)
            row["shipped_lines"] = json.dumps(sorted(shipped))
            row["late_lines"] = json.dumps(sorted(late))
    return row


def invoice_keys(event: Event) -> list[Key]:
    if isinstance(event, invoice.InvoiceOpened | invoice.InvoiceDeadLettered):
        return [(event.invoice_id,)]
    if isinstance(event, _INVOICE_EVENTS):
        return sorted({(e.invoice_id,) for e in entries(event) if e.invoice_id})
    return []


def evolve_invoice(row: Row | None, key: Key, event: Event, info: EventInfo) -> Row | None:
    day = _utc(info.occurred_at).date()
    if row is None:
        if not isinstance(event, invoice.InvoiceOpened | invoice.InvoiceDeadLettered | invoice.InvoiceIssued):
            return None  # a payment or credit of an invoice this read model never saw issued
        row = {
            "invoice_id": key[0],
            "opened_at": None,
            "dead_day": None,
            "issue_day": None,
            "issue_seconds": None,
            "open": None,
            "cash_day": None,
            "cash_days": None,
        }
    row = dict(row)
    match event:
        case invoice.InvoiceOpened():
            row["opened_at"] = row["opened_at"] or _utc(info.occurred_at)
        case invoice.InvoiceDeadLettered():
            row["dead_day"] = row["dead_day"] or day.isoformat()
        case invoice.InvoiceIssued():
            if row["issue_day"] is None:
                row["issue_day"] = (event.issued_on or day).isoformat()
                if row["opened_at"] is not None:
                    issued = _utc(info.occurred_at) - _utc(row["opened_at"])
                    row["issue_seconds"] = max(int(issued.total_seconds()), 0)
                row["open"] = event.total
        case _:
            if row["issue_day"] is None or row["cash_day"] is not None or row["open"] is None:
                return row
            for e in entries(event):
                if e.invoice_id != key[0]:
                    continue
                row["open"] = add(Decimal(row["open"]), e.open_delta)
                if row["open"] <= ZERO and row["cash_day"] is None:
                    row["cash_day"] = "" if e.kind not in _CASH else (e.on or day).isoformat()
                    if e.kind in _CASH:
                        issued_on = date.fromisoformat(row["issue_day"])
                        row["cash_days"] = max((date.fromisoformat(row["cash_day"]) - issued_on).days, 0)
    return row


KPIS = ProjectionSpec(
    name="kpis",
    tables=(
        TableSpec(
            "kpi_orders",
            ("order_id",),
            (
                Column("order_id", "str"),
                Column("day", "str", index=True),
                Column("accepted_at", "time"),
                Column("channel", "str"),
                Column("lines", "int"),
                Column("filled", "int"),
                Column("backordered", "int"),
                Column("qtys", "json"),
                Column("held", "str"),
                Column("held_day", "str", index=True),
                Column("cancelled", "bool"),
                Column("ship_day", "str", index=True),
                Column("ship_seconds", "int"),
                Column("shipped_lines", "json"),
                Column("late_lines", "json"),
            ),
            order_keys,
            evolve_order,
            _ORDER_EVENTS,
        ),
        TableSpec(
            "kpi_invoices",
            ("invoice_id",),
            (
                Column("invoice_id", "str"),
                Column("opened_at", "time"),
                Column("dead_day", "str", index=True),
                Column("issue_day", "str", index=True),
                Column("issue_seconds", "int"),
                Column("open", "money"),
                Column("cash_day", "str", index=True),
                Column("cash_days", "int"),
            ),
            invoice_keys,
            evolve_invoice,
            _INVOICE_EVENTS,
        ),
        *TALLIES,  # after the tables they count (projections/kpi_tallies.py)
    ),
)


# --- answers from the window's figures (pure) ---------------------------------------------------


def rate(part: int, whole: int) -> str | None:
    """A share as a 4-place decimal string, half-up; None when there is nothing to share."""
    if whole <= 0:
        return None
    return str((Decimal(part) / Decimal(whole)).quantize(Decimal("0.0001"), rounding=ROUND_HALF_UP))


def nearest_rank(values: Iterable[float], p: int) -> float | None:
    ordered = sorted(values)
    if not ordered:
        return None
    return ordered[max(math.ceil(p * len(ordered) / 100), 1) - 1]


def percentiles(values: Iterable[float]) -> dict[str, float | None]:
    found = list(values)
    return {"p50": nearest_rank(found, 50), "p90": nearest_rank(found, 90)}


def hours(seconds: Iterable[int]) -> dict[str, float | None]:
    """Percentiles of durations in seconds, as hours rounded to 2 places."""
    found = percentiles(seconds)
    return {k: None if v is None else round(v / 3600, 2) for k, v in found.items()}


def days(values: Iterable[int]) -> dict[str, int | None]:
    found = percentiles(values)
    return {k: None if v is None else int(v) for k, v in found.items()}


def kpis_of(
    start: date,
    end: date,
    by_channel: Mapping[str, tuple[int, int, int, int, int]],
    ship_hours: Mapping[str, float | None],
    invoice_hours: Mapping[str, float | None],
    cash_days: Mapping[str, int | None],
    shipped: tuple[int, int],
    exceptions: Mapping[str, int],
) -> dict[str, Any]:
    """`by_channel`: channel -> (orders, lines, filled, backordered, cancelled) of the orders accepted
    in the window; `shipped`: (lines shipped, of them late) of those orders; the percentiles as
    `hours` and `days` answer them."""
    totals = [sum(v[i] for v in by_channel.values()) for i in range(5)]
    orders, lines, filled, backordered, cancelled = totals
    shipped_lines, late = shipped
    return {
        "from": start.isoformat(),
        "to": end.isoformat(),
        "orders": orders,
        "lines": lines,
        "fill_rate": rate(filled, lines),
        "fill_rate_by_channel": {channel: rate(v[2], v[1]) for channel, v in sorted(by_channel.items()) if v[1] > 0},
        "backorder_rate": rate(backordered, lines),
        "cancelled_rate": rate(cancelled, orders),
        "order_to_ship_hours": dict(ship_hours),
        "ship_to_invoice_hours": dict(invoice_hours),
        "invoice_to_cash_days": dict(cash_days),
        "promise_accuracy": rate(shipped_lines - late, shipped_lines),
        "exceptions": dict(exceptions),
    }
