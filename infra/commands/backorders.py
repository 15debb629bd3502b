"""The backorder book: free stock goes to the order lines waiting longest for it."""

from __future__ import annotations

from collections.abc import Sequence

from domain import backorders, inventory, order
from infra.commands.lookups import INDEX_KEY, position_of, record_position
from infra.ledger.kinds import BOOK, ORDER, WAREHOUSE_INDEX
from infra.ledger.unitofwork import UnitOfWork


def serve_the_queue_first(uow: UnitOfWork, skus: Sequence[str]) -> None:
    """Stock that older backorders are owed is theirs: fill them, in this same write, before
    anything else may take free stock of these SKUs (a command that frees stock, or a new order,
    never leaves free stock beside an open backorder that could take it, whatever the fill lag)."""
    for sku in dict.fromkeys(skus):
        fill_backorders(uow, sku)


def fill_backorders(uow: UnitOfWork, sku: str) -> int:
    """Give free stock of the SKU to waiting order lines, first accepted first. Returns units filled."""
    book = uow.get(BOOK, sku)
    if not book.entries:
        return 0
    warehouses = uow.get(WAREHOUSE_INDEX, INDEX_KEY)
    available = {wh: position_of(uow, sku, wh).available for wh in warehouses}
    filled = 0
    for entry, wh, qty in backorders.plan_fill(book, available):
        state = uow.get(ORDER, entry.order_id)
        if state is None or state.cancelled or state.on_hold:
            uow.record(BOOK, sku, backorders.withdraw(uow.get(BOOK, sku), entry.order_id, entry.line_id, "not_open"))
            continue
        events = order.fill_backorder(state, entry.line_id, wh, qty)
        if not events:
            uow.record(BOOK, sku, backorders.withdraw(uow.get(BOOK, sku), entry.order_id, entry.line_id, "not_open"))
            continue
        take = events[0].allocations[0].qty  # type: ignore[attr-defined]
        uow.record(ORDER, entry.order_id, events)
        pos = position_of(uow, sku, wh)
        record_position(uow, sku, wh, inventory.reserve(pos, entry.order_id, entry.line_id, take))
        uow.record(BOOK, sku, backorders.fill(uow.get(BOOK, sku), entry, wh, take))
        filled += take
    return filled
