"""The command endpoints of the bad-input table (test_bad_input.py), each with a body that would be
accepted, and how a bad request is written: `Bad`, and `bad`, `without` and `case` to make one."""

from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import Any

import pytest

MiB = 1024 * 1024
TOO_MANY = 1_000_000_001

# --- the endpoints, each with a body that would be accepted -------------------------------------

PRODUCT = ("PUT", "/v1/products/NEW-1", {"name": "New part", "unit_price": "12.50"})
WAREHOUSE = ("PUT", "/v1/warehouses/W-NEW", {"name": "New warehouse"})
CUSTOMER = (
    "PUT",
    "/v1/customers/C-NEW",
    {"name": "New customer", "credit_limit": "1000.00", "tax_region": "CA", "status": "active"},
)
PRICE = ("PUT", "/v1/customers/C1/prices/NUT-4", {"unit_price": "0.20"})
PRICE_LIST = (
    "PUT",
    "/v1/price-lists/PL-NEW",
    {
        "name": "Wholesale",
        "items": [
            {
                "sku": "BOLT-10",
                "unit_price": "8.00",
                "min_qty": 10,
                "valid_from": "2026-12-01",
                "valid_to": "2026-12-31",
            }
        ],
    },
)
RECEIPT = (
    "POST",
    "/v1/inventory/receipts",
    {"receipt_id": "R-NEW", "warehouse_id": "W-A", "lines": [{"sku": "BOLT-10", "qty": 1}]},
)
ADJUSTMENT = (
    "POST",
    "/v1/inventory/adjustments",
    {"adjustment_id": "A-NEW", "warehouse_id": "W-A", "sku": "BOLT-10", "qty_delta": 1, "reason": "found one"},
)
COUNT = (
    "POST",
    "/v1/inventory/counts",
    {"count_id": "K-NEW", "warehouse_id": "W-A", "sku": "BOLT-10", "counted_qty": 3},
)
TRANSFER = (
    "POST",
    "/v1/inventory/transfers",
    {"transfer_id": "T-NEW", "from_warehouse_id": "W-A", "to_warehouse_id": "W-B", "sku": "BOLT-10", "qty": 1},
)
RECEIVE = ("POST", "/v1/inventory/transfers/T-1/receive", {})
ORDER = (
    "POST",
    "/v1/orders",
    {"order_id": "SO-NEW", "customer_id": "C1", "channel": "web", "lines": [{"sku": "BOLT-10", "qty": 1}]},
)
CANCEL = ("POST", "/v1/orders/SO-1/cancel", {"reason": "customer changed their mind"})
SHIPMENT = (
    "POST",
    "/v1/shipments",
    {"shipment_id": "SH-NEW", "order_id": "SO-1", "warehouse_id": "W-A", "lines": [{"sku": "BOLT-10", "qty": 1}]},
)
DELIVERY = ("POST", "/v1/shipments/SH-1/delivery", {"delivered_at": "2026-11-26T10:00:00Z", "signed_by": "J. Doe"})

KEY = ("POST", "/v1/admin/keys", {"name": "portal-new", "scopes": ["read"], "customers": ["C1"]})
ENDPOINTS: dict[str, tuple[str, str, dict[str, Any]]] = {
    "put product": PRODUCT,
    "put warehouse": WAREHOUSE,
    "put customer": CUSTOMER,
    "put contract price": PRICE,
    "put price list": PRICE_LIST,
    "receipt": RECEIPT,
    "adjustment": ADJUSTMENT,
    "count": COUNT,
    "transfer": TRANSFER,
    "transfer receive": RECEIVE,
    "order": ORDER,
    "cancel": CANCEL,
    "shipment": SHIPMENT,
    "delivery": DELIVERY,
    "create key": KEY,
}
POSTS = {name: ep for name, ep in ENDPOINTS.items() if ep[0] == "POST"}


@dataclass(frozen=True)
class Bad:
    method: str
    path: str
    body: Any = None
    raw: bytes | None = None
    content_type: str | None = "application/json"
    headers: tuple[tuple[str, str], ...] = ()
    status: tuple[int, ...] = (422,)
    codes: tuple[str, ...] = ("invalid_request",)


def changed(body: dict[str, Any], path: str, value: Any) -> dict[str, Any]:
    """A deep copy of `body` with the dotted `path` (list indexes as numbers) set to `value`."""
    out = copy.deepcopy(body)
    target: Any = out
    *parents, last = path.split(".")
    for part in parents:
        target = target[int(part)] if part.isdigit() else target[part]
    target[int(last) if last.isdigit() else last] = value
    return out


def bad(endpoint: tuple[str, str, dict[str, Any]], field: str, value: Any, **kw: Any) -> Bad:
    method, path, body = endpoint
    return Bad(method, path, changed(body, field, value), **kw)


def without(endpoint: tuple[str, str, dict[str, Any]], field: str) -> Bad:
    method, path, body = endpoint
    out = copy.deepcopy(body)
    del out[field]
    return Bad(method, path, out)


def case(id_: str, b: Bad) -> Any:
    return pytest.param(b, id=id_)
