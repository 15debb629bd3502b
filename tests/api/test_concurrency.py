"""Concurrency over real HTTP: real threads hit the app served by uvicorn, on SQLite and PostgreSQL.

Every test releases its requests together (a Barrier) and then checks the invariants the contract
makes binding: never more reserved than on hand, nothing recorded twice for one Idempotency-Key or
business id, and reservations that always match what the orders say they hold. No test asserts on
timing; contention may only slow a command down, never turn it into a 5xx.
"""

from __future__ import annotations

import random
import threading
import time
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
import pytest

from tests.conftest import Api, seed
from tests.http import place, receive

SKU = "BOLT-10"
Call = Callable[[Api], httpx.Response]


def concurrently(base: str, calls: list[Call]) -> list[httpx.Response]:
    """Run each call in its own thread with its own connection, all released at the same moment."""
    barrier = threading.Barrier(len(calls), timeout=30)

    def run(call: Call) -> httpx.Response:
        with httpx.Client(base_url=base, timeout=60) as client:
            api = Api(client)
            api.get("/healthz")  # open the connection before the start line
            barrier.wait()
            return call(api)

    with ThreadPoolExecutor(max_workers=len(calls)) as pool:
        return list(pool.map(run, calls))


def describe(responses: list[httpx.Response]) -> str:
    """Status counts plus the body of every unexpected answer, for failure messages."""
    counts = Counter(r.status_code for r in responses)
    odd = [f"{r.status_code} {r.text}" for r in responses if r.status_code >= 500]
    return f"statuses={dict(counts)} server_errors={odd[:5]}"


@pytest.fixture
def http(served: str) -> Any:
    with httpx.Client(base_url=served, timeout=60) as client:
        api = Api(client)
        seed(api)
        yield api


def order_body(qty: int, *, order_id: str | None = None, allow_backorder: bool = False, customer: str = "C1") -> dict:
    body: dict[str, Any] = {
        "customer_id": customer,
        "channel": "web",
        "allow_backorder": allow_backorder,
        "lines": [{"sku": SKU, "qty": qty}],
    }
    if order_id is not None:
        body["order_id"] = order_id
    return body


def placing(body: dict[str, Any], headers: dict[str, str] | None = None) -> Call:
    """A call that places the order `body` (an order_body) with tests/http.py's place."""
    extra = {k: v for k, v in body.items() if k not in ("order_id", "lines", "customer_id")}
    return lambda api: place(api, body.get("order_id"), body["lines"], body["customer_id"], headers, **extra)


def cancel(order_id: str) -> Call:
    return lambda api: api.post(f"/v1/orders/{order_id}/cancel", {"reason": "customer request"})


def atp(api: Api) -> dict[str, Any]:
    r = api.get(f"/v1/atp/{SKU}")
    assert r.status_code == 200, r.text
    return dict(r.json())


def event_types(api: Api, path: str) -> Counter[str]:
    r = api.get(path)
    assert r.status_code == 200, r.text
    return Counter(e["type"] for e in r.json()["events"])


def assert_rejections_are_insufficient_stock(responses: list[httpx.Response]) -> None:
    for r in responses:
        if r.status_code != 201:
            assert r.status_code == 409, f"{r.status_code} {r.text}"
            assert r.json()["code"] == "insufficient_stock", r.text


def test_forty_orders_race_for_ten_units_at_one_warehouse(http: Api, served: str) -> None:
    receive(http, "R-1", "W-A", SKU, 10)

    bodies = [order_body(1, order_id=f"SO-{i:02d}") for i in range(40)]
    responses = concurrently(served, [placing(b) for b in bodies])

    statuses = Counter(r.status_code for r in responses)
    assert statuses == {201: 10, 409: 30}, describe(responses)
    assert_rejections_are_insufficient_stock(responses)
    won = [r.json() for r in responses if r.status_code == 201]
    assert all(o["lines"][0]["allocated"] == 1 and o["status"] == "allocated" for o in won), won

    view = atp(http)
    assert (view["on_hand"], view["reserved"], view["available"]) == (10, 10, 0), view
    assert event_types(http, f"/v1/inventory/W-A/{SKU}/history")["StockReserved"] == 10
    for r, body in zip(responses, bodies, strict=True):  # losers recorded nothing
        got = http.get(f"/v1/orders/{body['order_id']}")
        assert got.status_code == (200 if r.status_code == 201 else 404), got.text


