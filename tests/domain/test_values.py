"""Shared value rules: identifiers, wire money, and money exact at every size the limits allow."""

from __future__ import annotations

import threading
from collections.abc import Callable
from decimal import Decimal

import anyio
import anyio.to_thread
import pytest

from domain.values import (
    MAX_LINES,
    MAX_QTY,
    add,
    format_money,
    is_valid_id,
    line_amount,
    money,
    parse_amount,
    parse_money,
    subtract,
    sum_money,
)


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


# --- exact at every size the limits allow ---------------------------------------------------------

MAX_PRICE = Decimal("999999999999.99")
LINE_CENTS = MAX_QTY * 99999999999999  # the largest line: 1e9 x 999,999,999,999.99, in cents
ORDER_CENTS = MAX_LINES * LINE_CENTS  # an order of 500 such lines


def cents(amount: int) -> Decimal:
    """An amount given in cents (exact: built from Python ints alone)."""
    return Decimal(amount).scaleb(-2)


def test_the_largest_line_amount_is_exact() -> None:
    assert line_amount(MAX_QTY, MAX_PRICE) == cents(LINE_CENTS)
    assert format_money(line_amount(MAX_QTY, MAX_PRICE)) == "999999999999990000000.00"


def test_sums_over_many_of_the_largest_orders_are_exact_and_format_to_the_cent() -> None:
    order = sum_money(line_amount(MAX_QTY, MAX_PRICE) for _ in range(MAX_LINES))
    assert order == cents(ORDER_CENTS)
    total = sum_money([order] * 1_000)
    assert total == cents(1_000 * ORDER_CENTS)
    assert format_money(add(total, Decimal("0.01"))) == f"{1_000 * ORDER_CENTS // 100}.01"
    assert format_money(subtract(Decimal("0.00"), total)) == f"-{1_000 * ORDER_CENTS // 100}.00"


def test_plain_decimal_arithmetic_on_money_is_exact_too() -> None:
    """Code that sums with `+` (the default context) gets the same exact answer."""
    order = cents(ORDER_CENTS)
    assert sum([order] * 201, Decimal("0.00")) == cents(201 * ORDER_CENTS)
    assert format_money(sum([order] * 201, Decimal("0.00"))) == "100499999999998995000000000.00"


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (Decimal(10**60) + Decimal("0.005"), "1" + "0" * 60 + ".01"),
        (Decimal("-0.005"), "-0.01"),
        (Decimal("1E+150"), "1" + "0" * 150 + ".00"),
        (Decimal("9" * 120 + ".995"), "1" + "0" * 120 + ".00"),
        (Decimal("0E-30"), "0.00"),
    ],
)
def test_format_money_rounds_half_up_to_the_cent_at_any_size_and_never_raises(value: Decimal, text: str) -> None:
    assert format_money(value) == text
    assert money(value) == Decimal(text)


def test_computed_amounts_of_any_size_parse_but_wire_money_keeps_its_12_digits() -> None:
    assert parse_amount("24609966671118871513367.81") == Decimal("24609966671118871513367.81")
    with pytest.raises(ValueError):
        parse_money("24609966671118871513367.81")
    with pytest.raises(ValueError):
        parse_amount("1.234")


def _in_a_new_thread(work: Callable[[], object]) -> object:
    result: list[object] = []
    worker = threading.Thread(target=lambda: result.append(work()))
    worker.start()
    worker.join()
    return result[0]


def _plain_sum() -> str:
    return str(sum([cents(ORDER_CENTS)] * 201, Decimal("0.00")))


def test_money_sums_with_plain_operators_are_exact_in_threads_started_later() -> None:
    # The group-commit writer, the runner and the request workers are threads like this one.
    assert _in_a_new_thread(_plain_sum) == "100499999999998995000000000.00"
    assert _in_a_new_thread(lambda: format_money(cents(201 * ORDER_CENTS))) == "100499999999998995000000000.00"


def test_money_sums_with_plain_operators_are_exact_in_anyio_worker_threads() -> None:
    async def main() -> str:
        return await anyio.to_thread.run_sync(_plain_sum)

    assert anyio.run(main) == "100499999999998995000000000.00"
