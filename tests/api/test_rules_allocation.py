"""The API rules of allocation end to end, over HTTP, as API.md and EXAMPLES.md state them:
allocation across warehouses, backorder fill and cancellation."""

from __future__ import annotations

from infra.service import Service
from tests.api import rules
from tests.api.rules import atp, order_of, per_warehouse, stock
from tests.conftest import Api, settle, wait_until
from tests.http import line, ok, place, problem, read, receive

svc = rules.svc  # the fixture of tests/api/rules.py


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
