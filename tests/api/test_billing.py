"""Billing over HTTP with a real tax engine (API.md "Billing" and "Precise answers", EXAMPLES.md 3-4):
outages, dead letters and retries, the circuit breaker, racing workflow runners, the delivery
trigger, returns and credit notes, payments, balances, credit checks and scopes.

The tax engine is `FakeTaxEngine` (tests/infra/test_tax_engine.py), a real HTTP server on a free
local port. Every wait is bounded (`wait_until`); nothing asserts on how long something took.
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import httpx
import pytest
from litestar.testing import TestClient

from api.app import create_app
from infra.service import Service
from tests.conftest import Api, _free_port, make_settings, wait_until
from tests.http import line, ok, place, problem
from tests.infra.test_tax_engine import FakeTaxEngine

BALANCE_KEYS = {
    "customer_id",
    "currency",
    "credit_limit",
    "open_ar",
    "unbilled",
    "exposure",
    "credit_available",
    "unapplied_credit",
}
FAST = {
    "tax_timeout": 0.3,
    "tax_retry_base": 0.05,
    "tax_retry_max": 0.2,
    "tax_max_attempts": 50,
    "breaker_threshold": 1000,  # off unless a test turns it on
    "breaker_cooldown": 0.2,
}

Start = Callable[..., Api]


@pytest.fixture
def tax_engine() -> Iterator[FakeTaxEngine]:
    engine = FakeTaxEngine(rates={"CA": "0.0725"}).start()
    yield engine
    engine.stop()
    assert engine.problems == [], f"tax requests not in API.md's shape: {engine.problems}"


@pytest.fixture
def start(database_url: str, tax_engine: FakeTaxEngine) -> Iterator[Start]:
    """Start the app (API plus workers) on this test's database, asking `tax_engine` for tax."""
    with ExitStack() as stack:

        def _start(**overrides: Any) -> Api:
            settings = make_settings(database_url, **{**FAST, "tax_engine_url": tax_engine.url, **overrides})
            return Api(stack.enter_context(TestClient(create_app(settings))))

        yield _start


@pytest.fixture
def serve(database_url: str, tax_engine: FakeTaxEngine) -> Iterator[Callable[..., Api]]:
    """Serve the app with uvicorn on a free local port (for real concurrent requests); an Api on it."""
    import uvicorn

    with ExitStack() as stack:

        def _serve(**overrides: Any) -> Api:
            settings = make_settings(database_url, **{**FAST, "tax_engine_url": tax_engine.url, **overrides})
            port = _free_port()
            server = uvicorn.Server(
                uvicorn.Config(create_app(settings), host="127.0.0.1", port=port, log_level="warning")
            )
            thread = threading.Thread(target=server.run, daemon=True)
            thread.start()

            def stop() -> None:
                server.should_exit = True
                thread.join(15)

            stack.callback(stop)
            base = f"http://127.0.0.1:{port}"
            client = stack.enter_context(httpx.Client(base_url=base, timeout=60))
            assert wait_until(lambda: _healthy(client), timeout=15), "the server did not start"
            return Api(client)

        yield _serve


def _healthy(client: httpx.Client) -> bool:
    try:
        return client.get("/healthz").status_code == 200
    except httpx.HTTPError:
        return False


def concurrently(api: Api, calls: list[Callable[[Api], httpx.Response]]) -> list[httpx.Response]:
    """Each call in its own thread and connection, all released together."""
    barrier = threading.Barrier(len(calls), timeout=30)

    def run(call: Callable[[Api], httpx.Response]) -> httpx.Response:
        with httpx.Client(base_url=str(api.client.base_url), timeout=60) as client:
            mine = Api(client)
            mine.get("/healthz")
            barrier.wait()
            return call(mine)

    with ThreadPoolExecutor(max_workers=len(calls)) as pool:
        return list(pool.map(run, calls))


# --- helpers ----------------------------------------------------------------------------------------


def service(api: Api) -> Service:
    svc: Service = api.client.app.state.service  # type: ignore[union-attr]
    return svc


