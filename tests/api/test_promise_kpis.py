"""Promise KPIs over HTTP on both stores: `promises_late` in the signals (as of the service's clock),
`promise_accuracy` in the ops summary and the promise gauges of /metrics, from orders that backorder,
get promises from the promising workflow (expected supply), fill and ship on days a FixedClock sets."""

from __future__ import annotations

import math
from datetime import UTC, date, datetime

import msgspec
import pytest

from api.read_resources import OpsSummary, Signals
from infra.clock import FixedClock
from tests.api.read_side import fresh, order, receive, service_of
from tests.api.test_metrics import samples
from tests.conftest import Api, wait_until
from tests.infra.promises import ship

MAR_5, MAR_8, MAR_10 = date(2026, 3, 5), date(2026, 3, 8), date(2026, 3, 10)


def gauges(api: Api) -> dict[str, float]:
    found = samples(api)
    names = ("o2c_promise_accuracy_ratio", "o2c_shipped_lines", "o2c_shipped_lines_late", "o2c_promises_late")
    return {name: found[(name, ())] for name in names}


def expect(api: Api, expected_id: str, qty: int, on: date) -> None:
    body = {
        "expected_id": expected_id,
        "warehouse_id": "W-A",
        "sku": "BOLT-10",
        "qty": qty,
        "expected_on": on.isoformat(),
    }
    assert api.post("/v1/inventory/expected-receipts", body).status_code == 201


def promised_on(api: Api, order_id: str, on: date) -> int:
    """Wait until the promising workflow has given the order's first line this date; its position."""

    def given() -> bool:
        return api.get(f"/v1/orders/{order_id}").json()["lines"][0]["promised_date"] == on.isoformat()

    assert wait_until(given, timeout=10), api.get(f"/v1/orders/{order_id}").text
    return int(api.get(f"/v1/orders/{order_id}").json()["position"])


def test_signals_summary_and_metrics_show_late_promises_and_promise_accuracy(seeded: Api) -> None:
    """The promising workflow dates the backorders from expected supply; the clock moves past them."""
    api = seeded
    svc = service_of(api)
    clock = FixedClock(datetime(2026, 3, 1, 9, tzinfo=UTC))
    svc.clock = clock
    receive(api, "R-1", "W-A", NUT_4=10)
    order(api, "SO-1", "C1", {"BOLT-10": 3, "NUT-4": 2})  # line 1 waits for BOLT-10, line 2 allocated
    order(api, "SO-2", "C1", {"BOLT-10": 2})
    expect(api, "E-1", 3, MAR_5)
    expect(api, "E-2", 2, MAR_10)
    promised_on(api, "SO-1", MAR_5)
    p = promised_on(api, "SO-2", MAR_10)
    clock.advance(days=6)  # the 7th: SO-1's promise of the 5th has passed

    signals = fresh(api, "/v1/ops/signals", p)
    msgspec.convert(signals, Signals)
    assert signals["promises_late"] == 1
    body = fresh(api, "/v1/ops/summary", p)
    msgspec.convert(body, OpsSummary)
    assert body["promise_accuracy"] == {"share": None, "shipped_lines": 0, "on_time": 0, "late": 0}
    before = gauges(api)
    assert math.isnan(before.pop("o2c_promise_accuracy_ratio"))  # no line shipped: no share yet
    assert before == {"o2c_shipped_lines": 0, "o2c_shipped_lines_late": 0, "o2c_promises_late": 1}

    lines = [{"sku": "BOLT-10", "qty": 3, "expected_id": "E-1"}, {"sku": "NUT-4", "qty": 1}]
    assert (
        api.post("/v1/inventory/receipts", {"receipt_id": "R-2", "warehouse_id": "W-A", "lines": lines}).status_code
        == 201
    )
    lines = [{"sku": "BOLT-10", "qty": 2, "expected_id": "E-2"}]
    assert (
        api.post("/v1/inventory/receipts", {"receipt_id": "R-3", "warehouse_id": "W-A", "lines": lines}).status_code
        == 201
    )
    ship(svc, "SH-1", "SO-1", clock.now(), BOLT_10=3, NUT_4=2)  # line 1 after its promise of the 5th
    ship(svc, "SH-2", "SO-2", clock.now(), BOLT_10=2)  # before its promise of the 10th
    order(api, "SO-3", "C1", {"BOLT-10": 4})  # waits, promised for tomorrow
    expect(api, "E-3", 4, MAR_8)
    p = promised_on(api, "SO-3", MAR_8)

    assert fresh(api, "/v1/ops/signals", p)["promises_late"] == 0
    body = fresh(api, "/v1/ops/summary", p)
    msgspec.convert(body, OpsSummary)
    assert body["promise_accuracy"] == {"share": 2 / 3, "shipped_lines": 3, "on_time": 2, "late": 1}
    after = gauges(api)
    assert after["o2c_promise_accuracy_ratio"] == pytest.approx(2 / 3)
    assert (after["o2c_shipped_lines"], after["o2c_shipped_lines_late"], after["o2c_promises_late"]) == (3, 1, 0)

    clock.advance(days=2)  # the 9th: SO-3's promise has lapsed, with no new event
    assert fresh(api, "/v1/ops/signals", p)["promises_late"] == 1
    assert gauges(api)["o2c_promises_late"] == 1
    assert fresh(api, "/v1/ops/summary", p)["promise_accuracy"]["share"] == 2 / 3  # shipped lines keep their verdict


def test_the_summary_and_signals_schemas_carry_the_promise_figures(api: Api) -> None:
    document = api.client.get("/schema/openapi.json").json()
    summary = document["paths"]["/v1/ops/summary"]["get"]["responses"]["200"]["content"]["application/json"]
    assert summary["schema"] == {"$ref": "#/components/schemas/OpsSummary"}
    schemas = document["components"]["schemas"]
    assert "promise_accuracy" in schemas["OpsSummary"]["required"]
    assert set(schemas["PromiseAccuracy"]["required"]) == {"share", "shipped_lines", "on_time", "late"}
    assert "promises_late" in schemas["Signals"]["required"]
