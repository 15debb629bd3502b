"""HTTP helpers that several test modules share: answers and problems checked, common commands."""

from __future__ import annotations

from typing import Any

import httpx

from tests.conftest import Api

PROBLEM_KEYS = ("type", "title", "status", "detail", "code")


def ok(r: httpx.Response, status: int | tuple[int, ...] = 201) -> dict[str, Any]:
    """The answer has this status (or one of these) and a JSON body (returned)."""
    accepted = (status,) if isinstance(status, int) else status
    assert r.status_code in accepted, r.text
    assert r.headers["content-type"].split(";")[0].strip() == "application/json", r.headers
    body: dict[str, Any] = r.json()
    return body


def problem(r: httpx.Response, status: int, code: str) -> dict[str, Any]:
    """The answer is an RFC 9457 problem document with this status and code (returned)."""
    assert r.status_code == status, r.text
    assert r.headers["content-type"].split(";")[0].strip() == "application/problem+json", r.headers
    body: dict[str, Any] = r.json()
    for key in PROBLEM_KEYS:
        assert key in body, body
    assert body["status"] == status
    assert body["code"] == code, body
    return body


def line(sku: str, qty: int, **extra: Any) -> dict[str, Any]:
    return {"sku": sku, "qty": qty, **extra}


def place(
    api: Api,
    order_id: str | None,
    lines: list[dict[str, Any]],
    customer_id: str = "C1",
    headers: dict[str, str] | None = None,
    **extra: Any,
) -> httpx.Response:
    body: dict[str, Any] = {"customer_id": customer_id, "channel": "web", "lines": lines, **extra}
    if order_id is not None:
        body["order_id"] = order_id
    return api.post("/v1/orders", body, headers=headers)


def receive(api: Api, receipt_id: str, warehouse_id: str, sku: str, qty: int) -> int:
    """Receive stock; returns the command's position."""
    body = ok(
        api.post(
            "/v1/inventory/receipts",
            {"receipt_id": receipt_id, "warehouse_id": warehouse_id, "lines": [{"sku": sku, "qty": qty}]},
        )
    )
    position: int = body["position"]
    return position


def read(api: Api, path: str, position: int | None = None, **params: Any) -> dict[str, Any]:
    """A GET answered 200, waiting for `position` when given."""
    if position:
        params["min_position"] = position
    return ok(api.get(path, **params), 200)
