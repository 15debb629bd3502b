"""Transfer: stock moving between two warehouses of the same SKU."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date
from typing import assert_never

from domain.decider import Decider
from domain.errors import AlreadyReceivedError, DuplicateIdError, InvalidRequestError, NotFoundError
from domain.events import Event, register


class TransferInitiated(Event, frozen=True, kw_only=True):
    transfer_id: str
    sku: str
    from_warehouse_id: str
    to_warehouse_id: str
    qty: int
    expected_on: date | None = None  # until received, expected supply at the destination on that date


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
    expected_on: date | None = None


def evolve_transfer(state: Transfer | None, event: Event) -> Transfer | None:
    if isinstance(event, TransferInitiated):
        return Transfer(
            event.transfer_id,
            event.sku,
            event.from_warehouse_id,
            event.to_warehouse_id,
            event.qty,
            expected_on=event.expected_on,
        )
    if isinstance(event, TransferReceived) and state is not None:
        return replace(state, received=True)
    return state


def initiate(
    transfer_id: str, sku: str, from_wh: str, to_wh: str, qty: int, expected_on: date | None = None
) -> list[Event]:
    if from_wh == to_wh:
        raise InvalidRequestError(
            "A transfer needs two different warehouses",
            errors=[{"field": "to_warehouse_id", "message": "must differ from from_warehouse_id"}],
        )
    return [
        TransferInitiated(
            transfer_id=transfer_id,
            sku=sku,
            from_warehouse_id=from_wh,
            to_warehouse_id=to_wh,
            qty=qty,
            expected_on=expected_on,
        )
    ]


def receive(state: Transfer) -> list[Event]:
    if state.received:
        raise AlreadyReceivedError(f"Transfer {state.transfer_id} was already received", transfer_id=state.transfer_id)
    return [
        TransferReceived(
            transfer_id=state.transfer_id, sku=state.sku, to_warehouse_id=state.to_warehouse_id, qty=state.qty
        )
    ]


@dataclass(frozen=True)
class InitiateTransfer:
    transfer_id: str
    sku: str
    from_warehouse_id: str
    to_warehouse_id: str
    qty: int
    expected_on: date | None = None


@dataclass(frozen=True)
class ReceiveTransfer:
    transfer_id: str


TransferCommand = InitiateTransfer | ReceiveTransfer


def initial_state(transfer_id: str) -> Transfer | None:
    return None


def decide(command: TransferCommand, state: Transfer | None) -> list[Event]:
    match command:
        case InitiateTransfer(transfer_id=tid, sku=sku, from_warehouse_id=from_wh, to_warehouse_id=to_wh, qty=qty):
            if state is not None:
                raise DuplicateIdError(f"Transfer {tid} already exists", transfer_id=tid)
            return initiate(tid, sku, from_wh, to_wh, qty, command.expected_on)
        case ReceiveTransfer(transfer_id=tid):
            if state is None:
                raise NotFoundError(f"Transfer {tid} does not exist", transfer_id=tid)
            return receive(state)
    assert_never(command)


decider: Decider[TransferCommand, Transfer | None] = Decider(decide, evolve_transfer, initial_state)
