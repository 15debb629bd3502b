"""Shipment: what left a warehouse for an order, and its proof of delivery (once)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal

from domain import shipment
from domain.errors import AlreadyDeliveredError, DuplicateIdError, InvalidRequestError, NotFoundError
from domain.shipment import (
    ConfirmShipment,
    DeliverShipment,
    ShipmentConfirmed,
    ShipmentDelivered,
    ShipmentLine,
    evolve_shipment,
)
from tests.spec import given, spec

SHIPPED_AT = datetime(2025, 3, 4, 8, 0, tzinfo=UTC)
DELIVERED_AT = datetime(2025, 3, 5, 14, 0, tzinfo=UTC)

CONFIRMED = ShipmentConfirmed(
    shipment_id="SH-1",
    order_id="SO-1",
    customer_id="C1",
    warehouse_id="W-A",
    lines=[ShipmentLine(sku="BOLT-10", qty=4), ShipmentLine(sku="NUT-4", qty=10)],
    carrier="UPS",
    tracking="1Z999",
    freight=Decimal("7.50"),
    shipped_at=SHIPPED_AT,
)
DELIVERED = ShipmentDelivered(shipment_id="SH-1", order_id="SO-1", delivered_at=DELIVERED_AT, signed_by="J. Doe")


def test_a_confirmed_shipment_records_what_left_and_how() -> None:
    state = (
        given(evolve_shipment, None)
        .when(
            lambda _: shipment.confirm(
                shipment_id="SH-1",
                order_id="SO-1",
                customer_id="C1",
                warehouse_id="W-A",
                lines=[("BOLT-10", 4), ("NUT-4", 10)],
                carrier="UPS",
                tracking="1Z999",
                freight=Decimal("7.50"),
                shipped_at=SHIPPED_AT,
            )
        )
        .then(CONFIRMED)
    )
    assert state is not None
    assert (state.delivered_at, state.signed_by) == (None, None)


def test_proof_of_delivery_is_recorded() -> None:
    state = (
        given(evolve_shipment, None, CONFIRMED)
        .when(lambda s: shipment.deliver(s, DELIVERED_AT, "J. Doe"))
        .then(DELIVERED)
    )
    assert state is not None
    assert (state.delivered_at, state.signed_by) == (DELIVERED_AT, "J. Doe")


def test_proof_of_delivery_without_a_signature_is_recorded() -> None:
    given(evolve_shipment, None, CONFIRMED).when(lambda s: shipment.deliver(s, DELIVERED_AT, None)).then(
        ShipmentDelivered(shipment_id="SH-1", order_id="SO-1", delivered_at=DELIVERED_AT, signed_by=None)
    )


def test_the_same_proof_of_delivery_twice_records_nothing() -> None:
    given(evolve_shipment, None, CONFIRMED, DELIVERED).when(
        lambda s: shipment.deliver(s, DELIVERED_AT, "J. Doe")
    ).then()


def test_the_same_instant_in_another_time_zone_is_the_same_proof() -> None:
    same_instant = DELIVERED_AT.astimezone(timezone(timedelta(hours=-5)))
    given(evolve_shipment, None, CONFIRMED, DELIVERED).when(
        lambda s: shipment.deliver(s, same_instant, "J. Doe")
    ).then()


def test_a_different_delivery_time_after_delivery_is_rejected() -> None:
    error = (
        given(evolve_shipment, None, CONFIRMED, DELIVERED)
        .when(lambda s: shipment.deliver(s, DELIVERED_AT + timedelta(hours=1), "J. Doe"))
        .then_raises(AlreadyDeliveredError, shipment_id="SH-1")
    )
    assert (error.category, error.code) == ("conflict", "already_delivered")


def test_a_different_signature_after_delivery_is_rejected() -> None:
    given(evolve_shipment, None, CONFIRMED, DELIVERED).when(
        lambda s: shipment.deliver(s, DELIVERED_AT, "M. Roe")
    ).then_raises(AlreadyDeliveredError, shipment_id="SH-1")


# --- one line per SKU, and the decider -------------------------------------------------------

shipments = spec(shipment.decider)


def confirming(*lines: tuple[str, int], shipment_id: str = "SH-1") -> ConfirmShipment:
    return ConfirmShipment(shipment_id, "SO-1", "C1", "W-A", lines, "UPS", "1Z999", Decimal("7.50"), SHIPPED_AT)


def test_the_decider_confirms_a_new_shipment() -> None:
    shipments.when(confirming(("BOLT-10", 4), ("NUT-4", 10))).then(CONFIRMED)


def test_a_shipment_naming_a_sku_on_two_lines_is_rejected_as_today() -> None:
    error = shipments.when(confirming(("BOLT-10", 4), ("BOLT-10", 1))).then_raises(
        InvalidRequestError, errors=[{"field": "lines", "message": "duplicate sku"}]
    )
    assert (error.detail, error.code, error.category) == (
        "A SKU appears on more than one shipment line",
        "invalid_request",
        "rejected",
    )


def test_distinct_shipment_skus_pass_the_check() -> None:
    shipment.ensure_one_line_per_sku(["BOLT-10", "NUT-4"])


def test_a_shipment_id_used_before_is_rejected_before_its_lines_are_read() -> None:
    error = (
        shipments.given(CONFIRMED)
        .when(confirming(("BOLT-10", 4), ("BOLT-10", 1)))
        .then_raises(DuplicateIdError, shipment_id="SH-1")
    )
    assert (error.category, error.detail) == ("conflict", "Shipment SH-1 already exists")


def test_the_decider_records_a_delivery_once() -> None:
    shipments.given(CONFIRMED).when(DeliverShipment("SH-1", DELIVERED_AT, "J. Doe")).then(DELIVERED)
    shipments.given(CONFIRMED, DELIVERED).when(DeliverShipment("SH-1", DELIVERED_AT, "J. Doe")).then()


def test_delivering_a_shipment_that_does_not_exist_is_not_found() -> None:
    shipments.when(DeliverShipment("SH-9", DELIVERED_AT)).then_raises(NotFoundError, shipment_id="SH-9")
