"""The kpis read model: each order's and invoice's milestones, dated, from its own events; the rates
(4 places, half-up) and nearest-rank percentiles the answer is made of."""

from __future__ import annotations

from datetime import date
from decimal import Decimal as D

from domain import invoice, order
from projections.kpis import KPIS, days, hours, kpis_of, nearest_rank, rate
from tests.projections.fold import T0, fold, table
from tests.projections.test_receivables import credit_note, issued, paid

ORDERS = table(KPIS.tables, "kpi_orders")
INVOICES = table(KPIS.tables, "kpi_invoices")
MAR_2, MAR_9 = date(2026, 3, 2), date(2026, 3, 9)


def placed(order_id: str, channel: str = "web", **qty: int) -> order.OrderPlaced:
    lines = [
        order.PlacedLine(line_id=str(i), sku=sku, qty=n, unit_price=D("1.00"), amount=D(n))
        for i, (sku, n) in enumerate(qty.items(), 1)
    ]
    return order.OrderPlaced(
        order_id=order_id, customer_id="C1", channel=channel, warehouse_id=None, allow_backorder=True,
        lines=lines, total=D(sum(qty.values())), accepted_at=T0,
    )  # fmt: skip


def allocated(order_id: str, reason: str = "placement", **qty: int) -> order.OrderLinesAllocated:
    allocations = [
        order.LineAllocation(line_id=str(i), sku=sku, warehouse_id="W-A", qty=n)
        for i, (sku, n) in enumerate(qty.items(), 1)
        if n
    ]
    return order.OrderLinesAllocated(order_id=order_id, allocations=allocations, reason=reason)


def shipped(order_id: str, shipment_id: str, late: list[str], **qty: int) -> order.OrderShipmentRecorded:
    lines = [order.LineQty(line_id=str(i), sku=sku, qty=n) for i, (sku, n) in enumerate(qty.items(), 1) if n]
    return order.OrderShipmentRecorded(
        order_id=order_id, shipment_id=shipment_id, warehouse_id="W-A", lines=lines, late_line_ids=late
    )


def test_lines_are_filled_or_backordered_at_placement_and_a_later_fill_changes_nothing() -> None:
    rows = fold(
        ORDERS, [placed("SO-1", A=3, B=2, Z=0), allocated("SO-1", A=1, B=2), allocated("SO-1", "backorder_fill", A=2)]
    )
    row = rows[("SO-1",)]
    assert (row["day"], row["channel"], row["lines"], row["filled"], row["backordered"]) == (
        "2026-03-02",
        "web",
        2,
        1,
        1,
    )


def test_a_credit_hold_fills_nothing_and_backorders_nothing_and_is_dated_by_its_reason() -> None:
    held = order.OrderCreditHeld(
        order_id="SO-1", customer_id="C1", order_value=D("5"), exposure=D("5"), credit_limit=D("1"), reason="overdue"
    )
    row = fold(ORDERS, [placed("SO-1", A=3), held])[("SO-1",)]
    assert (row["filled"], row["backordered"], row["held"], row["held_day"]) == (0, 0, "overdue", "2026-03-02")


def test_the_first_shipment_dates_the_order_and_later_ones_add_the_lines_they_ship() -> None:
    events = [placed("SO-1", A=3, B=2), shipped("SO-1", "SH-1", ["1"], A=3), shipped("SO-1", "SH-2", [], A=0, B=2)]
    row = fold(ORDERS, events)[("SO-1",)]
    assert row["ship_day"] == "2026-03-02" and row["ship_seconds"] == 120  # fold: event n occurs n minutes after T0
    assert (row["shipped_lines"], row["late_lines"]) == ('["1", "2"]', '["1"]')


def test_an_invoice_counts_cash_days_from_issue_to_the_payment_that_closed_it() -> None:
    opened = invoice.InvoiceOpened(
        invoice_id="INV-1", order_id="SO-1", shipment_id="SH-1", customer_id="C1", tax_region="CA", lines=[],
        freight=D("0"), subtotal=D("10.00"), awaiting_proof=False,
    )  # fmt: skip
    events = [
        opened,
        issued("INV-1", 1, "10.00", MAR_2, MAR_2),
        paid("P-1", "4.00", date(2026, 3, 5), ("INV-1", "4.00")),
        paid("P-2", "6.00", MAR_9, ("INV-1", "6.00")),
    ]
    row = fold(INVOICES, events)[("INV-1",)]
    assert (row["issue_day"], row["issue_seconds"], row["cash_day"], row["cash_days"]) == (
        "2026-03-02",
        60,
        "2026-03-09",
        7,
    )


def test_an_invoice_closed_by_a_credit_note_has_no_cash_figure_and_a_dead_letter_is_dated_once() -> None:
    dead = invoice.InvoiceDeadLettered(invoice_id="INV-1", attempts=5, last_error="down")
    events = [
        dead,
        dead,
        issued("INV-1", 1, "10.00", MAR_2, MAR_2),
        credit_note("CN-1", "10.00", MAR_9, {"INV-1": "10.00"}, "0.00"),
    ]
    row = fold(INVOICES, events)[("INV-1",)]
    assert (row["dead_day"], row["cash_days"], row["open"]) == ("2026-03-02", None, D("0.00"))


def test_rates_are_half_up_to_4_places_and_percentiles_are_nearest_rank() -> None:
    assert (rate(7, 8), rate(2, 3), rate(1, 3), rate(1, 16), rate(0, 0)) == (
        "0.8750",
        "0.6667",
        "0.3333",
        "0.0625",
        None,
    )
    assert rate(1, 20000) == "0.0001"  # 0.00005: half-up
    values = [5, 1, 4, 2, 3, 10, 9, 8, 7, 6]
    assert (nearest_rank(values, 50), nearest_rank(values, 90), nearest_rank([], 50)) == (5, 9, None)
    assert nearest_rank([3], 90) == 3


def test_the_answer_adds_up_the_channels_and_leaves_out_a_channel_without_lines() -> None:
    exceptions = dict.fromkeys(
        ("price_mismatch", "credit_holds", "overdue_holds", "tax_dead_letters", "stock_shortfalls"), 0
    )
    body = kpis_of(
        MAR_2,
        MAR_9,
        {"web": (2, 3, 2, 1, 1), "edi": (1, 1, 1, 0, 0), "x": (1, 0, 0, 0, 1)},
        hours([3600, 7200]),
        hours([]),
        days([3]),
        (4, 1),
        exceptions,
    )
    assert (body["orders"], body["lines"], body["fill_rate"], body["backorder_rate"], body["cancelled_rate"]) == (
        4,
        4,
        "0.7500",
        "0.2500",
        "0.5000",
    )
    assert body["fill_rate_by_channel"] == {"edi": "1.0000", "web": "0.6667"}
    assert body["order_to_ship_hours"] == {"p50": 1.0, "p90": 2.0}
    assert body["ship_to_invoice_hours"] == {"p50": None, "p90": None}
    assert (body["invoice_to_cash_days"], body["promise_accuracy"]) == ({"p50": 3, "p90": 3}, "0.7500")
