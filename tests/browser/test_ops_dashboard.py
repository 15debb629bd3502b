"""The /ops dashboard end to end: the real app served by uvicorn (both stores), data made through the
API, a real tax engine over HTTP that fails and recovers, and the page driven in headless Chromium.

Set O2C_SCREENSHOT=1 (or a path) to save a screenshot of the loaded dashboard to docs/ops-dashboard.png.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest

from infra.adapters.keys import KeyRing
from infra.clock import Clock
from infra.eventstore.engine import make_engine
from infra.readside.tracking import read_position
from infra.service import Service
from infra.settings import Settings
from infra.workers.promising import Promising
from tests.conftest import ADMIN_KEY, Api, make_settings, wait_until
from tests.http import line, ok, place, receive
from tests.infra.promises import promise
from tests.infra.tax_fakes import FakeTaxEngine

ROOT = Path(__file__).resolve().parents[2]
TIMEOUT_MS = 20_000  # how long the page may take to show a figure (it refreshes every second)


@pytest.fixture
def tax_engine() -> Iterator[FakeTaxEngine]:
    engine = FakeTaxEngine(rates={"CA": "0.0725"}, hang_for=60).start()
    yield engine
    engine.stop()
    assert engine.problems == [], f"tax requests not in API.md's shape: {engine.problems}"


@pytest.fixture
def settings(database_url: str, tax_engine: FakeTaxEngine) -> Settings:
    """One tax attempt before a dead letter; a hanging call keeps its invoice awaiting tax."""
    return make_settings(
        database_url,
        tax_engine_url=tax_engine.url,
        tax_max_attempts=1,
        tax_timeout=60,
        tax_retry_base=0.05,
        tax_retry_max=0.2,
        breaker_threshold=1000,
    )


@pytest.fixture
def api(served: str, tax_engine: FakeTaxEngine) -> Iterator[Api]:
    with httpx.Client(base_url=served, timeout=30) as client:
        yield Api(client)
        # answer a call still hanging, so the server's tax worker can stop
        tax_engine.set_mode("ok")
        tax_engine._release.set()


def order(api: Api, order_id: str, **qty: int) -> dict[str, Any]:
    return ok(place(api, order_id, [line(sku.replace("_", "-"), n) for sku, n in qty.items()]))


def ship(api: Api, shipment_id: str, order_id: str, sku: str, qty: int) -> None:
    body = {
        "shipment_id": shipment_id,
        "order_id": order_id,
        "warehouse_id": "W-A",
        "lines": [{"sku": sku, "qty": qty}],
    }
    ok(api.post("/v1/shipments", body))


def invoice_status(api: Api, invoice_id: str) -> str | None:
    r = api.get(f"/v1/invoices/{invoice_id}")
    return str(r.json()["status"]) if r.status_code == 200 else None


def make_data(api: Api, tax_engine: FakeTaxEngine) -> None:
    """Five orders (2 allocated, 1 backordered, 2 shipped), one dead letter, one invoice awaiting tax."""
    for wh in ("W-A", "W-B"):
        ok(api.put(f"/v1/warehouses/{wh}", {"name": f"Warehouse {wh}"}))
    for sku, price in (("BOLT-10", "8.50"), ("NUT-4", "0.25"), ("GEAR-7", "12.00")):
        ok(api.put(f"/v1/products/{sku}", {"name": sku, "unit_price": price}))
    customer = {"name": "Acme", "credit_limit": "100000.00", "tax_region": "CA", "status": "active"}
    ok(api.put("/v1/customers/C1", customer))
    lines = [line("BOLT-10", 100), line("NUT-4", 50)]
    ok(api.post("/v1/inventory/receipts", {"receipt_id": "R-1", "warehouse_id": "W-A", "lines": lines}))
    receive(api, "R-2", "W-B", "BOLT-10", 20)

    assert order(api, "SO-1", BOLT_10=30)["status"] == "allocated"
    assert order(api, "SO-2", BOLT_10=5, NUT_4=10)["status"] == "allocated"
    assert order(api, "SO-3", GEAR_7=3)["status"] == "backordered"

    tax_engine.set_mode("error")
    assert order(api, "SO-4", NUT_4=4)["status"] == "allocated"
    ship(api, "SH-1", "SO-4", "NUT-4", 4)
    assert wait_until(lambda: invoice_status(api, "INV-SH-1") == "dead_lettered", timeout=20)

    tax_engine.set_mode("hang")  # INV-SH-2's first call hangs until the test releases it
    assert order(api, "SO-5", NUT_4=2)["status"] == "allocated"
    ship(api, "SH-2", "SO-5", "NUT-4", 2)
    assert wait_until(lambda: tax_engine.calls_for("INV-SH-2") == 1, timeout=20)
    assert invoice_status(api, "INV-SH-2") == "awaiting_tax"

    def signals_show_it() -> bool:
        s = ok(api.get("/v1/ops/signals"), 200)
        return s["awaiting_tax"] == 1 and s["dead_letters"] == 1 and max(s["projection_lag"].values()) == 0

    assert wait_until(signals_show_it, timeout=20), api.get("/v1/ops/signals").text


def pct(rate: str | None) -> str:
    return "-" if rate is None else f"{Decimal(rate) * 100:.2f}%"


def js_number(value: float | None) -> str:
    """How the page's String() shows a JSON number (2.0 as "2")."""
    if value is None:
        return "-"
    return str(int(value)) if value == int(value) else repr(value)


