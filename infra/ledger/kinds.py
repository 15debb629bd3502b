"""Kinds of stream: how a business key maps to a stream id and how the stream's state evolves."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Generic, TypeVar
from uuid import UUID

from domain import backorders, catalog, customer, inventory, invoice, order, payment, shipment, transfer
from domain.events import Event
from infra.eventstore.codec import CommandRecorded
from infra.eventstore.streams import stream_id

S = TypeVar("S")


@dataclass(frozen=True)
class Kind(Generic[S]):
    """A kind of stream: how a business key maps to a stream and how its state evolves."""

    name: str
    initial: Callable[[str], S]
    evolve: Callable[[S, Event], S]

    def stream_id(self, key: str) -> UUID:
        return stream_id(self.name, key)


def _position_initial(key: str) -> inventory.Position:
    sku, _, warehouse_id = key.partition("@")
    return inventory.Position(sku=sku, warehouse_id=warehouse_id)


PRODUCT: Kind[catalog.Product | None] = Kind("product", lambda k: None, catalog.evolve_product)
WAREHOUSE: Kind[catalog.Warehouse | None] = Kind("warehouse", lambda k: None, catalog.evolve_warehouse)
WAREHOUSE_INDEX: Kind[tuple[str, ...]] = Kind("warehouse-index", lambda k: (), catalog.evolve_warehouse_index)
CUSTOMER: Kind[customer.Customer | None] = Kind("customer", lambda k: None, customer.evolve_customer)
ACCOUNT: Kind[customer.Account | None] = Kind("account", lambda k: None, customer.evolve_account)
POSITION: Kind[inventory.Position] = Kind("position", _position_initial, inventory.evolve_position)
ORDER: Kind[order.Order | None] = Kind("order", lambda k: None, order.evolve_order)
BOOK: Kind[backorders.Book] = Kind("backorders", lambda k: backorders.Book(sku=k), backorders.evolve_book)
SHIPMENT: Kind[shipment.Shipment | None] = Kind("shipment", lambda k: None, shipment.evolve_shipment)
TRANSFER: Kind[transfer.Transfer | None] = Kind("transfer", lambda k: None, transfer.evolve_transfer)

INVOICE: Kind[invoice.Invoice | None] = Kind("invoice", lambda k: None, invoice.evolve_invoice)
SEQUENCE: Kind[int] = Kind("sequence", lambda k: 0, invoice.evolve_sequence)


def _evolve_payment(state: payment.PaymentReceived | None, event: Event) -> payment.PaymentReceived | None:
    return event if isinstance(event, payment.PaymentReceived) else state


PAYMENT: Kind[payment.PaymentReceived | None] = Kind("payment", lambda k: None, _evolve_payment)


def _evolve_record(state: CommandRecorded | None, event: Event) -> CommandRecorded | None:
    return event if isinstance(event, CommandRecorded) else state


RECORD: Kind[CommandRecorded | None] = Kind("command", lambda k: None, _evolve_record)

KINDS: dict[str, Kind[Any]] = {
    k.name: k
    for k in (
        PRODUCT,
        WAREHOUSE,
        WAREHOUSE_INDEX,
        CUSTOMER,
        ACCOUNT,
        POSITION,
        ORDER,
        BOOK,
        SHIPMENT,
        TRANSFER,
        RECORD,
        INVOICE,
        SEQUENCE,
        PAYMENT,
    )
}


def position_key(sku: str, warehouse_id: str) -> str:
    return f"{sku}@{warehouse_id}"
