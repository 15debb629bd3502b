"""EDI: trading partners, an interchange's purchase orders, and the control numbers of what o2c sends.

An interchange is one command: each purchase order is placed all or nothing (`UnitOfWork.attempt`), so a
refused one leaves no trace while the others are placed, and every placed order, its link to the partner
and the acknowledgment's control number are saved in one write, deduplicated on the partner's
interchange control number (api/edi.py).
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from domain import order, sequence, trading_partner
from domain.errors import DomainError, NotFoundError, UnknownCustomerError
from infra.commands.orders import PlaceOrderInput, place_order
from infra.ledger.kinds import CUSTOMER, EDI_DOCUMENT, EDI_ORDER, PARTNER_IDENTITY, SEQUENCE, TRADING_PARTNER
from infra.ledger.unitofwork import UnitOfWork


def partner_sequence(partner_id: str) -> str:
    """The key of a partner's control-number sequence (gap-free, never reused)."""
    return f"edi:{partner_id}"


def put_partner(uow: UnitOfWork, cmd: trading_partner.PutTradingPartner) -> tuple[bool, trading_partner.TradingPartner]:
    """Define or replace a partner; its customer must exist, its identity must be free or its own."""
    if uow.get(CUSTOMER, cmd.customer_id) is None:
        raise UnknownCustomerError(
            f"Customer {cmd.customer_id} does not exist", customer_id=cmd.customer_id, field="customer_id"
        )
    existing = uow.get(TRADING_PARTNER, cmd.partner_id)
    identity = trading_partner.identity_key(cmd.isa_qualifier, cmd.isa_id, cmd.gs_id)
    holder = uow.get(PARTNER_IDENTITY, identity)
    claimed = trading_partner.claim_identity(holder, identity, cmd.partner_id)
    if existing is not None and existing.identity != identity:
        old = existing.identity
        uow.record(
            PARTNER_IDENTITY, old, trading_partner.release_identity(uow.get(PARTNER_IDENTITY, old), old, cmd.partner_id)
        )
    uow.record(PARTNER_IDENTITY, identity, claimed)
    state = uow.record(TRADING_PARTNER, cmd.partner_id, trading_partner.decide_put_partner(cmd, existing))
    assert state is not None
    return existing is None, state


@dataclass(frozen=True)
class PurchaseOrderSet:
    """One transaction set of an interchange: the order it asks for, or why it cannot be read."""

    control_number: str
    order: PlaceOrderInput | None
    problem: DomainError | None = None


@dataclass(frozen=True)
class ReceiveInterchange:
    partner_id: str
    interchange_control_number: str
    sets: tuple[PurchaseOrderSet, ...]


@dataclass(frozen=True)
class SetOutcome:
    control_number: str
    order_id: str | None
    order: order.Order | None
    problem: DomainError | None


@dataclass(frozen=True)
class InterchangeReceived:
    partner: trading_partner.TradingPartner
    interchange_control_number: str
    sets: tuple[SetOutcome, ...]
    ack_number: int  # the control number of the 997 that answers it


def number_document(uow: UnitOfWork, partner_id: str, document: str) -> int:
    """The control number of an outbound document: the one it was given, else the partner's next."""
    given = uow.get(EDI_DOCUMENT, document)
    if given:
        return given
    seq = partner_sequence(partner_id)
    number, events = sequence.next_number(uow.get(SEQUENCE, seq), seq, document)
    uow.record(SEQUENCE, seq, events)
    uow.record(EDI_DOCUMENT, document, events)
    return number


def _place(uow: UnitOfWork, partner: trading_partner.TradingPartner, icn: str, one: PurchaseOrderSet) -> order.Order:
    assert one.order is not None
    cmd = replace(one.order, customer_id=partner.customer_id)
    state = place_order(uow, cmd)
    link = trading_partner.received_order(
        cmd.order_id,
        partner.partner_id,
        icn,
        one.control_number,
        cmd.customer_po or "",
        {line.line_id: line.qty for line in state.lines},
    )
    uow.record(EDI_ORDER, cmd.order_id, link)
    return state


def receive_interchange(uow: UnitOfWork, cmd: ReceiveInterchange) -> InterchangeReceived:
    partner = uow.get(TRADING_PARTNER, cmd.partner_id)
    if partner is None:
        raise NotFoundError(f"Trading partner {cmd.partner_id} does not exist", partner_id=cmd.partner_id)
    outcomes: list[SetOutcome] = []
    for one in cmd.sets:
        order_id = one.order.order_id if one.order is not None else None
        if one.order is None:
            outcomes.append(SetOutcome(one.control_number, order_id, None, one.problem))
            continue
        try:
            placed = uow.attempt(lambda one=one: _place(uow, partner, cmd.interchange_control_number, one))  # type: ignore[misc]
        except DomainError as exc:
            outcomes.append(SetOutcome(one.control_number, order_id, None, exc))
        else:
            outcomes.append(SetOutcome(one.control_number, order_id, placed, None))
    ack = number_document(uow, partner.partner_id, f"997:{partner.partner_id}:{cmd.interchange_control_number}")
    return InterchangeReceived(partner, cmd.interchange_control_number, tuple(outcomes), ack)


@dataclass(frozen=True)
class NumberDocument:
    partner_id: str
    document: str  # e.g. 855:<order id>:<version>


def number_outbound(uow: UnitOfWork, cmd: NumberDocument) -> int:
    return number_document(uow, cmd.partner_id, cmd.document)
