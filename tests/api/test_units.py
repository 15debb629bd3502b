"""Units of measure over HTTP (API.md "Price lists and units of measure"), on both stores: products
with units, order lines in them (new and added by changes), and every other quantity in base units
(allocation, ATP, shipments, invoices)."""

from __future__ import annotations

from typing import Any

import pytest

from infra.service import Service
from tests.conftest import Api, settle, wait_until
from tests.http import line, ok, place, problem, read, receive

WIDGET = {"name": "Widget", "unit_price": "2.00", "units": [{"uom": "CS", "factor": 12}, {"uom": "PL", "factor": 480}]}


def service(api: Api) -> Service:
    svc: Service = api.client.app.state.service  # type: ignore[union-attr]
    return svc


@pytest.fixture
def widgets(seeded: Api) -> Api:
    """The seeded app with WIDGET (2.00 per EA, CS of 12, PL of 480) and 100 of them at W-A."""
    ok(seeded.put("/v1/products/WIDGET", WIDGET))
    receive(seeded, "R-W", "W-A", "WIDGET", 100)
    return seeded


def ordered(body: dict[str, Any]) -> list[tuple[Any, ...]]:
    return [
        (ln["sku"], ln["qty"], ln["ordered_uom"], ln["ordered_qty"], ln["unit_price"], ln["amount"])
        for ln in body["lines"]
    ]


def test_a_product_answers_its_units_and_a_put_without_units_drops_them(seeded: Api) -> None:
    api = seeded
    created = ok(api.put("/v1/products/WIDGET", WIDGET))
    assert (created["uom"], created["units"]) == ("EA", WIDGET["units"])
    assert read(api, "/v1/products/WIDGET")["units"] == WIDGET["units"]
    assert read(api, "/v1/products/BOLT-10")["units"] == []
    assert ok(api.put("/v1/products/WIDGET", WIDGET), 200)["position"] == created["position"]
    assert ok(api.put("/v1/products/WIDGET", {"name": "Widget", "unit_price": "2.00"}), 200)["units"] == []


def test_two_cases_at_24_are_24_each_at_2_reserved_shipped_and_invoiced_in_each(widgets: Api) -> None:
    api = widgets
    body = ok(place(api, "SO-1", [line("WIDGET", 2, uom="CS", unit_price="24.00"), line("NUT-4", 4)]))
    assert ordered(body) == [("WIDGET", 24, "CS", 2, "2.00", "48.00"), ("NUT-4", 4, "EA", 4, "0.25", "1.00")]
    assert (body["lines"][0]["allocated"], body["total"]) == (24, "49.00")
    atp = read(api, "/v1/atp/WIDGET", body["position"])
    assert (atp["on_hand"], atp["reserved"], atp["available"]) == (100, 24, 76)

    shipped = ok(
        api.post(
            "/v1/shipments",
            {"shipment_id": "SH-1", "order_id": "SO-1", "warehouse_id": "W-A", "lines": [line("WIDGET", 18)]},
        )
    )
    assert shipped["lines"] == [{"sku": "WIDGET", "qty": 18}]
    invoice = wait_until(lambda: (r := api.get("/v1/invoices/INV-SH-1")).status_code == 200 and r.json())
    assert invoice["lines"] == [{"sku": "WIDGET", "qty": 18, "unit_price": "2.00", "amount": "36.00"}]
    after = read(api, "/v1/orders/SO-1", shipped["position"])
    assert [(ln["qty"], ln["shipped"], ln["allocated"]) for ln in after["lines"][:1]] == [(24, 18, 6)]


def test_the_base_uom_may_be_named_and_a_sent_price_is_per_the_lines_unit(widgets: Api) -> None:
    api = widgets
    assert ordered(ok(place(api, "SO-1", [line("WIDGET", 5, uom="EA", unit_price="2.00")]))) == [
        ("WIDGET", 5, "EA", 5, "2.00", "10.00")
    ]
    p = problem(place(api, "SO-2", [line("WIDGET", 1, uom="CS", unit_price="2.00")]), 422, "price_mismatch")
    assert (p["expected_unit_price"], p["lines"][0]["uom"]) == ("24.00", "CS")
    p = problem(place(api, "SO-3", [line("WIDGET", 1, uom="CS", unit_price="25.00")]), 422, "price_mismatch")
    assert p["expected_unit_price"] == "24.00"  # 25.00 / 12 is no price: the sent price is never divided


def test_a_case_counts_as_12_towards_the_price_breaks(widgets: Api) -> None:
    api = widgets
    items = [{"sku": "WIDGET", "unit_price": "1.75", "min_qty": 24}]
    ok(api.put("/v1/price-lists/PL-1", {"name": "Cases", "items": items}))
    customer = {
        "name": "C1",
        "credit_limit": "100000.00",
        "tax_region": "CA",
        "status": "active",
        "price_list_id": "PL-1",
    }
    ok(api.put("/v1/customers/C1", customer), 200)
    body = ok(place(api, "SO-1", [line("WIDGET", 2, uom="CS", unit_price="21.00")]))
    assert ordered(body) == [("WIDGET", 24, "CS", 2, "1.75", "42.00")]
    assert body["lines"][0]["price_source"] == "price_list"


def test_a_unit_the_product_lacks_is_unknown_uom_and_records_nothing(widgets: Api) -> None:
    api = widgets
    before = settle(service(api))
    for uom in ("BX", "cs"):
        p = problem(place(api, "SO-1", [line("NUT-4", 1), line("WIDGET", 1, uom=uom)]), 422, "unknown_uom")
        assert (p["sku"], p["uom"]) == ("WIDGET", uom)
    problem(place(api, "SO-1", [line("WIDGET", 2_083_334, uom="PL")]), 422, "invalid_request")  # > 1e9 EA
    assert settle(service(api)) == before
    problem(api.get("/v1/orders/SO-1"), 404, "not_found")


def test_changes_add_lines_in_units_and_set_quantities_in_base_units(widgets: Api) -> None:
    api = widgets
    ok(
        api.put(
            "/v1/products/NUT-4", {"name": "Nut M4", "unit_price": "0.25", "units": [{"uom": "BX", "factor": 100}]}
        ),
        200,
    )
    receive(api, "R-N", "W-A", "NUT-4", 500)
    ok(place(api, "SO-1", [line("WIDGET", 2, uom="CS")]))
    change = {
        "change_id": "CH-1",
        "reason": "buyer",
        "lines": [{"line_id": "1", "qty": 30}],
        "add_lines": [line("NUT-4", 3, uom="BX", unit_price="25.00")],
    }
    body = ok(api.post("/v1/orders/SO-1/changes", change), 200)
    assert ordered(body) == [("WIDGET", 30, "EA", 30, "2.00", "60.00"), ("NUT-4", 300, "BX", 3, "0.25", "75.00")]
    assert [ln["allocated"] for ln in body["lines"]] == [30, 300]
    back = {"change_id": "CH-2", "reason": "buyer", "lines": [{"line_id": "1", "qty": 36}]}
    assert ordered(ok(api.post("/v1/orders/SO-1/changes", back), 200))[0] == ("WIDGET", 36, "CS", 3, "2.00", "72.00")
    bad = {"change_id": "CH-3", "reason": "buyer", "add_lines": [line("BOLT-10", 1, uom="CS")]}
    problem(api.post("/v1/orders/SO-1/changes", bad), 422, "unknown_uom")
