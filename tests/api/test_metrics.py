"""GET /metrics is Prometheus text that a Prometheus parser reads, with real numbers in it."""

from __future__ import annotations

from prometheus_client.parser import text_string_to_metric_families

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
