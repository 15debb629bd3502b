"""Trading partners (API.md "EDI (ANSI X12 004010)"): reference data, one stream per partner, replaced as a
whole by each PUT. A partner is the EDI identity of one customer: who it is in the envelopes it sends (ISA05
qualifier, ISA06 id, GS02 application code) and who we are to it (ISA07/ISA08, GS03).

An identity belongs to one partner at a time. Its own small stream (`identity_key`) holds the partner that
has it, so an interchange finds its sender with one stream read, never a scan; a PUT that changes a
partner's identity releases the old one and claims the new one in the same write. Which orders came from
a partner is recorded per order (`PartnerOrderReceived`): what the outbound documents need to know.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from domain.decider import Decider
from domain.errors import PartnerIdentityTakenError
from domain.events import Event, register


class TradingPartnerDefined(Event, frozen=True, kw_only=True):
    partner_id: str
    customer_id: str
    isa_qualifier: str
    isa_id: str
    gs_id: str
    our_isa_qualifier: str
    our_isa_id: str
    our_gs_id: str


class TradingPartnerRevised(Event, frozen=True, kw_only=True):
    """The partner as a whole, replacing what it had."""

    partner_id: str
    customer_id: str
    isa_qualifier: str
    isa_id: str
    gs_id: str
    our_isa_qualifier: str
    our_isa_id: str
    our_gs_id: str


class PartnerIdentityClaimed(Event, frozen=True, kw_only=True):
    identity: str
    partner_id: str


class PartnerIdentityReleased(Event, frozen=True, kw_only=True):
    identity: str
    partner_id: str


class PartnerOrderReceived(Event, frozen=True, kw_only=True):
    """An order came from a partner's purchase order: its interchange and set, and each line's qty (base
    units) as placed, which the acknowledgment compares the line with."""

    order_id: str
    partner_id: str
    interchange_control_number: str
    control_number: str
    customer_po: str
    placed_qty: dict[str, int]  # line_id -> qty


register(TradingPartnerDefined, TradingPartnerRevised, PartnerIdentityClaimed, PartnerIdentityReleased)
register(PartnerOrderReceived)


@dataclass(frozen=True)
class TradingPartner:
    partner_id: str
    customer_id: str
    isa_qualifier: str
    isa_id: str
    gs_id: str
    our_isa_qualifier: str
    our_isa_id: str
    our_gs_id: str

    @property
    def identity(self) -> str:
        return identity_key(self.isa_qualifier, self.isa_id, self.gs_id)


@dataclass(frozen=True)
class PutTradingPartner:
    partner_id: str
    customer_id: str
    isa_qualifier: str
    isa_id: str
    gs_id: str
    our_isa_qualifier: str
    our_isa_id: str
    our_gs_id: str


def identity_key(isa_qualifier: str, isa_id: str, gs_id: str) -> str:
    """The key of an identity's stream: ISA05, ISA06 (without its padding) and GS02."""
    return f"{isa_qualifier}|{isa_id.strip()}|{gs_id}"


def _fields(c: TradingPartner | PutTradingPartner | TradingPartnerDefined | TradingPartnerRevised) -> dict[str, str]:
    return {
        "partner_id": c.partner_id,
        "customer_id": c.customer_id,
        "isa_qualifier": c.isa_qualifier,
        "isa_id": c.isa_id,
        "gs_id": c.gs_id,
        "our_isa_qualifier": c.our_isa_qualifier,
        "our_isa_id": c.our_isa_id,
        "our_gs_id": c.our_gs_id,
    }


def evolve_partner(state: TradingPartner | None, event: Event) -> TradingPartner | None:
    if isinstance(event, TradingPartnerDefined | TradingPartnerRevised):
        return TradingPartner(**_fields(event))
    return state


def decide_put_partner(command: PutTradingPartner, state: TradingPartner | None) -> list[Event]:
    """Define or replace a partner; an unchanged PUT records nothing."""
    if state is None:
        return [TradingPartnerDefined(**_fields(command))]
    if _fields(state) == _fields(command):
        return []
    return [TradingPartnerRevised(**_fields(command))]


def initial_partner(partner_id: str) -> TradingPartner | None:
    return None


partner_decider: Decider[PutTradingPartner, TradingPartner | None] = Decider(
    decide_put_partner, evolve_partner, initial_partner
)


def evolve_identity(state: str | None, event: Event) -> str | None:
    """The partner that has the identity, None when nobody does."""
    if isinstance(event, PartnerIdentityClaimed):
        return event.partner_id
    if isinstance(event, PartnerIdentityReleased) and state == event.partner_id:
        return None
    return state


def claim_identity(holder: str | None, identity: str, partner_id: str) -> list[Event]:
    if holder == partner_id:
        return []
    if holder is not None:
        raise PartnerIdentityTakenError(
            f"Trading partner {holder} already has the identity {identity}", partner_id=holder, identity=identity
        )
    return [PartnerIdentityClaimed(identity=identity, partner_id=partner_id)]


def release_identity(holder: str | None, identity: str, partner_id: str) -> list[Event]:
    return [PartnerIdentityReleased(identity=identity, partner_id=partner_id)] if holder == partner_id else []


def evolve_partner_order(state: PartnerOrderReceived | None, event: Event) -> PartnerOrderReceived | None:
    return event if isinstance(event, PartnerOrderReceived) else state


def received_order(
    order_id: str,
    partner_id: str,
    interchange_control_number: str,
    control_number: str,
    customer_po: str,
    placed_qty: Mapping[str, int],
) -> list[Event]:
    return [
        PartnerOrderReceived(
            order_id=order_id,
            partner_id=partner_id,
            interchange_control_number=interchange_control_number,
            control_number=control_number,
            customer_po=customer_po,
            placed_qty=dict(placed_qty),
        )
    ]
