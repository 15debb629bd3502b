"""What the billing tests over HTTP (test_billing_*.py) share: the fixtures that start the app
with a real tax engine (`tax_engine`, `start`, `serve`; a test module takes them as its own with
`start = billing.start` and so on) and the commands and reads of a billing story.

The tax engine is `FakeTaxEngine` (tests/infra/tax_fakes.py), a real HTTP server on a free
local port. Every wait is bounded (`wait_until`); nothing asserts on how long something took.
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack
from decimal import Decimal
from typing import Any

import httpx
import pytest
from litestar.testing import TestClient

from api.app import create_app
from infra.service import Service
from tests.conftest import Api, _free_port, make_settings, wait_until
from tests.http import line, ok, place
from tests.infra.tax_fakes import FakeTaxEngine

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
