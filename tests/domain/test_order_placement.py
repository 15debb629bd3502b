"""Order placement: the events an accepted order records, allocation, backorders and the credit check."""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal

import msgspec
import pytest

from domain import order
from domain.errors import DuplicateIdError, InsufficientStockError, InvalidRequestError
from domain.order import OrderPlaced, PlacedLine
from tests.domain.order_events import (
    ACCEPTED,
    BOLT,
    BOLTS_9,
    BOLTS_AND_NUTS,
    EXPOSURE,
    HELD,
    NINE_ALLOCATED,
    NO_STOCK,
    NUT,
    STOCK,
    allocated,
    orders,
    placed,
    placing,
)


def test_a_placed_order_records_every_fact_a_reader_needs() -> None:
    stock = {"BOLT-10": {"W-A": 9}, "NUT-4": {"W-B": 10}}
    orders.when(placing(("1", "BOLT-10", 9, BOLT), ("2", "NUT-4", 10, NUT), stock=stock)).then(
        OrderPlaced(
            order_id="SO-1",
            customer_id="C1",
            channel="web",
            warehouse_id=None,
            allow_backorder=True,
            lines=[
                PlacedLine(line_id="1", sku="BOLT-10", qty=9, unit_price=BOLT, amount=Decimal("76.50")),
                PlacedLine(line_id="2", sku="NUT-4", qty=10, unit_price=NUT, amount=Decimal("2.50")),
            ],
            total=Decimal("79.00"),
            accepted_at=ACCEPTED,
        ),
        allocated(("1", "BOLT-10", "W-A", 9), ("2", "NUT-4", "W-B", 10)),
    )


def test_an_order_of_9_is_allocated_6_from_w_a_and_3_from_w_b() -> None:
    state = orders.when(BOLTS_9).then(placed(), NINE_ALLOCATED)
    assert state is not None
    line = state.line("1")
    assert (line.allocated, line.backordered, line.shipped, line.cancelled) == (9, 0, 0, 0)
    assert line.allocations == {"W-A": 6, "W-B": 3}
    assert state.status == "allocated"


def test_the_next_order_of_6_allocates_what_exists_and_backorders_1() -> None:
    six = placing(("1", "BOLT-10", 6, BOLT), stock={"BOLT-10": {"W-A": 0, "W-B": 3, "W-C": 2}})
    state = orders.when(six).then(placed(six), allocated(("1", "BOLT-10", "W-B", 3), ("1", "BOLT-10", "W-C", 2)))
    assert state is not None
    line = state.line("1")
    assert (line.allocated, line.backordered) == (5, 1)
    assert state.status == "backordered"


def test_the_next_order_of_6_without_backorders_is_rejected_with_what_is_available() -> None:
    six = placing(("1", "BOLT-10", 6, BOLT), backorder=False, stock={"BOLT-10": {"W-A": 0, "W-B": 3, "W-C": 2}})
    error = orders.when(six).then_raises(
        InsufficientStockError, lines=[{"sku": "BOLT-10", "requested": 6, "available": 5}]
    )
    assert error.category == "conflict"


def test_without_backorders_one_short_line_rejects_the_whole_order() -> None:
    cmd = placing(
        ("1", "BOLT-10", 9, BOLT), ("2", "NUT-4", 10, NUT), backorder=False, stock={**STOCK, "NUT-4": {"W-A": 4}}
    )
    orders.when(cmd).then_raises(InsufficientStockError, lines=[{"sku": "NUT-4", "requested": 10, "available": 4}])


def test_without_backorders_a_fully_available_order_is_allocated() -> None:
    cmd = placing(("1", "BOLT-10", 9, BOLT), backorder=False)
    orders.when(cmd).then(placed(cmd), NINE_ALLOCATED)


def test_an_order_with_no_stock_anywhere_is_placed_fully_backordered() -> None:
    cmd = placing(("1", "BOLT-10", 9, BOLT), stock=NO_STOCK)
    state = orders.when(cmd).then(placed(cmd))
    assert state is not None
    assert (state.line("1").allocated, state.line("1").backordered) == (0, 9)
    assert state.status == "backordered"


