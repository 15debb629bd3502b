"""InventoryPosition: one per SKU and warehouse. On hand, reserved, in transit, reservations.

`events` holds what is stored, `state` the position (`evolve_position`), `decide` the rules and
the commands. Every public name is re-exported here: `inventory.X` is the way in.
"""

from domain.decider import Decider
from domain.inventory.decide import (
    AdjustStock,
    ArriveTransfer,
    CountStock,
    DispatchTransfer,
    ExpectTransfer,
    InventoryCommand,
    PositionCommand,
    ReceiveStock,
    ReleaseReservation,
    ReserveStock,
    RestockReturn,
    ShipStock,
    adjust,
    arrive_transfer,
    count,
    decide,
    dispatch_transfer,
    expect_transfer,
    receive,
    release,
    reserve,
    restock,
    ship,
)
from domain.inventory.events import (
    PositionEvent,
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
from domain.inventory.state import Position, evolve_position, initial_state

decider: Decider[InventoryCommand, Position] = Decider(decide, evolve_position, initial_state)

__all__ = [
    "AdjustStock",
    "ArriveTransfer",
    "CountStock",
    "DispatchTransfer",
    "ExpectTransfer",
    "InventoryCommand",
    "Position",
    "PositionCommand",
    "PositionEvent",
    "ReceiveStock",
    "ReleaseReservation",
    "ReservationReleased",
    "ReserveStock",
    "RestockReturn",
    "ShipStock",
    "StockAdjusted",
    "StockCounted",
    "StockReceived",
    "StockReserved",
    "StockRestocked",
    "StockShipped",
    "TransferArrived",
    "TransferDispatched",
    "TransferExpected",
    "adjust",
    "arrive_transfer",
    "count",
    "decide",
    "decider",
    "dispatch_transfer",
    "evolve_position",
    "expect_transfer",
    "initial_state",
    "receive",
    "release",
    "reserve",
    "restock",
    "ship",
]
