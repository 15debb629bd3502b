"""Shipment: what left a warehouse for an order, and its proof of delivery."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from decimal import Decimal
from typing import assert_never

import msgspec

from domain.decider import Decider
from domain.errors import AlreadyDeliveredError, DuplicateIdError, InvalidRequestError, NotFoundError
from domain.events import Event, register


class ShipmentLine(msgspec.Struct, frozen=True, kw_only=True):
    sku: str
    qty: int


class ShipmentConfirmed(Event, frozen=True, kw_only=True):
    shipment_id: str
    order_id: str
    customer_id: str
    warehouse_id: str
    lines: list[ShipmentLine]
    carrier: str | None
    tracking: str | None
    freight: Decimal
    shipped_at: datetime


class ShipmentDelivered(Event, frozen=True, kw_only=True):
    shipment_id: str
    order_id: str
    delivered_at: datetime
    signed_by: str | None


register(ShipmentConfirmed, ShipmentDelivered)


@dataclass(frozen=True)
class Shipment:
    shipment_id: str
    order_id: str
    customer_id: str
    warehouse_id: str
    lines: tuple[ShipmentLine, ...]
    carrier: str | None
    tracking: str | None
    freight: Decimal
    shipped_at: datetime
    delivered_at: datetime | None = None
    signed_by: str | None = None


def evolve_shipment(state: Shipment | None, event: Event) -> Shipment | None:
    if isinstance(event, ShipmentConfirmed):
        return Shipment(
            event.shipment_id,
            event.order_id,
            event.customer_id,
            event.warehouse_id,
            tuple(event.lines),
            event.carrier,
            event.tracking,
            event.freight,
            event.shipped_at,
        )
    if isinstance(event, ShipmentDelivered) and state is not None:
        return replace(state, delivered_at=event.delivered_at, signed_by=event.signed_by)
    return state


def ensure_one_line_per_sku(skus: Iterable[str]) -> None:
    """A shipment names each SKU on one line only."""
    listed = list(skus)
    if len(set(listed)) != len(listed):
        raise InvalidRequestError(
            "A SKU appears on more than one shipment line", errors=[{"field": "lines", "message": "duplicate sku"}]
        )


def confirm(
    *,
    shipment_id: str,
    order_id: str,
    customer_id: str,
    warehouse_id: str,
    lines: Sequence[tuple[str, int]],
    carrier: str | None,
    tracking: str | None,
    freight: Decimal,
    shipped_at: datetime,
) -> list[Event]:
    return [
        ShipmentConfirmed(
            shipment_id=shipment_id,
            order_id=order_id,
            customer_id=customer_id,
            warehouse_id=warehouse_id,
            lines=[ShipmentLine(sku=sku, qty=qty) for sku, qty in lines],
            carrier=carrier,
            tracking=tracking,
            freight=freight,
            shipped_at=shipped_at,
        )
    ]


def deliver(state: Shipment, delivered_at: datetime, signed_by: str | None) -> list[Event]:
    """Proof of delivery, once. Repeating the same proof records nothing."""
    if state.delivered_at is not None:
        if state.delivered_at == delivered_at and state.signed_by == signed_by:
            return []
        raise AlreadyDeliveredError(
            f"Shipment {state.shipment_id} was already delivered at {state.delivered_at.isoformat()}",
            shipment_id=state.shipment_id,
        )
    return [
        ShipmentDelivered(
            shipment_id=state.shipment_id,
            order_id=state.order_id,
            delivered_at=delivered_at,
            signed_by=signed_by,
        )
    ]


@dataclass(frozen=True)
class ConfirmShipment:
    """Stock left `warehouse_id` for the order (the order and positions record their side)."""

    shipment_id: str
    order_id: str
    customer_id: str
    warehouse_id: str
    lines: tuple[tuple[str, int], ...]
    carrier: str | None
    tracking: str | None
    freight: Decimal
    shipped_at: datetime


@dataclass(frozen=True)
class DeliverShipment:
    shipment_id: str
    delivered_at: datetime
    signed_by: str | None = None


ShipmentCommand = ConfirmShipment | DeliverShipment


def initial_state(shipment_id: str) -> Shipment | None:
    return None


def decide(command: ShipmentCommand, state: Shipment | None) -> list[Event]:
    match command:
        case ConfirmShipment():
            if state is not None:
                raise DuplicateIdError(
                    f"Shipment {command.shipment_id} already exists", shipment_id=command.shipment_id
                )
            ensure_one_line_per_sku(sku for sku, _ in command.lines)
            return confirm(
                shipment_id=command.shipment_id,
                order_id=command.order_id,
                customer_id=command.customer_id,
                warehouse_id=command.warehouse_id,
                lines=command.lines,
                carrier=command.carrier,
                tracking=command.tracking,
                freight=command.freight,
                shipped_at=command.shipped_at,
            )
        case DeliverShipment(shipment_id=shipment_id, delivered_at=delivered_at, signed_by=signed_by):
            if state is None:
                raise NotFoundError(f"Shipment {shipment_id} does not exist", shipment_id=shipment_id)
            return deliver(state, delivered_at, signed_by)
    assert_never(command)


decider: Decider[ShipmentCommand, Shipment | None] = Decider(decide, evolve_shipment, initial_state)
