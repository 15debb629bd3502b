"""Business KPIs of the order-to-cash cycle over HTTP on both stores, with a real tax engine: an order
shipped in two shipments, both invoices issued, one paid in full, one in part. The cycle figures
count what reached its later milestone; promise accuracy counts the shipped lines."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from tests.api import billing
from tests.api.billing import Start, order, pay, seed, shipped_and_issued
from tests.http import ok

start, tax_engine = billing.start, billing.tax_engine  # the fixtures of tests/api/billing.py


def test_cycle_times_count_the_shipped_the_issued_and_the_paid(start: Start) -> None:
    api = start()
    seed(api)
    order(api, "SO-1", 6)
    first = shipped_and_issued(api, "SO-1", "SH-1", 1)
    second = shipped_and_issued(api, "SO-1", "SH-2", 2)
    ok(pay(api, "P-1", first["total"], [{"invoice_id": "INV-SH-1", "amount": first["total"]}]))
    position = int(ok(pay(api, "P-2", "1.00", [{"invoice_id": "INV-SH-2", "amount": "1.00"}]))["position"])
    assert Decimal(second["total"]) > Decimal("1.00")  # INV-SH-2 stays open

    body: dict[str, Any] = ok(api.get("/v1/ops/kpis", min_position=position), 200)
    assert (body["orders"], body["lines"], body["fill_rate"], body["backorder_rate"]) == (1, 1, "1.0000", "0.0000")
    ship_hours, invoice_hours = body["order_to_ship_hours"], body["ship_to_invoice_hours"]
    assert (
        ship_hours["p50"] is not None and 0 <= ship_hours["p50"] == ship_hours["p90"]
    )  # one order: its first shipment
    assert invoice_hours["p50"] is not None and 0 <= invoice_hours["p50"] <= invoice_hours["p90"]  # two invoices
    assert body["invoice_to_cash_days"] == {"p50": 0, "p90": 0}  # INV-SH-1 paid the day it was issued; SH-2 still open
    assert body["promise_accuracy"] == "1.0000"  # never backordered: on time
    assert body["cancelled_rate"] == "0.0000"
