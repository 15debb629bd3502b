"""The API rules of moving stock end to end, over HTTP, as API.md states them: shipments,
transfers, counts, adjustments and receipts."""

from __future__ import annotations

from datetime import UTC, datetime

import httpx

from infra.service import Service
from tests.api import rules
from tests.api.rules import atp, order_of, parse_time, per_warehouse, stock
from tests.conftest import Api, settle
from tests.http import line, ok, place, problem, read

svc = rules.svc  # the fixture of tests/api/rules.py


# --- shipments ----------------------------------------------------------------------------------


def test_shipments_move_an_order_through_partially_shipped_shipped_and_delivered(seeded: Api, svc: Service) -> None:
    api = seeded
    stock(api, W_A=6, W_B=6, W_C=2)
    ok(place(api, "SO-1", [line("BOLT-10", 9)]))

    sh1 = ok(
        api.post(
            "/v1/shipments",
            {
                "shipment_id": "SH-1",
                "order_id": "SO-1",
                "warehouse_id": "W-A",
                "lines": [line("BOLT-10", 4)],
                "carrier": "UPS",
                "tracking": "1Z999",
                "freight": "7.50",
            },
        )
    )
    assert isinstance(sh1["position"], int)
    so = order_of(api, "SO-1", sh1["position"])
    assert so["status"] == "partially_shipped"
    ln = so["lines"][0]
    assert (ln["allocated"], ln["shipped"], ln["backordered"]) == (5, 4, 0)
    assert ln["allocations"] == [{"warehouse_id": "W-A", "qty": 2}, {"warehouse_id": "W-B", "qty": 3}]
    view = atp(api, "BOLT-10", sh1["position"])
    assert per_warehouse(view)["W-A"] == (2, 2, 0)
    assert (view["on_hand"], view["reserved"]) == (10, 5)

    before = settle(svc)
    too_many = {"shipment_id": "SH-2", "order_id": "SO-1", "warehouse_id": "W-B", "lines": [line("BOLT-10", 4)]}
    p = problem(api.post("/v1/shipments", too_many), 409, "exceeds_allocation")
    assert p["detail"]
    assert settle(svc) == before
    problem(api.get("/v1/shipments/SH-2"), 404, "not_found")

    ok(
        api.post(
            "/v1/shipments",
            {"shipment_id": "SH-2", "order_id": "SO-1", "warehouse_id": "W-A", "lines": [line("BOLT-10", 2)]},
        )
    )
    sh3 = ok(
        api.post(
            "/v1/shipments",
            {"shipment_id": "SH-3", "order_id": "SO-1", "warehouse_id": "W-B", "lines": [line("BOLT-10", 3)]},
        )
    )
    so = order_of(api, "SO-1", sh3["position"])
    assert so["status"] == "shipped"
    assert (so["lines"][0]["shipped"], so["lines"][0]["allocated"]) == (9, 0)

    before = settle(svc)
    problem(api.post("/v1/orders/SO-1/cancel", {"reason": "too late"}), 409, "order_shipped")
    assert settle(svc) == before

    d1 = ok(
        api.post("/v1/shipments/SH-1/delivery", {"delivered_at": "2026-11-26T10:00:00Z", "signed_by": "J. Doe"}),
        200,
    )
    assert parse_time(d1["delivered_at"]) == datetime(2026, 11, 26, 10, 0, tzinfo=UTC)
    assert d1["signed_by"] == "J. Doe"
    so = order_of(api, "SO-1", d1["position"])
    assert so["status"] == "shipped", "one of three shipments delivered"
    assert so["lines"][0]["delivered"] == 4

    ok(api.post("/v1/shipments/SH-2/delivery", {"delivered_at": "2026-11-26T12:00:00+02:00"}), 200)
    d3 = ok(api.post("/v1/shipments/SH-3/delivery", {"delivered_at": "2026-11-27T09:30:00Z"}), 200)
    so = order_of(api, "SO-1", d3["position"])
    assert so["status"] == "delivered"
    assert so["lines"][0]["delivered"] == 9

    shipment = read(api, "/v1/shipments/SH-1", d3["position"])
    for key in (
        "shipment_id",
        "order_id",
        "warehouse_id",
        "lines",
        "carrier",
        "tracking",
        "freight",
        "shipped_at",
        "delivered_at",
        "signed_by",
        "invoice_id",
    ):
        assert key in shipment, key
    assert (shipment["shipment_id"], shipment["order_id"], shipment["warehouse_id"]) == ("SH-1", "SO-1", "W-A")
    assert shipment["lines"] == [{"sku": "BOLT-10", "qty": 4}]
    assert (shipment["carrier"], shipment["tracking"], shipment["freight"]) == ("UPS", "1Z999", "7.50")
    assert parse_time(shipment["shipped_at"]) <= datetime.now(UTC)
    assert parse_time(shipment["delivered_at"]) == datetime(2026, 11, 26, 10, 0, tzinfo=UTC)
    assert shipment["signed_by"] == "J. Doe"
    sh2 = read(api, "/v1/shipments/SH-2", d3["position"])
    assert parse_time(sh2["delivered_at"]) == datetime(2026, 11, 26, 10, 0, tzinfo=UTC)
    assert sh2["freight"] == "0.00"


# --- transfers, counts, adjustments, receipts ---------------------------------------------------


