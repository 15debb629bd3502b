"""Pricing order lines (domain.order.at_prices): each line in base units at the rule's price, units
resolved, a differing sent price refused (per the line's unit)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from domain.catalog import ProductUnit
from domain.errors import InvalidRequestError, PriceMismatchError, UnknownSkuError, UnknownUomError
from domain.order import AddLine, OrderLineRequest, at_prices
from domain.price_list import PriceListItem
from domain.pricing import Offer

DAY = date(2026, 12, 2)
CASES = (ProductUnit(uom="CS", factor=12), ProductUnit(uom="PL", factor=480))
OFFERS = {
    "BOLT-10": Offer(Decimal("10.00"), contract_price=Decimal("8.50"), sku="BOLT-10"),
    "NUT-4": Offer(Decimal("0.25"), sku="NUT-4"),
    "WIDGET": Offer(Decimal("2.00"), "EA", CASES, sku="WIDGET"),
}


def priced(*lines: AddLine, offers: dict[str, Offer] = OFFERS) -> tuple[OrderLineRequest, ...]:
    return at_prices(lines, offers, "C1", DAY)


def base(line_id: str, sku: str, qty: int, unit_price: str, source: str, uom: str = "EA") -> OrderLineRequest:
    return OrderLineRequest(
        line_id,
        sku,
        qty,
        Decimal(unit_price),
        ordered_uom=uom,
        ordered_qty=qty,
        base_uom="EA",
        price_source=source,
    )


def test_each_line_takes_the_contract_price_else_the_product_price_and_says_which() -> None:
    assert priced(AddLine("1", "BOLT-10", 9), AddLine("2", "NUT-4", 10)) == (
        base("1", "BOLT-10", 9, "8.50", "contract"),
        base("2", "NUT-4", 10, "0.25", "product"),
    )


def test_a_sent_price_equal_to_the_customers_price_is_accepted_at_that_price() -> None:
    lines = priced(AddLine("1", "BOLT-10", 9, Decimal("8.5")), AddLine("2", "NUT-4", 10, Decimal("0.25")))
    assert [ln.unit_price for ln in lines] == [Decimal("8.50"), Decimal("0.25")]


def test_a_line_sent_at_the_list_price_when_a_contract_price_exists_is_the_problem_of_example_6() -> None:
    with pytest.raises(PriceMismatchError) as caught:
        priced(AddLine("1", "NUT-4", 10), AddLine("2", "BOLT-10", 3, Decimal("10.00")))
    error = caught.value
    assert (error.code, error.category) == ("price_mismatch", "rejected")
    assert error.detail == "Line 2 (BOLT-10): sent 10.00, the price for customer C1 is 8.50"
    assert error.facts == {
        "line_id": "2",
        "sku": "BOLT-10",
        "expected_unit_price": "8.50",
        "lines": [{"line_id": "2", "sku": "BOLT-10", "sent": "10.00", "expected_unit_price": "8.50"}],
    }


def test_the_first_mismatch_is_named_on_top_and_every_mismatch_is_listed() -> None:
    with pytest.raises(PriceMismatchError) as caught:
        priced(
            AddLine("a", "NUT-4", 10, Decimal("0.20")),
            AddLine("c", "WIDGET", 1),
            AddLine("b", "BOLT-10", 2, Decimal("9")),
        )
    facts = caught.value.facts
    assert (facts["line_id"], facts["sku"], facts["expected_unit_price"]) == ("a", "NUT-4", "0.25")
    assert facts["lines"] == [
        {"line_id": "a", "sku": "NUT-4", "sent": "0.20", "expected_unit_price": "0.25"},
        {"line_id": "b", "sku": "BOLT-10", "sent": "9.00", "expected_unit_price": "8.50"},
    ]


def test_a_sku_not_offered_is_unknown_before_any_price_is_judged() -> None:
    with pytest.raises(UnknownSkuError) as caught:
        priced(AddLine("1", "NUT-4", 1, Decimal("9.99")), AddLine("2", "NOPE-1", 1))
    assert (caught.value.code, caught.value.facts) == ("unknown_sku", {"sku": "NOPE-1"})


def test_no_lines_price_to_none() -> None:
    assert priced() == ()


def test_a_line_keeps_its_date_and_reference() -> None:
    may = date(2026, 5, 15)
    [line] = priced(AddLine("1", "NUT-4", 2, requested_date=may, customer_line_ref="A-1"))
    assert (line.requested_date, line.customer_line_ref) == (may, "A-1")


# --- units of measure ------------------------------------------------------------------------------


def test_two_cases_at_24_are_24_each_at_2() -> None:
    [line] = priced(AddLine("1", "WIDGET", 2, Decimal("24.00"), uom="CS"))
    assert line == OrderLineRequest(
        "1", "WIDGET", 24, Decimal("2.00"), ordered_uom="CS", ordered_qty=2, base_uom="EA", price_source="product"
    )


def test_the_base_uom_named_is_the_same_as_none() -> None:
    assert priced(AddLine("1", "WIDGET", 5, uom="EA")) == priced(AddLine("1", "WIDGET", 5))


def test_a_sent_price_per_case_that_is_not_the_base_price_times_the_factor_is_a_mismatch_per_that_unit() -> None:
    with pytest.raises(PriceMismatchError) as caught:
        priced(AddLine("1", "WIDGET", 1, Decimal("25.00"), uom="CS"))
    assert caught.value.detail == "Line 1 (WIDGET): sent 25.00 per CS, the price for customer C1 is 24.00"
    assert caught.value.facts["expected_unit_price"] == "24.00"
    assert caught.value.facts["lines"] == [
        {"line_id": "1", "sku": "WIDGET", "uom": "CS", "sent": "25.00", "expected_unit_price": "24.00"}
    ]


def test_a_per_case_price_is_never_divided_so_a_price_that_does_not_divide_by_the_factor_never_matches() -> None:
    odd = {"WIDGET": Offer(Decimal("2.01"), "EA", CASES, sku="WIDGET")}  # 2.01 x 12 = 24.12
    with pytest.raises(PriceMismatchError) as caught:
        priced(AddLine("1", "WIDGET", 1, Decimal("24.10"), uom="CS"), offers=odd)
    assert caught.value.facts["expected_unit_price"] == "24.12"
    [line] = priced(AddLine("1", "WIDGET", 1, Decimal("24.12"), uom="CS"), offers=odd)
    assert (line.qty, line.unit_price) == (12, Decimal("2.01"))


def test_a_case_counts_as_its_base_units_towards_the_price_breaks() -> None:
    breaks = (
        PriceListItem(sku="WIDGET", unit_price=Decimal("1.90"), min_qty=10),
        PriceListItem(sku="WIDGET", unit_price=Decimal("1.75"), min_qty=24),
    )
    listed = {"WIDGET": Offer(Decimal("2.00"), "EA", CASES, items=breaks, sku="WIDGET")}
    [line] = priced(AddLine("1", "WIDGET", 2, Decimal("21.00"), uom="CS"), offers=listed)  # 1.75 x 12
    assert (line.qty, line.unit_price, line.price_source) == (24, Decimal("1.75"), "price_list")
    [one] = priced(AddLine("1", "WIDGET", 1, uom="CS"), offers=listed)
    assert (one.qty, one.unit_price) == (12, Decimal("1.90"))


@pytest.mark.parametrize("uom", ["BX", "cs", "Cs", "ea"])
def test_a_unit_the_product_is_not_sold_in_is_unknown(uom: str) -> None:
    with pytest.raises(UnknownUomError) as caught:
        priced(AddLine("1", "NUT-4", 1), AddLine("2", "WIDGET", 1, uom=uom))
    assert (caught.value.code, caught.value.facts) == ("unknown_uom", {"sku": "WIDGET", "uom": uom})


def test_a_qty_over_the_limit_in_base_units_is_refused() -> None:
    with pytest.raises(InvalidRequestError) as caught:
        priced(AddLine("1", "WIDGET", 2_083_334, uom="PL"))  # x 480 > 1,000,000,000
    assert caught.value.facts["errors"][0]["field"] == "lines[0].qty"
    [line] = priced(AddLine("1", "WIDGET", 2_083_333, uom="PL"))
    assert line.qty == 999_999_840
