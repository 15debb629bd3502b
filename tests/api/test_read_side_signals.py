"""The read side over HTTP: signals, rebuilds and readiness."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from litestar.testing import TestClient

from api.app import create_app
from infra.settings import Settings
from tests.api.read_side import ZERO_LAG, figures, fresh, order, receive, service_of
from tests.conftest import Api, wait_until
from tests.http import ok

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
        name: "this process"
        for name in (
            "workflow:backorder-fill",
            "workflow:billing",
            "workflow:promising",
            "workflow:journal",
            "workflow:tax",
            "workflow:webhooks",
        )
    }
    assert r.json() == {"status": "ready", "projection_lag": ZERO_LAG, "workers": workers}