def seed(
    api: Api,
    customer_id: str = "CAL",
    *,
    limit: str = "100000.00",
    region: str = "CA",
    sku: str = "WIDGET",
    price: str = "12.49",
    stock: int = 100,
) -> None:
    if api.get("/v1/warehouses/W-A").status_code == 404:
        ok(api.put("/v1/warehouses/W-A", {"name": "A"}))
    if api.get(f"/v1/products/{sku}").status_code == 404:
        ok(api.put(f"/v1/products/{sku}", {"name": sku, "unit_price": price}))
        receipt = {"receipt_id": f"R-{sku}", "warehouse_id": "W-A", "lines": [{"sku": sku, "qty": stock}]}
        ok(api.post("/v1/inventory/receipts", receipt))
    body = {"name": f"Customer {customer_id}", "credit_limit": limit, "tax_region": region, "status": "active"}
    r = api.put(f"/v1/customers/{customer_id}", body)
    assert r.status_code in (200, 201), r.text


def order(api: Api, order_id: str, qty: int, customer_id: str = "CAL", sku: str = "WIDGET") -> dict[str, Any]:
    """Place an order of `qty` x `sku` (201); its answer."""
    return ok(place(api, order_id, [line(sku, qty)], customer_id))


def ship(
    api: Api, shipment_id: str, order_id: str, qty: int, freight: str = "0.00", sku: str = "WIDGET"
) -> dict[str, Any]:
    body = {
        "shipment_id": shipment_id,
        "order_id": order_id,
        "warehouse_id": "W-A",
        "lines": [{"sku": sku, "qty": qty}],
        "freight": freight,
    }
    return ok(api.post("/v1/shipments", body))


def get_invoice(api: Api, invoice_id: str) -> dict[str, Any] | None:
    r = api.get(f"/v1/invoices/{invoice_id}")
    return r.json() if r.status_code == 200 else None


def wait_invoice(api: Api, invoice_id: str, status: str, timeout: float = 20) -> dict[str, Any]:
    def ready() -> dict[str, Any] | None:
        inv = get_invoice(api, invoice_id)
        return inv if inv is not None and inv["status"] == status else None

    found: dict[str, Any] | None = wait_until(ready, timeout=timeout)
    assert found is not None, f"{invoice_id} is not {status}: {get_invoice(api, invoice_id)}"
    return found


def invoices(api: Api, **filters: Any) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = ok(api.get("/v1/invoices", limit=1000, **filters), 200)["items"]
    return items


def invoice_ids(api: Api, **filters: Any) -> list[str]:
    return sorted(i["invoice_id"] for i in invoices(api, **filters))


def signals(api: Api) -> dict[str, Any]:
    return ok(api.get("/v1/ops/signals"), 200)


def dead_letters(api: Api) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = ok(api.get("/v1/admin/dead-letters"), 200)["items"]
    return items


def balance(api: Api, customer_id: str = "CAL", position: int | None = None) -> dict[str, Any]:
    params = {} if position is None else {"min_position": position}
    body = ok(api.get(f"/v1/customers/{customer_id}/balance", **params), 200)
    assert BALANCE_KEYS <= set(body), body
    return body


def atp(api: Api, position: int, sku: str = "WIDGET") -> dict[str, Any]:
    return ok(api.get(f"/v1/atp/{sku}", min_position=position), 200)


def feed(api: Api) -> list[dict[str, Any]]:
    events: list[dict[str, Any]] = []
    after = 0
    while True:
        page = ok(api.get("/v1/events", after=after, limit=1000), 200)
        events.extend(page["events"])
        if page["next_after"] == after:
            return events
        after = page["next_after"]


def invoices_in_feed(api: Api, topic: str) -> Counter[str]:
    return Counter(e["data"]["invoice_id"] for e in feed(api) if e["type"] == f"o2c.{topic}")


def shipped_and_issued(api: Api, order_id: str, shipment_id: str, qty: int, freight: str = "0.00") -> dict[str, Any]:
    ship(api, shipment_id, order_id, qty, freight)
    return wait_invoice(api, f"INV-{shipment_id}", "issued")