def test_a_pinned_order_is_allocated_only_from_its_warehouse() -> None:
    pinned = placing(("1", "BOLT-10", 5, BOLT), warehouse_id="W-C")
    state = orders.when(pinned).then(placed(pinned), allocated(("1", "BOLT-10", "W-C", 2)))
    assert state is not None
    assert state.warehouse_id == "W-C"
    assert (state.line("1").allocations, state.line("1").backordered) == ({"W-C": 2}, 3)


def test_a_second_order_with_the_same_id_is_rejected() -> None:
    error = orders.given(placed()).when(BOLTS_9).then_raises(DuplicateIdError, order_id="SO-1")
    assert (error.category, error.code) == ("conflict", "duplicate_id")


# --- one line per SKU ------------------------------------------------------------------------


def test_an_order_naming_a_sku_on_two_lines_is_rejected_as_today() -> None:
    cmd = placing(("1", "BOLT-10", 4, BOLT), ("2", "NUT-4", 1, NUT), ("3", "BOLT-10", 5, BOLT))
    error = orders.when(cmd).then_raises(
        InvalidRequestError, errors=[{"field": "lines", "message": "duplicate sku BOLT-10"}]
    )
    assert (error.detail, error.code, error.category) == (
        "SKU BOLT-10 appears on more than one line",
        "invalid_request",
        "rejected",
    )


def test_the_sku_named_is_the_first_one_listed_that_appears_twice() -> None:
    with pytest.raises(InvalidRequestError) as caught:
        order.ensure_one_line_per_sku(["NUT-4", "BOLT-10", "BOLT-10", "NUT-4"])
    assert caught.value.facts["errors"] == [{"field": "lines", "message": "duplicate sku NUT-4"}]


def test_distinct_skus_pass_the_check() -> None:
    order.ensure_one_line_per_sku(["NUT-4", "BOLT-10"])
    order.ensure_one_line_per_sku([])


def test_a_duplicate_sku_is_named_before_a_duplicate_order_id() -> None:
    cmd = placing(("1", "BOLT-10", 4, BOLT), ("2", "BOLT-10", 5, BOLT))
    orders.given(placed()).when(cmd).then_raises(InvalidRequestError)


# --- the credit check ------------------------------------------------------------------------


def test_an_order_over_the_credit_limit_is_held_and_reserves_nothing() -> None:
    state = orders.when(replace(BOLTS_9, exposure=EXPOSURE)).then(placed(), HELD)
    assert state is not None
    assert state.status == "credit_hold"
    line = state.line("1")
    assert (line.allocated, line.backordered) == (0, 9)  # held qty is reported as backordered


def test_an_order_that_brings_exposure_exactly_to_the_limit_is_not_held() -> None:
    at_limit = replace(BOLTS_9, exposure=Decimal("373.50"))  # 373.50 + 76.50 = 450.00
    orders.when(at_limit).then(placed(), NINE_ALLOCATED)


def test_a_held_order_is_recorded_even_when_backorders_are_not_allowed_and_stock_is_short() -> None:
    cmd = placing(("1", "BOLT-10", 9, BOLT), backorder=False, stock=NO_STOCK, exposure=EXPOSURE)
    orders.when(cmd).then(placed(cmd), HELD)


def test_an_order_without_a_credit_limit_is_never_held() -> None:
    cmd = placing(("1", "BOLT-10", 9, BOLT), exposure=Decimal("1000000.00"), credit_limit=None)
    orders.when(cmd).then(placed(cmd), NINE_ALLOCATED)


def test_place_called_directly_records_what_the_decider_does() -> None:
    direct = order.place(BOLTS_AND_NUTS, over_credit=True, exposure=EXPOSURE, credit_limit=Decimal("450.00"), plan={})
    held = msgspec.structs.replace(HELD, order_value=Decimal("79.00"))
    assert direct == [placed(BOLTS_AND_NUTS), held]
    assert order.decide(replace(BOLTS_AND_NUTS, exposure=EXPOSURE), None) == direct
