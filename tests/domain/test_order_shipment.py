"""Order: shipments from its allocation, proof of delivery, invoiced quantities and returns."""

from __future__ import annotations

from domain.errors import ExceedsAllocationError, ExceedsShippedError, NotFoundError, UnknownOrderError
from domain.order import (
    LineQty,
    MarkShipmentInvoiced,
    OrderLinesInvoiced,
    OrderReturnRecorded,
    RecordDelivery,
    RecordReturn,
    RecordShipment,
    ReturnedLine,
)
from tests.domain.order_events import (
    BOLTS_AND_NUTS,
    DELIVERED,
    HELD,
    NINE_ALLOCATED,
    allocated,
    delivered,
    orders,
    placed,
    shipped,
)

BOTH_AT_W_A = allocated(("1", "BOLT-10", "W-A", 6), ("2", "NUT-4", "W-A", 10))


def ship(warehouse_id: str, *lines: tuple[str, int], shipment_id: str = "SH-1") -> RecordShipment:
    return RecordShipment("SO-1", shipment_id, warehouse_id, lines)


def test_a_shipment_from_the_allocation_is_recorded_and_the_order_is_partially_shipped() -> None:
    state = (
        orders.given(placed(), NINE_ALLOCATED)
        .when(ship("W-A", ("BOLT-10", 4)))
        .then(shipped("SH-1", "W-A", ("1", "BOLT-10", 4)))
    )
    assert state is not None
    line = state.line("1")
    assert (line.allocated, line.allocations, line.shipped) == (5, {"W-A": 2, "W-B": 3}, 4)
    assert state.status == "partially_shipped"


def test_a_shipment_may_carry_several_lines() -> None:
    orders.given(placed(BOLTS_AND_NUTS), BOTH_AT_W_A).when(ship("W-A", ("NUT-4", 10), ("BOLT-10", 6))).then(
        shipped("SH-1", "W-A", ("2", "NUT-4", 10), ("1", "BOLT-10", 6))
    )


def test_shipping_more_than_the_allocation_at_the_warehouse_is_rejected() -> None:
    error = (
        orders.given(placed(), NINE_ALLOCATED)
        .when(ship("W-B", ("BOLT-10", 4)))
        .then_raises(ExceedsAllocationError, sku="BOLT-10", warehouse_id="W-B", requested=4, allocated=3)
    )
    assert (error.category, error.code) == ("conflict", "exceeds_allocation")


def test_shipping_from_a_warehouse_that_holds_nothing_for_the_order_is_rejected() -> None:
    orders.given(placed(), NINE_ALLOCATED).when(ship("W-C", ("BOLT-10", 1))).then_raises(
        ExceedsAllocationError, warehouse_id="W-C", requested=1, allocated=0
    )


def test_shipping_a_sku_the_order_does_not_have_is_rejected() -> None:
    orders.given(placed(), NINE_ALLOCATED).when(ship("W-A", ("NUT-4", 1))).then_raises(
        ExceedsAllocationError, sku="NUT-4", requested=1, allocated=0
    )


def test_shipping_a_held_order_is_rejected() -> None:
    orders.given(placed(), HELD).when(ship("W-A", ("BOLT-10", 1))).then_raises(ExceedsAllocationError, allocated=0)


def test_one_bad_line_rejects_the_whole_shipment() -> None:
    orders.given(placed(BOLTS_AND_NUTS), BOTH_AT_W_A).when(ship("W-A", ("NUT-4", 10), ("BOLT-10", 7))).then_raises(
        ExceedsAllocationError, sku="BOLT-10", requested=7, allocated=6
    )


def test_shipping_for_an_order_that_does_not_exist_is_an_unknown_order() -> None:
    error = orders.when(ship("W-A", ("BOLT-10", 1))).then_raises(UnknownOrderError, order_id="SO-1")
    assert (error.category, error.code) == ("rejected", "unknown_order")


def test_a_delivery_is_recorded_once() -> None:
    history = [placed(), NINE_ALLOCATED, shipped("SH-1", "W-A", ("1", "BOLT-10", 6))]
    orders.given(*history).when(RecordDelivery("SO-1", "SH-1", DELIVERED)).then(delivered("SH-1"))
    orders.given(*history, delivered("SH-1")).when(RecordDelivery("SO-1", "SH-1", DELIVERED)).then()


def test_a_delivery_for_an_order_that_does_not_exist_is_not_found() -> None:
    orders.when(RecordDelivery("SO-9", "SH-1", DELIVERED)).then_raises(NotFoundError, order_id="SO-9")


# --- invoiced quantities ---------------------------------------------------------------------


def test_an_issued_invoice_marks_its_shipments_quantities_as_invoiced() -> None:
    history = [placed(BOLTS_AND_NUTS), BOTH_AT_W_A, shipped("SH-1", "W-A", ("2", "NUT-4", 10), ("1", "BOLT-10", 6))]
    state = (
        orders.given(*history)
        .when(MarkShipmentInvoiced("SO-1", "INV-SH-1", "SH-1"))
        .then(
            OrderLinesInvoiced(
                order_id="SO-1",
                invoice_id="INV-SH-1",
                lines=[LineQty(line_id="1", sku="BOLT-10", qty=6), LineQty(line_id="2", sku="NUT-4", qty=10)],
            )
        )
    )
    assert state is not None and (state.line("1").invoiced, state.line("2").invoiced) == (6, 10)


def test_a_shipment_the_order_does_not_know_marks_nothing_invoiced() -> None:
    orders.given(placed(), NINE_ALLOCATED).when(MarkShipmentInvoiced("SO-1", "INV-SH-9", "SH-9")).then()


# --- returns ---------------------------------------------------------------------------------

TWO_SHIPMENTS = [
    placed(),
    NINE_ALLOCATED,
    shipped("SH-1", "W-A", ("1", "BOLT-10", 6)),
    shipped("SH-2", "W-B", ("1", "BOLT-10", 3)),
]


def test_a_return_draws_on_the_oldest_shipment_first() -> None:
    state = (
        orders.given(*TWO_SHIPMENTS)
        .when(RecordReturn("SO-1", "RET-1", "W-A", True, (("BOLT-10", 7),)))
        .then(
            OrderReturnRecorded(
                order_id="SO-1",
                return_id="RET-1",
                warehouse_id="W-A",
                restock=True,
                lines=[
                    ReturnedLine(shipment_id="SH-1", line_id="1", sku="BOLT-10", qty=6),
                    ReturnedLine(shipment_id="SH-2", line_id="1", sku="BOLT-10", qty=1),
                ],
            )
        )
    )
    assert state is not None and state.line("1").returned == 7


def test_returning_more_than_shipped_and_not_yet_returned_is_rejected() -> None:
    first = ReturnedLine(shipment_id="SH-1", line_id="1", sku="BOLT-10", qty=6)
    back = OrderReturnRecorded(order_id="SO-1", return_id="RET-1", warehouse_id="W-A", restock=True, lines=[first])
    error = (
        orders.given(*TWO_SHIPMENTS, back)
        .when(RecordReturn("SO-1", "RET-2", "W-A", False, (("BOLT-10", 2), ("BOLT-10", 2))))
        .then_raises(ExceedsShippedError, sku="BOLT-10", requested=2, returnable=1)
    )
    assert (error.category, error.code) == ("conflict", "exceeds_shipped")


def test_a_return_for_an_order_that_does_not_exist_is_an_unknown_order() -> None:
    orders.when(RecordReturn("SO-1", "RET-1", "W-A", True, (("BOLT-10", 1),))).then_raises(
        UnknownOrderError, order_id="SO-1"
    )
