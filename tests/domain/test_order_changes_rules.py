"""Changing an order, API.md rules 1-5 in their order: closed orders, lines, shipped qty, prices,
credit. A rejected change records nothing (a decider that raises records no events)."""

from __future__ import annotations

from decimal import Decimal

import pytest

from domain import order
from domain.errors import (
    BelowShippedError,
    CreditLimitExceededError,
    DuplicateIdError,
    InvalidRequestError,
    NotFoundError,
    OrderClosedError,
    PriceMismatchError,
    UnknownLineError,
    UnknownSkuError,
)
from domain.events import Event
from domain.order import AddLine
from tests.domain.change_events import (
    added,
    allocated_by_change,
    changed,
    changing,
    line,
)
from tests.domain.order_events import (
    BOLTS_AND_NUTS,
    EXPOSURE,
    HELD,
    NINE_ALLOCATED,
    allocated,
    cancelled,
    delivered,
    orders,
    placed,
    shipped,
)

OPEN = [placed(), NINE_ALLOCATED]
SHIPPED_6 = [*OPEN, shipped("SH-1", "W-A", ("1", "BOLT-10", 6))]
ALL_SHIPPED = [*SHIPPED_6, shipped("SH-2", "W-B", ("1", "BOLT-10", 3))]
TWO_LINES = [placed(BOLTS_AND_NUTS), allocated(("1", "BOLT-10", "W-A", 6), ("1", "BOLT-10", "W-B", 3))]


# --- rule 1: the order exists and is open ------------------------------------------------------


def test_changing_an_order_that_does_not_exist_is_not_found() -> None:
    error = orders.when(changing([], ("1", 5))).then_raises(NotFoundError, order_id="SO-1")
    assert (error.category, error.code) == ("not_found", "not_found")


CLOSED = {
    "cancelled": [*OPEN, cancelled("customer asked", "76.50", ("1", "BOLT-10", 9, [("W-A", 6), ("W-B", 3)]))],
    "shipped": ALL_SHIPPED,
    "delivered": [*ALL_SHIPPED, delivered("SH-1"), delivered("SH-2")],
}


@pytest.mark.parametrize(("status", "history"), CLOSED.items(), ids=CLOSED.keys())
def test_a_closed_order_takes_no_change(status: str, history: list[Event]) -> None:
    error = (
        orders.given(*history)
        .when(changing(history, ("1", 9)))
        .then_raises(OrderClosedError, order_id="SO-1", order_status=status)
    )
    assert (error.category, error.code) == ("conflict", "order_closed")


def test_a_closed_order_is_named_before_an_unknown_line() -> None:
    orders.given(*ALL_SHIPPED).when(changing(ALL_SHIPPED, ("7", 1))).then_raises(OrderClosedError)


def test_a_partly_shipped_order_takes_changes() -> None:
    orders.given(*SHIPPED_6).when(changing(SHIPPED_6, ("1", 8))).then(
        changed(line("1", "BOLT-10", 9, 8, released=[("W-B", 1)]), value_change="-8.50", total="68.00")
    )


def test_a_change_id_applies_once() -> None:
    first = order.decide(changing(OPEN, ("1", 8)), orders.given(*OPEN).state)
    error = (
        orders.given(*OPEN, *first)
        .when(changing(OPEN, ("1", 7)))
        .then_raises(DuplicateIdError, order_id="SO-1", change_id="CH-1")
    )
    assert (error.category, error.code) == ("conflict", "duplicate_id")


# --- rule 2: lines on the order, named once; added lines and SKUs new; SKUs known ---------------


def test_a_line_not_on_the_order_is_unknown() -> None:
    error = (
        orders.given(*OPEN)
        .when(changing(OPEN, ("1", 5), ("7", 1), ("8", 1)))
        .then_raises(UnknownLineError, order_id="SO-1", line_id="7", line_ids=["7", "8"])
    )
    assert (error.category, error.code) == ("rejected", "unknown_line")


def test_an_unknown_line_is_named_before_a_line_named_twice() -> None:
    orders.given(*OPEN).when(changing(OPEN, ("1", 5), ("1", 6), ("7", 1))).then_raises(UnknownLineError)


def invalid(history: list[Event], cmd: order.ChangeOrder) -> list[dict[str, str]]:
    error = orders.given(*history).when(cmd).then_raises(InvalidRequestError)
    assert (error.category, error.code) == ("rejected", "invalid_request")
    return list(error.facts["errors"])


def test_a_line_named_twice_is_an_invalid_request() -> None:
    assert invalid(OPEN, changing(OPEN, ("1", 5), ("1", 6))) == [{"field": "lines", "message": "line 1 named twice"}]


def test_an_added_line_id_already_on_the_order_is_an_invalid_request() -> None:
    assert invalid(OPEN, changing(OPEN, add=[AddLine("1", "NUT-4", 10)])) == [
        {"field": "add_lines[0].line_id", "message": "line 1 is already on the order"}
    ]


