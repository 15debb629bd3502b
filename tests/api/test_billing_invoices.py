"""Invoices over HTTP (API.md "Billing"): one invoice per shipment however many workflow
runners race, the delivery trigger, and listing and history.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from tests.api import billing
from tests.api.billing import (
    Start,
    feed,
    get_invoice,
    invoice_ids,
    invoices,
    invoices_in_feed,
    order,
    pay,
    ret,
    seed,
    service,
    ship,
    shipped_and_issued,
    signals,
    wait_invoice,
)
from tests.conftest import wait_until
from tests.http import ok, problem
from tests.infra.tax_fakes import FakeTaxEngine

start, tax_engine = billing.start, billing.tax_engine  # the fixtures of tests/api/billing.py


# --- two workflow runners racing ------------------------------------------------------------------------


def test_two_service_instances_on_one_database_issue_exactly_one_invoice_per_shipment_numbered_gap_free(
    start: Start, tax_engine: FakeTaxEngine
) -> None:
    first = start()
    second = start()
    seed(first)
    n = 16
    for i in range(1, n + 1):
        api = first if i % 2 else second
        order(api, f"SO-{i}", 1)
        ship(api, f"SH-{i}", f"SO-{i}", 1)
    expected = [f"INV-SH-{i}" for i in range(1, n + 1)]
    for api in (first, second):
        assert wait_until(lambda api=api: invoice_ids(api, status="issued") == sorted(expected), timeout=30), invoices(
            api
        )
    issued = invoices(first)
    assert len(issued) == n
    assert sorted(i["number"] for i in issued) == list(range(1, n + 1))
    assert invoices_in_feed(first, "InvoiceOpened") == Counter(dict.fromkeys(expected, 1))
    assert invoices_in_feed(first, "InvoiceIssued") == Counter(dict.fromkeys(expected, 1))
    numbers = sorted(
        e["data"]["number"]
        for e in feed(first)
        if e["type"] == "o2c.NumberAssigned" and e["data"]["sequence"] == "invoices"
    )
    assert numbers == list(range(1, n + 1))


# --- the delivery trigger --------------------------------------------------------------------------------


def test_with_the_delivery_trigger_the_invoice_waits_for_proof_of_delivery_and_is_then_issued(
    start: Start, tax_engine: FakeTaxEngine
) -> None:
    api = start(billing_trigger="delivery")
    seed(api)
    order(api, "SO-1", 6)
    ship(api, "SH-1", "SO-1", 4, freight="7.50")

    def shipment_invoice() -> Any:
        return ok(api.get("/v1/shipments/SH-1"), 200)["invoice_id"]

    assert wait_until(shipment_invoice, timeout=10) == "INV-SH-1"
    inv = get_invoice(api, "INV-SH-1")
    assert inv is not None and inv["status"] == "awaiting_shipment_proof" and "number" not in inv, inv
    assert wait_until(lambda: invoice_ids(api, status="awaiting_shipment_proof") == ["INV-SH-1"], timeout=10)
    worker = service(api).tax_worker
    assert worker is not None and worker.run_due() == 0
    assert tax_engine.call_count() == 0
    assert signals(api)["awaiting_tax"] == 0
    assert (get_invoice(api, "INV-SH-1") or {}).get("status") == "awaiting_shipment_proof"
    problem(ret(api, "RMA-1", 1), 409, "not_invoiced")  # nothing to credit before the invoice is issued

    delivered = ok(api.post("/v1/shipments/SH-1/delivery", {"delivered_at": "2026-11-27T10:00:00Z"}), 200)
    assert delivered["invoice_id"] == "INV-SH-1"
    inv = wait_invoice(api, "INV-SH-1", "issued")
    assert (inv["number"], inv["tax"], inv["total"]) == (1, "4.17", "61.63")
    assert tax_engine.calls_for("INV-SH-1") == 1


def test_with_the_shipment_trigger_the_invoice_is_issued_without_proof_of_delivery(
    start: Start, tax_engine: FakeTaxEngine
) -> None:
    api = start(billing_trigger="shipment")
    seed(api)
    order(api, "SO-1", 1)
    inv = shipped_and_issued(api, "SO-1", "SH-1", 1)
    assert ok(api.get("/v1/shipments/SH-1"), 200)["delivered_at"] is None
    assert inv["number"] == 1


# --- listing and history -----------------------------------------------------------------------------


def test_invoices_are_listed_by_order_customer_and_status_and_have_a_history(
    start: Start, tax_engine: FakeTaxEngine
) -> None:
    api = start()
    seed(api)
    seed(api, "OTH")
    order(api, "SO-1", 2)
    order(api, "SO-2", 1, customer_id="OTH")
    shipped_and_issued(api, "SO-1", "SH-1", 1)
    shipped_and_issued(api, "SO-1", "SH-2", 1)
    shipped_and_issued(api, "SO-2", "SH-3", 1)
    ok(pay(api, "PAY-1", "13.40"))
    assert invoice_ids(api, order_id="SO-1") == ["INV-SH-1", "INV-SH-2"]
    assert invoice_ids(api, customer_id="OTH") == ["INV-SH-3"]
    assert wait_until(lambda: invoice_ids(api, status="paid") == ["INV-SH-1"], timeout=10)
    assert invoice_ids(api, status="issued") == ["INV-SH-2", "INV-SH-3"]
    assert invoice_ids(api, customer_id="CAL", status="issued") == ["INV-SH-2"]
    problem(api.get("/v1/invoices", status="settled"), 422, "invalid_request")
    problem(api.get("/v1/invoices/INV-NOPE"), 404, "not_found")

    events = ok(api.get("/v1/invoices/INV-SH-1/history"), 200)["events"]
    assert [e["type"] for e in events] == ["InvoiceOpened", "InvoiceIssued", "PaymentApplied"]
    assert [e["version"] for e in events] == [1, 2, 3]
    assert events[1]["data"]["number"] == 1
