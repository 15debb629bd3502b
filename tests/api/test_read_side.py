"""The read side over HTTP: read-your-writes, ATP, order lists, the event feed, signals, rebuilds."""

from __future__ import annotations

import threading
import time
from datetime import datetime
from typing import Any

from litestar.testing import TestClient

from api.app import create_app
from infra import commands
from infra.service import Service
from infra.settings import Settings
from projections import ALL
from tests.conftest import Api, make_settings, seed, wait_until
from tests.http import line, ok, place
from tests.infra.readside import run

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


# --- event feed -----------------------------------------------------------------------------------


def test_the_event_feed_answers_cloudevents_with_strictly_increasing_positions(seeded: Api) -> None:
    api = seeded
    receive(api, "R-1", "W-A", BOLT_10=6)
    order(api, "SO-1", "C1", {"BOLT-10": 2})

    body = ok(api.get("/v1/events", after=0, limit=1000), 200)
    events = body["events"]
    positions = [e["position"] for e in events]
    assert positions == sorted(set(positions)) and positions[0] > 0
    assert body["next_after"] >= positions[-1]
    assert len({e["id"] for e in events}) == len(events)
    for e in events:
        assert {"specversion", "id", "source", "type", "subject", "time", "datacontenttype", "data", "position"} <= set(
            e
        )
        assert (e["specversion"], e["source"], e["datacontenttype"]) == ("1.0", "/o2c", "application/json")
        assert isinstance(e["type"], str) and e["type"]
        assert isinstance(e["data"], dict)
        assert datetime.fromisoformat(e["time"].replace("Z", "+00:00")).tzinfo is not None
        assert "CommandRecorded" not in e["type"]
    placed = [e for e in events if e["type"].endswith("OrderPlaced")]
    assert [(e["subject"], e["data"]["order_id"]) for e in placed] == [("order/SO-1", "SO-1")]
    assert any(e["subject"].startswith("inventory/") and e["type"].endswith("StockReceived") for e in events)

    paged, after = [], 0
    while True:
        page = ok(api.get("/v1/events", after=after, limit=3), 200)
        if not page["events"] and page["next_after"] == after:
            break
        paged += page["events"]
        after = page["next_after"]
    assert paged == events
    assert ok(api.get("/v1/events", after=after), 200) == {"events": [], "next_after": after}


def test_a_long_poll_on_the_feed_returns_as_soon_as_an_event_arrives(seeded: Api) -> None:
    api = seeded
    head = ok(api.get("/v1/events", after=0, limit=1000), 200)["next_after"]

    started = time.monotonic()
    empty = ok(api.get("/v1/events", after=head, wait=0.3), 200)
    assert empty == {"events": [], "next_after": head}
    assert time.monotonic() - started >= 0.3

    svc = service_of(api)

    def later() -> None:
        time.sleep(0.5)
        run(svc, lambda uow: commands.receive_stock(uow, "R-LATE", "W-C", [("NUT-4", 7)]))

    writer = threading.Thread(target=later)
    started = time.monotonic()
    writer.start()
    try:
        body = ok(api.get("/v1/events", after=head, wait=20), 200)
    finally:
        writer.join()
    assert time.monotonic() - started < 10
    assert [(e["type"].endswith("StockReceived"), e["data"]["receipt_id"]) for e in body["events"]] == [
        (True, "R-LATE")
    ]
    assert body["events"][0]["position"] > head


# --- signals, rebuild, readiness ------------------------------------------------------------------


def test_signals_list_over_allocated_positions_and_aged_backorders(seeded: Api) -> None:
    api = seeded
    receive(api, "R-1", "W-A", BOLT_10=5)
    order(api, "SO-1", "C1", {"BOLT-10": 5}, warehouse_id="W-A")
    count = {"count_id": "CNT-1", "warehouse_id": "W-A", "sku": "BOLT-10", "counted_qty": 2}
    ok(api.post("/v1/inventory/counts", count))
    p = order(api, "SO-2", "C2", {"NUT-4": 3})["position"]

    signals = fresh(api, "/v1/ops/signals", p)
    assert signals["over_allocated"] == [
        {"sku": "BOLT-10", "warehouse_id": "W-A", "on_hand": 2, "reserved": 5, "over_by": 3}
    ]
    assert figures(fresh(api, "/v1/atp/BOLT-10", p)) == (2, 5, -3, 0)
    aged = [b for b in signals["backorders_aged"] if b["order_id"] == "SO-2"]
    assert len(aged) == 1
    assert {k: aged[0][k] for k in ("sku", "order_id", "line_id", "qty", "warehouse_id")} == {
        "sku": "NUT-4",
        "order_id": "SO-2",
        "line_id": "1",
        "qty": 3,
        "warehouse_id": None,
    }
    assert aged[0]["age_seconds"] >= 0
    assert datetime.fromisoformat(aged[0]["accepted_at"].replace("Z", "+00:00")).tzinfo is not None
    assert signals["projection_lag"]["atp"] == 0
    assert signals["parked_events"] == ZERO_LAG

    p = receive(api, "R-2", "W-B", NUT_4=3)  # fills SO-2 within seconds
    assert wait_until(lambda: fresh(api, "/v1/ops/signals", p)["backorders_aged"] == [], timeout=10)


