"""Pricing order lines: the contract price, else the list price; a differing sent price is refused."""

from __future__ import annotations

from decimal import Decimal

import pytest

from domain.customer import Customer
from domain.errors import PriceMismatchError, UnknownSkuError
from domain.order import OrderLineRequest
from domain.pricing import RequestedLine, price_lines

C1 = Customer("C1", "Acme", Decimal("500.00"), "CA", "active", {"BOLT-10": Decimal("8.50")})
LIST = {"BOLT-10": Decimal("10.00"), "NUT-4": Decimal("0.25")}


def test_each_line_takes_the_contract_price_else_the_list_price() -> None:
    lines = [RequestedLine("1", "BOLT-10", 9), RequestedLine("2", "NUT-4", 10)]
    assert price_lines(C1, lines, LIST) == (
        OrderLineRequest("1", "BOLT-10", 9, Decimal("8.50")),
        OrderLineRequest("2", "NUT-4", 10, Decimal("0.25")),
    )


def test_a_sent_price_equal_to_the_customers_price_is_accepted_at_that_price() -> None:
    lines = [RequestedLine("1", "BOLT-10", 9, Decimal("8.5")), RequestedLine("2", "NUT-4", 10, Decimal("0.25"))]
    priced = price_lines(C1, lines, LIST)
    assert [ln.unit_price for ln in priced] == [Decimal("8.50"), Decimal("0.25")]


def test_a_line_sent_at_the_list_price_when_a_contract_price_exists_is_the_problem_of_example_6() -> None:
    lines = [RequestedLine("1", "NUT-4", 10), RequestedLine("2", "BOLT-10", 3, Decimal("10.00"))]
    with pytest.raises(PriceMismatchError) as caught:
        price_lines(C1, lines, LIST)
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
    buyer = Customer("C1", "Acme", Decimal("500.00"), "CA", "active", {"NUT-4": Decimal("0.20")})
    lines = [
        RequestedLine("a", "NUT-4", 10, Decimal("0.25")),
        RequestedLine("c", "WASHER", 1),
        RequestedLine("b", "BOLT-10", 2, Decimal("9.00")),
    ]
    with pytest.raises(PriceMismatchError) as caught:
        price_lines(buyer, lines, {**LIST, "BOLT-10": Decimal("8.50"), "WASHER": Decimal("0.05")})
    facts = caught.value.facts
    assert (facts["line_id"], facts["sku"], facts["expected_unit_price"]) == ("a", "NUT-4", "0.20")
    assert facts["lines"] == [
        {"line_id": "a", "sku": "NUT-4", "sent": "0.25", "expected_unit_price": "0.20"},
        {"line_id": "b", "sku": "BOLT-10", "sent": "9.00", "expected_unit_price": "8.50"},
    ]


def test_money_in_the_problem_has_two_places() -> None:
    lines = [RequestedLine("1", "NUT-4", 1, Decimal("1"))]
    with pytest.raises(PriceMismatchError) as caught:
        price_lines(C1, lines, LIST)
    assert caught.value.facts["lines"] == [
        {"line_id": "1", "sku": "NUT-4", "sent": "1.00", "expected_unit_price": "0.25"}
    ]


def test_a_sku_without_a_list_price_is_unknown() -> None:
    with pytest.raises(UnknownSkuError) as caught:
        price_lines(C1, [RequestedLine("1", "NOPE-1", 1)], LIST)
    assert (caught.value.code, caught.value.facts) == ("unknown_sku", {"sku": "NOPE-1"})


def test_no_lines_price_to_none() -> None:
    assert price_lines(C1, [], LIST) == ()
