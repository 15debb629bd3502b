"""Fulfilment: ship from a warehouse and record proof of delivery."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from domain import inventory, order, shipment
from domain.errors import DuplicateIdError, NotFoundError, UnknownOrderError
from infra.commands.lookups import check_skus, position_of, record_position, require_order, require_warehouse
from infra.ledger.kinds import ORDER, SHIPMENT
from infra.ledger.unitofwork import UnitOfWork


@dataclass(frozen=True)
class ShipInput:
    shipment_id: str
    order_id: str
    warehouse_id: str
    lines: tuple[tuple[str, int], ...]
    carrier: str | None
    tracking: str | None
    freight: Decimal
    shipped_at: datetime


def ship(uow: UnitOfWork, cmd: ShipInput) -> shipment.Shipment:
    if uow.get(SHIPMENT, cmd.shipment_id) is not None:
        raise DuplicateIdError(f"Shipment {cmd.shipment_id} already exists", shipment_id=cmd.shipment_id)
    state = uow.get(ORDER, cmd.order_id)
    if state is None:
        raise UnknownOrderError(f"Order {cmd.order_id} does not exist", order_id=cmd.order_id)
    require_warehouse(uow, cmd.warehouse_id)
    skus = [sku for sku, _ in cmd.lines]
    shipment.ensure_one_line_per_sku(skus)
    check_skus(uow, skus)
    events = order.record_shipment(state, cmd.shipment_id, cmd.warehouse_id, list(cmd.lines), cmd.shipped_at.date())
    uow.record(ORDER, cmd.order_id, events)
    for shipped in events[0].lines:  # type: ignore[attr-defined]
        pos = position_of(uow, shipped.sku, cmd.warehouse_id)
        record_position(
            uow,
            shipped.sku,
            cmd.warehouse_id,
            inventory.ship(pos, cmd.shipment_id, cmd.order_id, shipped.line_id, shipped.qty),
        )
    result = uow.record(
        SHIPMENT,
        cmd.shipment_id,
        shipment.confirm(
            shipment_id=cmd.shipment_id,
            order_id=cmd.order_id,
            customer_id=state.customer_id,
            warehouse_id=cmd.warehouse_id,
            lines=list(cmd.lines),
            carrier=cmd.carrier,
            tracking=cmd.tracking,
            freight=cmd.freight,
            shipped_at=cmd.shipped_at,
        ),
    )
    assert result is not None
    return result


def deliver(uow: UnitOfWork, shipment_id: str, delivered_at: datetime, signed_by: str | None) -> shipment.Shipment:
    state = uow.get(SHIPMENT, shipment_id)
    if state is None:
        raise NotFoundError(f"Shipment {shipment_id} does not exist", shipment_id=shipment_id)
    events = shipment.deliver(state, delivered_at, signed_by)
    result = uow.record(SHIPMENT, shipment_id, events)
    if events:
        the_order = require_order(uow, state.order_id)
        uow.record(ORDER, state.order_id, order.record_delivery(the_order, shipment_id, delivered_at))
    assert result is not None
    return result
