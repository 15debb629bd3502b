"""Dunning and the overdue hold over HTTP on both stores: levels from O2C_DUNNING_DAYS, one notice per
customer, level and date (HTTP and `o2c dunning run` alike), resolution, new orders held while an
invoice is more than O2C_OVERDUE_HOLD_DAYS past due; the ops summary and /metrics show what is overdue."""

from __future__ import annotations

import pytest

from api.cli import main
from tests.api.receivables import ar, clock, customer, invoiced, pay
from tests.api.test_metrics import samples
from tests.conftest import ADMIN_KEY, Api, wait_until
from tests.http import ok

__all__ = ["ar"]


def run(api: Api, as_of: str) -> list[dict[str, object]]:
    body = ok(api.post("/v1/admin/dunning/run", {"as_of": as_of}), 200)
    assert body["as_of"] == as_of
    notices: list[dict[str, object]] = body["notices"]
    return notices


def order(api: Api, order_id: str, customer_id: str) -> dict[str, object]:
    body = {"order_id": order_id, "customer_id": customer_id, "channel": "web", "lines": [{"sku": "P100", "qty": 1}]}
    return ok(api.post("/v1/orders", body))


def test_dunning_levels_once_per_date_then_resolved_and_the_overdue_hold(
    ar: Api, database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    ok(customer(ar, "D", terms=None))  # due on issue, 2026-03-02
    ok(customer(ar, "T"))  # due 2026-04-01: never overdue here
    invoiced(ar, "D", "D1", qty=1, freight="0.00")  # 108.25
    invoiced(ar, "T", "T1", qty=1, freight="0.00")
    assert run(ar, "2026-03-05") == []  # 3 days past due: below level 1
    first = run(ar, "2026-03-09")
    assert first == [
        {
            "customer_id": "D",
            "level": 1,
            "as_of": "2026-03-09",
            "invoices": [
                {"invoice_id": "INV-SH-D1", "number": 1, "due_date": "2026-03-02", "open": "108.25", "days_past_due": 7}
            ],
            "total_overdue": "108.25",
        }
    ]
    assert run(ar, "2026-03-09") == []  # the same date again records nothing

    monkeypatch.setenv("O2C_DATABASE_URL", database_url)
    monkeypatch.setenv("O2C_ADMIN_KEY", ADMIN_KEY)
    assert main(["dunning", "run", "--as-of", "2026-03-23"]) == 0  # cron: 21 days, level 2
    assert run(ar, "2026-03-23") == []
    status = ok(ar.get("/v1/customers/D/dunning"), 200)
    assert status["level"] == 2 and [n["level"] for n in status["notices"]] == [1, 2]
    assert ok(ar.get("/v1/customers/T/dunning"), 200)["level"] == 0

    clock(ar).advance(days=11)  # 2026-03-13: D1 is 11 days past due, over the hold's 10
    held = order(ar, "SO-H", "D")
    assert held["status"] == "credit_hold"
    history = ok(ar.get("/v1/orders/SO-H/history"), 200)["events"]
    hold = next(e for e in history if e["type"] == "OrderCreditHeld")
    assert (hold["data"]["reason"], hold["data"]["days_past_due"]) == ("overdue", 11)
    assert order(ar, "SO-T", "T")["status"] == "allocated"
    released = ok(ar.post("/v1/orders/SO-H/release-hold", {}), 200)
    assert released["status"] == "allocated"

    summary = ok(ar.get("/v1/ops/summary"), 200)["ar_aging"]
    assert (summary["days_1_30"], summary["overdue"], summary["current"]) == ("108.25", "108.25", "108.25")
    gauges = samples(ar)
    assert gauges[("o2c_ar_overdue_amount", (("bucket", "days_1_30"),))] == 108.25
    assert gauges[("o2c_ar_overdue_amount", (("bucket", "days_over_90"),))] == 0
    page = ar.client.get("/ops").text
    assert 'id="ar-aging"' in page and 'id="ar-overdue"' in page

    paid = ok(pay(ar, "P-D", "D", "108.25"))
    assert wait_until(
        lambda: ar.get("/v1/ar/aging", as_of="2026-03-13", min_position=paid["position"]).status_code == 200
    )
    assert run(ar, "2026-03-24") == []  # resolved: no notice, level back to 0
    status = ok(ar.get("/v1/customers/D/dunning"), 200)
    assert status["level"] == 0 and len(status["notices"]) == 2
    events = [e["type"] for e in ar.get("/v1/events", limit=1000).json()["events"]]
    assert events.count("o2c.DunningNoticeIssued") == 2 and events.count("o2c.DunningResolved") == 1
    assert order(ar, "SO-D2", "D")["status"] == "allocated"  # nothing overdue: no hold
    assert ar.get("/v1/customers/NOPE/dunning").status_code == 404
