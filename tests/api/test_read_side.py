"""The read side over HTTP: read-your-writes, ATP and order lists. The event feed is in
test_read_side_feed.py; signals, rebuilds and readiness are in test_read_side_signals.py."""

from __future__ import annotations

import time

from litestar.testing import TestClient

from api.app import create_app
from infra.settings import Settings
from tests.api.read_side import figures, fresh, order, per_warehouse, receive, statuses, unbilled
from tests.conftest import Api, make_settings, seed, wait_until
from tests.http import ok

# --- read-your-writes ---------------------------------------------------------------------------


def test_a_commands_position_as_min_position_always_shows_the_commands_effect(seeded: Api, settings: Settings) -> None:
    """Read through the writing app and through a second app on the same database that runs no
    workers of its own (so only `min_position` makes it wait for the writer's projections)."""
    api = seeded
    with TestClient(create_app(settings, workers=False)) as client:
        readers = (api, Api(client))

        p = receive(api, "R-1", "W-A", BOLT_10=6)
        for r in readers:
            assert figures(fresh(r, "/v1/atp/BOLT-10", p)) == (6, 0, 6, 0)

        receive(api, "R-2", "W-B", BOLT_10=6)
        p = receive(api, "R-3", "W-C", BOLT_10=2)
        for r in readers:
            assert figures(fresh(r, "/v1/atp/BOLT-10", p)) == (14, 0, 14, 0)

        p = order(api, "SO-1", "C1", {"BOLT-10": 9})["position"]
        for r in readers:
            atp = fresh(r, "/v1/atp/BOLT-10", p)
            assert figures(atp) == (14, 9, 5, 0)
            assert per_warehouse(atp) == {"W-A": (6, 6, 0, 0), "W-B": (6, 3, 3, 0), "W-C": (2, 0, 2, 0)}
            assert statuses(r, p) == {"SO-1": "allocated"}
            assert unbilled(r, "C1", p) == "76.50"

        shipment = {
            "shipment_id": "SH-1",
            "order_id": "SO-1",
            "warehouse_id": "W-A",
            "lines": [{"sku": "BOLT-10", "qty": 6}],
        }
        p = ok(api.post("/v1/shipments", shipment))["position"]
        for r in readers:
            assert figures(fresh(r, "/v1/atp/BOLT-10", p)) == (8, 3, 5, 0)
            assert statuses(r, p) == {"SO-1": "partially_shipped"}

        p = order(api, "SO-2", "C2", {"NUT-4": 10})["position"]
        for r in readers:
            assert fresh(r, "/v1/atp/NUT-4", p)["backordered"] == 10
            assert statuses(r, p, customer_id="C2") == {"SO-2": "backordered"}
            assert unbilled(r, "C2", p) == "2.50"

        p = ok(api.post("/v1/orders/SO-2/cancel", {"reason": "no longer needed"}), 200)["position"]
        for r in readers:
            assert fresh(r, "/v1/atp/NUT-4", p)["backordered"] == 0
            assert statuses(r, p, customer_id="C2") == {"SO-2": "cancelled"}
            assert unbilled(r, "C2", p) == "0.00"

        count = {"count_id": "CNT-1", "warehouse_id": "W-B", "sku": "BOLT-10", "counted_qty": 4}
        p = ok(api.post("/v1/inventory/counts", count))["position"]
        for r in readers:
            assert per_warehouse(fresh(r, "/v1/atp/BOLT-10", p))["W-B"] == (4, 3, 1, 0)

        transfer = {
            "transfer_id": "T-1",
            "from_warehouse_id": "W-C",
            "to_warehouse_id": "W-A",
            "sku": "BOLT-10",
            "qty": 2,
        }
        p = ok(api.post("/v1/inventory/transfers", transfer))["position"]
        for r in readers:
            atp = fresh(r, "/v1/atp/BOLT-10", p)
            assert (atp["on_hand"], atp["in_transit"]) == (4, 2)
            assert per_warehouse(atp)["W-A"] == (0, 0, 0, 2)
            assert per_warehouse(atp)["W-C"] == (0, 0, 0, 0)

        p = ok(api.post("/v1/inventory/transfers/T-1/receive", {}), 200)["position"]
        for r in readers:
            assert per_warehouse(fresh(r, "/v1/atp/BOLT-10", p))["W-A"] == (2, 0, 2, 0)

        adjustment = {
            "adjustment_id": "ADJ-1",
            "warehouse_id": "W-A",
            "sku": "BOLT-10",
            "qty_delta": -1,
            "reason": "damaged",
        }
        p = ok(api.post("/v1/inventory/adjustments", adjustment))["position"]
        for r in readers:
            assert figures(fresh(r, "/v1/atp/BOLT-10", p, warehouse_id="W-A")) == (1, 0, 1, 0)

        p = ok(api.post("/v1/orders/SO-1/cancel", {"reason": "rest not needed"}), 200)["position"]
        for r in readers:
            assert figures(fresh(r, "/v1/atp/BOLT-10", p)) == (5, 0, 5, 0)
            assert statuses(r, p, customer_id="C1") == {"SO-1": "shipped"}  # all non-cancelled qty shipped
            # 6 shipped x 8.50 count against credit, unbilled or (once invoiced, within seconds) open AR
            assert fresh(r, "/v1/customers/C1/balance", p)["exposure"] == "51.00"


