"""Promise dates on an order's lines, and how a shipment is judged against them.

A backordered line carries `promised_date`, the day known supply would complete its backordered qty
(domain.promising), recorded as `BackorderPromised` only when it changes. A line that no longer
waits (filled, cut, cancelled) or waits on a held or cancelled order has none.

Promise accuracy (API.md: the share of shipped lines that shipped on or before the promised_date
they had; lines never backordered count as on time) is decided when a shipment is recorded: the
shipment carries its `shipped_on` day and the lines that went after their promise
(`late_line_ids`); a line is late when any of its shipments was. The promise a line "had" is
`last_promised_date`: its latest recorded date, kept when the date lapses because the line was filled
(the promise it was filled under), dropped when it is withdrawn while the line still waits (known
supply no longer completes it: no promise stands). A line that never had a dated promise, backordered
or not, cannot ship late.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date

from domain.events import Event
from domain.order.events import BackorderPromised
from domain.order.state import Line, Order


def _target(state: Order, line: Line, dates: Mapping[str, date | None]) -> date | None:
    if line.backordered <= 0 or state.cancelled or state.on_hold:
        return None
    return dates.get(line.line_id, line.promised_date)


def promise_events(state: Order, dates: Mapping[str, date | None]) -> list[Event]:
    """BackorderPromised for each line whose date changes: lines named in `dates` (line_id -> new
    date) take it, a line that no longer waits goes to None, other lines keep theirs."""
    events: list[Event] = []
    for line in state.lines:
        new = _target(state, line, dates)
        if new != line.promised_date:
            events.append(
                BackorderPromised(
                    order_id=state.order_id,
                    line_id=line.line_id,
                    sku=line.sku,
                    promised_date=new,
                    previous=line.promised_date,
                )
            )
    return events


def late_lines(state: Order, line_ids: Iterable[str], shipped_on: date | None) -> list[str]:
    """The lines of a shipment on `shipped_on` that go after the promise they had (none when the day
    is not known)."""
    if shipped_on is None:
        return []
    late: list[str] = []
    for line_id in dict.fromkeys(line_ids):
        promised = state.line(line_id).last_promised_date
        if promised is not None and shipped_on > promised:
            late.append(line_id)
    return late


def promises_late(state: Order, today: date) -> list[Line]:
    """Backordered lines whose promised_date is before today (the `promises_late` signal)."""
    return [
        line
        for line in state.lines
        if line.backordered > 0 and line.promised_date is not None and line.promised_date < today
    ]
