"""Orders projection specs: given order events, then one summary row per order (no database)."""

from __future__ import annotations

from decimal import Decimal

import domain.order
from domain.customer import CreditCommitted
from domain.events import Event
from domain.inventory import StockReserved
from domain.order import (
    CancelledLine,
    LineAllocation,
    LineQty,
    OrderCancelled,
    OrderCreditHeld,
    OrderCreditReleased,
    OrderDeliveryRecorded,
    OrderLinesAllocated,
    OrderLinesInvoiced,
    OrderPlaced,
    OrderReturnRecorded,
    OrderShipmentRecorded,
    PlacedLine,
    ReturnedLine,
)
from projections.orders import ORDERS, decode_state
from tests.projections.fold import at, fold, table

ORDERS_TABLE = table(ORDERS.tables, "orders")


def placed(order_id: str = "SO-1", customer_id: str = "C1", qty: int = 4) -> OrderPlaced:
    return OrderPlaced(
        order_id=order_id,
        customer_id=customer_id,
        channel="web",
        warehouse_id=None,
        allow_backorder=True,
        lines=[
            PlacedLine(
                line_id="1", sku="BOLT-10", qty=qty, unit_price=Decimal("8.50"), amount=Decimal(qty) * Decimal("8.50")
            )
        ],
        total=Decimal(qty) * Decimal("8.50"),
        accepted_at=at(0),
    )


def allocated(qty: int, wh: str = "W-A", order_id: str = "SO-1", reason: str = "placement") -> OrderLinesAllocated:
    return OrderLinesAllocated(
        order_id=order_id,
        allocations=[LineAllocation(line_id="1", sku="BOLT-10", warehouse_id=wh, qty=qty)],
        reason=reason,
    )


def shipped(qty: int, shipment_id: str = "SH-1", wh: str = "W-A") -> OrderShipmentRecorded:
    return OrderShipmentRecorded(
        order_id="SO-1", shipment_id=shipment_id, warehouse_id=wh, lines=[LineQty(line_id="1", sku="BOLT-10", qty=qty)]
    )


def delivered(shipment_id: str) -> OrderDeliveryRecorded:
    return OrderDeliveryRecorded(order_id="SO-1", shipment_id=shipment_id, delivered_at=at(60))


def row_after(*events: Event) -> dict:
    rows = fold(ORDERS_TABLE, events)
    assert list(rows) == [("SO-1",)]
    return rows[("SO-1",)]


def test_a_placed_order_without_allocation_is_a_backordered_row_with_its_total() -> None:
    row = row_after(placed())
    assert {k: v for k, v in row.items() if k != "doc"} == {
        "order_id": "SO-1",
        "customer_id": "C1",
        "customer_po": None,
        "status": "backordered",
        "seq": 1,
        "total": Decimal("34.00"),
        "lines_shipped": 0,
        "lines_shipped_late": 0,
    }
    state = decode_state(row["doc"])
    assert (state.order_id, state.lines[0].qty, state.lines[0].backordered) == ("SO-1", 4, 4)


def test_an_order_allocated_in_full_is_allocated_and_its_doc_holds_the_allocations() -> None:
    row = row_after(placed(), allocated(3, "W-A"), allocated(1, "W-B"))
    assert row["status"] == "allocated"
    line = decode_state(row["doc"]).lines[0]
    assert (line.allocations, line.allocated, line.backordered) == ({"W-A": 3, "W-B": 1}, 4, 0)


def test_the_seq_stays_the_position_of_the_placement() -> None:
    events: list[Event] = [
        placed("SO-1"),
        placed("SO-2", customer_id="C2"),
        allocated(4, order_id="SO-1"),
        allocated(4, order_id="SO-2"),
        shipped(2),
    ]
    rows = fold(ORDERS_TABLE, events)
    assert rows[("SO-1",)]["seq"] == 1
    assert rows[("SO-2",)]["seq"] == 2
    assert rows[("SO-2",)]["customer_id"] == "C2"


def test_shipments_make_the_order_partially_shipped_then_shipped() -> None:
    assert row_after(placed(), allocated(4), shipped(1))["status"] == "partially_shipped"
    row = row_after(placed(), allocated(4), shipped(1), shipped(3, "SH-2"))
    assert row["status"] == "shipped"
    line = decode_state(row["doc"]).lines[0]
    assert (line.shipped, line.allocated, line.backordered) == (4, 0, 0)


def test_the_order_is_delivered_only_when_every_shipment_is_delivered() -> None:
    events = [placed(), allocated(4), shipped(1), shipped(3, "SH-2"), delivered("SH-1")]
    assert row_after(*events)["status"] == "shipped"
    assert row_after(*events, delivered("SH-2"))["status"] == "delivered"


