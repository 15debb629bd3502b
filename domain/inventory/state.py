"""A stock position as its events leave it: on hand, reserved, in transit, reservations."""

from __future__ import annotations

from dataclasses import dataclass, field

from domain.events import Event
from domain.frozen import replace
from domain.inventory.events import (
    ReservationReleased,
    StockAdjusted,
    StockCounted,
    StockReceived,
    StockReserved,
    StockRestocked,
    StockShipped,
    TransferArrived,
    TransferDispatched,
    TransferExpected,
)


@dataclass(frozen=True)
class Position:
    sku: str
    warehouse_id: str
    on_hand: int = 0
    reserved: int = 0
    in_transit: int = 0
    reservations: dict[tuple[str, str], int] = field(default_factory=dict)

    @property
    def available(self) -> int:
        return self.on_hand - self.reserved

    def reserved_for(self, order_id: str, line_id: str) -> int:
        return self.reservations.get((order_id, line_id), 0)


def _reserve(state: Position, key: tuple[str, str], delta: int) -> dict[tuple[str, str], int]:
    reservations = dict(state.reservations)
    left = reservations.get(key, 0) + delta
    if left:
        reservations[key] = left
    else:
        reservations.pop(key, None)
    return reservations


def evolve_position(state: Position, event: Event) -> Position:
    match event:
        case StockReceived(qty=qty) | StockRestocked(qty=qty):
            return replace(state, on_hand=state.on_hand + qty)
        case StockAdjusted(qty_delta=delta) | StockCounted(qty_delta=delta):
            return replace(state, on_hand=state.on_hand + delta)
        case StockReserved(order_id=o, line_id=line, qty=qty):
            return replace(state, reserved=state.reserved + qty, reservations=_reserve(state, (o, line), qty))
        case ReservationReleased(order_id=o, line_id=line, qty=qty):
            return replace(state, reserved=state.reserved - qty, reservations=_reserve(state, (o, line), -qty))
        case StockShipped(order_id=o, line_id=line, qty=qty):
            return replace(
                state,
                on_hand=state.on_hand - qty,
                reserved=state.reserved - qty,
                reservations=_reserve(state, (o, line), -qty),
            )
        case TransferDispatched(qty=qty):
            return replace(state, on_hand=state.on_hand - qty)
        case TransferExpected(qty=qty):
            return replace(state, in_transit=state.in_transit + qty)
        case TransferArrived(qty=qty):
            return replace(state, in_transit=state.in_transit - qty, on_hand=state.on_hand + qty)
    return state


def initial_state(key: str) -> Position:
    """An empty position; `key` is "<sku>@<warehouse_id>"."""
    sku, _, warehouse_id = key.partition("@")
    return Position(sku=sku, warehouse_id=warehouse_id)