def test_orders_across_three_warehouses_never_oversell(http: Api, served: str) -> None:
    stock = {"W-A": 4, "W-B": 3, "W-C": 3}
    for i, (wh, qty) in enumerate(stock.items()):
        receive(http, f"R-{i}", wh, SKU, qty)

    rng = random.Random(20240611)
    bodies = [order_body(rng.choice((1, 2)), order_id=f"SO-{i:02d}") for i in range(30)]
    responses = concurrently(served, [placing(b) for b in bodies])

    assert {r.status_code for r in responses} <= {201, 409}, describe(responses)
    assert_rejections_are_insufficient_stock(responses)

    view = atp(http)
    per_wh = {w["warehouse_id"]: w for w in view["warehouses"]}
    for wh, qty in stock.items():
        assert per_wh[wh]["on_hand"] == qty, view
        assert 0 <= per_wh[wh]["reserved"] <= per_wh[wh]["on_hand"], view

    allocated: Counter[str] = Counter()
    for r, body in zip(responses, bodies, strict=True):
        if r.status_code != 201:
            continue
        line = http.get(f"/v1/orders/{body['order_id']}").json()["lines"][0]
        assert line["allocated"] == body["lines"][0]["qty"] and line["backordered"] == 0, line
        assert line["allocations"] == r.json()["lines"][0]["allocations"], (line, r.text)
        for a in line["allocations"]:
            allocated[a["warehouse_id"]] += a["qty"]
    for wh in stock:
        assert allocated[wh] == per_wh[wh]["reserved"], (dict(allocated), view)
        reservations = event_types(http, f"/v1/inventory/{wh}/{SKU}/history")["StockReserved"]
        assert reservations == sum(
            1
            for r in responses
            if r.status_code == 201
            for a in r.json()["lines"][0]["allocations"]
            if a["warehouse_id"] == wh
        )
    assert view["reserved"] == sum(allocated.values()) <= view["on_hand"] == 10

    # Stock only ever went down, so every rejected order must still be unservable now: no undersell.
    rejected = [b["lines"][0]["qty"] for r, b in zip(responses, bodies, strict=True) if r.status_code == 409]
    if rejected:
        assert view["available"] < min(rejected), (view, rejected)


def test_one_idempotency_key_twenty_times_at_once_places_one_order(http: Api, served: str) -> None:
    receive(http, "R-1", "W-A", SKU, 50)
    body = order_body(3)  # no order_id: the service assigns one
    headers = {"Idempotency-Key": "idem-concurrent-1"}

    responses = concurrently(served, [placing(body, headers)] * 20)

    assert all(r.status_code == 201 for r in responses), describe(responses)
    first = responses[0].json()
    assert all(r.json() == first for r in responses), {r.text for r in responses}
    order_id = first["order_id"]
    assert first["lines"][0]["allocated"] == 3

    history = event_types(http, f"/v1/orders/{order_id}/history")
    assert history["OrderPlaced"] == 1, history
    view = atp(http)
    assert (view["on_hand"], view["reserved"]) == (50, 3), view
    assert event_types(http, f"/v1/inventory/W-A/{SKU}/history")["StockReserved"] == 1

    again = http.post("/v1/orders", body, headers=headers)  # and later still the same answer
    assert (again.status_code, again.json()) == (201, first)


def test_one_receipt_id_twenty_times_at_once_receives_once(http: Api, served: str) -> None:
    body = {"receipt_id": "R-RACE", "warehouse_id": "W-B", "lines": [{"sku": SKU, "qty": 7}]}

    responses = concurrently(served, [lambda api: api.post("/v1/inventory/receipts", body)] * 20)

    assert all(r.status_code == 201 for r in responses), describe(responses)
    first = responses[0].json()
    assert all(r.json() == first for r in responses), {r.text for r in responses}
    view = atp(http)
    assert (view["on_hand"], view["reserved"], view["available"]) == (7, 0, 7), view
    assert event_types(http, f"/v1/inventory/W-B/{SKU}/history") == {"StockReceived": 1}


