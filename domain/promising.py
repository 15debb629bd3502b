"""Promise dates: when known supply would complete what waits for a SKU (API.md "Expected supply
and promise dates").

One rule, the backorder fill's own, run forward in time: supply (stock available now, dated today,
plus incoming supply on its date; a date already past counts as today), taken in date order and then
by warehouse_id, goes to the open backorders of the SKU in queue order, each part taking only from
the warehouses it accepts (its pinned one, or any). A part is complete on the date of the supply that
finishes it; a line on the date its last part completes; never (None) when known supply runs out first.

Stock available now goes to the queue like any other supply: an older backorder that could take it
is owed it (API.md "Corrections to the first edition"), so a new order gets only what the queue
leaves. Once the fill has run, nothing waiting could take free stock, and "available now covers it"
and "the rule says today" are the same answer.

The cost is linear in the queue and the supply of one SKU (after sorting the supply): every step
either completes a part or uses up a piece of supply. "Today" is always given, never read.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date

from domain.backorders import Book
from domain.expected import ExpectedReceipt
from domain.transfer import Transfer

LineKey = tuple[str, str]  # (order_id, line_id)


@dataclass(frozen=True)
class Supply:
    """`qty` of the SKU due at `warehouse_id` on `on` (an open expected receipt or a dated transfer)."""

    on: date
    warehouse_id: str
    qty: int


@dataclass(frozen=True)
class Waiting:
    """One part of the queue: `qty` an order line waits for, from `warehouse_id` only when pinned.
    A line whose parts joined at different times appears once per part, each at its place."""

    order_id: str
    line_id: str
    warehouse_id: str | None
    qty: int


def queue_of(book: Book) -> list[Waiting]:
    """The backorder book's parts in the order stock is owed in (`Book.slots`)."""
    return [Waiting(e.order_id, e.line_id, e.warehouse_id, qty) for e, qty in book.slots()]


def incoming_of(expected: Iterable[ExpectedReceipt], transfers: Iterable[Transfer]) -> list[Supply]:
    """What is still expected: the open rest of open expected receipts, and the dated transfers
    not yet received (at their destination). Unsorted; past dates kept as they are."""
    supply = [Supply(e.expected_on, e.warehouse_id, e.open) for e in expected if e.open > 0]
    supply += [
        Supply(t.expected_on, t.to_warehouse_id, t.qty)
        for t in transfers
        if t.expected_on is not None and not t.received and t.qty > 0
    ]
    return supply


def supply_in_order(today: date, available: Mapping[str, int], incoming: Iterable[Supply]) -> list[Supply]:
    """All supply as the rule takes it: available now dated today, past dates as today, by date
    then warehouse_id (what is due at one place on one day taken together)."""
    due: dict[tuple[date, str], int] = {}
    for wh, qty in available.items():
        if qty > 0:
            due[(today, wh)] = due.get((today, wh), 0) + qty
    for s in incoming:
        if s.qty > 0:
            key = (max(s.on, today), s.warehouse_id)
            due[key] = due.get(key, 0) + s.qty
    return [Supply(on, wh, qty) for (on, wh), qty in sorted(due.items())]


def complete_on(
    today: date, available: Mapping[str, int], incoming: Iterable[Supply], queue: Sequence[Waiting]
) -> list[date | None]:
    """For each part of `queue`, the date the rule completes it (None: never)."""
    wanted = [max(w.qty, 0) for w in queue]
    done: list[date | None] = [today if q == 0 else None for q in wanted]
    pinned: dict[str, list[int]] = {}  # warehouse -> the parts pinned to it, in queue order
    anywhere: list[int] = []  # the parts that take from any warehouse, in queue order
    for i, w in enumerate(queue):
        if wanted[i]:
            (anywhere if w.warehouse_id is None else pinned.setdefault(w.warehouse_id, [])).append(i)
    head = dict.fromkeys(pinned, 0)  # the first part of each list still waiting
    head_any = 0
    waiting = sum(1 for q in wanted if q)
    for s in supply_in_order(today, available, incoming):
        if not waiting:
            break
        left = s.qty
        mine = pinned.get(s.warehouse_id, [])
        while left:
            at = head.get(s.warehouse_id, 0)
            i_pin = mine[at] if at < len(mine) else None
            i_any = anywhere[head_any] if head_any < len(anywhere) else None
            if i_pin is not None and (i_any is None or i_pin < i_any):
                i, from_any = i_pin, False
            elif i_any is not None:
                i, from_any = i_any, True
            else:
                break  # nobody left who takes from here
            take = min(left, wanted[i])
            wanted[i] -= take
            left -= take
            if wanted[i] == 0:
                done[i] = s.on
                waiting -= 1
                if from_any:
                    head_any += 1
                else:
                    head[s.warehouse_id] = at + 1
    return done


def promised_dates(
    today: date, available: Mapping[str, int], incoming: Iterable[Supply], queue: Sequence[Waiting]
) -> dict[LineKey, date | None]:
    """Per waiting order line: the date its backordered qty would be complete (None: known supply
    never completes it)."""
    latest: dict[LineKey, date] = {}
    never: set[LineKey] = set()
    for w, on in zip(queue, complete_on(today, available, incoming, queue), strict=True):
        key = (w.order_id, w.line_id)
        if on is None:
            never.add(key)
        elif key not in latest or on > latest[key]:
            latest[key] = on
    lines = dict.fromkeys((w.order_id, w.line_id) for w in queue)
    return {key: None if key in never else latest.get(key, today) for key in lines}


def promise(
    today: date,
    qty: int,
    pin: str | None,
    available: Mapping[str, int],
    incoming: Iterable[Supply],
    queue: Sequence[Waiting],
) -> date | None:
    """The date a new order for `qty` (from `pin` only, when given), queued behind every open
    backorder, would be complete: today when what the queue leaves of the stock now covers it;
    None when known supply never does."""
    if qty <= 0:
        return today
    newcomer = Waiting("", "", pin, qty)
    return complete_on(today, available, incoming, [*queue, newcomer])[-1]
