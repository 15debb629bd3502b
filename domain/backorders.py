"""BackorderBook: one per SKU. The FIFO queue of order lines waiting for stock.

Keeping the queue in its own stream makes the fill decision exact under concurrency: two fills for
one SKU race on the book's version, and the loser decides again.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import assert_never

from domain.decider import Decider
from domain.events import Event, register


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
    order_id: str
    line_id: str
    warehouse_id: str | None
    qty: int
    accepted_at: datetime

    @property
    def sort_key(self) -> tuple[datetime, str, str]:
        return (self.accepted_at, self.order_id, self.line_id)


@dataclass(frozen=True)
class Book:
    sku: str
    entries: dict[tuple[str, str], Entry] = field(default_factory=dict)

    @property
    def total(self) -> int:
        return sum(e.qty for e in self.entries.values())

    def queue(self) -> list[Entry]:
        return sorted(self.entries.values(), key=lambda e: e.sort_key)


def _shift(state: Book, key: tuple[str, str], delta: int) -> Book:
    entries = dict(state.entries)
    entry = entries[key]
    if entry.qty + delta > 0:
        entries[key] = replace(entry, qty=entry.qty + delta)
    else:
        entries.pop(key)
    return replace(state, entries=entries)


def evolve_book(state: Book, event: Event) -> Book:
    match event:
        case BackorderQueued():
            key = (event.order_id, event.line_id)
            existing = state.entries.get(key)
            qty = event.qty + (existing.qty if existing else 0)
            entry = Entry(event.order_id, event.line_id, event.warehouse_id, qty, event.accepted_at)
            return replace(state, entries={**state.entries, key: entry})
        case BackorderFilled(order_id=o, line_id=line, qty=qty) if (o, line) in state.entries:
            return _shift(state, (o, line), -qty)
        case BackorderWithdrawn(order_id=o, line_id=line, qty=qty) if (o, line) in state.entries:
            return _shift(state, (o, line), -qty)
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


def withdraw(state: Book, order_id: str, line_id: str, reason: str) -> list[Event]:
    entry = state.entries.get((order_id, line_id))
    if entry is None:
        return []
    return [BackorderWithdrawn(sku=state.sku, order_id=order_id, line_id=line_id, qty=entry.qty, reason=reason)]


def plan_fill(state: Book, available: Mapping[str, int]) -> list[tuple[Entry, str, int]]:
    """FIFO by acceptance time: each waiting line takes what its warehouse (or any) has free.

    `available` is free stock per warehouse. Returns [(entry, warehouse_id, qty)].
    """
    free = {wh: qty for wh, qty in available.items() if qty > 0}
    fills: list[tuple[Entry, str, int]] = []
    for entry in state.queue():
        wanted = entry.qty
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
    sku: str
    order_id: str
    line_id: str
    reason: str


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
        case WithdrawBackorder(order_id=o, line_id=line, reason=reason):
            return withdraw(state, o, line, reason)
    assert_never(command)


decider: Decider[BookCommand, Book] = Decider(decide, evolve_book, initial_state)