def test_a_transfer_takes_stock_into_transit_and_receiving_it_moves_it(seeded: Api, svc: Service) -> None:
    api = seeded
    stock(api, W_A=10)
    t = {"transfer_id": "T-1", "from_warehouse_id": "W-A", "to_warehouse_id": "W-B", "sku": "BOLT-10", "qty": 4}
    started = ok(api.post("/v1/inventory/transfers", t))
    view = atp(api, "BOLT-10", started["position"])
    assert (view["on_hand"], view["in_transit"]) == (6, 4)
    assert per_warehouse(view)["W-A"] == (6, 0, 6)
    assert sum(w["in_transit"] for w in view["warehouses"]) == 4
    assert {w["warehouse_id"]: w["on_hand"] for w in view["warehouses"]}.get("W-B", 0) == 0

    arrived = ok(api.post("/v1/inventory/transfers/T-1/receive", {}), 200)
    view = atp(api, "BOLT-10", arrived["position"])
    assert (view["on_hand"], view["in_transit"], view["available"]) == (10, 0, 10)
    assert per_warehouse(view) == {"W-A": (6, 0, 6), "W-B": (4, 0, 4)}

    before = settle(svc)
    problem(api.post("/v1/inventory/transfers/T-1/receive", {}), 409, "already_received")
    assert settle(svc) == before

    ok(place(api, "SO-1", [line("BOLT-10", 5)], warehouse_id="W-A"))
    before = settle(svc)
    t2 = {"transfer_id": "T-2", "from_warehouse_id": "W-A", "to_warehouse_id": "W-C", "sku": "BOLT-10", "qty": 2}
    problem(api.post("/v1/inventory/transfers", t2), 409, "insufficient_stock")
    assert settle(svc) == before
    moved = ok(api.post("/v1/inventory/transfers", {**t2, "qty": 1}))
    view = atp(api, "BOLT-10", moved["position"])
    assert per_warehouse(view)["W-A"] == (5, 5, 0)


def test_a_count_records_the_difference_to_the_ledger(seeded: Api) -> None:
    api = seeded
    stock(api, W_A=10)
    down = ok(
        api.post("/v1/inventory/counts", {"count_id": "K-1", "warehouse_id": "W-A", "sku": "BOLT-10", "counted_qty": 7})
    )
    assert atp(api, "BOLT-10", down["position"])["on_hand"] == 7
    events = read(api, "/v1/inventory/W-A/BOLT-10/history", down["position"])["events"]
    assert events[-1]["data"]["qty_delta"] == -3

    up = ok(
        api.post(
            "/v1/inventory/counts", {"count_id": "K-2", "warehouse_id": "W-A", "sku": "BOLT-10", "counted_qty": 12}
        )
    )
    assert atp(api, "BOLT-10", up["position"])["on_hand"] == 12
    events = read(api, "/v1/inventory/W-A/BOLT-10/history", up["position"])["events"]
    assert events[-1]["data"]["qty_delta"] == 5


def test_an_adjustment_never_takes_on_hand_below_zero(seeded: Api, svc: Service) -> None:
    api = seeded
    stock(api, W_A=10)

    def adjust(adjustment_id: str, delta: int) -> httpx.Response:
        body = {"adjustment_id": adjustment_id, "warehouse_id": "W-A", "sku": "BOLT-10", "qty_delta": delta}
        return api.post("/v1/inventory/adjustments", {**body, "reason": "damaged"})

    assert atp(api, "BOLT-10", ok(adjust("A-1", -4))["position"])["on_hand"] == 6
    before = settle(svc)
    problem(adjust("A-2", -7), 409, "insufficient_stock")
    assert settle(svc) == before
    assert atp(api, "BOLT-10", ok(adjust("A-2", -6))["position"])["on_hand"] == 0
    assert atp(api, "BOLT-10", ok(adjust("A-3", 3))["position"])["on_hand"] == 3


def test_a_receipt_is_idempotent_on_its_receipt_id(seeded: Api, svc: Service) -> None:
    api = seeded
    body = {"receipt_id": "R-77", "warehouse_id": "W-A", "lines": [line("BOLT-10", 10)]}
    first = api.post("/v1/inventory/receipts", body)
    ok(first)
    head = settle(svc)
    again = api.post("/v1/inventory/receipts", body)
    assert again.status_code == 201
    assert again.content == first.content
    assert settle(svc) == head
    assert atp(api, "BOLT-10", head)["on_hand"] == 10

    changed = {**body, "lines": [line("BOLT-10", 11)]}
    problem(api.post("/v1/inventory/receipts", changed), 409, "duplicate_id")
    assert settle(svc) == head
    assert atp(api, "BOLT-10", head)["on_hand"] == 10


def test_an_order_id_seen_before_answers_the_original_or_409_duplicate_id(seeded: Api, svc: Service) -> None:
    api = seeded
    stock(api, W_A=10)
    first = place(api, "SO-1", [line("BOLT-10", 2)])
    ok(first)
    head = settle(svc)
    again = place(api, "SO-1", [line("BOLT-10", 2)])
    assert again.status_code == 201
    assert again.json() == first.json()
    assert settle(svc) == head
    problem(place(api, "SO-1", [line("BOLT-10", 3)]), 409, "duplicate_id")
    assert settle(svc) == head
    assert atp(api, "BOLT-10", head)["reserved"] == 2