def ret(api: Api, return_id: str, qty: int, restock: bool = True, order_id: str = "SO-1", **kw: Any) -> httpx.Response:
    body = {
        "return_id": return_id,
        "order_id": order_id,
        "warehouse_id": "W-A",
        "lines": [{"sku": "WIDGET", "qty": qty}],
        "restock": restock,
    }
    return api.post("/v1/returns", body, **kw)


def pay(
    api: Api, payment_id: str, amount: str, allocations: list[dict[str, str]] | None = None, customer_id: str = "CAL"
) -> httpx.Response:
    body: dict[str, Any] = {"payment_id": payment_id, "customer_id": customer_id, "amount": amount}
    if allocations is not None:
        body["allocations"] = allocations
    return api.post("/v1/payments", body)


def total_of(*amounts: str) -> str:
    return str(sum((Decimal(a) for a in amounts), Decimal("0.00")))


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


# --- returns and credit notes --------------------------------------------------------------------


@pytest.fixture
def invoiced(start: Start, tax_engine: FakeTaxEngine) -> Api:
    """EXAMPLES.md section 3: SO-1 for 6 x WIDGET (12.49), 4 shipped with freight 7.50 and invoiced."""
    api = start()
    seed(api, stock=10)
    order(api, "SO-1", 6)
    shipped_and_issued(api, "SO-1", "SH-1", 4, freight="7.50")
    return api


def test_a_return_gives_a_credit_note_to_the_cent_with_its_own_numbers_and_restock_puts_stock_back(
    invoiced: Api,
) -> None:
    api = invoiced
    before = atp(api, ok(api.get("/v1/invoices/INV-SH-1"), 200)["position"])
    assert (before["on_hand"], before["reserved"], before["available"]) == (6, 2, 4)

    body = ok(ret(api, "RMA-1", 1, restock=True))
    assert body["credit_note_id"] == "CN-RMA-1"
    note = ok(api.get("/v1/invoices/CN-RMA-1"), 200)
    assert (note["kind"], note["status"], note["number"], note["currency"]) == ("credit_note", "issued", 1, "USD")
    assert note["lines"] == [{"sku": "WIDGET", "qty": 1, "unit_price": "12.49", "amount": "-12.49"}]
    assert (note["subtotal"], note["tax"], note["total"]) == ("-12.49", "-0.91", "-13.40")
    after = atp(api, body["position"])
    assert (after["on_hand"], after["reserved"], after["available"]) == (7, 2, 5)
    assert ok(api.get("/v1/invoices/INV-SH-1"), 200)["balance"] == "48.23"
    assert balance(api, position=body["position"])["open_ar"] == "48.23"
    assert ok(api.get("/v1/orders/SO-1"), 200)["lines"][0]["returned"] == 1

    body = ok(ret(api, "RMA-2", 1, restock=False))
    note = ok(api.get("/v1/invoices/CN-RMA-2"), 200)
    assert (note["kind"], note["number"], note["total"]) == ("credit_note", 2, "-13.40")
    after = atp(api, body["position"])
    assert (after["on_hand"], after["available"]) == (7, 5)  # not restocked
    assert ok(api.get("/v1/orders/SO-1"), 200)["lines"][0]["returned"] == 2

    # Invoices keep their own sequence: the next one is 2, whatever the credit notes took.
    assert shipped_and_issued(api, "SO-1", "SH-2", 2)["number"] == 2
    kinds = {i["invoice_id"]: i["kind"] for i in invoices(api, order_id="SO-1")}
    assert kinds == {"INV-SH-1": "invoice", "INV-SH-2": "invoice", "CN-RMA-1": "credit_note", "CN-RMA-2": "credit_note"}


def test_returning_more_than_shipped_and_not_yet_returned_is_409_exceeds_shipped(invoiced: Api) -> None:
    api = invoiced
    problem(ret(api, "RMA-1", 5), 409, "exceeds_shipped")  # 6 ordered, 4 shipped
    ok(ret(api, "RMA-2", 3))
    problem(ret(api, "RMA-3", 2), 409, "exceeds_shipped")  # 1 left to return
    position = ok(ret(api, "RMA-4", 1))["position"]
    assert (atp(api, position)["on_hand"]) == 10  # 10 received, 4 shipped, 4 back
    assert get_invoice(api, "CN-RMA-1") is None and get_invoice(api, "CN-RMA-3") is None


