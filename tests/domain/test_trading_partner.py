"""Trading partners: defined, revised as a whole, an unchanged PUT records nothing; an identity belongs to
one partner at a time; the link of an order to the partner it came from."""

from __future__ import annotations

from dataclasses import replace

from domain.errors import PartnerIdentityTakenError
from domain.trading_partner import (
    PartnerIdentityClaimed,
    PartnerIdentityReleased,
    PartnerOrderReceived,
    PutTradingPartner,
    TradingPartnerDefined,
    TradingPartnerRevised,
    claim_identity,
    evolve_identity,
    evolve_partner_order,
    identity_key,
    partner_decider,
    received_order,
    release_identity,
)
from tests.spec import given, spec

partners = spec(partner_decider, "ACME")
PUT = PutTradingPartner("ACME", "C1", "ZZ", "ACMEBUY", "ACMEBUY", "ZZ", "O2CSELL", "O2CSELL")
FIELDS = {
    "partner_id": "ACME",
    "customer_id": "C1",
    "isa_qualifier": "ZZ",
    "isa_id": "ACMEBUY",
    "gs_id": "ACMEBUY",
    "our_isa_qualifier": "ZZ",
    "our_isa_id": "O2CSELL",
    "our_gs_id": "O2CSELL",
}
DEFINED = TradingPartnerDefined(**FIELDS)
KEY = "ZZ|ACMEBUY|ACMEBUY"


def test_a_new_partner_is_defined_with_its_identity() -> None:
    state = partners.when(PUT).then(DEFINED)
    assert state is not None and state.identity == KEY == identity_key("ZZ", "ACMEBUY       ", "ACMEBUY")


def test_a_put_revises_the_whole_partner_and_the_same_again_records_nothing() -> None:
    partners.given(DEFINED).when(PUT).then()
    moved = replace(PUT, customer_id="C2", gs_id="ACMEWEST")
    state = (
        partners.given(DEFINED)
        .when(moved)
        .then(TradingPartnerRevised(**{**FIELDS, "customer_id": "C2", "gs_id": "ACMEWEST"}))
    )
    assert state is not None and (state.customer_id, state.identity) == ("C2", "ZZ|ACMEBUY|ACMEWEST")


def test_an_identity_is_claimed_once_refused_to_another_and_released_by_its_holder() -> None:
    claimed = PartnerIdentityClaimed(identity=KEY, partner_id="ACME")
    free = given(evolve_identity, None)
    assert free.when(lambda s: claim_identity(s, KEY, "ACME")).then(claimed) == "ACME"
    held = given(evolve_identity, None, claimed)
    held.when(lambda s: claim_identity(s, KEY, "ACME")).then()
    held.when(lambda s: claim_identity(s, KEY, "OTHER")).then_raises(PartnerIdentityTakenError, partner_id="ACME")
    held.when(lambda s: release_identity(s, KEY, "OTHER")).then()
    released = held.when(lambda s: release_identity(s, KEY, "ACME")).then(
        PartnerIdentityReleased(identity=KEY, partner_id="ACME")
    )
    assert released is None


def test_an_order_remembers_its_partner_and_the_qty_placed() -> None:
    events = received_order("ACME-PO-1", "ACME", "000000101", "0001", "PO-1", {"1": 10})
    state = (
        given(evolve_partner_order, None)
        .when(lambda s: events)
        .then(
            PartnerOrderReceived(
                order_id="ACME-PO-1",
                partner_id="ACME",
                interchange_control_number="000000101",
                control_number="0001",
                customer_po="PO-1",
                placed_qty={"1": 10},
            )
        )
    )
    assert state is not None and state.placed_qty == {"1": 10}
