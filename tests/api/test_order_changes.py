"""Changing an order over HTTP (API.md "Changing an order"): every rule in order, nothing recorded
on a rejection, stock and backorders moved in the same write, history one step per change."""

from __future__ import annotations

from typing import Any

import pytest

from tests.conftest import Api
from tests.http import line, ok, place, problem, read, receive


def change(api: Api, order_id: str, change_id: str, **body: Any) -> Any:
    return api.post(f"/v1/orders/{order_id}/changes", {"change_id": change_id, "reason": "customer called", **body})


def order(api: Api, order_id: str) -> dict[str, Any]:
    return read(api, f"/v1/orders/{order_id}")


def lines_of(o: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {ln["line_id"]: ln for ln in o["lines"]}


def head(api: Api) -> int:
    page = ok(api.get("/v1/events", after=0, limit=1000), 200)
    return max((e["position"] for e in page["events"]), default=0)


@pytest.fixture
def booked(seeded: Api) -> Api:
    """SO-1: BOLT-10 x 10 reserved 6 at W-A and 4 at W-B; NUT-4 x 5 at W-A."""
    receive(seeded, "R-A", "W-A", "BOLT-10", 6)
    receive(seeded, "R-B", "W-B", "BOLT-10", 4)
    receive(seeded, "R-N", "W-A", "NUT-4", 100)
    ok(place(seeded, "SO-1", [line("BOLT-10", 10, line_id="1"), line("NUT-4", 5, line_id="2")]))
    return seeded


def test_a_reduction_drops_backorder_first_then_releases_warehouse_id_descending(booked: Api) -> None:
    ok(place(booked, "SO-2", [line("BOLT-10", 3)]))  # backordered: all BOLT-10 is on SO-1
    answer = ok(change(booked, "SO-1", "CH-1", lines=[{"line_id": "1", "qty": 5}]), 200)
    bolt = lines_of(answer)["1"]
    assert (bolt["qty"], bolt["allocated"], bolt["backordered"]) == (5, 5, 0)
    assert bolt["allocations"] == [{"warehouse_id": "W-A", "qty": 5}]  # W-B (descending) released first, then W-A
    assert answer["total"] == "43.75"  # 5 x 8.50 + 5 x 0.25
    # What was released filled SO-2's backorder in the same write (FIFO), visible at the change's position.
    so2 = read(booked, "/v1/orders/SO-2", answer["position"])
    assert (so2["status"], so2["lines"][0]["allocated"]) == ("allocated", 3)


def test_an_increase_allocates_like_placement_and_its_rest_waits_behind_older_backorders(booked: Api) -> None:
    ok(place(booked, "SO-2", [line("BOLT-10", 2)]))  # waits first
    answer = ok(change(booked, "SO-1", "CH-1", lines=[{"line_id": "1", "qty": 13}]), 200)
    assert (lines_of(answer)["1"]["allocated"], lines_of(answer)["1"]["backordered"]) == (10, 3)
    position = receive(booked, "R-2", "W-A", "BOLT-10", 2)
    assert read(booked, "/v1/orders/SO-2", position)["status"] == "allocated"  # older backorder first
    assert lines_of(order(booked, "SO-1"))["1"]["backordered"] == 3
    position = receive(booked, "R-3", "W-A", "BOLT-10", 3)
    assert lines_of(read(booked, "/v1/orders/SO-1", position))["1"]["allocated"] == 13


def test_an_added_line_is_priced_like_a_new_order_and_allocated(booked: Api) -> None:
    ok(booked.put("/v1/products/WASH-8", {"name": "Washer", "unit_price": "0.10"}), 201)
    receive(booked, "R-W", "W-C", "WASH-8", 50)
    sent = [{"sku": "WASH-8", "qty": 20, "customer_line_ref": "PO-L3", "requested_date": "2027-01-15"}]
    answer = ok(change(booked, "SO-1", "CH-1", add_lines=sent), 200)
    added = lines_of(answer)["3"]  # numbered on from the order's lines
    assert (added["unit_price"], added["amount"], added["allocated"]) == ("0.10", "2.00", 20)
    assert (added["customer_line_ref"], added["requested_date"]) == ("PO-L3", "2027-01-15")
    refused = change(booked, "SO-1", "CH-2", add_lines=[{"sku": "WASH-8", "qty": 1, "line_id": "9"}])
    problem(refused, 422, "invalid_request")  # the SKU is on the order already
    wrong = change(booked, "SO-1", "CH-3", add_lines=[{"sku": "WASH-9", "qty": 1}])
    problem(wrong, 422, "unknown_sku")


def test_every_rule_refuses_in_order_with_its_facts_and_records_nothing(booked: Api) -> None:
    before = head(booked)
    problem(change(booked, "SO-9", "CH-1", lines=[{"line_id": "1", "qty": 1}]), 404, "not_found")
    unknown = problem(change(booked, "SO-1", "CH-1", lines=[{"line_id": "7", "qty": 1}]), 422, "unknown_line")
    assert unknown["line_id"] == "7"
    twice = [{"line_id": "1", "qty": 1}, {"line_id": "1", "qty": 2}]
    problem(change(booked, "SO-1", "CH-1", lines=twice), 422, "invalid_request")
    problem(change(booked, "SO-1", "CH-1", add_lines=[{"sku": "NUT-4", "qty": 1}]), 422, "invalid_request")
    price = change(booked, "SO-1", "CH-1", add_lines=[{"sku": "WASH-X", "qty": 1}])
    problem(price, 422, "unknown_sku")
    problem(change(booked, "SO-1", "CH-1"), 422, "invalid_request")  # neither lines nor add_lines
    problem(change(booked, "SO-1", "CH-1", lines=[{"line_id": "1", "qty": -1}]), 422, "invalid_request")
    assert head(booked) == before
    ok(booked.post("/v1/shipments", ship("SH-1", "SO-1", "W-A", 6)))
    below = problem(change(booked, "SO-1", "CH-1", lines=[{"line_id": "1", "qty": 2}]), 409, "below_shipped")
    assert below["lines"] == [{"line_id": "1", "sku": "BOLT-10", "shipped": 6, "requested": 2}]
    ok(booked.put("/v1/products/WASH-8", {"name": "Washer", "unit_price": "0.10"}), 201)
    mismatch = change(booked, "SO-1", "CH-1", add_lines=[{"sku": "WASH-8", "qty": 1, "unit_price": "0.09"}])
    problem(mismatch, 422, "price_mismatch")
    ok(booked.post("/v1/orders/SO-1/cancel", {"reason": "rest not needed"}), 200)
    closed = problem(change(booked, "SO-1", "CH-1", lines=[{"line_id": "1", "qty": 7}]), 409, "order_closed")
    assert closed["order_id"] == "SO-1"


def ship(shipment_id: str, order_id: str, warehouse_id: str, qty: int) -> dict[str, Any]:
    lines = [{"sku": "BOLT-10", "qty": qty}]
    return {"shipment_id": shipment_id, "order_id": order_id, "warehouse_id": warehouse_id, "lines": lines}


def test_credit_refuses_an_increase_past_the_limit_but_a_held_order_takes_changes(seeded: Api) -> None:
    body = {"name": "Small", "credit_limit": "100.00", "tax_region": "CA", "status": "active"}
    ok(seeded.put("/v1/customers/SMALL", body), 201)
    receive(seeded, "R-1", "W-A", "BOLT-10", 50)
    ok(place(seeded, "SO-S", [line("BOLT-10", 10, line_id="1")], customer_id="SMALL"))  # 85.00 of 100.00
    refused = problem(change(seeded, "SO-S", "CH-1", lines=[{"line_id": "1", "qty": 12}]), 409, "credit_limit_exceeded")
    assert (refused["credit_limit"], refused["exposure"], refused["increase"]) == ("100.00", "85.00", "17.00")
    ok(place(seeded, "SO-H", [line("BOLT-10", 20, line_id="1")], customer_id="SMALL"))  # held: over the limit
    held = ok(change(seeded, "SO-H", "CH-1", lines=[{"line_id": "1", "qty": 25}]), 200)
    assert (held["status"], held["lines"][0]["allocated"], held["total"]) == ("credit_hold", 0, "212.50")


def test_all_lines_to_zero_cancels_and_unbilled_follows_every_change(booked: Api) -> None:
    balance = read(booked, "/v1/customers/C1/balance")
    assert balance["unbilled"] == "86.25"
    answer = ok(change(booked, "SO-1", "CH-1", lines=[{"line_id": "1", "qty": 4}]), 200)
    assert read(booked, "/v1/customers/C1/balance", answer["position"])["unbilled"] == "35.25"
    answer = ok(change(booked, "SO-1", "CH-2", lines=[{"line_id": "1", "qty": 0}, {"line_id": "2", "qty": 0}]), 200)
    assert answer["status"] == "cancelled" and answer["total"] == "0.00"
    assert all(ln["qty"] == 0 for ln in answer["lines"])  # lines at 0 stay on the order
    assert read(booked, "/v1/customers/C1/balance", answer["position"])["unbilled"] == "0.00"
    atp = read(booked, "/v1/atp/BOLT-10", answer["position"])
    assert atp["available"] == 10  # every reservation released


def test_a_change_is_idempotent_on_its_id_and_one_step_of_history(booked: Api) -> None:
    first = change(booked, "SO-1", "CH-1", lines=[{"line_id": "1", "qty": 8}])
    again = change(booked, "SO-1", "CH-1", lines=[{"line_id": "1", "qty": 8}])
    assert (first.status_code, first.content) == (again.status_code, again.content)
    problem(change(booked, "SO-1", "CH-1", lines=[{"line_id": "1", "qty": 7}]), 409, "duplicate_id")
    history = read(booked, "/v1/orders/SO-1/history")["events"]
    changed = [e for e in history if e["type"] == "OrderChanged"]
    assert len(changed) == 1 and changed[0]["data"]["change_id"] == "CH-1"
    before = [e for e in history if e["type"] != "OrderChanged" and e["version"] < changed[0]["version"]]
    as_of = read(booked, "/v1/orders/SO-1", as_of_version=changed[0]["version"])
    assert lines_of(as_of)["1"]["qty"] == 8 and as_of["version"] >= changed[0]["version"]
    old = read(booked, "/v1/orders/SO-1", as_of_version=before[-1]["version"])
    assert lines_of(old)["1"]["qty"] == 10


def test_an_order_without_backorders_refuses_an_increase_it_cannot_fill(seeded: Api) -> None:
    receive(seeded, "R-1", "W-A", "BOLT-10", 5)
    ok(place(seeded, "SO-1", [line("BOLT-10", 4, line_id="1")], allow_backorder=False))
    refused = problem(change(seeded, "SO-1", "CH-1", lines=[{"line_id": "1", "qty": 6}]), 409, "insufficient_stock")
    assert refused["lines"] == [{"sku": "BOLT-10", "requested": 2, "available": 1}]
    assert lines_of(order(seeded, "SO-1"))["1"]["qty"] == 4


SHIP_TO = {
    "name": "Acme Receiving",
    "address": ["Dock 4", "1 Industrial Way"],
    "city": "Fresno",
    "region": "CA",
    "postal_code": "93706",
    "country": "US",
    "gln": "0614141000005",
}


def test_header_and_line_fields_are_echoed_on_every_order_answer_and_found_by_po(seeded: Api) -> None:
    receive(seeded, "R-1", "W-A", "BOLT-10", 20)
    sent = [line("BOLT-10", 2, customer_line_ref="10"), line("NUT-4", 1, requested_date="2027-02-01")]
    placed = ok(place(seeded, "SO-1", sent, customer_po="PO 4711/A", requested_date="2027-01-20", ship_to=SHIP_TO))
    ok(place(seeded, "SO-2", [line("BOLT-10", 1)]))
    for answer in (placed, order(seeded, "SO-1")):
        assert (answer["customer_po"], answer["requested_date"]) == ("PO 4711/A", "2027-01-20")
        assert answer["ship_to"] == SHIP_TO
        first, second = answer["lines"]
        assert (first["customer_line_ref"], first["requested_date"]) == ("10", "2027-01-20")  # inherits
        assert (second["customer_line_ref"], second["requested_date"]) == (None, "2027-02-01")
    found = read(seeded, "/v1/orders", placed["position"], customer_po="PO 4711/A")
    assert [o["order_id"] for o in found["items"]] == ["SO-1"] and found["items"][0]["ship_to"] == SHIP_TO
    assert read(seeded, "/v1/orders", customer_po="PO 4711")["items"] == []
    plain = order(seeded, "SO-2")
    assert (plain["customer_po"], plain["requested_date"], plain["ship_to"]) == (None, None, None)
    history = read(seeded, "/v1/orders/SO-1/history")["events"]
    assert history[0]["data"]["customer_po"] == "PO 4711/A" and history[0]["data"]["ship_to"]["gln"] == SHIP_TO["gln"]


@pytest.mark.parametrize(
    ("field", "ship_to"),
    [
        ("ship_to.country", {**SHIP_TO, "country": "XX"}),
        ("ship_to.country", {**SHIP_TO, "country": "UK"}),
        ("ship_to.gln", {**SHIP_TO, "gln": "0614141000006"}),
        ("ship_to.address", {**SHIP_TO, "address": ["1", "2", "3", "4"]}),
        ("ship_to.address", {**SHIP_TO, "address": []}),
        ("ship_to.postal_code", {k: v for k, v in SHIP_TO.items() if k != "postal_code"}),
    ],
)
def test_a_bad_ship_to_is_refused_naming_the_field_before_anything_else(
    seeded: Api, field: str, ship_to: dict[str, Any]
) -> None:
    before = head(seeded)
    refused = problem(
        place(seeded, "SO-1", [line("BOLT-10", 1)], customer_id="NOBODY", ship_to=ship_to), 422, "invalid_request"
    )
    assert field in [e["field"] for e in refused["errors"]]
    assert head(seeded) == before
    problem(seeded.get("/v1/orders/SO-1"), 404, "not_found")


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"lines": [{"line_id": "1", "qty": -1}]}, "lines[0].qty"),
        ({"lines": [{"line_id": "1", "qty": 1.5}]}, "lines[0].qty"),
        ({"add_lines": [{"sku": "NUT-4", "qty": 1, "requested_date": "2027-02-30"}]}, "add_lines[0].requested_date"),
        ({"add_lines": [{"sku": "NUT-4", "qty": 1, "requested_date": "tomorrow"}]}, "add_lines[0].requested_date"),
        ({"add_lines": [{"sku": f"S-{i}", "qty": 1} for i in range(501)]}, "add_lines"),
        ({"lines": [{"line_id": "1", "qty": 1, "price": "1.00"}]}, "lines[0].price"),
        ({"lines": [{"line_id": "1", "qty": 1}], "note": "x"}, "note"),
        ({}, "lines"),
        ({"lines": [], "add_lines": []}, "lines"),
    ],
)
def test_a_malformed_change_is_422_naming_the_field_and_records_nothing(
    booked: Api, body: dict[str, Any], field: str
) -> None:
    before = head(booked)
    refused = problem(change(booked, "SO-1", "CH-BAD", **body), 422, "invalid_request")
    assert field in [e["field"] for e in refused["errors"]], refused
    assert head(booked) == before
    problem(change(booked, "SO-1", "CH-BAD", reason="x"), 422, "invalid_request")  # nothing was kept


