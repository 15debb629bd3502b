"""InventoryPosition (one SKU at one warehouse): on hand, reserved, in transit, and the rules guarding them."""

from __future__ import annotations

import pytest

from domain import inventory
from domain.errors import ExceedsAllocationError, InsufficientStockError
from domain.events import Event
from domain.inventory import (
    Position,
    ReservationReleased,
    StockAdjusted,
    StockCounted,
    StockReceived,
    StockReserved,
    StockRestocked,
    StockShipped,
    TransferArrived,
    TransferDispatched,
    TransferExpected,
    evolve_position,
)
from tests.spec import Given, given, spec

AT = {"sku": "BOLT-10", "warehouse_id": "W-A"}
EMPTY = Position(sku="BOLT-10", warehouse_id="W-A")


def received(qty: int, receipt_id: str = "R-1") -> StockReceived:
    return StockReceived(**AT, receipt_id=receipt_id, qty=qty)


def reserved(qty: int, order_id: str = "SO-1", line_id: str = "1") -> StockReserved:
    return StockReserved(**AT, order_id=order_id, line_id=line_id, qty=qty)


def position(*events: Event) -> Given[Position]:
    return given(evolve_position, EMPTY, *events)


def test_a_receipt_puts_stock_on_hand() -> None:
    state = position(received(4)).when(lambda s: inventory.receive(s, "R-2", 6)).then(received(6, "R-2"))
    assert (state.on_hand, state.reserved, state.available) == (10, 0, 10)


def test_a_positive_adjustment_adds_stock() -> None:
    state = (
        position(received(4))
        .when(lambda s: inventory.adjust(s, "ADJ-1", 3, "found"))
        .then(StockAdjusted(**AT, adjustment_id="ADJ-1", qty_delta=3, reason="found"))
    )
    assert state.on_hand == 7


def test_a_negative_adjustment_may_take_on_hand_to_zero() -> None:
    state = (
        position(received(4))
        .when(lambda s: inventory.adjust(s, "ADJ-1", -4, "damaged"))
        .then(StockAdjusted(**AT, adjustment_id="ADJ-1", qty_delta=-4, reason="damaged"))
    )
    assert state.on_hand == 0


def test_an_adjustment_that_would_leave_on_hand_below_zero_is_rejected() -> None:
    error = (
        position(received(4))
        .when(lambda s: inventory.adjust(s, "ADJ-1", -5, "damaged"))
        .then_raises(InsufficientStockError, sku="BOLT-10", warehouse_id="W-A", on_hand=4, qty_delta=-5)
    )
    assert error.category == "conflict" and error.code == "insufficient_stock"


def test_a_negative_adjustment_below_the_reserved_qty_over_allocates_the_position() -> None:
    state = (
        position(received(5), reserved(4))
        .when(lambda s: inventory.adjust(s, "ADJ-1", -3, "damaged"))
        .then(StockAdjusted(**AT, adjustment_id="ADJ-1", qty_delta=-3, reason="damaged"))
    )
    assert (state.on_hand, state.reserved, state.available) == (2, 4, -2)


def test_a_count_records_the_difference_to_the_ledger() -> None:
    state = (
        position(received(10))
        .when(lambda s: inventory.count(s, "CNT-1", 12))
        .then(StockCounted(**AT, count_id="CNT-1", counted_qty=12, qty_delta=2))
    )
    assert state.on_hand == 12


def test_a_count_that_matches_the_ledger_records_a_zero_delta() -> None:
    state = (
        position(received(10))
        .when(lambda s: inventory.count(s, "CNT-1", 10))
        .then(StockCounted(**AT, count_id="CNT-1", counted_qty=10, qty_delta=0))
    )
    assert state.on_hand == 10


def test_a_count_that_finds_less_than_is_reserved_records_a_negative_delta_and_over_allocation() -> None:
    state = (
        position(received(10), reserved(6))
        .when(lambda s: inventory.count(s, "CNT-1", 4))
        .then(StockCounted(**AT, count_id="CNT-1", counted_qty=4, qty_delta=-6))
    )
    assert (state.on_hand, state.reserved, state.available) == (4, 6, -2)


def test_a_reservation_holds_available_stock_for_an_order_line() -> None:
    state = position(received(6)).when(lambda s: inventory.reserve(s, "SO-1", "1", 4)).then(reserved(4))
    assert (state.on_hand, state.reserved, state.available) == (6, 4, 2)
    assert state.reserved_for("SO-1", "1") == 4


def test_all_available_stock_may_be_reserved() -> None:
    state = (
        position(received(6), reserved(2))
        .when(lambda s: inventory.reserve(s, "SO-2", "1", 4))
        .then(reserved(4, "SO-2"))
    )
    assert state.available == 0


def test_reserving_more_than_is_available_is_rejected() -> None:
    position(received(6), reserved(4)).when(lambda s: inventory.reserve(s, "SO-2", "1", 3)).then_raises(
        InsufficientStockError, lines=[{"sku": "BOLT-10", "requested": 3, "available": 2}]
    )


