"""Kinds of stream: how a business key maps to a stream id and how the stream's state evolves."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Generic, TypeVar
from uuid import UUID

from domain import (
    apikey,
    backorders,
    catalog,
    customer,
    dunning,
    expected,
    inventory,
    invoice,
    journal,
    order,
    payment,
    price_list,
    sequence,
    shipment,
    terms,
    trading_partner,
    transfer,
)
from domain.decider import Decider
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

    @classmethod
    def of(cls, name: str, decider: Decider[Any, S]) -> Kind[S]:
        """The kind of an aggregate's stream: its decider's initial state and evolve."""
        return cls(name, decider.initial_state, decider.evolve)


PRODUCT: Kind[catalog.Product | None] = Kind.of("product", catalog.product_decider)
WAREHOUSE: Kind[catalog.Warehouse | None] = Kind.of("warehouse", catalog.warehouse_decider)
WAREHOUSE_INDEX: Kind[tuple[str, ...]] = Kind("warehouse-index", lambda k: (), catalog.evolve_warehouse_index)
CUSTOMER: Kind[customer.Customer | None] = Kind.of("customer", customer.customer_decider)
PRICE_LIST: Kind[price_list.PriceList | None] = Kind.of("price-list", price_list.price_list_decider)
ACCOUNT: Kind[customer.Account | None] = Kind.of("account", customer.account_decider)
POSITION: Kind[inventory.Position] = Kind.of("position", inventory.decider)
ORDER: Kind[order.Order | None] = Kind.of("order", order.decider)
BOOK: Kind[backorders.Book] = Kind.of("backorders", backorders.decider)
SHIPMENT: Kind[shipment.Shipment | None] = Kind.of("shipment", shipment.decider)
TRANSFER: Kind[transfer.Transfer | None] = Kind.of("transfer", transfer.decider)
EXPECTED: Kind[expected.ExpectedReceipt | None] = Kind.of("expected-receipt", expected.decider)
API_KEY: Kind[apikey.ApiKey | None] = Kind.of("api-key", apikey.decider)
TERMS: Kind[terms.PaymentTerms | None] = Kind.of("payment-terms", terms.terms_decider)
DUNNING: Kind[dunning.Dunning] = Kind("dunning", dunning.initial_dunning, dunning.evolve_dunning)

INVOICE: Kind[invoice.Invoice | None] = Kind.of("invoice", invoice.decider)
SEQUENCE: Kind[int] = Kind("sequence", lambda k: 0, invoice.evolve_sequence)

TRADING_PARTNER: Kind[trading_partner.TradingPartner | None] = Kind.of(
    "trading-partner", trading_partner.partner_decider
)
# an identity (ISA05|ISA06|GS02) -> the partner that has it: how an interchange finds its sender without a scan
PARTNER_IDENTITY: Kind[str | None] = Kind("partner-identity", lambda k: None, trading_partner.evolve_identity)
EDI_ORDER: Kind[trading_partner.PartnerOrderReceived | None] = Kind(
    "edi-order", lambda k: None, trading_partner.evolve_partner_order
)  # per order id: the partner and purchase order it came from
# per outbound document (997, or 855/856/810 of one version of its resource): the control number it was given
EDI_DOCUMENT: Kind[int] = Kind("edi-document", lambda k: 0, sequence.evolve_sequence)


def _evolve_payment(state: payment.PaymentReceived | None, event: Event) -> payment.PaymentReceived | None:
    return event if isinstance(event, payment.PaymentReceived) else state


PAYMENT: Kind[payment.PaymentReceived | None] = Kind("payment", lambda k: None, _evolve_payment)
JOURNAL: Kind[journal.JournalEntryPosted | None] = Kind.of("journal", journal.decider)  # one stream per entry id


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
        PRICE_LIST,
        ACCOUNT,
        POSITION,
        ORDER,
        BOOK,
        SHIPMENT,
        TRANSFER,
        EXPECTED,
        API_KEY,
        TERMS,
        DUNNING,
        RECORD,
        INVOICE,
        SEQUENCE,
        PAYMENT,
        JOURNAL,
        TRADING_PARTNER,
        PARTNER_IDENTITY,
        EDI_ORDER,
        EDI_DOCUMENT,
    )
}


def position_key(sku: str, warehouse_id: str) -> str:
    return f"{sku}@{warehouse_id}"