def _snapshot(api: Api, order_ids: list[str]) -> tuple[dict[str, Any], dict[str, dict[str, Any]]]:
    orders = {}
    for oid in order_ids:
        r = api.get(f"/v1/orders/{oid}")
        assert r.status_code == 200, r.text
        orders[oid] = r.json()
    view = atp(api)
    view.pop("position", None)
    for o in orders.values():
        o.pop("position", None)
    return view, orders


def test_orders_and_cancels_on_a_hot_sku_keep_reservations_consistent(http: Api, served: str) -> None:
    receive(http, "R-1", "W-A", SKU, 12)
    receive(http, "R-2", "W-B", SKU, 8)
    standing = [f"OLD-{i}" for i in range(8)]
    for oid in standing:  # 16 of the 20 units reserved before the race starts
        r = http.post("/v1/orders", order_body(2, order_id=oid, customer="C2"))
        assert r.status_code == 201 and r.json()["status"] == "allocated", r.text

    rng = random.Random(7)
    new_bodies = [
        order_body(rng.choice((1, 2, 3)), order_id=f"NEW-{i:02d}", allow_backorder=i % 2 == 0) for i in range(24)
    ]
    calls: list[Call] = [placing(b) for b in new_bodies]
    # every standing order cancelled, half of them twice at once (the second must be a no-op 200)
    calls += [cancel(oid) for oid in standing + standing[::2]]
    rng.shuffle(calls)
    responses = concurrently(served, calls)

    assert all(r.status_code < 500 for r in responses), describe(responses)
    placed = [r for r in responses if r.request.url.path == "/v1/orders"]
    cancels = [r for r in responses if r.request.url.path.endswith("/cancel")]
    assert len(placed) == 24 and len(cancels) == 12
    assert all(r.status_code == 200 and r.json()["status"] == "cancelled" for r in cancels), describe(cancels)
    assert_rejections_are_insufficient_stock(placed)
    for r in placed:
        if r.status_code == 409:
            assert r.json()["lines"], r.text
    new_ids = [r.json()["order_id"] for r in placed if r.status_code == 201]
    rejected = {b["order_id"] for b in new_bodies} - set(new_ids)
    assert all(not b["allow_backorder"] for b in new_bodies if b["order_id"] in rejected)
    order_ids = standing + new_ids

    # Released stock fills backorders through the workflow, within seconds: wait until nothing
    # changes any more and nothing that could be filled is still waiting.
    deadline = time.monotonic() + 20
    previous = None
    while True:
        current = _snapshot(http, order_ids)
        view = current[0]
        settled = view["backordered"] == 0 or view["available"] <= 0
        if settled and current == previous:
            break
        assert time.monotonic() < deadline, f"never settled: {view}"
        previous = current
        time.sleep(0.3)

    view, orders = current
    lines = [o["lines"][0] for o in orders.values()]
    assert view["reserved"] == sum(ln["allocated"] for ln in lines), (view, orders)
    assert view["backordered"] == sum(ln["backordered"] for ln in lines), (view, orders)
    assert view["on_hand"] == 20 and 0 <= view["reserved"] <= view["on_hand"], view
    for w in view["warehouses"]:
        assert 0 <= w["reserved"] <= w["on_hand"], view
        held = sum(a["qty"] for ln in lines for a in ln["allocations"] if a["warehouse_id"] == w["warehouse_id"])
        assert held == w["reserved"], (w, orders)
    for oid in standing:
        line = orders[oid]["lines"][0]
        assert orders[oid]["status"] == "cancelled" and line["allocated"] == 0 and line["cancelled"] == 2, line
        assert event_types(http, f"/v1/orders/{oid}/history")["OrderCancelled"] == 1
    for ln in lines:
        assert ln["qty"] == ln["allocated"] + ln["backordered"] + ln["shipped"] + ln["cancelled"], ln
