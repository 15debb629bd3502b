"""What an accepted change asks of the other streams, read off its events: stock positions to
release and reserve, backorder books to shrink and extend, and the customer's unbilled value.
All of it belongs in the same atomic write as the change (API.md: a change is one step)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from domain.events import Event
from domain.order.events import LineAllocation, LineQty, OrderChanged, OrderLinesAllocated
from domain.order.state import Order
from domain.values import ZERO, add


@dataclass(frozen=True)
class QueuedRest:
    """The part of an increase or added line that no stock covered: it joins the SKU's backorder
    book at `accepted_at` (the change's time), behind every backorder accepted before it."""

    line_id: str
    sku: str
    warehouse_id: str | None  # the order's pinned warehouse, if any
    qty: int
    accepted_at: datetime


@dataclass(frozen=True)
class ChangeEffects:
    released: tuple[LineAllocation, ...]  # inventory.release(position, order, line, reason, qty=...)
    reserved: tuple[LineAllocation, ...]  # inventory.reserve(position, order, line, qty)
    withdrawn: tuple[LineQty, ...]  # backorders.withdraw(book, order, line, reason, qty=...)
    queued: tuple[QueuedRest, ...]  # backorders.queue(book, order, line, warehouse, qty, accepted_at)
    value_change: Decimal  # > 0: customer.commit_credit; < 0: customer.release_credit(-value_change)

    @property
    def freed(self) -> list[tuple[str, str]]:
        """(sku, warehouse_id) whose stock became free: older backorders are served from it next."""
        return list(dict.fromkeys((r.sku, r.warehouse_id) for r in self.released))


def effects_of_change(state: Order, events: Sequence[Event]) -> ChangeEffects:
    """The effects of `change`'s events on an order in `state` (before or after: only whether it is
    held and where it is pinned matter). A held order is in no backorder book and reserves nothing,
    so only its value moves."""
    released: list[LineAllocation] = []
    reserved: list[LineAllocation] = []
    withdrawn: list[LineQty] = []
    wanted: dict[str, tuple[str, int]] = {}  # line -> (sku, qty the change added)
    value_change = ZERO
    changed_at: datetime | None = None
    for event in events:
        if isinstance(event, OrderChanged):
            changed_at = event.changed_at
            value_change = add(value_change, event.value_change)
            for cl in event.lines:
                released += cl.released
                if cl.backorder_dropped > 0:
                    withdrawn.append(LineQty(line_id=cl.line_id, sku=cl.sku, qty=cl.backorder_dropped))
                if cl.qty > cl.previous_qty:
                    wanted[cl.line_id] = (cl.sku, cl.qty - cl.previous_qty)
            wanted.update({pl.line_id: (pl.sku, pl.qty) for pl in event.added})
        elif isinstance(event, OrderLinesAllocated) and event.reason == "order_change":
            reserved += event.allocations
    queued: list[QueuedRest] = []
    if not state.on_hold and changed_at is not None:
        for line_id, (sku, qty) in wanted.items():
            rest = qty - sum(a.qty for a in reserved if a.line_id == line_id)
            if rest > 0:
                queued.append(QueuedRest(line_id, sku, state.warehouse_id, rest, changed_at))
    return ChangeEffects(
        released=tuple(released),
        reserved=tuple(reserved),
        withdrawn=tuple(withdrawn) if not state.on_hold else (),
        queued=tuple(queued),
        value_change=value_change,
    )