def test_rebuilding_a_read_model_answers_202_and_the_rebuilt_model_answers_the_same(seeded: Api) -> None:
    api = seeded
    svc = service_of(api)
    receive(api, "R-1", "W-A", BOLT_10=6, NUT_4=4)
    receive(api, "R-2", "W-B", BOLT_10=6)
    order(api, "SO-1", "C1", {"BOLT-10": 9, "NUT-4": 6})
    p = order(api, "SO-2", "C2", {"BOLT-10": 1})["position"]

    def answers() -> tuple[Any, ...]:
        return (
            [
                {k: v for k, v in a.items() if k != "position"}
                for a in fresh(api, "/v1/atp", p, skus="BOLT-10,NUT-4")["items"]
            ],
            fresh(api, "/v1/orders", p)["items"],
            [
                {k: v for k, v in fresh(api, f"/v1/customers/{c}/balance", p).items() if k != "position"}
                for c in ("C1", "C2")
            ],
        )

    before = answers()
    for name in ("atp", "orders", "balances"):
        generation = svc.read[name].generation
        r = api.post(f"/v1/admin/projections/{name}/rebuild")
        assert r.status_code == 202, r.text
        assert r.json()["name"] == name
        assert wait_until(lambda n=name, g=generation: svc.read[n].generation == g + 1, timeout=15), name
    assert answers() == before

    reader = svc.keys.create("reader", frozenset({"read"}))
    denied = api.post("/v1/admin/projections/atp/rebuild", key=reader)
    assert (denied.status_code, denied.json()["code"]) == (403, "forbidden")
    assert api.get("/v1/atp/BOLT-10", key=reader).status_code == 200
    unknown = api.post("/v1/admin/projections/nope/rebuild")
    assert unknown.status_code == 404
    assert unknown.json()["code"] == "not_found"


def test_a_reader_process_keeps_answering_the_same_figures_across_a_rebuild_done_elsewhere(
    seeded: Api, settings: Settings
) -> None:
    """A second app on the same database without workers (an API-only process) reads the read
    models that the first one rebuilds and swaps."""
    api = seeded
    svc = service_of(api)
    receive(api, "R-1", "W-A", BOLT_10=6)
    p = order(api, "SO-1", "C1", {"BOLT-10": 4})["position"]
    with TestClient(create_app(settings, workers=False)) as client:
        reader = Api(client)
        before = fresh(reader, "/v1/atp/BOLT-10", p)
        listed = fresh(reader, "/v1/orders", p)["items"]
        for name in ("atp", "orders"):
            generation = svc.read[name].generation
            assert api.post(f"/v1/admin/projections/{name}/rebuild").status_code == 202
            assert wait_until(lambda n=name, g=generation: svc.read[n].generation == g + 1, timeout=15)
        assert fresh(reader, "/v1/atp/BOLT-10", p) == before
        assert fresh(reader, "/v1/orders", p)["items"] == listed


def test_readyz_is_200_and_reports_the_lag_of_every_read_model(seeded: Api) -> None:
    api = seeded
    receive(api, "R-1", "W-A", BOLT_10=6)
    ready = wait_until(lambda: api.client.get("/readyz").json()["projection_lag"] == ZERO_LAG, timeout=10)
    assert ready
    r = api.client.get("/readyz")
    assert r.status_code == 200
    workers = {name: "this process" for name in ZERO_LAG} | {
        name: "this process" for name in ("workflow:backorder-fill", "workflow:billing", "workflow:tax")
    }
    assert r.json() == {"status": "ready", "projection_lag": ZERO_LAG, "workers": workers}
