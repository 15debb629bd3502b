"""What the receivables tests over HTTP share: an app with built-in tax (CA 8.25%), a FixedClock on
the service, payment terms, and the story of an order shipped and invoiced for a customer."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import httpx
import pytest
from litestar.testing import TestClient

from api.app import create_app
from infra.clock import FixedClock
from infra.service import Service
from tests.conftest import Api, make_settings, wait_until
from tests.http import ok

ISSUE_DAY = date(2026, 3, 2)
TWO_10_NET_30 = {"name": "2/10 net 30", "net_days": 30, "discount_percent": "2.00", "discount_days": 10}


@pytest.fixture
def ar(database_url: str) -> Iterator[Api]:
    """The app on this test's database: tax CA=0.0825, overdue hold after 10 days, the clock at ISSUE_DAY."""
    settings = make_settings(database_url, tax_rates={"CA": Decimal("0.0825")}, overdue_hold_days=10)
    with TestClient(create_app(settings)) as client:
        api = Api(client)
        service(api).clock = FixedClock(datetime(ISSUE_DAY.year, ISSUE_DAY.month, ISSUE_DAY.day, 9, tzinfo=UTC))
        ok(api.put("/v1/warehouses/W-A", {"name": "A"}))
        ok(api.put("/v1/products/P100", {"name": "Pump", "unit_price": "100.00"}))
        ok(
            api.post(
                "/v1/inventory/receipts",
                {"receipt_id": "R-1", "warehouse_id": "W-A", "lines": [{"sku": "P100", "qty": 1000}]},
            )
        )
        ok(api.put("/v1/payment-terms/2-10-N30", TWO_10_NET_30))
        yield api


def service(api: Api) -> Service:
    svc: Service = api.client.app.state.service  # type: ignore[union-attr]
    return svc


def clock(api: Api) -> FixedClock:
    found = service(api).clock
    assert isinstance(found, FixedClock)
    return found


def customer(api: Api, customer_id: str, terms: str | None = "2-10-N30", limit: str = "100000.00") -> httpx.Response:
    body: dict[str, Any] = {"name": customer_id, "credit_limit": limit, "tax_region": "CA", "status": "active"}
    if terms is not None:
        body["payment_terms_id"] = terms
    return api.put(f"/v1/customers/{customer_id}", body)


def invoiced(api: Api, customer_id: str, ref: str, qty: int = 10, freight: str = "25.00") -> dict[str, Any]:
    """Order `qty` pumps for the customer, ship them with `freight`; the issued invoice INV-SH-<ref>."""
    order = {
        "order_id": f"SO-{ref}",
        "customer_id": customer_id,
        "channel": "web",
        "lines": [{"sku": "P100", "qty": qty}],
    }
    ok(api.post("/v1/orders", order))
    shipment = {"shipment_id": f"SH-{ref}", "order_id": f"SO-{ref}", "warehouse_id": "W-A",
                "lines": [{"sku": "P100", "qty": qty}], "freight": freight}  # fmt: skip
    ok(api.post("/v1/shipments", shipment))

    def issued() -> dict[str, Any] | None:
        r = api.get(f"/v1/invoices/INV-SH-{ref}")
        return r.json() if r.status_code == 200 and r.json()["status"] == "issued" else None

    found: dict[str, Any] | None = wait_until(issued, timeout=20)
    assert found is not None, api.get(f"/v1/invoices/INV-SH-{ref}").text
    return found


def pay(
    api: Api, payment_id: str, customer_id: str, amount: str, on: date | None = None, **extra: Any
) -> httpx.Response:
    body: dict[str, Any] = {"payment_id": payment_id, "customer_id": customer_id, "amount": amount, **extra}
    if on is not None:
        body["received_on"] = on.isoformat()
    return api.post("/v1/payments", body)


def balance(api: Api, customer_id: str, position: int) -> dict[str, Any]:
    return ok(api.get(f"/v1/customers/{customer_id}/balance", min_position=position), 200)
