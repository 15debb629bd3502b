"""GET /metrics is Prometheus text that a Prometheus parser reads, with real numbers in it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from prometheus_client.parser import text_string_to_metric_families

from infra import commands
from infra.ledger.unitofwork import Context, UnitOfWork
from infra.service import Service
from tests.conftest import Api, wait_until


def samples(api: Api) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    r = api.client.get("/metrics")  # no key: metrics are public like /healthz
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/plain")
    out = {}
    for family in text_string_to_metric_families(r.text):
        for s in family.samples:
            out[(s.name, tuple(sorted(s.labels.items())))] = s.value
    return out


def test_metrics_count_traffic_outcomes_duplicates_and_business_signals(seeded: Api) -> None:
    api = seeded
    receipt = {"receipt_id": "R-1", "warehouse_id": "W-A", "lines": [{"sku": "BOLT-10", "qty": 2}]}
    assert api.post("/v1/inventory/receipts", receipt).status_code == 201
    assert api.post("/v1/inventory/receipts", receipt).status_code == 201  # a duplicate, answered from its record
    order = {"order_id": "SO-1", "customer_id": "C1", "channel": "web", "lines": [{"sku": "BOLT-10", "qty": 5}]}
    assert api.post("/v1/orders", order).status_code == 201  # 2 allocated, 3 backordered
    bad = {"customer_id": "NOBODY", "channel": "web", "lines": [{"sku": "BOLT-10", "qty": 1}]}
    assert api.post("/v1/orders", bad).status_code == 422

    def ready() -> dict[tuple[str, tuple[tuple[str, str], ...]], float] | None:
        found = samples(api)
        caught_up = found.get(("o2c_orders", (("status", "backordered"),))) == 1
        return found if caught_up and found.get(("o2c_backorder_lines", ())) == 1 else None

    found = wait_until(ready)
    assert found, samples(api)
    assert found[("o2c_http_requests_total", (("method", "POST"), ("route", "/v1/orders"), ("status", "201")))] == 1
    assert found[("o2c_commands_total", (("code", "unknown_customer"),))] == 1
    assert found[("o2c_commands_total", (("code", "201"),))] >= 3
    assert found[("o2c_duplicate_submissions_total", ())] == 1
    assert found[("o2c_backorder_lines", ())] == 1
    assert found[("o2c_invoices_awaiting_tax", ())] == 0
    assert ("o2c_projection_lag_events", (("projection", "atp"),)) in found
    assert any(name == "o2c_http_request_seconds_bucket" for name, _ in found)


def test_the_backorder_gauges_count_every_open_line_not_the_first_hundred(seeded: Api) -> None:
    """Issue 11 (10): 605 open lines read 100, the length of the signals' limited list."""
    api = seeded
    svc: Service = api.client.app.state.service  # type: ignore[union-attr]
    now = datetime.now(UTC)
    orders = 130  # no stock anywhere: each order's one line waits for it

    def place_many(uow: UnitOfWork) -> None:
        for i in range(orders):
            line = commands.OrderLineInput("1", "BOLT-10", 1, None)
            accepted = now - timedelta(hours=2) if i == 0 else now  # the first is two hours old
            cmd = commands.PlaceOrderInput(f"SO-{i}", "C1", "edi", None, True, (line,), accepted)
            commands.place_order(uow, cmd)

    position = svc.ledger.run(Context(actor="test", correlation_id="c-many", causation_id="test"), place_many).position
    for path in ("/v1/atp/BOLT-10", "/v1/orders"):  # both read models have the orders
        assert api.get(path, min_position=position).status_code == 200
    found = samples(api)
    assert found[("o2c_orders", (("status", "backordered"),))] == orders
    assert found[("o2c_backorder_lines", ())] == orders
    assert 2 * 3600 <= found[("o2c_backorder_oldest_age_seconds", ())] < 2 * 3600 + 60
    assert found[("o2c_over_allocated_positions", ())] == 0
    assert len(api.get("/v1/ops/signals").json()["backorders_aged"]) == 100  # the list stays a sample
    assert found[("o2c_parked_events", (("projection", "atp"),))] == 0
    assert found[("o2c_follower_stuck", (("name", "atp"),))] == 0