def test_a_held_order_takes_a_change_and_release_hold_allocates_the_new_quantities(seeded: Api) -> None:
    body = {"name": "Small", "credit_limit": "10.00", "tax_region": "CA", "status": "active"}
    ok(seeded.put("/v1/customers/SMALL", body), 201)
    receive(seeded, "R-1", "W-A", "BOLT-10", 50)
    held = ok(place(seeded, "SO-H", [line("BOLT-10", 4, line_id="1")], customer_id="SMALL"))
    assert held["status"] == "credit_hold"
    changed = ok(change(seeded, "SO-H", "CH-1", lines=[{"line_id": "1", "qty": 6}]), 200)
    assert (changed["status"], changed["lines"][0]["allocated"], changed["total"]) == ("credit_hold", 0, "51.00")
    released = ok(seeded.post("/v1/orders/SO-H/release-hold", {}), 200)
    assert (released["status"], released["lines"][0]["allocated"]) == ("allocated", 6)
    atp = read(seeded, "/v1/atp/BOLT-10", released["position"])
    assert (atp["on_hand"], atp["reserved"]) == (50, 6)


def test_the_readme_worked_example(seeded: Api) -> None:
    """README "An order that changes", with its exact numbers (after the walk-through's first steps:
    10 received, 4 shipped, so 6 BOLT-10 on hand at W-A)."""
    receive(seeded, "R-1", "W-A", "BOLT-10", 10)
    ok(place(seeded, "SO-1", [line("BOLT-10", 4)]))
    ok(seeded.post("/v1/shipments", ship("SH-1", "SO-1", "W-A", 4)))
    so2 = ok(place(seeded, "SO-2", [line("BOLT-10", 6, line_id="1")]))
    so3 = ok(place(seeded, "SO-3", [line("BOLT-10", 2, line_id="1")]))
    assert (so2["status"], so2["total"], so3["status"]) == ("allocated", "51.00", "backordered")
    cut = ok(change(seeded, "SO-2", "CH-1", lines=[{"line_id": "1", "qty": 3}]), 200)
    assert (cut["lines"][0]["qty"], cut["lines"][0]["allocated"], cut["total"]) == (3, 3, "25.50")
    refilled = read(seeded, "/v1/orders/SO-3", cut["position"])
    assert (refilled["status"], refilled["lines"][0]["allocated"]) == ("allocated", 2)
    assert read(seeded, "/v1/atp/BOLT-10", cut["position"])["available"] == 1
    raised = ok(change(seeded, "SO-2", "CH-2", reason="customer called again", lines=[{"line_id": "1", "qty": 5}]), 200)
    assert (raised["lines"][0]["allocated"], raised["lines"][0]["backordered"], raised["total"]) == (4, 1, "42.50")
    position = receive(seeded, "R-2", "W-A", "BOLT-10", 1)
    done = read(seeded, "/v1/orders/SO-2", position)
    assert (done["status"], done["lines"][0]["allocated"]) == ("allocated", 5)
