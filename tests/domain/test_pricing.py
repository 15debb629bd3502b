"""The price rule (domain.pricing.line_price), branch by branch: contract > price list item valid on
the order date with the largest min_qty <= base qty (ties: lowest price) > product price."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from domain.catalog import Product, ProductUnit
from domain.customer import Customer
from domain.price_list import PriceList, PriceListDefined, PriceListItem, evolve_price_list
from domain.pricing import Offer, Quote, line_price, offers

DAY = date(2026, 12, 2)
PRODUCT = Decimal("2.00")


def item(price: str, min_qty: int = 1, valid_from: date | None = None, valid_to: date | None = None) -> PriceListItem:
    return PriceListItem(
        sku="BOLT-10", unit_price=Decimal(price), min_qty=min_qty, valid_from=valid_from, valid_to=valid_to
    )


def price(qty: int, *items: PriceListItem, contract: str | None = None, day: date = DAY) -> Quote:
    return line_price(
        qty, day, product_price=PRODUCT, contract_price=Decimal(contract) if contract else None, items=items
    )


def test_without_contract_or_list_the_product_price_applies() -> None:
    assert price(5) == Quote(Decimal("2.00"), "product")


def test_a_contract_price_wins_over_every_list_item_even_a_lower_one() -> None:
    assert price(50, item("1.50"), item("1.00", 10), contract="1.90") == Quote(Decimal("1.90"), "contract")


def test_a_contract_price_above_the_product_price_still_wins() -> None:
    assert price(1, contract="2.40") == Quote(Decimal("2.40"), "contract")


def test_an_item_valid_on_the_day_for_the_qty_wins_over_the_product_price() -> None:
    assert price(1, item("1.80")) == Quote(Decimal("1.80"), "price_list")


def test_a_list_item_above_the_product_price_still_wins() -> None:
    assert price(1, item("2.20")) == Quote(Decimal("2.20"), "price_list")


def test_the_largest_min_qty_at_or_below_the_qty_wins() -> None:
    breaks = (item("1.90", 1), item("1.70", 10), item("1.50", 50))
    assert [price(q, *breaks).unit_price for q in (1, 9, 10, 49, 50, 1000)] == [
        Decimal(p) for p in ("1.90", "1.90", "1.70", "1.70", "1.50", "1.50")
    ]


def test_the_largest_break_wins_even_when_a_smaller_one_is_cheaper() -> None:
    assert price(20, item("1.00", 1), item("1.70", 10)) == Quote(Decimal("1.70"), "price_list")


def test_a_qty_below_every_break_takes_the_product_price() -> None:
    assert price(4, item("1.70", 5), item("1.50", 50)) == Quote(Decimal("2.00"), "product")


def test_validity_bounds_are_inclusive_and_optional() -> None:
    assert price(1, item("1.10", valid_from=DAY)).source == "price_list"
    assert price(1, item("1.10", valid_to=DAY)).source == "price_list"
    assert price(1, item("1.10", valid_from=DAY, valid_to=DAY)).source == "price_list"
    assert price(1, item("1.10", valid_from=date(2026, 12, 3))).source == "product"
    assert price(1, item("1.10", valid_to=date(2026, 12, 1))).source == "product"


def test_an_item_not_valid_on_the_day_does_not_shadow_a_smaller_break_that_is() -> None:
    december = item("1.20", 10, valid_from=date(2026, 12, 1), valid_to=date(2026, 12, 31))
    assert price(10, item("1.80", 1), december, day=date(2027, 1, 1)) == Quote(Decimal("1.80"), "price_list")
    assert price(10, item("1.80", 1), december, day=DAY) == Quote(Decimal("1.20"), "price_list")


def test_items_with_the_same_min_qty_valid_on_the_day_tie_to_the_lowest_price() -> None:
    standing, promo = item("1.80", 10), item("1.40", 10, valid_from=date(2026, 12, 1), valid_to=date(2026, 12, 24))
    assert price(12, standing, promo) == Quote(Decimal("1.40"), "price_list")
    assert price(12, promo, standing) == Quote(Decimal("1.40"), "price_list")  # order of items does not matter
    assert price(12, standing, promo, day=date(2026, 12, 25)) == Quote(Decimal("1.80"), "price_list")


def test_a_free_item_is_a_price() -> None:
    assert price(1, item("0.00")) == Quote(Decimal("0.00"), "price_list")


# --- offers: the facts of one SKU for one customer ---------------------------------------------


def test_offers_take_the_customers_contract_price_and_only_its_lists_items_for_the_sku() -> None:
    bolt = Product("BOLT-10", "Bolt", Decimal("2.00"), "EA", (ProductUnit(uom="CS", factor=12),))
    nut = Product("NUT-4", "Nut", Decimal("0.25"), "EA")
    sheet = evolve_price_list(
        None,
        PriceListDefined(
            price_list_id="PL-1",
            name="Wholesale",
            items=(item("1.80"), PriceListItem(sku="WASHER", unit_price=Decimal("0.01"))),
        ),
    )
    assert isinstance(sheet, PriceList)
    buyer = Customer("C1", "Acme", Decimal("500.00"), "CA", "active", {"NUT-4": Decimal("0.20")}, "PL-1")
    found = offers(buyer, sheet, {"BOLT-10": bolt, "NUT-4": nut, "NOPE": None})
    assert found == {
        "BOLT-10": Offer(Decimal("2.00"), "EA", bolt.units, None, (item("1.80"),), "BOLT-10"),
        "NUT-4": Offer(Decimal("0.25"), "EA", (), Decimal("0.20"), (), "NUT-4"),
    }
    assert found["BOLT-10"].quote(1, DAY) == Quote(Decimal("1.80"), "price_list")
    assert found["NUT-4"].quote(1, DAY) == Quote(Decimal("0.20"), "contract")


def test_without_a_price_list_an_offer_has_no_items() -> None:
    buyer = Customer("C1", "Acme", Decimal("500.00"), "CA", "active")
    bolt = Product("BOLT-10", "Bolt", Decimal("2.00"), "EA")
    assert offers(buyer, None, {"BOLT-10": bolt})["BOLT-10"].quote(100, DAY) == Quote(Decimal("2.00"), "product")