def test_a_min_position_the_read_models_do_not_reach_answers_503_stale_read_model(database_url: str) -> None:
    with TestClient(create_app(make_settings(database_url, min_position_wait=0.3))) as client:
        api = Api(client)
        seed(api)
        far = 10**9
        for path, params in (
            ("/v1/atp/BOLT-10", {}),
            ("/v1/atp", {"skus": "BOLT-10,NUT-4"}),
            ("/v1/orders", {}),
            ("/v1/customers/C1/balance", {}),
            ("/v1/ops/signals", {}),
        ):
            started = time.monotonic()
            r = api.get(path, min_position=far, **params)
            assert r.status_code == 503, (path, r.text)
            assert r.headers["content-type"].startswith("application/problem+json")
            assert r.json()["code"] == "stale_read_model"
            assert int(r.headers["retry-after"]) >= 0
            assert 0.25 <= time.monotonic() - started < 3, path
        assert api.get("/v1/atp/BOLT-10", min_position=1).status_code == 200


# --- ATP ------------------------------------------------------------------------------------------


def test_atp_for_several_skus_answers_items_in_the_order_asked_and_404_for_an_unknown_one(seeded: Api) -> None:
    api = seeded
    receive(api, "R-1", "W-A", BOLT_10=6, NUT_4=100)
    p = receive(api, "R-2", "W-B", BOLT_10=4)

    body = fresh(api, "/v1/atp", p, skus="NUT-4,BOLT-10")
    assert [(a["sku"], a["on_hand"]) for a in body["items"]] == [("NUT-4", 100), ("BOLT-10", 10)]
    body = fresh(api, "/v1/atp", p, skus="BOLT-10,NUT-4")
    assert [a["sku"] for a in body["items"]] == ["BOLT-10", "NUT-4"]
    assert body["items"][0] == {**fresh(api, "/v1/atp/BOLT-10", p), "position": body["items"][0]["position"]}

    p = ok(api.put("/v1/products/WASHER-8", {"name": "Washer", "unit_price": "0.05"}))["position"]
    never_stocked = fresh(api, "/v1/atp/WASHER-8", p)
    assert (figures(never_stocked), never_stocked["backordered"], never_stocked["warehouses"]) == ((0, 0, 0, 0), 0, [])

    several = api.get("/v1/atp", skus="BOLT-10,NOPE-1")
    one = api.get("/v1/atp/NOPE-1")
    assert [(r.status_code, r.json()["code"]) for r in (several, one)] == [(404, "unknown_sku")] * 2


def test_a_warehouse_filter_narrows_the_atp_figures_to_that_warehouse(seeded: Api) -> None:
    api = seeded
    receive(api, "R-1", "W-A", BOLT_10=6)
    receive(api, "R-2", "W-B", BOLT_10=4)
    p = order(api, "SO-1", "C1", {"BOLT-10": 3}, warehouse_id="W-B")["position"]
    p = order(api, "SO-2", "C1", {"BOLT-10": 5}, warehouse_id="W-B")["position"]  # 1 allocated, 4 backordered

    everywhere = fresh(api, "/v1/atp/BOLT-10", p)
    at_b = fresh(api, "/v1/atp/BOLT-10", p, warehouse_id="W-B")
    at_a = fresh(api, "/v1/atp/BOLT-10", p, warehouse_id="W-A")
    assert (figures(everywhere), everywhere["backordered"]) == ((10, 4, 6, 0), 4)
    assert (figures(at_b), at_b["backordered"]) == ((4, 4, 0, 0), 4)
    assert (figures(at_a), at_a["backordered"]) == ((6, 0, 6, 0), 0)
    assert [w["warehouse_id"] for w in at_a["warehouses"]] == ["W-A", "W-B"]
    listed = fresh(api, "/v1/atp", p, skus="BOLT-10", warehouse_id="W-B")["items"]
    assert figures(listed[0]) == (4, 4, 0, 0)


