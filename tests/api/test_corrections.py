"""The corrections of 2026-12 to the first edition, end to end over HTTP on both stores."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from litestar.testing import TestClient

from api.app import create_app
from tests.conftest import Api, make_settings, seed, wait_until
from tests.http import line, ok, place, problem, read, receive

Start = Callable[..., Api]


@pytest.fixture
def start(database_url: str) -> Iterator[Start]:
    """Start the app with some settings changed; stopped at the end of the test."""
    clients: list[TestClient[Any]] = []

    def go(**overrides: Any) -> Api:
        client = TestClient(create_app(make_settings(database_url, **overrides)))
        client.__enter__()
        clients.append(client)
        api = Api(client)
        seed(api)
        return api

    yield go
    for client in clients:
        client.__exit__(None, None, None)


def feed_positions(api: Api, after: int) -> list[int]:
    return [e["position"] for e in read(api, "/v1/events", after=after, limit=1000)["events"]]


# --- shipping never takes on hand below zero ---------------------------------------------------------


def test_an_over_allocated_position_ships_only_what_is_on_hand(seeded: Api) -> None:
    api = seeded
    receive(api, "R-1", "W-A", "BOLT-10", 10)
    ok(place(api, "SO-1", [line("BOLT-10", 10)]))
    adjusted = {"adjustment_id": "ADJ-1", "warehouse_id": "W-A", "sku": "BOLT-10", "qty_delta": -6, "reason": "lost"}
    ok(api.post("/v1/inventory/adjustments", adjusted))

    shipment = {"shipment_id": "SH-1", "order_id": "SO-1", "warehouse_id": "W-A", "lines": [line("BOLT-10", 10)]}
    refused = problem(api.post("/v1/shipments", shipment), 409, "insufficient_stock")
    assert (refused["requested"], refused["on_hand"]) == (10, 4)
    assert read(api, "/v1/atp/BOLT-10")["on_hand"] == 4  # nothing recorded

    ok(api.post("/v1/shipments", {**shipment, "lines": [line("BOLT-10", 4)]}))
    found = ok(api.post("/v1/inventory/adjustments", {**adjusted, "adjustment_id": "ADJ-2", "qty_delta": 3}))
    view = read(api, "/v1/atp/BOLT-10", found["position"])
    assert (view["on_hand"], view["reserved"]) == (3, 6)


# --- stock owed to older backorders is theirs -----------------------------------------------------------


ROUNDS = 12


def test_a_new_order_never_takes_stock_a_receipt_owes_an_older_backorder(seeded: Api) -> None:
    api = seeded
    for i in range(ROUNDS):
        sku = f"FIFO-R{i}"
        ok(api.put(f"/v1/products/{sku}", {"name": sku, "unit_price": "1.00"}))
        ok(place(api, f"OLD-{i}", [line(sku, 5)]))
        receive(api, f"R-{sku}", "W-A", sku, 5)
        new = ok(place(api, f"NEW-{i}", [line(sku, 5)]))  # at once: no time for a background fill
        assert (new["status"], new["lines"][0]["allocated"]) == ("backordered", 0), (i, new)
        old = read(api, f"/v1/orders/OLD-{i}")
        assert (old["status"], old["lines"][0]["allocated"]) == ("allocated", 5), (i, old)


def test_a_new_order_never_takes_stock_a_cancel_frees_for_an_older_backorder(seeded: Api) -> None:
    api = seeded
    for i in range(ROUNDS):
        sku = f"FIFO-C{i}"
        ok(api.put(f"/v1/products/{sku}", {"name": sku, "unit_price": "1.00"}))
        receive(api, f"R-{sku}", "W-A", sku, 5)
        ok(place(api, f"FIRST-{i}", [line(sku, 5)]))
        waiting = ok(place(api, f"WAITING-{i}", [line(sku, 5)]))
        assert waiting["status"] == "backordered"
        ok(api.post(f"/v1/orders/FIRST-{i}/cancel", {"reason": "customer"}), 200)
        new = ok(place(api, f"NEW-{i}", [line(sku, 5)]))
        assert (new["status"], new["lines"][0]["allocated"]) == ("backordered", 0), (i, new)
        assert read(api, f"/v1/orders/WAITING-{i}")["status"] == "allocated"


def test_other_commands_that_free_stock_fill_older_backorders_in_the_same_write(seeded: Api) -> None:
    api = seeded
    ok(place(api, "SO-1", [line("BOLT-10", 2)]))
    ok(place(api, "SO-2", [line("BOLT-10", 2)]))
    adjusted = ok(
        api.post(
            "/v1/inventory/adjustments",
            {"adjustment_id": "A-1", "warehouse_id": "W-A", "sku": "BOLT-10", "qty_delta": 2, "reason": "found"},
        )
    )
    assert (adjusted.get("reserved"), read(api, "/v1/orders/SO-1")["status"]) in ((2, "allocated"), (None, "allocated"))
    ok(api.post("/v1/inventory/counts", {"count_id": "C-1", "warehouse_id": "W-B", "sku": "BOLT-10", "counted_qty": 2}))
    assert read(api, "/v1/orders/SO-2")["status"] == "allocated"
    view = read(api, "/v1/atp/BOLT-10", ok(api.post("/v1/orders/SO-1/cancel", {"reason": "x"}), 200)["position"])
    assert (view["on_hand"], view["reserved"], view["backordered"]) == (4, 2, 0)


# --- the delivery trigger ----------------------------------------------------------------------------


def test_with_the_delivery_trigger_the_invoice_exists_as_soon_as_the_shipment_answers(start: Start) -> None:
    api = start(billing_trigger="delivery")
    receive(api, "R-1", "W-A", "BOLT-10", 5)
    ok(place(api, "SO-1", [line("BOLT-10", 5)]))
    shipped = ok(
        api.post(
            "/v1/shipments",
            {"shipment_id": "SH-1", "order_id": "SO-1", "warehouse_id": "W-A", "lines": [line("BOLT-10", 5)]},
        )
    )
    assert shipped["invoice_id"] == "INV-SH-1"
    invoice = read(api, "/v1/invoices/INV-SH-1", shipped["position"])
    assert invoice["status"] == "awaiting_shipment_proof"
    assert read(api, "/v1/shipments/SH-1")["invoice_id"] == "INV-SH-1"
    listed = read(api, "/v1/invoices", shipped["position"], order_id="SO-1")["items"]
    assert [i["invoice_id"] for i in listed] == ["INV-SH-1"]


# --- time travel steps by command ----------------------------------------------------------------------


def test_time_travel_shows_only_states_some_reader_could_have_seen(seeded: Api) -> None:
    api = seeded
    receive(api, "R-1", "W-A", "BOLT-10", 5)
    placed = ok(place(api, "SO-1", [line("BOLT-10", 5)]))
    assert placed["status"] == "allocated"
    first = read(api, "/v1/orders/SO-1", as_of_version=1)
    assert first["status"] == "allocated" and first["version"] >= 2, first
    ok(
        api.put("/v1/customers/C2", {"name": "Tight", "credit_limit": "1.00", "tax_region": "CA", "status": "active"}),
        200,
    )
    held = ok(place(api, "SO-2", [line("BOLT-10", 1)], customer_id="C2"))
    assert held["status"] == "credit_hold"
    assert read(api, "/v1/orders/SO-2", as_of_version=1)["status"] == "credit_hold"
    ok(api.post("/v1/orders/SO-1/cancel", {"reason": "x"}), 200)
    now = read(api, "/v1/orders/SO-1")
    assert read(api, "/v1/orders/SO-1", as_of_version=now["version"])["status"] == "cancelled"
    assert read(api, "/v1/orders/SO-1", as_of_version=first["version"])["status"] == "allocated"


# --- positions are public ------------------------------------------------------------------------------


def test_a_commands_position_is_an_event_the_feed_shows(seeded: Api) -> None:
    api = seeded
    keyed = {"Idempotency-Key": "k-position"}
    placed = ok(place(api, "SO-1", [line("BOLT-10", 1)], headers=keyed))
    assert placed["position"] in feed_positions(api, placed["position"] - 1)
    replayed = ok(place(api, "SO-1", [line("BOLT-10", 1)], headers=keyed))
    assert replayed["position"] == placed["position"]

    cancelled = ok(api.post("/v1/orders/SO-1/cancel", {"reason": "x"}, headers={"Idempotency-Key": "c1"}), 200)
    again = ok(api.post("/v1/orders/SO-1/cancel", {"reason": "x"}, headers={"Idempotency-Key": "c2"}), 200)
    assert again["position"] == cancelled["position"]  # recorded nothing public: the newest public event
    assert cancelled["position"] in feed_positions(api, cancelled["position"] - 1)


# --- idempotency keys of no-ops and refusals ---------------------------------------------------------


def test_a_command_that_records_nothing_still_records_its_key(seeded: Api) -> None:
    api = seeded
    ok(place(api, "SO-1", [line("BOLT-10", 1)]))
    ok(api.post("/v1/orders/SO-1/cancel", {"reason": "x"}), 200)
    again = api.post("/v1/orders/SO-1/cancel", {"reason": "x"}, headers={"Idempotency-Key": "noop"})
    ok(again, 200)
    reused = api.post("/v1/orders/SO-1/cancel", {"reason": "other"}, headers={"Idempotency-Key": "noop"})
    problem(reused, 422, "idempotency_key_reused")
    assert (
        api.post("/v1/orders/SO-1/cancel", {"reason": "x"}, headers={"Idempotency-Key": "noop"}).content
        == again.content
    )


def test_a_refusal_by_a_rule_is_replayed_for_the_same_key_and_body(seeded: Api) -> None:
    api = seeded
    keyed = {"Idempotency-Key": "strict-1"}
    body = [line("BOLT-10", 3)]
    first = place(api, "SO-1", body, headers=keyed, allow_backorder=False)
    problem(first, 409, "insufficient_stock")
    receive(api, "R-1", "W-A", "BOLT-10", 10)  # the rule would now pass: the key still answers as before
    again = place(api, "SO-1", body, headers=keyed, allow_backorder=False)
    assert (again.status_code, again.content) == (409, first.content)
    assert again.headers["content-type"].startswith("application/problem+json")
    problem(
        place(api, "SO-1", [line("BOLT-10", 4)], headers=keyed, allow_backorder=False), 422, "idempotency_key_reused"
    )
    # without the key the order is decided afresh, and its business id was never taken
    ok(place(api, "SO-1", body, allow_backorder=False))
    # malformed requests are not kept: the same key may be used once the request is right
    bad = api.post("/v1/orders", {"customer_id": "C1", "channel": "web", "lines": []}, headers={"Idempotency-Key": "m"})
    problem(bad, 422, "invalid_request")
    ok(place(api, "SO-2", [line("BOLT-10", 1)], headers={"Idempotency-Key": "m"}))
    assert "strict-1" not in str(read(api, "/v1/events", after=0, limit=1000))


def test_restocked_returns_go_to_older_backorders_in_the_same_write(seeded: Api) -> None:
    api = seeded
    receive(api, "R-1", "W-A", "BOLT-10", 2)
    ok(place(api, "SO-1", [line("BOLT-10", 2)]))
    shipment = {"shipment_id": "SH-1", "order_id": "SO-1", "warehouse_id": "W-A", "lines": [line("BOLT-10", 2)]}
    ok(api.post("/v1/shipments", shipment))
    assert wait_until(lambda: api.get("/v1/invoices/INV-SH-1").json().get("status") == "issued", timeout=10)
    assert ok(place(api, "SO-2", [line("BOLT-10", 1)]))["status"] == "backordered"
    back = {
        "return_id": "RMA-1",
        "order_id": "SO-1",
        "warehouse_id": "W-A",
        "lines": [line("BOLT-10", 1)],
        "restock": True,
    }
    ok(api.post("/v1/returns", back))
    assert read(api, "/v1/orders/SO-2")["status"] == "allocated"
    assert ok(place(api, "SO-3", [line("BOLT-10", 1)]))["status"] == "backordered"
