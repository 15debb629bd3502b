"""Business KPIs over HTTP on both stores (API.md "Business KPIs"): the rates at placement by channel,
the cancelled rate, the exception counts (refusals from the counter, which survives a restart; holds
from the log), the default window by the service's clock, read-your-writes, and bad windows as 422."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

import msgspec
import pytest
from litestar.testing import TestClient

from api.app import create_app
from api.kpis import Kpis
from infra.clock import FixedClock
from infra.service import Service
from infra.settings import Settings
from tests.api.test_metrics import samples
from tests.conftest import Api, seed
from tests.http import line, ok, place, problem, receive

MAR_2 = datetime(2026, 3, 2, 9, tzinfo=UTC)
NO_EXCEPTIONS = {
    "price_mismatch": 0,
    "credit_holds": 0,
    "overdue_holds": 0,
    "tax_dead_letters": 0,
    "stock_shortfalls": 0,
}


@contextmanager
def running(settings: Settings) -> Iterator[Api]:
    """The app (API and workers) on `settings`, its service clock standing at 09:00 on 2 March 2026."""
    with TestClient(create_app(settings)) as client:
        svc: Service = client.app.state.service
        svc.clock = FixedClock(MAR_2)
        yield Api(client)


def kpis(api: Api, position: int | None = None, **window: str) -> dict[str, Any]:
    params: dict[str, Any] = {"from": window["start"], "to": window["end"]} if window else {}
    if position is not None:
        params["min_position"] = position
    body = ok(api.get("/v1/ops/kpis", **params), 200)
    msgspec.convert(body, Kpis, from_attributes=False)
    assert position is None or body["position"] >= position
    return body


def _story(api: Api) -> int:
    """Three lines placed on 2 March (two filled, one backordered; web and edi), one order cancelled,
    one order refused for stock (one short line), one for its price."""
    seed(api)
    receive(api, "R-1", "W-A", "NUT-4", 10)
    ok(place(api, "SO-1", [line("BOLT-10", 3), line("NUT-4", 2)], allow_backorder=True))
    ok(place(api, "SO-2", [line("NUT-4", 1)], channel="edi"))
    short = place(api, "SO-3", [line("BOLT-10", 5), line("NUT-4", 1)], allow_backorder=False)
    problem(short, 409, "insufficient_stock")
    problem(place(api, "SO-4", [line("BOLT-10", 1, unit_price="8.00")]), 422, "price_mismatch")
    return int(ok(api.post("/v1/orders/SO-2/cancel", {"reason": "buyer"}), (200, 201))["position"])


def test_kpis_over_a_window_count_placement_fill_cancellations_and_refusals_and_survive_a_restart(
    settings: Settings,
) -> None:
    with running(settings) as api:
        position = _story(api)
        body = kpis(api, position, start="2026-03-01", end="2026-03-02")
        expected = {
            "from": "2026-03-01",
            "to": "2026-03-02",
            "orders": 2,
            "lines": 3,
            "fill_rate": "0.6667",
            "fill_rate_by_channel": {"edi": "1.0000", "web": "0.5000"},
            "backorder_rate": "0.3333",
            "cancelled_rate": "0.5000",
            "order_to_ship_hours": {"p50": None, "p90": None},
            "ship_to_invoice_hours": {"p50": None, "p90": None},
            "invoice_to_cash_days": {"p50": None, "p90": None},
            "promise_accuracy": None,
            "exceptions": {**NO_EXCEPTIONS, "price_mismatch": 1, "stock_shortfalls": 1},
        }
        assert {k: v for k, v in body.items() if k != "position"} == expected
        assert {k: v for k, v in kpis(api).items() if k != "position"} == {
            **expected,
            "from": "2026-02-01",  # the default: the last 30 days to today by the service's clock
            "to": "2026-03-02",
        }
        gauges = samples(api)  # the same figures over the same default window
        assert gauges[("o2c_kpi_fill_rate_ratio", ())] == float(expected["fill_rate"])  # the 4-place figure
        assert gauges[("o2c_kpi_backorder_rate_ratio", ())] == float(expected["backorder_rate"])
        for kind, count in expected["exceptions"].items():
            assert gauges[("o2c_kpi_exceptions", (("kind", kind),))] == count
        later = kpis(api, start="2026-03-03", end="2026-03-31")
        assert (later["orders"], later["fill_rate"], later["exceptions"]) == (0, None, NO_EXCEPTIONS)
    with running(settings) as again:  # a restart: the counter was stored, the rest comes from the log again
        restarted = kpis(again, position, start="2026-03-01", end="2026-03-02")
        assert {k: v for k, v in restarted.items() if k != "position"} == expected


def test_a_credit_hold_is_counted_by_its_reason(seeded: Api) -> None:
    api = seeded
    assert (
        api.put(
            "/v1/customers/C2", {"name": "C2", "credit_limit": "1.00", "tax_region": "CA", "status": "active"}
        ).status_code
        == 200
    )
    position = int(ok(place(api, "SO-9", [line("NUT-4", 40)], customer_id="C2", allow_backorder=True))["position"])
    body = kpis(api, position)
    assert body["exceptions"] == {**NO_EXCEPTIONS, "credit_holds": 1}
    assert (body["lines"], body["fill_rate"], body["backorder_rate"]) == (1, "0.0000", "0.0000")


@pytest.mark.parametrize(
    "params",
    [
        {"from": "2026-03-02", "to": "2026-03-01"},
        {"from": "2023-03-01", "to": "2026-03-01"},  # 1,097 days
        {"from": "2026-02-30"},
        {"to": "yesterday"},
        {"from": "20260301"},
        {"min_position": "-1"},
        {"to": "0001-01-05"},  # the default 30 days would start before year 1
    ],
)
def test_a_bad_window_is_422_invalid_request(api: Api, params: dict[str, str]) -> None:
    problem(api.get("/v1/ops/kpis", **params), 422, "invalid_request")


def test_a_window_of_1096_days_is_answered(api: Api) -> None:
    assert kpis(api, start="2023-03-02", end="2026-03-01")["orders"] == 0
