"""The buyer's references on an order: PO number, requested dates, ship-to, line refs; and old events."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from decimal import Decimal

import msgspec
import pytest

from domain import order, pricing
from domain.catalog import Product
from domain.countries import COUNTRY_CODES, is_country_code
from domain.customer import Customer
from domain.errors import InvalidRequestError
from domain.order import OrderLineRequest, OrderPlaced, PlacedLine, ShipTo
from tests.domain.order_events import BOLT, NINE_ALLOCATED, NUT, orders, placed, placing

DOCK = ShipTo(
    name="Acme Hardware DC",
    address=("Dock 4", "1200 Industrial Way"),
    city="Fresno",
    region="CA",
    postal_code="93706",
    country="US",
    gln="4006381333931",  # a real GS1 number: its check digit is 1
)
MAY_1, MAY_15 = date(2025, 5, 1), date(2025, 5, 15)


def with_fields(cmd: order.PlaceOrder) -> order.PlaceOrder:
    lines = (
        replace(cmd.lines[0], customer_line_ref="10"),
        replace(cmd.lines[1], requested_date=MAY_15, customer_line_ref="20"),
    )
    return replace(cmd, lines=lines, customer_po="PO 4711/B", requested_date=MAY_1, ship_to=DOCK)


ORDER_WITH_FIELDS = with_fields(placing(("1", "BOLT-10", 9, BOLT), ("2", "NUT-4", 10, NUT)))


def test_the_buyers_references_are_recorded_and_a_line_without_a_date_takes_the_orders() -> None:
    [event, *_] = order.decide(ORDER_WITH_FIELDS, None)
    assert isinstance(event, OrderPlaced)
    assert (event.customer_po, event.requested_date, event.ship_to) == ("PO 4711/B", MAY_1, DOCK)
    assert [(pl.requested_date, pl.customer_line_ref) for pl in event.lines] == [(MAY_1, "10"), (MAY_15, "20")]


def test_the_order_keeps_them() -> None:
    state = orders.given(*order.decide(ORDER_WITH_FIELDS, None)).state
    assert state is not None
    assert (state.customer_po, state.requested_date, state.ship_to) == ("PO 4711/B", MAY_1, DOCK)
    assert [(ln.requested_date, ln.customer_line_ref) for ln in state.lines] == [(MAY_1, "10"), (MAY_15, "20")]


def test_an_order_without_them_has_none() -> None:
    state = orders.when(placing(("1", "BOLT-10", 9, BOLT))).then(placed(), NINE_ALLOCATED)
    assert state is not None
    assert (state.customer_po, state.requested_date, state.ship_to) == (None, None, None)
    assert (state.line("1").requested_date, state.line("1").customer_line_ref) == (None, None)


def test_an_order_placed_event_recorded_before_the_fields_existed_still_decodes() -> None:
    old = (
        b'{"order_id":"SO-1","customer_id":"C1","channel":"web","warehouse_id":null,"allow_backorder":true,'
        b'"lines":[{"line_id":"1","sku":"BOLT-10","qty":9,"unit_price":"8.50","amount":"76.50"}],'
        b'"total":"76.50","accepted_at":"2025-03-03T09:30:00Z"}'
    )
    assert msgspec.json.decode(old, type=OrderPlaced) == placed()


def test_the_new_fields_survive_the_codec_and_the_order_document() -> None:
    [event, *_] = order.decide(ORDER_WITH_FIELDS, None)
    assert msgspec.json.decode(msgspec.json.encode(event), type=OrderPlaced) == event
    state = orders.given(event).state
    assert msgspec.json.decode(msgspec.json.encode(state), type=order.Order) == state


def test_pricing_keeps_a_lines_date_and_reference() -> None:
    sent = order.AddLine("1", "BOLT-10", 2, requested_date=MAY_15, customer_line_ref="A-1")
    buyer = Customer("C1", "Acme", Decimal("500.00"), "CA", "active")
    offers = pricing.offers(buyer, None, {"BOLT-10": Product("BOLT-10", "Bolt", BOLT, "EA")})
    assert order.at_prices([sent], offers, "C1", MAY_15) == (
        OrderLineRequest(
            "1",
            "BOLT-10",
            2,
            BOLT,
            requested_date=MAY_15,
            customer_line_ref="A-1",
            ordered_uom="EA",
            ordered_qty=2,
            base_uom="EA",
            price_source="product",
        ),
    )


# --- what is refused: 422 invalid_request naming each field --------------------------------


def refused(cmd: order.PlaceOrder) -> list[dict[str, str]]:
    error = orders.when(cmd).then_raises(InvalidRequestError)
    assert (error.code, error.category) == ("invalid_request", "rejected")
    return list(error.facts["errors"])


@pytest.mark.parametrize("po", ["", "P" * 65, "PO\t1", "PO\u200b1", "PO\u20281"])
def test_a_po_number_is_1_to_64_printable_characters(po: str) -> None:
    [error] = refused(replace(ORDER_WITH_FIELDS, customer_po=po))
    assert error["field"] == "customer_po"


@pytest.mark.parametrize("po", ["P", "P" * 64, "PO 4711/B-ü", "#12 (rush)"])
def test_po_numbers_that_pass(po: str) -> None:
    assert order.customer_po_errors(po) == []


@pytest.mark.parametrize("ref", ["", "R" * 21, "1\n"])
def test_a_line_reference_is_1_to_20_characters_without_control_characters(ref: str) -> None:
    cmd = replace(ORDER_WITH_FIELDS, lines=(replace(ORDER_WITH_FIELDS.lines[0], customer_line_ref=ref),))
    assert [e["field"] for e in refused(cmd)] == ["lines[0].customer_line_ref"]


BAD_SHIP_TO = {
    "no name": (dict(name=""), "ship_to.name"),
    "no address line": (dict(address=()), "ship_to.address"),
    "four address lines": (dict(address=("a", "b", "c", "d")), "ship_to.address"),
    "an empty address line": (dict(address=("Dock 4", "")), "ship_to.address[1]"),
    "a control character in the city": (dict(city="Fres\x00no"), "ship_to.city"),
    "an empty region": (dict(region=""), "ship_to.region"),
    "a long postal code": (dict(postal_code="9" * 21), "ship_to.postal_code"),
    "a lower-case country": (dict(country="us"), "ship_to.country"),
    "UK, reserved but not assigned": (dict(country="UK"), "ship_to.country"),
    "XK, user-assigned": (dict(country="XK"), "ship_to.country"),
    "a three-letter country": (dict(country="USA"), "ship_to.country"),
    "a GLN of 12 digits": (dict(gln="400638133393"), "ship_to.gln"),
    "a GLN with a wrong check digit": (dict(gln="4006381333932"), "ship_to.gln"),
    "a GLN in other digits": (dict(gln="\u0664006381333931"), "ship_to.gln"),
}


@pytest.mark.parametrize(("change", "field"), BAD_SHIP_TO.values(), ids=BAD_SHIP_TO.keys())
def test_a_ship_to_is_refused_naming_the_bad_field(change: dict[str, object], field: str) -> None:
    ship_to = msgspec.structs.replace(DOCK, **change)
    assert [e["field"] for e in refused(replace(ORDER_WITH_FIELDS, ship_to=ship_to))] == [field]


def test_every_bad_field_is_named_at_once() -> None:
    bad = msgspec.structs.replace(DOCK, name="", country="ZZ")
    errors = refused(replace(ORDER_WITH_FIELDS, customer_po="", ship_to=bad))
    assert [e["field"] for e in errors] == ["customer_po", "ship_to.name", "ship_to.country"]


def test_a_minimal_ship_to_has_no_region_and_no_gln() -> None:
    minimal = ShipTo(name="Acme", address=("1 Main St",), city="Leeds", postal_code="LS1 4AP", country="GB")
    assert order.ship_to_errors(minimal) == []


def test_the_gln_check_digit_is_gs1s_mod_10() -> None:
    assert order.gln_check_digit("400638133393") == 1
    assert order.gln_check_digit("061414100000") == 5
    assert order.is_gln("0614141000005") and not order.is_gln("0614141000006")


def test_the_country_list_holds_the_249_assigned_codes() -> None:
    assert len(COUNTRY_CODES) == 249
    assert all(len(code) == 2 and code.isascii() and code.isupper() for code in COUNTRY_CODES)
    assert {"US", "DE", "GB", "SS", "CW", "SX", "BQ", "AQ", "UM"} <= COUNTRY_CODES
    assert not {"UK", "EU", "XK", "AN", "YU", "CS", "ZZ"} & COUNTRY_CODES
    assert is_country_code("FR") and not is_country_code("fr")


def test_placed_lines_default_to_no_date_and_no_reference() -> None:
    line = PlacedLine(line_id="1", sku="BOLT-10", qty=1, unit_price=BOLT, amount=BOLT)
    assert (line.requested_date, line.customer_line_ref) == (None, None)