def kpis_shown_as_the_endpoint_answers(page: Any, k: dict[str, Any]) -> None:
    """The last-30-days cards show GET /v1/ops/kpis (its default window) figure for figure."""
    from playwright.sync_api import expect

    assert (k["orders"], k["lines"], k["fill_rate"], k["backorder_rate"]) == (5, 6, "0.8333", "0.1667")
    assert k["exceptions"]["tax_dead_letters"] == 1 and k["order_to_ship_hours"]["p50"] is not None
    expect(page.locator("#kpi-window")).to_have_text(f"{k['from']} to {k['to']}")
    expect(page.locator("#fill-rate")).to_have_text(pct(k["fill_rate"]))
    expect(page.locator("#backorder-rate")).to_have_text(pct(k["backorder_rate"]))
    expect(page.locator("#kpi-lines")).to_have_text(str(k["lines"]))
    expect(page.locator("#kpi-orders")).to_have_text(str(k["orders"]))
    channels = ", ".join(f"{c} {pct(r)}" for c, r in k["fill_rate_by_channel"].items())
    expect(page.locator("#fill-by-channel")).to_have_text(channels)
    expect(page.locator("#cancelled-rate")).to_have_text(pct(k["cancelled_rate"]))
    for prefix, figure in (
        ("ship", "order_to_ship_hours"),
        ("invoice", "ship_to_invoice_hours"),
        ("cash", "invoice_to_cash_days"),
    ):
        for p in ("p50", "p90"):
            value = k[figure][p]
            expect(page.locator(f"#{prefix}-{p}")).to_have_text(js_number(value))
    expect(page.locator("#kpi-promise")).to_have_text(pct(k["promise_accuracy"]))
    for kind, count in k["exceptions"].items():
        expect(page.locator(f"#exc-{kind}")).to_have_text(str(count))
    expect(page.locator("#exceptions-total")).to_have_text(str(sum(k["exceptions"].values())))


