"""Transfer: stock moving between two warehouses of the same SKU."""

from __future__ import annotations

from dataclasses import dataclass, replace

from domain.errors import AlreadyReceivedError, InvalidRequestError
from domain.events import Event, register


class TransferInitiated(Event, frozen=True, kw_only=True):
    transfer_id: str
    sku: str
    from_warehouse_id: str
    to_warehouse_id: str
    qty: int


class TransferReceived(Event, frozen=True, kw_only=True):
    transfer_id: str
    sku: str
    to_warehouse_id: str
    qty: int


register(TransferInitiated, TransferReceived)


@dataclass(frozen=True)
class Transfer:
    transfer_id: str
    sku: str
    from_warehouse_id: str
    to_warehouse_id: str
    qty: int
    received: bool = False


def evolve_transfer(state: Transfer | None, event: Event) -> Transfer | None:
    if isinstance(event, TransferInitiated):
        return Transfer(event.transfer_id, event.sku, event.from_warehouse_id, event.to_warehouse_id, event.qty)
    if isinstance(event, TransferReceived) and state is not None:
        return replace(state, received=True)
    return state


def initiate(transfer_id: str, sku: str, from_wh: str, to_wh: str, qty: int) -> list[Event]:
    if from_wh == to_wh:
        raise InvalidRequestError(
            "A transfer needs two different warehouses",
            errors=[{"field": "to_warehouse_id", "message": "must differ from from_warehouse_id"}],
        )
    return [
        TransferInitiated(transfer_id=transfer_id, sku=sku, from_warehouse_id=from_wh, to_warehouse_id=to_wh, qty=qty)
    ]


def receive(state: Transfer) -> list[Event]:
    if state.received:
        raise AlreadyReceivedError(f"Transfer {state.transfer_id} was already received", transfer_id=state.transfer_id)
    return [
        TransferReceived(
            transfer_id=state.transfer_id, sku=state.sku, to_warehouse_id=state.to_warehouse_id, qty=state.qty
        )
    ]
