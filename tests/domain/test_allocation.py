"""Allocation planning: most available first, ties by warehouse id ascending, only the pinned warehouse if any."""

from __future__ import annotations

from domain.allocation import plan_line, plan_lines

# EXAMPLES.md section 1: stock of BOLT-10
STOCK = {"W-A": 6, "W-B": 6, "W-C": 2}


def test_an_order_of_9_takes_6_from_w_a_then_3_from_w_b() -> None:
    assert plan_line(9, STOCK) == [("W-A", 6), ("W-B", 3)]


def test_the_next_order_of_6_takes_3_from_w_b_and_2_from_w_c_leaving_1_unplanned() -> None:
    after_first = {"W-A": 0, "W-B": 3, "W-C": 2}
    plan = plan_line(6, after_first)
    assert plan == [("W-B", 3), ("W-C", 2)]
    assert 6 - sum(qty for _, qty in plan) == 1  # backordered


def test_ties_go_to_the_lower_warehouse_id_whatever_the_mapping_order() -> None:
    assert plan_line(2, {"W-B": 5, "W-A": 5}) == [("W-A", 2)]


def test_one_warehouse_covers_the_line_when_it_can() -> None:
    assert plan_line(5, STOCK) == [("W-A", 5)]


def test_a_pinned_order_takes_stock_only_from_its_warehouse() -> None:
    assert plan_line(5, STOCK, pin="W-C") == [("W-C", 2)]


def test_a_pinned_warehouse_without_stock_plans_nothing() -> None:
    assert plan_line(5, STOCK, pin="W-Z") == []


def test_warehouses_without_available_stock_are_skipped() -> None:
    assert plan_line(4, {"W-A": 0, "W-B": -2, "W-C": 3}) == [("W-C", 3)]


def test_no_stock_anywhere_plans_nothing() -> None:
    assert plan_line(4, {}) == []


def test_every_line_is_planned_against_its_own_skus_stock() -> None:
    available = {"BOLT-10": STOCK, "NUT-4": {"W-C": 100}}
    assert plan_lines([("1", "BOLT-10", 9), ("2", "NUT-4", 10), ("3", "WASHER", 1)], available) == {
        "1": [("W-A", 6), ("W-B", 3)],
        "2": [("W-C", 10)],
        "3": [],
    }


def test_a_pin_applies_to_every_line() -> None:
    available = {"BOLT-10": STOCK, "NUT-4": {"W-A": 100, "W-C": 1}}
    assert plan_lines([("1", "BOLT-10", 9), ("2", "NUT-4", 10)], available, pin="W-C") == {
        "1": [("W-C", 2)],
        "2": [("W-C", 1)],
    }