def test_an_added_line_id_sent_twice_is_an_invalid_request() -> None:
    cmd = changing(OPEN, add=[AddLine("2", "NUT-4", 10), AddLine("2", "WASHER-2", 5)])
    assert invalid(OPEN, cmd) == [{"field": "add_lines[1].line_id", "message": "line 2 added twice"}]


def test_an_added_sku_already_on_the_order_is_an_invalid_request() -> None:
    assert invalid(OPEN, changing(OPEN, add=[AddLine("2", "BOLT-10", 1)])) == [
        {"field": "add_lines[0].sku", "message": "sku BOLT-10 is already on the order: change its line"}
    ]


def test_a_line_at_qty_0_stays_on_the_order_so_its_sku_cannot_be_added_again() -> None:
    history = [*TWO_LINES, *order.decide(changing(TWO_LINES, ("1", 0)), orders.given(*TWO_LINES).state)]
    errors = invalid(history, changing(history, add=[AddLine("3", "BOLT-10", 1)], change_id="CH-2"))
    assert [e["field"] for e in errors] == ["add_lines[0].sku"]


def test_an_sku_added_twice_is_an_invalid_request() -> None:
    cmd = changing(OPEN, add=[AddLine("2", "NUT-4", 10), AddLine("3", "NUT-4", 5)])
    assert invalid(OPEN, cmd) == [{"field": "add_lines[1].sku", "message": "duplicate sku NUT-4"}]


def test_every_invalid_line_is_named_at_once() -> None:
    cmd = changing(OPEN, ("1", 5), ("1", 6), add=[AddLine("1", "BOLT-10", 1)])
    assert [e["field"] for e in invalid(OPEN, cmd)] == ["lines", "add_lines[0].line_id", "add_lines[0].sku"]


def test_an_unknown_sku_is_refused_after_the_invalid_lines() -> None:
    error = (
        orders.given(*OPEN)
        .when(changing(OPEN, add=[AddLine("2", "GEAR-1", 1)]))
        .then_raises(UnknownSkuError, sku="GEAR-1")
    )
    assert (error.category, error.code) == ("rejected", "unknown_sku")
    invalid(OPEN, changing(OPEN, ("1", 5), ("1", 6), add=[AddLine("2", "GEAR-1", 1)]))


REQUESTS = {
    "nothing to change": (changing(OPEN), "lines"),
    "a negative qty": (changing(OPEN, ("1", -1)), "lines[0].qty"),
    "a qty over the limit": (changing(OPEN, ("1", 1_000_000_001)), "lines[0].qty"),
    "an added line of qty 0": (changing(OPEN, add=[AddLine("2", "NUT-4", 0)]), "add_lines[0].qty"),
    "a long line reference": (
        changing(OPEN, add=[AddLine("2", "NUT-4", 1, customer_line_ref="R" * 21)]),
        "add_lines[0].customer_line_ref",
    ),
}


@pytest.mark.parametrize(("cmd", "field"), REQUESTS.values(), ids=REQUESTS.keys())
def test_a_malformed_change_is_an_invalid_request_even_before_the_order_is_looked_up(
    cmd: order.ChangeOrder, field: str
) -> None:
    assert [e["field"] for e in invalid(OPEN, cmd)] == [field]
    orders.when(cmd).then_raises(InvalidRequestError)


# --- rule 3: never below what has shipped ------------------------------------------------------


def test_a_qty_below_the_shipped_qty_is_refused_with_the_facts() -> None:
    error = (
        orders.given(*SHIPPED_6)
        .when(changing(SHIPPED_6, ("1", 5)))
        .then_raises(
            BelowShippedError,
            order_id="SO-1",
            lines=[{"line_id": "1", "sku": "BOLT-10", "shipped": 6, "requested": 5}],
        )
    )
    assert (error.category, error.code) == ("conflict", "below_shipped")


def test_every_line_below_its_shipped_qty_is_listed() -> None:
    history = [
        *TWO_LINES,
        allocated(("2", "NUT-4", "W-B", 10)),
        shipped("SH-1", "W-B", ("1", "BOLT-10", 2), ("2", "NUT-4", 4)),
    ]
    orders.given(*history).when(changing(history, ("1", 0), ("2", 3))).then_raises(
        BelowShippedError,
        lines=[
            {"line_id": "1", "sku": "BOLT-10", "shipped": 2, "requested": 0},
            {"line_id": "2", "sku": "NUT-4", "shipped": 4, "requested": 3},
        ],
    )


def test_a_qty_equal_to_the_shipped_qty_is_allowed() -> None:
    orders.given(*SHIPPED_6).when(changing(SHIPPED_6, ("1", 6))).then(
        changed(line("1", "BOLT-10", 9, 6, released=[("W-B", 3)]), value_change="-25.50", total="51.00")
    )


