"""ATP projection specs: given events, then position, backorder and SKU rows (no database)."""

from __future__ import annotations

import json
from decimal import Decimal

from domain.backorders import BackorderFilled, BackorderQueued, BackorderWithdrawn
from domain.catalog import ProductDefined, ProductRevised
from domain.customer import CreditCommitted
from domain.events import Event
from domain.inventory import (
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
)
from domain.order import OrderLinesAllocated
from projections.atp import ATP, atp_view
from tests.projections.fold import at, fold, table

POSITIONS = table(ATP.tables, "positions")
BACKORDERS = table(ATP.tables, "backorders")
SKUS = table(ATP.tables, "skus")


def received(wh: str, qty: int, sku: str = "BOLT-10", rid: str = "R-1") -> StockReceived:
    return StockReceived(sku=sku, warehouse_id=wh, receipt_id=rid, qty=qty)


def reserved(wh: str, qty: int, order_id: str = "SO-1", sku: str = "BOLT-10") -> StockReserved:
    return StockReserved(sku=sku, warehouse_id=wh, order_id=order_id, line_id="1", qty=qty)


def position(on_hand: int, reserved: int, in_transit: int = 0, wh: str = "W-A", sku: str = "BOLT-10") -> dict:
    return {"sku": sku, "warehouse_id": wh, "on_hand": on_hand, "reserved": reserved, "in_transit": in_transit}


def queued(order_id: str, qty: int, wh: str | None = None, minute: int = 0, sku: str = "NUT-4") -> BackorderQueued:
    return BackorderQueued(sku=sku, order_id=order_id, line_id="1", warehouse_id=wh, qty=qty, accepted_at=at(minute))


def filled(order_id: str, qty: int, wh: str, sku: str = "NUT-4") -> BackorderFilled:
    return BackorderFilled(sku=sku, order_id=order_id, line_id="1", warehouse_id=wh, qty=qty)


# --- positions --------------------------------------------------------------------------------


def test_a_receipt_creates_the_position_with_its_qty_on_hand() -> None:
    rows = fold(POSITIONS, [received("W-A", 6)])
    assert rows == {("BOLT-10", "W-A"): position(6, 0)}


def test_receipts_at_two_warehouses_make_two_positions_and_add_up_at_one() -> None:
    rows = fold(POSITIONS, [received("W-A", 6), received("W-B", 2, rid="R-2"), received("W-A", 3, rid="R-3")])
    assert rows == {("BOLT-10", "W-A"): position(9, 0), ("BOLT-10", "W-B"): position(2, 0, wh="W-B")}


def test_a_reservation_raises_reserved_and_a_release_lowers_it_again() -> None:
    reservation = reserved("W-A", 4)
    release = ReservationReleased(
        sku="BOLT-10", warehouse_id="W-A", order_id="SO-1", line_id="1", qty=4, reason="order_cancelled"
    )
    assert fold(POSITIONS, [received("W-A", 6), reservation]) == {("BOLT-10", "W-A"): position(6, 4)}
    assert fold(POSITIONS, [received("W-A", 6), reservation, release]) == {("BOLT-10", "W-A"): position(6, 0)}


def test_a_shipment_lowers_on_hand_and_reserved_together() -> None:
    shipped = StockShipped(sku="BOLT-10", warehouse_id="W-A", shipment_id="SH-1", order_id="SO-1", line_id="1", qty=3)
    rows = fold(POSITIONS, [received("W-A", 6), reserved("W-A", 4), shipped])
    assert rows == {("BOLT-10", "W-A"): position(3, 1)}


def test_a_transfer_leaves_the_source_travels_to_the_target_and_arrives_there() -> None:
    dispatched = TransferDispatched(sku="BOLT-10", warehouse_id="W-A", transfer_id="T-1", to_warehouse_id="W-B", qty=4)
    expected = TransferExpected(sku="BOLT-10", warehouse_id="W-B", transfer_id="T-1", from_warehouse_id="W-A", qty=4)
    arrived = TransferArrived(sku="BOLT-10", warehouse_id="W-B", transfer_id="T-1", from_warehouse_id="W-A", qty=4)

    on_the_way = fold(POSITIONS, [received("W-A", 10), dispatched, expected])
    assert on_the_way == {
        ("BOLT-10", "W-A"): position(6, 0),
        ("BOLT-10", "W-B"): position(0, 0, in_transit=4, wh="W-B"),
    }
    assert fold(POSITIONS, [arrived], on_the_way) == {
        ("BOLT-10", "W-A"): position(6, 0),
        ("BOLT-10", "W-B"): position(4, 0, in_transit=0, wh="W-B"),
    }


