"""BackorderBook: one per SKU. The FIFO queue of order lines waiting for stock.

Keeping the queue in its own stream makes the fill decision exact under concurrency: two fills for
one SKU race on the book's version, and the loser decides again.

A line waits in one entry, but what it waits for may have joined at different times: an order
change that raises a backordered line queues its rest behind every backorder accepted before the
change, while the qty the line already waited for keeps its place. So an entry holds tranches by
acceptance time; fills serve the oldest tranche first, withdrawals (a change cutting the line) take
the newest first.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import assert_never

from domain.decider import Decider
from domain.events import Event, register
from domain.frozen import replace


class BackorderQueued(Event, frozen=True, kw_only=True):
    sku: str
    order_id: str
    line_id: str
    warehouse_id: str | None  # the order's pinned warehouse, if any
    qty: int
    accepted_at: datetime


class BackorderFilled(Event, frozen=True, kw_only=True):
    sku: str
    order_id: str
    line_id: str
    warehouse_id: str
    qty: int


class BackorderWithdrawn(Event, frozen=True, kw_only=True):
    sku: str
    order_id: str
    line_id: str
    qty: int
    reason: str


register(BackorderQueued, BackorderFilled, BackorderWithdrawn)


@dataclass(frozen=True)
class Entry:
    """A waiting line: `qty` in all, the oldest part accepted at `accepted_at`, and the parts that
    joined later as (accepted_at, qty), oldest first."""

    order_id: str
    line_id: str
    warehouse_id: str | None
    qty: int
    accepted_at: datetime
    later: tuple[tuple[datetime, int], ...] = ()

    @property
    def sort_key(self) -> tuple[datetime, str, str]:
        return (self.accepted_at, self.order_id, self.line_id)

    def tranches(self) -> list[tuple[datetime, int]]:
        """(accepted_at, qty) of each part, oldest first."""
        return [(self.accepted_at, self.qty - sum(q for _, q in self.later)), *self.later]


def _entry(template: Entry, tranches: list[tuple[datetime, int]]) -> Entry | None:
    """The entry holding these tranches (merged by time, emptied ones gone); None when none are left."""
    merged: dict[datetime, int] = {}
    for at, qty in tranches:
        merged[at] = merged.get(at, 0) + qty
    kept = sorted((at, qty) for at, qty in merged.items() if qty > 0)
    if not kept:
        return None
    return replace(template, qty=sum(q for _, q in kept), accepted_at=kept[0][0], later=tuple(kept[1:]))


def _take(tranches: list[tuple[datetime, int]], qty: int) -> list[tuple[datetime, int]]:
    """`qty` taken from these tranches in their order."""
    left: list[tuple[datetime, int]] = []
    for at, held in tranches:
        take = min(qty, held)
        left.append((at, held - take))
        qty -= take
    return left


@dataclass(frozen=True)
class Book:
    sku: str
    entries: dict[tuple[str, str], Entry] = field(default_factory=dict)

    @property
    def total(self) -> int:
        return sum(e.qty for e in self.entries.values())

    def queue(self) -> list[Entry]:
        return sorted(self.entries.values(), key=lambda e: e.sort_key)

    def slots(self) -> list[tuple[Entry, int]]:
        """Every tranche as (entry, qty), in acceptance order: the order stock is owed in."""
        parts = [(at, e.order_id, e.line_id, e, qty) for e in self.entries.values() for at, qty in e.tranches()]
        return [(e, qty) for _, _, _, e, qty in sorted(parts, key=lambda p: p[:3])]


def _shift(state: Book, key: tuple[str, str], qty: int, *, newest_first: bool) -> Book:
    """`qty` leaves the entry: oldest tranche first (a fill) or newest first (a withdrawal)."""
    entries = dict(state.entries)
    entry = entries[key]
    tranches = entry.tranches()
    left = _take(tranches[::-1], qty)[::-1] if newest_first else _take(tranches, qty)
    kept = _entry(entry, left)
    if kept is None:
        entries.pop(key)
    else:
        entries[key] = kept
    return replace(state, entries=entries)


def evolve_book(state: Book, event: Event) -> Book:
    match event:
        case BackorderQueued():
            key = (event.order_id, event.line_id)
            existing = state.entries.get(key)
            if existing is None:
                entry = Entry(event.order_id, event.line_id, event.warehouse_id, event.qty, event.accepted_at)
            else:
                entry = _entry(existing, [*existing.tranches(), (event.accepted_at, event.qty)]) or existing
            return replace(state, entries={**state.entries, key: entry})
        case BackorderFilled(order_id=o, line_id=line, qty=qty) if (o, line) in state.entries:
            return _shift(state, (o, line), qty, newest_first=False)
        case BackorderWithdrawn(order_id=o, line_id=line, qty=qty) if (o, line) in state.entries:
            return _shift(state, (o, line), qty, newest_first=True)
    return state


def queue(
    state: Book, order_id: str, line_id: str, warehouse_id: str | None, qty: int, accepted_at: datetime
) -> list[Event]:
    if qty <= 0:
        return []
    return [
        BackorderQueued(
            sku=state.sku,
            order_id=order_id,
            line_id=line_id,
            warehouse_id=warehouse_id,
            qty=qty,
            accepted_at=accepted_at,
        )
    ]


def withdraw(state: Book, order_id: str, line_id: str, reason: str, qty: int | None = None) -> list[Event]:
    """The line stops waiting, for all it waits for or (an order change cutting it) at most `qty`."""
    entry = state.entries.get((order_id, line_id))
    if entry is None:
        return []
    take = entry.qty if qty is None else min(qty, entry.qty)
    if take <= 0:
        return []
    return [BackorderWithdrawn(sku=state.sku, order_id=order_id, line_id=line_id, qty=take, reason=reason)]


def plan_fill(state: Book, available: Mapping[str, int]) -> list[tuple[Entry, str, int]]:
    """FIFO by acceptance time: each waiting tranche takes what its warehouse (or any) has free.

    `available` is free stock per warehouse. Returns [(entry, warehouse_id, qty)]; an entry whose
    tranches sit at different places in the queue may appear more than once.
    """
    free = {wh: qty for wh, qty in available.items() if qty > 0}
    fills: list[tuple[Entry, str, int]] = []
    for entry, wanted in state.slots():
        candidates = sorted((wh for wh in free if entry.warehouse_id in (None, wh)), key=lambda wh: (-free[wh], wh))
        for wh in candidates:
            if wanted == 0:
                break
            take = min(wanted, free[wh])
            if take:
                fills.append((entry, wh, take))
                free[wh] -= take
                wanted -= take
    return fills


def fill(state: Book, entry: Entry, warehouse_id: str, qty: int) -> list[Event]:
    return [
        BackorderFilled(
            sku=state.sku, order_id=entry.order_id, line_id=entry.line_id, warehouse_id=warehouse_id, qty=qty
        )
    ]


@dataclass(frozen=True)
class QueueBackorder:
    """An order line waits for `qty` more of the SKU (from `warehouse_id` only, when pinned)."""

    sku: str
    order_id: str
    line_id: str
    warehouse_id: str | None
    qty: int
    accepted_at: datetime


@dataclass(frozen=True)
class FillQueuedLine:
    """A waiting line got `qty` from `warehouse_id` (see `plan_fill`)."""

    sku: str
    order_id: str
    line_id: str
    warehouse_id: str
    qty: int


@dataclass(frozen=True)
class WithdrawBackorder:
    """The line stops waiting (for at most `qty`, when given)."""

    sku: str
    order_id: str
    line_id: str
    reason: str
    qty: int | None = None


BookCommand = QueueBackorder | FillQueuedLine | WithdrawBackorder


def initial_state(sku: str) -> Book:
    return Book(sku=sku)


def decide(command: BookCommand, state: Book) -> list[Event]:
    match command:
        case QueueBackorder(order_id=o, line_id=line, warehouse_id=wh, qty=qty, accepted_at=accepted_at):
            return queue(state, o, line, wh, qty, accepted_at)
        case FillQueuedLine(order_id=o, line_id=line, warehouse_id=wh, qty=qty):
            entry = state.entries.get((o, line))
            return fill(state, entry, wh, qty) if entry is not None else []  # nothing waits: nothing to fill
        case WithdrawBackorder(order_id=o, line_id=line, reason=reason, qty=qty):
            return withdraw(state, o, line, reason, qty)
    assert_never(command)


decider: Decider[BookCommand, Book] = Decider(decide, evolve_book, initial_state)
