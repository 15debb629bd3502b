"""Billing over HTTP with a real tax engine (API.md "Billing", EXAMPLES.md 3): outages,
dead letters and retries, the circuit breaker, and built-in rates against the engine.
"""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime
from decimal import Decimal

import pytest

from tests.api import billing
from tests.api.billing import (
    Start,
    dead_letters,
    get_invoice,
    invoice_ids,
    invoices,
    invoices_in_feed,
    order,
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


# --- the engine down for a while -------------------------------------------------------------------


@pytest.mark.parametrize("failure", ["error", "hang"], ids=["answering 500", "hanging past the timeout"])
def test_while_the_tax_engine_is_down_business_goes_on_and_invoices_wait_then_all_are_issued_gap_free(
    start: Start, tax_engine: FakeTaxEngine, failure: str
) -> None:
    tax_engine.set_mode(failure)
    api = start(breaker_threshold=2, breaker_cooldown=0.2)
    seed(api)
    n = 4
    order(api, "SO-1", 2)
    ship(api, "SH-1", "SO-1", 2, freight="1.00")
    assert wait_until(lambda: tax_engine.call_count() >= 1, timeout=10), "the engine was never asked"
    for i in range(2, n + 1):  # the engine is known to be failing now: orders and shipments still go on
        assert order(api, f"SO-{i}", 2)["status"] == "allocated"
        ship(api, f"SH-{i}", f"SO-{i}", 2, freight="1.00")

    expected = [f"INV-SH-{i}" for i in range(1, n + 1)]
    assert wait_until(lambda: invoice_ids(api, status="awaiting_tax") == expected, timeout=10), invoices(api)
    assert wait_until(lambda: signals(api)["awaiting_tax"] == n, timeout=10), signals(api)
    for inv_id in expected:
        inv = get_invoice(api, inv_id)
        assert inv is not None and inv["status"] == "awaiting_tax" and "number" not in inv, inv
        assert inv["tax"] is None and inv["total"] is None, inv
    assert wait_until(lambda: (get_invoice(api, "INV-SH-1") or {}).get("last_tax_error"), timeout=10)

    tax_engine.set_mode("ok")
    assert wait_until(lambda: invoice_ids(api, status="issued") == expected, timeout=30), invoices(api)
    issued = invoices(api)
    assert sorted(i["invoice_id"] for i in issued) == expected  # exactly one invoice per shipment
    assert sorted(i["number"] for i in issued) == list(range(1, n + 1))  # no gaps, no duplicates
    for inv in issued:  # 2 x 12.49 + 1.00 freight = 25.98; x 0.0725 = 1.88355
        assert (inv["subtotal"], inv["freight"], inv["tax"], inv["total"]) == ("24.98", "1.00", "1.88", "27.86")
    assert invoices(api, status="awaiting_tax") == []
    assert wait_until(lambda: signals(api)["awaiting_tax"] == 0, timeout=10)
    assert signals(api)["dead_letters"] == 0
    assert invoices_in_feed(api, "InvoiceOpened") == Counter(dict.fromkeys(expected, 1))
    assert invoices_in_feed(api, "InvoiceIssued") == Counter(dict.fromkeys(expected, 1))
    assert tax_engine.problems == []


# --- the engine never recovers: dead letters ------------------------------------------------------


def test_an_engine_that_never_recovers_dead_letters_each_invoice_after_max_attempts_calls_then_a_retry_issues_it(
    start: Start, tax_engine: FakeTaxEngine
) -> None:
    tax_engine.set_mode("error")
    api = start(tax_max_attempts=3)  # breaker effectively off: every attempt reaches the engine
    seed(api)
    order(api, "SO-1", 4)
    ship(api, "SH-1", "SO-1", 2)
    ship(api, "SH-2", "SO-1", 2)
    ids = ["INV-SH-1", "INV-SH-2"]

    assert wait_until(lambda: sorted(d["id"] for d in dead_letters(api)) == ids, timeout=20), dead_letters(api)
    for entry in sorted(dead_letters(api), key=lambda d: d["id"]):
        assert {"id", "kind", "subject", "attempts", "last_error", "parked_at"} <= set(entry), entry
        assert entry["attempts"] == 3, entry  # the first call included
        assert entry["id"] in entry["subject"] and entry["kind"], entry
        assert "500" in entry["last_error"], entry
        datetime.fromisoformat(entry["parked_at"].replace("Z", "+00:00"))
    assert tax_engine.per_invoice() == Counter(dict.fromkeys(ids, 3))
    assert invoice_ids(api, status="dead_lettered") == ids
    assert [(get_invoice(api, i) or {}).get("status") for i in ids] == ["dead_lettered"] * 2
    assert wait_until(lambda: signals(api)["dead_letters"] == 2, timeout=10), signals(api)
    assert signals(api)["awaiting_tax"] == 0

    tax_engine.set_mode("ok")
    retried = ok(api.post("/v1/admin/dead-letters/INV-SH-1/retry", {}), 200)
    assert isinstance(retried["position"], int)
    inv = wait_invoice(api, "INV-SH-1", "issued")
    assert inv["number"] == 1 and inv["tax"] == "1.81"  # 24.98 x 0.0725 = 1.81105
    assert wait_until(lambda: [d["id"] for d in dead_letters(api)] == ["INV-SH-2"], timeout=10), dead_letters(api)
    assert wait_until(lambda: signals(api)["dead_letters"] == 1, timeout=10), signals(api)
    assert tax_engine.per_invoice() == Counter({"INV-SH-1": 4, "INV-SH-2": 3})  # SH-2 was left alone

    ok(api.post("/v1/admin/dead-letters/INV-SH-2/retry", {}), 200)
    assert wait_invoice(api, "INV-SH-2", "issued")["number"] == 2
    assert wait_until(lambda: dead_letters(api) == [], timeout=10), dead_letters(api)
    assert wait_until(lambda: signals(api)["dead_letters"] == 0, timeout=10)
    assert sorted(i["number"] for i in invoices(api)) == [1, 2]


def test_a_retry_while_the_engine_is_still_down_dead_letters_the_invoice_again_after_as_many_attempts(
    start: Start, tax_engine: FakeTaxEngine
) -> None:
    tax_engine.set_mode("error")
    api = start(tax_max_attempts=2)
    seed(api)
    order(api, "SO-1", 1)
    ship(api, "SH-1", "SO-1", 1)
    wait_invoice(api, "INV-SH-1", "dead_lettered")
    ok(api.post("/v1/admin/dead-letters/INV-SH-1/retry", {}), 200)
    assert wait_until(lambda: tax_engine.calls_for("INV-SH-1") == 4, timeout=20), tax_engine.per_invoice()
    wait_invoice(api, "INV-SH-1", "dead_lettered")
    parked = [("INV-SH-1", 2)]
    assert wait_until(lambda: [(d["id"], d["attempts"]) for d in dead_letters(api)] == parked, 10), dead_letters(api)
    assert tax_engine.calls_for("INV-SH-1") == 4


def test_a_retry_of_an_invoice_that_is_not_dead_lettered_is_refused(start: Start, tax_engine: FakeTaxEngine) -> None:
    api = start()
    seed(api)
    order(api, "SO-1", 1)
    shipped_and_issued(api, "SO-1", "SH-1", 1)
    problem(api.post("/v1/admin/dead-letters/INV-SH-1/retry", {}), 409, "not_dead_lettered")
    problem(api.post("/v1/admin/dead-letters/INV-NOPE/retry", {}), 404, "not_found")
    assert tax_engine.calls_for("INV-SH-1") == 1


# --- the circuit breaker ------------------------------------------------------------------------------


def test_with_a_breaker_threshold_of_2_the_engine_sees_no_more_calls_after_two_failures(
    start: Start, tax_engine: FakeTaxEngine
) -> None:
    tax_engine.set_mode("error")
    api = start(breaker_threshold=2, breaker_cooldown=600)
    seed(api)
    order(api, "SO-1", 3)
    for i in (1, 2, 3):
        ship(api, f"SH-{i}", "SO-1", 1)
    ids = ["INV-SH-1", "INV-SH-2", "INV-SH-3"]
    worker = service(api).tax_worker
    assert worker is not None
    assert wait_until(lambda: getattr(worker.tax, "state", None) == "open", timeout=10)
    assert wait_until(lambda: invoice_ids(api, status="awaiting_tax") == ids, timeout=10), invoices(api)
    for _ in range(3):  # every invoice is due again (short backoff): none of them reaches the engine
        assert wait_until(lambda: len(service(api).read.due_for_tax(datetime.now(UTC), 50)) == 3, 5)
        worker.run_due()
    assert tax_engine.call_count() == 2
    assert wait_until(lambda: signals(api)["awaiting_tax"] == 3, timeout=10)
    assert signals(api)["dead_letters"] == 0


# --- built-in rates vs the engine -------------------------------------------------------------------


def test_with_both_built_in_rates_and_an_engine_url_the_engine_computes_the_tax(
    start: Start, tax_engine: FakeTaxEngine
) -> None:
    tax_engine.rates = {"CA": Decimal("0.10")}
    api = start(tax_rates={"CA": Decimal("0.0725")})
    seed(api)
    order(api, "SO-1", 6)
    inv = shipped_and_issued(api, "SO-1", "SH-1", 4, freight="7.50")
    assert (inv["subtotal"], inv["freight"], inv["tax"], inv["total"]) == ("49.96", "7.50", "5.75", "63.21")
    assert tax_engine.calls == [
        {
            "invoice_id": "INV-SH-1",
            "customer_id": "CAL",
            "region": "CA",
            "currency": "USD",
            "lines": [{"sku": "WIDGET", "amount": "49.96"}],
            "freight": "7.50",
        }
    ]


def test_an_invoice_through_the_engine_matches_example_3_to_the_cent(start: Start, tax_engine: FakeTaxEngine) -> None:
    api = start()
    seed(api)
    order(api, "SO-1", 6)
    inv = shipped_and_issued(api, "SO-1", "SH-1", 4, freight="7.50")
    assert inv["lines"] == [{"sku": "WIDGET", "qty": 4, "unit_price": "12.49", "amount": "49.96"}]
    assert (inv["subtotal"], inv["freight"], inv["tax"], inv["total"]) == ("49.96", "7.50", "4.17", "61.63")
    assert (inv["kind"], inv["number"], inv["currency"], inv["paid"], inv["balance"]) == (
        "invoice",
        1,
        "USD",
        "0.00",
        "61.63",
    )
    assert (inv["order_id"], inv["shipment_id"], inv["customer_id"]) == ("SO-1", "SH-1", "CAL")


def test_invoice_lines_carry_the_orders_prices_including_contract_prices_line_by_line(
    start: Start, tax_engine: FakeTaxEngine
) -> None:
    api = start()
    seed(api)
    seed(api, sku="NUT-4", price="0.25")
    ok(api.put("/v1/customers/CAL/prices/WIDGET", {"unit_price": "11.00"}))
    body = {
        "order_id": "SO-1",
        "customer_id": "CAL",
        "channel": "edi",
        "lines": [{"sku": "WIDGET", "qty": 3}, {"sku": "NUT-4", "qty": 10}],
    }
    ok(api.post("/v1/orders", body))
    shipment = {
        "shipment_id": "SH-1",
        "order_id": "SO-1",
        "warehouse_id": "W-A",
        "lines": [{"sku": "WIDGET", "qty": 2}, {"sku": "NUT-4", "qty": 7}],
        "freight": "4.99",
    }
    ok(api.post("/v1/shipments", shipment))
    inv = wait_invoice(api, "INV-SH-1", "issued")
    assert sorted(inv["lines"], key=lambda ln: ln["sku"]) == [
        {"sku": "NUT-4", "qty": 7, "unit_price": "0.25", "amount": "1.75"},
        {"sku": "WIDGET", "qty": 2, "unit_price": "11.00", "amount": "22.00"},
    ]
    # (23.75 + 4.99) x 0.0725 = 2.08365
    assert (inv["subtotal"], inv["freight"], inv["tax"], inv["total"]) == ("23.75", "4.99", "2.08", "30.82")
    [call] = tax_engine.calls
    assert sorted(call["lines"], key=lambda ln: ln["sku"]) == [
        {"sku": "NUT-4", "amount": "1.75"},
        {"sku": "WIDGET", "amount": "22.00"},
    ]
    assert call["freight"] == "4.99"