def test_a_return_naming_the_same_sku_twice_cannot_bring_back_more_than_shipped(invoiced: Api) -> None:
    api = invoiced  # 4 shipped
    body = {
        "return_id": "RMA-1",
        "order_id": "SO-1",
        "warehouse_id": "W-A",
        "lines": [{"sku": "WIDGET", "qty": 3}, {"sku": "WIDGET", "qty": 3}],
        "restock": True,
    }
    r = api.post("/v1/returns", body)
    assert r.status_code in (409, 422), r.text
    assert r.json()["code"] in ("exceeds_shipped", "invalid_request"), r.json()
    assert ok(api.get("/v1/orders/SO-1"), 200)["lines"][0]["returned"] == 0
    assert get_invoice(api, "CN-RMA-1") is None


def test_a_return_id_is_idempotent_and_reused_with_another_payload_is_409_duplicate_id(invoiced: Api) -> None:
    api = invoiced
    first = ret(api, "RMA-1", 1)
    again = ret(api, "RMA-1", 1)
    assert (first.status_code, again.status_code) == (201, 201)
    assert again.json() == first.json()
    assert atp(api, again.json()["position"])["on_hand"] == 7  # restocked once
    problem(ret(api, "RMA-1", 2), 409, "duplicate_id")
    problem(ret(api, "RMA-1", 1, restock=False), 409, "duplicate_id")
    assert invoice_ids(api, order_id="SO-1") == ["CN-RMA-1", "INV-SH-1"]
    assert ok(api.get("/v1/invoices/INV-SH-1"), 200)["balance"] == "48.23"


def test_a_return_from_two_shipments_credits_the_oldest_invoice_first(start: Start) -> None:
    api = start()
    seed(api)
    order(api, "SO-1", 4)
    first = shipped_and_issued(api, "SO-1", "SH-1", 2)  # 24.98 + 1.81 = 26.79
    second = shipped_and_issued(api, "SO-1", "SH-2", 2)
    assert (first["total"], second["total"]) == ("26.79", "26.79")
    ok(ret(api, "RMA-1", 3))
    note = ok(api.get("/v1/invoices/CN-RMA-1"), 200)
    assert sum(ln["qty"] for ln in note["lines"]) == 3
    assert note["subtotal"] == "-37.47"
    assert note["tax"] == "-2.72"  # 37.47 x 1.81 / 24.98, rounded once
    assert note["total"] == "-40.19"
    inv_1 = ok(api.get("/v1/invoices/INV-SH-1"), 200)
    inv_2 = ok(api.get("/v1/invoices/INV-SH-2"), 200)
    assert inv_1["balance"] == "0.00"  # the oldest shipment's units came back first
    assert inv_2["balance"] == total_of("26.79", "-13.40")
    assert total_of(inv_1["credited"], inv_2["credited"]) == "40.19"


def test_a_return_before_the_invoice_is_issued_is_409_not_invoiced_and_records_nothing(
    start: Start, tax_engine: FakeTaxEngine
) -> None:
    tax_engine.set_mode("error")
    api = start()
    seed(api, stock=10)
    order(api, "SO-1", 4)
    head = ship(api, "SH-1", "SO-1", 4)["position"]
    assert wait_until(lambda: (get_invoice(api, "INV-SH-1") or {}).get("last_tax_error"), timeout=10)
    problem(ret(api, "RMA-1", 1), 409, "not_invoiced")
    assert (atp(api, head)["on_hand"], atp(api, head)["available"]) == (6, 6)
    assert ok(api.get("/v1/orders/SO-1"), 200)["lines"][0]["returned"] == 0
    assert get_invoice(api, "CN-RMA-1") is None

    tax_engine.set_mode("ok")
    wait_invoice(api, "INV-SH-1", "issued")
    body = ok(ret(api, "RMA-1", 1))  # the same return once the invoice is issued
    assert atp(api, body["position"])["on_hand"] == 7