def test_an_over_allocated_position_reports_nothing_available_to_reserve() -> None:
    over = StockCounted(**AT, count_id="CNT-1", counted_qty=2, qty_delta=-4)
    position(received(6), reserved(4), over).when(lambda s: inventory.reserve(s, "SO-2", "1", 1)).then_raises(
        InsufficientStockError, lines=[{"sku": "BOLT-10", "requested": 1, "available": 0}]
    )


def test_releasing_a_reservation_frees_the_whole_of_it() -> None:
    state = (
        position(received(6), reserved(4), reserved(1, "SO-2"))
        .when(lambda s: inventory.release(s, "SO-1", "1", "order_cancelled"))
        .then(ReservationReleased(**AT, order_id="SO-1", line_id="1", qty=4, reason="order_cancelled"))
    )
    assert (state.reserved, state.available) == (1, 5)
    assert state.reservations == {("SO-2", "1"): 1}


def test_an_order_change_releases_only_part_of_a_reservation() -> None:
    state = (
        position(received(6), reserved(4))
        .when(lambda s: inventory.release(s, "SO-1", "1", "order_changed", qty=3))
        .then(ReservationReleased(**AT, order_id="SO-1", line_id="1", qty=3, reason="order_changed"))
    )
    assert (state.reserved, state.available, state.reservations) == (1, 5, {("SO-1", "1"): 1})
    position(received(6), reserved(4)).when(
        lambda s: inventory.decide(inventory.ReleaseReservation("BOLT-10", "W-A", "SO-1", "1", "order_changed", 9), s)
    ).then(ReservationReleased(**AT, order_id="SO-1", line_id="1", qty=4, reason="order_changed"))


def test_releasing_a_line_that_holds_nothing_records_nothing() -> None:
    position(received(6), reserved(4)).when(lambda s: inventory.release(s, "SO-9", "1", "order_cancelled")).then()


def test_shipping_takes_stock_off_hand_and_out_of_the_reservation() -> None:
    state = (
        position(received(6), reserved(4))
        .when(lambda s: inventory.ship(s, "SH-1", "SO-1", "1", 3))
        .then(StockShipped(**AT, shipment_id="SH-1", order_id="SO-1", line_id="1", qty=3))
    )
    assert (state.on_hand, state.reserved, state.available) == (3, 1, 2)
    assert state.reserved_for("SO-1", "1") == 1


def test_shipping_the_whole_reservation_clears_it() -> None:
    state = (
        position(received(6), reserved(4))
        .when(lambda s: inventory.ship(s, "SH-1", "SO-1", "1", 4))
        .then(StockShipped(**AT, shipment_id="SH-1", order_id="SO-1", line_id="1", qty=4))
    )
    assert state.reservations == {}


def test_shipping_more_than_the_reservation_is_rejected() -> None:
    position(received(6), reserved(4)).when(lambda s: inventory.ship(s, "SH-1", "SO-1", "1", 5)).then_raises(
        ExceedsAllocationError, sku="BOLT-10", warehouse_id="W-A", requested=5, allocated=4
    )


def test_shipping_for_an_order_without_a_reservation_is_rejected_even_with_free_stock() -> None:
    position(received(6)).when(lambda s: inventory.ship(s, "SH-1", "SO-1", "1", 1)).then_raises(
        ExceedsAllocationError, requested=1, allocated=0
    )


def test_a_transfer_dispatches_available_stock() -> None:
    state = (
        position(received(6), reserved(2))
        .when(lambda s: inventory.dispatch_transfer(s, "T-1", "W-B", 4))
        .then(TransferDispatched(**AT, transfer_id="T-1", to_warehouse_id="W-B", qty=4))
    )
    assert (state.on_hand, state.reserved, state.available) == (2, 2, 0)


def test_a_transfer_may_not_take_reserved_stock() -> None:
    position(received(6), reserved(2)).when(lambda s: inventory.dispatch_transfer(s, "T-1", "W-B", 5)).then_raises(
        InsufficientStockError, lines=[{"sku": "BOLT-10", "requested": 5, "available": 4}]
    )


def test_an_expected_transfer_is_in_transit_at_the_destination_not_on_hand() -> None:
    at_b = {"sku": "BOLT-10", "warehouse_id": "W-B"}
    state = (
        given(evolve_position, Position("BOLT-10", "W-B"))
        .when(lambda s: inventory.expect_transfer(s, "T-1", "W-A", 4))
        .then(TransferExpected(**at_b, transfer_id="T-1", from_warehouse_id="W-A", qty=4))
    )
    assert (state.on_hand, state.in_transit, state.available) == (0, 4, 0)


def test_an_arrived_transfer_moves_stock_from_in_transit_to_on_hand() -> None:
    at_b = {"sku": "BOLT-10", "warehouse_id": "W-B"}
    state = (
        given(
            evolve_position,
            Position("BOLT-10", "W-B"),
            TransferExpected(**at_b, transfer_id="T-1", from_warehouse_id="W-A", qty=4),
        )
        .when(lambda s: inventory.arrive_transfer(s, "T-1", "W-A", 4))
        .then(TransferArrived(**at_b, transfer_id="T-1", from_warehouse_id="W-A", qty=4))
    )
    assert (state.on_hand, state.in_transit, state.available) == (4, 0, 4)


