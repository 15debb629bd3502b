"""Stock: receipts, adjustments, counts and transfers between warehouses; freed stock fills backorders."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Any

from domain import inventory, transfer
from domain.errors import DuplicateIdError, NotFoundError
from infra.commands import messages
from infra.commands.backorders import fill_backorders
from infra.commands.lookups import check_skus, position_of, record_position, require_product, require_warehouse
from infra.ledger.kinds import BOOK, POSITION, TRANSFER, Kind, position_key
from infra.ledger.unitofwork import UnitOfWork


def receive_stock(uow: UnitOfWork, receipt_id: str, warehouse_id: str, lines: Sequence[tuple[str, int]]) -> None:
    require_warehouse(uow, warehouse_id)
    check_skus(uow, [sku for sku, _ in lines])
    for sku, qty in lines:
        pos = position_of(uow, sku, warehouse_id)
        record_position(uow, sku, warehouse_id, inventory.receive(pos, receipt_id, qty))
    for sku in dict.fromkeys(sku for sku, _ in lines):
        fill_backorders(uow, sku)


def adjust_stock(
    uow: UnitOfWork, adjustment_id: str, warehouse_id: str, sku: str, qty_delta: int, reason: str
) -> inventory.Position:
    require_warehouse(uow, warehouse_id)
    require_product(uow, sku)
    pos = position_of(uow, sku, warehouse_id)
    state = record_position(uow, sku, warehouse_id, inventory.adjust(pos, adjustment_id, qty_delta, reason))
    if qty_delta > 0:
        fill_backorders(uow, sku)
        state = position_of(uow, sku, warehouse_id)
    return state


def count_stock(uow: UnitOfWork, count_id: str, warehouse_id: str, sku: str, counted_qty: int) -> inventory.Position:
    require_warehouse(uow, warehouse_id)
    require_product(uow, sku)
    return _count(uow, count_id, warehouse_id, sku, counted_qty)


def _count(uow: UnitOfWork, count_id: str, warehouse_id: str, sku: str, counted_qty: int) -> inventory.Position:
    """A count of a SKU known to be in the catalog at a warehouse known to exist."""
    pos = position_of(uow, sku, warehouse_id)
    state = record_position(uow, sku, warehouse_id, inventory.count(pos, count_id, counted_qty))
    if counted_qty > pos.on_hand:
        fill_backorders(uow, sku)
        state = position_of(uow, sku, warehouse_id)
    return state


def reconcile_reads(c: messages.Reconcile) -> list[tuple[Kind[Any], list[str]]]:
    """The streams `reconcile` reads, to warm the state cache before it runs (Ledger.warm)."""
    skus = dict.fromkeys([*(sku for sku, _ in c.lines), *c.also])
    return [(POSITION, [position_key(sku, c.warehouse_id) for sku in skus])]


def reconcile(uow: UnitOfWork, c: messages.Reconcile) -> messages.Reconciled:
    """Compare an outside snapshot with on hand (from the position streams); with `apply`, count
    every mismatched SKU to the outside figure, all in this one write. SKUs of `also` that are on hand
    here and not in the snapshot are listed with an outside qty of 0."""
    require_warehouse(uow, c.warehouse_id)
    skus = [sku for sku, _ in c.lines]
    check_skus(uow, skus)  # from the known streams: no product is loaded
    # thousands of lines: a few queries for what the cache lacks, not one per SKU
    uow.preload(POSITION, [position_key(sku, c.warehouse_id) for sku in dict.fromkeys([*skus, *c.also])])
    listed = set(skus)
    found = [(sku, qty, position_of(uow, sku, c.warehouse_id).on_hand) for sku, qty in c.lines]
    for sku in sorted(set(c.also) - listed):
        on_hand = position_of(uow, sku, c.warehouse_id).on_hand
        if on_hand > 0:
            found.append((sku, 0, on_hand))
    mismatched = [(sku, qty) for sku, qty, on_hand in found if qty != on_hand]
    if c.apply:  # the warehouse and every SKU were checked above: no product is loaded to count
        uow.preload(BOOK, [sku for sku, qty, on_hand in found if qty > on_hand])  # counted up: backorders may fill
        for sku, qty in mismatched:
            _count(uow, f"{c.reconciliation_id}:{sku}", c.warehouse_id, sku, qty)
    return messages.Reconciled(tuple(found), c.apply and bool(mismatched))


def start_transfer(
    uow: UnitOfWork, transfer_id: str, from_wh: str, to_wh: str, sku: str, qty: int, expected_on: date | None = None
) -> transfer.Transfer:
    if uow.get(TRANSFER, transfer_id) is not None:
        raise DuplicateIdError(f"Transfer {transfer_id} already exists", transfer_id=transfer_id)
    require_warehouse(uow, from_wh, "from_warehouse_id")
    require_warehouse(uow, to_wh, "to_warehouse_id")
    require_product(uow, sku)
    state = uow.record(
        TRANSFER, transfer_id, transfer.initiate(transfer_id, sku, from_wh, to_wh, qty, expected_on=expected_on)
    )
    source = position_of(uow, sku, from_wh)
    record_position(uow, sku, from_wh, inventory.dispatch_transfer(source, transfer_id, to_wh, qty))
    target = position_of(uow, sku, to_wh)
    record_position(uow, sku, to_wh, inventory.expect_transfer(target, transfer_id, from_wh, qty))
    assert state is not None
    return state


def receive_transfer(uow: UnitOfWork, transfer_id: str) -> transfer.Transfer:
    state = uow.get(TRANSFER, transfer_id)
    if state is None:
        raise NotFoundError(f"Transfer {transfer_id} does not exist", transfer_id=transfer_id)
    state = uow.record(TRANSFER, transfer_id, transfer.receive(state))
    assert state is not None
    target = position_of(uow, state.sku, state.to_warehouse_id)
    record_position(
        uow,
        state.sku,
        state.to_warehouse_id,
        inventory.arrive_transfer(target, transfer_id, state.from_warehouse_id, state.qty),
    )
    fill_backorders(uow, state.sku)
    return state