# --- payments ----------------------------------------------------------------------------------------


@pytest.fixture
def three_invoices(start: Start) -> Api:
    """CAL has invoices 1, 2, 3 for 1, 2 and 3 x WIDGET: totals 13.40, 26.79, 40.19 (CA 0.0725)."""
    api = start()
    seed(api)
    order(api, "SO-1", 6)
    totals = [shipped_and_issued(api, "SO-1", f"SH-{q}", q)["total"] for q in (1, 2, 3)]
    assert totals == ["13.40", "26.79", "40.19"]
    assert [ok(api.get(f"/v1/invoices/INV-SH-{q}"), 200)["number"] for q in (1, 2, 3)] == [1, 2, 3]
    return api


def statuses(api: Api) -> list[tuple[str, str]]:
    return [(i["status"], i["balance"]) for i in (ok(api.get(f"/v1/invoices/INV-SH-{q}"), 200) for q in (1, 2, 3))]


def test_a_payment_without_allocations_goes_to_the_oldest_invoice_first_and_the_rest_is_unapplied_credit(
    three_invoices: Api,
) -> None:
    api = three_invoices
    assert balance(api)["open_ar"] == "80.38"
    body = ok(pay(api, "PAY-1", "20.00"))
    assert (body["payment_id"], body["customer_id"], body["amount"], body["currency"]) == (
        "PAY-1",
        "CAL",
        "20.00",
        "USD",
    )
    assert body["applied"] == [
        {"invoice_id": "INV-SH-1", "amount": "13.40"},
        {"invoice_id": "INV-SH-2", "amount": "6.60"},
    ]
    assert body["unapplied"] == "0.00"
    assert statuses(api) == [("paid", "0.00"), ("partially_paid", "20.19"), ("issued", "40.19")]
    assert ok(api.get("/v1/invoices/INV-SH-2"), 200)["paid"] == "6.60"

    body = ok(pay(api, "PAY-2", "100.00"))
    assert body["applied"] == [
        {"invoice_id": "INV-SH-2", "amount": "20.19"},
        {"invoice_id": "INV-SH-3", "amount": "40.19"},
    ]
    assert body["unapplied"] == "39.62"
    assert statuses(api) == [("paid", "0.00")] * 3
    bal = balance(api, position=body["position"])
    assert bal == {
        "customer_id": "CAL",
        "currency": "USD",
        "credit_limit": "100000.00",
        "open_ar": "0.00",
        "unbilled": "0.00",
        "exposure": "0.00",
        "credit_available": "100000.00",
        "unapplied_credit": "39.62",
    } | {k: v for k, v in bal.items() if k not in BALANCE_KEYS}

    body = ok(pay(api, "PAY-3", "50.00"))  # nothing open: all of it is credit
    assert (body["applied"], body["unapplied"]) == ([], "50.00")
    assert balance(api, position=body["position"])["unapplied_credit"] == "89.62"


def test_explicit_allocations_are_applied_as_given(three_invoices: Api) -> None:
    api = three_invoices
    allocations = [{"invoice_id": "INV-SH-3", "amount": "40.19"}, {"invoice_id": "INV-SH-1", "amount": "5.00"}]
    body = ok(pay(api, "PAY-1", "50.00", allocations))
    assert body["applied"] == allocations and body["unapplied"] == "4.81"
    assert statuses(api) == [("partially_paid", "8.40"), ("issued", "26.79"), ("paid", "0.00")]
    bal = balance(api, position=body["position"])
    assert (bal["open_ar"], bal["unapplied_credit"]) == ("35.19", "4.81")