def test_the_dashboard_shows_the_numbers_made_through_the_api_and_an_admin_retries_a_dead_letter(
    served: str, api: Api, tax_engine: FakeTaxEngine, settings: Settings, browser: Any
) -> None:
    from playwright.sync_api import expect

    make_data(api, tax_engine)
    keys = KeyRing(make_engine(settings), None)
    reader = keys.create("dashboard-viewer", frozenset({"read"}))
    writer = keys.create("webshop", frozenset({"orders:write"}))
    assert wait_until(lambda: api.get("/v1/ops/summary", key=reader).status_code == 200, timeout=5)

    context = browser.new_context(viewport={"width": 1440, "height": 1000})
    try:
        page = context.new_page()
        page.set_default_timeout(TIMEOUT_MS)
        expect.set_options(timeout=TIMEOUT_MS)
        assert page.goto(f"{served}/ops?every=1").status == 200

        def sign_in(key: str) -> None:
            expect(page.locator("#login")).to_be_visible()
            page.fill("#key", key)
            page.click("#login button[type=submit]")

        # an unknown key and a key without `read` are refused visibly; the page asks again
        sign_in("not-a-key")
        expect(page.locator("#banner")).to_contain_text("401")
        expect(page.locator("#login")).to_be_visible()
        sign_in(writer)
        expect(page.locator("#banner")).to_contain_text("403")
        expect(page.locator("#login")).to_be_visible()

        # a read key sees every figure, and the dead-letter count but no Retry
        sign_in(reader)
        expect(page.locator("#dashboard")).to_be_visible()
        expect(page.locator("#banner")).to_be_hidden()
        expect(page.locator("#who")).to_have_text("read key")
        expect(page.locator("#orders-total")).to_have_text("5")
        expect(page.locator("#intake-orders")).to_have_text("5")
        expect(page.locator("#intake-rate")).to_have_text("0.50")  # 5 orders over the last 10 minutes
        for status, n in (("allocated", 2), ("backordered", 1), ("shipped", 2), ("cancelled", 0)):
            expect(page.locator(f"#status-legend li[data-status={status}] .count")).to_have_text(str(n))
        atp_rows = page.locator("#atp-table tbody tr")
        expect(atp_rows).to_have_count(2)  # GEAR-7 was never stocked: no position to rank
        # top SKUs by reserved: BOLT-10 (35 of 120 on hand at two warehouses), then NUT-4 (10)
        expect(atp_rows.nth(0)).to_have_attribute("data-sku", "BOLT-10")
        for sku, on_hand, reserved, available, backordered in (
            ("BOLT-10", 120, 35, 85, 0),
            ("NUT-4", 44, 10, 34, 0),
        ):
            row = page.locator(f"#atp-table tr[data-sku={sku}]")
            expect(row.locator(".on-hand")).to_have_text(str(on_hand))
            expect(row.locator(".reserved")).to_have_text(str(reserved))
            expect(row.locator(".available")).to_have_text(str(available))
            expect(row.locator(".backordered")).to_have_text(str(backordered))
        expect(page.locator("#backorder-lines")).to_have_text("1")
        expect(page.locator("#backorder-buckets tr[data-bucket=lt_1h] .lines")).to_have_text("1")
        expect(page.locator("#backorder-buckets tr[data-bucket=lt_1h] .qty")).to_have_text("3")
        expect(page.locator("#backorder-buckets tr[data-bucket=ge_7d] .lines")).to_have_text("0")
        expect(page.locator("#backorder-oldest tr[data-order=SO-3]")).to_contain_text("GEAR-7")
        expect(page.locator("#awaiting-tax")).to_have_text("1")
        expect(page.locator("#tax-table tbody tr")).to_have_count(1)
        expect(page.locator("#tax-table tr[data-id=INV-SH-2]")).to_contain_text("SO-5")
        expect(page.locator("#dead-count")).to_have_text("1")
        expect(page.locator("#dead-admin-only")).to_be_visible()
        expect(page.locator("button.retry")).to_have_count(0)
        projections = sorted(ok(api.get("/v1/ops/signals"), 200)["projection_lag"])
        lag_bars = page.locator("#lag-chart g[data-projection]")
        expect(lag_bars).to_have_count(len(projections))
        assert sorted(lag_bars.evaluate_all("gs => gs.map(g => g.dataset.projection)")) == projections
        expect(page.locator("#max-lag")).to_have_text("0")
        expect(page.locator("#promise-accuracy")).to_have_text("100.0%")  # SO-4, SO-5 never waited: on time
        expect(page.locator("#promise-shipped")).to_have_text("2")
        expect(page.locator("#promises-late")).to_have_text("0")
        kpis_shown_as_the_endpoint_answers(page, ok(api.get("/v1/ops/kpis", key=reader), 200))

        # an admin key lists the dead letter with its Retry button
        page.click("#forget")
        sign_in(ADMIN_KEY)
        expect(page.locator("#who")).to_have_text("admin key")
        dead_row = page.locator("#dead-table tr[data-id='INV-SH-1']")
        expect(dead_row.locator(".attempts")).to_have_text("1")
        expect(dead_row).to_contain_text("500")
        expect(page.locator("#dead-admin-only")).to_be_hidden()
        expect(page.locator("#intake-chart svg rect")).not_to_have_count(0)
        screenshot(page)

        # the engine works again: the waiting invoice is issued, and Retry issues the dead-lettered one
        tax_engine.set_mode("ok")
        tax_engine._release.set()
        expect(page.locator("#awaiting-tax")).to_have_text("0")
        dead_row.locator("button.retry").click()
        expect(page.locator("#dead-table tr[data-id='INV-SH-1']")).to_have_count(0)
        expect(page.locator("#dead-count")).to_have_text("0")
        expect(page.locator("#dead-table")).to_contain_text("No dead letters.")
        assert invoice_status(api, "INV-SH-1") == "issued"
        assert ok(api.get("/v1/admin/dead-letters"), 200)["items"] == []
        assert tax_engine.calls_for("INV-SH-1") == 2
    finally:
        context.close()


