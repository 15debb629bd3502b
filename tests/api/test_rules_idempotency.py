"""The API rules every command follows, over HTTP, as API.md states them: idempotency keys,
positions and correlation ids."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import httpx
import pytest

from infra.service import Service
from tests.api import rules
from tests.api.rules import order_of, parse_time, stock
from tests.conftest import Api, settle
from tests.http import line, ok, place, problem, read

svc = rules.svc  # the fixture of tests/api/rules.py


# --- idempotency keys ---------------------------------------------------------------------------


def test_an_idempotency_key_replays_the_original_answer_byte_for_byte(seeded: Api, svc: Service) -> None:
    api = seeded
    stock(api, W_A=10)
    body = {"customer_id": "C1", "channel": "edi", "lines": [line("BOLT-10", 1)]}
    first = api.post("/v1/orders", body, headers={"Idempotency-Key": "k1"})
    created = ok(first)
    assert created["order_id"]
    head = settle(svc)

    again = api.post("/v1/orders", body, headers={"Idempotency-Key": "k1"})
    assert again.status_code == 201
    assert again.content == first.content
    assert settle(svc) == head
    listed = read(api, "/v1/orders", head, customer_id="C1")
    assert [o["order_id"] for o in listed["items"]] == [created["order_id"]]

    other = {**body, "lines": [line("BOLT-10", 2)]}
    problem(api.post("/v1/orders", other, headers={"Idempotency-Key": "k1"}), 422, "idempotency_key_reused")
    assert settle(svc) == head


@pytest.mark.parametrize(
    ("path", "body"),
    [
        pytest.param(
            "/v1/inventory/receipts",
            {"receipt_id": "R-9", "warehouse_id": "W-B", "lines": [line("NUT-4", 5)]},
            id="a receipt with its receipt_id",
        ),
        pytest.param(
            "/v1/orders",
            {"order_id": "SO-9", "customer_id": "C1", "channel": "web", "lines": [line("BOLT-10", 1)]},
            id="an order with its order_id",
        ),
    ],
)
def test_an_idempotency_key_on_a_command_with_a_business_id_replays_byte_for_byte(
    seeded: Api, svc: Service, path: str, body: dict[str, Any]
) -> None:
    api = seeded
    stock(api, W_A=10)
    first = api.post(path, body, headers={"Idempotency-Key": "k-biz"})
    ok(first)
    head = settle(svc)
    again = api.post(path, body, headers={"Idempotency-Key": "k-biz"})
    assert again.status_code == 201
    assert again.content == first.content
    same_id_no_key = api.post(path, body)
    assert same_id_no_key.status_code == 201
    assert same_id_no_key.json() == first.json()
    assert settle(svc) == head


# --- positions, correlation, history ------------------------------------------------------------


def test_every_command_response_has_an_integer_position(seeded: Api, svc: Service) -> None:
    api = seeded
    finance = svc.keys.create("finance", frozenset({"finance:write"}))
    low = {"name": "Low", "credit_limit": "1.00", "tax_region": "CA", "status": "active"}
    commands: list[tuple[str, httpx.Response, int]] = [
        ("put warehouse", api.put("/v1/warehouses/W-D", {"name": "D"}), 201),
        ("put warehouse again", api.put("/v1/warehouses/W-D", {"name": "D"}), 200),
        ("put product", api.put("/v1/products/GEAR-1", {"name": "Gear", "unit_price": "3.00"}), 201),
        ("put customer", api.put("/v1/customers/C-LOW", low), 201),
        ("put price", api.put("/v1/customers/C1/prices/GEAR-1", {"unit_price": "2.50"}), 201),
        (
            "receipt",
            api.post(
                "/v1/inventory/receipts",
                {"receipt_id": "R-1", "warehouse_id": "W-A", "lines": [line("GEAR-1", 20)]},
            ),
            201,
        ),
        (
            "adjustment",
            api.post(
                "/v1/inventory/adjustments",
                {"adjustment_id": "A-1", "warehouse_id": "W-A", "sku": "GEAR-1", "qty_delta": -1, "reason": "lost"},
            ),
            201,
        ),
        (
            "count",
            api.post(
                "/v1/inventory/counts",
                {"count_id": "K-1", "warehouse_id": "W-A", "sku": "GEAR-1", "counted_qty": 18},
            ),
            201,
        ),
        (
            "transfer",
            api.post(
                "/v1/inventory/transfers",
                {"transfer_id": "T-1", "from_warehouse_id": "W-A", "to_warehouse_id": "W-B", "sku": "GEAR-1", "qty": 2},
            ),
            201,
        ),
        ("transfer receive", api.post("/v1/inventory/transfers/T-1/receive", {}), 200),
        ("order", place(api, "SO-1", [line("GEAR-1", 4)]), 201),
        ("held order", place(api, "SO-2", [line("GEAR-1", 1)], customer_id="C-LOW"), 201),
        ("release-hold", api.post("/v1/orders/SO-2/release-hold", {}, key=finance), 200),
        (
            "shipment",
            api.post(
                "/v1/shipments",
                {"shipment_id": "SH-1", "order_id": "SO-1", "warehouse_id": "W-A", "lines": [line("GEAR-1", 4)]},
            ),
            201,
        ),
        ("delivery", api.post("/v1/shipments/SH-1/delivery", {"delivered_at": "2026-11-26T10:00:00Z"}), 200),
        ("cancel", api.post("/v1/orders/SO-2/cancel", {"reason": "no"}), 200),
    ]
    last = 0
    for name, r, status in commands:
        body = ok(r, status)
        position = body.get("position")
        assert isinstance(position, int) and not isinstance(position, bool), (name, body)
        assert position >= last, (name, position, last)
        if name != "put warehouse again":
            assert position > last, f"{name} recorded events but its position did not advance"
        last = position
    assert last <= settle(svc)


def test_the_correlation_id_is_echoed_and_recorded_on_events_with_the_actor(seeded: Api, svc: Service) -> None:
    api = seeded
    stock(api, W_A=10)
    r = api.post(
        "/v1/orders",
        {"order_id": "SO-1", "customer_id": "C1", "channel": "web", "lines": [line("BOLT-10", 3)]},
        headers={"X-Correlation-ID": "corr-test-1"},
    )
    ok(r)
    assert r.headers["x-correlation-id"] == "corr-test-1"

    shop = svc.keys.create("shop", frozenset({"orders:write"}))
    cancel = api.post("/v1/orders/SO-1/cancel", {"reason": "x"}, key=shop)
    ok(cancel, 200)
    generated = cancel.headers.get("x-correlation-id")
    assert generated and generated != "corr-test-1"

    head = settle(svc)
    events = read(api, "/v1/orders/SO-1/history", head)["events"]
    assert [e["version"] for e in events] == list(range(1, len(events) + 1))
    positions = [e["position"] for e in events]
    assert positions == sorted(positions) and len(set(positions)) == len(positions)
    for e in events:
        assert set(e) >= {
            "version",
            "type",
            "recorded_at",
            "position",
            "actor",
            "correlation_id",
            "causation_id",
            "data",
        }, e
        assert isinstance(e["type"], str) and e["type"]
        assert isinstance(e["data"], dict)
        assert parse_time(e["recorded_at"]) <= datetime.now(UTC)
        assert e["causation_id"] is None or isinstance(e["causation_id"], str)
    placed = [e for e in events if e["correlation_id"] == "corr-test-1"]
    assert placed and placed[0]["version"] == 1
    assert all(e["actor"] == "admin" for e in placed)
    cancelled = events[-1]
    assert (cancelled["correlation_id"], cancelled["actor"]) == (generated, "shop")


@pytest.mark.parametrize(
    ("path", "key"),
    [
        pytest.param("/healthz", None, id="health"),
        pytest.param("/v1/products/BOLT-10", "admin", id="a read"),
        pytest.param("/v1/orders/NOPE", "admin", id="a 404"),
        pytest.param("/v1/products/BOLT-10", "bad", id="a 401"),
    ],
)
def test_every_response_carries_a_correlation_id_echoed_or_generated(seeded: Api, path: str, key: str | None) -> None:
    api = seeded
    headers = {} if key is None else api.headers(key=None if key == "admin" else "not-a-key")
    generated = api.client.get(path, headers=headers)
    assert generated.headers.get("x-correlation-id")
    echoed = api.client.get(path, headers={**headers, "X-Correlation-ID": "abc-123"})
    assert echoed.headers.get("x-correlation-id") == "abc-123"


def test_an_order_can_be_read_as_it_stood_at_an_earlier_version(seeded: Api, svc: Service) -> None:
    api = seeded
    stock(api, W_A=10)
    ok(place(api, "SO-1", [line("BOLT-10", 9)]))
    ok(api.post("/v1/orders/SO-1/cancel", {"reason": "x"}), 200)
    head = settle(svc)
    events = read(api, "/v1/orders/SO-1/history", head)["events"]
    last = events[-1]["version"]

    v1 = read(api, "/v1/orders/SO-1", head, as_of_version=1)
    assert v1["order_id"] == "SO-1"
    assert v1["status"] != "cancelled"
    assert (v1["lines"][0]["qty"], v1["lines"][0]["cancelled"]) == (9, 0)

    before_cancel = read(api, "/v1/orders/SO-1", head, as_of_version=last - 1)
    assert before_cancel["status"] == "allocated"
    assert before_cancel["lines"][0]["allocated"] == 9

    assert read(api, "/v1/orders/SO-1", head, as_of_version=last)["status"] == "cancelled"
    assert order_of(api, "SO-1", head)["status"] == "cancelled"