NOT_FITTING: list[tuple[str, str, list[dict[str, str]] | None]] = [
    ("above the invoice balance", "20.00", [{"invoice_id": "INV-SH-1", "amount": "13.41"}]),
    (
        "summing above the amount",
        "10.00",
        [{"invoice_id": "INV-SH-1", "amount": "5.00"}, {"invoice_id": "INV-SH-2", "amount": "5.01"}],
    ),
    ("an unknown invoice", "10.00", [{"invoice_id": "INV-NOPE", "amount": "1.00"}]),
    ("another customer's invoice", "10.00", [{"invoice_id": "INV-SH-OTHER", "amount": "1.00"}]),
    ("an allocation of zero", "10.00", [{"invoice_id": "INV-SH-1", "amount": "0.00"}]),
    (
        "the same invoice twice",
        "10.00",
        [{"invoice_id": "INV-SH-1", "amount": "1.00"}, {"invoice_id": "INV-SH-1", "amount": "1.00"}],
    ),
    ("a payment of zero", "0.00", None),
    ("a payment of zero, allocated", "0.00", [{"invoice_id": "INV-SH-1", "amount": "0.00"}]),
]


def test_a_payment_whose_allocations_do_not_fit_is_422_invalid_allocation_and_records_nothing(
    three_invoices: Api,
) -> None:
    api = three_invoices
    seed(api, "OTH")
    order(api, "SO-OTH", 1, customer_id="OTH")
    shipped_and_issued(api, "SO-OTH", "SH-OTHER", 1)
    for case, amount, allocations in NOT_FITTING:
        r = pay(api, "PAY-1", amount, allocations)
        assert (r.status_code, r.json().get("code")) == (422, "invalid_allocation"), (case, r.text)
        problem(r, 422, "invalid_allocation")
    assert statuses(api) == [("issued", "13.40"), ("issued", "26.79"), ("issued", "40.19")]
    assert ok(api.get("/v1/invoices/INV-SH-OTHER"), 200)["paid"] == "0.00"
    body = ok(pay(api, "PAY-1", "1.00"))  # the payment id was not used up
    assert body["applied"] == [{"invoice_id": "INV-SH-1", "amount": "1.00"}]
    assert balance(api, position=body["position"])["open_ar"] == "79.38"


def test_a_payment_to_a_credit_note_of_a_negative_amount_or_for_an_unknown_customer_is_422(three_invoices: Api) -> None:
    api = three_invoices
    ok(ret(api, "RMA-1", 1, restock=True))
    allocations = [{"invoice_id": "CN-RMA-1", "amount": "1.00"}]
    problem(pay(api, "PAY-1", "10.00", allocations), 422, "invalid_allocation")
    assert ok(api.get("/v1/invoices/CN-RMA-1"), 200)["paid"] == "0.00"
    r = pay(api, "PAY-2", "-5.00")  # money may be written negative, but a payment must be > 0
    assert r.status_code == 422, r.text
    assert r.json()["code"] in ("invalid_allocation", "invalid_request"), r.json()
    problem(pay(api, "PAY-3", "10.00", customer_id="NOBODY"), 422, "unknown_customer")


def test_a_payment_id_is_idempotent_and_reused_with_another_payload_is_409_duplicate_id(three_invoices: Api) -> None:
    api = three_invoices
    first = pay(api, "PAY-1", "20.00")
    again = pay(api, "PAY-1", "20.00")
    assert (first.status_code, again.status_code) == (201, 201)
    assert again.json() == first.json()
    assert statuses(api)[:2] == [("paid", "0.00"), ("partially_paid", "20.19")]
    problem(pay(api, "PAY-1", "25.00"), 409, "duplicate_id")
    assert balance(api, position=again.json()["position"])["open_ar"] == "60.38"


def test_a_payment_right_after_an_invoice_is_issued_goes_to_it_even_while_the_read_models_lag(
    start: Start, tax_engine: FakeTaxEngine
) -> None:
    tax_engine.set_mode("error")
    api = start()
    seed(api)
    order(api, "SO-1", 1)
    ship(api, "SH-1", "SO-1", 1)
    assert wait_until(lambda: invoice_ids(api, status="awaiting_tax") == ["INV-SH-1"], timeout=10)
    runner = service(api).runner
    assert runner is not None
    runner.stop()  # the read models stop here, as a lagging `o2c worker` would; the tax worker goes on
    tax_engine.set_mode("ok")
    inv = wait_invoice(api, "INV-SH-1", "issued")  # GET /v1/invoices/{id} answers from the log
    assert inv["number"] == 1 and inv["balance"] == "13.40"
    body = ok(pay(api, "PAY-1", "10.00"))
    assert body["applied"] == [{"invoice_id": "INV-SH-1", "amount": "10.00"}], body
    assert body["unapplied"] == "0.00", body
    assert (get_invoice(api, "INV-SH-1") or {}).get("balance") == "3.40"