# --- orders list ----------------------------------------------------------------------------------


def test_the_order_list_filters_by_customer_and_status_and_pages_with_a_cursor(seeded: Api) -> None:
    api = seeded
    receive(api, "R-1", "W-A", BOLT_10=10)
    order(api, "SO-1", "C1", {"BOLT-10": 4})
    order(api, "SO-2", "C2", {"BOLT-10": 4})
    order(api, "SO-3", "C1", {"BOLT-10": 5})
    order(api, "SO-4", "C1", {"NUT-4": 1})
    order(api, "SO-5", "C2", {"NUT-4": 2})
    p = ok(api.post("/v1/orders/SO-4/cancel", {"reason": "duplicate"}), 200)["position"]

    assert statuses(api, p) == {
        "SO-1": "allocated",
        "SO-2": "allocated",
        "SO-3": "backordered",
        "SO-4": "cancelled",
        "SO-5": "backordered",
    }
    assert list(statuses(api, p, customer_id="C1")) == ["SO-1", "SO-3", "SO-4"]
    assert list(statuses(api, p, status="backordered")) == ["SO-3", "SO-5"]
    assert list(statuses(api, p, customer_id="C2", status="allocated")) == ["SO-2"]
    assert statuses(api, p, customer_id="C9") == {}

    pages, after = [], None
    while True:
        params = {"limit": 2} if after is None else {"limit": 2, "after": after}
        body = fresh(api, "/v1/orders", p, **params)
        pages.append([o["order_id"] for o in body["items"]])
        after = body["next_after"]
        if after is None:
            break
        assert isinstance(after, str | int)
    assert pages == [["SO-1", "SO-2"], ["SO-3", "SO-4"], ["SO-5"]]

    exact = fresh(api, "/v1/orders", p, customer_id="C1", limit=3)
    assert ([o["order_id"] for o in exact["items"]], exact["next_after"]) == (["SO-1", "SO-3", "SO-4"], None)
    first = fresh(api, "/v1/orders", p, customer_id="C1", limit=1)
    rest = fresh(api, "/v1/orders", p, customer_id="C1", limit=5, after=first["next_after"])
    assert [o["order_id"] for o in first["items"] + rest["items"]] == ["SO-1", "SO-3", "SO-4"]

    item = fresh(api, "/v1/orders", p, customer_id="C1", status="backordered")["items"][0]
    assert (item["order_id"], item["total"], item["currency"]) == ("SO-3", "42.50", "USD")
    line = item["lines"][0]
    assert (line["qty"], line["allocated"], line["backordered"]) == (5, 2, 3)
    single = ok(api.get("/v1/orders/SO-3"), 200)
    assert item == {k: v for k, v in single.items() if k not in ("version", "position")}


def test_the_order_list_answers_each_order_as_get_order_does_after_shipment_and_invoicing(seeded: Api) -> None:
    api = seeded
    receive(api, "R-1", "W-A", BOLT_10=5)
    order(api, "SO-1", "C1", {"BOLT-10": 5})
    shipment = {
        "shipment_id": "SH-1",
        "order_id": "SO-1",
        "warehouse_id": "W-A",
        "lines": [{"sku": "BOLT-10", "qty": 3}],
    }
    ok(api.post("/v1/shipments", shipment))
    assert wait_until(lambda: api.get("/v1/invoices/INV-SH-1").json().get("status") == "issued", timeout=10)
    p = ok(api.get("/v1/invoices/INV-SH-1"), 200)["position"]

    single = {k: v for k, v in ok(api.get("/v1/orders/SO-1"), 200).items() if k not in ("version", "position")}
    assert (single["lines"][0]["shipped"], single["lines"][0]["invoiced"]) == (3, 3)
    listed = fresh(api, "/v1/orders", p)["items"]
    assert listed == [single]
