"""Shared value rules: identifiers and wire money."""

from __future__ import annotations

from decimal import Decimal

import pytest

from domain.values import format_money, is_valid_id, line_amount, parse_money


@pytest.mark.parametrize("text", ["SO-1", "a.b_c:d-9", "A" * 64])
def test_ids_of_1_to_64_allowed_chars_are_valid(text: str) -> None:
    assert is_valid_id(text)


@pytest.mark.parametrize("text", ["", "A" * 65, "SO 1", "SKU-\u00e9", "SO-1\n", "SO/1"])
def test_other_ids_are_not_valid(text: str) -> None:
    assert not is_valid_id(text)


@pytest.mark.parametrize(("text", "value"), [("12.50", "12.50"), ("12.5", "12.50"), ("7", "7.00"), ("-3.10", "-3.10")])
def test_money_strings_parse_to_cents(text: str, value: str) -> None:
    assert parse_money(text) == Decimal(value)
    assert format_money(parse_money(text)) == value


@pytest.mark.parametrize(
    "text",
    [
        "12.505",
        "1e3",
        "12,50",
        "1234567890123.00",
        "12.50\n",
        " 12.50",
        "\u0661\u0662.\u0665\u0660",
        "\uff11\uff12",
        "",
    ],
)
def test_other_money_strings_are_rejected(text: str) -> None:
    with pytest.raises(ValueError):
        parse_money(text)


def test_a_line_amount_is_qty_times_unit_price_to_the_cent() -> None:
    assert line_amount(4, Decimal("12.49")) == Decimal("49.96")