def test_an_unknown_sku_is_named_before_a_qty_below_shipped() -> None:
    cmd = changing(SHIPPED_6, ("1", 5), add=[AddLine("2", "GEAR-1", 1)])
    orders.given(*SHIPPED_6).when(cmd).then_raises(UnknownSkuError)


# --- rule 4: added lines at today's price; existing lines keep theirs ---------------------------


def test_an_added_line_sent_at_another_price_is_a_price_mismatch() -> None:
    cmd = changing(OPEN, add=[AddLine("2", "NUT-4", 10, unit_price=Decimal("0.30"))])
    error = (
        orders.given(*OPEN)
        .when(cmd)
        .then_raises(
            PriceMismatchError,
            line_id="2",
            sku="NUT-4",
            expected_unit_price="0.25",
            lines=[{"line_id": "2", "sku": "NUT-4", "sent": "0.30", "expected_unit_price": "0.25"}],
        )
    )
    assert (error.category, error.code) == ("rejected", "price_mismatch")
    assert error.detail == "Line 2 (NUT-4): sent 0.30, the price for customer C1 is 0.25"


def test_a_qty_below_shipped_is_named_before_a_price_mismatch() -> None:
    cmd = changing(SHIPPED_6, ("1", 5), add=[AddLine("2", "NUT-4", 10, unit_price=Decimal("0.30"))])
    orders.given(*SHIPPED_6).when(cmd).then_raises(BelowShippedError)


def test_an_added_line_is_priced_at_the_customers_price_now_and_an_existing_line_keeps_its_own() -> None:
    today = {"BOLT-10": Decimal("9.99"), "NUT-4": Decimal("0.25")}  # bolts got dearer since placement
    cmd = changing(OPEN, ("1", 8), add=[AddLine("2", "NUT-4", 10, unit_price=Decimal("0.25"))], prices=today)
    orders.given(*OPEN).when(cmd).then(
        changed(
            line("1", "BOLT-10", 9, 8, released=[("W-B", 1)]),
            add=[added("2", "NUT-4", 10)],
            value_change="-6.00",
            total="70.50",
        )
    )


# --- rule 5: credit, only when the value rises and the order is not held ------------------------


def test_a_rise_over_the_credit_limit_is_refused_with_the_facts() -> None:
    cmd = changing(OPEN, ("1", 13), exposure=EXPOSURE)  # 420.00 + 4 x 8.50 = 454.00 > 450.00
    error = (
        orders.given(*OPEN)
        .when(cmd)
        .then_raises(
            CreditLimitExceededError, order_id="SO-1", credit_limit="450.00", exposure="420.00", increase="34.00"
        )
    )
    assert (error.category, error.code) == ("conflict", "credit_limit_exceeded")


def test_a_rise_up_to_the_limit_is_accepted() -> None:
    cmd = changing(OPEN, ("1", 12), exposure=Decimal("424.50"))  # 424.50 + 25.50 = 450.00
    orders.given(*OPEN).when(cmd).then(
        changed(line("1", "BOLT-10", 9, 12), value_change="25.50", total="102.00"),
        allocated_by_change(("1", "BOLT-10", "W-B", 3)),
    )


def test_a_price_mismatch_is_named_before_the_credit_limit() -> None:
    cmd = changing(OPEN, add=[AddLine("2", "NUT-4", 9999, unit_price=Decimal("1.00"))], exposure=EXPOSURE)
    orders.given(*OPEN).when(cmd).then_raises(PriceMismatchError)


def test_a_change_that_lowers_the_value_is_never_refused_for_credit() -> None:
    far_over = Decimal("100000.00")
    cmd = changing(TWO_LINES, ("1", 8), add=[AddLine("3", "WASHER-2", 10)], exposure=far_over)  # -8.50 + 1.00
    orders.given(*TWO_LINES).when(cmd).then(
        changed(
            line("1", "BOLT-10", 9, 8, released=[("W-B", 1)]),
            add=[added("3", "WASHER-2", 10)],
            value_change="-7.50",
            total="71.50",
        )
    )


def test_a_customer_without_a_credit_limit_is_never_refused() -> None:
    cmd = changing(OPEN, ("1", 10), exposure=Decimal("100000.00"), credit_limit=None)
    orders.given(*OPEN).when(cmd).then(
        changed(line("1", "BOLT-10", 9, 10), value_change="8.50", total="85.00"),
        allocated_by_change(("1", "BOLT-10", "W-B", 1)),
    )


def test_a_held_order_takes_a_rise_over_the_limit_and_reserves_nothing() -> None:
    history = [placed(), HELD]
    cmd = changing(history, ("1", 20), add=[AddLine("2", "NUT-4", 4)], exposure=EXPOSURE)
    state = (
        orders.given(*history)
        .when(cmd)
        .then(changed(line("1", "BOLT-10", 9, 20), add=[added("2", "NUT-4", 4)], value_change="94.50", total="171.00"))
    )
    assert state is not None and state.status == "credit_hold"
    assert [(ln.allocated, ln.backordered) for ln in state.lines] == [(0, 20), (0, 4)]