def test_adjustments_counts_and_restocks_change_on_hand_by_their_delta() -> None:
    events: list[Event] = [
        received("W-A", 10),
        StockAdjusted(sku="BOLT-10", warehouse_id="W-A", adjustment_id="ADJ-1", qty_delta=-3, reason="damaged"),
        StockCounted(sku="BOLT-10", warehouse_id="W-A", count_id="CNT-1", counted_qty=5, qty_delta=-2),
        StockRestocked(sku="BOLT-10", warehouse_id="W-A", return_id="RET-1", order_id="SO-1", qty=1),
        StockAdjusted(sku="BOLT-10", warehouse_id="W-A", adjustment_id="ADJ-2", qty_delta=4, reason="found"),
    ]
    assert fold(POSITIONS, events) == {("BOLT-10", "W-A"): position(10 - 3 - 2 + 1 + 4, 0)}


def test_a_count_below_reserved_leaves_reserved_above_on_hand() -> None:
    count = StockCounted(sku="BOLT-10", warehouse_id="W-A", count_id="CNT-1", counted_qty=2, qty_delta=-3)
    rows = fold(POSITIONS, [received("W-A", 5), reserved("W-A", 5), count])
    assert rows == {("BOLT-10", "W-A"): position(2, 5)}
    view = atp_view("BOLT-10", list(rows.values()), 0, None)
    assert view["available"] == -3
    assert view["warehouses"][0]["available"] == -3


def test_events_that_are_not_about_stock_touch_no_position() -> None:
    others: list[Event] = [
        ProductDefined(sku="BOLT-10", name="Bolt", unit_price=Decimal("8.50"), uom="EA"),
        CreditCommitted(customer_id="C1", order_id="SO-1", amount=Decimal("8.50")),
        OrderLinesAllocated(order_id="SO-1", allocations=[], reason="placement"),
        queued("SO-1", 2),
    ]
    assert [POSITIONS.keys_for(e) for e in others] == [[], [], [], []]
    assert fold(POSITIONS, others) == {}


def test_each_stock_event_touches_only_its_own_sku_and_warehouse() -> None:
    assert POSITIONS.keys_for(received("W-C", 1, sku="NUT-4")) == [("NUT-4", "W-C")]
    rows = fold(POSITIONS, [received("W-A", 6), received("W-A", 7, sku="NUT-4"), reserved("W-A", 2, sku="NUT-4")])
    assert rows[("BOLT-10", "W-A")] == position(6, 0)
    assert rows[("NUT-4", "W-A")] == position(7, 2, sku="NUT-4")


# --- backorders -------------------------------------------------------------------------------


def test_a_queued_backorder_becomes_a_row_with_its_warehouse_and_acceptance_time() -> None:
    rows = fold(BACKORDERS, [queued("SO-1", 5, wh="W-A", minute=3)])
    assert rows == {
        ("NUT-4", "SO-1", "1"): {
            "sku": "NUT-4",
            "order_id": "SO-1",
            "line_id": "1",
            "warehouse_id": "W-A",
            "qty": 5,
            "accepted_at": at(3),
            "parts": json.dumps([[at(3).isoformat(), 5]]),
        }
    }


def test_queueing_more_for_the_same_line_adds_to_its_qty() -> None:
    rows = fold(BACKORDERS, [queued("SO-1", 5), queued("SO-1", 2)])
    assert rows[("NUT-4", "SO-1", "1")]["qty"] == 7


def test_a_partial_fill_lowers_the_qty_and_a_full_fill_deletes_the_row() -> None:
    partly = fold(BACKORDERS, [queued("SO-1", 5), filled("SO-1", 2, "W-B")])
    assert partly[("NUT-4", "SO-1", "1")]["qty"] == 3
    assert fold(BACKORDERS, [filled("SO-1", 3, "W-A")], partly) == {}


def test_a_withdrawn_backorder_is_deleted() -> None:
    withdrawn = BackorderWithdrawn(sku="NUT-4", order_id="SO-1", line_id="1", qty=5, reason="order_cancelled")
    assert fold(BACKORDERS, [queued("SO-1", 5), queued("SO-2", 1), withdrawn]) == fold(BACKORDERS, [queued("SO-2", 1)])


def test_a_fill_for_a_line_that_is_not_waiting_creates_no_row() -> None:
    assert fold(BACKORDERS, [filled("SO-9", 2, "W-A")]) == {}