def test_the_promise_card_shows_promise_accuracy_and_the_promises_past_due(
    served: str, api: Api, settings: Settings, browser: Any
) -> None:
    """Promises of days already past cannot come from supply (a past date counts as today), so they
    are recorded by the domain command from a second process on the same database, once the served
    app's promising workflow has nothing left to say about the SKU; the served app ships today, so a
    promise of yesterday goes late."""
    from playwright.sync_api import expect

    ok(api.put("/v1/warehouses/W-A", {"name": "Warehouse W-A"}))
    for sku in ("BOLT-10", "GEAR-7"):
        ok(api.put(f"/v1/products/{sku}", {"name": sku, "unit_price": "8.50"}))
    ok(
        api.put(
            "/v1/customers/C1", {"name": "Acme", "credit_limit": "100000.00", "tax_region": "CA", "status": "active"}
        )
    )
    receive(api, "R-1", "W-A", "BOLT-10", 10)
    today = Clock().today()
    other = Service.start(settings)

    def workflow_idle() -> None:
        """The served app's promising workflow has read the whole log: what it would record about
        GEAR-7 (nothing: no supply is expected) is done, so the promises recorded next stand."""

        def idle() -> bool:
            with other.engine.connect() as conn:
                return read_position(conn, Promising.name) >= other.store.head()

        assert wait_until(idle, timeout=20)

    try:
        assert order(api, "SO-1", GEAR_7=2)["status"] == "backordered"
        workflow_idle()
        promise(other, "SO-1", {"1": today - timedelta(days=1)})
        receive(api, "R-2", "W-A", "GEAR-7", 2)  # fills SO-1 a day after its promise
        ship(api, "SH-1", "SO-1", "GEAR-7", 2)  # late
        assert order(api, "SO-2", BOLT_10=1)["status"] == "allocated"
        ship(api, "SH-2", "SO-2", "BOLT-10", 1)  # never backordered: on time
        assert order(api, "SO-3", GEAR_7=1)["status"] == "backordered"
        assert order(api, "SO-4", GEAR_7=1)["status"] == "backordered"
        workflow_idle()  # and no GEAR-7 event after the promises: they stand
        promise(other, "SO-3", {"1": today - timedelta(days=1)})  # past due
        promise(other, "SO-4", {"1": today + timedelta(days=1)})  # not yet
    finally:
        other.close()

    def shown() -> bool:
        s = ok(api.get("/v1/ops/signals"), 200)
        accuracy = ok(api.get("/v1/ops/summary"), 200)["promise_accuracy"]
        return s["promises_late"] == 1 and accuracy == {"share": 0.5, "shipped_lines": 2, "on_time": 1, "late": 1}

    assert wait_until(shown, timeout=20), (api.get("/v1/ops/signals").text, api.get("/v1/ops/summary").text)
    context = browser.new_context(viewport={"width": 1440, "height": 1000})
    try:
        page = context.new_page()
        page.set_default_timeout(TIMEOUT_MS)
        expect.set_options(timeout=TIMEOUT_MS)
        assert page.goto(f"{served}/ops?every=1").status == 200
        page.fill("#key", ADMIN_KEY)
        page.click("#login button[type=submit]")
        expect(page.locator("#promise-accuracy")).to_have_text("50.0%")
        expect(page.locator("#promise-on-time")).to_have_text("1")
        expect(page.locator("#promise-shipped")).to_have_text("2")
        expect(page.locator("#promises-late")).to_have_text("1")
        expect(page.locator("#kpi-promises")).to_have_class("kpi warn")
    finally:
        context.close()


def screenshot(page: Any) -> None:
    wanted = os.environ.get("O2C_SCREENSHOT")
    if not wanted:
        return
    target = ROOT / "docs" / "ops-dashboard.png" if wanted in ("1", "true") else Path(wanted)
    target.parent.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(target), full_page=True)