def test_a_credit_hold_shows_as_credit_hold_until_released() -> None:
    held = OrderCreditHeld(
        order_id="SO-1",
        customer_id="C1",
        order_value=Decimal("34.00"),
        exposure=Decimal("480.00"),
        credit_limit=Decimal("500.00"),
    )
    assert row_after(placed(), held)["status"] == "credit_hold"
    released = OrderCreditReleased(order_id="SO-1", customer_id="C1")
    assert row_after(placed(), held, released)["status"] == "backordered"
    assert row_after(placed(), held, released, allocated(4, reason="hold_release"))["status"] == "allocated"


def test_a_cancelled_order_is_cancelled_and_keeps_its_total() -> None:
    cancelled = OrderCancelled(
        order_id="SO-1",
        customer_id="C1",
        reason="customer",
        lines=[
            CancelledLine(
                line_id="1",
                sku="BOLT-10",
                qty=4,
                released=[LineAllocation(line_id="1", sku="BOLT-10", warehouse_id="W-A", qty=3)],
            )
        ],
        amount=Decimal("34.00"),
    )
    row = row_after(placed(), allocated(3), cancelled)
    assert (row["status"], row["total"]) == ("cancelled", Decimal("34.00"))
    line = decode_state(row["doc"]).lines[0]
    assert (line.cancelled, line.allocated, line.backordered, line.shipped) == (4, 0, 0, 0)


def test_every_line_keeps_qty_equal_to_allocated_backordered_shipped_and_cancelled() -> None:
    row = row_after(placed(qty=10), allocated(6), allocated(1, "W-B", reason="backorder_fill"), shipped(2))
    line = decode_state(row["doc"]).lines[0]
    assert (line.allocated, line.backordered, line.shipped, line.cancelled) == (5, 3, 2, 0)
    assert line.qty == line.allocated + line.backordered + line.shipped + line.cancelled


def test_order_events_for_an_order_never_placed_make_no_row() -> None:
    assert fold(ORDERS_TABLE, [allocated(3), shipped(1)]) == {}


def test_events_that_are_not_about_orders_touch_no_order_row() -> None:
    others: list[Event] = [
        StockReserved(sku="BOLT-10", warehouse_id="W-A", order_id="SO-1", line_id="1", qty=4),
        CreditCommitted(customer_id="C1", order_id="SO-1", amount=Decimal("34.00")),
    ]
    assert [ORDERS_TABLE.keys_for(e) for e in others] == [[], []]
    assert ORDERS_TABLE.keys_for(placed()) == [("SO-1",)]


def test_a_row_read_back_from_storage_evolves_like_the_row_kept_in_memory() -> None:
    events: list[Event] = [placed(qty=10), allocated(6), shipped(2), allocated(1, "W-B", reason="backorder_fill")]
    rows: dict = {}
    for event in events:  # each event applied to the stored row, as after a restart
        rows = fold(ORDERS_TABLE, [event], rows)
    at_once = fold(ORDERS_TABLE, events)
    assert {k: v for k, v in rows[("SO-1",)].items() if k != "seq"} == {
        k: v for k, v in at_once[("SO-1",)].items() if k != "seq"
    }
    assert decode_state(rows[("SO-1",)]["doc"]) == decode_state(at_once[("SO-1",)]["doc"])


def test_invoiced_qty_shows_on_the_order_row() -> None:
    invoiced = OrderLinesInvoiced(
        order_id="SO-1", invoice_id="INV-SH-1", lines=[LineQty(line_id="1", sku="BOLT-10", qty=3)]
    )
    assert ORDERS_TABLE.keys_for(invoiced) == [("SO-1",)]
    line = decode_state(row_after(placed(), allocated(4), shipped(3), invoiced)["doc"]).lines[0]
    assert (line.shipped, line.invoiced) == (3, 3)


def test_returned_qty_shows_on_the_order_row() -> None:
    returned = OrderReturnRecorded(
        order_id="SO-1",
        return_id="RET-1",
        warehouse_id="W-A",
        restock=True,
        lines=[ReturnedLine(shipment_id="SH-1", line_id="1", sku="BOLT-10", qty=1)],
    )
    assert ORDERS_TABLE.keys_for(returned) == [("SO-1",)]
    line = decode_state(row_after(placed(), allocated(4), shipped(4), returned)["doc"]).lines[0]
    assert (line.shipped, line.returned) == (4, 1)


def test_the_orders_table_reads_every_event_of_the_order_stream() -> None:
    """Anything `evolve_order` reacts to must reach the read model, or its documents go stale."""
    order_events = {
        cls.__name__
        for cls in vars(domain.order).values()
        if isinstance(cls, type) and issubclass(cls, Event) and cls.__module__.startswith("domain.order")
    }
    read = {cls.__name__ for cls in getattr(ORDERS_TABLE, "events", ())}
    assert sorted(order_events - read) == []
