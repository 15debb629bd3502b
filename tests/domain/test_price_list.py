"""Price lists: defined, replaced as a whole, unchanged records nothing; unusable items refused.
Product units: 1-10 of A-Z 0-9, factor >= 2, never the base uom or twice; old events decode."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import msgspec
import pytest
from msgspec.structs import replace

from domain.catalog import Product, ProductDefined, ProductRevised, ProductUnit, PutProduct, product_decider
from domain.errors import InvalidRequestError
from domain.price_list import (
    PriceList,
    PriceListDefined,
    PriceListItem,
    PriceListReplaced,
    PutPriceList,
    price_list_decider,
)
from tests.spec import spec

lists = spec(price_list_decider, "PL-1")
products = spec(product_decider, "WIDGET")

STANDING = PriceListItem(sku="BOLT-10", unit_price=Decimal("1.80"))
BREAK = PriceListItem(sku="BOLT-10", unit_price=Decimal("1.60"), min_qty=100)
PROMO = PriceListItem(
    sku="BOLT-10", unit_price=Decimal("1.40"), valid_from=date(2026, 12, 1), valid_to=date(2026, 12, 24)
)
NUT = PriceListItem(sku="NUT-4", unit_price=Decimal("0.20"))
DEFINED = PriceListDefined(price_list_id="PL-1", name="Wholesale", items=(STANDING, BREAK, NUT))


def put(*items: PriceListItem, name: str = "Wholesale") -> PutPriceList:
    return PutPriceList("PL-1", name, items)


def test_a_new_list_is_defined_and_indexed_by_sku() -> None:
    state = lists.when(put(STANDING, BREAK, NUT)).then(DEFINED)
    assert isinstance(state, PriceList)
    assert (state.items_for("BOLT-10"), state.items_for("NUT-4"), state.items_for("GEAR")) == (
        (STANDING, BREAK),
        (NUT,),
        (),
    )


def test_a_put_replaces_the_whole_list() -> None:
    state = (
        lists.given(DEFINED)
        .when(put(PROMO, name="Winter"))
        .then(PriceListReplaced(price_list_id="PL-1", name="Winter", items=(PROMO,)))
    )
    assert state is not None and (state.name, state.items, state.items_for("NUT-4")) == ("Winter", (PROMO,), ())


def test_the_same_list_again_records_nothing() -> None:
    lists.given(DEFINED).when(put(STANDING, BREAK, NUT)).then()


def test_an_empty_list_is_a_list() -> None:
    lists.given(DEFINED).when(put()).then(PriceListReplaced(price_list_id="PL-1", name="Wholesale", items=()))


def test_items_of_one_sku_and_min_qty_with_overlapping_dates_are_allowed() -> None:
    twin = replace(STANDING, unit_price=Decimal("1.75"))
    lists.when(put(STANDING, PROMO, twin)).then(
        PriceListDefined(price_list_id="PL-1", name="Wholesale", items=(STANDING, PROMO, twin))
    )


@pytest.mark.parametrize(
    ("bad", "field"),
    [
        (replace(STANDING, min_qty=0), "items[1].min_qty"),
        (replace(STANDING, min_qty=-5), "items[1].min_qty"),
        (replace(STANDING, min_qty=1_000_000_001), "items[1].min_qty"),
        (replace(PROMO, valid_to=date(2026, 11, 30)), "items[1].valid_to"),
        (replace(STANDING, unit_price=Decimal("-0.01")), "items[1].unit_price"),
    ],
)
def test_an_unusable_item_is_refused_and_named(bad: PriceListItem, field: str) -> None:
    error = lists.given(DEFINED).when(put(NUT, bad)).then_raises(InvalidRequestError)
    assert [e["field"] for e in error.facts["errors"]] == [field]


def test_a_one_day_item_is_valid() -> None:
    day = replace(PROMO, valid_to=PROMO.valid_from)
    assert day.valid_on(date(2026, 12, 1)) and not day.valid_on(date(2026, 12, 2))


def test_a_list_recorded_without_optional_item_fields_decodes_with_their_defaults() -> None:
    raw = b'{"price_list_id":"PL-1","name":"W","items":[{"sku":"BOLT-10","unit_price":"1.80"}]}'
    event = msgspec.json.decode(raw, type=PriceListDefined)
    assert event.items == (STANDING,)


# --- product units ----------------------------------------------------------------------------------

CS = ProductUnit(uom="CS", factor=12)
PL = ProductUnit(uom="PL", factor=480)


def test_a_product_is_defined_with_its_units() -> None:
    state = products.when(PutProduct("WIDGET", "Widget", Decimal("2.00"), "EA", (CS, PL))).then(
        ProductDefined(sku="WIDGET", name="Widget", unit_price=Decimal("2.00"), uom="EA", units=(CS, PL))
    )
    assert state == Product("WIDGET", "Widget", Decimal("2.00"), "EA", (CS, PL))


def test_new_units_revise_the_product_and_the_same_units_record_nothing() -> None:
    defined = ProductDefined(sku="WIDGET", name="Widget", unit_price=Decimal("2.00"), uom="EA")
    products.given(defined).when(PutProduct("WIDGET", "Widget", Decimal("2.00"), "EA", (CS,))).then(
        ProductRevised(sku="WIDGET", name="Widget", unit_price=Decimal("2.00"), uom="EA", units=(CS,))
    )
    products.given(replace(defined, units=(CS,))).when(
        PutProduct("WIDGET", "Widget", Decimal("2.00"), "EA", (CS,))
    ).then()


@pytest.mark.parametrize(
    ("units", "field"),
    [
        ((ProductUnit(uom="CS", factor=1),), "units[0].factor"),
        ((ProductUnit(uom="CS", factor=0),), "units[0].factor"),
        ((ProductUnit(uom="cs", factor=12),), "units[0].uom"),
        ((ProductUnit(uom="", factor=12),), "units[0].uom"),
        ((ProductUnit(uom="PALLETS1234", factor=12),), "units[0].uom"),
        ((ProductUnit(uom="C S", factor=12),), "units[0].uom"),
        ((ProductUnit(uom="EA", factor=12),), "units[0].uom"),
        ((CS, ProductUnit(uom="CS", factor=24)), "units[1].uom"),
    ],
)
def test_a_bad_unit_is_refused_and_named(units: tuple[ProductUnit, ...], field: str) -> None:
    error = products.when(PutProduct("WIDGET", "Widget", Decimal("2.00"), "EA", units)).then_raises(InvalidRequestError)
    assert [e["field"] for e in error.facts["errors"]] == [field]


def test_a_product_defined_before_units_decodes_with_none() -> None:
    raw = b'{"sku":"WIDGET","name":"Widget","unit_price":"2.00","uom":"EA"}'
    event = msgspec.json.decode(raw, type=ProductDefined)
    assert event.units == ()
    assert products.given(event).when(PutProduct("WIDGET", "Widget", Decimal("2.00"))).then() is not None
