"""Price lists over HTTP (API.md "Price lists and units of measure"), on both stores: PUT and GET,
customers on a list, the price rule on order lines with `price_source`, and prices as facts of
the order (changes of prices never touch accepted orders; time travel shows the price then)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from infra.clock import FixedClock
from infra.service import Service
from tests.conftest import Api, settle
from tests.http import line, ok, place, problem, read

TODAY = datetime(2026, 12, 2, 9, 0, tzinfo=UTC)
CUSTOMER = {"name": "Customer C1", "credit_limit": "100000.00", "tax_region": "CA", "status": "active"}
WHOLESALE = {
    "name": "Wholesale",
    "items": [
        {"sku": "BOLT-10", "unit_price": "8.00"},
        {"sku": "BOLT-10", "unit_price": "7.50", "min_qty": 10},
        {"sku": "BOLT-10", "unit_price": "7.00", "min_qty": 100, "valid_to": "2026-12-31"},
        {"sku": "NUT-4", "unit_price": "0.20", "min_qty": 50, "valid_from": "2026-12-03"},
    ],
}


def service(api: Api) -> Service:
    svc: Service = api.client.app.state.service  # type: ignore[union-attr]
    return svc


@pytest.fixture
def listed(seeded: Api) -> Api:
    """The seeded app on 2026-12-02, with price list PL-1 and customer C1 on it."""
    service(seeded).clock = FixedClock(TODAY)
    ok(seeded.put("/v1/price-lists/PL-1", WHOLESALE))
    ok(seeded.put("/v1/customers/C1", {**CUSTOMER, "price_list_id": "PL-1"}), 200)
    return seeded


def prices(body: dict[str, Any]) -> dict[str, tuple[str, str]]:
    return {ln["sku"]: (ln["unit_price"], ln["price_source"]) for ln in body["lines"]}


def test_a_price_list_is_created_replaced_and_read(seeded: Api) -> None:
    api = seeded
    created = ok(api.put("/v1/price-lists/PL-1", WHOLESALE), 201)
    assert (created["price_list_id"], created["name"], created["currency"]) == ("PL-1", "Wholesale", "USD")
    assert created["items"][0] == {
        "sku": "BOLT-10",
        "unit_price": "8.00",
        "min_qty": 1,
        "valid_from": None,
        "valid_to": None,
    }
    assert created["items"][3]["valid_from"] == "2026-12-03"
    got = read(api, "/v1/price-lists/PL-1", created["position"])
    assert got == {k: v for k, v in created.items() if k != "position"}

    same = ok(api.put("/v1/price-lists/PL-1", WHOLESALE), 200)
    assert same["position"] == created["position"]  # unchanged: nothing recorded

    replaced = ok(api.put("/v1/price-lists/PL-1", {"name": "Winter", "items": [WHOLESALE["items"][1]]}), 200)
    assert replaced["position"] > created["position"]
    assert read(api, "/v1/price-lists/PL-1")["items"] == [
        {"sku": "BOLT-10", "unit_price": "7.50", "min_qty": 10, "valid_from": None, "valid_to": None}
    ]
    problem(api.get("/v1/price-lists/PL-2"), 404, "not_found")
    history = ok(api.get("/v1/events", after=0, limit=1000), 200)["events"]
    kinds = [(e["type"], e["subject"]) for e in history if e["subject"].startswith("price-list/")]
    assert kinds == [("o2c.PriceListDefined", "price-list/PL-1"), ("o2c.PriceListReplaced", "price-list/PL-1")]


def test_a_price_list_naming_an_unknown_sku_is_refused_and_records_nothing(seeded: Api) -> None:
    api = seeded
    before = settle(service(api))
    body = {"name": "X", "items": [{"sku": "NUT-4", "unit_price": "0.20"}, {"sku": "NOPE-1", "unit_price": "1.00"}]}
    assert problem(api.put("/v1/price-lists/PL-1", body), 422, "unknown_sku")["sku"] == "NOPE-1"
    assert settle(service(api)) == before
    problem(api.get("/v1/price-lists/PL-1"), 404, "not_found")


def test_a_customer_takes_a_known_price_list_only(seeded: Api) -> None:
    api = seeded
    before = settle(service(api))
    p = problem(api.put("/v1/customers/C1", {**CUSTOMER, "price_list_id": "PL-1"}), 422, "unknown_price_list")
    assert p["price_list_id"] == "PL-1"
    problem(api.put("/v1/customers/C9", {**CUSTOMER, "price_list_id": "PL-1"}), 422, "unknown_price_list")
    assert settle(service(api)) == before
    problem(api.get("/v1/customers/C9"), 404, "not_found")

    ok(api.put("/v1/price-lists/PL-1", WHOLESALE))
    assert ok(api.put("/v1/customers/C1", {**CUSTOMER, "price_list_id": "PL-1"}), 200)["price_list_id"] == "PL-1"
    assert read(api, "/v1/customers/C1")["price_list_id"] == "PL-1"
    assert ok(api.put("/v1/customers/C1", CUSTOMER), 200)["price_list_id"] is None  # PUT replaces the customer


def test_lines_take_contract_then_list_break_then_product_price_and_say_which(listed: Api) -> None:
    api = listed
    ok(api.put("/v1/customers/C1/prices/NUT-4", {"unit_price": "0.22"}))
    body = ok(place(api, "SO-1", [line("BOLT-10", 12), line("NUT-4", 60)]))
    assert prices(body) == {"BOLT-10": ("7.50", "price_list"), "NUT-4": ("0.22", "contract")}
    assert body["total"] == "103.20"  # 12 x 7.50 + 60 x 0.22

    assert prices(ok(place(api, "SO-2", [line("BOLT-10", 9), line("NUT-4", 60)], customer_id="C2"))) == {
        "BOLT-10": ("8.50", "product"),
        "NUT-4": ("0.25", "product"),
    }
    assert prices(ok(place(api, "SO-3", [line("BOLT-10", 100)]))) == {"BOLT-10": ("7.00", "price_list")}
    assert prices(ok(place(api, "SO-4", [line("BOLT-10", 1, unit_price="8.00")]))) == {
        "BOLT-10": ("8.00", "price_list")
    }
    p = problem(place(api, "SO-5", [line("BOLT-10", 10, unit_price="8.00")]), 422, "price_mismatch")
    assert (p["sku"], p["expected_unit_price"]) == ("BOLT-10", "7.50")


def test_items_count_on_their_days_only(listed: Api) -> None:
    api = listed
    ok(api.put("/v1/customers/C2", {**CUSTOMER, "name": "C2", "price_list_id": "PL-1"}), 200)
    assert prices(ok(place(api, "SO-1", [line("NUT-4", 50)], customer_id="C2"))) == {"NUT-4": ("0.25", "product")}
    service(api).clock = FixedClock(datetime(2026, 12, 3, 0, 0, tzinfo=UTC))  # NUT-4's item starts today
    assert prices(ok(place(api, "SO-2", [line("NUT-4", 50)], customer_id="C2"))) == {"NUT-4": ("0.20", "price_list")}
    service(api).clock = FixedClock(datetime(2027, 1, 1, 0, 0, tzinfo=UTC))  # the 100+ break ended yesterday
    assert prices(ok(place(api, "SO-3", [line("BOLT-10", 100)], customer_id="C2"))) == {
        "BOLT-10": ("7.50", "price_list")
    }


def test_overlapping_items_of_one_sku_and_min_qty_are_accepted_and_the_lowest_price_wins(listed: Api) -> None:
    api = listed
    promo = {
        "sku": "BOLT-10",
        "unit_price": "6.90",
        "min_qty": 10,
        "valid_from": "2026-12-01",
        "valid_to": "2026-12-24",
    }
    ok(api.put("/v1/price-lists/PL-1", {**WHOLESALE, "items": [*WHOLESALE["items"], promo]}), 200)
    assert prices(ok(place(api, "SO-1", [line("BOLT-10", 10)]))) == {"BOLT-10": ("6.90", "price_list")}
    service(api).clock = FixedClock(datetime(2026, 12, 25, 8, 0, tzinfo=UTC))
    assert prices(ok(place(api, "SO-2", [line("BOLT-10", 10)]))) == {"BOLT-10": ("7.50", "price_list")}


def test_price_changes_never_touch_accepted_orders_and_time_travel_shows_the_price_then(listed: Api) -> None:
    api = listed
    placed = ok(place(api, "SO-1", [line("BOLT-10", 12)]))
    assert (placed["lines"][0]["unit_price"], placed["total"]) == ("7.50", "90.00")

    ok(api.put("/v1/price-lists/PL-1", {"name": "Dearer", "items": [{"sku": "BOLT-10", "unit_price": "9.00"}]}), 200)
    ok(api.put("/v1/products/NUT-4", {"name": "Nut M4", "unit_price": "0.30"}), 200)
    change = {
        "change_id": "CH-1",
        "reason": "more",
        "lines": [{"line_id": "1", "qty": 20}],
        "add_lines": [line("NUT-4", 5)],
    }
    changed = ok(api.post("/v1/orders/SO-1/changes", change), 200)
    assert [(ln["sku"], ln["qty"], ln["unit_price"], ln["price_source"]) for ln in changed["lines"]] == [
        ("BOLT-10", 20, "7.50", "price_list"),  # an existing line keeps its price
        ("NUT-4", 5, "0.30", "product"),  # an added line takes today's
    ]
    assert changed["total"] == "151.50"

    now = read(api, "/v1/orders/SO-1", changed["position"])
    assert (now["lines"][0]["unit_price"], now["total"]) == ("7.50", "151.50")
    then = read(api, "/v1/orders/SO-1", as_of_version=1)
    assert [(ln["qty"], ln["unit_price"], ln["price_source"]) for ln in then["lines"]] == [(12, "7.50", "price_list")]
    assert then["total"] == "90.00"
    assert prices(ok(place(api, "SO-2", [line("BOLT-10", 12)]))) == {"BOLT-10": ("9.00", "price_list")}
    listed_orders = read(api, "/v1/orders", changed["position"], customer_id="C1")["items"]
    assert {o["order_id"]: o["total"] for o in listed_orders}["SO-1"] == "151.50"
