"""The API rules end to end, over HTTP, as API.md and EXAMPLES.md state them."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from litestar.testing import TestClient

from infra.service import Service
from tests.conftest import Api, settle, wait_until
from tests.http import line, ok, place, problem, read, receive

# --- helpers ------------------------------------------------------------------------------------


@pytest.fixture
def svc(client: TestClient[Any]) -> Service:
    service: Service = client.app.state.service
    return service


def order_of(api: Api, order_id: str, position: int | None = None) -> dict[str, Any]:
    return read(api, f"/v1/orders/{order_id}", position)


def atp(api: Api, sku: str, position: int | None = None, **params: Any) -> dict[str, Any]:
    return read(api, f"/v1/atp/{sku}", position, **params)


def per_warehouse(view: dict[str, Any]) -> dict[str, tuple[int, int, int]]:
    return {w["warehouse_id"]: (w["on_hand"], w["reserved"], w["available"]) for w in view["warehouses"]}


def stock(api: Api, sku: str = "BOLT-10", **by_warehouse: int) -> int:
    position = 0
    for wh, qty in by_warehouse.items():
        position = receive(api, f"R-{sku}-{wh}-{qty}", wh.replace("_", "-"), sku, qty)
    return position


def parse_time(text: str) -> datetime:
    value = datetime.fromisoformat(text.replace("Z", "+00:00"))
    assert value.tzinfo is not None, text
    return value


# --- pricing ------------------------------------------------------------------------------------


def test_a_line_is_priced_at_the_customers_contract_price_else_at_the_list_price(seeded: Api) -> None:
    api = seeded
    ok(api.put("/v1/customers/C1/prices/BOLT-10", {"unit_price": "7.75"}))
    assert read(api, "/v1/customers/C1/prices/BOLT-10")["unit_price"] == "7.75"

    body = ok(place(api, "SO-1", [line("BOLT-10", 2), line("NUT-4", 4)]))
    lines = {ln["sku"]: ln for ln in body["lines"]}
    assert (lines["BOLT-10"]["unit_price"], lines["BOLT-10"]["amount"]) == ("7.75", "15.50")
    assert (lines["NUT-4"]["unit_price"], lines["NUT-4"]["amount"]) == ("0.25", "1.00")
    assert (body["total"], body["currency"]) == ("16.50", "USD")

    other = ok(place(api, "SO-2", [line("BOLT-10", 2)], customer_id="C2"))
    assert (other["lines"][0]["unit_price"], other["total"]) == ("8.50", "17.00")

    sent_right = ok(place(api, "SO-3", [line("BOLT-10", 1, unit_price="7.75")]))
    assert sent_right["lines"][0]["unit_price"] == "7.75"


def test_a_line_sent_at_another_price_gets_price_mismatch_shaped_as_example_6(seeded: Api, svc: Service) -> None:
    api = seeded
    before = settle(svc)
    r = place(
        api,
        "SO-1",
        [line("NUT-4", 10, line_id="1", unit_price="0.25"), line("BOLT-10", 1, line_id="2", unit_price="10.00")],
    )
    p = problem(r, 422, "price_mismatch")
    assert p["type"] == "/problems/price_mismatch"
    assert (p["line_id"], p["sku"], p["expected_unit_price"]) == ("2", "BOLT-10", "8.50")
    assert p["lines"] == [{"line_id": "2", "sku": "BOLT-10", "sent": "10.00", "expected_unit_price": "8.50"}]
    assert settle(svc) == before
    problem(api.get("/v1/orders/SO-1"), 404, "not_found")


def test_price_mismatch_names_the_first_mismatch_on_top_and_lists_all_of_them(seeded: Api, svc: Service) -> None:
    api = seeded
    ok(api.put("/v1/customers/C1/prices/NUT-4", {"unit_price": "0.20"}))
    before = settle(svc)
    r = place(
        api,
        "SO-1",
        [
            line("NUT-4", 10, line_id="a", unit_price="0.25"),
            line("BOLT-10", 1, line_id="b", unit_price="9.00"),
        ],
    )
    p = problem(r, 422, "price_mismatch")
    assert (p["line_id"], p["sku"], p["expected_unit_price"]) == ("a", "NUT-4", "0.20")
    assert p["lines"] == [
        {"line_id": "a", "sku": "NUT-4", "sent": "0.25", "expected_unit_price": "0.20"},
        {"line_id": "b", "sku": "BOLT-10", "sent": "9.00", "expected_unit_price": "8.50"},
    ]
    assert settle(svc) == before


# --- acceptance rule 1 --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("customer_id", "lines", "status", "code"),
    [
        pytest.param("C-NOPE", [line("NOPE-1", 1)], 422, "unknown_customer", id="unknown customer is checked first"),
        pytest.param("C3", [line("NOPE-1", 1)], 422, "customer_blocked", id="blocked customer before unknown sku"),
        pytest.param("C1", [line("BOLT-10", 1), line("NOPE-1", 1)], 422, "unknown_sku", id="unknown sku"),
        pytest.param(
            "C1",
            [line("BOLT-10", 1, line_id="1"), line("BOLT-10", 2, line_id="2")],
            422,
            "invalid_request",
            id="the same sku twice",
        ),
    ],
)
def test_an_order_breaking_acceptance_rule_1_is_rejected_and_records_nothing(
    seeded: Api, svc: Service, customer_id: str, lines: list[dict[str, Any]], status: int, code: str
) -> None:
    api = seeded
    blocked = {"name": "Blocked", "credit_limit": "1000.00", "tax_region": "CA", "status": "blocked"}
    ok(api.put("/v1/customers/C3", blocked))
    stock(api, W_A=10)
    before = settle(svc)
    p = problem(place(api, "SO-1", lines, customer_id=customer_id), status, code)
    if code == "invalid_request":
        assert p["errors"] and all({"field", "message"} <= set(e) for e in p["errors"]), p
    assert settle(svc) == before
    problem(api.get("/v1/orders/SO-1"), 404, "not_found")
    assert atp(api, "BOLT-10")["reserved"] == 0


# --- credit hold (EXAMPLES.md section 4) --------------------------------------------------------


@pytest.fixture
def held(seeded: Api, svc: Service) -> dict[str, Any]:
    """C3 (limit 500.00) has 420.00 unbilled (SO-H0, 42 x PIPE-1 allocated); SO-H1 for 90.00 goes on hold."""
    api = seeded
    ok(api.put("/v1/products/PIPE-1", {"name": "Pipe", "unit_price": "10.00"}))
    ok(api.put("/v1/customers/C3", {"name": "Tight", "credit_limit": "500.00", "tax_region": "CA", "status": "active"}))
    receive(api, "R-P", "W-A", "PIPE-1", 50)
    first = ok(place(api, "SO-H0", [line("PIPE-1", 42)], customer_id="C3"))
    assert first["status"] == "allocated"
    r = place(api, "SO-H1", [line("PIPE-1", 9)], customer_id="C3")
    return ok(r)


def test_an_order_over_the_credit_limit_is_held_and_reserves_nothing(seeded: Api, held: dict[str, Any]) -> None:
    api = seeded
    assert held["status"] == "credit_hold"
    assert held["total"] == "90.00"
    ln = held["lines"][0]
    assert (ln["qty"], ln["allocated"], ln["backordered"], ln["shipped"], ln["cancelled"]) == (9, 0, 9, 0, 0)
    assert ln["allocations"] == []
    assert order_of(api, "SO-H1", held["position"])["status"] == "credit_hold"

    view = atp(api, "PIPE-1", held["position"])
    assert (view["on_hand"], view["reserved"], view["available"]) == (50, 42, 8)
    assert view["backordered"] == 0, "ATP backordered must exclude held orders"


def test_a_held_order_counts_as_unbilled_and_credit_available_goes_negative(seeded: Api, held: dict[str, Any]) -> None:
    balance = read(seeded, "/v1/customers/C3/balance", held["position"])
    assert balance["credit_limit"] == "500.00"
    assert balance["open_ar"] == "0.00"
    assert balance["unbilled"] == "510.00"
    assert balance["exposure"] == "510.00"
    assert balance["credit_available"] == "-10.00"


def test_an_order_exactly_at_the_credit_limit_is_not_held(seeded: Api) -> None:
    api = seeded
    ok(api.put("/v1/customers/C4", {"name": "Exact", "credit_limit": "17.00", "tax_region": "CA", "status": "active"}))
    stock(api, W_A=2)
    body = ok(place(api, "SO-1", [line("BOLT-10", 2)], customer_id="C4"))
    assert (body["total"], body["status"]) == ("17.00", "allocated")


def test_release_hold_needs_finance_write_and_then_allocates(seeded: Api, svc: Service, held: dict[str, Any]) -> None:
    api = seeded
    shop = svc.keys.create("shop", frozenset({"orders:write", "read"}))
    finance = svc.keys.create("finance", frozenset({"finance:write"}))
    before = settle(svc)
    problem(api.post("/v1/orders/SO-H1/release-hold", {}, key=shop), 403, "forbidden")
    assert settle(svc) == before

    body = ok(api.post("/v1/orders/SO-H1/release-hold", {}, key=finance), 200)
    assert isinstance(body["position"], int)
    ln = body["lines"][0]
    assert (ln["allocated"], ln["backordered"]) == (8, 1)
    assert ln["allocations"] == [{"warehouse_id": "W-A", "qty": 8}]
    assert body["status"] == "backordered"
    view = atp(api, "PIPE-1", body["position"])
    assert (view["on_hand"], view["reserved"], view["available"], view["backordered"]) == (50, 50, 0, 1)


# --- allocation (EXAMPLES.md section 1) ---------------------------------------------------------


def test_allocation_across_warehouses_matches_example_1_exactly(seeded: Api, svc: Service) -> None:
    api = seeded
    stock(api, W_A=6, W_B=6, W_C=2)
    first = ok(place(api, "SO-1", [line("BOLT-10", 9)]))
    ln = first["lines"][0]
    assert (ln["sku"], ln["qty"], ln["allocated"], ln["backordered"], ln["shipped"], ln["cancelled"]) == (
        "BOLT-10",
        9,
        9,
        0,
        0,
        0,
    )
    assert ln["allocations"] == [{"warehouse_id": "W-A", "qty": 6}, {"warehouse_id": "W-B", "qty": 3}]
    assert first["status"] == "allocated"

    view = atp(api, "BOLT-10", first["position"])
    assert (view["on_hand"], view["reserved"], view["available"], view["in_transit"]) == (14, 9, 5, 0)
    assert per_warehouse(view) == {"W-A": (6, 6, 0), "W-B": (6, 3, 3), "W-C": (2, 0, 2)}
    narrowed = atp(api, "BOLT-10", first["position"], warehouse_id="W-B")
    assert (narrowed["on_hand"], narrowed["reserved"], narrowed["available"]) == (6, 3, 3)

    before = settle(svc)
    p = problem(place(api, "SO-2", [line("BOLT-10", 6)], allow_backorder=False), 409, "insufficient_stock")
    assert p["lines"] == [{"sku": "BOLT-10", "requested": 6, "available": 5}]
    assert settle(svc) == before
    problem(api.get("/v1/orders/SO-2"), 404, "not_found")

    second = ok(place(api, "SO-2", [line("BOLT-10", 6)]))
    ln = second["lines"][0]
    assert ln["allocations"] == [{"warehouse_id": "W-B", "qty": 3}, {"warehouse_id": "W-C", "qty": 2}]
    assert (ln["allocated"], ln["backordered"]) == (5, 1)
    assert second["status"] == "backordered"
    view = atp(api, "BOLT-10", second["position"])
    assert (view["on_hand"], view["reserved"], view["available"], view["backordered"]) == (14, 14, 0, 1)


def test_without_backorders_a_short_order_gets_409_and_nothing_is_recorded(seeded: Api, svc: Service) -> None:
    api = seeded
    stock(api, W_A=3)
    stock(api, "NUT-4", W_B=100)
    before = settle(svc)
    r = place(api, "SO-1", [line("NUT-4", 10), line("BOLT-10", 4)], allow_backorder=False)
    p = problem(r, 409, "insufficient_stock")
    assert {"sku": "BOLT-10", "requested": 4, "available": 3} in p["lines"]
    assert all(set(x) >= {"sku", "requested", "available"} for x in p["lines"])
    assert settle(svc) == before
    assert atp(api, "NUT-4")["reserved"] == 0
    assert atp(api, "BOLT-10")["reserved"] == 0


# --- backorder fill (EXAMPLES.md section 2) -----------------------------------------------------


def test_backorders_fill_first_in_first_out_honouring_a_pinned_warehouse_as_example_2(
    seeded: Api, svc: Service
) -> None:
    api = seeded
    so1 = ok(place(api, "SO-1", [line("NUT-4", 5)], warehouse_id="W-A"))
    so2 = ok(place(api, "SO-2", [line("NUT-4", 3)]))
    for body, qty in ((so1, 5), (so2, 3)):
        assert body["status"] == "backordered"
        assert (body["lines"][0]["allocated"], body["lines"][0]["backordered"]) == (0, qty)
    assert atp(api, "NUT-4", so2["position"])["backordered"] == 8

    receive(api, "R-1", "W-B", "NUT-4", 4)
    assert wait_until(lambda: order_of(api, "SO-2")["lines"][0]["allocated"] == 3), order_of(api, "SO-2")
    head = settle(svc)
    so2 = order_of(api, "SO-2", head)
    assert so2["status"] == "allocated"
    assert so2["lines"][0]["allocations"] == [{"warehouse_id": "W-B", "qty": 3}]
    so1 = order_of(api, "SO-1", head)
    assert (so1["lines"][0]["allocated"], so1["lines"][0]["backordered"]) == (0, 5), "SO-1 is pinned to W-A"
    view = atp(api, "NUT-4", head)
    assert per_warehouse(view)["W-B"] == (4, 3, 1)
    assert view["backordered"] == 5

    receive(api, "R-2", "W-A", "NUT-4", 6)
    assert wait_until(lambda: order_of(api, "SO-1")["lines"][0]["allocated"] == 5), order_of(api, "SO-1")
    head = settle(svc)
    so1 = order_of(api, "SO-1", head)
    assert so1["status"] == "allocated"
    assert so1["lines"][0]["allocations"] == [{"warehouse_id": "W-A", "qty": 5}]
    view = atp(api, "NUT-4", head)
    assert per_warehouse(view) == {"W-A": (6, 5, 1), "W-B": (4, 3, 1)}
    assert (view["available"], view["backordered"]) == (2, 0)

    kinds = [e["type"] for e in read(api, "/v1/orders/SO-2/history", head)["events"]]
    assert len(kinds) >= 2, "the fill is part of the order's history"


# --- cancellation -------------------------------------------------------------------------------


def test_cancelling_releases_reservations_which_fill_other_backorders(seeded: Api, svc: Service) -> None:
    api = seeded
    stock(api, W_A=6, W_B=6, W_C=2)
    ok(place(api, "SO-1", [line("BOLT-10", 9)]))
    so2 = ok(place(api, "SO-2", [line("BOLT-10", 6)]))
    assert so2["lines"][0]["backordered"] == 1

    body = ok(api.post("/v1/orders/SO-1/cancel", {"reason": "changed mind"}), 200)
    assert body["status"] == "cancelled"
    ln = body["lines"][0]
    assert (ln["qty"], ln["allocated"], ln["backordered"], ln["shipped"], ln["cancelled"]) == (9, 0, 0, 0, 9)
    assert ln["allocations"] == []

    assert wait_until(lambda: order_of(api, "SO-2")["lines"][0]["allocated"] == 6), order_of(api, "SO-2")
    head = settle(svc)
    assert order_of(api, "SO-2", head)["status"] == "allocated"
    view = atp(api, "BOLT-10", head)
    assert (view["on_hand"], view["reserved"], view["available"], view["backordered"]) == (14, 6, 8, 0)


def test_cancelling_twice_answers_200_with_the_same_position_and_records_nothing(seeded: Api, svc: Service) -> None:
    api = seeded
    stock(api, W_A=5)
    ok(place(api, "SO-1", [line("BOLT-10", 3)]))
    first = api.post("/v1/orders/SO-1/cancel", {"reason": "x"})
    ok(first, 200)
    head = settle(svc)
    events = read(api, "/v1/orders/SO-1/history", head)["events"]

    second = api.post("/v1/orders/SO-1/cancel", {"reason": "x"})
    assert ok(second, 200) == first.json()
    assert second.json()["position"] == first.json()["position"]
    assert settle(svc) == head
    assert read(api, "/v1/orders/SO-1/history", head)["events"] == events
    view = atp(api, "BOLT-10", head)
    assert (view["reserved"], view["available"]) == (0, 5)


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


# --- reads --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "path",
    [
        "/v1/products/NOPE-1",
        "/v1/warehouses/W-NOPE",
        "/v1/customers/C-NOPE",
        "/v1/customers/C1/prices/NUT-4",
        "/v1/orders/SO-NOPE",
        "/v1/orders/SO-NOPE/history",
        "/v1/shipments/SH-NOPE",
    ],
)
def test_reading_something_unknown_answers_404_not_found(seeded: Api, path: str) -> None:
    problem(seeded.get(path), 404, "not_found")


def test_atp_of_an_unknown_sku_is_404_unknown_sku(seeded: Api) -> None:
    problem(seeded.get("/v1/atp/NOPE-1"), 404, "unknown_sku")


def test_atp_of_a_known_sku_never_stocked_is_all_zeros(seeded: Api) -> None:
    view = atp(seeded, "NUT-4")
    assert view["sku"] == "NUT-4"
    figures = ("on_hand", "reserved", "available", "in_transit", "backordered")
    assert {k: view[k] for k in figures} == dict.fromkeys(figures, 0)
    assert view["warehouses"] == []
    assert isinstance(view["position"], int)


# --- auth and public routes ---------------------------------------------------------------------


@pytest.mark.parametrize(
    "authorization",
    [
        pytest.param(None, id="no Authorization header"),
        pytest.param("Bearer not-a-real-key", id="an unknown key"),
        pytest.param("Bearer ", id="an empty bearer token"),
        pytest.param("Basic dXNlcjpwYXNz", id="another scheme"),
    ],
)
def test_a_request_without_a_valid_key_is_401_unauthenticated(
    seeded: Api, svc: Service, authorization: str | None
) -> None:
    api = seeded
    headers = {} if authorization is None else {"Authorization": authorization}
    problem(api.client.get("/v1/products/BOLT-10", headers=headers), 401, "unauthenticated")
    before = settle(svc)
    body = {"customer_id": "C1", "channel": "web", "lines": [line("BOLT-10", 1)]}
    problem(api.client.post("/v1/orders", json=body, headers=headers), 401, "unauthenticated")
    assert settle(svc) == before


def test_a_revoked_key_is_401_unauthenticated(seeded: Api, svc: Service) -> None:
    api = seeded
    key = svc.keys.create("temp", frozenset({"read"}))
    ok(api.get("/v1/products/BOLT-10", key=key), 200)
    assert svc.keys.revoke("temp")
    assert wait_until(lambda: api.get("/v1/products/BOLT-10", key=key).status_code == 401, timeout=2)
    problem(api.get("/v1/products/BOLT-10", key=key), 401, "unauthenticated")


@pytest.mark.parametrize(
    ("scopes", "method", "path", "body"),
    [
        pytest.param({"read"}, "PUT", "/v1/products/X-1", {"name": "x", "unit_price": "1.00"}, id="read cannot PUT"),
        pytest.param(
            {"read"},
            "POST",
            "/v1/inventory/receipts",
            {"receipt_id": "R-1", "warehouse_id": "W-A", "lines": [line("BOLT-10", 1)]},
            id="read cannot receive stock",
        ),
        pytest.param(
            {"catalog:write"},
            "POST",
            "/v1/orders",
            {"customer_id": "C1", "channel": "web", "lines": [line("BOLT-10", 1)]},
            id="catalog:write cannot place orders",
        ),
        pytest.param({"orders:write"}, "GET", "/v1/products/BOLT-10", None, id="a write scope does not imply read"),
        pytest.param(
            {"orders:write"},
            "POST",
            "/v1/shipments",
            {"shipment_id": "SH-1", "order_id": "SO-1", "warehouse_id": "W-A", "lines": [line("BOLT-10", 1)]},
            id="orders:write cannot ship",
        ),
        pytest.param({"orders:write"}, "POST", "/v1/orders/SO-1/release-hold", {}, id="release-hold needs finance"),
        pytest.param(
            {"finance:write", "read"},
            "POST",
            "/v1/orders",
            {"customer_id": "C1", "channel": "web", "lines": [line("BOLT-10", 1)]},
            id="finance:write cannot place orders",
        ),
    ],
)
def test_a_key_without_the_scope_is_403_forbidden(
    seeded: Api, svc: Service, scopes: set[str], method: str, path: str, body: Any
) -> None:
    api = seeded
    key = svc.keys.create("limited", frozenset(scopes))
    before = settle(svc)
    r = api.client.request(method, path, json=body, headers=api.headers(key=key))
    problem(r, 403, "forbidden")
    assert settle(svc) == before


@pytest.mark.parametrize("path", ["/healthz", "/readyz", "/schema/openapi.json"])
def test_operations_routes_answer_without_a_key(client: TestClient[Any], path: str) -> None:
    r = client.get(path)
    assert r.status_code == 200, r.text


def test_the_openapi_document_describes_the_v1_api(client: TestClient[Any]) -> None:
    doc = client.get("/schema/openapi.json").json()
    assert doc["openapi"].startswith("3.1")
    for path in ("/v1/orders", "/v1/inventory/receipts", "/v1/shipments", "/v1/atp/{sku}"):
        assert path in doc["paths"], sorted(doc["paths"])
