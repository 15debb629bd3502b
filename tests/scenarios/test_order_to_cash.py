"""The whole order-to-cash path through the real HTTP app, to the cent (EXAMPLES.md §3)."""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import pytest
from litestar.testing import TestClient

from api.app import create_app
from tests.conftest import Api, make_settings, wait_until


@pytest.fixture
def ca_api(database_url: str) -> Iterator[Api]:
    settings = make_settings(database_url, tax_rates={"CA": Decimal("0.0725")})
    with TestClient(create_app(settings)) as client:
        yield Api(client)


def invoice_when(api: Api, invoice_id: str, status: str) -> dict[str, Any]:
    def ready() -> dict[str, Any] | None:
        r = api.get(f"/v1/invoices/{invoice_id}")
        return r.json() if r.status_code == 200 and r.json()["status"] == status else None

    found = wait_until(ready, timeout=10)
    assert found, api.get(f"/v1/invoices/{invoice_id}").text
    return found


def test_receive_order_ship_invoice_deliver_return_pay_ends_with_a_zero_balance(ca_api: Api) -> None:
    api = ca_api
    assert api.put("/v1/warehouses/W-A", {"name": "A"}).status_code == 201
    assert api.put("/v1/products/WIDGET", {"name": "Widget", "unit_price": "12.49"}).status_code == 201
    body = {"name": "Cal Co", "credit_limit": "1000.00", "tax_region": "CA", "status": "active"}
    assert api.put("/v1/customers/CAL", body).status_code == 201
    r = api.post(
        "/v1/inventory/receipts", {"receipt_id": "R-1", "warehouse_id": "W-A", "lines": [{"sku": "WIDGET", "qty": 10}]}
    )
    assert r.status_code == 201
    r = api.post(
        "/v1/orders",
        {"order_id": "SO-1", "customer_id": "CAL", "channel": "portal", "lines": [{"sku": "WIDGET", "qty": 6}]},
    )
    assert r.status_code == 201 and r.json()["status"] == "allocated"

    ship = {
        "shipment_id": "SH-1",
        "order_id": "SO-1",
        "warehouse_id": "W-A",
        "lines": [{"sku": "WIDGET", "qty": 4}],
        "freight": "7.50",
    }
    assert api.post("/v1/shipments", ship).status_code == 201
    inv = invoice_when(api, "INV-SH-1", "issued")
    assert inv["lines"] == [{"sku": "WIDGET", "qty": 4, "unit_price": "12.49", "amount": "49.96"}]
    assert (inv["subtotal"], inv["freight"], inv["tax"], inv["total"]) == ("49.96", "7.50", "4.17", "61.63")
    assert inv["number"] == 1 and inv["kind"] == "invoice" and inv["balance"] == "61.63"
    assert api.get("/v1/shipments/SH-1").json()["invoice_id"] == "INV-SH-1"
    order = api.get("/v1/orders/SO-1").json()
    assert order["status"] == "partially_shipped" and order["lines"][0]["invoiced"] == 4

    r = api.post("/v1/shipments/SH-1/delivery", {"delivered_at": "2026-11-27T10:00:00Z", "signed_by": "Dock 3"})
    assert r.status_code == 200 and r.json()["delivered_at"] == "2026-11-27T10:00:00Z"

    r = api.post(
        "/v1/returns",
        {
            "return_id": "RMA-1",
            "order_id": "SO-1",
            "warehouse_id": "W-A",
            "lines": [{"sku": "WIDGET", "qty": 1}],
            "restock": True,
        },
    )
    assert r.status_code == 201, r.text
    note = api.get("/v1/invoices/CN-RMA-1").json()
    assert note["kind"] == "credit_note" and note["status"] == "issued" and note["number"] == 1
    assert note["lines"] == [{"sku": "WIDGET", "qty": 1, "unit_price": "12.49", "amount": "-12.49"}]
    assert (note["subtotal"], note["tax"], note["total"]) == ("-12.49", "-0.91", "-13.40")
    atp = api.get("/v1/atp/WIDGET", min_position=r.json()["position"]).json()
    assert atp["on_hand"] == 7  # 10 received - 4 shipped + 1 restocked

    r = api.post("/v1/payments", {"payment_id": "PAY-1", "customer_id": "CAL", "amount": "48.23"})
    assert r.status_code == 201, r.text
    assert r.json()["applied"] == [{"invoice_id": "INV-SH-1", "amount": "48.23"}] and r.json()["unapplied"] == "0.00"
    assert api.get("/v1/invoices/INV-SH-1").json()["status"] == "paid"

    balance = api.get("/v1/customers/CAL/balance", min_position=r.json()["position"]).json()
    # 2 units still ordered and not invoiced: unbilled 24.98
    assert (balance["open_ar"], balance["unbilled"], balance["unapplied_credit"]) == ("0.00", "24.98", "0.00")
    r = api.post("/v1/orders/SO-1/cancel", {"reason": "rest not needed"})
    balance = api.get("/v1/customers/CAL/balance", min_position=r.json()["position"]).json()
    assert (balance["open_ar"], balance["unbilled"], balance["exposure"]) == ("0.00", "0.00", "0.00")
    history = api.get("/v1/orders/SO-1/history").json()["events"]
    assert [e["type"] for e in history][-1] == "OrderCancelled"
    assert "OrderReturnRecorded" in [e["type"] for e in history]
