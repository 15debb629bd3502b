"""What the read-side tests over HTTP (test_read_side*.py) share: receipts and orders that answer 201,
and reads that wait for a position."""

from __future__ import annotations

from typing import Any

from infra.service import Service
from projections import ALL
from tests.conftest import Api
from tests.http import line, ok, place

ZERO_LAG = {name: 0 for name in ALL}


def service_of(api: Api) -> Service:
    svc: Service = api.client.app.state.service  # type: ignore[union-attr]
    return svc


def receive(api: Api, receipt_id: str, warehouse_id: str, **lines: int) -> int:
    body = {
        "receipt_id": receipt_id,
        "warehouse_id": warehouse_id,
        "lines": [line(sku.replace("_", "-"), qty) for sku, qty in lines.items()],
    }
    return int(ok(api.post("/v1/inventory/receipts", body))["position"])


def order(api: Api, order_id: str, customer_id: str, lines: dict[str, int], **extra: Any) -> dict[str, Any]:
    return ok(place(api, order_id, [line(sku, qty) for sku, qty in lines.items()], customer_id, **extra))


def fresh(api: Api, path: str, position: int, **params: Any) -> dict[str, Any]:
    """GET with `min_position`; the answer reflects at least that position."""
    body = ok(api.get(path, min_position=position, **params), 200)
    assert body["position"] >= position
    return body


def figures(atp: dict[str, Any]) -> tuple[int, int, int, int]:
    return atp["on_hand"], atp["reserved"], atp["available"], atp["in_transit"]


def per_warehouse(atp: dict[str, Any]) -> dict[str, tuple[int, int, int, int]]:
    return {w["warehouse_id"]: figures(w) for w in atp["warehouses"]}


def statuses(api: Api, position: int, **params: Any) -> dict[str, str]:
    return {o["order_id"]: o["status"] for o in fresh(api, "/v1/orders", position, **params)["items"]}


def unbilled(api: Api, customer_id: str, position: int) -> str:
    return str(fresh(api, f"/v1/customers/{customer_id}/balance", position)["unbilled"])