# --- concurrency ----------------------------------------------------------------------------------------


def test_concurrent_returns_never_take_back_more_than_shipped_and_credit_notes_stay_gap_free(
    serve: Callable[..., Api],
) -> None:
    api = serve()
    seed(api, stock=20)
    order(api, "SO-1", 12)
    shipped_and_issued(api, "SO-1", "SH-1", 8)
    calls = [lambda a, i=i: ret(a, f"RMA-{i}", 1) for i in range(1, 13)]
    answers = concurrently(api, calls)
    statuses_seen = Counter(r.status_code for r in answers)
    assert statuses_seen == {201: 8, 409: 4}, [f"{r.status_code} {r.text}" for r in answers]
    assert all(r.json()["code"] == "exceeds_shipped" for r in answers if r.status_code == 409)
    notes = [r.json()["credit_note_id"] for r in answers if r.status_code == 201]
    numbers = sorted(ok(api.get(f"/v1/invoices/{n}"), 200)["number"] for n in notes)
    assert numbers == list(range(1, 9))
    assert ok(api.get("/v1/orders/SO-1"), 200)["lines"][0]["returned"] == 8
    position = max(r.json()["position"] for r in answers if r.status_code == 201)
    assert atp(api, position)["on_hand"] == 20 - 8 + 8
    inv = ok(api.get("/v1/invoices/INV-SH-1"), 200)
    assert inv["balance"] == "0.00" and inv["credited"] == inv["total"]


def test_concurrent_payments_never_take_an_invoice_below_zero(serve: Callable[..., Api]) -> None:
    api = serve()
    seed(api)
    order(api, "SO-1", 6)
    for q in (1, 2, 3):
        shipped_and_issued(api, "SO-1", f"SH-{q}", q)  # 13.40 + 26.79 + 40.19 = 80.38
    answers = concurrently(api, [lambda a, i=i: pay(a, f"PAY-{i}", "10.00") for i in range(10)])
    assert [r.status_code for r in answers] == [201] * 10, [r.text for r in answers if r.status_code != 201]
    applied = Counter[str]()
    for r in answers:
        for a in r.json()["applied"]:
            applied[a["invoice_id"]] += 1
    assert total_of(*(a["amount"] for r in answers for a in r.json()["applied"])) == "80.38"
    assert total_of(*(r.json()["unapplied"] for r in answers)) == "19.62"
    assert statuses(api) == [("paid", "0.00")] * 3
    assert [ok(api.get(f"/v1/invoices/INV-SH-{q}"), 200)["paid"] for q in (1, 2, 3)] == ["13.40", "26.79", "40.19"]
    bal = balance(api, position=max(r.json()["position"] for r in answers))
    assert (bal["open_ar"], bal["unapplied_credit"]) == ("0.00", "19.62")


def test_the_same_payment_sent_many_times_at_once_is_applied_once(serve: Callable[..., Api]) -> None:
    api = serve()
    seed(api)
    order(api, "SO-1", 1)
    shipped_and_issued(api, "SO-1", "SH-1", 1)
    answers = concurrently(api, [lambda a: pay(a, "PAY-1", "5.00") for _ in range(8)])
    assert [r.status_code for r in answers] == [201] * 8, [r.text for r in answers]
    assert len({r.text for r in answers}) == 1
    inv = ok(api.get("/v1/invoices/INV-SH-1"), 200)
    assert (inv["paid"], inv["balance"]) == ("5.00", "8.40")