def test_restocked_returns_go_back_on_hand() -> None:
    state = position(received(2), StockRestocked(**AT, return_id="RT-1", order_id="SO-1", qty=1)).state
    assert state.on_hand == 3


def test_a_fully_reserved_position_rejects_one_more_unit() -> None:
    position(received(3), reserved(1), reserved(1, "SO-2"), reserved(1, "SO-3")).when(
        lambda s: inventory.reserve(s, "SO-4", "1", 1)
    ).then_raises(InsufficientStockError, lines=[{"sku": "BOLT-10", "requested": 1, "available": 0}])


def test_an_over_allocated_position_ships_at_most_what_is_on_hand() -> None:
    over = position(received(10), reserved(10), StockAdjusted(**AT, adjustment_id="ADJ-1", qty_delta=-6, reason="lost"))
    error = over.when(lambda s: inventory.ship(s, "SH-1", "SO-1", "1", 10)).then_raises(
        InsufficientStockError, sku="BOLT-10", warehouse_id="W-A", requested=10, on_hand=4
    )
    assert error.category == "conflict" and error.code == "insufficient_stock"
    state = over.when(lambda s: inventory.ship(s, "SH-1", "SO-1", "1", 4)).then(
        StockShipped(**AT, shipment_id="SH-1", order_id="SO-1", line_id="1", qty=4)
    )
    assert (state.on_hand, state.reserved) == (0, 6)


# --- the decider: every position command, keyed "<sku>@<warehouse_id>" -------------------------

positions = spec(inventory.decider, "BOLT-10@W-A")
COMMANDS_AND_EVENTS = {
    "receive": (inventory.ReceiveStock("BOLT-10", "W-A", "R-2", 6), received(6, "R-2")),
    "adjust": (
        inventory.AdjustStock("BOLT-10", "W-A", "ADJ-1", -1, "damaged"),
        StockAdjusted(**AT, adjustment_id="ADJ-1", qty_delta=-1, reason="damaged"),
    ),
    "count": (
        inventory.CountStock("BOLT-10", "W-A", "CNT-1", 12),
        StockCounted(**AT, count_id="CNT-1", counted_qty=12, qty_delta=2),
    ),
    "reserve": (inventory.ReserveStock("BOLT-10", "W-A", "SO-2", "1", 3), reserved(3, "SO-2")),
    "release": (
        inventory.ReleaseReservation("BOLT-10", "W-A", "SO-1", "1", "order_cancelled"),
        ReservationReleased(**AT, order_id="SO-1", line_id="1", qty=4, reason="order_cancelled"),
    ),
    "ship": (
        inventory.ShipStock("BOLT-10", "W-A", "SH-1", "SO-1", "1", 4),
        StockShipped(**AT, shipment_id="SH-1", order_id="SO-1", line_id="1", qty=4),
    ),
    "dispatch": (
        inventory.DispatchTransfer("BOLT-10", "W-A", "T-1", "W-B", 6),
        TransferDispatched(**AT, transfer_id="T-1", to_warehouse_id="W-B", qty=6),
    ),
    "expect": (
        inventory.ExpectTransfer("BOLT-10", "W-A", "T-2", "W-C", 2),
        TransferExpected(**AT, transfer_id="T-2", from_warehouse_id="W-C", qty=2),
    ),
    "arrive": (
        inventory.ArriveTransfer("BOLT-10", "W-A", "T-3", "W-C", 2),
        TransferArrived(**AT, transfer_id="T-3", from_warehouse_id="W-C", qty=2),
    ),
    "restock": (
        inventory.RestockReturn("BOLT-10", "W-A", "RT-1", "SO-1", 1),
        StockRestocked(**AT, return_id="RT-1", order_id="SO-1", qty=1),
    ),
}


@pytest.mark.parametrize("case", COMMANDS_AND_EVENTS.values(), ids=COMMANDS_AND_EVENTS.keys())
def test_the_decider_records_what_each_position_command_decides(
    case: tuple[inventory.InventoryCommand, Event],
) -> None:
    command, event = case
    positions.given(received(10), reserved(4)).when(command).then(event)


def test_the_decider_keeps_the_position_rules() -> None:
    positions.given(received(3)).when(inventory.ReserveStock("BOLT-10", "W-A", "SO-1", "1", 4)).then_raises(
        InsufficientStockError, lines=[{"sku": "BOLT-10", "requested": 4, "available": 3}]
    )


def test_a_new_position_is_named_by_its_key() -> None:
    assert inventory.initial_state("BOLT-10@W-A") == EMPTY
    assert inventory.restock(EMPTY, "RT-1", "SO-1", 2) == [
        StockRestocked(**AT, return_id="RT-1", order_id="SO-1", qty=2)
    ]