def test_backorder_fill_example_of_examples_md_section_2() -> None:
    """SO-1 5 x NUT-4 pinned to W-A, SO-2 3 x NUT-4 anywhere; 4 arrive at W-B, then 6 at W-A."""
    so1 = StockReserved(sku="NUT-4", warehouse_id="W-A", order_id="SO-1", line_id="1", qty=5)
    so2 = StockReserved(sku="NUT-4", warehouse_id="W-B", order_id="SO-2", line_id="1", qty=3)
    events: list[Event] = [
        queued("SO-1", 5, wh="W-A", minute=0),
        queued("SO-2", 3, minute=1),
        received("W-B", 4, sku="NUT-4"),
        so2,
        filled("SO-2", 3, "W-B"),
    ]
    after_first = fold(BACKORDERS, events)
    assert list(after_first) == [("NUT-4", "SO-1", "1")]
    assert after_first[("NUT-4", "SO-1", "1")]["qty"] == 5

    events += [received("W-A", 6, sku="NUT-4", rid="R-2"), so1, filled("SO-1", 5, "W-A")]
    assert fold(BACKORDERS, events) == {}
    positions = fold(POSITIONS, events)
    view = atp_view("NUT-4", list(positions.values()), 0, None)
    assert [(w["warehouse_id"], w["on_hand"], w["reserved"], w["available"]) for w in view["warehouses"]] == [
        ("W-A", 6, 5, 1),
        ("W-B", 4, 3, 1),
    ]


# --- skus -------------------------------------------------------------------------------------


def test_a_defined_product_becomes_a_known_sku_and_a_revision_renames_it() -> None:
    defined = ProductDefined(sku="BOLT-10", name="Bolt", unit_price=Decimal("8.50"), uom="EA")
    revised = ProductRevised(sku="BOLT-10", name="Bolt 10mm", unit_price=Decimal("9.00"), uom="EA")
    assert fold(SKUS, [defined]) == {("BOLT-10",): {"sku": "BOLT-10", "name": "Bolt"}}
    assert fold(SKUS, [defined, revised]) == {("BOLT-10",): {"sku": "BOLT-10", "name": "Bolt 10mm"}}
    assert SKUS.keys_for(received("W-A", 1)) == []


# --- the API's ATP figures --------------------------------------------------------------------


def _example_1_positions() -> list[dict]:
    events: list[Event] = [
        received("W-A", 6),
        received("W-B", 6, rid="R-2"),
        received("W-C", 2, rid="R-3"),
        reserved("W-A", 6),
        reserved("W-B", 3),
    ]
    return list(fold(POSITIONS, events).values())


def test_atp_figures_of_examples_md_section_1() -> None:
    view = atp_view("BOLT-10", _example_1_positions(), 0, None)
    assert (view["on_hand"], view["reserved"], view["available"], view["in_transit"]) == (14, 9, 5, 0)
    assert [(w["warehouse_id"], w["on_hand"], w["reserved"], w["available"]) for w in view["warehouses"]] == [
        ("W-A", 6, 6, 0),
        ("W-B", 6, 3, 3),
        ("W-C", 2, 0, 2),
    ]


def test_atp_after_the_second_order_of_section_1_with_backorders_allowed() -> None:
    positions = fold(
        POSITIONS,
        [reserved("W-B", 3, order_id="SO-2"), reserved("W-C", 2, order_id="SO-2")],
        {(p["sku"], p["warehouse_id"]): p for p in _example_1_positions()},
    )
    view = atp_view("BOLT-10", list(positions.values()), 1, None)
    assert (view["on_hand"], view["reserved"], view["available"], view["backordered"]) == (14, 14, 0, 1)


def test_a_warehouse_filter_narrows_the_totals_but_still_lists_every_warehouse() -> None:
    view = atp_view("BOLT-10", _example_1_positions(), 0, "W-B")
    assert (view["on_hand"], view["reserved"], view["available"]) == (6, 3, 3)
    assert [w["warehouse_id"] for w in view["warehouses"]] == ["W-A", "W-B", "W-C"]


def test_a_sku_never_stocked_answers_zeros() -> None:
    assert atp_view("NUT-4", [], 0, None) == {
        "sku": "NUT-4",
        "on_hand": 0,
        "reserved": 0,
        "available": 0,
        "in_transit": 0,
        "backordered": 0,
        "warehouses": [],
    }


def test_in_transit_stock_counts_at_the_target_but_is_not_available() -> None:
    expected = TransferExpected(sku="BOLT-10", warehouse_id="W-B", transfer_id="T-1", from_warehouse_id="W-A", qty=4)
    dispatched = TransferDispatched(sku="BOLT-10", warehouse_id="W-A", transfer_id="T-1", to_warehouse_id="W-B", qty=4)
    rows = fold(POSITIONS, [received("W-A", 10), dispatched, expected])
    view = atp_view("BOLT-10", list(rows.values()), 0, None)
    assert (view["on_hand"], view["available"], view["in_transit"]) == (6, 6, 4)
    assert atp_view("BOLT-10", list(rows.values()), 0, "W-B")["available"] == 0