# --- credit check at order capture (EXAMPLES.md section 4) ----------------------------------------


def test_example_4_open_receivables_count_against_credit_at_order_capture(
    start: Start, tax_engine: FakeTaxEngine
) -> None:
    api = start()
    seed(api, "LIM", limit="500.00", region="OR", sku="P10", price="10.00")  # OR: the engine taxes nothing
    order(api, "SO-1", 32, customer_id="LIM", sku="P10")
    ship(api, "SH-1", "SO-1", 32, sku="P10")
    assert wait_invoice(api, "INV-SH-1", "issued")["total"] == "320.00"
    position = order(api, "SO-2", 10, customer_id="LIM", sku="P10")["position"]
    bal = balance(api, "LIM", position)
    assert (bal["open_ar"], bal["unbilled"], bal["exposure"], bal["credit_available"]) == (
        "320.00",
        "100.00",
        "420.00",
        "80.00",
    )

    held = order(api, "SO-3", 9, customer_id="LIM", sku="P10")
    assert held["status"] == "credit_hold" and held["total"] == "90.00"
    assert (held["lines"][0]["allocated"], held["lines"][0]["backordered"]) == (0, 9)
    bal = balance(api, "LIM", held["position"])
    assert (bal["credit_limit"], bal["open_ar"], bal["unbilled"], bal["exposure"], bal["credit_available"]) == (
        "500.00",
        "320.00",
        "190.00",
        "510.00",
        "-10.00",
    )

    paid = ok(pay(api, "PAY-1", "100.00", customer_id="LIM"))
    assert paid["applied"] == [{"invoice_id": "INV-SH-1", "amount": "100.00"}]
    bal = balance(api, "LIM", paid["position"])
    assert (bal["open_ar"], bal["exposure"], bal["credit_available"]) == ("220.00", "410.00", "90.00")
    accepted = order(api, "SO-4", 9, customer_id="LIM", sku="P10")  # 410 + 90 = 500: exactly at the limit
    assert accepted["status"] == "allocated"


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


# --- scopes ----------------------------------------------------------------------------------------


def test_returns_and_payments_need_finance_write_and_dead_letters_need_admin(
    start: Start, tax_engine: FakeTaxEngine
) -> None:
    api = start()
    seed(api)
    order(api, "SO-1", 2)
    shipped_and_issued(api, "SO-1", "SH-1", 2)
    keys = service(api).keys
    ops = keys.create("ops", frozenset({"orders:write", "shipments:write", "inventory:write", "read"}))
    finance = keys.create("finance", frozenset({"finance:write"}))
    reader = keys.create("reader", frozenset({"read"}))
    return_body = {
        "return_id": "RMA-1",
        "order_id": "SO-1",
        "warehouse_id": "W-A",
        "lines": [{"sku": "WIDGET", "qty": 1}],
        "restock": True,
    }
    payment_body = {"payment_id": "PAY-1", "customer_id": "CAL", "amount": "5.00"}

    for key in (ops, reader):
        problem(api.post("/v1/returns", return_body, key=key), 403, "forbidden")
        problem(api.post("/v1/payments", payment_body, key=key), 403, "forbidden")
    for key in (ops, reader, finance):
        problem(api.get("/v1/admin/dead-letters", key=key), 403, "forbidden")
        problem(api.post("/v1/admin/dead-letters/INV-SH-1/retry", {}, key=key), 403, "forbidden")
    problem(api.client.post("/v1/payments", json=payment_body), 401, "unauthenticated")
    problem(api.client.get("/v1/admin/dead-letters"), 401, "unauthenticated")
    problem(api.get("/v1/invoices/INV-SH-1", key=finance), 403, "forbidden")  # write scopes do not imply read
    assert get_invoice(api, "CN-RMA-1") is None
    assert ok(api.get("/v1/invoices/INV-SH-1", key=reader), 200)["paid"] == "0.00"

    ok(api.post("/v1/returns", return_body, key=finance))
    ok(api.post("/v1/payments", payment_body, key=finance))
    assert ok(api.get("/v1/admin/dead-letters"), 200)["items"] == []
